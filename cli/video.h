// video.h: `nst video`: a video or picture sequence stylized frame by frame, each frame
// tied to the previous stylized frame along the optical flow (Ruder et al. 2016).
#ifndef NST_CLI_VIDEO_H
#define NST_CLI_VIDEO_H

// argv after "video" (argv[0] is "video"); returns the exit code.
int cli_video_command(int argc, char **argv);

#endif
