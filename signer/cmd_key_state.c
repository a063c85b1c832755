/*
 * cmd_key_state.c -- the `danezone key` commands that act on a zone's key
 * state rather than on the token.  They confirm that the parent serves or
 * dropped a DS, query the parent's servers, request a rollover, acknowledge
 * a clock jump, step in manual mode and confirm a key backup.
 *
 * When danezoned listens on the control socket of the configuration, the
 * commands other than ds-check send their request to it (signer/key_request.h),
 * so that the state file has one writer.  Otherwise each command changes the
 * zone's key state file under its lock, and a daemon started later acts on
 * the change at its next run.
 */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "keystore/operator.h"
#include "keystore/parent.h"
#include "keystore/timing.h"
#include "signer/cmd_daemon.h"
#include "signer/cmd_key_state.h"
#include "signer/command.h"
#include "signer/key_request.h"
#include "signer/key_state_cli.h"

/* Time allowed for each parent server to answer the DS query, in milliseconds. */
#define DS_QUERY_TIMEOUT_MS 3000
#define DS_CHECK_MAX_SERVERS 16

static int
fail(const char *name, const dz_error_t *err)
{
	fprintf(stderr, "danezone key %s: %s\n", name, dz_error_message(err));
	return DZ_EXIT_FAILURE;
}

static int
usage_error(const char *name, const char *message)
{
	fprintf(stderr, "danezone key %s: %s; see 'danezone key %s --help'\n", name, message,
		name);
	return DZ_EXIT_USAGE;
}

/* Parse the shared options and the rest with `extra`; returns -1 to go on, else an exit status. */
typedef int (*option_fn)(int option, const char *arg, void *ctx);

static int
parse(int argc, char **argv, const char *name, const struct option *extra, size_t extra_count,
      option_fn handle, void *ctx, dz_keycli_t *cli, void (*usage)(FILE *))
{
	struct option options[16];
	size_t n = 0;
	static const struct option shared[] = { DZ_KEYCLI_LONG_OPTIONS };
	int opt;

	for (size_t i = 0; i < sizeof(shared) / sizeof(shared[0]); i++)
		options[n++] = shared[i];
	for (size_t i = 0; i < extra_count && n < 14; i++)
		options[n++] = extra[i];
	options[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	options[n] = (struct option){ NULL, 0, NULL, 0 };

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
		if (dz_keycli_option(cli, opt, optarg))
			continue;
		if (opt == 'h') {
			usage(stdout);
			return DZ_EXIT_OK;
		}
		if (opt == '?' || opt == ':' || handle == NULL || handle(opt, optarg, ctx) != 0)
			return usage_error(name, "invalid option or missing value");
	}
	return -1;
}

static dz_result_t
open_cli(dz_keycli_t *cli, dz_error_t *err)
{
	return dz_keycli_open(cli, err);
}

/*
 * Send the request to a running daemon unless --state-dir selects offline
 * work; true when the request reached the daemon, with the exit status in
 * *status.
 */
static bool
forward(const dz_keycli_t *cli, const char *name, int argc, char **request, int *status)
{
	char command[64];

	if (cli->state_dir != NULL)
		return false;
	snprintf(command, sizeof(command), "key %s", name);
	return dz_daemon_forward(command, cli->config_path, argc, request, status);
}

/* ------------------------------------------------------------------ ds-seen, ds-gone */

static void
ds_usage(FILE *out)
{
	fprintf(out,
		"usage: danezone key ds-seen ZONE KEY [--when TIME] [-c FILE | --state-dir DIR]\n"
		"       danezone key ds-gone ZONE KEY [--when TIME] [-c FILE | --state-dir DIR]\n\n"
		"Record that every name server of the parent serves the DS of KEY (ds-seen), or\n"
		"serves it no more (ds-gone), since TIME (default now).  KEY is a key tag or\n"
		"#NUMBER as shown by 'danezone status'.  TIME may not be earlier than the\n"
		"request for the DS change; the key manager still waits for caches to expire\n"
		"(parent propagation delay plus the DS TTL) after it.\n\n"
		"  --when TIME         when the parent changed (RFC 3339 UTC, YYYYMMDDHHmmSS,\n"
		"                      @SECONDS or now)\n");
	dz_keycli_usage(out);
}

