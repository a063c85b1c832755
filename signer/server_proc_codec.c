/*
 * server_proc_codec.c -- the CONFIG body of the DNS server process
 * protocol (signer/server_proc.h).
 *
 * All integers are big-endian.  Layout:
 *
 *   tcp_clients_max, tcp_idle_ms, notify_retry_ms, notify_retry_max_ms (4 each)
 *   listen count (4), then that many addresses
 *   key count (4), then per key: name (1 + up to 255), name text (2 + n),
 *     algorithm (1), secret (2 + up to DZ_TSIG_SECRET_MAX)
 *   zone count (4), then per zone: name (2 + n), folder (2 + n),
 *     transfer, query and notify ACLs, secondary count (4) and secondaries
 *
 *   address   family (1: 4 or 6), port (2), 4 or 16 address bytes, and for
 *             IPv6 the scope id (4)
 *   ACL       rule count (4), then per rule: deny (1: 0 or 1), family (1:
 *             4 or 6), address (16), prefix length (1), key name (1 + up to
 *             255; length 0 for a rule without key)
 *   secondary address, key name (2 + n; length 0 for none)
 *
 * Text fields hold no NUL byte.  The decoder checks every length, count
 * and value against these limits and rejects bytes after the end.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "signer/server_proc.h"

#define LISTEN_COUNT_MAX 256
#define KEY_COUNT_MAX 4096
#define ZONE_COUNT_MAX 1000000
#define RULE_COUNT_MAX 65536
#define SECONDARY_COUNT_MAX 4096
#define TEXT_MAX 4096
/* Smallest encoded size of each element, from the layout above. */
#define ADDRESS_MIN_SIZE 7
#define KEY_MIN_SIZE 9
#define ZONE_MIN_SIZE 22
#define RULE_MIN_SIZE 20
#define SECONDARY_MIN_SIZE 9

/* ---- encoding ---- */

static dz_result_t
put_text16(dz_buf_t *out, const char *text)
{
	size_t len = text != NULL ? strlen(text) : 0;
	dz_result_t result = dz_buf_append_u16(out, (uint16_t)len);

	if (result == DZ_OK && len > 0)
		result = dz_buf_append(out, text, len);
	return result;
}

static dz_result_t
put_address(dz_buf_t *out, const dz_server_address_t *address)
{
	dz_result_t result;

	if (address->address.ss_family == AF_INET) {
		const struct sockaddr_in *v4 = (const struct sockaddr_in *)&address->address;
		result = dz_buf_append_u8(out, 4);
		if (result == DZ_OK)
			result = dz_buf_append_u16(out, ntohs(v4->sin_port));
		if (result == DZ_OK)
			result = dz_buf_append(out, &v4->sin_addr, 4);
		return result;
	}
	const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&address->address;
	result = dz_buf_append_u8(out, 6);
	if (result == DZ_OK)
		result = dz_buf_append_u16(out, ntohs(v6->sin6_port));
	if (result == DZ_OK)
		result = dz_buf_append(out, &v6->sin6_addr, 16);
	if (result == DZ_OK)
		result = dz_buf_append_u32(out, v6->sin6_scope_id);
	return result;
}

static dz_result_t
put_acl(dz_buf_t *out, const dz_acl_t *acl)
{
	dz_result_t result = dz_buf_append_u32(out, (uint32_t)acl->count);

	for (size_t i = 0; result == DZ_OK && i < acl->count; i++) {
		const dz_acl_rule_t *rule = &acl->rules[i];
		size_t key_len = rule->has_key ? rule->key_name_len : 0;
		result = dz_buf_append_u8(out, rule->deny ? 1 : 0);
		if (result == DZ_OK)
			result = dz_buf_append_u8(out, rule->family == AF_INET ? 4 : 6);
		if (result == DZ_OK)
			result = dz_buf_append(out, rule->address, sizeof(rule->address));
		if (result == DZ_OK)
			result = dz_buf_append_u8(out, (uint8_t)rule->prefix_len);
		if (result == DZ_OK)
			result = dz_buf_append_u8(out, (uint8_t)key_len);
		if (result == DZ_OK && key_len > 0)
			result = dz_buf_append(out, rule->key_name, key_len);
	}
	return result;
}

