/*
 * tsig.h -- TSIG (RFC 8945) with hmac-sha256, hmac-sha384 and hmac-sha512.
 *
 * The server verifies the TSIG of requests and signs its responses,
 * including every message of a multi-message TCP transfer.  The NOTIFY
 * sender signs its requests and verifies the responses.  A dz_tsig_context_t
 * carries the MAC of the previous message of one exchange.
 */
#ifndef DZ_SIGNER_TSIG_H
#define DZ_SIGNER_TSIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/error.h"
#include "signer/wire.h"
/* dz_tsig_algorithm_t, dz_tsig_algorithm_name() and DZ_TSIG_SECRET_MAX come from the configuration. */
#include "zones/conf.h"

#define DZ_TSIG_MAC_MAX 64
/* Fudge of the TSIG records we create, in seconds (RFC 8945 recommends 300). */
#define DZ_TSIG_FUDGE 300

/* TSIG error codes (RFC 8945 section 3). */
#define DZ_TSIG_BADSIG 16
#define DZ_TSIG_BADKEY 17
#define DZ_TSIG_BADTIME 18
#define DZ_TSIG_BADTRUNC 22

typedef struct dz_tsig_key {
	uint8_t name[DZ_WIRE_NAME_MAX]; /* lower-case wire form */
	size_t name_len;
	char name_text[4 * DZ_WIRE_NAME_MAX + 1];
	dz_tsig_algorithm_t algorithm;
	uint8_t secret[DZ_TSIG_SECRET_MAX];
	size_t secret_len;
} dz_tsig_key_t;

/*
 * Fill `key` from a name, an algorithm name ("hmac-sha256", "hmac-sha384",
 * "hmac-sha512") and a base64 secret.  DZ_EINVAL naming the bad part.
 */
dz_result_t dz_tsig_key_init(dz_tsig_key_t *key, const char *name, const char *algorithm,
			     const char *secret_base64, dz_error_t *err);

/*
 * Fill `key` from "ALGORITHM:NAME:SECRET" (the form of `dig -y`).
 * DZ_EINVAL naming the bad part.
 */
dz_result_t dz_tsig_key_parse(dz_tsig_key_t *key, const char *spec, dz_error_t *err);

/* Overwrite the secret. */
void dz_tsig_key_clear(dz_tsig_key_t *key);

/* Full MAC length in bytes: 32, 48 or 64. */
size_t dz_tsig_mac_size(dz_tsig_algorithm_t algorithm);

/* A TSIG RR read from a message; pointers point into the message. */
typedef struct dz_tsig_record {
	size_t offset; /* where the TSIG RR starts */
	uint8_t key_name[DZ_WIRE_NAME_MAX];
	size_t key_name_len;
	uint8_t algorithm_name[DZ_WIRE_NAME_MAX];
	size_t algorithm_name_len;
	uint64_t time_signed;
	uint16_t fudge;
	const uint8_t *mac;
	uint16_t mac_len;
	uint16_t original_id;
	uint16_t error;
	const uint8_t *other;
	uint16_t other_len;
} dz_tsig_record_t;

/*
 * Read the TSIG RR that starts at msg + offset and ends the message.
 * DZ_EFORMERR when it is malformed or does not end exactly at `len`.
 */
dz_result_t dz_tsig_record_parse(const uint8_t *msg, size_t len, size_t offset,
				 dz_tsig_record_t *record);

/* One signed exchange: the key and the MAC of the previous message. */
typedef struct dz_tsig_context {
	const dz_tsig_key_t *key; /* not owned */
	uint8_t mac[DZ_TSIG_MAC_MAX];
	size_t mac_len;		/* 0 before the first message */
	unsigned messages;	/* messages signed in this direction */
	uint64_t request_time;	/* Time Signed of the verified request */
} dz_tsig_context_t;

/* Start an exchange with `key` (a request we send, or one we verify). */
void dz_tsig_context_init(dz_tsig_context_t *ctx, const dz_tsig_key_t *key);

/*
 * Verify the TSIG `record` of the request `msg` against `keys`.  Returns
 * 0 when valid, a TSIG error (DZ_TSIG_BADKEY, _BADSIG, _BADTIME,
 * _BADTRUNC) when not, or -1 when the TSIG is malformed (FORMERR).  The
 * checks run in the order of RFC 8945 section 5.2: key, MAC, time.  For 0
 * and DZ_TSIG_BADTIME, `ctx` is ready to sign the response with the key.
 */
int dz_tsig_verify_request(const dz_tsig_key_t *keys, size_t key_count, const uint8_t *msg,
			   size_t len, const dz_tsig_record_t *record, dz_time_t now,
			   dz_tsig_context_t *ctx);

/*
 * Verify the TSIG of a response to a request signed with `ctx`, as
 * dz_tsig_verify_request() does.
 */
int dz_tsig_verify_response(dz_tsig_context_t *ctx, const uint8_t *msg, size_t len,
			    const dz_tsig_record_t *record, dz_time_t now);

/*
 * Sign the message msg[0..*len) (capacity `cap`): append a TSIG RR, add
 * one to ARCOUNT and update *len.  The first message of a context covers
 * the previous MAC (none for a request) and all TSIG variables; later
 * messages cover the previous MAC, the message and the timers only (RFC
 * 8945 section 5.3.1).  `error` is 0 or DZ_TSIG_BADTIME; for BADTIME the
 * Time Signed is the request's and Other Data carries `now`.
 * DZ_ETOOBIG when the record does not fit.
 */
dz_result_t dz_tsig_sign(dz_tsig_context_t *ctx, uint8_t *msg, size_t *len, size_t cap,
			 dz_time_t now, uint16_t error);

/*
 * Append an unsigned TSIG RR (MAC size 0) that carries `error` (BADKEY or
 * BADSIG) for the request's key and algorithm names, as RFC 8945 section
 * 5.3.2 requires for those errors.  DZ_ETOOBIG when it does not fit.
 */
dz_result_t dz_tsig_append_error(const dz_tsig_record_t *request, uint8_t *msg, size_t *len,
				 size_t cap, dz_time_t now, uint16_t error);

/* Size of the TSIG RR that dz_tsig_sign() appends for `key`. */
size_t dz_tsig_record_size(const dz_tsig_key_t *key);

#endif
