/*
 * dname.h -- domain names as danezone writes them: lower case, A-labels.
 *
 * Names in the configuration and in certificates are normalised once:
 * ASCII letters lowered, internationalised labels converted to A-labels
 * (IDNA2008 through libidn2, "bücher.example" -> "xn--bcher-kva.example"),
 * no trailing dot; the root is ".".  Owner names of generated records are
 * built from normalised names and end with a dot.
 */
#ifndef DZ_ZONES_DNAME_H
#define DZ_ZONES_DNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* Maximum size of a name in presentation form without the trailing dot, plus NUL (RFC 1035). */
#define DZ_DNAME_TEXT_MAX 254

/* Flags of dz_dname_normalize(). */
#define DZ_DNAME_HOSTNAME 0x01u /* labels must be letters, digits and inner hyphens */

/*
 * Normalise `text` (UTF-8, optional trailing dot) into `out`.  Rejects empty
 * labels, labels over 63 octets, names over 253 characters, characters other
 * than letters, digits, '-' and '_' (only the first three with
 * DZ_DNAME_HOSTNAME), and invalid internationalised names, with an error
 * that names the value.
 */
dz_result_t dz_dname_normalize(const char *text, unsigned flags, char out[DZ_DNAME_TEXT_MAX],
			       dz_error_t *err);

/* Whether normalised `name` equals `zone` or lies below it. */
bool dz_dname_in_zone(const char *name, const char *zone);

/* Number of labels of a normalised name (0 for the root). */
size_t dz_dname_label_count(const char *name);

/*
 * TLSA owner "_PORT._PROTO.HOST." (RFC 6698 section 3) for a normalised host.
 * `proto` is "tcp", "udp" or "sctp".  Returns false when it would be too long.
 */
bool dz_dname_tlsa_owner(uint16_t port, const char *proto, const char *host, char *out,
			 size_t size);

/* Length of the hash label of SMIMEA and OPENPGPKEY owners: 28 octets as hex. */
#define DZ_MAILBOX_HASH_HEX 56

/*
 * Owner "HASH.LABEL.DOMAIN." of RFC 8162 section 3 and RFC 7929 section 3:
 * HASH is the first 28 octets of SHA2-256 over the local part's octets, in
 * lower-case hex; LABEL is "_smimecert" or "_openpgpkey"; `domain` is
 * normalised.  Returns false when the owner would exceed 253 characters.
 */
bool dz_dname_mailbox_owner(const uint8_t *local, size_t local_len, const char *label,
			    const char *domain, char *out, size_t size);

#endif
