#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/file.h"
#include "common/mem.h"
#include "zones/keymat.h"

/* Most certificates read from one file (a chain is rarely longer than 4). */
#define CHAIN_MAX 16

/* What one file contained, before it is reduced to a dz_keymat_t. */
typedef struct contents {
	X509 *certs[CHAIN_MAX];
	size_t cert_count;
	EVP_PKEY *private_key;
	EVP_PKEY *public_key;
	X509_REQ *csr;
} contents_t;

static void
contents_clear(contents_t *c)
{
	for (size_t i = 0; i < c->cert_count; i++)
		X509_free(c->certs[i]);
	EVP_PKEY_free(c->private_key);
	EVP_PKEY_free(c->public_key);
	X509_REQ_free(c->csr);
	memset(c, 0, sizeof(*c));
}

const char *
dz_keymat_kind_name(dz_keymat_kind_t kind)
{
	switch (kind) {
	case DZ_KEYMAT_CERTIFICATE:
		return "certificate";
	case DZ_KEYMAT_PRIVATE_KEY:
		return "private key";
	case DZ_KEYMAT_PUBLIC_KEY:
		return "public key";
	case DZ_KEYMAT_CSR:
		return "CSR";
	}
	return "unknown";
}

static void
cert_clear(dz_keymat_cert_t *cert)
{
	free(cert->der);
	free(cert->spki);
	memset(cert, 0, sizeof(*cert));
}

void
dz_keymat_clear(dz_keymat_t *keymat)
{
	free(keymat->spki);
	cert_clear(&keymat->leaf);
	cert_clear(&keymat->issuer);
	memset(keymat, 0, sizeof(*keymat));
}

static uint8_t *
dup_bytes(const uint8_t *data, size_t len)
{
	uint8_t *copy;

	if (data == NULL)
		return NULL;
	copy = malloc(len > 0 ? len : 1);
	if (copy != NULL && len > 0)
		memcpy(copy, data, len);
	return copy;
}

static bool
cert_copy(dz_keymat_cert_t *dst, const dz_keymat_cert_t *src)
{
	*dst = *src;
	dst->der = dup_bytes(src->der, src->der_len);
	dst->spki = dup_bytes(src->spki, src->spki_len);
	return (src->der == NULL || dst->der != NULL) && (src->spki == NULL || dst->spki != NULL);
}

dz_result_t
dz_keymat_copy(dz_keymat_t *dst, const dz_keymat_t *src)
{
	*dst = *src;
	dst->spki = dup_bytes(src->spki, src->spki_len);
	memset(&dst->leaf, 0, sizeof(dst->leaf));
	memset(&dst->issuer, 0, sizeof(dst->issuer));
	if (dst->spki == NULL || !cert_copy(&dst->leaf, &src->leaf) ||
	    !cert_copy(&dst->issuer, &src->issuer)) {
		dz_keymat_clear(dst);
		return DZ_ENOMEM;
	}
	return DZ_OK;
}

/* DER SubjectPublicKeyInfo of a key into a new buffer. */
static bool
pkey_spki(EVP_PKEY *pkey, uint8_t **out, size_t *out_len)
{
	unsigned char *der = NULL;
	int len = i2d_PUBKEY(pkey, &der);

	if (len <= 0)
		return false;
	*out = dup_bytes(der, (size_t)len);
	*out_len = (size_t)len;
	OPENSSL_free(der);
	return *out != NULL;
}

/*
 * DER SubjectPublicKeyInfo of a certificate, encoded from the certificate's
 * own X509_PUBKEY as OpenSSL's DANE verifier does.
 */
static bool
cert_spki(X509 *cert, uint8_t **out, size_t *out_len)
{
	unsigned char *der = NULL;
	int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);

	if (len <= 0)
		return false;
	*out = dup_bytes(der, (size_t)len);
	*out_len = (size_t)len;
	OPENSSL_free(der);
	return *out != NULL;
}

static void
describe_key(EVP_PKEY *pkey, char *out, size_t size)
{
	char group[24];
	size_t group_len = 0;

	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_RSA:
		snprintf(out, size, "RSA-%d", EVP_PKEY_get_bits(pkey));
		return;
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
						   sizeof(group), &group_len) == 1) {
			const char *nist = EC_curve_nid2nist(OBJ_sn2nid(group));
			snprintf(out, size, "EC-%s", nist != NULL ? nist : group);
		} else {
			snprintf(out, size, "EC");
		}
		return;
	case EVP_PKEY_ED25519:
		snprintf(out, size, "ED25519");
		return;
	case EVP_PKEY_ED448:
		snprintf(out, size, "ED448");
		return;
	default:
		snprintf(out, size, "%s", OBJ_nid2sn(EVP_PKEY_get_base_id(pkey)));
		return;
	}
}