dz_result_t
dz_server_proc_config_encode(const dz_server_config_t *config, dz_buf_t *out)
{
	dz_result_t result = DZ_OK;
	uint32_t numbers[] = { config->tcp_clients_max, config->tcp_idle_ms,
			       config->notify_retry_ms, config->notify_retry_max_ms,
			       (uint32_t)config->listen_count };

	for (size_t i = 0; result == DZ_OK && i < DZ_ARRAY_SIZE(numbers); i++)
		result = dz_buf_append_u32(out, numbers[i]);
	for (size_t i = 0; result == DZ_OK && i < config->listen_count; i++)
		result = put_address(out, &config->listen[i]);

	if (result == DZ_OK)
		result = dz_buf_append_u32(out, (uint32_t)config->key_count);
	for (size_t i = 0; result == DZ_OK && i < config->key_count; i++) {
		const dz_tsig_key_t *key = &config->keys[i];
		result = dz_buf_append_u8(out, (uint8_t)key->name_len);
		if (result == DZ_OK)
			result = dz_buf_append(out, key->name, key->name_len);
		if (result == DZ_OK)
			result = put_text16(out, key->name_text);
		if (result == DZ_OK)
			result = dz_buf_append_u8(out, (uint8_t)key->algorithm);
		if (result == DZ_OK)
			result = dz_buf_append_u16(out, (uint16_t)key->secret_len);
		if (result == DZ_OK)
			result = dz_buf_append(out, key->secret, key->secret_len);
	}

	if (result == DZ_OK)
		result = dz_buf_append_u32(out, (uint32_t)config->zone_count);
	for (size_t i = 0; result == DZ_OK && i < config->zone_count; i++) {
		const dz_server_zone_config_t *zone = &config->zones[i];
		result = put_text16(out, zone->name);
		if (result == DZ_OK)
			result = put_text16(out, zone->folder);
		if (result == DZ_OK)
			result = put_acl(out, &zone->transfer_acl);
		if (result == DZ_OK)
			result = put_acl(out, &zone->query_acl);
		if (result == DZ_OK)
			result = put_acl(out, &zone->notify_acl);
		if (result == DZ_OK)
			result = dz_buf_append_u32(out, (uint32_t)zone->secondary_count);
		for (size_t j = 0; result == DZ_OK && j < zone->secondary_count; j++) {
			result = put_address(out, &zone->secondaries[j].address);
			if (result == DZ_OK)
				result = put_text16(out, zone->secondaries[j].key_name);
		}
	}
	return result;
}

/* ---- decoding ---- */

typedef struct reader {
	const uint8_t *data;
	size_t len;
	size_t pos;
	dz_error_t *err;
} reader_t;

static dz_result_t
take(reader_t *r, void *out, size_t len, const char *field)
{
	if (r->len - r->pos < len)
		return dz_error_set(r->err, DZ_ESYNTAX, "configuration ends inside %s at byte %zu",
				    field, r->pos);
	memcpy(out, r->data + r->pos, len);
	r->pos += len;
	return DZ_OK;
}

static dz_result_t
take_u8(reader_t *r, uint8_t *value, const char *field)
{
	return take(r, value, 1, field);
}

static dz_result_t
take_u16(reader_t *r, uint16_t *value, const char *field)
{
	uint8_t bytes[2];
	dz_result_t result = take(r, bytes, sizeof(bytes), field);

	*value = (uint16_t)(bytes[0] << 8 | bytes[1]);
	return result;
}

static dz_result_t
take_u32(reader_t *r, uint32_t *value, const char *field)
{
	uint8_t bytes[4];
	dz_result_t result = take(r, bytes, sizeof(bytes), field);

	*value = (uint32_t)bytes[0] << 24 | (uint32_t)bytes[1] << 16 | (uint32_t)bytes[2] << 8 |
		 bytes[3];
	return result;
}

