/*
 * cmd_hsm.c -- `danezone hsm tokens` and `danezone hsm bench`.
 *
 * The benchmark generates a temporary key pair per algorithm in the token,
 * measures the raw C_SignInit/C_Sign loop of one session, then the same
 * token through the sign service (in-process sessions and, with
 * --processes, signer processes), and deletes the keys again.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/policy.h"
#include "hsm/hsm.h"
#include "hsm/sign_service.h"
#include "signer/command.h"
#include "signer/token_options.h"

#define BENCH_MAX_ALGORITHMS 8
#define BENCH_MAX_THREADS 256
#define BENCH_MAX_PROCESSES 64
#define BENCH_DEFAULT_BATCH 64
#define BENCH_MAX_BATCH 4096
/* Size of the data each benchmark request signs, like a small RRset with its RRSIG header. */
#define BENCH_DATA_LEN 120
/* Alternating rounds of the raw loop and the service per measurement. */
#define BENCH_ROUNDS 3

static int
hsm_fail(const char *name, const dz_error_t *err)
{
	fprintf(stderr, "danezone hsm %s: %s\n", name, dz_error_message(err));
	return DZ_EXIT_FAILURE;
}

static int
hsm_usage_error(const char *name, const char *message)
{
	fprintf(stderr, "danezone hsm %s: %s; see 'danezone hsm %s --help'\n", name, message,
		name);
	return DZ_EXIT_USAGE;
}

/* Report an unknown option or a missing value; returns DZ_EXIT_USAGE. */
static int
hsm_bad_option(const char *name, char **argv, int option)
{
	if (option == ':')
		fprintf(stderr, "danezone hsm %s: option '%s' needs a value\n", name,
			argv[optind - 1]);
	else
		fprintf(stderr, "danezone hsm %s: unknown option '%s'; see 'danezone hsm %s "
			"--help'\n", name, argv[optind - 1], name);
	return DZ_EXIT_USAGE;
}

