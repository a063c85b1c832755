/*
 * cmd_config_schema.c -- `danezone config-schema --man`: print the man page
 * danezone.yaml(5) generated from the configuration schema.  Not listed in
 * the help; the build and a test use it to keep doc/danezone.yaml.5 current.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "signer/command.h"
#include "zones/conf.h"

int
dz_cmd_config_schema(int argc, char **argv)
{
	if (argc != 2 || strcmp(argv[1], "--man") != 0) {
		fprintf(stderr, "usage: danezone config-schema --man\n");
		return DZ_EXIT_USAGE;
	}
	dz_config_write_man(stdout);
	return fflush(stdout) == 0 ? DZ_EXIT_OK : DZ_EXIT_FAILURE;
}
