#include "config.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include <ldns/ldns.h>
#include <openssl/evp.h>

#include "signer/print.h"
#include "signer/wire.h"
#include "signer/zone.h"

#define TYPE_PTR 12
#define TYPE_SRV 33
#define TYPE_SMIMEA 53
#define TYPE_OPENPGPKEY 61

/* Bytes of text one RDATA byte can become at most: "\DDD" in a TXT string. */
#define TEXT_PER_BYTE 4
/* Longest type mnemonic with its separator: "TYPE65535 ". */
#define TYPE_TEXT_MAX 10

/* Output position with the room reserved for it; fields write at `p`. */
typedef struct cursor {
	char *p;
} cursor_t;

static void
put_char(cursor_t *c, char ch)
{
	*c->p++ = ch;
}

static void
put_text(cursor_t *c, const char *text, size_t len)
{
	memcpy(c->p, text, len);
	c->p += len;
}

static void
put_uint(cursor_t *c, uint32_t value)
{
	char digits[10];
	size_t n = 0;

	do {
		digits[n++] = (char)('0' + value % 10);
		value /= 10;
	} while (value != 0);
	while (n > 0)
		*c->p++ = digits[--n];
}

static void
put_hex(cursor_t *c, const uint8_t *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		*c->p++ = digits[data[i] >> 4];
		*c->p++ = digits[data[i] & 0x0f];
	}
}

static void
put_base64(cursor_t *c, const uint8_t *data, size_t len)
{
	/* EVP_EncodeBlock() ends the text with a NUL byte that the next field overwrites. */
	c->p += EVP_EncodeBlock((unsigned char *)c->p, data, (int)len);
}

/*
 * Base32hex (RFC 4648 section 7) in lower case without padding, as RFC 5155
 * section 3.3 writes the next hashed owner.  ldns 1.8 pads hashes whose
 * length is not a multiple of 5 octets, which SHA-1 hashes never are.
 */
static void
put_base32hex(cursor_t *c, const uint8_t *data, size_t len)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuv";
	uint32_t bits = 0;
	unsigned count = 0;

	for (size_t i = 0; i < len; i++) {
		bits = (bits << 8) | data[i];
		count += 8;
		while (count >= 5) {
			count -= 5;
			*c->p++ = digits[(bits >> count) & 0x1f];
		}
	}
	if (count > 0)
		*c->p++ = digits[(bits << (5 - count)) & 0x1f];
}

static void
put_name(cursor_t *c, const uint8_t *wire)
{
	c->p += dz_print_name(wire, c->p);
}

static void
put_type(cursor_t *c, uint16_t type)
{
	c->p += dz_print_type_name(type, c->p);
}

/*
 * The date of the last RRSIG time printed by this thread.  The times of a
 * zone fall on a few days, and gmtime_r() takes a lock in glibc 2.36 that
 * the formatter threads would contend for.
 */
static _Thread_local uint32_t cached_day = UINT32_MAX;
static _Thread_local char cached_date[8];

static void
put_two_digits(cursor_t *c, unsigned value)
{
	*c->p++ = (char)('0' + value / 10);
	*c->p++ = (char)('0' + value % 10);
}

/* YYYYMMDDHHmmSS in UTC (RFC 4034 section 3.2). */
static bool
put_time(cursor_t *c, uint32_t value)
{
	uint32_t day = value / 86400;
	uint32_t seconds = value % 86400;

	if (day != cached_day) {
		time_t t = (time_t)day * 86400;
		struct tm tm;
		unsigned year;

		if (gmtime_r(&t, &tm) == NULL)
			return false;
		year = (unsigned)tm.tm_year + 1900; /* 1970 to 2106 */
		cached_date[0] = (char)('0' + year / 1000);
		cached_date[1] = (char)('0' + year / 100 % 10);
		cached_date[2] = (char)('0' + year / 10 % 10);
		cached_date[3] = (char)('0' + year % 10);
		cached_date[4] = (char)('0' + (tm.tm_mon + 1) / 10);
		cached_date[5] = (char)('0' + (tm.tm_mon + 1) % 10);
		cached_date[6] = (char)('0' + tm.tm_mday / 10);
		cached_date[7] = (char)('0' + tm.tm_mday % 10);
		cached_day = day;
	}
	put_text(c, cached_date, sizeof(cached_date));
	/* POSIX time has no leap seconds, so every day has 86400 of them. */
	put_two_digits(c, seconds / 3600);
	put_two_digits(c, seconds / 60 % 60);
	put_two_digits(c, seconds % 60);
	return true;
}

