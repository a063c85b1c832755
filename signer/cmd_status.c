/*
 * cmd_status.c -- `danezone status [ZONE]`: the keys of each zone with the
 * state of each record, what every record waits for, and the next key
 * event with its time, computed by a dry run of the key manager's engine.
 * When danezoned runs, it prints the status instead (signer/cmd_daemon.h).
 */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/duration.h"
#include "keystore/engine.h"
#include "signer/cmd_daemon.h"
#include "signer/command.h"
#include "signer/key_state_cli.h"

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: danezone status [ZONE] [-c FILE | --state-dir DIR] [--now TIME]\n\n"
		"Show each zone's keys: role, algorithm, key tag, the state of each record\n"
		"(DNSKEY, KRRSIG, ZRRSIG, DS), the goal, what each record waits for, and the next\n"
		"key event with its time.  When danezoned answers on the control socket of the\n"
		"configuration, the status comes from the daemon (unless --now or --state-dir\n"
		"is given).\n\n");
	dz_keycli_usage(out);
	fprintf(out, "  --now TIME          compute as if the time were TIME (RFC 3339 UTC)\n");
}

static const char *
record_state(const dz_key_t *k, dz_key_record_t r)
{
	return dz_key_has_record(k, r) ? dz_key_state_name(k->state[r]) : "-";
}

static void
print_keys(const dz_keyring_t *ring)
{
	size_t standby = 0;

	printf("  %-4s %-6s %-4s %-16s %-12s %-12s %-12s %-12s %-12s\n", "key", "tag", "role",
	       "algorithm", "goal", "DNSKEY", "KRRSIG", "ZRRSIG", "DS");
	for (size_t i = 0; i < ring->count; i++) {
		const dz_key_t *k = &ring->keys[i];
		if (k->standby) {
			standby++;
			continue;
		}
		char number[16];
		snprintf(number, sizeof(number), "#%" PRIu32, k->number);
		printf("  %-4s %-6u %-4s %-16s %-12s %-12s %-12s %-12s %-12s\n", number, k->tag,
		       dz_role_name(k->role), dz_keycli_algorithm(k->algorithm),
		       dz_key_goal_name(k->goal), record_state(k, DZ_REC_DNSKEY),
		       record_state(k, DZ_REC_KRRSIG), record_state(k, DZ_REC_ZRRSIG),
		       record_state(k, DZ_REC_DS));
	}
	if (standby > 0)
		printf("  standby keys generated ahead of need: %zu\n", standby);
}

static void
print_pending(const dz_keyring_t *ring, const dz_key_run_t *run)
{
	char when[DZ_TIME_TEXT_MAX];
	bool header = false;

	for (size_t i = 0; i < run->pending_count; i++) {
		const dz_key_pending_t *p = &run->pending[i];
		const dz_key_t *k = dz_keyring_find((dz_keyring_t *)ring, p->key);
		if (k == NULL)
			continue;
		if (!header) {
			printf("  waiting:\n");
			header = true;
		}
		printf("    key %u (#%" PRIu32 ") %s %s -> %s: ", k->tag, k->number,
		       dz_key_record_label(p->record), dz_key_state_name(p->from),
		       dz_key_state_name(p->to));
		if (p->wait == DZ_WAIT_RULES)
			printf("waiting until it is safe: %s", dz_key_unsafe_text(p->unsafe));
		else
			printf("%s", dz_key_wait_text(p->wait));
		if (p->due != DZ_TIME_NEVER)
			printf(", due %s", dz_time_format(p->due, when));
		if ((p->wait == DZ_WAIT_DS_SEEN || p->wait == DZ_WAIT_DS_GONE) &&
		    k->changed[DZ_REC_DS] != DZ_KEY_TIME_NONE)
			printf(" (requested %s)", dz_time_format(k->changed[DZ_REC_DS], when));
		printf("\n");
	}
	if ((run->blocked_roles) != 0)
		printf("  a due rollover or policy change waits until the rollover in progress "
		       "ends\n");
}

/* Describe what happens at the run's next event time. */
static void
print_next(const dz_keyring_t *ring, const dz_key_run_t *run, dz_time_t now)
{
	char when[DZ_TIME_TEXT_MAX];
	char in[DZ_DURATION_TEXT_MAX];

	for (size_t i = 0; i < run->started_count; i++) {
		const dz_key_t *p = dz_keyring_find((dz_keyring_t *)ring, run->started[i].predecessor);
		if (p != NULL)
			printf("  next event: now: rollover of %s key %u (#%" PRIu32 ")\n",
			       dz_role_name(p->role), p->tag, p->number);
		else
			printf("  next event: now: a new key is introduced\n");
		return;
	}
	if (run->transition_count > 0) {
		const dz_key_transition_t *t = &run->transitions[0];
		const dz_key_t *k = dz_keyring_find((dz_keyring_t *)ring, t->key);
		printf("  next event: now: key %u (#%" PRIu32 ") %s %s -> %s\n", k != NULL ? k->tag : 0,
		       t->key, dz_key_record_label(t->record), dz_key_state_name(t->from),
		       dz_key_state_name(t->to));
		return;
	}
	if (run->next == DZ_TIME_NEVER) {
		printf("  next event: none scheduled\n");
		return;
	}
	printf("  next event: %s (in %s): ", dz_time_format(run->next, when),
	       dz_duration_format(run->next - now, in));
	for (size_t i = 0; i < run->pending_count; i++) {
		const dz_key_pending_t *p = &run->pending[i];
		if (p->due != run->next)
			continue;
		const dz_key_t *k = dz_keyring_find((dz_keyring_t *)ring, p->key);
		printf("key %u (#%" PRIu32 ") %s %s -> %s\n", k != NULL ? k->tag : 0, p->key,
		       dz_key_record_label(p->record), dz_key_state_name(p->from),
		       dz_key_state_name(p->to));
		return;
	}
	for (size_t i = 0; i < ring->count; i++) {
		const dz_key_t *k = &ring->keys[i];
		if (!k->standby && k->goal == DZ_GOAL_OMNIPRESENT && k->retire == run->next) {
			printf("rollover of %s key %u (#%" PRIu32 ") starts\n", dz_role_name(k->role),
			       k->tag, k->number);
			return;
		}
		if (k->goal == DZ_GOAL_HIDDEN && dz_key_is_hidden(k)) {
			printf("deletion of key %u (#%" PRIu32 ") from the token\n", k->tag, k->number);
			return;
		}
	}
	printf("key event\n");
}

