/*
 * A signed zone through its snapshot: dz_load_snapshot() gives back the
 * zone that was written, the next signing run repairs it as it would the
 * zone in memory, and dz_snapshot_writer_add_diff() turns the old snapshot
 * into the new one.
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
#include <unistd.h>

#include "signer/changes.h"
#include "signer/load.h"
#include "signer/output.h"
#include "signer/snapshot.h"
#include "signer/update.h"
#include "signer_test.h"

static const char zone_text[] =
	"example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300\n"
	"example.com. 3600 IN NS ns1.example.com.\n"
	"example.com. 3600 IN MX 10 mail.example.com.\n"
	"ns1.example.com. 3600 IN A 192.0.2.1\n"
	"mail.example.com. 3600 IN A 192.0.2.25\n"
	"_25._tcp.mail.example.com. 3600 IN TLSA 3 1 1 0011223344556677889900112233445566778899001122334455667788990011\n"
	"sec.example.com. 3600 IN NS ns.sec.example.com.\n"
	"sec.example.com. 3600 IN DS 12345 13 2 0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20\n"
	"ns.sec.example.com. 3600 IN A 192.0.2.53\n"
	"insecure.example.com. 3600 IN NS ns.other.net.\n"
	"a.b.deep.example.com. 3600 IN TXT \"below two empty non-terminals\"\n"
	"*.w.example.com. 3600 IN TXT \"wildcard\"\n"
	"alias.example.com. 3600 IN DNAME example.net.\n"
	"x.alias.example.com. 3600 IN A 192.0.2.99\n";

#define TLSA_OLD "_25._tcp.mail.example.com. 3600 IN TLSA 3 1 1 0011223344556677889900112233445566778899001122334455667788990011"
#define TLSA_NEW "_25._tcp.mail.example.com. 3600 IN TLSA 3 1 1 ff11223344556677889900112233445566778899001122334455667788990011"

/* 2026-01-01T00:00:00Z */
#define TEST_NOW 1767225600

typedef struct fixture {
	dz_policy_t policy;
	dz_keyset_t keys;
	dz_sign_backend_t backend;
	char dir[64];
	char path[128];
} fixture_t;

static dz_update_params_t
params(fixture_t *f, bool full)
{
	dz_update_params_t p;

	memset(&p, 0, sizeof(p));
	p.policy = &f->policy;
	p.keys = &f->keys;
	p.now = TEST_NOW;
	p.backend = &f->backend;
	p.full = full;
	p.full_check = full;
	p.threads = 2;
	return p;
}

static void
update(fixture_t *f, dz_zone_t *zone, bool full)
{
	dz_update_params_t p = params(f, full);
	dz_error_t err;

	dz_error_init(&err);
	if (dz_update_zone(zone, &p, NULL, &err) != DZ_OK)
		fail_msg("signing failed: %s", dz_error_message(&err));
}

static void
setup_fixture(fixture_t *f, dz_denial_t denial, bool opt_out)
{
	memset(f, 0, sizeof(*f));
	test_policy(&f->policy, denial);
	f->policy.nsec3_opt_out = opt_out;
	test_keys_create(&f->keys, 2);
	f->backend = test_backend();
	snprintf(f->dir, sizeof(f->dir), "/tmp/dz-test-snapshot-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/zone.snapshot", f->dir);
}

static void
teardown_fixture(fixture_t *f)
{
	unlink(f->path);
	rmdir(f->dir);
	test_keys_free(&f->keys);
	dz_policy_clear(&f->policy);
}

static dz_zone_t *
signed_zone(fixture_t *f)
{
	dz_result_t result;
	dz_zone_t *zone = test_zone_from_text("example.com.", zone_text, NULL, &result);

	assert_int_equal(result, DZ_OK);
	update(f, zone, true);
	return zone;
}

static void
write_snapshot(const dz_zone_t *zone, const char *path)
{
	dz_snapshot_writer_t *writer = NULL;

	assert_int_equal(dz_snapshot_writer_create(path, NULL, zone->origin_wire, zone->origin_wire_len,
						   0600, &writer, NULL),
			 DZ_OK);
	assert_int_equal(dz_output_snapshot(zone, writer, NULL), DZ_OK);
	assert_int_equal(dz_snapshot_writer_commit(writer, NULL), DZ_OK);
}

