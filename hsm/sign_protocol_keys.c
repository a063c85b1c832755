/*
 * sign_protocol_keys.c -- the key requests of the signer process protocol
 * (INFO, GENERATE, CHECK, DELETE, LABEL) and their responses, and how a
 * signer process carries them out.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/policy.h"
#include "hsm/sign_protocol.h"
#include "hsm/sign_protocol_internal.h"

/* Field sizes of TOKEN: the text fields of dz_hsm_token_info_t without their NUL. */
#define TOKEN_LABEL_MAX (sizeof(((dz_hsm_token_info_t *)0)->label) - 1)
#define TOKEN_SERIAL_MAX (sizeof(((dz_hsm_token_info_t *)0)->serial) - 1)
#define TOKEN_MANUFACTURER_MAX (sizeof(((dz_hsm_token_info_t *)0)->manufacturer) - 1)
#define TOKEN_MODEL_MAX (sizeof(((dz_hsm_token_info_t *)0)->model) - 1)

dz_hsm_msg_type_t
dz_hsm_msg_response_type(dz_hsm_msg_type_t request)
{
	switch (request) {
	case DZ_HSM_MSG_INFO:
		return DZ_HSM_MSG_TOKEN;
	case DZ_HSM_MSG_GENERATE:
		return DZ_HSM_MSG_GENERATED;
	case DZ_HSM_MSG_CHECK:
	case DZ_HSM_MSG_DELETE:
	case DZ_HSM_MSG_LABEL:
		return DZ_HSM_MSG_DONE;
	default:
		return 0;
	}
}

static bool
has_control_character(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c < 0x20 || c == 0x7f)
			return true;
	}
	return false;
}

/* Length of a text field that must hold 1..max bytes (0..max with allow_empty). */
static bool
text_fits(const char *text, size_t max, bool allow_empty, size_t *len)
{
	*len = strnlen(text, max + 1);
	return *len <= max && (allow_empty || *len > 0) && !has_control_character(text, *len);
}

/* ------------------------------------------------------------------ decoding */

/* A cursor over a body; every take_* checks the bytes left. */
typedef struct cursor {
	const uint8_t *body;
	size_t len;
	size_t pos;
	const char *what;	/* message type name for errors */
	dz_error_t *err;
} cursor_t;

static dz_result_t
truncated(cursor_t *c, const char *field)
{
	return dz_error_set(c->err, DZ_ESYNTAX, "%s body of %zu bytes ends inside the %s",
			    c->what, c->len, field);
}

static dz_result_t
take_u8(cursor_t *c, const char *field, uint8_t *out)
{
	if (c->len - c->pos < 1)
		return truncated(c, field);
	*out = c->body[c->pos++];
	return DZ_OK;
}

static dz_result_t
take_u16(cursor_t *c, const char *field, uint16_t *out)
{
	if (c->len - c->pos < 2)
		return truncated(c, field);
	*out = dz_hsm_msg_get_u16(c->body + c->pos);
	c->pos += 2;
	return DZ_OK;
}

static dz_result_t
take_bytes(cursor_t *c, const char *field, void *out, size_t len)
{
	if (c->len - c->pos < len)
		return truncated(c, field);
	memcpy(out, c->body + c->pos, len);
	c->pos += len;
	return DZ_OK;
}

/* Take `len` bytes of text without control characters into out[len + 1]. */
static dz_result_t
take_text(cursor_t *c, const char *field, char *out, size_t len)
{
	dz_result_t result = take_bytes(c, field, out, len);

	if (result != DZ_OK)
		return result;
	out[len] = '\0';
	if (has_control_character(out, len))
		return dz_error_set(c->err, DZ_ESYNTAX, "%s %s contains a control character",
				    c->what, field);
	return DZ_OK;
}

/* Take "length (1), text" with a length of 0..max into out[max + 1]. */
static dz_result_t
take_short_text(cursor_t *c, const char *field, char *out, size_t max)
{
	uint8_t len = 0;
	dz_result_t result = take_u8(c, field, &len);

	if (result != DZ_OK)
		return result;
	if (len > max)
		return dz_error_set(c->err, DZ_ESYNTAX, "%s %s of %u bytes exceeds %zu", c->what,
				    field, (unsigned)len, max);
	return take_text(c, field, out, len);
}

