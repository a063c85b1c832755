#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "signer/check.h"
#include "signer/load.h"
#include "signer/nsec3.h"
#include "signer/rrsig.h"
#include "signer/sign.h"

#define MAX_LOGGED 20

typedef struct checker {
	const dz_zone_t *zone;
	const dz_denial_config_t *denial;
	dz_time_t now;
	uint8_t algorithms[256];   /* algorithms of the DNSKEY RRset, each once */
	size_t algorithm_count;
	bool secure;
	size_t problems;
	atomic_size_t *logged; /* problems logged, shared by the threads of one check */
	dz_error_t *err;
	uint8_t *buf;
} checker_t;

__attribute__((format(printf, 2, 3))) static void
fail(checker_t *c, const char *fmt, ...)
{
	char message[DZ_ERROR_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if (c->problems == 0)
		dz_error_set(c->err, DZ_EVERIFY, "zone %s: self-check failed: %s", c->zone->origin_text,
			     message);
	if (atomic_fetch_add(c->logged, 1) < MAX_LOGGED)
		dz_log_zone(DZ_LOG_ERROR, c->zone->origin_text, "self-check: %s", message);
	c->problems++;
}

static bool
expected_occluded(const dz_node_t *node)
{
	for (const dz_node_t *p = node->parent; p != NULL; p = p->parent) {
		if ((p->flags & DZ_NODE_DNAME) ||
		    (!(p->flags & DZ_NODE_APEX) && dz_node_rrset(p, DZ_TYPE_NS) != NULL))
			return true;
	}
	return false;
}

static void
check_sigs(checker_t *c, const uint8_t *key, size_t key_len, const dz_rrset_t *rrset,
	   bool should_sign)
{
	char name[DZ_NAME_TEXT_MAX];
	char type_text[16];
	bool found[256];
	uint8_t labels;
	dz_rdata_iter_t it;
	const uint8_t *rdata;
	uint16_t len;

	if (!should_sign) {
		if (rrset->sigs != NULL && rrset->sigs->count > 0)
			fail(c, "%s %s must not be signed but has %u signatures",
			     dz_name_key_to_text(key, key_len, name), dz_type_name(rrset->type, type_text),
			     rrset->sigs->count);
		return;
	}
	labels = dz_rrsig_labels(key, key_len);
	for (size_t i = 0; i < c->algorithm_count; i++)
		found[c->algorithms[i]] = false;
	if (rrset->sigs != NULL) {
		dz_rdata_iter_init(&it, rrset->sigs->data, rrset->sigs->len);
		while (dz_rdata_iter_next(&it, &rdata, &len)) {
			dz_rrsig_fields_t f;
			if (!dz_rrsig_parse(rdata, len, &f) || f.type_covered != rrset->type ||
			    f.labels != labels || f.original_ttl != rrset->ttl)
				continue;
			if (dz_rrsig_time(f.inception, c->now) > c->now ||
			    dz_rrsig_time(f.expiration, c->now) <= c->now)
				continue;
			found[f.algorithm] = true;
		}
	}
	for (size_t i = 0; i < c->algorithm_count; i++) {
		if (!found[c->algorithms[i]])
			fail(c, "%s %s has no valid signature of algorithm %u",
			     dz_name_key_to_text(key, key_len, name), dz_type_name(rrset->type, type_text),
			     c->algorithms[i]);
	}
}

static void
check_nsec3_entry(checker_t *c, const dz_nsec3_t *entry)
{
	uint8_t key[DZ_NAME_KEY_MAX];
	size_t key_len = dz_zone_nsec3_owner_key(c->zone, entry->hash, key);
	char name[DZ_NAME_TEXT_MAX];
	size_t len;

	if (entry->node == NULL || entry->rrset == NULL) {
		fail(c, "NSEC3 record %s belongs to no name", dz_name_key_to_text(key, key_len, name));
		return;
	}
	len = dz_denial_nsec3_rdata(c->zone, entry, &c->denial->params, c->buf);
	if (entry->rrset->count != 1 || entry->rrset->len != len + 2 ||
	    memcmp(entry->rrset->data + 2, c->buf, len) != 0 || entry->rrset->ttl != c->denial->ttl)
		fail(c, "NSEC3 record %s is not what the chain needs",
		     dz_name_key_to_text(key, key_len, name));
	check_sigs(c, key, key_len, entry->rrset, true);
}

/* The presentation form of a node's name, for a failure message. */
static const char *
node_text(const dz_node_t *node, char *name)
{
	return dz_name_key_to_text(node->key, node->key_len, name);
}

static void
check_node(checker_t *c, const dz_node_t *node)
{
	char name[DZ_NAME_TEXT_MAX];
	bool occluded = expected_occluded(node);
	const dz_zone_t *zone = c->zone;

	if (!dz_name_key_is_at_or_below(node->key, node->key_len, zone->origin_key, zone->origin_key_len))
		fail(c, "%s is outside the zone", node_text(node, name));
	if (occluded != ((node->flags & DZ_NODE_OCCLUDED) != 0))
		fail(c, "%s is %s occluded in the tree but should %sbe", node_text(node, name),
		     occluded ? "not" : "", occluded ? "" : "not ");

	for (const dz_rrset_t *r = node->rrsets; r != NULL; r = r->next)
		check_sigs(c, node->key, node->key_len, r,
			   c->secure && !occluded && dz_sign_rrset_is_signed(node, r->type));

	if (c->denial->kind == DZ_CHAIN_NSEC && dz_denial_nsec_member(node)) {
		size_t len = dz_denial_nsec_rdata(zone, node, c->buf);
		if (node->nsec == NULL) {
			fail(c, "%s has no NSEC record", node_text(node, name));
		} else {
			if (node->nsec->len != len + 2 || memcmp(node->nsec->data + 2, c->buf, len) != 0 ||
			    node->nsec->ttl != c->denial->ttl)
				fail(c, "NSEC record of %s is not what the chain needs", node_text(node, name));
			check_sigs(c, node->key, node->key_len, node->nsec, true);
		}
	} else if (node->nsec != NULL) {
		fail(c, "%s has an NSEC record but is not in the NSEC chain", node_text(node, name));
	}

	if (c->denial->kind == DZ_CHAIN_NSEC3 &&
	    dz_denial_nsec3_member(node, c->denial->params.opt_out)) {
		uint8_t hash[DZ_NSEC3_HASH_LEN];
		const dz_nsec3_t *entry;
		if (!dz_nsec3_hash_key(node->key, node->key_len, &c->denial->params, hash)) {
			fail(c, "hashing %s failed", node_text(node, name));
			return;
		}
		entry = dz_zone_nsec3_find(zone, hash);
		if (entry == NULL || entry->node != node || node->nsec3 != entry)
			fail(c, "%s has no NSEC3 record with its hash", node_text(node, name));
		else
			check_nsec3_entry(c, entry);
	} else if (node->nsec3 != NULL) {
		fail(c, "%s has an NSEC3 record but is not in the NSEC3 chain", node_text(node, name));
	}
}

/* Maximum number of threads of a full check, and the fewest names worth a thread. */
#define CHECK_THREADS_MAX 8
#define CHECK_NAMES_PER_THREAD 4096

/* A range of names checked by one thread of a full check, with its own problems. */
typedef struct check_part {
	checker_t c;
	dz_error_t err;
	const dz_node_t **nodes;
	size_t count;
	size_t members; /* names of the range in the NSEC3 chain */
	pthread_t thread;
	bool started;
} check_part_t;

static void *
check_part(void *arg)
{
	check_part_t *part = arg;
	const dz_denial_config_t *denial = part->c.denial;

	for (size_t i = 0; i < part->count; i++) {
		check_node(&part->c, part->nodes[i]);
		if (denial->kind == DZ_CHAIN_NSEC3 &&
		    dz_denial_nsec3_member(part->nodes[i], denial->params.opt_out))
			part->members++;
	}
	return NULL;
}

/*
 * Check every name, in parallel when the zone is large: the names are
 * split into ranges of the canonical order, one per thread.  The problems
 * of each range are added to `c`, whose first problem then is the first of
 * the earliest range that has one.  Returns the names in the NSEC3 chain,
 * or SIZE_MAX when memory ran out.
 */
static size_t
check_all_names(checker_t *c)
{
	const dz_zone_t *zone = c->zone;
	check_part_t parts[CHECK_THREADS_MAX];
	const dz_node_t **nodes = NULL;
	size_t count = 0;
	size_t members = 0;
	unsigned threads;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	nodes = malloc((zone->names.count > 0 ? zone->names.count : 1) * sizeof(*nodes));
	if (nodes == NULL)
		return SIZE_MAX;
	for (const dz_node_t *n = dz_zone_first(zone); n != NULL && count < zone->names.count;
	     n = dz_zone_next(n))
		nodes[count++] = n;
	threads = cpus > 1 ? (unsigned)cpus : 1;
	if (threads > CHECK_THREADS_MAX)
		threads = CHECK_THREADS_MAX;
	if (threads > count / CHECK_NAMES_PER_THREAD)
		threads = count / CHECK_NAMES_PER_THREAD > 0 ? (unsigned)(count / CHECK_NAMES_PER_THREAD) : 1;

	memset(parts, 0, sizeof(parts));
	for (unsigned t = 0; t < threads; t++) {
		check_part_t *part = &parts[t];
		part->c = *c;
		part->c.problems = 0;
		part->c.err = &part->err;
		dz_error_init(&part->err);
		part->c.buf = malloc(DZ_DENIAL_RDATA_MAX);
		part->nodes = nodes + count * t / threads;
		part->count = count * (t + 1) / threads - count * t / threads;
		if (part->c.buf == NULL) {
			for (unsigned k = 0; k <= t; k++)
				free(parts[k].c.buf);
			free(nodes);
			return SIZE_MAX;
		}
	}
	/* The first range runs on this thread, and so does any range whose thread did not start. */
	for (unsigned t = 1; t < threads; t++)
		parts[t].started = pthread_create(&parts[t].thread, NULL, check_part, &parts[t]) == 0;
	check_part(&parts[0]);
	for (unsigned t = 1; t < threads; t++) {
		if (parts[t].started)
			pthread_join(parts[t].thread, NULL);
		else
			check_part(&parts[t]);
	}

	for (unsigned t = 0; t < threads; t++) {
		check_part_t *part = &parts[t];
		if (part->c.problems > 0 && c->problems == 0 && c->err != NULL)
			*c->err = part->err;
		c->problems += part->c.problems;
		members += part->members;
		free(part->c.buf);
	}
	free(nodes);
	return members;
}

dz_result_t
dz_check_zone(const dz_zone_t *zone, const dz_keyset_t *keys, const dz_denial_config_t *denial,
	      dz_time_t now, bool full, dz_error_t *err)
{
	checker_t c;
	atomic_size_t logged = 0;
	const dz_rrset_t *dnskey = dz_node_rrset(zone->apex, DZ_TYPE_DNSKEY);
	dz_rdata_iter_t it;
	const uint8_t *rdata;
	uint16_t len;

	memset(&c, 0, sizeof(c));
	c.zone = zone;
	c.denial = denial;
	c.now = now;
	c.logged = &logged;
	c.err = err;
	c.secure = keys->count > 0;
	c.buf = malloc(DZ_DENIAL_RDATA_MAX);
	if (c.buf == NULL)
		return dz_error_set(err, DZ_ENOMEM, "zone %s: out of memory", zone->origin_text);
	if (dnskey != NULL) {
		dz_rdata_iter_init(&it, dnskey->data, dnskey->len);
		while (dz_rdata_iter_next(&it, &rdata, &len)) {
			bool seen = false;
			for (size_t i = 0; i < c.algorithm_count && len >= 4; i++)
				seen = seen || c.algorithms[i] == rdata[3];
			if (len >= 4 && !seen)
				c.algorithms[c.algorithm_count++] = rdata[3];
		}
	}
	if (c.secure && dnskey == NULL)
		fail(&c, "no DNSKEY RRset at the apex");

	if (full) {
		size_t members = check_all_names(&c);
		if (members == SIZE_MAX) {
			free(c.buf);
			return dz_error_set(err, DZ_ENOMEM, "zone %s: out of memory", zone->origin_text);
		}
		if (denial->kind == DZ_CHAIN_NSEC3 && members != zone->nsec3.count)
			fail(&c, "the NSEC3 chain has %zu records for %zu names", zone->nsec3.count, members);
		if (denial->kind != DZ_CHAIN_NSEC3 && zone->nsec3.count > 0)
			fail(&c, "%zu NSEC3 records left in a zone without an NSEC3 chain", zone->nsec3.count);
	} else {
		check_node(&c, zone->apex);
		for (size_t i = 0; i < zone->dirty.count; i++) {
			const dz_node_t *n = zone->dirty.items[i];
			if (!(n->flags & DZ_NODE_DEAD))
				check_node(&c, n);
		}
		for (size_t i = 0; i < zone->dirty_nsec3.count && denial->kind == DZ_CHAIN_NSEC3; i++) {
			const dz_nsec3_t *e = zone->dirty_nsec3.items[i];
			if (!(e->flags & DZ_NSEC3_DEAD))
				check_nsec3_entry(&c, e);
		}
	}
	free(c.buf);
	if (c.problems > MAX_LOGGED)
		dz_log_zone(DZ_LOG_ERROR, zone->origin_text, "self-check: %zu more problems not shown",
			    c.problems - MAX_LOGGED);
	if (c.problems > 0) {
		if (c.problems > 1 && err != NULL) {
			size_t l = strlen(err->message);
			snprintf(err->message + l, sizeof(err->message) - l, " (and %zu more problems)",
				 c.problems - 1);
		}
		return DZ_EVERIFY;
	}
	return DZ_OK;
}
