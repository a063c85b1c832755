#include "config.h"

#include <stdio.h>
#include <string.h>

#include <idn2.h>
#include <openssl/evp.h>

#include "common/mem.h"
#include "zones/dname.h"

static bool
is_ascii(const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
		if (*p >= 0x80)
			return false;
	}
	return true;
}

static bool
is_letter_or_digit(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Check the labels of a lower-case ASCII name without trailing dot. */
static dz_result_t
check_labels(const char *original, const char *name, unsigned flags, dz_error_t *err)
{
	const char *label = name;

	if (strlen(name) > DZ_DNAME_TEXT_MAX - 1)
		return dz_error_set(err, DZ_EINVAL, "name '%s' is longer than 253 characters",
				    original);
	while (true) {
		const char *end = strchr(label, '.');
		size_t len = end != NULL ? (size_t)(end - label) : strlen(label);
		if (len == 0)
			return dz_error_set(err, DZ_EINVAL,
					    "name '%s' has an empty label; remove the doubled or "
					    "leading dot", original);
		if (len > 63)
			return dz_error_set(err, DZ_EINVAL,
					    "name '%s' has a label longer than 63 characters", original);
		for (size_t i = 0; i < len; i++) {
			char c = label[i];
			bool ok = is_letter_or_digit(c) || c == '-' || (c == '_' && !(flags & DZ_DNAME_HOSTNAME));
			if (!ok)
				return dz_error_set(err, DZ_EINVAL,
						    "name '%s' contains '%c'; use letters, digits and "
						    "hyphens%s", original, c,
						    flags & DZ_DNAME_HOSTNAME ? "" : " (or underscores)");
		}
		if ((flags & DZ_DNAME_HOSTNAME) && (label[0] == '-' || label[len - 1] == '-'))
			return dz_error_set(err, DZ_EINVAL,
					    "host name '%s' has a label that starts or ends with a hyphen",
					    original);
		if (end == NULL)
			break;
		label = end + 1;
	}
	return DZ_OK;
}

dz_result_t
dz_dname_normalize(const char *text, unsigned flags, char out[DZ_DNAME_TEXT_MAX], dz_error_t *err)
{
	char work[4 * DZ_DNAME_TEXT_MAX];
	size_t len = strlen(text);
	dz_result_t result;

	if (strcmp(text, ".") == 0) {
		memcpy(out, ".", 2);
		return DZ_OK;
	}
	if (len == 0)
		return dz_error_set(err, DZ_EINVAL, "empty name; give a domain name");
	if (len >= sizeof(work))
		return dz_error_set(err, DZ_EINVAL, "name '%.40s...' is too long", text);
	memcpy(work, text, len + 1);
	if (work[len - 1] == '.')
		work[--len] = '\0';

	if (!is_ascii(work)) {
		uint8_t *ascii = NULL;
		int rc = idn2_lookup_u8((const uint8_t *)work, &ascii,
					IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
		if (rc != IDN2_OK)
			return dz_error_set(err, DZ_EINVAL,
					    "name '%s' is not a valid internationalised domain name: %s",
					    text, idn2_strerror(rc));
		size_t ascii_len = strlen((const char *)ascii);
		if (ascii_len >= sizeof(work)) {
			idn2_free(ascii);
			return dz_error_set(err, DZ_EINVAL, "name '%s' is too long", text);
		}
		memcpy(work, ascii, ascii_len + 1);
		idn2_free(ascii);
	}
	for (char *p = work; *p != '\0'; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	}
	result = check_labels(text, work, flags, err);
	if (result != DZ_OK)
		return result;
	memcpy(out, work, strlen(work) + 1);
	return DZ_OK;
}

bool
dz_dname_in_zone(const char *name, const char *zone)
{
	size_t name_len = strlen(name);
	size_t zone_len = strlen(zone);

	if (strcmp(zone, ".") == 0)
		return true;
	if (strcmp(name, zone) == 0)
		return true;
	return name_len > zone_len && name[name_len - zone_len - 1] == '.' &&
	       strcmp(name + name_len - zone_len, zone) == 0;
}

size_t
dz_dname_label_count(const char *name)
{
	size_t count = 1;

	if (strcmp(name, ".") == 0)
		return 0;
	for (const char *p = name; *p != '\0'; p++) {
		if (*p == '.')
			count++;
	}
	return count;
}

/* Append "DOMAIN." to a prefix that ends with a dot; the root adds nothing. */
static bool
finish_owner(char *out, size_t size, int used, const char *domain)
{
	if (used < 0 || (size_t)used >= size)
		return false;
	int n = strcmp(domain, ".") == 0 ? 0 : snprintf(out + used, size - (size_t)used, "%s.", domain);
	if (n < 0 || (size_t)(used + n) >= size)
		return false;
	return (size_t)(used + n) <= DZ_DNAME_TEXT_MAX;
}

bool
dz_dname_tlsa_owner(uint16_t port, const char *proto, const char *host, char *out, size_t size)
{
	int used = snprintf(out, size, "_%u._%s.", (unsigned)port, proto);
	return finish_owner(out, size, used, host);
}

bool
dz_dname_mailbox_owner(const uint8_t *local, size_t local_len, const char *label,
		       const char *domain, char *out, size_t size)
{
	uint8_t digest[32];
	char hex[2 * sizeof(digest) + 1];
	unsigned digest_len = 0;

	if (EVP_Digest(local, local_len, digest, &digest_len, EVP_sha256(), NULL) != 1)
		return false;
	dz_hex_encode(digest, DZ_MAILBOX_HASH_HEX / 2, hex);
	int used = snprintf(out, size, "%s.%s.", hex, label);
	return finish_owner(out, size, used, domain);
}
