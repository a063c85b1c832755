/*
 * daemon.h -- the parts of danezoned: start-up, the event loop, the zone
 * pipeline, the signing workers, the DNS server and the control commands.
 *
 * Threads.  The loop thread owns the configuration, the key managers, the
 * mail records, the watches, the timers and the DNS server.  Signing,
 * publishing and materializing run as jobs on worker threads
 * (daemon_worker.c).  A job owns the zone tree it works on until it ends;
 * the loop never touches a tree while the zone is busy.  One job per zone
 * runs at a time, and changes that arrive meanwhile are merged into the
 * next job.
 *
 * One change (certificate, zone source, key state, due signatures) becomes
 * one new serial: the job applies it to the signed tree in memory, signs
 * what changed, and commits the exact difference with dz_publish_diff().
 * The first publication of a zone and the first after each start-up are
 * full versions (dz_publish_commit()).  The in-memory state is adopted only
 * after the commit succeeded.  After any failure the tree is dropped, and
 * the next job loads it again from the published snapshot.
 */
#ifndef DZ_SIGNER_DAEMON_H
#define DZ_SIGNER_DAEMON_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"
#include "common/policy.h"
#include "hsm/hsm.h"
#include "hsm/sign_service.h"
#include "keystore/keyset.h"
#include "keystore/manager.h"
#include "keystore/provider.h"
#include "signer/publish.h"
#include "signer/server_config.h"
#include "signer/sign.h"
#include "signer/update.h"
#include "signer/zone.h"
#include "zones/conf.h"
#include "zones/mail.h"
#include "zones/records.h"
#include "zones/watch.h"

/* Exit statuses of danezoned. */
#define DZ_DAEMON_EXIT_OK 0
#define DZ_DAEMON_EXIT_CONFIG 1
#define DZ_DAEMON_EXIT_STARTUP 2

/* Quiet time after the last diff before the snapshot and text file are rewritten. */
#define DZ_DAEMON_MATERIALIZE_IDLE_MS 2000
/* Longest time diffs may keep postponing that rewrite. */
#define DZ_DAEMON_MATERIALIZE_MAX_DELAY_MS 60000
/* First retry after a failed job, doubled after each failure up to the maximum. */
#define DZ_DAEMON_RETRY_MIN_SECONDS 1
#define DZ_DAEMON_RETRY_MAX_SECONDS 300
/* Time allowed for each SOA query to a secondary and each DS query to a parent. */
#define DZ_DAEMON_QUERY_TIMEOUT_MS 2000
/* Worker threads that run jobs; a job of one zone never runs beside another of the same zone. */
#define DZ_DAEMON_WORKERS 2

typedef struct dz_daemon dz_daemon_t;
typedef struct daemon_job daemon_job_t;
typedef struct daemon_serve daemon_serve_t;

/* Work that a zone waits for; merged into the next job. */
#define DAEMON_WANT_SOURCE 0x01u  /* read the zone source again */
#define DAEMON_WANT_MAIL 0x02u	  /* the mail records changed */
#define DAEMON_WANT_KEYS 0x04u	  /* a key event is due or an operator command ran */
#define DAEMON_WANT_SIGN 0x08u	  /* signatures are due, or `sign ZONE` forced a run */

/* One configured zone and its published state. */
typedef struct daemon_zone {
	dz_daemon_t *daemon;
	char *name;			/* as configured: lower case, no trailing dot */
	const dz_config_zone_t *conf;	/* points into daemon->config; replaced on reload */
	dz_publish_target_t target;
	dz_key_manager_t *keys;		/* NULL when key management could not start */
	char *keys_halted;		/* the last reason logged for a halted manager (owned) */

	/* Owned by the loop while `busy` is false, by the running job otherwise. */
	dz_zone_t *tree;		/* signed zone in memory; NULL: load from the snapshot */
	dz_records_t tree_mail;		/* mail records that `tree` contains */
	bool tree_from_disk;		/* read from the snapshot, mail records unknown: the next run
					   reads the source and publishes a full version */

	bool published;			/* a version is committed */
	uint32_t serial;		/* committed serial */
	uint32_t text_serial;		/* serial of the zone text file */
	uint32_t hook_serial;		/* serial the publish hook last ran for */
	uint32_t negative_ttl;		/* min(SOA TTL, SOA MINIMUM); 0 until known */
	dz_time_t refresh_at;		/* signatures are due; DZ_TIME_NEVER when none */
	dz_time_t key_event_at;		/* next key event; DZ_TIME_NEVER when none */
	dz_time_t parent_check_at;	/* next DS query to the parent; DZ_TIME_NEVER */
	dz_time_t retry_at;		/* retry after a failure; DZ_TIME_NEVER */
	unsigned failures;		/* failed jobs in a row, for the backoff */

	unsigned want;			/* DAEMON_WANT_* */
	unsigned fresh;			/* the part of `want` that new events added since the last job */
	bool busy;			/* a job runs */
	bool materialize_due;		/* the text file is behind the committed serial */
	int64_t materialize_since;	/* monotonic ms when it fell behind */
	bool parent_due;		/* the parent's servers are to be asked for the DS RRset */
	bool removed;			/* removed by a reload: freed when its job ends */
	bool source_failed;		/* the source could not be read at the last try */

	struct event *timer;		/* the earliest of the times above */
	struct event *idle_timer;	/* materialization after DZ_DAEMON_MATERIALIZE_IDLE_MS */

	dz_log_condition_t sign_condition;    /* signing (HSM) failures */
	dz_log_condition_t publish_condition; /* write failures */

	/* Figures of the last signing run, for status. */
	size_t last_rrsets_signed;
	size_t last_signatures;
	size_t last_signatures_kept;
	dz_time_t last_published_at;
} daemon_zone_t;

