#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/file.h"
#include "common/log.h"
#include "common/serial.h"
#include "signer/journal.h"

static const uint8_t journal_magic[8] = { 'D', 'Z', 'J', 'R', 'N', 'L', '0', '2' };

/* Attempts to lock a journal that other writers keep replacing; each replacement is rare. */
#define LOCK_ATTEMPTS 100

/*
 * Release the flock() on `fd` and close it.  Closing alone is not enough:
 * a mapping of the file keeps the open file, and with it the lock.
 */
static void
unlock_close(int fd)
{
	if (fd < 0)
		return;
	flock(fd, LOCK_UN);
	close(fd);
}

static bool
sha256(const uint8_t *data, size_t len, uint8_t out[DZ_JOURNAL_CHECKSUM_SIZE])
{
	unsigned int out_len = 0;

	return EVP_Digest(data, len, out, &out_len, EVP_sha256(), NULL) == 1 &&
	       out_len == DZ_JOURNAL_CHECKSUM_SIZE;
}

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

/*
 * Parse the entry at the start of data[0..avail).  With `verify` the
 * checksum and every RR are checked too.  Without it only the framing and
 * the SOAs are, for entries that were verified when they were first read.
 */
static bool
parse_entry(const uint8_t *data, size_t avail, const uint8_t *origin, size_t origin_len,
	    bool verify, dz_journal_entry_t *e)
{
	if (avail < DZ_JOURNAL_ENTRY_HEADER_SIZE + DZ_JOURNAL_ENTRY_TRAILER_SIZE)
		return false;
	size_t size = dz_wire_get_u32(data);
	size_t old_soa_len = dz_wire_get_u32(data + 20);
	size_t removed_len = dz_wire_get_u32(data + 24);
	size_t new_soa_len = dz_wire_get_u32(data + 28);
	size_t added_len = dz_wire_get_u32(data + 32);
	/* Each part is below 4 GiB, so the sum cannot overflow a 64-bit size_t. */
	size_t body = old_soa_len + removed_len + new_soa_len + added_len;
	if (size > avail ||
	    size != DZ_JOURNAL_ENTRY_HEADER_SIZE + body + DZ_JOURNAL_ENTRY_TRAILER_SIZE ||
	    dz_wire_get_u32(data + size - 4) != size)
		return false;
	if (verify) {
		uint8_t digest[DZ_JOURNAL_CHECKSUM_SIZE];
		size_t covered = DZ_JOURNAL_ENTRY_HEADER_SIZE + body;
		if (!sha256(data, covered, digest) ||
		    memcmp(digest, data + covered, sizeof(digest)) != 0)
			return false;
	}
	const uint8_t *p = data + DZ_JOURNAL_ENTRY_HEADER_SIZE;
	e->raw = data;
	e->size = size;
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
	if (dz_wire_soa_serial(&e->old_soa) != e->old_serial ||
	    dz_wire_soa_serial(&e->new_soa) != e->new_serial ||
	    !dz_serial_gt(e->new_serial, e->old_serial))
		return false;
	return !verify ||
	       (count_rrs(e->removed, removed_len, origin, origin_len) == (long)e->removed_count &&
		count_rrs(e->added, added_len, origin, origin_len) == (long)e->added_count);
}

/* The parts of a journal header. */
typedef struct header {
	size_t size;
	uint32_t base_serial;
	uint8_t origin[DZ_WIRE_NAME_MAX];
	size_t origin_len;
	dz_wire_rr_t base_soa; /* points into the parsed bytes */
} header_t;

/* Length of the header that starts with data[0..DZ_JOURNAL_HEADER_FIXED); 0 if invalid. */
static size_t
header_size(const uint8_t *data)
{
	if (memcmp(data, journal_magic, sizeof(journal_magic)) != 0 ||
	    dz_wire_get_u32(data + 8) != DZ_JOURNAL_VERSION)
		return 0;
	size_t size = dz_wire_get_u32(data + 12);
	size_t soa_len = dz_wire_get_u16(data + 277);
	if (size != DZ_JOURNAL_HEADER_FIXED + soa_len + DZ_JOURNAL_CHECKSUM_SIZE)
		return 0;
	return size;
}

