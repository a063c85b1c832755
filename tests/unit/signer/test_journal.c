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
#include <unistd.h>

#include "common/file.h"
#include "signer/journal.h"
#include "tests/unit/signer/rr_text.h"

#define SOA_FMT "example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. %u 7200 3600 1209600 300"

struct fixture {
	char *dir;
	char path[512];
	uint8_t origin[DZ_WIRE_NAME_MAX];
	size_t origin_len;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->dir = rr_text_temp_dir("dz-test-journal");
	snprintf(f->path, sizeof(f->path), "%s/example.com.journal", f->dir);
	f->origin_len = dz_wire_name_from_text("example.com.", f->origin);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	rr_text_remove_dir(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static void
soa(dz_buf_t *buf, unsigned serial)
{
	char text[256];

	snprintf(text, sizeof(text), SOA_FMT, serial);
	rr_text_append(buf, text);
}

/* Append the diff from `from` to `to` that replaces the TLSA of version `from`. */
static dz_result_t
append_tlsa_change(struct fixture *f, unsigned from, unsigned to, size_t max_size)
{
	dz_buf_t old_soa, new_soa, removed, added;
	char text[256];

	dz_buf_init(&old_soa);
	dz_buf_init(&new_soa);
	dz_buf_init(&removed);
	dz_buf_init(&added);
	soa(&old_soa, from);
	soa(&new_soa, to);
	snprintf(text, sizeof(text), "_25._tcp.mail.example.com. 300 IN TLSA 3 1 1 %064x", from);
	rr_text_append(&removed, text);
	snprintf(text, sizeof(text), "_25._tcp.mail.example.com. 300 IN TLSA 3 1 1 %064x", to);
	rr_text_append(&added, text);
	dz_journal_diff_t diff = { &old_soa, &removed, &new_soa, &added };
	dz_result_t result = dz_journal_append(f->path, f->origin, f->origin_len, &diff, max_size,
					       0644, NULL);
	dz_buf_clear(&old_soa);
	dz_buf_clear(&new_soa);
	dz_buf_clear(&removed);
	dz_buf_clear(&added);
	return result;
}

static void
journal_round_trip(void **state)
{
	struct fixture *f = *state;
	dz_journal_t *j = NULL;
	dz_buf_t expected;
	size_t index = 0;

	assert_int_equal(dz_journal_reset(f->path, f->origin, f->origin_len, 1, 0644, NULL),
			 DZ_OK);
	assert_int_equal(append_tlsa_change(f, 1, 2, 1 << 20), DZ_OK);
	assert_int_equal(append_tlsa_change(f, 2, 3, 1 << 20), DZ_OK);
	assert_int_equal(append_tlsa_change(f, 3, 10, 1 << 20), DZ_OK);

	assert_int_equal(dz_journal_open(f->path, &j, NULL), DZ_OK);
	assert_int_equal(j->count, 3);
	assert_int_equal(j->first_serial, 1);
	assert_int_equal(j->last_serial, 10);
	assert_true(dz_journal_find(j, 2, &index));
	assert_int_equal(index, 1);
	assert_false(dz_journal_find(j, 10, &index));

	const dz_journal_entry_t *e = &j->entries[2];
	assert_int_equal(e->old_serial, 3);
	assert_int_equal(e->new_serial, 10);
	assert_int_equal(e->removed_count, 1);
	assert_int_equal(e->added_count, 1);
	dz_buf_init(&expected);
	rr_text_append(&expected, "_25._tcp.mail.example.com. 300 IN TLSA 3 1 1 "
				  "000000000000000000000000000000000000000000000000000000000000000a");
	assert_int_equal(e->added_len, expected.len);
	assert_memory_equal(e->added, expected.data, expected.len);
	expected.len = 0;
	soa(&expected, 3);
	assert_int_equal(e->old_soa.len, expected.len);
	assert_memory_equal(e->old_soa.start, expected.data, expected.len);
	dz_buf_clear(&expected);
	dz_journal_close(j);
}

static void
journal_compaction_drops_oldest(void **state)
{
	struct fixture *f = *state;
	dz_journal_t *j = NULL;
	size_t index;

	assert_int_equal(append_tlsa_change(f, 1, 2, 1 << 20), DZ_OK);
	assert_int_equal(dz_journal_open(f->path, &j, NULL), DZ_OK);
	size_t entry_size = j->entries[0].size;
	dz_journal_close(j);

	/* Room for the header and exactly three entries of this size. */
	size_t bound = DZ_JOURNAL_HEADER_SIZE + 3 * entry_size;
	for (unsigned serial = 2; serial < 6; serial++)
		assert_int_equal(append_tlsa_change(f, serial, serial + 1, bound), DZ_OK);

	assert_int_equal(dz_journal_open(f->path, &j, NULL), DZ_OK);
	assert_int_equal(j->count, 3);
	assert_int_equal(j->first_serial, 3);
	assert_int_equal(j->last_serial, 6);
	assert_false(dz_journal_find(j, 1, &index));
	assert_false(dz_journal_find(j, 2, &index));
	assert_true(dz_journal_find(j, 3, &index));
	assert_int_equal(index, 0);
	assert_int_equal(j->map_len, bound);
	dz_journal_close(j);
}

static void
journal_diff_over_bound_empties(void **state)
{
	struct fixture *f = *state;
	dz_journal_t *j = NULL;

	assert_int_equal(append_tlsa_change(f, 1, 2, 1 << 20), DZ_OK);
	assert_int_equal(append_tlsa_change(f, 2, 3, DZ_JOURNAL_HEADER_SIZE + 10), DZ_OK);
	assert_int_equal(dz_journal_open(f->path, &j, NULL), DZ_OK);
	assert_int_equal(j->count, 0);
	assert_int_equal(j->first_serial, 3);
	assert_int_equal(j->last_serial, 3);
	dz_journal_close(j);
}

static void
journal_gap_starts_new(void **state)
{
	struct fixture *f = *state;
	dz_journal_t *j = NULL;

	assert_int_equal(append_tlsa_change(f, 1, 2, 1 << 20), DZ_OK);
	/* The journal ends at 2, the diff starts at 5: the old entry cannot chain. */
	assert_int_equal(append_tlsa_change(f, 5, 6, 1 << 20), DZ_OK);
	assert_int_equal(dz_journal_open(f->path, &j, NULL), DZ_OK);
	assert_int_equal(j->count, 1);
	assert_int_equal(j->first_serial, 5);
	assert_int_equal(j->last_serial, 6);
	dz_journal_close(j);
}

static void
journal_rejects_invalid_diff(void **state)
{
	struct fixture *f = *state;
	dz_buf_t old_soa, new_soa, removed, added;
	dz_journal_t *j = NULL;
	dz_error_t err;

	assert_int_equal(append_tlsa_change(f, 1, 2, 1 << 20), DZ_OK);
	dz_buf_init(&old_soa);
	dz_buf_init(&new_soa);
	dz_buf_init(&removed);
	dz_buf_init(&added);
	soa(&old_soa, 2);
	soa(&new_soa, 3);
	rr_text_append(&added, "www.example.org. 300 IN A 192.0.2.1");
	dz_journal_diff_t diff = { &old_soa, &removed, &new_soa, &added };
	dz_error_init(&err);
	assert_int_equal(dz_journal_append(f->path, f->origin, f->origin_len, &diff, 1 << 20, 0644,
					   &err),
			 DZ_EZONE);
	assert_non_null(strstr(err.message, "outside the zone"));

	/* A new serial that is not after the old one. */
	added.len = 0;
	new_soa.len = 0;
	soa(&new_soa, 2);
	assert_int_equal(dz_journal_append(f->path, f->origin, f->origin_len, &diff, 1 << 20, 0644,
					   NULL),
			 DZ_EZONE);

	/* The journal is unchanged. */
	assert_int_equal(dz_journal_open(f->path, &j, NULL), DZ_OK);
	assert_int_equal(j->count, 1);
	assert_int_equal(j->last_serial, 2);
	dz_journal_close(j);
	dz_buf_clear(&old_soa);
	dz_buf_clear(&new_soa);
	dz_buf_clear(&removed);
	dz_buf_clear(&added);
}

static void
write_bytes(const char *path, const char *data, size_t len)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static void
journal_open_rejects_damage(void **state)
{
	struct fixture *f = *state;
	dz_journal_t *j = NULL;
	char *data = NULL;
	size_t len = 0;

	assert_int_equal(append_tlsa_change(f, 1, 2, 1 << 20), DZ_OK);
	assert_int_equal(append_tlsa_change(f, 2, 3, 1 << 20), DZ_OK);
	assert_int_equal(dz_file_read_all(f->path, 1 << 20, &data, &len, NULL), DZ_OK);

	/* Every truncation is rejected. */
	for (size_t cut = 0; cut < len; cut++) {
		write_bytes(f->path, data, cut);
		assert_int_equal(dz_journal_open(f->path, &j, NULL), DZ_EZONE);
	}

	/*
	 * The last entry ends with the added TLSA RR (27-byte owner, 10 fixed
	 * bytes, 35 bytes of RDATA) after the new SOA, whose last 20 RDATA
	 * bytes start with the serial.  Changing the serial's low byte makes
	 * the SOA disagree with the entry header.
	 */
	size_t serial_low_byte = len - 72 - 20 + 3;
	assert_int_equal((unsigned char)data[serial_low_byte], 3);
	data[serial_low_byte] = 4;
	write_bytes(f->path, data, len);
	assert_int_equal(dz_journal_open(f->path, &j, NULL), DZ_EZONE);

	/* Restored, it opens again. */
	data[serial_low_byte] = 3;
	write_bytes(f->path, data, len);
	assert_int_equal(dz_journal_open(f->path, &j, NULL), DZ_OK);
	assert_int_equal(j->last_serial, 3);
	dz_journal_close(j);
	free(data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(journal_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(journal_compaction_drops_oldest, setup, teardown),
		cmocka_unit_test_setup_teardown(journal_diff_over_bound_empties, setup, teardown),
		cmocka_unit_test_setup_teardown(journal_gap_starts_new, setup, teardown),
		cmocka_unit_test_setup_teardown(journal_rejects_invalid_diff, setup, teardown),
		cmocka_unit_test_setup_teardown(journal_open_rejects_damage, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
