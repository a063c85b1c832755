#include "config.h"

#include <arpa/inet.h>
#include <libgen.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signer/server_config.h"

void
dz_server_config_init(dz_server_config_t *config)
{
	memset(config, 0, sizeof(*config));
	config->tcp_clients_max = DZ_SERVER_TCP_CLIENTS_DEFAULT;
	config->tcp_idle_ms = DZ_SERVER_TCP_IDLE_DEFAULT_MS;
	config->notify_retry_ms = DZ_SERVER_NOTIFY_RETRY_DEFAULT_MS;
	config->notify_retry_max_ms = DZ_SERVER_NOTIFY_RETRY_MAX_DEFAULT_MS;
}

void
dz_server_config_clear(dz_server_config_t *config)
{
	for (size_t i = 0; i < config->key_count; i++)
		dz_tsig_key_clear(&config->keys[i]);
	free(config->keys);
	free(config->listen);
	for (size_t i = 0; i < config->zone_count; i++) {
		dz_server_zone_config_t *zone = &config->zones[i];
		free(zone->name);
		free(zone->folder);
		dz_acl_clear(&zone->transfer_acl);
		dz_acl_clear(&zone->query_acl);
		dz_acl_clear(&zone->notify_acl);
		for (size_t j = 0; j < zone->secondary_count; j++)
			free(zone->secondaries[j].key_name);
		free(zone->secondaries);
	}
	free(config->zones);
	dz_server_config_init(config);
}

dz_result_t
dz_server_address_parse(const char *text, int default_port, dz_server_address_t *address,
			dz_error_t *err)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *port_text = NULL;
	size_t host_len;

	memset(address, 0, sizeof(*address));
	const char *at = strchr(text, '@');
	const char *last_colon = strrchr(text, ':');
	if (at != NULL) {
		host_len = (size_t)(at - text);
		port_text = at + 1;
	} else if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (close == NULL || (close[1] != '\0' && close[1] != ':'))
			return dz_error_set(err, DZ_EINVAL, "invalid address '%s'", text);
		text++;
		host_len = (size_t)(close - text);
		port_text = close[1] == ':' ? close + 2 : NULL;
	} else if (last_colon != NULL && strchr(text, ':') == last_colon) {
		host_len = (size_t)(last_colon - text);
		port_text = last_colon + 1;
	} else {
		host_len = strlen(text);
	}
	if (host_len >= sizeof(host))
		return dz_error_set(err, DZ_EINVAL, "invalid address '%s'", text);
	memcpy(host, text, host_len);
	host[host_len] = '\0';

	long port = default_port;
	if (port_text != NULL) {
		char *end = NULL;
		port = strtol(port_text, &end, 10);
		if (end == port_text || *end != '\0' || port < 0 || port > 65535)
			return dz_error_set(err, DZ_EINVAL, "invalid port in address '%s'", text);
	}

	struct sockaddr_in *v4 = (struct sockaddr_in *)&address->address;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&address->address;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		address->address_len = sizeof(*v4);
	} else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		address->address_len = sizeof(*v6);
	} else {
		return dz_error_set(err, DZ_EINVAL,
				    "invalid address '%s'; expected an IPv4 or IPv6 address", host);
	}
	return DZ_OK;
}

void
dz_server_address_format(const struct sockaddr *address, char *out, size_t out_size)
{
	char host[INET6_ADDRSTRLEN];

	if (address->sa_family == AF_INET) {
		const struct sockaddr_in *v4 = (const struct sockaddr_in *)address;
		inet_ntop(AF_INET, &v4->sin_addr, host, sizeof(host));
		snprintf(out, out_size, "%s#%u", host, ntohs(v4->sin_port));
	} else if (address->sa_family == AF_INET6) {
		const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)address;
		inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof(host));
		snprintf(out, out_size, "%s#%u", host, ntohs(v6->sin6_port));
	} else {
		snprintf(out, out_size, "(address family %d)", address->sa_family);
	}
}

