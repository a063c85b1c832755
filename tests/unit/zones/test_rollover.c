#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "zones/rollover.h"

#define T0 1700000000
#define HOST "mx.example.net"
#define TTL 3600
#define NEGATIVE_TTL 300

/* Log lines captured for assertions. */
static char captured[64][1024];
static size_t captured_count;

static void
capture(dz_log_level_t level, const char *line, void *ctx)
{
	(void)ctx;
	if (captured_count < 64)
		snprintf(captured[captured_count++], sizeof(captured[0]), "%s: %s",
			 dz_log_level_name(level), line);
}

static size_t
count_logged(const char *needle)
{
	size_t n = 0;
	for (size_t i = 0; i < captured_count; i++) {
		if (strstr(captured[i], needle) != NULL)
			n++;
	}
	return n;
}

/* A synthetic key: id and digest made from one letter, one "3 1 1" RDATA. */
typedef struct test_key {
	dz_rollover_key_t key;
	dz_buf_t rdata;
} test_key_t;

static void
make_key(test_key_t *k, char letter, bool live, const char *file)
{
	memset(k, 0, sizeof(*k));
	memset(k->key.id, letter, sizeof(k->key.id));
	memset(k->key.spki_sha256, letter, 64);
	k->key.spki_sha256[64] = '\0';
	k->key.role = DZ_TLSA_ROLE_EE;
	k->key.live = live;
	k->key.file = file;
	k->key.key_type = "EC-P-256";
	dz_buf_init(&k->rdata);
	dz_buf_append_u8(&k->rdata, 3);
	dz_buf_append_u8(&k->rdata, 1);
	dz_buf_append_u8(&k->rdata, 1);
	for (int i = 0; i < 32; i++)
		dz_buf_append_u8(&k->rdata, (uint8_t)letter);
	k->key.rdata = &k->rdata;
	k->key.rdata_count = 1;
}

static dz_result_t
observe(dz_rollover_t *rollover, dz_time_t now, test_key_t *keys, size_t count)
{
	dz_rollover_key_t list[8];
	for (size_t i = 0; i < count; i++)
		list[i] = keys[i].key;
	dz_rollover_host_input_t input = {
		.host = HOST, .ttl = TTL, .keys = list, .key_count = count,
	};
	return dz_rollover_update_host(rollover, &input, now);
}

static dz_rollover_entry_t *
entry_of(dz_rollover_t *rollover, char letter)
{
	for (size_t i = 0; i < rollover->count; i++) {
		if (rollover->entries[i]->id[0] == (uint8_t)letter)
			return rollover->entries[i];
	}
	return NULL;
}

static size_t announced_count;
static char announced_id;

static void
on_ready(const dz_rollover_entry_t *entry, void *ctx)
{
	(void)ctx;
	announced_count++;
	announced_id = (char)entry->id[0];
}

static int
setup(void **state)
{
	(void)state;
	captured_count = 0;
	announced_count = 0;
	dz_log_set_sink(capture, NULL);
	dz_log_set_level(DZ_LOG_DEBUG);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	dz_log_set_sink(NULL, NULL);
	return 0;
}

static void
clear_keys(test_key_t *keys, size_t count)
{
	for (size_t i = 0; i < count; i++)
		dz_buf_clear(&keys[i].rdata);
}

/* The current key A is published and has reached the one secondary. */
static dz_rollover_t *
steady_state_with_a(test_key_t *a)
{
	dz_rollover_t *rollover = dz_rollover_create("example.net");
	assert_non_null(rollover);
	make_key(a, 'A', true, "/live.pem");
	assert_int_equal(observe(rollover, T0, a, 1), DZ_OK);
	dz_rollover_note_published(rollover, 1, NEGATIVE_TTL, 1, T0 + 10);
	uint32_t serial = 1;
	dz_rollover_note_secondaries(rollover, &serial, 1, T0 + 20);
	assert_int_equal(entry_of(rollover, 'A')->propagated, T0 + 20);
	return rollover;
}

