#include "config.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file.h"
#include "signer/print.h"
#include "signer/snapshot.h"

static const uint8_t snapshot_magic[8] = DZ_SNAPSHOT_MAGIC;

struct dz_snapshot_writer {
	dz_atomic_file_t snapshot;
	dz_atomic_file_t text;
	bool has_text;
	bool finished;
	uint8_t origin[DZ_WIRE_NAME_MAX];
	size_t origin_len;
	char origin_text[4 * DZ_WIRE_NAME_MAX + 1];
	dz_buf_t soa;
	dz_buf_t previous; /* the last RR added after the SOA */
	dz_buf_t line;	   /* text of the RR being added */
	uint32_t serial;
	uint64_t rr_count;
	uint64_t data_len;
};

static void
put_u64(uint8_t *p, uint64_t v)
{
	dz_wire_put_u32(p, (uint32_t)(v >> 32));
	dz_wire_put_u32(p + 4, (uint32_t)v);
}

static uint64_t
get_u64(const uint8_t *p)
{
	return (uint64_t)dz_wire_get_u32(p) << 32 | dz_wire_get_u32(p + 4);
}

dz_result_t
dz_snapshot_writer_create(const char *path, const char *text_path, const uint8_t *origin,
			  size_t origin_len, mode_t mode, dz_snapshot_writer_t **writer,
			  dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	dz_snapshot_writer_t *w = calloc(1, sizeof(*w));
	static const uint8_t zeros[DZ_SNAPSHOT_HEADER_SIZE];

	if (w == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	if (dz_wire_name_len(origin, origin_len) != origin_len) {
		result = dz_error_set(err, DZ_EINVAL, "invalid zone origin for snapshot %s", path);
		goto cleanup;
	}
	memcpy(w->origin, origin, origin_len);
	w->origin_len = origin_len;
	dz_wire_name_to_text(origin, w->origin_text, sizeof(w->origin_text));
	result = dz_atomic_file_open(&w->snapshot, path, mode, err);
	if (result != DZ_OK)
		goto cleanup;
	/* The header is written again with the counts when the writer finishes. */
	if (fwrite(zeros, 1, sizeof(zeros), w->snapshot.fp) != sizeof(zeros)) {
		result = dz_error_set(err, DZ_EIO, "cannot write %s: %s", w->snapshot.tmp_path,
				      strerror(errno));
		goto cleanup;
	}
	if (text_path != NULL) {
		result = dz_atomic_file_open(&w->text, text_path, mode, err);
		if (result != DZ_OK)
			goto cleanup;
		w->has_text = true;
	}
	*writer = w;
	w = NULL;

cleanup:
	dz_snapshot_writer_abort(w);
	return result;
}

/* Print one RR to `fp` through `line`, a buffer the caller keeps for the next RR. */
static dz_result_t
print_rr(FILE *fp, dz_buf_t *line, const uint8_t *rr, size_t len, dz_error_t *err)
{
	dz_result_t result;

	line->len = 0;
	result = dz_print_wire_rr(line, rr, len);
	if (result == DZ_ENOMEM)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	if (result != DZ_OK)
		return dz_error_set(err, DZ_EZONE, "cannot convert an RR to text: %s",
				    dz_result_text(result));
	if (fwrite(line->data, 1, line->len, fp) != line->len)
		return dz_error_set(err, DZ_EIO, "write error: %s", strerror(errno));
	return DZ_OK;
}

dz_result_t
dz_snapshot_print_rr(FILE *fp, const uint8_t *rr, size_t len, dz_error_t *err)
{
	dz_buf_t line;
	dz_result_t result;

	dz_buf_init(&line);
	result = print_rr(fp, &line, rr, len, err);
	dz_buf_clear(&line);
	return result;
}

static const char *
owner_text(const dz_wire_rr_t *rr, char *text)
{
	dz_wire_name_to_text(rr->owner, text, 4 * DZ_WIRE_NAME_MAX + 1);
	return text;
}

dz_result_t
dz_snapshot_writer_add(dz_snapshot_writer_t *w, const uint8_t *data, size_t len, dz_error_t *err)
{
	dz_wire_rr_t rr;
	size_t offset = 0;
	/* Only the error messages print the owner. */
	char owner[4 * DZ_WIRE_NAME_MAX + 1];

	assert(!w->finished);
	if (dz_wire_rr_parse(data, len, &offset, &rr) != DZ_OK || offset != len)
		return dz_error_set(err, DZ_EZONE,
				    "zone %s: RR number %" PRIu64 " is not one valid wire-form RR",
				    w->origin_text, w->rr_count + 1);

	if (w->rr_count == 0) {
		if (rr.type != DZ_TYPE_SOA || rr.rrclass != DZ_CLASS_IN ||
		    !dz_wire_name_equal(rr.owner, w->origin) || dz_wire_soa_serial(&rr) == 0)
			return dz_error_set(err, DZ_EZONE,
					    "zone %s: the first RR must be the SOA at the apex, "
					    "got type %u at %s",
					    w->origin_text, rr.type, owner_text(&rr, owner));
		w->serial = dz_wire_soa_serial(&rr);
		if (dz_buf_append(&w->soa, data, len) != DZ_OK)
			return dz_error_set(err, DZ_ENOMEM, "out of memory");
		if (w->has_text)
			fprintf(w->text.fp, "%s%s serial %" PRIu32 "\n", DZ_SNAPSHOT_TEXT_MARK,
				w->origin_text, w->serial);
	} else {
		if (rr.type == DZ_TYPE_SOA)
			return dz_error_set(err, DZ_EZONE, "zone %s: second SOA RR at %s",
					    w->origin_text, owner_text(&rr, owner));
		if (!dz_wire_name_is_below_or_at(rr.owner, rr.owner_len, w->origin,
						 w->origin_len))
			return dz_error_set(err, DZ_EZONE, "zone %s: RR owner %s is outside the zone",
					    w->origin_text, owner_text(&rr, owner));
		if (w->previous.len > 0) {
			dz_wire_rr_t prev;
			size_t prev_offset = 0;
			dz_result_t parsed = dz_wire_rr_parse(w->previous.data, w->previous.len,
							      &prev_offset, &prev);
			assert(parsed == DZ_OK);
			(void)parsed;
			int order = dz_wire_rr_compare(&prev, &rr);
			if (order >= 0)
				return dz_error_set(err, DZ_EZONE,
						    "zone %s: RR type %u at %s is %s; RRs must be "
						    "added in canonical order without duplicates",
						    w->origin_text, rr.type, owner_text(&rr, owner),
						    order == 0 ? "a duplicate" : "out of order");
		}
		w->previous.len = 0;
		if (dz_buf_append(&w->previous, data, len) != DZ_OK)
			return dz_error_set(err, DZ_ENOMEM, "out of memory");
	}

	if (fwrite(data, 1, len, w->snapshot.fp) != len)
		return dz_error_set(err, DZ_EIO, "cannot write %s: %s", w->snapshot.tmp_path,
				    strerror(errno));
	if (w->has_text) {
		dz_result_t result = print_rr(w->text.fp, &w->line, data, len, err);
		if (result != DZ_OK)
			return dz_error_prefix(err, "zone %s: %s", w->origin_text, w->text.tmp_path);
	}
	w->rr_count++;
	w->data_len += len;
	return DZ_OK;
}

dz_result_t
dz_snapshot_writer_add_all(dz_snapshot_writer_t *w, const dz_buf_t *rrs, dz_error_t *err)
{
	size_t offset = 0;

	while (offset < rrs->len) {
		dz_wire_rr_t rr;
		size_t start = offset;
		if (dz_wire_rr_parse(rrs->data, rrs->len, &offset, &rr) != DZ_OK)
			return dz_error_set(err, DZ_EZONE,
					    "zone %s: invalid wire-form RR at byte %zu of the input",
					    w->origin_text, start);
		dz_result_t result = dz_snapshot_writer_add(w, rrs->data + start, rr.len, err);
		if (result != DZ_OK)
			return result;
	}
	return DZ_OK;
}

/* RRs of one part of a difference, sorted as a snapshot orders them. */
typedef struct rr_list {
	dz_wire_rr_t *items;
	size_t count;
} rr_list_t;

static int
compare_rr(const void *a, const void *b)
{
	return dz_wire_rr_compare(a, b);
}

/* Parse `count` RRs of the difference from *offset on, up to (not including) the next SOA. */
static dz_result_t
diff_part(const uint8_t *diff, size_t diff_len, size_t *offset, rr_list_t *list)
{
	size_t pos = *offset;
	size_t count = 0;

	list->items = NULL;
	list->count = 0;
	while (pos < diff_len) {
		dz_wire_rr_t rr;
		if (dz_wire_rr_parse(diff, diff_len, &pos, &rr) != DZ_OK)
			return DZ_EZONE;
		if (rr.type == DZ_TYPE_SOA)
			break;
		count++;
	}
	if (count > 0) {
		list->items = malloc(count * sizeof(*list->items));
		if (list->items == NULL)
			return DZ_ENOMEM;
	}
	while (list->count < count) {
		if (dz_wire_rr_parse(diff, diff_len, offset, &list->items[list->count]) != DZ_OK)
			return DZ_EZONE;
		list->count++;
	}
	if (count > 1)
		qsort(list->items, count, sizeof(*list->items), compare_rr);
	return DZ_OK;
}

/* Write a run of RRs of the old version that are known to be in order. */
static dz_result_t
add_run(dz_snapshot_writer_t *w, const uint8_t *data, size_t len, size_t count,
	const dz_wire_rr_t *last, dz_error_t *err)
{
	if (len == 0)
		return DZ_OK;
	if (fwrite(data, 1, len, w->snapshot.fp) != len)
		return dz_error_set(err, DZ_EIO, "cannot write %s: %s", w->snapshot.tmp_path,
				    strerror(errno));
	w->rr_count += count;
	w->data_len += len;
	/* The next RR added one by one is checked against the last of the run. */
	w->previous.len = 0;
	return dz_buf_append(&w->previous, last->start, last->len) == DZ_OK
		       ? DZ_OK
		       : dz_error_set(err, DZ_ENOMEM, "out of memory");
}

dz_result_t
dz_snapshot_writer_add_diff(dz_snapshot_writer_t *w, const dz_snapshot_t *old, const uint8_t *diff,
			    size_t diff_len, dz_error_t *err)
{
	rr_list_t removed = { NULL, 0 };
	rr_list_t added = { NULL, 0 };
	dz_wire_rr_t old_soa;
	dz_wire_rr_t new_soa;
	dz_wire_rr_t last;
	size_t pos = 0;
	size_t run_start = 0;
	size_t run_count = 0;
	size_t next_removed = 0;
	size_t next_added = 0;
	dz_result_t result = DZ_OK;

	assert(w->rr_count == 0);
	assert(!w->has_text);
	if (diff_len == 0) {
		result = dz_snapshot_writer_add(w, old->soa.start, old->soa.len, err);
		if (result == DZ_OK && old->rest_len > 0) {
			/* The last RR is needed only for the order check of later additions. */
			size_t offset = 0;
			while (offset < old->rest_len && result == DZ_OK)
				result = dz_wire_rr_parse(old->rest, old->rest_len, &offset, &last) == DZ_OK
						 ? DZ_OK
						 : dz_error_set(err, DZ_EZONE, "zone %s: invalid RR in the old snapshot",
								w->origin_text);
			if (result == DZ_OK)
				result = add_run(w, old->rest, old->rest_len, old->rr_count - 1, &last, err);
		}
		return result;
	}

	if (dz_wire_rr_parse(diff, diff_len, &pos, &old_soa) != DZ_OK || old_soa.type != DZ_TYPE_SOA) {
		result = dz_error_set(err, DZ_EZONE, "zone %s: the difference does not start with an SOA",
				      w->origin_text);
		goto cleanup;
	}
	if (old_soa.len != old->soa.len || memcmp(old_soa.start, old->soa.start, old_soa.len) != 0) {
		result = dz_error_set(err, DZ_ESTATE,
				      "zone %s: the difference starts from serial %" PRIu32 ", not from the snapshot's %" PRIu32,
				      w->origin_text, dz_wire_soa_serial(&old_soa), old->serial);
		goto cleanup;
	}
	result = diff_part(diff, diff_len, &pos, &removed);
	if (result == DZ_OK && (dz_wire_rr_parse(diff, diff_len, &pos, &new_soa) != DZ_OK ||
				new_soa.type != DZ_TYPE_SOA))
		result = DZ_EZONE;
	if (result == DZ_OK)
		result = diff_part(diff, diff_len, &pos, &added);
	if (result == DZ_OK && pos != diff_len)
		result = DZ_EZONE;
	if (result != DZ_OK) {
		if (result == DZ_EZONE)
			dz_error_set(err, result, "zone %s: malformed difference", w->origin_text);
		else
			dz_error_set(err, result, "out of memory");
		goto cleanup;
	}
	result = dz_snapshot_writer_add(w, new_soa.start, new_soa.len, err);

	/* Merge: the old RRs in runs, minus the removed ones, plus the added ones at their places. */
	pos = 0;
	while (result == DZ_OK && pos < old->rest_len) {
		dz_wire_rr_t rr;
		size_t start = pos;
		int order;

		if (dz_wire_rr_parse(old->rest, old->rest_len, &pos, &rr) != DZ_OK) {
			result = dz_error_set(err, DZ_EZONE, "zone %s: invalid RR in the old snapshot",
					      w->origin_text);
			break;
		}
		while (result == DZ_OK && next_added < added.count &&
		       (order = dz_wire_rr_compare(&added.items[next_added], &rr)) <= 0) {
			if (order == 0 && !(next_removed < removed.count &&
					    dz_wire_rr_compare(&removed.items[next_removed], &rr) == 0))
				result = dz_error_set(err, DZ_EZONE,
						      "zone %s: the difference adds an RR of type %u that the snapshot has",
						      w->origin_text, rr.type);
			if (result != DZ_OK || order == 0)
				break;
			result = add_run(w, old->rest + run_start, start - run_start, run_count, &last, err);
			if (result == DZ_OK)
				result = dz_snapshot_writer_add(w, added.items[next_added].start,
								added.items[next_added].len, err);
			run_start = start;
			run_count = 0;
			next_added++;
		}
		if (result != DZ_OK)
			break;
		if (next_removed < removed.count) {
			order = dz_wire_rr_compare(&removed.items[next_removed], &rr);
			if (order < 0) {
				result = dz_error_set(err, DZ_EZONE,
						      "zone %s: the difference removes an RR of type %u that the snapshot does not have",
						      w->origin_text, removed.items[next_removed].type);
				break;
			}
			if (order == 0) {
				result = add_run(w, old->rest + run_start, start - run_start, run_count, &last,
						 err);
				run_start = pos;
				run_count = 0;
				next_removed++;
				continue;
			}
		}
		last = rr;
		run_count++;
	}
	if (result == DZ_OK)
		result = add_run(w, old->rest + run_start, old->rest_len - run_start, run_count, &last, err);
	while (result == DZ_OK && next_added < added.count) {
		result = dz_snapshot_writer_add(w, added.items[next_added].start,
						added.items[next_added].len, err);
		next_added++;
	}
	if (result == DZ_OK && next_removed < removed.count)
		result = dz_error_set(err, DZ_EZONE,
				      "zone %s: the difference removes an RR of type %u that the snapshot does not have",
				      w->origin_text, removed.items[next_removed].type);
cleanup:
	free(removed.items);
	free(added.items);
	return result;
}

uint32_t
dz_snapshot_writer_serial(const dz_snapshot_writer_t *w)
{
	return w->serial;
}

dz_result_t
dz_snapshot_writer_soa(const dz_snapshot_writer_t *w, dz_buf_t *soa)
{
	if (w->rr_count == 0)
		return DZ_ESTATE;
	soa->len = 0;
	return dz_buf_append(soa, w->soa.data, w->soa.len);
}

const char *
dz_snapshot_writer_temp_path(const dz_snapshot_writer_t *w)
{
	return w->snapshot.tmp_path;
}

dz_result_t
dz_snapshot_writer_finish(dz_snapshot_writer_t *w, dz_error_t *err)
{
	uint8_t header[DZ_SNAPSHOT_HEADER_SIZE];

	if (w->finished)
		return DZ_OK;
	if (w->rr_count == 0)
		return dz_error_set(err, DZ_EZONE, "zone %s: no SOA RR was added to the snapshot",
				    w->origin_text);
	memset(header, 0, sizeof(header));
	memcpy(header, snapshot_magic, sizeof(snapshot_magic));
	dz_wire_put_u32(header + 8, DZ_SNAPSHOT_VERSION);
	dz_wire_put_u32(header + 12, w->serial);
	put_u64(header + 16, w->rr_count);
	put_u64(header + 24, w->data_len);
	dz_wire_put_u16(header + 32, (uint16_t)w->origin_len);
	memcpy(header + 34, w->origin, w->origin_len);
	if (fflush(w->snapshot.fp) != 0 || fseek(w->snapshot.fp, 0, SEEK_SET) != 0 ||
	    fwrite(header, 1, sizeof(header), w->snapshot.fp) != sizeof(header) ||
	    fflush(w->snapshot.fp) != 0 || fsync(fileno(w->snapshot.fp)) != 0)
		return dz_error_set(err, errno == ENOSPC ? DZ_ETOOBIG : DZ_EIO,
				    "cannot write %s: %s", w->snapshot.tmp_path, strerror(errno));
	if (w->has_text && (fflush(w->text.fp) != 0 || fsync(fileno(w->text.fp)) != 0))
		return dz_error_set(err, errno == ENOSPC ? DZ_ETOOBIG : DZ_EIO,
				    "cannot write %s: %s", w->text.tmp_path, strerror(errno));
	w->finished = true;
	return DZ_OK;
}

dz_result_t
dz_snapshot_writer_commit_snapshot(dz_snapshot_writer_t *w, dz_error_t *err)
{
	dz_result_t result = dz_snapshot_writer_finish(w, err);

	if (result != DZ_OK)
		return result;
	if (w->snapshot.fp == NULL)
		return DZ_OK;
	return dz_atomic_file_commit(&w->snapshot, err);
}

dz_result_t
dz_snapshot_writer_commit(dz_snapshot_writer_t *w, dz_error_t *err)
{
	dz_result_t result = dz_snapshot_writer_commit_snapshot(w, err);

	if (result == DZ_OK && w->has_text) {
		result = dz_atomic_file_commit(&w->text, err);
		w->has_text = false;
	}
	dz_snapshot_writer_abort(w);
	return result;
}

void
dz_snapshot_writer_abort(dz_snapshot_writer_t *w)
{
	if (w == NULL)
		return;
	if (w->snapshot.fp != NULL || w->snapshot.tmp_path != NULL)
		dz_atomic_file_abort(&w->snapshot);
	if (w->has_text)
		dz_atomic_file_abort(&w->text);
	dz_buf_clear(&w->soa);
	dz_buf_clear(&w->previous);
	dz_buf_clear(&w->line);
	free(w);
}

static void
abandon_file(dz_atomic_file_t *file)
{
	if (file->fp != NULL)
		fclose(file->fp);
	free(file->path);
	free(file->tmp_path);
	memset(file, 0, sizeof(*file));
}

void
dz_snapshot_writer_abandon(dz_snapshot_writer_t *w)
{
	if (w == NULL)
		return;
	abandon_file(&w->snapshot);
	if (w->has_text)
		abandon_file(&w->text);
	w->has_text = false;
	dz_snapshot_writer_abort(w);
}

dz_result_t
dz_snapshot_open(const char *path, bool check_all, dz_snapshot_t **out, dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	dz_snapshot_t *s = NULL;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return dz_error_set(err, errno == ENOENT ? DZ_ENOTFOUND
					 : errno == EACCES ? DZ_EPERM : DZ_EIO,
				    "cannot open snapshot %s: %s", path, strerror(errno));
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		result = dz_error_set(err, DZ_ENOMEM, "out of memory");
		goto cleanup;
	}
	s->refs = 1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		result = dz_error_set(err, DZ_EIO, "snapshot %s is not a regular file", path);
		goto cleanup;
	}
	if ((uint64_t)st.st_size < DZ_SNAPSHOT_HEADER_SIZE || (uint64_t)st.st_size > SIZE_MAX) {
		result = dz_error_set(err, DZ_EZONE, "snapshot %s is truncated (%jd bytes)", path,
				      (intmax_t)st.st_size);
		goto cleanup;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->map_len = (size_t)st.st_size;
	s->map = mmap(NULL, s->map_len, PROT_READ, MAP_SHARED, fd, 0);
	if (s->map == MAP_FAILED) {
		s->map = NULL;
		result = dz_error_set(err, DZ_EIO, "cannot map snapshot %s: %s", path,
				      strerror(errno));
		goto cleanup;
	}

	const uint8_t *h = s->map;
	if (memcmp(h, snapshot_magic, sizeof(snapshot_magic)) != 0 ||
	    dz_wire_get_u32(h + 8) != DZ_SNAPSHOT_VERSION) {
		result = dz_error_set(err, DZ_EZONE,
				      "%s is not a danezone snapshot of format version %d", path,
				      DZ_SNAPSHOT_VERSION);
		goto cleanup;
	}
	s->serial = dz_wire_get_u32(h + 12);
	s->rr_count = get_u64(h + 16);
	uint64_t data_len = get_u64(h + 24);
	s->origin_len = dz_wire_get_u16(h + 32);
	if (data_len != s->map_len - DZ_SNAPSHOT_HEADER_SIZE || s->rr_count == 0) {
		result = dz_error_set(err, DZ_EZONE,
				      "snapshot %s: header says %" PRIu64 " bytes of RRs, "
				      "the file holds %zu",
				      path, data_len, s->map_len - DZ_SNAPSHOT_HEADER_SIZE);
		goto cleanup;
	}
	if (s->origin_len > DZ_WIRE_NAME_MAX ||
	    dz_wire_name_len(h + 34, s->origin_len) != s->origin_len) {
		result = dz_error_set(err, DZ_EZONE, "snapshot %s: invalid origin in the header",
				      path);
		goto cleanup;
	}
	memcpy(s->origin, h + 34, s->origin_len);
	s->data = h + DZ_SNAPSHOT_HEADER_SIZE;
	s->data_len = (size_t)data_len;

	size_t offset = 0;
	if (dz_wire_rr_parse(s->data, s->data_len, &offset, &s->soa) != DZ_OK ||
	    s->soa.type != DZ_TYPE_SOA || !dz_wire_name_equal(s->soa.owner, s->origin) ||
	    dz_wire_soa_serial(&s->soa) != s->serial) {
		result = dz_error_set(err, DZ_EZONE,
				      "snapshot %s: the first RR is not the apex SOA of serial %" PRIu32,
				      path, s->serial);
		goto cleanup;
	}
	s->rest = s->data + offset;
	s->rest_len = s->data_len - offset;
	if (check_all) {
		uint64_t count = 1;
		while (offset < s->data_len) {
			dz_wire_rr_t rr;
			size_t start = offset;
			if (dz_wire_rr_parse(s->data, s->data_len, &offset, &rr) != DZ_OK ||
			    !dz_wire_name_is_below_or_at(rr.owner, rr.owner_len, s->origin,
							 s->origin_len)) {
				result = dz_error_set(err, DZ_EZONE,
						      "snapshot %s: invalid RR at byte %zu", path,
						      DZ_SNAPSHOT_HEADER_SIZE + start);
				goto cleanup;
			}
			count++;
		}
		if (count != s->rr_count) {
			result = dz_error_set(err, DZ_EZONE,
					      "snapshot %s: header says %" PRIu64
					      " RRs, the file holds %" PRIu64,
					      path, s->rr_count, count);
			goto cleanup;
		}
	}
	*out = s;
	s = NULL;

cleanup:
	dz_snapshot_close(s);
	close(fd);
	return result;
}

