#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <ldns/ldns.h>

#include "signer/wire.h"
#include "tests/unit/signer/rr_text.h"

static void
name_order_matches_rfc4034(void **state)
{
	/* RFC 4034 section 6.1 lists these names in canonical order. */
	static const char *const names[] = {
		"example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.",
		"zABC.a.EXAMPLE.", "z.example.", "\\001.z.example.", "*.z.example.",
		"\\200.z.example.",
	};
	uint8_t wire[DZ_ARRAY_SIZE(names)][DZ_WIRE_NAME_MAX];

	(void)state;
	for (size_t i = 0; i < DZ_ARRAY_SIZE(names); i++)
		assert_true(dz_wire_name_from_text(names[i], wire[i]) > 0);
	for (size_t i = 0; i < DZ_ARRAY_SIZE(names); i++) {
		for (size_t j = 0; j < DZ_ARRAY_SIZE(names); j++) {
			int c = dz_wire_name_compare(wire[i], wire[j]);
			if (i < j)
				assert_true(c < 0);
			else if (i > j)
				assert_true(c > 0);
			else
				assert_int_equal(c, 0);
		}
	}
}

static void
name_text_round_trip(void **state)
{
	uint8_t wire[DZ_WIRE_NAME_MAX];
	char text[4 * DZ_WIRE_NAME_MAX + 1];

	(void)state;
	assert_int_equal(dz_wire_name_from_text("Mail.Example.COM", wire), 18);
	assert_memory_equal(wire, "\004mail\007example\003com", 18);
	dz_wire_name_to_text(wire, text, sizeof(text));
	assert_string_equal(text, "mail.example.com.");

	assert_int_equal(dz_wire_name_from_text("a\\.b.\\255.", wire), 7);
	dz_wire_name_to_text(wire, text, sizeof(text));
	assert_string_equal(text, "a\\.b.\\255.");

	assert_int_equal(dz_wire_name_from_text(".", wire), 1);
	assert_int_equal(dz_wire_name_from_text("a..b", wire), 0);
	assert_int_equal(dz_wire_name_from_text(
				 "a234567890123456789012345678901234567890123456789012345678901234.b",
				 wire),
			 0);
}

static void
rr_parse_rejects_truncation(void **state)
{
	dz_buf_t buf;
	dz_wire_rr_t rr;
	size_t offset = 0;

	(void)state;
	dz_buf_init(&buf);
	rr_text_append(&buf, "www.example.com. 300 IN A 192.0.2.1");
	assert_int_equal(dz_wire_rr_parse(buf.data, buf.len, &offset, &rr), DZ_OK);
	assert_int_equal(offset, buf.len);
	assert_int_equal(rr.type, 1);
	assert_int_equal(rr.ttl, 300);
	assert_int_equal(rr.rdlength, 4);
	for (size_t cut = 0; cut < buf.len; cut++) {
		offset = 0;
		assert_int_equal(dz_wire_rr_parse(buf.data, cut, &offset, &rr), DZ_EFORMERR);
	}
	dz_buf_clear(&buf);
}

static void
msg_read_name_follows_pointers(void **state)
{
	/* "example.com" at 12, then "www" + pointer to 12 at 25. */
	uint8_t msg[64] = { 0 };
	uint8_t name[DZ_WIRE_NAME_MAX];
	size_t offset = 25;

	(void)state;
	memcpy(msg + 12, "\007example\003com\000", 13);
	memcpy(msg + 25, "\003www\300\014", 6);
	assert_int_equal(dz_wire_msg_read_name(msg, 31, 25, name), 17);
	assert_memory_equal(name, "\003www\007example\003com", 17);
	assert_int_equal(dz_wire_msg_skip_name(msg, 31, &offset), DZ_OK);
	assert_int_equal(offset, 31);

	/* A pointer back into the same name loops, and reading rejects it. */
	msg[29] = 0xc0;
	msg[30] = 25;
	assert_int_equal(dz_wire_msg_read_name(msg, 31, 25, name), 0);

	/* A forward pointer is rejected by both. */
	msg[30] = 40;
	assert_int_equal(dz_wire_msg_read_name(msg, 64, 25, name), 0);
	offset = 25;
	assert_int_equal(dz_wire_msg_skip_name(msg, 64, &offset), DZ_EFORMERR);
}

