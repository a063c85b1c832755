#include "config.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/serial.h"
#include "signer/journal.h"
#include "signer/publish.h"

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
dz_publish_diff(const uint8_t *old_rrs, size_t old_len, const uint8_t *new_rrs, size_t new_len,
		dz_buf_t *removed, dz_buf_t *added, dz_error_t *err)
{
	size_t old_off;
	size_t new_off;
	dz_wire_rr_t o;
	dz_wire_rr_t n;
	dz_wire_rr_t prev_o;
	dz_wire_rr_t prev_n;
	bool have_o = false;
	bool have_n = false;
	bool have_prev_o = false;
	bool have_prev_n = false;

	if (skip_soa(old_rrs, old_len, &old_off) != DZ_OK ||
	    skip_soa(new_rrs, new_len, &new_off) != DZ_OK)
		return dz_error_set(err, DZ_EZONE, "a zone version for a diff must start with its SOA");

	for (;;) {
		if (!have_o && old_off < old_len) {
			if (dz_wire_rr_parse(old_rrs, old_len, &old_off, &o) != DZ_OK)
				return dz_error_set(err, DZ_EZONE, "old version: invalid RR before byte %zu",
						    old_off);
			if (have_prev_o && dz_wire_rr_compare(&prev_o, &o) >= 0)
				return dz_error_set(err, DZ_EZONE,
						    "old version: RR at byte %zu is out of canonical order",
						    (size_t)(o.start - old_rrs));
			prev_o = o;
			have_prev_o = true;
			have_o = true;
		}
		if (!have_n && new_off < new_len) {
			if (dz_wire_rr_parse(new_rrs, new_len, &new_off, &n) != DZ_OK)
				return dz_error_set(err, DZ_EZONE, "new version: invalid RR before byte %zu",
						    new_off);
			if (have_prev_n && dz_wire_rr_compare(&prev_n, &n) >= 0)
				return dz_error_set(err, DZ_EZONE,
						    "new version: RR at byte %zu is out of canonical order",
						    (size_t)(n.start - new_rrs));
			prev_n = n;
			have_prev_n = true;
			have_n = true;
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
		dz_result_t result = DZ_OK;
		if (order < 0) {
			result = dz_buf_append(removed, o.start, o.len);
			have_o = false;
		} else if (order > 0) {
			result = dz_buf_append(added, n.start, n.len);
			have_n = false;
		} else {
			/* Same record; a TTL change is a removal and an addition. */
			if (o.ttl != n.ttl) {
				result = dz_buf_append(removed, o.start, o.len);
				if (result == DZ_OK)
					result = dz_buf_append(added, n.start, n.len);
			}
			have_o = false;
			have_n = false;
		}
		if (result != DZ_OK)
			return dz_error_set(err, DZ_ENOMEM, "out of memory computing a zone diff");
	}
}

/* Abandon the writer as a crash would and report the simulated crash. */
static dz_result_t
simulated_crash(dz_snapshot_writer_t *writer, dz_publish_step_t step, dz_error_t *err)
{
	dz_snapshot_writer_abandon(writer);
	return dz_error_set(err, DZ_ECANCELED, "publication stopped before step %d by the test hook",
			    (int)step);
}

dz_result_t
dz_publish_commit(const dz_publish_target_t *target, dz_snapshot_writer_t *writer,
		  const dz_buf_t *removed, const dz_buf_t *added, uint32_t *serial,
		  dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	dz_snapshot_t *old = NULL;
	dz_snapshot_t *fresh = NULL;
	dz_buf_t old_soa;
	dz_buf_t new_soa;
	dz_buf_t computed_removed;
	dz_buf_t computed_added;
	uint32_t new_serial = dz_snapshot_writer_serial(writer);

	dz_buf_init(&old_soa);
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

	result = dz_snapshot_open(target->snapshot_path, false, &old, err);
	if (result == DZ_ENOTFOUND) {
		result = DZ_OK;
	} else if (result != DZ_OK) {
		dz_log_zone(DZ_LOG_WARNING, target->zone,
			    "%s; replacing it without a journal entry", dz_error_message(err));
		dz_error_init(err);
		result = DZ_OK;
	}

	if (old != NULL) {
		if (!dz_serial_gt(new_serial, old->serial)) {
			result = dz_error_set(err, DZ_ESTATE,
					      "zone %s: new serial %" PRIu32 " is not after the "
					      "published serial %" PRIu32 " (RFC 1982); nothing published",
					      target->zone, new_serial, old->serial);
			goto cleanup;
		}
		if (dz_buf_append(&old_soa, old->soa.start, old->soa.len) != DZ_OK) {
			result = dz_error_set(err, DZ_ENOMEM, "out of memory");
			goto cleanup;
		}
		if (removed == NULL) {
			result = dz_snapshot_open(dz_snapshot_writer_temp_path(writer), false, &fresh,
						  err);
			if (result != DZ_OK)
				goto cleanup;
			result = dz_publish_diff(old->data, old->data_len, fresh->data,
						 fresh->data_len, &computed_removed, &computed_added,
						 err);
			if (result != DZ_OK)
				goto cleanup;
			removed = &computed_removed;
			added = &computed_added;
		}
	}

	if (crash_before(DZ_PUBLISH_STEP_JOURNAL)) {
		result = simulated_crash(writer, DZ_PUBLISH_STEP_JOURNAL, err);
		writer = NULL;
		goto cleanup;
	}
	if (old == NULL) {
		result = dz_journal_reset(target->journal_path, target->origin, target->origin_len,
					  new_serial, target->mode, err);
	} else {
		dz_journal_diff_t diff = {
			.old_soa = &old_soa, .removed = removed, .new_soa = &new_soa, .added = added,
		};
		result = dz_journal_append(target->journal_path, target->origin, target->origin_len,
					   &diff, target->journal_max_size, target->mode, err);
	}
	if (result != DZ_OK)
		goto cleanup;

	if (crash_before(DZ_PUBLISH_STEP_SNAPSHOT)) {
		result = simulated_crash(writer, DZ_PUBLISH_STEP_SNAPSHOT, err);
		writer = NULL;
		goto cleanup;
	}
	result = dz_snapshot_writer_commit_snapshot(writer, err);
	if (result != DZ_OK)
		goto cleanup;

	if (crash_before(DZ_PUBLISH_STEP_TEXT)) {
		result = simulated_crash(writer, DZ_PUBLISH_STEP_TEXT, err);
		writer = NULL;
		goto cleanup;
	}
	result = dz_snapshot_writer_commit(writer, err);
	writer = NULL;
	if (result != DZ_OK) {
		/* The version is committed; start-up rewrites the text file. */
		dz_log_zone(DZ_LOG_ERROR, target->zone, "serial %" PRIu32 " published, but %s",
			    new_serial, dz_error_message(err));
		result = DZ_OK;
	}
	dz_log_zone(DZ_LOG_INFO, target->zone, "published serial %" PRIu32, new_serial);
	if (serial != NULL)
		*serial = new_serial;

cleanup:
	dz_snapshot_writer_abort(writer);
	dz_snapshot_close(old);
	dz_snapshot_close(fresh);
	dz_buf_clear(&old_soa);
	dz_buf_clear(&new_soa);
	dz_buf_clear(&computed_removed);
	dz_buf_clear(&computed_added);
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

dz_result_t
dz_publish_recover(const dz_publish_target_t *target, uint32_t *serial, dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	dz_snapshot_t *snapshot = NULL;
	dz_journal_t *journal = NULL;
	dz_error_t local;
	uint32_t text_serial = 0;

	remove_temporary_files(target);
	result = dz_snapshot_open(target->snapshot_path, true, &snapshot, err);
	if (result != DZ_OK)
		goto cleanup;

	dz_error_init(&local);
	dz_result_t opened = dz_journal_open(target->journal_path, &journal, &local);
	if (opened == DZ_OK && journal->last_serial == snapshot->serial) {
		/* Consistent. */
	} else if (opened == DZ_OK && journal->count > 0 &&
		   journal->entries[journal->count - 1].old_serial == snapshot->serial) {
		dz_log_zone(DZ_LOG_NOTICE, target->zone,
			    "dropping the journal entry to serial %" PRIu32
			    ", which was never published; the published serial is %" PRIu32,
			    journal->last_serial, snapshot->serial);
		result = dz_journal_truncate(journal, target->journal_path, snapshot->serial,
					     target->mode, err);
	} else {
		if (opened == DZ_OK)
			dz_log_zone(DZ_LOG_WARNING, target->zone,
				    "the journal ends at serial %" PRIu32 ", not at the published %" PRIu32
				    "; starting a new journal (older serials get AXFR)",
				    journal->last_serial, snapshot->serial);
		else if (opened != DZ_ENOTFOUND)
			dz_log_zone(DZ_LOG_WARNING, target->zone,
				    "%s; starting a new journal (older serials get AXFR)",
				    dz_error_message(&local));
		result = dz_journal_reset(target->journal_path, target->origin, target->origin_len,
					  snapshot->serial, target->mode, err);
	}
	if (result != DZ_OK)
		goto cleanup;

	dz_error_init(&local);
	if (dz_snapshot_text_serial(target->text_path, &text_serial, &local) != DZ_OK ||
	    text_serial != snapshot->serial) {
		dz_log_zone(DZ_LOG_NOTICE, target->zone,
			    "rewriting %s from the published serial %" PRIu32, target->text_path,
			    snapshot->serial);
		result = dz_snapshot_write_text(snapshot, target->text_path, target->mode, err);
		if (result != DZ_OK)
			goto cleanup;
	}
	if (serial != NULL)
		*serial = snapshot->serial;

cleanup:
	dz_snapshot_close(snapshot);
	dz_journal_close(journal);
	return result;
}
