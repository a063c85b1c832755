#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/file.h"
#include "common/log.h"
#include "zones/dname.h"
#include "zones/keymat.h"
#include "zones/mailbox.h"
#include "zones/tlsa.h"

/* Most certificates read from one S/MIME file. */
#define CERTS_MAX 64

void
dz_mailbox_options_from_config(const dz_config_zone_t *zone, dz_mailbox_options_t *options)
{
	memset(options, 0, sizeof(*options));
	options->zone = zone->name;
	options->smimea = zone->mail.smimea;
	options->smimea_ttl = zone->mail.smimea_ttl;
	options->openpgpkey_ttl = zone->mail.openpgpkey_ttl;
	options->lowercase_variants = zone->mail.lowercase_variants;
	options->quoted_local_parts = zone->mail.quoted_local_parts;
}

/* Length of the UTF-8 sequence at p (RFC 3629), or 0 when invalid. */
static size_t
utf8_sequence(const unsigned char *p, size_t left, uint32_t *code_point)
{
	size_t len;
	uint32_t cp;

	if (p[0] < 0x80) {
		*code_point = p[0];
		return 1;
	}
	if ((p[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (len > left)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* Reject overlong forms, surrogates and values above U+10FFFF. */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	*code_point = cp;
	return len;
}

static bool
valid_utf8(const unsigned char *p, size_t len)
{
	uint32_t cp;

	for (size_t i = 0; i < len;) {
		size_t n = utf8_sequence(p + i, len - i, &cp);
		if (n == 0 || cp < 0x20 || cp == 0x7f)
			return false;
		i += n;
	}
	return true;
}

/*
 * Whether UTF-8 text looks encoded twice: every non-ASCII code point is
 * below U+0100 and those code points, taken as Latin-1 octets, form valid
 * multi-octet UTF-8 ("jÃ¶rg" for "jörg").
 */
static bool
looks_double_encoded(const unsigned char *p, size_t len)
{
	unsigned char latin1[256];
	size_t n = 0;
	bool multibyte = false;
	uint32_t cp;

	for (size_t i = 0; i < len;) {
		size_t step = utf8_sequence(p + i, len - i, &cp);
		if (step == 0 || cp > 0xff || n == sizeof(latin1))
			return false;
		if (cp >= 0x80)
			multibyte = true;
		latin1[n++] = (unsigned char)cp;
		i += step;
	}
	if (!multibyte)
		return false;
	for (size_t i = 0; i < n;) {
		size_t step = utf8_sequence(latin1 + i, n - i, &cp);
		if (step == 0)
			return false;
		i += step;
	}
	return true;
}

/*
 * Whether an unquoted local part uses only atext and dots (RFC 5322 section
 * 3.2.3), where RFC 6531 adds every non-ASCII UTF-8 character to atext.
 */
static bool
valid_dot_atom(const unsigned char *local, size_t len)
{
	static const char specials[] = "!#$%&'*+-/=?^_`{|}~.";

	for (size_t i = 0; i < len; i++) {
		unsigned char c = local[i];
		bool ok = c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || (c != '\0' && strchr(specials, c) != NULL);
		if (!ok)
			return false;
	}
	return true;
}

dz_result_t
dz_mailbox_add_records(const dz_mailbox_options_t *options, const char *address, size_t address_len,
		       const char *label, uint16_t type, uint32_t ttl, const uint8_t *rdata,
		       size_t rdlength, const char *source, dz_records_t *out)
{
	const char *at = NULL;
	char domain_text[DZ_DNAME_TEXT_MAX * 4];
	char domain[DZ_DNAME_TEXT_MAX];
	char owner[DZ_DNAME_TEXT_MAX + 8];
	dz_error_t err;
	dz_result_t rc;

	for (size_t i = 0; i < address_len; i++) {
		if (address[i] == '@')
			at = address + i;
	}
	if (!valid_utf8((const unsigned char *)address, address_len)) {
		dz_log_zone(DZ_LOG_WARNING, options->zone,
			    "%s: skipping an address that is not valid UTF-8", source);
		return DZ_OK;
	}
	if (at == NULL || at == address || (size_t)(address + address_len - at - 1) >= sizeof(domain_text) ||
	    at + 1 == address + address_len) {
		dz_log_zone(DZ_LOG_WARNING, options->zone, "%s: skipping '%.*s': not an e-mail address",
			    source, (int)address_len, address);
		return DZ_OK;
	}
	const unsigned char *local = (const unsigned char *)address;
	size_t local_len = (size_t)(at - address);
	size_t domain_len = address_len - local_len - 1;
	memcpy(domain_text, at + 1, domain_len);
	domain_text[domain_len] = '\0';

	dz_error_init(&err);
	if (dz_dname_normalize(domain_text, 0, domain, &err) != DZ_OK) {
		dz_log_zone(DZ_LOG_WARNING, options->zone, "%s: skipping '%.*s': %s", source,
			    (int)address_len, address, dz_error_message(&err));
		return DZ_OK;
	}
	if (!dz_dname_in_zone(domain, options->zone)) {
		dz_log_zone(DZ_LOG_INFO, options->zone,
			    "%s: skipping '%.*s': its domain is not in this zone", source,
			    (int)address_len, address);
		return DZ_OK;
	}
	if (local[0] == '"' && !options->quoted_local_parts) {
		dz_log_zone(DZ_LOG_WARNING, options->zone,
			    "%s: skipping '%.*s': RFC 8162 and RFC 7929 do not say how a quoted local "
			    "part is hashed; set quoted-local-parts: true to publish it as written",
			    source, (int)address_len, address);
		return DZ_OK;
	}
	if (local[0] != '"' && !valid_dot_atom(local, local_len)) {
		dz_log_zone(DZ_LOG_WARNING, options->zone,
			    "%s: skipping '%.*s': the local part has characters that need quoting "
			    "(RFC 5322 section 3.4.1)", source, (int)address_len, address);
		return DZ_OK;
	}
	if (looks_double_encoded(local, local_len)) {
		dz_log_zone(DZ_LOG_WARNING, options->zone,
			    "%s: skipping '%.*s': the local part looks like UTF-8 encoded twice; "
			    "reissue the certificate with the address encoded once", source,
			    (int)address_len, address);
		return DZ_OK;
	}

	if (!dz_dname_mailbox_owner(local, local_len, label, domain, owner, sizeof(owner))) {
		dz_log_zone(DZ_LOG_WARNING, options->zone,
			    "%s: skipping '%.*s': the owner name would be longer than 253 characters",
			    source, (int)address_len, address);
		return DZ_OK;
	}
	rc = dz_records_add(out, owner, type, ttl, rdata, rdlength);
	if (rc != DZ_OK || !options->lowercase_variants)
		return rc;

	unsigned char lower[1024];
	bool differs = false;
	if (local_len > sizeof(lower))
		return DZ_OK;
	for (size_t i = 0; i < local_len; i++) {
		lower[i] = local[i] >= 'A' && local[i] <= 'Z' ? (unsigned char)(local[i] - 'A' + 'a')
							      : local[i];
		differs = differs || lower[i] != local[i];
	}
	if (!differs)
		return DZ_OK;
	if (!dz_dname_mailbox_owner(lower, local_len, label, domain, owner, sizeof(owner)))
		return DZ_OK;
	return dz_records_add(out, owner, type, ttl, rdata, rdlength);
}

/* ---- certificates ---- */

typedef struct cert_list {
	X509 *items[CERTS_MAX];
	size_t count;
} cert_list_t;

static void
cert_list_clear(cert_list_t *list)
{
	for (size_t i = 0; i < list->count; i++)
		X509_free(list->items[i]);
	list->count = 0;
}

static dz_result_t
read_certs(const uint8_t *data, size_t len, const char *name, cert_list_t *list, dz_error_t *err)
{
	BIO *bio;
	dz_result_t rc = DZ_OK;

	if (len == 0)
		return dz_error_set(err, DZ_ECERT, "%s: the file is empty", name);
	if (len > DZ_KEYMAT_FILE_MAX)
		return dz_error_set(err, DZ_ECERT, "%s: larger than %d bytes", name, DZ_KEYMAT_FILE_MAX);
	if (memmem(data, len, "-----BEGIN ", 11) == NULL) {
		const unsigned char *p = data;
		X509 *cert = d2i_X509(NULL, &p, (long)len);
		if (cert == NULL || p != data + len) {
			X509_free(cert);
			ERR_clear_error();
			return dz_error_set(err, DZ_ECERT,
					    "%s: neither PEM nor a complete DER certificate; the file may "
					    "be damaged or still being written", name);
		}
		list->items[list->count++] = cert;
		return DZ_OK;
	}
	bio = BIO_new_mem_buf(data, (int)len);
	if (bio == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	for (size_t block = 1;; block++) {
		char *type = NULL, *header = NULL;
		unsigned char *body = NULL;
		long body_len = 0;
		ERR_clear_error();
		if (PEM_read_bio(bio, &type, &header, &body, &body_len) != 1) {
			unsigned long e = ERR_peek_last_error();
			if (block == 1 || ERR_GET_LIB(e) != ERR_LIB_PEM ||
			    ERR_GET_REASON(e) != PEM_R_NO_START_LINE)
				rc = dz_error_set(err, DZ_ECERT,
						  "%s: PEM block %zu is incomplete or damaged; the file may "
						  "still be being written", name, block);
			break;
		}
		if (strcmp(type, "CERTIFICATE") == 0) {
			const unsigned char *p = body;
			X509 *cert = d2i_X509(NULL, &p, body_len);
			if (cert == NULL || p != body + body_len) {
				X509_free(cert);
				rc = dz_error_set(err, DZ_ECERT, "%s: certificate %zu is not valid DER",
						  name, block);
			} else if (list->count == CERTS_MAX) {
				X509_free(cert);
				rc = dz_error_set(err, DZ_ECERT, "%s: more than %d certificates", name,
						  CERTS_MAX);
			} else {
				list->items[list->count++] = cert;
			}
		} else {
			/* Private keys must never end up in DNS; other blocks carry nothing for it. */
			dz_log(DZ_LOG_WARNING, "%s: ignoring PEM block \"%s\"; S/MIME folders need only "
			       "certificates", name, type);
		}
		OPENSSL_free(type);
		OPENSSL_free(header);
		OPENSSL_free(body);
		if (rc != DZ_OK)
			break;
	}
	ERR_clear_error();
	BIO_free(bio);
	if (rc == DZ_OK && dz_keymat_pem_tail_incomplete(data, len))
		rc = dz_error_set(err, DZ_ECERT,
				  "%s: ends inside a PEM header line; the file may still be being "
				  "written", name);
	if (rc != DZ_OK)
		cert_list_clear(list);
	return rc;
}

static dz_time_t
asn1_seconds(const ASN1_TIME *t)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (dz_time_t)timegm(&tm);
}

/* An address found in a certificate, as UTF-8 octets. */
typedef struct found_address {
	char text[512];
	size_t len;
} found_address_t;

static void
add_found(found_address_t *found, size_t *count, size_t max, const unsigned char *data, int len)
{
	if (len <= 0 || (size_t)len >= sizeof(found[0].text) || *count == max)
		return;
	for (size_t i = 0; i < *count; i++) {
		if (found[i].len == (size_t)len && memcmp(found[i].text, data, (size_t)len) == 0)
			return;
	}
	memcpy(found[*count].text, data, (size_t)len);
	found[*count].text[len] = '\0';
	found[*count].len = (size_t)len;
	(*count)++;
}

/* Collect the distinct addresses of a certificate. */
static size_t
cert_addresses(X509 *cert, found_address_t *found, size_t max)
{
	size_t count = 0;
	GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);

	for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *name = sk_GENERAL_NAME_value(names, i);
		if (name->type == GEN_EMAIL) {
			add_found(found, &count, max, ASN1_STRING_get0_data(name->d.rfc822Name),
				  ASN1_STRING_length(name->d.rfc822Name));
		} else if (name->type == GEN_OTHERNAME &&
			   OBJ_obj2nid(name->d.otherName->type_id) == NID_id_on_SmtpUTF8Mailbox &&
			   name->d.otherName->value->type == V_ASN1_UTF8STRING) {
			const ASN1_UTF8STRING *s = name->d.otherName->value->value.utf8string;
			add_found(found, &count, max, ASN1_STRING_get0_data(s), ASN1_STRING_length(s));
		}
	}
	GENERAL_NAMES_free(names);

	/* The legacy place: emailAddress in the subject (RFC 5280 section 4.1.2.6). */
	X509_NAME *subject = X509_get_subject_name(cert);
	for (int i = -1; (i = X509_NAME_get_index_by_NID(subject, NID_pkcs9_emailAddress, i)) >= 0;) {
		ASN1_STRING *value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
		unsigned char *utf8 = NULL;
		int len = ASN1_STRING_to_UTF8(&utf8, value);
		add_found(found, &count, max, utf8, len);
		OPENSSL_free(utf8);
	}
	return count;
}

dz_result_t
dz_smimea_records(const dz_mailbox_options_t *options, const uint8_t *data, size_t len,
		  const char *name, dz_time_t now, dz_records_t *out, dz_time_t *next_change,
		  dz_error_t *err)
{
	cert_list_t certs;
	dz_records_t records;
	dz_time_t change = *next_change;
	dz_result_t rc;

	memset(&certs, 0, sizeof(certs));
	dz_records_init(&records);
	rc = read_certs(data, len, name, &certs, err);
	if (rc != DZ_OK)
		return rc;

	for (size_t c = 0; c < certs.count; c++) {
		X509 *cert = certs.items[c];
		found_address_t found[32];
		dz_buf_t rdata;
		unsigned char *der = NULL, *spki = NULL;
		int der_len, spki_len;

		if (X509_check_ca(cert) != 0)
			continue;
		dz_time_t not_before = asn1_seconds(X509_get0_notBefore(cert));
		dz_time_t not_after = asn1_seconds(X509_get0_notAfter(cert));
		if (now < not_before) {
			if (not_before < change)
				change = not_before;
			continue;
		}
		if (now > not_after)
			continue;
		if (not_after + 1 < change)
			change = not_after + 1;

		size_t count = cert_addresses(cert, found, DZ_ARRAY_SIZE(found));
		if (count == 0) {
			dz_log_zone(DZ_LOG_WARNING, options->zone,
				    "%s: certificate %zu has no e-mail address", name, c + 1);
			continue;
		}
		der_len = i2d_X509(cert, &der);
		spki_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &spki);
		dz_buf_init(&rdata);
		if (der_len <= 0 || spki_len <= 0) {
			rc = dz_error_set(err, DZ_ECERT, "%s: certificate %zu cannot be encoded", name, c + 1);
		} else {
			rc = dz_tlsa_rdata(&options->smimea, der, (size_t)der_len, spki, (size_t)spki_len,
					   &rdata, err);
			if (rc != DZ_OK)
				dz_error_prefix(err, "%s: certificate %zu", name, c + 1);
		}
		for (size_t a = 0; rc == DZ_OK && a < count; a++)
			rc = dz_mailbox_add_records(options, found[a].text, found[a].len, "_smimecert",
						    DZ_TYPE_SMIMEA, options->smimea_ttl, rdata.data,
						    rdata.len, name, &records);
		OPENSSL_free(der);
		OPENSSL_free(spki);
		dz_buf_clear(&rdata);
		if (rc != DZ_OK)
			break;
	}
	if (rc == DZ_OK)
		rc = dz_records_add_all(out, &records);
	if (rc == DZ_OK)
		*next_change = change;
	else if (rc == DZ_ENOMEM)
		dz_error_set(err, DZ_ENOMEM, "out of memory");
	dz_records_clear(&records);
	cert_list_clear(&certs);
	return rc;
}

dz_result_t
dz_smimea_file_records(const dz_mailbox_options_t *options, const char *path, dz_time_t now,
		       dz_records_t *out, dz_time_t *next_change, dz_error_t *err)
{
	char *data = NULL;
	size_t len = 0;
	dz_result_t rc = dz_file_read_all(path, DZ_KEYMAT_FILE_MAX, &data, &len, err);

	if (rc != DZ_OK)
		return rc;
	rc = dz_smimea_records(options, (const uint8_t *)data, len, path, now, out, next_change, err);
	free(data);
	return rc;
}
