/*
 * zonefile_internal.h -- state shared by the parts of the zone file
 * reader: zonefile.c reads the text, the directives and $INCLUDE,
 * zonefile_record.c turns the text of one record into an ldns_rr or a wire
 * record, and zonefile_rdata.c converts the plain RDATA of common types to
 * wire form without ldns.  Only those files include it.
 */
#ifndef DZ_ZONES_ZONEFILE_INTERNAL_H
#define DZ_ZONES_ZONEFILE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "zones/zonefile.h"

/* Maximum length of record text quoted in an error message, in bytes. */
#define EXCERPT_MAX 120

/* Maximum length of a name in wire form, in octets (RFC 1035 section 2.3.4). */
#define NAME_WIRE_MAX 255

/*
 * Origin used while no $ORIGIN is known.  ldns treats a relative name as
 * absolute when it has no origin, so the reader appends this marker
 * instead and reports any name in record data that ends with it.
 */
#define NO_ORIGIN_MARKER "\\000dz-no-origin\\000."

/* One token of a record's text: a span of reader_t.text. */
typedef struct token {
	size_t start;
	size_t len;
	bool quoted; /* written as "..." (the span includes the quotes) */
} token_t;

/* One file or buffer being read: an entry of the $INCLUDE stack. */
typedef struct source {
	char *name;		  /* as shown in messages; base for relative $INCLUDE paths */
	FILE *fp;		  /* NULL when reading from memory */
	const char *data;	  /* memory input */
	size_t len;
	size_t pos;
	unsigned line;		  /* line of the next character */
	bool has_file_id;	  /* identity from fstat(), else from the normalised name */
	dev_t dev;
	ino_t ino;
	char *key;		  /* normalised name, identity of memory sources */
	ldns_rdf *origin;	  /* current $ORIGIN; NULL while unknown */
	ldns_rdf *previous_owner; /* owner of the previous record, for a blank owner */
	unsigned depth;		  /* 0 for the top-level file */
	struct source *parent;
} source_t;

typedef struct reader {
	const dz_zonefile_options_t *options;
	dz_zonefile_rr_fn fn;		/* exactly one of fn and record_fn is set */
	dz_zonefile_record_fn record_fn;
	void *ctx;
	dz_error_t *err;

	/* TTL state, shared by all files of one read as in BIND. */
	bool default_ttl_known;
	uint32_t default_ttl;
	bool last_ttl_known;
	uint32_t last_ttl;
	bool warned_last_ttl;

	/* $INCLUDE files opened so far in this read. */
	unsigned include_count;

	/* Class of the zone: that of the first record. */
	bool class_known;
	ldns_rr_class zone_class;

	ldns_rdf *no_origin_marker;

	/* The record being read, and its tokens. */
	char *text;
	size_t text_len;
	size_t text_cap;
	bool blank_owner; /* the record's first line starts with a space or tab */
	token_t *tokens;
	size_t token_count;
	size_t token_cap;

	/* Scratch buffer for the text handed to ldns. */
	char *scratch;
	size_t scratch_cap;

	/* Wire form of the record passed to record_fn. */
	uint8_t *wire;
	size_t wire_cap;
} reader_t;

/* Size of the buffer that dz_zonefile_excerpt() fills. */
#define EXCERPT_SIZE (EXCERPT_MAX + 4)

/* Grow *buf to at least `needed` bytes; DZ_ENOMEM leaves it unchanged. */
dz_result_t dz_zonefile_reserve(char **buf, size_t *cap, size_t needed);

/* NUL-terminated copy of token `i` (owned by the caller), or NULL. */
char *dz_zonefile_token_text(const reader_t *r, size_t i);

/*
 * Write the record text, trimmed and cut to EXCERPT_MAX bytes, into `out`
 * (EXCERPT_SIZE bytes) for error messages; returns `out`.
 */
const char *dz_zonefile_excerpt(const reader_t *r, char *out);

/*
 * Parse a TTL: decimal seconds, or numbers with the units s, m, h, d, w in
 * either case ("1h30m"), as BIND and ldns accept.  Returns DZ_ESYNTAX for
 * other text and DZ_ERANGE above DZ_ZONEFILE_TTL_MAX.
 */
dz_result_t dz_zonefile_parse_ttl(const char *text, size_t len, uint32_t *ttl);

/*
 * Resolve the name `text` against `origin` ('@' is the origin itself) into
 * a new rdf owned by the caller.  `what` names the name's role in messages
 * ("owner", "$ORIGIN").
 */
dz_result_t dz_zonefile_resolve_name(reader_t *r, source_t *src, unsigned line, const char *text,
				     const ldns_rdf *origin, const char *what, ldns_rdf **out);

/* Parse the record in r->text and pass it to the callback. */
dz_result_t dz_zonefile_handle_record(reader_t *r, source_t *src, unsigned line);

/* Longest RDATA (RFC 1035 section 3.2.1: RDLENGTH is 16 bits). */
#define RDATA_MAX 65535

/*
 * Convert the RDATA of `type` in tokens `first` and later of r->text into
 * `out` (RDATA_MAX bytes) when it has the plain form that this file
 * handles, with the names of NS, CNAME, SOA, PTR, MX, SRV and DNAME in
 * lower case.  Relative names take `origin` (uncompressed wire form).
 * Returns the RDATA length, or -1 when ldns must parse the text: another
 * type, another form, or text that may be invalid.
 */
long dz_zonefile_fast_rdata(const reader_t *r, size_t first, uint16_t type, const uint8_t *origin,
			    size_t origin_len, uint8_t *out);

#endif
