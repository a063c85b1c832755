/*
 * RDATA of the common types of a mail zone, converted to wire form
 * without ldns.  Only the plain form is taken here: decimal numbers in
 * range, hex digits, names of letters, digits, '-', '_', '*' and '/', and
 * character-strings.  Anything else returns -1 and goes through ldns, which
 * then also words the error, so a zone file means the same either way.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>

#include "zones/zonefile_internal.h"

#define TYPE_A 1
#define TYPE_NS 2
#define TYPE_CNAME 5
#define TYPE_SOA 6
#define TYPE_PTR 12
#define TYPE_MX 15
#define TYPE_TXT 16
#define TYPE_AAAA 28
#define TYPE_SRV 33
#define TYPE_DNAME 39
#define TYPE_DS 43
#define TYPE_TLSA 52
#define TYPE_SMIMEA 53
#define TYPE_CDS 59

/* Longest label (RFC 1035 section 2.3.4). */
#define LABEL_MAX 63

/* The tokens of the record data and the output being written. */
typedef struct fields {
	const reader_t *r;
	size_t next;	 /* next token */
	uint8_t *out;
	size_t len;	 /* bytes written to out */
	const uint8_t *origin;
	size_t origin_len;
} fields_t;

/* The next unquoted token, or NULL at the end. */
static const char *
next_plain(fields_t *f, size_t *len)
{
	const token_t *tok;

	if (f->next >= f->r->token_count)
		return NULL;
	tok = &f->r->tokens[f->next];
	if (tok->quoted)
		return NULL;
	f->next++;
	*len = tok->len;
	return f->r->text + tok->start;
}

static bool
room(const fields_t *f, size_t n)
{
	return f->len + n <= RDATA_MAX;
}

/* A decimal number of at most `max`, written big-endian in `bytes` octets. */
static bool
number(fields_t *f, uint32_t max, size_t bytes)
{
	size_t len;
	const char *text = next_plain(f, &len);
	uint64_t value = 0;

	if (text == NULL || len == 0 || len > 10 || !room(f, bytes))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return false;
		value = value * 10 + (uint64_t)(text[i] - '0');
	}
	if (value > max)
		return false;
	for (size_t i = 0; i < bytes; i++)
		f->out[f->len++] = (uint8_t)(value >> (8 * (bytes - 1 - i)));
	return true;
}

static bool
name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '*' || c == '/';
}

/*
 * A domain name: "@", an absolute name ending in '.', or a relative name
 * that takes the origin.  Lower case when `lower`.
 */
