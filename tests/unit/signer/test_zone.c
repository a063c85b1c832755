/* The zone tree: loading checks, occlusion, and the NSEC and NSEC3 chains. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "signer/denial.h"
#include "signer/nsec3.h"
#include "signer_test.h"
#include "zones/zonefile.h"

/* The zone of RFC 5155 appendix A without its DNSSEC records. */
static const char rfc5155_zone[] =
	"example. 3600 IN SOA ns1.example. bugs.x.w.example. 1 3600 300 3600000 3600\n"
	"example. 3600 IN NS ns1.example.\n"
	"example. 3600 IN NS ns2.example.\n"
	"example. 3600 IN MX 1 xx.example.\n"
	"a.example. 3600 IN NS ns1.a.example.\n"
	"a.example. 3600 IN NS ns2.a.example.\n"
	"a.example. 3600 IN DS 58470 5 1 3079F1593EBAD6DC121E202A8B766A6A4837206C\n"
	"ns1.a.example. 3600 IN A 192.0.2.5\n"
	"ns2.a.example. 3600 IN A 192.0.2.6\n"
	"ai.example. 3600 IN A 192.0.2.9\n"
	"ai.example. 3600 IN HINFO \"KLH-10\" \"ITS\"\n"
	"ai.example. 3600 IN AAAA 2001:db8::f00:baa9\n"
	"c.example. 3600 IN NS ns1.c.example.\n"
	"c.example. 3600 IN NS ns2.c.example.\n"
	"ns1.c.example. 3600 IN A 192.0.2.7\n"
	"ns2.c.example. 3600 IN A 192.0.2.8\n"
	"ns1.example. 3600 IN A 192.0.2.1\n"
	"ns2.example. 3600 IN A 192.0.2.2\n"
	"*.w.example. 3600 IN MX 1 ai.example.\n"
	"x.w.example. 3600 IN MX 1 xx.example.\n"
	"x.y.w.example. 3600 IN MX 1 xx.example.\n"
	"xx.example. 3600 IN A 192.0.2.10\n"
	"xx.example. 3600 IN HINFO \"KLH-10\" \"TOPS-20\"\n"
	"xx.example. 3600 IN AAAA 2001:db8::f00:baa5\n";

static dz_zone_t *
load_ok(const char *text)
{
	dz_result_t result;
	dz_zone_t *zone = test_zone_from_text("example.", text, NULL, &result);

	assert_int_equal(result, DZ_OK);
	return zone;
}

static dz_node_t *
node_named(dz_zone_t *zone, const char *name)
{
	uint8_t key[DZ_NAME_KEY_MAX];
	size_t len = test_key(name, key);

	return dz_zone_find(zone, key, len);
}

static void
build_chain(dz_zone_t *zone, dz_chain_kind_t kind, bool opt_out)
{
	dz_denial_config_t config;
	dz_error_t err;

	memset(&config, 0, sizeof(config));
	config.kind = kind;
	config.ttl = 3600;
	config.params.iterations = 12;
	config.params.salt_len = 4;
	memcpy(config.params.salt, "\xaa\xbb\xcc\xdd", 4);
	config.params.opt_out = opt_out;
	dz_error_init(&err);
	assert_int_equal(dz_denial_update(zone, &config, true, &err), DZ_OK);
}

