/*
 * key_ceremony.h -- what the `danezone key` subcommands share: the open
 * token with its key registry, key selection, DNSKEY and DS records, and the
 * audit log entry of each step.
 */
#ifndef DZ_SIGNER_KEY_CEREMONY_H
#define DZ_SIGNER_KEY_CEREMONY_H

#include <stdbool.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/mem.h"
#include "hsm/audit.h"
#include "hsm/hsm.h"
#include "hsm/registry.h"
#include "signer/token_options.h"

/* TTL of printed DNSKEY and DS records unless --ttl is given. */
#define DZ_CEREMONY_DEFAULT_TTL 3600

/* One ceremony step: the token, its registry and the audit entry being filled. */
typedef struct dz_ceremony {
	const char *command;		/* "generate" */
	dz_token_options_t options;
	const char *state_dir;
	char *audit_path;		/* owned */
	dz_hsm_t *hsm;			/* NULL until dz_ceremony_open_token() */
	dz_hsm_registry_t registry;	/* open while hsm is */
	char registry_title[160];	/* first comment line of the registry file */
	dz_hsm_audit_entry_t audit;
	/* Storage for audit fields that are not string constants. */
	char audit_id[2 * DZ_KEY_ID_MAX + 1];
	char *audit_zone;
	dz_buf_t audit_ds;
} dz_ceremony_t;

/*
 * Start a step: create the state folder (mode 0750) and the audit entry.
 * No token is opened yet.
 */
dz_result_t dz_ceremony_init(dz_ceremony_t *ceremony, const char *command,
			     const dz_token_options_t *options, dz_time_t now, dz_error_t *err);

/* Open the token and lock and load its registry. */
dz_result_t dz_ceremony_open_token(dz_ceremony_t *ceremony, dz_error_t *err);

/* Write the registry atomically. */
dz_result_t dz_ceremony_save_registry(dz_ceremony_t *ceremony, dz_error_t *err);

/*
 * Finish a step: write the audit entry with `result` (and err's message on
 * failure), close the token and free everything.  Returns `result`, or the
 * audit log's failure when writing it failed after a success.
 */
dz_result_t dz_ceremony_finish(dz_ceremony_t *ceremony, dz_result_t result, dz_error_t *err);

/* Record a key in the audit entry. */
void dz_ceremony_audit_key(dz_ceremony_t *ceremony, const dz_hsm_key_record_t *record);

/* Add a DS record to the audit entry. */
void dz_ceremony_audit_ds(dz_ceremony_t *ceremony, const char *ds);

/* Which registered keys a command acts on. */
typedef struct dz_key_selector {
	char *zone;		/* canonical (owned), or NULL for any zone */
	uint8_t id[DZ_KEY_ID_MAX];
	size_t id_len;		/* 0: any id */
	int key_tag;		/* -1: any tag */
	bool ksk_only;		/* keys with a DS: KSKs and CSKs */
} dz_key_selector_t;

void dz_key_selector_init(dz_key_selector_t *selector);
void dz_key_selector_clear(dz_key_selector_t *selector);

/* Set the zone (made canonical) or the id (hex) of a selector from an option. */
dz_result_t dz_key_selector_zone(dz_key_selector_t *selector, const char *zone, dz_error_t *err);
dz_result_t dz_key_selector_id(dz_key_selector_t *selector, const char *hex, dz_error_t *err);

/*
 * The registered keys that match, in registry order, as pointers into the
 * registry (the caller frees the array).  DZ_EHSM_KEY when none matches.
 */
dz_result_t dz_ceremony_select(dz_ceremony_t *ceremony, const dz_key_selector_t *selector,
			       dz_hsm_key_record_t ***records, size_t *count, dz_error_t *err);

/* DNSKEY flags of a role: 257 (zone key and SEP) for KSK and CSK, 256 for ZSK. */
uint16_t dz_ceremony_dnskey_flags(dz_key_role_t role);

/*
 * Build the DNSKEY RDATA of a registered key from the token's public key
 * and check that its key tag is the registered one (a mismatch means the
 * token has another key under this id).  rdata must be empty.
 */
dz_result_t dz_ceremony_dnskey(dz_ceremony_t *ceremony, const dz_hsm_key_record_t *record,
			       dz_buf_t *rdata, dz_error_t *err);

/* Format the DS record of a DNSKEY; the caller frees *line. */
dz_result_t dz_ceremony_ds_line(const char *zone, uint32_t ttl, const dz_buf_t *dnskey_rdata,
				uint8_t digest_type, char **line, dz_error_t *err);

/* Parse option values; errors name the option. */
dz_result_t dz_parse_ttl(const char *text, uint32_t *ttl, dz_error_t *err);
dz_result_t dz_parse_digest(const char *text, uint8_t *digest_type, dz_error_t *err);

#endif
