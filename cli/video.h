// video.h: `nst video`: a video or picture sequence stylized frame by frame, each frame
// tied to the previous stylized frame along the optical flow (Ruder et al. 2016).
#ifndef NST_CLI_VIDEO_H
#define NST_CLI_VIDEO_H

// argv after "video" (argv[0] is "video"); returns the exit code.
int cli_video_command(int argc, char **argv);
// A video run from parsed options (cli_parse_video, cli_parse_json_mode), as `nst batch`
// runs one; label (or NULL) goes before each message. Takes o (malloc'ed) and frees it.
struct cli_options;
int cli_video_run_options(struct cli_options *o, const char *label);

#endif
