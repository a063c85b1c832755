#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/mem.h"
#include "zones/zonefile.h"

/*
 * Expected values are hand-computed wire forms (RFC 1035 section 3.2.1,
 * RFC 3597) or records written out in full and parsed by ldns alone, and
 * for the files under tests/data/zonefile/ the output of BIND's
 * named-checkzone -D.
 */

#define MAX_RECORDS 256

typedef struct collected {
	size_t count;
	ldns_rr *rrs[MAX_RECORDS];
	char *files[MAX_RECORDS];
	unsigned lines[MAX_RECORDS];
	size_t fail_at; /* return DZ_ECANCELED for this record (1-based); 0 = never */
} collected_t;

typedef struct warnings {
	int count;
	char last[1024];
} warnings_t;

static dz_result_t
collect(void *ctx, const ldns_rr *rr, const char *file, unsigned line, dz_error_t *err)
{
	collected_t *c = ctx;

	if (c->fail_at != 0 && c->count + 1 == c->fail_at)
		return dz_error_set(err, DZ_ECANCELED, "%s:%u: stop requested by the test", file, line);
	assert_true(c->count < MAX_RECORDS);
	c->rrs[c->count] = ldns_rr_clone(rr);
	c->files[c->count] = strdup(file);
	c->lines[c->count] = line;
	assert_non_null(c->rrs[c->count]);
	c->count++;
	return DZ_OK;
}

static void
collected_clear(collected_t *c)
{
	for (size_t i = 0; i < c->count; i++) {
		ldns_rr_free(c->rrs[i]);
		free(c->files[i]);
	}
	memset(c, 0, sizeof(*c));
}

static void
capture_warning(dz_log_level_t level, const char *line, void *ctx)
{
	warnings_t *w = ctx;

	if (level == DZ_LOG_WARNING) {
		w->count++;
		snprintf(w->last, sizeof(w->last), "%s", line);
	}
}

/* Read `text` as a zone file named "test.zone", capturing warnings into `w` (may be NULL). */
static dz_result_t
read_text(const char *text, const char *origin, const dz_zonefile_options_t *options,
	  collected_t *c, warnings_t *w, dz_error_t *err)
{
	warnings_t ignored = { 0 };

	dz_error_init(err);
	dz_log_set_sink(capture_warning, w != NULL ? w : &ignored);
	dz_result_t result = dz_zonefile_read_buffer(text, strlen(text), "test.zone", origin, options,
						     collect, c, err);
	dz_log_set_sink(NULL, NULL);
	return result;
}

static char *
wire_hex(const ldns_rr *rr)
{
	uint8_t *wire = NULL;
	size_t size = 0;

	assert_int_equal(ldns_rr2wire(&wire, rr, LDNS_SECTION_ANSWER, &size), LDNS_STATUS_OK);
	char *hex = malloc(2 * size + 1);
	assert_non_null(hex);
	dz_hex_encode(wire, size, hex);
	free(wire);
	return hex;
}

/* Assert that `rr` has exactly the wire form `expected_hex` (owner case included). */
static void
assert_wire(const ldns_rr *rr, const char *expected_hex)
{
	char *hex = wire_hex(rr);
	assert_string_equal(hex, expected_hex);
	free(hex);
}

/* Assert that `rr` has the wire form of `expected`, a record written out in full for ldns. */
static void
assert_rr_text(const ldns_rr *rr, const char *expected)
{
	ldns_rr *want = NULL;

	assert_int_equal(ldns_rr_new_frm_str(&want, expected, 0, NULL, NULL), LDNS_STATUS_OK);
	char *want_hex = wire_hex(want);
	assert_wire(rr, want_hex);
	free(want_hex);
	ldns_rr_free(want);
}

/* Assert that reading fails with `code` and that the message contains each of the strings. */
static void
assert_read_fails(const char *text, const char *origin, dz_result_t code, const char *part1,
		  const char *part2)
{
	collected_t c = { 0 };
	dz_error_t err;

	assert_int_equal(read_text(text, origin, NULL, &c, NULL, &err), code);
	if (part1 != NULL && strstr(err.message, part1) == NULL)
		fail_msg("message '%s' lacks '%s'", err.message, part1);
	if (part2 != NULL && strstr(err.message, part2) == NULL)
		fail_msg("message '%s' lacks '%s'", err.message, part2);
	collected_clear(&c);
}

/* ---- files in a temporary folder --------------------------------------- */

typedef struct tmpdir {
	char path[256];
	char files[16][320];
	size_t file_count;
	char dirs[8][320];
	size_t dir_count;
} tmpdir_t;

static void
tmpdir_create(tmpdir_t *t)
{
	const char *base = getenv("TMPDIR");

	memset(t, 0, sizeof(*t));
	snprintf(t->path, sizeof(t->path), "%s/dz-zonefile-XXXXXX", base ? base : "/tmp");
	assert_non_null(mkdtemp(t->path));
}

static void
tmpdir_mkdir(tmpdir_t *t, const char *name)
{
	char full[sizeof(t->dirs[0])];

	assert_true(t->dir_count < DZ_ARRAY_SIZE(t->dirs));
	/* Through a local buffer: gcc's -Wrestrict cannot tell t->path from t->dirs. */
	snprintf(full, sizeof(full), "%s/%s", t->path, name);
	memcpy(t->dirs[t->dir_count], full, sizeof(full));
	assert_int_equal(mkdir(t->dirs[t->dir_count], 0700), 0);
	t->dir_count++;
}

/* Write `text` to `name` in the folder; returns the full path (owned by t). */
static const char *
tmpdir_write(tmpdir_t *t, const char *name, const char *text)
{
	char full[sizeof(t->files[0])];

	assert_true(t->file_count < DZ_ARRAY_SIZE(t->files));
	char *path = t->files[t->file_count++];
	snprintf(full, sizeof(full), "%s/%s", t->path, name);
	memcpy(path, full, sizeof(full));
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return path;
}

static void
tmpdir_remove(tmpdir_t *t)
{
	while (t->file_count > 0)
		unlink(t->files[--t->file_count]);
	while (t->dir_count > 0)
		rmdir(t->dirs[--t->dir_count]);
	rmdir(t->path);
}

static dz_result_t
read_path(const char *path, const char *origin, const dz_zonefile_options_t *options,
	  collected_t *c, warnings_t *w, dz_error_t *err)
{
	warnings_t ignored = { 0 };

	dz_error_init(err);
	dz_log_set_sink(capture_warning, w != NULL ? w : &ignored);
	dz_result_t result = dz_zonefile_read(path, origin, options, collect, c, err);
	dz_log_set_sink(NULL, NULL);
	return result;
}

