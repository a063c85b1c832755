#include "config.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "signer/journal.h"
#include "signer/publish.h"
#include "signer/ratelog.h"
#include "signer/responder.h"
#include "signer/snapshot.h"
#include "signer/tsig.h"

/* UDP payload size we advertise and use for EDNS clients (the DNS flag day 2020 value). */
#define EDNS_UDP_SIZE 1232
#define PLAIN_UDP_SIZE 512
/* Room kept free in each message for OPT and TSIG; the largest TSIG RR is about 400 bytes. */
#define MESSAGE_TRAILER_ROOM 600
/*
 * Bytes of header, question and RRs per transfer message: compression
 * pointers reach only the first 16 KiB, so larger messages would compress
 * worse and grow the transfer.
 */
#define TRANSFER_MESSAGE_BODY 16384
/* Size of the OPT RR we add: root name, type, class, TTL and an empty RDATA. */
#define OPT_RR_SIZE 11

/* A published version: snapshot plus the journal entries that lead to it. */
typedef struct zone_version {
	unsigned refs;
	dz_snapshot_t *snapshot;
	dz_journal_t *journal; /* NULL when there is none */
	size_t usable;	       /* journal entries up to the snapshot's serial */
} zone_version_t;

typedef struct responder_zone {
	const dz_server_zone_config_t *config;
	dz_publish_target_t target;
	zone_version_t *version; /* NULL until loaded */
} responder_zone_t;

struct dz_responder {
	const dz_server_config_t *config;
	responder_zone_t *zones;
	size_t zone_count;
	dz_ratelog_t log_malformed;
	dz_ratelog_t log_tsig;
	dz_ratelog_t log_refused;
	dz_ratelog_t log_served;
};

/* A piece of RR data that a transfer sends in order. */
typedef struct segment {
	const uint8_t *data;
	size_t len;
} segment_t;

struct dz_transfer {
	zone_version_t *version; /* one reference */
	segment_t *segments;
	size_t segment_count;
	size_t segment;	/* current segment */
	size_t offset;	/* in the current segment */
	uint16_t id;
	uint16_t flags;
	uint8_t qname[DZ_WIRE_NAME_MAX];
	size_t qname_len;
	uint16_t qtype;
	bool edns;
	bool signed_transfer;
	dz_tsig_context_t tsig;
	unsigned messages;
	uint64_t rrs;
	char zone[4 * DZ_WIRE_NAME_MAX + 1];
};

static void
version_unref(zone_version_t *version)
{
	if (version == NULL || --version->refs > 0)
		return;
	dz_snapshot_close(version->snapshot);
	dz_journal_close(version->journal);
	free(version);
}

dz_result_t
dz_responder_create(const dz_server_config_t *config, dz_responder_t **out, dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	dz_responder_t *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	r->config = config;
	r->zones = calloc(config->zone_count > 0 ? config->zone_count : 1, sizeof(*r->zones));
	if (r->zones == NULL) {
		result = dz_error_set(err, DZ_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < config->zone_count; i++) {
		responder_zone_t *zone = &r->zones[i];
		zone->config = &config->zones[i];
		result = dz_publish_target_init(&zone->target, zone->config->folder,
						zone->config->name, 0, err);
		if (result != DZ_OK) {
			result = dz_error_set(err, DZ_ECONFIG, "zone %s: %s", zone->config->name,
					      dz_error_message(err));
			goto cleanup;
		}
		r->zone_count++;
	}
	*out = r;
	r = NULL;

cleanup:
	dz_responder_destroy(r);
	return result;
}

void
dz_responder_destroy(dz_responder_t *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->zone_count; i++)
		version_unref(r->zones[i].version);
	free(r->zones);
	free(r);
}

long
dz_responder_find_zone(const dz_responder_t *r, const char *name)
{
	uint8_t wire[DZ_WIRE_NAME_MAX];

	if (dz_wire_name_from_text(name, wire) == 0)
		return -1;
	for (size_t i = 0; i < r->zone_count; i++) {
		if (dz_wire_name_equal(r->zones[i].target.origin, wire))
			return (long)i;
	}
	return -1;
}

