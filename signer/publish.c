#include "config.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/file.h"
#include "common/log.h"
#include "common/serial.h"
#include "signer/journal.h"
#include "signer/publish.h"
#include "signer/version.h"

/* Bytes copied at a time from the journal during a compaction. */
#define COPY_CHUNK 65536

static dz_publish_fault_fn fault_fn;
static void *fault_ctx;

void
dz_publish_set_fault(dz_publish_fault_fn fn, void *ctx)
{
	fault_fn = fn;
	fault_ctx = ctx;
}

static bool
crash_before(dz_publish_step_t step)
{
	return fault_fn != NULL && fault_fn(step, fault_ctx);
}

static dz_result_t
simulated_crash(dz_publish_step_t step, dz_error_t *err)
{
	return dz_error_set(err, DZ_ECANCELED, "publication stopped before step %d by the test hook",
			    (int)step);
}

/* Close an atomic file but leave its temporary file on disk, as a crash would. */
static void
abandon_file(dz_atomic_file_t *file)
{
	if (file->fp != NULL)
		fclose(file->fp);
	free(file->path);
	free(file->tmp_path);
	memset(file, 0, sizeof(*file));
}

dz_result_t
dz_publish_target_init(dz_publish_target_t *target, const char *folder, const char *zone,
		       size_t journal_max_size, dz_error_t *err)
{
	char base[4 * DZ_WIRE_NAME_MAX + 1];

	memset(target, 0, sizeof(*target));
	target->origin_len = dz_wire_name_from_text(zone, target->origin);
	if (target->origin_len == 0)
		return dz_error_set(err, DZ_EINVAL, "invalid zone name '%s'", zone);
	dz_wire_name_to_text(target->origin, target->zone, sizeof(target->zone));
	if (strchr(target->zone, '/') != NULL)
		return dz_error_set(err, DZ_EINVAL,
				    "zone name '%s' contains '/', which cannot be part of a file name",
				    zone);
	/* File names use the name without its final dot. */
	if (target->origin_len == 1) {
		snprintf(base, sizeof(base), "root");
	} else {
		snprintf(base, sizeof(base), "%s", target->zone);
		base[strlen(base) - 1] = '\0';
	}
	int a = snprintf(target->text_path, sizeof(target->text_path), "%s/%s.zone", folder, base);
	int b = snprintf(target->snapshot_path, sizeof(target->snapshot_path), "%s/%s.snapshot",
			 folder, base);
	int c = snprintf(target->journal_path, sizeof(target->journal_path), "%s/%s.journal",
			 folder, base);
	if (a < 0 || b < 0 || c < 0 || (size_t)b >= sizeof(target->snapshot_path) ||
	    (size_t)c >= sizeof(target->journal_path) || (size_t)a >= sizeof(target->text_path))
		return dz_error_set(err, DZ_EINVAL, "state folder path '%s' is too long", folder);
	target->journal_max_size =
		journal_max_size != 0 ? journal_max_size : DZ_PUBLISH_JOURNAL_MAX_DEFAULT;
	target->mode = 0644;
	return DZ_OK;
}

dz_result_t
dz_publish_begin(const dz_publish_target_t *target, dz_snapshot_writer_t **writer,
		 dz_error_t *err)
{
	return dz_snapshot_writer_create(target->snapshot_path, target->text_path, target->origin,
					 target->origin_len, target->mode, writer, err);
}

/* ---- Diffs between versions --------------------------------------------- */

/* Read the next RR of `iter` into *rr, checking that it follows *prev; false at the end. */
static dz_result_t
next_in_order(dz_version_iter_t *iter, const char *which, dz_wire_rr_t *rr, dz_wire_rr_t *prev,
	      bool *have_prev, bool *have, dz_error_t *err)
{
	bool done = false;

	if (dz_version_iter_next(iter, rr, &done) != DZ_OK)
		return dz_error_set(err, DZ_EZONE, "%s version: invalid RR before byte %zu", which,
				    iter->offset);
	if (done) {
		*have = false;
		return DZ_OK;
	}
	if (*have_prev && dz_wire_rr_compare(prev, rr) >= 0)
		return dz_error_set(err, DZ_EZONE, "%s version: an RR is out of canonical order",
				    which);
	*prev = *rr;
	*have_prev = true;
	*have = true;
	return DZ_OK;
}