static int
ds_option(int option, const char *arg, void *ctx)
{
	const char **when = ctx;
	if (option != 'w')
		return 1;
	*when = arg;
	return 0;
}

/* When the DS move becomes due after the observation, with the zone's policy and history. */
static dz_time_t
ds_due(dz_keycli_t *cli, const char *zone, uint32_t number, bool gone)
{
	dz_keyring_t ring;
	dz_policy_t policy;
	uint32_t negative_ttl = 0;
	dz_time_t due = DZ_TIME_NEVER;

	if (dz_keycli_load(cli, zone, &ring, &policy, &negative_ttl, NULL) != DZ_OK)
		return DZ_TIME_NEVER;
	const dz_key_t *k = dz_keyring_find(&ring, number);
	if (k != NULL) {
		dz_key_timing_t timing = { .policy = &policy, .negative_ttl = negative_ttl,
					   .history = ring.ttl,
					   .ds_ttl_observed = ring.ds_ttl_observed };
		due = dz_key_due_time(&timing, k, DZ_REC_DS,
				      gone ? DZ_STATE_HIDDEN : DZ_STATE_OMNIPRESENT, false, 0);
	}
	dz_keyring_clear(&ring);
	dz_policy_clear(&policy);
	return due;
}

int
dz_cmd_key_ds_observed(int argc, char **argv, const char *name)
{
	static const struct option extra[] = { { "when", required_argument, NULL, 'w' } };
	dz_keycli_t cli;
	const char *when_text = NULL;
	dz_error_t err;
	int status;

	dz_keycli_init(&cli);
	status = parse(argc, argv, name, extra, 1, ds_option, &when_text, &cli, ds_usage);
	if (status >= 0)
		return status;
	if (argc - optind != 2)
		return usage_error(name, "expected ZONE and KEY");
	bool gone = strcmp(name, "ds-gone") == 0;
	dz_key_request_t req = { .kind = gone ? DZ_KEY_REQUEST_DS_GONE : DZ_KEY_REQUEST_DS_SEEN,
				 .zone = argv[optind], .key = argv[optind + 1] };
	req.now = dz_clock_now(dz_clock_system());
	req.when = req.now;
	dz_error_init(&err);
	if (when_text != NULL && dz_keycli_time(when_text, req.now, &req.when, &err) != DZ_OK)
		return fail(name, &err);
	char when[DZ_TIME_TEXT_MAX], due_text[DZ_TIME_TEXT_MAX];
	char *request[] = { (char *)name, argv[optind], argv[optind + 1],
			    (char *)dz_time_format(req.when, when) };
	if (forward(&cli, name, 4, request, &status))
		return status;
	if (open_cli(&cli, &err) != DZ_OK ||
	    dz_keycli_edit(&cli, argv[optind], dz_key_request_apply, &req, &err) != DZ_OK) {
		dz_keycli_close(&cli);
		return fail(name, &err);
	}
	dz_time_t due = ds_due(&cli, argv[optind], req.number, gone);
	printf("recorded: the parent %s the DS of key %s (#%" PRIu32 ") of zone %s since %s\n",
	       gone ? "no longer serves" : "serves", req.key, req.number, argv[optind],
	       dz_time_format(req.when, when));
	if (due != DZ_TIME_NEVER)
		printf("the DS record becomes %s in caches at %s at the earliest\n",
		       gone ? "hidden" : "omnipresent", dz_time_format(due, due_text));
	dz_keycli_close(&cli);
	return DZ_EXIT_OK;
}

/* ------------------------------------------------------------------ rollover */