dz_snapshot_t *
dz_snapshot_ref(dz_snapshot_t *s)
{
	s->refs++;
	return s;
}

void
dz_snapshot_close(dz_snapshot_t *s)
{
	if (s == NULL || --s->refs > 0)
		return;
	if (s->map != NULL)
		munmap(s->map, s->map_len);
	free(s);
}

dz_result_t
dz_snapshot_text_serial(const char *text_path, uint32_t *serial, dz_error_t *err)
{
	char line[4 * DZ_WIRE_NAME_MAX + 64];
	FILE *fp = fopen(text_path, "re");

	if (fp == NULL)
		return dz_error_set(err, errno == ENOENT ? DZ_ENOTFOUND : DZ_EIO,
				    "cannot open %s: %s", text_path, strerror(errno));
	bool got = fgets(line, sizeof(line), fp) != NULL;
	fclose(fp);
	const char *mark = strstr(line, " serial ");
	if (!got || strncmp(line, DZ_SNAPSHOT_TEXT_MARK, strlen(DZ_SNAPSHOT_TEXT_MARK)) != 0 ||
	    mark == NULL)
		return dz_error_set(err, DZ_ESYNTAX,
				    "%s does not start with the line \"%s...\" of a published zone",
				    text_path, DZ_SNAPSHOT_TEXT_MARK);
	char *end = NULL;
	unsigned long value = strtoul(mark + strlen(" serial "), &end, 10);
	if (end == NULL || (*end != '\n' && *end != '\0') || value > UINT32_MAX)
		return dz_error_set(err, DZ_ESYNTAX, "%s: invalid serial in the first line",
				    text_path);
	*serial = (uint32_t)value;
	return DZ_OK;
}

