#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "hsm/hsm.h"
#include "hsm/sign_protocol.h"
#include "hsm/sign_protocol_internal.h"

static const uint8_t magic[4] = { 'D', 'Z', 'S', '1' };

uint16_t
dz_hsm_msg_get_u16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t
get_u32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

dz_result_t
dz_hsm_msg_append_header(dz_buf_t *out, dz_hsm_msg_type_t type, uint32_t id, uint32_t count,
	      uint32_t body_len)
{
	if (dz_buf_append(out, magic, sizeof(magic)) != DZ_OK ||
	    dz_buf_append_u8(out, (uint8_t)type) != DZ_OK || dz_buf_append_u8(out, 0) != DZ_OK ||
	    dz_buf_append_u16(out, 0) != DZ_OK || dz_buf_append_u32(out, id) != DZ_OK ||
	    dz_buf_append_u32(out, count) != DZ_OK || dz_buf_append_u32(out, body_len) != DZ_OK)
		return DZ_ENOMEM;
	return DZ_OK;
}

void
dz_hsm_msg_patch_body_len(dz_buf_t *out, size_t start)
{
	uint32_t body_len = (uint32_t)(out->len - start - DZ_HSM_MSG_HEADER_LEN);
	uint8_t *p = out->data + start + 16;

	p[0] = (uint8_t)(body_len >> 24);
	p[1] = (uint8_t)(body_len >> 16);
	p[2] = (uint8_t)(body_len >> 8);
	p[3] = (uint8_t)body_len;
}

dz_result_t
dz_hsm_msg_header_decode(const uint8_t header[DZ_HSM_MSG_HEADER_LEN], dz_hsm_msg_header_t *out,
			 dz_error_t *err)
{
	uint8_t type = header[4];

	if (memcmp(header, magic, sizeof(magic)) != 0)
		return dz_error_set(err, DZ_ESYNTAX, "bad magic %02x%02x%02x%02x", header[0],
				    header[1], header[2], header[3]);
	if (type < DZ_HSM_MSG_READY || type > DZ_HSM_MSG_DONE)
		return dz_error_set(err, DZ_ESYNTAX, "unknown message type %u", (unsigned)type);
	if (header[5] != 0 || header[6] != 0 || header[7] != 0)
		return dz_error_set(err, DZ_ESYNTAX, "flags or reserved bytes are not zero");
	out->type = (dz_hsm_msg_type_t)type;
	out->id = get_u32(header + 8);
	out->count = get_u32(header + 12);
	out->body_len = get_u32(header + 16);
	if (out->body_len > DZ_HSM_MSG_BODY_MAX)
		return dz_error_set(err, DZ_ESYNTAX, "body of %u bytes exceeds the limit of %d",
				    (unsigned)out->body_len, DZ_HSM_MSG_BODY_MAX);
	bool counted = out->type == DZ_HSM_MSG_SIGN || out->type == DZ_HSM_MSG_SIGNED;
	if (!counted && out->count != 0)
		return dz_error_set(err, DZ_ESYNTAX, "message type %u with a count of %u",
				    (unsigned)type, (unsigned)out->count);
	if (counted && (out->count == 0 || out->count > DZ_HSM_MSG_COUNT_MAX))
		return dz_error_set(err, DZ_ESYNTAX, "count %u is not 1 to %d",
				    (unsigned)out->count, DZ_HSM_MSG_COUNT_MAX);
	return DZ_OK;
}

dz_result_t
dz_hsm_msg_append_text(dz_buf_t *out, const char *message)
{
	size_t len = message != NULL ? strnlen(message, DZ_HSM_MSG_TEXT_MAX) : 0;

	if (dz_buf_append_u16(out, (uint16_t)len) != DZ_OK ||
	    dz_buf_append(out, message, len) != DZ_OK)
		return DZ_ENOMEM;
	return DZ_OK;
}

dz_result_t
dz_hsm_msg_decode_text(const uint8_t *body, size_t body_len, size_t *pos, char *message, dz_error_t *err)
{
	if (body_len - *pos < 2)
		return dz_error_set(err, DZ_ESYNTAX, "message length is missing");
	size_t len = dz_hsm_msg_get_u16(body + *pos);
	*pos += 2;
	if (len > DZ_HSM_MSG_TEXT_MAX || body_len - *pos != len)
		return dz_error_set(err, DZ_ESYNTAX, "message of %zu bytes does not fit the body",
				    len);
	memcpy(message, body + *pos, len);
	message[len] = '\0';
	*pos += len;
	return DZ_OK;
}