static void
rollover_usage(FILE *out)
{
	fprintf(out,
		"usage: danezone key rollover ZONE (KEY | --role ROLE) [--when TIME] [--force]\n"
		"                             [-c FILE | --state-dir DIR]\n\n"
		"Ask the key manager to replace a key in use: KEY is a key tag or #NUMBER, or\n"
		"--role picks the key in use of that role.  The daemon starts the rollover at\n"
		"its next run after TIME; every wait for caches still applies.\n\n"
		"  --role ROLE         ksk, zsk or csk\n"
		"  --when TIME         earliest start (default now)\n"
		"  --force             emergency: start even while another rollover of the role is\n"
		"                      unfinished or the key is not in every cache yet\n");
	dz_keycli_usage(out);
}

typedef struct rollover_request {
	const char *key;
	const char *role_text;
	const char *when_text;
	dz_key_role_t role;
	dz_time_t when;
	dz_time_t now;
	bool force;
} rollover_request_t;

static int
rollover_option(int option, const char *arg, void *ctx)
{
	rollover_request_t *req = ctx;
	switch (option) {
	case 'r':
		req->role_text = arg;
		return 0;
	case 'w':
		req->when_text = arg;
		return 0;
	case 'f':
		req->force = true;
		return 0;
	}
	return 1;
}

/*
 * Write "#NUMBER" of the zone's key in use of `role` to text (16 bytes).
 * The state file is only read.  Returns false when it names no such key.
 */
static bool
role_key_text(const dz_keycli_t *options, const char *zone, dz_key_role_t role, char *text)
{
	dz_keycli_t cli;
	dz_keyring_t ring;
	dz_policy_t policy;
	uint32_t negative_ttl, number = 0;
	bool found = false;

	dz_keycli_init(&cli);
	cli.config_path = options->config_path;
	if (dz_keycli_open(&cli, NULL) == DZ_OK) {
		/* Without a state file the ring is empty, but it and the policy are set. */
		dz_result_t result = dz_keycli_load(&cli, zone, &ring, &policy, &negative_ttl, NULL);
		if (result == DZ_OK || result == DZ_ENOTFOUND) {
			found = dz_key_request_role_key(&ring, role, &number, NULL) == DZ_OK;
			dz_keyring_clear(&ring);
			dz_policy_clear(&policy);
		}
	}
	dz_keycli_close(&cli);
	if (found)
		snprintf(text, 16, "#%" PRIu32, number);
	return found;
}

int
dz_cmd_key_rollover(int argc, char **argv, const char *name)
{
	static const struct option extra[] = {
		{ "role", required_argument, NULL, 'r' },
		{ "when", required_argument, NULL, 'w' },
		{ "force", no_argument, NULL, 'f' },
		{ "emergency", no_argument, NULL, 'f' },
	};
	rollover_request_t req = { .when = DZ_KEY_TIME_NONE };
	dz_keycli_t cli;
	dz_error_t err;
	int status;

	dz_keycli_init(&cli);
	status = parse(argc, argv, name, extra, 4, rollover_option, &req, &cli, rollover_usage);
	if (status >= 0)
		return status;
	int positional = argc - optind;
	if (positional < 1 || positional > 2)
		return usage_error(name, "expected ZONE and a KEY or --role");
	if (positional == 2)
		req.key = argv[optind + 1];
	if ((req.key == NULL) == (req.role_text == NULL))
		return usage_error(name, "give either a KEY or --role");
	if (req.role_text != NULL && !dz_role_parse(req.role_text, &req.role))
		return usage_error(name, "--role must be ksk, zsk or csk");
	req.now = dz_clock_now(dz_clock_system());
	req.when = req.now;
	dz_error_init(&err);
	if (req.when_text != NULL &&
	    dz_keycli_time(req.when_text, req.now, &req.when, &err) != DZ_OK)
		return fail(name, &err);
	char when[DZ_TIME_TEXT_MAX], number[16];
	const char *target = req.key;
	if (target == NULL && cli.state_dir == NULL && role_key_text(&cli, argv[optind], req.role, number))
		target = number;
	if (target != NULL) {
		char *request[] = { (char *)name, argv[optind], (char *)target,
				    (char *)dz_time_format(req.when, when), "force" };
		if (forward(&cli, name, req.force ? 5 : 4, request, &status))
			return status;
	}

	dz_key_request_t applied = { .kind = DZ_KEY_REQUEST_ROLLOVER, .zone = argv[optind],
				     .key = req.key, .role = req.role, .when = req.when,
				     .now = req.now, .force = req.force };
	if (open_cli(&cli, &err) != DZ_OK ||
	    dz_keycli_edit(&cli, argv[optind], dz_key_request_apply, &applied, &err) != DZ_OK) {
		dz_keycli_close(&cli);
		return fail(name, &err);
	}
	printf("recorded: %srollover of key %u (#%" PRIu32 ") of zone %s requested for %s; see "
	       "'danezone rollover plan %s'\n",
	       req.force ? "emergency " : "", applied.tag, applied.number, argv[optind],
	       dz_time_format(req.when < req.now ? req.now : req.when, when), argv[optind]);
	dz_keycli_close(&cli);
	return DZ_EXIT_OK;
}

