#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file.h"
#include "signer/journal.h"
#include "tests/unit/signer/rr_text.h"

#define SOA_FMT "example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. %u 7200 3600 1209600 300"
#define TLSA_FMT "_25._tcp.mail.example.com. 300 IN TLSA 3 1 1 %064x"

struct fixture {
	char *dir;
	char path[512];
	uint8_t origin[DZ_WIRE_NAME_MAX];
	size_t origin_len;
};

static void
soa(dz_buf_t *buf, unsigned serial)
{
	char text[256];

	snprintf(text, sizeof(text), SOA_FMT, serial);
	rr_text_append(buf, text);
}

static void
tlsa(dz_buf_t *buf, unsigned value)
{
	char text[256];

	snprintf(text, sizeof(text), TLSA_FMT, value);
	rr_text_append(buf, text);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	dz_buf_t base;

	f->dir = rr_text_temp_dir("dz-test-journal");
	snprintf(f->path, sizeof(f->path), "%s/example.com.journal", f->dir);
	f->origin_len = dz_wire_name_from_text("example.com.", f->origin);
	dz_buf_init(&base);
	soa(&base, 1);
	assert_int_equal(dz_journal_create(f->path, f->origin, f->origin_len, &base, 0644, NULL),
			 DZ_OK);
	dz_buf_clear(&base);
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

/* Append and commit the diff to `to` that replaces the TLSA of the newest version. */
static dz_result_t
append_tlsa_change(struct fixture *f, unsigned to, dz_error_t *err)
{
	dz_journal_writer_t *w = NULL;
	dz_buf_t new_soa, removed, added;
	dz_result_t result;

	dz_buf_init(&new_soa);
	dz_buf_init(&removed);
	dz_buf_init(&added);
	assert_int_equal(dz_journal_writer_open(f->path, f->origin, f->origin_len, &w, NULL), DZ_OK);
	soa(&new_soa, to);
	tlsa(&removed, w->last_serial);
	tlsa(&added, to);
	dz_journal_diff_t diff = { .removed = &removed, .new_soa = &new_soa, .added = &added };
	result = dz_journal_writer_append(w, &diff, err);
	if (result == DZ_OK)
		result = dz_journal_writer_sync(w, err);
	dz_journal_writer_close(w);
	dz_buf_clear(&new_soa);
	dz_buf_clear(&removed);
	dz_buf_clear(&added);
	return result;
}

static size_t
file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (size_t)st.st_size;
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
journal_round_trip(void **state)
{
	struct fixture *f = *state;
	dz_journal_t *j = NULL;
	dz_buf_t expected;
	size_t index = 0;

	assert_int_equal(append_tlsa_change(f, 2, NULL), DZ_OK);
	assert_int_equal(append_tlsa_change(f, 3, NULL), DZ_OK);
	assert_int_equal(append_tlsa_change(f, 10, NULL), DZ_OK);

	assert_int_equal(dz_journal_open(f->path, &j, NULL), DZ_OK);
	assert_int_equal(j->count, 3);
	assert_int_equal(j->first_serial, 1);
	assert_int_equal(j->last_serial, 10);
	assert_int_equal(j->torn_bytes, 0);
	assert_int_equal(j->valid_end, file_size(f->path));
	assert_true(dz_journal_find(j, 2, &index));
	assert_int_equal(index, 1);
	assert_false(dz_journal_find(j, 10, &index));
	assert_true(dz_journal_position(j, 1, &index));
	assert_int_equal(index, 0);
	assert_true(dz_journal_position(j, 3, &index));
	assert_int_equal(index, 2);
	assert_true(dz_journal_position(j, 10, &index));
	assert_int_equal(index, 3);
	assert_false(dz_journal_position(j, 4, &index));

	const dz_journal_entry_t *e = &j->entries[2];
	assert_int_equal(e->old_serial, 3);
	assert_int_equal(e->new_serial, 10);
	assert_int_equal(e->removed_count, 1);
	assert_int_equal(e->added_count, 1);
	dz_buf_init(&expected);
	tlsa(&expected, 10);
	assert_int_equal(e->added_len, expected.len);
	assert_memory_equal(e->added, expected.data, expected.len);
	expected.len = 0;
	soa(&expected, 3);
	assert_int_equal(e->old_soa.len, expected.len);
	assert_memory_equal(e->old_soa.start, expected.data, expected.len);
	expected.len = 0;
	soa(&expected, 1);
	assert_int_equal(j->base_soa.len, expected.len);
	assert_memory_equal(j->base_soa.start, expected.data, expected.len);
	expected.len = 0;
	soa(&expected, 10);
	assert_int_equal(j->last_soa.len, expected.len);
	assert_memory_equal(j->last_soa.start, expected.data, expected.len);
	dz_buf_clear(&expected);
	dz_journal_close(j);
}

static void
journal_empty_has_base_soa(void **state)
{
	struct fixture *f = *state;
	dz_journal_t *j = NULL;
	dz_journal_writer_t *w = NULL;
	size_t index = 99;

	assert_int_equal(dz_journal_open(f->path, &j, NULL), DZ_OK);
	assert_int_equal(j->count, 0);
	assert_int_equal(j->first_serial, 1);
	assert_int_equal(j->last_serial, 1);
	assert_true(dz_journal_position(j, 1, &index));
	assert_int_equal(index, 0);
	dz_journal_close(j);

	assert_int_equal(dz_journal_writer_open(f->path, f->origin, f->origin_len, &w, NULL), DZ_OK);
	assert_int_equal(w->last_serial, 1);
	assert_int_equal(w->end, file_size(f->path));
	dz_journal_writer_close(w);
}

static void
journal_rejects_invalid_diff(void **state)
{
	struct fixture *f = *state;
	dz_journal_writer_t *w = NULL;
	dz_buf_t new_soa, removed, added;
	dz_journal_t *j = NULL;
	dz_error_t err;

	assert_int_equal(append_tlsa_change(f, 2, NULL), DZ_OK);
	size_t committed = file_size(f->path);
	dz_buf_init(&new_soa);
	dz_buf_init(&removed);
	dz_buf_init(&added);
	dz_journal_diff_t diff = { .removed = &removed, .new_soa = &new_soa, .added = &added };
	assert_int_equal(dz_journal_writer_open(f->path, f->origin, f->origin_len, &w, NULL), DZ_OK);

	soa(&new_soa, 3);
	rr_text_append(&added, "www.example.org. 300 IN A 192.0.2.1");
	dz_error_init(&err);
	assert_int_equal(dz_journal_writer_append(w, &diff, &err), DZ_EZONE);
	assert_non_null(strstr(err.message, "outside the zone"));

	/* An SOA among the removed RRs. */
	added.len = 0;
	soa(&removed, 2);
	assert_int_equal(dz_journal_writer_append(w, &diff, NULL), DZ_EZONE);

	/* A new serial that is not after the committed one (RFC 1982). */
	removed.len = 0;
	new_soa.len = 0;
	soa(&new_soa, 2);
	dz_error_init(&err);
	assert_int_equal(dz_journal_writer_append(w, &diff, &err), DZ_EZONE);
	assert_non_null(strstr(err.message, "not after the committed serial 2"));

	/* The new SOA of another zone. */
	new_soa.len = 0;
	rr_text_append(&new_soa,
		       "example.org. 3600 IN SOA ns1.example.org. h.example.org. 3 1 1 1 1");
	assert_int_equal(dz_journal_writer_append(w, &diff, NULL), DZ_EZONE);
	dz_journal_writer_close(w);

	/* Nothing reached the file. */
	assert_int_equal(file_size(f->path), committed);
	assert_int_equal(dz_journal_open(f->path, &j, NULL), DZ_OK);
	assert_int_equal(j->count, 1);
	assert_int_equal(j->last_serial, 2);
	dz_journal_close(j);
	dz_buf_clear(&new_soa);
	dz_buf_clear(&removed);
	dz_buf_clear(&added);
}

static void
journal_pending_entry_cut_at_close(void **state)
{
	struct fixture *f = *state;
	dz_journal_writer_t *w = NULL;
	dz_buf_t new_soa, removed, added;
	dz_journal_t *j = NULL;

	size_t committed = file_size(f->path);
	dz_buf_init(&new_soa);
	dz_buf_init(&removed);
	dz_buf_init(&added);
	soa(&new_soa, 2);
	tlsa(&added, 2);
	dz_journal_diff_t diff = { .removed = &removed, .new_soa = &new_soa, .added = &added };
	assert_int_equal(dz_journal_writer_open(f->path, f->origin, f->origin_len, &w, NULL), DZ_OK);
	assert_int_equal(dz_journal_writer_append(w, &diff, NULL), DZ_OK);
	assert_true(file_size(f->path) > committed);
	/* Only one entry may be pending. */
	assert_int_equal(dz_journal_writer_append(w, &diff, NULL), DZ_ESTATE);
	dz_journal_writer_close(w);

	assert_int_equal(file_size(f->path), committed);
	assert_int_equal(dz_journal_open(f->path, &j, NULL), DZ_OK);
	assert_int_equal(j->count, 0);
	assert_int_equal(j->last_serial, 1);
	dz_journal_close(j);
	dz_buf_clear(&new_soa);
	dz_buf_clear(&removed);
	dz_buf_clear(&added);
}

static void
journal_torn_tail_ignored_then_cut(void **state)
{
	struct fixture *f = *state;
	dz_journal_t *j = NULL;
	dz_journal_writer_t *w = NULL;
	char *data = NULL;
	size_t len = 0;

	assert_int_equal(append_tlsa_change(f, 2, NULL), DZ_OK);
	size_t first_end = file_size(f->path);
	assert_int_equal(append_tlsa_change(f, 3, NULL), DZ_OK);
	assert_int_equal(dz_file_read_all(f->path, 1 << 20, &data, &len, NULL), DZ_OK);

	/* Every incomplete second entry, as a crash during its write leaves it. */
	for (size_t cut = first_end + 1; cut < len; cut++) {
		write_bytes(f->path, data, cut);
		assert_int_equal(dz_journal_open(f->path, &j, NULL), DZ_OK);
		assert_int_equal(j->count, 1);
		assert_int_equal(j->last_serial, 2);
		assert_int_equal(j->valid_end, first_end);
		assert_int_equal(j->torn_bytes, cut - first_end);
		dz_journal_close(j);

		/* The writer cuts the incomplete entry off and appends after the valid one. */
		assert_int_equal(dz_journal_writer_open(f->path, f->origin, f->origin_len, &w, NULL),
				 DZ_OK);
		assert_int_equal(w->last_serial, 2);
		assert_int_equal(w->end, first_end);
		dz_journal_writer_close(w);
		assert_int_equal(file_size(f->path), first_end);
	}
	assert_int_equal(append_tlsa_change(f, 3, NULL), DZ_OK);
	assert_int_equal(dz_journal_open(f->path, &j, NULL), DZ_OK);
	assert_int_equal(j->count, 2);
	assert_int_equal(j->last_serial, 3);
	dz_journal_close(j);

	/* A header cut short is not a journal at all. */
	write_bytes(f->path, data, 100);
	assert_int_equal(dz_journal_open(f->path, &j, NULL), DZ_EZONE);
	assert_int_equal(dz_journal_writer_open(f->path, f->origin, f->origin_len, &w, NULL),
			 DZ_EZONE);
	free(data);
}

static void
journal_checksum_catches_damage(void **state)
{
	struct fixture *f = *state;
	dz_journal_t *j = NULL;
	char *data = NULL;
	size_t len = 0;

	assert_int_equal(append_tlsa_change(f, 2, NULL), DZ_OK);
	size_t first_end = file_size(f->path);
	assert_int_equal(append_tlsa_change(f, 3, NULL), DZ_OK);
	assert_int_equal(dz_file_read_all(f->path, 1 << 20, &data, &len, NULL), DZ_OK);

	/*
	 * The last byte of a TLSA RDATA: a valid RR still, so only the checksum
	 * can tell.  The second entry ends with its added TLSA, the checksum
	 * and the length (36 bytes).
	 */
	size_t last_rdata_byte = len - DZ_JOURNAL_ENTRY_TRAILER_SIZE - 1;
	assert_int_equal((unsigned char)data[last_rdata_byte], 3);
	data[last_rdata_byte] = 4;
	write_bytes(f->path, data, len);
	assert_int_equal(dz_journal_open(f->path, &j, NULL), DZ_OK);
	assert_int_equal(j->count, 1);
	assert_int_equal(j->valid_end, first_end);
	dz_journal_close(j);
	data[last_rdata_byte] = 3;

	/*
	 * The base SOA's owner in the header with one letter's case changed:
	 * the same name, so only the header checksum can tell.
	 */
	data[DZ_JOURNAL_HEADER_FIXED + 5] ^= 0x20;
	write_bytes(f->path, data, len);
	assert_int_equal(dz_journal_open(f->path, &j, NULL), DZ_EZONE);
	data[DZ_JOURNAL_HEADER_FIXED + 5] ^= 0x20;

	/* Restored, both entries read again. */
	write_bytes(f->path, data, len);
	assert_int_equal(dz_journal_open(f->path, &j, NULL), DZ_OK);
	assert_int_equal(j->count, 2);
	dz_journal_close(j);
	free(data);
}

static void
journal_reopen_reads_new_entries(void **state)
{
	struct fixture *f = *state;
	dz_journal_t *first = NULL;
	dz_journal_t *second = NULL;
	dz_journal_t *full = NULL;

	assert_int_equal(append_tlsa_change(f, 2, NULL), DZ_OK);
	assert_int_equal(dz_journal_open(f->path, &first, NULL), DZ_OK);
	assert_int_equal(append_tlsa_change(f, 3, NULL), DZ_OK);

	/*
	 * Damage the first entry's checksum behind the reader's back: a reopen
	 * that continues from `first` does not check that entry again, while a
	 * full open stops there.
	 */
	int fd = open(f->path, O_RDWR);
	assert_true(fd >= 0);
	uint8_t byte = 0;
	off_t checksum_at = (off_t)(first->valid_end - DZ_JOURNAL_ENTRY_TRAILER_SIZE);
	assert_int_equal(pread(fd, &byte, 1, checksum_at), 1);
	byte ^= 0xff;
	assert_int_equal(pwrite(fd, &byte, 1, checksum_at), 1);
	close(fd);

	assert_int_equal(dz_journal_reopen(first, f->path, &second, NULL), DZ_OK);
	assert_int_equal(second->count, 2);
	assert_int_equal(second->last_serial, 3);
	assert_int_equal(second->entries[0].new_serial, 2);
	assert_int_equal(dz_journal_open(f->path, &full, NULL), DZ_OK);
	assert_int_equal(full->count, 0);
	/* The earlier view stays valid. */
	assert_int_equal(first->count, 1);
	assert_int_equal(first->entries[0].new_serial, 2);
	dz_journal_close(first);
	dz_journal_close(second);
	dz_journal_close(full);
}

static void
journal_writer_holds_lock(void **state)
{
	struct fixture *f = *state;
	dz_journal_writer_t *w = NULL;

	assert_int_equal(dz_journal_writer_open(f->path, f->origin, f->origin_len, &w, NULL), DZ_OK);
	/* flock() locks of two open files conflict even within one process. */
	int fd = open(f->path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_SH | LOCK_NB), -1);
	assert_int_equal(errno, EWOULDBLOCK);
	dz_journal_writer_close(w);
	assert_int_equal(flock(fd, LOCK_SH | LOCK_NB), 0);
	close(fd);
}

static void
journal_writer_rejects_other_zone(void **state)
{
	struct fixture *f = *state;
	dz_journal_writer_t *w = NULL;
	uint8_t other[DZ_WIRE_NAME_MAX];
	size_t other_len = dz_wire_name_from_text("example.org.", other);
	dz_error_t err;

	dz_error_init(&err);
	assert_int_equal(dz_journal_writer_open(f->path, other, other_len, &w, &err), DZ_EZONE);
	assert_non_null(strstr(err.message, "another zone"));
	assert_null(w);
	unlink(f->path);
	assert_int_equal(dz_journal_writer_open(f->path, f->origin, f->origin_len, &w, NULL),
			 DZ_ENOTFOUND);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(journal_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(journal_empty_has_base_soa, setup, teardown),
		cmocka_unit_test_setup_teardown(journal_rejects_invalid_diff, setup, teardown),
		cmocka_unit_test_setup_teardown(journal_pending_entry_cut_at_close, setup, teardown),
		cmocka_unit_test_setup_teardown(journal_torn_tail_ignored_then_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(journal_checksum_catches_damage, setup, teardown),
		cmocka_unit_test_setup_teardown(journal_reopen_reads_new_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(journal_writer_holds_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(journal_writer_rejects_other_zone, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