/* ---- syntax ------------------------------------------------------------ */

static void
basic_forms(void **state)
{
	collected_t c = { 0 };
	dz_error_t err;
	const char *text =
		"$ORIGIN example.com.\n"
		"$TTL 3600\n"
		"@ IN SOA ns1 hostmaster 2027010301 7200 3600 1209600 300\n"
		"  IN NS ns1\n"		      /* blank owner: the apex */
		"ns1 300 IN A 192.0.2.1\n"    /* TTL then class */
		"ns2 IN 400 A 192.0.2.2\n"    /* class then TTL */
		"WWW.Example.COM. A 192.0.2.3\n" /* upper case kept */
		"mail 1h30m MX 10 @\n"	      /* TTL units, '@' in data */
		"\tAAAA 2001:db8::25\n";      /* tab: blank owner */

	(void)state;
	assert_int_equal(read_text(text, NULL, NULL, &c, NULL, &err), DZ_OK);
	assert_int_equal(c.count, 7);
	assert_rr_text(c.rrs[0], "example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. "
				 "2027010301 7200 3600 1209600 300");
	assert_rr_text(c.rrs[1], "example.com. 3600 IN NS ns1.example.com.");
	assert_rr_text(c.rrs[2], "ns1.example.com. 300 IN A 192.0.2.1");
	assert_rr_text(c.rrs[3], "ns2.example.com. 400 IN A 192.0.2.2");
	/* Owner WWW.Example.COM. written by hand: 3 "WWW" 7 "Example" 3 "COM" 0. */
	assert_wire(c.rrs[4], "03575757074578616d706c6503434f4d00"
			      "0001" "0001" "00000e10" "0004" "c0000203");
	assert_rr_text(c.rrs[5], "mail.example.com. 5400 IN MX 10 example.com.");
	assert_rr_text(c.rrs[6], "mail.example.com. 3600 IN AAAA 2001:db8::25");
	for (size_t i = 0; i < c.count; i++)
		assert_string_equal(c.files[i], "test.zone");
	assert_int_equal(c.lines[0], 3);
	assert_int_equal(c.lines[6], 9);
	collected_clear(&c);
}

static void
origin_argument_and_relative_origin(void **state)
{
	collected_t c = { 0 };
	dz_error_t err;
	const char *text =
		"www 60 A 192.0.2.1\n"
		"$ORIGIN sub\n"		/* relative: sub.example.com. */
		"host 60 A 192.0.2.2\n"
		"$ORIGIN deeper.sub.example.com.\n"
		"@ 60 TXT \"apex of deeper\"\n";

	(void)state;
	assert_int_equal(read_text(text, "example.com", NULL, &c, NULL, &err), DZ_OK);
	assert_int_equal(c.count, 3);
	assert_rr_text(c.rrs[0], "www.example.com. 60 IN A 192.0.2.1");
	assert_rr_text(c.rrs[1], "host.sub.example.com. 60 IN A 192.0.2.2");
	assert_rr_text(c.rrs[2], "deeper.sub.example.com. 60 IN TXT \"apex of deeper\"");
	collected_clear(&c);
}

static void
parentheses_and_comments(void **state)
{
	collected_t c = { 0 };
	dz_error_t err;
	const char *text =
		"; a comment line\n"
		"\n"
		"example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. ( ; start\n"
		"        2027010301 ; serial\n"
		"        7200       ; refresh\n"
		"        3600 1209600\n"
		"        300 )      ; minimum\n"
		"txt.example.com. 60 TXT ( \"a;b\" \"c(d\" ; comment ( with paren\n"
		"  \"e\\\"f\" )\n"
		"semi.example.com. 60 TXT a\\;b\r\n"
		"after.example.com. 60 A 192.0.2.9 ; trailing\n";

	(void)state;
	assert_int_equal(read_text(text, NULL, NULL, &c, NULL, &err), DZ_OK);
	assert_int_equal(c.count, 4);
	assert_rr_text(c.rrs[0], "example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. "
				 "2027010301 7200 3600 1209600 300");
	assert_int_equal(c.lines[0], 3);
	/* Three strings: "a;b" "c(d" "e\"f"; lengths 3, 3, 3. */
	assert_wire(c.rrs[1], "0374787407" "6578616d706c6503636f6d00" "0010" "0001" "0000003c" "000c"
			      "03613b62" "03632864" "03652266");
	assert_int_equal(c.lines[1], 8);
	assert_wire(c.rrs[2], "0473656d6907" "6578616d706c6503636f6d00" "0010" "0001" "0000003c"
			      "0004" "03613b62");
	assert_int_equal(c.lines[3], 11);
	collected_clear(&c);
}

static void
escaped_labels(void **state)
{
	collected_t c = { 0 };
	dz_error_t err;
	const char *text =
		"$ORIGIN example.com.\n"
		"$TTL 300\n"
		"a\\.b A 192.0.2.1\n"     /* one label "a.b" */
		"\\065bc A 192.0.2.1\n"	  /* \065 is 'A' */
		"x\\\\y A 192.0.2.1\n"	  /* one label "x\y" */
		"\\000 A 192.0.2.1\n";	  /* a label of one zero octet */

	(void)state;
	assert_int_equal(read_text(text, NULL, NULL, &c, NULL, &err), DZ_OK);
	assert_int_equal(c.count, 4);
	const char *rest = "076578616d706c6503636f6d00" "0001" "0001" "0000012c" "0004" "c0000201";
	char want[256];
	snprintf(want, sizeof(want), "03612e62%s", rest);
	assert_wire(c.rrs[0], want);
	snprintf(want, sizeof(want), "03416263%s", rest);
	assert_wire(c.rrs[1], want);
	snprintf(want, sizeof(want), "03785c79%s", rest);
	assert_wire(c.rrs[2], want);
	snprintf(want, sizeof(want), "0100%s", rest);
	assert_wire(c.rrs[3], want);
	collected_clear(&c);
}

/* Labels of 63 octets: "aaa...a" with `labels` labels of 63 and one of `last` octets. */
static void
long_name(char *out, size_t size, int labels, int last, bool absolute)
{
	size_t n = 0;

	for (int l = 0; l < labels; l++) {
		memset(out + n, 'a', 63);
		n += 63;
		out[n++] = '.';
	}
	memset(out + n, 'b', (size_t)last);
	n += (size_t)last;
	if (absolute)
		out[n++] = '.';
	out[n] = '\0';
	assert_true(n < size);
}