static void
next_key_ready_after_propagation(void **state)
{
	test_key_t keys[2];
	dz_rollover_t *rollover = steady_state_with_a(&keys[0]);
	dz_time_t t1 = T0 + 86400;

	(void)state;
	make_key(&keys[1], 'B', false, "/next.key");
	assert_int_equal(observe(rollover, t1, keys, 2), DZ_OK);
	dz_rollover_entry_t *b = entry_of(rollover, 'B');
	assert_non_null(b);
	assert_true(b->next);
	assert_false(b->live);
	assert_false(b->new_owner);
	assert_int_equal(b->previous_ttl, TTL);
	/* Published at once: the records of A and B are both in the set. */
	dz_records_t records;
	dz_config_zone_t zone;
	dz_config_mail_host_t host;
	uint16_t port = 25;
	dz_tlsa_params_t params = { 3, 1, 1 };
	memset(&zone, 0, sizeof(zone));
	memset(&host, 0, sizeof(host));
	host.name = (char *)HOST;
	host.ports = &port;
	host.port_count = 1;
	host.tlsa = &params;
	host.tlsa_count = 1;
	host.ttl = TTL;
	zone.mail.hosts = &host;
	zone.mail.host_count = 1;
	dz_records_init(&records);
	assert_int_equal(dz_rollover_records(rollover, &zone, &records), DZ_OK);
	assert_int_equal(records.count, 2);
	assert_string_equal(records.items[0].owner, "_25._tcp.mx.example.net.");
	dz_records_clear(&records);

	/* Not ready before the signer publishes it. */
	assert_int_equal(dz_rollover_ready_at(b), DZ_TIME_NEVER);
	dz_rollover_announce_ready(rollover, t1 + 30 * 86400, on_ready, NULL);
	assert_int_equal(announced_count, 0);

	/* Published in serial 2; the secondary still serves serial 1. */
	dz_rollover_note_published(rollover, 2, NEGATIVE_TTL, 1, t1 + 60);
	assert_true(dz_rollover_awaits_secondaries(rollover));
	uint32_t serial = 1;
	dz_rollover_note_secondaries(rollover, &serial, 1, t1 + 120);
	assert_int_equal(b->propagated, 0);
	dz_rollover_announce_ready(rollover, t1 + 30 * 86400, on_ready, NULL);
	assert_int_equal(announced_count, 0);

	/* The secondary reaches serial 2: ready two TTLs later, not a second earlier. */
	serial = 2;
	dz_rollover_note_secondaries(rollover, &serial, 1, t1 + 180);
	assert_int_equal(b->propagated, t1 + 180);
	assert_false(dz_rollover_awaits_secondaries(rollover));
	assert_int_equal(dz_rollover_ready_at(b), t1 + 180 + 2 * TTL);
	assert_int_equal(dz_rollover_next_event(rollover, t1 + 180), t1 + 180 + 2 * TTL);
	dz_rollover_announce_ready(rollover, t1 + 180 + 2 * TTL - 1, on_ready, NULL);
	assert_int_equal(announced_count, 0);
	dz_rollover_announce_ready(rollover, t1 + 180 + 2 * TTL, on_ready, NULL);
	assert_int_equal(announced_count, 1);
	assert_int_equal(announced_id, 'B');
	dz_rollover_announce_ready(rollover, t1 + 180 + 3 * TTL, on_ready, NULL);
	assert_int_equal(announced_count, 1);

	/* Deploying B once ready logs no error and retires A at once. */
	captured_count = 0;
	keys[1].key.live = true;
	assert_int_equal(observe(rollover, t1 + 180 + 2 * TTL + 5, &keys[1], 1), DZ_OK);
	assert_int_equal(count_logged("error:"), 0);
	assert_int_equal(count_logged("retiring the TLSA records of EC-P-256 server-key"), 1);
	assert_null(entry_of(rollover, 'A'));
	assert_true(entry_of(rollover, 'B')->live);
	assert_int_equal(rollover->count, 1);

	clear_keys(keys, 2);
	dz_rollover_destroy(rollover);
}

static void
premature_switch_logs_error(void **state)
{
	test_key_t keys[3];
	dz_rollover_t *rollover = steady_state_with_a(&keys[0]);
	dz_time_t t1 = T0 + 86400;

	(void)state;
	/* B is staged and published, but the clock stops one second before ready. */
	make_key(&keys[1], 'B', false, "/next.key");
	assert_int_equal(observe(rollover, t1, keys, 2), DZ_OK);
	dz_rollover_note_published(rollover, 2, NEGATIVE_TTL, 1, t1);
	uint32_t serial = 2;
	dz_rollover_note_secondaries(rollover, &serial, 1, t1);
	captured_count = 0;
	keys[1].key.live = true;
	assert_int_equal(observe(rollover, t1 + 2 * TTL - 1, &keys[1], 1), DZ_OK);
	assert_int_equal(count_logged("error: zone example.net: DANE, host mx.example.net: /next.key "
				      "now serves EC-P-256 server-key"), 1);
	assert_int_equal(count_logged("1 seconds before its TLSA records are ready"), 1);
	assert_int_equal(count_logged("DANE senders may fail"), 1);
	assert_true(entry_of(rollover, 'B')->live);

	/* A key that was never staged is published at once, with an error. */
	captured_count = 0;
	make_key(&keys[2], 'C', true, "/live.pem");
	assert_int_equal(observe(rollover, t1 + 3 * TTL, &keys[2], 1), DZ_OK);
	assert_int_equal(count_logged("which was not published before; DANE senders may fail"), 1);
	assert_non_null(entry_of(rollover, 'C'));
	assert_null(entry_of(rollover, 'B'));

	clear_keys(keys, 3);
	dz_rollover_destroy(rollover);
}

