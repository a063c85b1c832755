/*
 * The presentation-form printer checked against ldns, which printed the
 * signed zone before: the same text for every type printed here, and text
 * that ldns reads back to the same wire form.
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

#include "signer/print.h"
#include "signer/zone.h"

/* Random cases per type; a fixed seed keeps failures repeatable. */
#define CASES 300

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

/*
 * The text with runs of blanks outside quotes made one space and trailing
 * blanks removed: ldns ends some RDATA fields with a space.
 */
static void
normalize(const char *in, size_t len, char *out)
{
	bool quoted = false;
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		char ch = in[i];
		if (ch == '\\' && i + 1 < len) {
			out[n++] = ch;
			out[n++] = in[++i];
			continue;
		}
		if (ch == '"')
			quoted = !quoted;
		if (!quoted && (ch == ' ' || ch == '\t' || ch == '\n')) {
			if (n > 0 && out[n - 1] != ' ')
				out[n++] = ' ';
			continue;
		}
		out[n++] = ch;
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

/* Wire RR with owner `owner` (wire form) and class IN. */
static ldns_rr *
make_rr(const uint8_t *owner, size_t owner_len, uint16_t type, uint32_t ttl, const uint8_t *rdata,
	size_t rdata_len)
{
	uint8_t wire[2048];
	size_t pos = 0;
	ldns_rr *rr = NULL;

	assert_true(owner_len + 10 + rdata_len <= sizeof(wire));
	memcpy(wire, owner, owner_len);
	pos = owner_len;
	wire[pos++] = (uint8_t)(type >> 8);
	wire[pos++] = (uint8_t)type;
	wire[pos++] = 0;
	wire[pos++] = 1;
	wire[pos++] = (uint8_t)(ttl >> 24);
	wire[pos++] = (uint8_t)(ttl >> 16);
	wire[pos++] = (uint8_t)(ttl >> 8);
	wire[pos++] = (uint8_t)ttl;
	wire[pos++] = (uint8_t)(rdata_len >> 8);
	wire[pos++] = (uint8_t)rdata_len;
	memcpy(wire + pos, rdata, rdata_len);
	pos += rdata_len;
	size_t read = 0;
	assert_int_equal(ldns_wire2rr(&rr, wire, pos, &read, LDNS_SECTION_ANSWER), LDNS_STATUS_OK);
	assert_int_equal(read, pos);
	return rr;
}

/* Print one RR with dz_print_rr(); the caller frees the text. */
static char *
print_ours(const uint8_t *owner, uint16_t type, uint32_t ttl, const uint8_t *rdata, size_t rdata_len)
{
	char owner_text[DZ_NAME_TEXT_MAX];
	size_t owner_len = dz_print_name(owner, owner_text);
	dz_buf_t out;
	char *text;

	dz_buf_init(&out);
	assert_int_equal(dz_print_rr(&out, owner_text, owner_len, type, ttl, rdata, rdata_len), DZ_OK);
	assert_true(out.len > 0);
	assert_int_equal(out.data[out.len - 1], '\n');
	text = strndup((const char *)out.data, out.len);
	dz_buf_clear(&out);
	return text;
}

/*
 * Print one RR with both printers.  With `same_text` the normalised texts
 * must be equal.  ldns must read our text back to the RR whenever it reads
 * back its own text (it does not for CAA).
 */
static void
check_rr(const uint8_t *owner, size_t owner_len, uint16_t type, uint32_t ttl, const uint8_t *rdata,
	 size_t rdata_len, bool same_text)
{
	ldns_rr *rr = make_rr(owner, owner_len, type, ttl, rdata, rdata_len);
	char *ours = print_ours(owner, type, ttl, rdata, rdata_len);
	char *theirs = ldns_rr2str_fmt(ldns_output_format_nocomments, rr);
	char *a = malloc(strlen(ours) + 1);
	char *b = malloc(strlen(theirs) + 1);
	ldns_rr *back = NULL;

	normalize(ours, strlen(ours), a);
	normalize(theirs, strlen(theirs), b);
	if (same_text && strcmp(a, b) != 0)
		fail_msg("ours:  %s\nldns:  %s", a, b);
	if (ldns_rr_new_frm_str(&back, theirs, 0, NULL, NULL) == LDNS_STATUS_OK) {
		ldns_rr_free(back);
		back = NULL;
		if (ldns_rr_new_frm_str(&back, ours, 0, NULL, NULL) != LDNS_STATUS_OK)
			fail_msg("ldns cannot read back: %s", ours);
		if (ldns_rr_compare(rr, back) != 0 || ldns_rr_ttl(rr) != ldns_rr_ttl(back))
			fail_msg("read back differs: %s", ours);
		ldns_rr_free(back);
	}
	ldns_rr_free(rr);
	free(ours);
	free(theirs);
	free(a);
	free(b);
}

/* Parse presentation text with ldns and check our printing of it. */
static void
check_text(const char *text)
{
	ldns_rr *rr = NULL;
	uint8_t *wire = NULL;
	size_t wire_len = 0;

	if (ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL) != LDNS_STATUS_OK)
		fail_msg("ldns cannot read the test case %s", text);
	assert_int_equal(ldns_rr2wire(&wire, rr, LDNS_SECTION_ANSWER, &wire_len), LDNS_STATUS_OK);
	size_t owner_len = ldns_rdf_size(ldns_rr_owner(rr));
	size_t rdata_len = wire_len - owner_len - 10;
	check_rr(wire, owner_len, ldns_rr_get_type(rr), ldns_rr_ttl(rr), wire + owner_len + 10,
		 rdata_len, true);
	free(wire);
	ldns_rr_free(rr);
}