static void
maximum_name_and_label_length(void **state)
{
	char name[300];
	char text[600];
	collected_t c = { 0 };
	dz_error_t err;

	(void)state;
	/* 3 * (1 + 63) + (1 + 61) + 1 = 255 octets: accepted. */
	long_name(name, sizeof(name), 3, 61, true);
	snprintf(text, sizeof(text), "%s 60 IN A 192.0.2.1\n", name);
	assert_int_equal(read_text(text, NULL, NULL, &c, NULL, &err), DZ_OK);
	assert_int_equal(c.count, 1);
	assert_int_equal(ldns_rdf_size(ldns_rr_owner(c.rrs[0])), 255);
	collected_clear(&c);

	/* 256 octets: rejected. */
	long_name(name, sizeof(name), 3, 62, true);
	snprintf(text, sizeof(text), "%s 60 IN A 192.0.2.1\n", name);
	assert_read_fails(text, NULL, DZ_ESYNTAX, "test.zone:1:", "255");

	/* Relative: 3 * 64 + 49 = 241 octets, + "example.com." (13) = 254: accepted. */
	long_name(name, sizeof(name), 3, 48, false);
	snprintf(text, sizeof(text), "%s 60 IN A 192.0.2.1\n", name);
	assert_int_equal(read_text(text, "example.com.", NULL, &c, NULL, &err), DZ_OK);
	assert_int_equal(ldns_rdf_size(ldns_rr_owner(c.rrs[0])), 254);
	collected_clear(&c);
	/* Two octets more make 256 once the origin is added. */
	long_name(name, sizeof(name), 3, 50, false);
	snprintf(text, sizeof(text), "%s 60 IN A 192.0.2.1\n", name);
	assert_read_fails(text, "example.com.", DZ_ESYNTAX, "256 octets", "test.zone:1:");
	/* The same for a name in the record data. */
	snprintf(text, sizeof(text), "x 60 IN CNAME %s\n", name);
	assert_read_fails(text, "example.com.", DZ_ESYNTAX, "record data", "255");

	/* A label of 63 octets is accepted, 64 is not. */
	memset(name, 'a', 63);
	snprintf(name + 63, sizeof(name) - 63, " 60 A 192.0.2.1\n");
	assert_int_equal(read_text(name, "example.com.", NULL, &c, NULL, &err), DZ_OK);
	assert_int_equal(ldns_rdf_data(ldns_rr_owner(c.rrs[0]))[0], 63);
	collected_clear(&c);
	memset(name, 'a', 64);
	snprintf(name + 64, sizeof(name) - 64, " 60 A 192.0.2.1\n");
	assert_read_fails(name, "example.com.", DZ_ESYNTAX, "test.zone:1:", "63 octets");
}

static void
txt_of_many_strings(void **state)
{
	const int strings = 200;
	size_t cap = (size_t)strings * 260 + 128;
	char *text = malloc(cap);
	collected_t c = { 0 };
	dz_error_t err;
	size_t n;

	(void)state;
	assert_non_null(text);
	n = (size_t)snprintf(text, cap, "big.example.com. 60 IN TXT (\n");
	for (int i = 0; i < strings; i++) {
		text[n++] = '"';
		memset(text + n, 'a' + i % 26, 255);
		n += 255;
		memcpy(text + n, "\"\n", 2);
		n += 2;
	}
	memcpy(text + n, ")\n", 3);
	assert_int_equal(read_text(text, NULL, NULL, &c, NULL, &err), DZ_OK);
	assert_int_equal(c.count, 1);
	assert_int_equal(ldns_rr_rd_count(c.rrs[0]), strings);
	/* 200 strings of 1 + 255 octets: RDLENGTH 51200. */
	size_t total = 0;
	for (size_t i = 0; i < ldns_rr_rd_count(c.rrs[0]); i++)
		total += ldns_rdf_size(ldns_rr_rdf(c.rrs[0], i));
	assert_int_equal(total, 51200);
	assert_int_equal(ldns_rdf_data(ldns_rr_rdf(c.rrs[0], 199))[1], 'a' + 199 % 26);
	collected_clear(&c);
	free(text);
}

/* ---- RFC 3597 ---------------------------------------------------------- */

static void
generic_unknown_type_round_trip(void **state)
{
	collected_t c = { 0 };
	dz_error_t err;
	const char *text =
		"$ORIGIN example.com.\n"
		"a 300 IN TYPE65000 \\# 3 abcdef\n"
		"b 300 CLASS1 TYPE65000 \\# 4 ab CD ef0 1\n" /* words split anywhere */
		"c 300 IN TYPE65000 \\# 0\n"
		"d 300 IN TYPE65534 ( \\# 2\n 0102 )\n";

	(void)state;
	assert_int_equal(read_text(text, NULL, NULL, &c, NULL, &err), DZ_OK);
	assert_int_equal(c.count, 4);
	/* 1 "a" 7 "example" 3 "com" 0, type 0xfde8, class 1, TTL 300, RDLENGTH 3. */
	assert_wire(c.rrs[0], "0161076578616d706c6503636f6d00" "fde8" "0001" "0000012c" "0003" "abcdef");
	assert_wire(c.rrs[1], "0162076578616d706c6503636f6d00" "fde8" "0001" "0000012c" "0004" "abcdef01");
	assert_wire(c.rrs[2], "0163076578616d706c6503636f6d00" "fde8" "0001" "0000012c" "0000");
	assert_wire(c.rrs[3], "0164076578616d706c6503636f6d00" "fffe" "0001" "0000012c" "0002" "0102");
	collected_clear(&c);
}

