#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ldns/ldns.h>

#include "common/file.h"
#include "signer/journal.h"
#include "signer/publish.h"
#include "signer/version.h"
#include "tests/unit/signer/rr_text.h"

#define SOA(serial)                                                                            \
	"example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. " #serial            \
	" 7200 3600 1209600 300"
#define TLSA_OLD                                                                               \
	"_25._tcp.mail.example.com. 300 IN TLSA 3 1 1 "                                        \
	"1111111111111111111111111111111111111111111111111111111111111111"
#define TLSA_NEW                                                                               \
	"_25._tcp.mail.example.com. 300 IN TLSA 3 1 1 "                                        \
	"2222222222222222222222222222222222222222222222222222222222222222"

/* Versions in canonical order, worked out by hand from RFC 4034 section 6.1. */
static const char *const version1[] = {
	SOA(1),
	"example.com. 3600 IN NS ns1.example.com.",
	"example.com. 3600 IN MX 10 mail.example.com.",
	"mail.example.com. 3600 IN A 192.0.2.25",
	TLSA_OLD,
	"ns1.example.com. 3600 IN A 192.0.2.53",
	NULL,
};

static const char *const version2[] = {
	SOA(2),
	"example.com. 3600 IN NS ns1.example.com.",
	"example.com. 3600 IN MX 10 mail.example.com.",
	"mail.example.com. 3600 IN A 192.0.2.25",
	TLSA_NEW,
	"ns1.example.com. 3600 IN A 192.0.2.53",
	NULL,
};

