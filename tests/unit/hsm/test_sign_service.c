/*
 * The sign services on a real SoftHSM2 token: the in-process session pool
 * from several threads, the multi-process service with batches split over
 * its processes, key pairs managed through the signer processes, and the
 * strict protocol of a signer process.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/mem.h"
#include "common/policy.h"
#include "common/privdrop.h"
#include "hsm/hsm.h"
#include "hsm/sign_protocol.h"
#include "hsm/sign_service.h"
#include "tests/unit/hsm/softhsm_fixture.h"

#define THREADS 4
#define PER_THREAD 40
#define BATCH 300

typedef struct service_test {
	softhsm_fixture_t *fixture;
	dz_hsm_t *hsm;
	dz_hsm_key_t keys[2];	/* ECDSAP256SHA256, ED25519 */
	uint8_t public_keys[2][DZ_HSM_PUBLIC_KEY_MAX];
	size_t public_key_lens[2];
} service_test_t;

static const uint8_t key_algorithms[2] = { DZ_ALG_ECDSAP256SHA256, DZ_ALG_ED25519 };

static int
setup(void **state)
{
	service_test_t *t = calloc(1, sizeof(*t));
	dz_error_t err;

	t->fixture = softhsm_fixture_create(true);
	t->fixture->config.sessions = THREADS;
	dz_error_init(&err);
	if (dz_hsm_create(&t->fixture->config, &t->hsm, &err) != DZ_OK)
		fail_msg("%s", err.message);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(dz_hsm_generate_key(t->hsm, key_algorithms[i], 0, "service test",
						     &t->keys[i], &err), DZ_OK);
		assert_int_equal(dz_hsm_public_key(t->hsm, t->keys[i].id, t->keys[i].id_len,
						   key_algorithms[i], t->public_keys[i],
						   &t->public_key_lens[i], &err), DZ_OK);
	}
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	service_test_t *t = *state;

	dz_hsm_destroy(t->hsm);
	softhsm_fixture_destroy(t->fixture);
	free(t);
	return 0;
}

/* Fill requests alternating between the two keys, each with its own data. */
static void
fill_requests(service_test_t *t, dz_sign_request_t *requests, char (*data)[48], size_t count,
	      unsigned seed)
{
	memset(requests, 0, count * sizeof(*requests));
	for (size_t i = 0; i < count; i++) {
		const dz_hsm_key_t *key = &t->keys[i % 2];
		snprintf(data[i], sizeof(data[i]), "request %u.%zu", seed, i);
		memcpy(requests[i].key_id, key->id, key->id_len);
		requests[i].key_id_len = key->id_len;
		requests[i].algorithm = key_algorithms[i % 2];
		requests[i].data = (const uint8_t *)data[i];
		requests[i].data_len = strlen(data[i]);
	}
}

static void
assert_all_verify(service_test_t *t, const dz_sign_request_t *requests, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		assert_int_equal(requests[i].result, DZ_OK);
		assert_true(fixture_verify(requests[i].algorithm, t->public_keys[i % 2],
					   t->public_key_lens[i % 2], requests[i].data,
					   requests[i].data_len, requests[i].signature,
					   requests[i].signature_len));
	}
}

typedef struct thread_job {
	service_test_t *test;
	dz_sign_service_t *service;
	unsigned seed;
	dz_sign_request_t requests[PER_THREAD];
	char data[PER_THREAD][48];
	dz_result_t result;
} thread_job_t;

static void *
sign_in_thread(void *arg)
{
	thread_job_t *job = arg;

	fill_requests(job->test, job->requests, job->data, PER_THREAD, job->seed);
	/* Several small batches, so the threads take turns on the sessions. */
	job->result = DZ_OK;
	for (size_t i = 0; i < PER_THREAD && job->result == DZ_OK; i += 8)
		job->result = dz_sign_service_sign(job->service, job->requests + i, 8, NULL);
	return NULL;
}