static void
occlusion_and_glue(void **state)
{
	dz_zone_t *zone = load_ok(rfc5155_zone);

	(void)state;
	assert_true(node_named(zone, "a.example.")->flags & DZ_NODE_DELEGATION);
	assert_false(node_named(zone, "a.example.")->flags & DZ_NODE_OCCLUDED);
	assert_true(node_named(zone, "ns1.a.example.")->flags & DZ_NODE_OCCLUDED);
	assert_false(node_named(zone, "ns1.example.")->flags & DZ_NODE_OCCLUDED);
	/* Empty non-terminals exist as nodes without RRsets. */
	assert_non_null(node_named(zone, "y.w.example."));
	assert_null(node_named(zone, "y.w.example.")->rrsets);

	/* Removing the NS makes the names below authoritative again. */
	test_delete_rr(zone, "a.example. 3600 IN NS ns1.a.example.");
	assert_true(node_named(zone, "ns1.a.example.")->flags & DZ_NODE_OCCLUDED);
	test_delete_rr(zone, "a.example. 3600 IN NS ns2.a.example.");
	assert_false(node_named(zone, "a.example.")->flags & DZ_NODE_DELEGATION);
	assert_false(node_named(zone, "ns1.a.example.")->flags & DZ_NODE_OCCLUDED);
	dz_zone_destroy(zone);
}

/* RFC 5155 appendix A: with opt-out, the chain has exactly these 11 owners. */
static void
nsec3_chain_rfc5155_owners(void **state)
{
	static const char *const hashes[] = {
		"0p9mhaveqvm6t7vbl5lop2u3t2rp3tom", "2t7b4g4vsa5smi47k61mv5bv1a22bojr",
		"2vptu5timamqttgl4luu9kg21e0aor3s", "35mthgpgcu1qg68fab165klnsnk3dpvl",
		"b4um86eghhds6nea196smvmlo4ors995", "gjeqe526plbf1g8mklp59enfd789njgi",
		"ji6neoaepv8b5o6k4ev33abha8ht9fgc", "k8udemvp1j2f7eg6jebps17vp3n8i58h",
		"q04jkcevqvmu85r014c7dkba38o0ji5r", "r53bq7cc2uvmubfu5ocmm6pers9tk9en",
		"t644ebqk9bibcna874givr6joj62mlhv",
	};
	dz_zone_t *zone = load_ok(rfc5155_zone);
	size_t i = 0;

	(void)state;
	build_chain(zone, DZ_CHAIN_NSEC3, true);
	assert_int_equal(zone->nsec3.count, 11);
	for (dz_nsec3_t *e = dz_zone_nsec3_first(zone); e != NULL; e = dz_zone_nsec3_next(e), i++) {
		uint8_t key[DZ_NAME_KEY_MAX];
		size_t len = dz_zone_nsec3_owner_key(zone, e->hash, key);
		assert_memory_equal(key + len - 32, hashes[i], 32);
		/* Each record points at the next hash, the last at the first. */
		const dz_nsec3_t *next = dz_zone_nsec3_next(e) != NULL ? dz_zone_nsec3_next(e)
								      : dz_zone_nsec3_first(zone);
		const uint8_t *rdata = e->rrset->data + 2;
		assert_int_equal(rdata[0], 1);
		assert_int_equal(rdata[1], 1); /* opt-out */
		assert_int_equal(rdata[4], 4);
		assert_int_equal(rdata[9], 20);
		assert_memory_equal(rdata + 10, next->hash, 20);
	}
	/* The NSEC3 of a.example (secure delegation) lists NS DS RRSIG (RFC 5155 appendix A). */
	{
		static const uint8_t bitmap[] = { 0x00, 0x06, 0x20, 0x00, 0x00, 0x00, 0x00, 0x12 };
		const dz_nsec3_t *e = node_named(zone, "a.example.")->nsec3;
		assert_non_null(e);
		assert_int_equal(e->rrset->len - 2 - 30, sizeof(bitmap));
		assert_memory_equal(e->rrset->data + 2 + 30, bitmap, sizeof(bitmap));
	}
	/* Empty non-terminals have an empty bitmap. */
	assert_int_equal(node_named(zone, "w.example.")->nsec3->rrset->len, 2 + 30);
	assert_null(node_named(zone, "c.example.")->nsec3);
	assert_null(node_named(zone, "ns1.a.example.")->nsec3);
	assert_int_equal(dz_node_rrset(zone->apex, DZ_TYPE_NSEC3PARAM)->count, 1);
	dz_zone_destroy(zone);
}

