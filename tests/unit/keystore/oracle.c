#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "oracle.h"

#define KEY_MAX_BYTES 600
#define MAX_SET 64

/* An interned DNSKEY, identified by its index in the oracle's key table. */
typedef struct okey {
	uint16_t flags;
	uint8_t algorithm;
	uint8_t public_key[KEY_MAX_BYTES];
	size_t public_key_len;
	uint16_t tag;
} okey_t;

typedef struct osig {
	int key;
	dz_time_t inception;
	dz_time_t expiration;
	uint64_t covers;
} osig_t;

typedef struct oversion {
	dz_time_t published;
	uint32_t ttl;
	bool exists; /* false: no such RRset (negative answer) */
	int keys[MAX_SET];
	size_t key_count;
	oracle_ds_t ds[MAX_SET];
	size_t ds_count;
	osig_t sigs[MAX_SET];
	size_t sig_count;
	uint64_t content;
	bool delete_records;
} oversion_t;

typedef struct oclass {
	char name[32];
	int64_t dprp;
	oversion_t *versions;
	size_t count;
	size_t cap;
} oclass_t;

typedef struct deletion {
	dz_time_t time;
	int key;
} deletion_t;

struct oracle {
	oracle_params_t params;
	char zone[256];
	uint8_t owner_wire[256];
	size_t owner_len;
	okey_t *keys;
	size_t key_count;
	size_t key_cap;
	oclass_t ds;
	oclass_t dnskey;
	oclass_t cds;
	oclass_t *data;
	size_t data_count;
	deletion_t *deletions;
	size_t deletion_count;
	dz_time_t *extra;
	size_t extra_count;
	size_t extra_cap;
	oracle_report_t *report;
};

/* ---------------------------------------------------------------------------
 * Keys, tags and digests
 */

uint16_t
oracle_key_tag(const oracle_key_t *key)
{
	uint32_t ac = 0;
	uint8_t head[4] = { (uint8_t)(key->flags >> 8), (uint8_t)key->flags, 3, key->algorithm };

	for (size_t i = 0; i < 4 + key->public_key_len; i++) {
		uint8_t b = i < 4 ? head[i] : key->public_key[i - 4];
		ac += (i & 1) ? b : (uint32_t)b << 8;
	}
	ac += (ac >> 16) & 0xFFFF;
	return (uint16_t)(ac & 0xFFFF);
}

static void
owner_to_wire(oracle_t *o, const char *zone)
{
	size_t n = 0;
	const char *p = zone;

	while (*p != '\0' && !(p[0] == '.' && p[1] == '\0')) {
		const char *dot = strchr(p, '.');
		size_t len = dot != NULL ? (size_t)(dot - p) : strlen(p);
		o->owner_wire[n++] = (uint8_t)len;
		for (size_t i = 0; i < len; i++)
			o->owner_wire[n++] = (uint8_t)tolower((unsigned char)p[i]);
		p += len;
		if (*p == '.')
			p++;
	}
	o->owner_wire[n++] = 0;
	o->owner_len = n;
}

static oracle_ds_t
make_ds(const oracle_t *o, const okey_t *k, uint8_t digest_type)
{
	oracle_ds_t ds;
	uint8_t head[4] = { (uint8_t)(k->flags >> 8), (uint8_t)k->flags, 3, k->algorithm };
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int len = 0;

	memset(&ds, 0, sizeof(ds));
	ds.tag = k->tag;
	ds.algorithm = k->algorithm;
	ds.digest_type = digest_type;
	EVP_DigestInit_ex(ctx, digest_type == 4 ? EVP_sha384() : EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, o->owner_wire, o->owner_len);
	EVP_DigestUpdate(ctx, head, 4);
	EVP_DigestUpdate(ctx, k->public_key, k->public_key_len);
	EVP_DigestFinal_ex(ctx, ds.digest, &len);
	EVP_MD_CTX_free(ctx);
	ds.digest_len = len;
	return ds;
}