struct fixture {
	char *dir;
	dz_publish_target_t target;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->dir = rr_text_temp_dir("dz-test-publish");
	assert_int_equal(dz_publish_target_init(&f->target, f->dir, "Example.COM", 0, NULL),
			 DZ_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	dz_publish_set_fault(NULL, NULL);
	rr_text_remove_dir(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static void
diff_expect(const char *const *old_texts, const char *const *new_texts,
	    const char *const *removed_texts, const char *const *added_texts)
{
	dz_buf_t old_rrs, new_rrs, removed, added, expected_removed, expected_added;

	dz_buf_init(&old_rrs);
	dz_buf_init(&new_rrs);
	dz_buf_init(&removed);
	dz_buf_init(&added);
	dz_buf_init(&expected_removed);
	dz_buf_init(&expected_added);
	rr_text_append_all(&old_rrs, old_texts);
	rr_text_append_all(&new_rrs, new_texts);
	rr_text_append_all(&expected_removed, removed_texts);
	rr_text_append_all(&expected_added, added_texts);
	assert_int_equal(dz_publish_compare(old_rrs.data, old_rrs.len, new_rrs.data, new_rrs.len,
					    &removed, &added, NULL),
			 DZ_OK);
	assert_int_equal(removed.len, expected_removed.len);
	if (removed.len > 0)
		assert_memory_equal(removed.data, expected_removed.data, removed.len);
	assert_int_equal(added.len, expected_added.len);
	if (added.len > 0)
		assert_memory_equal(added.data, expected_added.data, added.len);
	dz_buf_clear(&old_rrs);
	dz_buf_clear(&new_rrs);
	dz_buf_clear(&removed);
	dz_buf_clear(&added);
	dz_buf_clear(&expected_removed);
	dz_buf_clear(&expected_added);
}

static void
diff_changed_tlsa(void **state)
{
	static const char *const removed[] = { TLSA_OLD, NULL };
	static const char *const added[] = { TLSA_NEW, NULL };

	(void)state;
	diff_expect(version1, version2, removed, added);
}

static void
diff_ttl_only_change(void **state)
{
	static const char *const before[] = {
		SOA(1), "mail.example.com. 3600 IN A 192.0.2.25",
		"mail.example.com. 3600 IN A 192.0.2.26", NULL,
	};
	static const char *const after[] = {
		SOA(2), "mail.example.com. 600 IN A 192.0.2.25",
		"mail.example.com. 600 IN A 192.0.2.26", NULL,
	};
	static const char *const removed[] = {
		"mail.example.com. 3600 IN A 192.0.2.25", "mail.example.com. 3600 IN A 192.0.2.26",
		NULL,
	};
	static const char *const added[] = {
		"mail.example.com. 600 IN A 192.0.2.25", "mail.example.com. 600 IN A 192.0.2.26",
		NULL,
	};

	(void)state;
	diff_expect(before, after, removed, added);
}

static void
diff_nsec3_chain_swap(void **state)
{
	/* A new salt gives every name a new hash: the whole chain is replaced. */
	static const char *const before[] = {
		SOA(1),
		"example.com. 300 IN NSEC3PARAM 1 0 0 aabb",
		"2t7b4g4vsa5smi47k61mv5bv1a22bojr.example.com. 300 IN NSEC3 1 0 0 aabb "
		"8rcgj0d3h5ev7tdbu6s5v41p9k2a3e0f A RRSIG",
		"8rcgj0d3h5ev7tdbu6s5v41p9k2a3e0f.example.com. 300 IN NSEC3 1 0 0 aabb "
		"2t7b4g4vsa5smi47k61mv5bv1a22bojr NS SOA RRSIG DNSKEY NSEC3PARAM",
		NULL,
	};
	static const char *const after[] = {
		SOA(2),
		"example.com. 300 IN NSEC3PARAM 1 0 0 ccdd",
		"0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.example.com. 300 IN NSEC3 1 0 0 ccdd "
		"k8udemvp1j2f7eg6jebps17vp3n8i58h NS SOA RRSIG DNSKEY NSEC3PARAM",
		"k8udemvp1j2f7eg6jebps17vp3n8i58h.example.com. 300 IN NSEC3 1 0 0 ccdd "
		"0p9mhaveqvm6t7vbl5lop2u3t2rp3tom A RRSIG",
		NULL,
	};
	/* NSEC3PARAM at the apex sorts before every NSEC3 owner below it. */
	static const char *const removed[] = { before[1], before[2], before[3], NULL };
	static const char *const added[] = { after[1], after[2], after[3], NULL };

	(void)state;
	diff_expect(before, after, removed, added);
}

static void
diff_rejects_unordered_input(void **state)
{
	static const char *const unordered[] = {
		SOA(1), "ns1.example.com. 3600 IN A 192.0.2.53",
		"mail.example.com. 3600 IN A 192.0.2.25", NULL,
	};
	dz_buf_t a, b, removed, added;

	(void)state;
	dz_buf_init(&a);
	dz_buf_init(&b);
	dz_buf_init(&removed);
	dz_buf_init(&added);
	rr_text_append_all(&a, version1);
	rr_text_append_all(&b, unordered);
	assert_int_equal(dz_publish_compare(a.data, a.len, b.data, b.len, &removed, &added, NULL),
			 DZ_EZONE);
	dz_buf_clear(&a);
	dz_buf_clear(&b);
	dz_buf_clear(&removed);
	dz_buf_clear(&added);
}

#define SOA_FMT                                                                                \
	"example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. %u 7200 3600 1209600 300"

static dz_result_t
publish(struct fixture *f, const char *const *texts, dz_error_t *err)
{
	dz_snapshot_writer_t *writer = NULL;
	dz_buf_t rrs;

	dz_buf_init(&rrs);
	rr_text_append_all(&rrs, texts);
	assert_int_equal(dz_publish_begin(&f->target, &writer, NULL), DZ_OK);
	dz_result_t result = dz_snapshot_writer_add_all(writer, &rrs, err);
	if (result == DZ_OK)
		result = dz_publish_commit(&f->target, writer, NULL, NULL, NULL, err);
	else
		dz_snapshot_writer_abort(writer);
	dz_buf_clear(&rrs);
	return result;
}

/* Commit the diff to `serial` with the fast path; the lists may be NULL for none. */
static dz_result_t
publish_diff(struct fixture *f, const char *const *removed_texts, const char *const *added_texts,
	     unsigned serial, dz_error_t *err)
{
	dz_buf_t removed, added, soa;
	char text[256];
	uint32_t committed = 0;

	dz_buf_init(&removed);
	dz_buf_init(&added);
	dz_buf_init(&soa);
	if (removed_texts != NULL)
		rr_text_append_all(&removed, removed_texts);
	if (added_texts != NULL)
		rr_text_append_all(&added, added_texts);
	snprintf(text, sizeof(text), SOA_FMT, serial);
	rr_text_append(&soa, text);
	dz_result_t result = dz_publish_diff(&f->target, &removed, &added, &soa, &committed, err);
	if (result == DZ_OK)
		assert_int_equal(committed, serial);
	dz_buf_clear(&removed);
	dz_buf_clear(&added);
	dz_buf_clear(&soa);
	return result;
}

/* Serials of the three files; 0 for a missing or unreadable file. */
static void
published_serials(struct fixture *f, uint32_t *snapshot, uint32_t *journal, uint32_t *text)
{
	dz_snapshot_t *s = NULL;
	dz_journal_t *j = NULL;

	*snapshot = 0;
	*journal = 0;
	*text = 0;
	if (dz_snapshot_open(f->target.snapshot_path, true, &s, NULL) == DZ_OK) {
		*snapshot = s->serial;
		dz_snapshot_close(s);
	}
	if (dz_journal_open(f->target.journal_path, &j, NULL) == DZ_OK) {
		*journal = j->last_serial;
		dz_journal_close(j);
	}
	if (dz_snapshot_text_serial(f->target.text_path, text, NULL) != DZ_OK)
		*text = 0;
}

static void
expect_serials(struct fixture *f, uint32_t snapshot, uint32_t journal, uint32_t text)
{
	uint32_t a, b, c;

	published_serials(f, &a, &b, &c);
	assert_int_equal(a, snapshot);
	assert_int_equal(b, journal);
	assert_int_equal(c, text);
}

/*
 * The committed version, as AXFR sends it (SOA, snapshot merged with the
 * journal), equals `texts` byte for byte: same RRs, order and TTLs.
 */
static void
expect_version(struct fixture *f, const char *const *texts)
{
	dz_version_t *v = NULL;
	dz_version_iter_t iter;
	dz_buf_t got, expected;
	bool done = false;

	dz_buf_init(&got);
	dz_buf_init(&expected);
	rr_text_append_all(&expected, texts);
	assert_int_equal(dz_version_open(&f->target, NULL, &v, NULL), DZ_OK);
	assert_int_equal(dz_buf_append(&got, v->soa.start, v->soa.len), DZ_OK);
	assert_int_equal(dz_version_iter_init(&iter, v, NULL), DZ_OK);
	for (;;) {
		dz_wire_rr_t rr;
		assert_int_equal(dz_version_iter_next(&iter, &rr, &done), DZ_OK);
		if (done)
			break;
		assert_int_equal(dz_buf_append(&got, rr.start, rr.len), DZ_OK);
	}
	assert_int_equal(got.len, expected.len);
	assert_memory_equal(got.data, expected.data, expected.len);
	dz_version_unref(v);
	dz_buf_clear(&got);
	dz_buf_clear(&expected);
}

/* The snapshot file holds `texts` byte for byte. */
static void
expect_snapshot(struct fixture *f, const char *const *texts)
{
	dz_snapshot_t *s = NULL;
	dz_buf_t expected;

	dz_buf_init(&expected);
	rr_text_append_all(&expected, texts);
	assert_int_equal(dz_snapshot_open(f->target.snapshot_path, true, &s, NULL), DZ_OK);
	assert_int_equal(s->data_len, expected.len);
	assert_memory_equal(s->data, expected.data, expected.len);
	dz_snapshot_close(s);
	dz_buf_clear(&expected);
}

/* ldns reads the zone text file back with `count` RRs besides the SOA, and SOA serial `serial`. */
static void
expect_text_file(struct fixture *f, size_t count, uint32_t serial)
{
	FILE *fp = fopen(f->target.text_path, "r");
	ldns_zone *zone = NULL;

	assert_non_null(fp);
	assert_int_equal(ldns_zone_new_frm_fp(&zone, fp, NULL, 3600, LDNS_RR_CLASS_IN),
			 LDNS_STATUS_OK);
	fclose(fp);
	assert_int_equal(ldns_rr_list_rr_count(ldns_zone_rrs(zone)), count);
	assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(ldns_zone_soa(zone), 2)), serial);
	ldns_zone_deep_free(zone);
}

static void
publish_versions_round_trip(void **state)
{
	struct fixture *f = *state;
	dz_journal_t *j = NULL;
	dz_buf_t expected;

	assert_string_equal(f->target.zone, "example.com.");
	assert_non_null(strstr(f->target.snapshot_path, "/example.com.snapshot"));
	assert_int_equal(publish(f, version1, NULL), DZ_OK);
	expect_serials(f, 1, 1, 1);

	assert_int_equal(publish(f, version2, NULL), DZ_OK);
	expect_serials(f, 2, 2, 2);
	expect_snapshot(f, version2);
	expect_version(f, version2);

	/* The journal contains the computed diff with both SOAs. */
	assert_int_equal(dz_journal_open(f->target.journal_path, &j, NULL), DZ_OK);
	assert_int_equal(j->count, 1);
	assert_int_equal(j->entries[0].old_serial, 1);
	assert_int_equal(j->entries[0].removed_count, 1);
	assert_int_equal(j->entries[0].added_count, 1);
	dz_buf_init(&expected);
	rr_text_append(&expected, TLSA_NEW);
	assert_int_equal(j->entries[0].added_len, expected.len);
	assert_memory_equal(j->entries[0].added, expected.data, expected.len);
	dz_journal_close(j);
	dz_buf_clear(&expected);

	expect_text_file(f, 5, 2);
}

static void
publish_rejects_old_serial(void **state)
{
	struct fixture *f = *state;
	dz_error_t err;

	assert_int_equal(publish(f, version2, NULL), DZ_OK);
	dz_error_init(&err);
	assert_int_equal(publish(f, version1, &err), DZ_ESTATE);
	assert_non_null(strstr(err.message, "not after the published serial 2"));
	expect_serials(f, 2, 2, 2);
}

/* A serial exactly 2^31 after the published one is not newer (RFC 1982 leaves it undefined). */
static void
publish_rejects_serial_half_circle_away(void **state)
{
	struct fixture *f = *state;
	static const char *const far[] = { SOA(2147483650), "example.com. 3600 IN NS ns1.example.com.",
					   NULL };
	static const char *const near[] = { SOA(2147483649), "example.com. 3600 IN NS ns1.example.com.",
					    NULL };
	dz_error_t err;
	uint32_t a, b, c;

	assert_int_equal(publish(f, version2, NULL), DZ_OK);
	dz_error_init(&err);
	assert_int_equal(publish(f, far, &err), DZ_ESTATE);
	assert_non_null(strstr(err.message, "not after the published serial 2"));
	published_serials(f, &a, &b, &c);
	assert_int_equal(a, 2);
	/* 2^31 - 1 ahead is still newer. */
	assert_int_equal(publish(f, near, NULL), DZ_OK);
	published_serials(f, &a, &b, &c);
	assert_int_equal(a, 2147483649u);
}

static void
writer_rejects_bad_order(void **state)
{
	struct fixture *f = *state;
	static const char *const no_soa_first[] = { "example.com. 3600 IN NS ns1.example.com.",
						    SOA(1), NULL };
	static const char *const unordered[] = { SOA(1), "ns1.example.com. 3600 IN A 192.0.2.53",
						 "mail.example.com. 3600 IN A 192.0.2.25", NULL };
	static const char *const outside[] = { SOA(1), "www.example.org. 3600 IN A 192.0.2.1",
					       NULL };
	dz_error_t err;

	dz_error_init(&err);
	assert_int_equal(publish(f, no_soa_first, &err), DZ_EZONE);
	assert_non_null(strstr(err.message, "first RR must be the SOA"));
	assert_int_equal(publish(f, unordered, &err), DZ_EZONE);
	assert_non_null(strstr(err.message, "out of order"));
	assert_int_equal(publish(f, outside, &err), DZ_EZONE);
	assert_non_null(strstr(err.message, "outside the zone"));
	assert_int_equal(publish(f, version1, NULL), DZ_OK);
}

static void
restart_dir(struct fixture *f)
{
	rr_text_remove_dir(f->dir);
	assert_int_equal(dz_mkdir_p(f->dir, 0755, NULL), DZ_OK);
}

static const char *const tlsa_old[] = { TLSA_OLD, NULL };
static const char *const tlsa_new[] = { TLSA_NEW, NULL };

static void
diff_commits_to_journal_only(void **state)
{
	struct fixture *f = *state;
	dz_publish_status_t status;
	uint32_t serial = 0;

	assert_int_equal(publish(f, version1, NULL), DZ_OK);
	assert_int_equal(publish_diff(f, tlsa_old, tlsa_new, 2, NULL), DZ_OK);

	/* Committed: the journal is at 2, the snapshot and text file stay at 1. */
	expect_serials(f, 1, 2, 1);
	expect_snapshot(f, version1);
	expect_version(f, version2);
	assert_int_equal(dz_publish_status(&f->target, &status, NULL), DZ_OK);
	assert_int_equal(status.serial, 2);
	assert_int_equal(status.snapshot_serial, 1);
	assert_true(status.has_text);
	assert_int_equal(status.text_serial, 1);
	assert_int_equal(status.pending_entries, 1);
	assert_true(status.pending_bytes > 0);

	assert_int_equal(dz_publish_materialize(&f->target, &serial, NULL), DZ_OK);
	assert_int_equal(serial, 2);
	expect_serials(f, 2, 2, 2);
	expect_snapshot(f, version2);
	expect_text_file(f, 5, 2);
	assert_int_equal(dz_publish_status(&f->target, &status, NULL), DZ_OK);
	assert_int_equal(status.pending_entries, 0);

	/* Nothing to do the second time. */
	assert_int_equal(dz_publish_materialize(&f->target, &serial, NULL), DZ_OK);
	assert_int_equal(serial, 2);

	/* The text written straight from the snapshot is the same file. */
	char copy_path[PATH_MAX + 8];
	char *written = NULL, *copied = NULL;
	size_t written_len = 0, copied_len = 0;
	dz_snapshot_t *s = NULL;
	snprintf(copy_path, sizeof(copy_path), "%s.copy", f->target.text_path);
	assert_int_equal(dz_snapshot_open(f->target.snapshot_path, true, &s, NULL), DZ_OK);
	assert_int_equal(dz_snapshot_write_text(s, copy_path, 0644, NULL), DZ_OK);
	dz_snapshot_close(s);
	assert_int_equal(dz_file_read_all(f->target.text_path, 1 << 20, &written, &written_len, NULL),
			 DZ_OK);
	assert_int_equal(dz_file_read_all(copy_path, 1 << 20, &copied, &copied_len, NULL), DZ_OK);
	assert_int_equal(copied_len, written_len);
	assert_memory_equal(copied, written, written_len);
	free(written);
	free(copied);
}

static void
diff_needs_published_version(void **state)
{
	struct fixture *f = *state;
	dz_error_t err;

	dz_error_init(&err);
	assert_int_equal(publish_diff(f, tlsa_old, tlsa_new, 2, &err), DZ_ESTATE);
	assert_non_null(strstr(err.message, "publish a full version first"));
	assert_int_equal(dz_publish_materialize(&f->target, NULL, NULL), DZ_ENOTFOUND);
}

static void
diff_rejects_bad_input(void **state)
{
	struct fixture *f = *state;
	static const char *const outside[] = { "www.example.org. 300 IN A 192.0.2.1", NULL };
	dz_error_t err;

	assert_int_equal(publish(f, version1, NULL), DZ_OK);
	assert_int_equal(publish_diff(f, tlsa_old, tlsa_new, 2, NULL), DZ_OK);
	dz_error_init(&err);
	assert_int_equal(publish_diff(f, tlsa_new, tlsa_old, 2, &err), DZ_EZONE);
	assert_non_null(strstr(err.message, "not after the committed serial 2"));
	assert_int_equal(publish_diff(f, NULL, outside, 3, NULL), DZ_EZONE);
	expect_serials(f, 1, 2, 1);
	expect_version(f, version2);
	/* A full version must also come after the committed serial, not the snapshot's. */
	assert_int_equal(publish(f, version2, NULL), DZ_ESTATE);
}

/* Version 1 with the A RR of mail.example.com. at TTL 600. */
static const char *const version1_ttl600[] = {
	SOA(3),
	"example.com. 3600 IN NS ns1.example.com.",
	"example.com. 3600 IN MX 10 mail.example.com.",
	"mail.example.com. 600 IN A 192.0.2.25",
	TLSA_OLD,
	"ns1.example.com. 3600 IN A 192.0.2.53",
	NULL,
};

static void
merge_removed_then_readded(void **state)
{
	struct fixture *f = *state;
	static const char *const mail_a[] = { "mail.example.com. 3600 IN A 192.0.2.25", NULL };
	static const char *const without_a[] = {
		SOA(2), "example.com. 3600 IN NS ns1.example.com.",
		"example.com. 3600 IN MX 10 mail.example.com.", TLSA_OLD,
		"ns1.example.com. 3600 IN A 192.0.2.53", NULL,
	};
	static const char *const readded[] = {
		SOA(3), "example.com. 3600 IN NS ns1.example.com.",
		"example.com. 3600 IN MX 10 mail.example.com.", "mail.example.com. 3600 IN A 192.0.2.25",
		TLSA_OLD, "ns1.example.com. 3600 IN A 192.0.2.53", NULL,
	};

	assert_int_equal(publish(f, version1, NULL), DZ_OK);
	assert_int_equal(publish_diff(f, mail_a, NULL, 2, NULL), DZ_OK);
	expect_version(f, without_a);
	assert_int_equal(publish_diff(f, NULL, mail_a, 3, NULL), DZ_OK);
	expect_version(f, readded);
	assert_int_equal(dz_publish_materialize(&f->target, NULL, NULL), DZ_OK);
	expect_snapshot(f, readded);
}

static void
merge_ttl_only_change(void **state)
{
	struct fixture *f = *state;
	static const char *const old_a[] = { "mail.example.com. 3600 IN A 192.0.2.25", NULL };
	static const char *const new_a[] = { "mail.example.com. 600 IN A 192.0.2.25", NULL };
	static const char *const added_x[] = { "x.example.com. 300 IN A 192.0.2.9", NULL };
	static const char *const expected[] = {
		SOA(4), "example.com. 3600 IN NS ns1.example.com.",
		"example.com. 3600 IN MX 10 mail.example.com.", "mail.example.com. 600 IN A 192.0.2.25",
		TLSA_OLD, "ns1.example.com. 3600 IN A 192.0.2.53", NULL,
	};

	/*
	 * Across entries: x is added and removed again, which leaves no trace,
	 * and the A RR is removed, then added back with a new TTL.
	 */
	assert_int_equal(publish(f, version1, NULL), DZ_OK);
	assert_int_equal(publish_diff(f, NULL, added_x, 2, NULL), DZ_OK);
	assert_int_equal(publish_diff(f, old_a, NULL, 3, NULL), DZ_OK);
	assert_int_equal(publish_diff(f, added_x, new_a, 4, NULL), DZ_OK);
	expect_version(f, expected);

	/* Within one entry: removed with the old TTL, added with the new. */
	restart_dir(f);
	assert_int_equal(publish(f, version1, NULL), DZ_OK);
	assert_int_equal(publish_diff(f, old_a, new_a, 3, NULL), DZ_OK);
	expect_version(f, version1_ttl600);
	assert_int_equal(dz_publish_materialize(&f->target, NULL, NULL), DZ_OK);
	expect_snapshot(f, version1_ttl600);
}

static void
merge_nsec3_chain_swap(void **state)
{
	struct fixture *f = *state;
	/* A new salt gives every name a new hash: the whole chain is replaced. */
	static const char *const before[] = {
		SOA(1),
		"example.com. 300 IN NSEC3PARAM 1 0 0 aabb",
		"2t7b4g4vsa5smi47k61mv5bv1a22bojr.example.com. 300 IN NSEC3 1 0 0 aabb "
		"8rcgj0d3h5ev7tdbu6s5v41p9k2a3e0f A RRSIG",
		"8rcgj0d3h5ev7tdbu6s5v41p9k2a3e0f.example.com. 300 IN NSEC3 1 0 0 aabb "
		"2t7b4g4vsa5smi47k61mv5bv1a22bojr NS SOA RRSIG DNSKEY NSEC3PARAM",
		"mail.example.com. 3600 IN A 192.0.2.25",
		NULL,
	};
	static const char *const old_chain[] = { before[1], before[2], before[3], NULL };
	static const char *const new_chain[] = {
		"example.com. 300 IN NSEC3PARAM 1 0 0 ccdd",
		"0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.example.com. 300 IN NSEC3 1 0 0 ccdd "
		"k8udemvp1j2f7eg6jebps17vp3n8i58h NS SOA RRSIG DNSKEY NSEC3PARAM",
		"k8udemvp1j2f7eg6jebps17vp3n8i58h.example.com. 300 IN NSEC3 1 0 0 ccdd "
		"0p9mhaveqvm6t7vbl5lop2u3t2rp3tom A RRSIG",
		NULL,
	};
	/* Worked out by hand: the apex first, then owners by their first label. */
	static const char *const after[] = {
		SOA(2),		  new_chain[0], new_chain[1], new_chain[2],
		"mail.example.com. 3600 IN A 192.0.2.25", NULL,
	};

	assert_int_equal(publish(f, before, NULL), DZ_OK);
	assert_int_equal(publish_diff(f, old_chain, new_chain, 2, NULL), DZ_OK);
	expect_version(f, after);
	assert_int_equal(dz_publish_materialize(&f->target, NULL, NULL), DZ_OK);
	expect_snapshot(f, after);
}

static bool
crash_at(dz_publish_step_t step, void *ctx)
{
	return step == *(dz_publish_step_t *)ctx;
}

static int
count_temporary_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		if (strstr(e->d_name, ".tmp.") != NULL)
			n++;
	}
	closedir(d);
	return n;
}