/* Two files of a new host that serve one key (a shared issuer) are no switch. */
static void
shared_key_of_new_host_no_warning(void **state)
{
	test_key_t keys[2];
	dz_rollover_t *rollover = dz_rollover_create("example.net");

	(void)state;
	assert_non_null(rollover);
	make_key(&keys[0], 'A', true, "/ecdsa.pem");
	make_key(&keys[1], 'A', true, "/rsa.pem");
	assert_int_equal(observe(rollover, T0, keys, 2), DZ_OK);
	assert_int_equal(count_logged("DANE senders may fail"), 0);
	assert_int_equal(count_logged("publishing TLSA records for EC-P-256 server-key"), 1);
	assert_true(entry_of(rollover, 'A')->live);
	assert_int_equal(rollover->count, 1);

	clear_keys(keys, 2);
	dz_rollover_destroy(rollover);
}

/* A new server key while a ready issuer record still matches is a warning. */
static void
new_key_with_ready_issuer_warns(void **state)
{
	test_key_t keys[3];
	dz_rollover_t *rollover = dz_rollover_create("example.net");
	uint32_t serial = 1;

	(void)state;
	assert_non_null(rollover);
	make_key(&keys[0], 'A', true, "/live.pem");
	make_key(&keys[1], 'T', true, "/live.pem");
	keys[1].key.role = DZ_TLSA_ROLE_TA;
	assert_int_equal(observe(rollover, T0, keys, 2), DZ_OK);
	dz_rollover_note_published(rollover, 1, NEGATIVE_TTL, 1, T0 + 10);
	dz_rollover_note_secondaries(rollover, &serial, 1, T0 + 20);

	captured_count = 0;
	make_key(&keys[2], 'C', true, "/live.pem");
	dz_buf_clear(&keys[0].rdata);
	keys[0].key = keys[2].key;
	assert_int_equal(observe(rollover, T0 + 86400, keys, 2), DZ_OK);
	assert_int_equal(count_logged("which was not published before"), 1);
	assert_int_equal(count_logged("warning: zone example.net: DANE, host mx.example.net"), 1);
	assert_int_equal(count_logged("error:"), 0);

	dz_buf_clear(&keys[1].rdata);
	dz_buf_clear(&keys[2].rdata);
	dz_rollover_destroy(rollover);
}

static void
new_owner_waits_negative_ttl(void **state)
{
	test_key_t keys[2];
	dz_rollover_t *rollover = dz_rollover_create("example.net");

	(void)state;
	/* The host's first records: current and next at once, no RRset cached before. */
	make_key(&keys[0], 'A', true, "/live.pem");
	make_key(&keys[1], 'B', false, "/next.key");
	assert_int_equal(observe(rollover, T0, keys, 2), DZ_OK);
	assert_int_equal(count_logged("error:"), 0);
	dz_rollover_entry_t *b = entry_of(rollover, 'B');
	assert_true(b->new_owner);
	/* Without secondaries the published version is propagated at once. */
	dz_rollover_note_published(rollover, 7, NEGATIVE_TTL, 0, T0 + 5);
	assert_int_equal(b->propagated, T0 + 5);
	assert_int_equal(b->wait_ttl, NEGATIVE_TTL);
	assert_int_equal(dz_rollover_ready_at(b), T0 + 5 + 2 * NEGATIVE_TTL);

	clear_keys(keys, 2);
	dz_rollover_destroy(rollover);
}

