#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "common/mem.h"
#include "signer/tsig.h"

/*
 * Expected MACs were computed with Python's hmac module over the MAC input
 * of RFC 8945 section 4.3, built by hand: key "xfr." with the secret
 * "0123456789abcdef0123456789abcdef", a query for example.com. SOA with ID
 * 0x1234 signed at 1700000000, a first response (QR AA, question
 * example.com. AXFR) signed at 1700000001 and a second response (header
 * only) signed at 1700000002 with the timers alone.  Fudge 300.
 */
static const struct {
	const char *algorithm;
	const char *request_mac;
	const char *first_mac;
	const char *second_mac;
} vectors[] = {
	{ "hmac-sha256", "0c81ca30f9ffb560a1b4039f4ee5159131cc818cad27b39dad06722fbe87adfc",
	  "0433965298c43be47bdcbc17b7aa95def7185440c7265de366cda8b43fb67676",
	  "a883e041980423b0bf06790279426a5673298afee5d02e1fad6284349761e5d5" },
	{ "hmac-sha384",
	  "15bd407e26c8c68736601676492fc251d655e1f4726423c52c52c1d98e3c2d140524b24104b32cf9648459f09a0e8920",
	  "b72a71ad308cefe497b973e7dc0a4e001103da91fa8d2f3b688166df356d471c0a8f335b84b594d4e920c496fa80d83a",
	  "c5154ebcba7570a2ffd221d9b733a1befe7de349c9f336fc803783265025a4072af58d2887362dce6a2770fb19bdd40f" },
	{ "hmac-sha512",
	  "61f6b5a38e10bdee8c58b221ebfd7be0886fad15eda549bcc1de579ec405da35c9311011705d7203d9474623ca301c08aec8e121700379912e7c22a9fd62481c",
	  "c27b16ecfc0800e988c3b80a579c97016a594d3830bd2ea8fe7bd7c6097b89708de41d1163cc6a7729cb6442f75eb40d05c8fc753610b8594f106ba43d309d69",
	  "d35f933cdbdc630c1bae24f4e3d0d97f401c1918fe6f5188cb7a3258b26e0678287f0f3aeffa367d03e5311bdf2d755c0239c11b57e4fe68a2f133fa32ce4044" },
};

#define SECRET_BASE64 "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
#define SIGNED_AT 1700000000

static const uint8_t qname[] = "\007example\003com";

/* Header, then the question when `qtype` is not 0. */
static size_t
build_message(uint8_t *msg, uint16_t flags, uint16_t qtype)
{
	memset(msg, 0, 12);
	msg[0] = 0x12;
	msg[1] = 0x34;
	msg[2] = (uint8_t)(flags >> 8);
	msg[3] = (uint8_t)flags;
	if (qtype == 0)
		return 12;
	msg[5] = 1;
	memcpy(msg + 12, qname, sizeof(qname));
	size_t len = 12 + sizeof(qname);
	msg[len++] = (uint8_t)(qtype >> 8);
	msg[len++] = (uint8_t)qtype;
	msg[len++] = 0;
	msg[len++] = 1;
	return len;
}

/* Check the MAC of the TSIG RR that starts at `offset` against hex `expected`. */
static void
assert_mac(const uint8_t *msg, size_t len, size_t offset, const char *expected)
{
	dz_tsig_record_t record;
	char hex[2 * DZ_TSIG_MAC_MAX + 1];

	assert_int_equal(dz_tsig_record_parse(msg, len, offset, &record), DZ_OK);
	dz_hex_encode(record.mac, record.mac_len, hex);
	assert_string_equal(hex, expected);
}