static void
nsec3_without_opt_out_has_insecure_delegation(void **state)
{
	dz_zone_t *zone = load_ok(rfc5155_zone);
	const dz_nsec3_t *e;

	(void)state;
	build_chain(zone, DZ_CHAIN_NSEC3, false);
	assert_int_equal(zone->nsec3.count, 12);
	e = node_named(zone, "c.example.")->nsec3;
	assert_non_null(e);
	/* Only NS: an insecure delegation has no signatures. */
	static const uint8_t bitmap[] = { 0x00, 0x01, 0x20 };
	assert_int_equal(e->rrset->len - 2 - 30, sizeof(bitmap));
	assert_memory_equal(e->rrset->data + 2 + 30, bitmap, sizeof(bitmap));
	dz_zone_destroy(zone);
}

static void
nsec_chain_skips_glue_and_empty_non_terminals(void **state)
{
	static const char *const members[] = {
		"example.", "a.example.", "ai.example.", "c.example.", "ns1.example.",
		"ns2.example.", "*.w.example.", "x.w.example.", "x.y.w.example.", "xx.example.",
	};
	dz_zone_t *zone = load_ok(rfc5155_zone);
	size_t i = 0;

	(void)state;
	build_chain(zone, DZ_CHAIN_NSEC, false);
	for (dz_node_t *n = dz_zone_first(zone); n != NULL; n = dz_zone_next(n)) {
		if (n->nsec == NULL)
			continue;
		uint8_t key[DZ_NAME_KEY_MAX];
		size_t len = test_key(members[i], key);
		assert_int_equal(n->key_len, len);
		assert_memory_equal(n->key, key, len);
		/* Next name: the following member, the last wraps to the apex. */
		uint8_t next_wire[DZ_NAME_WIRE_MAX];
		size_t next_len = test_wire_name(members[(i + 1) % 10], next_wire);
		assert_memory_equal(n->nsec->data + 2, next_wire, next_len);
		i++;
	}
	assert_int_equal(i, 10);
	/* At a delegation: NS DS RRSIG NSEC; at an insecure one: NS RRSIG NSEC. */
	{
		dz_node_t *a = node_named(zone, "a.example.");
		static const uint8_t secure[] = { 0x00, 0x06, 0x20, 0x00, 0x00, 0x00, 0x00, 0x13 };
		size_t name_len = test_wire_name("ai.example.", (uint8_t[DZ_NAME_WIRE_MAX]){ 0 });
		assert_int_equal(a->nsec->len - 2 - name_len, sizeof(secure));
		assert_memory_equal(a->nsec->data + 2 + name_len, secure, sizeof(secure));
	}
	/* Switching to NSEC3 removes every NSEC in the same run. */
	build_chain(zone, DZ_CHAIN_NSEC3, true);
	for (dz_node_t *n = dz_zone_first(zone); n != NULL; n = dz_zone_next(n))
		assert_null(n->nsec);
	assert_int_equal(zone->nsec3.count, 11);
	build_chain(zone, DZ_CHAIN_NSEC, false);
	assert_int_equal(zone->nsec3.count, 0);
	assert_null(dz_node_rrset(zone->apex, DZ_TYPE_NSEC3PARAM));
	dz_zone_destroy(zone);
}

/* Log sink that counts lines containing a word. */
typedef struct captured {
	char text[8192];
} captured_t;

static void
capture(dz_log_level_t level, const char *line, void *ctx)
{
	captured_t *c = ctx;
	size_t len = strlen(c->text);

	(void)level;
	snprintf(c->text + len, sizeof(c->text) - len, "%s\n", line);
}

