/*
 * Unit tests of the validity rules: truth tables per clause, hypothetical
 * states, other algorithms, the successor relation, and transition safety
 * at each step of the rollovers (allowed at the step, refused one step
 * earlier).  Expected values are worked out by hand from the rules'
 * definitions in keystore/rules.h.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "keystore/rules.h"

#define A DZ_ALG_ECDSAP256SHA256
#define B DZ_ALG_RSASHA256

/*
 * A key with states given as four letters for DNSKEY, KRRSIG, ZRRSIG and
 * DS (H, R, O, U; '-' where the role has no such record).
 */
static dz_key_t
key(uint32_t number, dz_key_role_t role, uint8_t algorithm, const char *states)
{
	dz_key_t k;

	dz_key_init(&k);
	k.number = number;
	k.role = role;
	k.algorithm = algorithm;
	k.goal = DZ_GOAL_OMNIPRESENT;
	for (int r = 0; r < DZ_REC_COUNT; r++) {
		switch (states[r]) {
		case 'R':
			k.state[r] = DZ_STATE_RUMOURED;
			break;
		case 'O':
			k.state[r] = DZ_STATE_OMNIPRESENT;
			break;
		case 'U':
			k.state[r] = DZ_STATE_UNRETENTIVE;
			break;
		default:
			k.state[r] = DZ_STATE_HIDDEN;
			break;
		}
	}
	return k;
}

static void
link_pair(dz_key_t *pred, dz_key_t *succ)
{
	pred->successor = succ->number;
	succ->predecessor = pred->number;
}

/* --- Rule 1 ------------------------------------------------------------- */

static void
rule1_needs_rumoured_or_omnipresent_ds(void **state)
{
	(void)state;
	dz_key_t k = key(1, DZ_ROLE_KSK, A, "OO-H");
	assert_false(dz_key_rule1(&k, 1, NULL, false));
	k.state[DZ_REC_DS] = DZ_STATE_RUMOURED;
	assert_true(dz_key_rule1(&k, 1, NULL, false));
	k.state[DZ_REC_DS] = DZ_STATE_OMNIPRESENT;
	assert_true(dz_key_rule1(&k, 1, NULL, false));
	k.state[DZ_REC_DS] = DZ_STATE_UNRETENTIVE;
	assert_false(dz_key_rule1(&k, 1, NULL, false));
	/* Waived when the policy makes the zone insecure. */
	assert_true(dz_key_rule1(&k, 1, NULL, true));
	assert_false(dz_key_rule1(NULL, 0, NULL, false));
}

static void
rule1_counts_every_algorithm(void **state)
{
	(void)state;
	dz_key_t keys[2] = { key(1, DZ_ROLE_KSK, A, "OO-U"), key(2, DZ_ROLE_KSK, B, "OO-R") };
	assert_true(dz_key_rule1(keys, 2, NULL, false));
}

static void
rule1_hypothetical_change(void **state)
{
	(void)state;
	dz_key_t k = key(1, DZ_ROLE_KSK, A, "OO-O");
	dz_key_change_t c = { 0, DZ_REC_DS, DZ_STATE_UNRETENTIVE };
	assert_true(dz_key_rule1(&k, 1, NULL, false));
	assert_false(dz_key_rule1(&k, 1, &c, false));
	/* The array itself is unchanged. */
	assert_int_equal(k.state[DZ_REC_DS], DZ_STATE_OMNIPRESENT);
}

/* --- Rule 2 ------------------------------------------------------------- */

static void
clause_3b_chain_of_trust(void **state)
{
	(void)state;
	dz_key_t k = key(1, DZ_ROLE_KSK, A, "OO-O");
	assert_true(dz_key_clause_3b(&k, 1, A, NULL));
	/* Each record must be omnipresent. */
	static const char *const broken[] = { "RO-O", "OR-O", "OO-R", "UO-O", "OU-O", "OO-U" };
	for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
		dz_key_t b = key(1, DZ_ROLE_KSK, A, broken[i]);
		assert_false(dz_key_clause_3b(&b, 1, A, NULL));
	}
	/* A ZSK has no KRRSIG and no DS. */
	dz_key_t z = key(1, DZ_ROLE_ZSK, A, "O-O-");
	assert_false(dz_key_clause_3b(&z, 1, A, NULL));
	/* A CSK qualifies like a KSK. */
	dz_key_t c = key(1, DZ_ROLE_CSK, A, "OOOO");
	assert_true(dz_key_clause_3b(&c, 1, A, NULL));
}

static void
clause_3b_other_algorithm(void **state)
{
	(void)state;
	dz_key_t k = key(1, DZ_ROLE_KSK, B, "OO-O");
	assert_true(dz_key_clause_3b(&k, 1, B, NULL));
	assert_false(dz_key_clause_3b(&k, 1, A, NULL));
	/* B's chain does not make algorithm A's rule 2 hold. */
	dz_key_t mixed[2] = { key(1, DZ_ROLE_KSK, B, "OO-O"), key(2, DZ_ROLE_KSK, A, "RR-R") };
	assert_true(dz_key_rule2(mixed, 2, B, NULL));
	assert_false(dz_key_rule2(mixed, 2, A, NULL));
}