static int
intern_key(oracle_t *o, const oracle_key_t *key)
{
	for (size_t i = 0; i < o->key_count; i++) {
		const okey_t *k = &o->keys[i];
		if (k->flags == key->flags && k->algorithm == key->algorithm &&
		    k->public_key_len == key->public_key_len &&
		    memcmp(k->public_key, key->public_key, key->public_key_len) == 0)
			return (int)i;
	}
	if (o->key_count == o->key_cap) {
		o->key_cap = o->key_cap == 0 ? 16 : o->key_cap * 2;
		o->keys = realloc(o->keys, o->key_cap * sizeof(*o->keys));
	}
	okey_t *k = &o->keys[o->key_count];
	memset(k, 0, sizeof(*k));
	k->flags = key->flags;
	k->algorithm = key->algorithm;
	k->public_key_len = key->public_key_len < KEY_MAX_BYTES ? key->public_key_len
								: KEY_MAX_BYTES;
	memcpy(k->public_key, key->public_key, k->public_key_len);
	k->tag = oracle_key_tag(key);
	return (int)o->key_count++;
}

oracle_ds_t
oracle_make_ds(const oracle_t *o, const oracle_key_t *key)
{
	okey_t k;

	memset(&k, 0, sizeof(k));
	k.flags = key->flags;
	k.algorithm = key->algorithm;
	k.public_key_len = key->public_key_len;
	memcpy(k.public_key, key->public_key, key->public_key_len);
	k.tag = oracle_key_tag(key);
	return make_ds(o, &k, 2);
}

uint64_t
oracle_dnskey_content(const oracle_key_t *keys, size_t count)
{
	uint64_t sum = 0;

	/* A sum of per-key FNV-1a hashes does not depend on the order. */
	for (size_t i = 0; i < count; i++) {
		uint64_t h = 1469598103934665603ULL;
		h = (h ^ keys[i].flags) * 1099511628211ULL;
		h = (h ^ keys[i].algorithm) * 1099511628211ULL;
		for (size_t j = 0; j < keys[i].public_key_len; j++)
			h = (h ^ keys[i].public_key[j]) * 1099511628211ULL;
		sum += h;
	}
	return sum;
}

static bool
supported_ds(const oracle_ds_t *ds)
{
	bool alg = ds->algorithm == 8 || ds->algorithm == 10 || ds->algorithm == 13 ||
		   ds->algorithm == 14 || ds->algorithm == 15 || ds->algorithm == 16;
	return alg && (ds->digest_type == 2 || ds->digest_type == 4);
}

static bool
ds_matches_key(const oracle_t *o, const oracle_ds_t *ds, const okey_t *k)
{
	if (ds->tag != k->tag || ds->algorithm != k->algorithm)
		return false;
	oracle_ds_t want = make_ds(o, k, ds->digest_type);
	return want.digest_len == ds->digest_len &&
	       memcmp(want.digest, ds->digest, ds->digest_len) == 0;
}

/* ---------------------------------------------------------------------------
 * Recording
 */

static oversion_t *
push_version(oclass_t *c, dz_time_t t)
{
	if (c->count == c->cap) {
		c->cap = c->cap == 0 ? 64 : c->cap * 2;
		c->versions = realloc(c->versions, c->cap * sizeof(*c->versions));
	}
	/* Two versions at the same time: the later one replaces the earlier. */
	if (c->count > 0 && c->versions[c->count - 1].published == t)
		c->count--;
	oversion_t *v = &c->versions[c->count++];
	memset(v, 0, sizeof(*v));
	v->published = t;
	return v;
}

static void
add_sigs(oracle_t *o, oversion_t *v, const oracle_sig_t *sigs, size_t count)
{
	for (size_t i = 0; i < count && v->sig_count < MAX_SET; i++) {
		osig_t *s = &v->sigs[v->sig_count++];
		s->key = intern_key(o, &sigs[i].signer);
		s->inception = sigs[i].inception;
		s->expiration = sigs[i].expiration;
		s->covers = sigs[i].covers;
	}
}

