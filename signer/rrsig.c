#include "config.h"

#include <string.h>

#include <openssl/evp.h>

#include "signer/rrsig.h"

uint16_t
dz_key_tag(const uint8_t *rdata, size_t len)
{
	uint32_t acc = 0;

	for (size_t i = 0; i < len; i++)
		acc += (i & 1) ? rdata[i] : (uint32_t)rdata[i] << 8;
	acc += (acc >> 16) & 0xffff;
	return (uint16_t)(acc & 0xffff);
}

size_t
dz_ds_rdata(const uint8_t *owner_wire, size_t owner_len, const uint8_t *dnskey,
	    size_t dnskey_len, uint8_t digest_type, uint8_t *out)
{
	const EVP_MD *md;
	EVP_MD_CTX *ctx;
	unsigned int digest_len = 0;
	bool ok;

	if (digest_type == 2)
		md = EVP_sha256();
	else if (digest_type == 4)
		md = EVP_sha384();
	else
		return 0;
	if (dnskey_len < 4)
		return 0;
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return 0;
	ok = EVP_DigestInit_ex(ctx, md, NULL) == 1 &&
	     EVP_DigestUpdate(ctx, owner_wire, owner_len) == 1 &&
	     EVP_DigestUpdate(ctx, dnskey, dnskey_len) == 1 &&
	     EVP_DigestFinal_ex(ctx, out + 4, &digest_len) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return 0;
	uint16_t tag = dz_key_tag(dnskey, dnskey_len);
	out[0] = (uint8_t)(tag >> 8);
	out[1] = (uint8_t)tag;
	out[2] = dnskey[3]; /* algorithm */
	out[3] = digest_type;
	return 4 + (size_t)digest_len;
}

static uint32_t
read_u32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

bool
dz_rrsig_parse(const uint8_t *rdata, size_t len, dz_rrsig_fields_t *f)
{
	if (len < DZ_RRSIG_FIXED_LEN + 1)
		return false;
	f->type_covered = (uint16_t)((rdata[0] << 8) | rdata[1]);
	f->algorithm = rdata[2];
	f->labels = rdata[3];
	f->original_ttl = read_u32(rdata + 4);
	f->expiration = read_u32(rdata + 8);
	f->inception = read_u32(rdata + 12);
	f->key_tag = (uint16_t)((rdata[16] << 8) | rdata[17]);
	f->signer = rdata + DZ_RRSIG_FIXED_LEN;
	f->signer_len = dz_name_wire_length(f->signer, len - DZ_RRSIG_FIXED_LEN);
	return f->signer_len != 0;
}

dz_time_t
dz_rrsig_time(uint32_t field, dz_time_t now)
{
	int32_t delta = (int32_t)(field - (uint32_t)now);

	return now + delta;
}

int64_t
dz_rrsig_jitter(const uint8_t *key, size_t key_len, uint16_t type, uint16_t key_tag,
		int64_t jitter)
{
	/* FNV-1a, 64 bits: stable across builds and platforms. */
	uint64_t h = 14695981039346656037ULL;
	uint8_t extra[4] = { (uint8_t)(type >> 8), (uint8_t)type, (uint8_t)(key_tag >> 8),
			     (uint8_t)key_tag };

	if (jitter <= 0)
		return 0;
	for (size_t i = 0; i < key_len; i++) {
		h ^= key[i];
		h *= 1099511628211ULL;
	}
	for (size_t i = 0; i < sizeof(extra); i++) {
		h ^= extra[i];
		h *= 1099511628211ULL;
	}
	return (int64_t)(h % ((uint64_t)jitter + 1));
}

uint8_t
dz_rrsig_labels(const uint8_t *key, size_t key_len)
{
	unsigned labels = dz_name_key_labels(key, key_len);

	if (dz_name_key_is_wildcard(key, key_len))
		labels--;
	return (uint8_t)labels;
}

dz_result_t
dz_rrsig_signed_data(dz_buf_t *out, const uint8_t *rrsig_head, size_t head_len,
		     const uint8_t *owner_wire, size_t owner_len, const dz_rrset_t *rrset)
{
	dz_rdata_iter_t it;
	const uint8_t *rdata;
	uint16_t len;
	dz_result_t result;

	result = dz_buf_reserve(out, head_len + rrset->count * (owner_len + 10) + rrset->len);
	if (result != DZ_OK)
		return result;
	(void)dz_buf_append(out, rrsig_head, head_len);
	dz_rdata_iter_init(&it, rrset->data, rrset->len);
	while (dz_rdata_iter_next(&it, &rdata, &len)) {
		(void)dz_buf_append(out, owner_wire, owner_len);
		(void)dz_buf_append_u16(out, rrset->type);
		(void)dz_buf_append_u16(out, DZ_CLASS_IN);
		(void)dz_buf_append_u32(out, rrset->ttl);
		(void)dz_buf_append_u16(out, len);
		(void)dz_buf_append(out, rdata, len);
	}
	return DZ_OK;
}
