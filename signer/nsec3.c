#include "config.h"

#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>

#include "signer/nsec3.h"

/*
 * SHA-1 fetched from the default provider once: EVP_sha1() makes OpenSSL 3
 * look the implementation up on every EVP_DigestInit_ex(), which cost more
 * than hashing a name.
 */
static EVP_MD *sha1_md;
static pthread_once_t sha1_once = PTHREAD_ONCE_INIT;

static void
fetch_sha1(void)
{
	sha1_md = EVP_MD_fetch(NULL, "SHA1", NULL);
}

bool
dz_nsec3_hash(const uint8_t *wire, size_t wire_len, const uint8_t *salt, size_t salt_len,
	      uint16_t iterations, uint8_t hash[DZ_NSEC3_HASH_LEN])
{
	EVP_MD_CTX *ctx;
	const EVP_MD *md;
	unsigned int out_len = 0;
	bool ok;

	pthread_once(&sha1_once, fetch_sha1);
	md = sha1_md != NULL ? sha1_md : EVP_sha1();
	ctx = EVP_MD_CTX_new();
	ok = ctx != NULL;
	ok = ok && EVP_DigestInit_ex(ctx, md, NULL) == 1 &&
	     EVP_DigestUpdate(ctx, wire, wire_len) == 1 &&
	     EVP_DigestUpdate(ctx, salt, salt_len) == 1 &&
	     EVP_DigestFinal_ex(ctx, hash, &out_len) == 1;
	for (unsigned i = 0; ok && i < iterations; i++) {
		ok = EVP_DigestInit_ex(ctx, md, NULL) == 1 &&
		     EVP_DigestUpdate(ctx, hash, DZ_NSEC3_HASH_LEN) == 1 &&
		     EVP_DigestUpdate(ctx, salt, salt_len) == 1 &&
		     EVP_DigestFinal_ex(ctx, hash, &out_len) == 1;
	}
	EVP_MD_CTX_free(ctx);
	return ok && out_len == DZ_NSEC3_HASH_LEN;
}

bool
dz_nsec3_hash_key(const uint8_t *key, size_t key_len, const dz_nsec3_params_t *params,
		  uint8_t hash[DZ_NSEC3_HASH_LEN])
{
	uint8_t wire[DZ_NAME_WIRE_MAX];
	size_t wire_len = dz_name_wire_from_key(key, key_len, wire);

	return dz_nsec3_hash(wire, wire_len, params->salt, params->salt_len, params->iterations,
			     hash);
}

static int
base32hex_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'v')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'V')
		return c - 'A' + 10;
	return -1;
}

long
dz_base32hex_decode(const uint8_t *text, size_t len, uint8_t *out, size_t cap)
{
	unsigned long acc = 0;
	unsigned bits = 0;
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		int v = base32hex_value(text[i]);
		if (v < 0)
			return -1;
		acc = (acc << 5) | (unsigned long)v;
		bits += 5;
		if (bits >= 8) {
			if (n >= cap)
				return -1;
			bits -= 8;
			out[n++] = (uint8_t)(acc >> bits);
			acc &= (1UL << bits) - 1;
		}
	}
	if (acc != 0)
		return -1;
	return (long)n;
}

bool
dz_nsec3_owner_hash(const dz_zone_t *zone, const uint8_t *key, size_t key_len,
		    uint8_t hash[DZ_NSEC3_HASH_LEN])
{
	size_t base = zone->origin_key_len;

	if (key_len != base + 33 || key[base] != 32 ||
	    !dz_name_key_is_at_or_below(key, key_len, zone->origin_key, base))
		return false;
	return dz_base32hex_decode(key + base + 1, 32, hash, DZ_NSEC3_HASH_LEN) == DZ_NSEC3_HASH_LEN;
}