static dz_time_t
asn1_time_seconds(const ASN1_TIME *t)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (dz_time_t)timegm(&tm);
}

static bool
fill_cert(X509 *x509, dz_keymat_cert_t *cert)
{
	unsigned char *der = NULL;
	int len = i2d_X509(x509, &der);
	BIO *bio = NULL;

	if (len <= 0)
		return false;
	cert->der = dup_bytes(der, (size_t)len);
	cert->der_len = (size_t)len;
	OPENSSL_free(der);
	if (cert->der == NULL || !cert_spki(x509, &cert->spki, &cert->spki_len))
		return false;
	bio = BIO_new(BIO_s_mem());
	if (bio != NULL) {
		X509_NAME_print_ex(bio, X509_get_subject_name(x509), 0,
				   XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
		int n = BIO_read(bio, cert->subject, (int)sizeof(cert->subject) - 1);
		cert->subject[n > 0 ? n : 0] = '\0';
		BIO_free(bio);
	}
	return true;
}

/* Decode one DER object of the PEM block `type`, which must use all `len` bytes. */
static dz_result_t
add_pem_block(contents_t *c, const char *type, const char *header, const unsigned char *data,
	      long len, const char *name, dz_error_t *err)
{
	const unsigned char *p = data;

	if (strcmp(type, "CERTIFICATE") == 0 || strcmp(type, "X509 CERTIFICATE") == 0 ||
	    strcmp(type, "TRUSTED CERTIFICATE") == 0) {
		X509 *cert = strcmp(type, "TRUSTED CERTIFICATE") == 0 ? d2i_X509_AUX(NULL, &p, len)
								       : d2i_X509(NULL, &p, len);
		if (cert == NULL || p != data + len) {
			X509_free(cert);
			return dz_error_set(err, DZ_ECERT, "%s: certificate %zu is not valid DER", name,
					    c->cert_count + 1);
		}
		if (c->cert_count == CHAIN_MAX) {
			X509_free(cert);
			return dz_error_set(err, DZ_ECERT, "%s: more than %d certificates in one file",
					    name, CHAIN_MAX);
		}
		c->certs[c->cert_count++] = cert;
		return DZ_OK;
	}
	if (strcmp(type, "ENCRYPTED PRIVATE KEY") == 0 || strstr(header, "ENCRYPTED") != NULL)
		return dz_error_set(err, DZ_ECERT,
				    "%s: the private key is encrypted; give its public key or CSR "
				    "instead (openssl pkey -pubout)", name);
	if (strcmp(type, "PRIVATE KEY") == 0 || strcmp(type, "RSA PRIVATE KEY") == 0 ||
	    strcmp(type, "EC PRIVATE KEY") == 0) {
		EVP_PKEY *key = d2i_AutoPrivateKey(NULL, &p, len);
		if (key == NULL || p != data + len) {
			EVP_PKEY_free(key);
			return dz_error_set(err, DZ_ECERT, "%s: the private key is not valid DER", name);
		}
		if (c->private_key != NULL) {
			EVP_PKEY_free(key);
			return dz_error_set(err, DZ_ECERT, "%s: more than one private key", name);
		}
		c->private_key = key;
		return DZ_OK;
	}
	if (strcmp(type, "PUBLIC KEY") == 0 || strcmp(type, "RSA PUBLIC KEY") == 0) {
		EVP_PKEY *key = strcmp(type, "PUBLIC KEY") == 0
			? d2i_PUBKEY(NULL, &p, len)
			: d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, len);
		if (key == NULL || p != data + len) {
			EVP_PKEY_free(key);
			return dz_error_set(err, DZ_ECERT, "%s: the public key is not valid DER", name);
		}
		if (c->public_key != NULL) {
			EVP_PKEY_free(key);
			return dz_error_set(err, DZ_ECERT, "%s: more than one public key", name);
		}
		c->public_key = key;
		return DZ_OK;
	}
	if (strcmp(type, "CERTIFICATE REQUEST") == 0 || strcmp(type, "NEW CERTIFICATE REQUEST") == 0) {
		X509_REQ *csr = d2i_X509_REQ(NULL, &p, len);
		if (csr == NULL || p != data + len) {
			X509_REQ_free(csr);
			return dz_error_set(err, DZ_ECERT, "%s: the CSR is not valid DER", name);
		}
		if (c->csr != NULL) {
			X509_REQ_free(csr);
			return dz_error_set(err, DZ_ECERT, "%s: more than one CSR", name);
		}
		c->csr = csr;
		return DZ_OK;
	}
	if (strcmp(type, "EC PARAMETERS") == 0 || strcmp(type, "DH PARAMETERS") == 0)
		return DZ_OK;
	return dz_error_set(err, DZ_ECERT,
			    "%s: unexpected PEM block \"%s\"; give certificates, a key or a CSR", name,
			    type);
}