static void
clause_3c_ds_swap(void **state)
{
	(void)state;
	dz_key_t keys[2] = { key(1, DZ_ROLE_KSK, A, "OO-U"), key(2, DZ_ROLE_KSK, A, "OO-R") };
	/* Without a link the pair is no swap. */
	assert_false(dz_key_clause_3c(keys, 2, A, NULL));
	link_pair(&keys[0], &keys[1]);
	assert_true(dz_key_clause_3c(keys, 2, A, NULL));
	/* The direction matters: the DS leaves the predecessor. */
	dz_key_t reversed[2] = { key(1, DZ_ROLE_KSK, A, "OO-R"), key(2, DZ_ROLE_KSK, A, "OO-U") };
	link_pair(&reversed[0], &reversed[1]);
	assert_false(dz_key_clause_3c(reversed, 2, A, NULL));
	/* The successor's DNSKEY and KRRSIG must already be omnipresent. */
	keys[1].state[DZ_REC_DNSKEY] = DZ_STATE_RUMOURED;
	assert_false(dz_key_clause_3c(keys, 2, A, NULL));
	keys[1].state[DZ_REC_DNSKEY] = DZ_STATE_OMNIPRESENT;
	keys[1].state[DZ_REC_KRRSIG] = DZ_STATE_RUMOURED;
	assert_false(dz_key_clause_3c(keys, 2, A, NULL));
	/* Keys of another algorithm never form the swap. */
	keys[1].state[DZ_REC_KRRSIG] = DZ_STATE_OMNIPRESENT;
	keys[1].algorithm = B;
	assert_false(dz_key_clause_3c(keys, 2, A, NULL));
	assert_false(dz_key_clause_3c(keys, 2, B, NULL));
}

static void
clause_3d_dnskey_swap_combinations(void **state)
{
	(void)state;
	static const char *const preds[] = { "UU-O", "OU-O", "UO-O" };
	static const char *const succs[] = { "RR-O", "OR-O", "RO-O" };

	for (size_t p = 0; p < 3; p++) {
		for (size_t s = 0; s < 3; s++) {
			dz_key_t keys[2] = { key(1, DZ_ROLE_KSK, A, preds[p]),
					     key(2, DZ_ROLE_KSK, A, succs[s]) };
			assert_false(dz_key_clause_3d(keys, 2, A, NULL));
			link_pair(&keys[0], &keys[1]);
			assert_true(dz_key_clause_3d(keys, 2, A, NULL));
		}
	}
	/* Both omnipresent is no swap on either side, nor is a DS not omnipresent. */
	static const char *const bad[][2] = {
		{ "OO-O", "RR-O" }, { "UU-O", "OO-O" }, { "UU-U", "RR-O" },
		{ "UU-O", "RR-R" }, { "HU-O", "RR-O" }, { "UU-O", "HR-O" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		dz_key_t keys[2] = { key(1, DZ_ROLE_KSK, A, bad[i][0]),
				     key(2, DZ_ROLE_KSK, A, bad[i][1]) };
		link_pair(&keys[0], &keys[1]);
		assert_false(dz_key_clause_3d(keys, 2, A, NULL));
	}
}

static void
clause_3e_new_chain_or_insecure(void **state)
{
	(void)state;
	/* No DS at all: vacuously true. */
	dz_key_t hidden = key(1, DZ_ROLE_KSK, A, "RR-H");
	assert_true(dz_key_clause_3e(&hidden, 1, A, NULL));
	/* A DS being introduced for a key that signs the DNSKEY RRset everywhere. */
	dz_key_t ready = key(1, DZ_ROLE_KSK, A, "OO-R");
	assert_true(dz_key_clause_3e(&ready, 1, A, NULL));
	/* ... but not for a key still being published. */
	dz_key_t early = key(1, DZ_ROLE_KSK, A, "RR-R");
	assert_false(dz_key_clause_3e(&early, 1, A, NULL));
	/* A second key with a full chain makes it safe (double-DS introduction). */
	dz_key_t pair[2] = { key(1, DZ_ROLE_KSK, A, "OO-O"), key(2, DZ_ROLE_KSK, A, "HH-R") };
	assert_true(dz_key_clause_3e(pair, 2, A, NULL));
	/* An unretentive DS of a withdrawn key needs a chain elsewhere. */
	dz_key_t stale[2] = { key(1, DZ_ROLE_KSK, A, "HH-U"), key(2, DZ_ROLE_KSK, A, "OO-R") };
	assert_false(dz_key_clause_3e(stale, 2, A, NULL));
	stale[1].state[DZ_REC_DS] = DZ_STATE_OMNIPRESENT;
	assert_true(dz_key_clause_3e(stale, 2, A, NULL));
	/* The chain must be of the same algorithm. */
	dz_key_t mixed[2] = { key(1, DZ_ROLE_KSK, B, "OO-O"), key(2, DZ_ROLE_KSK, A, "HH-R") };
	assert_false(dz_key_clause_3e(mixed, 2, A, NULL));
}

/* --- Rule 3 ------------------------------------------------------------- */

static void
rule3_true_without_ds(void **state)
{
	(void)state;
	/* Nothing signs, but no cache can hold a DS of the algorithm. */
	dz_key_t keys[2] = { key(1, DZ_ROLE_KSK, A, "RR-H"), key(2, DZ_ROLE_ZSK, A, "R-H-") };
	assert_true(dz_key_rule3(keys, 2, A, NULL));
	keys[0].state[DZ_REC_DS] = DZ_STATE_UNRETENTIVE;
	assert_false(dz_key_rule3(keys, 2, A, NULL));
	/* A DS of another algorithm does not count. */
	keys[0].algorithm = B;
	assert_true(dz_key_rule3(keys, 2, A, NULL));
}

static void
clause_3f_signing_key(void **state)
{
	(void)state;
	dz_key_t z = key(1, DZ_ROLE_ZSK, A, "O-O-");
	assert_true(dz_key_clause_3f(&z, 1, A, NULL));
	static const char *const broken[] = { "R-O-", "O-R-", "U-O-", "O-U-", "H-O-" };
	for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
		dz_key_t b = key(1, DZ_ROLE_ZSK, A, broken[i]);
		assert_false(dz_key_clause_3f(&b, 1, A, NULL));
	}
	/* A KSK never signs zone data. */
	dz_key_t k = key(1, DZ_ROLE_KSK, A, "OO-O");
	assert_false(dz_key_clause_3f(&k, 1, A, NULL));
	assert_false(dz_key_clause_3f(&z, 1, B, NULL));
}