static void
local_service_serves_threads(void **state)
{
	service_test_t *t = *state;
	dz_sign_service_t *service = NULL;
	thread_job_t *jobs = calloc(THREADS, sizeof(*jobs));

	assert_int_equal(dz_sign_service_create_local(t->hsm, &service, NULL), DZ_OK);
	assert_int_equal(dz_sign_service_parallelism(service), THREADS);
	pthread_t threads[THREADS];
	for (unsigned i = 0; i < THREADS; i++) {
		jobs[i].test = t;
		jobs[i].service = service;
		jobs[i].seed = i;
		assert_int_equal(pthread_create(&threads[i], NULL, sign_in_thread, &jobs[i]), 0);
	}
	for (unsigned i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(threads[i], NULL), 0);
		assert_int_equal(jobs[i].result, DZ_OK);
		assert_all_verify(t, jobs[i].requests, PER_THREAD);
	}
	dz_sign_service_destroy(service);
	free(jobs);
}

static void
process_service_splits_batches(void **state)
{
	service_test_t *t = *state;
	dz_sign_service_t *service = NULL;
	dz_sign_request_t *requests = calloc(BATCH, sizeof(*requests));
	char (*data)[48] = calloc(BATCH, sizeof(*data));
	dz_error_t err;

	t->fixture->config.sessions = 1;
	dz_error_init(&err);
	if (dz_sign_service_create_processes(&t->fixture->config, 2, &service, &err) != DZ_OK)
		fail_msg("%s", err.message);
	assert_int_equal(dz_sign_service_parallelism(service), 2);
	fixture_capture_log();
	fill_requests(t, requests, data, BATCH, 7);
	assert_int_equal(dz_sign_service_sign(service, requests, BATCH, &err), DZ_OK);
	assert_all_verify(t, requests, BATCH);

	/* Threads share the processes; a bad request fails alone. */
	thread_job_t *jobs = calloc(2, sizeof(*jobs));
	pthread_t threads[2];
	for (unsigned i = 0; i < 2; i++) {
		jobs[i] = (thread_job_t){ .test = t, .service = service, .seed = 100 + i };
		assert_int_equal(pthread_create(&threads[i], NULL, sign_in_thread, &jobs[i]), 0);
	}
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(threads[i], NULL), 0);
		assert_int_equal(jobs[i].result, DZ_OK);
		assert_all_verify(t, jobs[i].requests, PER_THREAD);
	}
	fill_requests(t, requests, data, 10, 9);
	requests[5].key_id[0] ^= 0xff;
	assert_int_equal(dz_sign_service_sign(service, requests, 10, &err), DZ_EHSM_KEY);
	assert_non_null(strstr(err.message, "no private key with CKA_ID"));
	for (size_t i = 0; i < 10; i++)
		assert_int_equal(requests[i].result, i == 5 ? DZ_EHSM_KEY : DZ_OK);

	dz_sign_service_destroy(service);
	/* The signer processes ended cleanly, LeakSanitizer included. */
	assert_null(strstr(fixture_log, "exited with status"));
	assert_null(strstr(fixture_log, "ended by signal"));
	assert_null(strstr(fixture_log, "stopped answering"));
	free(jobs);
	free(data);
	free(requests);
}

static void
process_service_wrong_pin_fails_once(void **state)
{
	service_test_t *t = *state;
	dz_sign_service_t *service = NULL;
	dz_error_t err;

	fixture_write_file(t->fixture->pin_file, "000000\n", 0600);
	t->fixture->config.sessions = 1;
	dz_error_init(&err);
	assert_int_equal(dz_sign_service_create_processes(&t->fixture->config, 3, &service, &err),
			 DZ_EHSM_PIN);
	assert_null(service);
	/* The first process failed, so the other two never tried the PIN. */
	assert_non_null(strstr(err.message, "signer process 1: login to token"));
	assert_non_null(strstr(err.message, "wrong PIN"));
	assert_null(strstr(err.message, "000000"));
}

/* Pids of this process's children, from /proc; returns how many were found. */
static size_t
child_pids(pid_t *pids, size_t max)
{
	DIR *proc = opendir("/proc");
	struct dirent *entry;
	size_t count = 0;

	assert_non_null(proc);
	while ((entry = readdir(proc)) != NULL && count < max) {
		char path[300], text[512];
		long ppid = 0;
		snprintf(path, sizeof(path), "/proc/%s/stat", entry->d_name);
		FILE *f = fopen(path, "r");
		if (f == NULL)
			continue;
		size_t n = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
		text[n] = '\0';
		/* The field after the parenthesised command name is the state, then the ppid. */
		char *close = strrchr(text, ')');
		if (close != NULL && sscanf(close + 2, "%*c %ld", &ppid) == 1 && ppid == getpid())
			pids[count++] = (pid_t)atol(entry->d_name);
	}
	closedir(proc);
	return count;
}