/* A random name of 1-4 labels; `plain` keeps to characters ldns and we escape alike. */
static size_t
random_name(uint8_t *out, bool plain)
{
	size_t labels = 1 + rng() % 4;
	size_t pos = 0;

	for (size_t l = 0; l < labels; l++) {
		size_t len = 1 + rng() % 12;
		out[pos++] = (uint8_t)len;
		for (size_t i = 0; i < len; i++) {
			uint8_t ch = (uint8_t)rng();
			while (plain && (ch == '"' || ch == '$' || ch == '@'))
				ch = (uint8_t)rng();
			out[pos++] = ch;
		}
		/* ldns 1.8 reads a name in RDATA whose first label is "@" as the origin. */
		if (l == 0 && len == 1 && out[1] == '@')
			out[1] = 'a';
	}
	out[pos++] = 0;
	return pos;
}

static void
random_bytes(uint8_t *out, size_t len)
{
	for (size_t i = 0; i < len; i++)
		out[i] = (uint8_t)rng();
}

/* A valid type bitmap of random types below 1024 into out; returns its length. */
static size_t
random_bitmap(uint8_t *out)
{
	uint8_t windows[4][32];
	size_t pos = 0;

	memset(windows, 0, sizeof(windows));
	for (size_t i = 0, n = rng() % 12; i < n; i++) {
		uint16_t type = (uint16_t)(rng() % 1024);
		windows[type / 256][(type % 256) / 8] |= (uint8_t)(0x80 >> (type % 8));
	}
	for (size_t w = 0; w < 4; w++) {
		size_t last = 0;
		for (size_t i = 0; i < 32; i++) {
			if (windows[w][i] != 0)
				last = i + 1;
		}
		if (last == 0)
			continue;
		out[pos++] = (uint8_t)w;
		out[pos++] = (uint8_t)last;
		memcpy(out + pos, windows[w], last);
		pos += last;
	}
	return pos;
}

static void
print_name_escapes(void **state)
{
	static const uint8_t root[] = { 0 };
	static const uint8_t special[] = { 3, 'a', '.', 'b', 4, '$', '@', '"', ';', 2, 0x20, 0xff, 0 };
	static const char *const expected = "a\\.b.\\$\\@\\\"\\;.\\032\\255.";
	char text[DZ_NAME_TEXT_MAX];

	(void)state;
	assert_int_equal(dz_print_name(root, text), 1);
	assert_string_equal(text, ".");
	assert_int_equal(dz_print_name(special, text), strlen(expected));
	assert_string_equal(text, expected);
}

