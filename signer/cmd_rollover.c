/*
 * cmd_rollover.c -- `danezone rollover plan ZONE`: the coming key events of
 * a zone, computed by the key manager's own engine on a simulated clock
 * from the zone's key state (keystore/simulate.h).
 */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "keystore/simulate.h"
#include "signer/command.h"
#include "signer/key_state_cli.h"

/* Default horizon of the plan: one year. */
#define PLAN_DEFAULT_SPAN (366LL * 86400)

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: danezone rollover plan ZONE [--until TIME] [--now TIME] [--gradual]\n"
		"                              [-c FILE | --state-dir DIR]\n\n"
		"Print the key events of ZONE from now until TIME (default one year), computed by\n"
		"the key manager's engine on a simulated clock.  The plan assumes that the parent\n"
		"serves and removes DS records as soon as they are requested; a slower parent\n"
		"delays the events that follow.  Keys the plan generates are shown as new keys\n"
		"(their tags are not known yet).\n\n"
		"  --until TIME        end of the plan (RFC 3339 UTC, YYYYMMDDHHmmSS or @SECONDS)\n"
		"  --now TIME          start the plan at TIME instead of now\n"
		"  --gradual           assume signatures are replaced at their refresh rather\n"
		"                      than by a full re-sign when keys change (the slowest case)\n");
	dz_keycli_usage(out);
}

typedef struct printer {
	const dz_keyring_t *initial; /* keys that exist now */
	size_t events;
} printer_t;

/* "key 12345 (#3)" for existing keys, "new key #7" for keys the plan generates. */
static const char *
key_text(const printer_t *p, const dz_key_t *k, char *buf, size_t size)
{
	if (dz_keyring_index(p->initial, k->number) != SIZE_MAX)
		snprintf(buf, size, "key %u (#%" PRIu32 ")", k->tag, k->number);
	else
		snprintf(buf, size, "new key #%" PRIu32, k->number);
	return buf;
}

static void
print_event(const dz_key_plan_event_t *e, void *ctx)
{
	printer_t *p = ctx;
	char when[DZ_TIME_TEXT_MAX];
	char key[64], predecessor[64];

	dz_time_format(e->time, when);
	key_text(p, e->key, key, sizeof(key));
	p->events++;
	switch (e->kind) {
	case DZ_PLAN_TRANSITION:
		printf("%s  %s %s %s: %s -> %s\n", when, dz_role_name(e->key->role), key,
		       dz_key_record_label(e->record), dz_key_state_name(e->from),
		       dz_key_state_name(e->to));
		break;
	case DZ_PLAN_ROLLOVER:
		printf("%s  %s rollover starts: %s replaces %s\n", when, dz_role_name(e->key->role), key,
		       key_text(p, e->predecessor, predecessor, sizeof(predecessor)));
		break;
	case DZ_PLAN_NEW_KEY:
		printf("%s  %s %s (%s) is introduced\n", when, dz_role_name(e->key->role), key,
		       dz_keycli_algorithm(e->key->algorithm));
		break;
	case DZ_PLAN_PURGE:
		printf("%s  %s %s is deleted from the token\n", when, dz_role_name(e->key->role), key);
		break;
	case DZ_PLAN_DS_SEEN:
		printf("%s  (assumed) the parent serves the DS of %s\n", when, key);
		break;
	case DZ_PLAN_DS_GONE:
		printf("%s  (assumed) the parent no longer serves the DS of %s\n", when, key);
		break;
	}
}

static int
plan(int argc, char **argv)
{
	static const struct option options[] = {
		DZ_KEYCLI_LONG_OPTIONS,
		{ "until", required_argument, NULL, 'u' },
		{ "now", required_argument, NULL, DZ_KEYCLI_OPT_NOW },
		{ "gradual", no_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	dz_keycli_t cli;
	dz_time_t now = dz_clock_now(dz_clock_system());
	const char *until_text = NULL;
	const char *now_text = NULL;
	bool gradual = false;
	dz_error_t err;
	int opt;

	dz_keycli_init(&cli);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
		if (dz_keycli_option(&cli, opt, optarg))
			continue;
		switch (opt) {
		case 'u':
			until_text = optarg;
			break;
		case DZ_KEYCLI_OPT_NOW:
			now_text = optarg;
			break;
		case 'g':
			gradual = true;
			break;
		case 'h':
			usage(stdout);
			return DZ_EXIT_OK;
		default:
			usage(stderr);
			return DZ_EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		usage(stderr);
		return DZ_EXIT_USAGE;
	}
	dz_error_init(&err);
	if (now_text != NULL && dz_keycli_time(now_text, now, &now, &err) != DZ_OK)
		return dz_command_fail("rollover plan", &err);
	dz_time_t until = now + PLAN_DEFAULT_SPAN;
	if (until_text != NULL && dz_keycli_time(until_text, now, &until, &err) != DZ_OK)
		return dz_command_fail("rollover plan", &err);
	if (until < now) {
		dz_error_set(&err, DZ_EINVAL, "--until %s is before the start of the plan",
			     until_text);
		return dz_command_fail("rollover plan", &err);
	}
	if (dz_keycli_open(&cli, &err) != DZ_OK) {
		dz_keycli_close(&cli);
		return dz_command_fail("rollover plan", &err);
	}

	dz_keyring_t ring;
	dz_policy_t policy;
	uint32_t negative_ttl = 0;
	dz_result_t result = dz_keycli_load(&cli, argv[optind], &ring, &policy, &negative_ttl, &err);
	if (result != DZ_OK && result != DZ_ENOTFOUND) {
		dz_keycli_close(&cli);
		return dz_command_fail("rollover plan", &err);
	}
	char from_text[DZ_TIME_TEXT_MAX], until_buf[DZ_TIME_TEXT_MAX];
	printf("rollover plan of zone %s (policy %s) from %s until %s%s\n", ring.zone,
	       policy.name != NULL ? policy.name : "(unnamed)", dz_time_format(now, from_text),
	       dz_time_format(until, until_buf),
	       result == DZ_ENOTFOUND ? ", starting from an unsigned zone" : "");
	printf("assumes the parent acts at once and %s\n",
	       gradual ? "signatures are replaced at their refresh"
		       : "the zone is re-signed completely when the signing keys change");
	printer_t printer = { .initial = &ring };
	dz_error_init(&err);
	result = dz_key_simulate(&ring, &policy, negative_ttl, now, until, !gradual, print_event,
				 &printer, &err);
	int status = DZ_EXIT_OK;
	if (result != DZ_OK)
		status = dz_command_fail("rollover plan", &err);
	else if (printer.events == 0)
		printf("no key event until %s\n", until_buf);
	dz_keyring_clear(&ring);
	dz_policy_clear(&policy);
	dz_keycli_close(&cli);
	return status;
}

int
dz_cmd_rollover(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "plan") == 0)
		return plan(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
			  strcmp(argv[1], "help") == 0)) {
		usage(stdout);
		return DZ_EXIT_OK;
	}
	fprintf(stderr, "usage: danezone rollover plan ZONE [OPTIONS]; to start a rollover, use "
			"'danezone key rollover'\n");
	return DZ_EXIT_USAGE;
}