static void
clause_3g_dnskey_swap(void **state)
{
	(void)state;
	dz_key_t keys[2] = { key(1, DZ_ROLE_ZSK, A, "U-O-"), key(2, DZ_ROLE_ZSK, A, "R-O-") };
	assert_false(dz_key_clause_3g(keys, 2, A, NULL));
	link_pair(&keys[0], &keys[1]);
	assert_true(dz_key_clause_3g(keys, 2, A, NULL));
	keys[1].state[DZ_REC_ZRRSIG] = DZ_STATE_RUMOURED;
	assert_false(dz_key_clause_3g(keys, 2, A, NULL));
}

static void
clause_3h_signature_swap(void **state)
{
	(void)state;
	dz_key_t keys[2] = { key(1, DZ_ROLE_ZSK, A, "O-U-"), key(2, DZ_ROLE_ZSK, A, "O-R-") };
	assert_false(dz_key_clause_3h(keys, 2, A, NULL));
	link_pair(&keys[0], &keys[1]);
	assert_true(dz_key_clause_3h(keys, 2, A, NULL));
	/* The successor's DNSKEY must be omnipresent before its signatures replace the old. */
	keys[1].state[DZ_REC_DNSKEY] = DZ_STATE_RUMOURED;
	assert_false(dz_key_clause_3h(keys, 2, A, NULL));
	/* And the pair must be of the same algorithm. */
	keys[1].state[DZ_REC_DNSKEY] = DZ_STATE_OMNIPRESENT;
	keys[1].algorithm = B;
	assert_false(dz_key_clause_3h(keys, 2, A, NULL));
}

static void
clause_3i_matching_dnskey_states(void **state)
{
	(void)state;
	/* Every published DNSKEY state has a key in that state with omnipresent signatures. */
	dz_key_t one = key(1, DZ_ROLE_ZSK, A, "R-O-");
	assert_true(dz_key_clause_3i(&one, 1, A, NULL));
	dz_key_t unsigned_key = key(1, DZ_ROLE_ZSK, A, "O-R-");
	assert_false(dz_key_clause_3i(&unsigned_key, 1, A, NULL));
	dz_key_t pair[2] = { key(1, DZ_ROLE_ZSK, A, "O-O-"), key(2, DZ_ROLE_ZSK, A, "R-H-") };
	assert_false(dz_key_clause_3i(pair, 2, A, NULL));
	pair[1].state[DZ_REC_ZRRSIG] = DZ_STATE_OMNIPRESENT;
	assert_true(dz_key_clause_3i(pair, 2, A, NULL));
	/* Hidden DNSKEYs need nothing. */
	dz_key_t gone = key(1, DZ_ROLE_ZSK, A, "H-U-");
	assert_true(dz_key_clause_3i(&gone, 1, A, NULL));
}

static void
rule3_hypothetical_next_state(void **state)
{
	(void)state;
	/* Withdrawing the only signing ZSK's signatures breaks rule 3 only "as if". */
	dz_key_t keys[2] = { key(1, DZ_ROLE_KSK, A, "OO-O"), key(2, DZ_ROLE_ZSK, A, "O-O-") };
	dz_key_change_t withdraw = { 1, DZ_REC_ZRRSIG, DZ_STATE_UNRETENTIVE };
	assert_true(dz_key_rule3(keys, 2, A, NULL));
	assert_false(dz_key_rule3(keys, 2, A, &withdraw));
	/* A change to a record the role lacks is ignored. */
	dz_key_change_t bogus = { 1, DZ_REC_DS, DZ_STATE_OMNIPRESENT };
	assert_int_equal(dz_key_rule_state(keys, 1, DZ_REC_DS, &bogus), DZ_STATE_HIDDEN);
}

/* --- Signing rule (RFC 4035 section 2.2, on published data) --------------- */

static void
signing_rule_needs_published_signers(void **state)
{
	(void)state;
	/* Nothing published: nothing to sign. */
	dz_key_t none[2] = { key(1, DZ_ROLE_KSK, A, "HH-H"), key(2, DZ_ROLE_ZSK, A, "H-R-") };
	assert_true(dz_key_rule_signing(none, 2, A, NULL));
	/* Published keys need a KRRSIG signer and a ZRRSIG signer. */
	dz_key_t ok[2] = { key(1, DZ_ROLE_KSK, A, "RR-H"), key(2, DZ_ROLE_ZSK, A, "R-R-") };
	assert_true(dz_key_rule_signing(ok, 2, A, NULL));
	dz_key_t no_ksk[2] = { key(1, DZ_ROLE_KSK, A, "RH-H"), key(2, DZ_ROLE_ZSK, A, "R-R-") };
	assert_false(dz_key_rule_signing(no_ksk, 2, A, NULL));
	dz_key_t no_zsk[2] = { key(1, DZ_ROLE_KSK, A, "RR-H"), key(2, DZ_ROLE_ZSK, A, "H-R-") };
	assert_false(dz_key_rule_signing(no_zsk, 2, A, NULL));
	/* Other algorithms do not count. */
	dz_key_t other[2] = { key(1, DZ_ROLE_CSK, B, "OOOO"), key(2, DZ_ROLE_ZSK, A, "O-H-") };
	assert_false(dz_key_rule_signing(other, 2, A, NULL));
	assert_true(dz_key_rule_signing(other, 2, B, NULL));
}

