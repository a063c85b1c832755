/*
 * daemon_job.c -- what a worker does for a zone: bring the signed tree up
 * to the source, the mail records and the key set, sign, and publish the
 * difference; or rewrite the published files and run the publish hook.
 *
 * Nothing here touches the loop's state.  The job's inputs are copies, and
 * the tree belongs to the job while it runs.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "signer/daemon.h"
#include "signer/daemon_job.h"
#include "signer/job.h"
#include "signer/load.h"
#include "signer/output.h"
#include "signer/snapshot.h"
#include "signer/sync.h"
#include "signer/wire.h"
#include "zones/hook.h"
#include "zones/zonefile.h"

/* File name the loader reports for generated mail records. */
#define MAIL_RECORDS_FILE "(mail records)"

static double
monotonic_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static dz_zone_t *
new_zone(const dz_publish_target_t *target)
{
	return dz_zone_create(target->origin, target->origin_len);
}

dz_result_t
daemon_load_published(const dz_publish_target_t *target, dz_time_t now, dz_zone_t **out,
		      dz_snapshot_load_t *info, dz_error_t *err)
{
	dz_snapshot_t *snapshot = NULL;
	dz_zone_t *zone = NULL;
	uint32_t committed = 0;
	uint32_t materialized = 0;
	dz_result_t result;

	/* The snapshot may be behind the journal: bring it up first, so the tree is the committed version. */
	result = dz_publish_recover(target, &committed, err);
	if (result == DZ_OK)
		result = dz_publish_materialize(target, &materialized, err);
	if (result == DZ_OK)
		result = dz_snapshot_open(target->snapshot_path, false, &snapshot, err);
	if (result == DZ_OK && snapshot->serial != committed)
		result = dz_error_set(err, DZ_ESTATE,
				      "snapshot %s has serial %u but the journal is at %u",
				      target->snapshot_path, snapshot->serial, committed);
	if (result != DZ_OK)
		goto cleanup;
	zone = new_zone(target);
	if (zone == NULL) {
		result = dz_error_set(err, DZ_ENOMEM, "out of memory");
		goto cleanup;
	}
	result = dz_load_snapshot(zone, snapshot, target->snapshot_path, now, info, err);
	if (result != DZ_OK)
		goto cleanup;
	*out = zone;
	zone = NULL;
cleanup:
	dz_zone_destroy(zone);
	dz_snapshot_close(snapshot);
	return result;
}

/* Add the records of `set` to the loader, or delete them with `remove`. */
static dz_result_t
load_mail_records(dz_loader_t *loader, const dz_records_t *set, bool remove, dz_error_t *err)
{
	dz_buf_t wire;
	dz_result_t result;
	size_t offset = 0;

	dz_buf_init(&wire);
	result = dz_records_to_wire(set, &wire);
	if (result != DZ_OK) {
		dz_buf_clear(&wire);
		return dz_error_set(err, result, "out of memory");
	}
	while (result == DZ_OK && offset < wire.len) {
		dz_wire_rr_t rr;
		result = dz_wire_rr_parse(wire.data, wire.len, &offset, &rr);
		if (result != DZ_OK) {
			dz_error_set(err, DZ_EINTERNAL, "a generated mail record is malformed");
			break;
		}
		if (remove)
			result = dz_loader_delete_wire(loader, rr.owner, rr.owner_len, rr.type,
						       rr.rrclass, rr.rdata, rr.rdlength,
						       MAIL_RECORDS_FILE, 0);
		else
			result = dz_loader_add_wire(loader, rr.owner, rr.owner_len, rr.type,
						    rr.rrclass, rr.ttl, rr.rdata, rr.rdlength,
						    MAIL_RECORDS_FILE, 0);
		if (result != DZ_OK)
			dz_error_set(err, result, "out of memory");
	}
	dz_buf_clear(&wire);
	return result;
}

