/*
 * operator.h -- operator requests and parent observations applied to a
 * key ring: DS seen or gone, manual rollovers, backup confirmations, manual
 * steps and clock acknowledgements.
 *
 * These fields are owned by the operator, not by the engine: the key
 * manager copies them from the state file on disk into every commit, so a
 * `danezone key ...` command that changed the file while the daemon was
 * deciding is never overwritten.  Pure functions on the ring; not thread
 * safe per ring.
 */
#ifndef DZ_KEYSTORE_OPERATOR_H
#define DZ_KEYSTORE_OPERATOR_H

#include <stdbool.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/error.h"
#include "keystore/ring.h"

/*
 * Record that every parent server serves the DS of key `number` since
 * `when` (the observation time Tobs of the DS request).  `when` may not be
 * earlier than the request (the time the DS became rumoured) nor later than
 * `now`.  DZ_ENOTFOUND for an unknown key, DZ_ESTATE if the key's DS is not
 * waiting to be seen, DZ_ERANGE for a time outside those limits.
 */
dz_result_t dz_key_op_ds_seen(dz_keyring_t *ring, uint32_t number, dz_time_t when, dz_time_t now,
			      dz_error_t *err);

/* The same for the removal of the DS: no parent server serves it since `when`. */
dz_result_t dz_key_op_ds_gone(dz_keyring_t *ring, uint32_t number, dz_time_t when, dz_time_t now,
			      dz_error_t *err);

/*
 * Ask for a rollover of key `number` at `when` (now or later).  The key
 * must be in use (goal omnipresent) with no successor yet.  `force` lets it
 * start while another rollover of the role is unfinished (an emergency
 * rollover); waits for caches still apply.
 */
dz_result_t dz_key_op_request_rollover(dz_keyring_t *ring, uint32_t number, dz_time_t when,
				       bool force, dz_time_t now, dz_error_t *err);

/* Confirm that key `number` is backed up (releases the backup gate). */
dz_result_t dz_key_op_confirm_backup(dz_keyring_t *ring, uint32_t number, dz_error_t *err);

/* Manual mode: allow the next round of moves into rumoured or unretentive. */
void dz_key_op_step(dz_keyring_t *ring);

/* Acknowledge a clock jump; the key manager applies it on its next run. */
void dz_key_op_clock_ack(dz_keyring_t *ring);

/*
 * Resolve a key tag given by the operator to a key number.  DZ_ENOTFOUND if
 * no key in use has the tag, DZ_EEXIST if several have it (the message lists
 * their numbers so the operator can name one with "#NUMBER").  `text` is a
 * tag ("12345") or a key number ("#7").
 */
dz_result_t dz_key_op_resolve(const dz_keyring_t *ring, const char *text, uint32_t *number,
			      dz_error_t *err);

/*
 * Copy the operator-owned fields of `disk` (the state file as it is now)
 * into `ring`, key by key number.  Keys only in `ring` keep theirs.
 */
void dz_key_op_merge(dz_keyring_t *ring, const dz_keyring_t *disk);

#endif
