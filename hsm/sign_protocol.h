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
 * Decoding is strict: a wrong magic, type, flag, length, count or trailing
 * byte is an error, and the receiver closes the connection.
 */
#ifndef DZ_HSM_SIGN_PROTOCOL_H
#define DZ_HSM_SIGN_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/mem.h"
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

typedef enum dz_hsm_msg_type {
	DZ_HSM_MSG_READY = 1,
	DZ_HSM_MSG_SIGN = 2,
	DZ_HSM_MSG_SIGNED = 3,
} dz_hsm_msg_type_t;

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

/*
 * Serve SIGN messages on fd with hsm until the peer closes the connection
 * (DZ_OK).  A malformed message is logged and ends the connection
 * (DZ_ESYNTAX); so does a failed read or write (DZ_EIO).  `name` labels log
 * lines ("signer process 2").
 */
dz_result_t dz_hsm_msg_serve(dz_hsm_t *hsm, int fd, const char *name);

/* Read exactly len bytes; DZ_ENOTFOUND at end of file before the first byte. */
dz_result_t dz_hsm_msg_read(int fd, void *buf, size_t len, dz_error_t *err);

/* Write all of buf (without SIGPIPE). */
dz_result_t dz_hsm_msg_write(int fd, const void *buf, size_t len, dz_error_t *err);

#endif