static void
validation_errors_name_file_and_line(void **state)
{
	static const struct {
		const char *text;
		const char *message;
		const char *line; /* ":N: " of the record the message names */
	} cases[] = {
		{ "www 3600 IN CNAME x\nwww 3600 IN A 192.0.2.1\n", "CNAME beside other data", ":4: " },
		{ "www 3600 IN CNAME x\nwww 3600 IN CNAME y\n", "2 CNAME records", ":4: " },
		{ "d 3600 IN DNAME x\nd 3600 IN DNAME y\n", "2 DNAME records", ":4: " },
		{ "other.test. 3600 IN A 192.0.2.1\n", "outside the zone", ":4: " },
		{ "www 3600 IN DS 1 13 2 0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20\n",
		  "DS belongs only at a delegation", ":4: " },
		{ "www 90000 IN A 192.0.2.1\n", "above the policy's maximum zone TTL 86400", ":4: " },
		{ "sub 3600 IN SOA a b 1 2 3 4 5\n", "only the apex", ":4: " },
		/* The SOA RRset is named by its first record. */
		{ "example. 3600 IN SOA a b 2 2 3 4 5\n", "2 SOA records", ":1: " },
	};
	static const char head[] = "example. 3600 IN SOA ns1 host 1 3600 300 3600000 300\n"
				   "example. 3600 IN NS ns1\nns1 3600 IN A 192.0.2.53\n";
	dz_load_options_t options;

	(void)state;
	memset(&options, 0, sizeof(options));
	options.max_ttl = 86400;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[1024];
		captured_t log;
		dz_result_t result;
		dz_zone_t *zone;

		memset(&log, 0, sizeof(log));
		snprintf(text, sizeof(text), "%s%s", head, cases[i].text);
		dz_log_set_sink(capture, &log);
		zone = test_zone_from_text("example.", text, &options, &result);
		dz_log_set_sink(NULL, NULL);
		if (result != DZ_EZONE)
			fail_msg("case %zu: result %s, log:\n%s", i, dz_result_name(result), log.text);
		if (strstr(log.text, cases[i].message) == NULL)
			fail_msg("case %zu: '%s' not in log:\n%s", i, cases[i].message, log.text);
		if (strstr(log.text, cases[i].line) == NULL)
			fail_msg("case %zu: '%s' not in log:\n%s", i, cases[i].line, log.text);
		dz_zone_destroy(zone);
	}
}

static void
warnings_drop_dnssec_and_normalise_ttl(void **state)
{
	static const char text[] =
		"example. 3600 IN SOA ns1 host 1 3600 300 3600000 300\n"
		"example. 3600 IN NS ns1\n"
		"ns1 3600 IN A 192.0.2.53\n"
		"www 3600 IN A 192.0.2.1\n"
		"www 300 IN A 192.0.2.2\n"
		"www 3600 IN RRSIG A 13 2 3600 20300101000000 20200101000000 1 example. AAAA\n"
		"example. 3600 IN DNSKEY 257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==\n"
		"other.test. 3600 IN A 192.0.2.1\n"
		"sub 3600 IN NS ns.sub\n"
		"ns.sub 3600 IN A 192.0.2.7\n"
		"txt.sub 3600 IN TXT \"hidden\"\n";
	dz_load_options_t options;
	captured_t log;
	dz_result_t result;
	dz_zone_t *zone;
	dz_node_t *www;

	(void)state;
	memset(&options, 0, sizeof(options));
	options.drop_out_of_zone = true;
	memset(&log, 0, sizeof(log));
	dz_log_set_sink(capture, &log);
	zone = test_zone_from_text("example.", text, &options, &result);
	dz_log_set_sink(NULL, NULL);
	assert_int_equal(result, DZ_OK);
	www = node_named(zone, "www.example.");
	assert_int_equal(dz_node_rrset(www, DZ_TYPE_A)->ttl, 300);
	assert_int_equal(dz_node_rrset(www, DZ_TYPE_A)->count, 2);
	assert_non_null(strstr(log.text, "lower TTL 300"));
	assert_non_null(strstr(log.text, "RRSIG: the signer makes the DNSSEC records itself"));
	assert_non_null(strstr(log.text, "not in the list of DNSKEYs to keep"));
	assert_null(dz_node_rrset(zone->apex, DZ_TYPE_DNSKEY));
	assert_non_null(strstr(log.text, "outside the zone example.; dropped"));
	assert_null(node_named(zone, "other.test."));
	/* Glue is silent; other data below the cut is reported as occluded. */
	assert_null(strstr(log.text, "ns.sub.example. A"));
	assert_non_null(strstr(log.text, "txt.sub.example. TXT is below the delegation at sub.example."));
	assert_true(node_named(zone, "txt.sub.example.")->flags & DZ_NODE_OCCLUDED);
	dz_zone_destroy(zone);
}