static void
unreadable_file_keeps_entry(void **state)
{
	test_key_t keys[1];
	dz_rollover_t *rollover = steady_state_with_a(&keys[0]);
	const char *failed[] = { "/live.pem" };

	(void)state;
	dz_rollover_host_input_t input = {
		.host = HOST, .ttl = TTL, .keys = NULL, .key_count = 0,
		.failed_files = failed, .failed_count = 1,
	};
	assert_int_equal(dz_rollover_update_host(rollover, &input, T0 + 100), DZ_OK);
	assert_non_null(entry_of(rollover, 'A'));
	/* Once the file yields nothing (deleted), the entry is retired. */
	input.failed_count = 0;
	assert_int_equal(dz_rollover_update_host(rollover, &input, T0 + 200), DZ_OK);
	assert_null(entry_of(rollover, 'A'));

	clear_keys(keys, 1);
	dz_rollover_destroy(rollover);
}

static void
state_file_round_trip(void **state)
{
	test_key_t keys[2];
	dz_rollover_t *rollover = steady_state_with_a(&keys[0]);
	dz_rollover_t *loaded = NULL;
	char dir[] = "/tmp/dz-test-rollover-XXXXXX";
	char path[128];

	(void)state;
	make_key(&keys[1], 'B', false, "/next key with spaces.pem");
	assert_int_equal(observe(rollover, T0 + 50, keys, 2), DZ_OK);
	dz_rollover_note_published(rollover, 0xfffffffeu, NEGATIVE_TTL, 1, T0 + 60);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/example.net.state", dir);
	assert_int_equal(dz_rollover_save(rollover, path, NULL), DZ_OK);
	assert_false(rollover->changed);
	assert_int_equal(dz_rollover_load(path, "example.net", &loaded, NULL), DZ_OK);
	assert_int_equal(loaded->count, 2);
	for (size_t i = 0; i < 2; i++) {
		const dz_rollover_entry_t *a = rollover->entries[i], *b = loaded->entries[i];
		assert_string_equal(a->host, b->host);
		assert_memory_equal(a->id, b->id, 32);
		assert_string_equal(a->file, b->file);
		assert_int_equal(a->live, b->live);
		assert_int_equal(a->next, b->next);
		assert_int_equal(a->published, b->published);
		assert_int_equal(a->serial, b->serial);
		assert_int_equal(a->propagated, b->propagated);
		assert_int_equal(a->wait_ttl, b->wait_ttl);
		assert_int_equal(a->ttl, b->ttl);
		assert_int_equal(a->rdata_count, b->rdata_count);
		assert_memory_equal(a->rdata[0].data, b->rdata[0].data, a->rdata[0].len);
	}
	/* Serial arithmetic wraps (RFC 1982): 0xfffffffe is before 3. */
	uint32_t serial = 3;
	dz_rollover_note_secondaries(loaded, &serial, 1, T0 + 70);
	assert_int_equal(entry_of(loaded, 'B')->propagated, T0 + 70);

	/* A damaged file is rejected with its line, and nothing is loaded. */
	FILE *fp = fopen(path, "a");
	fputs("garbage line\n", fp);
	fclose(fp);
	dz_rollover_t *bad = NULL;
	dz_error_t err;
	dz_error_init(&err);
	assert_int_equal(dz_rollover_load(path, "example.net", &bad, &err), DZ_EINVAL);
	assert_null(bad);
	assert_non_null(strstr(err.message, "is malformed"));

	unlink(path);
	rmdir(dir);
	clear_keys(keys, 2);
	dz_rollover_destroy(loaded);
	dz_rollover_destroy(rollover);
}

static void
serial_comparison_wraps(void **state)
{
	(void)state;
	assert_true(dz_serial_le(1, 1));
	assert_true(dz_serial_le(1, 2));
	assert_false(dz_serial_le(2, 1));
	assert_true(dz_serial_le(0xffffffffu, 1));
	assert_false(dz_serial_le(1, 0xffffffffu));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(next_key_ready_after_propagation, setup, teardown),
		cmocka_unit_test_setup_teardown(premature_switch_logs_error, setup, teardown),
		cmocka_unit_test_setup_teardown(shared_key_of_new_host_no_warning, setup, teardown),
		cmocka_unit_test_setup_teardown(new_key_with_ready_issuer_warns, setup, teardown),
		cmocka_unit_test_setup_teardown(new_owner_waits_negative_ttl, setup, teardown),
		cmocka_unit_test_setup_teardown(unreadable_file_keeps_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(state_file_round_trip, setup, teardown),
		cmocka_unit_test(serial_comparison_wraps),
	};
	return cmocka_run_group_tests_name("zones/rollover", tests, NULL, NULL);
}
