/*
 * command.h -- subcommands of the `danezone` operator command.
 *
 * Each subcommand lives in signer/cmd_<name>.c and is listed in the table in
 * signer/danezone.c.  A subcommand receives argv with argv[0] set to its own
 * name and returns the process exit status: DZ_EXIT_OK, DZ_EXIT_FAILURE or
 * DZ_EXIT_USAGE.
 */
#ifndef DZ_SIGNER_COMMAND_H
#define DZ_SIGNER_COMMAND_H

#include <stdio.h>

#include "common/error.h"

#define DZ_EXIT_OK 0
#define DZ_EXIT_FAILURE 1
#define DZ_EXIT_USAGE 2

typedef int (*dz_command_fn)(int argc, char **argv);

typedef struct dz_command {
	const char *name;
	const char *summary;
	dz_command_fn run;
} dz_command_t;

/* Print "danezone NAME: MESSAGE" for err to stderr and return DZ_EXIT_FAILURE. */
int dz_command_fail(const char *name, const dz_error_t *err);

/* Subcommands; each in its own file. */
int dz_cmd_check_config(int argc, char **argv);
int dz_cmd_config_schema(int argc, char **argv);
int dz_cmd_hsm(int argc, char **argv);
int dz_cmd_key(int argc, char **argv);
int dz_cmd_records(int argc, char **argv);
int dz_cmd_reload(int argc, char **argv);
int dz_cmd_rollover(int argc, char **argv);
int dz_cmd_sign(int argc, char **argv);
int dz_cmd_status(int argc, char **argv);
int dz_cmd_stop(int argc, char **argv);
int dz_cmd_tlsa(int argc, char **argv);
int dz_cmd_version(int argc, char **argv);
int dz_cmd_zone(int argc, char **argv);

#endif