/*
 * A character-string (RFC 1035 section 3.3) in quotes, escaped as ldns
 * 1.8 does: TAB stays as it is, other control characters become \DDD.
 */
static void
put_string(cursor_t *c, const uint8_t *data, size_t len)
{
	*c->p++ = '"';
	for (size_t i = 0; i < len; i++) {
		uint8_t ch = data[i];
		if (ch == '"' || ch == '\\') {
			*c->p++ = '\\';
			*c->p++ = (char)ch;
		} else if ((ch >= 0x20 && ch < 0x7f) || ch == '\t') {
			*c->p++ = (char)ch;
		} else {
			*c->p++ = '\\';
			*c->p++ = (char)('0' + ch / 100);
			*c->p++ = (char)('0' + ch / 10 % 10);
			*c->p++ = (char)('0' + ch % 10);
		}
	}
	*c->p++ = '"';
}

/* Whether a type bitmap (RFC 4034 section 4.1.2) is well formed. */
static bool
bitmap_valid(const uint8_t *data, size_t len)
{
	size_t pos = 0;
	int last_window = -1;

	while (pos < len) {
		if (pos + 2 > len || data[pos] <= last_window || data[pos + 1] == 0 ||
		    data[pos + 1] > 32 || pos + 2 + data[pos + 1] > len)
			return false;
		last_window = data[pos];
		pos += 2 + (size_t)data[pos + 1];
	}
	return true;
}

/* The types of a valid bitmap, each after a space. */
static void
put_bitmap(cursor_t *c, const uint8_t *data, size_t len)
{
	size_t pos = 0;

	while (pos < len) {
		unsigned window = data[pos];
		unsigned bytes = data[pos + 1];
		for (unsigned i = 0; i < bytes; i++) {
			uint8_t bits = data[pos + 2 + i];
			for (unsigned bit = 0; bit < 8; bit++) {
				if (bits & (0x80 >> bit)) {
					*c->p++ = ' ';
					put_type(c, (uint16_t)(window * 256 + i * 8 + bit));
				}
			}
		}
		pos += 2 + bytes;
	}
}

static uint16_t
get_u16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t
get_u32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Length of the valid name at data[pos], or 0. */
static size_t
name_at(const uint8_t *data, size_t len, size_t pos)
{
	return pos < len ? dz_wire_name_len(data + pos, len - pos) : 0;
}

/*
 * Print the RDATA of the types this file knows.  Returns false for other
 * types and for RDATA that does not match its type's fields, which ldns
 * prints then.  The caller reserved enough room (see rdata_room()).
 */
