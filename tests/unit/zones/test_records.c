#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>
#include <openssl/evp.h>

#include "zones/openpgp.h"
#include "zones/records.h"
#include "zones/tlsa.h"

/* Association data of a "3 1 1" record: any 32 octets will do for the forms. */
static const uint8_t digest[32] = {
	0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
	0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
};

static void
add_tlsa(dz_records_t *set, const char *owner, uint32_t ttl, uint8_t first)
{
	uint8_t rdata[35] = { 3, 1, 1 };
	memcpy(rdata + 3, digest, 32);
	rdata[3] = first;
	assert_int_equal(dz_records_add(set, owner, DZ_TYPE_TLSA, ttl, rdata, sizeof(rdata)), DZ_OK);
}

static void
records_presentation_and_generic(void **state)
{
	dz_records_t set;

	(void)state;
	dz_records_init(&set);
	add_tlsa(&set, "_25._tcp.mx1.example.net.", 3600, 0x01);
	char *text = dz_record_to_text(&set.items[0], false);
	char *generic = dz_record_to_text(&set.items[0], true);
	assert_string_equal(text, "_25._tcp.mx1.example.net. 3600 IN TLSA 3 1 1 "
				  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	assert_string_equal(generic, "_25._tcp.mx1.example.net. 3600 IN TYPE52 \\# 35 030101"
				     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");

	/* ldns reads both forms to the wire form danezone hands to the signer. */
	dz_buf_t wire;
	dz_buf_init(&wire);
	assert_int_equal(dz_records_to_wire(&set, &wire), DZ_OK);
	const char *forms[] = { text, generic };
	for (size_t i = 0; i < 2; i++) {
		ldns_rr *rr = NULL;
		assert_int_equal(ldns_rr_new_frm_str(&rr, forms[i], 0, NULL, NULL), LDNS_STATUS_OK);
		ldns_buffer *buffer = ldns_buffer_new(512);
		assert_int_equal(ldns_rr2buffer_wire(buffer, rr, LDNS_SECTION_ANSWER), LDNS_STATUS_OK);
		assert_int_equal(ldns_buffer_position(buffer), wire.len);
		assert_memory_equal(ldns_buffer_begin(buffer), wire.data, wire.len);
		ldns_buffer_free(buffer);
		ldns_rr_free(rr);
	}
	dz_buf_clear(&wire);
	free(text);
	free(generic);
	dz_records_clear(&set);
}

static void
records_openpgpkey_base64(void **state)
{
	dz_records_t set;
	const uint8_t key[] = { 0x99, 0x00, 0x01, 0xfe };

	(void)state;
	dz_records_init(&set);
	assert_int_equal(dz_records_add(&set, "a._openpgpkey.example.", DZ_TYPE_OPENPGPKEY, 60, key,
					sizeof(key)), DZ_OK);
	char *text = dz_record_to_text(&set.items[0], false);
	assert_string_equal(text, "a._openpgpkey.example. 60 IN OPENPGPKEY mQAB/g==");
	free(text);
	dz_records_clear(&set);
}

static void
records_sort_canonical_and_diff(void **state)
{
	dz_records_t old_set, new_set, added, removed;

	(void)state;
	dz_records_init(&old_set);
	dz_records_init(&new_set);
	/* Owners sort label by label from the right (RFC 4034 section 6.1), duplicates go. */
	add_tlsa(&old_set, "_25._tcp.mx2.example.", 3600, 0x01);
	add_tlsa(&old_set, "_25._tcp.mx1.example.", 3600, 0x02);
	add_tlsa(&old_set, "_25._tcp.mx1.example.", 3600, 0x01);
	add_tlsa(&old_set, "_25._tcp.mx1.example.", 3600, 0x01);
	dz_records_sort(&old_set);
	assert_int_equal(old_set.count, 3);
	assert_string_equal(old_set.items[0].owner, "_25._tcp.mx1.example.");
	assert_int_equal(old_set.items[0].rdata[3], 0x01);
	assert_int_equal(old_set.items[1].rdata[3], 0x02);
	assert_string_equal(old_set.items[2].owner, "_25._tcp.mx2.example.");

	add_tlsa(&new_set, "_25._tcp.mx1.example.", 3600, 0x02);
	add_tlsa(&new_set, "_25._tcp.mx2.example.", 1800, 0x01);
	add_tlsa(&new_set, "_465._tcp.mx1.example.", 3600, 0x03);
	dz_records_sort(&new_set);
	assert_int_equal(dz_records_diff(&old_set, &new_set, &added, &removed), DZ_OK);
	/* mx1 0x01 removed; mx2's TTL change is a removal and an addition. */
	assert_int_equal(removed.count, 2);
	assert_int_equal(added.count, 2);
	assert_int_equal(removed.items[0].rdata[3], 0x01);
	assert_string_equal(removed.items[1].owner, "_25._tcp.mx2.example.");
	assert_int_equal(removed.items[1].ttl, 3600);
	assert_string_equal(added.items[0].owner, "_465._tcp.mx1.example.");
	assert_int_equal(added.items[1].ttl, 1800);
	assert_true(dz_records_contains(&new_set, &added.items[0]));
	assert_false(dz_records_contains(&new_set, &removed.items[0]));

	dz_records_clear(&added);
	dz_records_clear(&removed);
	dz_records_clear(&old_set);
	dz_records_clear(&new_set);
}

static void
tlsa_rdata_digests_and_refusals(void **state)
{
	const uint8_t spki[] = { 0x30, 0x03, 0x01, 0x02, 0x03 };
	const uint8_t cert[] = { 0x30, 0x02, 0x05, 0x00 };
	uint8_t expected[64];
	unsigned expected_len = 0;
	dz_buf_t rdata;
	dz_error_t err;

	(void)state;
	dz_buf_init(&rdata);
	dz_tlsa_params_t p311 = { 3, 1, 1 }, p312 = { 3, 1, 2 }, p301 = { 3, 0, 1 }, p300 = { 3, 0, 0 };
	assert_int_equal(dz_tlsa_rdata(&p311, NULL, 0, spki, sizeof(spki), &rdata, NULL), DZ_OK);
	EVP_Digest(spki, sizeof(spki), expected, &expected_len, EVP_sha256(), NULL);
	assert_int_equal(rdata.len, 3 + 32);
	assert_memory_equal(rdata.data + 3, expected, 32);
	dz_buf_clear(&rdata);

	assert_int_equal(dz_tlsa_rdata(&p312, NULL, 0, spki, sizeof(spki), &rdata, NULL), DZ_OK);
	EVP_Digest(spki, sizeof(spki), expected, &expected_len, EVP_sha512(), NULL);
	assert_int_equal(rdata.len, 3 + 64);
	assert_memory_equal(rdata.data + 3, expected, 64);
	dz_buf_clear(&rdata);

	assert_int_equal(dz_tlsa_rdata(&p300, cert, sizeof(cert), spki, sizeof(spki), &rdata, NULL),
			 DZ_OK);
	assert_int_equal(rdata.len, 3 + sizeof(cert));
	assert_memory_equal(rdata.data + 3, cert, sizeof(cert));
	dz_buf_clear(&rdata);

	/* Selector 0 needs a certificate; nothing is hashed from nothing. */
	dz_error_init(&err);
	assert_int_equal(dz_tlsa_rdata(&p301, NULL, 0, spki, sizeof(spki), &rdata, &err),
			 DZ_ENOTFOUND);
	assert_int_equal(dz_tlsa_rdata(&p311, NULL, 0, spki, 0, &rdata, &err), DZ_EINVAL);
	assert_non_null(strstr(err.message, "refusing to publish a digest of empty input"));
	assert_int_equal(dz_tlsa_rdata(&p311, NULL, 0, NULL, 0, &rdata, &err), DZ_EINVAL);
	assert_int_equal(rdata.len, 0);
	dz_buf_clear(&rdata);
}

/* ---- OpenPGP packets ---- */

static const uint8_t pgp_public_key[] = {
	0xc6, 0x06, 0x04, 0x5f, 0x00, 0x00, 0x00, 0x16,	       /* new format, tag 6, v4 */
};
static const uint8_t pgp_uid_new[] = {
	0xcd, 0x19, 'A', 'l', 'i', 'c', 'e', ' ', '<', 'a', 'l', 'i', 'c', 'e',
	'@', 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'n', 'e', 't', '>',
};
static const uint8_t pgp_uid_old[] = {
	0xb4, 0x0b, 'b', 'o', 'b', '@', 'e', 'x', 'a', 'm', 'p', 'l', 'e', /* old format, tag 13 */
};
static const uint8_t pgp_trust[] = { 0xcc, 0x02, 0x00, 0x3c };
static const uint8_t pgp_certification[] = { 0xc2, 0x03, 0x04, 0x13, 0x16 };
static const uint8_t pgp_revocation[] = { 0xc2, 0x03, 0x04, 0x20, 0x16 };

static void
append(uint8_t *out, size_t *len, const uint8_t *data, size_t data_len)
{
	memcpy(out + *len, data, data_len);
	*len += data_len;
}

static void
openpgp_packets_and_trust_dropped(void **state)
{
	uint8_t data[256], expected[256];
	size_t len = 0, expected_len = 0;
	dz_openpgp_keys_t keys;

	(void)state;
	append(data, &len, pgp_public_key, sizeof(pgp_public_key));
	append(data, &len, pgp_uid_new, sizeof(pgp_uid_new));
	append(data, &len, pgp_certification, sizeof(pgp_certification));
	append(data, &len, pgp_trust, sizeof(pgp_trust));
	append(data, &len, pgp_uid_old, sizeof(pgp_uid_old));
	append(expected, &expected_len, pgp_public_key, sizeof(pgp_public_key));
	append(expected, &expected_len, pgp_uid_new, sizeof(pgp_uid_new));
	append(expected, &expected_len, pgp_certification, sizeof(pgp_certification));
	append(expected, &expected_len, pgp_uid_old, sizeof(pgp_uid_old));

	assert_int_equal(dz_openpgp_parse(data, len, "test", &keys, NULL), DZ_OK);
	assert_int_equal(keys.count, 1);
	assert_int_equal(keys.items[0].version, 4);
	assert_false(keys.items[0].revoked);
	assert_int_equal(keys.items[0].uid_count, 2);
	assert_string_equal(keys.items[0].uids[0], "Alice <alice@example.net>");
	assert_string_equal(keys.items[0].uids[1], "bob@example");
	assert_int_equal(keys.items[0].data.len, expected_len);
	assert_memory_equal(keys.items[0].data.data, expected, expected_len);

	const char *address;
	assert_int_equal(dz_openpgp_uid_address(keys.items[0].uids[0], &address), 17);
	assert_memory_equal(address, "alice@example.net", 17);
	assert_int_equal(dz_openpgp_uid_address(keys.items[0].uids[1], &address), 11);
	assert_int_equal(dz_openpgp_uid_address("Alice Example", &address), 0);
	dz_openpgp_keys_clear(&keys);

	/* Two keys in one export; the second one revoked. */
	append(data, &len, pgp_public_key, sizeof(pgp_public_key));
	append(data, &len, pgp_revocation, sizeof(pgp_revocation));
	append(data, &len, pgp_uid_old, sizeof(pgp_uid_old));
	assert_int_equal(dz_openpgp_parse(data, len, "test", &keys, NULL), DZ_OK);
	assert_int_equal(keys.count, 2);
	assert_false(keys.items[0].revoked);
	assert_true(keys.items[1].revoked);
	dz_openpgp_keys_clear(&keys);
}

static void
openpgp_rejects_damage(void **state)
{
	uint8_t data[256];
	size_t len = 0;
	dz_openpgp_keys_t keys;
	dz_error_t err;

	(void)state;
	append(data, &len, pgp_public_key, sizeof(pgp_public_key));
	append(data, &len, pgp_uid_new, sizeof(pgp_uid_new));
	dz_error_init(&err);
	assert_int_equal(dz_openpgp_parse(data, len - 3, "cut.gpg", &keys, &err), DZ_ECERT);
	assert_non_null(strstr(err.message, "cut.gpg: the packet at octet 8 is cut short"));

	const uint8_t secret[] = { 0xc5, 0x01, 0x04 };
	assert_int_equal(dz_openpgp_parse(secret, sizeof(secret), "secret.gpg", &keys, &err), DZ_ECERT);
	assert_non_null(strstr(err.message, "contains a secret key"));

	const uint8_t uid_first[] = { 0xcd, 0x01, 'x' };
	assert_int_equal(dz_openpgp_parse(uid_first, sizeof(uid_first), "x.gpg", &keys, &err), DZ_ECERT);
	assert_non_null(strstr(err.message, "does not start with a public key packet"));

	const uint8_t old_key[] = { 0xc6, 0x01, 0x03 };
	assert_int_equal(dz_openpgp_parse(old_key, sizeof(old_key), "v3.gpg", &keys, &err), DZ_ECERT);
	assert_non_null(strstr(err.message, "version 3 is not supported"));
}

static void
openpgp_armour_checksum(void **state)
{
	uint8_t data[64];
	size_t len = 0;
	unsigned char b64[128];
	char armoured[512];
	dz_openpgp_keys_t keys;
	dz_error_t err;

	(void)state;
	append(data, &len, pgp_public_key, sizeof(pgp_public_key));
	append(data, &len, pgp_uid_old, sizeof(pgp_uid_old));
	EVP_EncodeBlock(b64, data, (int)len);

	/* RFC 9580 makes the checksum line optional. */
	snprintf(armoured, sizeof(armoured),
		 "-----BEGIN PGP PUBLIC KEY BLOCK-----\nComment: test\n\n%s\n"
		 "-----END PGP PUBLIC KEY BLOCK-----\n", b64);
	assert_int_equal(dz_openpgp_parse((const uint8_t *)armoured, strlen(armoured), "a.asc", &keys,
					  NULL), DZ_OK);
	assert_int_equal(keys.items[0].data.len, len);
	assert_memory_equal(keys.items[0].data.data, data, len);
	dz_openpgp_keys_clear(&keys);

	snprintf(armoured, sizeof(armoured),
		 "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n%s\n=AAAA\n"
		 "-----END PGP PUBLIC KEY BLOCK-----\n", b64);
	dz_error_init(&err);
	assert_int_equal(dz_openpgp_parse((const uint8_t *)armoured, strlen(armoured), "b.asc", &keys,
					  &err), DZ_ECERT);
	assert_non_null(strstr(err.message, "checksum does not match"));

	snprintf(armoured, sizeof(armoured), "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n%s\n", b64);
	assert_int_equal(dz_openpgp_parse((const uint8_t *)armoured, strlen(armoured), "c.asc", &keys,
					  &err), DZ_ECERT);
	assert_non_null(strstr(err.message, "has no END line"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(records_presentation_and_generic),
		cmocka_unit_test(records_openpgpkey_base64),
		cmocka_unit_test(records_sort_canonical_and_diff),
		cmocka_unit_test(tlsa_rdata_digests_and_refusals),
		cmocka_unit_test(openpgp_packets_and_trust_dropped),
		cmocka_unit_test(openpgp_rejects_damage),
		cmocka_unit_test(openpgp_armour_checksum),
	};
	return cmocka_run_group_tests_name("zones/records", tests, NULL, NULL);
}