static dz_result_t
check_length(cursor_t *c, const char *field, size_t len, size_t min, size_t max)
{
	if (len < min || len > max)
		return dz_error_set(c->err, DZ_ESYNTAX, "%s %s length %zu is not %zu to %zu",
				    c->what, field, len, min, max);
	return DZ_OK;
}

static dz_result_t
take_key_id(cursor_t *c, uint8_t *key_id, size_t *key_id_len)
{
	uint8_t len = 0;
	dz_result_t result = take_u8(c, "key id length", &len);

	if (result == DZ_OK)
		result = check_length(c, "key id", len, 1, DZ_KEY_ID_MAX);
	if (result == DZ_OK)
		result = take_bytes(c, "key id", key_id, len);
	*key_id_len = len;
	return result;
}

static dz_result_t
expect_end(cursor_t *c)
{
	if (c->pos != c->len)
		return dz_error_set(c->err, DZ_ESYNTAX, "%s body has %zu bytes after its last field",
				    c->what, c->len - c->pos);
	return DZ_OK;
}

static const char *
type_name(dz_hsm_msg_type_t type)
{
	static const char *const names[] = {
		[DZ_HSM_MSG_READY] = "READY",		[DZ_HSM_MSG_SIGN] = "SIGN",
		[DZ_HSM_MSG_SIGNED] = "SIGNED",		[DZ_HSM_MSG_INFO] = "INFO",
		[DZ_HSM_MSG_TOKEN] = "TOKEN",		[DZ_HSM_MSG_GENERATE] = "GENERATE",
		[DZ_HSM_MSG_GENERATED] = "GENERATED",	[DZ_HSM_MSG_CHECK] = "CHECK",
		[DZ_HSM_MSG_DELETE] = "DELETE",		[DZ_HSM_MSG_LABEL] = "LABEL",
		[DZ_HSM_MSG_DONE] = "DONE",
	};

	if ((unsigned)type < sizeof(names) / sizeof(names[0]) && names[type] != NULL)
		return names[type];
	return "unknown";
}

static dz_result_t
decode_generate(cursor_t *c, dz_hsm_key_request_t *out)
{
	uint16_t zone_len = 0, label_len = 0;
	dz_result_t result;

	result = take_u8(c, "role", &out->role);
	if (result == DZ_OK && out->role != DZ_ROLE_KSK && out->role != DZ_ROLE_ZSK &&
	    out->role != DZ_ROLE_CSK)
		result = dz_error_set(c->err, DZ_ESYNTAX, "GENERATE role %u is not 1, 2 or 3",
				      (unsigned)out->role);
	if (result == DZ_OK)
		result = take_u8(c, "algorithm", &out->algorithm);
	if (result == DZ_OK)
		result = take_u16(c, "bits", &out->bits);
	if (result == DZ_OK)
		result = take_u16(c, "zone length", &zone_len);
	if (result == DZ_OK)
		result = check_length(c, "zone", zone_len, 1, DZ_HSM_MSG_ZONE_MAX);
	if (result == DZ_OK)
		result = take_u16(c, "label length", &label_len);
	if (result == DZ_OK)
		result = check_length(c, "label", label_len, 1, DZ_HSM_KEY_LABEL_MAX - 1);
	if (result == DZ_OK)
		result = take_text(c, "zone", out->zone, zone_len);
	if (result == DZ_OK)
		result = take_text(c, "label", out->label, label_len);
	return result;
}