/* Example RRs from the RFCs that define the types, and mail records. */
static void
print_matches_ldns_examples(void **state)
{
	static const char *const cases[] = {
		"example.com. 3600 IN A 192.0.2.1",
		"example.com. 3600 IN AAAA 2001:db8::1",
		"example.com. 3600 IN AAAA ::ffff:192.0.2.1",
		"example.com. 3600 IN NS ns1.example.com.",
		"www.example.com. 300 IN CNAME example.com.",
		"alias.example.com. 300 IN DNAME example.net.",
		"1.2.0.192.in-addr.arpa. 300 IN PTR host.example.com.",
		"example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 2026010101 7200 3600 1209600 300",
		"example.com. 3600 IN MX 10 mail.example.com.",
		"example.com. 3600 IN TXT \"v=spf1 mx -all\"",
		"example.com. 3600 IN TXT \"a\" \"b c\" \"quote \\\" backslash \\\\ tab \\009\"",
		"example.com. 3600 IN TXT \"\"",
		"_sip._tcp.example.com. 3600 IN SRV 10 60 5060 sip.example.com.",
		"dskey.example.com. 86400 IN DS 60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118",
		"example.com. 3600 IN CDS 0 0 0 00",
		"dskey.example.com. 86400 IN DNSKEY 256 3 5 AQOeiiR0GOMYkDshWoSKz9XzfwJr1AYtsmx3TGkJaNXVbfi/2pHm822aJ5iI9BMzNXxeYCmZDRD99WYwYqUSdjMmmAphXdvxegXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9XzcnOf+EPbtG9DMBmADjFDc2w/rljwvFw==",
		"example.com. 3600 IN CDNSKEY 0 3 0 AA==",
		"host.example.com. 86400 IN RRSIG A 5 3 86400 20030322173103 20030220173103 2642 example.com. oJB1W6WNGv+ldvQ3WDG0MQkg5IEhjRip8WTrPYGv07h108dUKGMeDPKijVCHX3DDKdfb+v6oB9wfuh3DTJXUAfI/M0zmO/zz8bW0Rznl8O3tGNazPwQKkRN20XPXV6nwwfoXmJQbsLNrLfkGJ5D6fwFm8nN+6pBzeDQfsS3Ap3o=",
		"alfa.example.com. 86400 IN NSEC host.example.com. A MX RRSIG NSEC TYPE1234",
		"2t7b4g4vsa5smi47k61mv5bv1a22bojr.example. 3600 IN NSEC3 1 1 12 aabbccdd 2vptu5timamqttgl4luu9kg21e0aor3s A RRSIG",
		"0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.example. 3600 IN NSEC3 1 0 0 - 2cmtu3j8avm8vmb7tdeqtnr64o0i5vui",
		"example. 3600 IN NSEC3PARAM 1 0 12 aabbccdd",
		"example. 3600 IN NSEC3PARAM 1 0 0 -",
		"_25._tcp.mail.example.com. 3600 IN TLSA 3 1 1 0011223344556677889900112233445566778899001122334455667788990011",
		"c93f1e400f26708f98cb19d936620da35eec8f72e57f9eec01c1afd6._smimecert.example.com. 3600 IN SMIMEA 3 0 1 0011223344556677889900112233445566778899001122334455667788990011",
		"c93f1e400f26708f98cb19d936620da35eec8f72e57f9eec01c1afd6._openpgpkey.example.com. 3600 IN OPENPGPKEY mQINBFit2jsBEADrbl5vjVxYeAE0g0IDYCBpHirv1Sjlqxx5gjtPhb2YhvyDMXjq",
		/* Printed by ldns: types this printer does not know. */
		"example.com. 3600 IN CAA 0 issue \"ca.example.net\"",
		"example.com. 3600 IN TYPE65000 \\# 4 0a000001",
		"example.com. 3600 IN HINFO \"PC\" \"Linux\"",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_text(cases[i]);
}

/* The RRSIG of RFC 4034 section 3.3, printed as the RFC writes it. */
static void
print_rrsig_rfc4034_example(void **state)
{
	ldns_rr *rr = NULL;
	uint8_t *wire = NULL;
	size_t wire_len = 0;
	const char *text =
		"host.example.com. 86400 IN RRSIG A 5 3 86400 20030322173103 20030220173103 2642 "
		"example.com. oJB1W6WNGv+ldvQ3WDG0MQkg5IEhjRip8WTrPYGv07h108dUKGMeDPKijVCHX3DDKdfb+v6o"
		"B9wfuh3DTJXUAfI/M0zmO/zz8bW0Rznl8O3tGNazPwQKkRN20XPXV6nwwfoXmJQbsLNrLfkGJ5D6fwFm8nN+6p"
		"BzeDQfsS3Ap3o=";
	const char *expected =
		"host.example.com.\t86400\tIN\tRRSIG\tA 5 3 86400 20030322173103 20030220173103 2642 "
		"example.com. oJB1W6WNGv+ldvQ3WDG0MQkg5IEhjRip8WTrPYGv07h108dUKGMeDPKijVCHX3DDKdfb+v6o"
		"B9wfuh3DTJXUAfI/M0zmO/zz8bW0Rznl8O3tGNazPwQKkRN20XPXV6nwwfoXmJQbsLNrLfkGJ5D6fwFm8nN+6p"
		"BzeDQfsS3Ap3o=\n";

	(void)state;
	assert_int_equal(ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL), LDNS_STATUS_OK);
	assert_int_equal(ldns_rr2wire(&wire, rr, LDNS_SECTION_ANSWER, &wire_len), LDNS_STATUS_OK);
	size_t owner_len = ldns_rdf_size(ldns_rr_owner(rr));
	char *ours = print_ours(wire, DZ_TYPE_RRSIG, 86400, wire + owner_len + 10,
				wire_len - owner_len - 10);
	assert_string_equal(ours, expected);
	free(ours);
	free(wire);
	ldns_rr_free(rr);
}

