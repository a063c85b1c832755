/*
 * mem.h -- small containers and memory helpers.
 */
#ifndef DZ_COMMON_MEM_H
#define DZ_COMMON_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/result.h"

/* Number of elements of a fixed-size array. */
#define DZ_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Overwrite memory that held a secret (PIN, TSIG key) so the compiler keeps the store. */
void dz_secure_zero(void *p, size_t len);

/*
 * A growable byte buffer.  Embed it zeroed or with dz_buf_init(); `data` is
 * owned by the buffer and freed by dz_buf_clear().
 */
typedef struct dz_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
} dz_buf_t;

void dz_buf_init(dz_buf_t *buf);
void dz_buf_clear(dz_buf_t *buf);

/* Make room for `extra` more bytes; DZ_ENOMEM on failure (buffer unchanged). */
dz_result_t dz_buf_reserve(dz_buf_t *buf, size_t extra);

dz_result_t dz_buf_append(dz_buf_t *buf, const void *data, size_t len);
dz_result_t dz_buf_append_u8(dz_buf_t *buf, uint8_t value);
/* Append in network byte order. */
dz_result_t dz_buf_append_u16(dz_buf_t *buf, uint16_t value);
dz_result_t dz_buf_append_u32(dz_buf_t *buf, uint32_t value);

/* Append printf output (without the NUL; data stays NUL-terminated after it). */
dz_result_t dz_buf_printf(dz_buf_t *buf, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * A growable array of pointers.  The vector owns the array, not the
 * pointed-to objects.
 */
typedef struct dz_ptrvec {
	void **items;
	size_t count;
	size_t cap;
} dz_ptrvec_t;

void dz_ptrvec_init(dz_ptrvec_t *vec);
void dz_ptrvec_clear(dz_ptrvec_t *vec);
dz_result_t dz_ptrvec_push(dz_ptrvec_t *vec, void *item);

/* Hex encoding: lower case, `out` needs 2 * len + 1 bytes. */
void dz_hex_encode(const uint8_t *data, size_t len, char *out);

/*
 * Decode hex (either case, no separators) into `out` of `out_cap` bytes;
 * returns the decoded length or -1 for odd length, bad digits or overflow.
 */
long dz_hex_decode(const char *text, size_t text_len, uint8_t *out, size_t out_cap);

#endif
