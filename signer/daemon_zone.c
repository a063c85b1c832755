/*
 * daemon_zone.c -- the zones of the daemon on the loop thread: when to
 * start a job, what goes into it, and what its result changes.
 */
#include "config.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/file.h"
#include "signer/daemon.h"
#include "signer/daemon_job.h"

static void zone_timer_fired(evutil_socket_t fd, short what, void *arg);
static void zone_idle_fired(evutil_socket_t fd, short what, void *arg);

static bool
is_hsm_error(dz_result_t code)
{
	return code >= DZ_EHSM_MODULE && code <= DZ_EHSM;
}

dz_result_t
daemon_zone_create(dz_daemon_t *d, const dz_config_zone_t *conf, daemon_zone_t **out,
		   dz_error_t *err)
{
	daemon_zone_t *z = calloc(1, sizeof(*z));
	char *output = NULL;
	dz_result_t result;

	if (z == NULL || (z->name = strdup(conf->name)) == NULL ||
	    (output = strdup(conf->output != NULL ? conf->output : ".")) == NULL) {
		free(z != NULL ? z->name : NULL);
		free(z);
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	}
	z->daemon = d;
	z->conf = conf;
	dz_records_init(&z->tree_mail);
	z->refresh_at = DZ_TIME_NEVER;
	z->key_event_at = DZ_TIME_NEVER;
	z->parent_check_at = DZ_TIME_NEVER;
	z->retry_at = DZ_TIME_NEVER;
	/* The server reads the folder of the output file (dz_server_config_from_config()). */
	const char *folder = dirname(output);
	result = dz_mkdir_p(folder, 0755, err);
	if (result == DZ_OK)
		result = dz_publish_target_init(&z->target, folder, conf->name,
						(size_t)d->config->server.journal_max_size, err);
	if (result == DZ_OK && conf->output != NULL &&
	    strcmp(conf->output, z->target.text_path) != 0)
		dz_log_zone(DZ_LOG_WARNING, conf->name,
			    "the signed zone file is %s, not output %s: the publisher names the "
			    "file after the zone; set output to that path",
			    z->target.text_path, conf->output);
	free(output);
	if (result != DZ_OK) {
		daemon_zone_destroy(z);
		return result;
	}
	z->timer = evtimer_new(d->base, zone_timer_fired, z);
	z->idle_timer = evtimer_new(d->base, zone_idle_fired, z);
	if (z->timer == NULL || z->idle_timer == NULL) {
		daemon_zone_destroy(z);
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	}
	*out = z;
	return DZ_OK;
}

void
daemon_zone_destroy(daemon_zone_t *z)
{
	if (z == NULL)
		return;
	if (z->timer != NULL)
		event_free(z->timer);
	if (z->idle_timer != NULL)
		event_free(z->idle_timer);
	dz_key_manager_destroy(z->keys);
	free(z->keys_halted);
	dz_zone_destroy(z->tree);
	dz_records_clear(&z->tree_mail);
	free(z->name);
	free(z);
}

daemon_zone_t *
daemon_find_zone(const dz_daemon_t *d, const char *name)
{
	size_t len = strlen(name);

	/* Names match without a trailing dot and in any case, as in the configuration. */
	if (len > 1 && name[len - 1] == '.')
		len--;
	for (size_t i = 0; i < d->zone_count; i++) {
		const char *n = d->zones[i]->name;
		if (strlen(n) == len && strncasecmp(n, name, len) == 0)
			return d->zones[i];
	}
	return NULL;
}

dz_result_t
daemon_zone_recover(daemon_zone_t *z, dz_error_t *err)
{
	dz_snapshot_load_t info;
	dz_publish_status_t status;
	dz_result_t result;

	result = daemon_load_published(&z->target, daemon_now(z->daemon), &z->tree, &info, err);
	if (result == DZ_ENOTFOUND) {
		dz_log_zone(DZ_LOG_NOTICE, z->name, "nothing published yet: the zone is signed in full");
		z->want = DAEMON_WANT_SOURCE | DAEMON_WANT_MAIL | DAEMON_WANT_KEYS;
		return DZ_OK;
	}
	if (result != DZ_OK)
		return dz_error_prefix(err, "zone %s", z->name);
	z->published = true;
	z->tree_from_disk = true;
	z->serial = z->tree->published_serial;
	if (dz_publish_status(&z->target, &status, err) == DZ_OK && status.has_text)
		z->text_serial = status.text_serial;
	z->hook_serial = z->text_serial;
	z->negative_ttl = 0;
	dz_log_zone(DZ_LOG_NOTICE, z->name,
		    "loaded published serial %u from %s (%zu records)", z->serial,
		    z->target.snapshot_path, info.records);
	/* The key states must describe the version that is served before the first plan. */
	daemon_keys_reconcile(z, z->tree, daemon_now(z->daemon));
	z->want = DAEMON_WANT_SOURCE | DAEMON_WANT_MAIL | DAEMON_WANT_KEYS;
	return DZ_OK;
}

