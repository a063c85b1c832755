#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signer/control.h"

/* ---- text rules ------------------------------------------------------------ */

/*
 * Length of the UTF-8 sequence at text[0..len-1] (RFC 3629 section 4: no
 * overlong forms, no surrogates, nothing above U+10FFFF), or 0 when the
 * bytes there are not a valid sequence.
 */
static size_t
utf8_sequence_length(const uint8_t *text, size_t len)
{
	uint8_t first = text[0];
	uint8_t low = 0x80, high = 0xbf;
	size_t need;

	if (first < 0x80)
		return 1;
	if (first >= 0xc2 && first <= 0xdf) {
		need = 2;
	} else if (first >= 0xe0 && first <= 0xef) {
		need = 3;
		if (first == 0xe0)
			low = 0xa0;
		else if (first == 0xed)
			high = 0x9f;
	} else if (first >= 0xf0 && first <= 0xf4) {
		need = 4;
		if (first == 0xf0)
			low = 0x90;
		else if (first == 0xf4)
			high = 0x8f;
	} else {
		return 0;
	}
	if (len < need || text[1] < low || text[1] > high)
		return 0;
	for (size_t i = 2; i < need; i++) {
		if (text[i] < 0x80 || text[i] > 0xbf)
			return 0;
	}
	return need;
}

static bool
is_control_character(uint8_t byte)
{
	return byte < 0x20 || byte == 0x7f;
}

/*
 * Check one string of a request: not empty, UTF-8, no control character.
 * `offset` is the string's position in the request, for the message.
 */
static dz_result_t
check_string(const uint8_t *text, size_t len, size_t offset, dz_error_t *err)
{
	if (len == 0)
		return dz_error_set(err, DZ_ESYNTAX,
				    "empty string at byte %zu of the request; strings are separated "
				    "by one NUL byte, with none before the first or after the last",
				    offset);
	for (size_t i = 0; i < len;) {
		if (is_control_character(text[i]))
			return dz_error_set(err, DZ_ESYNTAX,
					    "control character 0x%02x at byte %zu of the request",
					    text[i], offset + i);
		size_t n = utf8_sequence_length(text + i, len - i);
		if (n == 0)
			return dz_error_set(err, DZ_ESYNTAX, "invalid UTF-8 at byte %zu of the request",
					    offset + i);
		i += n;
	}
	return DZ_OK;
}

dz_result_t
dz_control_parse_request(const uint8_t *frame, size_t len, int *argc, char ***argv,
			 dz_error_t *err)
{
	size_t count = 1;

	*argc = 0;
	*argv = NULL;
	if (len == 0)
		return dz_error_set(err, DZ_ESYNTAX, "empty request; it needs at least a command name");
	if (len > DZ_CONTROL_REQUEST_MAX)
		return dz_error_set(err, DZ_ETOOBIG, "request of %zu bytes is over the limit of %d bytes",
				    len, DZ_CONTROL_REQUEST_MAX);
	for (size_t i = 0; i < len; i++) {
		if (frame[i] == 0)
			count++;
	}
	if (count > DZ_CONTROL_ARGS_MAX)
		return dz_error_set(err, DZ_ETOOBIG,
				    "request has %zu strings, over the limit of %d (command name "
				    "included)",
				    count, DZ_CONTROL_ARGS_MAX);

	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && frame[i] != 0)
			continue;
		dz_result_t result = check_string(frame + start, i - start, start, err);
		if (result != DZ_OK)
			return result;
		start = i + 1;
	}

	/* One block: the pointer array with its NULL, then the strings. */
	char **vector = malloc((count + 1) * sizeof(char *) + len + 1);
	if (vector == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory for a request of %zu bytes", len);
	char *text = (char *)(vector + count + 1);
	memcpy(text, frame, len);
	text[len] = '\0';
	vector[0] = text;
	size_t n = 1;
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\0')
			vector[n++] = text + i + 1;
	}
	vector[n] = NULL;
	*argc = (int)count;
	*argv = vector;
	return DZ_OK;
}

dz_result_t
dz_control_format_request(int argc, char *const *argv, dz_buf_t *frame, dz_error_t *err)
{
	size_t len = 0;

	if (argc < 1)
		return dz_error_set(err, DZ_ESYNTAX, "a request needs at least a command name");
	if (argc > DZ_CONTROL_ARGS_MAX)
		return dz_error_set(err, DZ_ETOOBIG,
				    "request has %d strings, over the limit of %d (command name "
				    "included)",
				    argc, DZ_CONTROL_ARGS_MAX);
	for (int i = 0; i < argc; i++) {
		size_t arg_len = strlen(argv[i]);
		dz_result_t result = check_string((const uint8_t *)argv[i], arg_len, len, err);
		if (result != DZ_OK)
			return result;
		len += arg_len + (i > 0 ? 1 : 0);
		if (len > DZ_CONTROL_REQUEST_MAX)
			return dz_error_set(err, DZ_ETOOBIG,
					    "request is over the limit of %d bytes",
					    DZ_CONTROL_REQUEST_MAX);
	}
	if (dz_buf_reserve(frame, 4 + len) != DZ_OK || dz_buf_append_u32(frame, (uint32_t)len) != DZ_OK)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	for (int i = 0; i < argc; i++) {
		if (i > 0)
			dz_buf_append_u8(frame, 0);
		dz_buf_append(frame, argv[i], strlen(argv[i]));
	}
	return DZ_OK;
}