static dz_result_t
decode_label(cursor_t *c, dz_hsm_key_request_t *out)
{
	uint8_t id_len = 0;
	uint16_t label_len = 0;
	dz_result_t result;

	result = take_u8(c, "key id length", &id_len);
	if (result == DZ_OK)
		result = check_length(c, "key id", id_len, 1, DZ_KEY_ID_MAX);
	if (result == DZ_OK)
		result = take_u16(c, "label length", &label_len);
	if (result == DZ_OK)
		result = check_length(c, "label", label_len, 1, DZ_HSM_KEY_LABEL_MAX - 1);
	if (result == DZ_OK)
		result = take_bytes(c, "key id", out->key_id, id_len);
	out->key_id_len = id_len;
	if (result == DZ_OK)
		result = take_text(c, "label", out->label, label_len);
	return result;
}

dz_result_t
dz_hsm_msg_key_request_decode(const dz_hsm_msg_header_t *header, const uint8_t *body,
			      dz_hsm_key_request_t *out, dz_error_t *err)
{
	cursor_t c = { body, header->body_len, 0, type_name(header->type), err };
	dz_result_t result;

	memset(out, 0, sizeof(*out));
	out->type = header->type;
	switch (header->type) {
	case DZ_HSM_MSG_INFO:
		result = DZ_OK;
		break;
	case DZ_HSM_MSG_GENERATE:
		result = decode_generate(&c, out);
		break;
	case DZ_HSM_MSG_CHECK:
	case DZ_HSM_MSG_DELETE:
		result = take_key_id(&c, out->key_id, &out->key_id_len);
		break;
	case DZ_HSM_MSG_LABEL:
		result = decode_label(&c, out);
		break;
	default:
		return dz_error_set(err, DZ_ESYNTAX, "message type %u is not a key request",
				    (unsigned)header->type);
	}
	return result == DZ_OK ? expect_end(&c) : result;
}

static dz_result_t
decode_token(cursor_t *c, dz_hsm_key_response_t *out)
{
	dz_result_t result = take_short_text(c, "module", out->module, DZ_HSM_MSG_MODULE_MAX);

	if (result == DZ_OK)
		result = take_short_text(c, "token label", out->token.label, TOKEN_LABEL_MAX);
	if (result == DZ_OK)
		result = take_short_text(c, "serial", out->token.serial, TOKEN_SERIAL_MAX);
	if (result == DZ_OK)
		result = take_short_text(c, "manufacturer", out->token.manufacturer,
					 TOKEN_MANUFACTURER_MAX);
	if (result == DZ_OK)
		result = take_short_text(c, "model", out->token.model, TOKEN_MODEL_MAX);
	if (result == DZ_OK && out->result != DZ_OK &&
	    (out->module[0] != '\0' || out->token.label[0] != '\0' ||
	     out->token.serial[0] != '\0' || out->token.manufacturer[0] != '\0' ||
	     out->token.model[0] != '\0'))
		result = dz_error_set(c->err, DZ_ESYNTAX, "failed TOKEN response describes a token");
	return result;
}

static dz_result_t
decode_generated(cursor_t *c, dz_hsm_key_response_t *out)
{
	uint8_t id_len = 0;
	uint16_t key_len = 0;
	bool ok = out->result == DZ_OK;
	dz_result_t result;

	result = take_u16(c, "bits", &out->bits);
	if (result == DZ_OK)
		result = take_u8(c, "key id length", &id_len);
	if (result == DZ_OK)
		result = check_length(c, "key id", id_len, ok ? 1 : 0, ok ? DZ_KEY_ID_MAX : 0);
	if (result == DZ_OK)
		result = take_u16(c, "public key length", &key_len);
	if (result == DZ_OK)
		result = check_length(c, "public key", key_len, ok ? 1 : 0,
				      ok ? DZ_HSM_PUBLIC_KEY_MAX : 0);
	if (result == DZ_OK)
		result = take_bytes(c, "key id", out->key_id, id_len);
	if (result == DZ_OK)
		result = take_bytes(c, "public key", out->public_key, key_len);
	out->key_id_len = id_len;
	out->public_key_len = key_len;
	return result;
}

