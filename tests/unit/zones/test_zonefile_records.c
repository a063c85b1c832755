/*
 * dz_zonefile_read_records() against dz_zonefile_read(): the fast RDATA
 * conversion and the ldns path must give the same canonical wire records,
 * or the same error, for any text.  ldns converts the records of
 * dz_zonefile_read() to canonical wire form (ldns_rr2buffer_wire_canonical),
 * so ldns is the reference.
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

#include <ldns/ldns.h>

#include "common/log.h"
#include "common/mem.h"
#include "zones/zonefile.h"
#include "zones/zonefile_internal.h"

/* Random cases of each kind; a fixed seed keeps failures repeatable. */
#define CASES 400

static uint64_t rng_state = 0x2545f4914f6cdd1du;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

/* Records as (file:line, TTL, wire RR) lines of text, one per record, for comparison. */
static void
append_record(dz_buf_t *out, const char *file, unsigned line, uint32_t ttl, const uint8_t *wire,
	      size_t len)
{
	char hex[2 * 70000];

	dz_hex_encode(wire, len, hex);
	assert_int_equal(dz_buf_printf(out, "%s:%u %u %s\n", file, line, ttl, hex), DZ_OK);
}

static dz_result_t
collect_ldns(void *ctx, const ldns_rr *rr, const char *file, unsigned line, dz_error_t *err)
{
	ldns_buffer *buf = ldns_buffer_new(1024);

	(void)err;
	assert_non_null(buf);
	assert_int_equal(ldns_rr2buffer_wire_canonical(buf, rr, LDNS_SECTION_ANSWER), LDNS_STATUS_OK);
	append_record(ctx, file, line, ldns_rr_ttl(rr), ldns_buffer_begin(buf),
		      ldns_buffer_position(buf));
	ldns_buffer_free(buf);
	return DZ_OK;
}

static dz_result_t
collect_records(void *ctx, const dz_zonefile_record_t *record, dz_error_t *err)
{
	uint8_t wire[300 + 10 + 65535];
	size_t pos = record->owner_len;

	(void)err;
	memcpy(wire, record->owner, record->owner_len);
	wire[pos++] = (uint8_t)(record->type >> 8);
	wire[pos++] = (uint8_t)record->type;
	wire[pos++] = (uint8_t)(record->rr_class >> 8);
	wire[pos++] = (uint8_t)record->rr_class;
	wire[pos++] = (uint8_t)(record->ttl >> 24);
	wire[pos++] = (uint8_t)(record->ttl >> 16);
	wire[pos++] = (uint8_t)(record->ttl >> 8);
	wire[pos++] = (uint8_t)record->ttl;
	wire[pos++] = (uint8_t)(record->rdata_len >> 8);
	wire[pos++] = (uint8_t)record->rdata_len;
	memcpy(wire + pos, record->rdata, record->rdata_len);
	pos += record->rdata_len;
	append_record(ctx, record->file, record->line, record->ttl, wire, pos);
	return DZ_OK;
}

static void
ignore_log(dz_log_level_t level, const char *line, void *ctx)
{
	(void)level;
	(void)line;
	(void)ctx;
}

/* Read `text` both ways; the records, the result and the message must match. */
static void
check_same(const char *text, const char *origin)
{
	dz_buf_t ldns_out;
	dz_buf_t fast_out;
	dz_error_t ldns_err;
	dz_error_t fast_err;
	dz_result_t ldns_result;
	dz_result_t fast_result;

	dz_buf_init(&ldns_out);
	dz_buf_init(&fast_out);
	dz_error_init(&ldns_err);
	dz_error_init(&fast_err);
	dz_log_set_sink(ignore_log, NULL);
	ldns_result = dz_zonefile_read_buffer(text, strlen(text), "test.zone", origin, NULL,
					      collect_ldns, &ldns_out, &ldns_err);
	fast_result = dz_zonefile_read_records_buffer(text, strlen(text), "test.zone", origin, NULL,
						      collect_records, &fast_out, &fast_err);
	dz_log_set_sink(NULL, NULL);
	if (ldns_result != fast_result)
		fail_msg("results differ for:\n%s\nldns: %s\nfast: %s", text,
			 dz_error_message(&ldns_err), dz_error_message(&fast_err));
	if (strcmp(dz_error_message(&ldns_err), dz_error_message(&fast_err)) != 0)
		fail_msg("messages differ for:\n%s\nldns: %s\nfast: %s", text,
			 dz_error_message(&ldns_err), dz_error_message(&fast_err));
	if (ldns_out.len != fast_out.len || memcmp(ldns_out.data, fast_out.data, ldns_out.len) != 0)
		fail_msg("records differ for:\n%s\nldns:\n%.*s\nfast:\n%.*s", text, (int)ldns_out.len,
			 (const char *)ldns_out.data, (int)fast_out.len, (const char *)fast_out.data);
	dz_buf_clear(&ldns_out);
	dz_buf_clear(&fast_out);
}