dz_result_t
dz_hsm_msg_decode_result(uint16_t value, dz_result_t *out, dz_error_t *err)
{
	if (value >= DZ_RESULT_COUNT)
		return dz_error_set(err, DZ_ESYNTAX, "unknown result code %u", (unsigned)value);
	*out = (dz_result_t)value;
	return DZ_OK;
}

dz_result_t
dz_hsm_msg_ready_encode(dz_buf_t *out, dz_result_t result, const char *message)
{
	size_t start = out->len;

	if (dz_hsm_msg_append_header(out, DZ_HSM_MSG_READY, 0, 0, 0) != DZ_OK ||
	    dz_buf_append_u16(out, (uint16_t)result) != DZ_OK || dz_hsm_msg_append_text(out, message) != DZ_OK)
		return DZ_ENOMEM;
	dz_hsm_msg_patch_body_len(out, start);
	return DZ_OK;
}

dz_result_t
dz_hsm_msg_ready_decode(const dz_hsm_msg_header_t *header, const uint8_t *body,
			dz_result_t *result, char *message, dz_error_t *err)
{
	size_t pos = 2;

	if (header->type != DZ_HSM_MSG_READY)
		return dz_error_set(err, DZ_ESYNTAX, "expected READY, got message type %u",
				    (unsigned)header->type);
	if (header->body_len < 2)
		return dz_error_set(err, DZ_ESYNTAX, "READY body of %u bytes is too short",
				    (unsigned)header->body_len);
	dz_result_t decoded = dz_hsm_msg_decode_result(dz_hsm_msg_get_u16(body), result, err);
	if (decoded != DZ_OK)
		return decoded;
	return dz_hsm_msg_decode_text(body, header->body_len, &pos, message, err);
}

dz_result_t
dz_hsm_msg_sign_encode(dz_buf_t *out, uint32_t id, const dz_sign_request_t *requests,
		       size_t count)
{
	size_t start = out->len;

	if (count == 0 || count > DZ_HSM_MSG_COUNT_MAX)
		return DZ_EINVAL;
	if (dz_hsm_msg_append_header(out, DZ_HSM_MSG_SIGN, id, (uint32_t)count, 0) != DZ_OK)
		return DZ_ENOMEM;
	for (size_t i = 0; i < count; i++) {
		const dz_sign_request_t *request = &requests[i];
		if (request->key_id_len == 0 || request->key_id_len > DZ_KEY_ID_MAX ||
		    request->data_len > DZ_HSM_MSG_DATA_MAX)
			return DZ_EINVAL;
		if (dz_buf_append_u8(out, request->algorithm) != DZ_OK ||
		    dz_buf_append_u8(out, (uint8_t)request->key_id_len) != DZ_OK ||
		    dz_buf_append_u32(out, (uint32_t)request->data_len) != DZ_OK ||
		    dz_buf_append(out, request->key_id, request->key_id_len) != DZ_OK ||
		    dz_buf_append(out, request->data, request->data_len) != DZ_OK)
			return DZ_ENOMEM;
	}
	if (out->len - start - DZ_HSM_MSG_HEADER_LEN > DZ_HSM_MSG_BODY_MAX)
		return DZ_ETOOBIG;
	dz_hsm_msg_patch_body_len(out, start);
	return DZ_OK;
}

dz_result_t
dz_hsm_msg_sign_decode(const dz_hsm_msg_header_t *header, const uint8_t *body,
		       dz_sign_request_t *requests, dz_error_t *err)
{
	size_t len = header->body_len;
	size_t pos = 0;

	if (header->type != DZ_HSM_MSG_SIGN)
		return dz_error_set(err, DZ_ESYNTAX, "expected SIGN, got message type %u",
				    (unsigned)header->type);
	for (uint32_t i = 0; i < header->count; i++) {
		dz_sign_request_t *request = &requests[i];
		if (len - pos < 6)
			return dz_error_set(err, DZ_ESYNTAX, "request %u of %u is truncated",
					    (unsigned)i + 1, (unsigned)header->count);
		uint8_t algorithm = body[pos];
		size_t id_len = body[pos + 1];
		size_t data_len = get_u32(body + pos + 2);
		pos += 6;
		if (id_len == 0 || id_len > DZ_KEY_ID_MAX)
			return dz_error_set(err, DZ_ESYNTAX, "request %u has a key id of %zu bytes",
					    (unsigned)i + 1, id_len);
		if (data_len > DZ_HSM_MSG_DATA_MAX || len - pos < id_len ||
		    len - pos - id_len < data_len)
			return dz_error_set(err, DZ_ESYNTAX,
					    "request %u with %zu bytes of data does not fit the body",
					    (unsigned)i + 1, data_len);
		memset(request, 0, sizeof(*request));
		request->algorithm = algorithm;
		memcpy(request->key_id, body + pos, id_len);
		request->key_id_len = id_len;
		pos += id_len;
		request->data = body + pos;
		request->data_len = data_len;
		pos += data_len;
	}
	if (pos != len)
		return dz_error_set(err, DZ_ESYNTAX, "%zu bytes after the last request", len - pos);
	return DZ_OK;
}

