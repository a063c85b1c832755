/*
 * daemon_reload.c -- the inputs that change while the daemon runs: the
 * mail records (certificates and keys, through zones/mail.h), the zone
 * sources (through zones/watch.h), and the configuration on SIGHUP.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "signer/daemon.h"
#include "signer/daemon_job.h"

/* Wake at least this often to update the mail records, so a wall-clock step is noticed. */
#define MAIL_MAX_WAIT_MS 60000
/* How often the secondaries are asked for their serial while a TLSA rollover waits for them. */
#define SECONDARY_PROBE_MS 10000

/* A publication to pass to dz_mail_note_published() once a probe ended. */
struct daemon_note {
	char *zone;
	uint32_t serial;
	uint32_t negative_ttl;
	dz_time_t now;
};

static void mail_arm(dz_daemon_t *d);
static void mail_update(dz_daemon_t *d);

static void
note_now(dz_daemon_t *d, const char *zone, uint32_t serial, uint32_t negative_ttl, dz_time_t now)
{
	dz_error_t err;

	dz_error_init(&err);
	if (dz_mail_note_published(d->mail, zone, serial, negative_ttl, now, &err) != DZ_OK)
		dz_log_zone(DZ_LOG_ERROR, zone, "cannot record the published mail records: %s",
			    dz_error_message(&err));
}

void
daemon_mail_note_published(dz_daemon_t *d, const char *zone, uint32_t serial,
			   uint32_t negative_ttl, dz_time_t now)
{
	if (d->mail == NULL)
		return;
	if (!d->mail_probing) {
		note_now(d, zone, serial, negative_ttl, now);
		return;
	}
	struct daemon_note *notes = realloc(d->mail_notes,
					    (d->mail_note_count + 1) * sizeof(*notes));
	char *copy = strdup(zone);
	if (notes == NULL || copy == NULL) {
		free(copy);
		if (notes != NULL)
			d->mail_notes = notes;
		dz_log_zone(DZ_LOG_ERROR, zone, "cannot record serial %u for the TLSA rollover: out of "
			    "memory", serial);
		return;
	}
	d->mail_notes = notes;
	notes[d->mail_note_count++] = (struct daemon_note){ copy, serial, negative_ttl, now };
}

bool
daemon_mail_records(const dz_daemon_t *d, const char *zone, const dz_records_t **records)
{
	*records = NULL;
	if (d->mail_probing)
		return false;
	if (d->mail != NULL)
		*records = dz_mail_records(d->mail, zone);
	return true;
}

/* Hand the mail object to a worker that asks the secondaries for their serials. */
static void
start_probe(dz_daemon_t *d)
{
	daemon_job_t *job = calloc(1, sizeof(*job));

	if (job == NULL) {
		dz_log(DZ_LOG_ERROR, "cannot ask the secondaries for their serials: out of memory");
		return;
	}
	job->kind = DAEMON_JOB_PROBE;
	job->mail_obj = d->mail;
	job->now = daemon_now(d);
	dz_records_init(&job->mail);
	dz_records_init(&job->tree_mail);
	d->mail_probing = true;
	/* The descriptor stays readable until the probe ends; its events wait for that. */
	event_del(d->mail_event);
	evtimer_del(d->mail_timer);
	daemon_workers_submit(d, job);
}

void
daemon_mail_probe_finished(dz_daemon_t *d)
{
	d->mail_probing = false;
	d->mail_probe_at = daemon_monotonic_ms() + SECONDARY_PROBE_MS;
	for (size_t i = 0; i < d->mail_note_count; i++) {
		struct daemon_note *note = &d->mail_notes[i];
		note_now(d, note->zone, note->serial, note->negative_ttl, note->now);
		free(note->zone);
	}
	free(d->mail_notes);
	d->mail_notes = NULL;
	d->mail_note_count = 0;
	if (d->stopping)
		return;
	event_add(d->mail_event, NULL);
	dz_mail_process_events(d->mail, daemon_monotonic_ms());
	mail_update(d);
	/* Zones that wanted to start a run while the mail records were busy. */
	for (size_t i = 0; i < d->zone_count; i++)
		daemon_zone_kick(d->zones[i]);
	if (d->reload_pending) {
		d->reload_pending = false;
		daemon_reload(d);
		return;
	}
	mail_arm(d);
}