static size_t
journal_entries(struct fixture *f)
{
	dz_journal_t *j = NULL;
	size_t count;

	assert_int_equal(dz_journal_open(f->target.journal_path, &j, NULL), DZ_OK);
	assert_int_equal(j->torn_bytes, 0);
	count = j->count;
	dz_journal_close(j);
	return count;
}

static void
crash_in_full_commit(void **state)
{
	struct fixture *f = *state;
	/*
	 * After a crash before STEP of publishing version 2 in full: the files
	 * hold these serials (snapshot, journal, text), and recovery yields
	 * `recovered`.  A half-written journal entry counts as not written.
	 */
	static const struct {
		dz_publish_step_t step;
		uint32_t snapshot, journal, text;
		uint32_t recovered;
		bool temporary_files;
	} cases[] = {
		{ DZ_PUBLISH_STEP_JOURNAL, 1, 1, 1, 1, true },
		{ DZ_PUBLISH_STEP_JOURNAL_SYNC, 1, 1, 1, 1, true },
		{ DZ_PUBLISH_STEP_SNAPSHOT, 1, 2, 1, 2, true },
		{ DZ_PUBLISH_STEP_TEXT, 2, 2, 1, 2, true },
	};

	for (size_t i = 0; i < DZ_ARRAY_SIZE(cases); i++) {
		uint32_t serial = 0;
		dz_publish_step_t step = cases[i].step;

		restart_dir(f);
		assert_int_equal(publish(f, version1, NULL), DZ_OK);

		dz_publish_set_fault(crash_at, &step);
		assert_int_equal(publish(f, version2, NULL), DZ_ECANCELED);
		dz_publish_set_fault(NULL, NULL);
		expect_serials(f, cases[i].snapshot, cases[i].journal, cases[i].text);
		assert_int_equal(count_temporary_files(f->dir) > 0, cases[i].temporary_files);

		assert_int_equal(dz_publish_recover(&f->target, &serial, NULL), DZ_OK);
		assert_int_equal(serial, cases[i].recovered);
		assert_int_equal(count_temporary_files(f->dir), 0);
		expect_version(f, cases[i].recovered == 2 ? version2 : version1);
		assert_int_equal(journal_entries(f), cases[i].recovered == 2 ? 1 : 0);

		/* Materialization brings the files up; publishing goes on from there. */
		assert_int_equal(dz_publish_materialize(&f->target, &serial, NULL), DZ_OK);
		assert_int_equal(serial, cases[i].recovered);
		expect_serials(f, cases[i].recovered, cases[i].recovered, cases[i].recovered);
		if (cases[i].recovered == 1)
			assert_int_equal(publish(f, version2, NULL), DZ_OK);
		expect_serials(f, 2, 2, 2);
		expect_version(f, version2);
	}
}