static dz_zone_t *
load(const char *path, dz_snapshot_load_t *info, dz_snapshot_t **snapshot)
{
	dz_zone_t *zone = dz_zone_create((const uint8_t *)"\7example\3com", 13);
	dz_error_t err;

	assert_non_null(zone);
	dz_error_init(&err);
	assert_int_equal(dz_snapshot_open(path, true, snapshot, &err), DZ_OK);
	if (dz_load_snapshot(zone, *snapshot, path, TEST_NOW, info, &err) != DZ_OK)
		fail_msg("loading failed: %s", dz_error_message(&err));
	return zone;
}

static void
assert_same_rrs(const dz_zone_t *a, const dz_zone_t *b, bool with_sigs)
{
	dz_buf_t x;
	dz_buf_t y;

	dz_buf_init(&x);
	dz_buf_init(&y);
	test_zone_rrs(a, with_sigs, false, &x);
	test_zone_rrs(b, with_sigs, false, &y);
	assert_int_equal(x.len, y.len);
	assert_memory_equal(x.data, y.data, x.len);
	dz_buf_clear(&x);
	dz_buf_clear(&y);
}

/* Written and loaded back: the same RRs, the same tree flags, a whole chain. */
static void
round_trip(dz_denial_t denial, bool opt_out)
{
	fixture_t f;
	dz_snapshot_load_t info;
	dz_snapshot_t *snapshot = NULL;
	dz_zone_t *zone;
	dz_zone_t *loaded;

	setup_fixture(&f, denial, opt_out);
	zone = signed_zone(&f);
	write_snapshot(zone, f.path);
	loaded = load(f.path, &info, &snapshot);
	assert_same_rrs(zone, loaded, true);
	assert_true(info.chain_whole);
	assert_int_equal(info.sigs_dropped, 0);
	/* One KSK for the key RRsets and one ZSK for the rest. */
	assert_int_equal(info.signer_count, 2);
	assert_int_equal(loaded->chain, zone->chain);
	assert_int_equal(loaded->published_serial, zone->published_serial);
	assert_int_equal(loaded->earliest_expiration, zone->earliest_expiration);
	for (const dz_node_t *n = dz_zone_first(zone), *m = dz_zone_first(loaded); n != NULL || m != NULL;
	     n = dz_zone_next(n), m = dz_zone_next(m)) {
		assert_non_null(n);
		assert_non_null(m);
		assert_int_equal(n->key_len, m->key_len);
		assert_memory_equal(n->key, m->key, n->key_len);
		assert_int_equal(n->flags & (DZ_NODE_APEX | DZ_NODE_DELEGATION | DZ_NODE_DNAME | DZ_NODE_OCCLUDED),
				 m->flags & (DZ_NODE_APEX | DZ_NODE_DELEGATION | DZ_NODE_DNAME | DZ_NODE_OCCLUDED));
		assert_int_equal(n->children, m->children);
		assert_int_equal(n->nsec3 != NULL, m->nsec3 != NULL);
	}
	dz_snapshot_close(snapshot);
	dz_zone_destroy(loaded);
	dz_zone_destroy(zone);
	teardown_fixture(&f);
}

static void
snapshot_round_trip_nsec3(void **state)
{
	(void)state;
	round_trip(DZ_DENIAL_NSEC3, false);
}

static void
snapshot_round_trip_opt_out(void **state)
{
	(void)state;
	round_trip(DZ_DENIAL_NSEC3, true);
}

static void
snapshot_round_trip_nsec(void **state)
{
	(void)state;
	round_trip(DZ_DENIAL_NSEC, false);
}

/*
 * The same changes made to the zone in memory and to the zone loaded from
 * its snapshot give the same records, and the snapshot made from the old
 * one and the difference is the snapshot of the new version.
 */
