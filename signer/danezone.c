/*
 * danezone.c -- the operator command: `danezone SUBCOMMAND [ARGS]`.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/mem.h"
#include "signer/command.h"

/* Commands with a NULL summary are not listed in the help. */
static const dz_command_t commands[] = {
	{ "check-config", "check the configuration file and report every error", dz_cmd_check_config },
	{ "config-schema", NULL, dz_cmd_config_schema },
	{ "hsm", "list PKCS#11 tokens and benchmark signing", dz_cmd_hsm },
	{ "key", "key ceremonies: create, list, export and delete keys in a token", dz_cmd_key },
	{ "records", "print the mail records generated for a zone", dz_cmd_records }, \
	{ "reload", "have the running danezoned read its configuration again", dz_cmd_reload },
	{ "rollover", "print the coming key events of a zone (rollover plan)", dz_cmd_rollover },
	{ "sign", "sign a zone file with keys in a PKCS#11 token, or have danezoned sign ZONE", dz_cmd_sign },
	{ "status", "show each zone's keys, their states and the next key event", dz_cmd_status },
	{ "stop", "stop the running danezoned", dz_cmd_stop },
	{ "tlsa", "show or advance the TLSA rollover of the mail hosts", dz_cmd_tlsa },
	{ "version", "print the versions of danezone and its libraries", dz_cmd_version },
	{ "zone", "list the zones of the running danezoned: 'zone list'", dz_cmd_zone },
};

int
dz_command_fail(const char *name, const dz_error_t *err)
{
	fprintf(stderr, "danezone %s: %s\n", name, dz_error_message(err));
	return DZ_EXIT_FAILURE;
}

static void
usage(FILE *out)
{
	fprintf(out, "usage: danezone COMMAND [ARGUMENTS]\n\ncommands:\n");
	for (size_t i = 0; i < DZ_ARRAY_SIZE(commands); i++) {
		if (commands[i].summary != NULL)
			fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
	}
	fprintf(out, "\n'danezone COMMAND --help' describes one command; see also danezone(8).\n");
}

int
main(int argc, char **argv)
{
	dz_log_open("danezone", DZ_LOG_TARGET_STDERR, DZ_LOG_NOTICE);
	if (argc < 2) {
		usage(stderr);
		return DZ_EXIT_USAGE;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return DZ_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0)
		return dz_cmd_version(1, argv + 1);
	for (size_t i = 0; i < DZ_ARRAY_SIZE(commands); i++) {
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "danezone: unknown command '%s'; 'danezone help' lists the commands\n",
		argv[1]);
	return DZ_EXIT_USAGE;
}
