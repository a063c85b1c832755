/*
 * name.h -- domain names as tree keys in canonical DNS order.
 *
 * The zone tree stores every owner name as a "key": the labels of the
 * lower-case wire form in reverse order (top-level label first), each label
 * as a length byte followed by its bytes, without the root label.  A key is
 * as long as the wire form minus one byte.  Two properties make it the
 * tree's key:
 *   - dz_name_key_compare() walks labels from the top and yields the
 *     canonical order of RFC 4034 section 6.1 in one pass;
 *   - a name is at or below another exactly when the other's key is a byte
 *     prefix of its key, because both parse into the same labels up to there.
 */
#ifndef DZ_SIGNER_NAME_H
#define DZ_SIGNER_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest wire-form name (RFC 1035 section 2.3.4) and largest key. */
#define DZ_NAME_WIRE_MAX 255
#define DZ_NAME_KEY_MAX (DZ_NAME_WIRE_MAX - 1)
/* Largest presentation form: every byte escaped as \DDD, plus dots and NUL. */
#define DZ_NAME_TEXT_MAX (4 * DZ_NAME_WIRE_MAX + 2)

/*
 * Convert an uncompressed wire name of `wire_len` bytes into a key, lower
 * casing ASCII letters.  `key` needs DZ_NAME_KEY_MAX bytes.  Returns the key
 * length, or -1 when the wire form is malformed (bad label lengths, no root
 * label, longer than 255 bytes).
 */
int dz_name_key_from_wire(const uint8_t *wire, size_t wire_len, uint8_t *key);

/*
 * Convert a key back into a wire name (with the root label).  `wire` needs
 * key_len + 1 bytes.  Returns the wire length.
 */
size_t dz_name_wire_from_key(const uint8_t *key, size_t key_len, uint8_t *wire);

/* Canonical order (RFC 4034 section 6.1): <0, 0 or >0 like memcmp. */
int dz_name_key_compare(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len);

/* Whether `name` is `ancestor` or below it. */
static inline bool
dz_name_key_is_at_or_below(const uint8_t *name, size_t name_len, const uint8_t *ancestor,
			   size_t ancestor_len)
{
	size_t i;

	if (ancestor_len > name_len)
		return false;
	for (i = 0; i < ancestor_len; i++) {
		if (name[i] != ancestor[i])
			return false;
	}
	return true;
}

/* Number of labels of a key, not counting the root label. */
unsigned dz_name_key_labels(const uint8_t *key, size_t key_len);

/*
 * Length of the key of the parent name (the key without its last label,
 * which is the leftmost label of the name).  `key_len` must be > 0.
 */
size_t dz_name_key_parent_len(const uint8_t *key, size_t key_len);

/* Whether the leftmost label is "*" (a wildcard owner, RFC 4592). */
bool dz_name_key_is_wildcard(const uint8_t *key, size_t key_len);

/*
 * Write the presentation form with a trailing dot ("www.example.com.") into
 * `text` of DZ_NAME_TEXT_MAX bytes, escaping as RFC 1035 section 5.1 does.
 * Returns text.
 */
const char *dz_name_key_to_text(const uint8_t *key, size_t key_len, char *text);

/* The same for a wire name. */
const char *dz_name_wire_to_text(const uint8_t *wire, size_t wire_len, char *text);

/* Length of a wire name starting at `wire`, or 0 if malformed within `max` bytes. */
size_t dz_name_wire_length(const uint8_t *wire, size_t max);

/* Lower-case ASCII letters of a wire name in place. */
void dz_name_wire_lower(uint8_t *wire, size_t wire_len);

#endif
