#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "keystore/provider.h"

/* A key pair the simulation holds. */
typedef struct sim_key {
	uint8_t key_id[DZ_KEY_ID_MAX];
	size_t key_id_len;
	char zone[256];
	bool live;
} sim_key_t;

struct dz_key_sim {
	uint64_t state; /* xorshift64* state, never 0 */
	int64_t now;
	dz_result_t fail_generate;
	dz_result_t fail_check;
	dz_result_t fail_remove;
	bool backup_required;
	uint8_t queued[DZ_PUBLIC_KEY_MAX];
	size_t queued_len;
	sim_key_t *keys;
	size_t key_count;
	size_t key_cap;
	dz_key_sim_deletion_t *deletions;
	size_t deletion_count;
	size_t deletion_cap;
};

/* xorshift64* (Vigna, 2016): small, fast and good enough for fake keys. */
static uint64_t
next_random(dz_key_sim_t *sim)
{
	uint64_t x = sim->state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	sim->state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static void
fill_random(dz_key_sim_t *sim, uint8_t *out, size_t len)
{
	for (size_t i = 0; i < len; i++)
		out[i] = (uint8_t)(next_random(sim) >> 56);
}

size_t
dz_key_public_key_length(uint8_t algorithm, uint16_t bits)
{
	switch (algorithm) {
	case DZ_ALG_ECDSAP256SHA256:
		return 64;
	case DZ_ALG_ECDSAP384SHA384:
		return 96;
	case DZ_ALG_ED25519:
		return 32;
	case DZ_ALG_ED448:
		return 57;
	case DZ_ALG_RSASHA256:
	case DZ_ALG_RSASHA512:
		/* Exponent length byte, exponent 65537, modulus. */
		return 1 + 3 + (bits != 0 ? bits : 2048) / 8;
	}
	return 32;
}

dz_key_sim_t *
dz_key_sim_create(uint64_t seed)
{
	dz_key_sim_t *sim = calloc(1, sizeof(*sim));

	if (sim == NULL)
		return NULL;
	sim->state = seed != 0 ? seed : 0x9E3779B97F4A7C15ULL;
	return sim;
}

void
dz_key_sim_destroy(dz_key_sim_t *sim)
{
	if (sim == NULL)
		return;
	free(sim->keys);
	free(sim->deletions);
	free(sim);
}

void
dz_key_sim_set_time(dz_key_sim_t *sim, int64_t now)
{
	sim->now = now;
}

void
dz_key_sim_fail_generate(dz_key_sim_t *sim, dz_result_t result)
{
	sim->fail_generate = result;
}

void
dz_key_sim_fail_check(dz_key_sim_t *sim, dz_result_t result)
{
	sim->fail_check = result;
}

void
dz_key_sim_fail_remove(dz_key_sim_t *sim, dz_result_t result)
{
	sim->fail_remove = result;
}

void
dz_key_sim_require_backup(dz_key_sim_t *sim, bool required)
{
	sim->backup_required = required;
}

void
dz_key_sim_queue_public_key(dz_key_sim_t *sim, const uint8_t *public_key, size_t len)
{
	if (len > sizeof(sim->queued))
		len = sizeof(sim->queued);
	memcpy(sim->queued, public_key, len);
	sim->queued_len = len;
}

const dz_key_sim_deletion_t *
dz_key_sim_deletions(const dz_key_sim_t *sim, size_t *count)
{
	*count = sim->deletion_count;
	return sim->deletions;
}

size_t
dz_key_sim_generated(const dz_key_sim_t *sim)
{
	return sim->key_count;
}

size_t
dz_key_sim_live(const dz_key_sim_t *sim)
{
	size_t live = 0;

	for (size_t i = 0; i < sim->key_count; i++)
		live += sim->keys[i].live;
	return live;
}

static sim_key_t *
find_key(dz_key_sim_t *sim, const uint8_t *key_id, size_t key_id_len)
{
	for (size_t i = 0; i < sim->key_count; i++) {
		sim_key_t *k = &sim->keys[i];
		if (k->live && k->key_id_len == key_id_len &&
		    memcmp(k->key_id, key_id, key_id_len) == 0)
			return k;
	}
	return NULL;
}

static dz_result_t
sim_generate(void *ctx, const char *zone, const dz_policy_key_t *slot, dz_key_material_t *out,
	     dz_error_t *err)
{
	dz_key_sim_t *sim = ctx;

	if (sim->fail_generate != DZ_OK)
		return dz_error_set(err, sim->fail_generate,
				    "simulated token: key generation failed (%s)",
				    dz_result_text(sim->fail_generate));
	if (sim->key_count == sim->key_cap) {
		size_t cap = sim->key_cap == 0 ? 16 : sim->key_cap * 2;
		sim_key_t *keys = realloc(sim->keys, cap * sizeof(*keys));
		if (keys == NULL)
			return dz_error_set(err, DZ_ENOMEM, "out of memory");
		sim->keys = keys;
		sim->key_cap = cap;
	}

	dz_key_material_t m;
	memset(&m, 0, sizeof(m));
	m.key_id_len = 16;
	fill_random(sim, m.key_id, m.key_id_len);
	if (sim->queued_len > 0) {
		memcpy(m.public_key, sim->queued, sim->queued_len);
		m.public_key_len = sim->queued_len;
		sim->queued_len = 0;
	} else {
		m.public_key_len = dz_key_public_key_length(slot->algorithm, slot->bits);
		fill_random(sim, m.public_key, m.public_key_len);
	}
	m.backup_required = sim->backup_required;

	sim_key_t *k = &sim->keys[sim->key_count++];
	memset(k, 0, sizeof(*k));
	memcpy(k->key_id, m.key_id, m.key_id_len);
	k->key_id_len = m.key_id_len;
	strncpy(k->zone, zone, sizeof(k->zone) - 1);
	k->live = true;
	*out = m;
	return DZ_OK;
}

static dz_result_t
sim_check(void *ctx, const char *token, const uint8_t *key_id, size_t key_id_len,
	  dz_error_t *err)
{
	dz_key_sim_t *sim = ctx;

	(void)token;
	if (sim->fail_check != DZ_OK)
		return dz_error_set(err, sim->fail_check, "simulated token: key unavailable (%s)",
				    dz_result_text(sim->fail_check));
	if (find_key(sim, key_id, key_id_len) == NULL)
		return dz_error_set(err, DZ_EHSM_KEY, "simulated token: key not found");
	return DZ_OK;
}

static dz_result_t
sim_remove(void *ctx, const char *token, const uint8_t *key_id, size_t key_id_len,
	   dz_error_t *err)
{
	dz_key_sim_t *sim = ctx;
	sim_key_t *k;

	(void)token;
	if (sim->fail_remove != DZ_OK)
		return dz_error_set(err, sim->fail_remove, "simulated token: deletion failed (%s)",
				    dz_result_text(sim->fail_remove));
	k = find_key(sim, key_id, key_id_len);
	if (k == NULL)
		return dz_error_set(err, DZ_ENOTFOUND, "simulated token: key not found");
	if (sim->deletion_count == sim->deletion_cap) {
		size_t cap = sim->deletion_cap == 0 ? 16 : sim->deletion_cap * 2;
		dz_key_sim_deletion_t *d = realloc(sim->deletions, cap * sizeof(*d));
		if (d == NULL)
			return dz_error_set(err, DZ_ENOMEM, "out of memory");
		sim->deletions = d;
		sim->deletion_cap = cap;
	}
	dz_key_sim_deletion_t *d = &sim->deletions[sim->deletion_count++];
	d->time = sim->now;
	memcpy(d->key_id, key_id, key_id_len);
	d->key_id_len = key_id_len;
	k->live = false;
	return DZ_OK;
}

static dz_result_t
sim_count_zone_keys(void *ctx, const char *zone, size_t *count, dz_error_t *err)
{
	dz_key_sim_t *sim = ctx;
	size_t n = 0;

	(void)err;
	for (size_t i = 0; i < sim->key_count; i++)
		n += sim->keys[i].live && strcmp(sim->keys[i].zone, zone) == 0;
	*count = n;
	return DZ_OK;
}

static const dz_key_provider_ops_t sim_ops = {
	.generate = sim_generate,
	.check = sim_check,
	.remove = sim_remove,
	.count_zone_keys = sim_count_zone_keys,
};

dz_key_provider_t
dz_key_sim_provider(dz_key_sim_t *sim)
{
	return (dz_key_provider_t){ .ops = &sim_ops, .ctx = sim };
}
