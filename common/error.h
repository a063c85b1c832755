/*
 * error.h -- a result code together with the message a user acts on.
 *
 * Functions that handle outside input (files, YAML, certificates, packets,
 * the HSM) take a `dz_error_t *err` that may be NULL.  On failure they fill
 * it with a message that names the file, line or value and what to do, and
 * return the same code.  On success they leave it untouched.
 */
#ifndef DZ_COMMON_ERROR_H
#define DZ_COMMON_ERROR_H

#include <stddef.h>

#include "common/result.h"

#define DZ_ERROR_MESSAGE_MAX 1024

typedef struct dz_error {
	dz_result_t code;
	char message[DZ_ERROR_MESSAGE_MAX];
} dz_error_t;

/* Reset to DZ_OK with an empty message. */
void dz_error_init(dz_error_t *err);

/*
 * Set code and message (printf format) and return code.  A NULL err only
 * returns code.  Messages longer than DZ_ERROR_MESSAGE_MAX are truncated.
 */
dz_result_t dz_error_set(dz_error_t *err, dz_result_t code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Prepend "PREFIX: " to the message already in err (for example the file
 * name a lower layer did not know) and return err->code.  Without a message
 * the prefix is followed by the result text.
 */
dz_result_t dz_error_prefix(dz_error_t *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * The message to show: err->message, or the result text when no message
 * was set.  Never NULL; err may be NULL.
 */
const char *dz_error_message(const dz_error_t *err);

#endif