/* Check one record after an SOA, with $TTL, under origin example.com. */
static void
check_record(const char *record)
{
	char text[4096];

	snprintf(text, sizeof(text),
		 "$TTL 300\n@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n%s\n", record);
	check_same(text, "example.com.");
}

/*
 * Run the fast conversion alone on RDATA text split at blanks outside
 * quotes and return its length, or -1 when it leaves the text to ldns.
 */
static long
fast_only(const char *rdata, uint16_t type, uint8_t *out)
{
	static const uint8_t origin[] = { 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0 };
	token_t tokens[64];
	reader_t r;
	size_t i = 0;

	memset(&r, 0, sizeof(r));
	r.text = (char *)rdata;
	r.text_len = strlen(rdata);
	r.tokens = tokens;
	while (i < r.text_len) {
		if (rdata[i] == ' ') {
			i++;
			continue;
		}
		tokens[r.token_count].start = i;
		tokens[r.token_count].quoted = rdata[i] == '"';
		if (rdata[i] == '"') {
			for (i++; i < r.text_len && rdata[i] != '"'; i++) {
				if (rdata[i] == '\\')
					i++;
			}
			i++;
		} else {
			while (i < r.text_len && rdata[i] != ' ')
				i++;
		}
		tokens[r.token_count].len = i - tokens[r.token_count].start;
		r.token_count++;
	}
	return dz_zonefile_fast_rdata(&r, 0, type, origin, sizeof(origin), out);
}

/* The plain forms are converted without ldns, to what ldns makes of them. */
static void
fast_path_takes_plain_forms(void **state)
{
	static const struct {
		uint16_t type;
		const char *rdata;
	} cases[] = {
		{ 1, "192.0.2.1" },
		{ 28, "2001:db8::25" },
		{ 2, "NS1.Example.COM." },
		{ 2, "ns1" },
		{ 2, "@" },
		{ 5, "www.example.net." },
		{ 12, "host" },
		{ 39, "example.net." },
		{ 15, "10 Mail" },
		{ 15, "0 ." },
		{ 33, "10 60 5060 sip" },
		{ 6, "ns1 hostmaster.Example.com. 2026010101 7200 3600 1209600 300" },
		{ 16, "\"v=spf1 mx -all\"" },
		{ 16, "\"a\" b \"\" \"quote\\\"\" \\065\\066" },
		{ 43, "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118" },
		{ 59, "0 0 0 00" },
		{ 52, "3 1 1 0011223344556677889900112233445566778899001122334455667788990011" },
		{ 52, "3 1 1 00112233 44556677" },
		{ 53, "3 0 1 AABBCCDD" },
	};
	uint8_t fast[RDATA_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[512];
		ldns_rr *rr = NULL;
		ldns_rdf *origin = NULL;
		ldns_buffer *buf = ldns_buffer_new(1024);
		long len = fast_only(cases[i].rdata, cases[i].type, fast);

		if (len < 0)
			fail_msg("fast conversion left %s to ldns", cases[i].rdata);
		assert_int_equal(ldns_str2rdf_dname(&origin, "example.com."), LDNS_STATUS_OK);
		char *type_name = ldns_rr_type2str((ldns_rr_type)cases[i].type);
		snprintf(text, sizeof(text), "x.example.com. 300 IN %s %s", type_name, cases[i].rdata);
		free(type_name);
		assert_int_equal(ldns_rr_new_frm_str(&rr, text, 300, origin, NULL), LDNS_STATUS_OK);
		assert_int_equal(ldns_rr2buffer_wire_canonical(buf, rr, LDNS_SECTION_ANSWER),
				 LDNS_STATUS_OK);
		size_t owner_len = ldns_rdf_size(ldns_rr_owner(rr));
		size_t rdata_len = ldns_buffer_position(buf) - owner_len - 10;
		if ((size_t)len != rdata_len ||
		    memcmp(fast, ldns_buffer_begin(buf) + owner_len + 10, rdata_len) != 0)
			fail_msg("fast conversion of %s differs from ldns", cases[i].rdata);
		ldns_buffer_free(buf);
		ldns_rr_free(rr);
		ldns_rdf_deep_free(origin);
	}
}

