/*
 * wire.h -- DNS wire-form helpers for the publisher and the DNS server.
 *
 * RRs handled here are in uncompressed wire form (RFC 1035 section 3.2.1):
 * owner name, type, class, TTL, RDLENGTH, RDATA.  Names are sequences of
 * length-prefixed labels ending with the root label; they never contain
 * compression pointers, except where a function documents that it reads a
 * message.
 *
 * The server parses network input with these functions rather than with
 * ldns_wire2pkt(), because TSIG needs the byte offsets of the parts of a
 * message and the server must not allocate per packet.  Every function
 * checks bounds and accepts arbitrary bytes.
 */
#ifndef DZ_SIGNER_WIRE_H
#define DZ_SIGNER_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/mem.h"
#include "common/result.h"

#define DZ_WIRE_NAME_MAX 255
#define DZ_WIRE_HEADER_SIZE 12
#define DZ_WIRE_MESSAGE_MAX 65535

/* RR types and classes used by the server (IANA "Resource Record (RR) TYPEs"). */
#define DZ_TYPE_SOA 6
#define DZ_TYPE_OPT 41
#define DZ_TYPE_NSEC3 50
#define DZ_TYPE_TSIG 250
#define DZ_TYPE_IXFR 251
#define DZ_TYPE_AXFR 252
#define DZ_CLASS_IN 1
#define DZ_CLASS_ANY 255

/* Header opcodes and response codes (RFC 1035, RFC 1996, RFC 8945). */
#define DZ_OPCODE_QUERY 0
#define DZ_OPCODE_NOTIFY 4
#define DZ_RCODE_NOERROR 0
#define DZ_RCODE_FORMERR 1
#define DZ_RCODE_SERVFAIL 2
#define DZ_RCODE_NXDOMAIN 3
#define DZ_RCODE_NOTIMP 4
#define DZ_RCODE_REFUSED 5
#define DZ_RCODE_NOTAUTH 9

/* Header flag bits in the second 16-bit word. */
#define DZ_FLAG_QR 0x8000
#define DZ_FLAG_AA 0x0400
#define DZ_FLAG_TC 0x0200
#define DZ_FLAG_RD 0x0100

/* One uncompressed RR inside a larger buffer; pointers are not owned. */
typedef struct dz_wire_rr {
	const uint8_t *start; /* first byte of the owner name */
	size_t len;	      /* whole RR */
	const uint8_t *owner;
	size_t owner_len;
	uint16_t type;
	uint16_t rrclass;
	uint32_t ttl;
	const uint8_t *rdata;
	uint16_t rdlength;
} dz_wire_rr_t;

/* Read and write big-endian integers. */
static inline uint16_t
dz_wire_get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
dz_wire_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void
dz_wire_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
dz_wire_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * Length of the uncompressed name at the start of `data` (at most `len`
 * bytes), including the root label; 0 when it is invalid: truncated, a
 * compression pointer, a label longer than 63 or a name longer than 255.
 */
size_t dz_wire_name_len(const uint8_t *data, size_t len);

/*
 * Parse the uncompressed RR at data + *offset and advance *offset past it.
 * DZ_EFORMERR when it is truncated or its owner name is invalid.
 */
dz_result_t dz_wire_rr_parse(const uint8_t *data, size_t len, size_t *offset,
			     dz_wire_rr_t *rr);

/* Case-insensitive equality of two valid uncompressed names. */
bool dz_wire_name_equal(const uint8_t *a, const uint8_t *b);

/* Whether valid name `name` equals `origin` or lies below it (case-insensitive). */
bool dz_wire_name_is_below_or_at(const uint8_t *name, size_t name_len, const uint8_t *origin,
				 size_t origin_len);

/*
 * Compare two valid uncompressed names in canonical DNS order (RFC 4034
 * section 6.1: label by label from the root, each label as lower-cased
 * bytes).  Returns <0, 0 or >0.
 */
int dz_wire_name_compare(const uint8_t *a, const uint8_t *b);

/*
 * Compare two RRs by owner (canonical order), type, class and RDATA (bytes,
 * shorter first when one is a prefix), ignoring the TTL.  This is the order
 * of a published version after its SOA, and two RRs that compare equal are
 * the same record for IXFR, possibly with different TTLs.
 */