static void
signing_rule_old_signatures_need_dnskey(void **state)
{
	(void)state;
	/* ZSK 3 signs new RRsets; RRsets not yet re-signed carry ZSK 2's signature. */
	dz_key_t keys[3] = { key(1, DZ_ROLE_KSK, A, "OO-H"), key(2, DZ_ROLE_ZSK, A, "O-U-"),
			     key(3, DZ_ROLE_ZSK, A, "O-R-") };
	assert_true(dz_key_rule_signing(keys, 3, A, NULL));
	/* Withdrawing ZSK 2's DNSKEY would leave those RRsets unsigned by a published key. */
	dz_key_change_t withdraw = { 1, DZ_REC_DNSKEY, DZ_STATE_UNRETENTIVE };
	assert_false(dz_key_rule_signing(keys, 3, A, &withdraw));
	/* Once ZSK 3's signatures are everywhere, it may go. */
	keys[2].state[DZ_REC_ZRRSIG] = DZ_STATE_OMNIPRESENT;
	assert_true(dz_key_rule_signing(keys, 3, A, &withdraw));
	/* Without a DS rule 3 allows the withdrawal; the signing rule does not. */
	keys[2].state[DZ_REC_ZRRSIG] = DZ_STATE_RUMOURED;
	assert_true(dz_key_rule3(keys, 3, A, &withdraw));
	assert_false(dz_key_rule_signing(keys, 3, A, &withdraw));
}

/* --- Successor relation --------------------------------------------------- */

static void
successor_direct_pair(void **state)
{
	(void)state;
	dz_key_t keys[2] = { key(1, DZ_ROLE_KSK, A, "OO-U"), key(2, DZ_ROLE_KSK, A, "OO-R") };
	assert_false(dz_key_is_successor(keys, 2, 0, 1, NULL));
	link_pair(&keys[0], &keys[1]);
	assert_true(dz_key_is_successor(keys, 2, 0, 1, NULL));
	assert_false(dz_key_is_successor(keys, 2, 1, 0, NULL));
	/* A one-sided link does not count. */
	keys[0].successor = 0;
	assert_false(dz_key_is_successor(keys, 2, 0, 1, NULL));
}

static void
successor_chain_with_stalled_middle(void **state)
{
	(void)state;
	/* x -> y -> z where y stalled in exactly z's states. */
	dz_key_t keys[3] = { key(1, DZ_ROLE_ZSK, A, "O-U-"), key(2, DZ_ROLE_ZSK, A, "O-R-"),
			     key(3, DZ_ROLE_ZSK, A, "O-R-") };
	link_pair(&keys[0], &keys[1]);
	link_pair(&keys[1], &keys[2]);
	assert_true(dz_key_is_successor(keys, 3, 0, 1, NULL));
	assert_true(dz_key_is_successor(keys, 3, 0, 2, NULL));
	/* y is not a chain start while x is not completely hidden. */
	assert_false(dz_key_is_successor(keys, 3, 1, 2, NULL));
	/* y not stalled like z: x and z are unrelated. */
	keys[1].state[DZ_REC_ZRRSIG] = DZ_STATE_OMNIPRESENT;
	assert_false(dz_key_is_successor(keys, 3, 0, 2, NULL));
}

static void
successor_three_is_a_crowd(void **state)
{
	(void)state;
	/*
	 * x keeps its DNSKEY, y's DS is being introduced and y was rolled
	 * again; ZSK 4 signs the zone throughout.
	 */
	dz_key_t keys[4] = { key(1, DZ_ROLE_KSK, A, "OO-U"), key(2, DZ_ROLE_KSK, A, "OO-R"),
			     key(3, DZ_ROLE_KSK, A, "RR-H"), key(4, DZ_ROLE_ZSK, A, "O-O-") };
	link_pair(&keys[0], &keys[1]);
	link_pair(&keys[1], &keys[2]);
	keys[0].goal = DZ_GOAL_HIDDEN;
	keys[1].goal = DZ_GOAL_HIDDEN;
	assert_false(dz_key_is_successor(keys, 4, 0, 2, NULL));
	/* x's DNSKEY may not go: no key of the zone has the full chain yet. */
	assert_int_equal(dz_key_transition_safety(keys, 4, 0, DZ_REC_DNSKEY, DZ_STATE_UNRETENTIVE,
						  false),
			 DZ_KEY_BREAKS_RULE2);
	assert_int_equal(dz_key_transition_safety(keys, 4, 0, DZ_REC_KRRSIG, DZ_STATE_UNRETENTIVE,
						  false),
			 DZ_KEY_BREAKS_RULE2);
	/* Once z is the full chain, x's DNSKEY may go. */
	keys[1] = key(2, DZ_ROLE_KSK, A, "OO-U");
	keys[1].predecessor = 1;
	keys[1].successor = 3;
	keys[2] = key(3, DZ_ROLE_KSK, A, "OO-O");
	keys[2].predecessor = 2;
	assert_int_equal(dz_key_transition_safety(keys, 4, 0, DZ_REC_DNSKEY, DZ_STATE_UNRETENTIVE,
						  false),
			 DZ_KEY_SAFE);
}

static void
successor_hidden_predecessor_ends_chain(void **state)
{
	(void)state;
	dz_key_t keys[3] = { key(1, DZ_ROLE_ZSK, A, "H-H-"), key(2, DZ_ROLE_ZSK, A, "O-U-"),
			     key(3, DZ_ROLE_ZSK, A, "O-R-") };
	link_pair(&keys[0], &keys[1]);
	link_pair(&keys[1], &keys[2]);
	/* x completely hidden: y starts the chain. */
	assert_true(dz_key_is_successor(keys, 3, 1, 2, NULL));
	assert_false(dz_key_is_successor(keys, 3, 0, 2, NULL));
	/* With x back in caches, y no longer starts a chain. */
	keys[0].state[DZ_REC_DNSKEY] = DZ_STATE_UNRETENTIVE;
	assert_false(dz_key_is_successor(keys, 3, 1, 2, NULL));
	/* A hypothetical change counts: x hidden "as if". */
	dz_key_change_t hide = { 0, DZ_REC_DNSKEY, DZ_STATE_HIDDEN };
	assert_true(dz_key_is_successor(keys, 3, 1, 2, &hide));
}