dz_result_t
dz_hsm_msg_signed_encode(dz_buf_t *out, uint32_t id, const dz_sign_request_t *requests,
			 size_t count, const char *message)
{
	size_t start = out->len;

	if (dz_hsm_msg_append_header(out, DZ_HSM_MSG_SIGNED, id, (uint32_t)count, 0) != DZ_OK)
		return DZ_ENOMEM;
	for (size_t i = 0; i < count; i++) {
		const dz_sign_request_t *request = &requests[i];
		size_t sig_len = request->result == DZ_OK ? request->signature_len : 0;
		if (sig_len > DZ_SIGNATURE_MAX)
			return DZ_EINVAL;
		if (dz_buf_append_u16(out, (uint16_t)request->result) != DZ_OK ||
		    dz_buf_append_u16(out, (uint16_t)sig_len) != DZ_OK ||
		    dz_buf_append(out, request->signature, sig_len) != DZ_OK)
			return DZ_ENOMEM;
	}
	if (dz_hsm_msg_append_text(out, message) != DZ_OK)
		return DZ_ENOMEM;
	dz_hsm_msg_patch_body_len(out, start);
	return DZ_OK;
}

dz_result_t
dz_hsm_msg_signed_decode(const dz_hsm_msg_header_t *header, const uint8_t *body,
			 dz_sign_request_t *requests, size_t count, char *message,
			 dz_error_t *err)
{
	size_t len = header->body_len;
	size_t pos = 0;

	if (header->type != DZ_HSM_MSG_SIGNED)
		return dz_error_set(err, DZ_ESYNTAX, "expected SIGNED, got message type %u",
				    (unsigned)header->type);
	if (header->count != count)
		return dz_error_set(err, DZ_ESYNTAX, "SIGNED has %u results for %zu requests",
				    (unsigned)header->count, count);
	for (size_t i = 0; i < count; i++) {
		dz_sign_request_t *request = &requests[i];
		dz_result_t result = DZ_OK;
		if (len - pos < 4)
			return dz_error_set(err, DZ_ESYNTAX, "result %zu of %zu is truncated", i + 1,
					    count);
		if (dz_hsm_msg_decode_result(dz_hsm_msg_get_u16(body + pos), &result, err) != DZ_OK)
			return DZ_ESYNTAX;
		size_t sig_len = dz_hsm_msg_get_u16(body + pos + 2);
		pos += 4;
		if (sig_len > DZ_SIGNATURE_MAX || len - pos < sig_len ||
		    (result != DZ_OK && sig_len != 0))
			return dz_error_set(err, DZ_ESYNTAX, "result %zu has a signature of %zu bytes",
					    i + 1, sig_len);
		memcpy(request->signature, body + pos, sig_len);
		request->signature_len = sig_len;
		request->result = result;
		pos += sig_len;
	}
	return dz_hsm_msg_decode_text(body, len, &pos, message, err);
}

dz_result_t
dz_hsm_msg_read(int fd, void *buf, size_t len, dz_error_t *err)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, (uint8_t *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return dz_error_set(err, DZ_EIO, "read failed: %s", strerror(errno));
		if (n == 0)
			return done == 0 ? dz_error_set(err, DZ_ENOTFOUND, "connection closed") :
					   dz_error_set(err, DZ_EIO,
							"connection closed inside a message");
		done += (size_t)n;
	}
	return DZ_OK;
}

dz_result_t
dz_hsm_msg_write(int fd, const void *buf, size_t len, dz_error_t *err)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = send(fd, (const uint8_t *)buf + done, len - done, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return dz_error_set(err, DZ_EIO, "write failed: %s", strerror(errno));
		done += (size_t)n;
	}
	return DZ_OK;
}

