/*
 * cmd_tlsa.c -- `danezone tlsa status|update`: the TLSA rollover state.
 *
 * status shows, per mail host and key, whether a staged next key is ready
 * to deploy.  update does one step of the rollover without the daemon:
 * reads the files, learns from the zone's signed output file which records
 * are published, asks the secondaries for their serials, announces next
 * keys that became ready (log and ready-hook) and saves the state.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "signer/command.h"
#include "zones/conf.h"
#include "zones/mail.h"

/* Time allowed for each SOA query to a secondary. */
#define SOA_TIMEOUT_MS 3000

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: danezone tlsa status [-c FILE] [--now TIME]\n"
		"       danezone tlsa update [-c FILE] [--now TIME]\n"
		"\n"
		"status  show each mail host's TLSA keys: deployed, or next with the time it is\n"
		"        ready to deploy (two TTLs after every secondary serves it)\n"
		"update  read the certificate files and the zone's signed output file, ask the\n"
		"        secondaries for their SOA serials, announce ready keys, save the state,\n"
		"        and show the status; the daemon does this by itself\n"
		"\n"
		"  -c FILE      configuration file (default %s)\n"
		"  --now TIME   act as if the time were TIME (RFC 3339 or @SECONDS), for planning\n"
		"               and tests\n",
		DZ_CONFIG_DEFAULT_PATH);
}

static int
run_update(const dz_config_t *config, dz_mail_t *mail, dz_time_t now, dz_error_t *err)
{
	if (dz_mail_update(mail, now, 0, NULL, NULL, err) != DZ_OK)
		return DZ_EXIT_FAILURE;
	for (size_t i = 0; i < config->zone_count; i++) {
		const dz_config_zone_t *zone = &config->zones[i];
		dz_error_t output_err;
		dz_error_init(&output_err);
		if (zone->mail.host_count == 0)
			continue;
		dz_result_t rc = dz_mail_observe_output(mail, zone->name, now, &output_err);
		if (rc == DZ_ENOTFOUND)
			dz_log_zone(DZ_LOG_NOTICE, zone->name,
				    "no signed zone at %s yet, so no TLSA record counts as published",
				    zone->output);
		else if (rc != DZ_OK)
			dz_log_zone(DZ_LOG_ERROR, zone->name, "%s", dz_error_message(&output_err));
	}
	if (dz_mail_awaits_secondaries(mail))
		dz_mail_probe_secondaries(mail, now, SOA_TIMEOUT_MS);
	/* A second pass announces what the observations made ready. */
	if (dz_mail_update(mail, now, 0, NULL, NULL, err) != DZ_OK)
		return DZ_EXIT_FAILURE;
	return DZ_EXIT_OK;
}

int
dz_cmd_tlsa(int argc, char **argv)
{
	const char *path = DZ_CONFIG_DEFAULT_PATH;
	dz_time_t now = dz_clock_now(dz_clock_system());
	dz_config_t *config = NULL;
	dz_mail_t *mail = NULL;
	dz_error_t err;
	bool update;
	int opt;
	int status = DZ_EXIT_FAILURE;

	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "now", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	dz_error_init(&err);
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? DZ_EXIT_USAGE : DZ_EXIT_OK;
	}
	if (strcmp(argv[1], "status") == 0) {
		update = false;
	} else if (strcmp(argv[1], "update") == 0) {
		update = true;
	} else {
		fprintf(stderr, "danezone tlsa: unknown action '%s'; use status or update\n", argv[1]);
		return DZ_EXIT_USAGE;
	}
	optind = 2;
	while ((opt = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
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
	if (optind != argc) {
		usage(stderr);
		return DZ_EXIT_USAGE;
	}

	if (dz_config_load(path, &config, NULL, &err) != DZ_OK) {
		fprintf(stderr, "danezone tlsa: %s\n(run danezone check-config -c %s for every error)\n",
			dz_error_message(&err), path);
		return DZ_EXIT_FAILURE;
	}
	/* Nothing is published here: the notices of what would be published are noise. */
	if (!update)
		dz_log_set_level(DZ_LOG_WARNING);
	if (dz_mail_create(config, update ? 0 : DZ_MAIL_READ_ONLY, 0, &mail, &err) != DZ_OK) {
		dz_command_fail(argv[0], &err);
		goto cleanup;
	}
	if (update) {
		status = run_update(config, mail, now, &err);
		if (status != DZ_EXIT_OK) {
			dz_command_fail(argv[0], &err);
			goto cleanup;
		}
	} else if (dz_mail_update(mail, now, 0, NULL, NULL, &err) != DZ_OK) {
		dz_command_fail(argv[0], &err);
		goto cleanup;
	}
	dz_mail_print_status(mail, now, stdout);
	status = fflush(stdout) == 0 ? DZ_EXIT_OK : DZ_EXIT_FAILURE;

cleanup:
	dz_mail_destroy(mail);
	dz_config_destroy(config);
	return status;
}