static dz_result_t
mail_changed(void *ctx, const char *zone, const dz_records_t *added, const dz_records_t *removed)
{
	dz_daemon_t *d = ctx;
	daemon_zone_t *z = daemon_find_zone(d, zone);

	if (z == NULL)
		return DZ_OK;
	dz_log_zone(DZ_LOG_INFO, zone, "mail records changed: %zu added, %zu removed", added->count,
		    removed->count);
	/* The job copies the whole current set, so the change itself is not kept here. */
	z->want |= DAEMON_WANT_MAIL;
	z->fresh |= DAEMON_WANT_MAIL;
	return DZ_OK;
}

static void
mail_update(dz_daemon_t *d)
{
	if (d->mail_probing)
		return;
	int64_t now_ms = daemon_monotonic_ms();
	dz_time_t now = daemon_now(d);
	dz_error_t err;

	dz_error_init(&err);
	if (dz_mail_update(d->mail, now, now_ms, mail_changed, d, &err) != DZ_OK)
		dz_log(DZ_LOG_ERROR, "cannot update the mail records: %s", dz_error_message(&err));
	for (size_t i = 0; i < d->zone_count; i++) {
		if (d->zones[i]->want & DAEMON_WANT_MAIL)
			daemon_zone_kick(d->zones[i]);
	}
}

static void
mail_readable(evutil_socket_t fd, short what, void *arg)
{
	dz_daemon_t *d = arg;

	(void)fd;
	(void)what;
	dz_mail_process_events(d->mail, daemon_monotonic_ms());
	mail_arm(d);
}

static void
mail_timer_fired(evutil_socket_t fd, short what, void *arg)
{
	dz_daemon_t *d = arg;

	(void)fd;
	(void)what;
	if (d->mail_probing)
		return;
	mail_update(d);
	if (dz_mail_awaits_secondaries(d->mail) && daemon_monotonic_ms() >= d->mail_probe_at &&
	    !d->stopping) {
		start_probe(d);
		return;
	}
	mail_arm(d);
}

/* Arm the mail timer for the next time dz_mail_update() has work. */
static void
mail_arm(dz_daemon_t *d)
{
	int64_t wait = dz_mail_timeout_ms(d->mail, daemon_now(d), daemon_monotonic_ms());

	if (wait < 0 || wait > MAIL_MAX_WAIT_MS)
		wait = MAIL_MAX_WAIT_MS;
	if (dz_mail_awaits_secondaries(d->mail)) {
		int64_t probe = d->mail_probe_at - daemon_monotonic_ms();
		if (probe < 0)
			probe = 0;
		if (wait > probe)
			wait = probe;
	}
	struct timeval tv = { (time_t)(wait / 1000), (suseconds_t)((wait % 1000) * 1000) };
	evtimer_add(d->mail_timer, &tv);
}

dz_result_t
daemon_mail_start(dz_daemon_t *d, dz_error_t *err)
{
	dz_result_t result = dz_mail_create(d->config, DZ_MAIL_WATCH, daemon_monotonic_ms(),
					    &d->mail, err);

	if (result != DZ_OK)
		return dz_error_prefix(err, "mail records");
	d->mail_timer = evtimer_new(d->base, mail_timer_fired, d);
	d->mail_event = event_new(d->base, dz_mail_fd(d->mail), EV_READ | EV_PERSIST, mail_readable,
				  d);
	if (d->mail_timer == NULL || d->mail_event == NULL || event_add(d->mail_event, NULL) != 0)
		return dz_error_set(err, DZ_ENOMEM, "cannot add the mail record events");
	/* The first update reports every record, before the zones' first jobs copy them. */
	mail_update(d);
	mail_arm(d);
	return DZ_OK;
}

void
daemon_mail_stop(dz_daemon_t *d)
{
	if (d->mail_event != NULL)
		event_free(d->mail_event);
	if (d->mail_timer != NULL)
		event_free(d->mail_timer);
	d->mail_event = NULL;
	d->mail_timer = NULL;
	dz_mail_destroy(d->mail);
	d->mail = NULL;
}