static void
init_class(oclass_t *c, const char *name, int64_t dprp, dz_time_t start, uint32_t ttl)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->dprp = dprp;
	oversion_t *v = push_version(c, start);
	v->ttl = ttl;
	v->exists = false;
}

oracle_t *
oracle_create(const oracle_params_t *params)
{
	oracle_t *o = calloc(1, sizeof(*o));

	o->params = *params;
	snprintf(o->zone, sizeof(o->zone), "%s", params->zone);
	o->params.zone = o->zone;
	owner_to_wire(o, o->zone);
	init_class(&o->ds, "DS", params->dprp_parent, params->start, params->parent_negative_ttl);
	init_class(&o->dnskey, "DNSKEY", params->dprp_child, params->start, params->negative_ttl);
	init_class(&o->cds, "CDS", params->dprp_child, params->start, params->negative_ttl);
	return o;
}

void
oracle_destroy(oracle_t *o)
{
	if (o == NULL)
		return;
	free(o->ds.versions);
	free(o->dnskey.versions);
	free(o->cds.versions);
	for (size_t i = 0; i < o->data_count; i++)
		free(o->data[i].versions);
	free(o->data);
	free(o->keys);
	free(o->deletions);
	free(o->extra);
	free(o);
}

int
oracle_add_data(oracle_t *o, const char *name, uint32_t ttl)
{
	o->data = realloc(o->data, (o->data_count + 1) * sizeof(*o->data));
	oclass_t *c = &o->data[o->data_count];
	init_class(c, name, o->params.dprp_child, o->params.start, ttl);
	/* Unsigned data exists; it just has no signatures. */
	c->versions[0].exists = true;
	return (int)o->data_count++;
}

void
oracle_dnskey_version(oracle_t *o, dz_time_t t, uint32_t ttl, const oracle_key_t *keys,
		      size_t key_count, const oracle_sig_t *sigs, size_t sig_count)
{
	oversion_t *v = push_version(&o->dnskey, t);

	v->ttl = key_count > 0 ? ttl : o->params.negative_ttl;
	v->exists = key_count > 0;
	for (size_t i = 0; i < key_count && i < MAX_SET; i++)
		v->keys[v->key_count++] = intern_key(o, &keys[i]);
	v->content = oracle_dnskey_content(keys, key_count);
	add_sigs(o, v, sigs, sig_count);
}

void
oracle_data_version(oracle_t *o, int data, dz_time_t t, uint32_t ttl, const oracle_sig_t *sigs,
		    size_t sig_count)
{
	oversion_t *v = push_version(&o->data[data], t);

	v->ttl = ttl;
	v->exists = true;
	add_sigs(o, v, sigs, sig_count);
}

void
oracle_ds_version(oracle_t *o, dz_time_t t, uint32_t ttl, const oracle_ds_t *ds, size_t count)
{
	oversion_t *v = push_version(&o->ds, t);

	v->ttl = count > 0 ? ttl : o->params.parent_negative_ttl;
	v->exists = count > 0;
	for (size_t i = 0; i < count && i < MAX_SET; i++)
		v->ds[v->ds_count++] = ds[i];
}

void
oracle_cds_version(oracle_t *o, dz_time_t t, const oracle_ds_t *cds, size_t cds_count,
		   const oracle_key_t *cdnskey, size_t cdnskey_count, const oracle_sig_t *sigs,
		   size_t sig_count, bool delete_records)
{
	oversion_t *v = push_version(&o->cds, t);

	v->exists = cds_count > 0 || cdnskey_count > 0 || delete_records;
	v->delete_records = delete_records;
	for (size_t i = 0; i < cds_count && i < MAX_SET; i++)
		v->ds[v->ds_count++] = cds[i];
	for (size_t i = 0; i < cdnskey_count && i < MAX_SET; i++)
		v->keys[v->key_count++] = intern_key(o, &cdnskey[i]);
	add_sigs(o, v, sigs, sig_count);
}