dz_result_t
dz_snapshot_print_text(const dz_snapshot_t *s, FILE *fp, dz_error_t *err)
{
	char origin[4 * DZ_WIRE_NAME_MAX + 1];
	size_t offset = 0;
	dz_buf_t line;
	dz_result_t result = DZ_OK;

	dz_buf_init(&line);
	dz_wire_name_to_text(s->origin, origin, sizeof(origin));
	fprintf(fp, "%s%s serial %" PRIu32 "\n", DZ_SNAPSHOT_TEXT_MARK, origin, s->serial);
	while (result == DZ_OK && offset < s->data_len) {
		dz_wire_rr_t rr;
		size_t start = offset;
		if (dz_wire_rr_parse(s->data, s->data_len, &offset, &rr) != DZ_OK) {
			result = dz_error_set(err, DZ_EZONE, "invalid RR in the snapshot of zone %s",
					      origin);
			break;
		}
		result = print_rr(fp, &line, s->data + start, rr.len, err);
	}
	dz_buf_clear(&line);
	return result;
}

dz_result_t
dz_snapshot_write_text(const dz_snapshot_t *s, const char *text_path, mode_t mode,
		       dz_error_t *err)
{
	dz_atomic_file_t file;
	dz_result_t result = dz_atomic_file_open(&file, text_path, mode, err);

	if (result != DZ_OK)
		return result;
	result = dz_snapshot_print_text(s, file.fp, err);
	if (result != DZ_OK) {
		dz_atomic_file_abort(&file);
		return dz_error_prefix(err, "%s", text_path);
	}
	return dz_atomic_file_commit(&file, err);
}