/* Sign the requests of a decoded SIGN message and encode the SIGNED response. */
static dz_result_t
serve_sign(dz_hsm_t *hsm, const dz_hsm_msg_header_t *header, const uint8_t *body,
	   dz_buf_t *reply, dz_error_t *err)
{
	dz_sign_request_t *requests = NULL;
	dz_error_t sign_err;
	dz_result_t result;

	requests = calloc(header->count, sizeof(*requests));
	if (requests == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	result = dz_hsm_msg_sign_decode(header, body, requests, err);
	if (result != DZ_OK)
		goto cleanup;

	dz_error_init(&sign_err);
	dz_result_t signed_result = dz_hsm_sign(hsm, requests, header->count, &sign_err);
	if (dz_hsm_msg_signed_encode(reply, header->id, requests, header->count,
				     signed_result == DZ_OK ? "" : dz_error_message(&sign_err)) !=
	    DZ_OK)
		result = dz_error_set(err, DZ_ENOMEM, "out of memory");

cleanup:
	free(requests);
	return result;
}

/* Carry out a decoded key request and encode its response. */
static dz_result_t
serve_key(dz_hsm_t *hsm, const dz_hsm_msg_header_t *header, const uint8_t *body,
	  dz_buf_t *reply, const char *name, dz_error_t *err)
{
	dz_hsm_key_request_t request;
	dz_hsm_key_response_t response;
	dz_result_t result;

	result = dz_hsm_msg_key_request_decode(header, body, &request, err);
	if (result != DZ_OK)
		return result;
	dz_hsm_msg_key_execute(hsm, &request, &response, name);
	result = dz_hsm_msg_key_response_encode(reply, header->id, &response);
	if (result != DZ_OK)
		return dz_error_set(err, result, "cannot encode the response to message type %u: %s",
				    (unsigned)header->type, dz_result_text(result));
	return DZ_OK;
}

/* Read one request, carry it out and send the response; DZ_ENOTFOUND at a clean end. */
static dz_result_t
serve_one(dz_hsm_t *hsm, int fd, dz_buf_t *body, dz_buf_t *reply, const char *name,
	  dz_error_t *err)
{
	uint8_t header_bytes[DZ_HSM_MSG_HEADER_LEN];
	dz_hsm_msg_header_t header;
	dz_result_t result;

	result = dz_hsm_msg_read(fd, header_bytes, sizeof(header_bytes), err);
	if (result != DZ_OK)
		return result;
	result = dz_hsm_msg_header_decode(header_bytes, &header, err);
	if (result == DZ_OK && header.type != DZ_HSM_MSG_SIGN &&
	    dz_hsm_msg_response_type(header.type) == 0)
		result = dz_error_set(err, DZ_ESYNTAX, "message type %u is not a request",
				      (unsigned)header.type);
	if (result != DZ_OK)
		return result;

	body->len = 0;
	if (dz_buf_reserve(body, header.body_len) != DZ_OK)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	result = dz_hsm_msg_read(fd, body->data, header.body_len, err);
	if (result == DZ_ENOTFOUND && header.body_len > 0)
		result = dz_error_set(err, DZ_EIO, "connection closed inside a message");
	if (result != DZ_OK)
		return result;
	body->len = header.body_len;

	reply->len = 0;
	if (header.type == DZ_HSM_MSG_SIGN)
		result = serve_sign(hsm, &header, body->data, reply, err);
	else
		result = serve_key(hsm, &header, body->data, reply, name, err);
	if (result != DZ_OK)
		return result;
	return dz_hsm_msg_write(fd, reply->data, reply->len, err);
}

dz_result_t
dz_hsm_msg_serve(dz_hsm_t *hsm, int fd, const char *name)
{
	dz_buf_t body, reply;
	dz_error_t err;
	dz_result_t result;

	dz_buf_init(&body);
	dz_buf_init(&reply);
	do {
		dz_error_init(&err);
		result = serve_one(hsm, fd, &body, &reply, name, &err);
	} while (result == DZ_OK);
	if (result == DZ_ENOTFOUND) {
		result = DZ_OK;
	} else if (result == DZ_ESYNTAX) {
		dz_log(DZ_LOG_ERROR, "%s: malformed request, closing the connection: %s", name,
		       dz_error_message(&err));
	} else {
		dz_log(DZ_LOG_ERROR, "%s: %s; closing the connection", name,
		       dz_error_message(&err));
	}
	dz_buf_clear(&body);
	dz_buf_clear(&reply);
	return result;
}
