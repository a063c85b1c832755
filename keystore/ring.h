/*
 * ring.h -- the key state of one zone: its keys, TTL history, clock
 * guard and transition history.  This is what the state file stores.
 *
 * Not thread safe: one key manager owns each ring.
 */
#ifndef DZ_KEYSTORE_RING_H
#define DZ_KEYSTORE_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/result.h"
#include "keystore/key.h"
#include "keystore/timing.h"

/* Longest zone name in presentation form, with the trailing dot. */
#define DZ_ZONE_NAME_MAX 255
#define DZ_BOOT_ID_MAX 40
#define DZ_CLOCK_REASON_MAX 160

/* One state transition, kept until its key is purged. */
typedef struct dz_key_event {
	dz_time_t time;
	uint32_t key;
	dz_key_record_t record;
	dz_key_state_t from;
	dz_key_state_t to;
} dz_key_event_t;

/*
 * What the clock guard remembers: the last accepted reading of the wall
 * clock together with the boot-time clock, and whether transitions are
 * frozen because the wall clock jumped.
 */
typedef struct dz_key_clock_guard {
	dz_time_t wall;			  /* DZ_KEY_TIME_NONE: no reading yet */
	int64_t boottime;		  /* CLOCK_BOOTTIME seconds at `wall` */
	char boot_id[DZ_BOOT_ID_MAX];	  /* kernel boot id at `wall` */
	bool frozen;
	dz_time_t frozen_at;		  /* wall time of the reading that froze */
	int64_t jump;			  /* seconds the wall clock moved beyond boot time */
	char reason[DZ_CLOCK_REASON_MAX];
	uint32_t ack_requested;		  /* operator acknowledgements (counter) */
	uint32_t ack_done;		  /* acknowledgements applied */
} dz_key_clock_guard_t;

typedef struct dz_keyring {
	char zone[DZ_ZONE_NAME_MAX + 1]; /* origin with trailing dot, lower case */
	dz_key_t *keys;			 /* owned */
	size_t count;
	size_t cap;
	uint32_t next_number;		 /* number of the next key; starts at 1 */

	dz_ttl_history_t ttl[DZ_TTL_CLASS_COUNT];
	uint32_t ds_ttl_observed;	 /* largest DS TTL in parent answers */

	dz_key_clock_guard_t clock;
	uint32_t step_requested;	 /* manual mode: operator steps (counter) */
	uint32_t step_done;		 /* steps applied */

	dz_key_event_t *events;		 /* transition history, oldest first; owned */
	size_t event_count;
	size_t event_cap;
	dz_time_t last_commit;		 /* time of the last committed zone version */
} dz_keyring_t;

/* Initialise an empty ring for `zone` (copied, lower-cased, trailing dot added). */
void dz_keyring_init(dz_keyring_t *ring, const char *zone);

/* Free the keys and history; the ring is empty afterwards. */
void dz_keyring_clear(dz_keyring_t *ring);

/* Deep copy into an uninitialised `dst`; DZ_ENOMEM leaves dst empty. */
dz_result_t dz_keyring_copy(dz_keyring_t *dst, const dz_keyring_t *src);

/*
 * Append a copy of `key`, giving it the next key number unless it has one.
 * `*added` (optional) points into the ring until the next append.
 */
dz_result_t dz_keyring_add(dz_keyring_t *ring, const dz_key_t *key, dz_key_t **added);

/* Index of the key with this number, or SIZE_MAX. */
size_t dz_keyring_index(const dz_keyring_t *ring, uint32_t number);

/* The key with this number, or NULL. */
dz_key_t *dz_keyring_find(dz_keyring_t *ring, uint32_t number);

/* Remove the key with this number and its history; links to it stay as they are. */
void dz_keyring_remove(dz_keyring_t *ring, uint32_t number);

/* Append a transition to the history. */
dz_result_t dz_keyring_add_event(dz_keyring_t *ring, const dz_key_event_t *event);

/*
 * Keys that are in use or on their way in or out, with this tag (any
 * algorithm), for operator commands that name a key by tag.  Writes up to
 * `max` indexes and returns how many keys matched.
 */
size_t dz_keyring_find_tag(const dz_keyring_t *ring, uint16_t tag, size_t *indexes, size_t max);

#endif
