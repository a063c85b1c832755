#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "keystore/publish.h"

static bool
published(dz_key_state_t state)
{
	return state == DZ_STATE_RUMOURED || state == DZ_STATE_OMNIPRESENT;
}

dz_result_t
dz_key_publication(const dz_keyring_t *ring, const dz_policy_t *policy, dz_keyset_t *keyset)
{
	bool any_ds = false;
	bool any_dnskey = false;

	memset(keyset, 0, sizeof(*keyset));
	if (ring->count > 0) {
		keyset->keys = calloc(ring->count, sizeof(*keyset->keys));
		if (keyset->keys == NULL)
			return DZ_ENOMEM;
	}
	for (size_t i = 0; i < ring->count; i++) {
		const dz_key_t *k = &ring->keys[i];
		dz_zone_key_t z = {
			.algorithm = k->algorithm,
			.flags = k->flags,
			.key_tag = k->tag,
			.publish = published(k->state[DZ_REC_DNSKEY]),
			.sign_keys = dz_key_has_record(k, DZ_REC_KRRSIG) &&
				     published(k->state[DZ_REC_KRRSIG]),
			.sign_zone = dz_key_has_record(k, DZ_REC_ZRRSIG) &&
				     published(k->state[DZ_REC_ZRRSIG]),
			.publish_cds = dz_key_has_record(k, DZ_REC_DS) &&
				       published(k->state[DZ_REC_DS]),
		};
		if (k->standby || !(z.publish || z.sign_keys || z.sign_zone || z.publish_cds))
			continue;
		memcpy(z.key_id, k->key_id, k->key_id_len);
		z.key_id_len = k->key_id_len;
		memcpy(z.public_key, k->public_key, k->public_key_len);
		z.public_key_len = k->public_key_len;
		any_ds = any_ds || z.publish_cds;
		any_dnskey = any_dnskey || z.publish;
		keyset->keys[keyset->count++] = z;
	}
	keyset->publish_cds_delete = policy->key_count == 0 && !any_ds && any_dnskey;
	return DZ_OK;
}

void
dz_key_keyset_clear(dz_keyset_t *keyset)
{
	free(keyset->keys);
	memset(keyset, 0, sizeof(*keyset));
}

dz_result_t
dz_key_keyset_copy(dz_keyset_t *dst, const dz_keyset_t *src)
{
	*dst = *src;
	dst->keys = NULL;
	if (src->count > 0) {
		dst->keys = malloc(src->count * sizeof(*dst->keys));
		if (dst->keys == NULL) {
			memset(dst, 0, sizeof(*dst));
			return DZ_ENOMEM;
		}
		memcpy(dst->keys, src->keys, src->count * sizeof(*dst->keys));
	}
	return DZ_OK;
}

static bool
same_key(const dz_zone_key_t *a, const dz_zone_key_t *b)
{
	return a->key_id_len == b->key_id_len && memcmp(a->key_id, b->key_id, a->key_id_len) == 0 &&
	       a->algorithm == b->algorithm && a->flags == b->flags &&
	       a->public_key_len == b->public_key_len &&
	       memcmp(a->public_key, b->public_key, a->public_key_len) == 0;
}

bool
dz_key_keyset_equal(const dz_keyset_t *a, const dz_keyset_t *b)
{
	if (a->count != b->count || a->publish_cds_delete != b->publish_cds_delete)
		return false;
	for (size_t i = 0; i < a->count; i++) {
		const dz_zone_key_t *x = &a->keys[i];
		bool found = false;
		for (size_t j = 0; j < b->count && !found; j++) {
			const dz_zone_key_t *y = &b->keys[j];
			found = same_key(x, y) && x->publish == y->publish &&
				x->sign_keys == y->sign_keys && x->sign_zone == y->sign_zone &&
				x->publish_cds == y->publish_cds;
		}
		if (!found)
			return false;
	}
	return true;
}
