/*
 * rules.h -- the three validity rules of the key state model and the
 * safety test for one transition.
 *
 * Every function here is pure: it reads an array of keys and, optionally,
 * one hypothetical change to one record, and evaluates the rules on the
 * state vector "as if" that change had been made.  Thread safe.
 *
 * Rule 1: some DS is at the parent (or the zone is being made insecure).
 * Rule 2, per algorithm: every DS a cache may hold leads to a DNSKEY RRset
 *   that a key with that DS signs.
 * Rule 3, per algorithm: every DNSKEY RRset a cache may hold authenticates
 *   the zone data a cache may hold.
 * The clause labels (3a) to (3i) are the ones the comments of BIND 9's
 * lib/dns/keymgr.c use for the same clauses.
 */
#ifndef DZ_KEYSTORE_RULES_H
#define DZ_KEYSTORE_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "keystore/key.h"

/* One record of one key moved to another state, for "as if" evaluation. */
typedef struct dz_key_change {
	size_t key;		/* index into the key array */
	dz_key_record_t record;
	dz_key_state_t state;
} dz_key_change_t;

/*
 * State of `record` of keys[index], with `change` applied (change may be
 * NULL).  Records the key's role lacks read as hidden.
 */
dz_key_state_t dz_key_rule_state(const dz_key_t *keys, size_t index, dz_key_record_t record,
				 const dz_key_change_t *change);

/*
 * Whether z is a successor of x (recursive, so that a chain x->y->z with y
 * stalled in z's states still counts, and an unrelated pair never does).
 * x must start its chain: its predecessor, if any, is completely hidden.
 */
bool dz_key_is_successor(const dz_key_t *keys, size_t count, size_t x, size_t z,
			 const dz_key_change_t *change);

/* Rule 1 (clause 3a): some key's DS is rumoured or omnipresent, or `insecure`. */
bool dz_key_rule1(const dz_key_t *keys, size_t count, const dz_key_change_t *change,
		  bool insecure);

/* Rule 2 for the keys of `algorithm`: clauses (3b) to (3e). */
bool dz_key_rule2(const dz_key_t *keys, size_t count, uint8_t algorithm,
		  const dz_key_change_t *change);

/*
 * Rule 3 for the keys of `algorithm`: "no DS of the algorithm", or (3f) to
 * (3h).  Clause (3i) is not used (see rules.c); dz_key_clause_3i() stays
 * for comparison.
 */
bool dz_key_rule3(const dz_key_t *keys, size_t count, uint8_t algorithm,
		  const dz_key_change_t *change);

/*
 * The signing rule of RFC 4035 section 2.2 for the keys of `algorithm`, on
 * what is published rather than cached: if a DNSKEY of the algorithm is
 * published (rumoured or omnipresent), every RRset must carry a signature
 * by a published key of the algorithm.  A published key must sign the
 * DNSKEY RRset (KRRSIG rumoured or omnipresent) and one must sign the zone
 * (ZRRSIG rumoured or omnipresent).  Unless one of them has an omnipresent
 * ZRRSIG, every key whose signatures may still be in the zone (ZRRSIG
 * rumoured or unretentive) must be published as well.  Rule 3 implies it
 * while a DS of the algorithm can be cached; this keeps insecure zones
 * (before the first DS, or an algorithm without a DS) valid as well.
 *
 * It is not part of dz_key_transition_safety(): keys of one algorithm often
 * have to enter or leave in the same zone version (a KSK and a ZSK of a
 * removed algorithm), which no single move satisfies.  The engine checks it
 * on the states a run would publish instead.
 */
bool dz_key_rule_signing(const dz_key_t *keys, size_t count, uint8_t algorithm,
			 const dz_key_change_t *change);

/* Single clauses, exposed for the unit tests' truth tables. */
bool dz_key_clause_3b(const dz_key_t *keys, size_t count, uint8_t algorithm,
		      const dz_key_change_t *change);
bool dz_key_clause_3c(const dz_key_t *keys, size_t count, uint8_t algorithm,
		      const dz_key_change_t *change);
bool dz_key_clause_3d(const dz_key_t *keys, size_t count, uint8_t algorithm,
		      const dz_key_change_t *change);
bool dz_key_clause_3e(const dz_key_t *keys, size_t count, uint8_t algorithm,
		      const dz_key_change_t *change);
bool dz_key_clause_3f(const dz_key_t *keys, size_t count, uint8_t algorithm,
		      const dz_key_change_t *change);
bool dz_key_clause_3g(const dz_key_t *keys, size_t count, uint8_t algorithm,
		      const dz_key_change_t *change);
bool dz_key_clause_3h(const dz_key_t *keys, size_t count, uint8_t algorithm,
		      const dz_key_change_t *change);
bool dz_key_clause_3i(const dz_key_t *keys, size_t count, uint8_t algorithm,
		      const dz_key_change_t *change);

/* Why a transition is unsafe. */
typedef enum dz_key_unsafe {
	DZ_KEY_SAFE = 0,
	DZ_KEY_BREAKS_RULE1,	   /* the zone would lose its last DS */
	DZ_KEY_BREAKS_RULE2,	   /* a cached DS would lead to no trusted DNSKEY */
	DZ_KEY_BREAKS_RULE3,	   /* a cached DNSKEY RRset would not authenticate cached data */
	DZ_KEY_BREAKS_SIGNING,	   /* published RRsets would lack a published key's signature
				      (reported by the engine, see dz_key_rule_signing()) */
	DZ_KEY_WITHDRAW_INVALID,   /* a withdrawal while rule 2 or 3 is already broken */
} dz_key_unsafe_t;

/* Text for a dz_key_unsafe_t, e.g. "a cached DS would point to no trusted DNSKEY". */
const char *dz_key_unsafe_text(dz_key_unsafe_t why);

/*
 * Whether moving `record` of keys[index] to `next` is DNSSEC-safe: no rule
 * that is true now becomes false (rules 2 and 3 evaluated for the key's
 * algorithm, rule 1 over all keys), and nothing is withdrawn (next is
 * unretentive) while rule 2 or 3 of the algorithm is already broken.
 * `insecure`: the policy has no keys, which waives rule 1.
 */
dz_key_unsafe_t dz_key_transition_safety(const dz_key_t *keys, size_t count, size_t index,
					 dz_key_record_t record, dz_key_state_t next,
					 bool insecure);

#endif