static void
successor_cycle_terminates(void **state)
{
	(void)state;
	dz_key_t keys[2] = { key(1, DZ_ROLE_ZSK, A, "O-R-"), key(2, DZ_ROLE_ZSK, A, "O-R-") };
	link_pair(&keys[0], &keys[1]);
	link_pair(&keys[1], &keys[0]);
	assert_false(dz_key_is_successor(keys, 2, 0, 1, NULL));
	assert_false(dz_key_is_successor(keys, 2, 1, 0, NULL));
}

static void
clause_3i_not_enough_for_three_keys(void **state)
{
	(void)state;
	/*
	 * ZSK1 -> ZSK2 -> ZSK3, double-RRSIG rollovers started faster than
	 * they finish.  A cached DNSKEY RRset may hold ZSK2 without ZSK1 and
	 * ZSK3.  Withdrawing ZSK2 keeps (3i) true (ZSK1 is unretentive with
	 * omnipresent signatures, ZSK3 rumoured with omnipresent ones), but
	 * data signed by ZSK1 and ZSK3 only would not validate with that
	 * RRset, so rule 3 must refuse.
	 */
	dz_key_t keys[5] = { key(1, DZ_ROLE_KSK, A, "UU-O"), key(2, DZ_ROLE_KSK, A, "RR-O"),
			     key(3, DZ_ROLE_ZSK, A, "U-O-"), key(4, DZ_ROLE_ZSK, A, "R-O-"),
			     key(5, DZ_ROLE_ZSK, A, "R-O-") };
	link_pair(&keys[0], &keys[1]);
	link_pair(&keys[2], &keys[3]);
	link_pair(&keys[3], &keys[4]);
	dz_key_change_t withdraw = { 3, DZ_REC_DNSKEY, DZ_STATE_UNRETENTIVE };
	assert_true(dz_key_rule2(keys, 5, A, NULL));
	assert_true(dz_key_clause_3i(keys, 5, A, &withdraw));
	assert_false(dz_key_rule3(keys, 5, A, &withdraw));
	assert_int_equal(dz_key_transition_safety(keys, 5, 3, DZ_REC_DNSKEY, DZ_STATE_UNRETENTIVE,
						  false),
			 DZ_KEY_BREAKS_RULE3);
}

/* --- Transition safety along the rollovers ------------------------------ */

typedef struct expect_safety {
	const char *what;
	size_t key;
	dz_key_record_t record;
	dz_key_state_t next;
	dz_key_unsafe_t expected;
} expect_safety_t;

static void
check_safety(const dz_key_t *keys, size_t count, const expect_safety_t *cases, size_t n,
	     bool insecure)
{
	for (size_t i = 0; i < n; i++) {
		dz_key_unsafe_t got = dz_key_transition_safety(keys, count, cases[i].key,
							       cases[i].record, cases[i].next,
							       insecure);
		if (got != cases[i].expected)
			fail_msg("%s: expected '%s', got '%s'", cases[i].what,
				 dz_key_unsafe_text(cases[i].expected), dz_key_unsafe_text(got));
	}
}

#define U DZ_STATE_UNRETENTIVE
#define H DZ_STATE_HIDDEN
#define R DZ_STATE_RUMOURED
#define O DZ_STATE_OMNIPRESENT

static void
safety_zsk_prepublication(void **state)
{
	(void)state;
	/* KSK 1 steady, ZSK 2 -> ZSK 3. */
	dz_key_t keys[3] = { key(1, DZ_ROLE_KSK, A, "OO-O"), key(2, DZ_ROLE_ZSK, A, "O-O-"),
			     key(3, DZ_ROLE_ZSK, A, "R-H-") };
	link_pair(&keys[1], &keys[2]);

	/* One step before step 2: the new DNSKEY is not omnipresent yet. */
	const expect_safety_t before2[] = {
		{ "ZSK2 signatures out before ZSK3 DNSKEY omnipresent", 1, DZ_REC_ZRRSIG, U,
		  DZ_KEY_BREAKS_RULE3 },
	};
	check_safety(keys, 3, before2, 1, false);

	/* Step 2: ZSK3 DNSKEY omnipresent, its signatures start. */
	keys[2].state[DZ_REC_DNSKEY] = O;
	keys[2].state[DZ_REC_ZRRSIG] = R;
	const expect_safety_t at2[] = {
		{ "ZSK2 signatures out at step 2", 1, DZ_REC_ZRRSIG, U, DZ_KEY_SAFE },
		{ "ZSK2 DNSKEY out at step 2", 1, DZ_REC_DNSKEY, U, DZ_KEY_BREAKS_RULE3 },
	};
	check_safety(keys, 3, at2, 2, false);
	keys[1].state[DZ_REC_ZRRSIG] = U;

	/* Still step 2: the old DNSKEY must stay while ZSK3's signatures are rumoured. */
	const expect_safety_t after2[] = {
		{ "ZSK2 DNSKEY out while ZSK3 signatures rumoured", 1, DZ_REC_DNSKEY, U,
		  DZ_KEY_BREAKS_RULE3 },
		{ "ZSK2 signatures hidden before ZSK3's omnipresent", 1, DZ_REC_ZRRSIG, H,
		  DZ_KEY_BREAKS_RULE3 },
	};
	check_safety(keys, 3, after2, 2, false);

	/* Step 3. */
	keys[2].state[DZ_REC_ZRRSIG] = O;
	const expect_safety_t at3[] = {
		{ "ZSK2 signatures hidden at step 3", 1, DZ_REC_ZRRSIG, H, DZ_KEY_SAFE },
		{ "ZSK2 DNSKEY out at step 3", 1, DZ_REC_DNSKEY, U, DZ_KEY_SAFE },
	};
	check_safety(keys, 3, at3, 2, false);
}

