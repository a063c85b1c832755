/*
 * rollover.h -- TLSA record rollover per mail host and key.
 *
 * Each key a host's files yield is an entry: the server's own key (usage 3
 * and 1 records) or the issuing CA's key (usage 2 and 0 records).  The TLSA
 * RRset of a host is the union of its entries' records, so a renewal adds
 * records and never replaces the RRset wholesale (RFC 7671 section 8.1).
 *
 * Timing, after RFC 7671 section 8 and RFC 7672 section 4: a staged next
 * key is published at once.  Its records are "propagated" when every
 * configured secondary serves a zone serial that contains them, and "ready
 * to deploy" two TTLs after that.  The TTL is the one the host's RRset had
 * before the records were added, or the zone's negative TTL (RFC 2308) when
 * the host had no TLSA records before, because resolvers may have cached
 * the owner's non-existence.  A live certificate that switches to a key
 * that is not ready is published at once and logged as an error: DANE
 * senders with cached RRsets fail until those expire.  Entries that no
 * configured file yields any longer are retired at once: caches then hold
 * RRsets that contain the new key (RFC 7671 section 8.4).
 *
 * All functions take the time as `now`; nothing reads the clock.  Not
 * thread safe.
 */
#ifndef DZ_ZONES_ROLLOVER_H
#define DZ_ZONES_ROLLOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/mem.h"
#include "zones/conf.h"
#include "zones/records.h"

typedef enum dz_tlsa_role {
	DZ_TLSA_ROLE_EE, /* the server's key: usages 3 (DANE-EE) and 1 (PKIX-EE) */
	DZ_TLSA_ROLE_TA, /* the issuing CA's key: usages 2 (DANE-TA) and 0 (PKIX-TA) */
} dz_tlsa_role_t;

/* One key that one file yields now, with the RDATA it needs. */
typedef struct dz_rollover_key {
	dz_tlsa_role_t role;
	bool live;		/* from a certificates file (served now), else from a next file */
	const char *file;
	uint8_t id[32];		/* SHA2-256 of the SPKI; of the certificate when selector 0 is used */
	char spki_sha256[65];	/* hex SHA2-256 of the SPKI: the "3 1 1" data */
	const char *key_type;	/* "RSA-2048", "EC-P-256", ... */
	dz_buf_t *rdata;	/* RDATA of each record (not owned) */
	size_t rdata_count;
} dz_rollover_key_t;

/* What the files of one host yield now. */
typedef struct dz_rollover_host_input {
	const char *host;
	uint32_t ttl;
	const dz_rollover_key_t *keys;
	size_t key_count;
	/* Files that could not be read: entries that came from them are kept. */
	const char *const *failed_files;
	size_t failed_count;
} dz_rollover_host_input_t;

typedef struct dz_rollover_entry {
	char *host;
	dz_tlsa_role_t role;
	uint8_t id[32];
	char spki_sha256[65];
	char key_type[32];
	char *file;		 /* the file that last yielded the key */
	dz_buf_t *rdata;	 /* owned array */
	size_t rdata_count;
	uint32_t ttl;		 /* TTL of its records now */
	bool live;		 /* served by a certificates file now */
	bool next;		 /* staged in a next file now */
	dz_time_t added;	 /* first generated */
	bool new_owner;		 /* the host had no published TLSA records when added */
	uint32_t previous_ttl;	 /* TTL of the host's published RRset before the entry was added */
	bool published;		 /* in a zone version the signer published */
	uint32_t serial;	 /* first serial that contained the entry */
	dz_time_t published_at;
	uint32_t wait_ttl;	 /* ready 2 * wait_ttl after propagation */
	dz_time_t propagated;	 /* every secondary served `serial` at this time; 0 = not yet */
	bool announced;		 /* readiness was announced (log and hook) */
} dz_rollover_entry_t;

typedef struct dz_rollover {
	char *zone;
	dz_rollover_entry_t **entries;
	size_t count;
	size_t cap;
	bool changed; /* differs from the state file */
} dz_rollover_t;

/* Create an empty state for a zone (normalised name); NULL on ENOMEM. */
dz_rollover_t *dz_rollover_create(const char *zone);
void dz_rollover_destroy(dz_rollover_t *rollover);

/*
 * Bring one host's entries up to date with what its files yield now.  Adds
 * entries for new keys and logs an error when a live key was not ready.
 * Sets the live and next flags, and retires entries that no file yields.
 * DZ_ENOMEM.
 */
dz_result_t dz_rollover_update_host(dz_rollover_t *rollover, const dz_rollover_host_input_t *input,
				    dz_time_t now);

/* Retire the entries of hosts that are not in `hosts` (names of the configuration). */
void dz_rollover_keep_hosts(dz_rollover_t *rollover, const char *const *hosts, size_t count);

/*
 * The signer published zone version `serial`, which contains every record
 * generated so far.  `negative_ttl` is min(SOA TTL, SOA MINIMUM) of that
 * version.  Without secondaries (`secondary_count` 0) the records are
 * propagated at once.
 */
void dz_rollover_note_published(dz_rollover_t *rollover, uint32_t serial, uint32_t negative_ttl,
				size_t secondary_count, dz_time_t now);

/*
 * Like dz_rollover_note_published(), for the entries whose every record is
 * in `published` (sorted), the record set of the published version.
 */
dz_result_t dz_rollover_note_published_in(dz_rollover_t *rollover, const dz_config_zone_t *zone,
					  const dz_records_t *published, uint32_t serial,
					  uint32_t negative_ttl, size_t secondary_count,
					  dz_time_t now);

/*
 * Every configured secondary address returned a serial; `serials` holds
 * them.  Entries whose serial each of them has reached (RFC 1982
 * comparison) are propagated now.
 */
void dz_rollover_note_secondaries(dz_rollover_t *rollover, const uint32_t *serials, size_t count,
				  dz_time_t now);

/* Whether some published entry waits for the secondaries. */
bool dz_rollover_awaits_secondaries(const dz_rollover_t *rollover);

/* When the entry is ready to deploy; DZ_TIME_NEVER when it is not propagated yet. */
dz_time_t dz_rollover_ready_at(const dz_rollover_entry_t *entry);

/* Earliest future time at which an entry becomes ready; DZ_TIME_NEVER if none. */
dz_time_t dz_rollover_next_event(const dz_rollover_t *rollover, dz_time_t now);

/*
 * Call `fn` once for each next entry that is ready at `now` and was not
 * announced yet, then mark it announced.
 */
void dz_rollover_announce_ready(dz_rollover_t *rollover, dz_time_t now,
				void (*fn)(const dz_rollover_entry_t *entry, void *ctx), void *ctx);

/* Append the TLSA records of every entry, at each port of its host. */
dz_result_t dz_rollover_records(const dz_rollover_t *rollover, const dz_config_zone_t *zone,
				dz_records_t *out);

/* Print the entries and their state, host by host. */
void dz_rollover_print_status(const dz_rollover_t *rollover, dz_time_t now, FILE *out);

/*
 * Write the state atomically and durably to `path`; read it back with
 * dz_rollover_load.  A missing file loads as an empty state.
 */
dz_result_t dz_rollover_save(dz_rollover_t *rollover, const char *path, dz_error_t *err);
dz_result_t dz_rollover_load(const char *path, const char *zone, dz_rollover_t **out,
			     dz_error_t *err);

/* RFC 1982 serial number arithmetic: whether a <= b. */
bool dz_serial_le(uint32_t a, uint32_t b);

#endif
