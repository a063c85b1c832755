/*
 * sign_options.h -- the policy values of signing, by name, for the command
 * line and the configuration.
 *
 * One table maps each name ("signature-validity", "nsec3-salt", ...) to a
 * field of dz_policy_t, its value syntax and its help text.  `danezone
 * sign` turns "--NAME VALUE" into dz_sign_option_set(policy, NAME, VALUE);
 * a configuration reader can pass the same names and values.
 */
#ifndef DZ_SIGNER_SIGN_OPTIONS_H
#define DZ_SIGNER_SIGN_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

#include "common/error.h"
#include "common/policy.h"

/*
 * Set the policy value `name` from its text.  Returns DZ_ENOTFOUND for an
 * unknown name and DZ_EINVAL for a bad value, with a message naming both.
 */
dz_result_t dz_sign_option_set(dz_policy_t *policy, const char *name, const char *value,
			       dz_error_t *err);

/* Whether `name` is a policy value of the table. */
bool dz_sign_option_exists(const char *name);

/* Name of the i-th value of the table, or NULL past the end (to build option tables). */
const char *dz_sign_option_name(size_t i);

/* Print "  --NAME VALUE   help" for every value, for usage texts. */
void dz_sign_options_usage(FILE *out);

#endif
