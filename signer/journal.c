#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file.h"
#include "common/log.h"
#include "common/serial.h"
#include "signer/journal.h"

static const uint8_t journal_magic[8] = { 'D', 'Z', 'J', 'R', 'N', 'L', '0', '1' };

/*
 * Parse `len` bytes of concatenated RRs: each valid, below or at `origin`,
 * not an SOA.  Returns the count, or -1 when one is invalid.
 */
static long
count_rrs(const uint8_t *data, size_t len, const uint8_t *origin, size_t origin_len)
{
	size_t offset = 0;
	long count = 0;

	while (offset < len) {
		dz_wire_rr_t rr;
		if (dz_wire_rr_parse(data, len, &offset, &rr) != DZ_OK || rr.type == DZ_TYPE_SOA ||
		    !dz_wire_name_is_below_or_at(rr.owner, rr.owner_len, origin, origin_len))
			return -1;
		count++;
	}
	return count;
}

/* Parse exactly one SOA RR at `origin`. */
static bool
parse_soa(const uint8_t *data, size_t len, const uint8_t *origin, dz_wire_rr_t *soa)
{
	size_t offset = 0;

	return dz_wire_rr_parse(data, len, &offset, soa) == DZ_OK && offset == len &&
	       soa->type == DZ_TYPE_SOA && dz_wire_name_equal(soa->owner, origin);
}

/* Parse one entry at data[0..len); the entry size is checked by the caller. */
static bool
parse_entry(const uint8_t *data, size_t len, const uint8_t *origin, size_t origin_len,
	    dz_journal_entry_t *e)
{
	if (len < DZ_JOURNAL_ENTRY_HEADER_SIZE)
		return false;
	uint32_t size = dz_wire_get_u32(data);
	size_t old_soa_len = dz_wire_get_u32(data + 20);
	size_t removed_len = dz_wire_get_u32(data + 24);
	size_t new_soa_len = dz_wire_get_u32(data + 28);
	size_t added_len = dz_wire_get_u32(data + 32);
	/* Each part is below 4 GiB, so the sum cannot overflow a 64-bit size_t. */
	if (size != len || DZ_JOURNAL_ENTRY_HEADER_SIZE + old_soa_len + removed_len +
					   new_soa_len + added_len != len)
		return false;
	const uint8_t *p = data + DZ_JOURNAL_ENTRY_HEADER_SIZE;
	e->raw = data;
	e->size = len;
	e->old_serial = dz_wire_get_u32(data + 4);
	e->new_serial = dz_wire_get_u32(data + 8);
	e->removed_count = dz_wire_get_u32(data + 12);
	e->added_count = dz_wire_get_u32(data + 16);
	if (!parse_soa(p, old_soa_len, origin, &e->old_soa))
		return false;
	p += old_soa_len;
	e->removed = p;
	e->removed_len = removed_len;
	p += removed_len;
	if (!parse_soa(p, new_soa_len, origin, &e->new_soa))
		return false;
	p += new_soa_len;
	e->added = p;
	e->added_len = added_len;
	return dz_wire_soa_serial(&e->old_soa) == e->old_serial &&
	       dz_wire_soa_serial(&e->new_soa) == e->new_serial &&
	       dz_serial_gt(e->new_serial, e->old_serial) &&
	       count_rrs(e->removed, removed_len, origin, origin_len) == (long)e->removed_count &&
	       count_rrs(e->added, added_len, origin, origin_len) == (long)e->added_count;
}

