/*
 * cmd_sign.c -- `danezone sign`: sign one zone from files with keys in a
 * PKCS#11 token.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/policy.h"
#include "signer/cmd_daemon.h"
#include "signer/command.h"
#include "signer/job.h"
#include "signer/sign_keys.h"
#include "signer/sign_options.h"
#include "signer/token_options.h"

enum {
	OPT_PREVIOUS = 2000,
	OPT_DIFF,
	OPT_INCREMENTAL,
	OPT_IXFR_OUT,
	OPT_SNAPSHOT_OUT,
	OPT_DROP_OUT_OF_ZONE,
	OPT_KEEP_DNSKEY,
	OPT_KEY,
	OPT_PROCESSES,
	OPT_SESSIONS,
	OPT_THREADS,
	OPT_NOW,
	OPT_STATS,
	OPT_POLICY, /* the policy values follow, one number each */
};

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: danezone sign --zone ZONE (--input FILE | --previous FILE --diff FILE)\n"
		"                     (--output FILE | --snapshot-out FILE) [options]\n"
		"       danezone sign [-c FILE] ZONE\n\n"
		"Sign one zone with keys in a PKCS#11 token and write the signed zone file.\n"
		"The second form has the running danezoned sign the configured zone ZONE\n"
		"again at once (the configuration FILE names its control socket).\n"
		"With --previous, signatures of the previous signed zone that are still good\n"
		"are kept and only what changed is signed.\n\n"
		"  --zone ZONE                 zone name (origin)\n"
		"  --input FILE                unsigned zone file\n"
		"  --output FILE               signed zone file to write (atomically)\n"
		"  --previous FILE             previous signed zone to start from: a zone file or a\n"
		"                              snapshot (written by --snapshot-out or the daemon)\n"
		"  --diff FILE                 changes to apply to the previous zone ('+ RR' / '- RR' lines)\n"
		"  --incremental FILE          after signing, apply these changes in memory and sign\n"
		"                              again, as the daemon does; the output is that version\n"
		"  --ixfr-out FILE             write the difference to the previous version in IXFR\n"
		"                              order (old SOA, removed, new SOA, added; wire form)\n"
		"  --snapshot-out FILE         write the signed zone as a snapshot (binary, canonical\n"
		"                              order), the fast input of a later --previous\n"
		"  --drop-out-of-zone          drop records outside the zone with a warning\n"
		"                              instead of failing\n"
		"  --keep-dnskey TAG           publish the source's DNSKEY with this key tag\n"
		"                              (another signer's key); repeatable\n"
		"  --key HEX[:ROLE]            sign with the key of this CKA_ID in role ksk, zsk or\n"
		"                              csk (default csk); repeatable; without --key, the\n"
		"                              keys registered for the zone in the state folder\n"
		"  --processes N               signer processes (default: one per CPU; 0 signs in\n"
		"                              this process)\n"
		"  --sessions N                PKCS#11 sessions with --processes 0 (default: one per CPU)\n"
		"  --threads N                 threads preparing signatures (default: chosen)\n"
		"  --now TIME                  signing time, RFC 3339 or @SECONDS (default: now)\n"
		"  --stats                     print figures of the run on standard output\n");
	dz_token_options_usage(out, true);
	fprintf(out, "\npolicy values:\n");
	dz_sign_options_usage(out);
}

static int
usage_error(const char *message, const char *value)
{
	fprintf(stderr, "danezone sign: %s%s%s; see 'danezone sign --help'\n", message,
		value != NULL ? ": " : "", value != NULL ? value : "");
	return DZ_EXIT_USAGE;
}

static bool
parse_count(const char *text, unsigned max, unsigned *out)
{
	char *end;
	unsigned long value;

	errno = 0;
	value = strtoul(text, &end, 10);
	if (text[0] < '0' || text[0] > '9' || *end != '\0' || errno != 0 || value > max)
		return false;
	*out = (unsigned)value;
	return true;
}

static void
print_stats(const dz_sign_job_t *job, const dz_sign_job_report_t *r)
{
	double rate = r->update.sign.seconds > 0 ? (double)r->update.sign.signatures /
							   r->update.sign.seconds : 0;

	printf("zone %s\n", job->origin);
	printf("serial %u\n", r->update.serial);
	printf("records_read %zu\n", r->records_read);
	printf("rrsigs_created %zu\n", r->update.sign.signatures);
	printf("rrsigs_kept %zu\n", r->update.sign.signatures_kept);
	printf("rrsets_signed %zu\n", r->update.sign.rrsets_signed);
	printf("seconds_load %.3f\n", r->seconds_load);
	printf("seconds_chain %.3f\n", r->update.seconds_chain);
	printf("seconds_sign %.3f\n", r->update.sign.seconds);
	printf("rrsigs_per_second %.0f\n", rate);
	printf("seconds_check %.3f\n", r->update.seconds_check);
	printf("seconds_write %.3f\n", r->seconds_write);
	printf("seconds_total %.3f\n", r->seconds_total);
	if (r->incremental_done) {
		printf("incremental_serial %u\n", r->incremental.serial);
		printf("incremental_rrsigs_created %zu\n", r->incremental.sign.signatures);
		printf("incremental_seconds %.6f\n", r->seconds_incremental);
	}
	if (job->previous != NULL || job->incremental != NULL) {
		printf("ixfr_removed %zu\n", r->changes.removed);
		printf("ixfr_added %zu\n", r->changes.added);
	}
	if (job->previous != NULL) {
		printf("previous_snapshot %d\n", r->previous_snapshot);
		printf("previous_reused %d\n", r->previous_reused);
	}
}