static void
watch_arm(dz_daemon_t *d)
{
	int64_t due = dz_watch_next_due(d->watch);

	evtimer_del(d->watch_timer);
	if (due < 0)
		return;
	int64_t wait = due - daemon_monotonic_ms();
	if (wait < 0)
		wait = 0;
	struct timeval tv = { (time_t)(wait / 1000), (suseconds_t)((wait % 1000) * 1000) };
	evtimer_add(d->watch_timer, &tv);
}

static void
watch_readable(evutil_socket_t fd, short what, void *arg)
{
	dz_daemon_t *d = arg;

	(void)fd;
	(void)what;
	dz_watch_process(d->watch, daemon_monotonic_ms());
	watch_arm(d);
}

static void
watch_timer_fired(evutil_socket_t fd, short what, void *arg)
{
	dz_daemon_t *d = arg;
	uintptr_t tags[64];
	size_t count;

	(void)fd;
	(void)what;
	dz_watch_refresh(d->watch);
	while ((count = dz_watch_take_due(d->watch, daemon_monotonic_ms(), tags,
					  DZ_ARRAY_SIZE(tags))) > 0) {
		for (size_t i = 0; i < count; i++) {
			if (tags[i] == 0 || tags[i] > d->zone_count)
				continue;
			daemon_zone_t *z = d->zones[tags[i] - 1];
			dz_log_zone(DZ_LOG_INFO, z->name, "zone source %s changed", z->conf->source);
			daemon_zone_request(z, DAEMON_WANT_SOURCE);
		}
	}
	watch_arm(d);
}

dz_result_t
daemon_watch_start(dz_daemon_t *d, dz_error_t *err)
{
	dz_result_t result = dz_watch_create(&d->watch, err);

	if (result != DZ_OK)
		return result;
	for (size_t i = 0; i < d->zone_count; i++) {
		dz_error_t watch_err;
		dz_error_init(&watch_err);
		/* A missing folder is retried by dz_watch_refresh(); the zone still runs. */
		if (dz_watch_add_file(d->watch, d->zones[i]->conf->source, i + 1, &watch_err) != DZ_OK)
			dz_log_zone(DZ_LOG_WARNING, d->zones[i]->name, "cannot watch %s: %s",
				    d->zones[i]->conf->source, dz_error_message(&watch_err));
	}
	d->watch_timer = evtimer_new(d->base, watch_timer_fired, d);
	d->watch_event = event_new(d->base, dz_watch_fd(d->watch), EV_READ | EV_PERSIST,
				   watch_readable, d);
	if (d->watch_timer == NULL || d->watch_event == NULL || event_add(d->watch_event, NULL) != 0)
		return dz_error_set(err, DZ_ENOMEM, "cannot add the zone source events");
	return DZ_OK;
}

void
daemon_watch_stop(dz_daemon_t *d)
{
	if (d->watch_event != NULL)
		event_free(d->watch_event);
	if (d->watch_timer != NULL)
		event_free(d->watch_timer);
	d->watch_event = NULL;
	d->watch_timer = NULL;
	dz_watch_destroy(d->watch);
	d->watch = NULL;
}

/* Apply the zones of `config` to the running zones; *added and *removed receive the counts. */
static void
apply_zones(dz_daemon_t *d, const dz_config_t *config, size_t *added, size_t *removed)
{
	daemon_zone_t **zones = calloc(config->zone_count > 0 ? config->zone_count : 1,
				       sizeof(*zones));
	size_t count = 0;
	dz_error_t err;

	*added = 0;
	*removed = 0;
	if (zones == NULL) {
		dz_log(DZ_LOG_ERROR, "reload: out of memory; the zones stay as they were");
		return;
	}
	/* Zones that stay take the new configuration; the others end. */
	for (size_t i = 0; i < d->zone_count; i++) {
		daemon_zone_t *z = d->zones[i];
		const dz_config_zone_t *conf = dz_config_find_zone(config, z->name);
		if (conf == NULL) {
			dz_log_zone(DZ_LOG_NOTICE, z->name, "removed from the configuration: no longer "
				    "signed or served");
			(*removed)++;
			if (z->busy)
				z->removed = true; /* freed when its job ends */
			else
				daemon_zone_destroy(z);
			continue;
		}
		z->conf = conf;
		zones[count++] = z;
	}
	for (size_t i = 0; i < config->zone_count; i++) {
		const dz_config_zone_t *conf = &config->zones[i];
		bool known = false;
		for (size_t j = 0; j < count && !known; j++)
			known = zones[j]->conf == conf;
		if (known)
			continue;
		daemon_zone_t *z = NULL;
		dz_error_init(&err);
		dz_result_t result = daemon_zone_create(d, conf, &z, &err);
		if (result == DZ_OK)
			result = daemon_keys_open(z, &err);
		if (result == DZ_OK)
			result = daemon_zone_recover(z, &err);
		if (result != DZ_OK) {
			dz_log_zone(DZ_LOG_ERROR, conf->name, "cannot add the zone: %s",
				    dz_error_message(&err));
			daemon_zone_destroy(z);
			continue;
		}
		dz_log_zone(DZ_LOG_NOTICE, conf->name, "added by the configuration");
		zones[count++] = z;
		(*added)++;
	}
	free(d->zones);
	d->zones = zones;
	d->zone_count = count;
}