static bool
name(fields_t *f, bool lower)
{
	size_t len;
	const char *text = next_plain(f, &len);
	size_t start = f->len;
	size_t label_start;
	bool absolute;

	if (text == NULL || len == 0)
		return false;
	if (len == 1 && text[0] == '@') {
		if (!room(f, f->origin_len))
			return false;
		memcpy(f->out + f->len, f->origin, f->origin_len);
		f->len += f->origin_len;
		goto done;
	}
	absolute = text[len - 1] == '.';
	if (absolute)
		len--;
	if (len == 0) {
		if (!absolute || !room(f, 1))
			return false;
		f->out[f->len++] = 0; /* the root */
		goto done;
	}
	if (!room(f, len + 2))
		return false;
	label_start = f->len++;
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (c == '.') {
			size_t label_len = f->len - label_start - 1;
			if (label_len == 0 || label_len > LABEL_MAX)
				return false;
			f->out[label_start] = (uint8_t)label_len;
			label_start = f->len++;
			continue;
		}
		if (!name_char(c))
			return false;
		f->out[f->len++] = (uint8_t)(lower && c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
	}
	if (f->len - label_start - 1 == 0 || f->len - label_start - 1 > LABEL_MAX)
		return false;
	f->out[label_start] = (uint8_t)(f->len - label_start - 1);
	if (absolute) {
		f->out[f->len++] = 0;
	} else {
		if (!room(f, f->origin_len))
			return false;
		memcpy(f->out + f->len, f->origin, f->origin_len);
		f->len += f->origin_len;
	}
done:
	/* Names of more than 255 octets are for ldns to reject. */
	return f->len - start <= NAME_WIRE_MAX;
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

/* Hex digits to the end of the record, in one or more tokens, at least one octet. */
static bool
hex_rest(fields_t *f)
{
	int high = -1;
	size_t start = f->len;

	while (f->next < f->r->token_count) {
		size_t len;
		const char *text = next_plain(f, &len);
		if (text == NULL)
			return false;
		for (size_t i = 0; i < len; i++) {
			int v = hex_value(text[i]);
			if (v < 0)
				return false;
			if (high < 0) {
				high = v;
				continue;
			}
			if (!room(f, 1))
				return false;
			f->out[f->len++] = (uint8_t)(high << 4 | v);
			high = -1;
		}
	}
	/* An odd number of digits is for ldns to judge. */
	return high < 0 && f->len > start;
}

/*
 * A character-string (RFC 1035 section 3.3): a quoted token, or an unquoted
 * one without quotes, with \X and \DDD escapes.
 */
static bool
string(fields_t *f)
{
	const token_t *tok = &f->r->tokens[f->next++];
	const char *text = f->r->text + tok->start;
	size_t len = tok->len;
	size_t length_at = f->len;

	if (tok->quoted) {
		if (len < 2 || text[len - 1] != '"')
			return false;
		text++;
		len -= 2;
	}
	if (!room(f, 1))
		return false;
	f->len++;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)text[i];
		if (c == '"')
			return false;
		if (c == '\\') {
			if (i + 1 >= len)
				return false;
			c = (uint8_t)text[++i];
			if (c >= '0' && c <= '9') {
				unsigned value;
				if (i + 2 >= len || text[i + 1] < '0' || text[i + 1] > '9' ||
				    text[i + 2] < '0' || text[i + 2] > '9')
					return false;
				value = (unsigned)(c - '0') * 100 + (unsigned)(text[i + 1] - '0') * 10 +
					(unsigned)(text[i + 2] - '0');
				if (value > 255)
					return false;
				c = (uint8_t)value;
				i += 2;
			}
		}
		if (f->len - length_at - 1 >= 255 || !room(f, 1))
			return false;
		f->out[f->len++] = c;
	}
	f->out[length_at] = (uint8_t)(f->len - length_at - 1);
	return true;
}

static bool
address(fields_t *f, int family, size_t bytes)
{
	char text[64];
	size_t len;
	const char *token = next_plain(f, &len);

	if (token == NULL || len >= sizeof(text) || !room(f, bytes))
		return false;
	memcpy(text, token, len);
	text[len] = '\0';
	if (inet_pton(family, text, f->out + f->len) != 1)
		return false;
	f->len += bytes;
	return true;
}

static bool
convert(fields_t *f, uint16_t type)
{
	switch (type) {
	case TYPE_A:
		return address(f, AF_INET, 4);
	case TYPE_AAAA:
		return address(f, AF_INET6, 16);
	case TYPE_NS:
	case TYPE_CNAME:
	case TYPE_PTR:
	case TYPE_DNAME:
		return name(f, true);
	case TYPE_MX:
		return number(f, 65535, 2) && name(f, true);
	case TYPE_SRV:
		return number(f, 65535, 2) && number(f, 65535, 2) && number(f, 65535, 2) &&
		       name(f, true);
	case TYPE_SOA:
		return name(f, true) && name(f, true) && number(f, UINT32_MAX, 4) &&
		       number(f, UINT32_MAX, 4) && number(f, UINT32_MAX, 4) &&
		       number(f, UINT32_MAX, 4) && number(f, UINT32_MAX, 4);
	case TYPE_TXT:
		if (f->next >= f->r->token_count)
			return false;
		while (f->next < f->r->token_count) {
			if (!string(f))
				return false;
		}
		return true;
	case TYPE_DS:
	case TYPE_CDS:
		return number(f, 65535, 2) && number(f, 255, 1) && number(f, 255, 1) && hex_rest(f);
	case TYPE_TLSA:
	case TYPE_SMIMEA:
		return number(f, 255, 1) && number(f, 255, 1) && number(f, 255, 1) && hex_rest(f);
	default:
		return false;
	}
}

long
dz_zonefile_fast_rdata(const reader_t *r, size_t first, uint16_t type, const uint8_t *origin,
		       size_t origin_len, uint8_t *out)
{
	fields_t f = { r, first, out, 0, origin, origin_len };

	if (!convert(&f, type) || f.next != r->token_count)
		return -1;
	return (long)f.len;
}