/* Check the whole header at data[0..len) and fill `h`. */
static bool
parse_header(const uint8_t *data, size_t len, header_t *h)
{
	uint8_t digest[DZ_JOURNAL_CHECKSUM_SIZE];

	if (len < DZ_JOURNAL_HEADER_FIXED)
		return false;
	h->size = header_size(data);
	if (h->size == 0 || h->size > len)
		return false;
	size_t covered = h->size - DZ_JOURNAL_CHECKSUM_SIZE;
	if (!sha256(data, covered, digest) || memcmp(digest, data + covered, sizeof(digest)) != 0)
		return false;
	h->base_serial = dz_wire_get_u32(data + 16);
	h->origin_len = dz_wire_get_u16(data + 20);
	if (h->origin_len > DZ_WIRE_NAME_MAX ||
	    dz_wire_name_len(data + 22, h->origin_len) != h->origin_len)
		return false;
	memcpy(h->origin, data + 22, h->origin_len);
	return parse_soa(data + DZ_JOURNAL_HEADER_FIXED, covered - DZ_JOURNAL_HEADER_FIXED, h->origin,
			 &h->base_soa) &&
	       dz_wire_soa_serial(&h->base_soa) == h->base_serial;
}

dz_result_t
dz_journal_encode_header(const uint8_t *origin, size_t origin_len, const uint8_t *base_soa,
			 size_t base_soa_len, dz_buf_t *out, dz_error_t *err)
{
	uint8_t fixed[DZ_JOURNAL_HEADER_FIXED];
	uint8_t digest[DZ_JOURNAL_CHECKSUM_SIZE];
	dz_wire_rr_t soa;
	size_t start = out->len;

	if (!parse_soa(base_soa, base_soa_len, origin, &soa) || base_soa_len > UINT16_MAX)
		return dz_error_set(err, DZ_EZONE, "the base of a journal must be one SOA RR at the apex");
	memset(fixed, 0, sizeof(fixed));
	memcpy(fixed, journal_magic, sizeof(journal_magic));
	dz_wire_put_u32(fixed + 8, DZ_JOURNAL_VERSION);
	dz_wire_put_u32(fixed + 12,
			(uint32_t)(DZ_JOURNAL_HEADER_FIXED + base_soa_len + DZ_JOURNAL_CHECKSUM_SIZE));
	dz_wire_put_u32(fixed + 16, dz_wire_soa_serial(&soa));
	dz_wire_put_u16(fixed + 20, (uint16_t)origin_len);
	memcpy(fixed + 22, origin, origin_len);
	dz_wire_put_u16(fixed + 277, (uint16_t)base_soa_len);
	if (dz_buf_append(out, fixed, sizeof(fixed)) != DZ_OK ||
	    dz_buf_append(out, base_soa, base_soa_len) != DZ_OK ||
	    !sha256(out->data + start, out->len - start, digest) ||
	    dz_buf_append(out, digest, sizeof(digest)) != DZ_OK) {
		out->len = start;
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	}
	return DZ_OK;
}

dz_result_t
dz_journal_create(const char *path, const uint8_t *origin, size_t origin_len,
		  const dz_buf_t *base_soa, mode_t mode, dz_error_t *err)
{
	dz_buf_t header;
	dz_result_t result;

	dz_buf_init(&header);
	result = dz_journal_encode_header(origin, origin_len, base_soa->data, base_soa->len, &header,
					  err);
	if (result == DZ_OK)
		result = dz_file_write_atomic(path, header.data, header.len, mode, err);
	dz_buf_clear(&header);
	return result;
}

/*
 * Open `path` with `flags` and take the flock() `operation`, retrying
 * while the path names another file than the one locked (it was replaced
 * meanwhile).  *fd and *st on success.
 */
