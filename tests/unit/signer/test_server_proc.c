/*
 * The DNS server process: its configuration encoding round-trips and
 * rejects every malformed body, and the process runs as the given user,
 * is restarted after it dies and rejects bad options.  The tests that
 * fork a child as another user need root and are skipped otherwise.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "signer/server_proc.h"

#define NOBODY_ID 65534
/* 32 octets of 0x01 in base64. */
#define SECRET "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="

/* A configuration that uses every field: two listeners, two keys, two zones. */
static void
fill_config(dz_server_config_t *config, const char *folder)
{
	dz_server_zone_config_t *zone = NULL;

	dz_server_config_init(config);
	config->tcp_clients_max = 7;
	config->tcp_idle_ms = 1234;
	config->notify_retry_ms = 50;
	config->notify_retry_max_ms = 800;
	assert_int_equal(dz_server_config_add_listen(config, "127.0.0.1@0", NULL), DZ_OK);
	assert_int_equal(dz_server_config_add_listen(config, "[::1]:5300", NULL), DZ_OK);
	assert_int_equal(dz_server_config_add_key(config, "hmac-sha256:xfr.example.:" SECRET, NULL),
			 DZ_OK);
	assert_int_equal(dz_server_config_add_key(config, "hmac-sha512:notify:" SECRET, NULL), DZ_OK);
	assert_int_equal(dz_server_config_add_zone(config, "example.com", folder, &zone, NULL), DZ_OK);
	assert_int_equal(dz_acl_add(&zone->transfer_acl, "127.0.0.1 key xfr.example.", NULL), DZ_OK);
	assert_int_equal(dz_acl_add(&zone->transfer_acl, "!10.0.0.0/8", NULL), DZ_OK);
	assert_int_equal(dz_acl_add(&zone->query_acl, "::1/128", NULL), DZ_OK);
	assert_int_equal(dz_server_zone_add_secondary(zone, "192.0.2.53@5353 key notify", NULL),
			 DZ_OK);
	assert_int_equal(dz_server_zone_add_secondary(zone, "2001:db8::53", NULL), DZ_OK);
	assert_int_equal(dz_server_config_add_zone(config, "example.net", folder, &zone, NULL), DZ_OK);
}

static void
assert_acl_equal(const dz_acl_t *a, const dz_acl_t *b)
{
	assert_int_equal(a->count, b->count);
	for (size_t i = 0; i < a->count; i++) {
		assert_int_equal(a->rules[i].deny, b->rules[i].deny);
		assert_int_equal(a->rules[i].family, b->rules[i].family);
		assert_memory_equal(a->rules[i].address, b->rules[i].address, 16);
		assert_int_equal(a->rules[i].prefix_len, b->rules[i].prefix_len);
		assert_int_equal(a->rules[i].has_key, b->rules[i].has_key);
		assert_int_equal(a->rules[i].key_name_len, b->rules[i].key_name_len);
		assert_memory_equal(a->rules[i].key_name, b->rules[i].key_name,
				    a->rules[i].key_name_len);
	}
}