static bool
result_from_name(const char *name, size_t len, dz_result_t *result)
{
	for (int i = 0; i < DZ_RESULT_COUNT; i++) {
		const char *candidate = dz_result_name((dz_result_t)i);
		if (strlen(candidate) == len && memcmp(candidate, name, len) == 0) {
			*result = (dz_result_t)i;
			return true;
		}
	}
	return false;
}

dz_result_t
dz_control_parse_response(const uint8_t *text, size_t len, dz_buf_t *out, dz_error_t *err)
{
	static const char ok[] = "ok\n";
	static const char error[] = "error ";

	if (len >= sizeof(ok) - 1 && memcmp(text, ok, sizeof(ok) - 1) == 0) {
		size_t output_len = len - (sizeof(ok) - 1);
		if (dz_buf_reserve(out, output_len + 1) != DZ_OK)
			return dz_error_set(err, DZ_ENOMEM, "out of memory for a response of %zu bytes",
					    len);
		dz_buf_append(out, text + sizeof(ok) - 1, output_len);
		out->data[out->len] = '\0';
		return DZ_OK;
	}
	if (len < sizeof(error) || memcmp(text, error, sizeof(error) - 1) != 0 ||
	    text[len - 1] != '\n')
		return dz_error_set(err, DZ_EFORMERR,
				    "invalid response from danezoned: it starts neither with \"ok\" "
				    "nor with an \"error\" line");

	const uint8_t *code = text + sizeof(error) - 1;
	const uint8_t *end = text + len - 1; /* the final newline */
	const uint8_t *space = memchr(code, ' ', (size_t)(end - code));
	size_t code_len = (size_t)((space != NULL ? space : end) - code);
	const uint8_t *message = space != NULL ? space + 1 : end;
	size_t message_len = (size_t)(end - message);
	dz_result_t result;

	if (memchr(code, '\n', (size_t)(end - code)) != NULL || code_len == 0)
		return dz_error_set(err, DZ_EFORMERR,
				    "invalid response from danezoned: its error line is malformed");
	if (!result_from_name((const char *)code, code_len, &result) || result == DZ_OK)
		result = DZ_EINTERNAL;
	if (message_len == 0)
		return dz_error_set(err, result, "danezoned reported: %s", dz_result_text(result));
	return dz_error_set(err, result, "%.*s", (int)message_len, (const char *)message);
}

/* ---- responses ------------------------------------------------------------- */

/*
 * Append `text` to `buf` as part of one line: control characters become
 * spaces and bytes that are not UTF-8 become '?', so that handler messages
 * naming files or values cannot break the response format.
 */
static dz_result_t
append_line_text(dz_buf_t *buf, const char *text)
{
	const uint8_t *p = (const uint8_t *)text;
	size_t len = strlen(text);

	for (size_t i = 0; i < len;) {
		size_t n = utf8_sequence_length(p + i, len - i);
		dz_result_t result;
		if (n == 0)
			result = dz_buf_append_u8(buf, '?');
		else if (n == 1 && is_control_character(p[i]))
			result = dz_buf_append_u8(buf, ' ');
		else
			result = dz_buf_append(buf, p + i, n);
		if (result != DZ_OK)
			return result;
		i += n == 0 ? 1 : n;
	}
	return DZ_OK;
}

dz_result_t
dz_control_format_error(dz_buf_t *frame, dz_result_t code, const char *message)
{
	size_t start = frame->len;

	if (dz_buf_append_u32(frame, 0) != DZ_OK ||
	    dz_buf_printf(frame, "error %s ", dz_result_name(code)) != DZ_OK ||
	    append_line_text(frame, message) != DZ_OK || dz_buf_append_u8(frame, '\n') != DZ_OK)
		return DZ_ENOMEM;
	uint32_t len = (uint32_t)(frame->len - start - 4);
	frame->data[start] = (uint8_t)(len >> 24);
	frame->data[start + 1] = (uint8_t)(len >> 16);
	frame->data[start + 2] = (uint8_t)(len >> 8);
	frame->data[start + 3] = (uint8_t)len;
	return DZ_OK;
}