void
daemon_zone_request(daemon_zone_t *z, unsigned want)
{
	z->want |= want;
	z->fresh |= want;
	daemon_zone_kick(z);
}

/* Start the sign job of an idle zone. */
static void
start_sign_job(daemon_zone_t *z)
{
	dz_daemon_t *d = z->daemon;
	daemon_job_t *job = calloc(1, sizeof(*job));
	const dz_policy_t *policy = daemon_zone_policy(d, z->conf);
	dz_error_t err;

	dz_error_init(&err);
	if (job == NULL || policy == NULL || !dz_policy_copy(&job->policy, policy) ||
	    (job->source = strdup(z->conf->source)) == NULL) {
		dz_log_zone(DZ_LOG_ERROR, z->name, "cannot start a signing run: out of memory");
		daemon_job_free(job);
		return;
	}
	job->zone = z;
	job->kind = DAEMON_JOB_SIGN;
	job->now = daemon_now(d);
	dz_records_init(&job->mail);
	const dz_records_t *mail = NULL;
	if (!daemon_mail_records(d, z->name, &mail)) {
		/* A probe of the secondaries uses the mail object: its end starts the run. */
		daemon_job_free(job);
		return;
	}
	if (daemon_keys_plan(z, job->now, (z->want & DAEMON_WANT_KEYS) != 0, &job->plan, &job->keys,
			     &err) != DZ_OK) {
		dz_log_condition_raise(&z->sign_condition, DZ_LOG_ERROR,
				       "zone %s: DNSSEC, cannot sign: %s; still serving serial %u",
				       z->name, dz_error_message(&err), z->serial);
		z->failures++;
		z->retry_at = job->now + DZ_DAEMON_RETRY_MAX_SECONDS;
		daemon_job_free(job);
		daemon_zone_schedule(z);
		return;
	}
	job->keys_changed = job->plan != NULL && dz_key_plan_changes_keyset(job->plan);
	job->clock_frozen = z->keys != NULL && dz_key_manager_ring(z->keys)->clock.frozen;
	if (mail != NULL && dz_records_copy(&job->mail, mail) != DZ_OK) {
		dz_log_zone(DZ_LOG_ERROR, z->name, "cannot start a signing run: out of memory");
		daemon_job_free(job);
		return;
	}
	job->tree = z->tree;
	job->tree_mail = z->tree_mail;
	job->tree_mail_known = !z->tree_from_disk;
	z->tree = NULL;
	dz_records_init(&z->tree_mail);
	job->read_source = (z->want & DAEMON_WANT_SOURCE) != 0 || job->tree == NULL ||
			   !job->tree_mail_known;
	job->published_before = z->published;
	job->full_commit = z->tree_from_disk;
	job->target = z->target;
	job->backend = &d->backend;
	z->want = 0;
	z->fresh = 0;
	z->busy = true;
	dz_log_zone(DZ_LOG_DEBUG, z->name, "signing run started%s%s", job->read_source ? ", reading the source" : "",
		    job->keys_changed ? ", the key set changes" : "");
	daemon_workers_submit(d, job);
}

static void
start_materialize_job(daemon_zone_t *z)
{
	daemon_job_t *job = calloc(1, sizeof(*job));

	if (job == NULL || (z->conf->publish_hook != NULL &&
			    (job->hook = strdup(z->conf->publish_hook)) == NULL)) {
		dz_log_zone(DZ_LOG_ERROR, z->name, "cannot rewrite the zone file: out of memory");
		daemon_job_free(job);
		return;
	}
	job->zone = z;
	job->kind = DAEMON_JOB_MATERIALIZE;
	job->target = z->target;
	job->hook_after = z->hook_serial;
	dz_records_init(&job->mail);
	dz_records_init(&job->tree_mail);
	z->materialize_due = false;
	z->busy = true;
	daemon_workers_submit(z->daemon, job);
}