/* Append to `removed` and `added` the RRs that differ between two iterations. */
static dz_result_t
compare_iters(dz_version_iter_t *old_iter, dz_version_iter_t *new_iter, dz_buf_t *removed,
	      dz_buf_t *added, dz_error_t *err)
{
	dz_wire_rr_t o, n, prev_o, prev_n;
	bool have_o = false, have_n = false, have_prev_o = false, have_prev_n = false;
	bool need_o = true, need_n = true;
	dz_result_t result = DZ_OK;

	for (;;) {
		if (need_o) {
			result = next_in_order(old_iter, "old", &o, &prev_o, &have_prev_o, &have_o, err);
			if (result != DZ_OK)
				return result;
			need_o = false;
		}
		if (need_n) {
			result = next_in_order(new_iter, "new", &n, &prev_n, &have_prev_n, &have_n, err);
			if (result != DZ_OK)
				return result;
			need_n = false;
		}
		if (!have_o && !have_n)
			return DZ_OK;

		int order;
		if (!have_o)
			order = 1;
		else if (!have_n)
			order = -1;
		else
			order = dz_wire_rr_compare(&o, &n);
		if (order < 0) {
			result = dz_buf_append(removed, o.start, o.len);
			need_o = true;
		} else if (order > 0) {
			result = dz_buf_append(added, n.start, n.len);
			need_n = true;
		} else {
			/* Same record; a TTL change is a removal and an addition. */
			if (o.ttl != n.ttl) {
				result = dz_buf_append(removed, o.start, o.len);
				if (result == DZ_OK)
					result = dz_buf_append(added, n.start, n.len);
			}
			need_o = true;
			need_n = true;
		}
		if (result != DZ_OK)
			return dz_error_set(err, DZ_ENOMEM, "out of memory computing a zone diff");
	}
}

/* Skip the SOA at the start of `rrs`; DZ_EZONE when the first RR is not an SOA. */
static dz_result_t
skip_soa(const uint8_t *rrs, size_t len, size_t *offset)
{
	dz_wire_rr_t rr;

	*offset = 0;
	if (dz_wire_rr_parse(rrs, len, offset, &rr) != DZ_OK || rr.type != DZ_TYPE_SOA)
		return DZ_EZONE;
	return DZ_OK;
}

dz_result_t
dz_publish_compare(const uint8_t *old_rrs, size_t old_len, const uint8_t *new_rrs,
		   size_t new_len, dz_buf_t *removed, dz_buf_t *added, dz_error_t *err)
{
	dz_version_iter_t old_iter, new_iter;
	size_t old_off, new_off;

	if (skip_soa(old_rrs, old_len, &old_off) != DZ_OK ||
	    skip_soa(new_rrs, new_len, &new_off) != DZ_OK)
		return dz_error_set(err, DZ_EZONE, "a zone version for a diff must start with its SOA");
	dz_version_iter_init_data(&old_iter, old_rrs + old_off, old_len - old_off);
	dz_version_iter_init_data(&new_iter, new_rrs + new_off, new_len - new_off);
	return compare_iters(&old_iter, &new_iter, removed, added, err);
}

/* ---- Replacing the snapshot, the text file and the journal --------------- */

/* Whether the snapshot at `path` is at `serial` or later. */
static bool
snapshot_is_current(const char *path, uint32_t serial)
{
	dz_snapshot_t *s = NULL;
	bool current = false;

	if (dz_snapshot_open(path, false, &s, NULL) == DZ_OK)
		current = s->serial == serial || dz_serial_gt(s->serial, serial);
	dz_snapshot_close(s);
	return current;
}

static bool
text_is_current(const char *path, uint32_t serial)
{
	uint32_t text_serial = 0;

	return dz_snapshot_text_serial(path, &text_serial, NULL) == DZ_OK &&
	       (text_serial == serial || dz_serial_gt(text_serial, serial));
}

/*
 * Replace the snapshot and then the text file with those of `writer`
 * (finished, of `serial`, always consumed), each unless the file on disk
 * is already at `serial` or later.  Run it with the journal's lock
 * held, when there is a journal, so that no other writer replaces them
 * meanwhile.
 */
static dz_result_t
install_files(const dz_publish_target_t *target, dz_snapshot_writer_t *writer, uint32_t serial,
	      dz_error_t *err)
{
	dz_result_t result = DZ_OK;

	if (snapshot_is_current(target->snapshot_path, serial)) {
		dz_log_zone(DZ_LOG_INFO, target->zone,
			    "a snapshot of serial %" PRIu32 " or later is already in place", serial);
		goto cleanup;
	}
	if (crash_before(DZ_PUBLISH_STEP_SNAPSHOT)) {
		dz_snapshot_writer_abandon(writer);
		return simulated_crash(DZ_PUBLISH_STEP_SNAPSHOT, err);
	}
	result = dz_snapshot_writer_commit_snapshot(writer, err);
	if (result != DZ_OK)
		goto cleanup;
	if (text_is_current(target->text_path, serial))
		goto cleanup;
	if (crash_before(DZ_PUBLISH_STEP_TEXT)) {
		dz_snapshot_writer_abandon(writer);
		return simulated_crash(DZ_PUBLISH_STEP_TEXT, err);
	}
	result = dz_snapshot_writer_commit(writer, err);
	writer = NULL;

cleanup:
	dz_snapshot_writer_abort(writer);
	return result;
}