dz_result_t
dz_journal_open(const char *path, dz_journal_t **out, dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	dz_journal_t *j = NULL;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return dz_error_set(err, errno == ENOENT ? DZ_ENOTFOUND
					 : errno == EACCES ? DZ_EPERM : DZ_EIO,
				    "cannot open journal %s: %s", path, strerror(errno));
	j = calloc(1, sizeof(*j));
	if (j == NULL) {
		result = dz_error_set(err, DZ_ENOMEM, "out of memory");
		goto cleanup;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		result = dz_error_set(err, DZ_EIO, "journal %s is not a regular file", path);
		goto cleanup;
	}
	if ((uint64_t)st.st_size < DZ_JOURNAL_HEADER_SIZE || (uint64_t)st.st_size > SIZE_MAX) {
		result = dz_error_set(err, DZ_EZONE, "journal %s is truncated (%jd bytes)", path,
				      (intmax_t)st.st_size);
		goto cleanup;
	}
	j->map_len = (size_t)st.st_size;
	j->map = mmap(NULL, j->map_len, PROT_READ, MAP_SHARED, fd, 0);
	if (j->map == MAP_FAILED) {
		j->map = NULL;
		result = dz_error_set(err, DZ_EIO, "cannot map journal %s: %s", path,
				      strerror(errno));
		goto cleanup;
	}

	const uint8_t *h = j->map;
	if (memcmp(h, journal_magic, sizeof(journal_magic)) != 0 ||
	    dz_wire_get_u32(h + 8) != DZ_JOURNAL_VERSION) {
		result = dz_error_set(err, DZ_EZONE,
				      "%s is not a danezone journal of format version %d", path,
				      DZ_JOURNAL_VERSION);
		goto cleanup;
	}
	uint32_t count = dz_wire_get_u32(h + 12);
	j->first_serial = dz_wire_get_u32(h + 16);
	j->last_serial = dz_wire_get_u32(h + 20);
	j->origin_len = dz_wire_get_u16(h + 24);
	if (j->origin_len > DZ_WIRE_NAME_MAX ||
	    dz_wire_name_len(h + 26, j->origin_len) != j->origin_len) {
		result = dz_error_set(err, DZ_EZONE, "journal %s: invalid origin in the header", path);
		goto cleanup;
	}
	memcpy(j->origin, h + 26, j->origin_len);
	/* Every entry takes at least its header, which bounds a forged count. */
	if (count > (j->map_len - DZ_JOURNAL_HEADER_SIZE) / DZ_JOURNAL_ENTRY_HEADER_SIZE) {
		result = dz_error_set(err, DZ_EZONE, "journal %s: %" PRIu32 " entries cannot fit",
				      path, count);
		goto cleanup;
	}
	if (count > 0) {
		j->entries = calloc(count, sizeof(*j->entries));
		if (j->entries == NULL) {
			result = dz_error_set(err, DZ_ENOMEM, "out of memory");
			goto cleanup;
		}
	}

	size_t offset = DZ_JOURNAL_HEADER_SIZE;
	uint32_t expected = j->first_serial;
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *p = (const uint8_t *)j->map + offset;
		size_t left = j->map_len - offset;
		size_t size = left >= 4 ? dz_wire_get_u32(p) : 0;
		dz_journal_entry_t *e = &j->entries[i];
		if (size > left || !parse_entry(p, size, j->origin, j->origin_len, e) ||
		    e->old_serial != expected) {
			result = dz_error_set(err, DZ_EZONE,
					      "journal %s: entry %" PRIu32 " at byte %zu is invalid "
					      "or does not continue the one before",
					      path, i + 1, offset);
			goto cleanup;
		}
		expected = e->new_serial;
		offset += size;
	}
	j->count = count;
	if (offset != j->map_len || expected != j->last_serial) {
		result = dz_error_set(err, DZ_EZONE,
				      "journal %s: the entries do not end at serial %" PRIu32
				      " and byte %zu as the header says",
				      path, j->last_serial, j->map_len);
		goto cleanup;
	}
	*out = j;
	j = NULL;

cleanup:
	dz_journal_close(j);
	close(fd);
	return result;
}

void
dz_journal_close(dz_journal_t *j)
{
	if (j == NULL)
		return;
	if (j->map != NULL)
		munmap(j->map, j->map_len);
	free(j->entries);
	free(j);
}

bool
dz_journal_find(const dz_journal_t *j, uint32_t serial, size_t *index)
{
	for (size_t i = 0; i < j->count; i++) {
		if (j->entries[i].old_serial == serial) {
			*index = i;
			return true;
		}
	}
	return false;
}

/*
 * Write a journal of the raw entries `entries[0..count)` (each a stored
 * entry), followed by `extra` (a new raw entry) unless it is NULL.
 */
