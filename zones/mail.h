/*
 * mail.h -- the mail records of every zone, kept current as files change.
 *
 * A dz_mail_t reads the certificate, key and OpenPGP files a configuration
 * names, generates the zones' TLSA, SMIMEA and OPENPGPKEY records, keeps
 * the TLSA rollover state of each zone in STATE_DIR/tlsa/ZONE.state, and
 * reports what changed as differences of record sets.
 *
 * In a daemon's event loop (libevent or any other):
 *   - poll dz_mail_fd() for input and call dz_mail_process_events();
 *   - call dz_mail_update() when dz_mail_timeout_ms() has elapsed.  It calls
 *     the change callback once per zone whose records changed, and the
 *     first call reports every record as added;
 *   - after publishing a zone version, call dz_mail_note_published();
 *   - while dz_mail_awaits_secondaries() is true, call
 *     dz_mail_probe_secondaries() now and then (it blocks for the queries).
 * Times: `now` is wall-clock seconds, `now_ms` monotonic milliseconds.
 *
 * A file that cannot be read or parsed produces no records; the records of
 * its last good read stay (TLSA across restarts too, through the state file).
 * A file being written is read again after a short delay.
 *
 * On reload, destroy (or dz_mail_save) the old object before creating the
 * new one, so the new one reads the old one's TLSA state.
 *
 * NOTE: the ready-hook runs inside dz_mail_update() and blocks it for up
 * to DZ_HOOK_TIMEOUT_SECONDS; a daemon that must not stall should run the
 * update where a stall is harmless.
 *
 * Not thread safe.  The configuration must outlive the object.
 */
#ifndef DZ_ZONES_MAIL_H
#define DZ_ZONES_MAIL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/clock.h"
#include "common/error.h"
#include "zones/conf.h"
#include "zones/records.h"
#include "zones/schema.h"

/* Flags of dz_mail_create(). */
#define DZ_MAIL_WATCH 0x01u	/* watch the files with inotify */
#define DZ_MAIL_READ_ONLY 0x02u /* never write state files nor run hooks */

/* A half-written file is read again this long after a failed read. */
#define DZ_MAIL_RETRY_MS 1000
/* ... at most this many times in a row before its error is logged as lasting. */
#define DZ_MAIL_RETRIES 10

typedef struct dz_mail dz_mail_t;

/*
 * Receives the changes of one zone: `added` and `removed` are sorted record
 * sets (see zones/records.h for their wire form).  Return DZ_OK to accept;
 * on any other result the change is offered again at the next update.
 */
typedef dz_result_t (*dz_mail_change_fn)(void *ctx, const char *zone, const dz_records_t *added,
					 const dz_records_t *removed);

/*
 * Create the object for every zone of `config`, load the TLSA state files
 * and mark every zone for its first update.  DZ_EIO when a state file is
 * malformed (nothing is overwritten), DZ_ENOMEM.
 */
dz_result_t dz_mail_create(const dz_config_t *config, unsigned flags, int64_t now_ms,
			   dz_mail_t **out, dz_error_t *err);

/* Save changed state and free; NULL is ignored. */
void dz_mail_destroy(dz_mail_t *mail);

/* The inotify descriptor, or -1 without DZ_MAIL_WATCH. */
int dz_mail_fd(const dz_mail_t *mail);

/* Read pending file events without blocking. */
void dz_mail_process_events(dz_mail_t *mail, int64_t now_ms);

/*
 * Milliseconds from now_ms until dz_mail_update() has work (a debounced
 * file change, a retry, a certificate's notBefore or notAfter, a next key
 * becoming ready): 0 for now, -1 for nothing planned.
 */
int64_t dz_mail_timeout_ms(const dz_mail_t *mail, dz_time_t now, int64_t now_ms);

/*
 * Regenerate the zones that have work, report their changes through `fn`,
 * announce next keys that became ready (log and ready-hook), and save the
 * state.  Errors of single files are logged, not returned; returns
 * DZ_ENOMEM or the failure to save state.
 */
dz_result_t dz_mail_update(dz_mail_t *mail, dz_time_t now, int64_t now_ms, dz_mail_change_fn fn,
			   void *ctx, dz_error_t *err);

/* Mark every zone for regeneration (after a reload or a signal). */
void dz_mail_touch_all(dz_mail_t *mail, int64_t now_ms);

/* The current records of a zone (sorted); NULL for an unknown zone. */
const dz_records_t *dz_mail_records(const dz_mail_t *mail, const char *zone);

/*
 * The signer published `serial` of `zone`, containing every record reported
 * so far; `negative_ttl` is min(SOA TTL, SOA MINIMUM) of that version.
 */
dz_result_t dz_mail_note_published(dz_mail_t *mail, const char *zone, uint32_t serial,
				   uint32_t negative_ttl, dz_time_t now, dz_error_t *err);

/*
 * Read the zone's signed output file (its `output` key) and treat the
 * records found there as published in its SOA serial: for operation without
 * the daemon.  DZ_ENOTFOUND when the file does not exist yet.
 */
dz_result_t dz_mail_observe_output(dz_mail_t *mail, const char *zone, dz_time_t now,
				   dz_error_t *err);

/* Whether some zone has published records that not every secondary serves yet. */
bool dz_mail_awaits_secondaries(const dz_mail_t *mail);

/*
 * Ask every address of every secondary of the zones that wait for the SOA
 * serial, and record propagation when all of a zone's addresses answered.
 * Blocks up to timeout_ms per query.  Failures are logged.
 */
void dz_mail_probe_secondaries(dz_mail_t *mail, dz_time_t now, int timeout_ms);

/* Print the TLSA rollover state of every zone. */
void dz_mail_print_status(const dz_mail_t *mail, dz_time_t now, FILE *out);

/*
 * Checks for `danezone check-config` that read the files: every certificate
 * and key parses (an unreadable certificates file is an error, the rest are
 * warnings), usage 2 has an issuer and a matching name, and the MX checks
 * below.  Changes nothing.
 */
void dz_mail_check_config(const dz_config_t *config, dz_time_t now, dz_cfg_diags_t *diags);

/*
 * Warn about MX targets of the zone's source that are aliases (CNAME) or
 * lack a mail host entry.  Sources that ldns cannot read alone ($INCLUDE)
 * get a warning instead.
 */
void dz_mail_check_mx(const dz_config_zone_t *zone, dz_cfg_diags_t *diags);

/* Write changed state files now. */
dz_result_t dz_mail_save(dz_mail_t *mail, dz_error_t *err);

#endif