void
daemon_zone_kick(daemon_zone_t *z)
{
	dz_daemon_t *d = z->daemon;

	if (z->busy || z->removed || d->stopping)
		return;
	/* A new file or certificate may repair a failure, so it does not wait for the backoff. */
	if (z->want != 0 && (z->retry_at == DZ_TIME_NEVER || daemon_now(d) >= z->retry_at ||
			     (z->fresh & (DAEMON_WANT_SOURCE | DAEMON_WANT_MAIL)) != 0)) {
		start_sign_job(z);
		return;
	}
	if (z->parent_due) {
		daemon_job_t *job = NULL;
		z->parent_due = false;
		if (daemon_keys_parent_job(z, &job) != DZ_OK) {
			dz_log_zone(DZ_LOG_ERROR, z->name, "cannot ask the parent for the DS: out of memory");
		} else if (job != NULL) {
			z->busy = true;
			daemon_workers_submit(d, job);
			return;
		}
	}
	if (z->materialize_due && !evtimer_pending(z->idle_timer, NULL))
		start_materialize_job(z);
}

void
daemon_zone_schedule(daemon_zone_t *z)
{
	dz_time_t now = daemon_now(z->daemon);
	dz_time_t next = z->refresh_at;

	if (z->key_event_at < next)
		next = z->key_event_at;
	if (z->parent_check_at < next)
		next = z->parent_check_at;
	if (z->retry_at < next)
		next = z->retry_at;
	evtimer_del(z->timer);
	if (next == DZ_TIME_NEVER)
		return;
	/* Wake at least once an hour, so a wall-clock step is noticed within that. */
	int64_t seconds = next > now ? next - now : 0;
	if (seconds > 3600)
		seconds = 3600;
	struct timeval tv = { (time_t)seconds, 0 };
	evtimer_add(z->timer, &tv);
}

static void
zone_timer_fired(evutil_socket_t fd, short what, void *arg)
{
	daemon_zone_t *z = arg;
	dz_time_t now = daemon_now(z->daemon);

	(void)fd;
	(void)what;
	if (z->refresh_at <= now) {
		z->refresh_at = DZ_TIME_NEVER;
		z->want |= DAEMON_WANT_SIGN;
		dz_log_zone(DZ_LOG_INFO, z->name, "DNSSEC, signatures are due for refresh");
	}
	if (z->key_event_at <= now) {
		z->key_event_at = DZ_TIME_NEVER;
		z->want |= DAEMON_WANT_KEYS;
	}
	if (z->parent_check_at <= now) {
		z->parent_check_at = DZ_TIME_NEVER;
		z->parent_due = true;
	}
	if (z->retry_at <= now) {
		z->retry_at = DZ_TIME_NEVER;
		z->want |= DAEMON_WANT_SIGN;
	}
	daemon_zone_kick(z);
	daemon_zone_schedule(z);
}

static void
zone_idle_fired(evutil_socket_t fd, short what, void *arg)
{
	daemon_zone_t *z = arg;

	(void)fd;
	(void)what;
	daemon_zone_kick(z);
}

/* Log the outcome of a failed sign job and plan the retry. */
static void
sign_failed(daemon_zone_t *z, daemon_job_t *job, dz_time_t now)
{
	const char *message = dz_error_message(&job->err);

	switch (job->stage) {
	case DAEMON_STAGE_SOURCE:
		/* Waits for the next change of the file: retrying cannot help. */
		dz_log_zone(DZ_LOG_ERROR, z->name,
			    "zone source not loaded: %s; still serving serial %u; correct %s "
			    "(danezone check-config -c %s lists the problems) and save it again",
			    message, z->serial, job->source, z->daemon->config_path);
		z->source_failed = true;
		return;
	case DAEMON_STAGE_PUBLISH:
		dz_log_condition_raise(&z->publish_condition, DZ_LOG_ERROR,
				       "zone %s: publication failed: %s; still serving serial %u; "
				       "retrying with backoff",
				       z->name, message, z->serial);
		break;
	case DAEMON_STAGE_SIGN:
		if (is_hsm_error(job->result) || job->result == DZ_ESTATE) {
			dz_log_condition_raise(&z->sign_condition, DZ_LOG_ERROR,
					       "zone %s: DNSSEC, signing failed: %s; still serving "
					       "serial %u; retrying with backoff",
					       z->name, message, z->serial);
			break;
		}
		/* fall through */
	default:
		dz_log_zone(DZ_LOG_ERROR, z->name, "signing run failed: %s; still serving serial %u",
			    message, z->serial);
		break;
	}
	int64_t delay = DZ_DAEMON_RETRY_MIN_SECONDS;
	for (unsigned i = 0; i < z->failures && delay < DZ_DAEMON_RETRY_MAX_SECONDS; i++)
		delay *= 2;
	if (delay > DZ_DAEMON_RETRY_MAX_SECONDS)
		delay = DZ_DAEMON_RETRY_MAX_SECONDS;
	z->failures++;
	z->retry_at = now + delay;
	/* The dropped tree is loaded again and brought up to every input. */
	z->want |= DAEMON_WANT_SOURCE | DAEMON_WANT_MAIL | DAEMON_WANT_KEYS;
	dz_log_zone(DZ_LOG_DEBUG, z->name, "next try in %lld s", (long long)delay);
}