/* Forms the fast conversion leaves to ldns, which accepts or rejects them. */
static void
fast_path_leaves_other_forms(void **state)
{
	static const struct {
		uint16_t type;
		const char *rdata;
	} cases[] = {
		{ 1, "010.0.2.1" },	  /* inet_pton rejects leading zeros */
		{ 2, "a\\.b.example." },  /* escape */
		{ 2, "a..b." },		  /* empty label */
		{ 2, "a@b." },
		{ 6, "ns1 hm 1 1h 3600 1209600 300" }, /* TTL units */
		{ 15, "65536 mail" },
		{ 52, "300 1 1 00" },
		{ 52, "3 1 1 0" },	  /* odd number of hex digits */
		{ 52, "3 1 1" },
		{ 43, "1 RSASHA256 1 00" },
		{ 16, "a\"b\"" },
		{ 16, "\\256" },
		{ 99, "\"spf\"" },	  /* SPF is not converted here */
	};
	uint8_t fast[RDATA_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (fast_only(cases[i].rdata, cases[i].type, fast) >= 0)
			fail_msg("fast conversion took %s", cases[i].rdata);
	}
}

static void
records_match_ldns_cases(void **state)
{
	static const char *const records[] = {
		"www A 192.0.2.1",
		"WWW.Example.COM. 60 IN A 192.0.2.1",
		"www A 010.0.2.1",
		"www A 192.0.2",
		"v6 AAAA 2001:db8::1",
		"v6 AAAA ::ffff:192.0.2.1",
		"v6 AAAA 2001:db8::g",
		"@ NS NS1.Example.COM.",
		"@ NS ns1",
		"@ NS @",
		"@ NS .",
		"@ NS a\\.b",
		"@ NS a..b",
		"@ NS \\065bc",
		"@ NS a\\000b",
		"x CNAME Target.Example.NET.",
		"x DNAME Other.Example.",
		"1.2 PTR Host.Example.com.",
		"@ MX 10 Mail",
		"@ MX 010 mail",
		"@ MX 65536 mail",
		"@ MX mail",
		"@ MX 10 mail extra",
		"_sip._tcp SRV 10 60 5060 SIP.example.com.",
		"_sip._tcp SRV 10 60 sip",
		"sub SOA ns1 hm 1 7200 3600 1209600 300",
		"sub SOA ns1 hm 1 1h 1h 1w 5m",
		"t TXT \"v=spf1 mx -all\"",
		"t TXT abc def",
		"t TXT \"a\" \"\" \"b c\"",
		"t TXT \"quote \\\" backslash \\\\ end\"",
		"t TXT \"\\065\\066\\067 \\256\"",
		"t TXT \"a\"\"b\"",
		"t TXT a\"b\"",
		"t TXT \"semicolon ; inside\"",
		"t TXT ( \"two\"\n  \"lines\" )",
		"t TXT",
		"d DS 60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118",
		"d DS 60485 5 1 2BB183AF 5F22588179A53B0A98631FAD1A292118",
		"d DS 60485 RSASHA1 1 2BB183AF5F22588179A53B0A98631FAD1A292118",
		"d DS 60485 5 1 2BB",
		"d DS 60485 5 1",
		"@ CDS 0 0 0 00",
		"_25._tcp.mail TLSA 3 1 1 0011223344556677889900112233445566778899001122334455667788990011",
		"_25._tcp.mail TLSA 3 1 1 00112233 44556677",
		"_25._tcp.mail TLSA 3 1 1 0",
		"_25._tcp.mail TLSA 3 1 1 xyz",
		"_25._tcp.mail TLSA 256 1 1 00",
		"x._smimecert SMIMEA 3 0 1 AABBCCDD",
		"a234567890123456789012345678901234567890123456789012345678901234 A 192.0.2.1",
		"x NS a234567890123456789012345678901234567890123456789012345678901234.b.",
		"x TYPE65000 \\# 4 0a000001",
		"x A \\# 4 c0000201",
		"x NS \\# 15 034E53310745584D504C4503434F4D00",
		"x SPF \"v=spf1 -all\"",
		"x CAA 0 issue \"ca.example.net\"",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(records) / sizeof(records[0]); i++)
		check_record(records[i]);
}

