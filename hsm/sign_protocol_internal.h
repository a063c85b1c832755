/*
 * sign_protocol_internal.h -- pieces of the signer process protocol that
 * sign_protocol.c and sign_protocol_keys.c share; for the hsm folder only.
 */
#ifndef DZ_HSM_SIGN_PROTOCOL_INTERNAL_H
#define DZ_HSM_SIGN_PROTOCOL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/mem.h"
#include "hsm/sign_protocol.h"

/* Read a 16-bit integer in network byte order. */
uint16_t dz_hsm_msg_get_u16(const uint8_t *p);

/* Append a header with a body length of 0; dz_hsm_msg_patch_body_len() sets it. */
dz_result_t dz_hsm_msg_append_header(dz_buf_t *out, dz_hsm_msg_type_t type, uint32_t id,
				     uint32_t count, uint32_t body_len);

/* Write the body length into the header that starts at `start`. */
void dz_hsm_msg_patch_body_len(dz_buf_t *out, size_t start);

/* Append "length (2), text", the text cut at DZ_HSM_MSG_TEXT_MAX bytes. */
dz_result_t dz_hsm_msg_append_text(dz_buf_t *out, const char *message);

/*
 * Decode "length (2), text" at body[*pos] into message[DZ_HSM_MSG_TEXT_MAX
 * + 1], checking bounds; the text must end the body.
 */
dz_result_t dz_hsm_msg_decode_text(const uint8_t *body, size_t body_len, size_t *pos,
				   char *message, dz_error_t *err);

/* Check a result code received from the peer. */
dz_result_t dz_hsm_msg_decode_result(uint16_t value, dz_result_t *out, dz_error_t *err);

#endif
