/*
 * token_options.h -- the command-line options that select a PKCS#11 token
 * and the state folder, shared by `danezone key` and `danezone hsm`.
 *
 *   --module PATH        PKCS#11 module (default: the configure-time SoftHSM2 path)
 *   --token LABEL|URI    token label or RFC 7512 pkcs11: URI
 *   --pin-file FILE      file holding the user PIN (mode 0600 or stricter)
 *   --state-dir DIR      audit log and key registry
 *
 * NOTE: once the YAML configuration names tokens, it fills the same
 * structure; the options then override it.
 */
#ifndef DZ_SIGNER_TOKEN_OPTIONS_H
#define DZ_SIGNER_TOKEN_OPTIONS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "hsm/hsm.h"

/* Values returned by getopt_long() for the shared options. */
enum {
	DZ_OPT_MODULE = 1000,
	DZ_OPT_TOKEN,
	DZ_OPT_PIN_FILE,
	DZ_OPT_STATE_DIR,
};

/* getopt_long() entries for the shared options, for a command's option table. */
#define DZ_TOKEN_LONG_OPTIONS \
	{ "module", required_argument, NULL, DZ_OPT_MODULE }, \
	{ "token", required_argument, NULL, DZ_OPT_TOKEN }, \
	{ "pin-file", required_argument, NULL, DZ_OPT_PIN_FILE }, \
	{ "state-dir", required_argument, NULL, DZ_OPT_STATE_DIR }

typedef struct dz_token_options {
	const char *module;	/* NULL: DZ_DEFAULT_PKCS11_MODULE */
	const char *token;
	const char *pin_file;
	const char *state_dir;	/* NULL: DZ_LOCALSTATEDIR/lib/danezone */
} dz_token_options_t;

/* All options unset. */
void dz_token_options_init(dz_token_options_t *options);

/*
 * Store the argument of a shared option.  Returns false if `option` is not
 * one of them, so the command handles it.
 */
bool dz_token_options_handle(dz_token_options_t *options, int option, const char *arg);

/* The connection settings, for dz_hsm_create(); strings stay owned by options. */
void dz_token_options_config(const dz_token_options_t *options, unsigned sessions,
			     dz_hsm_config_t *config);

/* The state folder: --state-dir or the default. */
const char *dz_token_options_state_dir(const dz_token_options_t *options);

/* Print the help lines of the shared options. */
void dz_token_options_usage(FILE *out, bool with_state_dir);

#endif
