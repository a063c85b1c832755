/*
 * cmd_records.c -- `danezone records ZONE`: print the TLSA, SMIMEA and
 * OPENPGPKEY records danezone generates for a zone, as zone-file lines.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/log.h"
#include "signer/command.h"
#include "zones/conf.h"
#include "zones/mail.h"

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: danezone records ZONE [-c FILE] [--generic] [--now TIME]\n"
		"\n"
		"Print the mail records (TLSA, SMIMEA, OPENPGPKEY) generated for ZONE from the\n"
		"certificate and key files the configuration names, one record per line.\n"
		"Reads the TLSA rollover state but changes nothing.\n"
		"\n"
		"  -c FILE      configuration file (default %s)\n"
		"  --generic    print the RDATA in the RFC 3597 form (TYPE52 \\# LEN HEX)\n"
		"  --now TIME   evaluate certificate validity at TIME (RFC 3339 or @SECONDS)\n",
		DZ_CONFIG_DEFAULT_PATH);
}

int
dz_cmd_records(int argc, char **argv)
{
	const char *path = DZ_CONFIG_DEFAULT_PATH;
	const char *zone_name;
	bool generic = false;
	dz_time_t now = dz_clock_now(dz_clock_system());
	dz_config_t *config = NULL;
	dz_mail_t *mail = NULL;
	dz_error_t err;
	int opt;
	int status = DZ_EXIT_FAILURE;

	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "generic", no_argument, NULL, 'g' },
		{ "now", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	dz_error_init(&err);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'g':
			generic = true;
			break;
		case 'n':
			if (dz_time_parse(optarg, &now, &err) != DZ_OK)
				return dz_command_fail(argv[0], &err);
			break;
		case 'h':
			usage(stdout);
			return DZ_EXIT_OK;
		default:
			usage(stderr);
			return DZ_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return DZ_EXIT_USAGE;
	}
	zone_name = argv[optind];

	if (dz_config_load(path, &config, NULL, &err) != DZ_OK) {
		fprintf(stderr, "danezone records: %s\n(run danezone check-config -c %s for every "
			"error)\n", dz_error_message(&err), path);
		return DZ_EXIT_FAILURE;
	}
	if (dz_config_find_zone(config, zone_name) == NULL) {
		fprintf(stderr, "danezone records: zone %s is not in %s\n", zone_name, path);
		goto cleanup;
	}
	/* Nothing is published here: the notices of what would be published are noise. */
	dz_log_set_level(DZ_LOG_WARNING);
	if (dz_mail_create(config, DZ_MAIL_READ_ONLY, 0, &mail, &err) != DZ_OK ||
	    dz_mail_update(mail, now, 0, NULL, NULL, &err) != DZ_OK) {
		dz_command_fail(argv[0], &err);
		goto cleanup;
	}
	dz_records_print(dz_mail_records(mail, zone_name), generic, stdout);
	status = fflush(stdout) == 0 ? DZ_EXIT_OK : DZ_EXIT_FAILURE;

cleanup:
	dz_mail_destroy(mail);
	dz_config_destroy(config);
	return status;
}