static void
tsig_sign_matches_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < DZ_ARRAY_SIZE(vectors); i++) {
		dz_tsig_key_t key;
		dz_tsig_context_t client, server;
		dz_tsig_record_t record;
		uint8_t query[512], first[512], second[512];
		size_t query_len, first_len, second_len;

		assert_int_equal(dz_tsig_key_init(&key, "XFR", vectors[i].algorithm, SECRET_BASE64,
						  NULL),
				 DZ_OK);
		assert_int_equal(key.secret_len, 32);

		/* The client signs the query. */
		query_len = build_message(query, 0, 6);
		size_t unsigned_len = query_len;
		dz_tsig_context_init(&client, &key);
		assert_int_equal(dz_tsig_sign(&client, query, &query_len, sizeof(query), SIGNED_AT, 0),
				 DZ_OK);
		assert_int_equal(query[11], 1);
		assert_int_equal(query_len - unsigned_len, dz_tsig_record_size(&key) - 6);
		assert_mac(query, query_len, unsigned_len, vectors[i].request_mac);

		/* The server verifies it and signs two responses of one transfer. */
		assert_int_equal(dz_tsig_record_parse(query, query_len, unsigned_len, &record), DZ_OK);
		assert_int_equal(dz_tsig_verify_request(&key, 1, query, query_len, &record, SIGNED_AT,
							&server),
				 0);
		first_len = build_message(first, 0x8400, 252);
		size_t first_unsigned = first_len;
		assert_int_equal(dz_tsig_sign(&server, first, &first_len, sizeof(first), SIGNED_AT + 1,
					      0),
				 DZ_OK);
		assert_mac(first, first_len, first_unsigned, vectors[i].first_mac);
		second_len = build_message(second, 0x8400, 0);
		size_t second_unsigned = second_len;
		assert_int_equal(dz_tsig_sign(&server, second, &second_len, sizeof(second),
					      SIGNED_AT + 2, 0),
				 DZ_OK);
		assert_mac(second, second_len, second_unsigned, vectors[i].second_mac);

		/* The client verifies the first response with the request MAC. */
		assert_int_equal(dz_tsig_record_parse(first, first_len, first_unsigned, &record), DZ_OK);
		assert_int_equal(dz_tsig_verify_response(&client, first, first_len, &record,
							 SIGNED_AT + 1),
				 0);
		dz_tsig_key_clear(&key);
	}
}

/* Sign a query with `key` at `when` and return its length; the TSIG starts at *offset. */
static size_t
signed_query(const dz_tsig_key_t *key, uint8_t *msg, size_t cap, dz_time_t when, size_t *offset)
{
	dz_tsig_context_t ctx;
	size_t len = build_message(msg, 0, 252);

	*offset = len;
	dz_tsig_context_init(&ctx, key);
	assert_int_equal(dz_tsig_sign(&ctx, msg, &len, cap, when, 0), DZ_OK);
	return len;
}

