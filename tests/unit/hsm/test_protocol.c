/*
 * The signer process protocol: messages round-trip, and every malformed
 * header or body is rejected with a message that names the problem.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "common/policy.h"
#include "hsm/sign_protocol.h"

static void
make_requests(dz_sign_request_t *requests, size_t count)
{
	static const char *data[] = { "first", "", "third data" };

	memset(requests, 0, count * sizeof(*requests));
	for (size_t i = 0; i < count; i++) {
		memset(requests[i].key_id, (int)(0x10 + i), i + 1);
		requests[i].key_id_len = i + 1;
		requests[i].algorithm = (uint8_t)(13 + i);
		requests[i].data = (const uint8_t *)data[i % 3];
		requests[i].data_len = strlen(data[i % 3]);
	}
}

static void
decode_header(const dz_buf_t *buf, dz_hsm_msg_header_t *header)
{
	assert_true(buf->len >= DZ_HSM_MSG_HEADER_LEN);
	assert_int_equal(dz_hsm_msg_header_decode(buf->data, header, NULL), DZ_OK);
	assert_int_equal(header->body_len, buf->len - DZ_HSM_MSG_HEADER_LEN);
}

static void
sign_message_round_trips(void **state)
{
	dz_sign_request_t requests[3], decoded[3];
	dz_hsm_msg_header_t header;
	dz_buf_t buf;

	(void)state;
	make_requests(requests, 3);
	dz_buf_init(&buf);
	assert_int_equal(dz_hsm_msg_sign_encode(&buf, 77, requests, 3), DZ_OK);
	decode_header(&buf, &header);
	assert_int_equal(header.type, DZ_HSM_MSG_SIGN);
	assert_int_equal(header.id, 77);
	assert_int_equal(header.count, 3);
	assert_int_equal(dz_hsm_msg_sign_decode(&header, buf.data + DZ_HSM_MSG_HEADER_LEN,
						decoded, NULL), DZ_OK);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(decoded[i].algorithm, requests[i].algorithm);
		assert_int_equal(decoded[i].key_id_len, requests[i].key_id_len);
		assert_memory_equal(decoded[i].key_id, requests[i].key_id, requests[i].key_id_len);
		assert_int_equal(decoded[i].data_len, requests[i].data_len);
		assert_memory_equal(decoded[i].data, requests[i].data, requests[i].data_len);
	}
	dz_buf_clear(&buf);
}

static void
signed_message_round_trips(void **state)
{
	dz_sign_request_t requests[2], decoded[2];
	dz_hsm_msg_header_t header;
	char message[DZ_HSM_MSG_TEXT_MAX + 1];
	dz_buf_t buf;

	(void)state;
	make_requests(requests, 2);
	requests[0].result = DZ_OK;
	memset(requests[0].signature, 0xee, 64);
	requests[0].signature_len = 64;
	requests[1].result = DZ_EHSM_KEY;
	requests[1].signature_len = 99;	/* ignored for a failed request */
	dz_buf_init(&buf);
	assert_int_equal(dz_hsm_msg_signed_encode(&buf, 5, requests, 2, "key not found"), DZ_OK);
	decode_header(&buf, &header);
	assert_int_equal(header.type, DZ_HSM_MSG_SIGNED);
	memset(decoded, 0, sizeof(decoded));
	assert_int_equal(dz_hsm_msg_signed_decode(&header, buf.data + DZ_HSM_MSG_HEADER_LEN,
						  decoded, 2, message, NULL), DZ_OK);
	assert_int_equal(decoded[0].result, DZ_OK);
	assert_int_equal(decoded[0].signature_len, 64);
	assert_memory_equal(decoded[0].signature, requests[0].signature, 64);
	assert_int_equal(decoded[1].result, DZ_EHSM_KEY);
	assert_int_equal(decoded[1].signature_len, 0);
	assert_string_equal(message, "key not found");
	dz_buf_clear(&buf);
}