static void
safety_ksk_double_ksk(void **state)
{
	(void)state;
	/* KSK 1 -> KSK 2, ZSK 3 steady; step 1 state. */
	dz_key_t keys[3] = { key(1, DZ_ROLE_KSK, A, "OO-O"), key(2, DZ_ROLE_KSK, A, "RR-H"),
			     key(3, DZ_ROLE_ZSK, A, "O-O-") };
	link_pair(&keys[0], &keys[1]);

	/*
	 * KSK2's DS could be added now as far as the rules go (KSK1 is the
	 * chain); the double-KSK gate is what waits for KSK2's DNSKEY.
	 */
	const expect_safety_t step1[] = {
		{ "KSK2 DS in at step 1", 1, DZ_REC_DS, R, DZ_KEY_SAFE },
		{ "KSK1 DS out at step 1", 0, DZ_REC_DS, U, DZ_KEY_BREAKS_RULE1 },
	};
	check_safety(keys, 3, step1, 2, false);

	/* Step 2: KSK2 ready; DS swap. */
	keys[1].state[DZ_REC_DNSKEY] = O;
	keys[1].state[DZ_REC_KRRSIG] = O;
	const expect_safety_t step2[] = {
		{ "KSK2 DS in at step 2", 1, DZ_REC_DS, R, DZ_KEY_SAFE },
	};
	check_safety(keys, 3, step2, 1, false);
	keys[1].state[DZ_REC_DS] = R;
	const expect_safety_t step2b[] = {
		{ "KSK1 DS out at step 2", 0, DZ_REC_DS, U, DZ_KEY_SAFE },
		{ "KSK1 DNSKEY out at step 2", 0, DZ_REC_DNSKEY, U, DZ_KEY_BREAKS_RULE2 },
	};
	check_safety(keys, 3, step2b, 2, false);
	keys[0].state[DZ_REC_DS] = U;

	/* One step before step 4: DS swap under way, KSK1 must keep signing. */
	const expect_safety_t before4[] = {
		{ "KSK1 DNSKEY out while the DS swap is cached", 0, DZ_REC_DNSKEY, U,
		  DZ_KEY_BREAKS_RULE2 },
		{ "KSK1 KRRSIG out while the DS swap is cached", 0, DZ_REC_KRRSIG, U,
		  DZ_KEY_BREAKS_RULE2 },
	};
	check_safety(keys, 3, before4, 2, false);

	/* Step 4. */
	keys[1].state[DZ_REC_DS] = O;
	const expect_safety_t step4[] = {
		{ "KSK1 DS hidden at step 4", 0, DZ_REC_DS, H, DZ_KEY_SAFE },
		{ "KSK1 DNSKEY out at step 4", 0, DZ_REC_DNSKEY, U, DZ_KEY_SAFE },
		{ "KSK1 KRRSIG out at step 4", 0, DZ_REC_KRRSIG, U, DZ_KEY_SAFE },
	};
	check_safety(keys, 3, step4, 3, false);
}

static void
safety_ksk_double_ds(void **state)
{
	(void)state;
	/* Step 1: KSK2's DS is added before its DNSKEY. */
	dz_key_t keys[3] = { key(1, DZ_ROLE_KSK, A, "OO-O"), key(2, DZ_ROLE_KSK, A, "HH-H"),
			     key(3, DZ_ROLE_ZSK, A, "O-O-") };
	link_pair(&keys[0], &keys[1]);
	const expect_safety_t step1[] = {
		{ "KSK2 DS in with KSK1 the chain", 1, DZ_REC_DS, R, DZ_KEY_SAFE },
	};
	check_safety(keys, 3, step1, 1, false);
	keys[1].state[DZ_REC_DS] = R;

	const expect_safety_t before3[] = {
		{ "KSK1 DNSKEY out before KSK2 DS omnipresent", 0, DZ_REC_DNSKEY, U,
		  DZ_KEY_BREAKS_RULE2 },
	};
	check_safety(keys, 3, before3, 1, false);

	/* Step 3: DNSKEY swap. */
	keys[1].state[DZ_REC_DS] = O;
	keys[1].state[DZ_REC_DNSKEY] = R;
	keys[1].state[DZ_REC_KRRSIG] = R;
	const expect_safety_t step3[] = {
		{ "KSK1 DNSKEY out at step 3", 0, DZ_REC_DNSKEY, U, DZ_KEY_SAFE },
		{ "KSK1 DS out at step 3", 0, DZ_REC_DS, U, DZ_KEY_BREAKS_RULE2 },
	};
	check_safety(keys, 3, step3, 2, false);
	keys[0].state[DZ_REC_DNSKEY] = U;
	keys[0].state[DZ_REC_KRRSIG] = U;

	/* Before step 4, KSK1's DNSKEY bookkeeping may not reach hidden. */
	const expect_safety_t before4[] = {
		{ "KSK1 DNSKEY hidden before KSK2 omnipresent", 0, DZ_REC_DNSKEY, H,
		  DZ_KEY_BREAKS_RULE2 },
	};
	check_safety(keys, 3, before4, 1, false);

	keys[1].state[DZ_REC_DNSKEY] = O;
	keys[1].state[DZ_REC_KRRSIG] = O;
	const expect_safety_t step4[] = {
		{ "KSK1 DNSKEY hidden at step 4", 0, DZ_REC_DNSKEY, H, DZ_KEY_SAFE },
		{ "KSK1 DS out at step 4", 0, DZ_REC_DS, U, DZ_KEY_SAFE },
	};
	check_safety(keys, 3, step4, 2, false);
}

