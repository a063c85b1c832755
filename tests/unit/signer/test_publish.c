#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "common/file.h"
#include "signer/journal.h"
#include "signer/publish.h"
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
	assert_int_equal(dz_publish_diff(old_rrs.data, old_rrs.len, new_rrs.data, new_rrs.len,
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
	assert_int_equal(dz_publish_diff(a.data, a.len, b.data, b.len, &removed, &added, NULL),
			 DZ_EZONE);
	dz_buf_clear(&a);
	dz_buf_clear(&b);
	dz_buf_clear(&removed);
	dz_buf_clear(&added);
}

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
publish_versions_round_trip(void **state)
{
	struct fixture *f = *state;
	dz_snapshot_t *s = NULL;
	dz_journal_t *j = NULL;
	dz_buf_t expected;
	uint32_t a, b, c;

	assert_string_equal(f->target.zone, "example.com.");
	assert_non_null(strstr(f->target.snapshot_path, "/example.com.snapshot"));
	assert_int_equal(publish(f, version1, NULL), DZ_OK);
	published_serials(f, &a, &b, &c);
	assert_int_equal(a, 1);
	assert_int_equal(b, 1);
	assert_int_equal(c, 1);

	assert_int_equal(publish(f, version2, NULL), DZ_OK);
	published_serials(f, &a, &b, &c);
	assert_int_equal(a, 2);
	assert_int_equal(b, 2);
	assert_int_equal(c, 2);

	/* The snapshot contains version 2 byte for byte. */
	dz_buf_init(&expected);
	rr_text_append_all(&expected, version2);
	assert_int_equal(dz_snapshot_open(f->target.snapshot_path, true, &s, NULL), DZ_OK);
	assert_int_equal(s->rr_count, 6);
	assert_int_equal(s->data_len, expected.len);
	assert_memory_equal(s->data, expected.data, expected.len);
	dz_snapshot_close(s);

	/* The journal contains the computed diff with both SOAs. */
	assert_int_equal(dz_journal_open(f->target.journal_path, &j, NULL), DZ_OK);
	assert_int_equal(j->count, 1);
	assert_int_equal(j->entries[0].old_serial, 1);
	assert_int_equal(j->entries[0].removed_count, 1);
	assert_int_equal(j->entries[0].added_count, 1);
	expected.len = 0;
	rr_text_append(&expected, TLSA_NEW);
	assert_int_equal(j->entries[0].added_len, expected.len);
	assert_memory_equal(j->entries[0].added, expected.data, expected.len);
	dz_journal_close(j);

	/* ldns reads the text file back as the same six RRs. */
	FILE *fp = fopen(f->target.text_path, "r");
	ldns_zone *zone = NULL;
	assert_non_null(fp);
	assert_int_equal(ldns_zone_new_frm_fp(&zone, fp, NULL, 3600, LDNS_RR_CLASS_IN),
			 LDNS_STATUS_OK);
	fclose(fp);
	assert_int_equal(ldns_rr_list_rr_count(ldns_zone_rrs(zone)), 5);
	assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(ldns_zone_soa(zone), 2)), 2);
	ldns_zone_deep_free(zone);
	dz_buf_clear(&expected);
}

static void
publish_rejects_old_serial(void **state)
{
	struct fixture *f = *state;
	dz_error_t err;
	uint32_t a, b, c;

	assert_int_equal(publish(f, version2, NULL), DZ_OK);
	dz_error_init(&err);
	assert_int_equal(publish(f, version1, &err), DZ_ESTATE);
	assert_non_null(strstr(err.message, "not after the published serial 2"));
	published_serials(f, &a, &b, &c);
	assert_int_equal(a, 2);
	assert_int_equal(b, 2);
	assert_int_equal(c, 2);
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

static void
crash_at_each_step_recovers(void **state)
{
	struct fixture *f = *state;
	/* After a crash before STEP, the files hold these serials (snapshot, journal, text). */
	static const struct {
		dz_publish_step_t step;
		uint32_t snapshot, journal, text;
		uint32_t recovered;
	} cases[] = {
		{ DZ_PUBLISH_STEP_JOURNAL, 1, 1, 1, 1 },
		{ DZ_PUBLISH_STEP_SNAPSHOT, 1, 2, 1, 1 },
		{ DZ_PUBLISH_STEP_TEXT, 2, 2, 1, 2 },
	};

	for (size_t i = 0; i < DZ_ARRAY_SIZE(cases); i++) {
		uint32_t a, b, c, serial = 0;
		dz_publish_step_t step = cases[i].step;

		rr_text_remove_dir(f->dir);
		assert_int_equal(dz_mkdir_p(f->dir, 0755, NULL), DZ_OK);
		assert_int_equal(publish(f, version1, NULL), DZ_OK);

		dz_publish_set_fault(crash_at, &step);
		assert_int_equal(publish(f, version2, NULL), DZ_ECANCELED);
		dz_publish_set_fault(NULL, NULL);
		published_serials(f, &a, &b, &c);
		assert_int_equal(a, cases[i].snapshot);
		assert_int_equal(b, cases[i].journal);
		assert_int_equal(c, cases[i].text);
		assert_true(count_temporary_files(f->dir) > 0);

		assert_int_equal(dz_publish_recover(&f->target, &serial, NULL), DZ_OK);
		assert_int_equal(serial, cases[i].recovered);
		published_serials(f, &a, &b, &c);
		assert_int_equal(a, cases[i].recovered);
		assert_int_equal(b, cases[i].recovered);
		assert_int_equal(c, cases[i].recovered);
		assert_int_equal(count_temporary_files(f->dir), 0);

		/* Publishing continues from the recovered version with a usable journal. */
		dz_journal_t *j = NULL;
		assert_int_equal(dz_journal_open(f->target.journal_path, &j, NULL), DZ_OK);
		assert_int_equal(j->count, cases[i].recovered == 2 ? 1 : 0);
		dz_journal_close(j);
		if (cases[i].recovered == 1)
			assert_int_equal(publish(f, version2, NULL), DZ_OK);
		published_serials(f, &a, &b, &c);
		assert_int_equal(a, 2);
		assert_int_equal(b, 2);
		assert_int_equal(c, 2);
	}
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
	uint32_t serial = 0;

	assert_int_equal(publish(f, version1, NULL), DZ_OK);
	assert_int_equal(publish(f, version2, NULL), DZ_OK);
	/* A journal that ends elsewhere than the snapshot cannot serve IXFR. */
	assert_int_equal(dz_journal_reset(f->target.journal_path, f->target.origin,
					  f->target.origin_len, 7, 0644, NULL),
			 DZ_OK);
	assert_int_equal(dz_publish_recover(&f->target, &serial, NULL), DZ_OK);
	assert_int_equal(serial, 2);
	assert_int_equal(dz_journal_open(f->target.journal_path, &j, NULL), DZ_OK);
	assert_int_equal(j->count, 0);
	assert_int_equal(j->last_serial, 2);
	dz_journal_close(j);
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
		cmocka_unit_test_setup_teardown(crash_at_each_step_recovers, setup, teardown),
		cmocka_unit_test_setup_teardown(recover_without_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(recover_resets_foreign_journal, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