static void
sign_finished(daemon_zone_t *z, daemon_job_t *job)
{
	dz_daemon_t *d = z->daemon;
	dz_time_t now = daemon_now(d);
	dz_error_t err;

	z->tree = job->tree;
	z->tree_mail = job->tree_mail;
	job->tree = NULL;
	dz_records_init(&job->tree_mail);
	if (job->loaded_from_disk)
		z->tree_from_disk = true;
	if (job->result == DZ_OK)
		z->tree_from_disk = !job->tree_mail_known;
	if (job->result != DZ_OK) {
		sign_failed(z, job, now);
		return;
	}

	if (job->source_failed) {
		dz_log_zone(DZ_LOG_ERROR, z->name,
			    "zone source not loaded: %s; its last good version stays; correct %s and "
			    "save it again",
			    dz_error_message(&job->source_err), job->source);
		z->source_failed = true;
	} else if (job->read_source && z->source_failed) {
		dz_log_zone(DZ_LOG_NOTICE, z->name, "zone source %s loaded again", job->source);
		z->source_failed = false;
	}
	dz_log_condition_clear(&z->sign_condition, "zone %s: DNSSEC, signing works again", z->name);
	dz_log_condition_clear(&z->publish_condition, "zone %s: publication works again", z->name);
	z->failures = 0;
	z->retry_at = DZ_TIME_NEVER;
	if (job->negative_ttl != z->negative_ttl && z->keys != NULL) {
		/* Key timings wait for negative answers to expire, so the manager needs the TTL. */
		const dz_policy_t *policy = daemon_zone_policy(d, z->conf);
		dz_error_init(&err);
		if (policy != NULL &&
		    dz_key_manager_set_policy(z->keys, policy, job->negative_ttl, &err) != DZ_OK)
			dz_log_zone(DZ_LOG_ERROR, z->name,
				    "DNSSEC, cannot give the key manager the negative TTL %u: %s",
				    job->negative_ttl, dz_error_message(&err));
	}
	z->negative_ttl = job->negative_ttl;
	z->last_rrsets_signed = job->update.sign.rrsets_signed;
	z->last_signatures = job->update.sign.signatures;
	z->last_signatures_kept = job->update.sign.signatures_kept;
	dz_log_zone(DZ_LOG_INFO, z->name, "DNSSEC, signed %zu RRsets, %zu signatures (%zu kept) in %.3f s",
		    job->update.sign.rrsets_signed, job->update.sign.signatures,
		    job->update.sign.signatures_kept, job->seconds);

	if (job->published) {
		z->published = true;
		z->serial = job->serial;
		z->last_published_at = now;
		if (!job->published_before)
			dz_log_zone(DZ_LOG_NOTICE, z->name, "published serial %u (first version)",
				    job->serial);
		else
			dz_log_zone(DZ_LOG_NOTICE, z->name,
				    "published serial %u (%s: %zu records removed, %zu added)",
				    job->serial, job->full_commit ? "full version" : "diff",
				    job->removed, job->added);
		dz_error_init(&err);
		if (daemon_serve_published(d, z->name, &err) != DZ_OK)
			dz_log_zone(DZ_LOG_ERROR, z->name, "the DNS server did not load serial %u: %s",
				    job->serial, dz_error_message(&err));
		daemon_mail_note_published(d, z->name, job->serial, job->negative_ttl, now);
		int64_t now_ms = daemon_monotonic_ms();
		if (!z->materialize_due)
			z->materialize_since = now_ms;
		z->materialize_due = true;
		/*
		 * Each diff postpones the rewrite, but not past the maximum delay:
		 * the journal keeps every entry after the snapshot until then.
		 */
		if (!evtimer_pending(z->idle_timer, NULL) ||
		    now_ms - z->materialize_since < DZ_DAEMON_MATERIALIZE_MAX_DELAY_MS) {
			struct timeval idle = { DZ_DAEMON_MATERIALIZE_IDLE_MS / 1000,
						(DZ_DAEMON_MATERIALIZE_IDLE_MS % 1000) * 1000 };
			evtimer_add(z->idle_timer, &idle);
		}
	}
	if (job->plan != NULL) {
		daemon_keys_commit(z, job->plan, now, job->full_run);
		job->plan = NULL;
	}
	const dz_policy_t *policy = daemon_zone_policy(d, z->conf);
	z->refresh_at = job->keys.count > 0 && job->earliest_expiration != INT64_MAX && policy != NULL
				? job->earliest_expiration - policy->signature_refresh
				: DZ_TIME_NEVER;
	if (z->refresh_at != DZ_TIME_NEVER && z->refresh_at <= now)
		z->refresh_at = now + 1;
}

