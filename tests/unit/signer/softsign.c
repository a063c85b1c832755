/*
 * softsign -- sign a zone file with ECDSA P-256 keys made in memory by
 * OpenSSL, through the same job code as `danezone sign`.  A test tool: it
 * lets the system tests run the validators on the signer's output without
 * a PKCS#11 token.
 *
 * usage: softsign ORIGIN INPUT OUTPUT [--NAME VALUE]... [--keys N] [--now TIME]
 *                 [--previous FILE] [--diff FILE] [--ixfr-out FILE] [--key-file PEM]
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "signer/job.h"
#include "signer/sign_options.h"
#include "signer_test.h"

int
main(int argc, char **argv)
{
	dz_policy_t policy;
	dz_keyset_t keys;
	dz_sign_backend_t backend = test_backend();
	dz_sign_job_t job;
	dz_sign_job_report_t report;
	dz_error_t err;
	size_t key_count = 1;
	const char *key_file = NULL;

	if (argc < 4) {
		fprintf(stderr, "usage: softsign ORIGIN INPUT OUTPUT [--NAME VALUE]...\n");
		return 2;
	}
	dz_log_open("softsign", DZ_LOG_TARGET_STDERR, DZ_LOG_NOTICE);
	dz_error_init(&err);
	if (!dz_policy_init_defaults(&policy))
		return 1;
	memset(&job, 0, sizeof(job));
	job.origin = argv[1];
	job.input = strcmp(argv[2], "-") == 0 ? NULL : argv[2];
	job.output = argv[3];
	job.now = 1767225600; /* 2026-01-01T00:00:00Z */
	for (int i = 4; i + 1 < argc; i += 2) {
		const char *name = argv[i] + 2;
		const char *value = argv[i + 1];
		if (strcmp(name, "keys") == 0)
			key_count = (size_t)atoi(value);
		else if (strcmp(name, "key-file") == 0)
			key_file = value;
		else if (strcmp(name, "now") == 0)
			job.now = atoll(value);
		else if (strcmp(name, "previous") == 0)
			job.previous = value;
		else if (strcmp(name, "diff") == 0)
			job.diff = value;
		else if (strcmp(name, "incremental") == 0)
			job.incremental = value;
		else if (strcmp(name, "ixfr-out") == 0)
			job.ixfr_out = value;
		else if (strcmp(name, "drop-out-of-zone") == 0)
			job.load.drop_out_of_zone = strcmp(value, "yes") == 0;
		else if (dz_sign_option_set(&policy, name, value, &err) != DZ_OK) {
			fprintf(stderr, "softsign: %s\n", dz_error_message(&err));
			return 2;
		}
	}
	test_keys_create_from(&keys, key_count, key_file);
	job.policy = &policy;
	job.keys = &keys;
	job.backend = &backend;
	if (dz_sign_job_run(&job, &report, &err) != DZ_OK) {
		fprintf(stderr, "softsign: %s\n", dz_error_message(&err));
		return 1;
	}
	printf("serial=%u changed=%d signatures=%zu kept=%zu removed=%zu added=%zu\n",
	       report.update.serial, report.update.changed, report.update.sign.signatures,
	       report.update.sign.signatures_kept, report.changes.removed, report.changes.added);
	fprintf(stderr, "load %.2f s, chain %.2f s, sign %.2f s, check %.2f s, write %.2f s, total %.2f s\n",
		report.seconds_load, report.update.seconds_chain, report.update.sign.seconds,
		report.update.seconds_check, report.seconds_write, report.seconds_total);
	if (report.incremental_done)
		fprintf(stderr, "incremental: %.3f s, %zu signatures\n", report.seconds_incremental,
			report.incremental.sign.signatures);
	test_keys_free(&keys);
	dz_policy_clear(&policy);
	return 0;
}