static void
generic_known_type_equals_text(void **state)
{
	collected_t c = { 0 };
	dz_error_t err;
	const char *text =
		"$ORIGIN example.com.\n"
		"a 300 IN TYPE1 \\# 4 c0000201\n"
		"b 300 IN A 192.0.2.1\n"
		"c 300 IN MX \\# 8 000a 04 4d61696c 00\n" /* 10 Mail. */
		"d 300 IN TYPE52 \\# 5 03010161 62\n";    /* TLSA 3 1 1 6162 */

	(void)state;
	assert_int_equal(read_text(text, NULL, NULL, &c, NULL, &err), DZ_OK);
	assert_int_equal(c.count, 4);
	char *a = wire_hex(c.rrs[0]);
	char *b = wire_hex(c.rrs[1]);
	/* Same except the owner label "a" / "b". */
	assert_string_equal(a + 4, b + 4);
	assert_wire(c.rrs[0], "0161076578616d706c6503636f6d00" "0001" "0001" "0000012c" "0004" "c0000201");
	free(a);
	free(b);
	/* Decoded into fields, and the case of "Mail" is kept. */
	assert_int_equal(ldns_rr_get_type(c.rrs[2]), LDNS_RR_TYPE_MX);
	assert_int_equal(ldns_rr_rd_count(c.rrs[2]), 2);
	assert_wire(c.rrs[2],
		    "0163076578616d706c6503636f6d00" "000f" "0001" "0000012c" "0008" "000a044d61696c00");
	assert_rr_text(c.rrs[3], "d.example.com. 300 IN TLSA 3 1 1 6162");
	collected_clear(&c);
}

static void
generic_data_rejected_when_invalid(void **state)
{
	(void)state;
	/* ldns alone accepts this and drops the fifth octet. */
	assert_read_fails("a.example. 300 IN TYPE1 \\# 5 c000020101\n", NULL, DZ_ESYNTAX,
			  "test.zone:1:", "not valid A data");
	/* ldns alone accepts an A record without data. */
	assert_read_fails("a.example. 300 IN A \\# 0\n", NULL, DZ_ESYNTAX, "not valid A data", NULL);
	assert_read_fails("a.example. 300 IN A \\# 4 c00002\n", NULL, DZ_ESYNTAX, "declares 4 octets",
			  "6 hex digits");
	assert_read_fails("a.example. 300 IN A \\# 4 c000020g\n", NULL, DZ_ESYNTAX, "not hex", NULL);
	assert_read_fails("a.example. 300 IN A \\# 4 c000020\n", NULL, DZ_ESYNTAX, "declares", NULL);
	assert_read_fails("a.example. 300 IN A \\# x c0000201\n", NULL, DZ_ESYNTAX, "invalid length",
			  NULL);
	assert_read_fails("a.example. 300 IN TYPE65000 \\# 65536\n", NULL, DZ_ESYNTAX,
			  "invalid length", NULL);
	assert_read_fails("a.example. 300 IN TYPE65000 \\#\n", NULL, DZ_ESYNTAX, "missing length", NULL);
	/* A compression pointer is not allowed in generic data (RFC 3597 section 4). */
	assert_read_fails("a.example. 300 IN NS \\# 2 c00c\n", NULL, DZ_ESYNTAX, "not valid NS data",
			  NULL);
	/* An unknown type has no text form. */
	assert_read_fails("a.example. 300 IN TYPE65000 abcdef\n", NULL, DZ_ESYNTAX, "generic form",
			  NULL);
	assert_read_fails("a.example. 300 IN TYPE65000\n", NULL, DZ_ESYNTAX, "generic form", NULL);
	assert_read_fails("a.example. 300 IN TYPE65536 \\# 0\n", NULL, DZ_ESYNTAX,
			  "unknown record type 'TYPE65536'", NULL);
	assert_read_fails("a.example. 300 CLASS65536 A 192.0.2.1\n", NULL, DZ_ESYNTAX,
			  "unknown record type 'CLASS65536'", NULL);
}

/* ---- TTLs -------------------------------------------------------------- */

static void
ttl_from_dollar_ttl_and_units(void **state)
{
	collected_t c = { 0 };
	dz_error_t err;
	const char *text =
		"$TTL 1d\n"
		"a.example. A 192.0.2.1\n"
		"$TTL 0\n"
		"b.example. A 192.0.2.2\n"
		"c.example. 2w A 192.0.2.3\n"
		"d.example. 2147483647 A 192.0.2.4\n";

	(void)state;
	assert_int_equal(read_text(text, NULL, NULL, &c, NULL, &err), DZ_OK);
	assert_int_equal(c.count, 4);
	assert_int_equal(ldns_rr_ttl(c.rrs[0]), 86400);
	assert_int_equal(ldns_rr_ttl(c.rrs[1]), 0);
	assert_int_equal(ldns_rr_ttl(c.rrs[2]), 1209600);
	assert_int_equal(ldns_rr_ttl(c.rrs[3]), 2147483647);
	collected_clear(&c);

	assert_read_fails("a.example. 2147483648 A 192.0.2.1\n", NULL, DZ_ERANGE, "test.zone:1:",
			  "2147483648");
	assert_read_fails("$TTL 4294967296\n", NULL, DZ_ERANGE, "$TTL", NULL);
	assert_read_fails("$TTL 1x\n", NULL, DZ_ESYNTAX, "invalid $TTL '1x'", NULL);
	assert_read_fails("$TTL\n", NULL, DZ_ESYNTAX, "$TTL SECONDS", NULL);
	assert_read_fails("a.example. 1y A 192.0.2.1\n", NULL, DZ_ESYNTAX, "invalid TTL '1y'", NULL);
	assert_read_fails("a.example. 60 60 A 192.0.2.1\n", NULL, DZ_ESYNTAX, "second TTL", NULL);
}

static void
ttl_from_soa_minimum_with_warning(void **state)
{
	collected_t c = { 0 };
	warnings_t w = { 0 };
	dz_error_t err;
	const char *text =
		"example.com. IN SOA ns1.example.com. h.example.com. 1 7200 3600 1209600 600\n"
		"example.com. NS ns1.example.com.\n"
		"ns1.example.com. 77 A 192.0.2.1\n"
		"www.example.com. A 192.0.2.2\n";

	(void)state;
	assert_int_equal(read_text(text, NULL, NULL, &c, &w, &err), DZ_OK);
	assert_int_equal(c.count, 4);
	/* SOA MINIMUM 600 serves as $TTL; an explicit 77 does not change it. */
	assert_int_equal(ldns_rr_ttl(c.rrs[0]), 600);
	assert_int_equal(ldns_rr_ttl(c.rrs[1]), 600);
	assert_int_equal(ldns_rr_ttl(c.rrs[2]), 77);
	assert_int_equal(ldns_rr_ttl(c.rrs[3]), 600);
	assert_int_equal(w.count, 1);
	assert_non_null(strstr(w.last, "test.zone:1:"));
	assert_non_null(strstr(w.last, "SOA MINIMUM 600"));
	collected_clear(&c);
}