static void
crash_in_first_publication(void **state)
{
	struct fixture *f = *state;
	/* The first version: the snapshot's rename commits it, the journal follows. */
	static const struct {
		dz_publish_step_t step;
		dz_result_t recovered;
		uint32_t snapshot, text;
	} cases[] = {
		{ DZ_PUBLISH_STEP_SNAPSHOT, DZ_ENOTFOUND, 0, 0 },
		{ DZ_PUBLISH_STEP_TEXT, DZ_OK, 1, 0 },
		{ DZ_PUBLISH_STEP_JOURNAL, DZ_OK, 1, 1 },
	};

	for (size_t i = 0; i < DZ_ARRAY_SIZE(cases); i++) {
		uint32_t serial = 0;
		dz_publish_step_t step = cases[i].step;

		restart_dir(f);
		dz_publish_set_fault(crash_at, &step);
		assert_int_equal(publish(f, version1, NULL), DZ_ECANCELED);
		dz_publish_set_fault(NULL, NULL);
		expect_serials(f, cases[i].snapshot, 0, cases[i].text);

		assert_int_equal(dz_publish_recover(&f->target, &serial, NULL), cases[i].recovered);
		assert_int_equal(count_temporary_files(f->dir), 0);
		if (cases[i].recovered == DZ_OK) {
			assert_int_equal(serial, 1);
			expect_version(f, version1);
			assert_int_equal(journal_entries(f), 0);
			assert_int_equal(publish_diff(f, tlsa_old, tlsa_new, 2, NULL), DZ_OK);
		} else {
			assert_int_equal(publish(f, version1, NULL), DZ_OK);
			assert_int_equal(publish(f, version2, NULL), DZ_OK);
		}
		expect_version(f, version2);
	}
}

