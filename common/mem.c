#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"

void
dz_secure_zero(void *p, size_t len)
{
#ifdef HAVE_EXPLICIT_BZERO
	explicit_bzero(p, len);
#else
	volatile unsigned char *v = p;
	while (len-- > 0)
		*v++ = 0;
#endif
}

void
dz_buf_init(dz_buf_t *buf)
{
	buf->data = NULL;
	buf->len = 0;
	buf->cap = 0;
}

void
dz_buf_clear(dz_buf_t *buf)
{
	free(buf->data);
	dz_buf_init(buf);
}

dz_result_t
dz_buf_reserve(dz_buf_t *buf, size_t extra)
{
	if (extra > SIZE_MAX - buf->len - 1)
		return DZ_ENOMEM;
	size_t need = buf->len + extra + 1;
	if (need <= buf->cap)
		return DZ_OK;
	size_t cap = buf->cap < 64 ? 64 : buf->cap;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	uint8_t *data = realloc(buf->data, cap);
	if (data == NULL)
		return DZ_ENOMEM;
	buf->data = data;
	buf->cap = cap;
	return DZ_OK;
}

dz_result_t
dz_buf_append(dz_buf_t *buf, const void *data, size_t len)
{
	if (dz_buf_reserve(buf, len) != DZ_OK)
		return DZ_ENOMEM;
	if (len > 0)
		memcpy(buf->data + buf->len, data, len);
	buf->len += len;
	buf->data[buf->len] = 0;
	return DZ_OK;
}

dz_result_t
dz_buf_append_u8(dz_buf_t *buf, uint8_t value)
{
	return dz_buf_append(buf, &value, 1);
}

dz_result_t
dz_buf_append_u16(dz_buf_t *buf, uint16_t value)
{
	uint8_t b[2] = { (uint8_t)(value >> 8), (uint8_t)value };
	return dz_buf_append(buf, b, sizeof(b));
}

dz_result_t
dz_buf_append_u32(dz_buf_t *buf, uint32_t value)
{
	uint8_t b[4] = { (uint8_t)(value >> 24), (uint8_t)(value >> 16), (uint8_t)(value >> 8),
			 (uint8_t)value };
	return dz_buf_append(buf, b, sizeof(b));
}

dz_result_t
dz_buf_printf(dz_buf_t *buf, const char *fmt, ...)
{
	va_list ap;
	int need;

	va_start(ap, fmt);
	need = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (need < 0)
		return DZ_EINVAL;
	if (dz_buf_reserve(buf, (size_t)need) != DZ_OK)
		return DZ_ENOMEM;
	va_start(ap, fmt);
	vsnprintf((char *)buf->data + buf->len, (size_t)need + 1, fmt, ap);
	va_end(ap);
	buf->len += (size_t)need;
	return DZ_OK;
}

void
dz_ptrvec_init(dz_ptrvec_t *vec)
{
	vec->items = NULL;
	vec->count = 0;
	vec->cap = 0;
}

void
dz_ptrvec_clear(dz_ptrvec_t *vec)
{
	free(vec->items);
	dz_ptrvec_init(vec);
}

dz_result_t
dz_ptrvec_push(dz_ptrvec_t *vec, void *item)
{
	if (vec->count == vec->cap) {
		size_t cap = vec->cap == 0 ? 16 : vec->cap * 2;
		void **items = realloc(vec->items, cap * sizeof(*items));
		if (items == NULL)
			return DZ_ENOMEM;
		vec->items = items;
		vec->cap = cap;
	}
	vec->items[vec->count++] = item;
	return DZ_OK;
}

void
dz_hex_encode(const uint8_t *data, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[data[i] >> 4];
		out[2 * i + 1] = digits[data[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long
dz_hex_decode(const char *text, size_t text_len, uint8_t *out, size_t out_cap)
{
	if (text_len % 2 != 0 || text_len / 2 > out_cap)
		return -1;
	for (size_t i = 0; i < text_len / 2; i++) {
		int hi = hex_value(text[2 * i]);
		int lo = hex_value(text[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (long)(text_len / 2);
}
