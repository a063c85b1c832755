/*
 * daemon_job.h -- one unit of work of a zone, run on a worker thread.
 *
 * The loop thread fills the inputs, moves the zone's tree into the job and
 * submits it.  The worker reads only the job; the loop reads the results
 * in daemon_job_finished() and takes the tree back.
 */
#ifndef DZ_SIGNER_DAEMON_JOB_H
#define DZ_SIGNER_DAEMON_JOB_H

#include "signer/daemon.h"
#include "keystore/parent.h"
#include "signer/load.h"

typedef enum daemon_job_kind {
	DAEMON_JOB_SIGN,	/* apply changes, sign, publish */
	DAEMON_JOB_MATERIALIZE, /* rewrite the snapshot and text file, then run the hook */
	DAEMON_JOB_PARENT,	/* ask the parent's servers for the zone's DS RRset */
	DAEMON_JOB_PROBE,	/* ask the secondaries for their serials (no zone) */
} daemon_job_kind_t;

/* Where a failed job stopped. */
typedef enum daemon_job_stage {
	DAEMON_STAGE_NONE,
	DAEMON_STAGE_LOAD,    /* reading the published snapshot */
	DAEMON_STAGE_SOURCE,  /* reading the zone source */
	DAEMON_STAGE_SIGN,    /* dz_update_zone(): chain, signatures, checks */
	DAEMON_STAGE_PUBLISH, /* writing the journal, snapshot or text file */
} daemon_job_stage_t;

struct daemon_job {
	daemon_job_t *next;
	daemon_zone_t *zone;
	daemon_job_kind_t kind;

	/* Inputs of a sign job. */
	dz_zone_t *tree;	   /* moved in; NULL: load from the snapshot, or sign from scratch */
	dz_records_t tree_mail;	   /* mail records in `tree` (moved in) */
	bool tree_mail_known;	   /* false for a tree read from a snapshot: tree_mail is empty
				      (in and out: true after the run when tree_mail is known) */
	dz_records_t mail;	   /* the mail records the zone should have (copy) */
	bool read_source;	   /* sync the tree with the zone source */
	char *source;		   /* path of the zone source (owned) */
	dz_policy_t policy;	   /* copy */
	dz_keyset_t keys;	   /* copy, keys array owned */
	dz_key_plan_t *plan;	   /* the key plan of `keys`, committed by the loop; NULL: none */
	bool keys_changed;	   /* visit every RRset because the signing keys changed */
	bool published_before;	   /* a version is committed; else the first one is a full version */
	bool full_commit;	   /* publish a full version, not a diff */
	dz_publish_target_t target;
	dz_time_t now;
	bool clock_frozen;	   /* the clock guard froze key transitions after a jump */
	const dz_sign_backend_t *backend;

	/* Inputs of a materialize job. */
	char *hook;		   /* publish hook (owned), or NULL */
	uint32_t hook_after;	   /* run the hook when the text serial passed this one */

	/* Inputs of a parent job: the servers, with the TSIG strings they point to. */
	dz_parent_server_t *parent_servers;
	size_t parent_count;
	char *tsig_name;
	char *tsig_algorithm;
	char *tsig_secret;	   /* wiped and freed with the job */

	/* Input of a probe job: the mail object, which the loop leaves alone meanwhile. */
	dz_mail_t *mail_obj;

	/* Results. */
	dz_result_t result;
	dz_error_t err;
	daemon_job_stage_t stage;
	bool source_failed;	   /* the source could not be read; the rest went on */
	dz_error_t source_err;
	bool loaded_from_disk;	   /* the tree was read from the published snapshot */
	bool published;		   /* a new version was committed */
	uint32_t serial;	   /* committed serial after the job */
	uint32_t text_serial;	   /* serial of the text file after a materialize job */
	bool hook_ran;
	dz_result_t hook_result;
	dz_error_t hook_err;
	bool full_run;		   /* every RRset was visited (a full re-sign for the key manager) */
	dz_update_result_t update;
	size_t removed;		   /* RRs in the diff */
	size_t added;
	uint32_t negative_ttl;
	dz_time_t earliest_expiration;
	dz_parent_answer_t *parent_answers; /* parent_count answers of a parent job */
	double seconds;
};

/*
 * Bring the published files of `target` up to the committed version and
 * load it into a new zone tree (*out), with what dz_load_snapshot() found
 * in *info.  DZ_ENOTFOUND when nothing is published.
 */
dz_result_t daemon_load_published(const dz_publish_target_t *target, dz_time_t now,
				  dz_zone_t **out, dz_snapshot_load_t *info, dz_error_t *err);

#endif
