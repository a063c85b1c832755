#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/mem.h"
#include "zones/conf.h"
#include "zones/conf_internal.h"
#include "zones/dname.h"

/* ---- addresses ---- */

static bool
parse_port_text(const char *text, uint16_t *port)
{
	char *end;
	unsigned long value;

	if (text[0] < '0' || text[0] > '9')
		return false;
	errno = 0;
	value = strtoul(text, &end, 10);
	if (*end != '\0' || errno != 0 || value == 0 || value > 65535)
		return false;
	*port = (uint16_t)value;
	return true;
}

dz_result_t
dz_config_address_parse(const char *text, uint16_t default_port, dz_config_address_t *address,
			dz_error_t *err)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port_text = NULL;
	size_t host_len;
	uint16_t port = default_port;
	dz_config_address_t result;
	char printable[INET6_ADDRSTRLEN];

	memset(&result, 0, sizeof(result));
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (close == NULL)
			goto invalid;
		host_len = (size_t)(close - text - 1);
		if (close[1] == ':' || close[1] == '@')
			port_text = close + 2;
		else if (close[1] != '\0')
			goto invalid;
		text++;
	} else {
		const char *at = strrchr(text, '@');
		const char *colon = strchr(text, ':');
		if (at != NULL) {
			host_len = (size_t)(at - text);
			port_text = at + 1;
		} else if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			host_len = (size_t)(colon - text);
			port_text = colon + 1;
		} else {
			host_len = strlen(text);
		}
	}
	if (host_len == 0 || host_len >= sizeof(host))
		goto invalid;
	memcpy(host, text, host_len);
	host[host_len] = '\0';
	if (port_text != NULL && !parse_port_text(port_text, &port))
		goto invalid;

	struct sockaddr_in *sin = (struct sockaddr_in *)&result.addr;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&result.addr;
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		result.addr_len = sizeof(*sin);
		inet_ntop(AF_INET, &sin->sin_addr, printable, sizeof(printable));
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		result.addr_len = sizeof(*sin6);
		inet_ntop(AF_INET6, &sin6->sin6_addr, printable, sizeof(printable));
	} else {
		goto invalid;
	}
	snprintf(result.text, sizeof(result.text), "%s@%u", printable, (unsigned)port);
	*address = result;
	return DZ_OK;

invalid:
	return dz_error_set(err, DZ_EINVAL,
			    "invalid address '%s'; give an IPv4 or IPv6 address with an optional "
			    "port, as 192.0.2.1@53 or 2001:db8::1@53", text);
}

/* ---- lookups ---- */

const dz_config_zone_t *
dz_config_find_zone(const dz_config_t *config, const char *name)
{
	char normalized[DZ_DNAME_TEXT_MAX];

	if (dz_dname_normalize(name, 0, normalized, NULL) != DZ_OK)
		return NULL;
	for (size_t i = 0; i < config->zone_count; i++) {
		if (config->zones[i].name != NULL && strcmp(config->zones[i].name, normalized) == 0)
			return &config->zones[i];
	}
	return NULL;
}

const dz_config_policy_t *
dz_config_find_policy(const dz_config_t *config, const char *name)
{
	for (size_t i = 0; i < config->policy_count; i++) {
		if (strcmp(config->policies[i].policy.name, name) == 0)
			return &config->policies[i];
	}
	return NULL;
}

const dz_config_hsm_t *
dz_config_find_hsm(const dz_config_t *config, const char *name)
{
	for (size_t i = 0; i < config->hsm_count; i++) {
		if (strcmp(config->hsms[i].name, name) == 0)
			return &config->hsms[i];
	}
	return NULL;
}

const dz_config_tsig_t *
dz_config_find_tsig(const dz_config_t *config, const char *name)
{
	char normalized[DZ_DNAME_TEXT_MAX];

	if (dz_dname_normalize(name, 0, normalized, NULL) != DZ_OK)
		return NULL;
	for (size_t i = 0; i < config->tsig_count; i++) {
		if (config->tsigs[i].name != NULL && strcmp(config->tsigs[i].name, normalized) == 0)
			return &config->tsigs[i];
	}
	return NULL;
}

const dz_config_secondary_t *
dz_config_find_secondary(const dz_config_t *config, const char *name)
{
	for (size_t i = 0; i < config->secondary_count; i++) {
		if (strcmp(config->secondaries[i].name, name) == 0)
			return &config->secondaries[i];
	}
	return NULL;
}