static void
crash_in_diff(void **state)
{
	struct fixture *f = *state;
	static const dz_publish_step_t steps[] = { DZ_PUBLISH_STEP_JOURNAL,
						   DZ_PUBLISH_STEP_JOURNAL_SYNC };

	for (size_t i = 0; i < DZ_ARRAY_SIZE(steps); i++) {
		uint32_t serial = 0;
		dz_publish_step_t step = steps[i];
		struct stat st;

		restart_dir(f);
		assert_int_equal(publish(f, version1, NULL), DZ_OK);
		assert_int_equal(stat(f->target.journal_path, &st), 0);
		off_t committed_size = st.st_size;

		dz_publish_set_fault(crash_at, &step);
		assert_int_equal(publish_diff(f, tlsa_old, tlsa_new, 2, NULL), DZ_ECANCELED);
		dz_publish_set_fault(NULL, NULL);
		assert_int_equal(stat(f->target.journal_path, &st), 0);
		/* Before the sync a crash leaves half the entry; before the write, nothing. */
		if (step == DZ_PUBLISH_STEP_JOURNAL_SYNC)
			assert_true(st.st_size > committed_size);
		else
			assert_int_equal(st.st_size, committed_size);
		expect_version(f, version1);

		assert_int_equal(dz_publish_recover(&f->target, &serial, NULL), DZ_OK);
		assert_int_equal(serial, 1);
		assert_int_equal(stat(f->target.journal_path, &st), 0);
		assert_int_equal(st.st_size, committed_size);
		assert_int_equal(journal_entries(f), 0);

		/* The same serial can be committed again. */
		assert_int_equal(publish_diff(f, tlsa_old, tlsa_new, 2, NULL), DZ_OK);
		expect_version(f, version2);
	}
}

