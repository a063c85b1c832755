/*
 * key_state_cli.h -- what `danezone status`, `danezone rollover` and the
 * key state commands of `danezone key` share: the configuration or state
 * folder, each zone's key state file and policy, and locked edits.
 *
 *   -c, --config FILE    configuration (default DZ_CONFIG_DEFAULT_PATH when
 *                        no --state-dir is given)
 *   --state-dir DIR      state folder; key states are in DIR/keystate
 *
 * A zone's policy comes from the configuration when the zone is configured
 * there, else from the copy the daemon stores in the state file.
 */
#ifndef DZ_SIGNER_KEY_STATE_CLI_H
#define DZ_SIGNER_KEY_STATE_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "common/error.h"
#include "common/policy.h"
#include "keystore/manager.h"
#include "keystore/ring.h"
#include "zones/conf.h"

enum {
	DZ_KEYCLI_OPT_STATE_DIR = 2000,
	DZ_KEYCLI_OPT_NOW,
};

/* getopt_long() entries of the shared options. */
#define DZ_KEYCLI_LONG_OPTIONS                                        \
	{ "config", required_argument, NULL, 'c' },                   \
	{ "state-dir", required_argument, NULL, DZ_KEYCLI_OPT_STATE_DIR }

typedef struct dz_keycli {
	const char *config_path; /* -c */
	const char *state_dir;	 /* --state-dir */
	dz_config_t *config;	 /* loaded by dz_keycli_open(); NULL with --state-dir only */
	char *key_dir;		 /* folder of the key state files (owned) */
} dz_keycli_t;

void dz_keycli_init(dz_keycli_t *cli);

/* Store a shared option; false if `option` is not one of them. */
bool dz_keycli_option(dz_keycli_t *cli, int option, const char *arg);

/* Load the configuration (if any) and find the key state folder. */
dz_result_t dz_keycli_open(dz_keycli_t *cli, dz_error_t *err);

void dz_keycli_close(dz_keycli_t *cli);

/* Print the help lines of the shared options. */
void dz_keycli_usage(FILE *out);

/*
 * Zones to report: the configured zones, or without a configuration every
 * state file in the folder.  The caller frees each name and the array.
 */
dz_result_t dz_keycli_zones(dz_keycli_t *cli, char ***names, size_t *count, dz_error_t *err);

/*
 * Read the zone's key state and its policy.  DZ_ENOTFOUND when the zone has
 * no state file yet; *ring is then an empty ring and *policy the policy the
 * zone would use.  The caller clears both.
 */
dz_result_t dz_keycli_load(dz_keycli_t *cli, const char *zone, dz_keyring_t *ring,
			   dz_policy_t *policy, uint32_t *negative_ttl, dz_error_t *err);

/*
 * Change the zone's state file under its lock: read it, apply `fn`, write
 * it.  DZ_ENOTFOUND (with a message) when the zone has no state file.
 */
dz_result_t dz_keycli_edit(dz_keycli_t *cli, const char *zone, dz_key_ring_edit_fn fn,
			   void *ctx, dz_error_t *err);

/* Parse a time option: "now", RFC 3339 UTC, YYYYMMDDHHmmSS or @SECONDS. */
dz_result_t dz_keycli_time(const char *text, dz_time_t now, dz_time_t *out, dz_error_t *err);

/* "ECDSAP256SHA256", or the number for an unknown algorithm (in a static buffer). */
const char *dz_keycli_algorithm(uint8_t algorithm);

#endif
