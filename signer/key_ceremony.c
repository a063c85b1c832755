#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/file.h"
#include "common/policy.h"
#include "hsm/dnskey.h"
#include "signer/key_ceremony.h"

dz_result_t
dz_ceremony_init(dz_ceremony_t *ceremony, const char *command, const dz_token_options_t *options,
		 dz_time_t now, dz_error_t *err)
{
	dz_buf_t path;

	memset(ceremony, 0, sizeof(*ceremony));
	ceremony->command = command;
	ceremony->options = *options;
	ceremony->state_dir = dz_token_options_state_dir(options);
	dz_buf_init(&ceremony->audit_ds);
	dz_hsm_audit_entry_init(&ceremony->audit, now, command);

	dz_result_t result = dz_mkdir_p(ceremony->state_dir, 0750, err);
	if (result != DZ_OK)
		return dz_error_prefix(err, "state folder (--state-dir)");
	dz_buf_init(&path);
	if (dz_buf_printf(&path, "%s/%s", ceremony->state_dir, DZ_HSM_AUDIT_LOG_NAME) != DZ_OK) {
		dz_buf_clear(&path);
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	}
	ceremony->audit_path = (char *)path.data;
	return DZ_OK;
}

dz_result_t
dz_ceremony_open_token(dz_ceremony_t *ceremony, dz_error_t *err)
{
	dz_hsm_config_t config;
	char *registry_path = NULL;
	dz_result_t result;

	dz_token_options_config(&ceremony->options, 1, &config);
	ceremony->audit.token = ceremony->options.token;
	result = dz_hsm_create(&config, &ceremony->hsm, err);
	if (result != DZ_OK)
		return result;
	const dz_hsm_token_info_t *token = dz_hsm_token(ceremony->hsm);
	ceremony->audit.token = token->label;
	ceremony->audit.serial = token->serial;

	result = dz_hsm_registry_path(ceremony->state_dir, token, &registry_path, err);
	if (result == DZ_OK)
		result = dz_hsm_registry_open(&ceremony->registry, registry_path, err);
	free(registry_path);
	if (result != DZ_OK) {
		dz_hsm_destroy(ceremony->hsm);
		ceremony->hsm = NULL;
		return result;
	}
	snprintf(ceremony->registry_title, sizeof(ceremony->registry_title),
		 "keys of PKCS#11 token '%s' (serial %s)", token->label, token->serial);
	return DZ_OK;
}

dz_result_t
dz_ceremony_save_registry(dz_ceremony_t *ceremony, dz_error_t *err)
{
	return dz_hsm_registry_save(&ceremony->registry, ceremony->registry_title, err);
}

dz_result_t
dz_ceremony_finish(dz_ceremony_t *ceremony, dz_result_t result, dz_error_t *err)
{
	dz_error_t audit_err;
	char message[DZ_ERROR_MESSAGE_MAX + 16];

	if (result == DZ_OK) {
		ceremony->audit.result = "ok";
	} else {
		snprintf(message, sizeof(message), "failed: %s", dz_error_message(err));
		ceremony->audit.result = message;
	}
	if (ceremony->audit_ds.len > 0)
		ceremony->audit.ds = (const char *)ceremony->audit_ds.data;
	if (ceremony->audit_path != NULL) {
		dz_error_init(&audit_err);
		dz_result_t audit_result = dz_hsm_audit_append(ceremony->audit_path, &ceremony->audit,
							       &audit_err);
		if (audit_result != DZ_OK && result == DZ_OK) {
			result = dz_error_set(err, audit_result,
					      "the step succeeded, but writing the audit log failed: "
					      "%s", dz_error_message(&audit_err));
		}
	}

	dz_hsm_registry_close(&ceremony->registry);
	dz_hsm_destroy(ceremony->hsm);
	free(ceremony->audit_path);
	free(ceremony->audit_zone);
	dz_buf_clear(&ceremony->audit_ds);
	memset(ceremony, 0, sizeof(*ceremony));
	return result;
}