void
oracle_key_deleted(oracle_t *o, dz_time_t t, const oracle_key_t *key)
{
	o->deletions = realloc(o->deletions, (o->deletion_count + 1) * sizeof(*o->deletions));
	o->deletions[o->deletion_count++] = (deletion_t){ t, intern_key(o, key) };
}

void
oracle_breakpoint(oracle_t *o, dz_time_t t)
{
	if (o->extra_count == o->extra_cap) {
		o->extra_cap = o->extra_cap == 0 ? 64 : o->extra_cap * 2;
		o->extra = realloc(o->extra, o->extra_cap * sizeof(*o->extra));
	}
	o->extra[o->extra_count++] = t;
}

/* ---------------------------------------------------------------------------
 * Checking
 */

static void
violation(oracle_t *o, oracle_property_t p, const char *fmt, ...)
{
	oracle_report_t *r = o->report;
	size_t used = strlen(r->first);

	r->violations++;
	r->properties |= (unsigned)p;
	if (r->violations > 4 || used + 2 >= sizeof(r->first))
		return;
	va_list ap;
	va_start(ap, fmt);
	if (used > 0)
		used += (size_t)snprintf(r->first + used, sizeof(r->first) - used, "\n");
	vsnprintf(r->first + used, sizeof(r->first) - used, fmt, ap);
	va_end(ap);
}

/* End of the time a version may be cached: its successor's publication + lag + TTL. */
static dz_time_t
cache_end(const oclass_t *c, size_t i)
{
	if (i + 1 == c->count)
		return DZ_TIME_NEVER;
	return c->versions[i + 1].published + c->dprp + c->versions[i].ttl;
}

/* Last time a version may still be served by a lagging server. */
static dz_time_t
serve_end(const oclass_t *c, size_t i)
{
	if (i + 1 == c->count)
		return DZ_TIME_NEVER;
	return c->versions[i + 1].published + c->dprp;
}

static size_t
cacheable(const oclass_t *c, dz_time_t t, size_t *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < c->count && n < max; i++) {
		if (c->versions[i].published <= t && t < cache_end(c, i))
			out[n++] = i;
	}
	return n;
}

static size_t
current(const oclass_t *c, dz_time_t t)
{
	size_t found = 0;

	for (size_t i = 0; i < c->count; i++) {
		if (c->versions[i].published <= t)
			found = i;
	}
	return found;
}

static bool
sig_valid(const osig_t *s, dz_time_t t)
{
	return s->inception <= t && t <= s->expiration;
}

static bool
version_has_key(const oversion_t *v, int key)
{
	for (size_t i = 0; i < v->key_count; i++) {
		if (v->keys[i] == key)
			return true;
	}
	return false;
}

typedef enum chain {
	CHAIN_INSECURE,
	CHAIN_BOGUS,
	CHAIN_SECURE,
} chain_t;

/*
 * Validate a DNSKEY RRset version against a DS RRset version at time t.
 * Sets trusted[i] for each key of k that a DS points to and that signs k.
 */
static chain_t
validate_chain(const oracle_t *o, const oversion_t *d, const oversion_t *k, dz_time_t t,
	       bool trusted[MAX_SET])
{
	bool any_supported = false;
	bool any_trusted = false;

	memset(trusted, 0, MAX_SET * sizeof(bool));
	if (d->exists) {
		for (size_t i = 0; i < d->ds_count; i++)
			any_supported = any_supported || supported_ds(&d->ds[i]);
	}
	if (!any_supported)
		return CHAIN_INSECURE;
	if (!k->exists)
		return CHAIN_BOGUS;
	for (size_t i = 0; i < k->key_count; i++) {
		const okey_t *key = &o->keys[k->keys[i]];
		bool pointed = false;
		for (size_t j = 0; j < d->ds_count && !pointed; j++)
			pointed = supported_ds(&d->ds[j]) && ds_matches_key(o, &d->ds[j], key);
		if (!pointed)
			continue;
		for (size_t s = 0; s < k->sig_count; s++) {
			const osig_t *sig = &k->sigs[s];
			if (sig->key == k->keys[i] && sig->covers == k->content && sig_valid(sig, t)) {
				trusted[i] = true;
				any_trusted = true;
				break;
			}
		}
	}
	return any_trusted ? CHAIN_SECURE : CHAIN_BOGUS;
}