static void
config_round_trip(void **state)
{
	dz_server_config_t config, decoded;
	dz_buf_t body;
	dz_error_t err;

	(void)state;
	fill_config(&config, "/var/lib/danezone/signed");
	dz_buf_init(&body);
	dz_error_init(&err);
	assert_int_equal(dz_server_proc_config_encode(&config, &body), DZ_OK);
	dz_server_config_init(&decoded);
	if (dz_server_proc_config_decode(body.data, body.len, &decoded, &err) != DZ_OK)
		fail_msg("decode failed: %s", dz_error_message(&err));

	assert_int_equal(decoded.tcp_clients_max, 7);
	assert_int_equal(decoded.tcp_idle_ms, 1234);
	assert_int_equal(decoded.notify_retry_ms, 50);
	assert_int_equal(decoded.notify_retry_max_ms, 800);
	assert_int_equal(decoded.listen_count, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(decoded.listen[i].address_len, config.listen[i].address_len);
		assert_memory_equal(&decoded.listen[i].address, &config.listen[i].address,
				    config.listen[i].address_len);
	}
	assert_int_equal(decoded.key_count, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(decoded.keys[i].name_len, config.keys[i].name_len);
		assert_memory_equal(decoded.keys[i].name, config.keys[i].name, config.keys[i].name_len);
		assert_string_equal(decoded.keys[i].name_text, config.keys[i].name_text);
		assert_int_equal(decoded.keys[i].algorithm, config.keys[i].algorithm);
		assert_int_equal(decoded.keys[i].secret_len, 32);
		assert_memory_equal(decoded.keys[i].secret, config.keys[i].secret, 32);
	}
	assert_int_equal(decoded.zone_count, 2);
	for (size_t i = 0; i < 2; i++) {
		const dz_server_zone_config_t *a = &config.zones[i];
		const dz_server_zone_config_t *b = &decoded.zones[i];
		assert_string_equal(b->name, a->name);
		assert_string_equal(b->folder, a->folder);
		assert_acl_equal(&a->transfer_acl, &b->transfer_acl);
		assert_acl_equal(&a->query_acl, &b->query_acl);
		assert_acl_equal(&a->notify_acl, &b->notify_acl);
		assert_int_equal(b->secondary_count, a->secondary_count);
		for (size_t j = 0; j < a->secondary_count; j++) {
			assert_memory_equal(&b->secondaries[j].address, &a->secondaries[j].address,
					    sizeof(a->secondaries[j].address));
			if (a->secondaries[j].key_name == NULL)
				assert_null(b->secondaries[j].key_name);
			else
				assert_string_equal(b->secondaries[j].key_name,
						    a->secondaries[j].key_name);
		}
	}
	dz_server_config_clear(&decoded);
	dz_server_config_clear(&config);
	dz_buf_clear(&body);
}

/* Decode `len` bytes of `data`, expecting DZ_ESYNTAX with `expected` in the message. */
static void
assert_rejected(const uint8_t *data, size_t len, const char *expected)
{
	dz_server_config_t decoded;
	dz_error_t err;

	dz_server_config_init(&decoded);
	dz_error_init(&err);
	assert_int_equal(dz_server_proc_config_decode(data, len, &decoded, &err), DZ_ESYNTAX);
	if (expected != NULL && strstr(dz_error_message(&err), expected) == NULL)
		fail_msg("expected '%s' in '%s'", expected, dz_error_message(&err));
	assert_int_equal(decoded.zone_count, 0);
	assert_null(decoded.zones);
}

static void
config_truncated_or_longer_rejected(void **state)
{
	dz_server_config_t config;
	dz_buf_t body;

	(void)state;
	fill_config(&config, "/srv/zones");
	dz_buf_init(&body);
	assert_int_equal(dz_server_proc_config_encode(&config, &body), DZ_OK);
	for (size_t len = 0; len < body.len; len++)
		assert_rejected(body.data, len, NULL);
	assert_int_equal(dz_buf_append_u8(&body, 0), DZ_OK);
	assert_rejected(body.data, body.len, "1 bytes after its end");
	dz_server_config_clear(&config);
	dz_buf_clear(&body);
}

/* Offsets in the encoding of a configuration with one IPv4 listener and nothing else. */
#define OFFSET_FAMILY 20
#define OFFSET_KEY_COUNT 27
#define OFFSET_ZONE_COUNT 31