/* ------------------------------------------------------------------ clock-ack, step */

static void
clock_ack_usage(FILE *out)
{
	fprintf(out,
		"usage: danezone key clock-ack ZONE [-c FILE | --state-dir DIR]\n\n"
		"Accept the current wall clock after a jump froze the zone's key transitions.\n"
		"Waits in progress keep their real length when the host did not reboot, and\n"
		"start again otherwise.\n\n");
	dz_keycli_usage(out);
}

static void
step_usage(FILE *out)
{
	fprintf(out,
		"usage: danezone key step ZONE [-c FILE | --state-dir DIR]\n\n"
		"Manual mode: allow the next round of transitions into rumoured or unretentive\n"
		"(introducing or withdrawing records); waits for caches continue by themselves.\n\n");
	dz_keycli_usage(out);
}

static int
simple_command(int argc, char **argv, const char *name, void (*usage)(FILE *),
	       dz_key_request_kind_t kind, const char *done)
{
	dz_keycli_t cli;
	dz_error_t err;
	int status;

	dz_keycli_init(&cli);
	status = parse(argc, argv, name, NULL, 0, NULL, NULL, &cli, usage);
	if (status >= 0)
		return status;
	if (argc - optind != 1)
		return usage_error(name, "expected ZONE");
	char *request[] = { (char *)name, argv[optind] };
	if (forward(&cli, name, 2, request, &status))
		return status;
	dz_key_request_t req = { .kind = kind, .zone = argv[optind] };
	dz_error_init(&err);
	if (open_cli(&cli, &err) != DZ_OK ||
	    dz_keycli_edit(&cli, argv[optind], dz_key_request_apply, &req, &err) != DZ_OK) {
		dz_keycli_close(&cli);
		return fail(name, &err);
	}
	printf("recorded: %s for zone %s; the daemon applies it at its next run\n", done,
	       argv[optind]);
	dz_keycli_close(&cli);
	return DZ_EXIT_OK;
}

int
dz_cmd_key_clock_ack(int argc, char **argv, const char *name)
{
	return simple_command(argc, argv, name, clock_ack_usage, DZ_KEY_REQUEST_CLOCK_ACK,
			      "clock acknowledged");
}

int
dz_cmd_key_step(int argc, char **argv, const char *name)
{
	return simple_command(argc, argv, name, step_usage, DZ_KEY_REQUEST_STEP, "one manual step");
}

/* ------------------------------------------------------------------ backup-done */

static void
backup_usage(FILE *out)
{
	fprintf(out,
		"usage: danezone key backup-done ZONE KEY [-c FILE | --state-dir DIR]\n\n"
		"Confirm that KEY (tag or #NUMBER) is backed up, so its records may become\n"
		"omnipresent.\n\n");
	dz_keycli_usage(out);
}