/*
 * A count of at most `max` elements of at least `min_size` bytes each, so
 * that a count larger than the rest of the body allocates nothing.
 */
static dz_result_t
take_count(reader_t *r, size_t *count, size_t max, size_t min_size, const char *field)
{
	uint32_t value = 0;
	dz_result_t result = take_u32(r, &value, field);

	if (result != DZ_OK)
		return result;
	if (value > max)
		return dz_error_set(r->err, DZ_ESYNTAX, "%s is %lu, more than the maximum %zu", field,
				    (unsigned long)value, max);
	if (value > (r->len - r->pos) / min_size)
		return dz_error_set(r->err, DZ_ESYNTAX, "%s is %lu, more than the %zu bytes left "
				    "can hold", field, (unsigned long)value, r->len - r->pos);
	*count = value;
	return DZ_OK;
}

/*
 * A text of 2-byte length into a new string (*out, NULL when empty and
 * `allow_empty`).
 */
static dz_result_t
take_text16(reader_t *r, char **out, bool allow_empty, const char *field)
{
	uint16_t len = 0;
	dz_result_t result = take_u16(r, &len, field);

	*out = NULL;
	if (result != DZ_OK)
		return result;
	if (len == 0)
		return allow_empty ? DZ_OK
				   : dz_error_set(r->err, DZ_ESYNTAX, "%s is empty", field);
	if (len > TEXT_MAX)
		return dz_error_set(r->err, DZ_ESYNTAX, "%s is %u bytes long, more than %d", field,
				    len, TEXT_MAX);
	if (r->len - r->pos < len)
		return dz_error_set(r->err, DZ_ESYNTAX, "configuration ends inside %s at byte %zu",
				    field, r->pos);
	if (memchr(r->data + r->pos, '\0', len) != NULL)
		return dz_error_set(r->err, DZ_ESYNTAX, "%s contains a NUL byte", field);
	char *text = malloc((size_t)len + 1);
	if (text == NULL)
		return dz_error_set(r->err, DZ_ENOMEM, "out of memory");
	memcpy(text, r->data + r->pos, len);
	text[len] = '\0';
	r->pos += len;
	*out = text;
	return DZ_OK;
}

static dz_result_t
take_family(reader_t *r, int *family, const char *field)
{
	uint8_t code = 0;
	dz_result_t result = take_u8(r, &code, field);

	if (result != DZ_OK)
		return result;
	if (code != 4 && code != 6)
		return dz_error_set(r->err, DZ_ESYNTAX, "%s has address family %u, expected 4 or 6",
				    field, code);
	*family = code == 4 ? AF_INET : AF_INET6;
	return DZ_OK;
}

static dz_result_t
take_address(reader_t *r, dz_server_address_t *address, const char *field)
{
	int family = 0;
	uint16_t port = 0;
	dz_result_t result = take_family(r, &family, field);

	memset(address, 0, sizeof(*address));
	if (result == DZ_OK)
		result = take_u16(r, &port, field);
	if (result != DZ_OK)
		return result;
	if (family == AF_INET) {
		struct sockaddr_in *v4 = (struct sockaddr_in *)&address->address;
		v4->sin_family = AF_INET;
		v4->sin_port = htons(port);
		address->address_len = sizeof(*v4);
		return take(r, &v4->sin_addr, 4, field);
	}
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&address->address;
	uint32_t scope = 0;
	v6->sin6_family = AF_INET6;
	v6->sin6_port = htons(port);
	address->address_len = sizeof(*v6);
	result = take(r, &v6->sin6_addr, 16, field);
	if (result == DZ_OK)
		result = take_u32(r, &scope, field);
	v6->sin6_scope_id = scope;
	return result;
}