static int
show_zone(dz_keycli_t *cli, const char *zone, dz_time_t now)
{
	dz_keyring_t ring;
	dz_policy_t policy;
	uint32_t negative_ttl = 0;
	dz_error_t err;
	dz_key_run_t run;
	char when[DZ_TIME_TEXT_MAX];

	dz_error_init(&err);
	dz_result_t result = dz_keycli_load(cli, zone, &ring, &policy, &negative_ttl, &err);
	if (result == DZ_ENOTFOUND) {
		printf("zone %s: no key state yet; the daemon creates the keys when it first signs "
		       "the zone\n",
		       ring.zone);
		dz_keyring_clear(&ring);
		dz_policy_clear(&policy);
		return DZ_EXIT_OK;
	}
	if (result != DZ_OK)
		return dz_command_fail("status", &err);

	printf("zone %s: policy %s, last change published %s\n", ring.zone,
	       policy.name != NULL ? policy.name : "(unnamed)", dz_time_format(ring.last_commit, when));
	print_keys(&ring);
	if (ring.clock.frozen)
		printf("  ALERT: key transitions frozen since %s: %s; if the current time is right, "
		       "run 'danezone key clock-ack %s'\n",
		       dz_time_format(ring.clock.frozen_at, when), ring.clock.reason, ring.zone);

	/* A dry run of the engine on a copy: what is due and what waits. */
	dz_key_engine_params_t params = { .policy = &policy, .negative_ttl = negative_ttl };
	dz_key_run_init(&run);
	dz_keyring_t copy;
	if (dz_keyring_copy(&copy, &ring) != DZ_OK || dz_key_engine_run(&copy, &params, now, &run) != DZ_OK) {
		dz_error_set(&err, DZ_ENOMEM, "out of memory");
		dz_key_run_clear(&run);
		dz_keyring_clear(&ring);
		dz_policy_clear(&policy);
		return dz_command_fail("status", &err);
	}
	print_pending(&ring, &run);
	print_next(&ring, &run, now);
	dz_key_run_clear(&run);
	dz_keyring_clear(&copy);
	dz_keyring_clear(&ring);
	dz_policy_clear(&policy);
	return DZ_EXIT_OK;
}

int
dz_cmd_status(int argc, char **argv)
{
	static const struct option options[] = {
		DZ_KEYCLI_LONG_OPTIONS,
		{ "now", required_argument, NULL, DZ_KEYCLI_OPT_NOW },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	dz_keycli_t cli;
	dz_time_t now = dz_clock_now(dz_clock_system());
	const char *now_text = NULL;
	dz_error_t err;
	int opt;
	int status = DZ_EXIT_OK;

	dz_keycli_init(&cli);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
		if (dz_keycli_option(&cli, opt, optarg))
			continue;
		switch (opt) {
		case DZ_KEYCLI_OPT_NOW:
			now_text = optarg;
			break;
		case 'h':
			usage(stdout);
			return DZ_EXIT_OK;
		default:
			usage(stderr);
			return DZ_EXIT_USAGE;
		}
	}
	if (argc - optind > 1) {
		usage(stderr);
		return DZ_EXIT_USAGE;
	}
	/*
	 * A running daemon reports its zones; the keys follow from the state
	 * files, which the daemon replaces atomically.  --now and --state-dir
	 * are offline only.
	 */
	if (now_text == NULL && cli.state_dir == NULL) {
		char *request[] = { "status", optind < argc ? argv[optind] : NULL };
		if (dz_daemon_forward("status", cli.config_path, optind < argc ? 2 : 1, request,
				      &status)) {
			if (status != DZ_EXIT_OK)
				return status;
			printf("\nkeys, from the key state files:\n");
		}
	}
	dz_error_init(&err);
	if (now_text != NULL && dz_keycli_time(now_text, now, &now, &err) != DZ_OK)
		return dz_command_fail("status", &err);
	if (dz_keycli_open(&cli, &err) != DZ_OK) {
		dz_keycli_close(&cli);
		return dz_command_fail("status", &err);
	}
	if (optind < argc) {
		status = show_zone(&cli, argv[optind], now);
	} else {
		char **zones = NULL;
		size_t count = 0;
		if (dz_keycli_zones(&cli, &zones, &count, &err) != DZ_OK) {
			status = dz_command_fail("status", &err);
		} else if (count == 0) {
			printf("no zones: the configuration names none and %s has no key state\n",
			       cli.key_dir);
		}
		for (size_t i = 0; i < count; i++) {
			if (i > 0)
				printf("\n");
			if (show_zone(&cli, zones[i], now) != DZ_EXIT_OK)
				status = DZ_EXIT_FAILURE;
			free(zones[i]);
		}
		free(zones);
	}
	dz_keycli_close(&cli);
	return status;
}