static dz_result_t
lock_path(const char *path, int flags, int operation, int *fd, struct stat *st, dz_error_t *err)
{
	for (int attempt = 0; attempt < LOCK_ATTEMPTS; attempt++) {
		struct stat named;
		int f = open(path, flags | O_CLOEXEC);
		if (f < 0)
			return dz_error_set(err, errno == ENOENT ? DZ_ENOTFOUND
						 : errno == EACCES ? DZ_EPERM : DZ_EIO,
					    "cannot open journal %s: %s", path, strerror(errno));
		while (flock(f, operation) != 0) {
			if (errno != EINTR) {
				dz_result_t result = dz_error_set(err, DZ_EIO, "cannot lock journal %s: %s",
								  path, strerror(errno));
				close(f);
				return result;
			}
		}
		if (fstat(f, st) != 0 || !S_ISREG(st->st_mode)) {
			close(f);
			return dz_error_set(err, DZ_EIO, "journal %s is not a regular file", path);
		}
		if (stat(path, &named) == 0 && named.st_dev == st->st_dev &&
		    named.st_ino == st->st_ino) {
			*fd = f;
			return DZ_OK;
		}
		unlock_close(f);
	}
	return dz_error_set(err, DZ_EBUSY, "journal %s is replaced faster than it can be locked",
			    path);
}

static dz_result_t
push_entry(dz_journal_t *j, const dz_journal_entry_t *e)
{
	if (j->count == SIZE_MAX / sizeof(*j->entries))
		return DZ_ENOMEM;
	dz_journal_entry_t *entries = realloc(j->entries, (j->count + 1) * sizeof(*entries));
	if (entries == NULL)
		return DZ_ENOMEM;
	j->entries = entries;
	j->entries[j->count++] = *e;
	return DZ_OK;
}

/*
 * Map the open journal `fd` of `st_size` bytes into `j` and read its
 * entries.  The first `known` entries (up to byte `known_end`) were checked
 * before and are only re-indexed.
 */
static dz_result_t
map_and_scan(dz_journal_t *j, int fd, const struct stat *st, const char *path, size_t known,
	     size_t known_end, dz_error_t *err)
{
	header_t h;

	if ((uint64_t)st->st_size > SIZE_MAX)
		return dz_error_set(err, DZ_ETOOBIG, "journal %s is too large to map", path);
	j->dev = st->st_dev;
	j->ino = st->st_ino;
	j->map_len = (size_t)st->st_size;
	if (j->map_len < DZ_JOURNAL_HEADER_FIXED)
		return dz_error_set(err, DZ_EZONE, "journal %s is truncated (%zu bytes)", path,
				    j->map_len);
	j->map = mmap(NULL, j->map_len, PROT_READ, MAP_SHARED, fd, 0);
	if (j->map == MAP_FAILED) {
		j->map = NULL;
		return dz_error_set(err, DZ_EIO, "cannot map journal %s: %s", path, strerror(errno));
	}
	const uint8_t *base = j->map;
	if (!parse_header(base, j->map_len, &h))
		return dz_error_set(err, DZ_EZONE,
				    "%s is not a danezone journal of format version %d, or its "
				    "header is damaged",
				    path, DZ_JOURNAL_VERSION);
	memcpy(j->origin, h.origin, h.origin_len);
	j->origin_len = h.origin_len;
	j->header_size = h.size;
	j->first_serial = h.base_serial;
	j->base_soa = h.base_soa;
	j->last_serial = h.base_serial;
	j->last_soa = h.base_soa;

	size_t offset = h.size;
	for (size_t i = 0; offset < j->map_len; i++) {
		dz_journal_entry_t e;
		bool verify = i >= known || offset >= known_end;
		if (!parse_entry(base + offset, j->map_len - offset, j->origin, j->origin_len, verify,
				 &e) ||
		    e.old_serial != j->last_serial)
			break;
		if (push_entry(j, &e) != DZ_OK)
			return dz_error_set(err, DZ_ENOMEM, "out of memory");
		j->last_serial = e.new_serial;
		j->last_soa = e.new_soa;
		offset += e.size;
	}
	j->valid_end = offset;
	j->torn_bytes = j->map_len - offset;
	return DZ_OK;
}