/* Copy journal bytes [from, to) from the locked file to `fp`. */
static dz_result_t
copy_tail(const dz_journal_writer_t *w, size_t from, size_t to, FILE *fp, dz_error_t *err)
{
	uint8_t chunk[COPY_CHUNK];

	while (from < to) {
		size_t want = to - from < sizeof(chunk) ? to - from : sizeof(chunk);
		ssize_t n = pread(w->fd, chunk, want, (off_t)from);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || fwrite(chunk, 1, (size_t)n, fp) != (size_t)n)
			return dz_error_set(err, DZ_EIO, "cannot copy journal %s: %s", w->path,
					    n < 0 ? strerror(errno) : "short read or write");
		from += (size_t)n;
	}
	return DZ_OK;
}

/*
 * Rewrite the journal without its oldest entries when it exceeds its bound.
 * Only entries up to `keep_after` (a serial that a durable snapshot contains)
 * are dropped.  The kept entries are copied without the lock.  Then, under
 * the lock, the entries appended meanwhile are copied too, and the new
 * file replaces the old one.
 */
static dz_result_t
compact_journal(const dz_publish_target_t *target, uint32_t keep_after, dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	dz_journal_t *j = NULL;
	dz_journal_writer_t *w = NULL;
	dz_atomic_file_t tmp;
	bool tmp_open = false;
	dz_buf_t header;
	size_t droppable = 0;
	size_t first = 0;

	dz_buf_init(&header);
	memset(&tmp, 0, sizeof(tmp));
	result = dz_journal_open(target->journal_path, &j, err);
	if (result == DZ_ENOTFOUND) {
		result = DZ_OK;
		goto cleanup;
	}
	if (result != DZ_OK || j->valid_end <= target->journal_max_size ||
	    !dz_journal_position(j, keep_after, &droppable))
		goto cleanup;

	/* Drop the oldest entries until the rest fits beside a header like the current one. */
	size_t total = j->valid_end;
	while (first < droppable && total > target->journal_max_size)
		total -= j->entries[first++].size;
	if (first == 0)
		goto cleanup;
	const dz_wire_rr_t *base = first < j->count ? &j->entries[first].old_soa : &j->last_soa;
	size_t kept_from = first < j->count ? (size_t)(j->entries[first].raw - (const uint8_t *)j->map)
					    : j->valid_end;
	uint32_t new_base = dz_wire_soa_serial(base);

	result = dz_journal_encode_header(target->origin, target->origin_len, base->start, base->len,
					  &header, err);
	if (result != DZ_OK)
		goto cleanup;
	result = dz_atomic_file_open(&tmp, target->journal_path, target->mode, err);
	if (result != DZ_OK)
		goto cleanup;
	tmp_open = true;
	if (fwrite(header.data, 1, header.len, tmp.fp) != header.len ||
	    fwrite((const uint8_t *)j->map + kept_from, 1, j->valid_end - kept_from, tmp.fp) !=
		    j->valid_end - kept_from ||
	    fflush(tmp.fp) != 0 || fsync(fileno(tmp.fp)) != 0) {
		result = dz_error_set(err, errno == ENOSPC ? DZ_ETOOBIG : DZ_EIO,
				      "cannot write %s: %s", tmp.tmp_path, strerror(errno));
		goto cleanup;
	}

	result = dz_journal_writer_open(target->journal_path, target->origin, target->origin_len, &w,
					err);
	if (result != DZ_OK)
		goto cleanup;
	if (w->dev != j->dev || w->ino != j->ino || w->end < j->valid_end) {
		dz_log_zone(DZ_LOG_INFO, target->zone,
			    "IXFR journal %s was replaced during its compaction; the next "
			    "materialization compacts it",
			    target->journal_path);
		goto cleanup;
	}
	/* The entries dropped must be in the snapshot on disk, which only moves forward. */
	dz_snapshot_t *snapshot = NULL;
	size_t snapshot_position = 0;
	bool covered = false;
	if (dz_snapshot_open(target->snapshot_path, false, &snapshot, NULL) == DZ_OK)
		covered = dz_journal_position(j, snapshot->serial, &snapshot_position)
				  ? snapshot_position >= first
				  : dz_serial_gt(snapshot->serial, j->last_serial);
	dz_snapshot_close(snapshot);
	if (!covered) {
		dz_log_zone(DZ_LOG_WARNING, target->zone,
			    "IXFR journal %s not compacted: the snapshot does not contain serial "
			    "%" PRIu32 " yet",
			    target->journal_path, keep_after);
		goto cleanup;
	}
	result = copy_tail(w, j->valid_end, w->end, tmp.fp, err);
	if (result != DZ_OK)
		goto cleanup;
	if (crash_before(DZ_PUBLISH_STEP_COMPACT)) {
		abandon_file(&tmp);
		tmp_open = false;
		result = simulated_crash(DZ_PUBLISH_STEP_COMPACT, err);
		goto cleanup;
	}
	tmp_open = false;
	result = dz_atomic_file_commit(&tmp, err);
	if (result != DZ_OK)
		goto cleanup;
	dz_log_zone(DZ_LOG_INFO, target->zone,
		    "IXFR journal compacted to its bound of %zu bytes: dropped %zu entries before "
		    "serial %" PRIu32 "; older serials get AXFR",
		    target->journal_max_size, first, new_base);

cleanup:
	if (tmp_open)
		dz_atomic_file_abort(&tmp);
	dz_journal_writer_close(w);
	dz_journal_close(j);
	dz_buf_clear(&header);
	return result;
}