const dz_config_hsm_t *
dz_config_default_hsm(const dz_config_t *config)
{
	if (config->hsm_count == 1)
		return &config->hsms[0];
	for (size_t i = 0; i < config->hsm_count; i++) {
		if (config->hsms[i].is_default)
			return &config->hsms[i];
	}
	return NULL;
}

/* ---- checks that the schema tables call ---- */

static char *
join_path(const char *dir, const char *name)
{
	size_t len = strlen(dir) + 1 + strlen(name) + 1;
	char *path = malloc(len);
	if (path != NULL)
		snprintf(path, len, "%s/%s", dir, name);
	return path;
}

static void
check_zone_hosts(dz_cfg_parser_t *parser, dz_config_zone_t *zone, const char *key)
{
	dz_config_mail_t *mail = &zone->mail;

	for (size_t i = 0; i < mail->host_count; i++) {
		dz_config_mail_host_t *host = &mail->hosts[i];
		char host_key[256];
		snprintf(host_key, sizeof(host_key), "%s.mail.hosts[%zu].name", key, i);
		if (host->name == NULL)
			continue;
		if (zone->name != NULL && !dz_dname_in_zone(host->name, zone->name))
			dz_cfg_error(parser, host->name_mark, host_key,
				     "host %s is not in zone %s; move the host to the zone that "
				     "contains its name", host->name, zone->name);
		for (size_t j = 0; j < i; j++) {
			const dz_config_mail_host_t *other = &mail->hosts[j];
			if (other->name == NULL || strcmp(other->name, host->name) != 0)
				continue;
			for (size_t p = 0; p < host->port_count; p++) {
				for (size_t q = 0; q < other->port_count; q++) {
					if (host->ports[p] == other->ports[q] &&
					    host->protocol == other->protocol)
						dz_cfg_error(parser, host->name_mark, host_key,
							     "host %s port %u is also configured at line "
							     "%u; list all its certificates in one entry",
							     host->name, host->ports[p], other->name_mark.line);
				}
			}
		}
	}
}

void
dz_config_zone_check(dz_cfg_parser_t *parser, void *object, dz_cfg_mark_t mark, const char *key)
{
	dz_config_zone_t *zone = object;
	dz_config_t *config = parser->root;
	char normalized[DZ_DNAME_TEXT_MAX];
	char child[256];
	dz_error_t err;

	(void)mark;
	dz_error_init(&err);
	snprintf(child, sizeof(child), "%s.name", key);
	if (zone->name != NULL) {
		if (dz_dname_normalize(zone->name, 0, normalized, &err) != DZ_OK) {
			dz_cfg_error(parser, zone->name_mark, child, "%s", dz_error_message(&err));
			free(zone->name);
			zone->name = NULL;
		} else {
			char *copy = strdup(normalized);
			if (copy == NULL) {
				dz_cfg_error(parser, zone->name_mark, child, "out of memory");
			} else {
				free(zone->name);
				zone->name = copy;
			}
		}
	}

	snprintf(child, sizeof(child), "%s.policy", key);
	if (zone->policy != NULL && strcmp(zone->policy, "default") != 0 &&
	    dz_config_find_policy(config, zone->policy) == NULL)
		dz_cfg_error(parser, zone->policy_mark, child,
			     "unknown policy '%s'; define it under policies", zone->policy);

	snprintf(child, sizeof(child), "%s.secondaries", key);
	for (size_t i = 0; i < zone->secondary_count; i++) {
		if (dz_config_find_secondary(config, zone->secondaries[i]) == NULL)
			dz_cfg_error(parser, zone->secondaries_mark, child,
				     "unknown secondary '%s'; define it under secondaries",
				     zone->secondaries[i]);
		for (size_t j = 0; j < i; j++) {
			if (strcmp(zone->secondaries[i], zone->secondaries[j]) == 0)
				dz_cfg_error(parser, zone->secondaries_mark, child,
					     "secondary '%s' is given twice", zone->secondaries[i]);
		}
	}

	if (zone->output == NULL && zone->name != NULL && config->server.state_dir != NULL) {
		char file[DZ_DNAME_TEXT_MAX + 16];
		snprintf(file, sizeof(file), "signed/%s.zone",
			 strcmp(zone->name, ".") == 0 ? "root" : zone->name);
		zone->output = join_path(config->server.state_dir, file);
		if (zone->output == NULL)
			dz_cfg_error(parser, zone->mark, key, "out of memory");
	}

	check_zone_hosts(parser, zone, key);
}