static void
builder_compresses_for_ldns(void **state)
{
	static const char *const texts[] = {
		"example.com. 3600 IN NS ns1.example.net.",
		"example.com. 3600 IN TXT \"apex\"",
		"_25._tcp.mail.example.com. 300 IN TLSA 3 1 1 "
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"_25._tcp.mail.example.com. 300 IN TXT \"same owner\"",
		"_465._tcp.mail.example.com. 300 IN TXT \"shares _tcp.mail\"",
		"mail.example.com. 300 IN A 192.0.2.25",
		"www.example.com. 300 IN A 192.0.2.80",
		"www.example.org. 300 IN A 192.0.2.81",
		NULL,
	};
	uint8_t origin[DZ_WIRE_NAME_MAX];
	size_t origin_len = dz_wire_name_from_text("example.com", origin);
	uint8_t msg[1024];
	dz_wire_builder_t b;
	dz_buf_t rrs;
	size_t offset = 0;
	ldns_pkt *pkt = NULL;

	(void)state;
	dz_buf_init(&rrs);
	rr_text_append_all(&rrs, texts);
	dz_wire_builder_init(&b, msg, sizeof(msg), 0x1234, DZ_FLAG_QR | DZ_FLAG_AA);
	assert_true(dz_wire_builder_question(&b, origin, origin_len, DZ_TYPE_AXFR, DZ_CLASS_IN));
	while (offset < rrs.len) {
		dz_wire_rr_t rr;
		assert_int_equal(dz_wire_rr_parse(rrs.data, rrs.len, &offset, &rr), DZ_OK);
		assert_true(dz_wire_builder_rr(&b, 1, &rr));
	}
	/* Compression made the message shorter than the RRs themselves. */
	assert_true(b.len < DZ_WIRE_HEADER_SIZE + origin_len + 4 + rrs.len);

	assert_int_equal(ldns_wire2pkt(&pkt, msg, b.len), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_id(pkt), 0x1234);
	assert_int_equal(ldns_pkt_ancount(pkt), 8);
	for (size_t i = 0; texts[i] != NULL; i++) {
		ldns_rr *expected = NULL;
		assert_int_equal(ldns_rr_new_frm_str(&expected, texts[i], 0, NULL, NULL),
				 LDNS_STATUS_OK);
		assert_int_equal(ldns_rr_compare(expected, ldns_rr_list_rr(ldns_pkt_answer(pkt), i)),
				 0);
		ldns_rr_free(expected);
	}
	ldns_pkt_free(pkt);

	/* An RR that does not fit leaves the message unchanged. */
	dz_wire_builder_init(&b, msg, DZ_WIRE_HEADER_SIZE + 20, 1, 0);
	offset = 0;
	dz_wire_rr_t first;
	assert_int_equal(dz_wire_rr_parse(rrs.data, rrs.len, &offset, &first), DZ_OK);
	assert_false(dz_wire_builder_rr(&b, 1, &first));
	assert_int_equal(b.len, DZ_WIRE_HEADER_SIZE);
	assert_int_equal(dz_wire_builder_count(&b, 1), 0);
	dz_buf_clear(&rrs);
}

static void
builder_compression_past_16k(void **state)
{
	static uint8_t msg[DZ_WIRE_MESSAGE_MAX];
	dz_wire_builder_t b;
	dz_buf_t rrs;
	size_t offset = 0;
	unsigned added = 0;
	ldns_pkt *pkt = NULL;
	char text[128];

	(void)state;
	dz_buf_init(&rrs);
	for (unsigned i = 0; i < 3000; i++) {
		snprintf(text, sizeof(text), "h%u.sub%u.example.com. 300 IN TXT \"record %u\"", i,
			 i / 7, i);
		rr_text_append(&rrs, text);
	}
	dz_wire_builder_init(&b, msg, sizeof(msg), 7, DZ_FLAG_QR);
	while (offset < rrs.len) {
		dz_wire_rr_t rr;
		size_t next = offset;
		assert_int_equal(dz_wire_rr_parse(rrs.data, rrs.len, &next, &rr), DZ_OK);
		if (!dz_wire_builder_rr(&b, 1, &rr))
			break;
		offset = next;
		added++;
	}
	/* The message passed 16 KiB, where pointers can no longer point. */
	assert_true(b.len > 0x4000);
	assert_true(added > 1000);

	assert_int_equal(ldns_wire2pkt(&pkt, msg, b.len), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_ancount(pkt), added);
	for (unsigned i = 0; i < added; i++) {
		ldns_rr *expected = NULL;
		snprintf(text, sizeof(text), "h%u.sub%u.example.com. 300 IN TXT \"record %u\"", i,
			 i / 7, i);
		assert_int_equal(ldns_rr_new_frm_str(&expected, text, 0, NULL, NULL), LDNS_STATUS_OK);
		assert_int_equal(ldns_rr_compare(expected, ldns_rr_list_rr(ldns_pkt_answer(pkt), i)),
				 0);
		ldns_rr_free(expected);
	}
	ldns_pkt_free(pkt);
	dz_buf_clear(&rrs);
}

static void
rr_compare_ignores_ttl(void **state)
{
	dz_buf_t a;
	dz_buf_t b;
	dz_wire_rr_t ra;
	dz_wire_rr_t rb;
	size_t oa = 0;
	size_t ob = 0;

	(void)state;
	dz_buf_init(&a);
	dz_buf_init(&b);
	rr_text_append(&a, "mail.example.com. 300 IN A 192.0.2.1");
	rr_text_append(&b, "mail.example.com. 600 IN A 192.0.2.1");
	assert_int_equal(dz_wire_rr_parse(a.data, a.len, &oa, &ra), DZ_OK);
	assert_int_equal(dz_wire_rr_parse(b.data, b.len, &ob, &rb), DZ_OK);
	assert_int_equal(dz_wire_rr_compare(&ra, &rb), 0);

	/* A is type 1, MX type 15: type order at the same owner. */
	rr_text_append(&b, "mail.example.com. 600 IN MX 10 mx.example.com.");
	assert_int_equal(dz_wire_rr_parse(b.data, b.len, &ob, &rb), DZ_OK);
	assert_true(dz_wire_rr_compare(&ra, &rb) < 0);
	dz_buf_clear(&a);
	dz_buf_clear(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(name_order_matches_rfc4034),
		cmocka_unit_test(name_text_round_trip),
		cmocka_unit_test(rr_parse_rejects_truncation),
		cmocka_unit_test(msg_read_name_follows_pointers),
		cmocka_unit_test(builder_compresses_for_ldns),
		cmocka_unit_test(builder_compression_past_16k),
		cmocka_unit_test(rr_compare_ignores_ttl),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