/* Compact after a new snapshot and log a failure: the version is committed either way. */
static dz_result_t
compact_after_snapshot(const dz_publish_target_t *target, uint32_t snapshot_serial,
		       dz_error_t *err)
{
	dz_error_t local;

	dz_error_init(&local);
	dz_result_t result = compact_journal(target, snapshot_serial, &local);
	if (result == DZ_ECANCELED)
		return dz_error_set(err, result, "%s", dz_error_message(&local));
	if (result != DZ_OK)
		dz_log_zone(DZ_LOG_WARNING, target->zone,
			    "IXFR journal not compacted: %s; it is tried again at the next "
			    "materialization",
			    dz_error_message(&local));
	return DZ_OK;
}

/* ---- Full versions -------------------------------------------------------- */

/* Compute the diff from the committed version `old` to the finished writer's version. */
static dz_result_t
diff_to_writer(dz_version_t *old, dz_snapshot_writer_t *writer, dz_buf_t *removed,
	       dz_buf_t *added, dz_error_t *err)
{
	dz_snapshot_t *fresh = NULL;
	dz_version_iter_t old_iter, new_iter;
	dz_result_t result;

	result = dz_snapshot_open(dz_snapshot_writer_temp_path(writer), false, &fresh, err);
	if (result != DZ_OK)
		return result;
	result = dz_version_iter_init(&old_iter, old, err);
	if (result == DZ_OK) {
		dz_version_iter_init_data(&new_iter, fresh->rest, fresh->rest_len);
		result = compare_iters(&old_iter, &new_iter, removed, added, err);
	}
	dz_snapshot_close(fresh);
	return result;
}

/*
 * Publish a version when no usable journal exists: the snapshot's rename
 * is the commit point, then the text file, then a new journal at the new
 * serial.  The caller keeps the writer of an unusable journal open, if
 * there is one, so that no other writer appends to it while it is replaced.
 */
static dz_result_t
publish_without_journal(const dz_publish_target_t *target, dz_snapshot_writer_t *writer,
			const dz_buf_t *new_soa, uint32_t new_serial, dz_error_t *err)
{
	dz_result_t result;

	if (crash_before(DZ_PUBLISH_STEP_SNAPSHOT)) {
		dz_snapshot_writer_abandon(writer);
		return simulated_crash(DZ_PUBLISH_STEP_SNAPSHOT, err);
	}
	result = dz_snapshot_writer_commit_snapshot(writer, err);
	if (result != DZ_OK) {
		dz_snapshot_writer_abort(writer);
		return result;
	}
	if (crash_before(DZ_PUBLISH_STEP_TEXT)) {
		dz_snapshot_writer_abandon(writer);
		return simulated_crash(DZ_PUBLISH_STEP_TEXT, err);
	}
	result = dz_snapshot_writer_commit(writer, err);
	if (result != DZ_OK)
		return result;
	if (crash_before(DZ_PUBLISH_STEP_JOURNAL))
		return simulated_crash(DZ_PUBLISH_STEP_JOURNAL, err);
	result = dz_journal_create(target->journal_path, target->origin, target->origin_len, new_soa,
				   target->mode, err);
	if (result != DZ_OK)
		dz_error_prefix(err, "zone %s: serial %" PRIu32 " is published, but its IXFR journal "
				"is not (the next start-up creates it)",
				target->zone, new_serial);
	return result;
}

/*
 * Append the diff to the version of `writer` under the journal lock, then
 * install the snapshot and text file.  Consumes the writer, and the
 * journal writer when a simulated crash abandons it (*journal is then NULL).
 */