dz_result_t
dz_hsm_msg_key_response_decode(const dz_hsm_msg_header_t *header, const uint8_t *body,
			       dz_hsm_key_response_t *out, dz_error_t *err)
{
	cursor_t c = { body, header->body_len, 0, type_name(header->type), err };
	uint16_t code = 0;
	dz_result_t result;

	memset(out, 0, sizeof(*out));
	out->type = header->type;
	if (header->type != DZ_HSM_MSG_TOKEN && header->type != DZ_HSM_MSG_GENERATED &&
	    header->type != DZ_HSM_MSG_DONE)
		return dz_error_set(err, DZ_ESYNTAX, "message type %u is not a key response",
				    (unsigned)header->type);
	result = take_u16(&c, "result", &code);
	if (result == DZ_OK)
		result = dz_hsm_msg_decode_result(code, &out->result, err);
	if (result == DZ_OK && header->type == DZ_HSM_MSG_TOKEN)
		result = decode_token(&c, out);
	else if (result == DZ_OK && header->type == DZ_HSM_MSG_GENERATED)
		result = decode_generated(&c, out);
	if (result == DZ_OK)
		result = dz_hsm_msg_decode_text(c.body, c.len, &c.pos, out->message, err);
	return result;
}

/* ------------------------------------------------------------------ encoding */

static dz_result_t
append_short_text(dz_buf_t *out, const char *text, size_t max)
{
	size_t len;

	if (!text_fits(text, max, true, &len))
		return DZ_EINVAL;
	if (dz_buf_append_u8(out, (uint8_t)len) != DZ_OK || dz_buf_append(out, text, len) != DZ_OK)
		return DZ_ENOMEM;
	return DZ_OK;
}

static dz_result_t
append_key_id(dz_buf_t *out, const uint8_t *key_id, size_t len)
{
	if (len == 0 || len > DZ_KEY_ID_MAX)
		return DZ_EINVAL;
	if (dz_buf_append_u8(out, (uint8_t)len) != DZ_OK || dz_buf_append(out, key_id, len) != DZ_OK)
		return DZ_ENOMEM;
	return DZ_OK;
}

static dz_result_t
encode_generate(dz_buf_t *out, const dz_hsm_key_request_t *request)
{
	size_t zone_len, label_len;

	if ((request->role != DZ_ROLE_KSK && request->role != DZ_ROLE_ZSK &&
	     request->role != DZ_ROLE_CSK) ||
	    !text_fits(request->zone, DZ_HSM_MSG_ZONE_MAX, false, &zone_len) ||
	    !text_fits(request->label, DZ_HSM_KEY_LABEL_MAX - 1, false, &label_len))
		return DZ_EINVAL;
	if (dz_buf_append_u8(out, request->role) != DZ_OK ||
	    dz_buf_append_u8(out, request->algorithm) != DZ_OK ||
	    dz_buf_append_u16(out, request->bits) != DZ_OK ||
	    dz_buf_append_u16(out, (uint16_t)zone_len) != DZ_OK ||
	    dz_buf_append_u16(out, (uint16_t)label_len) != DZ_OK ||
	    dz_buf_append(out, request->zone, zone_len) != DZ_OK ||
	    dz_buf_append(out, request->label, label_len) != DZ_OK)
		return DZ_ENOMEM;
	return DZ_OK;
}

static dz_result_t
encode_label(dz_buf_t *out, const dz_hsm_key_request_t *request)
{
	size_t label_len;

	if (request->key_id_len == 0 || request->key_id_len > DZ_KEY_ID_MAX ||
	    !text_fits(request->label, DZ_HSM_KEY_LABEL_MAX - 1, false, &label_len))
		return DZ_EINVAL;
	if (dz_buf_append_u8(out, (uint8_t)request->key_id_len) != DZ_OK ||
	    dz_buf_append_u16(out, (uint16_t)label_len) != DZ_OK ||
	    dz_buf_append(out, request->key_id, request->key_id_len) != DZ_OK ||
	    dz_buf_append(out, request->label, label_len) != DZ_OK)
		return DZ_ENOMEM;
	return DZ_OK;
}

