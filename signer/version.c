#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "signer/version.h"

/* One net change: the last operation on an RR, in the order of the journal. */
struct dz_version_change {
	dz_wire_rr_t rr;
	uint64_t sequence; /* position of the operation among all operations */
	bool present;
};

dz_version_t *
dz_version_ref(dz_version_t *v)
{
	v->refs++;
	return v;
}

void
dz_version_unref(dz_version_t *v)
{
	if (v == NULL || --v->refs > 0)
		return;
	dz_snapshot_close(v->snapshot);
	dz_journal_close(v->journal);
	free(v->changes);
	free(v);
}

/* The snapshot of `previous` when the file at `path` is still the same, else a new one. */
static dz_result_t
open_snapshot(const char *path, const dz_version_t *previous, dz_snapshot_t **out,
	      dz_error_t *err)
{
	struct stat st;

	if (previous != NULL && stat(path, &st) == 0 && st.st_dev == previous->snapshot->dev &&
	    st.st_ino == previous->snapshot->ino) {
		*out = dz_snapshot_ref(previous->snapshot);
		return DZ_OK;
	}
	return dz_snapshot_open(path, true, out, err);
}

dz_result_t
dz_version_open(const dz_publish_target_t *target, const dz_version_t *previous,
		dz_version_t **out, dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	dz_version_t *v = calloc(1, sizeof(*v));
	dz_error_t journal_err;
	int lock_fd = -1;

	if (v == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	v->refs = 1;
	dz_error_init(&journal_err);
	dz_result_t opened = dz_journal_reopen_locked(previous != NULL ? previous->journal : NULL,
						      target->journal_path, &v->journal, &lock_fd,
						      &journal_err);
	result = open_snapshot(target->snapshot_path, previous, &v->snapshot, err);
	dz_journal_unlock(lock_fd);
	if (result != DZ_OK)
		goto cleanup;
	if (!dz_wire_name_equal(v->snapshot->origin, target->origin)) {
		result = dz_error_set(err, DZ_EZONE, "%s is the snapshot of another zone",
				      target->snapshot_path);
		goto cleanup;
	}

	if (opened != DZ_OK && opened != DZ_ENOTFOUND)
		dz_log_zone(DZ_LOG_WARNING, target->zone, "%s; IXFR requests get the whole zone",
			    dz_error_message(&journal_err));
	if (v->journal != NULL && !dz_wire_name_equal(v->journal->origin, target->origin)) {
		dz_log_zone(DZ_LOG_WARNING, target->zone,
			    "%s is the journal of another zone; IXFR requests get the whole zone",
			    target->journal_path);
		dz_journal_close(v->journal);
		v->journal = NULL;
	}
	if (v->journal != NULL &&
	    !dz_journal_position(v->journal, v->snapshot->serial, &v->first_change)) {
		dz_log_zone(DZ_LOG_WARNING, target->zone,
			    "journal %s runs from serial %" PRIu32 " to %" PRIu32
			    " and does not contain the snapshot's serial %" PRIu32
			    "; serving the snapshot, and IXFR requests get the whole zone",
			    target->journal_path, v->journal->first_serial, v->journal->last_serial,
			    v->snapshot->serial);
		dz_journal_close(v->journal);
		v->journal = NULL;
	}
	if (v->journal != NULL) {
		v->serial = v->journal->last_serial;
		v->soa = v->journal->last_soa;
	} else {
		v->serial = v->snapshot->serial;
		v->soa = v->snapshot->soa;
	}
	*out = v;
	v = NULL;

cleanup:
	dz_version_unref(v);
	return result;
}

static int
compare_changes(const void *a, const void *b)
{
	const dz_version_change_t *x = a;
	const dz_version_change_t *y = b;
	int order = dz_wire_rr_compare(&x->rr, &y->rr);

	if (order != 0)
		return order;
	return x->sequence < y->sequence ? -1 : x->sequence > y->sequence;
}

/* Append an operation for each RR of data[0..len) (checked when the journal was read). */
static dz_result_t
add_operations(dz_version_change_t *changes, size_t *count, const uint8_t *data, size_t len,
	       bool present)
{
	size_t offset = 0;

	while (offset < len) {
		dz_version_change_t *c = &changes[*count];
		if (dz_wire_rr_parse(data, len, &offset, &c->rr) != DZ_OK)
			return DZ_EZONE;
		c->sequence = *count;
		c->present = present;
		(*count)++;
	}
	return DZ_OK;
}

dz_result_t
dz_version_changes(dz_version_t *v, dz_error_t *err)
{
	size_t total = 0;
	size_t count = 0;
	dz_version_change_t *changes = NULL;

	if (v->changes_built)
		return DZ_OK;
	for (size_t i = v->first_change; v->journal != NULL && i < v->journal->count; i++)
		total += (size_t)v->journal->entries[i].removed_count +
			 v->journal->entries[i].added_count;
	if (total > 0) {
		changes = calloc(total, sizeof(*changes));
		if (changes == NULL)
			return dz_error_set(err, DZ_ENOMEM,
					    "out of memory merging %zu journal changes into the zone",
					    total);
	}
	/* Within an entry the removals come before the additions (RFC 1995 section 4). */
	for (size_t i = v->first_change; v->journal != NULL && i < v->journal->count; i++) {
		const dz_journal_entry_t *e = &v->journal->entries[i];
		if (add_operations(changes, &count, e->removed, e->removed_len, false) != DZ_OK ||
		    add_operations(changes, &count, e->added, e->added_len, true) != DZ_OK) {
			free(changes);
			return dz_error_set(err, DZ_EINTERNAL,
					    "journal entry to serial %" PRIu32 " changed after it was read",
					    e->new_serial);
		}
	}
	if (count > 0)
		qsort(changes, count, sizeof(*changes), compare_changes);

	/* Keep the last operation of each RR: it is the last of its run after sorting. */
	size_t kept = 0;
	for (size_t i = 0; i < count; i++) {
		if (i + 1 < count && dz_wire_rr_compare(&changes[i].rr, &changes[i + 1].rr) == 0)
			continue;
		changes[kept++] = changes[i];
	}
	v->changes = changes;
	v->change_count = kept;
	v->changes_built = true;
	return DZ_OK;
}

dz_result_t
dz_version_iter_init(dz_version_iter_t *it, dz_version_t *v, dz_error_t *err)
{
	dz_result_t result = dz_version_changes(v, err);

	if (result != DZ_OK)
		return result;
	dz_version_iter_init_data(it, v->snapshot->rest, v->snapshot->rest_len);
	it->changes = v->changes;
	it->change_count = v->change_count;
	return DZ_OK;
}

void
dz_version_iter_init_data(dz_version_iter_t *it, const uint8_t *data, size_t len)
{
	memset(it, 0, sizeof(*it));
	it->data = data;
	it->len = len;
}

dz_result_t
dz_version_iter_next(dz_version_iter_t *it, dz_wire_rr_t *rr, bool *done)
{
	for (;;) {
		if (!it->have_pending && it->offset < it->len) {
			if (dz_wire_rr_parse(it->data, it->len, &it->offset, &it->pending) != DZ_OK)
				return DZ_EZONE;
			it->have_pending = true;
		}
		bool have_change = it->next_change < it->change_count;
		if (!it->have_pending && !have_change) {
			*done = true;
			return DZ_OK;
		}

		const dz_version_change_t *change = have_change ? &it->changes[it->next_change] : NULL;
		int order;
		if (!have_change)
			order = -1;
		else if (!it->have_pending)
			order = 1;
		else
			order = dz_wire_rr_compare(&it->pending, &change->rr);

		if (order < 0) {
			/* Untouched since the snapshot. */
			*rr = it->pending;
			it->have_pending = false;
			*done = false;
			return DZ_OK;
		}
		/* The change replaces the snapshot's RR, if there is one. */
		if (order == 0)
			it->have_pending = false;
		it->next_change++;
		if (change->present) {
			*rr = change->rr;
			*done = false;
			return DZ_OK;
		}
	}
}