static void
changes(dz_denial_t denial, bool opt_out)
{
	static const char *const steps[][2] = {
		{ TLSA_OLD, TLSA_NEW },			       /* replace a record */
		{ NULL, "new.deep.example.com. 3600 IN A 192.0.2.7" }, /* a name under an empty non-terminal */
		{ "a.b.deep.example.com. 3600 IN TXT \"below two empty non-terminals\"", NULL },
		{ NULL, "sub.example.com. 3600 IN NS ns.sub.example.com." }, /* an insecure delegation */
		{ "sec.example.com. 3600 IN DS 12345 13 2 0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20",
		  NULL },
	};
	fixture_t f;
	dz_zone_t *memory;

	setup_fixture(&f, denial, opt_out);
	memory = signed_zone(&f);
	write_snapshot(memory, f.path);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		dz_snapshot_load_t info;
		dz_snapshot_t *snapshot = NULL;
		dz_zone_t *loaded = load(f.path, &info, &snapshot);
		dz_buf_t diff;
		dz_error_t err;
		char next[160];
		dz_snapshot_t *spliced = NULL;
		dz_snapshot_t *written = NULL;
		dz_snapshot_writer_t *writer = NULL;

		assert_true(info.chain_whole);
		assert_non_null(dz_changes_start(loaded));
		for (dz_zone_t *z = memory; z != NULL; z = z == memory ? loaded : NULL) {
			if (steps[i][0] != NULL)
				test_delete_rr(z, steps[i][0]);
			if (steps[i][1] != NULL)
				test_add_rr(z, steps[i][1]);
			update(&f, z, false);
		}
		assert_same_rrs(memory, loaded, false);

		/* The snapshot of the difference against the snapshot written from the tree. */
		dz_buf_init(&diff);
		dz_error_init(&err);
		assert_int_equal(dz_changes_finish(loaded->changes, &diff, NULL, &err), DZ_OK);
		assert_true(diff.len > 0);
		snprintf(next, sizeof(next), "%s.next", f.path);
		assert_int_equal(dz_snapshot_writer_create(next, NULL, loaded->origin_wire,
							   loaded->origin_wire_len, 0600, &writer, NULL),
				 DZ_OK);
		if (dz_snapshot_writer_add_diff(writer, snapshot, diff.data, diff.len, &err) != DZ_OK)
			fail_msg("step %zu: %s", i, dz_error_message(&err));
		assert_int_equal(dz_snapshot_writer_commit(writer, NULL), DZ_OK);
		write_snapshot(loaded, f.path);
		assert_int_equal(dz_snapshot_open(next, true, &spliced, NULL), DZ_OK);
		assert_int_equal(dz_snapshot_open(f.path, true, &written, NULL), DZ_OK);
		assert_int_equal(spliced->data_len, written->data_len);
		assert_int_equal(spliced->rr_count, written->rr_count);
		assert_memory_equal(spliced->data, written->data, spliced->data_len);

		dz_snapshot_close(spliced);
		dz_snapshot_close(written);
		unlink(next);
		dz_buf_clear(&diff);
		dz_snapshot_close(snapshot);
		dz_zone_destroy(loaded);
	}
	dz_zone_destroy(memory);
	teardown_fixture(&f);
}

static void
snapshot_changes_nsec3(void **state)
{
	(void)state;
	changes(DZ_DENIAL_NSEC3, false);
}

static void
snapshot_changes_opt_out(void **state)
{
	(void)state;
	changes(DZ_DENIAL_NSEC3, true);
}

static void
snapshot_changes_nsec(void **state)
{
	(void)state;
	changes(DZ_DENIAL_NSEC, false);
}

/* A difference that does not start from the snapshot is rejected and writes nothing usable. */
static void
snapshot_diff_from_other_version(void **state)
{
	fixture_t f;
	dz_snapshot_load_t info;
	dz_snapshot_t *snapshot = NULL;
	dz_zone_t *zone;
	dz_zone_t *loaded;
	dz_snapshot_writer_t *writer = NULL;
	dz_buf_t diff;
	dz_error_t err;
	char next[160];

	(void)state;
	setup_fixture(&f, DZ_DENIAL_NSEC3, false);
	zone = signed_zone(&f);
	write_snapshot(zone, f.path);
	loaded = load(f.path, &info, &snapshot);
	/* Two versions on: the second difference starts from serial 2, not 1. */
	for (int i = 0; i < 2; i++) {
		dz_buf_init(&diff);
		assert_non_null(dz_changes_start(loaded));
		test_add_rr(loaded, i == 0 ? "v1.example.com. 3600 IN A 192.0.2.11"
					   : "v2.example.com. 3600 IN A 192.0.2.12");
		update(&f, loaded, false);
		assert_int_equal(dz_changes_finish(loaded->changes, &diff, NULL, NULL), DZ_OK);
		if (i == 0)
			dz_buf_clear(&diff);
	}
	snprintf(next, sizeof(next), "%s.next", f.path);
	assert_int_equal(dz_snapshot_writer_create(next, NULL, loaded->origin_wire, loaded->origin_wire_len,
						   0600, &writer, NULL),
			 DZ_OK);
	dz_error_init(&err);
	assert_int_equal(dz_snapshot_writer_add_diff(writer, snapshot, diff.data, diff.len, &err),
			 DZ_ESTATE);
	assert_non_null(strstr(err.message, "starts from serial 2, not from the snapshot's 1"));
	dz_snapshot_writer_abort(writer);
	assert_int_equal(access(next, F_OK), -1);
	dz_buf_clear(&diff);
	dz_snapshot_close(snapshot);
	dz_zone_destroy(loaded);
	dz_zone_destroy(zone);
	teardown_fixture(&f);
}