static bool
put_rdata(cursor_t *c, uint16_t type, const uint8_t *d, size_t len)
{
	size_t n;
	size_t m;
	char address[INET6_ADDRSTRLEN];

	switch (type) {
	case DZ_TYPE_A:
		if (len != 4 || inet_ntop(AF_INET, d, address, sizeof(address)) == NULL)
			return false;
		put_text(c, address, strlen(address));
		return true;
	case DZ_TYPE_AAAA:
		if (len != 16 || inet_ntop(AF_INET6, d, address, sizeof(address)) == NULL)
			return false;
		put_text(c, address, strlen(address));
		return true;
	case DZ_TYPE_NS:
	case DZ_TYPE_CNAME:
	case DZ_TYPE_DNAME:
	case TYPE_PTR:
		if (name_at(d, len, 0) != len)
			return false;
		put_name(c, d);
		return true;
	case DZ_TYPE_MX:
		if (len < 3 || name_at(d, len, 2) != len - 2)
			return false;
		put_uint(c, get_u16(d));
		put_char(c, ' ');
		put_name(c, d + 2);
		return true;
	case TYPE_SRV:
		if (len < 7 || name_at(d, len, 6) != len - 6)
			return false;
		put_uint(c, get_u16(d));
		put_char(c, ' ');
		put_uint(c, get_u16(d + 2));
		put_char(c, ' ');
		put_uint(c, get_u16(d + 4));
		put_char(c, ' ');
		put_name(c, d + 6);
		return true;
	case DZ_TYPE_SOA:
		n = name_at(d, len, 0);
		m = n > 0 ? name_at(d, len, n) : 0;
		if (n == 0 || m == 0 || n + m + 20 != len)
			return false;
		put_name(c, d);
		put_char(c, ' ');
		put_name(c, d + n);
		for (size_t i = 0; i < 5; i++) {
			put_char(c, ' ');
			put_uint(c, get_u32(d + n + m + 4 * i));
		}
		return true;
	case DZ_TYPE_TXT:
		for (n = 0; n < len; n += 1 + (size_t)d[n]) {
			if (n + 1 + d[n] > len)
				return false;
		}
		if (len == 0)
			return false;
		for (n = 0; n < len; n += 1 + (size_t)d[n]) {
			if (n > 0)
				put_char(c, ' ');
			put_string(c, d + n + 1, d[n]);
		}
		return true;
	case DZ_TYPE_DS:
	case DZ_TYPE_CDS:
		if (len < 5)
			return false;
		put_uint(c, get_u16(d));
		put_char(c, ' ');
		put_uint(c, d[2]);
		put_char(c, ' ');
		put_uint(c, d[3]);
		put_char(c, ' ');
		put_hex(c, d + 4, len - 4);
		return true;
	case DZ_TYPE_DNSKEY:
	case DZ_TYPE_CDNSKEY:
		if (len < 5)
			return false;
		put_uint(c, get_u16(d));
		put_char(c, ' ');
		put_uint(c, d[2]);
		put_char(c, ' ');
		put_uint(c, d[3]);
		put_char(c, ' ');
		put_base64(c, d + 4, len - 4);
		return true;
	case DZ_TYPE_TLSA:
	case TYPE_SMIMEA:
		if (len < 4)
			return false;
		put_uint(c, d[0]);
		put_char(c, ' ');
		put_uint(c, d[1]);
		put_char(c, ' ');
		put_uint(c, d[2]);
		put_char(c, ' ');
		put_hex(c, d + 3, len - 3);
		return true;
	case TYPE_OPENPGPKEY:
		if (len == 0)
			return false;
		put_base64(c, d, len);
		return true;
	case DZ_TYPE_RRSIG:
		n = len > 18 ? name_at(d, len, 18) : 0;
		if (n == 0 || 18 + n >= len)
			return false;
		put_type(c, get_u16(d));
		put_char(c, ' ');
		put_uint(c, d[2]);
		put_char(c, ' ');
		put_uint(c, d[3]);
		put_char(c, ' ');
		put_uint(c, get_u32(d + 4));
		put_char(c, ' ');
		if (!put_time(c, get_u32(d + 8)))
			return false;
		put_char(c, ' ');
		if (!put_time(c, get_u32(d + 12)))
			return false;
		put_char(c, ' ');
		put_uint(c, get_u16(d + 16));
		put_char(c, ' ');
		put_name(c, d + 18);
		put_char(c, ' ');
		put_base64(c, d + 18 + n, len - 18 - n);
		return true;
	case DZ_TYPE_NSEC:
		n = name_at(d, len, 0);
		if (n == 0 || !bitmap_valid(d + n, len - n))
			return false;
		put_name(c, d);
		put_bitmap(c, d + n, len - n);
		return true;
	case DZ_TYPE_NSEC3PARAM:
		if (len < 5 || 5 + (size_t)d[4] != len)
			return false;
		put_uint(c, d[0]);
		put_char(c, ' ');
		put_uint(c, d[1]);
		put_char(c, ' ');
		put_uint(c, get_u16(d + 2));
		put_char(c, ' ');
		if (d[4] == 0)
			put_char(c, '-');
		else
			put_hex(c, d + 5, d[4]);
		return true;
	case DZ_TYPE_NSEC3:
		if (len < 6 || 6 + (size_t)d[4] > len)
			return false;
		n = 5 + (size_t)d[4]; /* the hash length octet */
		if (d[n] == 0 || n + 1 + d[n] > len || !bitmap_valid(d + n + 1 + d[n], len - n - 1 - d[n]))
			return false;
		put_uint(c, d[0]);
		put_char(c, ' ');
		put_uint(c, d[1]);
		put_char(c, ' ');
		put_uint(c, get_u16(d + 2));
		put_char(c, ' ');
		if (d[4] == 0)
			put_char(c, '-');
		else
			put_hex(c, d + 5, d[4]);
		put_char(c, ' ');
		put_base32hex(c, d + n + 1, d[n]);
		put_bitmap(c, d + n + 1 + d[n], len - n - 1 - d[n]);
		return true;
	default:
		return false;
	}
}