static void
safety_csk_rollover(void **state)
{
	(void)state;
	dz_key_t keys[2] = { key(1, DZ_ROLE_CSK, A, "OOOO"), key(2, DZ_ROLE_CSK, A, "RRHH") };
	link_pair(&keys[0], &keys[1]);
	const expect_safety_t step1[] = {
		{ "CSK1 DS out at step 1", 0, DZ_REC_DS, U, DZ_KEY_BREAKS_RULE1 },
		{ "CSK1 signatures out at step 1", 0, DZ_REC_ZRRSIG, U, DZ_KEY_BREAKS_RULE3 },
	};
	check_safety(keys, 2, step1, 2, false);

	/* Step 2. */
	keys[1] = key(2, DZ_ROLE_CSK, A, "OORR");
	keys[1].predecessor = 1;
	keys[0].state[DZ_REC_ZRRSIG] = U;
	keys[0].state[DZ_REC_DS] = U;
	const expect_safety_t before4[] = {
		{ "CSK1 KRRSIG out before step 4", 0, DZ_REC_KRRSIG, U, DZ_KEY_BREAKS_RULE2 },
		{ "CSK1 DNSKEY out before step 6", 0, DZ_REC_DNSKEY, U, DZ_KEY_BREAKS_RULE2 },
	};
	check_safety(keys, 2, before4, 2, false);

	/* Step 4: the DS swap is done, the signature swap is not. */
	keys[1].state[DZ_REC_DS] = O;
	keys[0].state[DZ_REC_DS] = H;
	const expect_safety_t step4[] = {
		{ "CSK1 KRRSIG out at step 4", 0, DZ_REC_KRRSIG, U, DZ_KEY_SAFE },
		{ "CSK1 DNSKEY out at step 4", 0, DZ_REC_DNSKEY, U, DZ_KEY_BREAKS_RULE3 },
	};
	check_safety(keys, 2, step4, 2, false);

	/* Step 6. */
	keys[1].state[DZ_REC_ZRRSIG] = O;
	keys[0].state[DZ_REC_ZRRSIG] = H;
	const expect_safety_t step6[] = {
		{ "CSK1 DNSKEY out at step 6", 0, DZ_REC_DNSKEY, U, DZ_KEY_SAFE },
	};
	check_safety(keys, 2, step6, 1, false);
}

static void
safety_algorithm_rollover(void **state)
{
	(void)state;
	/* KSK_A 1, ZSK_A 2 -> KSK_B 3, ZSK_B 4 (no links across algorithms). */
	dz_key_t keys[4] = { key(1, DZ_ROLE_KSK, A, "OO-O"), key(2, DZ_ROLE_ZSK, A, "O-O-"),
			     key(3, DZ_ROLE_KSK, B, "OO-H"), key(4, DZ_ROLE_ZSK, B, "O-O-") };

	/* Step 3: the DS swap is allowed across algorithms once B is ready. */
	const expect_safety_t step3[] = {
		{ "KSK_B DS in at step 3", 2, DZ_REC_DS, R, DZ_KEY_SAFE },
		{ "KSK_A DS out before KSK_B DS in", 0, DZ_REC_DS, U, DZ_KEY_BREAKS_RULE1 },
	};
	check_safety(keys, 4, step3, 2, false);
	keys[2].state[DZ_REC_DS] = R;
	keys[0].state[DZ_REC_DS] = U;

	/* Before step 4 the A keys must stay: a cached DS_A needs them. */
	const expect_safety_t before4[] = {
		{ "KSK_A DNSKEY out before DS_A hidden", 0, DZ_REC_DNSKEY, U,
		  DZ_KEY_BREAKS_RULE2 },
		{ "ZSK_A signatures out before DS_A hidden", 1, DZ_REC_ZRRSIG, U,
		  DZ_KEY_BREAKS_RULE3 },
		{ "ZSK_A DNSKEY out before DS_A hidden", 1, DZ_REC_DNSKEY, U,
		  DZ_KEY_BREAKS_RULE3 },
	};
	check_safety(keys, 4, before4, 3, false);

	/* Step 4: DS_A hidden; algorithm A is insecure and may leave. */
	keys[2].state[DZ_REC_DS] = O;
	keys[0].state[DZ_REC_DS] = H;
	const expect_safety_t step4[] = {
		{ "KSK_A DNSKEY out at step 4", 0, DZ_REC_DNSKEY, U, DZ_KEY_SAFE },
		{ "ZSK_A DNSKEY out at step 4", 1, DZ_REC_DNSKEY, U, DZ_KEY_SAFE },
		{ "ZSK_A signatures out at step 4", 1, DZ_REC_ZRRSIG, U, DZ_KEY_SAFE },
	};
	check_safety(keys, 4, step4, 3, false);
	/* Withdrawing only one of A's DNSKEYs would break the signing rule of what is published. */
	dz_key_change_t ksk_out = { 0, DZ_REC_DNSKEY, U };
	dz_key_change_t zsk_out = { 1, DZ_REC_DNSKEY, U };
	assert_false(dz_key_rule_signing(keys, 4, A, &ksk_out));
	assert_false(dz_key_rule_signing(keys, 4, A, &zsk_out));
	keys[0].state[DZ_REC_DNSKEY] = U;
	assert_true(dz_key_rule_signing(keys, 4, A, &zsk_out));
}

static void
safety_initial_signing(void **state)
{
	(void)state;
	dz_key_t csk = key(1, DZ_ROLE_CSK, A, "OORH");
	const expect_safety_t before3[] = {
		{ "DS in while cached data may be unsigned", 0, DZ_REC_DS, R,
		  DZ_KEY_BREAKS_RULE3 },
	};
	check_safety(&csk, 1, before3, 1, false);
	csk.state[DZ_REC_ZRRSIG] = O;
	const expect_safety_t at3[] = {
		{ "DS in at step 4", 0, DZ_REC_DS, R, DZ_KEY_SAFE },
	};
	check_safety(&csk, 1, at3, 1, false);

	/* Before the DS: withdrawals are allowed, rule 1 being false is no invalid state. */
	dz_key_t zsks[3] = { key(1, DZ_ROLE_KSK, A, "OO-H"), key(2, DZ_ROLE_ZSK, A, "O-O-"),
			     key(3, DZ_ROLE_ZSK, A, "O-R-") };
	link_pair(&zsks[1], &zsks[2]);
	const expect_safety_t rollover[] = {
		{ "ZSK rollover before the first DS", 1, DZ_REC_ZRRSIG, U, DZ_KEY_SAFE },
	};
	check_safety(zsks, 3, rollover, 1, false);
}