dz_result_t
dz_hsm_msg_key_request_encode(dz_buf_t *out, uint32_t id, const dz_hsm_key_request_t *request)
{
	size_t start = out->len;
	dz_result_t result;

	if (dz_hsm_msg_response_type(request->type) == 0)
		return DZ_EINVAL;
	if (dz_hsm_msg_append_header(out, request->type, id, 0, 0) != DZ_OK)
		return DZ_ENOMEM;
	switch (request->type) {
	case DZ_HSM_MSG_GENERATE:
		result = encode_generate(out, request);
		break;
	case DZ_HSM_MSG_CHECK:
	case DZ_HSM_MSG_DELETE:
		result = append_key_id(out, request->key_id, request->key_id_len);
		break;
	case DZ_HSM_MSG_LABEL:
		result = encode_label(out, request);
		break;
	default:
		result = DZ_OK;
		break;
	}
	if (result != DZ_OK) {
		out->len = start;
		return result;
	}
	dz_hsm_msg_patch_body_len(out, start);
	return DZ_OK;
}

static dz_result_t
encode_token(dz_buf_t *out, const dz_hsm_key_response_t *response)
{
	static const dz_hsm_token_info_t none;
	const dz_hsm_token_info_t *token = response->result == DZ_OK ? &response->token : &none;
	dz_result_t result;

	result = append_short_text(out, response->result == DZ_OK ? response->module : "",
				   DZ_HSM_MSG_MODULE_MAX);
	if (result == DZ_OK)
		result = append_short_text(out, token->label, TOKEN_LABEL_MAX);
	if (result == DZ_OK)
		result = append_short_text(out, token->serial, TOKEN_SERIAL_MAX);
	if (result == DZ_OK)
		result = append_short_text(out, token->manufacturer, TOKEN_MANUFACTURER_MAX);
	if (result == DZ_OK)
		result = append_short_text(out, token->model, TOKEN_MODEL_MAX);
	return result;
}

static dz_result_t
encode_generated(dz_buf_t *out, const dz_hsm_key_response_t *response)
{
	bool ok = response->result == DZ_OK;
	size_t id_len = ok ? response->key_id_len : 0;
	size_t key_len = ok ? response->public_key_len : 0;

	if (ok && (id_len == 0 || id_len > DZ_KEY_ID_MAX || key_len == 0 ||
		   key_len > DZ_HSM_PUBLIC_KEY_MAX))
		return DZ_EINVAL;
	if (dz_buf_append_u16(out, response->bits) != DZ_OK ||
	    dz_buf_append_u8(out, (uint8_t)id_len) != DZ_OK ||
	    dz_buf_append_u16(out, (uint16_t)key_len) != DZ_OK ||
	    dz_buf_append(out, response->key_id, id_len) != DZ_OK ||
	    dz_buf_append(out, response->public_key, key_len) != DZ_OK)
		return DZ_ENOMEM;
	return DZ_OK;
}

dz_result_t
dz_hsm_msg_key_response_encode(dz_buf_t *out, uint32_t id, const dz_hsm_key_response_t *response)
{
	size_t start = out->len;
	dz_result_t result = DZ_OK;

	if (response->type != DZ_HSM_MSG_TOKEN && response->type != DZ_HSM_MSG_GENERATED &&
	    response->type != DZ_HSM_MSG_DONE)
		return DZ_EINVAL;
	if (dz_hsm_msg_append_header(out, response->type, id, 0, 0) != DZ_OK ||
	    dz_buf_append_u16(out, (uint16_t)response->result) != DZ_OK)
		result = DZ_ENOMEM;
	if (result == DZ_OK && response->type == DZ_HSM_MSG_TOKEN)
		result = encode_token(out, response);
	else if (result == DZ_OK && response->type == DZ_HSM_MSG_GENERATED)
		result = encode_generated(out, response);
	if (result == DZ_OK && dz_hsm_msg_append_text(out, response->message) != DZ_OK)
		result = DZ_ENOMEM;
	if (result != DZ_OK) {
		out->len = start;
		return result;
	}
	dz_hsm_msg_patch_body_len(out, start);
	return DZ_OK;
}

/* ------------------------------------------------------------------ execution */