static void
config_bad_values_rejected(void **state)
{
	dz_server_config_t config;
	dz_buf_t body;

	(void)state;
	dz_server_config_init(&config);
	assert_int_equal(dz_server_config_add_listen(&config, "127.0.0.1@53", NULL), DZ_OK);
	dz_buf_init(&body);
	assert_int_equal(dz_server_proc_config_encode(&config, &body), DZ_OK);
	assert_int_equal(body.len, OFFSET_ZONE_COUNT + 4);
	assert_int_equal(body.data[OFFSET_FAMILY], 4);

	body.data[OFFSET_FAMILY] = 5;
	assert_rejected(body.data, body.len, "address family 5");
	body.data[OFFSET_FAMILY] = 4;

	/* A zone count of 2^32 - 1 in a body with no room for one zone. */
	memset(body.data + OFFSET_ZONE_COUNT, 0xff, 4);
	assert_rejected(body.data, body.len, "more than the maximum");
	memset(body.data + OFFSET_ZONE_COUNT, 0, 4);
	body.data[OFFSET_ZONE_COUNT + 3] = 1;
	assert_rejected(body.data, body.len, "more than the 0 bytes left");
	body.data[OFFSET_ZONE_COUNT + 3] = 0;

	/* One key with an unknown algorithm: name "\0" would be the root, then text "k". */
	dz_buf_t key;
	dz_buf_init(&key);
	dz_buf_append(&key, body.data, OFFSET_KEY_COUNT);
	dz_buf_append_u32(&key, 1);
	dz_buf_append_u8(&key, 1);
	dz_buf_append_u8(&key, 0);
	dz_buf_append_u16(&key, 1);
	dz_buf_append_u8(&key, 'k');
	size_t algorithm_offset = key.len;
	dz_buf_append_u8(&key, 9);
	dz_buf_append_u16(&key, 1);
	dz_buf_append_u8(&key, 0x42);
	dz_buf_append_u32(&key, 0);
	assert_rejected(key.data, key.len, "unknown algorithm 9");
	key.data[algorithm_offset] = DZ_TSIG_HMAC_SHA256;
	dz_server_config_t decoded;
	dz_server_config_init(&decoded);
	assert_int_equal(dz_server_proc_config_decode(key.data, key.len, &decoded, NULL), DZ_OK);
	assert_int_equal(decoded.key_count, 1);
	dz_server_config_clear(&decoded);
	/* A NUL byte inside the key's name text. */
	key.data[algorithm_offset - 1] = '\0';
	assert_rejected(key.data, key.len, "NUL byte");

	dz_buf_clear(&key);
	dz_server_config_clear(&config);
	dz_buf_clear(&body);
}

/* ---- the process ---- */

typedef struct fixture {
	char folder[64];
	struct event_base *base;
	dz_server_config_t config;
} fixture_t;

static int
setup(void **state)
{
	fixture_t *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->folder, sizeof(f->folder), "/tmp/dz-server-proc-XXXXXX");
	assert_non_null(mkdtemp(f->folder));
	assert_int_equal(chmod(f->folder, 0755), 0);
	f->base = event_base_new();
	assert_non_null(f->base);
	dz_server_config_init(&f->config);
	assert_int_equal(dz_server_config_add_listen(&f->config, "127.0.0.1@0", NULL), DZ_OK);
	dz_server_zone_config_t *zone = NULL;
	assert_int_equal(dz_server_config_add_zone(&f->config, "example.com", f->folder, &zone,
						   NULL),
			 DZ_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fixture_t *f = *state;

	dz_server_config_clear(&f->config);
	event_base_free(f->base);
	rmdir(f->folder);
	free(f);
	return 0;
}

/* The real user id of `pid`, from the Uid line of /proc/PID/status; -1 when unreadable. */
static long
process_uid(pid_t pid)
{
	char path[64];
	char line[256];
	long uid = -1;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	FILE *fp = fopen(path, "r");
	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, "Uid:", 4) == 0) {
			uid = strtol(line + 4, NULL, 10);
			break;
		}
	}
	fclose(fp);
	return uid;
}