/* Whether data version s has a valid signature by a zone key of k with algorithm alg (0: any). */
static bool
data_signed(const oracle_t *o, const oversion_t *k, const oversion_t *s, dz_time_t t,
	    uint8_t alg)
{
	for (size_t i = 0; i < s->sig_count; i++) {
		const osig_t *sig = &s->sigs[i];
		if (!sig_valid(sig, t) || !version_has_key(k, sig->key))
			continue;
		const okey_t *key = &o->keys[sig->key];
		if ((key->flags & 0x0100) == 0)
			continue;
		if (alg == 0 || key->algorithm == alg)
			return true;
	}
	return false;
}

static void
check_p1_p3(oracle_t *o, dz_time_t t, dz_time_t sig_time)
{
	size_t ds_v[64], key_v[64], data_v[64];
	size_t nd = cacheable(&o->ds, t, ds_v, 64);
	size_t nk = cacheable(&o->dnskey, t, key_v, 64);
	bool trusted[MAX_SET];

	for (size_t a = 0; a < nd; a++) {
		const oversion_t *d = &o->ds.versions[ds_v[a]];
		for (size_t b = 0; b < nk; b++) {
			const oversion_t *k = &o->dnskey.versions[key_v[b]];
			chain_t chain = validate_chain(o, d, k, sig_time, trusted);
			if (chain == CHAIN_INSECURE)
				continue;
			if (chain == CHAIN_BOGUS) {
				violation(o, ORACLE_P1,
					  "P1 at %" PRId64 ": DS version published %" PRId64
					  " and DNSKEY version published %" PRId64
					  " have no trusted key",
					  t, d->published, k->published);
				continue;
			}
			for (size_t c = 0; c < o->data_count; c++) {
				const oclass_t *cls = &o->data[c];
				size_t ns = cacheable(cls, t, data_v, 64);
				for (size_t e = 0; e < ns; e++) {
					const oversion_t *s = &cls->versions[data_v[e]];
					if (!data_signed(o, k, s, sig_time, 0)) {
						violation(o, ORACLE_P1,
							  "P1 at %" PRId64 ": %s version published "
							  "%" PRId64 " is not signed by DNSKEY version "
							  "published %" PRId64 " (DS version %" PRId64 ")",
							  t, cls->name, s->published, k->published,
							  d->published);
						continue;
					}
					if (o->params.strict_ds_algorithms) {
						for (size_t i = 0; i < d->ds_count; i++) {
							uint8_t alg = d->ds[i].algorithm;
							if (!supported_ds(&d->ds[i]))
								continue;
							bool key_ok = false;
							for (size_t j = 0; j < k->key_count; j++)
								key_ok = key_ok ||
									 (trusted[j] &&
									  o->keys[k->keys[j]].algorithm ==
										  alg);
							if (!key_ok || !data_signed(o, k, s, sig_time, alg))
								violation(o, ORACLE_P3_DS,
									  "P3 at %" PRId64
									  ": algorithm %u of DS version %" PRId64
									  " does not validate %s version "
									  "%" PRId64,
									  t, alg, d->published, cls->name,
									  s->published);
						}
					}
					if (o->params.every_dnskey_algorithm) {
						for (size_t j = 0; j < k->key_count; j++) {
							uint8_t alg = o->keys[k->keys[j]].algorithm;
							if (!data_signed(o, k, s, sig_time, alg))
								violation(o, ORACLE_P3_DNSKEY,
									  "P3 at %" PRId64
									  ": %s version %" PRId64
									  " has no signature of DNSKEY "
									  "algorithm %u (DNSKEY version "
									  "%" PRId64 ")",
									  t, cls->name, s->published, alg,
									  k->published);
						}
					}
				}
			}
		}
	}
}