/* Replace control characters, which TOKEN does not carry, with '?'. */
static void
replace_control_characters(char *text)
{
	for (char *p = text; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	}
}

static void
execute_generate(dz_hsm_t *hsm, const dz_hsm_key_request_t *request,
		 dz_hsm_key_response_t *response, const char *name, dz_error_t *err)
{
	char hex[2 * DZ_KEY_ID_MAX + 1];
	dz_hsm_key_t key;

	response->result = dz_hsm_generate_key(hsm, request->algorithm, request->bits,
					       request->label, &key, err);
	if (response->result != DZ_OK)
		return;
	response->result = dz_hsm_public_key(hsm, key.id, key.id_len, request->algorithm,
					     response->public_key, &response->public_key_len, err);
	dz_hsm_id_hex(key.id, key.id_len, hex);
	if (response->result != DZ_OK) {
		/* The caller never receives this key's id, so delete it rather than leave an orphan. */
		dz_error_t ignored;
		dz_error_init(&ignored);
		dz_hsm_delete_key(hsm, key.id, key.id_len, &ignored);
		response->public_key_len = 0;
		return;
	}
	memcpy(response->key_id, key.id, key.id_len);
	response->key_id_len = key.id_len;
	response->bits = (uint16_t)key.bits;
	dz_log(DZ_LOG_NOTICE, "%s: zone %s: generated a %s key pair, algorithm %s, CKA_ID %s",
	       name, request->zone, dz_role_name((dz_key_role_t)request->role),
	       dz_algorithm_name(request->algorithm) != NULL ?
		       dz_algorithm_name(request->algorithm) : "unknown",
	       hex);
}

void
dz_hsm_msg_key_execute(dz_hsm_t *hsm, const dz_hsm_key_request_t *request,
		       dz_hsm_key_response_t *response, const char *name)
{
	char hex[2 * DZ_KEY_ID_MAX + 1];
	dz_hsm_key_t key;
	dz_error_t err;

	memset(response, 0, sizeof(*response));
	response->type = dz_hsm_msg_response_type(request->type);
	dz_error_init(&err);
	switch (request->type) {
	case DZ_HSM_MSG_INFO:
		dz_hsm_module_describe(hsm, response->module, sizeof(response->module));
		response->token = *dz_hsm_token(hsm);
		replace_control_characters(response->module);
		replace_control_characters(response->token.label);
		replace_control_characters(response->token.serial);
		replace_control_characters(response->token.manufacturer);
		replace_control_characters(response->token.model);
		response->result = DZ_OK;
		break;
	case DZ_HSM_MSG_GENERATE:
		execute_generate(hsm, request, response, name, &err);
		break;
	case DZ_HSM_MSG_CHECK:
		/* Another process may have made the key since the index was built. */
		response->result = dz_hsm_find_key(hsm, request->key_id, request->key_id_len, &key,
						   &err);
		if (response->result == DZ_EHSM_KEY) {
			dz_error_init(&err);
			response->result = dz_hsm_refresh_keys(hsm, &err);
		}
		if (response->result == DZ_OK)
			response->result = dz_hsm_find_key(hsm, request->key_id,
							   request->key_id_len, &key, &err);
		break;
	case DZ_HSM_MSG_DELETE:
		response->result = dz_hsm_delete_key(hsm, request->key_id, request->key_id_len,
						     &err);
		if (response->result == DZ_OK)
			dz_log(DZ_LOG_NOTICE, "%s: deleted the key pair with CKA_ID %s", name,
			       dz_hsm_id_hex(request->key_id, request->key_id_len, hex));
		break;
	case DZ_HSM_MSG_LABEL:
		response->result = dz_hsm_set_key_label(hsm, request->key_id, request->key_id_len,
							request->label, &err);
		break;
	default:
		response->type = DZ_HSM_MSG_DONE;
		response->result = dz_error_set(&err, DZ_EINVAL, "message type %u is not a key request",
						(unsigned)request->type);
		break;
	}
	if (response->result != DZ_OK)
		snprintf(response->message, sizeof(response->message), "%s", dz_error_message(&err));
}
