#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/file.h"
#include "common/log.h"
#include "zones/openpgp.h"

/* Packet tags, RFC 4880 section 4.3. */
enum {
	TAG_SIGNATURE = 2,
	TAG_SECRET_KEY = 5,
	TAG_PUBLIC_KEY = 6,
	TAG_SECRET_SUBKEY = 7,
	TAG_TRUST = 12,
	TAG_USER_ID = 13,
	TAG_PUBLIC_SUBKEY = 14,
	TAG_USER_ATTRIBUTE = 17,
};

/* Signature type of a key revocation, RFC 4880 section 5.2.1. */
#define SIG_KEY_REVOCATION 0x20

void
dz_openpgp_keys_clear(dz_openpgp_keys_t *keys)
{
	for (size_t i = 0; i < keys->count; i++) {
		dz_buf_clear(&keys->items[i].data);
		for (size_t u = 0; u < keys->items[i].uid_count; u++)
			free(keys->items[i].uids[u]);
	}
	free(keys->items);
	keys->items = NULL;
	keys->count = 0;
}

/* ---- ASCII armour ---- */

/* CRC-24 of RFC 4880 section 6.1. */
static uint32_t
crc24(const uint8_t *data, size_t len)
{
	uint32_t crc = 0xb704ceu;

	for (size_t i = 0; i < len; i++) {
		crc ^= (uint32_t)data[i] << 16;
		for (int bit = 0; bit < 8; bit++) {
			crc <<= 1;
			if (crc & 0x1000000u)
				crc ^= 0x1864cfbu;
		}
	}
	return crc & 0xffffffu;
}

static bool
decode_base64(const char *text, size_t len, dz_buf_t *out)
{
	EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
	int n = 0, final_len = 0;
	bool ok = false;

	if (ctx == NULL || dz_buf_reserve(out, len / 4 * 3 + 4) != DZ_OK)
		goto cleanup;
	EVP_DecodeInit(ctx);
	if (EVP_DecodeUpdate(ctx, out->data + out->len, &n, (const unsigned char *)text, (int)len) < 0)
		goto cleanup;
	if (EVP_DecodeFinal(ctx, out->data + out->len + n, &final_len) < 0)
		goto cleanup;
	out->len += (size_t)n + (size_t)final_len;
	ok = true;

cleanup:
	EVP_ENCODE_CTX_free(ctx);
	return ok;
}

static const char *
next_line(const char *p, const char *end, size_t *line_len)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	const char *line_end = nl != NULL ? nl : end;

	*line_len = (size_t)(line_end - p);
	if (*line_len > 0 && p[*line_len - 1] == '\r')
		(*line_len)--;
	return nl != NULL ? nl + 1 : end;
}