/* Origin and TTL rules are the reader's, whichever converts the RDATA. */
static void
records_match_ldns_directives(void **state)
{
	(void)state;
	check_same("$TTL 60\n@ SOA ns1 hm 1 2 3 4 5\n$ORIGIN sub.example.com.\nx NS y\n"
		   "$ORIGIN example.org.\n@ MX 1 mail\n",
		   "example.com.");
	/* No origin: a relative name in the data is an error. */
	check_same("$TTL 60\nexample.com. SOA ns1.example.com. hm.example.com. 1 2 3 4 5\n"
		   "x.example.com. NS y\n",
		   NULL);
	/* The SOA MINIMUM as the TTL when there is no TTL at all. */
	check_same("@ SOA ns1 hm 1 2 3 4 300\n@ NS ns1\n", "example.com.");
	check_same("@ SOA ns1 hm 1 2 3 4 1h\n@ NS ns1\n", "example.com.");
	/* The previous TTL without $TTL. */
	check_same("@ 100 SOA ns1 hm 1 2 3 4 5\n@ NS ns1\n  A 192.0.2.1\n", "example.com.");
	/* A name of 255 octets with the origin, and one of 256. */
	char text[2048];
	char label[64];
	memset(label, 'a', 63);
	label[63] = '\0';
	for (size_t extra = 60; extra <= 62; extra++) {
		snprintf(text, sizeof(text),
			 "$TTL 60\n@ SOA ns1 hm 1 2 3 4 5\nx NS %s.%s.%s.%.*s\n", label, label, label,
			 (int)extra, label);
		check_same(text, "example.com.");
	}
}

/* Random names, strings and numbers, valid or not. */
static void
records_match_ldns_random(void **state)
{
	static const char alphabet[] = "abcXYZ019-_*./\\\"@$ ;";
	static const char *const types[] = { "NS", "CNAME", "MX 5", "SRV 1 2 3", "PTR", "DNAME" };
	char record[1024];

	(void)state;
	for (size_t i = 0; i < CASES; i++) {
		char value[128];
		size_t len = rng() % 40;
		for (size_t k = 0; k < len; k++)
			value[k] = alphabet[rng() % (sizeof(alphabet) - 1)];
		value[len] = '\0';

		snprintf(record, sizeof(record), "x %s %s", types[i % 6], value);
		check_record(record);
		snprintf(record, sizeof(record), "x TXT \"%s\" %s", value, value);
		check_record(record);
		snprintf(record, sizeof(record), "x TLSA %u %u %u %s", rng() % 300, rng() % 3, rng() % 3,
			 value);
		check_record(record);
		snprintf(record, sizeof(record), "x A %u.%u.%u.%u", rng() % 300, rng() % 256,
			 rng() % 256, rng() % 256);
		check_record(record);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fast_path_takes_plain_forms),
		cmocka_unit_test(fast_path_leaves_other_forms),
		cmocka_unit_test(records_match_ldns_cases),
		cmocka_unit_test(records_match_ldns_directives),
		cmocka_unit_test(records_match_ldns_random),
	};
	return cmocka_run_group_tests_name("zones_zonefile_records", tests, NULL, NULL);
}