static dz_result_t
publish_with_journal(const dz_publish_target_t *target, dz_journal_writer_t **journal,
		     dz_snapshot_writer_t *writer, const dz_buf_t *removed, const dz_buf_t *added,
		     const dz_buf_t *new_soa, dz_error_t *err)
{
	dz_journal_diff_t diff = { .removed = removed, .new_soa = new_soa, .added = added };
	uint32_t new_serial = dz_snapshot_writer_serial(writer);
	dz_result_t result;
	dz_error_t local;

	if (crash_before(DZ_PUBLISH_STEP_JOURNAL)) {
		dz_snapshot_writer_abandon(writer);
		return simulated_crash(DZ_PUBLISH_STEP_JOURNAL, err);
	}
	result = dz_journal_writer_append(*journal, &diff, err);
	if (result != DZ_OK) {
		dz_snapshot_writer_abort(writer);
		return result;
	}
	if (crash_before(DZ_PUBLISH_STEP_JOURNAL_SYNC)) {
		dz_journal_writer_abandon(*journal, (*journal)->appended / 2);
		*journal = NULL;
		dz_snapshot_writer_abandon(writer);
		return simulated_crash(DZ_PUBLISH_STEP_JOURNAL_SYNC, err);
	}
	result = dz_journal_writer_sync(*journal, err);
	if (result != DZ_OK) {
		dz_snapshot_writer_abort(writer);
		return result;
	}

	/* Committed.  A failure from here on leaves the snapshot behind, which is consistent. */
	dz_error_init(&local);
	result = install_files(target, writer, new_serial, &local);
	if (result == DZ_ECANCELED)
		return dz_error_set(err, result, "%s", dz_error_message(&local));
	if (result != DZ_OK)
		dz_log_zone(DZ_LOG_ERROR, target->zone,
			    "serial %" PRIu32 " is committed, but %s; the next materialization "
			    "writes the snapshot and zone text file",
			    new_serial, dz_error_message(&local));
	return DZ_OK;
}

dz_result_t
dz_publish_commit(const dz_publish_target_t *target, dz_snapshot_writer_t *writer,
		  const dz_buf_t *removed, const dz_buf_t *added, uint32_t *serial,
		  dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	dz_version_t *old = NULL;
	dz_journal_writer_t *journal = NULL;
	dz_buf_t new_soa;
	dz_buf_t computed_removed;
	dz_buf_t computed_added;
	dz_error_t local;
	uint32_t new_serial = dz_snapshot_writer_serial(writer);

	dz_buf_init(&new_soa);
	dz_buf_init(&computed_removed);
	dz_buf_init(&computed_added);
	assert((removed == NULL) == (added == NULL));

	result = dz_snapshot_writer_finish(writer, err);
	if (result != DZ_OK)
		goto cleanup;
	if (dz_snapshot_writer_soa(writer, &new_soa) != DZ_OK) {
		result = dz_error_set(err, DZ_ENOMEM, "out of memory");
		goto cleanup;
	}

	/* The committed version, read before the lock because reading takes the shared lock. */
	dz_error_init(&local);
	result = dz_version_open(target, NULL, &old, &local);
	if (result != DZ_OK && result != DZ_ENOTFOUND)
		dz_log_zone(DZ_LOG_WARNING, target->zone, "%s; replacing it without a journal entry",
			    dz_error_message(&local));
	result = DZ_OK;
	if (old != NULL && !dz_serial_gt(new_serial, old->serial)) {
		result = dz_error_set(err, DZ_ESTATE,
				      "zone %s: new serial %" PRIu32 " is not after the "
				      "published serial %" PRIu32 " (RFC 1982); nothing published",
				      target->zone, new_serial, old->serial);
		goto cleanup;
	}
	if (old != NULL && old->journal != NULL && removed == NULL) {
		result = diff_to_writer(old, writer, &computed_removed, &computed_added, err);
		if (result != DZ_OK)
			goto cleanup;
		removed = &computed_removed;
		added = &computed_added;
	}

	dz_error_init(&local);
	if (dz_journal_writer_open(target->journal_path, target->origin, target->origin_len,
				   &journal, &local) != DZ_OK)
		journal = NULL;
	if (old != NULL && old->journal != NULL && journal != NULL &&
	    journal->last_serial != old->serial) {
		result = dz_error_set(err, DZ_ESTATE,
				      "zone %s: the committed serial changed from %" PRIu32
				      " to %" PRIu32 " during the publication of %" PRIu32
				      "; publish again",
				      target->zone, old->serial, journal->last_serial, new_serial);
		goto cleanup;
	}
	if (old != NULL && old->journal != NULL && journal != NULL) {
		result = publish_with_journal(target, &journal, writer, removed, added, &new_soa, err);
		writer = NULL;
		if (result != DZ_OK)
			goto cleanup;
		dz_journal_writer_close(journal);
		journal = NULL;
		result = compact_after_snapshot(target, new_serial, err);
	} else {
		if (old != NULL)
			dz_log_zone(DZ_LOG_NOTICE, target->zone,
				    "starting a new IXFR journal at serial %" PRIu32
				    "; secondaries at older serials get AXFR",
				    new_serial);
		result = publish_without_journal(target, writer, &new_soa, new_serial, err);
		writer = NULL;
	}
	if (result != DZ_OK)
		goto cleanup;
	dz_log_zone(DZ_LOG_INFO, target->zone, "published serial %" PRIu32, new_serial);
	if (serial != NULL)
		*serial = new_serial;

cleanup:
	dz_journal_writer_close(journal);
	dz_snapshot_writer_abort(writer);
	dz_version_unref(old);
	dz_buf_clear(&new_soa);
	dz_buf_clear(&computed_removed);
	dz_buf_clear(&computed_added);
	return result;
}

