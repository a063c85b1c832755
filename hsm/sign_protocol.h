/*
 * sign_protocol.h -- the binary protocol between danezone and its signer
 * processes, over a socketpair.
 *
 * Every message is a 20-byte header followed by a body, all integers in
 * network byte order:
 *
 *   magic "DZS1" (4) | type (1) | flags = 0 (1) | reserved = 0 (2) |
 *   id (4) | count (4) | body length (4)
 *
 * READY (signer to parent, once at start): result (2), message length (2),
 *   message.  count is 0.
 * SIGN (parent to signer): count entries of
 *   algorithm (1), key id length (1, 1..64), data length (4), key id, data.
 * SIGNED (signer to parent, one per SIGN with the same id and count):
 *   count entries of result (2), signature length (2, at most 512) and
 *   signature.  Then message length (2) and the message of the first
 *   failure, which is empty when all succeeded.
 *
 * The key requests carry what only the token's login can do, so that the
 * parent never logs in.  Each gets one response with the same id, and the
 * count of both is 0.  Short texts are a length, then bytes without
 * control characters; the sizes below are the limits.
 *
 * INFO (parent to signer): empty body.
 * TOKEN (signer to INFO): result (2), then five short texts: module
 *   description (1 + up to 255), token label (1 + up to 32), serial (1 + up
 *   to 16), manufacturer (1 + up to 32) and model (1 + up to 16).  Then
 *   message length (2) and message.  The five texts are empty when the
 *   result is a failure.
 * GENERATE (parent to signer): role (1, DZ_ROLE_*), algorithm (1), bits (2),
 *   zone length (2, 1..DZ_HSM_MSG_ZONE_MAX), label length (2,
 *   1..DZ_HSM_KEY_LABEL_MAX - 1), zone, label.  The zone and role only
 *   name the key in the signer process's log.
 * GENERATED (signer to GENERATE): result (2), bits (2), key id length (1),
 *   public key length (2), key id, DNSKEY public key field; message length
 *   (2) and message.  On success the key id has 1..DZ_KEY_ID_MAX bytes and
 *   the public key 1..DZ_HSM_PUBLIC_KEY_MAX; on failure both are empty.
 * CHECK, DELETE (parent to signer): key id length (1, 1..DZ_KEY_ID_MAX),
 *   key id.  CHECK rebuilds the signer's key index when the key is not in
 *   it, so a key that another process generated can sign right after.
 * LABEL (parent to signer): key id length (1), label length (2,
 *   1..DZ_HSM_KEY_LABEL_MAX - 1), key id, label.  Sets CKA_LABEL of both
 *   objects of the key pair.
 * DONE (signer to CHECK, DELETE and LABEL): result (2), message length (2),
 *   message.
 *
 * Decoding is strict: a wrong magic, type, flag, length, count, text byte
 * or trailing byte is an error, and the receiver closes the connection.
 */
#ifndef DZ_HSM_SIGN_PROTOCOL_H
#define DZ_HSM_SIGN_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/mem.h"
#include "hsm/hsm.h"
#include "hsm/sign_service.h"

#define DZ_HSM_MSG_HEADER_LEN 20
/* Maximum number of requests in one SIGN message. */
#define DZ_HSM_MSG_COUNT_MAX 1024
/* Largest data of one request: far above any RRset a DNS message can carry. */
#define DZ_HSM_MSG_DATA_MAX (1024 * 1024)
/* Largest body of any message. */
#define DZ_HSM_MSG_BODY_MAX (64 * 1024 * 1024)
/* Maximum length of a message text. */
#define DZ_HSM_MSG_TEXT_MAX 1000
/* Maximum length of a zone name in GENERATE: presentation form, escapes included. */
#define DZ_HSM_MSG_ZONE_MAX 1024
/* Maximum length of the module description in TOKEN. */
#define DZ_HSM_MSG_MODULE_MAX 255

typedef enum dz_hsm_msg_type {
	DZ_HSM_MSG_READY = 1,
	DZ_HSM_MSG_SIGN = 2,
	DZ_HSM_MSG_SIGNED = 3,
	DZ_HSM_MSG_INFO = 4,
	DZ_HSM_MSG_TOKEN = 5,
	DZ_HSM_MSG_GENERATE = 6,
	DZ_HSM_MSG_GENERATED = 7,
	DZ_HSM_MSG_CHECK = 8,
	DZ_HSM_MSG_DELETE = 9,
	DZ_HSM_MSG_LABEL = 10,
	DZ_HSM_MSG_DONE = 11,
} dz_hsm_msg_type_t;

/* A key request: INFO, GENERATE, CHECK, DELETE or LABEL. */
typedef struct dz_hsm_key_request {
	dz_hsm_msg_type_t type;
	uint8_t key_id[DZ_KEY_ID_MAX];		/* CHECK, DELETE, LABEL */
	size_t key_id_len;
	uint8_t role;				/* GENERATE: DZ_ROLE_KSK, _ZSK or _CSK */
	uint8_t algorithm;			/* GENERATE */
	uint16_t bits;				/* GENERATE: RSA modulus, 0 for other algorithms */
	char zone[DZ_HSM_MSG_ZONE_MAX + 1];	/* GENERATE */
	char label[DZ_HSM_KEY_LABEL_MAX];	/* GENERATE, LABEL: CKA_LABEL */
} dz_hsm_key_request_t;

