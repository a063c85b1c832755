#include "config.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/mem.h"
#include "keystore/cds.h"
#include "keystore/publish.h"
#include "sim.h"

#define DATA_SETS 6
#define MAX_SIGS 16
#define MAX_DS 16
#define MAX_SERVERS 8
#define NEVER_LAG (100LL * 366 * 86400)

typedef struct stored_key {
	uint16_t flags;
	uint8_t algorithm;
	uint8_t public_key[DZ_PUBLIC_KEY_MAX];
	size_t public_key_len;
} stored_key_t;

typedef struct stored_sig {
	stored_key_t signer;
	dz_time_t inception;
	dz_time_t expiration;
	uint64_t covers;
} stored_sig_t;

typedef struct rrset {
	const char *name;
	uint32_t ttl;
	uint32_t base_ttl; /* TTL in the zone source; published capped by max-zone-ttl */
	bool dynamic;
	stored_sig_t sigs[MAX_SIGS];
	size_t sig_count;
	int oracle_id;
	int64_t stagger; /* expirations spread over the jitter */
} rrset_t;

typedef struct ds_set {
	oracle_ds_t ds[MAX_DS];
	size_t count;
} ds_set_t;

typedef struct registry_version {
	dz_time_t published;
	ds_set_t set;
} registry_version_t;

typedef struct pending_change {
	dz_time_t at;
	ds_set_t set;
} pending_change_t;

typedef struct confirmation {
	dz_time_t at;
	uint32_t key;
	bool gone;
	dz_time_t request; /* the DS change it confirms */
} confirmation_t;

typedef struct known_key {
	uint8_t key_id[DZ_KEY_ID_MAX];
	size_t key_id_len;
	stored_key_t key;
} known_key_t;

typedef struct label {
	uint32_t key;
	char text[16];
} label_t;

struct sim {
	sim_params_t params;
	dz_policy_t policy;
	dz_key_sim_t *provider;
	dz_key_manager_t *mgr;
	oracle_t *oracle;
	dz_time_t now;
	int64_t dprp_child;
	int64_t dprp_parent;
	uint32_t parent_ttl;
	unsigned servers;
	int64_t lag[MAX_SERVERS];

	/* Signer. */
	rrset_t data[DATA_SETS];
	stored_key_t dnskeys[MAX_SIGS];
	size_t dnskey_count;
	stored_sig_t dnskey_sigs[MAX_SIGS];
	size_t dnskey_sig_count;
	uint64_t dnskey_content;
	uint32_t dnskey_ttl;
	bool dnskey_recorded;
	dz_buf_t last_cds;
	dz_buf_t last_cdnskey;
	uint64_t last_cds_signers;
	uint64_t zone_signers;
	dz_keyset_t served;

	/* Parent. */
	registry_version_t *registry;
	size_t registry_count;
	pending_change_t *pending;
	size_t pending_count;
	dz_buf_t acted_cds; /* CDS content the parent last acted upon */
	bool rolled_back;

	/* Operator. */
	confirmation_t *confirmations;
	size_t confirmation_count;

	/* Records. */
	sim_transition_t *transitions;
	size_t transition_count;
	label_t *labels;
	size_t label_count;
	known_key_t *known;
	size_t known_count;
	size_t deletions_reported;
	dz_time_t next_key_event;
	bool started;
	dz_policy_t next_policy;
	dz_time_t next_policy_at; /* DZ_TIME_NEVER: none pending */
	bool crash_next;
	bool crash_reconcile;
	dz_buf_t log;
	dz_buf_t log_taken;
};

/* ---------------------------------------------------------------------------
 * Small helpers
 */

static void *
grow_array(void *items, size_t count, size_t size)
{
	void *p = realloc(items, (count + 1) * size);
	assert(p != NULL);
	return p;
}

static stored_key_t
store_key(const dz_zone_key_t *z)
{
	stored_key_t k;

	memset(&k, 0, sizeof(k));
	k.flags = z->flags;
	k.algorithm = z->algorithm;
	memcpy(k.public_key, z->public_key, z->public_key_len);
	k.public_key_len = z->public_key_len;
	return k;
}

static oracle_key_t
oracle_key(const stored_key_t *k)
{
	return (oracle_key_t){ k->flags, k->algorithm, k->public_key, k->public_key_len };
}