/*
 * Upper bound of the text of any RDATA above: a name byte becomes at most
 * 4 characters, a TXT byte too, and a bitmap byte at most 8 type names.
 */
static size_t
rdata_room(uint16_t type, size_t len)
{
	if (type == DZ_TYPE_NSEC || type == DZ_TYPE_NSEC3)
		return len * (TEXT_PER_BYTE + 8 * TYPE_TEXT_MAX) + 64;
	return len * TEXT_PER_BYTE + 128;
}

size_t
dz_print_name(const uint8_t *wire, char *text)
{
	dz_wire_name_to_text(wire, text, DZ_NAME_TEXT_MAX);
	return strlen(text);
}

size_t
dz_print_type_name(uint16_t type, char buf[16])
{
	static const char *const common[] = {
		[DZ_TYPE_A] = "A",	       [DZ_TYPE_NS] = "NS",	    [DZ_TYPE_CNAME] = "CNAME",
		[DZ_TYPE_SOA] = "SOA",	       [TYPE_PTR] = "PTR",	    [DZ_TYPE_MX] = "MX",
		[DZ_TYPE_TXT] = "TXT",	       [DZ_TYPE_AAAA] = "AAAA",	    [TYPE_SRV] = "SRV",
		[DZ_TYPE_DNAME] = "DNAME",     [DZ_TYPE_DS] = "DS",	    [DZ_TYPE_RRSIG] = "RRSIG",
		[DZ_TYPE_NSEC] = "NSEC",       [DZ_TYPE_DNSKEY] = "DNSKEY", [DZ_TYPE_NSEC3] = "NSEC3",
		[DZ_TYPE_NSEC3PARAM] = "NSEC3PARAM", [DZ_TYPE_TLSA] = "TLSA", [TYPE_SMIMEA] = "SMIMEA",
		[DZ_TYPE_CDS] = "CDS",	       [DZ_TYPE_CDNSKEY] = "CDNSKEY", [TYPE_OPENPGPKEY] = "OPENPGPKEY",
	};
	const char *name = type < DZ_ARRAY_SIZE(common) ? common[type] : NULL;
	const ldns_rr_descriptor *d;
	cursor_t c = { buf };

	if (name == NULL) {
		/* ldns describes unknown types as NULL or "TYPEnnn"; those get the generic form. */
		d = ldns_rr_descript(type);
		if (d != NULL && d->_name != NULL && d->_type == type && strncmp(d->_name, "TYPE", 4) != 0 &&
		    strlen(d->_name) < 16)
			name = d->_name;
	}
	if (name != NULL) {
		size_t len = strlen(name);
		memcpy(buf, name, len + 1);
		return len;
	}
	put_text(&c, "TYPE", 4);
	put_uint(&c, type);
	*c.p = '\0';
	return (size_t)(c.p - buf);
}