static bool
line_is(const char *line, size_t len, const char *text)
{
	size_t text_len = strlen(text);
	/* Trailing blanks after armour lines are allowed (RFC 4880 section 6.2). */
	while (len > text_len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	return len == text_len && memcmp(line, text, len) == 0;
}

/* Decode every "PGP PUBLIC KEY BLOCK" of armoured text into binary. */
static dz_result_t
dearmor(const uint8_t *data, size_t len, const char *name, dz_buf_t *out, dz_error_t *err)
{
	const char *p = (const char *)data;
	const char *end = p + len;
	size_t blocks = 0;

	while (p < end) {
		size_t line_len;
		const char *line = p;
		p = next_line(p, end, &line_len);
		if (line_is(line, line_len, "-----BEGIN PGP PRIVATE KEY BLOCK-----"))
			return dz_error_set(err, DZ_ECERT,
					    "%s: contains a secret key; export only the public key with "
					    "gpg --export --armor", name);
		if (!line_is(line, line_len, "-----BEGIN PGP PUBLIC KEY BLOCK-----"))
			continue;

		/* Armour headers end at the first empty line. */
		while (p < end) {
			line = p;
			p = next_line(p, end, &line_len);
			if (line_len == 0)
				break;
			if (memchr(line, ':', line_len) == NULL)
				return dz_error_set(err, DZ_ECERT, "%s: invalid armour header line", name);
		}
		dz_buf_t text;
		dz_buf_init(&text);
		bool have_checksum = false, closed = false;
		uint8_t checksum[3];
		while (p < end) {
			line = p;
			p = next_line(p, end, &line_len);
			if (line_is(line, line_len, "-----END PGP PUBLIC KEY BLOCK-----")) {
				closed = true;
				break;
			}
			if (line_len == 5 && line[0] == '=') {
				dz_buf_t sum;
				dz_buf_init(&sum);
				if (!decode_base64(line + 1, 4, &sum) || sum.len != 3) {
					dz_buf_clear(&sum);
					dz_buf_clear(&text);
					return dz_error_set(err, DZ_ECERT, "%s: invalid armour checksum line",
							    name);
				}
				memcpy(checksum, sum.data, 3);
				dz_buf_clear(&sum);
				have_checksum = true;
				continue;
			}
			if (dz_buf_append(&text, line, line_len) != DZ_OK ||
			    dz_buf_append_u8(&text, '\n') != DZ_OK) {
				dz_buf_clear(&text);
				return dz_error_set(err, DZ_ENOMEM, "out of memory");
			}
		}
		size_t start = out->len;
		bool decoded = closed && decode_base64((const char *)text.data, text.len, out);
		dz_buf_clear(&text);
		if (!closed)
			return dz_error_set(err, DZ_ECERT,
					    "%s: the armoured key has no END line; the file may still be "
					    "being written", name);
		if (!decoded)
			return dz_error_set(err, DZ_ECERT, "%s: the armoured key is not valid base64", name);
		if (have_checksum) {
			uint32_t expected = (uint32_t)checksum[0] << 16 | (uint32_t)checksum[1] << 8 |
					    checksum[2];
			if (crc24(out->data + start, out->len - start) != expected)
				return dz_error_set(err, DZ_ECERT,
						    "%s: the armour checksum does not match; the file is "
						    "damaged", name);
		}
		blocks++;
	}
	if (blocks == 0)
		return dz_error_set(err, DZ_ECERT,
				    "%s: neither a binary OpenPGP key nor a PGP PUBLIC KEY BLOCK", name);
	return DZ_OK;
}

/* ---- packets ---- */

typedef struct packet {
	unsigned tag;
	const uint8_t *start; /* header */
	size_t total_len;     /* header and body */
	const uint8_t *body;
	size_t body_len;
} packet_t;

/* Read the packet at data[*offset]; false with err set when it is damaged. */
static bool
read_packet(const uint8_t *data, size_t len, size_t *offset, packet_t *packet, const char *name,
	    dz_error_t *err)
{
	size_t pos = *offset;
	uint8_t first = data[pos];
	size_t body_len;
	size_t header_len;

	if (!(first & 0x80)) {
		dz_error_set(err, DZ_ECERT, "%s: invalid packet header at octet %zu", name, pos);
		return false;
	}
	if (first & 0x40) {
		/* New format, RFC 4880 section 4.2.2. */
		packet->tag = first & 0x3f;
		if (pos + 2 > len)
			goto truncated;
		uint8_t o1 = data[pos + 1];
		if (o1 < 192) {
			body_len = o1;
			header_len = 2;
		} else if (o1 < 224) {
			if (pos + 3 > len)
				goto truncated;
			body_len = ((size_t)(o1 - 192) << 8) + data[pos + 2] + 192;
			header_len = 3;
		} else if (o1 == 255) {
			if (pos + 6 > len)
				goto truncated;
			body_len = (size_t)data[pos + 2] << 24 | (size_t)data[pos + 3] << 16 |
				   (size_t)data[pos + 4] << 8 | data[pos + 5];
			header_len = 6;
		} else {
			dz_error_set(err, DZ_ECERT,
				     "%s: partial body length at octet %zu; keys never use it", name, pos);
			return false;
		}
	} else {
		/* Old format, RFC 4880 section 4.2.1. */
		packet->tag = (first >> 2) & 0x0f;
		switch (first & 0x03) {
		case 0:
			if (pos + 2 > len)
				goto truncated;
			body_len = data[pos + 1];
			header_len = 2;
			break;
		case 1:
			if (pos + 3 > len)
				goto truncated;
			body_len = (size_t)data[pos + 1] << 8 | data[pos + 2];
			header_len = 3;
			break;
		case 2:
			if (pos + 5 > len)
				goto truncated;
			body_len = (size_t)data[pos + 1] << 24 | (size_t)data[pos + 2] << 16 |
				   (size_t)data[pos + 3] << 8 | data[pos + 4];
			header_len = 5;
			break;
		default:
			dz_error_set(err, DZ_ECERT,
				     "%s: indeterminate packet length at octet %zu; keys never use it",
				     name, pos);
			return false;
		}
	}
	if (body_len > len - pos - header_len)
		goto truncated;
	packet->start = data + pos;
	packet->body = data + pos + header_len;
	packet->body_len = body_len;
	packet->total_len = header_len + body_len;
	*offset = pos + header_len + body_len;
	return true;

truncated:
	dz_error_set(err, DZ_ECERT, "%s: the packet at octet %zu is cut short; the file may be "
		     "damaged or still being written", name, pos);
	return false;
}

static uint8_t
signature_type(const packet_t *packet)
{
	if (packet->body_len >= 3 && packet->body[0] == 3)
		return packet->body[2];
	if (packet->body_len >= 2 && packet->body[0] >= 4)
		return packet->body[1];
	return 0;
}

static dz_result_t
parse_packets(const uint8_t *data, size_t len, const char *name, dz_openpgp_keys_t *keys,
	      dz_error_t *err)
{
	size_t offset = 0;
	dz_openpgp_key_t *key = NULL;
	bool before_uid = false;

	while (offset < len) {
		packet_t packet;
		if (!read_packet(data, len, &offset, &packet, name, err))
			return err != NULL ? err->code : DZ_ECERT;
		switch (packet.tag) {
		case TAG_SECRET_KEY:
		case TAG_SECRET_SUBKEY:
			return dz_error_set(err, DZ_ECERT,
					    "%s: contains a secret key; export only the public key with "
					    "gpg --export", name);
		case TAG_PUBLIC_KEY: {
			dz_openpgp_key_t *items = realloc(keys->items, (keys->count + 1) * sizeof(*items));
			if (items == NULL)
				return dz_error_set(err, DZ_ENOMEM, "out of memory");
			keys->items = items;
			key = &keys->items[keys->count++];
			memset(key, 0, sizeof(*key));
			key->version = packet.body_len > 0 ? packet.body[0] : 0;
			if (key->version < 4 || key->version > 6)
				return dz_error_set(err, DZ_ECERT,
						    "%s: public key packet version %u is not supported; "
						    "use a version 4 or later key", name, key->version);
			before_uid = true;
			break;
		}
		case TAG_TRUST:
			continue;
		case TAG_SIGNATURE:
			if (key != NULL && before_uid && signature_type(&packet) == SIG_KEY_REVOCATION)
				key->revoked = true;
			break;
		case TAG_USER_ID:
			before_uid = false;
			if (key != NULL && key->uid_count < DZ_OPENPGP_UID_MAX) {
				char *uid = malloc(packet.body_len + 1);
				if (uid == NULL)
					return dz_error_set(err, DZ_ENOMEM, "out of memory");
				memcpy(uid, packet.body, packet.body_len);
				uid[packet.body_len] = '\0';
				key->uids[key->uid_count++] = uid;
			}
			break;
		case TAG_PUBLIC_SUBKEY:
		case TAG_USER_ATTRIBUTE:
			before_uid = false;
			break;
		default:
			return dz_error_set(err, DZ_ECERT,
					    "%s: unexpected packet type %u in a public key export", name,
					    packet.tag);
		}
		if (key == NULL)
			return dz_error_set(err, DZ_ECERT,
					    "%s: does not start with a public key packet", name);
		if (dz_buf_append(&key->data, packet.start, packet.total_len) != DZ_OK)
			return dz_error_set(err, DZ_ENOMEM, "out of memory");
	}
	if (keys->count == 0)
		return dz_error_set(err, DZ_ECERT, "%s: contains no public key", name);
	return DZ_OK;
}

dz_result_t
dz_openpgp_parse(const uint8_t *data, size_t len, const char *name, dz_openpgp_keys_t *keys,
		 dz_error_t *err)
{
	dz_buf_t binary;
	dz_result_t rc;

	keys->items = NULL;
	keys->count = 0;
	if (len == 0)
		return dz_error_set(err, DZ_ECERT, "%s: the file is empty", name);
	if (data[0] & 0x80)
		return parse_packets(data, len, name, keys, err) == DZ_OK
			? DZ_OK
			: (dz_openpgp_keys_clear(keys), err != NULL ? err->code : DZ_ECERT);
	dz_buf_init(&binary);
	rc = dearmor(data, len, name, &binary, err);
	if (rc == DZ_OK && binary.len == 0)
		rc = dz_error_set(err, DZ_ECERT, "%s: the armoured block is empty", name);
	if (rc == DZ_OK)
		rc = parse_packets(binary.data, binary.len, name, keys, err);
	if (rc != DZ_OK)
		dz_openpgp_keys_clear(keys);
	dz_buf_clear(&binary);
	return rc;
}

size_t
dz_openpgp_uid_address(const char *uid, const char **start)
{
	const char *open = strrchr(uid, '<');

	if (open != NULL) {
		const char *close = strchr(open, '>');
		if (close == NULL || close == open + 1)
			return 0;
		*start = open + 1;
		return (size_t)(close - open - 1);
	}
	if (strchr(uid, '@') != NULL && strchr(uid, ' ') == NULL) {
		*start = uid;
		return strlen(uid);
	}
	return 0;
}

dz_result_t
dz_openpgp_records(const dz_mailbox_options_t *options, const uint8_t *data, size_t len,
		   const char *name, dz_records_t *out, dz_error_t *err)
{
	dz_openpgp_keys_t keys;
	dz_records_t records;
	dz_result_t rc;

	dz_records_init(&records);
	rc = dz_openpgp_parse(data, len, name, &keys, err);
	if (rc != DZ_OK)
		return rc;
	for (size_t k = 0; rc == DZ_OK && k < keys.count; k++) {
		const dz_openpgp_key_t *key = &keys.items[k];
		if (key->revoked) {
			dz_log_zone(DZ_LOG_WARNING, options->zone,
				    "%s: key %zu is revoked; not publishing it", name, k + 1);
			continue;
		}
		if (key->data.len > UINT16_MAX) {
			dz_log_zone(DZ_LOG_WARNING, options->zone,
				    "%s: key %zu has %zu octets, more than a record holds; export a "
				    "smaller key (gpg --export-options export-minimal)", name, k + 1,
				    key->data.len);
			continue;
		}
		for (size_t u = 0; rc == DZ_OK && u < key->uid_count; u++) {
			const char *address;
			size_t address_len = dz_openpgp_uid_address(key->uids[u], &address);
			if (address_len == 0)
				continue;
			rc = dz_mailbox_add_records(options, address, address_len, "_openpgpkey",
						    DZ_TYPE_OPENPGPKEY, options->openpgpkey_ttl,
						    key->data.data, key->data.len, name, &records);
		}
	}
	if (rc == DZ_OK)
		rc = dz_records_add_all(out, &records);
	if (rc != DZ_OK)
		rc = dz_error_set(err, rc, "out of memory");
	dz_records_clear(&records);
	dz_openpgp_keys_clear(&keys);
	return rc;
}

dz_result_t
dz_openpgp_file_records(const dz_mailbox_options_t *options, const char *path, dz_records_t *out,
			dz_error_t *err)
{
	char *data = NULL;
	size_t len = 0;
	dz_result_t rc = dz_file_read_all(path, DZ_OPENPGP_FILE_MAX, &data, &len, err);

	if (rc != DZ_OK)
		return rc;
	rc = dz_openpgp_records(options, (const uint8_t *)data, len, path, out, err);
	free(data);
	return rc;
}
