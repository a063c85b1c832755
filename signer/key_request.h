/*
 * key_request.h -- the key state commands as requests: what `danezone key
 * ds-seen|ds-gone|rollover|clock-ack|step|backup-done` applies to a zone's
 * key ring, offline to the state file or through a running danezoned.
 *
 * On the control socket (signer/control.h) the requests carry every value,
 * with the defaults filled in by the client:
 *
 *   ds-seen ZONE KEY WHEN             KEY: key tag or #NUMBER
 *   ds-gone ZONE KEY WHEN             WHEN: "now", RFC 3339 UTC,
 *   rollover ZONE TARGET WHEN MODE          YYYYMMDDHHmmSS or @SECONDS
 *   clock-ack ZONE                    TARGET: KEY, or ksk, zsk or csk for
 *   step ZONE                                 the key in use of that role
 *   backup-done ZONE KEY              MODE: "normal" or "force"
 *
 * The daemon's handler parses a request with dz_key_request_parse(),
 * applies it with dz_key_manager_edit(mgr, dz_key_request_apply, &request,
 * err), which writes the state file, and appends
 * dz_key_request_describe() to its output.
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
 * Control socket command names with the number of strings after the
 * name, for the daemon's command table: X(name, kind, arguments, usage).
 */
#define DZ_KEY_REQUEST_COMMANDS(X)                                                         \
	X("ds-seen", DZ_KEY_REQUEST_DS_SEEN, 3, "ZONE KEY WHEN")                           \
	X("ds-gone", DZ_KEY_REQUEST_DS_GONE, 3, "ZONE KEY WHEN")                           \
	X("rollover", DZ_KEY_REQUEST_ROLLOVER, 4, "ZONE (KEY | ksk | zsk | csk) WHEN (normal | force)") \
	X("clock-ack", DZ_KEY_REQUEST_CLOCK_ACK, 1, "ZONE")                                \
	X("step", DZ_KEY_REQUEST_STEP, 1, "ZONE")                                          \
	X("backup-done", DZ_KEY_REQUEST_BACKUP_DONE, 2, "ZONE KEY")

/*
 * Parse a control request (argv[0] the command name, argc as checked by
 * the command table) into *request; its strings stay borrowed from argv.
 * DZ_EINVAL with a message for an unknown command, a wrong count, an
 * invalid time, role or mode.
 */
dz_result_t dz_key_request_parse(int argc, char **argv, dz_time_t now, dz_key_request_t *request,
				 dz_error_t *err);

/*
 * Apply the request to `ring` (a dz_key_ring_edit_fn; ctx is the request).
 * Errors as the keystore/operator.h functions, and DZ_ESTATE for clock-ack
 * when the zone's key transitions are not frozen.
 */
dz_result_t dz_key_request_apply(dz_keyring_t *ring, void *ctx, dz_error_t *err);

/* Append one line that describes what an applied request recorded. */
dz_result_t dz_key_request_describe(const dz_key_request_t *request, dz_buf_t *out);

#endif
