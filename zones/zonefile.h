/*
 * zonefile.h -- stream the records of a text zone file (RFC 1035 section 5).
 *
 * ldns parses the data of each record; this reader adds what ldns's own
 * zone readers lack or get wrong:
 *
 *   - $INCLUDE FILE [ORIGIN]: FILE is resolved from the folder of the
 *     including file; ORIGIN applies only inside the included file, and the
 *     including file's origin and previous owner are restored afterwards.
 *     Nesting is limited and a file that includes itself, directly or
 *     through others, is an error that names the chain.
 *   - $ORIGIN with names relative to the current origin, $TTL, and the TTL
 *     defaults described below.
 *   - RFC 3597 generic form: TYPEnnn and CLASSnnn mnemonics, and
 *     "\# LENGTH HEX" data for any type.  When ldns has a format for the
 *     type, the data is decoded into the type's fields and must encode back
 *     to exactly the same octets.  Other types keep the data as opaque
 *     octets.  Either way the wire form of the record is the one written.
 *   - Parenthesised multi-line records, comments, quoted strings containing
 *     ';' or '(', escaped labels (\. and \DDD), '@', a blank owner (the
 *     previous record's owner), TTL and class in either order, names of up
 *     to 255 octets and labels of up to 63 octets.
 *
 * TTL rules, in order (as BIND 9 loads zones; RFC 2308 section 4 defines
 * $TTL and gives the SOA MINIMUM field its negative-caching meaning):
 *   1. a TTL written in the record;
 *   2. the current $TTL (or the default_ttl option before any $TTL);
 *   3. without $TTL, the last TTL written in an earlier record (RFC 1035
 *      section 5.1), with one warning per read;
 *   4. for an SOA record with no TTL before it, the SOA MINIMUM field, with
 *      a warning; that value then serves as the $TTL;
 *   5. otherwise the record is an error.
 * A $TTL set inside an included file stays in effect after it, as in BIND.
 * TTLs above 2147483647 are rejected (RFC 2181 section 8).
 *
 * A zone file has one class: a record without a class gets the class of
 * the first record (IN by default), and a different class is an error.
 *
 * Names are passed on as written: case is preserved and nothing is checked
 * against the zone apex, so out-of-zone records reach the callback and the
 * caller decides what to do with them.  $GENERATE is not supported.
 *
 * Warnings are logged through common/log.h as "FILE:LINE: message".
 *
 * Thread safety: the functions keep no global state; separate reads may run
 * in parallel.
 */
#ifndef DZ_ZONES_ZONEFILE_H
#define DZ_ZONES_ZONEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ldns/ldns.h>

#include "common/error.h"
#include "common/result.h"

/* Default limit of nested $INCLUDE files below the top-level file. */
#define DZ_ZONEFILE_INCLUDE_DEPTH_DEFAULT 16

/*
 * Default limit of $INCLUDE files read in one read, counting a file again
 * each time it is included.  Nested files that each include the next one
 * several times multiply the reads at every level (4 includes per level
 * over 16 levels would read 4^16 files), and this bounds that work.
 */
#define DZ_ZONEFILE_INCLUDES_DEFAULT 10000

/* Largest TTL accepted: 2^31 - 1 seconds (RFC 2181 section 8). */
#define DZ_ZONEFILE_TTL_MAX 2147483647u

/*
 * Maximum length of one record's text after joining its parenthesised
 * lines, in bytes.  Generic data of the largest RDATA (65535 octets) needs about
 * 131 kB; the limit bounds memory on broken input such as a missing ')'.
 */
#define DZ_ZONEFILE_RECORD_TEXT_MAX (1024u * 1024u)

/*
 * Called once per record, in file order.  `rr` is borrowed: the reader
 * frees it when the callback returns, so copy what must be kept.  `file`
 * is the name of the file the record came from (an included file where
 * that applies) and `line` the line on which its text starts.  Return
 * DZ_OK to continue.  Any other code stops the read, which returns that
 * code with `err` as the callback left it, so set a message in `err`
 * (naming file and line) before returning an error.
 */
typedef dz_result_t (*dz_zonefile_rr_fn)(void *ctx, const ldns_rr *rr, const char *file,
					 unsigned line, dz_error_t *err);

/*
 * One record in uncompressed wire form, as dz_zonefile_read_records()
 * passes it on.  The owner and the domain names in the RDATA of the types
 * RFC 4034 section 6.2 lists as updated by RFC 6840 section 5.1 (NS, CNAME,
 * SOA, PTR, MX, SRV, DNAME, RRSIG and a few obsolete ones, not NSEC) are in
 * lower case, which is the canonical form the signer needs.  Every pointer
 * is borrowed until the callback returns.
 */
typedef struct dz_zonefile_record {
	const uint8_t *owner;
	size_t owner_len;
	uint16_t type;
	uint16_t rr_class;
	uint32_t ttl;
	const uint8_t *rdata;
	uint16_t rdata_len;
	const char *file; /* as for dz_zonefile_rr_fn */
	unsigned line;
} dz_zonefile_record_t;

