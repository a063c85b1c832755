/*
 * print.h -- resource records in presentation form (RFC 1035 section 5.1).
 *
 * The signed zone file and the zone text file of a published version print
 * every RR, and ldns takes microseconds for each.  So the types a signed
 * mail zone consists of are printed here: A, NS, CNAME, SOA, PTR, MX, TXT,
 * AAAA, SRV, DNAME, DS, RRSIG, NSEC, DNSKEY, NSEC3, NSEC3PARAM, TLSA,
 * SMIMEA, CDS, CDNSKEY and OPENPGPKEY.  Every other type, and RDATA that
 * does not parse as its type's fields, is printed by ldns.  ldns reads the
 * output back to the same wire form (tests/unit/signer/test_print.c).
 *
 * A line is "OWNER<tab>TTL<tab>IN<tab>TYPE<tab>RDATA\n" with the RDATA
 * fields separated by single spaces, as ldns 1.8 prints it.  Names escape
 * what ldns escapes ('.', ';', '(', ')', '\\' and bytes outside
 * 0x21-0x7e) and, as BIND 9 does, '"', '$' and '@', which would start a
 * quoted string, a directive or the origin shorthand when read back.
 * RRSIG times are printed as YYYYMMDDHHmmSS in UTC from the 32-bit field
 * read as seconds since 1970, which is right until 2106.
 *
 * The functions keep no state and may run on several threads at once.
 */
#ifndef DZ_SIGNER_PRINT_H
#define DZ_SIGNER_PRINT_H

#include <stddef.h>
#include <stdint.h>

#include "common/mem.h"
#include "common/result.h"
#include "signer/name.h"

/*
 * Write the uncompressed wire name `wire` in presentation form with a
 * trailing dot into `text` (DZ_NAME_TEXT_MAX bytes) and return its length.
 * `wire` must be a valid name.
 */
size_t dz_print_name(const uint8_t *wire, char *text);

/*
 * Append one RR of class IN and a newline to `out`.  `owner` is the owner
 * in presentation form (dz_print_name()), `owner_len` its length, so that
 * the RRs of one name print it once.  Returns DZ_ENOMEM, or DZ_EINVAL when
 * neither this code nor ldns can print the RDATA; `out` is unchanged then.
 */
dz_result_t dz_print_rr(dz_buf_t *out, const char *owner, size_t owner_len, uint16_t type,
			uint32_t ttl, const uint8_t *rdata, size_t rdata_len);

/*
 * Append one uncompressed wire-form RR (owner, type, class IN, TTL,
 * RDLENGTH, RDATA) of `len` bytes as dz_print_rr() does.  DZ_EINVAL also
 * when the wire form is malformed or the class is not IN.
 */
dz_result_t dz_print_wire_rr(dz_buf_t *out, const uint8_t *rr, size_t len);

/*
 * Write the mnemonic of `type` ("TLSA", "TYPE65000") into `buf` of 16 bytes
 * and return its length.  A type without a name in ldns 1.8 gets the
 * generic form TYPEnnn (RFC 3597).
 */
size_t dz_print_type_name(uint16_t type, char buf[16]);

#endif
