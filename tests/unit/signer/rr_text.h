/*
 * rr_text.h -- test helpers that turn presentation-form RRs into wire form
 * with ldns, an encoder independent of signer/wire.c.
 */
#ifndef DZ_TESTS_RR_TEXT_H
#define DZ_TESTS_RR_TEXT_H

#include <stddef.h>

#include "common/mem.h"

/* Append the uncompressed wire form of one RR in presentation form; asserts on errors. */
void rr_text_append(dz_buf_t *buf, const char *text);

/* Append each RR of a NULL-terminated list, in the order given. */
void rr_text_append_all(dz_buf_t *buf, const char *const *texts);

/* Create a temporary folder under /tmp (caller frees the name). */
char *rr_text_temp_dir(const char *prefix);

/* Remove a folder made by rr_text_temp_dir() with everything in it. */
void rr_text_remove_dir(const char *dir);

#endif
