#include "config.h"

#include <string.h>

#include "signer/name.h"
#include "signer/wire.h"

static inline uint8_t
lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
}

size_t
dz_name_wire_length(const uint8_t *wire, size_t max)
{
	return dz_wire_name_len(wire, max);
}

void
dz_name_wire_lower(uint8_t *wire, size_t wire_len)
{
	size_t pos = 0;

	while (pos < wire_len && wire[pos] != 0) {
		size_t len = wire[pos];
		for (size_t i = 1; i <= len && pos + i < wire_len; i++)
			wire[pos + i] = lower(wire[pos + i]);
		pos += 1 + len;
	}
}

int
dz_name_key_from_wire(const uint8_t *wire, size_t wire_len, uint8_t *key)
{
	size_t offsets[128];
	size_t count = 0;
	size_t pos = 0;
	size_t out = 0;

	if (wire_len == 0 || wire_len > DZ_NAME_WIRE_MAX || dz_name_wire_length(wire, wire_len) != wire_len)
		return -1;
	while (wire[pos] != 0) {
		offsets[count++] = pos;
		pos += 1 + (size_t)wire[pos];
	}
	while (count > 0) {
		size_t start = offsets[--count];
		size_t len = wire[start];
		key[out++] = (uint8_t)len;
		for (size_t i = 1; i <= len; i++)
			key[out++] = lower(wire[start + i]);
	}
	return (int)out;
}

size_t
dz_name_wire_from_key(const uint8_t *key, size_t key_len, uint8_t *wire)
{
	size_t offsets[128];
	size_t count = 0;
	size_t pos = 0;
	size_t out = 0;

	while (pos < key_len) {
		offsets[count++] = pos;
		pos += 1 + (size_t)key[pos];
	}
	while (count > 0) {
		size_t start = offsets[--count];
		size_t len = (size_t)key[start] + 1;
		memcpy(wire + out, key + start, len);
		out += len;
	}
	wire[out++] = 0;
	return out;
}

int
dz_name_key_compare(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
	size_t pa = 0;
	size_t pb = 0;

	while (pa < a_len && pb < b_len) {
		size_t la = a[pa];
		size_t lb = b[pb];
		size_t common = la < lb ? la : lb;
		int cmp = memcmp(a + pa + 1, b + pb + 1, common);

		if (cmp != 0)
			return cmp;
		if (la != lb)
			return la < lb ? -1 : 1;
		pa += 1 + la;
		pb += 1 + lb;
	}
	/* The name with fewer labels is the ancestor and sorts first. */
	if (pa < a_len)
		return 1;
	if (pb < b_len)
		return -1;
	return 0;
}

unsigned
dz_name_key_labels(const uint8_t *key, size_t key_len)
{
	unsigned count = 0;

	for (size_t pos = 0; pos < key_len; pos += 1 + (size_t)key[pos])
		count++;
	return count;
}

size_t
dz_name_key_parent_len(const uint8_t *key, size_t key_len)
{
	size_t pos = 0;
	size_t last = 0;

	while (pos < key_len) {
		last = pos;
		pos += 1 + (size_t)key[pos];
	}
	return last;
}

bool
dz_name_key_is_wildcard(const uint8_t *key, size_t key_len)
{
	size_t last;

	if (key_len == 0)
		return false;
	last = dz_name_key_parent_len(key, key_len);
	return key[last] == 1 && key[last + 1] == '*';
}

const char *
dz_name_wire_to_text(const uint8_t *wire, size_t wire_len, char *text)
{
	if (wire_len == 0 || dz_wire_name_len(wire, wire_len) == 0) {
		strcpy(text, "?");
		return text;
	}
	dz_wire_name_to_text(wire, text, DZ_NAME_TEXT_MAX);
	return text;
}

const char *
dz_name_key_to_text(const uint8_t *key, size_t key_len, char *text)
{
	uint8_t wire[DZ_NAME_WIRE_MAX];
	size_t wire_len = dz_name_wire_from_key(key, key_len, wire);

	return dz_name_wire_to_text(wire, wire_len, text);
}