/* Wait until the log contains `text`, for at most 30 s. */
static void
wait_for_log(const char *text)
{
	for (int i = 0; i < 3000 && strstr(fixture_log, text) == NULL; i++)
		usleep(10000);
	assert_non_null(strstr(fixture_log, text));
}

static void
dead_signer_process_is_bypassed(void **state)
{
	service_test_t *t = *state;
	dz_sign_service_t *service = NULL;
	dz_sign_request_t requests[20];
	char data[20][48];
	pid_t pids[4];
	dz_error_t err;

	t->fixture->config.sessions = 1;
	dz_error_init(&err);
	if (dz_sign_service_create_processes(&t->fixture->config, 2, &service, &err) != DZ_OK)
		fail_msg("%s", err.message);
	assert_int_equal(child_pids(pids, 4), 2);
	fixture_capture_log();

	/* One process dies: the other signs everything. */
	assert_int_equal(kill(pids[0], SIGKILL), 0);
	wait_for_log("stopped answering");
	fill_requests(t, requests, data, 20, 3);
	assert_int_equal(dz_sign_service_sign(service, requests, 20, &err), DZ_OK);
	assert_all_verify(t, requests, 20);

	/* Both dead: requests fail with a message, nothing hangs. */
	assert_int_equal(kill(pids[1], SIGKILL), 0);
	for (int i = 0; i < 3000 && strstr(strstr(fixture_log, "stopped answering") + 1,
					   "stopped answering") == NULL; i++)
		usleep(10000);
	fill_requests(t, requests, data, 20, 4);
	assert_int_equal(dz_sign_service_sign(service, requests, 20, &err), DZ_EHSM_SESSION);
	assert_non_null(strstr(err.message, "no signer process is running"));
	for (size_t i = 0; i < 20; i++)
		assert_int_equal(requests[i].result, DZ_EHSM_SESSION);
	dz_sign_service_destroy(service);
	assert_non_null(strstr(fixture_log, "ended by signal 9"));
}

/* The real user id of `pid`, from /proc/PID/status; -1 when unreadable. */
static long
process_uid(pid_t pid)
{
	char path[64], line[256];
	long uid = -1;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "Uid:", 4) == 0) {
			uid = strtol(line + 4, NULL, 10);
			break;
		}
	}
	fclose(f);
	return uid;
}

static void
signer_processes_drop_root_after_login(void **state)
{
	service_test_t *t = *state;
	dz_sign_service_t *service = NULL;
	dz_sign_request_t requests[20];
	char data[20][48];
	dz_privdrop_target_t nobody;
	pid_t pids[4];
	char command[320];
	dz_error_t err;

	if (geteuid() != 0)
		skip();
	dz_error_init(&err);
	assert_int_equal(dz_privdrop_resolve("nobody", NULL, &nobody, &err), DZ_OK);
	/* The token belongs to the signing user, as in an installation; the PIN stays root's. */
	snprintf(command, sizeof(command), "chown -R nobody:nogroup '%s' && chown root '%s'",
		 t->fixture->dir, t->fixture->pin_file);
	assert_int_equal(system(command), 0);
	t->fixture->config.sessions = 1;
	if (dz_sign_service_create_processes_as(&t->fixture->config, 2, &nobody, &service, &err) !=
	    DZ_OK)
		fail_msg("%s", err.message);
	assert_int_equal(child_pids(pids, 4), 2);
	assert_int_equal(process_uid(pids[0]), 65534);
	assert_int_equal(process_uid(pids[1]), 65534);

	fill_requests(t, requests, data, 20, 5);
	assert_int_equal(dz_sign_service_sign(service, requests, 20, &err), DZ_OK);
	assert_all_verify(t, requests, 20);
	dz_sign_service_destroy(service);
}

/* Serve one connection in a thread, as a signer process does. */
typedef struct serve_job {
	dz_hsm_t *hsm;
	int fd;
	dz_result_t result;
} serve_job_t;