/* A token of the hsm section, opened at start-up by its signer processes. */
typedef struct daemon_token {
	char *name;			 /* configured name; "" for the default token */
	dz_sign_service_t *service;	 /* its signer processes, which alone log in */
	char *registry_path;		 /* the token's key registry */
	dz_sign_token_t info;		 /* module and token, for the start-up line */
} daemon_token_t;

struct dz_daemon {
	/* Options. */
	const char *config_path;
	bool foreground;
	bool allow_root;
	const char *pidfile_option;	/* --pidfile, overrides server.pidfile */
	bool log_level_set;		/* -d or --log-level given: the configuration does not change it */
	dz_log_level_t log_level;

	dz_config_t *config;
	struct event_base *base;
	dz_clock_t *clock;

	/* Tokens and signing. */
	daemon_token_t *tokens;
	size_t token_count;
	dz_key_service_token_t *provider_tokens;
	dz_key_service_provider_t provider_set;
	dz_sign_service_t *service;	/* signs for the default token: tokens[0].service */
	dz_sign_backend_t backend;

	daemon_zone_t **zones;
	size_t zone_count;

	dz_mail_t *mail;
	struct event *mail_event;	/* the mail watcher's descriptor */
	struct event *mail_timer;
	/*
	 * A worker asks the secondaries for their serials through `mail`,
	 * which is not thread safe: until it ends, the loop leaves `mail`
	 * alone, queues the publications to note, and defers a reload.
	 */
	bool mail_probing;
	int64_t mail_probe_at;		/* monotonic ms of the next probe */
	struct daemon_note *mail_notes;	/* publications to note after the probe */
	size_t mail_note_count;
	bool reload_pending;
	dz_watch_t *watch;		/* zone sources; tag = index + 1 in `zones` at add time */
	struct event *watch_event;
	struct event *watch_timer;

	daemon_serve_t *serve;
	void *control;			/* the control socket, when built in */

	/* Workers. */
	pthread_t workers[DZ_DAEMON_WORKERS];
	size_t worker_count;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	daemon_job_t *queue_head, *queue_tail; /* jobs waiting for a worker */
	daemon_job_t *done_head, *done_tail;   /* finished jobs for the loop */
	bool workers_stop;
	int done_pipe[2];
	struct event *done_event;
	size_t jobs_running;		/* jobs handed out and not yet finished (loop thread) */

	struct event *signal_events[4];
	bool stopping;
	bool started;
	char *pidfile;			/* the pidfile written, removed at exit (owned) */
};

/* danezoned.c */
/*
 * Load and check the configuration as `danezone check-config` does, and
 * log each error (FILE:LINE:COLUMN) and, with `log_warnings`, each
 * warning.  NULL when it has errors.
 */
dz_config_t *daemon_load_config(const char *path, bool log_warnings);
int64_t daemon_monotonic_ms(void);
dz_time_t daemon_now(const dz_daemon_t *d);
void daemon_request_stop(dz_daemon_t *d);

/* daemon_keys.c: tokens, sign service and key managers. */
dz_result_t daemon_tokens_open(dz_daemon_t *d, dz_error_t *err);
void daemon_tokens_close(dz_daemon_t *d);
void daemon_log_token(const dz_daemon_t *d);
/* The policy of a zone in the current configuration ("default" when it names none). */
const dz_policy_t *daemon_zone_policy(const dz_daemon_t *d, const dz_config_zone_t *zone);
dz_result_t daemon_keys_open(daemon_zone_t *z, dz_error_t *err);
/*
 * The key set to sign with now.  With `key_event` (or before the first
 * commit) it is a prepared plan's, and *plan receives the plan to commit
 * after publication; otherwise, and while key management is halted, it is
 * the last committed one.  Fills `keys` with a copy the caller frees with
 * free(keys->keys).
 */
dz_result_t daemon_keys_plan(daemon_zone_t *z, dz_time_t now, bool key_event,
			     dz_key_plan_t **plan, dz_keyset_t *keys, dz_error_t *err);
/* Record the plan as published at `published_at`, log failures, and update key_event_at. */
void daemon_keys_commit(daemon_zone_t *z, dz_key_plan_t *plan, dz_time_t published_at,
			bool full_resign);
/*
 * A job that asks the parent's servers for the zone's DS RRset, in *out;
 * NULL when the zone has no parent servers or no key manager.  DZ_ENOMEM.
 */
