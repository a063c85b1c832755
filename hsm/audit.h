/*
 * audit.h -- the key ceremony audit log.
 *
 * Every step of a ceremony (token initialisation, key generation, import,
 * export of DNSKEY and DS records, deletion), successful or not, appends one
 * line to STATE_DIR/audit.log and fsyncs it before the command reports
 * success:
 *
 *   2027-01-03T10:00:00Z command=generate token="dz-test" serial=8d1c... zone=example.com.
 *     role=ksk algorithm=ECDSAP256SHA256 key_tag=12345 id=0a1b...
 *     ds="example.com. 3600 IN DS 12345 13 2 AB..." result=ok
 *
 * (one line in the file).  Values with spaces, quotes or backslashes are
 * quoted, with '"' and '\' escaped by a backslash; control characters become
 * '?'.  Fields without a value are left out.  No PIN ever reaches this log:
 * messages name PIN files, never their content.
 */
#ifndef DZ_HSM_AUDIT_H
#define DZ_HSM_AUDIT_H

#include "common/clock.h"
#include "common/error.h"

/* Name of the audit log in the state folder. */
#define DZ_HSM_AUDIT_LOG_NAME "audit.log"

typedef struct dz_hsm_audit_entry {
	dz_time_t time;
	const char *command;	/* "generate", "delete", ... */
	const char *token;	/* token label */
	const char *serial;	/* token serial number */
	const char *zone;
	const char *role;	/* "ksk", "zsk" or "csk" */
	const char *algorithm;	/* "ECDSAP256SHA256" */
	int key_tag;		/* -1 when there is none */
	const char *key_id;	/* CKA_ID in hex */
	const char *ds;		/* DS records handed to the registrar, "; "-separated */
	const char *result;	/* "ok", or the error message */
} dz_hsm_audit_entry_t;

/* An entry with no fields set (key_tag -1). */
void dz_hsm_audit_entry_init(dz_hsm_audit_entry_t *entry, dz_time_t now, const char *command);

/*
 * Append the entry to `path` (created with mode 0640 if missing) and fsync.
 * Thread safe as far as the file is: one write() per entry.
 */
dz_result_t dz_hsm_audit_append(const char *path, const dz_hsm_audit_entry_t *entry, dz_error_t *err);

/* Format the entry as one line with its newline; the caller frees it.  NULL on ENOMEM. */
char *dz_hsm_audit_format(const dz_hsm_audit_entry_t *entry);

#endif