static void *
serve_thread(void *arg)
{
	serve_job_t *job = arg;

	job->result = dz_hsm_msg_serve(job->hsm, job->fd, "signer process 1");
	close(job->fd);
	return NULL;
}

static void
malformed_request_ends_connection(void **state)
{
	service_test_t *t = *state;
	int sv[2];
	pthread_t thread;
	serve_job_t job;
	uint8_t garbage[DZ_HSM_MSG_HEADER_LEN] = { 'D', 'Z', 'S', '1', 2, 0, 0, 0,
						   0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 3 };
	uint8_t byte;

	/* A SIGN of one request whose 3-byte body cannot hold its 6-byte entry header. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	job = (serve_job_t){ .hsm = t->hsm, .fd = sv[1] };
	fixture_capture_log();
	assert_int_equal(pthread_create(&thread, NULL, serve_thread, &job), 0);
	assert_int_equal(write(sv[0], garbage, sizeof(garbage)), sizeof(garbage));
	assert_int_equal(write(sv[0], "abc", 3), 3);
	/* The signer closes the connection without a response. */
	assert_int_equal(read(sv[0], &byte, 1), 0);
	assert_int_equal(pthread_join(thread, NULL), 0);
	assert_int_equal(job.result, DZ_ESYNTAX);
	assert_non_null(strstr(fixture_log, "signer process 1: malformed request"));
	assert_non_null(strstr(fixture_log, "request 1 of 1 is truncated"));
	close(sv[0]);
}

static void
wrong_magic_ends_connection(void **state)
{
	service_test_t *t = *state;
	int sv[2];
	pthread_t thread;
	serve_job_t job;
	uint8_t header[DZ_HSM_MSG_HEADER_LEN] = { 'H', 'T', 'T', 'P' };
	uint8_t byte;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	job = (serve_job_t){ .hsm = t->hsm, .fd = sv[1] };
	fixture_capture_log();
	assert_int_equal(pthread_create(&thread, NULL, serve_thread, &job), 0);
	assert_int_equal(write(sv[0], header, sizeof(header)), sizeof(header));
	assert_int_equal(read(sv[0], &byte, 1), 0);
	assert_int_equal(pthread_join(thread, NULL), 0);
	assert_int_equal(job.result, DZ_ESYNTAX);
	assert_non_null(strstr(fixture_log, "bad magic 48545450"));
	close(sv[0]);
}

