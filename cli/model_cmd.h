// model_cmd.h: `nst model info FILE` and `nst model convert IN OUT [--dtype f32|f16]`.
#ifndef NST_CLI_MODEL_CMD_H
#define NST_CLI_MODEL_CMD_H

int cli_model_command(int argc, char **argv);
int cli_exit_code(int status);

#endif
