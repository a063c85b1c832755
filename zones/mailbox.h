/*
 * mailbox.h -- SMIMEA and OPENPGPKEY records for users' e-mail addresses.
 *
 * An address "local@domain" of a zone gets the owner
 * HASH._smimecert.DOMAIN. (RFC 8162) or HASH._openpgpkey.DOMAIN. (RFC 7929),
 * HASH being the first 28 octets of SHA2-256 over the local part's octets.
 * The local part is hashed exactly as written in the certificate or user ID,
 * with no case folding, no removal of "+tag" or dots and no Unicode
 * normalisation.  RFC 8162 section 4 and RFC 7929 section 4 leave such
 * mapping to the recipient's domain.  A domain that treats ASCII case as equal may also
 * publish the lower-case form (`lowercase_variants`).
 */
#ifndef DZ_ZONES_MAILBOX_H
#define DZ_ZONES_MAILBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/error.h"
#include "zones/conf.h"
#include "zones/records.h"

/* What the records of one zone's users are made with. */
typedef struct dz_mailbox_options {
	const char *zone;	  /* normalised origin */
	dz_tlsa_params_t smimea;  /* SMIMEA usage, selector, matching type */
	uint32_t smimea_ttl;
	uint32_t openpgpkey_ttl;
	bool lowercase_variants;
	bool quoted_local_parts;
} dz_mailbox_options_t;

/* Fill options from a zone's configuration. */
void dz_mailbox_options_from_config(const dz_config_zone_t *zone, dz_mailbox_options_t *options);

/*
 * Append the records owned by `address` (UTF-8 "local@domain", split at the
 * last '@') with type and RDATA to `out`: the exact owner and, when enabled
 * and different, the ASCII-lowercase one.  Addresses outside the zone,
 * quoted local parts (unless enabled), invalid or doubly encoded UTF-8 and
 * owners longer than 253 characters are skipped with a warning in the log.
 * Such a call returns DZ_OK and adds nothing.  DZ_ENOMEM.
 */
dz_result_t dz_mailbox_add_records(const dz_mailbox_options_t *options, const char *address,
				   size_t address_len, const char *label, uint16_t type,
				   uint32_t ttl, const uint8_t *rdata, size_t rdlength,
				   const char *source, dz_records_t *out);

/*
 * SMIMEA records of every user certificate in a PEM or DER file: one owner
 * per distinct address from SAN rfc822Name, SAN otherName SmtpUTF8Mailbox
 * (RFC 9598) and the subject's emailAddress.  Certificates that are not yet
 * valid or expired at `now` and CA certificates are skipped; *next_change is
 * lowered to the next notBefore or notAfter after `now` that changes the
 * records.  A file that does not parse completely fails with DZ_ECERT and
 * adds nothing.
 */
dz_result_t dz_smimea_file_records(const dz_mailbox_options_t *options, const char *path,
				   dz_time_t now, dz_records_t *out, dz_time_t *next_change,
				   dz_error_t *err);

/* The same for data already read; `name` labels messages. */
dz_result_t dz_smimea_records(const dz_mailbox_options_t *options, const uint8_t *data, size_t len,
			      const char *name, dz_time_t now, dz_records_t *out,
			      dz_time_t *next_change, dz_error_t *err);

#endif