static double
elapsed_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* CPU time of this process (all threads) in seconds. */
static double
process_cpu_seconds(void)
{
	struct timespec now;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
	return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------ tokens */

static int
cmd_tokens(int argc, char **argv, const char *name)
{
	static const struct option long_options[] = {
		{ "module", required_argument, NULL, DZ_OPT_MODULE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	dz_token_options_t options;
	dz_hsm_token_info_t *tokens = NULL;
	size_t count = 0;
	dz_error_t err;
	int c;

	dz_token_options_init(&options);
	while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
		if (dz_token_options_handle(&options, c, optarg))
			continue;
		if (c == 'h') {
			printf("usage: danezone hsm tokens [--module PATH]\n\n"
			       "List the slots of a PKCS#11 module that contain a token.\n");
			return DZ_EXIT_OK;
		}
		return hsm_bad_option(name, argv, c);
	}
	if (optind != argc)
		return hsm_usage_error(name, "unexpected argument");
	dz_error_init(&err);
	if (dz_hsm_list_tokens(options.module, &tokens, &count, &err) != DZ_OK)
		return hsm_fail(name, &err);
	printf("%-12s %-32s %-16s %-16s %s\n", "SLOT", "LABEL", "SERIAL", "MODEL", "STATE");
	for (size_t i = 0; i < count; i++)
		printf("%-12lu %-32s %-16s %-16s %s\n", tokens[i].slot,
		       tokens[i].initialized ? tokens[i].label : "-", tokens[i].serial,
		       tokens[i].model, tokens[i].initialized ? "initialised" : "free");
	free(tokens);
	return DZ_EXIT_OK;
}

/* ------------------------------------------------------------------ bench */

typedef struct bench_key {
	uint8_t algorithm;
	dz_hsm_key_t key;
	bool generated;
	double raw_rate;	/* signatures per second of wall time */
	double local_rate;
	double process_rate;
	double raw_cpu_us;	/* CPU time of this process per signature, in microseconds */
	double local_cpu_us;
} bench_key_t;

typedef struct bench_worker {
	pthread_t thread;
	dz_sign_service_t *service;
	const bench_key_t *key;
	unsigned index;
	unsigned batch;
	double seconds;
	unsigned long signatures;
	double elapsed;
	dz_result_t result;
	dz_error_t err;
} bench_worker_t;

/* Sign batches for the worker's time; each request signs different data. */
static void *
bench_worker_run(void *arg)
{
	bench_worker_t *worker = arg;
	dz_sign_request_t *requests = calloc(worker->batch, sizeof(*requests));
	uint8_t *data = calloc(worker->batch, BENCH_DATA_LEN);
	struct timespec start;

	worker->result = DZ_OK;
	if (requests == NULL || data == NULL) {
		worker->result = dz_error_set(&worker->err, DZ_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (unsigned i = 0; i < worker->batch; i++) {
		dz_sign_request_t *request = &requests[i];
		uint8_t *bytes = data + (size_t)i * BENCH_DATA_LEN;
		for (size_t j = 0; j < BENCH_DATA_LEN; j++)
			bytes[j] = (uint8_t)(j * 31 + i * 7 + worker->index * 13);
		memcpy(request->key_id, worker->key->key.id, worker->key->key.id_len);
		request->key_id_len = worker->key->key.id_len;
		request->algorithm = worker->key->algorithm;
		request->data = bytes;
		request->data_len = BENCH_DATA_LEN;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		worker->result = dz_sign_service_sign(worker->service, requests, worker->batch,
						      &worker->err);
		if (worker->result != DZ_OK)
			break;
		worker->signatures += worker->batch;
	} while (elapsed_since(&start) < worker->seconds);
	worker->elapsed = elapsed_since(&start);

cleanup:
	free(requests);
	free(data);
	return NULL;
}

/* Run `threads` workers on the service; adds their signatures and the wall time. */
static dz_result_t
bench_service(dz_sign_service_t *service, const bench_key_t *key, unsigned threads,
	      unsigned batch, double seconds, unsigned long *signatures, double *elapsed,
	      dz_error_t *err)
{
	bench_worker_t *workers = calloc(threads, sizeof(*workers));
	dz_result_t result = DZ_OK;
	unsigned started = 0;
	struct timespec start;

	if (workers == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (unsigned i = 0; i < threads; i++) {
		workers[i] = (bench_worker_t){ .service = service, .key = key, .index = i,
					       .batch = batch, .seconds = seconds };
		if (pthread_create(&workers[i].thread, NULL, bench_worker_run, &workers[i]) != 0) {
			result = dz_error_set(err, DZ_EAGAIN, "cannot start benchmark thread: %s",
					      strerror(errno));
			break;
		}
		started++;
	}
	for (unsigned i = 0; i < started; i++) {
		pthread_join(workers[i].thread, NULL);
		if (workers[i].result != DZ_OK && result == DZ_OK)
			result = dz_error_set(err, workers[i].result, "%s",
					      dz_error_message(&workers[i].err));
		*signatures += workers[i].signatures;
	}
	*elapsed += elapsed_since(&start);
	free(workers);
	return result;
}

static void
bench_usage(FILE *out)
{
	fprintf(out,
		"usage: danezone hsm bench [--threads N] [--seconds S] [--algorithm ALG]...\n"
		"                          [--processes P] [--batch B] [token options]\n\n"
		"Measure signatures per second of the token: the raw C_SignInit/C_Sign loop of\n"
		"one session, and the sign service that danezone signs through.  Temporary key\n"
		"pairs labelled 'danezone bench' are generated and deleted again.\n\n"
		"  --threads N         threads calling the sign service (default 1)\n"
		"  --seconds S         duration of each measurement (default 3)\n"
		"  --algorithm ALG     algorithm to measure; may be repeated (default: every\n"
		"                      algorithm the token supports)\n"
		"  --processes P       also measure a service of P signer processes\n"
		"  --batch B           requests per sign call (default %d)\n",
		BENCH_DEFAULT_BATCH);
	dz_token_options_usage(out, false);
}

typedef struct bench_options {
	unsigned threads;
	unsigned processes;
	unsigned batch;
	double seconds;
	uint8_t algorithms[BENCH_MAX_ALGORITHMS];
	size_t algorithm_count;
	double load_average;	/* 1-minute load average at the start, or -1 */
} bench_options_t;

static bool
parse_unsigned(const char *text, unsigned min, unsigned max, unsigned *out)
{
	char *end;

	errno = 0;
	unsigned long value = strtoul(text, &end, 10);
	if (text[0] < '0' || text[0] > '9' || *end != '\0' || errno != 0 || value < min ||
	    value > max)
		return false;
	*out = (unsigned)value;
	return true;
}

/* Generate the temporary keys: the requested algorithms, or all the token supports. */
static dz_result_t
bench_generate(dz_hsm_t *hsm, const bench_options_t *options, bench_key_t *keys, size_t *count,
	       dz_error_t *err)
{
	static const uint8_t all[] = { DZ_ALG_RSASHA256, DZ_ALG_ECDSAP256SHA256,
				       DZ_ALG_ECDSAP384SHA384, DZ_ALG_ED25519, DZ_ALG_ED448 };
	const uint8_t *requested = options->algorithm_count > 0 ? options->algorithms : all;
	size_t requested_count = options->algorithm_count > 0 ? options->algorithm_count :
							     DZ_ARRAY_SIZE(all);
	size_t n = 0;

	for (size_t i = 0; i < requested_count; i++) {
		uint8_t algorithm = requested[i];
		unsigned bits = algorithm == DZ_ALG_RSASHA256 || algorithm == DZ_ALG_RSASHA512 ?
					DZ_HSM_RSA_BITS_MIN : 0;
		char label[64];
		dz_error_t check_err;

		dz_error_init(&check_err);
		dz_result_t result = dz_hsm_check_algorithm(hsm, algorithm, bits, &check_err);
		if (result != DZ_OK) {
			if (options->algorithm_count > 0)
				return dz_error_set(err, result, "%s", dz_error_message(&check_err));
			printf("%-16s skipped: %s\n", dz_algorithm_name(algorithm),
			       dz_error_message(&check_err));
			continue;
		}
		keys[n] = (bench_key_t){ .algorithm = algorithm };
		snprintf(label, sizeof(label), "danezone bench %s", dz_algorithm_name(algorithm));
		result = dz_hsm_generate_key(hsm, algorithm, bits, label, &keys[n].key, err);
		if (result != DZ_OK)
			return result;
		keys[n++].generated = true;
		*count = n;
	}
	return DZ_OK;
}

static void
bench_delete(dz_hsm_t *hsm, bench_key_t *keys, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		dz_error_t err;
		dz_error_init(&err);
		if (keys[i].generated &&
		    dz_hsm_delete_key(hsm, keys[i].key.id, keys[i].key.id_len, &err) != DZ_OK)
			fprintf(stderr, "danezone hsm bench: %s; delete the key labelled '%s' by "
				"hand\n", dz_error_message(&err), keys[i].key.label);
	}
}

/*
 * Measure the raw loop and the in-process service for each key.  The two
 * alternate in BENCH_ROUNDS rounds, so that load from other programs that
 * comes and goes affects both alike.
 */
static dz_result_t
bench_in_process(dz_hsm_t *hsm, const bench_options_t *options, bench_key_t *keys, size_t count,
		 dz_error_t *err)
{
	dz_sign_service_t *service = NULL;
	dz_result_t result = dz_sign_service_create_local(hsm, &service, err);
	double round_seconds = options->seconds / BENCH_ROUNDS;

	for (size_t i = 0; result == DZ_OK && i < count; i++) {
		unsigned long raw_signatures = 0, service_signatures = 0;
		double raw_elapsed = 0, service_elapsed = 0, raw_cpu = 0, service_cpu = 0;

		for (int round = 0; result == DZ_OK && round < BENCH_ROUNDS; round++) {
			unsigned long signatures = 0;
			struct timespec start;
			double cpu = process_cpu_seconds();

			clock_gettime(CLOCK_MONOTONIC, &start);
			result = dz_hsm_raw_sign_loop(hsm, keys[i].key.id, keys[i].key.id_len,
						      keys[i].algorithm, round_seconds, &signatures,
						      err);
			raw_elapsed += elapsed_since(&start);
			raw_cpu += process_cpu_seconds() - cpu;
			raw_signatures += signatures;
			if (result != DZ_OK)
				break;
			cpu = process_cpu_seconds();
			result = bench_service(service, &keys[i], options->threads, options->batch,
					       round_seconds, &service_signatures, &service_elapsed,
					       err);
			service_cpu += process_cpu_seconds() - cpu;
		}
		keys[i].raw_rate = (double)raw_signatures / raw_elapsed;
		keys[i].local_rate = (double)service_signatures / service_elapsed;
		keys[i].raw_cpu_us = raw_signatures > 0 ? 1e6 * raw_cpu / (double)raw_signatures : 0;
		keys[i].local_cpu_us = service_signatures > 0 ?
					       1e6 * service_cpu / (double)service_signatures : 0;
	}
	dz_sign_service_destroy(service);
	return result;
}

static dz_result_t
bench_processes(const dz_hsm_config_t *config, const bench_options_t *options, bench_key_t *keys,
		size_t count, dz_error_t *err)
{
	dz_sign_service_t *service = NULL;
	dz_hsm_config_t worker_config = *config;
	dz_result_t result;

	worker_config.sessions = 1;
	result = dz_sign_service_create_processes(&worker_config, options->processes, &service,
						  err);
	for (size_t i = 0; result == DZ_OK && i < count; i++) {
		unsigned long signatures = 0;
		double elapsed = 0;
		result = bench_service(service, &keys[i], options->threads, options->batch,
				       options->seconds, &signatures, &elapsed, err);
		keys[i].process_rate = (double)signatures / elapsed;
	}
	dz_sign_service_destroy(service);
	return result;
}

static void
bench_report(dz_hsm_t *hsm, const bench_options_t *options, const bench_key_t *keys,
	     size_t count)
{
	char module[160];
	char processes[32];

	printf("token '%s' in %s\n", dz_hsm_token(hsm)->label,
	       dz_hsm_module_describe(hsm, module, sizeof(module)));
	printf("%u thread(s), batches of %u, %.1f s per measurement\n", options->threads,
	       options->batch, options->seconds);
	if (options->load_average >= 0)
		printf("load average before the run: %.2f on %ld CPUs\n", options->load_average,
		       sysconf(_SC_NPROCESSORS_ONLN));
	/* CPU time per signature does not depend on other programs' load the way rates do. */
	snprintf(processes, sizeof(processes), "%u processes/s", options->processes);
	printf("%-16s %13s %10s %6s %11s %15s %6s", "ALGORITHM", "raw C_Sign/s", "service/s",
	       "ratio", "raw CPU us", "service CPU us", "cores");
	if (options->processes > 0)
		printf(" %15s", processes);
	printf("\n");
	for (size_t i = 0; i < count; i++) {
		/* Cores busy in this process while the service signed: about 1 when it serialises. */
		double cores = keys[i].local_rate * keys[i].local_cpu_us / 1e6;
		printf("%-16s %13.0f %10.0f %5.0f%% %11.1f %15.1f %6.2f",
		       dz_algorithm_name(keys[i].algorithm), keys[i].raw_rate, keys[i].local_rate,
		       keys[i].raw_rate > 0 ? 100.0 * keys[i].local_rate / keys[i].raw_rate : 0.0,
		       keys[i].raw_cpu_us, keys[i].local_cpu_us, cores);
		if (options->processes > 0)
			printf(" %15.0f", keys[i].process_rate);
		printf("\n");
	}
}

static int
cmd_bench(int argc, char **argv, const char *name)
{
	static const struct option long_options[] = {
		{ "threads", required_argument, NULL, 't' },
		{ "seconds", required_argument, NULL, 's' },
		{ "algorithm", required_argument, NULL, 'a' },
		{ "processes", required_argument, NULL, 'p' },
		{ "batch", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		DZ_TOKEN_LONG_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	dz_token_options_t token_options;
	bench_options_t options = { .threads = 1, .batch = BENCH_DEFAULT_BATCH, .seconds = 3 };
	bench_key_t keys[BENCH_MAX_ALGORITHMS];
	size_t key_count = 0;
	dz_hsm_config_t config;
	dz_hsm_t *hsm = NULL;
	unsigned seconds = 3;
	dz_error_t err;
	int c;

	dz_token_options_init(&token_options);
	while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
		if (dz_token_options_handle(&token_options, c, optarg))
			continue;
		switch (c) {
		case 't':
			if (!parse_unsigned(optarg, 1, BENCH_MAX_THREADS, &options.threads))
				return hsm_usage_error(name, "--threads must be 1 to 256");
			break;
		case 's':
			if (!parse_unsigned(optarg, 1, 3600, &seconds))
				return hsm_usage_error(name, "--seconds must be 1 to 3600");
			options.seconds = seconds;
			break;
		case 'a':
			if (options.algorithm_count == BENCH_MAX_ALGORITHMS ||
			    !dz_algorithm_parse(optarg, &options.algorithms[options.algorithm_count++]))
				return hsm_usage_error(name, "unknown --algorithm");
			break;
		case 'p':
			if (!parse_unsigned(optarg, 1, BENCH_MAX_PROCESSES, &options.processes))
				return hsm_usage_error(name, "--processes must be 1 to 64");
			break;
		case 'b':
			if (!parse_unsigned(optarg, 1, BENCH_MAX_BATCH, &options.batch))
				return hsm_usage_error(name, "--batch must be 1 to 4096");
			break;
		case 'h':
			bench_usage(stdout);
			return DZ_EXIT_OK;
		default:
			return hsm_bad_option(name, argv, c);
		}
	}
	if (optind != argc)
		return hsm_usage_error(name, "unexpected argument");

	dz_error_init(&err);
	if (getloadavg(&options.load_average, 1) != 1)
		options.load_average = -1;
	dz_token_options_config(&token_options, options.threads, &config);
	dz_result_t result = dz_hsm_create(&config, &hsm, &err);
	if (result == DZ_OK)
		result = bench_generate(hsm, &options, keys, &key_count, &err);
	if (result == DZ_OK)
		result = bench_in_process(hsm, &options, keys, key_count, &err);
	if (result == DZ_OK && options.processes > 0)
		result = bench_processes(&config, &options, keys, key_count, &err);
	if (result == DZ_OK)
		bench_report(hsm, &options, keys, key_count);
	if (hsm != NULL)
		bench_delete(hsm, keys, key_count);
	dz_hsm_destroy(hsm);
	return result == DZ_OK ? DZ_EXIT_OK : hsm_fail(name, &err);
}

/* ------------------------------------------------------------------ dispatch */

int
dz_cmd_hsm(int argc, char **argv)
{
	opterr = 0;
	if (argc >= 2 && strcmp(argv[1], "bench") == 0) {
		optind = 1;
		return cmd_bench(argc - 1, argv + 1, "bench");
	}
	if (argc >= 2 && strcmp(argv[1], "tokens") == 0) {
		optind = 1;
		return cmd_tokens(argc - 1, argv + 1, "tokens");
	}
	FILE *out = argc >= 2 && (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0)
			    ? stdout : stderr;
	fprintf(out, "usage: danezone hsm COMMAND [OPTIONS]\n\ncommands:\n"
		"  bench          measure signatures per second of a token\n"
		"  tokens         list the tokens of a PKCS#11 module\n");
	return out == stdout ? DZ_EXIT_OK : DZ_EXIT_USAGE;
}
