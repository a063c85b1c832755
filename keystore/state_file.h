/*
 * state_file.h -- the per-zone key state file.
 *
 * One text file per zone, STATE_DIR/ZONE.keys (ZONE without the trailing
 * dot, "root" for the root zone), replaced atomically and durably on every
 * change.  Format version 1, one record per line, fields as key=value
 * separated by spaces; times in RFC 3339 UTC or "-" for none:
 *
 *   danezone-keystate 1
 *   zone example.com.
 *   next-key 4
 *   ds-ttl-observed 3600
 *   last-commit 2027-01-03T10:00:00Z
 *   clock wall=... boottime=... boot-id=... frozen=no frozen-at=- jump=0
 *         ack-requested=0 ack-done=0 reason=-
 *   step requested=0 done=0
 *   ttl class=dnskey ttl=3600 from=... until=-
 *   policy name=... dnskey-ttl=3600 ...        (the policy of the last commit)
 *   policy-key role=csk algorithm=13 bits=0 lifetime=0 token=-
 *   key number=1 role=csk algorithm=13 ... dnskey=omnipresent@2027-... ds=rumoured@...
 *   event time=... key=1 record=dnskey from=hidden to=rumoured
 *   end
 *
 * The policy copy lets `danezone status` and `danezone rollover plan` work
 * from the state file alone.  Text values are percent-encoded (%20 for a
 * space).  A reader rejects unknown record types and fields with the line
 * number, so a file from a newer version is never half understood.
 */
#ifndef DZ_KEYSTORE_STATE_FILE_H
#define DZ_KEYSTORE_STATE_FILE_H

#include <stdint.h>

#include "common/error.h"
#include "common/policy.h"
#include "keystore/ring.h"

#define DZ_KEY_STATE_FORMAT 1

/* Largest state file read: far beyond thousands of keys and events. */
#define DZ_KEY_STATE_MAX_SIZE (64u * 1024 * 1024)

/*
 * Path of the state file of `zone` in `state_dir`, newly allocated (the
 * caller frees it); NULL on ENOMEM.
 */
char *dz_key_state_path(const char *state_dir, const char *zone);

/*
 * Write the ring and the policy in force (may be NULL) atomically and
 * durably to `path` (mode 0640).  On failure the old file is untouched.
 */
dz_result_t dz_key_state_write(const char *path, const dz_keyring_t *ring,
			       const dz_policy_t *policy, uint32_t negative_ttl, dz_error_t *err);

/*
 * Read `path` into `ring` (initialised here; clear it with
 * dz_keyring_clear()).  If `policy` is not NULL it receives the stored
 * policy (or danezone's defaults when the file has none); clear it with
 * dz_policy_clear().  `negative_ttl` (may be NULL) receives the stored
 * negative TTL.  DZ_ENOTFOUND if the file does not exist; DZ_ESYNTAX with
 * the file and line for a damaged or unknown format.  On failure nothing is
 * left allocated.
 */
dz_result_t dz_key_state_read(const char *path, dz_keyring_t *ring, dz_policy_t *policy,
			      uint32_t *negative_ttl, dz_error_t *err);

/*
 * Take an exclusive lock on PATH.lock (created if missing), waiting for
 * another holder.  Everyone who changes the state file (the daemon's
 * commits, `danezone key ...` commands) holds it around read-change-write.
 * *fd receives the descriptor to pass to dz_key_state_unlock().
 */
dz_result_t dz_key_state_lock(const char *path, int *fd, dz_error_t *err);
void dz_key_state_unlock(int fd);

#endif
