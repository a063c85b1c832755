#include "config.h"

#include <string.h>
#include <time.h>

#include <ldns/ldns.h>

#include "common/file.h"
#include "common/log.h"
#include "signer/diff.h"
#include "signer/job.h"
#include "signer/output.h"
#include "signer/rrsig.h"
#include "signer/snapshot.h"
#include "signer/sync.h"
#include "zones/zonefile.h"

static double
monotonic_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Load a zone file into a new zone; *extra receives the kept DNSKEYs. */
static dz_result_t
load_file(const dz_sign_job_t *job, const char *path, bool signed_input, dz_zone_t **out,
	  dz_buf_t *extra, size_t *records, dz_error_t *err)
{
	ldns_rdf *origin = NULL;
	dz_zone_t *zone = NULL;
	dz_loader_t loader;
	dz_load_options_t options = job->load;
	dz_zonefile_options_t read_options;
	dz_result_t result;

	if (ldns_str2rdf_dname(&origin, job->origin) != LDNS_STATUS_OK)
		return dz_error_set(err, DZ_EINVAL, "invalid zone name '%s'", job->origin);
	zone = dz_zone_create(ldns_rdf_data(origin), ldns_rdf_size(origin));
	ldns_rdf_deep_free(origin);
	if (zone == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	options.signed_input = signed_input;
	options.max_ttl = signed_input ? 0 : job->policy->max_zone_ttl;
	result = dz_loader_init(&loader, zone, &options);
	if (result != DZ_OK) {
		dz_zone_destroy(zone);
		return dz_error_set(err, result, "out of memory");
	}
	/* TTLs follow the reader's rules: $TTL, the previous record's TTL, the SOA MINIMUM. */
	dz_zonefile_options_init(&read_options);
	result = dz_zonefile_read_records(path, zone->origin_text, &read_options, dz_loader_add_record,
					  &loader, err);
	if (result == DZ_OK)
		result = dz_loader_finish(&loader, err);
	if (result == DZ_OK && extra != NULL)
		result = dz_buf_append(extra, loader.extra_dnskeys.data, loader.extra_dnskeys.len);
	*records += loader.records;
	dz_loader_clear(&loader);
	if (result != DZ_OK) {
		dz_zone_destroy(zone);
		return result;
	}
	if (signed_input) {
		/* The previous zone is the starting point: nothing in it is a change. */
		dz_zone_clear_dirty(zone);
		if (dz_node_rrset(zone->apex, DZ_TYPE_SOA) != NULL) {
			const dz_rrset_t *soa = dz_node_rrset(zone->apex, DZ_TYPE_SOA);
			zone->have_published_serial = dz_soa_serial(soa->data + 2, soa->len - 2,
								    &zone->published_serial);
		}
	}
	*out = zone;
	return DZ_OK;
}

/* Whether the file at `path` starts with the magic of a snapshot. */
static bool
is_snapshot_file(const char *path)
{
	char head[8];
	FILE *fp = fopen(path, "rb");
	bool found;

	if (fp == NULL)
		return false;
	found = fread(head, 1, sizeof(head), fp) == sizeof(head) &&
		memcmp(head, DZ_SNAPSHOT_MAGIC, sizeof(head)) == 0;
	fclose(fp);
	return found;
}

bool
dz_sign_job_same_signers(const dz_snapshot_load_t *info, const dz_keyset_t *keys)
{
	if (info->signers_overflow)
		return false;
	for (size_t k = 0; k < keys->count; k++) {
		const dz_zone_key_t *key = &keys->keys[k];
		for (int key_rrsets = 0; key_rrsets <= 1; key_rrsets++) {
			bool signs = key_rrsets ? key->sign_keys : key->sign_zone;
			bool found = false;
			for (size_t i = 0; i < info->signer_count && !found; i++)
				found = info->signers[i].algorithm == key->algorithm &&
					info->signers[i].key_tag == key->key_tag &&
					info->signers[i].key_rrsets == (bool)key_rrsets;
			if (signs && !found)
				return false;
		}
	}
	for (size_t i = 0; i < info->signer_count; i++) {
		bool found = false;
		for (size_t k = 0; k < keys->count && !found; k++) {
			const dz_zone_key_t *key = &keys->keys[k];
			found = key->algorithm == info->signers[i].algorithm &&
				key->key_tag == info->signers[i].key_tag &&
				(info->signers[i].key_rrsets ? key->sign_keys : key->sign_zone);
		}
		if (!found)
			return false;
	}
	return true;
}

/*
 * Load a previous signed zone from a snapshot into a new zone.  *snapshot
 * stays mapped for writing the next snapshot.  *reusable is set when the
 * chain and signatures can be repaired where the zone changes.
 */
static dz_result_t
load_snapshot_file(const dz_sign_job_t *job, const char *path, dz_zone_t **out,
		   dz_snapshot_t **snapshot, bool *reusable, size_t *records, dz_error_t *err)
{
	ldns_rdf *origin = NULL;
	dz_zone_t *zone = NULL;
	dz_snapshot_load_t info;
	dz_result_t result;

	if (ldns_str2rdf_dname(&origin, job->origin) != LDNS_STATUS_OK)
		return dz_error_set(err, DZ_EINVAL, "invalid zone name '%s'", job->origin);
	zone = dz_zone_create(ldns_rdf_data(origin), ldns_rdf_size(origin));
	ldns_rdf_deep_free(origin);
	if (zone == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	result = dz_snapshot_open(path, false, snapshot, err);
	if (result == DZ_OK)
		result = dz_load_snapshot(zone, *snapshot, path, job->now, &info, err);
	if (result != DZ_OK) {
		dz_snapshot_close(*snapshot);
		*snapshot = NULL;
		dz_zone_destroy(zone);
		return result;
	}
	*records += info.records;
	*reusable = info.chain_whole && dz_sign_job_same_signers(&info, job->keys);
	*out = zone;
	return DZ_OK;
}

/* Write the snapshot of the signed zone: from the previous snapshot and the difference when there is one. */
static dz_result_t
write_snapshot(const dz_sign_job_t *job, const dz_zone_t *zone, const dz_snapshot_t *previous,
	       const dz_buf_t *diff, dz_error_t *err)
{
	dz_snapshot_writer_t *writer = NULL;
	dz_result_t result;

	result = dz_snapshot_writer_create(job->snapshot_out, NULL, zone->origin_wire,
					   zone->origin_wire_len, 0644, &writer, err);
	if (result != DZ_OK)
		return result;
	if (previous != NULL)
		result = dz_snapshot_writer_add_diff(writer, previous, diff->data, diff->len, err);
	else
		result = dz_output_snapshot(zone, writer, err);
	if (result != DZ_OK) {
		dz_snapshot_writer_abort(writer);
		return dz_error_prefix(err, "%s", job->snapshot_out);
	}
	return dz_snapshot_writer_commit(writer, err);
}

static dz_result_t
apply_diff(const dz_sign_job_t *job, const char *path, dz_zone_t *zone, size_t *records,
	   dz_error_t *err)
{
	dz_loader_t loader;
	dz_load_options_t options = job->load;
	dz_result_t result;

	options.signed_input = false;
	options.max_ttl = job->policy->max_zone_ttl;
	result = dz_loader_init(&loader, zone, &options);
	if (result != DZ_OK)
		return dz_error_set(err, result, "out of memory");
	result = dz_diff_apply_file(&loader, path, err);
	if (result == DZ_OK)
		result = dz_loader_finish(&loader, err);
	*records += loader.records;
	dz_loader_clear(&loader);
	return result;
}

/* The extra DNSKEYs of a previous signed zone: those in its DNSKEY RRset with a kept key tag. */
static dz_result_t
extra_from_previous(const dz_sign_job_t *job, const dz_zone_t *zone, dz_buf_t *extra)
{
	const dz_rrset_t *dnskey = dz_node_rrset(zone->apex, DZ_TYPE_DNSKEY);
	dz_rdata_iter_t it;
	const uint8_t *rdata;
	uint16_t len;
	dz_result_t result = DZ_OK;

	if (dnskey == NULL)
		return DZ_OK;
	dz_rdata_iter_init(&it, dnskey->data, dnskey->len);
	while (result == DZ_OK && dz_rdata_iter_next(&it, &rdata, &len)) {
		uint16_t tag = dz_key_tag(rdata, len);
		for (size_t i = 0; i < job->load.keep_dnskey_count; i++) {
			if (job->load.keep_dnskey_tags[i] != tag)
				continue;
			result = dz_buf_append_u16(extra, len);
			if (result == DZ_OK)
				result = dz_buf_append(extra, rdata, len);
			break;
		}
	}
	return result;
}

dz_result_t
dz_sign_job_run(const dz_sign_job_t *job, dz_sign_job_report_t *report, dz_error_t *err)
{
	double start = monotonic_seconds();
	double t;
	dz_zone_t *zone = NULL;
	dz_zone_t *source = NULL;
	dz_snapshot_t *previous = NULL;
	bool reusable = false;
	dz_buf_t extra;
	dz_buf_t ixfr;
	dz_update_params_t params;
	dz_result_t result = DZ_OK;

	memset(report, 0, sizeof(*report));
	dz_buf_init(&extra);
	dz_buf_init(&ixfr);
	if (job->input == NULL && (job->previous == NULL || job->diff == NULL))
		return dz_error_set(err, DZ_EINVAL, "an input zone file is needed, or a previous signed zone and a diff");
	if (job->ixfr_out != NULL && job->previous == NULL && job->incremental == NULL)
		return dz_error_set(err, DZ_EINVAL,
				    "an IXFR difference needs the previous signed zone or an incremental run");

	t = monotonic_seconds();
	if (job->previous == NULL) {
		result = load_file(job, job->input, false, &zone, &extra, &report->records_read, err);
	} else {
		report->previous_snapshot = is_snapshot_file(job->previous);
		if (report->previous_snapshot)
			result = load_snapshot_file(job, job->previous, &zone, &previous, &reusable,
						    &report->records_read, err);
		else
			result = load_file(job, job->previous, true, &zone, NULL, &report->records_read,
					   err);
		if (result == DZ_OK && dz_changes_start(zone) == NULL)
			result = dz_error_set(err, DZ_ENOMEM, "out of memory");
		if (result == DZ_OK && job->input != NULL) {
			result = load_file(job, job->input, false, &source, &extra, &report->records_read, err);
			if (result == DZ_OK)
				result = dz_zone_sync(zone, source, job->policy->serial_policy != DZ_SERIAL_KEEP,
						      &report->rrsets_synced);
			if (result == DZ_ENOMEM)
				dz_error_set(err, result, "out of memory");
			dz_zone_destroy(source);
		} else if (result == DZ_OK) {
			result = extra_from_previous(job, zone, &extra);
			if (result == DZ_OK && job->diff != NULL)
				result = apply_diff(job, job->diff, zone, &report->records_read, err);
		}
	}
	report->seconds_load = monotonic_seconds() - t;
	if (result != DZ_OK)
		goto cleanup;

	memset(&params, 0, sizeof(params));
	params.policy = job->policy;
	params.keys = job->keys;
	params.extra_dnskeys = extra.data;
	params.extra_dnskeys_len = extra.len;
	params.now = job->now;
	params.backend = job->backend;
	/*
	 * A zone read from a zone file has no chain in memory yet, and every
	 * signature must be looked at.  A reusable snapshot is like the zone
	 * the daemon keeps in memory.
	 */
	params.full = !reusable;
	params.full_check = !reusable;
	report->previous_reused = reusable;
	params.threads = job->threads;
	t = monotonic_seconds();
	result = dz_update_zone(zone, &params, &report->update, err);
	report->seconds_update = monotonic_seconds() - t;
	if (result != DZ_OK)
		goto cleanup;
	if (zone->changes != NULL) {
		result = dz_changes_finish(zone->changes, &ixfr, &report->changes, err);
		if (result != DZ_OK)
			goto cleanup;
	}
	if (job->incremental != NULL) {
		/* The daemon's path: changes applied to the signed tree in memory. */
		ixfr.len = 0;
		t = monotonic_seconds();
		if (dz_changes_start(zone) == NULL)
			result = dz_error_set(err, DZ_ENOMEM, "out of memory");
		if (result == DZ_OK)
			result = apply_diff(job, job->incremental, zone, &report->records_read, err);
		params.full = false;
		params.full_check = false;
		params.now = job->now;
		if (result == DZ_OK)
			result = dz_update_zone(zone, &params, &report->incremental, err);
		if (result == DZ_OK)
			result = dz_changes_finish(zone->changes, &ixfr, &report->changes, err);
		report->seconds_incremental = monotonic_seconds() - t;
		if (result != DZ_OK)
			goto cleanup;
		report->incremental_done = true;
	}

	t = monotonic_seconds();
	if (job->output != NULL)
		result = dz_output_zone_file(zone, job->output, err);
	/* After an incremental run the difference does not start from the previous snapshot. */
	if (result == DZ_OK && job->snapshot_out != NULL)
		result = write_snapshot(job, zone, report->incremental_done ? NULL : previous, &ixfr, err);
	if (result == DZ_OK && job->ixfr_out != NULL)
		result = dz_file_write_atomic(job->ixfr_out, ixfr.data, ixfr.len, 0644, err);
	report->seconds_write = monotonic_seconds() - t;
cleanup:
	dz_zone_destroy(zone);
	dz_snapshot_close(previous);
	dz_buf_clear(&extra);
	dz_buf_clear(&ixfr);
	report->seconds_total = monotonic_seconds() - start;
	return result;
}