/* Random RDATA of every type printed here, with all byte values in names and strings. */
static void
print_matches_ldns_random(void **state)
{
	static const uint16_t name_types[] = { DZ_TYPE_NS, DZ_TYPE_CNAME, DZ_TYPE_DNAME, 12 };
	uint8_t owner[256];
	uint8_t rdata[1024];
	size_t len;

	(void)state;
	for (size_t i = 0; i < CASES; i++) {
		bool plain = i % 2 == 0;
		size_t owner_len = random_name(owner, plain);
		uint32_t ttl = rng() % 2147483647u;
		size_t n;

		random_bytes(rdata, 4);
		check_rr(owner, owner_len, DZ_TYPE_A, ttl, rdata, 4, plain);
		random_bytes(rdata, 16);
		if (i % 3 == 0)
			memset(rdata, 0, 8 + rng() % 6);
		check_rr(owner, owner_len, DZ_TYPE_AAAA, ttl, rdata, 16, plain);

		len = random_name(rdata, plain);
		check_rr(owner, owner_len, name_types[i % 4], ttl, rdata, len, plain);

		random_bytes(rdata, 2);
		len = 2 + random_name(rdata + 2, plain);
		check_rr(owner, owner_len, DZ_TYPE_MX, ttl, rdata, len, plain);

		random_bytes(rdata, 6);
		len = 6 + random_name(rdata + 6, plain);
		check_rr(owner, owner_len, 33, ttl, rdata, len, plain);

		len = random_name(rdata, plain);
		len += random_name(rdata + len, plain);
		random_bytes(rdata + len, 20);
		check_rr(owner, owner_len, DZ_TYPE_SOA, ttl, rdata, len + 20, plain);

		len = 0;
		for (size_t s = 0, count = 1 + rng() % 4; s < count; s++) {
			n = rng() % 40;
			rdata[len] = (uint8_t)n;
			random_bytes(rdata + len + 1, n);
			len += 1 + n;
		}
		check_rr(owner, owner_len, DZ_TYPE_TXT, ttl, rdata, len, plain);

		n = 1 + rng() % 64;
		random_bytes(rdata, 4 + n);
		check_rr(owner, owner_len, i % 2 ? DZ_TYPE_DS : DZ_TYPE_CDS, ttl, rdata, 4 + n, plain);
		check_rr(owner, owner_len, i % 2 ? DZ_TYPE_DNSKEY : DZ_TYPE_CDNSKEY, ttl, rdata, 4 + n,
			 plain);
		check_rr(owner, owner_len, i % 2 ? DZ_TYPE_TLSA : 53, ttl, rdata, 3 + n, plain);
		check_rr(owner, owner_len, 61, ttl, rdata, n, plain);

		/* RRSIG times within 2^30 s of the test's clock, where ldns reads them the same way. */
		uint32_t now = (uint32_t)time(NULL);
		random_bytes(rdata, 18);
		rdata[0] = 0;
		rdata[1] = (uint8_t)(1 + rng() % 60);
		uint32_t times[2] = { now + (rng() % (1u << 30)), now - (rng() % (1u << 30)) };
		for (size_t t = 0; t < 2; t++) {
			rdata[8 + 4 * t] = (uint8_t)(times[t] >> 24);
			rdata[9 + 4 * t] = (uint8_t)(times[t] >> 16);
			rdata[10 + 4 * t] = (uint8_t)(times[t] >> 8);
			rdata[11 + 4 * t] = (uint8_t)times[t];
		}
		len = 18 + random_name(rdata + 18, plain);
		n = 1 + rng() % 300;
		random_bytes(rdata + len, n);
		check_rr(owner, owner_len, DZ_TYPE_RRSIG, ttl, rdata, len + n, plain);

		len = random_name(rdata, plain);
		len += random_bitmap(rdata + len);
		check_rr(owner, owner_len, DZ_TYPE_NSEC, ttl, rdata, len, plain);

		random_bytes(rdata, 4);
		rdata[4] = (uint8_t)(rng() % 2 ? 0 : 1 + rng() % 16);
		random_bytes(rdata + 5, rdata[4]);
		len = 5 + rdata[4];
		check_rr(owner, owner_len, DZ_TYPE_NSEC3PARAM, ttl, rdata, len, plain);
		n = 5 * (1 + rng() % 6);
		rdata[len] = (uint8_t)n;
		random_bytes(rdata + len + 1, n);
		len += 1 + n;
		len += random_bitmap(rdata + len);
		check_rr(owner, owner_len, DZ_TYPE_NSEC3, ttl, rdata, len, plain);
	}
}