void
dz_config_root_check(dz_cfg_parser_t *parser, void *object, dz_cfg_mark_t mark, const char *key)
{
	dz_config_t *config = object;
	size_t defaults = 0;

	(void)key;
	for (size_t i = 0; i < config->zone_count; i++) {
		const dz_config_zone_t *zone = &config->zones[i];
		for (size_t j = 0; j < i && zone->name != NULL; j++) {
			if (config->zones[j].name != NULL && strcmp(config->zones[j].name, zone->name) == 0) {
				char zone_key[64];
				snprintf(zone_key, sizeof(zone_key), "zones[%zu].name", i);
				dz_cfg_error(parser, zone->name_mark, zone_key,
					     "zone %s is already configured at line %u; remove one of them",
					     zone->name, config->zones[j].name_mark.line);
			}
		}
	}

	for (size_t i = 0; i < config->hsm_count; i++) {
		if (config->hsms[i].is_default)
			defaults++;
	}
	if (defaults > 1)
		dz_cfg_error(parser, mark, "hsm", "%zu tokens are marked default; mark only one",
			     defaults);

	if (config->server.control_socket == NULL && config->server.state_dir != NULL) {
		config->server.control_socket = join_path(config->server.state_dir, "control.sock");
		if (config->server.control_socket == NULL)
			dz_cfg_error(parser, mark, "server", "out of memory");
	}

	if (dz_config_find_policy(config, "default") == NULL) {
		dz_config_policy_t *policies =
			realloc(config->policies, (config->policy_count + 1) * sizeof(*policies));
		if (policies == NULL) {
			dz_cfg_error(parser, mark, "policies", "out of memory");
			return;
		}
		config->policies = policies;
		dz_config_policy_t *builtin = &policies[config->policy_count];
		memset(builtin, 0, sizeof(*builtin));
		if (!dz_policy_init_defaults(&builtin->policy)) {
			dz_cfg_error(parser, mark, "policies", "out of memory");
			return;
		}
		builtin->builtin = true;
		config->policy_count++;
	}
}

/* ---- load and free ---- */

static char *
folder_of(const char *path)
{
	char *copy = strdup(path);
	char *result = NULL;

	if (copy == NULL)
		return NULL;
	char *dir = dirname(copy);
	if (dir[0] == '/') {
		result = strdup(dir);
	} else {
		char cwd[PATH_MAX];
		if (getcwd(cwd, sizeof(cwd)) != NULL)
			result = strcmp(dir, ".") == 0 ? strdup(cwd) : join_path(cwd, dir);
	}
	free(copy);
	return result;
}

/* Load from `data` (`len` bytes), or from the file at `path` when `data` is NULL. */
static dz_result_t
config_load(const char *path, const char *data, size_t len, dz_config_t **config,
	    dz_cfg_diags_t *diags, dz_error_t *err)
{
	dz_cfg_diags_t own_diags;
	dz_cfg_diags_t *report = diags != NULL ? diags : &own_diags;
	dz_cfg_parser_t parser;
	yaml_document_t document;
	bool have_document = false;
	dz_config_t *result = NULL;
	dz_result_t rc = DZ_OK;
	size_t errors_before;

	dz_cfg_diags_init(&own_diags);
	errors_before = report->errors;
	memset(&parser, 0, sizeof(parser));
	parser.file = path;
	parser.diags = report;

	result = calloc(1, sizeof(*result));
	parser.base_dir = folder_of(path);
	if (result == NULL || parser.base_dir == NULL) {
		rc = dz_error_set(err, DZ_ENOMEM, "out of memory");
		goto cleanup;
	}
	if (!dz_cfg_object_init(dz_config_schema(), result)) {
		free(result);
		result = NULL;
		rc = dz_error_set(err, DZ_ENOMEM, "out of memory");
		goto cleanup;
	}
	result->path = strdup(path);
	if (result->path == NULL) {
		rc = dz_error_set(err, DZ_ENOMEM, "out of memory");
		goto cleanup;
	}

	if (!dz_cfg_load_document(path, data, len, &document, report)) {
		rc = dz_error_set(err, DZ_ECONFIG, "%s", dz_cfg_diags_first_error(report));
		goto cleanup;
	}
	have_document = true;
	parser.document = &document;
	parser.root = result;
	dz_cfg_parse_mapping(&parser, dz_config_schema(), yaml_document_get_root_node(&document), "",
			     result);
	if (report->errors > errors_before) {
		rc = dz_error_set(err, DZ_ECONFIG, "%s", dz_cfg_diags_first_error(report));
		goto cleanup;
	}
	*config = result;
	result = NULL;

cleanup:
	if (have_document)
		yaml_document_delete(&document);
	dz_config_destroy(result);
	free(parser.base_dir);
	dz_cfg_diags_clear(&own_diags);
	return rc;
}