static void
process_service_manages_keys(void **state)
{
	service_test_t *t = *state;
	dz_sign_service_t *service = NULL;
	dz_sign_request_t requests[20];
	char data[20][48];
	dz_sign_token_t token;
	dz_sign_key_t key;
	dz_hsm_key_t found;
	dz_error_t err;

	dz_error_init(&err);
	if (dz_sign_service_create_processes(&t->fixture->config, 2, &service, &err) != DZ_OK)
		fail_msg("%s", err.message);

	/* The first signer process describes the module and token. */
	assert_int_equal(dz_sign_service_describe(service, &token, &err), DZ_OK);
	assert_string_equal(token.label, FIXTURE_LABEL);
	assert_string_equal(token.serial, dz_hsm_token(t->hsm)->serial);
	assert_non_null(strstr(token.module, "SoftHSM"));

	dz_sign_keygen_t keygen = { .zone = "example.com.", .role = DZ_ROLE_ZSK,
				    .algorithm = DZ_ALG_ECDSAP256SHA256, .label = "new ZSK" };
	assert_int_equal(dz_sign_service_generate_key(service, &keygen, &key, &err), DZ_OK);
	assert_int_equal(key.key_id_len, DZ_HSM_NEW_KEY_ID_LEN);
	assert_int_equal(key.public_key_len, 64); /* RFC 6605: x and y of 32 bytes each */
	assert_int_equal(key.bits, 256);

	/* Both processes sign with the new key at once: the batch is split over them. */
	memset(requests, 0, sizeof(requests));
	for (size_t i = 0; i < 20; i++) {
		snprintf(data[i], sizeof(data[i]), "new key %zu", i);
		memcpy(requests[i].key_id, key.key_id, key.key_id_len);
		requests[i].key_id_len = key.key_id_len;
		requests[i].algorithm = DZ_ALG_ECDSAP256SHA256;
		requests[i].data = (const uint8_t *)data[i];
		requests[i].data_len = strlen(data[i]);
	}
	assert_int_equal(dz_sign_service_sign(service, requests, 20, &err), DZ_OK);
	for (size_t i = 0; i < 20; i++)
		assert_true(fixture_verify(DZ_ALG_ECDSAP256SHA256, key.public_key, key.public_key_len,
					   requests[i].data, requests[i].data_len,
					   requests[i].signature, requests[i].signature_len));

	/* The label reaches the token, as the test's own login sees it. */
	assert_int_equal(dz_sign_service_label_key(service, key.key_id, key.key_id_len,
						   "example.com. ZSK 12345", &err), DZ_OK);
	assert_int_equal(dz_hsm_refresh_keys(t->hsm, &err), DZ_OK);
	assert_int_equal(dz_hsm_find_key(t->hsm, key.key_id, key.key_id_len, &found, &err), DZ_OK);
	assert_string_equal(found.label, "example.com. ZSK 12345");

	assert_int_equal(dz_sign_service_check_key(service, key.key_id, key.key_id_len, &err),
			 DZ_OK);
	assert_int_equal(dz_sign_service_delete_key(service, key.key_id, key.key_id_len, &err),
			 DZ_OK);
	dz_error_init(&err);
	assert_int_equal(dz_sign_service_check_key(service, key.key_id, key.key_id_len, &err),
			 DZ_EHSM_KEY);
	assert_non_null(strstr(err.message, dz_hsm_id_hex(key.key_id, key.key_id_len,
							 (char[2 * DZ_KEY_ID_MAX + 1]){ 0 })));

	/* A failure in the signer process comes back with its code and message. */
	keygen.algorithm = DZ_ALG_RSASHA256;
	keygen.bits = 1024;
	dz_error_init(&err);
	assert_int_equal(dz_sign_service_generate_key(service, &keygen, &key, &err), DZ_ERANGE);
	assert_non_null(strstr(err.message, "RSA keys of 1024 bits are not supported"));
	dz_sign_service_destroy(service);
}

static void
malformed_key_request_ends_connection(void **state)
{
	service_test_t *t = *state;
	int sv[2];
	pthread_t thread;
	serve_job_t job;
	dz_buf_t buf;
	uint8_t byte;

	/* A GENERATE with role 0, which is neither KSK, ZSK nor CSK. */
	dz_hsm_key_request_t request = { .type = DZ_HSM_MSG_GENERATE, .role = DZ_ROLE_ZSK,
					 .algorithm = DZ_ALG_ECDSAP256SHA256 };
	strcpy(request.zone, "example.com.");
	strcpy(request.label, "label");
	dz_buf_init(&buf);
	assert_int_equal(dz_hsm_msg_key_request_encode(&buf, 1, &request), DZ_OK);
	buf.data[DZ_HSM_MSG_HEADER_LEN] = 0;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	job = (serve_job_t){ .hsm = t->hsm, .fd = sv[1] };
	fixture_capture_log();
	assert_int_equal(pthread_create(&thread, NULL, serve_thread, &job), 0);
	assert_int_equal(write(sv[0], buf.data, buf.len), (ssize_t)buf.len);
	/* The signer closes the connection without a response. */
	assert_int_equal(read(sv[0], &byte, 1), 0);
	assert_int_equal(pthread_join(thread, NULL), 0);
	assert_int_equal(job.result, DZ_ESYNTAX);
	assert_non_null(strstr(fixture_log, "signer process 1: malformed request"));
	assert_non_null(strstr(fixture_log, "GENERATE role 0 is not 1, 2 or 3"));
	close(sv[0]);
	dz_buf_clear(&buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(local_service_serves_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(process_service_splits_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(process_service_wrong_pin_fails_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(dead_signer_process_is_bypassed, setup, teardown),
		cmocka_unit_test_setup_teardown(malformed_request_ends_connection, setup, teardown),
		cmocka_unit_test_setup_teardown(signer_processes_drop_root_after_login, setup,
						teardown),
		cmocka_unit_test_setup_teardown(wrong_magic_ends_connection, setup, teardown),
		cmocka_unit_test_setup_teardown(process_service_manages_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(malformed_key_request_ends_connection, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("hsm/sign_service", tests, NULL, NULL);
}