/* A key response: TOKEN, GENERATED or DONE. */
typedef struct dz_hsm_key_response {
	dz_hsm_msg_type_t type;
	dz_result_t result;
	char message[DZ_HSM_MSG_TEXT_MAX + 1];	/* why it failed; empty on success */
	char module[DZ_HSM_MSG_MODULE_MAX + 1];	/* TOKEN: dz_hsm_module_describe() */
	dz_hsm_token_info_t token;		/* TOKEN: label, serial, manufacturer, model */
	uint8_t key_id[DZ_KEY_ID_MAX];		/* GENERATED: CKA_ID */
	size_t key_id_len;
	uint8_t public_key[DZ_HSM_PUBLIC_KEY_MAX]; /* GENERATED: DNSKEY public key field */
	size_t public_key_len;
	uint16_t bits;				/* GENERATED: RSA modulus or curve size */
} dz_hsm_key_response_t;

typedef struct dz_hsm_msg_header {
	dz_hsm_msg_type_t type;
	uint32_t id;
	uint32_t count;
	uint32_t body_len;
} dz_hsm_msg_header_t;

/* Decode and check a header; the DZ_ESYNTAX message names the problem. */
dz_result_t dz_hsm_msg_header_decode(const uint8_t header[DZ_HSM_MSG_HEADER_LEN],
				     dz_hsm_msg_header_t *out, dz_error_t *err);

/* Append a READY message. */
dz_result_t dz_hsm_msg_ready_encode(dz_buf_t *out, dz_result_t result, const char *message);

/* Decode a READY body into *result and message[DZ_HSM_MSG_TEXT_MAX + 1]. */
dz_result_t dz_hsm_msg_ready_decode(const dz_hsm_msg_header_t *header, const uint8_t *body,
				    dz_result_t *result, char *message, dz_error_t *err);

/* Append a SIGN message for requests[0..count). */
dz_result_t dz_hsm_msg_sign_encode(dz_buf_t *out, uint32_t id, const dz_sign_request_t *requests,
				   size_t count);

/*
 * Decode a SIGN body into requests[0..header->count) (key id, algorithm,
 * data pointing into body).
 */
dz_result_t dz_hsm_msg_sign_decode(const dz_hsm_msg_header_t *header, const uint8_t *body,
				   dz_sign_request_t *requests, dz_error_t *err);

/* Append a SIGNED message with the results and signatures of requests. */
dz_result_t dz_hsm_msg_signed_encode(dz_buf_t *out, uint32_t id,
				     const dz_sign_request_t *requests, size_t count,
				     const char *message);

/*
 * Decode a SIGNED body into the result and signature of requests[0..count)
 * (count must equal header->count) and the message into
 * message[DZ_HSM_MSG_TEXT_MAX + 1].
 */
dz_result_t dz_hsm_msg_signed_decode(const dz_hsm_msg_header_t *header, const uint8_t *body,
				     dz_sign_request_t *requests, size_t count, char *message,
				     dz_error_t *err);

/* The response type of a key request type; 0 for any other type. */
dz_hsm_msg_type_t dz_hsm_msg_response_type(dz_hsm_msg_type_t request);

/*
 * Append a key request.  DZ_EINVAL if the type is not a key request or a
 * field is out of the ranges above.
 */
dz_result_t dz_hsm_msg_key_request_encode(dz_buf_t *out, uint32_t id,
					  const dz_hsm_key_request_t *request);

/* Decode the body of a key request; header->type selects its layout. */
dz_result_t dz_hsm_msg_key_request_decode(const dz_hsm_msg_header_t *header,
					  const uint8_t *body, dz_hsm_key_request_t *out,
					  dz_error_t *err);

/* Append a key response; DZ_EINVAL as for requests. */
dz_result_t dz_hsm_msg_key_response_encode(dz_buf_t *out, uint32_t id,
					   const dz_hsm_key_response_t *response);

/* Decode the body of a key response; header->type selects its layout. */
dz_result_t dz_hsm_msg_key_response_decode(const dz_hsm_msg_header_t *header,
					   const uint8_t *body, dz_hsm_key_response_t *out,
					   dz_error_t *err);

/*
 * Carry out a decoded key request on hsm and fill *response (its type,
 * result and message included).  Generating and deleting a key pair are
 * logged with `name` ("signer process 1").  A key pair whose public key
 * cannot be read after generation is deleted again.
 */
void dz_hsm_msg_key_execute(dz_hsm_t *hsm, const dz_hsm_key_request_t *request,
			    dz_hsm_key_response_t *response, const char *name);

/*
 * Serve SIGN and key requests on fd with hsm until the peer closes the
 * connection (DZ_OK).  A malformed message is logged and ends the connection
 * (DZ_ESYNTAX); so does a failed read or write (DZ_EIO).  `name` labels log
 * lines ("signer process 2").
 */
dz_result_t dz_hsm_msg_serve(dz_hsm_t *hsm, int fd, const char *name);

/* Read exactly len bytes; DZ_ENOTFOUND at end of file before the first byte. */
dz_result_t dz_hsm_msg_read(int fd, void *buf, size_t len, dz_error_t *err);

/* Write all of buf (without SIGPIPE). */
dz_result_t dz_hsm_msg_write(int fd, const void *buf, size_t len, dz_error_t *err);

#endif