/*
 * A next hashed owner that does not fill whole 5-octet groups has no
 * padding (RFC 5155 section 3.3), unlike ldns 1.8 prints it.  The 24 bits
 * 0x000001 are the base32hex digits 0, 0, 0, 0 and 00010 (2).
 */
static void
print_nsec3_hash_unpadded(void **state)
{
	static const uint8_t owner[] = { 1, 'x', 0 };
	static const uint8_t rdata[] = { 1, 0, 0, 0, 0, 3, 0, 0, 1, 0, 1, 0x40 };
	char *text;

	(void)state;
	text = print_ours(owner, DZ_TYPE_NSEC3, 300, rdata, sizeof(rdata));
	assert_string_equal(text, "x.\t300\tIN\tNSEC3\t1 0 0 - 00002 A\n");
	free(text);
}

/* RDATA that does not fit its type goes to ldns, which prints it or fails. */
static void
print_malformed_rdata(void **state)
{
	static const uint8_t short_a[] = { 192, 0, 2 };
	static const uint8_t bad_name[] = { 5, 'a', 'b', 0 };
	char owner[DZ_NAME_TEXT_MAX];
	static const uint8_t owner_wire[] = { 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0 };
	size_t owner_len = dz_print_name(owner_wire, owner);
	dz_buf_t out;

	(void)state;
	dz_buf_init(&out);
	assert_int_equal(dz_buf_append(&out, "x", 1), DZ_OK);
	assert_int_equal(dz_print_rr(&out, owner, owner_len, DZ_TYPE_A, 300, short_a, sizeof(short_a)),
			 DZ_EINVAL);
	assert_int_equal(out.len, 1);
	assert_int_equal(dz_print_rr(&out, owner, owner_len, DZ_TYPE_NS, 300, bad_name,
				     sizeof(bad_name)),
			 DZ_EINVAL);
	assert_int_equal(out.len, 1);
	dz_buf_clear(&out);
}

static void
print_wire_rr_checks_class(void **state)
{
	static const uint8_t rr_in[] = { 0, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 192, 0, 2, 1 };
	static const uint8_t rr_ch[] = { 0, 0, 1, 0, 3, 0, 0, 1, 44, 0, 4, 192, 0, 2, 1 };
	dz_buf_t out;

	(void)state;
	dz_buf_init(&out);
	assert_int_equal(dz_print_wire_rr(&out, rr_in, sizeof(rr_in)), DZ_OK);
	assert_int_equal(out.len, strlen(".\t300\tIN\tA\t192.0.2.1\n"));
	assert_memory_equal(out.data, ".\t300\tIN\tA\t192.0.2.1\n", out.len);
	assert_int_equal(dz_print_wire_rr(&out, rr_ch, sizeof(rr_ch)), DZ_EINVAL);
	assert_int_equal(dz_print_wire_rr(&out, rr_in, sizeof(rr_in) - 1), DZ_EINVAL);
	dz_buf_clear(&out);
}

static void
print_type_names(void **state)
{
	char buf[16];

	(void)state;
	assert_int_equal(dz_print_type_name(DZ_TYPE_NSEC3PARAM, buf), 10);
	assert_string_equal(buf, "NSEC3PARAM");
	dz_print_type_name(257, buf);
	assert_string_equal(buf, "CAA");
	dz_print_type_name(65000, buf);
	assert_string_equal(buf, "TYPE65000");
	dz_print_type_name(0, buf);
	assert_string_equal(buf, "TYPE0");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(print_name_escapes),
		cmocka_unit_test(print_matches_ldns_examples),
		cmocka_unit_test(print_rrsig_rfc4034_example),
		cmocka_unit_test(print_matches_ldns_random),
		cmocka_unit_test(print_nsec3_hash_unpadded),
		cmocka_unit_test(print_malformed_rdata),
		cmocka_unit_test(print_wire_rr_checks_class),
		cmocka_unit_test(print_type_names),
	};
	return cmocka_run_group_tests_name("signer_print", tests, NULL, NULL);
}