/* A wire-form name of 1-byte length, so at most 255 bytes (DZ_WIRE_NAME_MAX); 0 only when `allow_empty`. */
static dz_result_t
take_wire_name(reader_t *r, uint8_t *name, size_t *name_len, bool allow_empty, const char *field)
{
	uint8_t len = 0;
	dz_result_t result = take_u8(r, &len, field);

	if (result != DZ_OK)
		return result;
	if (len == 0 && !allow_empty)
		return dz_error_set(r->err, DZ_ESYNTAX, "%s is empty", field);
	*name_len = len;
	return take(r, name, len, field);
}

static dz_result_t
take_acl(reader_t *r, dz_acl_t *acl, const char *field)
{
	size_t count = 0;
	dz_result_t result = take_count(r, &count, RULE_COUNT_MAX, RULE_MIN_SIZE, field);

	if (result != DZ_OK || count == 0)
		return result;
	acl->rules = calloc(count, sizeof(*acl->rules));
	if (acl->rules == NULL)
		return dz_error_set(r->err, DZ_ENOMEM, "out of memory");
	for (size_t i = 0; result == DZ_OK && i < count; i++) {
		dz_acl_rule_t *rule = &acl->rules[i];
		uint8_t deny = 0;
		uint8_t prefix_len = 0;
		acl->count++;
		result = take_u8(r, &deny, field);
		if (result == DZ_OK && deny > 1)
			result = dz_error_set(r->err, DZ_ESYNTAX, "%s rule %zu: deny flag %u is not 0 "
					      "or 1", field, i, deny);
		if (result == DZ_OK)
			result = take_family(r, &rule->family, field);
		if (result == DZ_OK)
			result = take(r, rule->address, sizeof(rule->address), field);
		if (result == DZ_OK)
			result = take_u8(r, &prefix_len, field);
		if (result == DZ_OK && prefix_len > (rule->family == AF_INET ? 32 : 128))
			result = dz_error_set(r->err, DZ_ESYNTAX, "%s rule %zu: prefix length %u is "
					      "out of range", field, i, prefix_len);
		if (result == DZ_OK)
			result = take_wire_name(r, rule->key_name, &rule->key_name_len, true, field);
		rule->deny = deny == 1;
		rule->prefix_len = prefix_len;
		rule->has_key = rule->key_name_len > 0;
	}
	return result;
}

static dz_result_t
take_key(reader_t *r, dz_tsig_key_t *key)
{
	char *name_text = NULL;
	uint8_t algorithm = 0;
	uint16_t secret_len = 0;
	dz_result_t result = take_wire_name(r, key->name, &key->name_len, false, "key name");

	if (result == DZ_OK)
		result = take_text16(r, &name_text, false, "key name text");
	if (result == DZ_OK && strlen(name_text) >= sizeof(key->name_text))
		result = dz_error_set(r->err, DZ_ESYNTAX, "key name text is longer than %zu bytes",
				      sizeof(key->name_text) - 1);
	if (result == DZ_OK)
		memcpy(key->name_text, name_text, strlen(name_text) + 1);
	free(name_text);
	if (result == DZ_OK)
		result = take_u8(r, &algorithm, "key algorithm");
	if (result == DZ_OK && algorithm > DZ_TSIG_HMAC_SHA512)
		result = dz_error_set(r->err, DZ_ESYNTAX, "key %s has unknown algorithm %u",
				      key->name_text, algorithm);
	key->algorithm = (dz_tsig_algorithm_t)algorithm;
	if (result == DZ_OK)
		result = take_u16(r, &secret_len, "key secret");
	if (result == DZ_OK && (secret_len == 0 || secret_len > DZ_TSIG_SECRET_MAX))
		result = dz_error_set(r->err, DZ_ESYNTAX, "key %s has a secret of %u bytes, expected "
				      "1 to %d", key->name_text, secret_len, DZ_TSIG_SECRET_MAX);
	if (result == DZ_OK) {
		key->secret_len = secret_len;
		result = take(r, key->secret, secret_len, "key secret");
	}
	return result;
}