int
dz_cmd_key_backup_done(int argc, char **argv, const char *name)
{
	dz_keycli_t cli;
	dz_error_t err;
	int status;

	dz_keycli_init(&cli);
	status = parse(argc, argv, name, NULL, 0, NULL, NULL, &cli, backup_usage);
	if (status >= 0)
		return status;
	if (argc - optind != 2)
		return usage_error(name, "expected ZONE and KEY");
	char *request[] = { (char *)name, argv[optind], argv[optind + 1] };
	if (forward(&cli, name, 3, request, &status))
		return status;
	dz_key_request_t req = { .kind = DZ_KEY_REQUEST_BACKUP_DONE, .zone = argv[optind],
				 .key = argv[optind + 1] };
	dz_error_init(&err);
	if (open_cli(&cli, &err) != DZ_OK ||
	    dz_keycli_edit(&cli, argv[optind], dz_key_request_apply, &req, &err) != DZ_OK) {
		dz_keycli_close(&cli);
		return fail(name, &err);
	}
	printf("recorded: key %s (#%" PRIu32 ") of zone %s is backed up\n", req.key, req.number,
	       argv[optind]);
	dz_keycli_close(&cli);
	return DZ_EXIT_OK;
}

/* ------------------------------------------------------------------ ds-check */

static void
ds_check_usage(FILE *out)
{
	fprintf(out,
		"usage: danezone key ds-check ZONE [--server ADDRESS]... [-c FILE | --state-dir DIR]\n\n"
		"Ask every name server of the parent for the DS RRset of ZONE, record what they\n"
		"serve in the zone's key state (a DS counts only when every server serves it\n"
		"with the right digest, authoritatively), and print each server's answer and\n"
		"every problem.  The servers and their TSIG key come from the zone's parent\n"
		"section of the configuration unless --server is given.\n\n"
		"  --server ADDRESS    a parent server, \"192.0.2.1\", \"192.0.2.1@53\" or\n"
		"                      \"[2001:db8::1]:53\" (repeatable)\n");
	dz_keycli_usage(out);
}

typedef struct check_options {
	dz_parent_server_t servers[DS_CHECK_MAX_SERVERS];
	size_t count;
	bool bad;
} check_options_t;

static int
ds_check_option(int option, const char *arg, void *ctx)
{
	check_options_t *o = ctx;
	dz_config_address_t address;
	dz_error_t err;

	if (option != 's' || o->count == DS_CHECK_MAX_SERVERS)
		return 1;
	dz_error_init(&err);
	if (dz_config_address_parse(arg, 53, &address, &err) != DZ_OK) {
		fprintf(stderr, "danezone key ds-check: %s\n", dz_error_message(&err));
		o->bad = true;
		return 0;
	}
	dz_parent_server_t *s = &o->servers[o->count++];
	memset(s, 0, sizeof(*s));
	memcpy(&s->addr, &address.addr, sizeof(address.addr));
	s->addr_len = address.addr_len;
	snprintf(s->name, sizeof(s->name), "%s", address.text);
	return 0;
}

static const char *
tsig_algorithm_name(dz_tsig_algorithm_t algorithm)
{
	switch (algorithm) {
	case DZ_TSIG_HMAC_SHA256:
		return "hmac-sha256.";
	case DZ_TSIG_HMAC_SHA384:
		return "hmac-sha384.";
	case DZ_TSIG_HMAC_SHA512:
		return "hmac-sha512.";
	}
	return "hmac-sha256.";
}