static void
ttl_from_previous_record_with_warning(void **state)
{
	collected_t c = { 0 };
	warnings_t w = { 0 };
	dz_error_t err;
	const char *text =
		"example.com. 500 IN SOA ns1.example.com. h.example.com. 1 7200 3600 1209600 600\n"
		"example.com. NS ns1.example.com.\n"
		"ns1.example.com. 77 A 192.0.2.1\n"
		"www.example.com. A 192.0.2.2\n";

	(void)state;
	assert_int_equal(read_text(text, NULL, NULL, &c, &w, &err), DZ_OK);
	assert_int_equal(c.count, 4);
	assert_int_equal(ldns_rr_ttl(c.rrs[1]), 500);
	assert_int_equal(ldns_rr_ttl(c.rrs[3]), 77);
	/* One warning per read, at the first record that needed it. */
	assert_int_equal(w.count, 1);
	assert_non_null(strstr(w.last, "test.zone:2:"));
	assert_non_null(strstr(w.last, "RFC 1035"));
	collected_clear(&c);
}

static void
ttl_missing_is_an_error(void **state)
{
	(void)state;
	assert_read_fails("www.example.com. A 192.0.2.2\n", NULL, DZ_ESYNTAX, "test.zone:1:",
			  "add a $TTL line");
}

static void
ttl_default_option(void **state)
{
	collected_t c = { 0 };
	dz_zonefile_options_t options;
	dz_error_t err;

	(void)state;
	dz_zonefile_options_init(&options);
	options.has_default_ttl = true;
	options.default_ttl = 1234;
	assert_int_equal(read_text("a.example. A 192.0.2.1\n$TTL 5\nb.example. A 192.0.2.1\n", NULL,
				   &options, &c, NULL, &err),
			 DZ_OK);
	assert_int_equal(c.count, 2);
	assert_int_equal(ldns_rr_ttl(c.rrs[0]), 1234);
	assert_int_equal(ldns_rr_ttl(c.rrs[1]), 5);
	collected_clear(&c);
}

/* ---- errors ------------------------------------------------------------ */

static void
errors_name_file_line_and_text(void **state)
{
	(void)state;
	assert_read_fails("$TTL 60\na.example. A 192.0.2.1\nb.example. A 192.0.2\n", NULL, DZ_ESYNTAX,
			  "test.zone:3:", "'b.example. A 192.0.2'");
	assert_read_fails("$TTL 60\na.example. FOO 1\n", NULL, DZ_ESYNTAX,
			  "test.zone:2: unknown record type 'FOO'", "TYPEnnn");
	assert_read_fails("$TTL 60\na.example. A 192.0.2.1 extra\n", NULL, DZ_ESYNTAX, "test.zone:2:",
			  "extra");
	assert_read_fails("$TTL 60\na.example. TXT ( \"x\"\n\n", NULL, DZ_ESYNTAX, "test.zone:2:",
			  "closing ')'");
	assert_read_fails("$TTL 60\n\na.example. TXT \"x\n\"\n", NULL, DZ_ESYNTAX, "test.zone:3:",
			  "closing '\"'");
	assert_read_fails("$TTL 60\na.example. TXT \"x\" )\n", NULL, DZ_ESYNTAX, "test.zone:2:",
			  "')' without");
	assert_read_fails("$TTL 60\n  A 192.0.2.1\n", NULL, DZ_ESYNTAX, "test.zone:2:",
			  "no previous owner");
	assert_read_fails("$TTL 60\n\"a.example.\" A 192.0.2.1\n", NULL, DZ_ESYNTAX, "test.zone:2:",
			  "quoted owner name");
	assert_read_fails("$TTL 60\nwww A 192.0.2.1\n", NULL, DZ_ESYNTAX, "relative owner name 'www'",
			  "$ORIGIN");
	assert_read_fails("$TTL 60\n@ A 192.0.2.1\n", NULL, DZ_ESYNTAX, "'@'", "$ORIGIN");
	assert_read_fails("$TTL 60\na.example. MX 10 mail\n", NULL, DZ_ESYNTAX, "test.zone:2:",
			  "relative name in the record data");
	assert_read_fails("$TTL 60\na.example. MX 10 @\n", NULL, DZ_ESYNTAX,
			  "relative name in the record data", NULL);
	assert_read_fails("$FOO bar\n", NULL, DZ_ESYNTAX, "test.zone:1: unknown directive '$FOO'",
			  NULL);
	assert_read_fails("$GENERATE 1-2 h$ A 192.0.2.$\n", NULL, DZ_ENOTSUP, "test.zone:1:",
			  "$GENERATE");
	assert_read_fails("$ORIGIN\n", NULL, DZ_ESYNTAX, "$ORIGIN NAME", NULL);
	assert_read_fails("$ORIGIN a..b.\n", NULL, DZ_ESYNTAX, "invalid $ORIGIN name", NULL);
	assert_read_fails("$TTL 60\na.example. IN A 192.0.2.1\nb.example. CH TXT \"x\"\n", NULL,
			  DZ_ESYNTAX, "test.zone:3: class CH", "zone's class IN");
	assert_read_fails("$TTL 60\na.example. ANY A 192.0.2.1\n", NULL, DZ_ESYNTAX, "NONE or ANY",
			  NULL);
	assert_read_fails("$TTL 60\na.example. IN CH A 192.0.2.1\n", NULL, DZ_ESYNTAX, "second class",
			  NULL);
	assert_read_fails("$TTL 60\na.example. AXFR \\# 0\n", NULL, DZ_ESYNTAX, "meta type", NULL);
	assert_read_fails("$TTL 60\na.example. OPT \\# 0\n", NULL, DZ_ESYNTAX, "meta type", NULL);
	assert_read_fails("$TTL 60\na.example. 60\n", NULL, DZ_ESYNTAX, "missing record type", NULL);
	assert_read_fails("$TTL 60\na.example. TXT x\\\ny\n", NULL, DZ_ESYNTAX, "test.zone:2:",
			  "backslash at the end of a line");
}

static void
nul_byte_is_an_error(void **state)
{
	static const char text[] = "$TTL 60\na.example. TXT \"x\0y\"\n";
	collected_t c = { 0 };
	dz_error_t err;

	(void)state;
	dz_error_init(&err);
	assert_int_equal(dz_zonefile_read_buffer(text, sizeof(text) - 1, "nul.zone", NULL, NULL,
						 collect, &c, &err),
			 DZ_ESYNTAX);
	assert_non_null(strstr(err.message, "nul.zone:2: NUL byte"));
	assert_int_equal(c.count, 0);
}

