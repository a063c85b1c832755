/*
 * sim.h -- a zone run on a simulated clock: the key manager, a simulated
 * signer that publishes zone versions from the key set, a simulated
 * parent with configurable behaviour, an operator or a poller that
 * observes the parent, and a recorder that feeds the oracle.
 *
 * The simulated signer re-signs gradually: a data RRset keeps its RRSIGs
 * until they are due for refresh (remaining validity <= refresh), except
 * that an RRset lacking a signature of an algorithm that signs the zone is
 * signed at once (a new algorithm needs a full sign), and one "dynamic"
 * RRset (a TLSA record that changes) is re-signed at every step, so some
 * RRSIG of the old key is always as young as possible when a key leaves.
 */
#ifndef DZ_TESTS_SIM_H
#define DZ_TESTS_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/policy.h"
#include "keystore/manager.h"
#include "keystore/provider.h"
#include "oracle.h"

typedef enum sim_parent {
	SIM_PARENT_INSTANT,	 /* copies the CDS into its DS RRset after parent_delay */
	SIM_PARENT_ADD_ONLY,	 /* adds DS records from the CDS, never removes any */
	SIM_PARENT_NEVER,	 /* never changes its DS RRset */
	SIM_PARENT_WRONG_DIGEST, /* publishes new DS records with a corrupted digest */
	SIM_PARENT_ROLLBACK,	 /* applies a change, then restores the old set once */
} sim_parent_t;

typedef struct sim_params {
	const dz_policy_t *policy;
	uint32_t negative_ttl;	   /* SOA TTL and MINIMUM of the zone */
	bool bind_algorithm_order;
	bool full_resign;	   /* the signer re-signs everything when its signers change */
	dz_time_t start;
	int64_t dprp_child;	   /* slowest secondary's lag; < 0: the policy's DprpC */
	int64_t dprp_parent;	   /* slowest parent server's lag; < 0: the policy's DprpP */
	uint32_t parent_ds_ttl;	   /* TTL the parent serves; 0: the policy's DS TTL */
	sim_parent_t parent;
	dz_time_t parent_normal_until; /* the parent behaves like SIM_PARENT_INSTANT until then */
	int64_t parent_delay;	   /* registry applies a CDS change this long after seeing it */
	int64_t rollback_after;	   /* SIM_PARENT_ROLLBACK: revert this long after the change */
	unsigned parent_servers;   /* 0: 2 */
	int lagging_server;	   /* index of a server with extra lag; < 0: none */
	int64_t extra_lag;	   /* its extra lag; < 0: it never updates */
	bool polling;		   /* observe the parent by polling instead of by the operator */
	int64_t operator_delay;	   /* operator confirms this long after every server changed */
	bool operator_early;	   /* operator confirms at the request, before the parent acts */
	const char *state_dir;	   /* NULL: memory only */
	uint64_t seed;
	bool strict_algorithms;	   /* oracle: also the P3 validators */
	int64_t skew;		   /* oracle: also check with the validator's clock off by this */
	bool cds_before_dnskey;	   /* oracle: double-DS names keys not yet published */
} sim_params_t;

typedef struct sim_transition {
	dz_time_t time;
	uint32_t key;
	dz_key_record_t record;
	dz_key_state_t from;
	dz_key_state_t to;
} sim_transition_t;

typedef struct sim sim_t;

sim_t *sim_create(const sim_params_t *params);
void sim_destroy(sim_t *sim);

/* Run every event before `t`, then one step at `t` itself. */
void sim_run_until(sim_t *sim, dz_time_t t);

/* Time of the next event (key, signer, parent or operator); DZ_TIME_NEVER if none. */
dz_time_t sim_next(sim_t *sim);

/* Current simulated time. */
dz_time_t sim_now(const sim_t *sim);

/*
 * Transitions made at times in [from, until], as "LABEL RECORD F>T" strings
 * (for example "ZSK2 DNSKEY H>R"), sorted, joined with ", " into `out`.
 * Returns the number of transitions.
 */
size_t sim_describe(sim_t *sim, dz_time_t from, dz_time_t until, char *out, size_t cap);

/* Print every transition, one line per time, as offsets from the start. */
void sim_print_transitions(sim_t *sim, FILE *out);

/* Run the oracle over everything recorded up to now. */
unsigned sim_check(sim_t *sim, oracle_report_t *report);

/* Label of a key ("KSK1", "ZSK2"): role and order of first use; "?" if unknown. */
const char *sim_label(sim_t *sim, uint32_t key);

/* Key number of a label, 0 if unknown. */
uint32_t sim_key(sim_t *sim, const char *label);

/* Parts of the simulation for tests that poke at them. */
dz_key_manager_t *sim_manager(sim_t *sim);
dz_key_sim_t *sim_provider(sim_t *sim);
oracle_t *sim_oracle(sim_t *sim);

/* Replace the policy (a configuration reload) at time `at` (a step happens then). */
void sim_set_policy(sim_t *sim, const dz_policy_t *policy, dz_time_t at);

/* Tear down the manager and create it again from the state file (a restart). */
void sim_restart(sim_t *sim);

/*
 * Tear down the manager as if the process crashed after publishing the
 * last version but before its commit: the next step prepares the same
 * transition again.  With `reconcile`, the restart aligns the states with
 * the served key set first.
 */
void sim_crash_before_commit(sim_t *sim, bool reconcile);

/* Number of transitions and steps so far. */
size_t sim_transition_count(const sim_t *sim);

/* Log lines captured since the last call, joined with newlines (owned by sim). */
const char *sim_take_log(sim_t *sim);

/* Whether the DS RRset the parent's registry publishes now names `key`. */
bool sim_parent_has_ds(sim_t *sim, uint32_t key);

#endif