static void
crash_in_materialize(void **state)
{
	struct fixture *f = *state;
	static const struct {
		dz_publish_step_t step;
		uint32_t snapshot, text;
	} cases[] = {
		{ DZ_PUBLISH_STEP_SNAPSHOT, 1, 1 },
		{ DZ_PUBLISH_STEP_TEXT, 2, 1 },
	};

	for (size_t i = 0; i < DZ_ARRAY_SIZE(cases); i++) {
		uint32_t serial = 0;
		dz_publish_step_t step = cases[i].step;

		restart_dir(f);
		assert_int_equal(publish(f, version1, NULL), DZ_OK);
		assert_int_equal(publish_diff(f, tlsa_old, tlsa_new, 2, NULL), DZ_OK);

		dz_publish_set_fault(crash_at, &step);
		assert_int_equal(dz_publish_materialize(&f->target, NULL, NULL), DZ_ECANCELED);
		dz_publish_set_fault(NULL, NULL);
		expect_serials(f, cases[i].snapshot, 2, cases[i].text);
		assert_true(count_temporary_files(f->dir) > 0);
		expect_version(f, version2);

		assert_int_equal(dz_publish_recover(&f->target, &serial, NULL), DZ_OK);
		assert_int_equal(serial, 2);
		assert_int_equal(count_temporary_files(f->dir), 0);
		expect_version(f, version2);
		assert_int_equal(dz_publish_materialize(&f->target, &serial, NULL), DZ_OK);
		assert_int_equal(serial, 2);
		expect_serials(f, 2, 2, 2);
		expect_snapshot(f, version2);
	}
}