/* P2, second half: served DNSKEY RRsets hold every algorithm of every cacheable DS RRset. */
static void
check_p2_ds_algorithms(oracle_t *o, dz_time_t t)
{
	size_t ds_v[64];
	size_t nd = cacheable(&o->ds, t, ds_v, 64);

	for (size_t b = 0; b < o->dnskey.count; b++) {
		const oversion_t *k = &o->dnskey.versions[b];
		if (k->published > t || t >= serve_end(&o->dnskey, b))
			continue;
		for (size_t a = 0; a < nd; a++) {
			const oversion_t *d = &o->ds.versions[ds_v[a]];
			for (size_t i = 0; i < d->ds_count; i++) {
				if (!supported_ds(&d->ds[i]))
					continue;
				bool found = false;
				for (size_t j = 0; j < k->key_count && !found; j++)
					found = o->keys[k->keys[j]].algorithm == d->ds[i].algorithm;
				if (!found)
					violation(o, ORACLE_P2,
						  "P2 at %" PRId64 ": DNSKEY version published %" PRId64
						  " lacks algorithm %u of DS version %" PRId64,
						  t, k->published, d->ds[i].algorithm, d->published);
			}
		}
	}
}

/* P2, first half: at each publication, every RRset carries every DNSKEY algorithm. */
static void
check_p2_signing(oracle_t *o, dz_time_t t)
{
	const oversion_t *k = &o->dnskey.versions[current(&o->dnskey, t)];

	if (!k->exists)
		return;
	for (size_t j = 0; j < k->key_count; j++) {
		uint8_t alg = o->keys[k->keys[j]].algorithm;
		bool dnskey_signed = false;
		for (size_t s = 0; s < k->sig_count && !dnskey_signed; s++)
			dnskey_signed = o->keys[k->sigs[s].key].algorithm == alg &&
					sig_valid(&k->sigs[s], t);
		if (!dnskey_signed)
			violation(o, ORACLE_P2,
				  "P2 at %" PRId64 ": DNSKEY version %" PRId64
				  " is not signed with its algorithm %u",
				  t, k->published, alg);
		for (size_t c = 0; c < o->data_count; c++) {
			const oversion_t *s = &o->data[c].versions[current(&o->data[c], t)];
			if (!data_signed(o, k, s, t, alg))
				violation(o, ORACLE_P2,
					  "P2 at %" PRId64 ": %s version %" PRId64
					  " has no signature of algorithm %u of DNSKEY version "
					  "%" PRId64,
					  t, o->data[c].name, s->published, alg, k->published);
		}
	}
}

/*
 * When every cache holds a DNSKEY RRset with the key: the end of the cache
 * life of the last version before the key's first one.  DZ_TIME_NEVER if
 * the key was never published.
 */
static dz_time_t
dnskey_everywhere(const oracle_t *o, int key)
{
	for (size_t i = 0; i < o->dnskey.count; i++) {
		if (version_has_key(&o->dnskey.versions[i], key))
			return i == 0 ? o->dnskey.versions[0].published : cache_end(&o->dnskey, i - 1);
	}
	return DZ_TIME_NEVER;
}

static int
key_of_ds(const oracle_t *o, const oversion_t *k, const oracle_ds_t *ds)
{
	for (size_t i = 0; i < k->key_count; i++) {
		if (ds_matches_key(o, ds, &o->keys[k->keys[i]]))
			return k->keys[i];
	}
	return -1;
}