static void
stop_loop(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

/*
 * Run the loop until a child other than `old` runs as nobody, at most
 * 10 s.  A child is forked as root and drops privileges right after.
 */
static pid_t
await_new_child(struct event_base *base, dz_server_proc_t *proc, pid_t old)
{
	struct timeval tick = { 0, 20000 };

	for (int i = 0; i < 500; i++) {
		pid_t pid = dz_server_proc_pid(proc);
		if (pid != 0 && pid != old && process_uid(pid) == NOBODY_ID)
			return pid;
		event_base_once(base, -1, EV_TIMEOUT, stop_loop, base, &tick);
		event_base_dispatch(base);
	}
	return 0;
}

static void
process_runs_as_user_and_restarts(void **state)
{
	fixture_t *f = *state;
	dz_server_proc_options_t options = { .user = "nobody" };
	dz_server_proc_t *proc = NULL;
	dz_error_t err;

	if (geteuid() != 0)
		skip();
	dz_error_init(&err);
	if (dz_server_proc_start(f->base, &f->config, &options, &proc, &err) != DZ_OK)
		fail_msg("start failed: %s", dz_error_message(&err));
	pid_t first = dz_server_proc_pid(proc);
	assert_true(first > 0);
	assert_int_equal(process_uid(first), NOBODY_ID);
	assert_true(dz_server_proc_port(proc, AF_INET) > 0);
	assert_int_equal(dz_server_proc_port(proc, AF_INET6), 0);
	assert_int_equal(dz_server_proc_published(proc, "example.com", &err), DZ_OK);
	assert_int_equal(dz_server_proc_published(proc, "bad name", &err), DZ_EINVAL);

	assert_int_equal(kill(first, SIGKILL), 0);
	pid_t second = await_new_child(f->base, proc, first);
	assert_true(second > 0);
	assert_int_equal(process_uid(second), NOBODY_ID);

	/* A changed listen address is not applied: the port stays the one bound at start. */
	int port = dz_server_proc_port(proc, AF_INET);
	dz_server_config_t changed;
	fill_config(&changed, f->folder);
	assert_int_equal(dz_server_proc_reconfigure(proc, &changed, &err), DZ_OK);
	dz_server_config_clear(&changed);
	assert_int_equal(dz_server_proc_port(proc, AF_INET), port);
	assert_int_equal(dz_server_proc_port(proc, AF_INET6), 0);
	assert_int_equal(dz_server_proc_reconfigure(proc, &f->config, &err), DZ_OK);
	/* The child applied both and still runs. */
	struct timeval settle = { 0, 200000 };
	event_base_once(f->base, -1, EV_TIMEOUT, stop_loop, f->base, &settle);
	event_base_dispatch(f->base);
	assert_int_equal(dz_server_proc_pid(proc), second);

	dz_server_proc_stop(proc);
	assert_int_equal(kill(second, 0), -1);
}

/* A child that takes no message (stopped here) is killed after 5 s and replaced. */
static void
stuck_process_is_replaced(void **state)
{
	fixture_t *f = *state;
	dz_server_proc_options_t options = { .user = "nobody" };
	dz_server_proc_t *proc = NULL;
	dz_result_t result = DZ_OK;
	dz_error_t err;

	if (geteuid() != 0)
		skip();
	dz_error_init(&err);
	if (dz_server_proc_start(f->base, &f->config, &options, &proc, &err) != DZ_OK)
		fail_msg("start failed: %s", dz_error_message(&err));
	pid_t stuck = dz_server_proc_pid(proc);
	assert_int_equal(kill(stuck, SIGSTOP), 0);
	/* Each message is 19 bytes: the socket buffers fill after some thousands. */
	for (int i = 0; i < 1000000 && result == DZ_OK; i++)
		result = dz_server_proc_published(proc, "example.com", &err);
	assert_int_equal(result, DZ_ETIMEOUT);
	assert_non_null(strstr(dz_error_message(&err), "took no message for 5 s"));

	pid_t replaced = await_new_child(f->base, proc, stuck);
	assert_true(replaced > 0);
	assert_int_equal(dz_server_proc_published(proc, "example.com", &err), DZ_OK);
	dz_server_proc_stop(proc);
}

static void
process_options_rejected(void **state)
{
	fixture_t *f = *state;
	dz_server_proc_t *proc = NULL;
	dz_error_t err;

	dz_error_init(&err);
	dz_server_proc_options_t no_user = { .chroot = "/var/empty" };
	assert_int_equal(dz_server_proc_start(f->base, &f->config, &no_user, &proc, &err),
			 DZ_ECONFIG);
	assert_non_null(strstr(dz_error_message(&err), "set server.dns-user"));

	dz_server_proc_options_t outside = { .user = "nobody", .chroot = "/var/empty" };
	assert_int_equal(dz_server_proc_start(f->base, &f->config, &outside, &proc, &err),
			 DZ_ECONFIG);
	assert_non_null(strstr(dz_error_message(&err), "is outside server.chroot /var/empty"));

	dz_server_proc_options_t unknown = { .user = "dz-no-such-user" };
	assert_int_equal(dz_server_proc_start(f->base, &f->config, &unknown, &proc, &err),
			 DZ_ENOTFOUND);

	if (geteuid() == 0) {
		dz_server_proc_options_t root = { 0 };
		assert_int_equal(dz_server_proc_start(f->base, &f->config, &root, &proc, &err),
				 DZ_EPERM);
		assert_non_null(strstr(dz_error_message(&err), "server.dns-user"));
	}
	assert_null(proc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(config_round_trip),
		cmocka_unit_test(config_truncated_or_longer_rejected),
		cmocka_unit_test(config_bad_values_rejected),
		cmocka_unit_test_setup_teardown(process_runs_as_user_and_restarts, setup, teardown),
		cmocka_unit_test_setup_teardown(stuck_process_is_replaced, setup, teardown),
		cmocka_unit_test_setup_teardown(process_options_rejected, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