dz_result_t
dz_journal_reopen_locked(const dz_journal_t *previous, const char *path, dz_journal_t **out,
			 int *lock_fd, dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	dz_journal_t *j = NULL;
	struct stat st;
	int fd = -1;

	result = lock_path(path, O_RDONLY, LOCK_SH, &fd, &st, err);
	if (result != DZ_OK)
		return result;
	j = calloc(1, sizeof(*j));
	if (j == NULL) {
		result = dz_error_set(err, DZ_ENOMEM, "out of memory");
		goto cleanup;
	}
	size_t known = 0;
	size_t known_end = 0;
	if (previous != NULL && previous->dev == st.st_dev && previous->ino == st.st_ino &&
	    (uint64_t)st.st_size >= previous->valid_end) {
		known = previous->count;
		known_end = previous->valid_end;
	}
	result = map_and_scan(j, fd, &st, path, known, known_end, err);
	if (result != DZ_OK)
		goto cleanup;
	*out = j;
	j = NULL;
	if (lock_fd != NULL) {
		*lock_fd = fd;
		fd = -1;
	}

cleanup:
	dz_journal_close(j);
	unlock_close(fd);
	return result;
}

void
dz_journal_unlock(int lock_fd)
{
	unlock_close(lock_fd);
}

dz_result_t
dz_journal_reopen(const dz_journal_t *previous, const char *path, dz_journal_t **out,
		  dz_error_t *err)
{
	return dz_journal_reopen_locked(previous, path, out, NULL, err);
}

dz_result_t
dz_journal_open(const char *path, dz_journal_t **out, dz_error_t *err)
{
	return dz_journal_reopen(NULL, path, out, err);
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

bool
dz_journal_position(const dz_journal_t *j, uint32_t serial, size_t *index)
{
	if (j->first_serial == serial) {
		*index = 0;
		return true;
	}
	for (size_t i = 0; i < j->count; i++) {
		if (j->entries[i].new_serial == serial) {
			*index = i + 1;
			return true;
		}
	}
	return false;
}

/* ---- Writer ------------------------------------------------------------ */

static dz_result_t
read_at(int fd, void *buf, size_t len, size_t offset)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = pread(fd, p, len, (off_t)offset);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return DZ_EIO;
		p += n;
		len -= (size_t)n;
		offset += (size_t)n;
	}
	return DZ_OK;
}

static dz_result_t
write_at(int fd, const void *buf, size_t len, size_t offset)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, (off_t)offset);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return errno == ENOSPC ? DZ_ETOOBIG : DZ_EIO;
		p += n;
		len -= (size_t)n;
		offset += (size_t)n;
	}
	return DZ_OK;
}

/* Read the newest entry from the end of the file; false when it fails its check. */
static bool
read_tail(dz_journal_writer_t *w, size_t file_size, size_t header_len, dz_buf_t *scratch)
{
	uint8_t size_field[4];
	dz_journal_entry_t e;

	if (file_size - header_len < DZ_JOURNAL_ENTRY_HEADER_SIZE + DZ_JOURNAL_ENTRY_TRAILER_SIZE ||
	    read_at(w->fd, size_field, 4, file_size - 4) != DZ_OK)
		return false;
	size_t size = dz_wire_get_u32(size_field);
	if (size > file_size - header_len || dz_buf_reserve(scratch, size) != DZ_OK ||
	    read_at(w->fd, scratch->data, size, file_size - size) != DZ_OK)
		return false;
	scratch->len = size;
	if (!parse_entry(scratch->data, size, w->origin, w->origin_len, true, &e) ||
	    !dz_serial_gt(e.new_serial, w->first_serial))
		return false;
	w->last_serial = e.new_serial;
	w->last_soa.len = 0;
	return dz_buf_append(&w->last_soa, e.new_soa.start, e.new_soa.len) == DZ_OK;
}

