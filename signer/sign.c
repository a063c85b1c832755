#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "signer/apex.h"
#include "signer/rrsig.h"
#include "signer/sign.h"

/* Seconds between progress lines of a long signing run. */
#define PROGRESS_INTERVAL 5.0
/* RRsets per batch: large enough to keep a multi-process service busy. */
#define DEFAULT_BATCH 256

/* One RRset that needs new signatures. */
typedef struct sign_job {
	dz_rrset_t *rrset;
	dz_node_t *node;    /* owner node, or NULL for an NSEC3 record */
	dz_nsec3_t *entry;  /* the NSEC3 entry when node is NULL */
	uint64_t need;	    /* key indices to sign with */
	uint64_t keep;	    /* indices of existing signatures to keep */
} sign_job_t;

typedef struct sign_run {
	dz_zone_t *zone;
	const dz_sign_params_t *params;
	const dz_sign_backend_t *backend;
	sign_job_t *jobs;
	size_t job_count;
	size_t batch;
	atomic_size_t next_job;
	atomic_size_t jobs_done;
	atomic_size_t signatures;
	atomic_bool stop;

	pthread_mutex_t lock;
	pthread_cond_t finished;
	unsigned running;
	dz_result_t result;
	dz_error_t err;
	int64_t earliest;
} sign_run_t;

bool
dz_sign_rrset_is_signed(const dz_node_t *node, uint16_t type)
{
	if (node->flags & DZ_NODE_OCCLUDED)
		return false;
	if (node->flags & DZ_NODE_DELEGATION)
		return type == DZ_TYPE_DS || type == DZ_TYPE_NSEC;
	return true;
}

bool
dz_sign_uses_key_keys(const dz_node_t *node, uint16_t type)
{
	return (node->flags & DZ_NODE_APEX) &&
	       (type == DZ_TYPE_DNSKEY || type == DZ_TYPE_CDS || type == DZ_TYPE_CDNSKEY);
}

static double
monotonic_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t
wanted_keys(const dz_keyset_t *keys, bool key_keys)
{
	uint64_t mask = 0;

	for (size_t i = 0; i < keys->count; i++) {
		if (key_keys ? keys->keys[i].sign_keys : keys->keys[i].sign_zone)
			mask |= (uint64_t)1 << i;
	}
	return mask;
}

/*
 * Decide which signatures of an RRset stay and which keys must sign.
 * Returns the indices of existing signatures to keep in *keep and of keys
 * that must sign in *need.
 */
static void
examine(const dz_zone_t *zone, const dz_sign_params_t *params, const dz_rrset_t *rrset,
	uint8_t labels, uint64_t wanted, uint64_t *keep, uint64_t *need, int64_t *earliest,
	int64_t *latest_inception)
{
	uint64_t covered = 0;
	dz_rdata_iter_t it;
	const uint8_t *rdata;
	uint16_t len;
	unsigned index = 0;

	*keep = 0;
	if (rrset->sigs != NULL && !(rrset->flags & DZ_RRSET_CHANGED)) {
		dz_rdata_iter_init(&it, rrset->sigs->data, rrset->sigs->len);
		for (; index < 64 && dz_rdata_iter_next(&it, &rdata, &len); index++) {
			dz_rrsig_fields_t f;
			if (!dz_rrsig_parse(rdata, len, &f) || f.type_covered != rrset->type ||
			    f.labels != labels || f.original_ttl != rrset->ttl ||
			    f.signer_len != zone->origin_wire_len ||
			    memcmp(f.signer, zone->origin_wire, f.signer_len) != 0)
				continue;
			if (dz_rrsig_time(f.inception, params->now) > params->now ||
			    dz_rrsig_time(f.expiration, params->now) - params->now <= params->refresh)
				continue;
			for (size_t k = 0; k < params->keys->count; k++) {
				const dz_zone_key_t *key = &params->keys->keys[k];
				uint64_t bit = (uint64_t)1 << k;
				if ((wanted & bit) && !(covered & bit) && key->algorithm == f.algorithm &&
				    key->key_tag == f.key_tag) {
					int64_t expiration = dz_rrsig_time(f.expiration, params->now);
					int64_t inception = dz_rrsig_time(f.inception, params->now);
					if (expiration < *earliest)
						*earliest = expiration;
					if (inception > *latest_inception)
						*latest_inception = inception;
					covered |= bit;
					*keep |= (uint64_t)1 << index;
					break;
				}
			}
		}
	}
	*need = wanted & ~covered;
}

