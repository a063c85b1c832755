/*
 * parent.h -- what the parent's name servers serve for our DS RRset.
 *
 * The key manager waits for the parent in two places: a new DS must be
 * served before its DS record may become omnipresent, and a removed DS
 * must be gone before the key may be purged.  An observation counts only
 * when every configured parent server answers authoritatively (AA set,
 * NOERROR) and they agree.  A DS counts as present only when its full RDATA
 * (key tag, algorithm, digest type and digest) equals the one computed
 * from our DNSKEY.  Observations are re-checked at every poll, so a parent
 * that changes its mind during a wait is noticed.
 *
 * dz_key_parent_observe() is pure and thread safe per ring;
 * dz_key_parent_query() does network I/O (blocking, with a timeout).
 */
#ifndef DZ_KEYSTORE_PARENT_H
#define DZ_KEYSTORE_PARENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/mem.h"
#include "common/policy.h"
#include "keystore/cds.h"
#include "keystore/ring.h"

#define DZ_PARENT_DS_MAX 32
#define DZ_PARENT_SERVER_NAME_MAX 80

typedef struct dz_ds_rdata {
	uint8_t data[DZ_DS_RDATA_MAX + 16]; /* room for unknown digests up to 64 bytes */
	size_t len;
} dz_ds_rdata_t;

/* One parent server's answer to "ZONE DS?". */
typedef struct dz_parent_answer {
	char server[DZ_PARENT_SERVER_NAME_MAX]; /* address as configured, for messages */
	dz_result_t result;	/* DZ_OK: a response came; else why not (timeout, TSIG, ...) */
	uint8_t rcode;
	bool authoritative;	/* AA bit */
	uint32_t ttl;		/* TTL of the DS RRset; 0 when there is none */
	dz_ds_rdata_t ds[DZ_PARENT_DS_MAX];
	size_t ds_count;
	bool truncated_list;	/* more DS records than DZ_PARENT_DS_MAX */
} dz_parent_answer_t;

/*
 * Apply one round of answers (one per configured server) to the ring at
 * `now`: record ds_seen / ds_gone (first observation after the request),
 * ds_checked (latest confirmation), the DS TTL seen, and withdraw an
 * observation that the parent no longer supports.  Appends one line per
 * problem to `report` (which server, which key): servers that did not
 * answer authoritatively, new DS not served yet, old DS still served, DS
 * of an omnipresent key missing, DS records that match no key or use an
 * algorithm the zone does not sign with.  Returns the number of problems.
 * DZ_ENOMEM is the only failure (reported through *result).
 */
unsigned dz_key_parent_observe(dz_keyring_t *ring, const dz_policy_t *policy,
			       const dz_parent_answer_t *answers, size_t count, dz_time_t now,
			       dz_buf_t *report, dz_result_t *result);

/* A parent server to query. */
typedef struct dz_parent_server {
	struct sockaddr_storage addr; /* AF_INET or AF_INET6 with the port */
	socklen_t addr_len;
	char name[DZ_PARENT_SERVER_NAME_MAX]; /* for messages, "192.0.2.1@53" */
	const char *tsig_name;	      /* NULL: no TSIG */
	const char *tsig_algorithm;   /* "hmac-sha256." and so on */
	const char *tsig_secret_base64;
} dz_parent_server_t;

/*
 * Ask `server` for the DS RRset of `zone` (RD set, over UDP with TCP
 * fallback, `timeout_ms` per try) and fill *answer.  Network and TSIG
 * failures are not errors of this function: they are recorded in
 * answer->result with the message in err.
 */
void dz_key_parent_query(const char *zone, const dz_parent_server_t *server, int timeout_ms,
			 dz_parent_answer_t *answer, dz_error_t *err);

#endif