/* Commit `count` TLSA changes after serial `from` with the fast path. */
static void
publish_tlsa_changes(struct fixture *f, unsigned from, unsigned count)
{
	for (unsigned serial = from + 1; serial <= from + count; serial++) {
		char old_text[256], new_text[256];
		const char *removed[] = { old_text, NULL };
		const char *added[] = { new_text, NULL };
		snprintf(old_text, sizeof(old_text),
			 "_25._tcp.mail.example.com. 300 IN TLSA 3 1 1 %064x", serial - 1);
		snprintf(new_text, sizeof(new_text),
			 "_25._tcp.mail.example.com. 300 IN TLSA 3 1 1 %064x", serial);
		assert_int_equal(publish_diff(f, removed, added, serial, NULL), DZ_OK);
	}
}

static const char *const small_version[] = {
	SOA(1),
	"example.com. 3600 IN NS ns1.example.com.",
	"_25._tcp.mail.example.com. 300 IN TLSA 3 1 1 "
	"0000000000000000000000000000000000000000000000000000000000000001",
	NULL,
};

static void
compaction_keeps_entries_after_snapshot(void **state)
{
	struct fixture *f = *state;
	dz_journal_t *j = NULL;
	dz_publish_status_t status;
	size_t index = 0;

	assert_int_equal(publish(f, small_version, NULL), DZ_OK);
	publish_tlsa_changes(f, 1, 1);
	assert_int_equal(dz_journal_open(f->target.journal_path, &j, NULL), DZ_OK);
	size_t entry_size = j->entries[0].size;
	size_t header_size = j->header_size;
	dz_journal_close(j);

	/* A bound with room for the header and three entries of this size. */
	f->target.journal_max_size = header_size + 3 * entry_size;
	publish_tlsa_changes(f, 2, 5);

	/* Seven entries exceed the bound, but none is in a snapshot yet. */
	assert_int_equal(dz_publish_status(&f->target, &status, NULL), DZ_OK);
	assert_int_equal(status.serial, 7);
	assert_int_equal(status.snapshot_serial, 1);
	assert_int_equal(status.pending_entries, 6);
	assert_true(status.journal_bytes > f->target.journal_max_size);

	/* A crash before the compacted journal replaces the old one changes nothing. */
	dz_publish_step_t step = DZ_PUBLISH_STEP_COMPACT;
	dz_publish_set_fault(crash_at, &step);
	assert_int_equal(dz_publish_materialize(&f->target, NULL, NULL), DZ_ECANCELED);
	dz_publish_set_fault(NULL, NULL);
	assert_int_equal(journal_entries(f), 6);
	assert_int_equal(dz_publish_recover(&f->target, NULL, NULL), DZ_OK);
	assert_int_equal(count_temporary_files(f->dir), 0);

	assert_int_equal(dz_publish_materialize(&f->target, NULL, NULL), DZ_OK);
	assert_int_equal(dz_journal_open(f->target.journal_path, &j, NULL), DZ_OK);
	assert_int_equal(j->count, 3);
	assert_int_equal(j->first_serial, 4);
	assert_int_equal(j->last_serial, 7);
	assert_true(j->valid_end <= f->target.journal_max_size);
	assert_false(dz_journal_find(j, 3, &index));
	assert_true(dz_journal_find(j, 4, &index));
	assert_int_equal(index, 0);
	dz_journal_close(j);
	assert_int_equal(dz_publish_status(&f->target, &status, NULL), DZ_OK);
	assert_int_equal(status.serial, 7);
	assert_int_equal(status.snapshot_serial, 7);

	/* Publishing goes on after the compaction. */
	publish_tlsa_changes(f, 7, 1);
	assert_int_equal(dz_publish_status(&f->target, &status, NULL), DZ_OK);
	assert_int_equal(status.serial, 8);
}