int dz_wire_rr_compare(const dz_wire_rr_t *a, const dz_wire_rr_t *b);

/* SOA serial of a parsed SOA RR; 0 when the RDATA is too short. */
uint32_t dz_wire_soa_serial(const dz_wire_rr_t *soa);

/*
 * Serial number comparison (RFC 1982 with SERIAL_BITS 32): <0 when a is
 * before b, 0 when equal, >0 when after.  The undefined case (distance of
 * exactly 2^31) counts as after.
 */
int dz_serial_compare(uint32_t a, uint32_t b);

/*
 * Convert a presentation-form name ("example.com." or "example.com") to
 * lower-case uncompressed wire form in `out` (DZ_WIRE_NAME_MAX bytes).
 * Returns the length, or 0 when the text is not a valid name.  Escapes
 * (\. and \DDD) are accepted.
 */
size_t dz_wire_name_from_text(const char *text, uint8_t out[DZ_WIRE_NAME_MAX]);

/*
 * Write valid name `name` in presentation form with a trailing dot into
 * `out` (at least 4 * DZ_WIRE_NAME_MAX + 1 bytes: every byte may need an
 * escape).
 */
void dz_wire_name_to_text(const uint8_t *name, char *out, size_t out_size);

/*
 * Skip the possibly compressed name at msg + *offset in a message of `len`
 * bytes and advance *offset past it.  Pointers must point backwards.
 * DZ_EFORMERR when the name is malformed.
 */
dz_result_t dz_wire_msg_skip_name(const uint8_t *msg, size_t len, size_t *offset);

/*
 * Copy the possibly compressed name at msg + offset into `out` as an
 * uncompressed name and return its length; 0 when malformed.
 */
size_t dz_wire_msg_read_name(const uint8_t *msg, size_t len, size_t offset,
			     uint8_t out[DZ_WIRE_NAME_MAX]);

/* Maximum labels in a name: 127 one-byte labels and the root fill 255 bytes. */
#define DZ_WIRE_LABELS_MAX 127

/*
 * A DNS message being built into a fixed-size area, with compression of
 * owner names (RFC 1035 section 4.1.4).  The longest label suffix that an
 * owner shares with the previous owner (or the question name) is written
 * as a pointer to where that suffix already is in the message.  In
 * canonical order consecutive owners share long suffixes, so this finds
 * most of what a full compression table would.  Pointers reach only the
 * first 16 KiB of a message.  RDATA is copied as it is, so names in RDATA
 * stay uncompressed: RFC 3597 section 4 forbids compressing new types, and
 * RRSIG signer names must not be compressed.
 */
typedef struct dz_wire_builder {
	uint8_t *data; /* not owned */
	size_t cap;    /* bytes available, at most DZ_WIRE_MESSAGE_MAX */
	size_t len;
	uint8_t last_name[DZ_WIRE_NAME_MAX]; /* previous owner, uncompressed */
	size_t last_name_len;
	size_t last_labels; /* labels of last_name, the root excluded */
	/* Message offset of last_name from label i on, or 0 when no pointer can reach it. */
	uint16_t suffix_offset[DZ_WIRE_LABELS_MAX];
} dz_wire_builder_t;

/* Start a message in `data` (capacity `cap`) with a header: the given ID and flags word. */
void dz_wire_builder_init(dz_wire_builder_t *b, uint8_t *data, size_t cap, uint16_t id,
			  uint16_t flags);

/* Append a question; false when it does not fit (the message is unchanged). */
bool dz_wire_builder_question(dz_wire_builder_t *b, const uint8_t *name, size_t name_len,
			      uint16_t type, uint16_t rrclass);

/*
 * Append an RR to the answer (section 1), authority (2) or additional (3)
 * section; false when it does not fit (the message is unchanged).  Sections
 * must be filled in order.
 */
bool dz_wire_builder_rr(dz_wire_builder_t *b, int section, const dz_wire_rr_t *rr);

/* Number of records in the section (0 question, 1 answer, 2 authority, 3 additional). */
uint16_t dz_wire_builder_count(const dz_wire_builder_t *b, int section);

#endif
