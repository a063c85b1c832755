/*
 * cmd_records.c -- `danezone records ZONE`: print the TLSA, SMIMEA and
 * OPENPGPKEY records danezone generates for a zone, as zone-file lines.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
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
		"  --now TIME   evaluate certificate validity at TIME (RFC 3339 or @SECONDS)\n"
		"  --follow     after the records, keep watching the files and print each change\n"
		"               as lines \"+ RECORD\" and \"- RECORD\" until interrupted\n",
		DZ_CONFIG_DEFAULT_PATH);
}

static volatile sig_atomic_t stop_requested;

static void
request_stop(int signum)
{
	(void)signum;
	stop_requested = 1;
}

static int64_t
monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct follow_ctx {
	const char *zone;
	bool generic;
	unsigned changes;
} follow_ctx_t;

static void
print_with_prefix(const dz_records_t *set, const char *prefix, bool generic)
{
	for (size_t i = 0; i < set->count; i++) {
		char *text = dz_record_to_text(&set->items[i], generic);
		if (text != NULL)
			printf("%s %s\n", prefix, text);
		free(text);
	}
}

static dz_result_t
print_change(void *ctx_ptr, const char *zone, const dz_records_t *added, const dz_records_t *removed)
{
	follow_ctx_t *ctx = ctx_ptr;

	if (strcmp(zone, ctx->zone) != 0)
		return DZ_OK;
	ctx->changes++;
	printf("; change %u: %zu added, %zu removed\n", ctx->changes, added->count, removed->count);
	print_with_prefix(removed, "-", ctx->generic);
	print_with_prefix(added, "+", ctx->generic);
	fflush(stdout);
	return DZ_OK;
}

static dz_result_t
accept_change(void *ctx, const char *zone, const dz_records_t *added, const dz_records_t *removed)
{
	(void)ctx;
	(void)zone;
	(void)added;
	(void)removed;
	return DZ_OK;
}

/* Watch the zone's files and print its changes until SIGINT or SIGTERM. */
static int
follow(dz_mail_t *mail, const char *zone, bool generic, dz_error_t *err)
{
	follow_ctx_t ctx = { zone, generic, 0 };
	struct sigaction action;

	memset(&action, 0, sizeof(action));
	action.sa_handler = request_stop;
	sigaction(SIGINT, &action, NULL);
	sigaction(SIGTERM, &action, NULL);
	while (!stop_requested) {
		dz_time_t now = dz_clock_now(dz_clock_system());
		int64_t timeout = dz_mail_timeout_ms(mail, now, monotonic_ms());
		struct pollfd pfd = { dz_mail_fd(mail), POLLIN, 0 };
		/* Wake at least once a second so a wall-clock step is noticed. */
		if (timeout < 0 || timeout > 1000)
			timeout = 1000;
		int n = poll(&pfd, 1, (int)timeout);
		if (n < 0 && errno != EINTR)
			return dz_error_set(err, DZ_EIO, "poll failed: %s", strerror(errno));
		if (n > 0)
			dz_mail_process_events(mail, monotonic_ms());
		now = dz_clock_now(dz_clock_system());
		if (dz_mail_update(mail, now, monotonic_ms(), print_change, &ctx, err) != DZ_OK)
			return err->code;
	}
	return DZ_OK;
}

int
dz_cmd_records(int argc, char **argv)
{
	const char *path = DZ_CONFIG_DEFAULT_PATH;
	const char *zone_name;
	bool generic = false;
	bool following = false;
	dz_time_t now = dz_clock_now(dz_clock_system());
	dz_config_t *config = NULL;
	dz_mail_t *mail = NULL;
	dz_error_t err;
	int opt;
	int status = DZ_EXIT_FAILURE;

	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "follow", no_argument, NULL, 'f' },
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
		case 'f':
			following = true;
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
	if (dz_mail_create(config, DZ_MAIL_READ_ONLY | (following ? DZ_MAIL_WATCH : 0),
			   monotonic_ms(), &mail, &err) != DZ_OK ||
	    dz_mail_update(mail, now, monotonic_ms(), NULL, NULL, &err) != DZ_OK) {
		dz_command_fail(argv[0], &err);
		goto cleanup;
	}
	dz_records_print(dz_mail_records(mail, zone_name), generic, stdout);
	status = fflush(stdout) == 0 ? DZ_EXIT_OK : DZ_EXIT_FAILURE;
	if (following) {
		/* The records printed above are the starting point of the changes. */
		dz_mail_update(mail, now, monotonic_ms(), accept_change, NULL, &err);
		printf("; following\n");
		fflush(stdout);
		dz_log_set_level(DZ_LOG_NOTICE);
		if (follow(mail, zone_name, generic, &err) != DZ_OK) {
			dz_command_fail(argv[0], &err);
			status = DZ_EXIT_FAILURE;
		}
	}

cleanup:
	dz_mail_destroy(mail);
	dz_config_destroy(config);
	return status;
}