static void
materialize_finished(daemon_zone_t *z, daemon_job_t *job)
{
	dz_error_t err;

	if (job->result != DZ_OK) {
		dz_log_condition_raise(&z->publish_condition, DZ_LOG_ERROR,
				       "zone %s: cannot rewrite the zone file %s: %s; retrying later",
				       z->name, z->target.text_path, dz_error_message(&job->err));
		z->materialize_due = true;
		struct timeval later = { DZ_DAEMON_RETRY_MAX_SECONDS / 10, 0 };
		evtimer_add(z->idle_timer, &later);
		return;
	}
	z->text_serial = job->text_serial;
	dz_log_zone(DZ_LOG_DEBUG, z->name, "zone file %s at serial %u", z->target.text_path,
		    job->text_serial);
	dz_error_init(&err);
	/* The server maps the new snapshot, so AXFR no longer merges the journal. */
	if (daemon_serve_published(z->daemon, z->name, &err) != DZ_OK)
		dz_log_zone(DZ_LOG_ERROR, z->name, "the DNS server did not load the new snapshot: %s",
			    dz_error_message(&err));
	if (job->hook_ran) {
		z->hook_serial = job->text_serial;
		if (job->hook_result == DZ_OK)
			dz_log_zone(DZ_LOG_NOTICE, z->name, "publish hook for serial %u exited with status 0",
				    job->text_serial);
		else
			dz_log_zone(DZ_LOG_ERROR, z->name, "publish hook for serial %u failed: %s",
				    job->text_serial, dz_error_message(&job->hook_err));
	}
	if (z->text_serial != z->serial)
		z->materialize_due = true;
}

void
daemon_job_finished(dz_daemon_t *d, daemon_job_t *job)
{
	daemon_zone_t *z = job->zone;

	if (job->kind == DAEMON_JOB_PROBE) {
		daemon_job_free(job);
		daemon_mail_probe_finished(d);
		return;
	}
	z->busy = false;
	if (z->removed) {
		daemon_job_free(job);
		daemon_zone_destroy(z);
		return;
	}
	if (job->kind == DAEMON_JOB_SIGN)
		sign_finished(z, job);
	else if (job->kind == DAEMON_JOB_PARENT)
		daemon_keys_parent_answers(z, job, daemon_now(d));
	else
		materialize_finished(z, job);
	daemon_job_free(job);
	if (!d->started && daemon_zones_settled(d)) {
		d->started = true;
		dz_log(DZ_LOG_NOTICE, "started: %zu zones, DNS server on port %d", d->zone_count,
		       daemon_serve_port(d, AF_INET) != 0 ? daemon_serve_port(d, AF_INET)
							   : daemon_serve_port(d, AF_INET6));
	}
	daemon_zone_schedule(z);
	daemon_zone_kick(z);
}

bool
daemon_zones_settled(const dz_daemon_t *d)
{
	for (size_t i = 0; i < d->zone_count; i++) {
		const daemon_zone_t *z = d->zones[i];
		/*
		 * A zone whose runs keep failing counts: its error is logged and it
		 * retries by itself.  The first retries come within seconds.
		 */
		if (z->source_failed || z->failures >= 3)
			continue;
		if (z->busy || z->want != 0)
			return false;
	}
	return true;
}

void
daemon_zones_materialize_all(dz_daemon_t *d)
{
	for (size_t i = 0; i < d->zone_count; i++) {
		daemon_zone_t *z = d->zones[i];
		if (!z->published || z->busy)
			continue;
		daemon_job_t job;
		memset(&job, 0, sizeof(job));
		job.zone = z;
		job.kind = DAEMON_JOB_MATERIALIZE;
		job.target = z->target;
		job.hook = z->conf->publish_hook != NULL ? strdup(z->conf->publish_hook) : NULL;
		job.hook_after = z->hook_serial;
		daemon_job_run(&job);
		if (job.result != DZ_OK)
			dz_log_zone(DZ_LOG_ERROR, z->name, "cannot rewrite the zone file %s: %s",
				    z->target.text_path, dz_error_message(&job.err));
		else
			materialize_finished(z, &job);
		free(job.hook);
	}
}
