#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signer/acl.h"

void
dz_acl_init(dz_acl_t *acl)
{
	acl->rules = NULL;
	acl->count = 0;
}

void
dz_acl_clear(dz_acl_t *acl)
{
	free(acl->rules);
	dz_acl_init(acl);
}

dz_result_t
dz_acl_add(dz_acl_t *acl, const char *text, dz_error_t *err)
{
	dz_acl_rule_t rule;
	char address[INET6_ADDRSTRLEN + 8];
	char key_word[8];
	char key_name[4 * DZ_WIRE_NAME_MAX + 1];
	const char *p = text;

	memset(&rule, 0, sizeof(rule));
	while (*p == ' ')
		p++;
	if (*p == '!') {
		rule.deny = true;
		p++;
	}
	int fields = sscanf(p, "%53s %7s %1020s", address, key_word, key_name);
	if (fields != 1 && !(fields == 3 && strcmp(key_word, "key") == 0))
		return dz_error_set(err, DZ_EINVAL,
				    "invalid access rule '%s'; expected [!]ADDRESS[/PREFIX] [key NAME]",
				    text);

	char *slash = strchr(address, '/');
	long prefix = -1;
	if (slash != NULL) {
		char *end = NULL;
		*slash = '\0';
		prefix = strtol(slash + 1, &end, 10);
		if (end == slash + 1 || *end != '\0' || prefix < 0)
			return dz_error_set(err, DZ_EINVAL, "invalid prefix length in access rule '%s'",
					    text);
	}
	if (inet_pton(AF_INET, address, rule.address) == 1) {
		rule.family = AF_INET;
		if (prefix > 32)
			return dz_error_set(err, DZ_EINVAL, "IPv4 prefix longer than 32 in access rule '%s'",
					    text);
		rule.prefix_len = prefix < 0 ? 32 : (unsigned)prefix;
	} else if (inet_pton(AF_INET6, address, rule.address) == 1) {
		rule.family = AF_INET6;
		if (prefix > 128)
			return dz_error_set(err, DZ_EINVAL,
					    "IPv6 prefix longer than 128 in access rule '%s'", text);
		rule.prefix_len = prefix < 0 ? 128 : (unsigned)prefix;
	} else {
		return dz_error_set(err, DZ_EINVAL, "invalid address '%s' in access rule '%s'",
				    address, text);
	}
	if (fields == 3) {
		rule.key_name_len = dz_wire_name_from_text(key_name, rule.key_name);
		if (rule.key_name_len == 0)
			return dz_error_set(err, DZ_EINVAL, "invalid key name '%s' in access rule '%s'",
					    key_name, text);
		rule.has_key = true;
	}

	dz_acl_rule_t *rules = realloc(acl->rules, (acl->count + 1) * sizeof(*rules));
	if (rules == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	rules[acl->count++] = rule;
	acl->rules = rules;
	return DZ_OK;
}

/* Whether the first `bits` bits of a and b are equal. */
static bool
prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned bytes = bits / 8;
	unsigned rest = bits % 8;

	if (memcmp(a, b, bytes) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[bytes] & mask) == (b[bytes] & mask);
}

bool
dz_acl_allows(const dz_acl_t *acl, const struct sockaddr *source, const uint8_t *key_name)
{
	uint8_t address[16];
	int family = source->sa_family;

	if (family == AF_INET) {
		memcpy(address, &((const struct sockaddr_in *)source)->sin_addr, 4);
	} else if (family == AF_INET6) {
		const uint8_t *v6 = (const uint8_t *)&((const struct sockaddr_in6 *)source)->sin6_addr;
		static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		if (memcmp(v6, mapped, sizeof(mapped)) == 0) {
			family = AF_INET;
			memcpy(address, v6 + 12, 4);
		} else {
			memcpy(address, v6, 16);
		}
	} else {
		return false;
	}

	for (size_t i = 0; i < acl->count; i++) {
		const dz_acl_rule_t *rule = &acl->rules[i];
		if (rule->family != family || !prefix_equal(rule->address, address, rule->prefix_len))
			continue;
		if (rule->has_key && (key_name == NULL || !dz_wire_name_equal(rule->key_name, key_name)))
			continue;
		return !rule->deny;
	}
	return false;
}
