#include "config.h"

#include <stdio.h>
#include <string.h>

#include <ldns/ldns.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>
#include <yaml.h>

#include "signer/banner.h"

const char *
dz_banner(char *buf, size_t size)
{
	const char *ssl_runtime = OpenSSL_version(OPENSSL_VERSION_STRING);
	const char *ldns_runtime = ldns_version();
	char ssl_note[64] = "";
	char ldns_note[64] = "";

	if (strcmp(ssl_runtime, OPENSSL_VERSION_STR) != 0)
		snprintf(ssl_note, sizeof(ssl_note), ", built with %s", OPENSSL_VERSION_STR);
	if (strcmp(ldns_runtime, LDNS_VERSION) != 0)
		snprintf(ldns_note, sizeof(ldns_note), ", built with %s", LDNS_VERSION);
	snprintf(buf, size, "danezone %s (ldns %s%s, OpenSSL %s%s, libyaml %s)", PACKAGE_VERSION,
		 ldns_runtime, ldns_note, ssl_runtime, ssl_note, yaml_get_version_string());
	return buf;
}
