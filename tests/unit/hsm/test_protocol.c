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
		{ { 'D', 'Z', 'S', '1', 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0 },
		  "unknown message type 9" },
		{ { 'D', 'Z', 'S', '1', 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0 },
		  "flags or reserved bytes" },
		{ { 'D', 'Z', 'S', '1', 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
		  "count 0 is not 1 to 1024" },
		{ { 'D', 'Z', 'S', '1', 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0 },
		  "count 1025 is not 1 to 1024" },
		{ { 'D', 'Z', 'S', '1', 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 0, 0, 0 },
		  "exceeds the limit" },
		{ { 'D', 'Z', 'S', '1', 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 4 },
		  "READY message with a count of 2" },
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
	};

	return cmocka_run_group_tests_name("hsm/protocol", tests, NULL, NULL);
}
