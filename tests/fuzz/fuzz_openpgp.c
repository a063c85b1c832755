/*
 * fuzz_openpgp.c -- libFuzzer target for OpenPGP key files.
 *
 * The input is the content of one key file, binary or in ASCII armour, as
 * `gpg --export` writes it.  It is parsed into keys, and the OPENPGPKEY
 * records of the zone example.com are made from it, once with lower-case
 * variants and quoted local parts and once without.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "common/log.h"
#include "zones/openpgp.h"
#include "zones/records.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
discard_log(dz_log_level_t level, const char *line, void *ctx)
{
	(void)level;
	(void)line;
	(void)ctx;
}

/* Each key starts with a Public-Key packet of version 4 to 6. */
static void
check_keys(const dz_openpgp_keys_t *keys)
{
	if (keys->count == 0)
		abort();
	for (size_t k = 0; k < keys->count; k++) {
		const dz_openpgp_key_t *key = &keys->items[k];
		if (key->data.len < 2 || !(key->data.data[0] & 0x80))
			abort();
		if (key->version < 4 || key->version > 6 || key->uid_count > DZ_OPENPGP_UID_MAX)
			abort();
		for (size_t u = 0; u < key->uid_count; u++) {
			const char *address = NULL;
			size_t len = dz_openpgp_uid_address(key->uids[u], &address);
			if (len > 0 && (address < key->uids[u] ||
					address + len > key->uids[u] + strlen(key->uids[u])))
				abort();
		}
	}
}

/* Every record is owned by a name in the zone and contains one whole key. */
static void
check_records(const dz_records_t *records, const dz_openpgp_keys_t *keys)
{
	ldns_rdf *zone = NULL;

	if (ldns_str2rdf_dname(&zone, "example.com.") != LDNS_STATUS_OK)
		abort();
	for (size_t i = 0; i < records->count; i++) {
		const dz_record_t *record = &records->items[i];
		ldns_rdf *owner = NULL;
		bool found = false;
		if (ldns_str2rdf_dname(&owner, record->owner) != LDNS_STATUS_OK ||
		    !ldns_dname_is_subdomain(owner, zone) || record->type != DZ_TYPE_OPENPGPKEY)
			abort();
		ldns_rdf_deep_free(owner);
		for (size_t k = 0; k < keys->count && !found; k++)
			found = keys->items[k].data.len == record->rdlength &&
				memcmp(keys->items[k].data.data, record->rdata, record->rdlength) == 0;
		if (!found)
			abort();
	}
	ldns_rdf_deep_free(zone);
}

static void
make_records(const uint8_t *data, size_t size, const dz_openpgp_keys_t *keys, bool variants)
{
	dz_mailbox_options_t options = {
		.zone = "example.com",
		.smimea = { 3, 1, 1 },
		.smimea_ttl = 3600,
		.openpgpkey_ttl = 3600,
		.lowercase_variants = variants,
		.quoted_local_parts = variants,
	};
	dz_records_t records;
	dz_error_t err;

	dz_records_init(&records);
	dz_error_init(&err);
	if (dz_openpgp_records(&options, data, size, "user.asc", &records, &err) != DZ_OK)
		abort(); /* the data parsed once already */
	check_records(&records, keys);
	dz_records_clear(&records);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dz_openpgp_keys_t keys;
	dz_error_t err;

	dz_log_set_sink(discard_log, NULL);
	dz_error_init(&err);
	if (dz_openpgp_parse(data, size, "user.asc", &keys, &err) != DZ_OK) {
		if (keys.count != 0 || keys.items != NULL || err.message[0] == '\0')
			abort();
		return 0;
	}
	check_keys(&keys);
	make_records(data, size, &keys, true);
	make_records(data, size, &keys, false);
	dz_openpgp_keys_clear(&keys);
	return 0;
}