/* The configured parent servers of the zone, with their TSIG key. */
static dz_result_t
configured_servers(dz_keycli_t *cli, const char *zone, check_options_t *o, dz_error_t *err)
{
	const dz_config_zone_t *z = cli->config != NULL ? dz_config_find_zone(cli->config, zone) : NULL;
	if (z == NULL || z->parent.server_count == 0)
		return dz_error_set(err, DZ_ECONFIG,
				    "zone %s has no parent servers in the configuration; add them "
				    "under the zone's parent section or give --server",
				    zone);
	const dz_config_tsig_t *tsig =
		z->parent.tsig != NULL ? dz_config_find_tsig(cli->config, z->parent.tsig) : NULL;
	for (size_t i = 0; i < z->parent.server_count && o->count < DS_CHECK_MAX_SERVERS; i++) {
		const dz_config_address_t *a = &z->parent.servers[i];
		dz_parent_server_t *s = &o->servers[o->count++];
		memset(s, 0, sizeof(*s));
		memcpy(&s->addr, &a->addr, sizeof(a->addr));
		s->addr_len = a->addr_len;
		snprintf(s->name, sizeof(s->name), "%s", a->text);
		if (tsig != NULL) {
			s->tsig_name = tsig->name;
			s->tsig_algorithm = tsig_algorithm_name(tsig->algorithm);
			s->tsig_secret_base64 = tsig->secret_base64;
		}
	}
	return DZ_OK;
}

typedef struct observe_request {
	const dz_parent_answer_t *answers;
	size_t count;
	dz_time_t now;
	dz_buf_t report;
	unsigned problems;
} observe_request_t;

static dz_result_t
apply_observation(dz_keyring_t *ring, void *ctx, dz_error_t *err)
{
	observe_request_t *req = ctx;
	dz_result_t result;

	req->report.len = 0;
	req->problems = dz_key_parent_observe(ring, NULL, req->answers, req->count, req->now,
					      &req->report, &result);
	return result == DZ_OK ? DZ_OK : dz_error_set(err, result, "out of memory");
}

int
dz_cmd_key_ds_check(int argc, char **argv, const char *name)
{
	static const struct option extra[] = { { "server", required_argument, NULL, 's' } };
	check_options_t o = { .count = 0 };
	dz_keycli_t cli;
	dz_parent_answer_t answers[DS_CHECK_MAX_SERVERS];
	dz_error_t err;
	int status;

	dz_keycli_init(&cli);
	status = parse(argc, argv, name, extra, 1, ds_check_option, &o, &cli, ds_check_usage);
	if (status >= 0)
		return status;
	if (o.bad)
		return DZ_EXIT_USAGE;
	if (argc - optind != 1)
		return usage_error(name, "expected ZONE");
	const char *zone = argv[optind];
	dz_error_init(&err);
	if (open_cli(&cli, &err) != DZ_OK ||
	    (o.count == 0 && configured_servers(&cli, zone, &o, &err) != DZ_OK)) {
		dz_keycli_close(&cli);
		return fail(name, &err);
	}

	char owner[300];
	size_t len = strlen(zone);
	snprintf(owner, sizeof(owner), "%s%s", zone, len > 0 && zone[len - 1] == '.' ? "" : ".");
	for (size_t i = 0; i < o.count; i++) {
		dz_error_t query_err;
		dz_error_init(&query_err);
		dz_key_parent_query(owner, &o.servers[i], DS_QUERY_TIMEOUT_MS, &answers[i], &query_err);
		const dz_parent_answer_t *a = &answers[i];
		if (a->result != DZ_OK)
			printf("%s: no answer: %s\n", a->server, dz_error_message(&query_err));
		else
			printf("%s: rcode %u, %s, %zu DS record%s, TTL %" PRIu32 "\n", a->server,
			       a->rcode, a->authoritative ? "authoritative" : "not authoritative",
			       a->ds_count, a->ds_count == 1 ? "" : "s", a->ttl);
	}

	observe_request_t req = { .answers = answers, .count = o.count,
				  .now = dz_clock_now(dz_clock_system()) };
	dz_buf_init(&req.report);
	if (dz_keycli_edit(&cli, zone, apply_observation, &req, &err) != DZ_OK) {
		dz_buf_clear(&req.report);
		dz_keycli_close(&cli);
		return fail(name, &err);
	}
	if (req.problems == 0)
		printf("every parent server agrees with the zone's key state\n");
	else
		printf("%u problem%s:\n%s", req.problems, req.problems == 1 ? "" : "s",
		       req.report.data != NULL ? (const char *)req.report.data : "");
	dz_buf_clear(&req.report);
	dz_keycli_close(&cli);
	return DZ_EXIT_OK;
}
