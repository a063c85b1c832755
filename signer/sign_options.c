#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/duration.h"
#include "common/mem.h"
#include "signer/serial.h"
#include "signer/sign_options.h"

typedef enum option_kind {
	KIND_DURATION, /* int64_t seconds */
	KIND_TTL,      /* uint32_t seconds */
	KIND_U16,
	KIND_BOOL,
	KIND_DENIAL,
	KIND_SALT,
	KIND_SERIAL,
	KIND_DIGESTS,
} option_kind_t;

static const struct option {
	const char *name;
	option_kind_t kind;
	size_t offset;
	const char *value;
	const char *help;
} options[] = {
	{ "denial", KIND_DENIAL, offsetof(dz_policy_t, denial), "nsec|nsec3",
	  "authenticated denial of existence (default nsec3)" },
	{ "nsec3-iterations", KIND_U16, offsetof(dz_policy_t, nsec3_iterations), "N",
	  "extra NSEC3 hash iterations (default 0, as RFC 9276 advises)" },
	{ "nsec3-salt", KIND_SALT, 0, "HEX|-", "NSEC3 salt in hex, '-' for none (default none)" },
	{ "nsec3-opt-out", KIND_BOOL, offsetof(dz_policy_t, nsec3_opt_out), "yes|no",
	  "leave delegations without DS out of the NSEC3 chain (default no)" },
	{ "signature-validity", KIND_DURATION, offsetof(dz_policy_t, signature_validity), "DURATION",
	  "RRSIG validity period (default 14d)" },
	{ "signature-validity-dnskey", KIND_DURATION, offsetof(dz_policy_t, signature_validity_dnskey),
	  "DURATION", "RRSIG validity for DNSKEY, CDS and CDNSKEY (default 14d)" },
	{ "signature-refresh", KIND_DURATION, offsetof(dz_policy_t, signature_refresh), "DURATION",
	  "re-sign when less validity than this remains (default 5d)" },
	{ "signature-jitter", KIND_DURATION, offsetof(dz_policy_t, signature_jitter), "DURATION",
	  "spread expirations up to this much earlier (default 12h)" },
	{ "signature-inception-offset", KIND_DURATION,
	  offsetof(dz_policy_t, signature_inception_offset), "DURATION",
	  "set the inception this far in the past (default 1h)" },
	{ "serial-policy", KIND_SERIAL, offsetof(dz_policy_t, serial_policy),
	  "keep|increment|unixtime|datecounter", "how the SOA serial moves (default increment)" },
	{ "max-zone-ttl", KIND_TTL, offsetof(dz_policy_t, max_zone_ttl), "SECONDS",
	  "reject records with a larger TTL, 0 for no limit (default 86400)" },
	{ "dnskey-ttl", KIND_TTL, offsetof(dz_policy_t, dnskey_ttl), "SECONDS",
	  "TTL of DNSKEY, CDS and CDNSKEY (default 3600)" },
	{ "cds-digest-types", KIND_DIGESTS, 0, "LIST",
	  "CDS digest types, comma-separated: 2 (SHA-256), 4 (SHA-384) (default 2)" },
	{ "publish-cdnskey", KIND_BOOL, offsetof(dz_policy_t, publish_cdnskey), "yes|no",
	  "publish CDNSKEY beside CDS (default yes)" },
};

static const struct option *
find(const char *name)
{
	for (size_t i = 0; i < DZ_ARRAY_SIZE(options); i++) {
		if (strcmp(options[i].name, name) == 0)
			return &options[i];
	}
	return NULL;
}

bool
dz_sign_option_exists(const char *name)
{
	return find(name) != NULL;
}

