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

#include "hsm/hsm.h"
#include "signer/apex.h"
#include "signer/rrsig.h"
#include "zones/zonefile.h"
#include "signer/update.h"
#include "signer_test.h"
#include "tests/unit/hsm/softhsm_fixture.h"

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

/*
 * One SoftHSM2 token per test program, made on first use and removed at
 * exit, with the in-process sign service that the programs use for
 * --processes 0.  Every signature of the unit tests comes from it.
 */
static softhsm_fixture_t *token;
static dz_hsm_t *token_hsm;
static dz_sign_service_t *token_service;

static void
close_token(void)
{
	dz_sign_service_destroy(token_service);
	dz_hsm_destroy(token_hsm);
	softhsm_fixture_destroy(token);
	token_service = NULL;
	token_hsm = NULL;
	token = NULL;
}

static void
open_token(void)
{
	dz_error_t err;

	if (token != NULL)
		return;
	dz_error_init(&err);
	token = softhsm_fixture_create(true);
	/* Two sessions, so that the worker threads of a signing run sign in parallel. */
	token->config.sessions = 2;
	if (dz_hsm_create(&token->config, &token_hsm, &err) != DZ_OK ||
	    dz_sign_service_create_local(token_hsm, &token_service, &err) != DZ_OK)
		fail_msg("test token: %s", dz_error_message(&err));
	atexit(close_token);
}

void
test_keys_create(dz_keyset_t *keys, size_t count)
{
	dz_error_t err;

	open_token();
	dz_error_init(&err);
	memset(keys, 0, sizeof(*keys));
	keys->keys = calloc(count, sizeof(*keys->keys));
	assert_non_null(keys->keys);
	keys->count = count;
	for (size_t i = 0; i < count; i++) {
		dz_zone_key_t *k = &keys->keys[i];
		dz_hsm_key_t info;
		uint8_t rdata[4 + DZ_PUBLIC_KEY_MAX];

		if (dz_hsm_generate_key(token_hsm, DZ_ALG_ECDSAP256SHA256, 0, "test", &info, &err) != DZ_OK)
			fail_msg("test key: %s", dz_error_message(&err));
		memcpy(k->key_id, info.id, info.id_len);
		k->key_id_len = info.id_len;
		k->algorithm = DZ_ALG_ECDSAP256SHA256;
		if (dz_hsm_public_key(token_hsm, info.id, info.id_len, k->algorithm, k->public_key,
				      &k->public_key_len, &err) != DZ_OK)
			fail_msg("test key: %s", dz_error_message(&err));
		/* Two keys are a KSK and a ZSK; otherwise every key is a CSK. */
		k->flags = count == 2 && i == 1 ? 256 : 257;
		k->key_tag = dz_key_tag(rdata, dz_apex_dnskey_rdata(k, rdata));
		k->publish = true;
		k->sign_keys = k->flags == 257;
		k->sign_zone = count != 2 || k->flags == 256;
		k->publish_cds = k->flags == 257;
	}
}

void
test_keys_free(dz_keyset_t *keys)
{
	dz_error_t err;

	dz_error_init(&err);
	for (size_t i = 0; i < keys->count; i++)
		assert_int_equal(dz_hsm_delete_key(token_hsm, keys->keys[i].key_id,
						   keys->keys[i].key_id_len, &err),
				 DZ_OK);
	free(keys->keys);
	keys->keys = NULL;
	keys->count = 0;
}

dz_sign_backend_t
test_backend(void)
{
	open_token();
	return dz_sign_backend_service(token_service);
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
