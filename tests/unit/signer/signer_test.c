#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ldns/ldns.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "signer/apex.h"
#include "signer/rrsig.h"
#include "zones/zonefile.h"
#include "signer/update.h"
#include "signer_test.h"

size_t
test_wire_name(const char *text, uint8_t *wire)
{
	ldns_rdf *rdf = NULL;
	size_t len;

	assert_int_equal(ldns_str2rdf_dname(&rdf, text), LDNS_STATUS_OK);
	len = ldns_rdf_size(rdf);
	memcpy(wire, ldns_rdf_data(rdf), len);
	ldns_rdf_deep_free(rdf);
	return len;
}

size_t
test_key(const char *text, uint8_t *key)
{
	uint8_t wire[DZ_NAME_WIRE_MAX];
	size_t len = test_wire_name(text, wire);
	int key_len = dz_name_key_from_wire(wire, len, key);

	assert_true(key_len >= 0);
	return (size_t)key_len;
}

dz_zone_t *
test_zone_from_text(const char *origin, const char *text, const dz_load_options_t *options,
		    dz_result_t *result)
{
	char path[] = "/tmp/dz-test-zone-XXXXXX";
	int fd = mkstemp(path);
	uint8_t wire[DZ_NAME_WIRE_MAX];
	size_t wire_len = test_wire_name(origin, wire);
	dz_zone_t *zone = dz_zone_create(wire, wire_len);
	dz_loader_t loader;
	dz_error_t err;
	dz_result_t res;

	assert_true(fd >= 0);
	assert_non_null(zone);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	dz_error_init(&err);
	assert_int_equal(dz_loader_init(&loader, zone, options), DZ_OK);
	res = dz_zonefile_read(path, origin, NULL, dz_loader_add, &loader, &err);
	if (res == DZ_OK)
		res = dz_loader_finish(&loader, &err);
	dz_loader_clear(&loader);
	unlink(path);
	if (result != NULL)
		*result = res;
	return zone;
}

static void
rr_wire(dz_zone_t *zone, const char *text, uint8_t *owner, size_t *owner_len, uint16_t *type,
	uint32_t *ttl, uint8_t *rdata, uint16_t *rdata_len)
{
	ldns_rr *rr = NULL;
	ldns_rdf *origin = ldns_dname_new_frm_data((uint16_t)zone->origin_wire_len, zone->origin_wire);
	ldns_buffer *buf = ldns_buffer_new(1024);
	const uint8_t *o;
	const uint8_t *r;

	assert_int_equal(ldns_rr_new_frm_str(&rr, text, 3600, origin, NULL), LDNS_STATUS_OK);
	assert_int_equal(dz_rr_to_wire(rr, buf, &o, owner_len, &r, rdata_len), DZ_OK);
	memcpy(owner, o, *owner_len);
	memcpy(rdata, r, *rdata_len);
	*type = ldns_rr_get_type(rr);
	*ttl = ldns_rr_ttl(rr);
	ldns_rr_free(rr);
	ldns_rdf_deep_free(origin);
	ldns_buffer_free(buf);
}

void
test_add_rr(dz_zone_t *zone, const char *text)
{
	uint8_t owner[DZ_NAME_WIRE_MAX];
	uint8_t rdata[65535];
	uint8_t key[DZ_NAME_KEY_MAX];
	size_t owner_len;
	uint16_t type;
	uint32_t ttl;
	uint16_t rdata_len;
	dz_node_t *node;
	dz_add_outcome_t outcome;
	int key_len;

	rr_wire(zone, text, owner, &owner_len, &type, &ttl, rdata, &rdata_len);
	key_len = dz_name_key_from_wire(owner, owner_len, key);
	assert_int_equal(dz_zone_get(zone, key, (size_t)key_len, &node), DZ_OK);
	assert_int_equal(dz_zone_add_rdata(zone, node, type, ttl, rdata, rdata_len, 0, 0, 0, &outcome),
			 DZ_OK);
}