/* Called once per record, in file order, with the contract of dz_zonefile_rr_fn. */
typedef dz_result_t (*dz_zonefile_record_fn)(void *ctx, const dz_zonefile_record_t *record,
					     dz_error_t *err);

/*
 * Supplies the text of an $INCLUDE target instead of the file system.
 * `path` is the target resolved against the folder of the including file.
 * On DZ_OK, `*data` and `*len` point at the text, which must stay valid
 * until the dz_zonefile_read*() call that asked for it returns.  On failure
 * set `err` to say why; the reader prefixes it with the including file and
 * line.
 */
typedef dz_result_t (*dz_zonefile_include_fn)(void *ctx, const char *path, const char **data,
					      size_t *len, dz_error_t *err);

typedef struct dz_zonefile_options {
	/* A $TTL in effect from the first line, as if the file began with one. */
	bool has_default_ttl;
	uint32_t default_ttl; /* seconds, at most DZ_ZONEFILE_TTL_MAX */

	/* Whether $INCLUDE is allowed; when false it is an error (DZ_EPERM). */
	bool allow_include;
	/* Maximum number of nested $INCLUDE files; 0 means the default. */
	unsigned max_include_depth;
	/* Maximum number of $INCLUDE files read in all; 0 means the default. */
	unsigned max_includes;
	/*
	 * When set, every $INCLUDE target is read through this callback
	 * instead of from the file system.  Loops are then detected on the
	 * resolved path after removing "." and "name/.." components.
	 */
	dz_zonefile_include_fn include_fn;
	void *include_ctx;
} dz_zonefile_options_t;

/*
 * Set the defaults: no default TTL, $INCLUDE allowed from the file system,
 * at most DZ_ZONEFILE_INCLUDE_DEPTH_DEFAULT nested files and
 * DZ_ZONEFILE_INCLUDES_DEFAULT included files in all.
 */
void dz_zonefile_options_init(dz_zonefile_options_t *options);

/*
 * Read the zone file at `path` and call `fn` for each record.
 *
 * `origin` is the initial $ORIGIN in presentation form, with or without the
 * trailing dot (for example the zone name); NULL means none, in which case
 * the file must set $ORIGIN before it uses a relative name or '@'.
 * `options` may be NULL for the defaults.
 *
 * Returns DZ_OK after the last record, or one of these codes:
 *   DZ_ENOTFOUND, DZ_EPERM, DZ_EIO  a file cannot be opened or read
 *   DZ_ESYNTAX     invalid text, or an $INCLUDE loop
 *   DZ_ETOOBIG     a record's text is longer than DZ_ZONEFILE_RECORD_TEXT_MAX
 *   DZ_ERANGE      a TTL above the maximum, includes nested too deep, or
 *                  more included files than options->max_includes
 *   DZ_EPERM       $INCLUDE when options->allow_include is false
 *   DZ_ENOTSUP     $GENERATE
 *   DZ_EINVAL      an invalid `origin`
 *   DZ_ENOMEM
 *   the callback's code.
 * On failure `err` names the file, the line and the offending text and says
 * what to fix.  Records passed to `fn` before an error have been delivered;
 * the caller discards them if it wants all or nothing.
 */
dz_result_t dz_zonefile_read(const char *path, const char *origin,
			     const dz_zonefile_options_t *options, dz_zonefile_rr_fn fn, void *ctx,
			     dz_error_t *err);

/*
 * Like dz_zonefile_read(), but pass each record in wire form.  The RDATA of
 * the common types of a mail zone (A, AAAA, NS, CNAME, PTR, DNAME, MX, SRV,
 * SOA, TXT, DS, CDS, TLSA, SMIMEA) is converted here when it has the plain
 * form: decimal numbers, hex, names without escapes, strings.  Everything
 * else goes through ldns as in dz_zonefile_read(), so both accept the same
 * text, make the same wire form and report the same errors.  This is the
 * fast way to load a large zone: ldns allocates several objects per record.
 */
dz_result_t dz_zonefile_read_records(const char *path, const char *origin,
				     const dz_zonefile_options_t *options,
				     dz_zonefile_record_fn fn, void *ctx, dz_error_t *err);

/* dz_zonefile_read_records() on text in memory, as dz_zonefile_read_buffer(). */
dz_result_t dz_zonefile_read_records_buffer(const char *data, size_t len, const char *name,
					    const char *origin,
					    const dz_zonefile_options_t *options,
					    dz_zonefile_record_fn fn, void *ctx, dz_error_t *err);

/*
 * Like dz_zonefile_read(), but the top-level text is `data` of `len` bytes
 * (it need not end in a NUL byte) and `name` is the file name used in
 * messages and as the base for relative $INCLUDE paths.  $INCLUDE reads
 * through options->include_fn when it is set and from the file system
 * otherwise; clear options->allow_include to forbid it.
 */
dz_result_t dz_zonefile_read_buffer(const char *data, size_t len, const char *name,
				    const char *origin, const dz_zonefile_options_t *options,
				    dz_zonefile_rr_fn fn, void *ctx, dz_error_t *err);

#endif