static double
cpu_seconds(int who)
{
	struct rusage usage;

	if (getrusage(who, &usage) != 0)
		return 0;
	return (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6 +
	       (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec / 1e6;
}

/* CPU time (user + system) of this process and of the signer processes it ended. */
static void
print_cpu_seconds(void)
{
	printf("cpu_seconds_main %.3f\n", cpu_seconds(RUSAGE_SELF));
	printf("cpu_seconds_signers %.3f\n", cpu_seconds(RUSAGE_CHILDREN));
}

int
dz_cmd_sign(int argc, char **argv)
{
	struct option long_options[64] = {
		{ "zone", required_argument, NULL, 'z' },
		{ "input", required_argument, NULL, 'i' },
		{ "output", required_argument, NULL, 'o' },
		{ "previous", required_argument, NULL, OPT_PREVIOUS },
		{ "diff", required_argument, NULL, OPT_DIFF },
		{ "incremental", required_argument, NULL, OPT_INCREMENTAL },
		{ "ixfr-out", required_argument, NULL, OPT_IXFR_OUT },
		{ "snapshot-out", required_argument, NULL, OPT_SNAPSHOT_OUT },
		{ "drop-out-of-zone", no_argument, NULL, OPT_DROP_OUT_OF_ZONE },
		{ "keep-dnskey", required_argument, NULL, OPT_KEEP_DNSKEY },
		{ "key", required_argument, NULL, OPT_KEY },
		{ "processes", required_argument, NULL, OPT_PROCESSES },
		{ "sessions", required_argument, NULL, OPT_SESSIONS },
		{ "threads", required_argument, NULL, OPT_THREADS },
		{ "now", required_argument, NULL, OPT_NOW },
		{ "stats", no_argument, NULL, OPT_STATS },
		{ "help", no_argument, NULL, 'h' },
		DZ_TOKEN_LONG_OPTIONS,
	};
	size_t fixed = 0;
	dz_token_options_t token;
	dz_sign_keys_options_t key_options;
	dz_sign_keys_t keys;
	dz_sign_backend_t backend;
	dz_policy_t policy;
	dz_sign_job_t job;
	dz_sign_job_report_t report;
	dz_error_t err;
	bool stats = false;
	bool have_now = false;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int status = DZ_EXIT_FAILURE;
	int c;

	if (dz_daemon_sign(argc, argv, &status))
		return status;

	/* The policy values of the table become options too, after the fixed ones. */
	while (long_options[fixed].name != NULL)
		fixed++;
	for (size_t i = 0; dz_sign_option_name(i) != NULL && fixed + i + 1 < DZ_ARRAY_SIZE(long_options); i++)
		long_options[fixed + i] = (struct option){ dz_sign_option_name(i), required_argument, NULL,
							    OPT_POLICY + (int)i };
	dz_error_init(&err);
	dz_token_options_init(&token);
	memset(&key_options, 0, sizeof(key_options));
	memset(&keys, 0, sizeof(keys));
	memset(&job, 0, sizeof(job));
	key_options.token = &token;
	key_options.processes = cpus > 1 ? (unsigned)cpus : 0;
	if (!dz_policy_init_defaults(&policy)) {
		fprintf(stderr, "danezone sign: out of memory\n");
		return DZ_EXIT_FAILURE;
	}

	optind = 1;
	while ((c = getopt_long(argc, argv, "z:i:o:h", long_options, NULL)) != -1) {
		if (dz_token_options_handle(&token, c, optarg))
			continue;
		switch (c) {
		case 'z':
			job.origin = optarg;
			break;
		case 'i':
			job.input = optarg;
			break;
		case 'o':
			job.output = optarg;
			break;
		case OPT_PREVIOUS:
			job.previous = optarg;
			break;
		case OPT_DIFF:
			job.diff = optarg;
			break;
		case OPT_INCREMENTAL:
			job.incremental = optarg;
			break;
		case OPT_IXFR_OUT:
			job.ixfr_out = optarg;
			break;
		case OPT_SNAPSHOT_OUT:
			job.snapshot_out = optarg;
			break;
		case OPT_DROP_OUT_OF_ZONE:
			job.load.drop_out_of_zone = true;
			break;
		case OPT_KEEP_DNSKEY: {
			unsigned tag;
			if (!parse_count(optarg, 65535, &tag))
				{
				status = usage_error("invalid key tag", optarg);
				goto cleanup;
			}
			if (job.load.keep_dnskey_count == DZ_LOAD_MAX_KEEP_TAGS)
				{
				status = usage_error("too many --keep-dnskey options", NULL);
				goto cleanup;
			}
			job.load.keep_dnskey_tags[job.load.keep_dnskey_count++] = (uint16_t)tag;
			break;
		}
		case OPT_KEY:
			if (key_options.key_count == DZ_SIGN_KEYS_MAX)
				{
				status = usage_error("too many --key options", NULL);
				goto cleanup;
			}
			if (dz_sign_key_choice_parse(optarg, &key_options.keys[key_options.key_count], &err) !=
			    DZ_OK)
				{
				status = usage_error(dz_error_message(&err), NULL);
				goto cleanup;
			}
			key_options.key_count++;
			break;
		case OPT_PROCESSES:
			if (!parse_count(optarg, 256, &key_options.processes))
				{
				status = usage_error("invalid number of processes", optarg);
				goto cleanup;
			}
			break;
		case OPT_SESSIONS:
			if (!parse_count(optarg, 256, &key_options.sessions))
				{
				status = usage_error("invalid number of sessions", optarg);
				goto cleanup;
			}
			break;
		case OPT_THREADS:
			if (!parse_count(optarg, 64, &job.threads))
				{
				status = usage_error("invalid number of threads", optarg);
				goto cleanup;
			}
			break;
		case OPT_NOW:
			if (dz_time_parse(optarg, &job.now, &err) != DZ_OK)
				{
				status = usage_error(dz_error_message(&err), NULL);
				goto cleanup;
			}
			have_now = true;
			break;
		case OPT_STATS:
			stats = true;
			break;
		case 'h':
			usage(stdout);
			status = DZ_EXIT_OK;
			goto cleanup;
		default:
			if (c >= OPT_POLICY && dz_sign_option_name((size_t)(c - OPT_POLICY)) != NULL) {
				if (dz_sign_option_set(&policy, dz_sign_option_name((size_t)(c - OPT_POLICY)),
						       optarg, &err) != DZ_OK)
					{
				status = usage_error(dz_error_message(&err), NULL);
				goto cleanup;
			}
				break;
			}
			{
				status = usage_error("unknown option", argv[optind - 1]);
				goto cleanup;
			}
		}
	}
	if (optind != argc)
		{
				status = usage_error("unexpected argument", argv[optind]);
				goto cleanup;
			}
	if (job.origin == NULL)
		{
				status = usage_error("--zone is required", NULL);
				goto cleanup;
			}
	if (job.output == NULL && job.snapshot_out == NULL && !stats)
		{
				status = usage_error("--output or --snapshot-out is required", NULL);
				goto cleanup;
			}
	if (job.input == NULL && (job.previous == NULL || job.diff == NULL))
		{
				status = usage_error("--input is required, or --previous with --diff", NULL);
				goto cleanup;
			}
	if (job.input != NULL && job.diff != NULL)
		{
				status = usage_error("--diff applies to --previous instead of --input", NULL);
				goto cleanup;
			}
	if (!have_now)
		job.now = dz_clock_now(dz_clock_system());
	key_options.zone = job.origin;

	/* Before any thread: a process service forks. */
	if (dz_sign_keys_open(&key_options, &keys, &err) != DZ_OK) {
		status = dz_command_fail("sign", &err);
		goto cleanup;
	}
	dz_log_zone(DZ_LOG_INFO, job.origin, "DNSSEC, signing with %zu keys through %s (%s)",
		    keys.keyset.count, keys.module,
		    key_options.processes > 0 ? "signer processes" : "in-process sessions");
	backend = dz_sign_backend_service(keys.service);
	job.policy = &policy;
	job.keys = &keys.keyset;
	job.backend = &backend;
	if (dz_sign_job_run(&job, &report, &err) != DZ_OK) {
		status = dz_command_fail("sign", &err);
		goto cleanup;
	}
	dz_log_zone(DZ_LOG_NOTICE, job.origin,
		    "DNSSEC, serial %u: %zu signatures made, %zu kept, in %.1f s (%.0f signatures/s)",
		    report.incremental_done ? report.incremental.serial : report.update.serial,
		    report.update.sign.signatures + report.incremental.sign.signatures,
		    report.update.sign.signatures_kept, report.seconds_total,
		    report.update.sign.seconds > 0 ? (double)report.update.sign.signatures /
							     report.update.sign.seconds : 0.0);
	/* Closing the service reaps the signer processes, so their CPU time is counted below. */
	dz_sign_keys_close(&keys);
	if (stats) {
		print_stats(&job, &report);
		print_cpu_seconds();
	}
	status = DZ_EXIT_OK;
cleanup:
	dz_sign_keys_close(&keys);
	dz_policy_clear(&policy);
	return status;
}
