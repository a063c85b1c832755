/*
 * keymat.h -- key material read from certificate and key files.
 *
 * A mail server's file may be a certificate, a chain (leaf first, as
 * certbot's fullchain.pem), a private key, a bare public key or a
 * certificate signing request, in PEM or DER.  Whatever the form, the result
 * carries the DER SubjectPublicKeyInfo of the server's key.  Selector 1
 * hashes the DER SPKI (RFC 6698 section 2.1.2), so a private key, its CSR,
 * its public key and its certificate give the same TLSA "3 1 1" record.
 *
 * A file that does not parse completely (a truncated PEM block, trailing
 * bytes after DER, an encrypted private key) is an error: callers keep the
 * records of the last good read.
 */
#ifndef DZ_ZONES_KEYMAT_H
#define DZ_ZONES_KEYMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/error.h"

/* Largest certificate or key file read: chains are a few kilobytes. */
#define DZ_KEYMAT_FILE_MAX (1024 * 1024)

typedef enum dz_keymat_kind {
	DZ_KEYMAT_CERTIFICATE, /* a certificate or a chain */
	DZ_KEYMAT_PRIVATE_KEY,
	DZ_KEYMAT_PUBLIC_KEY,
	DZ_KEYMAT_CSR,
} dz_keymat_kind_t;

/* One certificate in DER with its SubjectPublicKeyInfo. */
typedef struct dz_keymat_cert {
	uint8_t *der;	 /* owned */
	size_t der_len;
	uint8_t *spki;	 /* owned; DER SubjectPublicKeyInfo as in the certificate */
	size_t spki_len;
	char subject[256]; /* one-line subject, for messages */
} dz_keymat_cert_t;

typedef struct dz_keymat {
	dz_keymat_kind_t kind;
	uint8_t *spki;		/* owned; DER SubjectPublicKeyInfo of the server's key */
	size_t spki_len;	/* never 0 after a successful load */
	char key_type[32];	/* "RSA-2048", "EC-P-256", "ED25519" */
	bool has_cert;
	dz_keymat_cert_t leaf;	/* kind CERTIFICATE only */
	bool has_issuer;
	dz_keymat_cert_t issuer; /* the chain's certificate that issued the leaf */
	size_t chain_length;	 /* certificates in the file */
	dz_time_t not_before;	 /* of the leaf; 0 without certificate */
	dz_time_t not_after;
} dz_keymat_t;

/*
 * Parse `len` bytes of a file named `name` (for messages).  On success
 * fills *out (clear it with dz_keymat_clear).  Errors: DZ_ECERT for content
 * that is not a complete certificate, chain, key or CSR, or a file whose key
 * and certificate do not belong together; DZ_ENOMEM.
 */
dz_result_t dz_keymat_parse(const uint8_t *data, size_t len, const char *name, dz_keymat_t *out,
			    dz_error_t *err);

/* Read and parse a file; DZ_EIO / DZ_ENOTFOUND when it cannot be read. */
dz_result_t dz_keymat_load(const char *path, dz_keymat_t *out, dz_error_t *err);

/* Free what the material owns and zero it. */
void dz_keymat_clear(dz_keymat_t *keymat);

/* Deep copy; DZ_ENOMEM on failure (dst is then zeroed). */
dz_result_t dz_keymat_copy(dz_keymat_t *dst, const dz_keymat_t *src);

/*
 * Whether a line after the last PEM END line starts with '-': a file cut
 * inside a BEGIN line reads as complete to OpenSSL's PEM reader, which skips
 * text without a start line.
 */
bool dz_keymat_pem_tail_incomplete(const uint8_t *data, size_t len);

/* Name of a kind: "certificate", "private key", "public key", "CSR". */
const char *dz_keymat_kind_name(dz_keymat_kind_t kind);

#endif