dz_result_t
dz_journal_writer_read(const dz_journal_writer_t *w, dz_journal_t **out, dz_error_t *err)
{
	dz_journal_t *j = calloc(1, sizeof(*j));
	struct stat st;
	dz_result_t result;

	if (j == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	st.st_size = 0;
	if (fstat(w->fd, &st) != 0) {
		result = dz_error_set(err, DZ_EIO, "cannot read journal %s: %s", w->path,
				      strerror(errno));
	} else {
		/* Only the committed part: a pending entry is not read. */
		st.st_size = (off_t)w->end;
		result = map_and_scan(j, w->fd, &st, w->path, 0, 0, err);
	}
	if (result != DZ_OK) {
		dz_journal_close(j);
		return result;
	}
	*out = j;
	return DZ_OK;
}

/* Scan the locked file and cut it after its last valid entry, as after a crash. */
static dz_result_t
repair_tail(dz_journal_writer_t *w, dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	dz_journal_t *j = calloc(1, sizeof(*j));
	char zone[4 * DZ_WIRE_NAME_MAX + 1];
	struct stat st;

	if (j == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	if (fstat(w->fd, &st) != 0) {
		result = dz_error_set(err, DZ_EIO, "cannot read journal %s: %s", w->path,
				      strerror(errno));
		goto cleanup;
	}
	result = map_and_scan(j, w->fd, &st, w->path, 0, 0, err);
	if (result != DZ_OK)
		goto cleanup;
	dz_wire_name_to_text(w->origin, zone, sizeof(zone));
	if (j->torn_bytes > 0) {
		if (ftruncate(w->fd, (off_t)j->valid_end) != 0 || fdatasync(w->fd) != 0) {
			result = dz_error_set(err, DZ_EIO, "cannot cut the incomplete entry off %s: %s",
					      w->path, strerror(errno));
			goto cleanup;
		}
		dz_log_zone(DZ_LOG_WARNING, zone,
			    "IXFR journal %s: dropped %zu bytes after serial %" PRIu32
			    ", an entry that was never committed (interrupted write)",
			    w->path, j->torn_bytes, j->last_serial);
	}
	w->end = j->valid_end;
	w->last_serial = j->last_serial;
	w->last_soa.len = 0;
	if (dz_buf_append(&w->last_soa, j->last_soa.start, j->last_soa.len) != DZ_OK)
		result = dz_error_set(err, DZ_ENOMEM, "out of memory");

cleanup:
	dz_journal_close(j);
	return result;
}

dz_result_t
dz_journal_writer_open(const char *path, const uint8_t *origin, size_t origin_len,
		       dz_journal_writer_t **out, dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	dz_journal_writer_t *w = calloc(1, sizeof(*w));
	struct stat st;
	dz_buf_t scratch;
	header_t h;

	dz_buf_init(&scratch);
	if (w == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	w->fd = -1;
	if (strlen(path) >= sizeof(w->path)) {
		result = dz_error_set(err, DZ_EINVAL, "journal path %s is too long", path);
		goto cleanup;
	}
	snprintf(w->path, sizeof(w->path), "%s", path);
	result = lock_path(path, O_RDWR, LOCK_EX, &w->fd, &st, err);
	if (result != DZ_OK)
		goto cleanup;
	w->dev = st.st_dev;
	w->ino = st.st_ino;
	size_t file_size = (size_t)st.st_size;

	size_t size = 0;
	if (file_size >= DZ_JOURNAL_HEADER_FIXED &&
	    dz_buf_reserve(&scratch, DZ_JOURNAL_HEADER_FIXED) == DZ_OK &&
	    read_at(w->fd, scratch.data, DZ_JOURNAL_HEADER_FIXED, 0) == DZ_OK)
		size = header_size(scratch.data);
	if (size == 0 || size > file_size || dz_buf_reserve(&scratch, size) != DZ_OK ||
	    read_at(w->fd, scratch.data, size, 0) != DZ_OK || !parse_header(scratch.data, size, &h)) {
		result = dz_error_set(err, DZ_EZONE,
				      "%s is not a danezone journal of format version %d, or its "
				      "header is damaged",
				      path, DZ_JOURNAL_VERSION);
		goto cleanup;
	}
	if (h.origin_len != origin_len || !dz_wire_name_equal(h.origin, origin)) {
		result = dz_error_set(err, DZ_EZONE, "%s is the journal of another zone", path);
		goto cleanup;
	}
	memcpy(w->origin, origin, origin_len);
	w->origin_len = origin_len;
	w->first_serial = h.base_serial;
	w->last_serial = h.base_serial;
	if (dz_buf_append(&w->last_soa, h.base_soa.start, h.base_soa.len) != DZ_OK) {
		result = dz_error_set(err, DZ_ENOMEM, "out of memory");
		goto cleanup;
	}
	w->end = file_size;
	if (file_size > size && !read_tail(w, file_size, size, &scratch))
		result = repair_tail(w, err);
	if (result != DZ_OK)
		goto cleanup;
	*out = w;
	w = NULL;

cleanup:
	dz_buf_clear(&scratch);
	dz_journal_writer_close(w);
	return result;
}

/* Build the stored form of the entry from the writer's newest SOA to diff->new_soa. */
static dz_result_t
encode_entry(const dz_journal_writer_t *w, const dz_journal_diff_t *diff, dz_buf_t *raw,
	     uint32_t *new_serial, dz_error_t *err)
{
	dz_wire_rr_t new_soa;
	char zone[4 * DZ_WIRE_NAME_MAX + 1];
	uint8_t digest[DZ_JOURNAL_CHECKSUM_SIZE];
	const dz_buf_t *old_soa = &w->last_soa;

	dz_wire_name_to_text(w->origin, zone, sizeof(zone));
	if (!parse_soa(diff->new_soa->data, diff->new_soa->len, w->origin, &new_soa))
		return dz_error_set(err, DZ_EZONE,
				    "zone %s: a journal entry needs one SOA RR at the apex for the "
				    "new version",
				    zone);
	*new_serial = dz_wire_soa_serial(&new_soa);
	if (!dz_serial_gt(*new_serial, w->last_serial))
		return dz_error_set(err, DZ_EZONE,
				    "zone %s: new serial %" PRIu32 " is not after the committed "
				    "serial %" PRIu32 " (RFC 1982)",
				    zone, *new_serial, w->last_serial);
	long removed = count_rrs(diff->removed->data, diff->removed->len, w->origin, w->origin_len);
	long added = count_rrs(diff->added->data, diff->added->len, w->origin, w->origin_len);
	if (removed < 0 || added < 0)
		return dz_error_set(err, DZ_EZONE,
				    "zone %s: the %s RRs of the diff to serial %" PRIu32
				    " contain an invalid RR, an SOA or a name outside the zone",
				    zone, removed < 0 ? "removed" : "added", *new_serial);
	uint64_t size = (uint64_t)DZ_JOURNAL_ENTRY_HEADER_SIZE + old_soa->len + diff->removed->len +
			diff->new_soa->len + diff->added->len + DZ_JOURNAL_ENTRY_TRAILER_SIZE;
	if (size > UINT32_MAX)
		return dz_error_set(err, DZ_ETOOBIG,
				    "zone %s: the diff to serial %" PRIu32 " is larger than 4 GiB",
				    zone, *new_serial);
	uint8_t header[DZ_JOURNAL_ENTRY_HEADER_SIZE];
	dz_wire_put_u32(header, (uint32_t)size);
	dz_wire_put_u32(header + 4, w->last_serial);
	dz_wire_put_u32(header + 8, *new_serial);
	dz_wire_put_u32(header + 12, (uint32_t)removed);
	dz_wire_put_u32(header + 16, (uint32_t)added);
	dz_wire_put_u32(header + 20, (uint32_t)old_soa->len);
	dz_wire_put_u32(header + 24, (uint32_t)diff->removed->len);
	dz_wire_put_u32(header + 28, (uint32_t)diff->new_soa->len);
	dz_wire_put_u32(header + 32, (uint32_t)diff->added->len);
	uint8_t size_field[4];
	dz_wire_put_u32(size_field, (uint32_t)size);
	if (dz_buf_reserve(raw, (size_t)size) != DZ_OK ||
	    dz_buf_append(raw, header, sizeof(header)) != DZ_OK ||
	    dz_buf_append(raw, old_soa->data, old_soa->len) != DZ_OK ||
	    dz_buf_append(raw, diff->removed->data, diff->removed->len) != DZ_OK ||
	    dz_buf_append(raw, diff->new_soa->data, diff->new_soa->len) != DZ_OK ||
	    dz_buf_append(raw, diff->added->data, diff->added->len) != DZ_OK ||
	    !sha256(raw->data, raw->len, digest) ||
	    dz_buf_append(raw, digest, sizeof(digest)) != DZ_OK ||
	    dz_buf_append(raw, size_field, sizeof(size_field)) != DZ_OK)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	return DZ_OK;
}

/* Cut off a pending entry; failure is logged because the caller already reports one. */
static void
cut_pending(dz_journal_writer_t *w)
{
	if (w->appended == 0)
		return;
	if (ftruncate(w->fd, (off_t)w->end) != 0)
		dz_log(DZ_LOG_ERROR,
		       "cannot cut an uncommitted entry off journal %s: %s; the next writer "
		       "drops it when it opens the journal",
		       w->path, strerror(errno));
	w->appended = 0;
}

dz_result_t
dz_journal_writer_append(dz_journal_writer_t *w, const dz_journal_diff_t *diff, dz_error_t *err)
{
	dz_buf_t raw;
	uint32_t new_serial = 0;
	dz_result_t result;

	dz_buf_init(&raw);
	if (w->appended != 0) {
		result = dz_error_set(err, DZ_ESTATE, "journal %s: an entry is already pending",
				      w->path);
		goto cleanup;
	}
	result = encode_entry(w, diff, &raw, &new_serial, err);
	if (result != DZ_OK)
		goto cleanup;
	result = write_at(w->fd, raw.data, raw.len, w->end);
	w->appended = raw.len;
	if (result != DZ_OK) {
		dz_error_set(err, result, "cannot append to journal %s: %s", w->path, strerror(errno));
		cut_pending(w);
		goto cleanup;
	}
	w->pending_serial = new_serial;
	w->pending_soa.len = 0;
	if (dz_buf_append(&w->pending_soa, diff->new_soa->data, diff->new_soa->len) != DZ_OK) {
		result = dz_error_set(err, DZ_ENOMEM, "out of memory");
		cut_pending(w);
	}

cleanup:
	dz_buf_clear(&raw);
	return result;
}

dz_result_t
dz_journal_writer_sync(dz_journal_writer_t *w, dz_error_t *err)
{
	if (w->appended == 0)
		return DZ_OK;
	if (fdatasync(w->fd) != 0) {
		dz_result_t result = dz_error_set(err, DZ_EIO, "cannot sync journal %s: %s", w->path,
						  strerror(errno));
		cut_pending(w);
		return result;
	}
	w->end += w->appended;
	w->appended = 0;
	w->last_serial = w->pending_serial;
	dz_buf_t swap = w->last_soa;
	w->last_soa = w->pending_soa;
	w->pending_soa = swap;
	return DZ_OK;
}

static void
writer_free(dz_journal_writer_t *w)
{
	unlock_close(w->fd);
	dz_buf_clear(&w->last_soa);
	dz_buf_clear(&w->pending_soa);
	free(w);
}

void
dz_journal_writer_close(dz_journal_writer_t *w)
{
	if (w == NULL)
		return;
	cut_pending(w);
	writer_free(w);
}

void
dz_journal_writer_abandon(dz_journal_writer_t *w, size_t keep)
{
	if (w == NULL)
		return;
	if (keep < w->appended && ftruncate(w->fd, (off_t)(w->end + keep)) != 0)
		dz_log(DZ_LOG_ERROR, "cannot shorten journal %s for the crash test: %s", w->path,
		       strerror(errno));
	writer_free(w);
}
