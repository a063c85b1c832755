/*
 * key_request.h -- the key state commands as requests: what `danezone key
 * ds-seen|ds-gone|rollover|clock-ack|step|backup-done` applies to a zone's
 * key ring when it works offline, and the form in which it sends them to a
 * running danezoned instead.
 *
 * On the control socket (signer/control.h) the strings after the command
 * name are, as the daemon's handlers in signer/daemon_control.c read them:
 *
 *   ds-seen ZONE KEY [TIME]           KEY: key tag or "#NUMBER"
 *   ds-gone ZONE KEY [TIME]           TIME: "now", RFC 3339 UTC,
 *   rollover ZONE KEY [TIME] [force]        YYYYMMDDHHmmSS or @SECONDS
 *   clock-ack ZONE                          (default now)
 *   step ZONE
 *   backup-done ZONE KEY
 *
 * A rollover by role (`--role ksk`) is sent with the number of the role's
 * key in use, which the client reads from the state file
 * (dz_key_request_role_key()).
 */
#ifndef DZ_SIGNER_KEY_REQUEST_H
#define DZ_SIGNER_KEY_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/mem.h"
#include "keystore/ring.h"

typedef enum dz_key_request_kind {
	DZ_KEY_REQUEST_DS_SEEN,
	DZ_KEY_REQUEST_DS_GONE,
	DZ_KEY_REQUEST_ROLLOVER,
	DZ_KEY_REQUEST_CLOCK_ACK,
	DZ_KEY_REQUEST_STEP,
	DZ_KEY_REQUEST_BACKUP_DONE,
} dz_key_request_kind_t;

typedef struct dz_key_request {
	dz_key_request_kind_t kind;
	const char *zone;    /* zone name as given (borrowed) */
	const char *key;     /* key tag or "#NUMBER" (borrowed); NULL for a rollover by role */
	dz_key_role_t role;  /* rollover by role when key is NULL */
	dz_time_t when;	     /* observation time (ds-seen, ds-gone) or earliest start (rollover) */
	dz_time_t now;
	bool force;	     /* emergency rollover */
	/* Set by dz_key_request_apply(): */
	uint32_t number;     /* key number the request resolved to */
	uint16_t tag;	     /* its key tag (rollover) */
} dz_key_request_t;

/*
 * The control socket commands for a command table:
 * X(name, kind, min_args, max_args, usage), counts without the name.
 */
#define DZ_KEY_REQUEST_COMMANDS(X)                                                  \
	X("ds-seen", DZ_KEY_REQUEST_DS_SEEN, 2, 3, "ZONE KEY [TIME]")               \
	X("ds-gone", DZ_KEY_REQUEST_DS_GONE, 2, 3, "ZONE KEY [TIME]")               \
	X("rollover", DZ_KEY_REQUEST_ROLLOVER, 2, 4, "ZONE KEY [TIME] [force]")     \
	X("clock-ack", DZ_KEY_REQUEST_CLOCK_ACK, 1, 1, "ZONE")                      \
	X("step", DZ_KEY_REQUEST_STEP, 1, 1, "ZONE")                                \
	X("backup-done", DZ_KEY_REQUEST_BACKUP_DONE, 2, 2, "ZONE KEY")

/*
 * Parse a control request (argv[0] the command name) into *request; its
 * strings stay borrowed from argv.  DZ_EINVAL with a message for an
 * unknown command, a wrong count or an invalid time.
 */
dz_result_t dz_key_request_parse(int argc, char **argv, dz_time_t now, dz_key_request_t *request,
				 dz_error_t *err);

/*
 * Apply the request to `ring` (a dz_key_ring_edit_fn; ctx is the request).
 * Errors as the keystore/operator.h functions, and DZ_ESTATE for clock-ack
 * when the zone's key transitions are not frozen.
 */
dz_result_t dz_key_request_apply(dz_keyring_t *ring, void *ctx, dz_error_t *err);

/*
 * Find the key in use of `role` (goal omnipresent, no successor, not a
 * standby key), the one a rollover by role replaces.  DZ_ENOTFOUND with a
 * message when the zone has none.
 */
dz_result_t dz_key_request_role_key(const dz_keyring_t *ring, dz_key_role_t role,
				    uint32_t *number, dz_error_t *err);

/* Append one line that describes what an applied request recorded. */
dz_result_t dz_key_request_describe(const dz_key_request_t *request, dz_buf_t *out);

#endif