dz_result_t
dz_server_config_add_listen(dz_server_config_t *config, const char *text, dz_error_t *err)
{
	dz_server_address_t address;
	dz_result_t result = dz_server_address_parse(text, 53, &address, err);

	if (result != DZ_OK)
		return result;
	dz_server_address_t *list = realloc(config->listen,
					    (config->listen_count + 1) * sizeof(*list));
	if (list == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	list[config->listen_count++] = address;
	config->listen = list;
	return DZ_OK;
}

dz_result_t
dz_server_config_add_key(dz_server_config_t *config, const char *spec, dz_error_t *err)
{
	dz_tsig_key_t key;
	dz_result_t result = dz_tsig_key_parse(&key, spec, err);

	if (result != DZ_OK)
		return result;
	if (dz_server_config_find_key(config, key.name) != NULL) {
		dz_tsig_key_clear(&key);
		return dz_error_set(err, DZ_EEXIST, "TSIG key %s is defined twice", key.name_text);
	}
	dz_tsig_key_t *keys = realloc(config->keys, (config->key_count + 1) * sizeof(*keys));
	if (keys == NULL) {
		dz_tsig_key_clear(&key);
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	}
	keys[config->key_count++] = key;
	config->keys = keys;
	dz_tsig_key_clear(&key);
	return DZ_OK;
}

dz_result_t
dz_server_config_add_zone(dz_server_config_t *config, const char *name, const char *folder,
			  dz_server_zone_config_t **zone, dz_error_t *err)
{
	dz_server_zone_config_t *zones = realloc(config->zones,
						 (config->zone_count + 1) * sizeof(*zones));

	if (zones == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	config->zones = zones;
	dz_server_zone_config_t *added = &zones[config->zone_count];
	memset(added, 0, sizeof(*added));
	added->name = strdup(name);
	added->folder = strdup(folder);
	if (added->name == NULL || added->folder == NULL) {
		free(added->name);
		free(added->folder);
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	}
	dz_acl_init(&added->transfer_acl);
	dz_acl_init(&added->query_acl);
	dz_acl_init(&added->notify_acl);
	config->zone_count++;
	*zone = added;
	return DZ_OK;
}

dz_result_t
dz_server_zone_add_secondary(dz_server_zone_config_t *zone, const char *text, dz_error_t *err)
{
	char address_text[INET6_ADDRSTRLEN + 16];
	char key_word[8];
	char key_name[4 * DZ_WIRE_NAME_MAX + 1];
	dz_server_secondary_t secondary;

	memset(&secondary, 0, sizeof(secondary));
	int fields = sscanf(text, "%61s %7s %1020s", address_text, key_word, key_name);
	if (fields != 1 && !(fields == 3 && strcmp(key_word, "key") == 0))
		return dz_error_set(err, DZ_EINVAL,
				    "zone %s: invalid secondary '%s'; expected ADDRESS[@PORT] [key NAME]",
				    zone->name, text);
	dz_result_t result = dz_server_address_parse(address_text, 53, &secondary.address, err);
	if (result != DZ_OK)
		return result;
	if (fields == 3) {
		secondary.key_name = strdup(key_name);
		if (secondary.key_name == NULL)
			return dz_error_set(err, DZ_ENOMEM, "out of memory");
	}
	dz_server_secondary_t *list = realloc(zone->secondaries,
					      (zone->secondary_count + 1) * sizeof(*list));
	if (list == NULL) {
		free(secondary.key_name);
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	}
	list[zone->secondary_count++] = secondary;
	zone->secondaries = list;
	return DZ_OK;
}

const dz_tsig_key_t *
dz_server_config_find_key(const dz_server_config_t *config, const uint8_t *name)
{
	for (size_t i = 0; i < config->key_count; i++) {
		if (dz_wire_name_equal(config->keys[i].name, name))
			return &config->keys[i];
	}
	return NULL;
}

static dz_result_t
check_acl_keys(const dz_server_config_t *config, const dz_server_zone_config_t *zone,
	       const dz_acl_t *acl, const char *what, dz_error_t *err)
{
	for (size_t i = 0; i < acl->count; i++) {
		const dz_acl_rule_t *rule = &acl->rules[i];
		char name[4 * DZ_WIRE_NAME_MAX + 1];
		if (!rule->has_key || dz_server_config_find_key(config, rule->key_name) != NULL)
			continue;
		dz_wire_name_to_text(rule->key_name, name, sizeof(name));
		return dz_error_set(err, DZ_ECONFIG,
				    "zone %s: the %s access list names TSIG key %s, which is not defined",
				    zone->name, what, name);
	}
	return DZ_OK;
}

dz_result_t
dz_server_config_check(const dz_server_config_t *config, dz_error_t *err)
{
	for (size_t i = 0; i < config->zone_count; i++) {
		const dz_server_zone_config_t *zone = &config->zones[i];
		dz_result_t result = check_acl_keys(config, zone, &zone->transfer_acl, "transfer", err);
		if (result == DZ_OK)
			result = check_acl_keys(config, zone, &zone->query_acl, "query", err);
		if (result == DZ_OK)
			result = check_acl_keys(config, zone, &zone->notify_acl, "notify", err);
		if (result != DZ_OK)
			return result;
		for (size_t j = 0; j < zone->secondary_count; j++) {
			const char *key_name = zone->secondaries[j].key_name;
			uint8_t wire[DZ_WIRE_NAME_MAX];
			if (key_name == NULL)
				continue;
			if (dz_wire_name_from_text(key_name, wire) == 0 ||
			    dz_server_config_find_key(config, wire) == NULL)
				return dz_error_set(err, DZ_ECONFIG,
						    "zone %s: secondary key %s is not defined",
						    zone->name, key_name);
		}
	}
	return DZ_OK;
}

/* Append `key` made from a configured TSIG key. */
static dz_result_t
add_config_key(dz_server_config_t *out, const dz_config_tsig_t *tsig, dz_error_t *err)
{
	dz_tsig_key_t key;

	memset(&key, 0, sizeof(key));
	key.name_len = dz_wire_name_from_text(tsig->name, key.name);
	if (key.name_len == 0 || tsig->secret_len == 0 || tsig->secret_len > DZ_TSIG_SECRET_MAX)
		return dz_error_set(err, DZ_ECONFIG, "TSIG key '%s': invalid name or secret length",
				    tsig->name);
	dz_wire_name_to_text(key.name, key.name_text, sizeof(key.name_text));
	key.algorithm = tsig->algorithm;
	memcpy(key.secret, tsig->secret, tsig->secret_len);
	key.secret_len = tsig->secret_len;
	dz_tsig_key_t *keys = realloc(out->keys, (out->key_count + 1) * sizeof(*keys));
	if (keys == NULL) {
		dz_tsig_key_clear(&key);
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	}
	keys[out->key_count++] = key;
	out->keys = keys;
	dz_tsig_key_clear(&key);
	return DZ_OK;
}

/* Add the NOTIFY targets and transfer rules of one configured secondary to `zone`. */
static dz_result_t
add_config_secondary(dz_server_zone_config_t *zone, const dz_config_secondary_t *secondary,
		     dz_error_t *err)
{
	for (size_t i = 0; i < secondary->address_count; i++) {
		const dz_config_address_t *address = &secondary->addresses[i];
		char host[INET6_ADDRSTRLEN];
		char rule[INET6_ADDRSTRLEN + 4 * DZ_WIRE_NAME_MAX + 16];
		const void *raw = address->addr.ss_family == AF_INET
					  ? (const void *)&((const struct sockaddr_in *)&address->addr)->sin_addr
					  : (const void *)&((const struct sockaddr_in6 *)&address->addr)->sin6_addr;
		inet_ntop(address->addr.ss_family, raw, host, sizeof(host));

		/* Secondaries query the SOA to learn about changes, signed or not. */
		dz_result_t result = dz_acl_add(&zone->query_acl, host, err);
		if (result != DZ_OK)
			return result;

		if (secondary->notify) {
			dz_server_secondary_t *list = realloc(zone->secondaries,
							      (zone->secondary_count + 1) * sizeof(*list));
			if (list == NULL)
				return dz_error_set(err, DZ_ENOMEM, "out of memory");
			zone->secondaries = list;
			dz_server_secondary_t *added = &list[zone->secondary_count];
			memset(added, 0, sizeof(*added));
			memcpy(&added->address.address, &address->addr, sizeof(address->addr));
			added->address.address_len = address->addr_len;
			if (secondary->tsig != NULL) {
				added->key_name = strdup(secondary->tsig);
				if (added->key_name == NULL)
					return dz_error_set(err, DZ_ENOMEM, "out of memory");
			}
			zone->secondary_count++;
		}
		if (secondary->allow_transfer) {
			if (secondary->tsig != NULL)
				snprintf(rule, sizeof(rule), "%s key %s", host, secondary->tsig);
			else
				snprintf(rule, sizeof(rule), "%s", host);
			result = dz_acl_add(&zone->transfer_acl, rule, err);
			if (result != DZ_OK)
				return result;
		}
	}
	return DZ_OK;
}

dz_result_t
dz_server_config_from_config(const dz_config_t *config, dz_server_config_t *out,
			     dz_error_t *err)
{
	dz_result_t result = DZ_OK;

	for (size_t i = 0; i < config->server.listen_count; i++) {
		dz_server_address_t *list = realloc(out->listen, (out->listen_count + 1) * sizeof(*list));
		if (list == NULL)
			return dz_error_set(err, DZ_ENOMEM, "out of memory");
		out->listen = list;
		memcpy(&list[out->listen_count].address, &config->server.listen[i].addr,
		       sizeof(list[0].address));
		list[out->listen_count].address_len = config->server.listen[i].addr_len;
		out->listen_count++;
	}
	if (config->server.tcp_max_connections > 0)
		out->tcp_clients_max = config->server.tcp_max_connections;
	if (config->server.tcp_idle_timeout > 0)
		out->tcp_idle_ms = (unsigned)(config->server.tcp_idle_timeout * 1000);
	for (size_t i = 0; i < config->tsig_count; i++) {
		result = add_config_key(out, &config->tsigs[i], err);
		if (result != DZ_OK)
			return result;
	}

	for (size_t i = 0; i < config->zone_count; i++) {
		const dz_config_zone_t *zone = &config->zones[i];
		dz_server_zone_config_t *added = NULL;
		char *output = strdup(zone->output != NULL ? zone->output : ".");
		if (output == NULL)
			return dz_error_set(err, DZ_ENOMEM, "out of memory");
		result = dz_server_config_add_zone(out, zone->name, dirname(output), &added, err);
		free(output);
		if (result != DZ_OK)
			return result;
		for (size_t j = 0; j < zone->secondary_count; j++) {
			const dz_config_secondary_t *secondary =
				dz_config_find_secondary(config, zone->secondaries[j]);
			if (secondary == NULL)
				return dz_error_set(err, DZ_ECONFIG, "zone %s: unknown secondary '%s'",
						    zone->name, zone->secondaries[j]);
			result = add_config_secondary(added, secondary, err);
			if (result != DZ_OK)
				return result;
		}
		for (size_t j = 0; j < config->server.allow_query_count; j++) {
			result = dz_acl_add(&added->query_acl, config->server.allow_query[j], err);
			if (result != DZ_OK)
				return result;
		}
	}
	return dz_server_config_check(out, err);
}