static void
callback_error_stops_the_read(void **state)
{
	collected_t c = { .fail_at = 2 };
	dz_error_t err;

	(void)state;
	assert_int_equal(read_text("$TTL 60\na.example. A 192.0.2.1\nb.example. A 192.0.2.2\n"
				   "c.example. A 192.0.2.3\n",
				   NULL, NULL, &c, NULL, &err),
			 DZ_ECANCELED);
	assert_int_equal(c.count, 1);
	assert_string_equal(err.message, "test.zone:3: stop requested by the test");
	collected_clear(&c);
}

static void
invalid_origin_argument(void **state)
{
	collected_t c = { 0 };
	dz_error_t err;

	(void)state;
	assert_int_equal(read_text("", "a..b", NULL, &c, NULL, &err), DZ_EINVAL);
	assert_non_null(strstr(err.message, "invalid origin 'a..b'"));
}

static void
missing_file_is_not_found(void **state)
{
	collected_t c = { 0 };
	dz_error_t err;

	(void)state;
	assert_int_equal(read_path("/nonexistent/dz/zone.db", NULL, NULL, &c, NULL, &err), DZ_ENOTFOUND);
	assert_non_null(strstr(err.message, "'/nonexistent/dz/zone.db'"));
}

/* ---- $INCLUDE ---------------------------------------------------------- */

static void
include_relative_to_including_file(void **state)
{
	tmpdir_t t;
	collected_t c = { 0 };
	warnings_t w = { 0 };
	dz_error_t err;
	char sub_path[400];

	(void)state;
	tmpdir_create(&t);
	tmpdir_mkdir(&t, "sub");
	const char *main_path = tmpdir_write(&t, "main.zone",
		"$ORIGIN example.com.\n"
		"$TTL 300\n"
		"@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n"
		"ns1 A 192.0.2.1\n"
		"$INCLUDE sub/users.inc _smimecert.example.com. ; comment\n"
		"  A 192.0.2.11\n"		/* previous owner restored: ns1 */
		"after A 192.0.2.12\n"		/* origin restored */
		"$INCLUDE \"sub/plain.inc\"\n"
		"last A 192.0.2.13\n");
	tmpdir_write(&t, "sub/users.inc",
		"  TXT \"inherits the previous owner\"\n"
		"user1 SMIMEA 3 0 0 abcd\n"
		"$TTL 60\n"			/* stays in effect after the include */
		"$INCLUDE deeper.inc\n");	/* relative to sub/ */
	tmpdir_write(&t, "sub/deeper.inc",
		"$ORIGIN deeper\n"
		"x A 192.0.2.20\n");
	tmpdir_write(&t, "sub/plain.inc", "plain A 192.0.2.30\n");

	assert_int_equal(read_path(main_path, NULL, NULL, &c, &w, &err), DZ_OK);
	assert_int_equal(c.count, 9);
	assert_rr_text(c.rrs[2], "ns1.example.com. 300 IN TXT \"inherits the previous owner\"");
	assert_rr_text(c.rrs[3], "user1._smimecert.example.com. 300 IN SMIMEA 3 0 0 abcd");
	assert_rr_text(c.rrs[4], "x.deeper._smimecert.example.com. 60 IN A 192.0.2.20");
	assert_rr_text(c.rrs[5], "ns1.example.com. 60 IN A 192.0.2.11");
	assert_rr_text(c.rrs[6], "after.example.com. 60 IN A 192.0.2.12");
	assert_rr_text(c.rrs[7], "plain.example.com. 60 IN A 192.0.2.30");
	assert_rr_text(c.rrs[8], "last.example.com. 60 IN A 192.0.2.13");

	/* Each record names the file and line it came from. */
	snprintf(sub_path, sizeof(sub_path), "%s/sub/users.inc", t.path);
	assert_string_equal(c.files[3], sub_path);
	assert_int_equal(c.lines[3], 2);
	snprintf(sub_path, sizeof(sub_path), "%s/sub/deeper.inc", t.path);
	assert_string_equal(c.files[4], sub_path);
	assert_int_equal(c.lines[4], 2);
	assert_string_equal(c.files[5], main_path);
	assert_int_equal(c.lines[5], 6);
	assert_int_equal(w.count, 0);
	collected_clear(&c);
	tmpdir_remove(&t);
}

static void
include_loops_are_errors(void **state)
{
	tmpdir_t t;
	collected_t c = { 0 };
	dz_error_t err;

	(void)state;
	tmpdir_create(&t);
	const char *self =
		tmpdir_write(&t, "self.zone", "$TTL 60\na.example. A 192.0.2.1\n$INCLUDE self.zone\n");
	assert_int_equal(read_path(self, NULL, NULL, &c, NULL, &err), DZ_ESYNTAX);
	assert_non_null(strstr(err.message, "self.zone:3: $INCLUDE loop"));
	assert_non_null(strstr(err.message, "self.zone -> "));
	collected_clear(&c);

	const char *a = tmpdir_write(&t, "a.zone", "$TTL 60\n$INCLUDE b.zone\n");
	tmpdir_write(&t, "b.zone", "\n$INCLUDE ./c.zone\n");
	tmpdir_write(&t, "c.zone", "$INCLUDE a.zone\n");
	assert_int_equal(read_path(a, NULL, NULL, &c, NULL, &err), DZ_ESYNTAX);
	assert_non_null(strstr(err.message, "c.zone:1: $INCLUDE loop"));
	assert_non_null(strstr(err.message, "a.zone -> "));
	assert_non_null(strstr(err.message, "b.zone -> "));
	assert_non_null(strstr(err.message, "./c.zone -> "));
	collected_clear(&c);

	/* Including the same file twice, one after the other, is no loop. */
	const char *twice =
		tmpdir_write(&t, "twice.zone", "$TTL 60\n$INCLUDE one.inc\n$INCLUDE one.inc\n");
	tmpdir_write(&t, "one.inc", "a.example. A 192.0.2.1\n");
	assert_int_equal(read_path(twice, NULL, NULL, &c, NULL, &err), DZ_OK);
	assert_int_equal(c.count, 2);
	collected_clear(&c);
	tmpdir_remove(&t);
}