void
dz_ceremony_audit_key(dz_ceremony_t *ceremony, const dz_hsm_key_record_t *record)
{
	free(ceremony->audit_zone);
	ceremony->audit_zone = strdup(record->zone);
	ceremony->audit.zone = ceremony->audit_zone;
	ceremony->audit.role = dz_role_name(record->role);
	ceremony->audit.algorithm = dz_algorithm_name(record->algorithm);
	ceremony->audit.key_tag = record->key_tag;
	dz_hex_encode(record->id, record->id_len, ceremony->audit_id);
	ceremony->audit.key_id = ceremony->audit_id;
}

void
dz_ceremony_audit_ds(dz_ceremony_t *ceremony, const char *ds)
{
	if (ceremony->audit_ds.len > 0)
		dz_buf_printf(&ceremony->audit_ds, "; ");
	dz_buf_printf(&ceremony->audit_ds, "%s", ds);
}

void
dz_key_selector_init(dz_key_selector_t *selector)
{
	memset(selector, 0, sizeof(*selector));
	selector->key_tag = -1;
}

void
dz_key_selector_clear(dz_key_selector_t *selector)
{
	free(selector->zone);
	dz_key_selector_init(selector);
}

dz_result_t
dz_key_selector_zone(dz_key_selector_t *selector, const char *zone, dz_error_t *err)
{
	free(selector->zone);
	selector->zone = NULL;
	return dz_hsm_canonical_name(zone, &selector->zone, err);
}

dz_result_t
dz_key_selector_id(dz_key_selector_t *selector, const char *hex, dz_error_t *err)
{
	long len = dz_hex_decode(hex, strlen(hex), selector->id, sizeof(selector->id));

	if (len <= 0)
		return dz_error_set(err, DZ_EINVAL,
				    "--id '%s' is not a key id: give 1 to %d bytes in hex, as "
				    "'danezone key list' shows them", hex, DZ_KEY_ID_MAX);
	selector->id_len = (size_t)len;
	return DZ_OK;
}

static bool
selector_matches(const dz_key_selector_t *selector, const dz_hsm_key_record_t *record)
{
	if (selector->zone != NULL && strcmp(selector->zone, record->zone) != 0)
		return false;
	if (selector->id_len > 0 && (selector->id_len != record->id_len ||
				     memcmp(selector->id, record->id, record->id_len) != 0))
		return false;
	if (selector->key_tag >= 0 && selector->key_tag != record->key_tag)
		return false;
	if (selector->ksk_only && (record->role & DZ_ROLE_KSK) == 0)
		return false;
	return true;
}