static dz_result_t
take_zone(reader_t *r, dz_server_zone_config_t *zone)
{
	dz_result_t result = take_text16(r, &zone->name, false, "zone name");

	if (result == DZ_OK)
		result = take_text16(r, &zone->folder, false, "zone folder");
	if (result == DZ_OK)
		result = take_acl(r, &zone->transfer_acl, "transfer ACL");
	if (result == DZ_OK)
		result = take_acl(r, &zone->query_acl, "query ACL");
	if (result == DZ_OK)
		result = take_acl(r, &zone->notify_acl, "notify ACL");
	size_t count = 0;
	if (result == DZ_OK)
		result = take_count(r, &count, SECONDARY_COUNT_MAX, SECONDARY_MIN_SIZE, "secondary count");
	if (result == DZ_OK && count > 0) {
		zone->secondaries = calloc(count, sizeof(*zone->secondaries));
		if (zone->secondaries == NULL)
			result = dz_error_set(r->err, DZ_ENOMEM, "out of memory");
	}
	for (size_t i = 0; result == DZ_OK && i < count; i++) {
		dz_server_secondary_t *secondary = &zone->secondaries[i];
		zone->secondary_count++;
		result = take_address(r, &secondary->address, "secondary address");
		if (result == DZ_OK)
			result = take_text16(r, &secondary->key_name, true, "secondary key name");
	}
	return result;
}

dz_result_t
dz_server_proc_config_decode(const uint8_t *body, size_t len, dz_server_config_t *out,
			     dz_error_t *err)
{
	reader_t r = { .data = body, .len = len, .pos = 0, .err = err };
	uint32_t numbers[4] = { 0 };
	size_t count = 0;
	dz_result_t result = DZ_OK;

	for (size_t i = 0; result == DZ_OK && i < DZ_ARRAY_SIZE(numbers); i++)
		result = take_u32(&r, &numbers[i], "limits");
	out->tcp_clients_max = numbers[0];
	out->tcp_idle_ms = numbers[1];
	out->notify_retry_ms = numbers[2];
	out->notify_retry_max_ms = numbers[3];

	if (result == DZ_OK)
		result = take_count(&r, &count, LISTEN_COUNT_MAX, ADDRESS_MIN_SIZE, "listen count");
	if (result == DZ_OK && count > 0) {
		out->listen = calloc(count, sizeof(*out->listen));
		if (out->listen == NULL)
			result = dz_error_set(err, DZ_ENOMEM, "out of memory");
	}
	for (size_t i = 0; result == DZ_OK && i < count; i++) {
		out->listen_count++;
		result = take_address(&r, &out->listen[i], "listen address");
	}

	count = 0;
	if (result == DZ_OK)
		result = take_count(&r, &count, KEY_COUNT_MAX, KEY_MIN_SIZE, "key count");
	if (result == DZ_OK && count > 0) {
		out->keys = calloc(count, sizeof(*out->keys));
		if (out->keys == NULL)
			result = dz_error_set(err, DZ_ENOMEM, "out of memory");
	}
	for (size_t i = 0; result == DZ_OK && i < count; i++) {
		out->key_count++;
		result = take_key(&r, &out->keys[i]);
	}

	count = 0;
	if (result == DZ_OK)
		result = take_count(&r, &count, ZONE_COUNT_MAX, ZONE_MIN_SIZE, "zone count");
	if (result == DZ_OK && count > 0) {
		out->zones = calloc(count, sizeof(*out->zones));
		if (out->zones == NULL)
			result = dz_error_set(err, DZ_ENOMEM, "out of memory");
	}
	for (size_t i = 0; result == DZ_OK && i < count; i++) {
		out->zone_count++;
		result = take_zone(&r, &out->zones[i]);
	}

	if (result == DZ_OK && r.pos != r.len)
		result = dz_error_set(err, DZ_ESYNTAX, "configuration has %zu bytes after its end",
				      r.len - r.pos);
	if (result == DZ_OK)
		result = dz_server_config_check(out, err);
	if (result != DZ_OK)
		dz_server_config_clear(out);
	return result;
}
