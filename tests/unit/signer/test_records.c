/* Record arithmetic: NSEC3 hashes, type bitmaps, key tags, DS, jitter, serials. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <ldns/ldns.h>
#include <openssl/evp.h>

#include "signer/denial.h"
#include "signer/nsec3.h"
#include "signer/rrsig.h"
#include "signer/serial.h"
#include "signer_test.h"

/* RFC 5155 appendix A: salt aabbccdd, 12 iterations. */
static void
nsec3_hashes_rfc5155_appendix_a(void **state)
{
	static const struct {
		const char *name;
		const char *hash;
	} cases[] = {
		{ "example.", "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom" },
		{ "a.example.", "35mthgpgcu1qg68fab165klnsnk3dpvl" },
		{ "ai.example.", "gjeqe526plbf1g8mklp59enfd789njgi" },
		{ "ns1.example.", "2t7b4g4vsa5smi47k61mv5bv1a22bojr" },
		{ "ns2.example.", "q04jkcevqvmu85r014c7dkba38o0ji5r" },
		{ "w.example.", "k8udemvp1j2f7eg6jebps17vp3n8i58h" },
		{ "*.w.example.", "r53bq7cc2uvmubfu5ocmm6pers9tk9en" },
		{ "x.w.example.", "b4um86eghhds6nea196smvmlo4ors995" },
		{ "y.w.example.", "ji6neoaepv8b5o6k4ev33abha8ht9fgc" },
		{ "x.y.w.example.", "2vptu5timamqttgl4luu9kg21e0aor3s" },
		{ "xx.example.", "t644ebqk9bibcna874givr6joj62mlhv" },
	};
	static const uint8_t salt[] = { 0xaa, 0xbb, 0xcc, 0xdd };
	uint8_t origin[DZ_NAME_WIRE_MAX];
	size_t origin_len = test_wire_name("example.", origin);
	dz_zone_t *zone = dz_zone_create(origin, origin_len);

	(void)state;
	assert_non_null(zone);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t wire[DZ_NAME_WIRE_MAX];
		size_t len = test_wire_name(cases[i].name, wire);
		uint8_t hash[DZ_NSEC3_HASH_LEN];
		uint8_t decoded[DZ_NSEC3_HASH_LEN];
		uint8_t key[DZ_NAME_KEY_MAX];
		size_t key_len;

		assert_true(dz_nsec3_hash(wire, len, salt, sizeof(salt), 12, hash));
		assert_int_equal(dz_base32hex_decode((const uint8_t *)cases[i].hash, 32, decoded,
						     sizeof(decoded)), DZ_NSEC3_HASH_LEN);
		assert_memory_equal(hash, decoded, DZ_NSEC3_HASH_LEN);
		/* The owner label is the base32hex text of the hash. */
		key_len = dz_zone_nsec3_owner_key(zone, hash, key);
		assert_int_equal(key_len, zone->origin_key_len + 33);
		assert_memory_equal(key + zone->origin_key_len + 1, cases[i].hash, 32);
		assert_true(dz_nsec3_owner_hash(zone, key, key_len, decoded));
		assert_memory_equal(hash, decoded, DZ_NSEC3_HASH_LEN);
	}
	dz_zone_destroy(zone);
}

/* RFC 4034 section 4.3: NSEC of alfa.example.com with A MX RRSIG NSEC TYPE1234. */
static void
type_bitmap_rfc4034_example(void **state)
{
	static const uint16_t types[] = { 1, 15, 46, 47, 1234 };
	static const uint8_t expected[] = {
		0x00, 0x06, 0x40, 0x01, 0x00, 0x00, 0x00, 0x03, 0x04, 0x1b, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20,
	};
	uint8_t out[DZ_TYPE_BITMAP_MAX];

	(void)state;
	assert_int_equal(dz_type_bitmap_encode(types, 5, out), sizeof(expected));
	assert_memory_equal(out, expected, sizeof(expected));
	assert_int_equal(dz_type_bitmap_encode(types, 0, out), 0);
}