/* The existing signatures selected by `keep`, as a blob. */
static dz_result_t
kept_sigs(const dz_rrset_t *rrset, uint64_t keep, dz_buf_t *out, uint16_t *count)
{
	dz_rdata_iter_t it;
	const uint8_t *rdata;
	uint16_t len;
	dz_result_t result = DZ_OK;

	*count = 0;
	if (rrset->sigs == NULL)
		return DZ_OK;
	dz_rdata_iter_init(&it, rrset->sigs->data, rrset->sigs->len);
	for (unsigned index = 0; index < 64 && result == DZ_OK && dz_rdata_iter_next(&it, &rdata, &len);
	     index++) {
		if (!(keep & ((uint64_t)1 << index)))
			continue;
		result = dz_buf_append_u16(out, len);
		if (result == DZ_OK)
			result = dz_buf_append(out, rdata, len);
		(*count)++;
	}
	return result;
}

static unsigned
popcount64(uint64_t v)
{
	unsigned n = 0;

	for (; v != 0; v &= v - 1)
		n++;
	return n;
}

typedef struct plan {
	sign_job_t *jobs;
	size_t count;
	size_t cap;
	int64_t earliest; /* earliest expiration of the kept signatures */
	int64_t latest_inception; /* latest inception of the kept signatures */
} plan_t;

static dz_result_t
plan_rrset(dz_zone_t *zone, const dz_sign_params_t *params, plan_t *plan, dz_sign_stats_t *stats,
	   dz_node_t *node, dz_nsec3_t *entry, dz_rrset_t *rrset)
{
	uint64_t wanted = 0;
	uint64_t keep;
	uint64_t need;
	uint8_t labels;
	unsigned existing = rrset->sigs != NULL ? rrset->sigs->count : 0;
	dz_result_t result;

	stats->rrsets_checked++;
	if (entry != NULL) {
		wanted = wanted_keys(params->keys, false);
		labels = (uint8_t)(dz_name_key_labels(zone->origin_key, zone->origin_key_len) + 1);
	} else {
		if (dz_sign_rrset_is_signed(node, rrset->type))
			wanted = wanted_keys(params->keys, dz_sign_uses_key_keys(node, rrset->type));
		labels = dz_rrsig_labels(node->key, node->key_len);
	}
	examine(zone, params, rrset, labels, wanted, &keep, &need, &plan->earliest,
		&plan->latest_inception);
	stats->signatures_kept += popcount64(keep);
	stats->signatures_dropped += existing - popcount64(keep);

	if (need == 0) {
		rrset->flags &= (uint16_t)~DZ_RRSET_CHANGED;
		if (popcount64(keep) == existing)
			return DZ_OK;
	}
	result = entry != NULL ? dz_zone_touch_nsec3(zone, entry) : dz_zone_touch(zone, node);
	if (result != DZ_OK)
		return result;
	if (need == 0) {
		/* Only drop signatures: no signing needed. */
		dz_buf_t blob;
		uint16_t count;
		dz_sigset_t *sigs = NULL;
		dz_buf_init(&blob);
		result = kept_sigs(rrset, keep, &blob, &count);
		if (result == DZ_OK && count > 0) {
			sigs = dz_sigset_new(count, blob.data, blob.len);
			if (sigs == NULL)
				result = DZ_ENOMEM;
		}
		dz_buf_clear(&blob);
		if (result == DZ_OK) {
			free(rrset->sigs);
			rrset->sigs = sigs;
		}
		return result;
	}
	if (plan->count == plan->cap) {
		size_t cap = plan->cap == 0 ? 1024 : plan->cap * 2;
		sign_job_t *jobs = realloc(plan->jobs, cap * sizeof(*jobs));
		if (jobs == NULL)
			return DZ_ENOMEM;
		plan->jobs = jobs;
		plan->cap = cap;
	}
	plan->jobs[plan->count++] = (sign_job_t){ rrset, node, entry, need, keep };
	return DZ_OK;
}

static dz_result_t
plan_node(dz_zone_t *zone, const dz_sign_params_t *params, plan_t *plan, dz_sign_stats_t *stats,
	  dz_node_t *node)
{
	dz_result_t result = DZ_OK;

	for (dz_rrset_t *r = node->rrsets; r != NULL && result == DZ_OK; r = r->next)
		result = plan_rrset(zone, params, plan, stats, node, NULL, r);
	if (result == DZ_OK && node->nsec != NULL)
		result = plan_rrset(zone, params, plan, stats, node, NULL, node->nsec);
	return result;
}