static bool
parse_bool(const char *text, bool *out)
{
	if (strcasecmp(text, "yes") == 0 || strcasecmp(text, "true") == 0 || strcmp(text, "1") == 0 ||
	    strcasecmp(text, "on") == 0) {
		*out = true;
		return true;
	}
	if (strcasecmp(text, "no") == 0 || strcasecmp(text, "false") == 0 || strcmp(text, "0") == 0 ||
	    strcasecmp(text, "off") == 0) {
		*out = false;
		return true;
	}
	return false;
}

static bool
parse_unsigned(const char *text, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long value;

	if (text[0] < '0' || text[0] > '9')
		return false;
	errno = 0;
	value = strtoul(text, &end, 10);
	if (errno != 0 || *end != '\0' || value > max)
		return false;
	*out = value;
	return true;
}

dz_result_t
dz_sign_option_set(dz_policy_t *policy, const char *name, const char *value, dz_error_t *err)
{
	const struct option *o = find(name);
	char *field;
	unsigned long number;
	int64_t seconds;
	bool flag;

	if (o == NULL)
		return dz_error_set(err, DZ_ENOTFOUND, "unknown policy value '%s'", name);
	field = (char *)policy + o->offset;
	switch (o->kind) {
	case KIND_DURATION:
		if (dz_duration_parse(value, &seconds, err) != DZ_OK)
			return dz_error_prefix(err, "%s", name);
		memcpy(field, &seconds, sizeof(seconds));
		return DZ_OK;
	case KIND_TTL:
		if (!parse_unsigned(value, 0x7fffffffUL, &number))
			goto invalid;
		*(uint32_t *)(void *)field = (uint32_t)number;
		return DZ_OK;
	case KIND_U16:
		if (!parse_unsigned(value, 65535, &number))
			goto invalid;
		*(uint16_t *)(void *)field = (uint16_t)number;
		return DZ_OK;
	case KIND_BOOL:
		if (!parse_bool(value, &flag))
			goto invalid;
		*(bool *)(void *)field = flag;
		return DZ_OK;
	case KIND_DENIAL:
		if (strcasecmp(value, "nsec") == 0)
			policy->denial = DZ_DENIAL_NSEC;
		else if (strcasecmp(value, "nsec3") == 0)
			policy->denial = DZ_DENIAL_NSEC3;
		else
			goto invalid;
		return DZ_OK;
	case KIND_SALT: {
		long len = 0;
		if (strcmp(value, "-") != 0) {
			len = dz_hex_decode(value, strlen(value), policy->nsec3_salt, DZ_NSEC3_SALT_MAX);
			if (len < 0)
				goto invalid;
		}
		policy->nsec3_salt_len = (uint8_t)len;
		return DZ_OK;
	}
	case KIND_SERIAL:
		if (!dz_serial_policy_parse(value, &policy->serial_policy))
			goto invalid;
		return DZ_OK;
	case KIND_DIGESTS: {
		char copy[64];
		char *save = NULL;
		size_t count = 0;
		if (strlen(value) >= sizeof(copy))
			goto invalid;
		strcpy(copy, value);
		for (char *tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
			if (count == DZ_POLICY_MAX_DIGESTS || !parse_unsigned(tok, 255, &number) ||
			    (number != DZ_DIGEST_SHA256 && number != DZ_DIGEST_SHA384))
				goto invalid;
			policy->cds_digest_types[count++] = (uint8_t)number;
		}
		policy->cds_digest_count = count;
		return DZ_OK;
	}
	}
invalid:
	return dz_error_set(err, DZ_EINVAL, "invalid value '%s' for %s: expected %s", value, name,
			    o->value);
}

const char *
dz_sign_option_name(size_t i)
{
	return i < DZ_ARRAY_SIZE(options) ? options[i].name : NULL;
}

void
dz_sign_options_usage(FILE *out)
{
	for (size_t i = 0; i < DZ_ARRAY_SIZE(options); i++) {
		char flag[80];
		snprintf(flag, sizeof(flag), "--%s %s", options[i].name, options[i].value);
		fprintf(out, "  %-44s %s\n", flag, options[i].help);
	}
}
