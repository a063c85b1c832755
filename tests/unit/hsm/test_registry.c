/*
 * The key registry file and the audit log format.
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
#include <sys/stat.h>

#include "common/file.h"
#include "hsm/audit.h"
#include "hsm/registry.h"

static const char sample[] =
	"# comment\n"
	"\n"
	"0a0b0c example.com. ksk 13 256 12345 2027-01-03T10:00:00Z published,signing\n"
	"  ff example.org. zsk 8 2048 7 2027-01-04T00:00:00Z -\n";

static char *
make_temp_dir(void)
{
	char *dir = strdup("/tmp/dz-test-registry-XXXXXX");

	assert_non_null(mkdtemp(dir));
	return dir;
}

static void
remove_tree(char *dir)
{
	char command[128];

	snprintf(command, sizeof(command), "rm -rf '%s'", dir);
	assert_int_equal(system(command), 0);
	free(dir);
}

static void
parse_reads_fields(void **state)
{
	dz_hsm_registry_t registry;
	dz_error_t err;
	const uint8_t id[] = { 0x0a, 0x0b, 0x0c };

	(void)state;
	memset(&registry, 0, sizeof(registry));
	dz_error_init(&err);
	assert_int_equal(dz_hsm_registry_parse(&registry, "keys", sample, &err), DZ_OK);
	assert_int_equal(registry.count, 2);
	dz_hsm_key_record_t *first = dz_hsm_registry_find(&registry, id, sizeof(id));
	assert_non_null(first);
	assert_string_equal(first->zone, "example.com.");
	assert_int_equal(first->role, DZ_ROLE_KSK);
	assert_int_equal(first->algorithm, 13);
	assert_int_equal(first->bits, 256);
	assert_int_equal(first->key_tag, 12345);
	assert_int_equal(first->created, 1798970400);	/* 2027-01-03T10:00:00Z */
	assert_true(first->published);
	assert_true(first->signing);
	const dz_hsm_key_record_t *second = &registry.records[1];
	assert_int_equal(second->role, DZ_ROLE_ZSK);
	assert_false(second->published);
	assert_false(second->signing);
	assert_true(dz_hsm_registry_remove(&registry, id, sizeof(id)));
	assert_false(dz_hsm_registry_remove(&registry, id, sizeof(id)));
	assert_int_equal(registry.count, 1);
	dz_hsm_registry_close(&registry);
}