static void
ready_message_round_trips(void **state)
{
	dz_hsm_msg_header_t header;
	char message[DZ_HSM_MSG_TEXT_MAX + 1];
	dz_result_t result;
	dz_buf_t buf;

	(void)state;
	dz_buf_init(&buf);
	assert_int_equal(dz_hsm_msg_ready_encode(&buf, DZ_EHSM_PIN, "wrong PIN"), DZ_OK);
	decode_header(&buf, &header);
	assert_int_equal(dz_hsm_msg_ready_decode(&header, buf.data + DZ_HSM_MSG_HEADER_LEN,
						 &result, message, NULL), DZ_OK);
	assert_int_equal(result, DZ_EHSM_PIN);
	assert_string_equal(message, "wrong PIN");
	dz_buf_clear(&buf);
}

static void
bad_headers_rejected(void **state)
{
	static const struct {
		uint8_t bytes[DZ_HSM_MSG_HEADER_LEN];
		const char *message;
	} cases[] = {
		{ { 'D', 'Z', 'S', '2', 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0 },
		  "bad magic" },
		{ { 'D', 'Z', 'S', '1', 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0 },
		  "unknown message type 12" },
		{ { 'D', 'Z', 'S', '1', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0 },
		  "unknown message type 0" },
		{ { 'D', 'Z', 'S', '1', 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0 },
		  "flags or reserved bytes" },
		{ { 'D', 'Z', 'S', '1', 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
		  "count 0 is not 1 to 1024" },
		{ { 'D', 'Z', 'S', '1', 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0 },
		  "count 1025 is not 1 to 1024" },
		{ { 'D', 'Z', 'S', '1', 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 0, 0, 0 },
		  "exceeds the limit" },
		{ { 'D', 'Z', 'S', '1', 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 4 },
		  "message type 1 with a count of 2" },
		{ { 'D', 'Z', 'S', '1', 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 4 },
		  "message type 6 with a count of 1" },
		{ { 'D', 'Z', 'S', '1', 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 4 },
		  "message type 11 with a count of 1" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		dz_hsm_msg_header_t header;
		dz_error_t err;
		dz_error_init(&err);
		assert_int_equal(dz_hsm_msg_header_decode(cases[i].bytes, &header, &err),
				 DZ_ESYNTAX);
		if (strstr(err.message, cases[i].message) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, err.message, cases[i].message);
	}
}

/* Encode two requests, let `edit` damage the body, and expect `message`. */
static void
expect_bad_sign_body(void (*edit)(dz_buf_t *buf), const char *message)
{
	dz_sign_request_t requests[2], decoded[2];
	dz_hsm_msg_header_t header;
	dz_error_t err;
	dz_buf_t buf;

	make_requests(requests, 2);
	dz_buf_init(&buf);
	assert_int_equal(dz_hsm_msg_sign_encode(&buf, 1, requests, 2), DZ_OK);
	edit(&buf);
	assert_int_equal(dz_hsm_msg_header_decode(buf.data, &header, NULL), DZ_OK);
	header.body_len = (uint32_t)(buf.len - DZ_HSM_MSG_HEADER_LEN);
	dz_error_init(&err);
	assert_int_equal(dz_hsm_msg_sign_decode(&header, buf.data + DZ_HSM_MSG_HEADER_LEN,
						decoded, &err), DZ_ESYNTAX);
	if (strstr(err.message, message) == NULL)
		fail_msg("'%s' lacks '%s'", err.message, message);
	dz_buf_clear(&buf);
}

static void
truncate_body(dz_buf_t *buf)
{
	buf->len -= 3;
}

static void
append_byte(dz_buf_t *buf)
{
	dz_buf_append_u8(buf, 0);
}

static void
zero_key_id_length(dz_buf_t *buf)
{
	buf->data[DZ_HSM_MSG_HEADER_LEN + 1] = 0;
}

static void
huge_data_length(dz_buf_t *buf)
{
	buf->data[DZ_HSM_MSG_HEADER_LEN + 2] = 0x40;
}

static void
bad_sign_bodies_rejected(void **state)
{
	(void)state;
	expect_bad_sign_body(truncate_body, "request 2 of 2 is truncated");
	expect_bad_sign_body(append_byte, "1 bytes after the last request");
	expect_bad_sign_body(zero_key_id_length, "request 1 has a key id of 0 bytes");
	expect_bad_sign_body(huge_data_length, "request 1 with 1073741829 bytes of data");
}

static void
bad_signed_bodies_rejected(void **state)
{
	dz_sign_request_t requests[1], decoded[1];
	dz_hsm_msg_header_t header;
	char message[DZ_HSM_MSG_TEXT_MAX + 1];
	dz_error_t err;
	dz_buf_t buf;

	(void)state;
	make_requests(requests, 1);
	requests[0].result = DZ_OK;
	requests[0].signature_len = 64;
	dz_buf_init(&buf);
	assert_int_equal(dz_hsm_msg_signed_encode(&buf, 3, requests, 1, ""), DZ_OK);
	decode_header(&buf, &header);
	uint8_t *body = buf.data + DZ_HSM_MSG_HEADER_LEN;
	dz_error_init(&err);

	/* A count other than the request's. */
	assert_int_equal(dz_hsm_msg_signed_decode(&header, body, decoded, 2, message, &err),
			 DZ_ESYNTAX);
	assert_non_null(strstr(err.message, "1 results for 2 requests"));
	/* An unknown result code. */
	body[0] = 0xff;
	assert_int_equal(dz_hsm_msg_signed_decode(&header, body, decoded, 1, message, &err),
			 DZ_ESYNTAX);
	assert_non_null(strstr(err.message, "unknown result code"));
	/* A failed request with a signature. */
	body[0] = 0;
	body[1] = DZ_EHSM_KEY;
	assert_int_equal(dz_hsm_msg_signed_decode(&header, body, decoded, 1, message, &err),
			 DZ_ESYNTAX);
	assert_non_null(strstr(err.message, "result 1 has a signature of 64 bytes"));
	/* A signature longer than any DNSSEC signature. */
	body[1] = DZ_OK;
	body[2] = 0x02;
	body[3] = 0x01;
	assert_int_equal(dz_hsm_msg_signed_decode(&header, body, decoded, 1, message, &err),
			 DZ_ESYNTAX);
	assert_non_null(strstr(err.message, "signature of 513 bytes"));
	dz_buf_clear(&buf);
}

static void
encode_rejects_invalid_requests(void **state)
{
	dz_sign_request_t requests[1];
	dz_buf_t buf;

	(void)state;
	make_requests(requests, 1);
	dz_buf_init(&buf);
	requests[0].key_id_len = 0;
	assert_int_equal(dz_hsm_msg_sign_encode(&buf, 1, requests, 1), DZ_EINVAL);
	requests[0].key_id_len = 65;
	assert_int_equal(dz_hsm_msg_sign_encode(&buf, 1, requests, 1), DZ_EINVAL);
	assert_int_equal(dz_hsm_msg_sign_encode(&buf, 1, requests, 0), DZ_EINVAL);
	dz_buf_clear(&buf);
}

/* ------------------------------------------------------------------ key messages */

/* Encode a key request, check its header and decode it again. */
static void
key_request_round_trip(const dz_hsm_key_request_t *request, uint32_t id,
		       dz_hsm_key_request_t *decoded)
{
	dz_hsm_msg_header_t header;
	dz_buf_t buf;

	dz_buf_init(&buf);
	assert_int_equal(dz_hsm_msg_key_request_encode(&buf, id, request), DZ_OK);
	decode_header(&buf, &header);
	assert_int_equal(header.type, request->type);
	assert_int_equal(header.id, id);
	assert_int_equal(header.count, 0);
	assert_int_equal(dz_hsm_msg_key_request_decode(&header, buf.data + DZ_HSM_MSG_HEADER_LEN,
						       decoded, NULL), DZ_OK);
	assert_int_equal(decoded->type, request->type);
	dz_buf_clear(&buf);
}

static void
key_requests_round_trip(void **state)
{
	dz_hsm_key_request_t request, decoded;

	(void)state;
	memset(&request, 0, sizeof(request));
	request.type = DZ_HSM_MSG_INFO;
	key_request_round_trip(&request, 1, &decoded);

	memset(&request, 0, sizeof(request));
	request.type = DZ_HSM_MSG_GENERATE;
	request.role = DZ_ROLE_KSK;
	request.algorithm = DZ_ALG_RSASHA256;
	request.bits = 3072;
	strcpy(request.zone, "example.com.");
	strcpy(request.label, "example.com. KSK new RSASHA256");
	key_request_round_trip(&request, 2, &decoded);
	assert_int_equal(decoded.role, DZ_ROLE_KSK);
	assert_int_equal(decoded.algorithm, DZ_ALG_RSASHA256);
	assert_int_equal(decoded.bits, 3072);
	assert_string_equal(decoded.zone, "example.com.");
	assert_string_equal(decoded.label, "example.com. KSK new RSASHA256");

	static const dz_hsm_msg_type_t by_id[] = { DZ_HSM_MSG_CHECK, DZ_HSM_MSG_DELETE };
	for (size_t i = 0; i < 2; i++) {
		memset(&request, 0, sizeof(request));
		request.type = by_id[i];
		memset(request.key_id, 0xab, DZ_KEY_ID_MAX);
		request.key_id_len = DZ_KEY_ID_MAX;
		key_request_round_trip(&request, 3, &decoded);
		assert_int_equal(decoded.key_id_len, DZ_KEY_ID_MAX);
		assert_memory_equal(decoded.key_id, request.key_id, DZ_KEY_ID_MAX);
	}

	memset(&request, 0, sizeof(request));
	request.type = DZ_HSM_MSG_LABEL;
	request.key_id[0] = 0x42;
	request.key_id_len = 1;
	memset(request.label, 'x', DZ_HSM_KEY_LABEL_MAX - 1);
	key_request_round_trip(&request, 4, &decoded);
	assert_int_equal(decoded.key_id_len, 1);
	assert_int_equal(decoded.key_id[0], 0x42);
	assert_int_equal(strlen(decoded.label), DZ_HSM_KEY_LABEL_MAX - 1);
}

/* The GENERATE layout written out by hand from sign_protocol.h. */
static void
generate_request_wire_format(void **state)
{
	static const uint8_t expected[] = {
		'D', 'Z', 'S', '1', 6, 0, 0, 0,	/* magic, GENERATE, flags, reserved */
		0, 0, 0, 9,			/* id */
		0, 0, 0, 0,			/* count */
		0, 0, 0, 14,			/* body length: 8 + 2 + 4 */
		3, 13, 0, 0,			/* CSK, ECDSAP256SHA256, bits 0 */
		0, 2, 0, 4,			/* zone and label lengths */
		'a', '.', 'a', ' ', 'C', 'S',	/* zone "a.", label "a CS" */
	};
	dz_hsm_key_request_t request;
	dz_buf_t buf;

	(void)state;
	memset(&request, 0, sizeof(request));
	request.type = DZ_HSM_MSG_GENERATE;
	request.role = DZ_ROLE_CSK;
	request.algorithm = DZ_ALG_ECDSAP256SHA256;
	strcpy(request.zone, "a.");
	strcpy(request.label, "a CS");
	dz_buf_init(&buf);
	assert_int_equal(dz_hsm_msg_key_request_encode(&buf, 9, &request), DZ_OK);
	assert_int_equal(buf.len, sizeof(expected));
	assert_memory_equal(buf.data, expected, sizeof(expected));
	dz_buf_clear(&buf);
}

static void
key_response_round_trip(const dz_hsm_key_response_t *response, dz_hsm_key_response_t *decoded)
{
	dz_hsm_msg_header_t header;
	dz_buf_t buf;

	dz_buf_init(&buf);
	assert_int_equal(dz_hsm_msg_key_response_encode(&buf, 5, response), DZ_OK);
	decode_header(&buf, &header);
	assert_int_equal(header.type, response->type);
	assert_int_equal(header.id, 5);
	assert_int_equal(header.count, 0);
	assert_int_equal(dz_hsm_msg_key_response_decode(&header, buf.data + DZ_HSM_MSG_HEADER_LEN,
							decoded, NULL), DZ_OK);
	assert_int_equal(decoded->type, response->type);
	assert_int_equal(decoded->result, response->result);
	assert_string_equal(decoded->message, response->message);
	dz_buf_clear(&buf);
}

static void
key_responses_round_trip(void **state)
{
	dz_hsm_key_response_t response, decoded;

	(void)state;
	memset(&response, 0, sizeof(response));
	response.type = DZ_HSM_MSG_TOKEN;
	strcpy(response.module, "SoftHSM 2.6 (SoftHSM, PKCS#11 2.40)");
	strcpy(response.token.label, "dz-test");
	strcpy(response.token.serial, "0123456789abcdef");
	strcpy(response.token.manufacturer, "SoftHSM project");
	strcpy(response.token.model, "SoftHSM v2");
	key_response_round_trip(&response, &decoded);
	assert_string_equal(decoded.module, response.module);
	assert_string_equal(decoded.token.label, "dz-test");
	assert_string_equal(decoded.token.serial, "0123456789abcdef");
	assert_string_equal(decoded.token.manufacturer, "SoftHSM project");
	assert_string_equal(decoded.token.model, "SoftHSM v2");

	memset(&response, 0, sizeof(response));
	response.type = DZ_HSM_MSG_GENERATED;
	memset(response.key_id, 0x11, 16);
	response.key_id_len = 16;
	memset(response.public_key, 0x22, DZ_HSM_PUBLIC_KEY_MAX);
	response.public_key_len = DZ_HSM_PUBLIC_KEY_MAX;
	response.bits = 4096;
	key_response_round_trip(&response, &decoded);
	assert_int_equal(decoded.key_id_len, 16);
	assert_memory_equal(decoded.key_id, response.key_id, 16);
	assert_int_equal(decoded.public_key_len, DZ_HSM_PUBLIC_KEY_MAX);
	assert_memory_equal(decoded.public_key, response.public_key, DZ_HSM_PUBLIC_KEY_MAX);
	assert_int_equal(decoded.bits, 4096);

	/* A failure carries no key, whatever the fields held. */
	response.result = DZ_EHSM_FULL;
	strcpy(response.message, "token dz-test is full");
	key_response_round_trip(&response, &decoded);
	assert_int_equal(decoded.key_id_len, 0);
	assert_int_equal(decoded.public_key_len, 0);

	memset(&response, 0, sizeof(response));
	response.type = DZ_HSM_MSG_DONE;
	response.result = DZ_EHSM_KEY;
	strcpy(response.message, "no private key with CKA_ID 42");
	key_response_round_trip(&response, &decoded);
}

/* Decode `body` as a message of `type` and expect DZ_ESYNTAX with `message`. */
static void
expect_bad_key_body(dz_hsm_msg_type_t type, const uint8_t *body, size_t len, const char *message)
{
	dz_hsm_msg_header_t header = { .type = type, .id = 1, .count = 0,
				       .body_len = (uint32_t)len };
	dz_hsm_key_request_t request;
	dz_hsm_key_response_t response;
	dz_error_t err;
	dz_result_t result;

	dz_error_init(&err);
	if (dz_hsm_msg_response_type(type) != 0)
		result = dz_hsm_msg_key_request_decode(&header, body, &request, &err);
	else
		result = dz_hsm_msg_key_response_decode(&header, body, &response, &err);
	assert_int_equal(result, DZ_ESYNTAX);
	if (strstr(err.message, message) == NULL)
		fail_msg("type %u: '%s' lacks '%s'", (unsigned)type, err.message, message);
}

#define BAD(type, message, ...)                                                          \
	do {                                                                             \
		static const uint8_t body_[] = { __VA_ARGS__ };                          \
		expect_bad_key_body(type, body_, sizeof(body_), message);                \
	} while (0)

static void
bad_key_requests_rejected(void **state)
{
	(void)state;
	BAD(DZ_HSM_MSG_INFO, "INFO body has 1 bytes after its last field", 0);
	/* GENERATE: role, algorithm, bits (2), zone length (2), label length (2), zone, label. */
	BAD(DZ_HSM_MSG_GENERATE, "GENERATE role 0 is not 1, 2 or 3", 0, 13, 0, 0, 0, 1, 0, 1, 'a', 'b');
	BAD(DZ_HSM_MSG_GENERATE, "GENERATE role 4 is not", 4, 13, 0, 0, 0, 1, 0, 1, 'a', 'b');
	BAD(DZ_HSM_MSG_GENERATE, "ends inside the bits", 1, 13, 0);
	BAD(DZ_HSM_MSG_GENERATE, "zone length 0 is not 1 to 1024", 1, 13, 0, 0, 0, 0, 0, 1, 'b');
	BAD(DZ_HSM_MSG_GENERATE, "zone length 1025 is not", 1, 13, 0, 0, 4, 1, 0, 1, 'a', 'b');
	BAD(DZ_HSM_MSG_GENERATE, "label length 0 is not 1 to 319", 1, 13, 0, 0, 0, 1, 0, 0, 'a');
	BAD(DZ_HSM_MSG_GENERATE, "label length 320 is not", 1, 13, 0, 0, 0, 1, 1, 0x40, 'a');
	BAD(DZ_HSM_MSG_GENERATE, "ends inside the label", 1, 13, 0, 0, 0, 1, 0, 2, 'a', 'b');
	BAD(DZ_HSM_MSG_GENERATE, "GENERATE body has 1 bytes after", 1, 13, 0, 0, 0, 1, 0, 1, 'a',
	    'b', 'c');
	BAD(DZ_HSM_MSG_GENERATE, "GENERATE zone contains a control character", 1, 13, 0, 0, 0, 1,
	    0, 1, '\n', 'b');
	BAD(DZ_HSM_MSG_GENERATE, "GENERATE label contains a control character", 1, 13, 0, 0, 0, 1,
	    0, 1, 'a', 0);
	/* CHECK and DELETE: key id length, key id. */
	BAD(DZ_HSM_MSG_CHECK, "CHECK body of 0 bytes ends inside the key id length");
	BAD(DZ_HSM_MSG_CHECK, "key id length 0 is not 1 to 64", 0);
	BAD(DZ_HSM_MSG_DELETE, "key id length 65 is not 1 to 64", 65);
	BAD(DZ_HSM_MSG_DELETE, "ends inside the key id", 2, 0xaa);
	BAD(DZ_HSM_MSG_DELETE, "DELETE body has 1 bytes after", 1, 0xaa, 0xbb);
	/* LABEL: key id length, label length (2), key id, label. */
	BAD(DZ_HSM_MSG_LABEL, "key id length 0 is not", 0, 0, 1, 'a');
	BAD(DZ_HSM_MSG_LABEL, "label length 0 is not", 1, 0, 0, 0xaa);
	BAD(DZ_HSM_MSG_LABEL, "ends inside the label", 1, 0, 3, 0xaa, 'a');
	BAD(DZ_HSM_MSG_LABEL, "LABEL label contains a control character", 1, 0, 1, 0xaa, 0x7f);
}

static void
bad_key_responses_rejected(void **state)
{
	(void)state;
	BAD(DZ_HSM_MSG_DONE, "DONE body of 1 bytes ends inside the result", 0);
	BAD(DZ_HSM_MSG_DONE, "unknown result code 65535", 0xff, 0xff, 0, 0);
	BAD(DZ_HSM_MSG_DONE, "message length is missing", 0, 0);
	BAD(DZ_HSM_MSG_DONE, "message of 2 bytes does not fit", 0, 0, 0, 2, 'x');
	BAD(DZ_HSM_MSG_DONE, "message of 0 bytes does not fit", 0, 0, 0, 0, 'x');
	/* GENERATED: result (2), bits (2), key id length, public key length (2), id, key. */
	BAD(DZ_HSM_MSG_GENERATED, "key id length 0 is not 1 to 64", 0, 0, 0, 0, 0, 0, 1, 0xaa, 0,
	    0);
	BAD(DZ_HSM_MSG_GENERATED, "public key length 0 is not 1 to 600", 0, 0, 0, 0, 1, 0, 0, 0xaa,
	    0, 0);
	BAD(DZ_HSM_MSG_GENERATED, "public key length 601 is not", 0, 0, 0, 0, 1, 2, 0x59, 0xaa);
	BAD(DZ_HSM_MSG_GENERATED, "ends inside the public key", 0, 0, 0, 0, 1, 0, 4, 0xaa, 1, 2);
	BAD(DZ_HSM_MSG_GENERATED, "key id length 1 is not 0 to 0", 0, DZ_EHSM_FULL, 0, 0, 1, 0, 0,
	    0xaa, 0, 0);
	BAD(DZ_HSM_MSG_GENERATED, "public key length 1 is not 0 to 0", 0, DZ_EHSM_FULL, 0, 0, 0, 0,
	    1, 0xaa, 0, 0);
	/* TOKEN: result (2), five texts of length (1) and bytes, message. */
	BAD(DZ_HSM_MSG_TOKEN, "ends inside the model", 0, 0, 1, 'm', 1, 'l', 1, 's', 1, 'f');
	BAD(DZ_HSM_MSG_TOKEN, "token label of 33 bytes exceeds 32", 0, 0, 0, 33);
	BAD(DZ_HSM_MSG_TOKEN, "serial of 17 bytes exceeds 16", 0, 0, 0, 0, 17);
	BAD(DZ_HSM_MSG_TOKEN, "TOKEN manufacturer contains a control character", 0, 0, 0, 0, 0, 1,
	    '\r', 0, 0, 0);
	BAD(DZ_HSM_MSG_TOKEN, "failed TOKEN response describes a token", 0, DZ_EHSM, 1, 'm', 0,
	    0, 0, 0, 0, 0);
	/* A request type is no response. */
	BAD(DZ_HSM_MSG_SIGNED, "message type 3 is not a key response", 0, 0, 0, 0);
}

static void
key_encode_rejects_invalid_requests(void **state)
{
	dz_hsm_key_request_t request;
	dz_hsm_key_response_t response;
	dz_buf_t buf;

	(void)state;
	dz_buf_init(&buf);
	memset(&request, 0, sizeof(request));
	request.type = DZ_HSM_MSG_SIGN;
	assert_int_equal(dz_hsm_msg_key_request_encode(&buf, 1, &request), DZ_EINVAL);

	request.type = DZ_HSM_MSG_GENERATE;
	request.role = DZ_ROLE_ZSK;
	strcpy(request.label, "label");
	assert_int_equal(dz_hsm_msg_key_request_encode(&buf, 1, &request), DZ_EINVAL); /* no zone */
	strcpy(request.zone, "example.com.\n");
	assert_int_equal(dz_hsm_msg_key_request_encode(&buf, 1, &request), DZ_EINVAL);
	strcpy(request.zone, "example.com.");
	request.role = 0;
	assert_int_equal(dz_hsm_msg_key_request_encode(&buf, 1, &request), DZ_EINVAL);

	request.type = DZ_HSM_MSG_DELETE;
	request.key_id_len = 0;
	assert_int_equal(dz_hsm_msg_key_request_encode(&buf, 1, &request), DZ_EINVAL);
	request.key_id_len = DZ_KEY_ID_MAX + 1;
	assert_int_equal(dz_hsm_msg_key_request_encode(&buf, 1, &request), DZ_EINVAL);

	memset(&response, 0, sizeof(response));
	response.type = DZ_HSM_MSG_GENERATED;
	response.key_id_len = 16;
	response.public_key_len = 0;
	assert_int_equal(dz_hsm_msg_key_response_encode(&buf, 1, &response), DZ_EINVAL);
	response.type = DZ_HSM_MSG_TOKEN;
	strcpy(response.token.label, "tab\there");
	assert_int_equal(dz_hsm_msg_key_response_encode(&buf, 1, &response), DZ_EINVAL);
	response.type = DZ_HSM_MSG_GENERATE;
	assert_int_equal(dz_hsm_msg_key_response_encode(&buf, 1, &response), DZ_EINVAL);
	/* A rejected message leaves nothing behind. */
	assert_int_equal(buf.len, 0);
	dz_buf_clear(&buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sign_message_round_trips),
		cmocka_unit_test(signed_message_round_trips),
		cmocka_unit_test(ready_message_round_trips),
		cmocka_unit_test(bad_headers_rejected),
		cmocka_unit_test(bad_sign_bodies_rejected),
		cmocka_unit_test(bad_signed_bodies_rejected),
		cmocka_unit_test(encode_rejects_invalid_requests),
		cmocka_unit_test(key_requests_round_trip),
		cmocka_unit_test(generate_request_wire_format),
		cmocka_unit_test(key_responses_round_trip),
		cmocka_unit_test(bad_key_requests_rejected),
		cmocka_unit_test(bad_key_responses_rejected),
		cmocka_unit_test(key_encode_rejects_invalid_requests),
	};

	return cmocka_run_group_tests_name("hsm/protocol", tests, NULL, NULL);
}
