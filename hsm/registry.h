/*
 * registry.h -- danezone's records of the keys in one token: zone, role,
 * algorithm, key tag, creation time, and whether the key is published or
 * signing.
 *
 * The token stores only the key pair with its CKA_ID and CKA_LABEL; this
 * small text file in the state folder stores the rest, one line per key:
 *
 *   # comment
 *   ID-HEX ZONE ROLE ALGORITHM BITS KEY-TAG CREATED FLAGS
 *   0a1b...  example.com. ksk 13 256 12345 2027-01-03T10:00:00Z published,signing
 *
 * FLAGS is "-" or a comma-separated list of "published" and "signing".  The
 * key manager sets them; `danezone key delete` refuses a key that has
 * either unless forced.  The file is replaced atomically, and a lock file
 * beside it serialises processes that change it.
 *
 * Not thread safe: one thread uses a registry object at a time.
 */
#ifndef DZ_HSM_REGISTRY_H
#define DZ_HSM_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/policy.h"
#include "hsm/hsm.h"

typedef struct dz_hsm_key_record {
	uint8_t id[DZ_KEY_ID_MAX];	/* CKA_ID */
	size_t id_len;
	char *zone;			/* canonical presentation form, "example.com." (owned) */
	dz_key_role_t role;
	uint8_t algorithm;		/* DZ_ALG_* */
	unsigned bits;
	uint16_t key_tag;
	dz_time_t created;
	bool published;			/* the DNSKEY is in the zone */
	bool signing;			/* the key makes signatures in the zone */
} dz_hsm_key_record_t;

typedef struct dz_hsm_registry {
	char *path;			/* owned */
	char *title;			/* from the file's first comment line (owned), or NULL */
	int lock_fd;			/* lock file, held while `locked` */
	bool locked;
	dz_hsm_key_record_t *records;	/* owned, in file order */
	size_t count;
	size_t cap;
} dz_hsm_registry_t;

/*
 * Path of the registry of a token in `state_dir`: STATE_DIR/token-SERIAL.keys
 * (characters of the serial other than letters, digits, '-' and '_' become
 * '_').  The caller frees *path.
 */
dz_result_t dz_hsm_registry_path(const char *state_dir, const dz_hsm_token_info_t *token,
				 char **path, dz_error_t *err);

/*
 * Lock and load the registry at `path` (a missing file is an empty
 * registry).  The lock is held until dz_hsm_registry_close(), so another
 * process waits there.  DZ_ESYNTAX names the file and line of a bad entry.
 */
dz_result_t dz_hsm_registry_open(dz_hsm_registry_t *registry, const char *path,
				 dz_error_t *err);

/*
 * Write the registry atomically and durably, mode 0640.  `title` describes
 * the token in the first comment line; NULL keeps the title the file had.
 */
dz_result_t dz_hsm_registry_save(const dz_hsm_registry_t *registry, const char *title,
				 dz_error_t *err);

/* Release the lock and free everything; a zeroed registry is ignored. */
void dz_hsm_registry_close(dz_hsm_registry_t *registry);

/* The record with this CKA_ID, or NULL; valid until the registry changes. */
dz_hsm_key_record_t *dz_hsm_registry_find(dz_hsm_registry_t *registry, const uint8_t *id,
					  size_t id_len);

/* Append a copy of record (the zone is copied).  DZ_EEXIST if the id is registered. */
dz_result_t dz_hsm_registry_add(dz_hsm_registry_t *registry, const dz_hsm_key_record_t *record,
				dz_error_t *err);

/* Remove the record with this id; false if there is none. */
bool dz_hsm_registry_remove(dz_hsm_registry_t *registry, const uint8_t *id, size_t id_len);

/*
 * Set the published and signing flags of one key in the registry at
 * `path`: lock, load, change, save atomically, unlock.  The key manager
 * calls this as keys enter and leave the zone.  DZ_EHSM_KEY if the id is
 * not registered.
 */
dz_result_t dz_hsm_registry_set_flags(const char *path, const uint8_t *id, size_t id_len,
				      bool published, bool signing, dz_error_t *err);

/*
 * Parse registry text (the file's content) into a closed registry, for
 * tests and tools: `name` is used in messages.
 */
dz_result_t dz_hsm_registry_parse(dz_hsm_registry_t *registry, const char *name,
				  const char *text, dz_error_t *err);

#endif