/* RFC 4034 section 5.4: the DNSKEY of dskey.example.com has key tag 60485. */
static void
key_tag_rfc4034_example(void **state)
{
	static const char *key_text =
		"dskey.example.com. 86400 IN DNSKEY 256 3 5 AQOeiiR0GOMYkDshWoSKz9Xz"
		"fwJr1AYtsmx3TGkJaNXVbfi/2pHm822aJ5iI9BMzNXxeYCmZDRD99WYwYqUSdjMmmAphXdvx"
		"egXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9XzcnOf+EPbtG9DMBmADjFDc2w/r"
		"ljwvFw==";
	ldns_rr *rr = NULL;
	ldns_buffer *buf = ldns_buffer_new(1024);

	(void)state;
	assert_int_equal(ldns_rr_new_frm_str(&rr, key_text, 0, NULL, NULL), LDNS_STATUS_OK);
	assert_int_equal(ldns_rr_rdata2buffer_wire(buf, rr), LDNS_STATUS_OK);
	assert_int_equal(dz_key_tag(ldns_buffer_begin(buf), ldns_buffer_position(buf)), 60485);
	/* And the same as ldns computes. */
	assert_int_equal(dz_key_tag(ldns_buffer_begin(buf), ldns_buffer_position(buf)),
			 ldns_calc_keytag(rr));
	ldns_rr_free(rr);
	ldns_buffer_free(buf);
}

/* A DS record equals the one ldns derives from the same DNSKEY. */
static void
ds_digest_matches_ldns(void **state)
{
	static const char *key_text =
		"example.com. 3600 IN DNSKEY 257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+G"
		"qJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==";
	ldns_rr *rr = NULL;
	ldns_rr *ds;
	ldns_buffer *buf = ldns_buffer_new(1024);
	ldns_buffer *ds_buf = ldns_buffer_new(1024);
	uint8_t owner[DZ_NAME_WIRE_MAX];
	size_t owner_len = test_wire_name("example.com.", owner);
	uint8_t out[4 + 64];
	size_t len;

	(void)state;
	assert_int_equal(ldns_rr_new_frm_str(&rr, key_text, 0, NULL, NULL), LDNS_STATUS_OK);
	assert_int_equal(ldns_rr_rdata2buffer_wire(buf, rr), LDNS_STATUS_OK);
	len = dz_ds_rdata(owner, owner_len, ldns_buffer_begin(buf), ldns_buffer_position(buf), 2, out);
	assert_int_equal(len, 4 + 32);
	ds = ldns_key_rr2ds(rr, LDNS_SHA256);
	assert_non_null(ds);
	assert_int_equal(ldns_rr_rdata2buffer_wire(ds_buf, ds), LDNS_STATUS_OK);
	assert_int_equal(ldns_buffer_position(ds_buf), len);
	assert_memory_equal(ldns_buffer_begin(ds_buf), out, len);
	assert_int_equal(dz_ds_rdata(owner, owner_len, ldns_buffer_begin(buf),
				     ldns_buffer_position(buf), 1, out), 0);
	ldns_rr_free(rr);
	ldns_rr_free(ds);
	ldns_buffer_free(buf);
	ldns_buffer_free(ds_buf);
}

static void
jitter_is_deterministic_and_bounded(void **state)
{
	uint8_t key[DZ_NAME_KEY_MAX];
	size_t len = test_key("_25._tcp.mail.example.com.", key);
	int64_t first = dz_rrsig_jitter(key, len, 52, 12345, 43200);
	size_t differs = 0;

	(void)state;
	assert_true(first >= 0 && first <= 43200);
	assert_int_equal(dz_rrsig_jitter(key, len, 52, 12345, 43200), first);
	assert_int_equal(dz_rrsig_jitter(key, len, 52, 12345, 0), 0);
	/* Different types and key tags spread over the range. */
	for (uint16_t type = 1; type <= 100; type++) {
		int64_t j = dz_rrsig_jitter(key, len, type, 12345, 43200);
		assert_true(j >= 0 && j <= 43200);
		differs += j != first;
	}
	assert_true(differs >= 95);
}

static void
rrsig_time_uses_serial_arithmetic(void **state)
{
	dz_time_t now = 4294967296LL + 1000; /* after the 32-bit wrap in 2106 */

	(void)state;
	assert_int_equal(dz_rrsig_time(2000, now), 4294967296LL + 2000);
	assert_int_equal(dz_rrsig_time(0xffffff00U, now), 4294967296LL - 256);
	assert_int_equal(dz_rrsig_time(1700000000U, 1700000000), 1700000000);
}

