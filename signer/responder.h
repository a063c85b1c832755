/*
 * responder.h -- the DNS message handler of the server, without sockets.
 *
 * The responder turns one request into a reply, a transfer (a sequence of
 * messages for AXFR or IXFR over TCP) or nothing.  It reads published zone
 * versions from their snapshot and journal files (signer/version.h) and
 * never writes; a new version is loaded by dz_responder_load_zone().  SOA
 * answers and IXFR come from the journal; AXFR sends the snapshot merged
 * with the journal entries after it.  The server (signer/server.h) feeds
 * it packets; the fuzz target calls it directly.
 *
 * Responses by request (RFC 1035, 1995, 1996, 5936, 8945):
 *   QUERY SOA for a zone apex          the SOA, if the query ACL allows
 *                                       (an empty ACL denies everyone)
 *   QUERY AXFR over TCP                 the zone, if the transfer ACL allows
 *   QUERY IXFR                          the journal's diffs since the client's
 *                                       serial, its SOA when it is current,
 *                                       or the whole zone when the serial is
 *                                       no longer in the journal; over UDP
 *                                       only the SOA when the diffs do not fit
 *   NOTIFY for a zone                   an acknowledgement, if the notify ACL allows
 *   other types or zones                REFUSED; other opcodes NOTIMP
 *   malformed requests                  FORMERR, or nothing when even the
 *                                       header is unusable
 *   EDNS version other than 0           BADVERS (RFC 6891 section 6.1.3)
 *   TSIG that fails                     NOTAUTH with BADKEY, BADSIG, BADTIME
 *                                       or BADTRUNC in the TSIG RR
 *
 * Not thread safe: one responder belongs to one event loop.
 */
#ifndef DZ_SIGNER_RESPONDER_H
#define DZ_SIGNER_RESPONDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/clock.h"
#include "common/error.h"
#include "signer/server_config.h"
#include "signer/wire.h"

typedef struct dz_responder dz_responder_t;
typedef struct dz_transfer dz_transfer_t;

typedef enum dz_transport {
	DZ_TRANSPORT_UDP,
	DZ_TRANSPORT_TCP,
} dz_transport_t;

typedef enum dz_response_kind {
	DZ_RESPONSE_DROP,     /* send nothing */
	DZ_RESPONSE_REPLY,    /* send the one message in the output buffer */
	DZ_RESPONSE_TRANSFER, /* send the messages of the transfer */
} dz_response_kind_t;

typedef struct dz_response {
	dz_response_kind_t kind;
	size_t reply_len;	 /* DZ_RESPONSE_REPLY: bytes in the output buffer */
	dz_transfer_t *transfer; /* DZ_RESPONSE_TRANSFER: owned by the caller */
} dz_response_t;

/*
 * Create a responder for the zones of `config`, which must outlive it.  No
 * zone is served until dz_responder_load_zone() loads its files.
 * DZ_ECONFIG when a zone name is invalid.
 */
dz_result_t dz_responder_create(const dz_server_config_t *config, dz_responder_t **out,
				dz_error_t *err);

/* Free the responder; transfers still running keep their zone versions. NULL is ignored. */
void dz_responder_destroy(dz_responder_t *responder);

/*
 * Load the published version of zone number `index` (in config order)
 * from its files and serve it from now on.  *serial is the serial now
 * served.  On failure the previous version stays served.
 */
dz_result_t dz_responder_load_zone(dz_responder_t *responder, size_t index, uint32_t *serial,
				   dz_error_t *err);

/*
 * The committed SOA RR of zone number `index`, or NULL before a version is
 * loaded.  Valid until the next dz_responder_load_zone() of the zone.
 */
const dz_wire_rr_t *dz_responder_zone_soa(const dz_responder_t *responder, size_t index);

/* Index of the zone named `name` (presentation form) in config order, or -1. */
long dz_responder_find_zone(const dz_responder_t *responder, const char *name);

/*
 * Handle the request query[0..len) from `source`.  Replies are written to
 * out[0..out_cap), which must hold DZ_WIRE_MESSAGE_MAX bytes.  Repeated
 * problems are logged rate-limited; `now` is the time for TSIG and the log
 * rate.
 */
void dz_responder_handle(dz_responder_t *responder, dz_transport_t transport,
			 const struct sockaddr *source, const uint8_t *query, size_t len,
			 dz_time_t now, uint8_t *out, size_t out_cap, dz_response_t *response);

/*
 * Write the next message of a transfer into out[0..out_cap) and set *len.
 * *done becomes true with the last message.  DZ_EZONE when an RR is too
 * large for a message (the transfer must be abandoned).
 */
dz_result_t dz_transfer_next(dz_transfer_t *transfer, uint8_t *out, size_t out_cap, size_t *len,
			     bool *done, dz_time_t now);

/* Messages and RRs generated so far, and the zone and serial, for the log line at the end. */
void dz_transfer_summary(const dz_transfer_t *transfer, unsigned *messages, uint64_t *rrs,
			 const char **zone, uint32_t *serial);

/*
 * What the transfer sends, for log lines: "AXFR", "incremental IXFR" (from
 * the journal) or "IXFR of the whole zone".
 */
const char *dz_transfer_kind(const dz_transfer_t *transfer);

/* Free a transfer; NULL is ignored. */
void dz_transfer_destroy(dz_transfer_t *transfer);

#endif