static void
kept_dnskey_is_reported_to_caller(void **state)
{
	static const char text[] =
		"example. 3600 IN SOA ns1 host 1 3600 300 3600000 300\n"
		"example. 3600 IN NS ns1\n"
		"ns1 3600 IN A 192.0.2.53\n"
		"example. 3600 IN DNSKEY 257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==\n";
	uint8_t origin[DZ_NAME_WIRE_MAX];
	size_t origin_len = test_wire_name("example.", origin);
	dz_zone_t *zone = dz_zone_create(origin, origin_len);
	dz_load_options_t options;
	dz_loader_t loader;
	dz_error_t err;
	char path[] = "/tmp/dz-test-keep-XXXXXX";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);
	memset(&options, 0, sizeof(options));
	/* 2371 is the key tag of this DNSKEY (RFC 4034 appendix B, computed by hand). */
	options.keep_dnskey_tags[0] = 2371;
	options.keep_dnskey_count = 1;
	dz_error_init(&err);
	assert_int_equal(dz_loader_init(&loader, zone, &options), DZ_OK);
	assert_int_equal(dz_zonefile_read(path, "example.", NULL, dz_loader_add, &loader, &err), DZ_OK);
	assert_int_equal(dz_loader_finish(&loader, &err), DZ_OK);
	assert_int_equal(loader.extra_dnskeys.len, 2 + 4 + 64);
	dz_loader_clear(&loader);
	unlink(path);
	dz_zone_destroy(zone);
}

/* A name equal to the NSEC3 owner of the apex (RFC 5155 appendix A hash) is refused. */
static void
name_equal_to_nsec3_owner_rejected(void **state)
{
	dz_zone_t *zone = load_ok(rfc5155_zone);
	dz_denial_config_t config;
	dz_error_t err;

	(void)state;
	memset(&config, 0, sizeof(config));
	config.kind = DZ_CHAIN_NSEC3;
	config.ttl = 3600;
	config.params.iterations = 12;
	config.params.salt_len = 4;
	memcpy(config.params.salt, "\xaa\xbb\xcc\xdd", 4);
	dz_error_init(&err);
	assert_int_equal(dz_denial_update(zone, &config, true, &err), DZ_OK);
	dz_zone_clear_dirty(zone);

	/* Added later: the local repair finds it. */
	test_add_rr(zone, "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.example. 3600 IN A 192.0.2.1");
	assert_int_equal(dz_denial_update(zone, &config, false, &err), DZ_EZONE);
	assert_non_null(strstr(err.message, "also the owner of an NSEC3 record"));
	/* And the full build. */
	assert_int_equal(dz_denial_update(zone, &config, true, &err), DZ_EZONE);
	dz_zone_destroy(zone);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(occlusion_and_glue),
		cmocka_unit_test(nsec3_chain_rfc5155_owners),
		cmocka_unit_test(nsec3_without_opt_out_has_insecure_delegation),
		cmocka_unit_test(nsec_chain_skips_glue_and_empty_non_terminals),
		cmocka_unit_test(validation_errors_name_file_and_line),
		cmocka_unit_test(warnings_drop_dnssec_and_normalise_ttl),
		cmocka_unit_test(kept_dnskey_is_reported_to_caller),
		cmocka_unit_test(name_equal_to_nsec3_owner_rejected),
	};

	return cmocka_run_group_tests_name("signer_zone", tests, NULL, NULL);
}