void
test_delete_rr(dz_zone_t *zone, const char *text)
{
	uint8_t owner[DZ_NAME_WIRE_MAX];
	uint8_t rdata[65535];
	uint8_t key[DZ_NAME_KEY_MAX];
	size_t owner_len;
	uint16_t type;
	uint32_t ttl;
	uint16_t rdata_len;
	dz_node_t *node;
	bool found = false;
	int key_len;

	rr_wire(zone, text, owner, &owner_len, &type, &ttl, rdata, &rdata_len);
	key_len = dz_name_key_from_wire(owner, owner_len, key);
	node = dz_zone_find(zone, key, (size_t)key_len);
	assert_non_null(node);
	assert_int_equal(dz_zone_delete_rdata(zone, node, type, rdata, rdata_len, &found), DZ_OK);
	assert_true(found);
}

/* The test keys, found by CKA_ID (one byte: the index). */
static EVP_PKEY *test_pkeys[8];

static void make_keyset(dz_keyset_t *keys, size_t count);

static EVP_PKEY *saved_keys[8];

void
test_keys_create(dz_keyset_t *keys, size_t count)
{
	test_keys_create_from(keys, count, NULL);
}

void
test_keys_create_from(dz_keyset_t *keys, size_t count, const char *path)
{
	FILE *fp = path != NULL ? fopen(path, "r") : NULL;
	bool loaded = fp != NULL;

	for (size_t i = 0; i < count && i < 8; i++) {
		saved_keys[i] = fp != NULL ? PEM_read_PrivateKey(fp, NULL, NULL, NULL) : NULL;
		if (saved_keys[i] == NULL)
			loaded = false;
	}
	if (fp != NULL)
		fclose(fp);
	if (!loaded) {
		for (size_t i = 0; i < count && i < 8; i++) {
			EVP_PKEY_free(saved_keys[i]);
			saved_keys[i] = EVP_EC_gen("P-256");
			assert_non_null(saved_keys[i]);
		}
		if (path != NULL) {
			fp = fopen(path, "w");
			assert_non_null(fp);
			for (size_t i = 0; i < count && i < 8; i++)
				assert_int_equal(PEM_write_PrivateKey(fp, saved_keys[i], NULL, NULL, 0, NULL, NULL), 1);
			fclose(fp);
		}
	}
	make_keyset(keys, count);
}

static void
make_keyset(dz_keyset_t *keys, size_t count)
{
	assert_true(count <= 8);
	memset(keys, 0, sizeof(*keys));
	keys->keys = calloc(count, sizeof(*keys->keys));
	assert_non_null(keys->keys);
	keys->count = count;
	for (size_t i = 0; i < count; i++) {
		dz_zone_key_t *k = &keys->keys[i];
		EVP_PKEY *pkey = saved_keys[i];
		uint8_t point[65];
		size_t point_len = 0;
		uint8_t rdata[4 + DZ_PUBLIC_KEY_MAX];
		size_t rdata_len;

		assert_non_null(pkey);
		assert_int_equal(EVP_PKEY_get_octet_string_param(pkey, "encoded-pub-key", point,
								 sizeof(point), &point_len), 1);
		assert_int_equal(point_len, 65);
		if (test_pkeys[i] != NULL && test_pkeys[i] != pkey)
			EVP_PKEY_free(test_pkeys[i]);
		test_pkeys[i] = pkey;
		saved_keys[i] = NULL;
		k->key_id[0] = (uint8_t)i;
		k->key_id_len = 1;
		k->algorithm = DZ_ALG_ECDSAP256SHA256;
		/* Two keys are a KSK and a ZSK; otherwise every key is a CSK. */
		k->flags = count == 2 && i == 1 ? 256 : 257;
		memcpy(k->public_key, point + 1, 64); /* RFC 6605: X | Y without the 0x04 prefix */
		k->public_key_len = 64;
		rdata_len = dz_apex_dnskey_rdata(k, rdata);
		k->key_tag = dz_key_tag(rdata, rdata_len);
		k->publish = true;
		k->sign_keys = k->flags == 257;
		k->sign_zone = count != 2 || k->flags == 256;
		k->publish_cds = k->flags == 257;
	}
}

void
test_keys_free(dz_keyset_t *keys)
{
	free(keys->keys);
	keys->keys = NULL;
	keys->count = 0;
}