static void
include_depth_limit(void **state)
{
	tmpdir_t t;
	collected_t c = { 0 };
	dz_zonefile_options_t options;
	dz_error_t err;

	(void)state;
	tmpdir_create(&t);
	const char *top = tmpdir_write(&t, "d0.zone", "$TTL 60\n$INCLUDE d1.zone\n");
	tmpdir_write(&t, "d1.zone", "$INCLUDE d2.zone\n");
	tmpdir_write(&t, "d2.zone", "$INCLUDE d3.zone\n");
	tmpdir_write(&t, "d3.zone", "a.example. A 192.0.2.1\n");

	dz_zonefile_options_init(&options);
	options.max_include_depth = 3;
	assert_int_equal(read_path(top, NULL, &options, &c, NULL, &err), DZ_OK);
	assert_int_equal(c.count, 1);
	collected_clear(&c);

	options.max_include_depth = 2;
	assert_int_equal(read_path(top, NULL, &options, &c, NULL, &err), DZ_ERANGE);
	assert_non_null(strstr(err.message, "d2.zone:1: $INCLUDE nested more than 2 files deep"));
	collected_clear(&c);

	options.allow_include = false;
	assert_int_equal(read_path(top, NULL, &options, &c, NULL, &err), DZ_EPERM);
	assert_non_null(strstr(err.message, "d0.zone:2: $INCLUDE is not allowed"));
	collected_clear(&c);

	tmpdir_write(&t, "missing.zone", "$INCLUDE nothere.inc\n");
	assert_int_equal(read_path(t.files[t.file_count - 1], NULL, NULL, &c, NULL, &err), DZ_ENOTFOUND);
	assert_non_null(strstr(err.message, "missing.zone:1: $INCLUDE nothere.inc: cannot open"));
	collected_clear(&c);
	tmpdir_remove(&t);
}

/*
 * Include hook for a tree of files: a path with fewer than 12 slashes
 * ("zones/a/b/n") includes three files one level deeper, and the others
 * contain one record.
 */
static dz_result_t
tree_include(void *ctx, const char *path, const char **data, size_t *len, dz_error_t *err)
{
	static const char level[] = "$INCLUDE a/n\n$INCLUDE b/n\n$INCLUDE c/n\n";
	static const char leaf[] = "x.example. 60 A 192.0.2.1\n";
	size_t slashes = 0;

	(void)ctx;
	(void)err;
	for (const char *p = path; *p != '\0'; p++)
		slashes += *p == '/';
	*data = slashes < 12 ? level : leaf;
	*len = strlen(*data);
	return DZ_OK;
}

static dz_result_t
count_records(void *ctx, const ldns_rr *rr, const char *file, unsigned line, dz_error_t *err)
{
	(void)rr;
	(void)file;
	(void)line;
	(void)err;
	(*(size_t *)ctx)++;
	return DZ_OK;
}

static void
include_count_limit(void **state)
{
	tmpdir_t t;
	collected_t c = { 0 };
	dz_zonefile_options_t options;
	dz_error_t err;

	(void)state;
	tmpdir_create(&t);
	/* Each level includes the next twice: 2 + 4 + 8 = 14 included files, 8 records. */
	const char *top = tmpdir_write(&t, "top.zone", "$TTL 60\n$INCLUDE l1.inc\n$INCLUDE l1.inc\n");
	tmpdir_write(&t, "l1.inc", "$INCLUDE l2.inc\n$INCLUDE l2.inc\n");
	tmpdir_write(&t, "l2.inc", "$INCLUDE l3.inc\n$INCLUDE l3.inc\n");
	tmpdir_write(&t, "l3.inc", "a.example. A 192.0.2.1\n");

	dz_zonefile_options_init(&options);
	assert_int_equal(options.max_includes, DZ_ZONEFILE_INCLUDES_DEFAULT);
	options.max_includes = 14;
	assert_int_equal(read_path(top, NULL, &options, &c, NULL, &err), DZ_OK);
	assert_int_equal(c.count, 8);
	collected_clear(&c);

	options.max_includes = 13;
	assert_int_equal(read_path(top, NULL, &options, &c, NULL, &err), DZ_ERANGE);
	assert_non_null(strstr(err.message, "l2.inc:2: more than 13 $INCLUDE files read for one zone"));
	assert_int_equal(c.count, 7);
	collected_clear(&c);
	tmpdir_remove(&t);

	/*
	 * Three includes per file over 11 levels would read 3 + 9 + ... + 3^11
	 * = 265719 files.  The default limit stops the read after 10000.
	 */
	static const char top_text[] = "$INCLUDE a/n\n$INCLUDE b/n\n$INCLUDE c/n\n";
	size_t records = 0;
	dz_zonefile_options_init(&options);
	options.include_fn = tree_include;
	dz_error_init(&err);
	assert_int_equal(dz_zonefile_read_buffer(top_text, strlen(top_text), "zones/main.zone",
						 "example.com", &options, count_records, &records,
						 &err),
			 DZ_ERANGE);
	assert_non_null(strstr(err.message, "more than 10000 $INCLUDE files read for one zone"));
	assert_true(records > 0);
	assert_true(records < 10000);
}

/* Include hook serving files from a table, for the buffer reader. */
static dz_result_t
table_include(void *ctx, const char *path, const char **data, size_t *len, dz_error_t *err)
{
	const char *const *table = ctx;

	for (size_t i = 0; table[i] != NULL; i += 2) {
		if (strcmp(table[i], path) == 0) {
			*data = table[i + 1];
			*len = strlen(table[i + 1]);
			return DZ_OK;
		}
	}
	return dz_error_set(err, DZ_ENOTFOUND, "no such test file '%s'", path);
}