static void
check_p4(oracle_t *o)
{
	for (size_t i = 1; i < o->cds.count; i++) {
		const oversion_t *c = &o->cds.versions[i];
		if (!c->exists)
			continue;
		dz_time_t t = c->published;
		const oversion_t *k = &o->dnskey.versions[current(&o->dnskey, t)];
		const oversion_t *d = &o->ds.versions[current(&o->ds, t)];
		int named[MAX_SET];
		size_t named_count = 0;

		for (size_t j = 0; j < c->ds_count; j++) {
			int key = key_of_ds(o, k, &c->ds[j]);
			if (key < 0 && o->params.allow_unpublished_cds)
				continue;
			if (key < 0) {
				violation(o, ORACLE_P4,
					  "P4 at %" PRId64 ": CDS for tag %u names no key of the "
					  "DNSKEY RRset",
					  t, c->ds[j].tag);
				continue;
			}
			named[named_count++] = key;
		}
		for (size_t j = 0; j < c->key_count; j++) {
			if (!version_has_key(k, c->keys[j]) && o->params.allow_unpublished_cds)
				continue;
			if (!version_has_key(k, c->keys[j]))
				violation(o, ORACLE_P4,
					  "P4 at %" PRId64 ": CDNSKEY for tag %u names no key of the "
					  "DNSKEY RRset",
					  t, o->keys[c->keys[j]].tag);
			bool in_cds = false;
			for (size_t n = 0; n < named_count && !in_cds; n++)
				in_cds = named[n] == c->keys[j];
			if (!in_cds)
				violation(o, ORACLE_P4,
					  "P4 at %" PRId64 ": CDNSKEY for tag %u has no CDS", t,
					  o->keys[c->keys[j]].tag);
		}
		if (c->key_count > 0) {
			for (size_t n = 0; n < named_count; n++) {
				if (!version_has_key(c, named[n]))
					violation(o, ORACLE_P4,
						  "P4 at %" PRId64 ": CDS for tag %u has no CDNSKEY", t,
						  o->keys[named[n]].tag);
			}
		}
		for (size_t n = 0; n < named_count && !o->params.allow_unpublished_cds; n++) {
			dz_time_t everywhere = dnskey_everywhere(o, named[n]);
			if (everywhere > t)
				violation(o, ORACLE_P4,
					  "P4 at %" PRId64 ": CDS names key %u, whose DNSKEY is not in "
					  "every cache before %" PRId64,
					  t, o->keys[named[n]].tag, everywhere);
		}
		if (d->exists) {
			bool signed_by_parent_key = false;
			for (size_t s = 0; s < c->sig_count && !signed_by_parent_key; s++) {
				for (size_t j = 0; j < d->ds_count && !signed_by_parent_key; j++)
					signed_by_parent_key =
						ds_matches_key(o, &d->ds[j], &o->keys[c->sigs[s].key]);
			}
			if (!signed_by_parent_key)
				violation(o, ORACLE_P4,
					  "P4 at %" PRId64 ": CDS/CDNSKEY not signed by a key of the "
					  "parent's DS RRset",
					  t);
		}
	}
}

static bool
version_mentions(const oracle_t *o, const oversion_t *v, int key)
{
	if (version_has_key(v, key))
		return true;
	for (size_t i = 0; i < v->sig_count; i++) {
		if (v->sigs[i].key == key)
			return true;
	}
	for (size_t i = 0; i < v->ds_count; i++) {
		if (ds_matches_key(o, &v->ds[i], &o->keys[key]))
			return true;
	}
	return false;
}

static void
check_class_for_deleted(oracle_t *o, const oclass_t *c, const deletion_t *del)
{
	for (size_t i = 0; i < c->count; i++) {
		const oversion_t *v = &c->versions[i];
		if (!version_mentions(o, v, del->key))
			continue;
		if (v->published > del->time || cache_end(c, i) > del->time)
			violation(o, ORACLE_P7,
				  "P7: key %u deleted at %" PRId64 " but %s version %" PRId64
				  " (cacheable until %" PRId64 ") uses it",
				  o->keys[del->key].tag, del->time, c->name, v->published,
				  cache_end(c, i));
	}
}

