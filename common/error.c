#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"

void
dz_error_init(dz_error_t *err)
{
	if (err == NULL)
		return;
	err->code = DZ_OK;
	err->message[0] = '\0';
}

dz_result_t
dz_error_set(dz_error_t *err, dz_result_t code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return code;
}

dz_result_t
dz_error_prefix(dz_error_t *err, const char *fmt, ...)
{
	char prefix[DZ_ERROR_MESSAGE_MAX];
	char joined[2 * DZ_ERROR_MESSAGE_MAX + 2];
	va_list ap;

	if (err == NULL)
		return DZ_EINTERNAL;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	snprintf(joined, sizeof(joined), "%s: %s", prefix, dz_error_message(err));
	/* Keep the start of the joined text; the end of a long message is lost. */
	size_t len = strnlen(joined, sizeof(err->message) - 1);
	memcpy(err->message, joined, len);
	err->message[len] = '\0';
	return err->code;
}

const char *
dz_error_message(const dz_error_t *err)
{
	if (err == NULL)
		return "unknown error";
	if (err->message[0] != '\0')
		return err->message;
	return dz_result_text(err->code);
}