/* ---- The fast path --------------------------------------------------------- */

dz_result_t
dz_publish_diff(const dz_publish_target_t *target, const dz_buf_t *removed,
		const dz_buf_t *added, const dz_buf_t *new_soa, uint32_t *serial, dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	dz_journal_writer_t *journal = NULL;
	dz_error_t local;

	dz_error_init(&local);
	result = dz_journal_writer_open(target->journal_path, target->origin, target->origin_len,
					&journal, &local);
	if (result == DZ_ENOTFOUND)
		return dz_error_set(err, DZ_ESTATE,
				    "zone %s has no IXFR journal yet; publish a full version first",
				    target->zone);
	if (result != DZ_OK)
		return dz_error_set(err, DZ_ESTATE, "zone %s: %s; run the start-up recovery",
				    target->zone, dz_error_message(&local));

	dz_journal_diff_t diff = { .removed = removed, .new_soa = new_soa, .added = added };
	if (crash_before(DZ_PUBLISH_STEP_JOURNAL)) {
		result = simulated_crash(DZ_PUBLISH_STEP_JOURNAL, err);
		goto cleanup;
	}
	result = dz_journal_writer_append(journal, &diff, err);
	if (result != DZ_OK)
		goto cleanup;
	if (crash_before(DZ_PUBLISH_STEP_JOURNAL_SYNC)) {
		dz_journal_writer_abandon(journal, journal->appended / 2);
		journal = NULL;
		result = simulated_crash(DZ_PUBLISH_STEP_JOURNAL_SYNC, err);
		goto cleanup;
	}
	result = dz_journal_writer_sync(journal, err);
	if (result != DZ_OK)
		goto cleanup;
	dz_log_zone(DZ_LOG_INFO, target->zone, "committed serial %" PRIu32 " to the IXFR journal",
		    journal->last_serial);
	if (serial != NULL)
		*serial = journal->last_serial;

cleanup:
	dz_journal_writer_close(journal);
	return result;
}

/* ---- Materialization --------------------------------------------------------- */

/* Write a snapshot and text file of `version` into a finished writer. */
static dz_result_t
write_version(const dz_publish_target_t *target, dz_version_t *version,
	      dz_snapshot_writer_t **out, dz_error_t *err)
{
	dz_snapshot_writer_t *writer = NULL;
	dz_version_iter_t iter;
	dz_result_t result;

	result = dz_publish_begin(target, &writer, err);
	if (result != DZ_OK)
		return result;
	result = dz_snapshot_writer_add(writer, version->soa.start, version->soa.len, err);
	if (result == DZ_OK)
		result = dz_version_iter_init(&iter, version, err);
	while (result == DZ_OK) {
		dz_wire_rr_t rr;
		bool done = false;
		if (dz_version_iter_next(&iter, &rr, &done) != DZ_OK) {
			result = dz_error_set(err, DZ_EZONE, "snapshot %s: invalid RR",
					      target->snapshot_path);
			break;
		}
		if (done)
			break;
		result = dz_snapshot_writer_add(writer, rr.start, rr.len, err);
	}
	if (result == DZ_OK)
		result = dz_snapshot_writer_finish(writer, err);
	if (result != DZ_OK) {
		dz_snapshot_writer_abort(writer);
		return result;
	}
	*out = writer;
	return DZ_OK;
}