static dz_result_t
soft_sign(void *ctx, dz_sign_request_t *requests, size_t count, dz_error_t *err)
{
	(void)ctx;
	for (size_t i = 0; i < count; i++) {
		dz_sign_request_t *req = &requests[i];
		EVP_PKEY *pkey = req->key_id_len == 1 && req->key_id[0] < 8 ? test_pkeys[req->key_id[0]] : NULL;
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		uint8_t der[128];
		size_t der_len = sizeof(der);
		const uint8_t *p = der;
		ECDSA_SIG *sig = NULL;
		const BIGNUM *r;
		const BIGNUM *s;

		if (pkey == NULL || md == NULL ||
		    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pkey) != 1 ||
		    EVP_DigestSign(md, der, &der_len, req->data, req->data_len) != 1 ||
		    (sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len)) == NULL) {
			EVP_MD_CTX_free(md);
			req->result = DZ_EHSM;
			return dz_error_set(err, DZ_EHSM, "test signing failed");
		}
		ECDSA_SIG_get0(sig, &r, &s);
		BN_bn2binpad(r, req->signature, 32);
		BN_bn2binpad(s, req->signature + 32, 32);
		req->signature_len = 64;
		req->result = DZ_OK;
		ECDSA_SIG_free(sig);
		EVP_MD_CTX_free(md);
	}
	return DZ_OK;
}

dz_sign_backend_t
test_backend(void)
{
	dz_sign_backend_t backend = { soft_sign, NULL, 2 };

	return backend;
}

typedef struct blob_ref {
	const uint8_t *data;
	size_t len;
} blob_ref_t;

static int
compare_blobs(const void *a, const void *b)
{
	const blob_ref_t *x = a;
	const blob_ref_t *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int cmp = memcmp(x->data, y->data, n);

	if (cmp != 0)
		return cmp;
	return x->len < y->len ? -1 : (x->len > y->len ? 1 : 0);
}

void
test_zone_rrs(const dz_zone_t *zone, bool with_sigs, bool mask_soa_serial, dz_buf_t *out)
{
	dz_buf_t all;
	blob_ref_t *refs = NULL;
	size_t count = 0;
	size_t cap = 0;
	size_t pos = 0;

	dz_buf_init(&all);
	for (const dz_node_t *n = dz_zone_first(zone); n != NULL; n = dz_zone_next(n))
		assert_int_equal(dz_zone_node_wire(zone, n, &all), DZ_OK);
	for (const dz_nsec3_t *e = dz_zone_nsec3_first(zone); e != NULL; e = dz_zone_nsec3_next(e))
		assert_int_equal(dz_zone_nsec3_wire(zone, e, &all), DZ_OK);

	while (pos < all.len) {
		size_t name_len = dz_name_wire_length(all.data + pos, all.len - pos);
		uint16_t type = (uint16_t)((all.data[pos + name_len] << 8) | all.data[pos + name_len + 1]);
		size_t rdlen = (size_t)(all.data[pos + name_len + 8] << 8) | all.data[pos + name_len + 9];
		size_t len = name_len + 10 + rdlen;

		if (type == DZ_TYPE_SOA && mask_soa_serial) {
			size_t off = dz_soa_serial_offset(all.data + pos + name_len + 10, rdlen);
			assert_true(off > 0);
			memset(all.data + pos + name_len + 10 + off, 0, 4);
		}
		if (with_sigs || type != DZ_TYPE_RRSIG) {
			if (count == cap) {
				cap = cap == 0 ? 64 : cap * 2;
				refs = realloc(refs, cap * sizeof(*refs));
				assert_non_null(refs);
			}
			refs[count].data = all.data + pos;
			refs[count].len = len;
			count++;
		}
		pos += len;
	}
	qsort(refs, count, sizeof(*refs), compare_blobs);
	for (size_t i = 0; i < count; i++) {
		assert_int_equal(dz_buf_append_u32(out, (uint32_t)refs[i].len), DZ_OK);
		assert_int_equal(dz_buf_append(out, refs[i].data, refs[i].len), DZ_OK);
	}
	free(refs);
	dz_buf_clear(&all);
}

void
test_policy(dz_policy_t *policy, dz_denial_t denial)
{
	assert_true(dz_policy_init_defaults(policy));
	policy->denial = denial;
	policy->max_zone_ttl = 0;
}
