/*
 * uri.h -- which token to use: a token label or an RFC 7512 "pkcs11:" URI.
 *
 * URIs are parsed with p11-kit.  The token attributes (token, serial,
 * manufacturer, model) select the token.  The object and id attributes name
 * a key, for `danezone key import`.  pin-source names the PIN file and
 * module-path the module.  A URI with pin-value is rejected: a PIN written into a
 * configuration or a command line leaks into process titles and logs.
 */
#ifndef DZ_HSM_URI_H
#define DZ_HSM_URI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "hsm/hsm.h"

struct p11_kit_uri;

typedef struct dz_hsm_token_spec {
	char *text;			/* as given (owned) */
	char *label;			/* plain token label (owned), NULL for a URI */
	struct p11_kit_uri *uri;	/* parsed URI (owned), NULL for a plain label */
	char *pin_source;		/* PIN file from pin-source (owned), or NULL */
	char *module_path;		/* module-path attribute (owned), or NULL */
	uint8_t object_id[DZ_KEY_ID_MAX]; /* id attribute */
	size_t object_id_len;		/* 0 when the URI has no id */
	char *object_label;		/* object attribute (owned), or NULL */
} dz_hsm_token_spec_t;

/*
 * Parse a token label or "pkcs11:" URI into *spec.  DZ_ESYNTAX names what
 * is wrong with a URI; DZ_EINVAL rejects pin-value, an empty label, a label
 * longer than 32 bytes and an id longer than DZ_KEY_ID_MAX.  On success the
 * caller clears spec with dz_hsm_token_spec_clear().
 */
dz_result_t dz_hsm_token_spec_parse(const char *text, dz_hsm_token_spec_t *spec,
				    dz_error_t *err);

/* Free what spec owns and zero it. */
void dz_hsm_token_spec_clear(dz_hsm_token_spec_t *spec);

/*
 * Whether a token matches: the label is equal, or every token attribute of
 * the URI is equal.  A URI without token attributes matches every token.
 */
bool dz_hsm_token_spec_matches(const dz_hsm_token_spec_t *spec,
			       const dz_hsm_token_info_t *token);

/* Whether the spec names a key (the URI has id or object). */
bool dz_hsm_token_spec_names_key(const dz_hsm_token_spec_t *spec);

#endif