/* Rewrite only the text file from the snapshot, which is at the committed serial. */
static dz_result_t
write_text_only(const dz_publish_target_t *target, const dz_snapshot_t *snapshot,
		dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	dz_journal_writer_t *journal = NULL;
	dz_atomic_file_t file;
	bool file_open = false;

	result = dz_atomic_file_open(&file, target->text_path, target->mode, err);
	if (result != DZ_OK)
		return result;
	file_open = true;
	result = dz_snapshot_print_text(snapshot, file.fp, err);
	if (result != DZ_OK)
		goto cleanup;
	/* Sync before the lock, so that only the rename happens under it. */
	if (fflush(file.fp) != 0 || fsync(fileno(file.fp)) != 0) {
		result = dz_error_set(err, errno == ENOSPC ? DZ_ETOOBIG : DZ_EIO,
				      "cannot write %s: %s", file.tmp_path, strerror(errno));
		goto cleanup;
	}
	if (dz_journal_writer_open(target->journal_path, target->origin, target->origin_len,
				   &journal, NULL) != DZ_OK)
		journal = NULL;
	if (text_is_current(target->text_path, snapshot->serial))
		goto cleanup;
	if (crash_before(DZ_PUBLISH_STEP_TEXT)) {
		abandon_file(&file);
		file_open = false;
		result = simulated_crash(DZ_PUBLISH_STEP_TEXT, err);
		goto cleanup;
	}
	file_open = false;
	result = dz_atomic_file_commit(&file, err);

cleanup:
	if (file_open)
		dz_atomic_file_abort(&file);
	dz_journal_writer_close(journal);
	return result;
}

dz_result_t
dz_publish_materialize(const dz_publish_target_t *target, uint32_t *serial, dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	dz_version_t *version = NULL;
	dz_snapshot_writer_t *writer = NULL;
	dz_journal_writer_t *journal = NULL;

	result = dz_version_open(target, NULL, &version, err);
	if (result != DZ_OK)
		goto cleanup;

	if (version->snapshot->serial != version->serial) {
		size_t entries = version->journal->count - version->first_change;
		result = write_version(target, version, &writer, err);
		if (result != DZ_OK)
			goto cleanup;
		result = dz_journal_writer_open(target->journal_path, target->origin,
						target->origin_len, &journal, err);
		if (result != DZ_OK)
			goto cleanup;
		result = install_files(target, writer, version->serial, err);
		writer = NULL;
		dz_journal_writer_close(journal);
		journal = NULL;
		if (result != DZ_OK)
			goto cleanup;
		dz_log_zone(DZ_LOG_INFO, target->zone,
			    "snapshot and zone text file rewritten for serial %" PRIu32
			    " (%zu journal entries merged since serial %" PRIu32 ")",
			    version->serial, entries, version->snapshot->serial);
	} else if (!text_is_current(target->text_path, version->serial)) {
		result = write_text_only(target, version->snapshot, err);
		if (result != DZ_OK)
			goto cleanup;
		dz_log_zone(DZ_LOG_INFO, target->zone, "zone text file rewritten for serial %" PRIu32,
			    version->serial);
	}
	if (version->journal != NULL) {
		result = compact_after_snapshot(target, version->serial, err);
		if (result != DZ_OK)
			goto cleanup;
	}
	if (serial != NULL && dz_snapshot_text_serial(target->text_path, serial, NULL) != DZ_OK)
		*serial = version->serial;

cleanup:
	dz_snapshot_writer_abort(writer);
	dz_journal_writer_close(journal);
	dz_version_unref(version);
	return result;
}

/* ---- Status and recovery ----------------------------------------------------- */

dz_result_t
dz_publish_status(const dz_publish_target_t *target, dz_publish_status_t *status,
		  dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	dz_snapshot_t *snapshot = NULL;
	dz_journal_t *journal = NULL;
	dz_publish_status_t s;
	size_t first = 0;

	memset(&s, 0, sizeof(s));
	result = dz_snapshot_open(target->snapshot_path, false, &snapshot, err);
	if (result != DZ_OK)
		goto cleanup;
	s.snapshot_serial = snapshot->serial;
	s.serial = snapshot->serial;
	if (dz_journal_open(target->journal_path, &journal, NULL) == DZ_OK &&
	    dz_journal_position(journal, snapshot->serial, &first)) {
		s.serial = journal->last_serial;
		s.pending_entries = journal->count - first;
		for (size_t i = first; i < journal->count; i++)
			s.pending_bytes += journal->entries[i].size;
	}
	if (journal != NULL)
		s.journal_bytes = journal->map_len;
	s.has_text = dz_snapshot_text_serial(target->text_path, &s.text_serial, NULL) == DZ_OK;
	*status = s;

cleanup:
	dz_snapshot_close(snapshot);
	dz_journal_close(journal);
	return result;
}

