/*
 * job.h -- sign one zone from files: what `danezone sign` does once it has
 * keys and a sign service.
 *
 * Three ways in:
 *   - input only: load and validate the unsigned zone and sign it in full.
 *   - previous + input: load the previous signed zone, whose signatures stay
 *     while valid, make its unsigned data equal the input, and sign what
 *     changed or is due.
 *   - previous + diff: load the previous signed zone, apply a file of
 *     changes (signer/diff.h) and sign what changed.
 * The previous zone is a zone file or a snapshot (signer/snapshot.h), which
 * starts with the snapshot's magic.  A snapshot loads without parsing text.
 * When its chain is whole and its signatures were made by the keys that
 * sign now, the run repairs the chain and checks the zone only where it
 * changed, as the daemon does in memory; otherwise, and always after a
 * zone file, the chain is built again and the whole zone is checked.  A
 * snapshot of the result (snapshot_out) is then written by applying the
 * difference to the previous snapshot, so a small change writes little
 * besides copying the previous snapshot's RRs.
 * With a previous zone the difference to it can be written in IXFR order.
 * An `incremental` changes file is then applied to the signed zone in
 * memory and signed again, as the daemon does for each change: the output
 * is that second version, the IXFR difference is between the two, and the
 * report times the second run alone.  Nothing is written when any step
 * fails.
 */
#ifndef DZ_SIGNER_JOB_H
#define DZ_SIGNER_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/policy.h"
#include "keystore/keyset.h"
#include "signer/changes.h"
#include "signer/load.h"
#include "signer/sign.h"
#include "signer/update.h"

typedef struct dz_sign_job {
	const char *origin;   /* zone name, presentation form */
	const char *input;    /* unsigned zone file, or NULL with previous + diff */
	const char *previous; /* previous signed zone file, or NULL */
	const char *diff;     /* changes file, or NULL */
	const char *incremental; /* changes file applied in memory after signing, or NULL */
	const char *output;   /* signed zone file to write, or NULL to write none */
	const char *snapshot_out; /* snapshot of the signed zone to write, or NULL */
	const char *ixfr_out; /* IXFR difference file to write, or NULL */
	const dz_policy_t *policy;
	dz_load_options_t load; /* drop_out_of_zone and keep_dnskey_tags; the rest is set here */
	const dz_keyset_t *keys;
	const dz_sign_backend_t *backend;
	dz_time_t now;
	unsigned threads; /* 0 chooses */
} dz_sign_job_t;

typedef struct dz_sign_job_report {
	dz_update_result_t update;
	dz_changes_summary_t changes; /* with a previous zone or an incremental run */
	bool incremental_done;
	dz_update_result_t incremental;	/* the in-memory run of `incremental` */
	double seconds_incremental;	/* applying the changes and signing them */
	size_t records_read;
	size_t rrsets_synced;
	bool previous_snapshot; /* the previous zone was a snapshot */
	bool previous_reused;	/* ... and its chain and checks were reused (see above) */
	double seconds_load;
	double seconds_update;
	double seconds_write;
	double seconds_total;
} dz_sign_job_report_t;

/*
 * Run the job.  Returns the first failure with err naming the file, line
 * or check that failed; the output files are then untouched.
 */
dz_result_t dz_sign_job_run(const dz_sign_job_t *job, dz_sign_job_report_t *report,
			    dz_error_t *err);

/*
 * Whether the signatures of a loaded snapshot were made by exactly the keys
 * that sign now, each for its role, so that the RRsets that do not change
 * keep good signatures.  The daemon asks this after loading its snapshot.
 */
bool dz_sign_job_same_signers(const dz_snapshot_load_t *info, const dz_keyset_t *keys);

#endif