dz_result_t
dz_config_load(const char *path, dz_config_t **config, dz_cfg_diags_t *diags, dz_error_t *err)
{
	return config_load(path, NULL, 0, config, diags, err);
}

dz_result_t
dz_config_load_buffer(const char *data, size_t len, const char *path, dz_config_t **config,
		      dz_cfg_diags_t *diags, dz_error_t *err)
{
	return config_load(path, data, len, config, diags, err);
}

void
dz_config_destroy(dz_config_t *config)
{
	if (config == NULL)
		return;
	free(config->path);
	dz_cfg_object_clear(dz_config_schema(), config);
	free(config);
}

/* ---- reload ---- */

static bool objects_equal(const dz_cfg_schema_t *schema, const void *a, const void *b);

static bool
strings_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool
fields_equal(const dz_cfg_field_t *field, const void *a, const void *b)
{
	const char *pa = (const char *)a + field->offset;
	const char *pb = (const char *)b + field->offset;

	switch (field->type) {
	case DZ_CFG_STRING:
	case DZ_CFG_PATH:
	case DZ_CFG_COMMAND:
		return strings_equal(*(char *const *)(const void *)pa, *(char *const *)(const void *)pb);
	case DZ_CFG_BOOL:
		return *(const bool *)pa == *(const bool *)pb;
	case DZ_CFG_SECTION:
		return objects_equal(field->sub, pa, pb);
	case DZ_CFG_LIST:
	case DZ_CFG_SEQUENCE:
	case DZ_CFG_NAMED: {
		size_t na = *(const size_t *)(const void *)((const char *)a + field->count_offset);
		size_t nb = *(const size_t *)(const void *)((const char *)b + field->count_offset);
		const char *ia = *(char *const *)(const void *)pa;
		const char *ib = *(char *const *)(const void *)pb;
		if (na != nb)
			return false;
		for (size_t i = 0; i < na; i++) {
			if (field->type == DZ_CFG_LIST) {
				size_t size = field->elem_size;
				if (field->free_value == dz_cfg_free_string_elem) {
					if (!strings_equal(*(char *const *)(const void *)(ia + i * size),
							   *(char *const *)(const void *)(ib + i * size)))
						return false;
				} else if (memcmp(ia + i * size, ib + i * size, size) != 0) {
					return false;
				}
			} else if (!objects_equal(field->sub, ia + i * field->sub->struct_size,
						  ib + i * field->sub->struct_size)) {
				return false;
			}
		}
		return true;
	}
	case DZ_CFG_CUSTOM:
		/* Custom values own no pointers except TSIG secrets, compared by text. */
		if (field->free_value != NULL)
			return strings_equal(*(char *const *)(const void *)pa,
					     *(char *const *)(const void *)pb);
		return memcmp(pa, pb, field->size) == 0;
	default:
		return memcmp(pa, pb, field->size) == 0;
	}
}

static bool
objects_equal(const dz_cfg_schema_t *schema, const void *a, const void *b)
{
	if (schema->name_offset != DZ_CFG_NO_OFFSET &&
	    !strings_equal(*(char *const *)(const void *)((const char *)a + schema->name_offset),
			   *(char *const *)(const void *)((const char *)b + schema->name_offset)))
		return false;
	for (size_t i = 0; i < schema->field_count; i++) {
		if (!fields_equal(&schema->fields[i], a, b))
			return false;
	}
	return true;
}