/* Build, sign and store one batch of jobs. */
static dz_result_t
run_batch(sign_run_t *run, sign_job_t *jobs, size_t count, int64_t *earliest, dz_error_t *err)
{
	const dz_sign_params_t *params = run->params;
	const dz_keyset_t *keys = params->keys;
	dz_zone_t *zone = run->zone;
	dz_sign_request_t *requests = NULL;
	size_t *offsets = NULL;
	size_t request_count = 0;
	size_t r = 0;
	dz_buf_t data;
	dz_buf_t blob;
	dz_result_t result = DZ_OK;

	dz_buf_init(&data);
	dz_buf_init(&blob);
	for (size_t j = 0; j < count; j++)
		request_count += popcount64(jobs[j].need);
	requests = calloc(request_count, sizeof(*requests));
	offsets = calloc(request_count + 1, sizeof(*offsets));
	if (requests == NULL || offsets == NULL) {
		result = dz_error_set(err, DZ_ENOMEM, "out of memory");
		goto cleanup;
	}

	for (size_t j = 0; j < count && result == DZ_OK; j++) {
		sign_job_t *job = &jobs[j];
		uint8_t key[DZ_NAME_KEY_MAX];
		size_t key_len;
		uint8_t owner[DZ_NAME_WIRE_MAX];
		size_t owner_len;
		uint8_t labels;
		bool key_keys = false;

		if (job->node != NULL) {
			key_len = job->node->key_len;
			memcpy(key, job->node->key, key_len);
			labels = dz_rrsig_labels(key, key_len);
			key_keys = dz_sign_uses_key_keys(job->node, job->rrset->type);
		} else {
			key_len = dz_zone_nsec3_owner_key(zone, job->entry->hash, key);
			labels = (uint8_t)dz_name_key_labels(key, key_len);
		}
		owner_len = dz_name_wire_from_key(key, key_len, owner);
		for (size_t k = 0; k < keys->count && result == DZ_OK; k++) {
			const dz_zone_key_t *zk = &keys->keys[k];
			uint8_t head[DZ_RRSIG_FIXED_LEN + DZ_NAME_WIRE_MAX];
			int64_t validity = key_keys ? params->validity_keys : params->validity;
			int64_t expiration;
			int64_t inception = params->now - params->inception_offset;

			if (!(job->need & ((uint64_t)1 << k)))
				continue;
			expiration = params->now + validity -
				     dz_rrsig_jitter(key, key_len, job->rrset->type, zk->key_tag,
						     params->jitter);
			if (expiration < *earliest)
				*earliest = expiration;
			head[0] = (uint8_t)(job->rrset->type >> 8);
			head[1] = (uint8_t)job->rrset->type;
			head[2] = zk->algorithm;
			head[3] = labels;
			head[4] = (uint8_t)(job->rrset->ttl >> 24);
			head[5] = (uint8_t)(job->rrset->ttl >> 16);
			head[6] = (uint8_t)(job->rrset->ttl >> 8);
			head[7] = (uint8_t)job->rrset->ttl;
			head[8] = (uint8_t)((uint32_t)expiration >> 24);
			head[9] = (uint8_t)((uint32_t)expiration >> 16);
			head[10] = (uint8_t)((uint32_t)expiration >> 8);
			head[11] = (uint8_t)(uint32_t)expiration;
			head[12] = (uint8_t)((uint32_t)inception >> 24);
			head[13] = (uint8_t)((uint32_t)inception >> 16);
			head[14] = (uint8_t)((uint32_t)inception >> 8);
			head[15] = (uint8_t)(uint32_t)inception;
			head[16] = (uint8_t)(zk->key_tag >> 8);
			head[17] = (uint8_t)zk->key_tag;
			memcpy(head + DZ_RRSIG_FIXED_LEN, zone->origin_wire, zone->origin_wire_len);

			offsets[r] = data.len;
			result = dz_rrsig_signed_data(&data, head, DZ_RRSIG_FIXED_LEN + zone->origin_wire_len,
						      owner, owner_len, job->rrset);
			memcpy(requests[r].key_id, zk->key_id, zk->key_id_len);
			requests[r].key_id_len = zk->key_id_len;
			requests[r].algorithm = zk->algorithm;
			r++;
		}
	}
	if (result != DZ_OK) {
		dz_error_set(err, result, "out of memory building signed data");
		goto cleanup;
	}
	offsets[r] = data.len;
	for (size_t i = 0; i < request_count; i++) {
		requests[i].data = data.data + offsets[i];
		requests[i].data_len = offsets[i + 1] - offsets[i];
	}

	result = run->backend->sign(run->backend->ctx, requests, request_count, err);
	if (result != DZ_OK)
		goto cleanup;

	/* Store: kept signatures, then the new ones (head from the signed data, then the signature). */
	r = 0;
	for (size_t j = 0; j < count && result == DZ_OK; j++) {
		sign_job_t *job = &jobs[j];
		uint16_t sig_count = 0;
		dz_sigset_t *sigs;

		blob.len = 0;
		result = kept_sigs(job->rrset, job->keep, &blob, &sig_count);
		for (size_t k = 0; k < keys->count && result == DZ_OK; k++) {
			size_t head_len = DZ_RRSIG_FIXED_LEN + zone->origin_wire_len;
			dz_sign_request_t *req;

			if (!(job->need & ((uint64_t)1 << k)))
				continue;
			req = &requests[r++];
			result = dz_buf_append_u16(&blob, (uint16_t)(head_len + req->signature_len));
			if (result == DZ_OK)
				result = dz_buf_append(&blob, req->data, head_len);
			if (result == DZ_OK)
				result = dz_buf_append(&blob, req->signature, req->signature_len);
			sig_count++;
		}
		if (result != DZ_OK)
			break;
		sigs = dz_sigset_new(sig_count, blob.data, blob.len);
		if (sigs == NULL) {
			result = DZ_ENOMEM;
			break;
		}
		free(job->rrset->sigs);
		job->rrset->sigs = sigs;
		job->rrset->flags &= (uint16_t)~DZ_RRSET_CHANGED;
	}
	if (result != DZ_OK)
		dz_error_set(err, result, "out of memory storing signatures");
	else
		atomic_fetch_add(&run->signatures, request_count);
cleanup:
	dz_buf_clear(&data);
	dz_buf_clear(&blob);
	free(requests);
	free(offsets);
	return result;
}