/* Remove temporary files that a crash left beside the target's files. */
static void
remove_temporary_files(const dz_publish_target_t *target)
{
	const char *paths[] = { target->text_path, target->snapshot_path, target->journal_path };
	char folder[PATH_MAX];
	const char *slash = strrchr(target->snapshot_path, '/');
	size_t folder_len = slash != NULL ? (size_t)(slash - target->snapshot_path) : 0;

	snprintf(folder, sizeof(folder), "%.*s", (int)folder_len, target->snapshot_path);
	if (folder_len == 0)
		snprintf(folder, sizeof(folder), ".");
	DIR *dir = opendir(folder);
	if (dir == NULL)
		return;
	struct dirent *entry;
	while ((entry = readdir(dir)) != NULL) {
		for (size_t i = 0; i < DZ_ARRAY_SIZE(paths); i++) {
			const char *base = strrchr(paths[i], '/');
			char prefix[PATH_MAX];
			snprintf(prefix, sizeof(prefix), "%s.tmp.", base != NULL ? base + 1 : paths[i]);
			if (strncmp(entry->d_name, prefix, strlen(prefix)) != 0)
				continue;
			char path[PATH_MAX + 256];
			snprintf(path, sizeof(path), "%s/%s", folder, entry->d_name);
			if (unlink(path) == 0)
				dz_log_zone(DZ_LOG_NOTICE, target->zone,
					    "removed %s left by an interrupted publication", path);
		}
	}
	closedir(dir);
}

/* Start a new journal at the snapshot's serial, holding `old` (may be NULL) meanwhile. */
static dz_result_t
restart_journal(const dz_publish_target_t *target, const dz_snapshot_t *snapshot,
		dz_error_t *err)
{
	dz_buf_t soa;
	dz_result_t result;

	dz_buf_init(&soa);
	if (dz_buf_append(&soa, snapshot->soa.start, snapshot->soa.len) != DZ_OK)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	result = dz_journal_create(target->journal_path, target->origin, target->origin_len, &soa,
				   target->mode, err);
	dz_buf_clear(&soa);
	return result;
}

dz_result_t
dz_publish_recover(const dz_publish_target_t *target, uint32_t *serial, dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	dz_snapshot_t *snapshot = NULL;
	dz_journal_writer_t *writer = NULL;
	dz_journal_t *journal = NULL;
	dz_error_t local;
	uint32_t committed = 0;
	uint32_t text_serial = 0;
	size_t position = 0;

	remove_temporary_files(target);
	result = dz_snapshot_open(target->snapshot_path, true, &snapshot, err);
	if (result != DZ_OK)
		goto cleanup;
	committed = snapshot->serial;

	/* Opening the writer cuts off an entry that a crash left incomplete. */
	dz_error_init(&local);
	dz_result_t opened = dz_journal_writer_open(target->journal_path, target->origin,
						    target->origin_len, &writer, &local);
	if (opened == DZ_OK)
		opened = dz_journal_writer_read(writer, &journal, &local);
	if (opened != DZ_OK && opened != DZ_ENOTFOUND && opened != DZ_EZONE) {
		/*
		 * After a read-only folder, a permission or an I/O error the
		 * journal may still contain versions after the snapshot, so
		 * replacing it would move the served serial back.
		 */
		result = dz_error_set(err, opened, "%s; the journal is left as it is",
				      dz_error_message(&local));
		goto cleanup;
	}
	if (opened == DZ_OK && dz_journal_position(journal, snapshot->serial, &position)) {
		committed = journal->last_serial;
	} else {
		if (opened == DZ_OK)
			dz_log_zone(DZ_LOG_WARNING, target->zone,
				    "the IXFR journal runs from serial %" PRIu32 " to %" PRIu32
				    " and does not contain the snapshot's serial %" PRIu32
				    "; starting a new journal (older serials get AXFR)",
				    journal->first_serial, journal->last_serial, snapshot->serial);
		else if (opened != DZ_ENOTFOUND)
			dz_log_zone(DZ_LOG_WARNING, target->zone,
				    "%s; starting a new journal (older serials get AXFR)",
				    dz_error_message(&local));
		else
			dz_log_zone(DZ_LOG_NOTICE, target->zone,
				    "no IXFR journal; starting one at serial %" PRIu32,
				    snapshot->serial);
		result = restart_journal(target, snapshot, err);
		if (result != DZ_OK)
			goto cleanup;
	}

	if (committed != snapshot->serial)
		dz_log_zone(DZ_LOG_NOTICE, target->zone,
			    "serial %" PRIu32 " is committed in the journal; the snapshot is at %" PRIu32
			    " until the next materialization",
			    committed, snapshot->serial);
	else if (dz_snapshot_text_serial(target->text_path, &text_serial, NULL) != DZ_OK ||
		 text_serial != committed)
		dz_log_zone(DZ_LOG_NOTICE, target->zone,
			    "%s is behind serial %" PRIu32 " until the next materialization",
			    target->text_path, committed);
	if (serial != NULL)
		*serial = committed;

cleanup:
	dz_journal_close(journal);
	dz_journal_writer_close(writer);
	dz_snapshot_close(snapshot);
	return result;
}