static void
tsig_verify_reports_errors(void **state)
{
	dz_tsig_key_t key, other, wrong_secret;
	dz_tsig_context_t ctx;
	dz_tsig_record_t record;
	uint8_t msg[512];
	size_t offset;

	(void)state;
	assert_int_equal(dz_tsig_key_parse(&key, "hmac-sha256:xfr:" SECRET_BASE64, NULL), DZ_OK);
	assert_int_equal(dz_tsig_key_parse(&other, "hmac-sha256:other:" SECRET_BASE64, NULL), DZ_OK);
	assert_int_equal(dz_tsig_key_parse(&wrong_secret, "hmac-sha256:xfr:c2VjcmV0", NULL), DZ_OK);
	size_t len = signed_query(&key, msg, sizeof(msg), SIGNED_AT, &offset);
	assert_int_equal(dz_tsig_record_parse(msg, len, offset, &record), DZ_OK);

	assert_int_equal(dz_tsig_verify_request(&key, 1, msg, len, &record, SIGNED_AT, &ctx), 0);
	/* The time check allows the fudge of 300 seconds either way. */
	assert_int_equal(dz_tsig_verify_request(&key, 1, msg, len, &record, SIGNED_AT + 300, &ctx),
			 0);
	assert_int_equal(dz_tsig_verify_request(&key, 1, msg, len, &record, SIGNED_AT + 301, &ctx),
			 DZ_TSIG_BADTIME);
	assert_int_equal(dz_tsig_verify_request(&key, 1, msg, len, &record, SIGNED_AT - 301, &ctx),
			 DZ_TSIG_BADTIME);
	assert_int_equal(dz_tsig_verify_request(&other, 1, msg, len, &record, SIGNED_AT, &ctx),
			 DZ_TSIG_BADKEY);
	assert_int_equal(dz_tsig_verify_request(&wrong_secret, 1, msg, len, &record, SIGNED_AT,
						&ctx),
			 DZ_TSIG_BADSIG);

	/* A changed message byte breaks the MAC. */
	msg[3] ^= 0x01;
	assert_int_equal(dz_tsig_verify_request(&key, 1, msg, len, &record, SIGNED_AT, &ctx),
			 DZ_TSIG_BADSIG);
	msg[3] ^= 0x01;

	/* A valid MAC truncated to 16 bytes is below our policy; to 8 it is malformed. */
	record.mac_len = 16;
	assert_int_equal(dz_tsig_verify_request(&key, 1, msg, len, &record, SIGNED_AT, &ctx),
			 DZ_TSIG_BADTRUNC);
	record.mac_len = 8;
	assert_int_equal(dz_tsig_verify_request(&key, 1, msg, len, &record, SIGNED_AT, &ctx), -1);
}

static void
tsig_record_parse_rejects_truncation(void **state)
{
	dz_tsig_key_t key;
	dz_tsig_record_t record;
	uint8_t msg[512];
	size_t offset;

	(void)state;
	assert_int_equal(dz_tsig_key_parse(&key, "hmac-sha512:xfr:" SECRET_BASE64, NULL), DZ_OK);
	size_t len = signed_query(&key, msg, sizeof(msg), SIGNED_AT, &offset);
	assert_int_equal(dz_tsig_record_parse(msg, len, offset, &record), DZ_OK);
	assert_int_equal(record.time_signed, SIGNED_AT);
	assert_int_equal(record.fudge, DZ_TSIG_FUDGE);
	assert_int_equal(record.mac_len, 64);
	assert_int_equal(record.original_id, 0x1234);
	for (size_t cut = offset; cut < len; cut++)
		assert_int_equal(dz_tsig_record_parse(msg, cut, offset, &record), DZ_EFORMERR);
}

static void
tsig_key_parse_rejects_bad_input(void **state)
{
	dz_tsig_key_t key;
	dz_error_t err;

	(void)state;
	dz_error_init(&err);
	assert_int_equal(dz_tsig_key_parse(&key, "hmac-md5:xfr:c2VjcmV0", &err), DZ_EINVAL);
	assert_non_null(strstr(err.message, "unsupported algorithm 'hmac-md5'"));
	assert_int_equal(dz_tsig_key_parse(&key, "hmac-sha256:xfr:not base64!", &err), DZ_EINVAL);
	assert_int_equal(dz_tsig_key_parse(&key, "hmac-sha256:xfr", &err), DZ_EINVAL);
	assert_non_null(strstr(err.message, "ALGORITHM:NAME:SECRET"));
	assert_int_equal(dz_tsig_key_parse(&key, "HMAC-SHA384:Xfr.Example:c2VjcmV0", NULL), DZ_OK);
	assert_string_equal(key.name_text, "xfr.example.");
	assert_int_equal(key.algorithm, DZ_TSIG_HMAC_SHA384);
	assert_int_equal(key.secret_len, 6);
	assert_memory_equal(key.secret, "secret", 6);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tsig_sign_matches_vectors),
		cmocka_unit_test(tsig_verify_reports_errors),
		cmocka_unit_test(tsig_record_parse_rejects_truncation),
		cmocka_unit_test(tsig_key_parse_rejects_bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