static void *
worker(void *arg)
{
	sign_run_t *run = arg;
	int64_t earliest = INT64_MAX;
	dz_error_t err;
	dz_result_t result = DZ_OK;

	dz_error_init(&err);
	while (!atomic_load(&run->stop)) {
		size_t start = atomic_fetch_add(&run->next_job, run->batch);
		size_t count;

		if (start >= run->job_count)
			break;
		count = run->job_count - start < run->batch ? run->job_count - start : run->batch;
		result = run_batch(run, run->jobs + start, count, &earliest, &err);
		if (result != DZ_OK) {
			atomic_store(&run->stop, true);
			break;
		}
		atomic_fetch_add(&run->jobs_done, count);
	}

	pthread_mutex_lock(&run->lock);
	if (result != DZ_OK && run->result == DZ_OK) {
		run->result = result;
		run->err = err;
	}
	if (earliest < run->earliest)
		run->earliest = earliest;
	run->running--;
	pthread_cond_signal(&run->finished);
	pthread_mutex_unlock(&run->lock);
	return NULL;
}

static void
log_progress(const sign_run_t *run, double started, double now)
{
	size_t done = atomic_load(&run->jobs_done);
	size_t sigs = atomic_load(&run->signatures);
	double elapsed = now - started;
	double rate = elapsed > 0 ? (double)sigs / elapsed : 0;
	double left = done > 0 ? elapsed * (double)(run->job_count - done) / (double)done : 0;

	dz_log_zone(DZ_LOG_NOTICE, run->zone->origin_text,
		    "DNSSEC, signed %zu of %zu RRsets, %.0f signatures/s, about %.0f s left", done,
		    run->job_count, rate, left);
}

