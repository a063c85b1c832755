/*
 * openpgp.h -- OpenPGP transferable public keys for OPENPGPKEY records.
 *
 * Reads what `gpg --export` writes, binary or in ASCII armour (RFC 4880
 * section 6, RFC 9580 section 6), as a sequence of packets (RFC 4880
 * section 4.2).  Each transferable public key starts with a Public-Key
 * packet and carries its signatures, User IDs and subkeys (RFC 4880 section
 * 11.1).
 * The record data is the key as exported, without Trust packets, which are
 * local to a keyring (RFC 4880 section 5.10).
 */
#ifndef DZ_ZONES_OPENPGP_H
#define DZ_ZONES_OPENPGP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/mem.h"
#include "zones/mailbox.h"
#include "zones/records.h"

/* Largest OpenPGP key file read. */
#define DZ_OPENPGP_FILE_MAX (1024 * 1024)

/* Most User IDs kept per key. */
#define DZ_OPENPGP_UID_MAX 32

typedef struct dz_openpgp_key {
	dz_buf_t data;	   /* the transferable public key in binary form */
	char *uids[DZ_OPENPGP_UID_MAX]; /* User ID texts (owned, UTF-8 as in the packet) */
	size_t uid_count;
	uint8_t version;   /* of the Public-Key packet: 4, 5 or 6 */
	bool revoked;	   /* a key revocation signature follows the primary key */
} dz_openpgp_key_t;

typedef struct dz_openpgp_keys {
	dz_openpgp_key_t *items;
	size_t count;
} dz_openpgp_keys_t;

void dz_openpgp_keys_clear(dz_openpgp_keys_t *keys);

/*
 * Parse binary or armoured data into keys (keys is initialised here).
 * DZ_ECERT for damaged packets, a bad armour checksum, secret keys or data
 * that is not a key; DZ_ENOMEM.
 */
dz_result_t dz_openpgp_parse(const uint8_t *data, size_t len, const char *name,
			     dz_openpgp_keys_t *keys, dz_error_t *err);

/*
 * The e-mail address of a User ID: the text between the last '<' and the
 * following '>', or the whole ID when it is a bare address.  Returns its
 * length (0 when there is none) and sets *start.
 */
size_t dz_openpgp_uid_address(const char *uid, const char **start);

/*
 * OPENPGPKEY records of a key file: one owner per User ID address in the
 * zone, the key as RDATA.  Revoked keys are skipped with a warning.
 */
dz_result_t dz_openpgp_file_records(const dz_mailbox_options_t *options, const char *path,
				    dz_records_t *out, dz_error_t *err);

/* The same for data already read; `name` labels messages. */
dz_result_t dz_openpgp_records(const dz_mailbox_options_t *options, const uint8_t *data,
			       size_t len, const char *name, dz_records_t *out, dz_error_t *err);

#endif
