/*
 * fuzz_certificate.c -- libFuzzer target for certificate, key and CSR files.
 *
 * The input is the content of one file, as a mail server's certificate
 * file or a user's S/MIME certificate file would hold it (PEM or DER).  It
 * goes through both readers:
 *   - dz_keymat_parse(), then TLSA RDATA for every selector and matching
 *     type, as the TLSA records of a mail host are made;
 *   - dz_smimea_records() for the zone example.com at a fixed time, once
 *     with lower-case variants and quoted local parts and once without,
 *     then the records in wire and text form.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "common/log.h"
#include "common/mem.h"
#include "zones/keymat.h"
#include "zones/mailbox.h"
#include "zones/records.h"
#include "zones/tlsa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 2030-01-01T00:00:00Z: inside the validity of the seed certificates. */
#define FUZZ_NOW 1893456000

static void
discard_log(dz_log_level_t level, const char *line, void *ctx)
{
	(void)level;
	(void)line;
	(void)ctx;
}

static void
check_tlsa(const dz_keymat_t *keymat)
{
	const uint8_t *cert = keymat->has_cert ? keymat->leaf.der : NULL;
	size_t cert_len = keymat->has_cert ? keymat->leaf.der_len : 0;
	static const size_t digest_len[3] = { 0, 32, 64 };

	if (keymat->spki == NULL || keymat->spki_len == 0)
		abort();
	for (uint8_t selector = 0; selector <= 1; selector++) {
		for (uint8_t matching = 0; matching <= 2; matching++) {
			dz_tlsa_params_t params = { 3, selector, matching };
			dz_buf_t rdata;
			dz_error_t err;
			dz_buf_init(&rdata);
			dz_error_init(&err);
			dz_result_t result = dz_tlsa_rdata(&params, cert, cert_len, keymat->spki,
							   keymat->spki_len, &rdata, &err);
			if (result == DZ_OK && matching > 0 && rdata.len != 3 + digest_len[matching])
				abort();
			if (result != DZ_OK && !(selector == 0 && cert == NULL) &&
			    result != DZ_ETOOBIG)
				abort();
			dz_buf_clear(&rdata);
		}
	}
}

static void
parse_keymat(const uint8_t *data, size_t size)
{
	dz_keymat_t keymat, copy;
	dz_error_t err;

	dz_error_init(&err);
	if (dz_keymat_parse(data, size, "mx.pem", &keymat, &err) != DZ_OK) {
		if (err.message[0] == '\0')
			abort();
		return;
	}
	check_tlsa(&keymat);
	if (dz_keymat_copy(&copy, &keymat) == DZ_OK) {
		if (copy.spki_len != keymat.spki_len ||
		    memcmp(copy.spki, keymat.spki, keymat.spki_len) != 0)
			abort();
		dz_keymat_clear(&copy);
	}
	dz_keymat_clear(&keymat);
}

/* Every generated owner is a name in the zone, and every record encodes. */
static void
check_records(const dz_records_t *records)
{
	dz_buf_t wire;

	for (size_t i = 0; i < records->count; i++) {
		const dz_record_t *record = &records->items[i];
		ldns_rdf *owner = NULL;
		ldns_rdf *zone = NULL;
		if (ldns_str2rdf_dname(&owner, record->owner) != LDNS_STATUS_OK ||
		    ldns_str2rdf_dname(&zone, "example.com.") != LDNS_STATUS_OK ||
		    !ldns_dname_is_subdomain(owner, zone))
			abort();
		ldns_rdf_deep_free(owner);
		ldns_rdf_deep_free(zone);
		char *text = dz_record_to_text(record, false);
		free(text);
	}
	dz_buf_init(&wire);
	dz_records_to_wire(records, &wire);
	dz_buf_clear(&wire);
}

static void
parse_smime(const uint8_t *data, size_t size, bool variants)
{
	dz_mailbox_options_t options = {
		.zone = "example.com",
		.smimea = { 3, 0, 0 },
		.smimea_ttl = 3600,
		.openpgpkey_ttl = 3600,
		.lowercase_variants = variants,
		.quoted_local_parts = variants,
	};
	dz_records_t records;
	dz_time_t next_change = INT64_MAX;
	dz_error_t err;

	if (!variants)
		options.smimea = (dz_tlsa_params_t){ 3, 1, 1 };
	dz_records_init(&records);
	dz_error_init(&err);
	dz_result_t result = dz_smimea_records(&options, data, size, "user.pem", FUZZ_NOW, &records,
					       &next_change, &err);
	if (result == DZ_OK) {
		if (next_change <= FUZZ_NOW)
			abort();
		check_records(&records);
	} else if (records.count != 0 || err.message[0] == '\0') {
		/* A file that does not parse adds no record and sets an error message. */
		abort();
	}
	dz_records_clear(&records);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dz_log_set_sink(discard_log, NULL);
	parse_keymat(data, size);
	parse_smime(data, size, true);
	parse_smime(data, size, false);
	return 0;
}