static void
include_hook_for_buffers(void **state)
{
	static const char *const table[] = {
		"zones/inc/a.inc", "$ORIGIN sub\nhost 60 A 192.0.2.1\n$INCLUDE ../b.inc\n",
		"zones/inc/../b.inc", "other 60 A 192.0.2.2\n",
		"zones/loop.inc", "$INCLUDE inc/../loop.inc\n",
		NULL,
	};
	collected_t c = { 0 };
	dz_zonefile_options_t options;
	dz_error_t err;
	const char *text = "$INCLUDE inc/a.inc\nlast 60 A 192.0.2.3\n";

	(void)state;
	dz_zonefile_options_init(&options);
	options.include_fn = table_include;
	options.include_ctx = (void *)table;
	dz_error_init(&err);
	assert_int_equal(dz_zonefile_read_buffer(text, strlen(text), "zones/main.zone", "example.com",
						 &options, collect, &c, &err),
			 DZ_OK);
	assert_int_equal(c.count, 3);
	assert_rr_text(c.rrs[0], "host.sub.example.com. 60 IN A 192.0.2.1");
	assert_string_equal(c.files[0], "zones/inc/a.inc");
	assert_rr_text(c.rrs[1], "other.sub.example.com. 60 IN A 192.0.2.2");
	assert_rr_text(c.rrs[2], "last.example.com. 60 IN A 192.0.2.3");
	collected_clear(&c);

	/* zones/inc/../loop.inc is zones/loop.inc again. */
	text = "$INCLUDE loop.inc\n";
	assert_int_equal(dz_zonefile_read_buffer(text, strlen(text), "zones/main.zone", "example.com",
						 &options, collect, &c, &err),
			 DZ_ESYNTAX);
	assert_non_null(strstr(err.message, "$INCLUDE loop: zones/main.zone -> zones/loop.inc -> "
					    "zones/inc/../loop.inc"));

	text = "$INCLUDE none.inc\n";
	assert_int_equal(dz_zonefile_read_buffer(text, strlen(text), "zones/main.zone", "example.com",
						 &options, collect, &c, &err),
			 DZ_ENOTFOUND);
	assert_string_equal(err.message,
			    "zones/main.zone:1: $INCLUDE none.inc: no such test file 'zones/none.inc'");
	collected_clear(&c);
}

/* ---- comparison with BIND ---------------------------------------------- */

static int
compare_wire(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Canonical wire forms (RFC 4034 section 6.2) of the records, sorted, as hex. */
static char **
canonical_sorted(ldns_rr **rrs, size_t count)
{
	char **out = calloc(count + 1, sizeof(*out));

	assert_non_null(out);
	for (size_t i = 0; i < count; i++) {
		ldns_rr *copy = ldns_rr_clone(rrs[i]);
		ldns_rr2canonical(copy);
		out[i] = wire_hex(copy);
		ldns_rr_free(copy);
	}
	qsort(out, count, sizeof(*out), compare_wire);
	return out;
}

/*
 * Read tests/data/zonefile/NAME with our reader and with named-checkzone -D,
 * and compare the records.  Skips when named-checkzone is not installed.
 */
static void
compare_with_named(const char *name, const char *origin)
{
	const char *srcdir = getenv("DZ_SRCDIR");
	char path[512];
	char cmd[2048];
	char line[70000];
	collected_t ours = { 0 };
	ldns_rr *theirs[MAX_RECORDS];
	size_t their_count = 0;
	dz_error_t err;

	if (srcdir == NULL)
		fail_msg("DZ_SRCDIR is not set; run the test through 'make check'");
	if (system("command -v named-checkzone >/dev/null 2>&1") != 0) {
		skip();
		return;
	}
	snprintf(path, sizeof(path), "%s/tests/data/zonefile/%s", srcdir, name);
	assert_int_equal(read_path(path, origin, NULL, &ours, NULL, &err), DZ_OK);

	/*
	 * named-checkzone resolves $INCLUDE from its working folder, so run it
	 * there; "-i none" keeps it from looking up out-of-zone names in the DNS.
	 */
	tmpdir_t t;
	tmpdir_create(&t);
	const char *dump = tmpdir_write(&t, "named.dump", "");
	snprintf(cmd, sizeof(cmd),
		 "cd '%s/tests/data/zonefile' && named-checkzone -q -i none -D -o '%s' '%s' '%s'", srcdir,
		 dump, origin, name);
	int status = system(cmd);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) != 0)
		fail_msg("named-checkzone rejected %s (exit %d): %s", name, WEXITSTATUS(status), cmd);
	FILE *f = fopen(dump, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		ldns_rr *rr = NULL;
		if (line[0] == '\n' || line[0] == ';')
			continue;
		if (ldns_rr_new_frm_str(&rr, line, 0, NULL, NULL) != LDNS_STATUS_OK)
			fail_msg("cannot parse named-checkzone output line: %s", line);
		assert_true(their_count < MAX_RECORDS);
		theirs[their_count++] = rr;
	}
	fclose(f);
	tmpdir_remove(&t);

	assert_int_equal(ours.count, their_count);
	char **a = canonical_sorted(ours.rrs, ours.count);
	char **b = canonical_sorted(theirs, their_count);
	for (size_t i = 0; i < their_count; i++) {
		if (strcmp(a[i], b[i]) != 0)
			fail_msg("%s: record %zu differs:\n ours  %s\n named %s", name, i, a[i], b[i]);
		free(a[i]);
		free(b[i]);
		ldns_rr_free(theirs[i]);
	}
	free(a);
	free(b);
	collected_clear(&ours);
}

static void
tricky_file_matches_named(void **state)
{
	(void)state;
	compare_with_named("tricky.zone", "example.com");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(basic_forms),
		cmocka_unit_test(origin_argument_and_relative_origin),
		cmocka_unit_test(parentheses_and_comments),
		cmocka_unit_test(escaped_labels),
		cmocka_unit_test(maximum_name_and_label_length),
		cmocka_unit_test(txt_of_many_strings),
		cmocka_unit_test(generic_unknown_type_round_trip),
		cmocka_unit_test(generic_known_type_equals_text),
		cmocka_unit_test(generic_data_rejected_when_invalid),
		cmocka_unit_test(ttl_from_dollar_ttl_and_units),
		cmocka_unit_test(ttl_from_soa_minimum_with_warning),
		cmocka_unit_test(ttl_from_previous_record_with_warning),
		cmocka_unit_test(ttl_missing_is_an_error),
		cmocka_unit_test(ttl_default_option),
		cmocka_unit_test(errors_name_file_line_and_text),
		cmocka_unit_test(nul_byte_is_an_error),
		cmocka_unit_test(callback_error_stops_the_read),
		cmocka_unit_test(invalid_origin_argument),
		cmocka_unit_test(missing_file_is_not_found),
		cmocka_unit_test(include_relative_to_including_file),
		cmocka_unit_test(include_loops_are_errors),
		cmocka_unit_test(include_depth_limit),
		cmocka_unit_test(include_count_limit),
		cmocka_unit_test(include_hook_for_buffers),
		cmocka_unit_test(tricky_file_matches_named),
	};

	return cmocka_run_group_tests_name("zones/zonefile", tests, NULL, NULL);
}