static void
rrsig_labels_skip_wildcard(void **state)
{
	uint8_t key[DZ_NAME_KEY_MAX];
	size_t len;

	(void)state;
	len = test_key("*.w.example.", key);
	assert_int_equal(dz_rrsig_labels(key, len), 2);
	len = test_key("x.w.example.", key);
	assert_int_equal(dz_rrsig_labels(key, len), 3);
	len = test_key("example.", key);
	assert_int_equal(dz_rrsig_labels(key, len), 1);
}

static void
serial_policies(void **state)
{
	uint32_t serial = 0;
	dz_error_t err;
	dz_time_t now = 1767225600; /* 2026-01-01T00:00:00Z */

	(void)state;
	dz_error_init(&err);
	assert_int_equal(dz_serial_next(DZ_SERIAL_KEEP, 7, true, 6, now, &serial, &err), DZ_OK);
	assert_int_equal(serial, 7);
	assert_int_equal(dz_serial_next(DZ_SERIAL_KEEP, 6, true, 6, now, &serial, &err), DZ_ESTATE);
	assert_non_null(strstr(err.message, "not greater"));
	/* 2^31 ahead is not greater (common/serial.h), so the keep policy rejects it. */
	assert_int_equal(dz_serial_next(DZ_SERIAL_KEEP, 0x80000006U, true, 6, now, &serial, &err),
			 DZ_ESTATE);
	/* The clock value is 2^31 ahead of the previous serial, so previous + 1 is used. */
	assert_int_equal(dz_serial_next(DZ_SERIAL_UNIXTIME, 1, true, 1767225600U - 0x80000000U, now,
					&serial, &err),
			 DZ_OK);
	assert_int_equal(serial, 1767225600U - 0x80000000U + 1);
	assert_int_equal(dz_serial_next(DZ_SERIAL_INCREMENT, 1, true, 0xffffffffU, now, &serial, &err),
			 DZ_OK);
	assert_int_equal(serial, 0);
	assert_int_equal(dz_serial_next(DZ_SERIAL_INCREMENT, 9, false, 0, now, &serial, &err), DZ_OK);
	assert_int_equal(serial, 9);
	assert_int_equal(dz_serial_next(DZ_SERIAL_UNIXTIME, 1, true, 5, now, &serial, &err), DZ_OK);
	assert_int_equal(serial, 1767225600U);
	/* Never backwards: a previous serial ahead of the clock is incremented. */
	assert_int_equal(dz_serial_next(DZ_SERIAL_UNIXTIME, 1, true, 1767225700U, now, &serial, &err),
			 DZ_OK);
	assert_int_equal(serial, 1767225701U);
	assert_int_equal(dz_serial_next(DZ_SERIAL_DATECOUNTER, 1, true, 2025123105U, now, &serial, &err),
			 DZ_OK);
	assert_int_equal(serial, 2026010100U);
	assert_int_equal(dz_serial_next(DZ_SERIAL_DATECOUNTER, 1, true, 2026010100U, now, &serial, &err),
			 DZ_OK);
	assert_int_equal(serial, 2026010101U);
	/* A first version keeps a source serial that is ahead of the date. */
	assert_int_equal(dz_serial_next(DZ_SERIAL_DATECOUNTER, 2026010105U, false, 0, now, &serial, &err),
			 DZ_OK);
	assert_int_equal(serial, 2026010105U);
	assert_int_equal(dz_serial_next(DZ_SERIAL_DATECOUNTER, 2025010105U, false, 0, now, &serial, &err),
			 DZ_OK);
	assert_int_equal(serial, 2026010100U);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nsec3_hashes_rfc5155_appendix_a),
		cmocka_unit_test(type_bitmap_rfc4034_example),
		cmocka_unit_test(key_tag_rfc4034_example),
		cmocka_unit_test(ds_digest_matches_ldns),
		cmocka_unit_test(jitter_is_deterministic_and_bounded),
		cmocka_unit_test(rrsig_time_uses_serial_arithmetic),
		cmocka_unit_test(rrsig_labels_skip_wildcard),
		cmocka_unit_test(serial_policies),
	};

	return cmocka_run_group_tests_name("signer_records", tests, NULL, NULL);
}