static void
recover_without_snapshot(void **state)
{
	struct fixture *f = *state;
	uint32_t serial = 99;

	assert_int_equal(dz_publish_recover(&f->target, &serial, NULL), DZ_ENOTFOUND);
	assert_int_equal(serial, 99);
}

static void
recover_resets_foreign_journal(void **state)
{
	struct fixture *f = *state;
	dz_journal_t *j = NULL;
	dz_buf_t soa;
	uint32_t serial = 0;

	assert_int_equal(publish(f, version1, NULL), DZ_OK);
	assert_int_equal(publish(f, version2, NULL), DZ_OK);
	/* A journal that does not contain the snapshot's serial cannot serve IXFR. */
	dz_buf_init(&soa);
	rr_text_append(&soa, SOA(7));
	assert_int_equal(dz_journal_create(f->target.journal_path, f->target.origin,
					   f->target.origin_len, &soa, 0644, NULL),
			 DZ_OK);
	dz_buf_clear(&soa);
	assert_int_equal(dz_publish_recover(&f->target, &serial, NULL), DZ_OK);
	assert_int_equal(serial, 2);
	assert_int_equal(dz_journal_open(f->target.journal_path, &j, NULL), DZ_OK);
	assert_int_equal(j->count, 0);
	assert_int_equal(j->last_serial, 2);
	dz_journal_close(j);
	expect_version(f, version2);
}

/* Materializes again and again until told to stop. */
struct materializer {
	struct fixture *f;
	volatile bool stop;
	unsigned runs;
	dz_result_t result;
};

static void *
materialize_loop(void *arg)
{
	struct materializer *m = arg;

	while (!m->stop && m->result == DZ_OK) {
		m->result = dz_publish_materialize(&m->f->target, NULL, NULL);
		m->runs++;
	}
	return NULL;
}

static void
materialize_beside_producer(void **state)
{
	struct fixture *f = *state;
	struct materializer m = { .f = f, .result = DZ_OK };
	pthread_t thread;
	uint32_t serial = 0;

	assert_int_equal(publish(f, small_version, NULL), DZ_OK);
	/* A small bound, so that compactions run too. */
	f->target.journal_max_size = 2048;
	assert_int_equal(pthread_create(&thread, NULL, materialize_loop, &m), 0);
	publish_tlsa_changes(f, 1, 40);
	m.stop = true;
	assert_int_equal(pthread_join(thread, NULL), 0);
	assert_int_equal(m.result, DZ_OK);
	assert_true(m.runs > 0);

	static const char *const last[] = {
		SOA(41),
		"example.com. 3600 IN NS ns1.example.com.",
		"_25._tcp.mail.example.com. 300 IN TLSA 3 1 1 "
		"0000000000000000000000000000000000000000000000000000000000000029",
		NULL,
	};
	expect_version(f, last);
	assert_int_equal(dz_publish_materialize(&f->target, &serial, NULL), DZ_OK);
	assert_int_equal(serial, 41);
	expect_snapshot(f, last);
	expect_serials(f, 41, 41, 41);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(diff_changed_tlsa),
		cmocka_unit_test(diff_ttl_only_change),
		cmocka_unit_test(diff_nsec3_chain_swap),
		cmocka_unit_test(diff_rejects_unordered_input),
		cmocka_unit_test_setup_teardown(publish_versions_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(publish_rejects_old_serial, setup, teardown),
		cmocka_unit_test_setup_teardown(publish_rejects_serial_half_circle_away, setup, teardown),
		cmocka_unit_test_setup_teardown(writer_rejects_bad_order, setup, teardown),
		cmocka_unit_test_setup_teardown(diff_commits_to_journal_only, setup, teardown),
		cmocka_unit_test_setup_teardown(diff_needs_published_version, setup, teardown),
		cmocka_unit_test_setup_teardown(diff_rejects_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(merge_removed_then_readded, setup, teardown),
		cmocka_unit_test_setup_teardown(merge_ttl_only_change, setup, teardown),
		cmocka_unit_test_setup_teardown(merge_nsec3_chain_swap, setup, teardown),
		cmocka_unit_test_setup_teardown(crash_in_full_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(crash_in_first_publication, setup, teardown),
		cmocka_unit_test_setup_teardown(crash_in_diff, setup, teardown),
		cmocka_unit_test_setup_teardown(crash_in_materialize, setup, teardown),
		cmocka_unit_test_setup_teardown(compaction_keeps_entries_after_snapshot, setup,
						teardown),
		cmocka_unit_test_setup_teardown(recover_without_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(recover_resets_foreign_journal, setup, teardown),
		cmocka_unit_test_setup_teardown(materialize_beside_producer, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