dz_result_t daemon_keys_parent_job(daemon_zone_t *z, daemon_job_t **out);
/* Apply the answers of a finished parent job and plan the next query. */
void daemon_keys_parent_answers(daemon_zone_t *z, const daemon_job_t *job, dz_time_t now);
/* Reconcile the key states with the key set of the snapshot a zone serves. */
void daemon_keys_reconcile(daemon_zone_t *z, const dz_zone_t *served, dz_time_t now);

/* daemon_zone.c: zone state, jobs and their results. */
dz_result_t daemon_zone_create(dz_daemon_t *d, const dz_config_zone_t *conf, daemon_zone_t **out,
			       dz_error_t *err);
void daemon_zone_destroy(daemon_zone_t *z);
daemon_zone_t *daemon_find_zone(const dz_daemon_t *d, const char *name);
/* Recover the published files and read their state (at start-up and when a zone is added). */
dz_result_t daemon_zone_recover(daemon_zone_t *z, dz_error_t *err);
/* Add `want` flags and start a job when the zone is idle. */
void daemon_zone_request(daemon_zone_t *z, unsigned want);
/* Start a job when the zone is idle and has work. */
void daemon_zone_kick(daemon_zone_t *z);
/* Re-arm the zone's timer from refresh_at, key_event_at, parent_check_at and retry_at. */
void daemon_zone_schedule(daemon_zone_t *z);
/* Handle a finished job on the loop thread. */
void daemon_job_finished(dz_daemon_t *d, daemon_job_t *job);
/* Run a job (worker thread). */
void daemon_job_run(daemon_job_t *job);
void daemon_job_free(daemon_job_t *job);
/* Materialize every zone now and run their hooks (at stop, with no job running). */
void daemon_zones_materialize_all(dz_daemon_t *d);
/* Whether every zone is idle and has no work left (used at start-up). */
bool daemon_zones_settled(const dz_daemon_t *d);

/* daemon_worker.c */
dz_result_t daemon_workers_start(dz_daemon_t *d, dz_error_t *err);
void daemon_workers_stop(dz_daemon_t *d);
void daemon_workers_submit(dz_daemon_t *d, daemon_job_t *job);

/* daemon_privsep.c: the users of the processes and the state folder layout. */
struct dz_privdrop_target;
/* Whether --allow-root or server.allow-root permits root after start-up. */
bool daemon_privsep_allow_root(const dz_daemon_t *d);
/* DZ_EPERM naming server.user and server.allow-root when root would be kept. */
dz_result_t daemon_privsep_check_root(const dz_daemon_t *d, dz_error_t *err);
/* The user signer processes switch to after login; *has_target is false for none. */
dz_result_t daemon_privsep_signer_target(const dz_daemon_t *d, struct dz_privdrop_target *out,
					 bool *has_target, dz_error_t *err);
/* Switch this process to server.user / server.group (or check that root may stay). */
/*
 * Give the state folder the layout of the processes (daemon_privsep.c)
 * when started as root with server.user.  Call it after the zones' files
 * are recovered and before the DNS server process starts, so that process
 * can read the published files from its first moment.
 */
dz_result_t daemon_privsep_prepare(dz_daemon_t *d, dz_error_t *err);
dz_result_t daemon_privsep_drop(dz_daemon_t *d, dz_error_t *err);

/* daemon_serve.c: every call into the DNS server. */
dz_result_t daemon_serve_start(dz_daemon_t *d, dz_error_t *err);
dz_result_t daemon_serve_published(dz_daemon_t *d, const char *zone, dz_error_t *err);
dz_result_t daemon_serve_reconfigure(dz_daemon_t *d, const dz_config_t *config,
				     dz_error_t *err);
int daemon_serve_port(const dz_daemon_t *d, int family);
void daemon_serve_stop(dz_daemon_t *d);

/* daemon_reload.c */
void daemon_reload(dz_daemon_t *d);
/* Record a publication for the TLSA rollover (queued while a probe runs). */
void daemon_mail_note_published(dz_daemon_t *d, const char *zone, uint32_t serial,
				uint32_t negative_ttl, dz_time_t now);
/* The current mail records of a zone to copy into a job; false while a probe runs. */
bool daemon_mail_records(const dz_daemon_t *d, const char *zone, const dz_records_t **records);
/* Handle the end of a probe of the secondaries (loop thread). */
void daemon_mail_probe_finished(dz_daemon_t *d);
/* Create the mail records object for the current configuration and hook it into the loop. */
dz_result_t daemon_mail_start(dz_daemon_t *d, dz_error_t *err);
void daemon_mail_stop(dz_daemon_t *d);
/* Watch each zone's source file. */
dz_result_t daemon_watch_start(dz_daemon_t *d, dz_error_t *err);
void daemon_watch_stop(dz_daemon_t *d);

/* daemon_control.c */
dz_result_t daemon_control_start(dz_daemon_t *d, dz_error_t *err);
void daemon_control_stop(dz_daemon_t *d);
/* Write the status of one zone (or every zone with NULL) as text lines to `out`. */
void daemon_status_text(const dz_daemon_t *d, const char *zone, dz_buf_t *out);

#endif