/* Run the jobs on worker threads; the calling thread logs progress. */
static dz_result_t
execute(sign_run_t *run, unsigned threads, dz_error_t *err)
{
	pthread_t *ids = calloc(threads, sizeof(*ids));
	double started = monotonic_seconds();
	double last_log = started;
	unsigned created = 0;
	dz_result_t result = DZ_OK;

	if (ids == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	pthread_mutex_lock(&run->lock);
	for (; created < threads; created++) {
		run->running++;
		if (pthread_create(&ids[created], NULL, worker, run) != 0) {
			run->running--;
			break;
		}
	}
	if (created == 0) {
		pthread_mutex_unlock(&run->lock);
		free(ids);
		return dz_error_set(err, DZ_EAGAIN, "could not start signing threads");
	}
	while (run->running > 0) {
		struct timespec deadline;
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_sec += 1;
		pthread_cond_timedwait(&run->finished, &run->lock, &deadline);
		double now = monotonic_seconds();
		if (run->running > 0 && now - last_log >= PROGRESS_INTERVAL) {
			log_progress(run, started, now);
			last_log = now;
		}
	}
	pthread_mutex_unlock(&run->lock);
	for (unsigned i = 0; i < created; i++)
		pthread_join(ids[i], NULL);
	free(ids);
	if (run->result != DZ_OK) {
		result = run->result;
		if (err != NULL)
			*err = run->err;
	}
	return result;
}

dz_result_t
dz_sign_zone(dz_zone_t *zone, const dz_sign_params_t *params, const dz_sign_backend_t *backend,
	     bool all, dz_sign_stats_t *stats, dz_error_t *err)
{
	plan_t plan = { NULL, 0, 0, INT64_MAX, INT64_MIN };
	sign_run_t run;
	double started = monotonic_seconds();
	unsigned threads;
	dz_result_t result = DZ_OK;
	long cpus;

	memset(stats, 0, sizeof(*stats));
	if (params->keys->count > 64)
		return dz_error_set(err, DZ_ERANGE, "zone %s: at most 64 keys are supported",
				    zone->origin_text);

	if (all) {
		for (dz_node_t *n = dz_zone_first(zone); n != NULL && result == DZ_OK; n = dz_zone_next(n))
			result = plan_node(zone, params, &plan, stats, n);
		for (dz_nsec3_t *e = dz_zone_nsec3_first(zone); e != NULL && result == DZ_OK;
		     e = dz_zone_nsec3_next(e))
			result = plan_rrset(zone, params, &plan, stats, NULL, e, e->rrset);
	} else {
		for (size_t i = 0; i < zone->dirty.count && result == DZ_OK; i++) {
			dz_node_t *n = zone->dirty.items[i];
			if (!(n->flags & DZ_NODE_DEAD))
				result = plan_node(zone, params, &plan, stats, n);
		}
		for (size_t i = 0; i < zone->dirty_nsec3.count && result == DZ_OK; i++) {
			dz_nsec3_t *e = zone->dirty_nsec3.items[i];
			if (!(e->flags & DZ_NSEC3_DEAD) && e->rrset != NULL)
				result = plan_rrset(zone, params, &plan, stats, NULL, e, e->rrset);
		}
	}
	if (result != DZ_OK) {
		free(plan.jobs);
		return dz_error_set(err, result, "zone %s: out of memory planning signatures",
				    zone->origin_text);
	}
	if (all) {
		zone->earliest_expiration = INT64_MAX;
		zone->latest_inception = INT64_MIN;
	}
	if (plan.latest_inception > zone->latest_inception)
		zone->latest_inception = plan.latest_inception;
	if (plan.count > 0 && params->now - params->inception_offset > zone->latest_inception)
		zone->latest_inception = params->now - params->inception_offset;
	if (plan.count == 0)
		goto done;

	memset(&run, 0, sizeof(run));
	run.zone = zone;
	run.params = params;
	run.backend = backend;
	run.jobs = plan.jobs;
	run.job_count = plan.count;
	run.batch = params->batch > 0 ? params->batch : DEFAULT_BATCH;
	run.earliest = INT64_MAX;
	run.result = DZ_OK;
	dz_error_init(&run.err);
	pthread_mutex_init(&run.lock, NULL);
	pthread_cond_init(&run.finished, NULL);

	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	threads = params->threads;
	if (threads == 0) {
		/*
		 * Two batches per signature the backend computes at once, plus one:
		 * while a batch is being signed the next one is already queued.
		 */
		threads = 2 * backend->parallelism + 1;
		if (cpus > 0 && threads < (unsigned)cpus)
			threads = (unsigned)cpus;
	}
	if (threads > 64)
		threads = 64;
	if ((size_t)threads > (plan.count + run.batch - 1) / run.batch)
		threads = (unsigned)((plan.count + run.batch - 1) / run.batch);

	result = execute(&run, threads, err);
	stats->signatures = atomic_load(&run.signatures);
	stats->rrsets_signed = atomic_load(&run.jobs_done);
	if (run.earliest < zone->earliest_expiration)
		zone->earliest_expiration = run.earliest;
	pthread_mutex_destroy(&run.lock);
	pthread_cond_destroy(&run.finished);
	if (result != DZ_OK)
		dz_error_prefix(err, "zone %s: signing failed", zone->origin_text);
done:
	/* Kept signatures count toward the earliest expiration too. */
	if (plan.earliest < zone->earliest_expiration)
		zone->earliest_expiration = plan.earliest;
	free(plan.jobs);
	stats->seconds = monotonic_seconds() - started;
	return result;
}