/* Print the RDATA with ldns: the whole RR with the root as owner, then cut the owner off. */
static dz_result_t
print_with_ldns(dz_buf_t *out, uint16_t type, uint32_t ttl, const uint8_t *rdata, size_t rdata_len)
{
	uint8_t head[11] = { 0, (uint8_t)(type >> 8), (uint8_t)type, 0, DZ_CLASS_IN,
			     (uint8_t)(ttl >> 24), (uint8_t)(ttl >> 16), (uint8_t)(ttl >> 8),
			     (uint8_t)ttl, (uint8_t)(rdata_len >> 8), (uint8_t)rdata_len };
	dz_buf_t wire;
	ldns_rr *rr = NULL;
	ldns_buffer *text = NULL;
	size_t pos = 0;
	dz_result_t result = DZ_EINVAL;

	dz_buf_init(&wire);
	if (rdata_len > UINT16_MAX)
		goto cleanup;
	if (dz_buf_append(&wire, head, sizeof(head)) != DZ_OK ||
	    dz_buf_append(&wire, rdata, rdata_len) != DZ_OK) {
		result = DZ_ENOMEM;
		goto cleanup;
	}
	if (ldns_wire2rr(&rr, wire.data, wire.len, &pos, LDNS_SECTION_ANSWER) != LDNS_STATUS_OK ||
	    pos != wire.len)
		goto cleanup;
	text = ldns_buffer_new(256 + 4 * rdata_len);
	if (text == NULL) {
		result = DZ_ENOMEM;
		goto cleanup;
	}
	if (ldns_rr2buffer_str_fmt(text, ldns_output_format_nocomments, rr) != LDNS_STATUS_OK ||
	    ldns_buffer_position(text) < 2 || ldns_buffer_begin(text)[0] != '.')
		goto cleanup;
	/* Everything after the root owner's ".": TTL, class, type, RDATA and the newline. */
	result = dz_buf_append(out, ldns_buffer_begin(text) + 1, ldns_buffer_position(text) - 1);
cleanup:
	ldns_buffer_free(text);
	ldns_rr_free(rr);
	dz_buf_clear(&wire);
	return result;
}

dz_result_t
dz_print_rr(dz_buf_t *out, const char *owner, size_t owner_len, uint16_t type, uint32_t ttl,
	    const uint8_t *rdata, size_t rdata_len)
{
	size_t start = out->len;
	cursor_t c;
	dz_result_t result;

	result = dz_buf_reserve(out, owner_len + 48 + rdata_room(type, rdata_len));
	if (result != DZ_OK)
		return result;
	c.p = (char *)out->data + out->len;
	put_text(&c, owner, owner_len);
	put_char(&c, '\t');
	put_uint(&c, ttl);
	put_text(&c, "\tIN\t", 4);
	put_type(&c, type);
	put_char(&c, '\t');
	if (put_rdata(&c, type, rdata, rdata_len)) {
		put_char(&c, '\n');
		out->len = (size_t)(c.p - (char *)out->data);
		return DZ_OK;
	}
	/* ldns prints everything from the TAB after the owner. */
	out->len = start;
	result = dz_buf_append(out, owner, owner_len);
	if (result == DZ_OK)
		result = print_with_ldns(out, type, ttl, rdata, rdata_len);
	if (result != DZ_OK)
		out->len = start;
	return result;
}

dz_result_t
dz_print_wire_rr(dz_buf_t *out, const uint8_t *rr, size_t len)
{
	char owner[DZ_NAME_TEXT_MAX];
	size_t owner_len = dz_wire_name_len(rr, len);
	const uint8_t *p = rr + owner_len;
	uint16_t rdata_len;

	if (owner_len == 0 || owner_len + 10 > len)
		return DZ_EINVAL;
	rdata_len = get_u16(p + 8);
	if (get_u16(p + 2) != DZ_CLASS_IN || owner_len + 10 + (size_t)rdata_len != len)
		return DZ_EINVAL;
	return dz_print_rr(out, owner, dz_print_name(rr, owner), get_u16(p), get_u32(p + 4), p + 10,
			   rdata_len);
}