static size_t
collect_restart_changes(const dz_cfg_schema_t *schema, const void *a, const void *b,
			const char *key, const char *file, dz_cfg_diags_t *diags)
{
	size_t changes = 0;
	dz_cfg_mark_t no_mark = { 0, 0 };

	for (size_t i = 0; i < schema->field_count; i++) {
		const dz_cfg_field_t *field = &schema->fields[i];
		char child[256];
		snprintf(child, sizeof(child), "%s%s%s", key, key[0] != '\0' ? "." : "", field->key);
		if (field->type == DZ_CFG_SECTION) {
			changes += collect_restart_changes(field->sub, (const char *)a + field->offset,
							   (const char *)b + field->offset, child, file,
							   diags);
		} else if (field->reload == DZ_CFG_RELOAD_RESTART && !fields_equal(field, a, b)) {
			dz_cfg_diag_add(diags, DZ_LOG_WARNING, file, no_mark, child,
					"changed, but a reload cannot apply it; restart the daemon "
					"to use the new value");
			changes++;
		}
	}
	return changes;
}

size_t
dz_config_restart_changes(const dz_config_t *old_config, const dz_config_t *new_config,
			  dz_cfg_diags_t *diags)
{
	return collect_restart_changes(dz_config_schema(), old_config, new_config, "",
				       new_config->path, diags);
}

/* ---- man page ---- */

static const char man_head[] =
	"'\\\" t\n"
	".\\\" Generated by 'danezone config-schema --man' from zones/conf_schema.c.\n"
	".\\\" Do not edit; change the schema and regenerate.\n"
	".TH DANEZONE.YAML 5 \"\" \"danezone\" \"File Formats\"\n"
	".SH NAME\n"
	"danezone.yaml \\- configuration of the danezone DNSSEC signer\n"
	".SH SYNOPSIS\n"
	".I SYSCONFDIR/danezone/danezone.yaml\n"
	".SH DESCRIPTION\n"
	"One YAML file describes the whole service: the daemon, the PKCS#11 tokens, the DNSSEC\n"
	"policies, the TSIG keys, the secondaries and the zones with their mail records.\n"
	".B danezone check\\-config\n"
	"reads it and reports every error with file, line and column, without changing anything.\n"
	".PP\n"
	"The file is strict: an unknown key, a value of the wrong type or out of range, a\n"
	"reference to an undefined name, a duplicate zone, a mail host outside its zone and a\n"
	"missing file are errors.\n"
	"When the daemon reloads, it parses the file into a new configuration and keeps the old\n"
	"one if the new one has errors.\n"
	"Keys marked restart in the tables keep their old value until the daemon restarts.\n"
	".SS Values\n"
	".TP\n"
	".B duration\n"
	"Seconds (3600), units s, m, h, d and w in decreasing order (1d12h), or ISO 8601 (P1DT12H).\n"
	"Years and months are rejected because their length varies.\n"
	".TP\n"
	".B TTL\n"
	"A duration of at most 2147483647 seconds (RFC 2181).\n"
	".TP\n"
	".B size\n"
	"Bytes, with an optional suffix k, M or G (powers of 1024).\n"
	".TP\n"
	".B address\n"
	"An IPv4 or IPv6 address with an optional port: 192.0.2.1, 192.0.2.1@53, 2001:db8::1@53\n"
	"or [2001:db8::1]:53.\n"
	".TP\n"
	".B path\n"
	"A relative path is taken from the folder of the configuration file.\n"
	".TP\n"
	".B list\n"
	"A YAML sequence; a single value stands for a list of one.\n"
	".TP\n"
	".B command\n"
	"A command line run by /bin/sh with the environment variables the key describes.\n"
	".SH KEYS\n"
	".ad l\n"
	".nh\n";

static const char man_tail[] =
	".SH EXAMPLE\n"
	"A complete, commented example for a mail domain is installed as\n"
	".IR examples/danezone.yaml .\n"
	".SH SEE ALSO\n"
	".BR danezone (8),\n"
	".BR danezoned (8)\n"
	".PP\n"
	"RFC 6698, RFC 7671 and RFC 7672 (TLSA and DANE for SMTP), RFC 8162 (SMIMEA),\n"
	"RFC 7929 (OPENPGPKEY), RFC 7583 (DNSSEC key rollover timing).\n";

void
dz_config_write_man(FILE *out)
{
	fputs(man_head, out);
	dz_cfg_write_man(out, dz_config_schema(), "");
	fputs(man_tail, out);
}