static void
parse_errors_name_line(void **state)
{
	static const struct {
		const char *text;
		const char *message;
	} cases[] = {
		{ "0a example.com. ksk 13 256 1\n", "line 1: expected 8 fields" },
		{ "# c\nzz example.com. ksk 13 256 1 2027-01-03T10:00:00Z -\n",
		  "line 2: the key id is not" },
		{ "0a Example.com. ksk 13 256 1 2027-01-03T10:00:00Z -\n",
		  "line 1: the zone is not a lower-case absolute domain name" },
		{ "0a example.com. kzk 13 256 1 2027-01-03T10:00:00Z -\n",
		  "line 1: the role is not" },
		{ "0a example.com. ksk 99 256 1 2027-01-03T10:00:00Z -\n",
		  "line 1: the algorithm is not" },
		{ "0a example.com. ksk 13 256 65536 2027-01-03T10:00:00Z -\n",
		  "line 1: the key tag is not" },
		{ "0a example.com. ksk 13 256 1 yesterday -\n", "line 1: the creation time" },
		{ "0a example.com. ksk 13 256 1 2027-01-03T10:00:00Z live\n", "line 1: the flags" },
		{ "0a example.com. ksk 13 256 1 2027-01-03T10:00:00Z -\n"
		  "0a example.net. zsk 13 256 2 2027-01-03T10:00:00Z -\n",
		  "line 2: the key id appears twice" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		dz_hsm_registry_t registry;
		dz_error_t err;
		memset(&registry, 0, sizeof(registry));
		dz_error_init(&err);
		assert_int_equal(dz_hsm_registry_parse(&registry, "reg.keys", cases[i].text, &err),
				 DZ_ESYNTAX);
		if (strstr(err.message, cases[i].message) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, err.message, cases[i].message);
		assert_non_null(strstr(err.message, "reg.keys"));
		assert_int_equal(registry.count, 0);
		dz_hsm_registry_close(&registry);
	}
}

static void
save_and_open_round_trip(void **state)
{
	char *dir = make_temp_dir();
	char path[256];
	dz_hsm_registry_t registry, loaded;
	dz_hsm_key_record_t record;
	struct stat st;

	(void)state;
	snprintf(path, sizeof(path), "%s/token-0001.keys", dir);
	assert_int_equal(dz_hsm_registry_open(&registry, path, NULL), DZ_OK);
	assert_int_equal(registry.count, 0);
	memset(&record, 0, sizeof(record));
	memset(record.id, 0x5c, 16);
	record.id_len = 16;
	record.zone = "mail.example.";
	record.role = DZ_ROLE_CSK;
	record.algorithm = 15;
	record.bits = 255;
	record.key_tag = 4242;
	record.created = 1798970400;
	record.signing = true;
	assert_int_equal(dz_hsm_registry_add(&registry, &record, NULL), DZ_OK);
	assert_int_equal(dz_hsm_registry_add(&registry, &record, NULL), DZ_EEXIST);
	assert_int_equal(dz_hsm_registry_save(&registry, "test token", NULL), DZ_OK);
	dz_hsm_registry_close(&registry);

	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(dz_hsm_registry_open(&loaded, path, NULL), DZ_OK);
	assert_int_equal(loaded.count, 1);
	assert_string_equal(loaded.records[0].zone, "mail.example.");
	assert_int_equal(loaded.records[0].role, DZ_ROLE_CSK);
	assert_int_equal(loaded.records[0].key_tag, 4242);
	assert_false(loaded.records[0].published);
	assert_true(loaded.records[0].signing);
	assert_int_equal(loaded.records[0].created, 1798970400);
	dz_hsm_registry_close(&loaded);
	remove_tree(dir);
}

static void
set_flags_keeps_title(void **state)
{
	char *dir = make_temp_dir();
	char path[256];
	const uint8_t id[] = { 0x0a, 0x0b, 0x0c };
	const uint8_t unknown[] = { 0x01 };
	dz_hsm_registry_t registry;
	char *text = NULL;
	size_t len = 0;
	dz_error_t err;

	(void)state;
	snprintf(path, sizeof(path), "%s/token-1.keys", dir);
	assert_int_equal(dz_hsm_registry_open(&registry, path, NULL), DZ_OK);
	assert_int_equal(dz_hsm_registry_parse(&registry, path, sample, NULL), DZ_OK);
	assert_int_equal(dz_hsm_registry_save(&registry, "token 't' (serial 1)", NULL), DZ_OK);
	dz_hsm_registry_close(&registry);

	assert_int_equal(dz_hsm_registry_set_flags(path, id, sizeof(id), false, true, NULL), DZ_OK);
	dz_error_init(&err);
	assert_int_equal(dz_hsm_registry_set_flags(path, unknown, 1, true, true, &err),
			 DZ_EHSM_KEY);
	assert_non_null(strstr(err.message, "key 01 is not registered"));

	assert_int_equal(dz_hsm_registry_open(&registry, path, NULL), DZ_OK);
	dz_hsm_key_record_t *record = dz_hsm_registry_find(&registry, id, sizeof(id));
	assert_non_null(record);
	assert_false(record->published);
	assert_true(record->signing);
	dz_hsm_registry_close(&registry);
	assert_int_equal(dz_file_read_all(path, 4096, &text, &len, NULL), DZ_OK);
	assert_non_null(strstr(text, "# danezone key registry: token 't' (serial 1)\n"));
	free(text);
	remove_tree(dir);
}

static void
registry_path_sanitises_serial(void **state)
{
	dz_hsm_token_info_t token;
	char *path = NULL;

	(void)state;
	memset(&token, 0, sizeof(token));
	strcpy(token.serial, "ab/../c d");
	assert_int_equal(dz_hsm_registry_path("/var/lib/dz", &token, &path, NULL), DZ_OK);
	assert_string_equal(path, "/var/lib/dz/token-ab____c_d.keys");
	free(path);
}

static void
audit_line_quotes_values(void **state)
{
	dz_hsm_audit_entry_t entry;

	(void)state;
	dz_hsm_audit_entry_init(&entry, 1798970400, "generate");
	entry.token = "my token";
	entry.zone = "example.com.";
	entry.key_tag = 12345;
	entry.ds = "example.com. 3600 IN DS 12345 13 2 AB";
	entry.result = "failed: bad \"value\"\nnext";
	char *line = dz_hsm_audit_format(&entry);
	assert_string_equal(line,
			    "2027-01-03T10:00:00Z command=generate token=\"my token\" "
			    "zone=example.com. key_tag=12345 "
			    "ds=\"example.com. 3600 IN DS 12345 13 2 AB\" "
			    "result=\"failed: bad \\\"value\\\"?next\"\n");
	free(line);
}

static void
audit_append_is_durable_log(void **state)
{
	char *dir = make_temp_dir();
	char path[256];
	dz_hsm_audit_entry_t entry;
	char *text = NULL;
	size_t len = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/audit.log", dir);
	dz_hsm_audit_entry_init(&entry, 0, "init-token");
	entry.result = "ok";
	assert_int_equal(dz_hsm_audit_append(path, &entry, NULL), DZ_OK);
	entry.command = "delete";
	assert_int_equal(dz_hsm_audit_append(path, &entry, NULL), DZ_OK);
	assert_int_equal(dz_file_read_all(path, 4096, &text, &len, NULL), DZ_OK);
	assert_string_equal(text, "1970-01-01T00:00:00Z command=init-token result=ok\n"
				  "1970-01-01T00:00:00Z command=delete result=ok\n");
	free(text);
	remove_tree(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_reads_fields),
		cmocka_unit_test(parse_errors_name_line),
		cmocka_unit_test(save_and_open_round_trip),
		cmocka_unit_test(set_flags_keeps_title),
		cmocka_unit_test(registry_path_sanitises_serial),
		cmocka_unit_test(audit_line_quotes_values),
		cmocka_unit_test(audit_append_is_durable_log),
	};

	return cmocka_run_group_tests_name("hsm/registry", tests, NULL, NULL);
}