/* Signatures of another key: the snapshot loads, but its signers do not match the new keys. */
static void
snapshot_reports_signers(void **state)
{
	fixture_t f;
	dz_snapshot_load_t info;
	dz_snapshot_t *snapshot = NULL;
	dz_zone_t *zone;
	dz_zone_t *loaded;

	(void)state;
	setup_fixture(&f, DZ_DENIAL_NSEC3, false);
	zone = signed_zone(&f);
	write_snapshot(zone, f.path);
	loaded = load(f.path, &info, &snapshot);
	for (size_t k = 0; k < f.keys.count; k++) {
		bool found = false;
		for (size_t i = 0; i < info.signer_count; i++)
			found = found || (info.signers[i].key_tag == f.keys.keys[k].key_tag &&
					  info.signers[i].algorithm == f.keys.keys[k].algorithm &&
					  info.signers[i].key_rrsets == f.keys.keys[k].sign_keys);
		assert_true(found);
	}
	dz_snapshot_close(snapshot);
	dz_zone_destroy(loaded);
	dz_zone_destroy(zone);
	teardown_fixture(&f);
}

/* A damaged snapshot is rejected with the offset of the damage. */
static void
snapshot_rejects_bad_order(void **state)
{
	fixture_t f;
	dz_snapshot_t *snapshot = NULL;
	dz_snapshot_load_t info;
	dz_zone_t *zone;
	dz_zone_t *empty;
	dz_error_t err;

	(void)state;
	setup_fixture(&f, DZ_DENIAL_NSEC3, false);
	zone = signed_zone(&f);
	/* The writer checks the order too, so damage a valid snapshot afterwards. */
	write_snapshot(zone, f.path);
	{
		FILE *fp = fopen(f.path, "r+b");
		uint8_t *data;
		long size;
		assert_non_null(fp);
		assert_int_equal(fseek(fp, 0, SEEK_END), 0);
		size = ftell(fp);
		data = malloc((size_t)size);
		assert_non_null(data);
		rewind(fp);
		assert_int_equal(fread(data, 1, (size_t)size, fp), (size_t)size);
		/* Rename every "mail" label to "zzzz": its RRs now come too early. */
		for (long i = 0; i + 5 <= size; i++) {
			if (memcmp(data + i, "\4mail", 5) == 0)
				memcpy(data + i + 1, "zzzz", 4);
		}
		rewind(fp);
		assert_int_equal(fwrite(data, 1, (size_t)size, fp), (size_t)size);
		fclose(fp);
		free(data);
	}
	assert_int_equal(dz_snapshot_open(f.path, false, &snapshot, NULL), DZ_OK);
	empty = dz_zone_create((const uint8_t *)"\7example\3com", 13);
	dz_error_init(&err);
	assert_int_equal(dz_load_snapshot(empty, snapshot, f.path, TEST_NOW, &info, &err), DZ_EZONE);
	assert_non_null(strstr(err.message, "out of canonical order"));
	dz_snapshot_close(snapshot);
	dz_zone_destroy(empty);
	dz_zone_destroy(zone);
	teardown_fixture(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(snapshot_round_trip_nsec3),
		cmocka_unit_test(snapshot_round_trip_opt_out),
		cmocka_unit_test(snapshot_round_trip_nsec),
		cmocka_unit_test(snapshot_changes_nsec3),
		cmocka_unit_test(snapshot_changes_opt_out),
		cmocka_unit_test(snapshot_changes_nsec),
		cmocka_unit_test(snapshot_diff_from_other_version),
		cmocka_unit_test(snapshot_reports_signers),
		cmocka_unit_test(snapshot_rejects_bad_order),
	};
	return cmocka_run_group_tests_name("signer_snapshot_load", tests, NULL, NULL);
}