static void
safety_going_insecure(void **state)
{
	(void)state;
	dz_key_t csk = key(1, DZ_ROLE_CSK, A, "OOOO");
	const expect_safety_t step1[] = {
		{ "DS out with the policy insecure", 0, DZ_REC_DS, U, DZ_KEY_SAFE },
		{ "DNSKEY out while the DS is omnipresent", 0, DZ_REC_DNSKEY, U,
		  DZ_KEY_BREAKS_RULE2 },
	};
	check_safety(&csk, 1, step1, 2, true);
	const expect_safety_t not_insecure[] = {
		{ "DS out without the insecure policy", 0, DZ_REC_DS, U, DZ_KEY_BREAKS_RULE1 },
	};
	check_safety(&csk, 1, not_insecure, 1, false);

	csk.state[DZ_REC_DS] = U;
	const expect_safety_t before3[] = {
		{ "signatures out while a DS may be cached", 0, DZ_REC_ZRRSIG, U,
		  DZ_KEY_BREAKS_RULE3 },
		{ "DNSKEY out while a DS may be cached", 0, DZ_REC_DNSKEY, U,
		  DZ_KEY_BREAKS_RULE2 },
	};
	check_safety(&csk, 1, before3, 2, true);
	csk.state[DZ_REC_DS] = H;
	const expect_safety_t step3[] = {
		{ "signatures out at step 3", 0, DZ_REC_ZRRSIG, U, DZ_KEY_SAFE },
		{ "DNSKEY out at step 3", 0, DZ_REC_DNSKEY, U, DZ_KEY_SAFE },
	};
	check_safety(&csk, 1, step3, 2, true);
}

static void
safety_no_withdrawal_while_invalid(void **state)
{
	(void)state;
	/*
	 * Rule 2 already broken (a DS cached for a key whose DNSKEY is
	 * rumoured, no chain): withdrawing anything is refused even if it
	 * would not make rule 2 "more" false, but adding is allowed.
	 */
	dz_key_t keys[3] = { key(1, DZ_ROLE_KSK, A, "RR-O"), key(2, DZ_ROLE_ZSK, A, "O-O-"),
			     key(3, DZ_ROLE_ZSK, A, "O-O-") };
	assert_false(dz_key_rule2(keys, 3, A, NULL));
	const expect_safety_t cases[] = {
		{ "ZSK2 signatures out while rule 2 is broken", 1, DZ_REC_ZRRSIG, U,
		  DZ_KEY_WITHDRAW_INVALID },
		{ "KSK1 DNSKEY to omnipresent while rule 2 is broken", 0, DZ_REC_DNSKEY, O,
		  DZ_KEY_SAFE },
	};
	check_safety(keys, 3, cases, 2, false);
	/* Rule 3 broken likewise. */
	dz_key_t broken3[2] = { key(1, DZ_ROLE_KSK, A, "OO-O"), key(2, DZ_ROLE_ZSK, A, "O-R-") };
	dz_key_t with_extra[3] = { broken3[0], broken3[1], key(3, DZ_ROLE_KSK, A, "OO-H") };
	assert_false(dz_key_rule3(broken3, 2, A, NULL));
	const expect_safety_t cases3[] = {
		{ "KSK3 DNSKEY out while rule 3 is broken", 2, DZ_REC_DNSKEY, U,
		  DZ_KEY_WITHDRAW_INVALID },
	};
	check_safety(with_extra, 3, cases3, 1, false);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rule1_needs_rumoured_or_omnipresent_ds),
		cmocka_unit_test(rule1_counts_every_algorithm),
		cmocka_unit_test(rule1_hypothetical_change),
		cmocka_unit_test(clause_3b_chain_of_trust),
		cmocka_unit_test(clause_3b_other_algorithm),
		cmocka_unit_test(clause_3c_ds_swap),
		cmocka_unit_test(clause_3d_dnskey_swap_combinations),
		cmocka_unit_test(clause_3e_new_chain_or_insecure),
		cmocka_unit_test(rule3_true_without_ds),
		cmocka_unit_test(clause_3f_signing_key),
		cmocka_unit_test(clause_3g_dnskey_swap),
		cmocka_unit_test(clause_3h_signature_swap),
		cmocka_unit_test(clause_3i_matching_dnskey_states),
		cmocka_unit_test(rule3_hypothetical_next_state),
		cmocka_unit_test(clause_3i_not_enough_for_three_keys),
		cmocka_unit_test(signing_rule_needs_published_signers),
		cmocka_unit_test(signing_rule_old_signatures_need_dnskey),
		cmocka_unit_test(signing_rule_needs_published_signers),
		cmocka_unit_test(signing_rule_old_signatures_need_dnskey),
		cmocka_unit_test(successor_direct_pair),
		cmocka_unit_test(successor_chain_with_stalled_middle),
		cmocka_unit_test(successor_three_is_a_crowd),
		cmocka_unit_test(successor_hidden_predecessor_ends_chain),
		cmocka_unit_test(successor_cycle_terminates),
		cmocka_unit_test(safety_zsk_prepublication),
		cmocka_unit_test(safety_ksk_double_ksk),
		cmocka_unit_test(safety_ksk_double_ds),
		cmocka_unit_test(safety_csk_rollover),
		cmocka_unit_test(safety_algorithm_rollover),
		cmocka_unit_test(safety_initial_signing),
		cmocka_unit_test(safety_going_insecure),
		cmocka_unit_test(safety_no_withdrawal_while_invalid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