static dz_result_t
write_journal(const char *path, const uint8_t *origin, size_t origin_len, uint32_t first_serial,
	      uint32_t last_serial, const dz_journal_entry_t *entries, size_t count,
	      const dz_buf_t *extra, mode_t mode, dz_error_t *err)
{
	uint8_t header[DZ_JOURNAL_HEADER_SIZE];
	dz_atomic_file_t file;
	dz_result_t result = dz_atomic_file_open(&file, path, mode, err);

	if (result != DZ_OK)
		return result;
	memset(header, 0, sizeof(header));
	memcpy(header, journal_magic, sizeof(journal_magic));
	dz_wire_put_u32(header + 8, DZ_JOURNAL_VERSION);
	dz_wire_put_u32(header + 12, (uint32_t)(count + (extra != NULL ? 1 : 0)));
	dz_wire_put_u32(header + 16, first_serial);
	dz_wire_put_u32(header + 20, last_serial);
	dz_wire_put_u16(header + 24, (uint16_t)origin_len);
	memcpy(header + 26, origin, origin_len);
	bool ok = fwrite(header, 1, sizeof(header), file.fp) == sizeof(header);
	for (size_t i = 0; ok && i < count; i++)
		ok = fwrite(entries[i].raw, 1, entries[i].size, file.fp) == entries[i].size;
	if (ok && extra != NULL)
		ok = fwrite(extra->data, 1, extra->len, file.fp) == extra->len;
	if (!ok) {
		result = dz_error_set(err, errno == ENOSPC ? DZ_ETOOBIG : DZ_EIO,
				      "cannot write %s: %s; %s is unchanged", file.tmp_path,
				      strerror(errno), path);
		dz_atomic_file_abort(&file);
		return result;
	}
	return dz_atomic_file_commit(&file, err);
}

dz_result_t
dz_journal_reset(const char *path, const uint8_t *origin, size_t origin_len, uint32_t serial,
		 mode_t mode, dz_error_t *err)
{
	return write_journal(path, origin, origin_len, serial, serial, NULL, 0, NULL, mode, err);
}

dz_result_t
dz_journal_truncate(const dz_journal_t *j, const char *path, uint32_t serial, mode_t mode,
		    dz_error_t *err)
{
	size_t keep = 0;

	if (j->first_serial != serial) {
		while (keep < j->count && j->entries[keep].new_serial != serial)
			keep++;
		if (keep == j->count)
			return dz_error_set(err, DZ_ENOTFOUND,
					    "journal %s has no entry that ends at serial %" PRIu32,
					    path, serial);
		keep++;
	}
	return write_journal(path, j->origin, j->origin_len, j->first_serial, serial, j->entries,
			     keep, NULL, mode, err);
}

/* Build the raw form of `diff` in `raw` after checking it. */
static dz_result_t
encode_diff(const uint8_t *origin, size_t origin_len, const dz_journal_diff_t *diff,
	    dz_buf_t *raw, uint32_t *old_serial, uint32_t *new_serial, dz_error_t *err)
{
	dz_wire_rr_t old_soa;
	dz_wire_rr_t new_soa;
	char zone[4 * DZ_WIRE_NAME_MAX + 1];

	dz_wire_name_to_text(origin, zone, sizeof(zone));
	if (!parse_soa(diff->old_soa->data, diff->old_soa->len, origin, &old_soa) ||
	    !parse_soa(diff->new_soa->data, diff->new_soa->len, origin, &new_soa))
		return dz_error_set(err, DZ_EZONE,
				    "zone %s: a journal entry needs one SOA RR at the apex "
				    "for each of the old and the new version",
				    zone);
	*old_serial = dz_wire_soa_serial(&old_soa);
	*new_serial = dz_wire_soa_serial(&new_soa);
	if (!dz_serial_gt(*new_serial, *old_serial))
		return dz_error_set(err, DZ_EZONE,
				    "zone %s: new serial %" PRIu32 " is not after old serial %" PRIu32
				    " (RFC 1982)",
				    zone, *new_serial, *old_serial);
	long removed = count_rrs(diff->removed->data, diff->removed->len, origin, origin_len);
	long added = count_rrs(diff->added->data, diff->added->len, origin, origin_len);
	if (removed < 0 || added < 0)
		return dz_error_set(err, DZ_EZONE,
				    "zone %s: the %s RRs of the diff to serial %" PRIu32
				    " contain an invalid RR, an SOA or a name outside the zone",
				    zone, removed < 0 ? "removed" : "added", *new_serial);
	uint64_t size = (uint64_t)DZ_JOURNAL_ENTRY_HEADER_SIZE + diff->old_soa->len +
			diff->removed->len + diff->new_soa->len + diff->added->len;
	if (size > UINT32_MAX || diff->removed->len > UINT32_MAX || diff->added->len > UINT32_MAX)
		return dz_error_set(err, DZ_ETOOBIG, "zone %s: the diff to serial %" PRIu32
				    " is larger than 4 GiB", zone, *new_serial);
	uint8_t header[DZ_JOURNAL_ENTRY_HEADER_SIZE];
	dz_wire_put_u32(header, (uint32_t)size);
	dz_wire_put_u32(header + 4, *old_serial);
	dz_wire_put_u32(header + 8, *new_serial);
	dz_wire_put_u32(header + 12, (uint32_t)removed);
	dz_wire_put_u32(header + 16, (uint32_t)added);
	dz_wire_put_u32(header + 20, (uint32_t)diff->old_soa->len);
	dz_wire_put_u32(header + 24, (uint32_t)diff->removed->len);
	dz_wire_put_u32(header + 28, (uint32_t)diff->new_soa->len);
	dz_wire_put_u32(header + 32, (uint32_t)diff->added->len);
	if (dz_buf_reserve(raw, (size_t)size) != DZ_OK ||
	    dz_buf_append(raw, header, sizeof(header)) != DZ_OK ||
	    dz_buf_append(raw, diff->old_soa->data, diff->old_soa->len) != DZ_OK ||
	    dz_buf_append(raw, diff->removed->data, diff->removed->len) != DZ_OK ||
	    dz_buf_append(raw, diff->new_soa->data, diff->new_soa->len) != DZ_OK ||
	    dz_buf_append(raw, diff->added->data, diff->added->len) != DZ_OK)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	return DZ_OK;
}