static void
check_p7(oracle_t *o)
{
	for (size_t i = 0; i < o->deletion_count; i++) {
		const deletion_t *del = &o->deletions[i];
		check_class_for_deleted(o, &o->ds, del);
		check_class_for_deleted(o, &o->dnskey, del);
		check_class_for_deleted(o, &o->cds, del);
		for (size_t c = 0; c < o->data_count; c++)
			check_class_for_deleted(o, &o->data[c], del);
	}
}

typedef struct times {
	dz_time_t *t;
	size_t n;
	size_t cap;
} times_t;

static void
add_time(times_t *ts, dz_time_t t)
{
	if (t == DZ_TIME_NEVER || t < 0)
		return;
	if (ts->n == ts->cap) {
		ts->cap = ts->cap == 0 ? 256 : ts->cap * 2;
		ts->t = realloc(ts->t, ts->cap * sizeof(*ts->t));
	}
	ts->t[ts->n++] = t;
}

static int
compare_times(const void *a, const void *b)
{
	dz_time_t x = *(const dz_time_t *)a;
	dz_time_t y = *(const dz_time_t *)b;
	return x < y ? -1 : x > y;
}

static void
add_class_times(times_t *ts, const oclass_t *c)
{
	for (size_t i = 0; i < c->count; i++) {
		const oversion_t *v = &c->versions[i];
		add_time(ts, v->published);
		add_time(ts, serve_end(c, i));
		add_time(ts, cache_end(c, i));
		for (size_t s = 0; s < v->sig_count; s++) {
			add_time(ts, v->sigs[s].inception);
			add_time(ts, v->sigs[s].expiration + 1);
		}
	}
}

unsigned
oracle_check(oracle_t *o, dz_time_t until, oracle_report_t *report)
{
	times_t ts = { 0 };
	times_t publications = { 0 };

	memset(report, 0, sizeof(*report));
	o->report = report;
	add_class_times(&ts, &o->ds);
	add_class_times(&ts, &o->dnskey);
	add_class_times(&ts, &o->cds);
	for (size_t c = 0; c < o->data_count; c++)
		add_class_times(&ts, &o->data[c]);
	for (size_t i = 0; i < o->extra_count; i++)
		add_time(&ts, o->extra[i]);
	qsort(ts.t, ts.n, sizeof(*ts.t), compare_times);

	dz_time_t last = DZ_TIME_NEVER;
	for (size_t i = 0; i < ts.n; i++) {
		dz_time_t t = ts.t[i];
		if (t == last || t > until || t < o->params.start)
			continue;
		last = t;
		for (dz_time_t probe = t - 1; probe <= t; probe++) {
			if (probe < o->params.start)
				continue;
			check_p1_p3(o, probe, probe);
			if (o->params.skew > 0) {
				check_p1_p3(o, probe, probe - o->params.skew);
				check_p1_p3(o, probe, probe + o->params.skew);
			}
			check_p2_ds_algorithms(o, probe);
		}
		report->breakpoints++;
		report->checked_until = t;
	}

	/* P2 signing rule at every publication of the zone. */
	for (size_t c = 0; c < o->data_count; c++) {
		for (size_t i = 1; i < o->data[c].count; i++)
			add_time(&publications, o->data[c].versions[i].published);
	}
	for (size_t i = 1; i < o->dnskey.count; i++)
		add_time(&publications, o->dnskey.versions[i].published);
	for (size_t i = 0; i < publications.n; i++) {
		if (publications.t[i] <= until && publications.t[i] > o->params.start)
			check_p2_signing(o, publications.t[i]);
	}
	check_p4(o);
	check_p7(o);
	free(ts.t);
	free(publications.t);
	o->report = NULL;
	return report->violations;
}