void
daemon_reload(dz_daemon_t *d)
{
	dz_config_t *config;
	dz_cfg_diags_t diags;
	dz_error_t err;
	size_t added, removed;

	if (d->mail_probing) {
		/* The mail object is replaced below, so the probe that uses it ends first. */
		d->reload_pending = true;
		return;
	}
	dz_log(DZ_LOG_NOTICE, "reloading %s", d->config_path);
	config = daemon_load_config(d->config_path, true);
	if (config == NULL) {
		dz_log(DZ_LOG_ERROR, "reload failed: the current configuration stays in use");
		return;
	}
	dz_cfg_diags_init(&diags);
	if (dz_config_restart_changes(d->config, config, &diags) > 0) {
		for (size_t i = 0; i < diags.count; i++)
			dz_log(DZ_LOG_WARNING, "%s", diags.items[i].text);
	}
	dz_cfg_diags_clear(&diags);

	/* The new zones must be in the server's configuration before they publish. */
	dz_error_init(&err);
	if (daemon_serve_reconfigure(d, config, &err) != DZ_OK) {
		dz_log(DZ_LOG_ERROR, "reload failed: %s; the current configuration stays in use",
		       dz_error_message(&err));
		dz_config_destroy(config);
		return;
	}
	/* The mail object saves its TLSA state here; its successor reads it back. */
	daemon_mail_stop(d);
	daemon_watch_stop(d);
	/* Zones look their policy up in d->config, so the new one is in place before they change. */
	dz_config_t *old_config = d->config;
	d->config = config;
	apply_zones(d, config, &added, &removed);
	dz_config_destroy(old_config);
	if (!d->log_level_set)
		dz_log_set_level(config->server.log_level);
	for (size_t i = 0; i < d->zone_count; i++) {
		daemon_zone_t *z = d->zones[i];
		const dz_policy_t *policy = daemon_zone_policy(d, z->conf);
		dz_error_init(&err);
		if (z->keys != NULL && policy != NULL &&
		    dz_key_manager_set_policy(z->keys, policy, z->negative_ttl, &err) != DZ_OK)
			dz_log_zone(DZ_LOG_ERROR, z->name, "DNSSEC, the new policy is not applied: %s",
				    dz_error_message(&err));
		z->want |= DAEMON_WANT_SOURCE | DAEMON_WANT_MAIL | DAEMON_WANT_KEYS;
	}
	dz_error_init(&err);
	if (daemon_mail_start(d, &err) != DZ_OK)
		dz_log(DZ_LOG_ERROR, "reload: the mail records are not updated any more: %s",
		       dz_error_message(&err));
	dz_error_init(&err);
	if (daemon_watch_start(d, &err) != DZ_OK)
		dz_log(DZ_LOG_ERROR, "reload: the zone sources are not watched any more: %s",
		       dz_error_message(&err));
	for (size_t i = 0; i < d->zone_count; i++)
		daemon_zone_kick(d->zones[i]);
	dz_log(DZ_LOG_NOTICE, "reloaded: %zu zones, %zu added, %zu removed", d->zone_count, added,
	       removed);
}