dz_result_t
dz_journal_append(const char *path, const uint8_t *origin, size_t origin_len,
		  const dz_journal_diff_t *diff, size_t max_size, mode_t mode, dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	dz_journal_t *old = NULL;
	dz_buf_t raw;
	dz_error_t open_err;
	uint32_t old_serial = 0;
	uint32_t new_serial = 0;
	char zone[4 * DZ_WIRE_NAME_MAX + 1];

	dz_buf_init(&raw);
	dz_wire_name_to_text(origin, zone, sizeof(zone));
	result = encode_diff(origin, origin_len, diff, &raw, &old_serial, &new_serial, err);
	if (result != DZ_OK)
		goto cleanup;

	if (DZ_JOURNAL_HEADER_SIZE + raw.len > max_size) {
		dz_log_zone(DZ_LOG_INFO, zone,
			    "IXFR journal: the diff to serial %" PRIu32 " (%zu bytes) exceeds the "
			    "journal bound of %zu bytes, so older serials get AXFR",
			    new_serial, raw.len, max_size);
		result = dz_journal_reset(path, origin, origin_len, new_serial, mode, err);
		goto cleanup;
	}

	dz_error_init(&open_err);
	result = dz_journal_open(path, &old, &open_err);
	if (result == DZ_EZONE)
		dz_log_zone(DZ_LOG_WARNING, zone, "IXFR journal: %s; starting a new journal",
			    dz_error_message(&open_err));
	else if (result != DZ_OK && result != DZ_ENOTFOUND) {
		result = dz_error_set(err, result, "%s", dz_error_message(&open_err));
		goto cleanup;
	}
	result = DZ_OK;
	if (old != NULL && (old->last_serial != old_serial ||
			    !dz_wire_name_equal(old->origin, origin))) {
		dz_log_zone(DZ_LOG_NOTICE, zone,
			    "IXFR journal ends at serial %" PRIu32 ", not at %" PRIu32
			    "; starting a new journal",
			    old->last_serial, old_serial);
		dz_journal_close(old);
		old = NULL;
	}

	/* Keep the newest entries that fit beside the new one. */
	size_t first = 0;
	size_t count = old != NULL ? old->count : 0;
	size_t total = DZ_JOURNAL_HEADER_SIZE + raw.len;
	for (size_t i = 0; i < count; i++)
		total += old->entries[i].size;
	while (first < count && total > max_size)
		total -= old->entries[first++].size;
	uint32_t first_serial = old_serial;
	const dz_journal_entry_t *kept = NULL;
	if (first < count) {
		first_serial = old->entries[first].old_serial;
		kept = &old->entries[first];
	}
	result = write_journal(path, origin, origin_len, first_serial, new_serial, kept,
			       count - first, &raw, mode, err);

cleanup:
	dz_journal_close(old);
	dz_buf_clear(&raw);
	return result;
}