dz_result_t
dz_responder_load_zone(dz_responder_t *r, size_t index, uint32_t *serial, dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	responder_zone_t *zone = &r->zones[index];
	zone_version_t *version = calloc(1, sizeof(*version));
	dz_error_t journal_err;

	assert(index < r->zone_count);
	if (version == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	version->refs = 1;
	result = dz_snapshot_open(zone->target.snapshot_path, true, &version->snapshot, err);
	if (result != DZ_OK)
		goto cleanup;
	if (!dz_wire_name_equal(version->snapshot->origin, zone->target.origin)) {
		result = dz_error_set(err, DZ_EZONE, "%s is the snapshot of another zone",
				      zone->target.snapshot_path);
		goto cleanup;
	}

	/*
	 * The journal may already end beyond the snapshot while a publication
	 * is between its journal and snapshot steps.  Only entries up to the
	 * snapshot's serial are used.
	 */
	dz_error_init(&journal_err);
	if (dz_journal_open(zone->target.journal_path, &version->journal, &journal_err) == DZ_OK &&
	    !dz_wire_name_equal(version->journal->origin, zone->target.origin)) {
		dz_log_zone(DZ_LOG_WARNING, zone->target.zone,
			    "%s is the journal of another zone; IXFR requests get the whole zone",
			    zone->target.journal_path);
		dz_journal_close(version->journal);
		version->journal = NULL;
	} else if (version->journal != NULL) {
		uint32_t snapshot_serial = version->snapshot->serial;
		for (size_t i = 0; i < version->journal->count; i++) {
			if (version->journal->entries[i].new_serial == snapshot_serial)
				version->usable = i + 1;
		}
	} else if (journal_err.code != DZ_ENOTFOUND) {
		dz_log_zone(DZ_LOG_WARNING, zone->target.zone,
			    "%s; IXFR requests get the whole zone", dz_error_message(&journal_err));
	}

	version_unref(zone->version);
	zone->version = version;
	dz_log_zone(DZ_LOG_INFO, zone->target.zone,
		    "serving serial %" PRIu32 " (%" PRIu64 " RRs, %zu journal entries for IXFR)",
		    version->snapshot->serial, version->snapshot->rr_count, version->usable);
	if (serial != NULL)
		*serial = version->snapshot->serial;
	version = NULL;

cleanup:
	version_unref(version);
	return result;
}

/* The parts of a request that the responder uses. */
typedef struct request {
	uint16_t id;
	uint16_t flags;
	int opcode;
	bool question_ok;
	uint8_t qname[DZ_WIRE_NAME_MAX];
	size_t qname_len;
	uint16_t qtype;
	uint16_t qclass;
	bool has_soa;	     /* IXFR: an SOA in the authority section */
	uint32_t soa_serial; /* its serial */
	bool edns;
	uint16_t udp_size;
	bool has_tsig;
	dz_tsig_record_t tsig;
} request_t;

/*
 * Skip one RR of a message at *offset; for an SOA store its serial.
 * DZ_EFORMERR when malformed.
 */
static dz_result_t
skip_rr(const uint8_t *msg, size_t len, size_t *offset, uint16_t *type, uint16_t *rrclass,
	bool *is_soa, uint32_t *serial)
{
	size_t pos = *offset;

	if (dz_wire_msg_skip_name(msg, len, &pos) != DZ_OK || len - pos < 10)
		return DZ_EFORMERR;
	*type = dz_wire_get_u16(msg + pos);
	*rrclass = dz_wire_get_u16(msg + pos + 2);
	uint16_t rdlength = dz_wire_get_u16(msg + pos + 8);
	pos += 10;
	if (len - pos < rdlength)
		return DZ_EFORMERR;
	*is_soa = false;
	if (*type == DZ_TYPE_SOA) {
		size_t rdata = pos;
		if (dz_wire_msg_skip_name(msg, pos + rdlength, &rdata) != DZ_OK ||
		    dz_wire_msg_skip_name(msg, pos + rdlength, &rdata) != DZ_OK ||
		    pos + rdlength - rdata != 20)
			return DZ_EFORMERR;
		*serial = dz_wire_get_u32(msg + rdata);
		*is_soa = true;
	}
	*offset = pos + rdlength;
	return DZ_OK;
}

/* Parse the request; DZ_EFORMERR when malformed (fields read so far are kept). */
static dz_result_t
parse_request(const uint8_t *msg, size_t len, request_t *req)
{
	size_t pos = DZ_WIRE_HEADER_SIZE;
	uint16_t qdcount = dz_wire_get_u16(msg + 4);
	uint16_t ancount = dz_wire_get_u16(msg + 6);
	uint16_t nscount = dz_wire_get_u16(msg + 8);
	uint16_t arcount = dz_wire_get_u16(msg + 10);

	if (qdcount != 1)
		return DZ_EFORMERR;
	req->qname_len = dz_wire_name_len(msg + pos, len - pos);
	if (req->qname_len == 0 || len - pos - req->qname_len < 4)
		return DZ_EFORMERR;
	memcpy(req->qname, msg + pos, req->qname_len);
	pos += req->qname_len;
	req->qtype = dz_wire_get_u16(msg + pos);
	req->qclass = dz_wire_get_u16(msg + pos + 2);
	pos += 4;
	req->question_ok = true;

	for (unsigned i = 0; i < (unsigned)ancount + nscount; i++) {
		uint16_t type, rrclass;
		bool is_soa;
		uint32_t serial = 0;
		if (skip_rr(msg, len, &pos, &type, &rrclass, &is_soa, &serial) != DZ_OK)
			return DZ_EFORMERR;
		if (i >= ancount && is_soa && !req->has_soa) {
			req->has_soa = true;
			req->soa_serial = serial;
		}
	}
	for (unsigned i = 0; i < arcount; i++) {
		size_t start = pos;
		uint16_t type, rrclass;
		bool is_soa;
		uint32_t serial;
		if (skip_rr(msg, len, &pos, &type, &rrclass, &is_soa, &serial) != DZ_OK)
			return DZ_EFORMERR;
		if (type == DZ_TYPE_OPT) {
			/* RFC 6891 section 6.1.1: one OPT, owned by the root. */
			if (req->edns || msg[start] != 0)
				return DZ_EFORMERR;
			req->edns = true;
			req->udp_size = rrclass;
		} else if (type == DZ_TYPE_TSIG) {
			/* RFC 8945 section 5.1: the TSIG RR must be the last additional RR. */
			if (i != (unsigned)arcount - 1 ||
			    dz_tsig_record_parse(msg, pos, start, &req->tsig) != DZ_OK)
				return DZ_EFORMERR;
			req->has_tsig = true;
			if (pos != len)
				return DZ_EFORMERR;
		}
	}
	return DZ_OK;
}

/* Start a reply: header with the request's ID, opcode and RD, plus its question. */
static void
reply_start(const request_t *req, dz_wire_builder_t *b, uint8_t *out, size_t cap, int rcode,
	    bool authoritative)
{
	uint16_t flags = DZ_FLAG_QR | (uint16_t)(req->opcode << 11) |
			 (req->flags & DZ_FLAG_RD) | (uint16_t)rcode;
	if (authoritative)
		flags |= DZ_FLAG_AA;
	dz_wire_builder_init(b, out, cap, req->id, flags);
	if (req->question_ok)
		dz_wire_builder_question(b, req->qname, req->qname_len, req->qtype, req->qclass);
}

/* Append an OPT RR advertising our UDP size when the request had one. */
static void
reply_add_opt(const request_t *req, dz_wire_builder_t *b)
{
	static const uint8_t opt[] = { 0, 0, DZ_TYPE_OPT, EDNS_UDP_SIZE >> 8, EDNS_UDP_SIZE & 0xff,
				       0, 0, 0, 0, 0, 0 };
	dz_wire_rr_t rr;
	size_t offset = 0;

	if (!req->edns)
		return;
	/* Every builder here keeps MESSAGE_TRAILER_ROOM free for OPT and TSIG. */
	b->cap += sizeof(opt);
	if (dz_wire_rr_parse(opt, sizeof(opt), &offset, &rr) == DZ_OK)
		dz_wire_builder_rr(b, 3, &rr);
}

/* Finish a reply: OPT, then the TSIG (signed with `tsig` unless NULL). */
static size_t
reply_finish(const request_t *req, dz_wire_builder_t *b, dz_tsig_context_t *tsig, dz_time_t now,
	     uint16_t tsig_error)
{
	size_t len;

	reply_add_opt(req, b);
	len = b->len;
	if (tsig != NULL) {
		/* The builder kept room for the TSIG RR, so signing fits. */
		if (dz_tsig_sign(tsig, b->data, &len, DZ_WIRE_MESSAGE_MAX, now, tsig_error) != DZ_OK)
			dz_log(DZ_LOG_ERROR, "cannot sign a response with TSIG key %s",
			       tsig->key->name_text);
	}
	return len;
}

/* Reply with only a header and question and the given RCODE. */
static void
reply_error(const request_t *req, uint8_t *out, size_t cap, int rcode, dz_tsig_context_t *tsig,
	    dz_time_t now, dz_response_t *response)
{
	dz_wire_builder_t b;

	reply_start(req, &b, out, cap - MESSAGE_TRAILER_ROOM, rcode, false);
	response->kind = DZ_RESPONSE_REPLY;
	response->reply_len = reply_finish(req, &b, tsig, now, 0);
}

static responder_zone_t *
find_zone(dz_responder_t *r, const uint8_t *name, size_t name_len)
{
	for (size_t i = 0; i < r->zone_count; i++) {
		if (r->zones[i].target.origin_len == name_len &&
		    dz_wire_name_equal(r->zones[i].target.origin, name))
			return &r->zones[i];
	}
	return NULL;
}

static dz_result_t
transfer_add_segment(dz_transfer_t *t, const uint8_t *data, size_t len, size_t *cap)
{
	if (len == 0)
		return DZ_OK;
	if (t->segment_count == *cap) {
		size_t grown = *cap == 0 ? 8 : *cap * 2;
		segment_t *segments = realloc(t->segments, grown * sizeof(*segments));
		if (segments == NULL)
			return DZ_ENOMEM;
		t->segments = segments;
		*cap = grown;
	}
	t->segments[t->segment_count].data = data;
	t->segments[t->segment_count].len = len;
	t->segment_count++;
	return DZ_OK;
}

/*
 * Create the transfer of `version` for the request: the whole zone when
 * `first_entry` is SIZE_MAX, otherwise the journal entries from it on.
 */
static dz_transfer_t *
transfer_create(const request_t *req, zone_version_t *version, size_t first_entry,
		const dz_tsig_context_t *tsig)
{
	dz_transfer_t *t = calloc(1, sizeof(*t));
	const dz_snapshot_t *s = version->snapshot;
	size_t cap = 0;
	bool ok = true;

	if (t == NULL)
		return NULL;
	version->refs++;
	t->version = version;
	t->id = req->id;
	t->flags = DZ_FLAG_QR | DZ_FLAG_AA | (req->flags & DZ_FLAG_RD);
	memcpy(t->qname, req->qname, req->qname_len);
	t->qname_len = req->qname_len;
	t->qtype = req->qtype;
	t->edns = req->edns;
	dz_wire_name_to_text(s->origin, t->zone, sizeof(t->zone));
	if (tsig != NULL) {
		t->signed_transfer = true;
		t->tsig = *tsig;
	}

	ok = transfer_add_segment(t, s->soa.start, s->soa.len, &cap) == DZ_OK;
	if (first_entry == SIZE_MAX) {
		ok = ok && transfer_add_segment(t, s->rest, s->rest_len, &cap) == DZ_OK;
	} else {
		for (size_t i = first_entry; ok && i < version->usable; i++) {
			const dz_journal_entry_t *e = &version->journal->entries[i];
			ok = transfer_add_segment(t, e->old_soa.start, e->old_soa.len, &cap) == DZ_OK &&
			     transfer_add_segment(t, e->removed, e->removed_len, &cap) == DZ_OK &&
			     transfer_add_segment(t, e->new_soa.start, e->new_soa.len, &cap) == DZ_OK &&
			     transfer_add_segment(t, e->added, e->added_len, &cap) == DZ_OK;
		}
	}
	ok = ok && transfer_add_segment(t, s->soa.start, s->soa.len, &cap) == DZ_OK;
	if (!ok) {
		dz_transfer_destroy(t);
		return NULL;
	}
	return t;
}

void
dz_transfer_summary(const dz_transfer_t *t, unsigned *messages, uint64_t *rrs, const char **zone,
		    uint32_t *serial)
{
	*messages = t->messages;
	*rrs = t->rrs;
	*zone = t->zone;
	*serial = t->version->snapshot->serial;
}

void
dz_transfer_destroy(dz_transfer_t *t)
{
	if (t == NULL)
		return;
	version_unref(t->version);
	free(t->segments);
	free(t);
}

dz_result_t
dz_transfer_next(dz_transfer_t *t, uint8_t *out, size_t out_cap, size_t *len, bool *done,
		 dz_time_t now)
{
	dz_wire_builder_t b;
	size_t cap = out_cap < DZ_WIRE_MESSAGE_MAX ? out_cap : DZ_WIRE_MESSAGE_MAX;

	assert(cap > MESSAGE_TRAILER_ROOM + DZ_WIRE_HEADER_SIZE);
	size_t body = cap - MESSAGE_TRAILER_ROOM;
	if (body > TRANSFER_MESSAGE_BODY)
		body = TRANSFER_MESSAGE_BODY;
	dz_wire_builder_init(&b, out, body, t->id, t->flags);
	/* RFC 5936 section 2.2: the question goes in the first message. */
	if (t->messages == 0)
		dz_wire_builder_question(&b, t->qname, t->qname_len, t->qtype, DZ_CLASS_IN);

	while (t->segment < t->segment_count) {
		const segment_t *seg = &t->segments[t->segment];
		dz_wire_rr_t rr;
		size_t next = t->offset;
		if (dz_wire_rr_parse(seg->data, seg->len, &next, &rr) != DZ_OK)
			return DZ_EZONE;
		if (!dz_wire_builder_rr(&b, 1, &rr)) {
			if (dz_wire_builder_count(&b, 1) == 0)
				return DZ_EZONE;
			break;
		}
		t->rrs++;
		t->offset = next;
		if (t->offset == seg->len) {
			t->segment++;
			t->offset = 0;
		}
	}

	if (t->messages == 0 && t->edns) {
		request_t req = { .edns = true };
		reply_add_opt(&req, &b);
	}
	*len = b.len;
	if (t->signed_transfer &&
	    dz_tsig_sign(&t->tsig, out, len, cap, now, 0) != DZ_OK)
		return DZ_ECRYPTO;
	t->messages++;
	*done = t->segment == t->segment_count;
	return DZ_OK;
}

/* Name of the zone of a request for log lines. */
static void
request_zone_text(const request_t *req, char *out, size_t size)
{
	if (req->question_ok)
		dz_wire_name_to_text(req->qname, out, size);
	else
		snprintf(out, size, "(no question)");
}

/* Handle QUERY SOA/AXFR/IXFR and NOTIFY once the request parsed and its TSIG verified. */
static void
handle_valid(dz_responder_t *r, dz_transport_t transport, const char *peer, const request_t *req,
	     dz_tsig_context_t *tsig, dz_time_t now, uint8_t *out, size_t out_cap,
	     dz_response_t *response)
{
	char zone_text[4 * DZ_WIRE_NAME_MAX + 1];
	const char *key_text = tsig != NULL ? tsig->key->name_text : "none";
	responder_zone_t *zone = find_zone(r, req->qname, req->qname_len);

	request_zone_text(req, zone_text, sizeof(zone_text));
	if (req->qclass != DZ_CLASS_IN || zone == NULL) {
		dz_ratelog(&r->log_refused, now, DZ_LOG_INFO,
			   "refused %s request for %s class %u from %s: not a zone served here",
			   req->opcode == DZ_OPCODE_NOTIFY ? "NOTIFY" : "QUERY", zone_text,
			   req->qclass, peer);
		reply_error(req, out, out_cap, DZ_RCODE_REFUSED, tsig, now, response);
		return;
	}

	if (req->opcode == DZ_OPCODE_NOTIFY) {
		reply_error(req, out, out_cap, DZ_RCODE_NOERROR, tsig, now, response);
		return;
	}

	zone_version_t *version = zone->version;
	if (version == NULL) {
		dz_ratelog(&r->log_refused, now, DZ_LOG_WARNING,
			   "zone %s: SERVFAIL to %s: no published version is loaded", zone_text, peer);
		reply_error(req, out, out_cap, DZ_RCODE_SERVFAIL, tsig, now, response);
		return;
	}
	const dz_snapshot_t *s = version->snapshot;

	if (req->qtype == DZ_TYPE_SOA) {
		dz_wire_builder_t b;
		reply_start(req, &b, out, out_cap - MESSAGE_TRAILER_ROOM, DZ_RCODE_NOERROR, true);
		dz_wire_builder_rr(&b, 1, &s->soa);
		response->kind = DZ_RESPONSE_REPLY;
		response->reply_len = reply_finish(req, &b, tsig, now, 0);
		return;
	}

	if (req->qtype != DZ_TYPE_AXFR && req->qtype != DZ_TYPE_IXFR) {
		dz_ratelog(&r->log_refused, now, DZ_LOG_INFO,
			   "zone %s: refused query type %u from %s: only SOA, AXFR and IXFR are served",
			   zone_text, req->qtype, peer);
		reply_error(req, out, out_cap, DZ_RCODE_REFUSED, tsig, now, response);
		return;
	}

	const char *kind = req->qtype == DZ_TYPE_AXFR ? "AXFR" : "IXFR";
	if (req->qtype == DZ_TYPE_AXFR && transport == DZ_TRANSPORT_UDP) {
		dz_ratelog(&r->log_malformed, now, DZ_LOG_INFO,
			   "zone %s: FORMERR to %s: AXFR over UDP is not defined (RFC 5936)",
			   zone_text, peer);
		reply_error(req, out, out_cap, DZ_RCODE_FORMERR, tsig, now, response);
		return;
	}
	if (req->qtype == DZ_TYPE_IXFR && !req->has_soa) {
		dz_ratelog(&r->log_malformed, now, DZ_LOG_INFO,
			   "zone %s: FORMERR to %s: IXFR without an SOA in the authority section",
			   zone_text, peer);
		reply_error(req, out, out_cap, DZ_RCODE_FORMERR, tsig, now, response);
		return;
	}

	/* An IXFR client that is current gets the SOA alone (RFC 1995 section 2). */
	size_t first_entry = SIZE_MAX;
	if (req->qtype == DZ_TYPE_IXFR) {
		if (dz_serial_compare(req->soa_serial, s->serial) >= 0) {
			dz_wire_builder_t b;
			reply_start(req, &b, out, out_cap - MESSAGE_TRAILER_ROOM, DZ_RCODE_NOERROR,
				    true);
			dz_wire_builder_rr(&b, 1, &s->soa);
			response->kind = DZ_RESPONSE_REPLY;
			response->reply_len = reply_finish(req, &b, tsig, now, 0);
			return;
		}
		size_t index;
		if (version->journal != NULL && dz_journal_find(version->journal, req->soa_serial,
								 &index) &&
		    index < version->usable)
			first_entry = index;
	}

	dz_transfer_t *t = transfer_create(req, version, first_entry, tsig);
	if (t == NULL) {
		dz_log_zone(DZ_LOG_ERROR, zone_text, "out of memory for a %s to %s", kind, peer);
		reply_error(req, out, out_cap, DZ_RCODE_SERVFAIL, tsig, now, response);
		return;
	}
	if (transport == DZ_TRANSPORT_TCP) {
		dz_ratelog(&r->log_served, now, DZ_LOG_INFO,
			   "zone %s: %s of serial %" PRIu32 " to %s (key %s, %s)", zone_text, kind,
			   s->serial, peer, key_text,
			   first_entry == SIZE_MAX ? "whole zone"
						   : "incremental from the journal");
		response->kind = DZ_RESPONSE_TRANSFER;
		response->transfer = t;
		return;
	}

	/* IXFR over UDP: one message, or the SOA alone when the diffs do not fit. */
	size_t udp_size = PLAIN_UDP_SIZE;
	if (req->edns && req->udp_size > PLAIN_UDP_SIZE)
		udp_size = req->udp_size < EDNS_UDP_SIZE ? req->udp_size : EDNS_UDP_SIZE;
	size_t len = 0;
	bool done = false;
	/* The answer section gets the room that OPT and TSIG leave of the client's UDP size. */
	size_t trailer = (req->edns ? OPT_RR_SIZE : 0) + (tsig != NULL ? dz_tsig_record_size(tsig->key) : 0);
	size_t cap = udp_size + MESSAGE_TRAILER_ROOM - trailer;
	if (dz_transfer_next(t, out, cap, &len, &done, now) == DZ_OK && done && len <= udp_size) {
		response->kind = DZ_RESPONSE_REPLY;
		response->reply_len = len;
	} else {
		/* The transfer signed with its own copy of the context, so `tsig` is unused. */
		dz_wire_builder_t b;
		reply_start(req, &b, out, out_cap - MESSAGE_TRAILER_ROOM, DZ_RCODE_NOERROR, true);
		dz_wire_builder_rr(&b, 1, &s->soa);
		response->kind = DZ_RESPONSE_REPLY;
		response->reply_len = reply_finish(req, &b, tsig, now, 0);
	}
	dz_transfer_destroy(t);
}

void
dz_responder_handle(dz_responder_t *r, dz_transport_t transport, const struct sockaddr *source,
		    const uint8_t *query, size_t len, dz_time_t now, uint8_t *out, size_t out_cap,
		    dz_response_t *response)
{
	request_t req;
	char peer[DZ_SERVER_ADDRESS_TEXT_MAX];
	char zone_text[4 * DZ_WIRE_NAME_MAX + 1];
	dz_tsig_context_t tsig;
	dz_tsig_context_t *verified = NULL;

	assert(out_cap >= DZ_WIRE_MESSAGE_MAX);
	memset(response, 0, sizeof(*response));
	memset(&req, 0, sizeof(req));
	response->kind = DZ_RESPONSE_DROP;
	dz_server_address_format(source, peer, sizeof(peer));

	if (len < DZ_WIRE_HEADER_SIZE || len > DZ_SERVER_QUERY_MAX) {
		dz_ratelog(&r->log_malformed, now, DZ_LOG_INFO,
			   "dropped a %zu-byte message from %s: %s", len, peer,
			   len < DZ_WIRE_HEADER_SIZE ? "shorter than a DNS header"
						     : "larger than any request we serve");
		return;
	}
	req.id = dz_wire_get_u16(query);
	req.flags = dz_wire_get_u16(query + 2);
	req.opcode = (req.flags >> 11) & 0x0f;
	if (req.flags & DZ_FLAG_QR) {
		dz_ratelog(&r->log_malformed, now, DZ_LOG_INFO,
			   "dropped a response (QR set) from %s", peer);
		return;
	}
	if (req.opcode != DZ_OPCODE_QUERY && req.opcode != DZ_OPCODE_NOTIFY) {
		dz_ratelog(&r->log_refused, now, DZ_LOG_INFO, "NOTIMP to %s: opcode %d", peer,
			   req.opcode);
		reply_error(&req, out, out_cap, DZ_RCODE_NOTIMP, NULL, now, response);
		return;
	}
	if (parse_request(query, len, &req) != DZ_OK) {
		request_zone_text(&req, zone_text, sizeof(zone_text));
		dz_ratelog(&r->log_malformed, now, DZ_LOG_INFO,
			   "FORMERR to %s: malformed request (question %s)", peer, zone_text);
		req.has_tsig = false;
		reply_error(&req, out, out_cap, DZ_RCODE_FORMERR, NULL, now, response);
		return;
	}
	request_zone_text(&req, zone_text, sizeof(zone_text));

	if (req.has_tsig) {
		int error = dz_tsig_verify_request(r->config->keys, r->config->key_count, query, len,
						   &req.tsig, now, &tsig);
		char key[4 * DZ_WIRE_NAME_MAX + 1];
		dz_wire_name_to_text(req.tsig.key_name, key, sizeof(key));
		if (error == -1) {
			dz_ratelog(&r->log_tsig, now, DZ_LOG_NOTICE,
				   "FORMERR to %s: malformed TSIG with key %s (question %s)", peer,
				   key, zone_text);
			reply_error(&req, out, out_cap, DZ_RCODE_FORMERR, NULL, now, response);
			return;
		}
		if (error != 0) {
			static const char *const names[] = {
				[DZ_TSIG_BADSIG] = "BADSIG", [DZ_TSIG_BADKEY] = "BADKEY",
				[DZ_TSIG_BADTIME] = "BADTIME", [DZ_TSIG_BADTRUNC] = "BADTRUNC",
			};
			dz_ratelog(&r->log_tsig, now, DZ_LOG_NOTICE,
				   "TSIG %s for key %s from %s (question %s); replied NOTAUTH",
				   names[error], key, peer, zone_text);
			dz_wire_builder_t b;
			reply_start(&req, &b, out, out_cap - MESSAGE_TRAILER_ROOM, DZ_RCODE_NOTAUTH,
				    false);
			reply_add_opt(&req, &b);
			size_t reply_len = b.len;
			/* RFC 8945 section 5.3.2: BADKEY and BADSIG replies are unsigned. */
			if (error == DZ_TSIG_BADKEY || error == DZ_TSIG_BADSIG)
				dz_tsig_append_error(&req.tsig, out, &reply_len, out_cap, now,
						     (uint16_t)error);
			else
				dz_tsig_sign(&tsig, out, &reply_len, out_cap, now, (uint16_t)error);
			response->kind = DZ_RESPONSE_REPLY;
			response->reply_len = reply_len;
			return;
		}
		verified = &tsig;
	}

	/* Access lists, by source address and the verified key. */
	responder_zone_t *zone = find_zone(r, req.qname, req.qname_len);
	if (zone != NULL && req.qclass == DZ_CLASS_IN) {
		const dz_acl_t *acl = NULL;
		const char *what = NULL;
		if (req.opcode == DZ_OPCODE_NOTIFY) {
			acl = &zone->config->notify_acl;
			what = "NOTIFY";
		} else if (req.qtype == DZ_TYPE_AXFR || req.qtype == DZ_TYPE_IXFR) {
			acl = &zone->config->transfer_acl;
			what = req.qtype == DZ_TYPE_AXFR ? "AXFR" : "IXFR";
		} else if (zone->config->query_acl.count > 0) {
			acl = &zone->config->query_acl;
			what = "query";
		}
		if (acl != NULL &&
		    !dz_acl_allows(acl, source, verified != NULL ? verified->key->name : NULL)) {
			dz_ratelog(&r->log_refused, now, DZ_LOG_NOTICE,
				   "zone %s: refused %s from %s with key %s: not in the access list",
				   zone_text, what, peer,
				   verified != NULL ? verified->key->name_text : "none");
			reply_error(&req, out, out_cap, DZ_RCODE_REFUSED, verified, now, response);
			return;
		}
		if (req.opcode == DZ_OPCODE_NOTIFY)
			dz_log_zone(DZ_LOG_INFO, zone_text, "NOTIFY from %s acknowledged", peer);
	}
	handle_valid(r, transport, peer, &req, verified, now, out, out_cap, response);
}