static uint64_t
hash_bytes(uint64_t h, const void *data, size_t len)
{
	const uint8_t *p = data;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

static dz_time_t
min_time(dz_time_t a, dz_time_t b)
{
	return a < b ? a : b;
}

static void
log_sink(dz_log_level_t level, const char *line, void *ctx)
{
	sim_t *sim = ctx;
	(void)level;
	if (sim->log.len < 1024 * 1024)
		dz_buf_printf(&sim->log, "%s\n", line);
}

/* ---------------------------------------------------------------------------
 * Manager
 */

static void
create_manager(sim_t *sim)
{
	dz_key_manager_config_t config = {
		.zone = "example.com.",
		.state_dir = sim->params.state_dir,
		.policy = &sim->policy,
		.negative_ttl = sim->params.negative_ttl,
		.provider = dz_key_sim_provider(sim->provider),
		.bind_algorithm_order = sim->params.bind_algorithm_order,
	};
	dz_error_t err;

	dz_error_init(&err);
	if (dz_key_manager_create(&config, &sim->mgr, &err) != DZ_OK) {
		fprintf(stderr, "sim: cannot create the key manager: %s\n", dz_error_message(&err));
		abort();
	}
}

/* ---------------------------------------------------------------------------
 * Creation
 */

sim_t *
sim_create(const sim_params_t *params)
{
	sim_t *sim = calloc(1, sizeof(*sim));
	static const struct {
		const char *name;
		bool dynamic;
	} sets[DATA_SETS] = {
		{ "max-ttl", false }, { "min-ttl", false }, { "soa", false },
		{ "negative", false }, { "delegation", false }, { "tlsa", true },
	};

	assert(sim != NULL);
	sim->params = *params;
	assert(dz_policy_copy(&sim->policy, params->policy));
	sim->now = params->start;
	sim->dprp_child = params->dprp_child >= 0 ? params->dprp_child
						  : params->policy->zone_propagation_delay;
	sim->dprp_parent = params->dprp_parent >= 0 ? params->dprp_parent
						    : params->policy->parent_propagation_delay;
	sim->parent_ttl = params->parent_ds_ttl != 0 ? params->parent_ds_ttl : params->policy->ds_ttl;
	sim->servers = params->parent_servers != 0 ? params->parent_servers : 2;
	assert(sim->servers <= MAX_SERVERS);
	int64_t max_lag = 0;
	for (unsigned i = 0; i < sim->servers; i++) {
		sim->lag[i] = sim->servers > 1 ? sim->dprp_parent * (int64_t)i / (sim->servers - 1) : 0;
		if ((int)i == params->lagging_server)
			sim->lag[i] = params->extra_lag < 0 ? NEVER_LAG : sim->lag[i] + params->extra_lag;
		if (sim->lag[i] > max_lag)
			max_lag = sim->lag[i];
	}
	sim->next_key_event = params->start;
	sim->next_policy_at = DZ_TIME_NEVER;

	dz_buf_init(&sim->log);
	dz_buf_init(&sim->log_taken);
	dz_log_set_sink(log_sink, sim);

	sim->provider = dz_key_sim_create(params->seed != 0 ? params->seed : 42);
	dz_key_sim_set_time(sim->provider, params->start);
	create_manager(sim);

	uint32_t max_ttl = params->policy->max_zone_ttl;
	uint32_t negative = params->negative_ttl != 0 ? params->negative_ttl : max_ttl;
	oracle_params_t op = {
		.zone = "example.com.",
		.dprp_child = sim->dprp_child,
		.dprp_parent = max_lag,
		.skew = params->skew,
		.strict_ds_algorithms = params->strict_algorithms,
		.every_dnskey_algorithm = params->strict_algorithms,
		.allow_unpublished_cds = params->cds_before_dnskey,
		.negative_ttl = negative,
		.parent_negative_ttl = 3600,
		.start = params->start - 1,
	};
	sim->oracle = oracle_create(&op);
	uint32_t ttls[DATA_SETS] = { max_ttl, max_ttl < 60 ? max_ttl : 60,
				     max_ttl < 3600 ? max_ttl : 3600, negative, max_ttl, max_ttl };
	for (int i = 0; i < DATA_SETS; i++) {
		rrset_t *r = &sim->data[i];
		r->name = sets[i].name;
		r->dynamic = sets[i].dynamic;
		r->ttl = ttls[i];
		r->base_ttl = i == 0 ? UINT32_MAX : ttls[i];
		r->oracle_id = oracle_add_data(sim->oracle, r->name, r->ttl);
		r->stagger = params->policy->signature_jitter * i / DATA_SETS;
	}
	registry_version_t *v = sim->registry = calloc(1, sizeof(*sim->registry));
	v->published = params->start - 1;
	sim->registry_count = 1;
	return sim;
}

void
sim_destroy(sim_t *sim)
{
	if (sim == NULL)
		return;
	dz_log_set_sink(NULL, NULL);
	dz_key_manager_destroy(sim->mgr);
	dz_key_sim_destroy(sim->provider);
	oracle_destroy(sim->oracle);
	dz_policy_clear(&sim->policy);
	if (sim->next_policy_at != DZ_TIME_NEVER)
		dz_policy_clear(&sim->next_policy);
	dz_buf_clear(&sim->last_cds);
	dz_buf_clear(&sim->last_cdnskey);
	dz_buf_clear(&sim->acted_cds);
	dz_buf_clear(&sim->log);
	dz_buf_clear(&sim->log_taken);
	dz_key_keyset_clear(&sim->served);
	free(sim->registry);
	free(sim->pending);
	free(sim->confirmations);
	free(sim->transitions);
	free(sim->labels);
	free(sim->known);
	free(sim);
}

/* ---------------------------------------------------------------------------
 * The simulated signer
 */

static stored_sig_t
make_sig(const stored_key_t *k, dz_time_t t, int64_t validity, int64_t stagger,
	 const dz_policy_t *p, uint64_t covers)
{
	stored_sig_t s;

	s.signer = *k;
	s.inception = t - p->signature_inception_offset;
	s.expiration = t + validity - stagger;
	s.covers = covers;
	return s;
}

static dz_time_t
earliest_expiration(const stored_sig_t *sigs, size_t count)
{
	dz_time_t e = DZ_TIME_NEVER;
	for (size_t i = 0; i < count; i++)
		e = min_time(e, sigs[i].expiration);
	return e;
}

static void
record_dnskey(sim_t *sim, dz_time_t t)
{
	oracle_key_t keys[MAX_SIGS];
	oracle_sig_t sigs[MAX_SIGS];

	for (size_t i = 0; i < sim->dnskey_count; i++)
		keys[i] = oracle_key(&sim->dnskeys[i]);
	for (size_t i = 0; i < sim->dnskey_sig_count; i++) {
		const stored_sig_t *s = &sim->dnskey_sigs[i];
		sigs[i] = (oracle_sig_t){ oracle_key(&s->signer), s->inception, s->expiration,
					  s->covers };
	}
	oracle_dnskey_version(sim->oracle, t, sim->policy.dnskey_ttl, keys, sim->dnskey_count, sigs,
			      sim->dnskey_sig_count);
}

static void
record_data(sim_t *sim, rrset_t *r, dz_time_t t)
{
	oracle_sig_t sigs[MAX_SIGS];

	for (size_t i = 0; i < r->sig_count; i++) {
		const stored_sig_t *s = &r->sigs[i];
		sigs[i] = (oracle_sig_t){ oracle_key(&s->signer), s->inception, s->expiration, 0 };
	}
	oracle_data_version(sim->oracle, r->oracle_id, t, r->ttl, sigs, r->sig_count);
}

static void
publish_dnskey(sim_t *sim, const dz_keyset_t *ks, dz_time_t t)
{
	stored_key_t keys[MAX_SIGS];
	oracle_key_t okeys[MAX_SIGS];
	size_t n = 0;
	uint64_t signers = 1469598103934665603ULL;

	for (size_t i = 0; i < ks->count && n < MAX_SIGS; i++) {
		if (ks->keys[i].publish) {
			keys[n] = store_key(&ks->keys[i]);
			okeys[n] = oracle_key(&keys[n]);
			n++;
		}
		if (ks->keys[i].sign_keys)
			signers = hash_bytes(signers, ks->keys[i].public_key, ks->keys[i].public_key_len);
	}
	uint64_t content = oracle_dnskey_content(okeys, n);
	bool changed = content != sim->dnskey_content || n != sim->dnskey_count;
	bool due = sim->dnskey_sig_count > 0 &&
		   earliest_expiration(sim->dnskey_sigs, sim->dnskey_sig_count) - t <=
			   sim->policy.signature_refresh;
	uint64_t old_signers = 1469598103934665603ULL;
	for (size_t i = 0; i < sim->dnskey_sig_count; i++)
		old_signers = hash_bytes(old_signers, sim->dnskey_sigs[i].signer.public_key,
					 sim->dnskey_sigs[i].signer.public_key_len);
	if (!changed && !due && signers == old_signers && sim->dnskey_recorded &&
	    sim->dnskey_ttl == sim->policy.dnskey_ttl)
		return;
	sim->dnskey_ttl = sim->policy.dnskey_ttl;

	memcpy(sim->dnskeys, keys, n * sizeof(keys[0]));
	sim->dnskey_count = n;
	sim->dnskey_content = content;
	sim->dnskey_sig_count = 0;
	for (size_t i = 0; i < ks->count; i++) {
		if (!ks->keys[i].sign_keys || n == 0)
			continue;
		stored_key_t k = store_key(&ks->keys[i]);
		sim->dnskey_sigs[sim->dnskey_sig_count++] =
			make_sig(&k, t, sim->policy.signature_validity_dnskey, 0, &sim->policy, content);
	}
	sim->dnskey_recorded = true;
	record_dnskey(sim, t);
}

/* Whether the RRset lacks a valid signature of an algorithm that signs the zone now. */
static bool
missing_algorithm(const rrset_t *r, const dz_keyset_t *ks, dz_time_t t)
{
	for (size_t i = 0; i < ks->count; i++) {
		if (!ks->keys[i].sign_zone)
			continue;
		bool found = false;
		for (size_t s = 0; s < r->sig_count && !found; s++)
			found = r->sigs[s].signer.algorithm == ks->keys[i].algorithm &&
				r->sigs[s].inception <= t && t <= r->sigs[s].expiration;
		if (!found)
			return true;
	}
	return false;
}

/* Whether a key of this algorithm signs the zone. */
static bool
algorithm_signs(const dz_keyset_t *ks, uint8_t algorithm)
{
	for (size_t i = 0; i < ks->count; i++) {
		if (ks->keys[i].sign_zone && ks->keys[i].algorithm == algorithm)
			return true;
	}
	return false;
}

/* Whether the RRset carries exactly one signature of each key that signs the zone. */
static bool
signed_by_exactly(const rrset_t *r, const dz_keyset_t *ks)
{
	size_t signers = 0;

	for (size_t i = 0; i < ks->count; i++) {
		if (!ks->keys[i].sign_zone)
			continue;
		signers++;
		stored_key_t k = store_key(&ks->keys[i]);
		bool found = false;
		for (size_t s = 0; s < r->sig_count && !found; s++)
			found = r->sigs[s].signer.public_key_len == k.public_key_len &&
				memcmp(r->sigs[s].signer.public_key, k.public_key, k.public_key_len) == 0;
		if (!found)
			return false;
	}
	return r->sig_count == signers;
}

/*
 * Re-sign the RRset if it is due; returns whether its signatures changed.
 * Signatures of an algorithm that no longer signs the zone are dropped at
 * once; other old signatures stay until their refresh.
 */
static bool
publish_data(sim_t *sim, rrset_t *r, const dz_keyset_t *ks, dz_time_t t, bool full)
{
	bool due = r->sig_count > 0 &&
		   earliest_expiration(r->sigs, r->sig_count) - t <= sim->policy.signature_refresh;
	bool changed = false;
	/* The zone loader caps TTLs at max-zone-ttl; "max-ttl" follows it up and down. */
	uint32_t ttl = r->base_ttl < sim->policy.max_zone_ttl ? r->base_ttl : sim->policy.max_zone_ttl;
	bool new_ttl = ttl != r->ttl;

	r->ttl = ttl;
	if (r->dynamic || full || due || new_ttl || missing_algorithm(r, ks, t)) {
		r->sig_count = 0;
		for (size_t i = 0; i < ks->count && r->sig_count < MAX_SIGS; i++) {
			if (!ks->keys[i].sign_zone)
				continue;
			stored_key_t k = store_key(&ks->keys[i]);
			r->sigs[r->sig_count++] = make_sig(&k, t, sim->policy.signature_validity,
							   r->stagger, &sim->policy, 0);
		}
		changed = true;
	} else {
		size_t kept = 0;
		for (size_t s = 0; s < r->sig_count; s++) {
			if (algorithm_signs(ks, r->sigs[s].signer.algorithm))
				r->sigs[kept++] = r->sigs[s];
		}
		changed = kept != r->sig_count;
		r->sig_count = kept;
	}
	if (changed)
		record_data(sim, r, t);
	return changed;
}

/* Parse concatenated uncompressed RRs; calls fn with each RDATA. */
static void
each_rdata(const dz_buf_t *buf, void (*fn)(const uint8_t *rdata, size_t len, void *ctx),
	   void *ctx)
{
	size_t pos = 0;

	while (pos < buf->len) {
		while (pos < buf->len && buf->data[pos] != 0)
			pos += buf->data[pos] + 1;
		pos += 1 + 2 + 2 + 4;
		size_t rdlen = ((size_t)buf->data[pos] << 8) | buf->data[pos + 1];
		pos += 2;
		fn(buf->data + pos, rdlen, ctx);
		pos += rdlen;
	}
}

typedef struct cds_parse {
	oracle_ds_t ds[MAX_DS];
	size_t ds_count;
	stored_key_t keys[MAX_DS];
	size_t key_count;
	bool delete_records;
} cds_parse_t;

static void
parse_cds(const uint8_t *rdata, size_t len, void *ctx)
{
	cds_parse_t *c = ctx;
	if (len == 5 && rdata[2] == 0 && rdata[3] == 0) {
		c->delete_records = true;
		return;
	}
	oracle_ds_t *d = &c->ds[c->ds_count++];
	memset(d, 0, sizeof(*d));
	d->tag = (uint16_t)(rdata[0] << 8 | rdata[1]);
	d->algorithm = rdata[2];
	d->digest_type = rdata[3];
	d->digest_len = len - 4;
	memcpy(d->digest, rdata + 4, d->digest_len);
}

static void
parse_cdnskey(const uint8_t *rdata, size_t len, void *ctx)
{
	cds_parse_t *c = ctx;
	if (rdata[3] == 0) {
		c->delete_records = true;
		return;
	}
	stored_key_t *k = &c->keys[c->key_count++];
	memset(k, 0, sizeof(*k));
	k->flags = (uint16_t)(rdata[0] << 8 | rdata[1]);
	k->algorithm = rdata[3];
	k->public_key_len = len - 4;
	memcpy(k->public_key, rdata + 4, k->public_key_len);
}

static bool
same_buf(const dz_buf_t *a, const dz_buf_t *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static void
copy_buf(dz_buf_t *dst, const dz_buf_t *src)
{
	dst->len = 0;
	if (src->len > 0)
		dz_buf_append(dst, src->data, src->len);
}

static void
publish_cds(sim_t *sim, const dz_keyset_t *ks, dz_time_t t)
{
	dz_buf_t cds, cdnskey;
	dz_error_t err;
	uint64_t signers = 1469598103934665603ULL;

	dz_buf_init(&cds);
	dz_buf_init(&cdnskey);
	dz_error_init(&err);
	if (dz_key_cds_rrsets("example.com.", ks, &sim->policy, sim->policy.dnskey_ttl, &cds,
			      &cdnskey, &err) != DZ_OK) {
		fprintf(stderr, "sim: CDS: %s\n", dz_error_message(&err));
		abort();
	}
	for (size_t i = 0; i < ks->count; i++) {
		if (ks->keys[i].sign_keys)
			signers = hash_bytes(signers, ks->keys[i].public_key, ks->keys[i].public_key_len);
	}
	if (same_buf(&cds, &sim->last_cds) && same_buf(&cdnskey, &sim->last_cdnskey) &&
	    signers == sim->last_cds_signers)
		goto cleanup;
	copy_buf(&sim->last_cds, &cds);
	copy_buf(&sim->last_cdnskey, &cdnskey);
	sim->last_cds_signers = signers;

	cds_parse_t parsed;
	memset(&parsed, 0, sizeof(parsed));
	each_rdata(&cds, parse_cds, &parsed);
	each_rdata(&cdnskey, parse_cdnskey, &parsed);
	oracle_key_t okeys[MAX_DS];
	for (size_t i = 0; i < parsed.key_count; i++)
		okeys[i] = oracle_key(&parsed.keys[i]);
	oracle_sig_t sigs[MAX_SIGS];
	size_t sig_count = 0;
	stored_key_t signer_keys[MAX_SIGS];
	for (size_t i = 0; i < ks->count && sig_count < MAX_SIGS; i++) {
		if (!ks->keys[i].sign_keys || (cds.len == 0 && cdnskey.len == 0))
			continue;
		signer_keys[sig_count] = store_key(&ks->keys[i]);
		sigs[sig_count] = (oracle_sig_t){ oracle_key(&signer_keys[sig_count]),
						  t - sim->policy.signature_inception_offset,
						  t + sim->policy.signature_validity_dnskey, 0 };
		sig_count++;
	}
	oracle_cds_version(sim->oracle, t, parsed.ds, parsed.ds_count, okeys, parsed.key_count, sigs,
			   sig_count, parsed.delete_records);

cleanup:
	dz_buf_clear(&cds);
	dz_buf_clear(&cdnskey);
}

/* Publish the zone version of a key set; returns whether it is a full re-sign. */
static bool
publish(sim_t *sim, const dz_keyset_t *ks, dz_time_t t)
{
	uint64_t signers = 1469598103934665603ULL;

	for (size_t i = 0; i < ks->count; i++) {
		if (ks->keys[i].sign_zone)
			signers = hash_bytes(signers, ks->keys[i].public_key, ks->keys[i].public_key_len);
	}
	bool signers_changed = signers != sim->zone_signers;
	bool full = sim->params.full_resign && signers_changed;
	sim->zone_signers = signers;

	publish_dnskey(sim, ks, t);
	/*
	 * Report a full re-sign when the signers changed and this version
	 * re-signed every RRset to exactly the new signers (a new algorithm,
	 * a removed algorithm, the first signing, or full_resign mode).
	 */
	bool complete = signers_changed;
	for (int i = 0; i < DATA_SETS; i++) {
		bool resigned = publish_data(sim, &sim->data[i], ks, t, full);
		complete = complete && resigned && signed_by_exactly(&sim->data[i], ks);
	}
	publish_cds(sim, ks, t);
	dz_key_keyset_clear(&sim->served);
	dz_key_keyset_copy(&sim->served, ks);
	return complete;
}

/* ---------------------------------------------------------------------------
 * The parent
 */

static const ds_set_t *
registry_current(const sim_t *sim)
{
	return &sim->registry[sim->registry_count - 1].set;
}

static bool
same_ds(const oracle_ds_t *a, const oracle_ds_t *b)
{
	return a->tag == b->tag && a->algorithm == b->algorithm &&
	       a->digest_type == b->digest_type && a->digest_len == b->digest_len &&
	       memcmp(a->digest, b->digest, a->digest_len) == 0;
}

static bool
set_has(const ds_set_t *s, const oracle_ds_t *d)
{
	for (size_t i = 0; i < s->count; i++) {
		if (same_ds(&s->ds[i], d))
			return true;
	}
	return false;
}

static bool
same_set(const ds_set_t *a, const ds_set_t *b)
{
	if (a->count != b->count)
		return false;
	for (size_t i = 0; i < a->count; i++) {
		if (!set_has(b, &a->ds[i]))
			return false;
	}
	return true;
}

static void
registry_publish(sim_t *sim, const ds_set_t *set, dz_time_t t)
{
	if (same_set(set, registry_current(sim)))
		return;
	sim->registry = grow_array(sim->registry, sim->registry_count, sizeof(*sim->registry));
	registry_version_t *v = &sim->registry[sim->registry_count++];
	v->published = t;
	v->set = *set;
	oracle_ds_version(sim->oracle, t, sim->parent_ttl, set->ds, set->count);
}

static void
schedule_change(sim_t *sim, dz_time_t at, const ds_set_t *set)
{
	sim->pending = grow_array(sim->pending, sim->pending_count, sizeof(*sim->pending));
	sim->pending[sim->pending_count++] = (pending_change_t){ at, *set };
}

/* The parent reads the CDS the child publishes now and schedules its change. */
static bool
parent_scan(sim_t *sim, dz_time_t t)
{
	if (sim->last_cds.len == 0 || same_buf(&sim->last_cds, &sim->acted_cds))
		return false;
	copy_buf(&sim->acted_cds, &sim->last_cds);
	sim_parent_t behaviour = t < sim->params.parent_normal_until ? SIM_PARENT_INSTANT
								     : sim->params.parent;
	if (behaviour == SIM_PARENT_NEVER)
		return false;

	cds_parse_t parsed;
	memset(&parsed, 0, sizeof(parsed));
	each_rdata(&sim->last_cds, parse_cds, &parsed);
	const ds_set_t *cur = registry_current(sim);
	ds_set_t next;
	memset(&next, 0, sizeof(next));
	if (behaviour == SIM_PARENT_ADD_ONLY)
		next = *cur;
	for (size_t i = 0; i < parsed.ds_count; i++) {
		oracle_ds_t d = parsed.ds[i];
		if (behaviour == SIM_PARENT_WRONG_DIGEST && !set_has(cur, &d))
			d.digest[0] ^= 0xff;
		if (!set_has(&next, &d) && next.count < MAX_DS)
			next.ds[next.count++] = d;
	}
	if (parsed.delete_records)
		next.count = 0;
	schedule_change(sim, t + sim->params.parent_delay, &next);
	if (behaviour == SIM_PARENT_ROLLBACK && !sim->rolled_back) {
		sim->rolled_back = true;
		schedule_change(sim, t + sim->params.parent_delay + sim->params.rollback_after, cur);
	}
	return sim->params.parent_delay == 0;
}

static bool
parent_apply(sim_t *sim, dz_time_t t)
{
	bool changed = false;
	size_t kept = 0;

	for (size_t i = 0; i < sim->pending_count; i++) {
		if (sim->pending[i].at <= t) {
			registry_publish(sim, &sim->pending[i].set, sim->pending[i].at);
			changed = true;
		} else {
			sim->pending[kept++] = sim->pending[i];
		}
	}
	sim->pending_count = kept;
	return changed;
}

/* The DS set server `i` serves at `t`. */
static const ds_set_t *
server_view(const sim_t *sim, unsigned i, dz_time_t t)
{
	const ds_set_t *view = &sim->registry[0].set;
	for (size_t v = 0; v < sim->registry_count; v++) {
		if (sim->registry[v].published + sim->lag[i] <= t)
			view = &sim->registry[v].set;
	}
	return view;
}

static oracle_ds_t
expected_ds(const sim_t *sim, const dz_key_t *k)
{
	oracle_key_t ok = { k->flags, k->algorithm, k->public_key, k->public_key_len };
	return oracle_make_ds(sim->oracle, &ok);
}

bool
sim_parent_has_ds(sim_t *sim, uint32_t key)
{
	const dz_key_t *k = dz_keyring_find((dz_keyring_t *)dz_key_manager_ring(sim->mgr), key);
	if (k == NULL)
		return false;
	oracle_ds_t d = expected_ds(sim, k);
	return set_has(registry_current(sim), &d);
}

/* ---------------------------------------------------------------------------
 * The operator
 */

static bool
confirmation_pending(const sim_t *sim, uint32_t key, bool gone, dz_time_t request)
{
	for (size_t i = 0; i < sim->confirmation_count; i++) {
		const confirmation_t *c = &sim->confirmations[i];
		if (c->key == key && c->gone == gone && c->request == request)
			return true;
	}
	return false;
}

static void
schedule_confirmation(sim_t *sim, dz_time_t at, uint32_t key, bool gone, dz_time_t request)
{
	sim->confirmations =
		grow_array(sim->confirmations, sim->confirmation_count, sizeof(*sim->confirmations));
	sim->confirmations[sim->confirmation_count++] = (confirmation_t){ at, key, gone, request };
}

static bool
observe(sim_t *sim, dz_time_t t)
{
	const dz_keyring_t *ring = dz_key_manager_ring(sim->mgr);
	bool changed = false;

	for (size_t i = 0; i < ring->count; i++) {
		const dz_key_t *k = &ring->keys[i];
		if (k->standby || !dz_key_has_record(k, DZ_REC_DS))
			continue;
		dz_key_state_t ds = k->state[DZ_REC_DS];
		dz_time_t request = k->changed[DZ_REC_DS];
		bool gone = ds == DZ_STATE_UNRETENTIVE;
		if (ds != DZ_STATE_RUMOURED && !gone)
			continue;
		dz_time_t observed = gone ? k->ds_gone : k->ds_seen;
		if (observed != DZ_KEY_TIME_NONE && observed >= request)
			continue;
		if (confirmation_pending(sim, k->number, gone, request))
			continue;
		if (sim->params.operator_early) {
			schedule_confirmation(sim, t, k->number, gone, request);
			continue;
		}
		oracle_ds_t want = expected_ds(sim, k);
		bool all = true;
		for (unsigned s = 0; s < sim->servers && all; s++)
			all = set_has(server_view(sim, s, t), &want) != gone;
		if (all)
			schedule_confirmation(sim, t + sim->params.operator_delay, k->number, gone,
					      request);
	}

	size_t kept = 0;
	for (size_t i = 0; i < sim->confirmation_count; i++) {
		confirmation_t *c = &sim->confirmations[i];
		if (c->at > t) {
			sim->confirmations[kept++] = *c;
			continue;
		}
		char key[16];
		dz_error_t err;
		dz_error_init(&err);
		snprintf(key, sizeof(key), "#%u", c->key);
		dz_result_t r = c->gone ? dz_key_manager_ds_gone(sim->mgr, key, c->at, t, &err)
					: dz_key_manager_ds_seen(sim->mgr, key, c->at, t, &err);
		if (r == DZ_OK)
			changed = true;
	}
	sim->confirmation_count = kept;
	return changed;
}

/* ---------------------------------------------------------------------------
 * Steps
 */

static void
remember_keys(sim_t *sim, const dz_keyring_t *ring)
{
	for (size_t i = 0; i < ring->count; i++) {
		const dz_key_t *k = &ring->keys[i];
		bool known = false;
		for (size_t j = 0; j < sim->known_count && !known; j++)
			known = sim->known[j].key_id_len == k->key_id_len &&
				memcmp(sim->known[j].key_id, k->key_id, k->key_id_len) == 0;
		if (known)
			continue;
		sim->known = grow_array(sim->known, sim->known_count, sizeof(*sim->known));
		known_key_t *n = &sim->known[sim->known_count++];
		memset(n, 0, sizeof(*n));
		memcpy(n->key_id, k->key_id, k->key_id_len);
		n->key_id_len = k->key_id_len;
		n->key.flags = k->flags;
		n->key.algorithm = k->algorithm;
		memcpy(n->key.public_key, k->public_key, k->public_key_len);
		n->key.public_key_len = k->public_key_len;
	}
}

static void
report_deletions(sim_t *sim)
{
	size_t count;
	const dz_key_sim_deletion_t *d = dz_key_sim_deletions(sim->provider, &count);

	for (; sim->deletions_reported < count; sim->deletions_reported++) {
		const dz_key_sim_deletion_t *del = &d[sim->deletions_reported];
		for (size_t j = 0; j < sim->known_count; j++) {
			const known_key_t *k = &sim->known[j];
			if (k->key_id_len == del->key_id_len &&
			    memcmp(k->key_id, del->key_id, del->key_id_len) == 0) {
				oracle_key_t ok = oracle_key(&k->key);
				oracle_key_deleted(sim->oracle, del->time, &ok);
			}
		}
	}
}

static void
assign_labels(sim_t *sim)
{
	const dz_keyring_t *ring = dz_key_manager_ring(sim->mgr);

	for (size_t i = 0; i < ring->count; i++) {
		const dz_key_t *k = &ring->keys[i];
		if (k->standby || strcmp(sim_label(sim, k->number), "?") != 0)
			continue;
		unsigned same_role = 0;
		const char *role = "CSK";
		if (k->role == DZ_ROLE_KSK)
			role = "KSK";
		else if (k->role == DZ_ROLE_ZSK)
			role = "ZSK";
		for (size_t j = 0; j < sim->label_count; j++)
			same_role += strncmp(sim->labels[j].text, role, 3) == 0;
		sim->labels = grow_array(sim->labels, sim->label_count, sizeof(*sim->labels));
		label_t *l = &sim->labels[sim->label_count++];
		l->key = k->number;
		snprintf(l->text, sizeof(l->text), "%s%u", role, same_role + 1);
	}
}

static void
record_transitions(sim_t *sim, const dz_key_run_t *run, dz_time_t t)
{
	for (size_t i = 0; i < run->transition_count; i++) {
		const dz_key_transition_t *tr = &run->transitions[i];
		sim->transitions = grow_array(sim->transitions, sim->transition_count,
					      sizeof(*sim->transitions));
		sim->transitions[sim->transition_count++] =
			(sim_transition_t){ t, tr->key, tr->record, tr->from, tr->to };
	}
}

static void
restart_manager(sim_t *sim, bool reconcile, dz_time_t t)
{
	assert(sim->params.state_dir != NULL);
	dz_key_manager_destroy(sim->mgr);
	sim->mgr = NULL;
	create_manager(sim);
	if (reconcile) {
		dz_error_t err;
		dz_error_init(&err);
		if (dz_key_manager_reconcile(sim->mgr, &sim->served, t, &err) != DZ_OK) {
			fprintf(stderr, "sim: reconcile: %s\n", dz_error_message(&err));
			abort();
		}
	}
}

/* One round at t; returns whether anything changed. */
static bool
round_at(sim_t *sim, dz_time_t t)
{
	bool changed = parent_apply(sim, t);
	dz_key_plan_t *plan = NULL;
	dz_error_t err;

	changed = observe(sim, t) || changed;
	dz_error_init(&err);
	if (dz_key_manager_prepare(sim->mgr, t, &plan, &err) != DZ_OK) {
		/* Halted managers still let the zone be served as it is. */
		sim->next_key_event = DZ_TIME_NEVER;
		return changed;
	}
	remember_keys(sim, dz_key_plan_ring(plan));
	bool full = publish(sim, dz_key_plan_keyset(plan), t);
	if (sim->crash_next) {
		sim->crash_next = false;
		dz_key_plan_destroy(plan);
		restart_manager(sim, sim->crash_reconcile, t);
		return true;
	}
	dz_key_commit_t info = { .published_at = t, .full_resign = full };
	if (dz_key_manager_commit(sim->mgr, plan, &info, &err) != DZ_OK) {
		fprintf(stderr, "sim: commit: %s\n", dz_error_message(&err));
		abort();
	}
	const dz_key_run_t *run = dz_key_plan_run(plan);
	record_transitions(sim, run, t);
	changed = changed || run->transition_count > 0 || run->started_count > 0 ||
		  run->purge_count > 0;
	sim->next_key_event = run->next;
	dz_key_plan_destroy(plan);
	report_deletions(sim);
	assign_labels(sim);
	changed = parent_scan(sim, t) || changed;
	return changed;
}

static void
step(sim_t *sim, dz_time_t t)
{
	assert(t >= sim->now);
	sim->now = t;
	dz_key_sim_set_time(sim->provider, t);
	if (sim->next_policy_at <= t) {
		dz_error_t err;
		dz_error_init(&err);
		dz_policy_clear(&sim->policy);
		sim->policy = sim->next_policy;
		sim->next_policy_at = DZ_TIME_NEVER;
		assert(dz_key_manager_set_policy(sim->mgr, &sim->policy, sim->params.negative_ttl,
						 &err) == DZ_OK);
	}
	for (int i = 0; i < 10 && round_at(sim, t); i++)
		;
	oracle_breakpoint(sim->oracle, t);
}

dz_time_t
sim_next(sim_t *sim)
{
	dz_time_t next = min_time(sim->next_key_event, sim->next_policy_at);
	dz_time_t now = sim->now;

	for (int i = 0; i < DATA_SETS; i++) {
		const rrset_t *r = &sim->data[i];
		if (r->sig_count > 0)
			next = min_time(next, earliest_expiration(r->sigs, r->sig_count) -
						      sim->policy.signature_refresh);
	}
	if (sim->dnskey_sig_count > 0)
		next = min_time(next, earliest_expiration(sim->dnskey_sigs, sim->dnskey_sig_count) -
					      sim->policy.signature_refresh);
	for (size_t i = 0; i < sim->pending_count; i++)
		next = min_time(next, sim->pending[i].at);
	for (size_t i = 0; i < sim->confirmation_count; i++)
		next = min_time(next, sim->confirmations[i].at);
	for (size_t v = 0; v < sim->registry_count; v++) {
		for (unsigned s = 0; s < sim->servers; s++) {
			dz_time_t visible = sim->registry[v].published + sim->lag[s];
			if (visible > now)
				next = min_time(next, visible);
		}
	}
	return next <= now ? now + 1 : next;
}

void
sim_run_until(sim_t *sim, dz_time_t t)
{
	if (!sim->started) {
		sim->started = true;
		step(sim, sim->now);
		if (t == sim->now)
			return;
	}
	for (;;) {
		dz_time_t next = sim_next(sim);
		if (next >= t)
			break;
		step(sim, next);
	}
	step(sim, t);
}

dz_time_t
sim_now(const sim_t *sim)
{
	return sim->now;
}

/* ---------------------------------------------------------------------------
 * Reports
 */

const char *
sim_label(sim_t *sim, uint32_t key)
{
	for (size_t i = 0; i < sim->label_count; i++) {
		if (sim->labels[i].key == key)
			return sim->labels[i].text;
	}
	return "?";
}

uint32_t
sim_key(sim_t *sim, const char *label)
{
	for (size_t i = 0; i < sim->label_count; i++) {
		if (strcmp(sim->labels[i].text, label) == 0)
			return sim->labels[i].key;
	}
	return 0;
}

static int
compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t
sim_describe(sim_t *sim, dz_time_t from, dz_time_t until, char *out, size_t cap)
{
	char **lines = NULL;
	size_t n = 0;

	for (size_t i = 0; i < sim->transition_count; i++) {
		const sim_transition_t *t = &sim->transitions[i];
		if (t->time < from || t->time > until)
			continue;
		lines = grow_array(lines, n, sizeof(*lines));
		lines[n] = malloc(48);
		snprintf(lines[n], 48, "%s %s %s>%s", sim_label(sim, t->key),
			 dz_key_record_label(t->record), dz_key_state_letter(t->from),
			 dz_key_state_letter(t->to));
		n++;
	}
	if (n > 0)
		qsort(lines, n, sizeof(*lines), compare_strings);
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(out + used, cap - used, "%s%s", i > 0 ? ", " : "", lines[i]);
		if (w > 0 && (size_t)w < cap - used)
			used += (size_t)w;
		free(lines[i]);
	}
	free(lines);
	return n;
}

void
sim_print_transitions(sim_t *sim, FILE *out)
{
	static char text[1 << 16];
	dz_time_t last = DZ_TIME_NEVER;

	for (size_t i = 0; i < sim->transition_count; i++) {
		dz_time_t t = sim->transitions[i].time;
		if (t == last)
			continue;
		last = t;
		sim_describe(sim, t, t, text, sizeof(text));
		fprintf(out, "+%" PRId64 "s: %s\n", t - sim->params.start, text);
	}
}

unsigned
sim_check(sim_t *sim, oracle_report_t *report)
{
	return oracle_check(sim->oracle, sim->now, report);
}

dz_key_manager_t *
sim_manager(sim_t *sim)
{
	return sim->mgr;
}

dz_key_sim_t *
sim_provider(sim_t *sim)
{
	return sim->provider;
}

oracle_t *
sim_oracle(sim_t *sim)
{
	return sim->oracle;
}

void
sim_set_policy(sim_t *sim, const dz_policy_t *policy, dz_time_t at)
{
	if (sim->next_policy_at != DZ_TIME_NEVER)
		dz_policy_clear(&sim->next_policy);
	assert(dz_policy_copy(&sim->next_policy, policy));
	sim->next_policy_at = at;
}

void
sim_restart(sim_t *sim)
{
	restart_manager(sim, false, sim->now);
}

void
sim_crash_before_commit(sim_t *sim, bool reconcile)
{
	sim->crash_next = true;
	sim->crash_reconcile = reconcile;
}

size_t
sim_transition_count(const sim_t *sim)
{
	return sim->transition_count;
}

const char *
sim_take_log(sim_t *sim)
{
	sim->log_taken.len = 0;
	if (sim->log.len > 0)
		dz_buf_append(&sim->log_taken, sim->log.data, sim->log.len);
	dz_buf_append_u8(&sim->log_taken, 0);
	sim->log.len = 0;
	return (const char *)sim->log_taken.data;
}
