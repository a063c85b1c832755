#include "config.h"

#include <stdio.h>

#include "signer/banner.h"
#include "signer/command.h"

int
dz_cmd_version(int argc, char **argv)
{
	char banner[256];

	if (argc != 1) {
		fprintf(stderr, "usage: danezone version\n");
		return DZ_EXIT_USAGE;
	}
	printf("%s\n", dz_banner(banner, sizeof(banner)));
	return DZ_EXIT_OK;
}
