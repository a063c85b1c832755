/*
 * cmd_check_config.c -- `danezone check-config [-c FILE]`: run every check
 * of the configuration without changing anything.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "keystore/policy_check.h"
#include "signer/command.h"
#include "zones/conf.h"
#include "zones/mail.h"

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: danezone check-config [-c FILE]\n"
		"\n"
		"Read the configuration and report every error and warning with file, line and\n"
		"column, then read every certificate, key and OpenPGP file it names and the\n"
		"zones' MX records. Changes nothing. Exit status 0 when there is no error.\n"
		"\n"
		"  -c FILE   configuration file (default %s)\n",
		DZ_CONFIG_DEFAULT_PATH);
}

/*
 * Checks of the policies across fields (key lifetimes long enough for a
 * rollover to finish, signature refresh shorter than validity, ...), by the
 * key manager's own timing rules.
 */
static void
check_policy_timing(const dz_config_t *config, dz_cfg_diags_t *diags)
{
	for (size_t i = 0; i < config->policy_count; i++) {
		const dz_config_policy_t *p = &config->policies[i];
		dz_error_t err;
		char key[300];

		dz_error_init(&err);
		if (dz_key_policy_check(&p->policy, &err) == DZ_OK)
			continue;
		snprintf(key, sizeof(key), "policies.%s", p->policy.name);
		dz_cfg_diag_add(diags, DZ_LOG_ERROR, p->builtin ? NULL : config->path, p->mark, key,
				"%s", dz_error_message(&err));
	}
}

int
dz_cmd_check_config(int argc, char **argv)
{
	const char *path = DZ_CONFIG_DEFAULT_PATH;
	dz_config_t *config = NULL;
	dz_cfg_diags_t diags;
	dz_error_t err;
	int opt;
	int status;

	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'h':
			usage(stdout);
			return DZ_EXIT_OK;
		default:
			usage(stderr);
			return DZ_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return DZ_EXIT_USAGE;
	}

	dz_cfg_diags_init(&diags);
	dz_error_init(&err);
	if (dz_config_load(path, &config, &diags, &err) == DZ_OK) {
		check_policy_timing(config, &diags);
		dz_mail_check_config(config, dz_clock_now(dz_clock_system()), &diags);
	}
	for (size_t i = 0; i < diags.count; i++)
		fprintf(stderr, "%s\n", diags.items[i].text);
	if (diags.errors > 0 || config == NULL) {
		if (diags.count == 0)
			fprintf(stderr, "%s\n", dz_error_message(&err));
		fprintf(stderr, "%s: %zu error%s, %zu warning%s\n", path, diags.errors,
			diags.errors == 1 ? "" : "s", diags.warnings, diags.warnings == 1 ? "" : "s");
		status = DZ_EXIT_FAILURE;
	} else {
		printf("%s: configuration is valid: %zu zone%s, %zu warning%s\n", path,
		       config->zone_count, config->zone_count == 1 ? "" : "s", diags.warnings,
		       diags.warnings == 1 ? "" : "s");
		status = DZ_EXIT_OK;
	}
	dz_config_destroy(config);
	dz_cfg_diags_clear(&diags);
	return status;
}