dz_result_t
dz_ceremony_select(dz_ceremony_t *ceremony, const dz_key_selector_t *selector,
		   dz_hsm_key_record_t ***records, size_t *count, dz_error_t *err)
{
	dz_hsm_registry_t *registry = &ceremony->registry;
	dz_hsm_key_record_t **matches = calloc(registry->count + 1, sizeof(*matches));
	size_t n = 0;
	char hex[2 * DZ_KEY_ID_MAX + 1];
	char tag[16];

	if (matches == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	for (size_t i = 0; i < registry->count; i++) {
		if (selector_matches(selector, &registry->records[i]))
			matches[n++] = &registry->records[i];
	}
	if (n == 0) {
		free(matches);
		dz_hex_encode(selector->id, selector->id_len, hex);
		snprintf(tag, sizeof(tag), "%d", selector->key_tag);
		return dz_error_set(err, DZ_EHSM_KEY,
				    "no registered %skey%s%s%s%s%s%s for token '%s'; 'danezone key "
				    "list' shows the registered keys",
				    selector->ksk_only ? "KSK or CSK " : "",
				    selector->zone != NULL ? " of zone " : "",
				    selector->zone != NULL ? selector->zone : "",
				    selector->key_tag >= 0 ? " with key tag " : "",
				    selector->key_tag >= 0 ? tag : "",
				    selector->id_len > 0 ? " with id " : "",
				    selector->id_len > 0 ? hex : "",
				    dz_hsm_token(ceremony->hsm)->label);
	}
	*records = matches;
	*count = n;
	return DZ_OK;
}

uint16_t
dz_ceremony_dnskey_flags(dz_key_role_t role)
{
	return (role & DZ_ROLE_KSK) != 0 ? DZ_DNSKEY_FLAG_ZONE | DZ_DNSKEY_FLAG_SEP :
					   DZ_DNSKEY_FLAG_ZONE;
}

dz_result_t
dz_ceremony_dnskey(dz_ceremony_t *ceremony, const dz_hsm_key_record_t *record, dz_buf_t *rdata,
		   dz_error_t *err)
{
	uint8_t public_key[DZ_HSM_PUBLIC_KEY_MAX];
	size_t public_key_len = 0;
	char hex[2 * DZ_KEY_ID_MAX + 1];
	dz_result_t result;

	result = dz_hsm_public_key(ceremony->hsm, record->id, record->id_len, record->algorithm,
				   public_key, &public_key_len, err);
	if (result != DZ_OK)
		return result;
	if (dz_hsm_dnskey_rdata(rdata, dz_ceremony_dnskey_flags(record->role), record->algorithm,
				public_key, public_key_len) != DZ_OK)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	uint16_t tag = dz_hsm_dnskey_key_tag(rdata->data, rdata->len);
	if (tag != record->key_tag)
		return dz_error_set(err, DZ_ESTATE,
				    "key %s in token '%s' has key tag %u, but the registry says %u: "
				    "the token holds another key under this id; check the token "
				    "and %s", dz_hsm_id_hex(record->id, record->id_len, hex),
				    dz_hsm_token(ceremony->hsm)->label, (unsigned)tag,
				    (unsigned)record->key_tag, ceremony->registry.path);
	return DZ_OK;
}

dz_result_t
dz_ceremony_ds_line(const char *zone, uint32_t ttl, const dz_buf_t *dnskey_rdata,
		    uint8_t digest_type, char **line, dz_error_t *err)
{
	dz_buf_t ds;
	dz_result_t result;

	dz_buf_init(&ds);
	result = dz_hsm_ds_rdata(&ds, zone, dnskey_rdata->data, dnskey_rdata->len, digest_type,
				 err);
	if (result == DZ_OK) {
		*line = dz_hsm_ds_format(zone, ttl, ds.data, ds.len);
		if (*line == NULL)
			result = dz_error_set(err, DZ_ENOMEM, "out of memory");
	}
	dz_buf_clear(&ds);
	return result;
}

dz_result_t
dz_parse_ttl(const char *text, uint32_t *ttl, dz_error_t *err)
{
	char *end;

	errno = 0;
	unsigned long value = strtoul(text, &end, 10);
	/* RFC 2181 section 8: TTLs are at most 2^31 - 1. */
	if (text[0] < '0' || text[0] > '9' || *end != '\0' || errno != 0 || value > 2147483647UL)
		return dz_error_set(err, DZ_EINVAL,
				    "--ttl '%s' is not a TTL: give seconds from 0 to 2147483647",
				    text);
	*ttl = (uint32_t)value;
	return DZ_OK;
}

dz_result_t
dz_parse_digest(const char *text, uint8_t *digest_type, dz_error_t *err)
{
	if (strcasecmp(text, "sha256") == 0 || strcmp(text, "2") == 0)
		*digest_type = DZ_DIGEST_SHA256;
	else if (strcasecmp(text, "sha384") == 0 || strcmp(text, "4") == 0)
		*digest_type = DZ_DIGEST_SHA384;
	else
		return dz_error_set(err, DZ_EINVAL,
				    "--digest '%s' is not supported: use sha256 or sha384", text);
	return DZ_OK;
}