/* Read the zone source and the mail records into a new unsigned zone. */
static dz_result_t
load_source(daemon_job_t *job, dz_zone_t **out, dz_error_t *err)
{
	dz_zone_t *zone = new_zone(&job->target);
	dz_loader_t loader;
	dz_load_options_t options;
	dz_zonefile_options_t read_options;
	dz_result_t result;

	if (zone == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	memset(&options, 0, sizeof(options));
	options.max_ttl = job->policy.max_zone_ttl;
	result = dz_loader_init(&loader, zone, &options);
	if (result != DZ_OK) {
		dz_zone_destroy(zone);
		return dz_error_set(err, result, "out of memory");
	}
	dz_zonefile_options_init(&read_options);
	result = dz_zonefile_read_records(job->source, zone->origin_text, &read_options,
					  dz_loader_add_record, &loader, err);
	if (result == DZ_OK)
		result = load_mail_records(&loader, &job->mail, false, err);
	if (result == DZ_OK)
		result = dz_loader_finish(&loader, err);
	dz_loader_clear(&loader);
	if (result != DZ_OK) {
		dz_zone_destroy(zone);
		return result;
	}
	*out = zone;
	return DZ_OK;
}

/* Change the mail records in the signed tree from job->tree_mail to job->mail. */
static dz_result_t
apply_mail_diff(daemon_job_t *job, dz_error_t *err)
{
	dz_records_t added, removed;
	dz_loader_t loader;
	dz_load_options_t options;
	dz_result_t result;

	dz_records_init(&added);
	dz_records_init(&removed);
	result = dz_records_diff(&job->tree_mail, &job->mail, &added, &removed);
	if (result != DZ_OK)
		return dz_error_set(err, result, "out of memory");
	if (added.count == 0 && removed.count == 0)
		goto cleanup;
	memset(&options, 0, sizeof(options));
	options.max_ttl = job->policy.max_zone_ttl;
	result = dz_loader_init(&loader, job->tree, &options);
	if (result != DZ_OK) {
		dz_error_set(err, result, "out of memory");
		goto cleanup;
	}
	/* Removals first: a TTL change is a removal and an addition of the same record. */
	result = load_mail_records(&loader, &removed, true, err);
	if (result == DZ_OK)
		result = load_mail_records(&loader, &added, false, err);
	if (result == DZ_OK)
		result = dz_loader_finish(&loader, err);
	dz_loader_clear(&loader);
cleanup:
	dz_records_clear(&added);
	dz_records_clear(&removed);
	return result;
}

/*
 * Split a difference in IXFR order (old SOA, removed RRs, new SOA, added
 * RRs) into its parts.
 */
static dz_result_t
split_ixfr(const dz_buf_t *ixfr, dz_buf_t *removed, dz_buf_t *added, dz_buf_t *new_soa,
	   size_t *removed_count, size_t *added_count, dz_error_t *err)
{
	size_t offset = 0;
	unsigned soas = 0;
	dz_result_t result = DZ_OK;

	*removed_count = 0;
	*added_count = 0;
	while (result == DZ_OK && offset < ixfr->len) {
		dz_wire_rr_t rr;
		if (dz_wire_rr_parse(ixfr->data, ixfr->len, &offset, &rr) != DZ_OK)
			return dz_error_set(err, DZ_EINTERNAL, "the difference of the signing run is malformed");
		if (rr.type == DZ_TYPE_SOA) {
			soas++;
			if (soas == 2)
				result = dz_buf_append(new_soa, rr.start, rr.len);
			continue;
		}
		if (soas == 1) {
			result = dz_buf_append(removed, rr.start, rr.len);
			(*removed_count)++;
		} else {
			result = dz_buf_append(added, rr.start, rr.len);
			(*added_count)++;
		}
	}
	if (result != DZ_OK)
		return dz_error_set(err, result, "out of memory");
	if (soas != 2)
		return dz_error_set(err, DZ_EINTERNAL, "the difference of the signing run has %u SOA records", soas);
	return DZ_OK;
}

/* Write the whole tree as a new version; `removed` and `added` may be NULL to compute the diff. */
static dz_result_t
publish_full(daemon_job_t *job, const dz_buf_t *removed, const dz_buf_t *added, dz_error_t *err)
{
	dz_snapshot_writer_t *writer = NULL;
	dz_result_t result = dz_publish_begin(&job->target, &writer, err);

	if (result != DZ_OK)
		return result;
	result = dz_output_snapshot(job->tree, writer, err);
	if (result != DZ_OK) {
		dz_snapshot_writer_abort(writer);
		return result;
	}
	return dz_publish_commit(&job->target, writer, removed, added, &job->serial, err);
}

/* min(SOA TTL, SOA MINIMUM) of the tree: the TTL of negative responses (RFC 2308 section 5). */
static uint32_t
negative_ttl(const dz_zone_t *zone)
{
	const dz_rrset_t *soa = dz_node_rrset(zone->apex, DZ_TYPE_SOA);

	if (soa == NULL || soa->len < 2 + 20)
		return 0;
	const uint8_t *end = soa->data + soa->len;
	uint32_t minimum = ((uint32_t)end[-4] << 24) | ((uint32_t)end[-3] << 16) |
			   ((uint32_t)end[-2] << 8) | end[-1];
	return minimum < soa->ttl ? minimum : soa->ttl;
}

static void
run_sign(daemon_job_t *job)
{
	dz_zone_t *source = NULL;
	dz_snapshot_load_t info;
	bool reusable = true;
	bool first = false;
	dz_update_params_t params;
	dz_buf_t ixfr, removed, added, new_soa;
	dz_error_t *err = &job->err;
	dz_result_t result = DZ_OK;

	dz_buf_init(&ixfr);
	dz_buf_init(&removed);
	dz_buf_init(&added);
	dz_buf_init(&new_soa);
	if (job->tree == NULL && job->published_before) {
		job->stage = DAEMON_STAGE_LOAD;
		result = daemon_load_published(&job->target, job->now, &job->tree, &info, err);
		if (result != DZ_OK)
			goto done;
		job->loaded_from_disk = true;
		job->full_commit = true;
		job->read_source = true;
		job->tree_mail_known = false;
		dz_records_clear(&job->tree_mail);
		reusable = info.chain_whole && dz_sign_job_same_signers(&info, &job->keys);
	}

	if (job->read_source) {
		job->stage = DAEMON_STAGE_SOURCE;
		dz_error_init(&job->source_err);
		if (load_source(job, &source, &job->source_err) != DZ_OK) {
			job->source_failed = true;
			if (job->tree == NULL) {
				/* Nothing to sign without a source: the published zone stays. */
				result = job->source_err.code;
				*err = job->source_err;
				goto done;
			}
		}
	}

	job->stage = DAEMON_STAGE_SIGN;
	if (job->tree == NULL) {
		/* The first version of the zone. */
		job->tree = source;
		source = NULL;
		first = true;
	} else {
		if (dz_changes_start(job->tree) == NULL) {
			result = dz_error_set(err, DZ_ENOMEM, "out of memory");
			goto done;
		}
		if (source != NULL) {
			size_t synced = 0;
			result = dz_zone_sync(job->tree, source,
					      job->policy.serial_policy != DZ_SERIAL_KEEP, &synced);
			if (result != DZ_OK)
				dz_error_set(err, result, "out of memory");
		} else if (job->tree_mail_known) {
			result = apply_mail_diff(job, err);
		}
		/*
		 * NOTE: with a tree read from a snapshot and a source that cannot be
		 * read, the mail records in the tree are not known, so mail changes
		 * wait for a good source; due signatures are still refreshed.
		 */
		if (result != DZ_OK)
			goto done;
	}
	if (first || source != NULL || job->tree_mail_known) {
		dz_records_clear(&job->tree_mail);
		result = dz_records_copy(&job->tree_mail, &job->mail);
		if (result != DZ_OK) {
			dz_error_set(err, result, "out of memory");
			goto done;
		}
		job->tree_mail_known = true;
	}

	memset(&params, 0, sizeof(params));
	params.policy = &job->policy;
	params.keys = &job->keys;
	params.now = job->now;
	params.backend = job->backend;
	params.full = first || !reusable || job->keys_changed;
	params.full_check = first || !reusable;
	job->full_run = params.full;
	if (job->clock_frozen && job->tree->latest_inception > job->now) {
		/*
		 * The clock went back by more than the clock guard tolerates.
		 * Signatures made now could expire before the true time, so the
		 * published ones stay until the operator confirms the clock.
		 */
		char inception[DZ_TIME_TEXT_MAX];
		result = dz_error_set(err, DZ_ESTATE,
				      "the clock is behind the newest signature inception %s; correct "
				      "the clock, or run 'danezone key clock-ack %s' if it is right",
				      dz_time_format(job->tree->latest_inception, inception),
				      job->zone->name);
		goto done;
	}
	result = dz_update_zone(job->tree, &params, &job->update, err);
	if (result != DZ_OK)
		goto done;
	if (job->tree->changes != NULL) {
		dz_changes_summary_t summary;
		result = dz_changes_finish(job->tree->changes, &ixfr, &summary, err);
		if (result != DZ_OK)
			goto done;
	}
	job->negative_ttl = negative_ttl(job->tree);
	job->earliest_expiration = job->tree->earliest_expiration;
	job->serial = job->update.serial;
	if (!first && ixfr.len == 0)
		goto done; /* nothing changed: the published version stays */

	job->stage = DAEMON_STAGE_PUBLISH;
	if (first) {
		result = publish_full(job, NULL, NULL, err);
	} else {
		result = split_ixfr(&ixfr, &removed, &added, &new_soa, &job->removed, &job->added, err);
		if (result == DZ_OK && job->full_commit)
			result = publish_full(job, &removed, &added, err);
		else if (result == DZ_OK)
			result = dz_publish_diff(&job->target, &removed, &added, &new_soa, &job->serial,
						 err);
	}
	if (result == DZ_OK)
		job->published = true;

done:
	if (result == DZ_OK) {
		job->stage = DAEMON_STAGE_NONE;
	} else if (job->stage != DAEMON_STAGE_SOURCE) {
		/*
		 * The tree may be half changed: the next job loads the published
		 * version.  A source that cannot be read changed nothing yet.
		 */
		if (job->tree != NULL && job->tree->changes != NULL)
			dz_changes_abort(job->tree->changes);
		dz_zone_destroy(job->tree);
		job->tree = NULL;
		dz_records_clear(&job->tree_mail);
	}
	job->result = result;
	dz_zone_destroy(source);
	dz_buf_clear(&ixfr);
	dz_buf_clear(&removed);
	dz_buf_clear(&added);
	dz_buf_clear(&new_soa);
}

static void
run_materialize(daemon_job_t *job)
{
	job->stage = DAEMON_STAGE_PUBLISH;
	job->result = dz_publish_materialize(&job->target, &job->text_serial, &job->err);
	if (job->result != DZ_OK)
		return;
	job->stage = DAEMON_STAGE_NONE;
	if (job->hook == NULL || job->text_serial == job->hook_after)
		return;
	char zone_env[sizeof(job->target.zone) + 16];
	char serial_env[32];
	const char *env[3] = { zone_env, serial_env, NULL };
	size_t len = strlen(job->target.zone);
	/* DZ_ZONE is the name without its final dot, as in the configuration. */
	snprintf(zone_env, sizeof(zone_env), "DZ_ZONE=%.*s", (int)(len > 1 ? len - 1 : len),
		 job->target.zone);
	snprintf(serial_env, sizeof(serial_env), "DZ_SERIAL=%u", job->text_serial);
	dz_error_init(&job->hook_err);
	job->hook_ran = true;
	job->hook_result = dz_hook_run(job->hook, env, DZ_HOOK_TIMEOUT_SECONDS, &job->hook_err);
}

/* Ask each parent server in turn; failures are recorded in the answers. */
static void
run_parent(daemon_job_t *job)
{
	char zone[sizeof(job->target.zone)];
	size_t len = strlen(job->target.zone);

	snprintf(zone, sizeof(zone), "%.*s", (int)(len > 1 ? len - 1 : len), job->target.zone);
	for (size_t i = 0; i < job->parent_count; i++) {
		dz_error_t err;
		dz_error_init(&err);
		dz_key_parent_query(zone, &job->parent_servers[i], DZ_DAEMON_QUERY_TIMEOUT_MS,
				    &job->parent_answers[i], &err);
	}
	job->result = DZ_OK;
}

void
daemon_job_run(daemon_job_t *job)
{
	double start = monotonic_seconds();

	dz_error_init(&job->err);
	if (job->kind == DAEMON_JOB_SIGN)
		run_sign(job);
	else if (job->kind == DAEMON_JOB_PARENT)
		run_parent(job);
	else if (job->kind == DAEMON_JOB_PROBE)
		dz_mail_probe_secondaries(job->mail_obj, job->now, DZ_DAEMON_QUERY_TIMEOUT_MS);
	else
		run_materialize(job);
	job->seconds = monotonic_seconds() - start;
}

void
daemon_job_free(daemon_job_t *job)
{
	if (job == NULL)
		return;
	if (job->tree != NULL && job->tree->changes != NULL)
		dz_changes_abort(job->tree->changes);
	dz_zone_destroy(job->tree);
	dz_records_clear(&job->tree_mail);
	dz_records_clear(&job->mail);
	free(job->source);
	free(job->hook);
	dz_policy_clear(&job->policy);
	free(job->keys.keys);
	dz_key_plan_destroy(job->plan);
	free(job->parent_servers);
	free(job->parent_answers);
	free(job->tsig_name);
	free(job->tsig_algorithm);
	if (job->tsig_secret != NULL)
		dz_secure_zero(job->tsig_secret, strlen(job->tsig_secret));
	free(job->tsig_secret);
	free(job);
}