bool
dz_keymat_pem_tail_incomplete(const uint8_t *data, size_t len)
{
	static const char end_marker[] = "-----END ";
	size_t tail = 0;

	for (size_t i = 0; i + sizeof(end_marker) - 1 <= len; i++) {
		if (memcmp(data + i, end_marker, sizeof(end_marker) - 1) == 0)
			tail = i + sizeof(end_marker) - 1;
	}
	while (tail < len && data[tail] != '\n')
		tail++;
	for (size_t i = tail; i < len; i++) {
		if (data[i] == '-' && (i == 0 || data[i - 1] == '\n'))
			return true;
	}
	return false;
}

static dz_result_t
read_pem(const uint8_t *data, size_t len, const char *name, contents_t *c, dz_error_t *err)
{
	BIO *bio = BIO_new_mem_buf(data, (int)len);
	dz_result_t result = DZ_OK;
	size_t blocks = 0;

	if (bio == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	while (true) {
		char *type = NULL, *header = NULL;
		unsigned char *block = NULL;
		long block_len = 0;

		ERR_clear_error();
		if (PEM_read_bio(bio, &type, &header, &block, &block_len) != 1) {
			unsigned long e = ERR_peek_last_error();
			/* Only the end of the input ends the loop; a damaged block is an error. */
			if (blocks == 0 || ERR_GET_LIB(e) != ERR_LIB_PEM ||
			    ERR_GET_REASON(e) != PEM_R_NO_START_LINE)
				result = dz_error_set(err, DZ_ECERT,
						      "%s: PEM block %zu is incomplete or damaged; the file "
						      "may still be being written", name, blocks + 1);
			break;
		}
		blocks++;
		result = add_pem_block(c, type, header, block, block_len, name, err);
		OPENSSL_free(type);
		OPENSSL_free(header);
		OPENSSL_free(block);
		if (result != DZ_OK)
			break;
	}
	ERR_clear_error();
	BIO_free(bio);
	if (result == DZ_OK && dz_keymat_pem_tail_incomplete(data, len))
		result = dz_error_set(err, DZ_ECERT,
				      "%s: ends inside a PEM header line; the file may still be being "
				      "written", name);
	return result;
}

static dz_result_t
read_der(const uint8_t *data, size_t len, const char *name, contents_t *c, dz_error_t *err)
{
	const unsigned char *p;
	long n = (long)len;

	p = data;
	X509 *cert = d2i_X509(NULL, &p, n);
	if (cert != NULL && p == data + len) {
		c->certs[c->cert_count++] = cert;
		return DZ_OK;
	}
	X509_free(cert);

	p = data;
	X509_REQ *csr = d2i_X509_REQ(NULL, &p, n);
	if (csr != NULL && p == data + len) {
		c->csr = csr;
		return DZ_OK;
	}
	X509_REQ_free(csr);

	p = data;
	EVP_PKEY *pub = d2i_PUBKEY(NULL, &p, n);
	if (pub != NULL && p == data + len) {
		c->public_key = pub;
		return DZ_OK;
	}
	EVP_PKEY_free(pub);

	p = data;
	EVP_PKEY *key = d2i_AutoPrivateKey(NULL, &p, n);
	if (key != NULL && p == data + len) {
		c->private_key = key;
		return DZ_OK;
	}
	EVP_PKEY_free(key);
	ERR_clear_error();
	return dz_error_set(err, DZ_ECERT,
			    "%s: neither PEM nor a complete DER certificate, CSR, public or private "
			    "key; the file may be damaged or still being written", name);
}

static bool
is_pem(const uint8_t *data, size_t len)
{
	static const char marker[] = "-----BEGIN ";

	for (size_t i = 0; i + sizeof(marker) - 1 <= len; i++) {
		if (memcmp(data + i, marker, sizeof(marker) - 1) == 0)
			return true;
	}
	return false;
}

/* Reduce the file's contents to key material; checks that its parts belong together. */
static dz_result_t
reduce(contents_t *c, const char *name, dz_keymat_t *out, dz_error_t *err)
{
	dz_keymat_t result;
	EVP_PKEY *key = NULL;
	dz_result_t rc = DZ_OK;

	memset(&result, 0, sizeof(result));
	if (c->cert_count > 0) {
		if (c->csr != NULL || c->public_key != NULL) {
			rc = dz_error_set(err, DZ_ECERT,
					  "%s: contains certificates and a %s; give one or the other",
					  name, c->csr != NULL ? "CSR" : "public key");
			goto cleanup;
		}
		X509 *leaf = c->certs[0];
		result.kind = DZ_KEYMAT_CERTIFICATE;
		result.has_cert = true;
		result.chain_length = c->cert_count;
		if (!fill_cert(leaf, &result.leaf))
			goto nomem;
		result.not_before = asn1_time_seconds(X509_get0_notBefore(leaf));
		result.not_after = asn1_time_seconds(X509_get0_notAfter(leaf));
		for (size_t i = 1; i < c->cert_count; i++) {
			if (X509_check_issued(c->certs[i], leaf) == X509_V_OK) {
				if (!fill_cert(c->certs[i], &result.issuer))
					goto nomem;
				result.has_issuer = true;
				break;
			}
		}
		key = X509_get0_pubkey(leaf);
		if (key == NULL) {
			rc = dz_error_set(err, DZ_ECERT, "%s: the certificate's public key is not supported",
					  name);
			goto cleanup;
		}
		result.spki = dup_bytes(result.leaf.spki, result.leaf.spki_len);
		result.spki_len = result.leaf.spki_len;
		if (result.spki == NULL)
			goto nomem;
		if (c->private_key != NULL && EVP_PKEY_eq(c->private_key, key) != 1) {
			rc = dz_error_set(err, DZ_ECERT,
					  "%s: the private key does not belong to the first certificate",
					  name);
			goto cleanup;
		}
	} else {
		size_t kinds = (c->private_key != NULL) + (c->public_key != NULL) + (c->csr != NULL);
		if (kinds == 0) {
			rc = dz_error_set(err, DZ_ECERT, "%s: contains no certificate, key or CSR", name);
			goto cleanup;
		}
		if (kinds > 1) {
			rc = dz_error_set(err, DZ_ECERT,
					  "%s: contains more than one of private key, public key and CSR; "
					  "give one", name);
			goto cleanup;
		}
		if (c->csr != NULL) {
			key = X509_REQ_get0_pubkey(c->csr);
			/* A CSR is self-signed: a bad signature means a damaged file. */
			if (key == NULL || X509_REQ_verify(c->csr, key) != 1) {
				ERR_clear_error();
				rc = dz_error_set(err, DZ_ECERT, "%s: the CSR's signature does not verify",
						  name);
				goto cleanup;
			}
			result.kind = DZ_KEYMAT_CSR;
		} else if (c->public_key != NULL) {
			key = c->public_key;
			result.kind = DZ_KEYMAT_PUBLIC_KEY;
		} else {
			key = c->private_key;
			result.kind = DZ_KEYMAT_PRIVATE_KEY;
		}
		if (!pkey_spki(key, &result.spki, &result.spki_len))
			goto nomem;
	}
	describe_key(key, result.key_type, sizeof(result.key_type));
	if (result.spki_len == 0) {
		rc = dz_error_set(err, DZ_ECERT, "%s: the public key encodes to nothing", name);
		goto cleanup;
	}
	*out = result;
	memset(&result, 0, sizeof(result));
	goto cleanup;

nomem:
	rc = dz_error_set(err, DZ_ENOMEM, "out of memory");
cleanup:
	dz_keymat_clear(&result);
	return rc;
}

dz_result_t
dz_keymat_parse(const uint8_t *data, size_t len, const char *name, dz_keymat_t *out,
		dz_error_t *err)
{
	contents_t c;
	dz_result_t rc;

	memset(&c, 0, sizeof(c));
	if (len == 0)
		return dz_error_set(err, DZ_ECERT, "%s: the file is empty", name);
	if (len > DZ_KEYMAT_FILE_MAX || len > INT32_MAX)
		return dz_error_set(err, DZ_ECERT, "%s: larger than %d bytes", name, DZ_KEYMAT_FILE_MAX);
	rc = is_pem(data, len) ? read_pem(data, len, name, &c, err) : read_der(data, len, name, &c, err);
	if (rc == DZ_OK)
		rc = reduce(&c, name, out, err);
	contents_clear(&c);
	ERR_clear_error();
	return rc;
}

dz_result_t
dz_keymat_load(const char *path, dz_keymat_t *out, dz_error_t *err)
{
	char *data = NULL;
	size_t len = 0;
	dz_result_t rc;

	rc = dz_file_read_all(path, DZ_KEYMAT_FILE_MAX, &data, &len, err);
	if (rc != DZ_OK)
		return rc;
	rc = dz_keymat_parse((const uint8_t *)data, len, path, out, err);
	free(data);
	return rc;
}
