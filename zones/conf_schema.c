/*
 * conf_schema.c -- the one description of every configuration key.
 *
 * Each section is a table of dz_cfg_field_t; zones/schema.c parses YAML by
 * these tables and writes the man page from them.  Defaults are set by the
 * init functions here (and dz_policy_init_defaults() for policies).  Checks
 * that involve several keys or other sections run in the check functions.
 * Sections are parsed in table order, so a check may look up sections that
 * come earlier in the root table.  Zones refer to policies, secondaries and
 * TSIG keys, secondaries to TSIG keys, and policies to HSM tokens.
 */
#include "config.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "common/duration.h"
#include "common/file.h"
#include "common/mem.h"
#include "zones/conf.h"
#include "zones/conf_internal.h"
#include "zones/dname.h"

#define F(k, t, s, m) .key = (k), .type = (t), .offset = offsetof(s, m), .size = sizeof(((s *)0)->m)
#define COUNT(s, m) .count_offset = offsetof(s, m)
#define MARK(s, m) .mark_offset = offsetof(s, m)

/* RFC 2181 section 8: a TTL is at most 2^31 - 1 seconds. */
#define TTL_MAX INT32_MAX

static const dz_cfg_enum_value_t log_targets[] = {
	{ "stderr", DZ_LOG_TARGET_STDERR },
	{ "syslog", DZ_LOG_TARGET_SYSLOG },
	{ NULL, 0 },
};

static const dz_cfg_enum_value_t log_levels[] = {
	{ "error", DZ_LOG_ERROR },
	{ "warning", DZ_LOG_WARNING },
	{ "notice", DZ_LOG_NOTICE },
	{ "info", DZ_LOG_INFO },
	{ "debug", DZ_LOG_DEBUG },
	{ NULL, 0 },
};

static const dz_cfg_enum_value_t tsig_algorithms[] = {
	{ "hmac-sha256", DZ_TSIG_HMAC_SHA256 },
	{ "hmac-sha384", DZ_TSIG_HMAC_SHA384 },
	{ "hmac-sha512", DZ_TSIG_HMAC_SHA512 },
	{ NULL, 0 },
};

static const dz_cfg_enum_value_t key_roles[] = {
	{ "ksk", DZ_ROLE_KSK },
	{ "zsk", DZ_ROLE_ZSK },
	{ "csk", DZ_ROLE_CSK },
	{ NULL, 0 },
};

static const dz_cfg_enum_value_t ksk_rollovers[] = {
	{ "double-ksk", DZ_KSK_DOUBLE_KSK },
	{ "double-ds", DZ_KSK_DOUBLE_DS },
	{ "double-rrset", DZ_KSK_DOUBLE_RRSET },
	{ NULL, 0 },
};

static const dz_cfg_enum_value_t zsk_rollovers[] = {
	{ "pre-publish", DZ_ZSK_PREPUBLISH },
	{ "double-rrsig", DZ_ZSK_DOUBLE_RRSIG },
	{ NULL, 0 },
};

static const dz_cfg_enum_value_t denials[] = {
	{ "nsec", DZ_DENIAL_NSEC },
	{ "nsec3", DZ_DENIAL_NSEC3 },
	{ NULL, 0 },
};

static const dz_cfg_enum_value_t ds_observations[] = {
	{ "operator", DZ_DS_OBSERVE_OPERATOR },
	{ "parent", DZ_DS_OBSERVE_PARENT },
	{ NULL, 0 },
};

static const dz_cfg_enum_value_t serial_policies[] = {
	{ "keep", DZ_SERIAL_KEEP },
	{ "increment", DZ_SERIAL_INCREMENT },
	{ "unixtime", DZ_SERIAL_UNIXTIME },
	{ "datecounter", DZ_SERIAL_DATECOUNTER },
	{ NULL, 0 },
};

static const dz_cfg_enum_value_t protocols[] = {
	{ "tcp", DZ_PROTO_TCP },
	{ "udp", DZ_PROTO_UDP },
	{ "sctp", DZ_PROTO_SCTP },
	{ NULL, 0 },
};

static dz_config_t *
root_of(dz_cfg_parser_t *parser)
{
	return parser->root;
}

/* ---- element parsers and formatters for lists ---- */

static bool
parse_address_with_port(dz_cfg_parser_t *parser, const char *text, dz_cfg_mark_t mark,
			const char *key, void *elem, uint16_t default_port)
{
	dz_error_t err;

	dz_error_init(&err);
	if (dz_config_address_parse(text, default_port, elem, &err) != DZ_OK)
		return dz_cfg_error(parser, mark, key, "%s", dz_error_message(&err));
	return true;
}

static bool
parse_dns_address(dz_cfg_parser_t *parser, const char *text, dz_cfg_mark_t mark, const char *key,
		  void *elem)
{
	return parse_address_with_port(parser, text, mark, key, elem, 53);
}

static bool
parse_listen_address(dz_cfg_parser_t *parser, const char *text, dz_cfg_mark_t mark,
		     const char *key, void *elem)
{
	return parse_address_with_port(parser, text, mark, key, elem, DZ_CONFIG_DEFAULT_DNS_PORT);
}

static void
format_address(const void *elem, char *buf, size_t size)
{
	const dz_config_address_t *address = elem;
	snprintf(buf, size, "%s", address->text);
}

/* An address prefix "ADDRESS[/LENGTH]", kept as text for the server's access list. */
static bool
parse_prefix(dz_cfg_parser_t *parser, const char *text, dz_cfg_mark_t mark, const char *key,
	     void *elem)
{
	char address[INET6_ADDRSTRLEN + 1];
	uint8_t raw[16];
	const char *slash = strchr(text, '/');
	size_t len = slash != NULL ? (size_t)(slash - text) : strlen(text);
	int family = memchr(text, ':', len) != NULL ? AF_INET6 : AF_INET;
	unsigned long max = family == AF_INET ? 32 : 128;

	if (len == 0 || len >= sizeof(address))
		return dz_cfg_error(parser, mark, key,
				    "invalid address prefix '%s'; write ADDRESS or ADDRESS/LENGTH, "
				    "for example 192.0.2.0/24 or 2001:db8::/32",
				    text);
	memcpy(address, text, len);
	address[len] = '\0';
	if (inet_pton(family, address, raw) != 1)
		return dz_cfg_error(parser, mark, key,
				    "invalid address '%s'; write an IPv4 or IPv6 address, with "
				    "/LENGTH for a prefix",
				    text);
	if (slash != NULL) {
		char *end = NULL;
		unsigned long length = strtoul(slash + 1, &end, 10);
		if (slash[1] < '0' || slash[1] > '9' || *end != '\0' || length > max)
			return dz_cfg_error(parser, mark, key,
					    "invalid prefix length in '%s'; give 0 to %lu", text, max);
	}
	return dz_cfg_parse_string_elem(parser, text, mark, key, elem);
}

static bool
parse_port(dz_cfg_parser_t *parser, const char *text, dz_cfg_mark_t mark, const char *key,
	   void *elem)
{
	char *end;
	unsigned long port = strtoul(text, &end, 10);

	if (text[0] < '0' || text[0] > '9' || *end != '\0' || port == 0 || port > 65535)
		return dz_cfg_error(parser, mark, key,
				    "invalid port '%s'; give a number from 1 to 65535", text);
	*(uint16_t *)elem = (uint16_t)port;
	return true;
}

static void
format_port(const void *elem, char *buf, size_t size)
{
	snprintf(buf, size, "%u", (unsigned)*(const uint16_t *)elem);
}

bool
dz_tlsa_params_parse(const char *text, dz_tlsa_params_t *params)
{
	unsigned values[3];
	const char *p = text;

	for (int i = 0; i < 3; i++) {
		char *end;
		while (*p == ' ')
			p++;
		if (*p < '0' || *p > '9')
			return false;
		unsigned long v = strtoul(p, &end, 10);
		if (v > 255)
			return false;
		values[i] = (unsigned)v;
		p = end;
		if (i < 2 && *p != ' ')
			return false;
	}
	while (*p == ' ')
		p++;
	if (*p != '\0')
		return false;
	params->usage = (uint8_t)values[0];
	params->selector = (uint8_t)values[1];
	params->matching = (uint8_t)values[2];
	return true;
}

static bool
parse_tlsa_params(dz_cfg_parser_t *parser, const char *text, dz_cfg_mark_t mark, const char *key,
		  void *elem)
{
	dz_tlsa_params_t *params = elem;

	if (!dz_tlsa_params_parse(text, params))
		return dz_cfg_error(parser, mark, key,
				    "invalid record parameters '%s'; write usage, selector and "
				    "matching type as three numbers, as \"3 1 1\"", text);
	if (params->usage > 3 || params->selector > 1 || params->matching > 2)
		return dz_cfg_error(parser, mark, key,
				    "'%s' uses an unassigned value; usage is 0 to 3, selector 0 or 1, "
				    "matching type 0 to 2 (RFC 6698 section 7)", text);
	return true;
}

static void
format_tlsa_params(const void *elem, char *buf, size_t size)
{
	const dz_tlsa_params_t *params = elem;
	snprintf(buf, size, "%u %u %u", params->usage, params->selector, params->matching);
}

static bool
parse_smimea_params(dz_cfg_parser_t *parser, yaml_node_t *node, const char *key, void *storage)
{
	if (node->type != YAML_SCALAR_NODE)
		return dz_cfg_error(parser, dz_cfg_node_mark(node), key,
				    "expected three numbers, as \"3 0 0\"");
	return parse_tlsa_params(parser, (const char *)node->data.scalar.value,
				 dz_cfg_node_mark(node), key, storage);
}

/* ---- policy value parsers ---- */

static bool
parse_algorithm(dz_cfg_parser_t *parser, yaml_node_t *node, const char *key, void *storage)
{
	dz_cfg_mark_t mark = dz_cfg_node_mark(node);

	if (node->type != YAML_SCALAR_NODE ||
	    !dz_algorithm_parse((const char *)node->data.scalar.value, storage))
		return dz_cfg_error(parser, mark, key,
				    "unknown DNSSEC algorithm; use RSASHA256, RSASHA512, "
				    "ECDSAP256SHA256, ECDSAP384SHA384, ED25519 or ED448 (or its number)");
	return true;
}

static void
format_algorithm(const void *storage, char *buf, size_t size)
{
	const char *name = dz_algorithm_name(*(const uint8_t *)storage);
	snprintf(buf, size, "%s", name != NULL ? name : "none");
}

static bool
parse_salt(dz_cfg_parser_t *parser, yaml_node_t *node, const char *key, void *storage)
{
	dz_policy_t *policy = (dz_policy_t *)(void *)((char *)storage - offsetof(dz_policy_t, nsec3_salt));
	dz_cfg_mark_t mark = dz_cfg_node_mark(node);
	const char *text;

	if (node->type != YAML_SCALAR_NODE)
		return dz_cfg_error(parser, mark, key, "expected a hex string or \"-\"");
	text = (const char *)node->data.scalar.value;
	if (strcmp(text, "-") == 0 || text[0] == '\0') {
		policy->nsec3_salt_len = 0;
		return true;
	}
	long len = dz_hex_decode(text, strlen(text), policy->nsec3_salt, sizeof(policy->nsec3_salt));
	if (len < 0)
		return dz_cfg_error(parser, mark, key,
				    "invalid salt '%s'; give up to 255 octets in hex, or \"-\" for none",
				    text);
	policy->nsec3_salt_len = (uint8_t)len;
	if (len > 0)
		dz_cfg_warning(parser, mark, key,
			       "RFC 9276 section 3.1 advises against a salt; use \"-\"");
	return true;
}

static void
format_salt(const void *storage, char *buf, size_t size)
{
	const dz_policy_t *policy =
		(const dz_policy_t *)(const void *)((const char *)storage - offsetof(dz_policy_t, nsec3_salt));
	char hex[2 * DZ_NSEC3_SALT_MAX + 1];

	if (policy->nsec3_salt_len == 0) {
		snprintf(buf, size, "-");
		return;
	}
	dz_hex_encode(policy->nsec3_salt, policy->nsec3_salt_len, hex);
	snprintf(buf, size, "%s", hex);
}

static bool
parse_digest_name(const char *text, uint8_t *digest)
{
	if (strcasecmp(text, "sha256") == 0 || strcasecmp(text, "sha-256") == 0 ||
	    strcmp(text, "2") == 0)
		*digest = DZ_DIGEST_SHA256;
	else if (strcasecmp(text, "sha384") == 0 || strcasecmp(text, "sha-384") == 0 ||
		 strcmp(text, "4") == 0)
		*digest = DZ_DIGEST_SHA384;
	else
		return false;
	return true;
}

static bool
parse_digests(dz_cfg_parser_t *parser, yaml_node_t *node, const char *key, void *storage)
{
	dz_policy_t *policy =
		(dz_policy_t *)(void *)((char *)storage - offsetof(dz_policy_t, cds_digest_types));
	dz_cfg_mark_t mark = dz_cfg_node_mark(node);
	uint8_t digests[DZ_POLICY_MAX_DIGESTS];
	size_t count = 0;
	size_t n;

	if (node->type == YAML_SCALAR_NODE)
		n = 1;
	else if (node->type == YAML_SEQUENCE_NODE)
		n = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
	else
		return dz_cfg_error(parser, mark, key, "expected a list of digest types");
	if (n == 0 || n > DZ_POLICY_MAX_DIGESTS)
		return dz_cfg_error(parser, mark, key, "give 1 or 2 digest types (sha256, sha384)");
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item = node->type == YAML_SCALAR_NODE
			? node
			: yaml_document_get_node(parser->document, node->data.sequence.items.start[i]);
		uint8_t digest;
		if (item->type != YAML_SCALAR_NODE ||
		    !parse_digest_name((const char *)item->data.scalar.value, &digest))
			return dz_cfg_error(parser, dz_cfg_node_mark(item), key,
					    "unknown digest type; use sha256 (2) or sha384 (4); "
					    "SHA-1 (1) is not allowed by RFC 8624");
		for (size_t j = 0; j < count; j++) {
			if (digests[j] == digest)
				return dz_cfg_error(parser, dz_cfg_node_mark(item), key,
						    "digest type given twice");
		}
		digests[count++] = digest;
	}
	memcpy(policy->cds_digest_types, digests, count);
	policy->cds_digest_count = count;
	return true;
}

static void
format_digests(const void *storage, char *buf, size_t size)
{
	const dz_policy_t *policy = (const dz_policy_t *)(const void *)((const char *)storage -
									 offsetof(dz_policy_t, cds_digest_types));
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < policy->cds_digest_count; i++) {
		int n = snprintf(buf + used, size - used, "%s%s", i > 0 ? ", " : "",
				 policy->cds_digest_types[i] == DZ_DIGEST_SHA384 ? "sha384" : "sha256");
		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
	}
}

/* ---- TSIG secrets ---- */

/* Decode base64 text (whitespace ignored) into a new buffer; false when invalid. */
static bool
decode_base64(const char *text, uint8_t **out, size_t *out_len)
{
	size_t len = strlen(text);
	char *clean = malloc(len + 1);
	uint8_t *data = NULL;
	size_t n = 0;

	if (clean == NULL)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (text[i] != ' ' && text[i] != '\n' && text[i] != '\r' && text[i] != '\t')
			clean[n++] = text[i];
	}
	clean[n] = '\0';
	if (n == 0 || n % 4 != 0)
		goto fail;
	data = malloc(n / 4 * 3);
	if (data == NULL)
		goto fail;
	int decoded = EVP_DecodeBlock(data, (const unsigned char *)clean, (int)n);
	if (decoded < 0)
		goto fail;
	/* EVP_DecodeBlock counts the padding as data. */
	size_t padding = (clean[n - 1] == '=') + (clean[n - 2] == '=');
	dz_secure_zero(clean, n);
	free(clean);
	*out = data;
	*out_len = (size_t)decoded - padding;
	return true;

fail:
	dz_secure_zero(clean, n);
	free(clean);
	free(data);
	return false;
}

static bool
parse_tsig_secret(dz_cfg_parser_t *parser, yaml_node_t *node, const char *key, void *storage)
{
	char **secret = storage;

	if (node->type != YAML_SCALAR_NODE || node->data.scalar.length == 0)
		return dz_cfg_error(parser, dz_cfg_node_mark(node), key,
				    "expected the secret in base64, as tsig-keygen prints it");
	free(*secret);
	*secret = strdup((const char *)node->data.scalar.value);
	if (*secret == NULL)
		return dz_cfg_error(parser, dz_cfg_node_mark(node), key, "out of memory");
	return true;
}

static void
free_secret_text(void *storage)
{
	char **secret = storage;
	if (*secret != NULL) {
		dz_secure_zero(*secret, strlen(*secret));
		free(*secret);
		*secret = NULL;
	}
}

static void
format_secret(const void *storage, char *buf, size_t size)
{
	(void)storage;
	snprintf(buf, size, "none");
}

/* ---- server ---- */

static bool
server_init(void *object)
{
	dz_config_server_t *server = object;

	server->state_dir = strdup(DZ_LOCALSTATEDIR "/lib/danezone");
	server->listen = calloc(1, sizeof(*server->listen));
	if (server->state_dir == NULL || server->listen == NULL)
		return false;
	dz_config_address_parse("127.0.0.1", DZ_CONFIG_DEFAULT_DNS_PORT, &server->listen[0], NULL);
	server->listen_count = 1;
	server->control_mode = 0660;
	server->log_target = DZ_LOG_TARGET_STDERR;
	server->log_level = DZ_LOG_NOTICE;
	server->tcp_max_connections = 100;
	server->tcp_idle_timeout = 10;
	server->journal_max_size = 64 * 1024 * 1024;
	server->signer_processes = 1;
	return true;
}

static void
server_check(dz_cfg_parser_t *parser, void *object, dz_cfg_mark_t mark, const char *key)
{
	dz_config_server_t *server = object;

	if (server->group != NULL && server->user == NULL)
		dz_cfg_error(parser, mark, key, "group is set without user; set user too or remove group");
	if (server->dns_user != NULL && server->user == NULL)
		dz_cfg_error(parser, mark, key,
			     "dns-user is set without user; set user too, so that the daemon does not "
			     "keep root while its DNS server process drops it");
	for (size_t i = 0; i < server->listen_count; i++) {
		for (size_t j = 0; j < i; j++) {
			if (strcmp(server->listen[i].text, server->listen[j].text) == 0)
				dz_cfg_error(parser, mark, key, "listen address %s is given twice",
					     server->listen[i].text);
		}
	}
}

static const dz_cfg_field_t server_fields[] = {
	{ F("state-dir", DZ_CFG_PATH, dz_config_server_t, state_dir),
	  .reload = DZ_CFG_RELOAD_RESTART, .default_doc = "LOCALSTATEDIR/lib/danezone",
	  .doc = "Folder for key state, journals, signed zones and record rollover state. "
		 "The daemon creates it if it is missing." },
	{ F("listen", DZ_CFG_LIST, dz_config_server_t, listen), COUNT(dz_config_server_t, listen_count),
	  .elem_size = sizeof(dz_config_address_t), .min = 1, .max = 16,
	  .parse_scalar = parse_listen_address, .format = format_address,
	  .reload = DZ_CFG_RELOAD_RESTART, .type_doc = "address list",
	  .doc = "Addresses of the DNS server that serves the signed zones to the secondaries "
		 "(SOA, AXFR, IXFR). Without a port, port 5353 is used, because a hidden primary "
		 "usually runs beside a public server on port 53." },
	{ F("control-socket", DZ_CFG_PATH, dz_config_server_t, control_socket),
	  .reload = DZ_CFG_RELOAD_RESTART, .default_doc = "STATE-DIR/control.sock",
	  .doc = "UNIX socket on which the daemon takes commands from danezone(8)." },
	{ F("control-mode", DZ_CFG_MODE, dz_config_server_t, control_mode), .min = 0, .max = 0777,
	  .reload = DZ_CFG_RELOAD_RESTART,
	  .doc = "Permissions of the control socket; who may connect may reload, sign and roll keys." },
	{ F("user", DZ_CFG_STRING, dz_config_server_t, user), .reload = DZ_CFG_RELOAD_RESTART,
	  .doc = "User the daemon switches to after it has opened its sockets and files. "
		 "Without it the daemon keeps the user it was started as." },
	{ F("group", DZ_CFG_STRING, dz_config_server_t, group), .reload = DZ_CFG_RELOAD_RESTART,
	  .default_doc = "the user's group", .doc = "Group the daemon switches to." },
	{ F("dns-user", DZ_CFG_STRING, dz_config_server_t, dns_user), .reload = DZ_CFG_RELOAD_RESTART,
	  .default_doc = "none",
	  .doc = "User of the DNS server process, the one process that reads queries and transfer "
		 "requests from the network. Give it a user of its own, which may read the published "
		 "zone files but not the key state or the token. Without it, the DNS server process "
		 "runs as the daemon's user (server.user)." },
	{ F("chroot", DZ_CFG_PATH, dz_config_server_t, chroot), .reload = DZ_CFG_RELOAD_RESTART,
	  .default_doc = "none",
	  .doc = "Folder that the DNS server process is confined to with chroot(2) before it drops "
		 "root. Every zone's output folder must lie below it." },
	{ F("allow-root", DZ_CFG_BOOL, dz_config_server_t, allow_root),
	  .reload = DZ_CFG_RELOAD_RESTART,
	  .doc = "Permit the daemon and its processes to keep running as root after start-up. "
		 "Without it, a daemon started as root refuses to go on when server.user (or "
		 "server.dns-user for the DNS server process) is not set." },
	{ F("signer-processes", DZ_CFG_UINT, dz_config_server_t, signer_processes), .min = 1,
	  .max = 64, .reload = DZ_CFG_RELOAD_RESTART,
	  .doc = "Processes that log in to the token and make signatures. They are the only "
		 "processes with a token session; more of them sign in parallel when the PKCS#11 "
		 "module serialises the requests of one process." },
	{ F("pidfile", DZ_CFG_PATH, dz_config_server_t, pidfile), .reload = DZ_CFG_RELOAD_RESTART,
	  .doc = "File that receives the daemon's process ID." },
	{ F("log-target", DZ_CFG_ENUM, dz_config_server_t, log_target), .values = log_targets,
	  .reload = DZ_CFG_RELOAD_APPLY, .doc = "Where the daemon logs." },
	{ F("log-level", DZ_CFG_ENUM, dz_config_server_t, log_level), .values = log_levels,
	  .reload = DZ_CFG_RELOAD_APPLY, .doc = "Most verbose level that is logged." },
	{ F("tcp-max-connections", DZ_CFG_UINT, dz_config_server_t, tcp_max_connections), .min = 1,
	  .max = 65535, .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "Maximum number of TCP connections served at once; the server closes further "
		 "connections at once and logs it (rate-limited)." },
	{ F("tcp-idle-timeout", DZ_CFG_DURATION, dz_config_server_t, tcp_idle_timeout), .min = 1,
	  .max = 3600, .unit_doc = "seconds", .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "A TCP connection that sends nothing for this long is closed." },
	{ F("journal-max-size", DZ_CFG_BYTES, dz_config_server_t, journal_max_size),
	  .min = 64 * 1024, .max = (int64_t)1 << 40, .unit_doc = "bytes", .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "Bound of the IXFR journal of each zone; the oldest changes are dropped first, "
		 "and a secondary that needs them falls back to AXFR." },
	{ F("allow-query", DZ_CFG_LIST, dz_config_server_t, allow_query),
	  COUNT(dz_config_server_t, allow_query_count), .elem_size = sizeof(char *), .max = 256,
	  .parse_scalar = parse_prefix, .free_value = dz_cfg_free_string_elem,
	  .format = dz_cfg_format_string_elem, .reload = DZ_CFG_RELOAD_APPLY,
	  .type_doc = "prefix list", .default_doc = "none",
	  .doc = "Address prefixes (ADDRESS or ADDRESS/LENGTH) that may send queries, such as "
		 "SOA, to the DNS server, besides each zone's secondaries. A hidden primary "
		 "answers queries only from its secondaries by default, so add 127.0.0.1 and ::1 "
		 "here to query it from the same host. Transfers follow the secondaries' "
		 "allow-transfer and TSIG settings instead." },
};

static const dz_cfg_schema_t server_schema = {
	.name = "server",
	.doc = "Settings of the daemon process.",
	.fields = server_fields,
	.field_count = DZ_ARRAY_SIZE(server_fields),
	.struct_size = sizeof(dz_config_server_t),
	.name_offset = DZ_CFG_NO_OFFSET,
	.mark_offset = DZ_CFG_NO_OFFSET,
	.init = server_init,
	.check = server_check,
};

/* ---- hsm ---- */

static bool
hsm_init(void *object)
{
	dz_config_hsm_t *hsm = object;
	hsm->module = strdup(DZ_DEFAULT_PKCS11_MODULE);
	return hsm->module != NULL;
}

static void
hsm_check(dz_cfg_parser_t *parser, void *object, dz_cfg_mark_t mark, const char *key)
{
	dz_config_hsm_t *hsm = object;

	if ((hsm->token_label == NULL) == (hsm->token_uri == NULL))
		dz_cfg_error(parser, mark, key,
			     "give exactly one of token-label and token-uri to select the token");
	if (hsm->token_uri != NULL && strncmp(hsm->token_uri, "pkcs11:", 7) != 0)
		dz_cfg_error(parser, mark, key,
			     "token-uri '%s' is not a PKCS#11 URI; it starts with \"pkcs11:\" (RFC 7512)",
			     hsm->token_uri);
}

static const dz_cfg_field_t hsm_fields[] = {
	{ F("module", DZ_CFG_PATH, dz_config_hsm_t, module), .flags = DZ_CFG_FILE,
	  .reload = DZ_CFG_RELOAD_RESTART, .default_doc = "the SoftHSM2 module found by configure",
	  .doc = "PKCS#11 module (shared library) of the token." },
	{ F("token-label", DZ_CFG_STRING, dz_config_hsm_t, token_label),
	  .reload = DZ_CFG_RELOAD_RESTART, .doc = "Label of the token, as softhsm2-util --show-slots "
					     "prints it." },
	{ F("token-uri", DZ_CFG_STRING, dz_config_hsm_t, token_uri), .reload = DZ_CFG_RELOAD_RESTART,
	  .doc = "RFC 7512 URI that selects the token, such as \"pkcs11:token=dnssec\"; "
		 "instead of token-label." },
	{ F("pin-file", DZ_CFG_PATH, dz_config_hsm_t, pin_file),
	  .flags = DZ_CFG_REQUIRED | DZ_CFG_FILE | DZ_CFG_PRIVATE, .reload = DZ_CFG_RELOAD_RESTART,
	  .doc = "File with the user PIN on its first line. It must be a regular file that group "
		 "and others cannot read or write." },
	{ F("default", DZ_CFG_BOOL, dz_config_hsm_t, is_default), .reload = DZ_CFG_RELOAD_RESTART,
	  .doc = "Keys of policies that name no token are made in this token. With one token "
		 "configured, that token is the default." },
};

static const dz_cfg_schema_t hsm_schema = {
	.name = "hsm.NAME",
	.doc = "PKCS#11 tokens that hold the DNSSEC private keys, by a name that policies use.",
	.fields = hsm_fields,
	.field_count = DZ_ARRAY_SIZE(hsm_fields),
	.struct_size = sizeof(dz_config_hsm_t),
	.name_offset = offsetof(dz_config_hsm_t, name),
	.mark_offset = offsetof(dz_config_hsm_t, mark),
	.init = hsm_init,
	.check = hsm_check,
};

/* ---- tsig ---- */

static size_t
tsig_digest_size(dz_tsig_algorithm_t algorithm)
{
	switch (algorithm) {
	case DZ_TSIG_HMAC_SHA384:
		return 48;
	case DZ_TSIG_HMAC_SHA512:
		return 64;
	default:
		return 32;
	}
}

static void
tsig_check(dz_cfg_parser_t *parser, void *object, dz_cfg_mark_t mark, const char *key)
{
	dz_config_tsig_t *tsig = object;
	char normalized[DZ_DNAME_TEXT_MAX];
	char *file_text = NULL;
	size_t file_len = 0;
	dz_error_t err;

	dz_error_init(&err);
	if (tsig->name != NULL) {
		if (dz_dname_normalize(tsig->name, 0, normalized, &err) != DZ_OK) {
			dz_cfg_error(parser, mark, key, "TSIG key name: %s", dz_error_message(&err));
		} else {
			char *copy = strdup(normalized);
			if (copy != NULL) {
				free(tsig->name);
				tsig->name = copy;
			}
		}
	}
	if ((tsig->secret_base64 == NULL) == (tsig->secret_file == NULL)) {
		dz_cfg_error(parser, mark, key, "give exactly one of secret and secret-file");
		return;
	}
	if (tsig->secret_file != NULL) {
		if (dz_file_read_all(tsig->secret_file, 4096, &file_text, &file_len, &err) != DZ_OK) {
			dz_cfg_error(parser, mark, key, "%s", dz_error_message(&err));
			return;
		}
		tsig->secret_base64 = file_text;
	}
	if (!decode_base64(tsig->secret_base64, &tsig->secret, &tsig->secret_len) ||
	    tsig->secret_len == 0) {
		dz_cfg_error(parser, mark, key,
			     "the secret%s%s is not valid base64; generate one with tsig-keygen",
			     tsig->secret_file != NULL ? " in " : "",
			     tsig->secret_file != NULL ? tsig->secret_file : "");
		return;
	}
	if (tsig->secret_len > DZ_TSIG_SECRET_MAX) {
		dz_cfg_error(parser, mark, key, "the secret has %zu octets; give at most %d",
			     tsig->secret_len, DZ_TSIG_SECRET_MAX);
		return;
	}
	/* RFC 2104 section 3: keys shorter than the hash output weaken the MAC. */
	if (tsig->secret_len < tsig_digest_size(tsig->algorithm))
		dz_cfg_warning(parser, mark, key,
			       "the secret has %zu octets, fewer than the %zu of the hash output; "
			       "generate a longer one with tsig-keygen",
			       tsig->secret_len, tsig_digest_size(tsig->algorithm));
}

static void
tsig_free_secret(void *storage)
{
	dz_config_tsig_t *tsig =
		(dz_config_tsig_t *)(void *)((char *)storage - offsetof(dz_config_tsig_t, secret_base64));
	if (tsig->secret != NULL) {
		dz_secure_zero(tsig->secret, tsig->secret_len);
		free(tsig->secret);
		tsig->secret = NULL;
		tsig->secret_len = 0;
	}
	free_secret_text(storage);
}

static const dz_cfg_field_t tsig_fields[] = {
	{ F("algorithm", DZ_CFG_ENUM, dz_config_tsig_t, algorithm), .values = tsig_algorithms,
	  .reload = DZ_CFG_RELOAD_APPLY, .doc = "HMAC algorithm of the key (RFC 8945)." },
	{ F("secret", DZ_CFG_CUSTOM, dz_config_tsig_t, secret_base64), .parse_node = parse_tsig_secret,
	  .free_value = tsig_free_secret, .format = format_secret, .reload = DZ_CFG_RELOAD_APPLY,
	  .type_doc = "base64",
	  .doc = "The shared secret in base64. Prefer secret-file, which keeps the secret out of "
		 "this file." },
	{ F("secret-file", DZ_CFG_PATH, dz_config_tsig_t, secret_file),
	  .flags = DZ_CFG_FILE | DZ_CFG_PRIVATE, .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "File that contains only the secret in base64. It must be a regular file that "
		 "group and others cannot read or write." },
};

static const dz_cfg_schema_t tsig_schema = {
	.name = "tsig.NAME",
	.doc = "TSIG keys (RFC 8945) by key name, for zone transfers, NOTIFY and queries to the "
	       "parent. The name is the key name sent on the wire.",
	.fields = tsig_fields,
	.field_count = DZ_ARRAY_SIZE(tsig_fields),
	.struct_size = sizeof(dz_config_tsig_t),
	.name_offset = offsetof(dz_config_tsig_t, name),
	.mark_offset = offsetof(dz_config_tsig_t, mark),
	.check = tsig_check,
};

/* ---- secondaries ---- */

static bool
secondary_init(void *object)
{
	dz_config_secondary_t *secondary = object;
	secondary->notify = true;
	secondary->allow_transfer = true;
	return true;
}

static void
check_tsig_reference(dz_cfg_parser_t *parser, const char *name, dz_cfg_mark_t mark,
		     const char *key)
{
	char normalized[DZ_DNAME_TEXT_MAX];

	if (name == NULL)
		return;
	if (dz_dname_normalize(name, 0, normalized, NULL) != DZ_OK ||
	    dz_config_find_tsig(root_of(parser), normalized) == NULL)
		dz_cfg_error(parser, mark, key, "unknown TSIG key '%s'; define it under tsig", name);
}

static void
secondary_check(dz_cfg_parser_t *parser, void *object, dz_cfg_mark_t mark, const char *key)
{
	dz_config_secondary_t *secondary = object;
	char child[256];

	(void)mark;
	snprintf(child, sizeof(child), "%s.tsig", key);
	check_tsig_reference(parser, secondary->tsig, secondary->tsig_mark, child);
}

static const dz_cfg_field_t secondary_fields[] = {
	{ F("addresses", DZ_CFG_LIST, dz_config_secondary_t, addresses),
	  COUNT(dz_config_secondary_t, address_count), .elem_size = sizeof(dz_config_address_t),
	  .min = 1, .max = 64, .flags = DZ_CFG_REQUIRED, .parse_scalar = parse_dns_address,
	  .format = format_address, .reload = DZ_CFG_RELOAD_APPLY, .type_doc = "address list",
	  .doc = "Addresses of the secondary, port 53 unless given. danezone sends NOTIFY to them "
		 "and asks each for its SOA serial to learn when a change has reached it." },
	{ F("tsig", DZ_CFG_STRING, dz_config_secondary_t, tsig), MARK(dz_config_secondary_t, tsig_mark),
	  .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "TSIG key for transfers, NOTIFY and SOA queries to and from this secondary." },
	{ F("notify", DZ_CFG_BOOL, dz_config_secondary_t, notify), .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "Send NOTIFY to every address after each new zone version." },
	{ F("allow-transfer", DZ_CFG_BOOL, dz_config_secondary_t, allow_transfer),
	  .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "Answer AXFR and IXFR requests from these addresses (signed with the TSIG key when "
		 "one is set)." },
};

static const dz_cfg_schema_t secondary_schema = {
	.name = "secondaries.NAME",
	.doc = "Name servers that transfer the signed zones from danezone and serve them.",
	.fields = secondary_fields,
	.field_count = DZ_ARRAY_SIZE(secondary_fields),
	.struct_size = sizeof(dz_config_secondary_t),
	.name_offset = offsetof(dz_config_secondary_t, name),
	.mark_offset = offsetof(dz_config_secondary_t, mark),
	.init = secondary_init,
	.check = secondary_check,
};

/* ---- policies ---- */

static bool
policy_key_init(void *object)
{
	dz_policy_key_t *key = object;
	key->role = DZ_ROLE_CSK;
	key->algorithm = DZ_ALG_ECDSAP256SHA256;
	return true;
}

static void
policy_key_check(dz_cfg_parser_t *parser, void *object, dz_cfg_mark_t mark, const char *key)
{
	dz_policy_key_t *policy_key = object;
	bool rsa = policy_key->algorithm == DZ_ALG_RSASHA256 || policy_key->algorithm == DZ_ALG_RSASHA512;

	if (rsa && policy_key->bits != 0 && (policy_key->bits < 2048 || policy_key->bits > 4096))
		dz_cfg_error(parser, mark, key,
			     "bits %u is out of range for RSA; use 2048 to 4096 (RFC 8624 asks "
			     "for at least 2048)", policy_key->bits);
	if (!rsa && policy_key->bits != 0)
		dz_cfg_error(parser, mark, key,
			     "bits applies to RSA only; remove it, %s keys have a fixed size",
			     dz_algorithm_name(policy_key->algorithm));
	if (policy_key->token != NULL && dz_config_find_hsm(root_of(parser), policy_key->token) == NULL)
		dz_cfg_error(parser, mark, key, "unknown HSM token '%s'; define it under hsm",
			     policy_key->token);
	if (policy_key->token == NULL && root_of(parser)->hsm_count > 0 &&
	    dz_config_default_hsm(root_of(parser)) == NULL)
		dz_cfg_error(parser, mark, key,
			     "no token given and no HSM token is marked default; set token or mark "
			     "one token with default: true");
}

static const dz_cfg_field_t policy_key_fields[] = {
	{ F("role", DZ_CFG_ENUM, dz_policy_key_t, role), .values = key_roles,
	  .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "ksk signs the DNSKEY RRset and has a DS at the parent, zsk signs the rest, "
		 "csk does both." },
	{ F("algorithm", DZ_CFG_CUSTOM, dz_policy_key_t, algorithm), .parse_node = parse_algorithm,
	  .format = format_algorithm, .reload = DZ_CFG_RELOAD_APPLY, .type_doc = "algorithm",
	  .doc = "DNSSEC algorithm by name or number: RSASHA256 (8), RSASHA512 (10), "
		 "ECDSAP256SHA256 (13), ECDSAP384SHA384 (14), ED25519 (15), ED448 (16). "
		 "Changing it starts an algorithm rollover." },
	{ F("bits", DZ_CFG_UINT, dz_policy_key_t, bits), .min = 0, .max = 4096,
	  .flags = DZ_CFG_ZERO_NONE, .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "RSA modulus size (2048 to 4096); none means 2048. Other algorithms have a fixed size." },
	{ F("lifetime", DZ_CFG_DURATION, dz_policy_key_t, lifetime), .min = 0, .max = DZ_DURATION_MAX,
	  .flags = DZ_CFG_ZERO_NONE, .unit_doc = "seconds", .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "Time from activation to the start of the key's rollover; \"unlimited\" or 0 "
		 "keeps the key until an operator rolls it." },
	{ F("token", DZ_CFG_STRING, dz_policy_key_t, token), .reload = DZ_CFG_RELOAD_APPLY,
	  .default_doc = "the default token", .doc = "Name of the HSM token that makes and holds "
						      "the key." },
};

static const dz_cfg_schema_t policy_key_schema = {
	.name = "policies.NAME.keys[]",
	.doc = "One key slot of the policy. The default is one CSK with ECDSAP256SHA256.",
	.fields = policy_key_fields,
	.field_count = DZ_ARRAY_SIZE(policy_key_fields),
	.struct_size = sizeof(dz_policy_key_t),
	.name_offset = DZ_CFG_NO_OFFSET,
	.mark_offset = DZ_CFG_NO_OFFSET,
	.init = policy_key_init,
	.check = policy_key_check,
};

static bool
policy_init(void *object)
{
	dz_config_policy_t *policy = object;
	return dz_policy_init_defaults(&policy->policy);
}

static void
policy_check(dz_cfg_parser_t *parser, void *object, dz_cfg_mark_t mark, const char *key)
{
	dz_config_policy_t *policy = object;
	bool has_ksk = false, has_zsk = false;

	for (size_t i = 0; i < policy->policy.key_count; i++) {
		if (policy->policy.keys[i].role & DZ_ROLE_KSK)
			has_ksk = true;
		if (policy->policy.keys[i].role & DZ_ROLE_ZSK)
			has_zsk = true;
	}
	if (policy->policy.key_count > 0 && (!has_ksk || !has_zsk))
		dz_cfg_error(parser, mark, key,
			     "the keys do not cover both roles; add a %s (or use one csk)",
			     has_ksk ? "zsk" : "ksk");
	if (policy->policy.nsec3_iterations > 0)
		dz_cfg_warning(parser, mark, key,
			       "nsec3-iterations is %u; RFC 9276 section 3.1 asks for 0",
			       policy->policy.nsec3_iterations);
}

#define P(k, t, m) F(k, t, dz_config_policy_t, policy.m)

static const dz_cfg_field_t policy_fields[] = {
	{ P("keys", DZ_CFG_SEQUENCE, keys), COUNT(dz_config_policy_t, policy.key_count),
	  .sub = &policy_key_schema, .reload = DZ_CFG_RELOAD_APPLY, .default_doc = "one csk",
	  .doc = "The keys the zone is signed with. An empty list makes the zone insecure, "
		 "after the DS has been removed from the parent." },
	{ P("ksk-rollover", DZ_CFG_ENUM, ksk_rollover), .values = ksk_rollovers,
	  .reload = DZ_CFG_RELOAD_APPLY, .doc = "KSK rollover method (RFC 6781 section 4.1.2)." },
	{ P("zsk-rollover", DZ_CFG_ENUM, zsk_rollover), .values = zsk_rollovers,
	  .reload = DZ_CFG_RELOAD_APPLY, .doc = "ZSK rollover method (RFC 6781 section 4.1.1)." },
	{ P("standby-keys", DZ_CFG_UINT, standby_keys), .min = 0, .max = 10,
	  .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "Keys generated ahead in the token for each key slot, so a rollover does not wait "
		 "for key generation." },
	{ P("manual-mode", DZ_CFG_BOOL, manual_mode), .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "Publishing a new key and retiring an old one wait for an operator's command." },
	{ P("dnskey-ttl", DZ_CFG_DURATION, dnskey_ttl), .min = 0, .max = TTL_MAX, .unit_doc = "seconds",
	  .reload = DZ_CFG_RELOAD_APPLY, .doc = "TTL of the DNSKEY, CDS and CDNSKEY RRsets." },
	{ P("max-zone-ttl", DZ_CFG_DURATION, max_zone_ttl), .min = 0, .max = TTL_MAX,
	  .unit_doc = "seconds", .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "Largest TTL in the zone; rollover timing assumes no signed RRset lives longer "
		 "in caches." },
	{ P("ds-ttl", DZ_CFG_DURATION, ds_ttl), .min = 0, .max = TTL_MAX, .unit_doc = "seconds",
	  .reload = DZ_CFG_RELOAD_APPLY, .doc = "TTL of the DS RRset at the parent." },
	{ P("zone-propagation-delay", DZ_CFG_DURATION, zone_propagation_delay), .min = 0,
	  .max = DZ_DURATION_MAX, .unit_doc = "seconds", .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "Time from a new zone version to all secondaries serving it." },
	{ P("parent-propagation-delay", DZ_CFG_DURATION, parent_propagation_delay), .min = 0,
	  .max = DZ_DURATION_MAX, .unit_doc = "seconds", .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "Time from a DS change in the parent zone to all its servers serving it." },
	{ P("registration-delay", DZ_CFG_DURATION, registration_delay), .min = 0,
	  .max = DZ_DURATION_MAX, .unit_doc = "seconds", .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "Time the registry takes to put a submitted DS into the parent zone." },
	{ P("publish-safety", DZ_CFG_DURATION, publish_safety), .min = 0, .max = DZ_DURATION_MAX,
	  .unit_doc = "seconds", .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "Margin added before a newly published key is used." },
	{ P("retire-safety", DZ_CFG_DURATION, retire_safety), .min = 0, .max = DZ_DURATION_MAX,
	  .unit_doc = "seconds", .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "Margin added before a retired key is removed." },
	{ P("purge-delay", DZ_CFG_DURATION, purge_delay), .min = 0, .max = DZ_DURATION_MAX,
	  .unit_doc = "seconds", .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "A removed key stays in the token this long before it is deleted." },
	{ P("signature-validity", DZ_CFG_DURATION, signature_validity), .min = 3600,
	  .max = 366 * 86400, .unit_doc = "seconds", .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "Time from RRSIG inception to expiration for zone data." },
	{ P("signature-validity-dnskey", DZ_CFG_DURATION, signature_validity_dnskey), .min = 3600,
	  .max = 366 * 86400, .unit_doc = "seconds", .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "The same for the DNSKEY, CDS and CDNSKEY RRsets." },
	{ P("signature-refresh", DZ_CFG_DURATION, signature_refresh), .min = 60,
	  .max = 366 * 86400, .unit_doc = "seconds", .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "An RRSIG is renewed when less than this time is left before it expires." },
	{ P("signature-jitter", DZ_CFG_DURATION, signature_jitter), .min = 0, .max = 366 * 86400,
	  .unit_doc = "seconds", .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "Expiration times are spread up to this much earlier, so renewals do not come "
		 "in one burst." },
	{ P("signature-inception-offset", DZ_CFG_DURATION, signature_inception_offset), .min = 0,
	  .max = 7 * 86400, .unit_doc = "seconds", .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "RRSIG inception lies this far before the signing time, for resolvers whose "
		 "clock is behind." },
	{ P("denial", DZ_CFG_ENUM, denial), .values = denials, .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "Authenticated denial of existence: NSEC (RFC 4034) or NSEC3 (RFC 5155)." },
	{ P("nsec3-iterations", DZ_CFG_UINT, nsec3_iterations), .min = 0, .max = 100,
	  .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "Extra NSEC3 hash iterations. RFC 9276 asks for 0; validators may treat zones "
		 "with more than 100 as insecure." },
	{ P("nsec3-salt", DZ_CFG_CUSTOM, nsec3_salt), .parse_node = parse_salt, .format = format_salt,
	  .reload = DZ_CFG_RELOAD_APPLY, .type_doc = "hex",
	  .doc = "NSEC3 salt in hex, or \"-\" for none (RFC 9276 advises none)." },
	{ P("nsec3-opt-out", DZ_CFG_BOOL, nsec3_opt_out), .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "Insecure delegations get no NSEC3 record (RFC 5155 section 6)." },
	{ P("cds-digest-types", DZ_CFG_CUSTOM, cds_digest_types), .parse_node = parse_digests,
	  .format = format_digests, .reload = DZ_CFG_RELOAD_APPLY, .type_doc = "digest list",
	  .doc = "Digest types of the CDS records and of the DS records shown to the operator: "
		 "sha256 (2), sha384 (4)." },
	{ P("publish-cdnskey", DZ_CFG_BOOL, publish_cdnskey), .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "Publish CDNSKEY beside CDS (RFC 7344)." },
	{ P("ds-observation", DZ_CFG_ENUM, ds_observation), .values = ds_observations,
	  .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "How a DS change at the parent is learnt: operator waits for danezone key ds-seen "
		 "and ds-gone; parent queries the parent servers of the zone." },
	{ P("ds-check-interval", DZ_CFG_DURATION, ds_check_interval), .min = 60, .max = 7 * 86400,
	  .unit_doc = "seconds", .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "Interval between queries to the parent servers." },
	{ P("ds-alert-after", DZ_CFG_DURATION, ds_alert_after), .min = 0, .max = DZ_DURATION_MAX,
	  .unit_doc = "seconds", .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "Warn when a submitted DS change is not seen at the parent after this time." },
	{ P("serial-policy", DZ_CFG_ENUM, serial_policy), .values = serial_policies,
	  .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "SOA serial of the signed zone: keep the source's (it must grow), increment, "
		 "unixtime or datecounter (YYYYMMDDnn); the last three add one when their value "
		 "would not grow." },
};

static const dz_cfg_schema_t policy_schema = {
	.name = "policies.NAME",
	.doc = "DNSSEC policies by name. A policy named default is built in and may be "
	       "redefined; every key left out keeps the default shown.",
	.fields = policy_fields,
	.field_count = DZ_ARRAY_SIZE(policy_fields),
	.struct_size = sizeof(dz_config_policy_t),
	.name_offset = offsetof(dz_config_policy_t, policy.name),
	.mark_offset = offsetof(dz_config_policy_t, mark),
	.init = policy_init,
	.check = policy_check,
};

/* ---- zones: mail hosts ---- */

static bool
host_init(void *object)
{
	dz_config_mail_host_t *host = object;

	host->ports = malloc(sizeof(*host->ports));
	host->tlsa = malloc(sizeof(*host->tlsa));
	if (host->ports == NULL || host->tlsa == NULL)
		return false;
	host->ports[0] = 25;
	host->port_count = 1;
	host->tlsa[0] = (dz_tlsa_params_t){ 3, 1, 1 };
	host->tlsa_count = 1;
	host->protocol = DZ_PROTO_TCP;
	host->ttl = 3600;
	return true;
}

static void
host_check(dz_cfg_parser_t *parser, void *object, dz_cfg_mark_t mark, const char *key)
{
	dz_config_mail_host_t *host = object;
	char normalized[DZ_DNAME_TEXT_MAX];
	dz_error_t err;
	bool port25 = false;
	char child[256];

	dz_error_init(&err);
	snprintf(child, sizeof(child), "%s.name", key);
	if (host->name != NULL) {
		if (dz_dname_normalize(host->name, DZ_DNAME_HOSTNAME, normalized, &err) != DZ_OK) {
			dz_cfg_error(parser, host->name_mark, child, "%s", dz_error_message(&err));
		} else {
			char *copy = strdup(normalized);
			if (copy == NULL) {
				dz_cfg_error(parser, host->name_mark, child, "out of memory");
			} else {
				free(host->name);
				host->name = copy;
			}
		}
	}
	for (size_t i = 0; i < host->port_count; i++) {
		if (host->ports[i] == 25)
			port25 = true;
		for (size_t j = 0; j < i; j++) {
			if (host->ports[i] == host->ports[j])
				dz_cfg_error(parser, mark, key, "port %u is given twice", host->ports[i]);
		}
	}
	snprintf(child, sizeof(child), "%s.tlsa", key);
	/* Without a tlsa key the defaults are checked; point at the host then. */
	dz_cfg_mark_t tlsa_mark = host->tlsa_mark.line > 0 ? host->tlsa_mark : mark;
	for (size_t i = 0; i < host->tlsa_count; i++) {
		const dz_tlsa_params_t *p = &host->tlsa[i];
		for (size_t j = 0; j < i; j++) {
			if (memcmp(p, &host->tlsa[j], sizeof(*p)) == 0)
				dz_cfg_error(parser, tlsa_mark, child, "\"%u %u %u\" is given twice",
					     p->usage, p->selector, p->matching);
		}
		/* RFC 7672 section 3.1.3: SMTP clients treat PKIX usages as unusable. */
		if (port25 && p->usage < 2)
			dz_cfg_error(parser, tlsa_mark, child,
				     "usage %u (PKIX) is not usable for SMTP on port 25 (RFC 7672 "
				     "section 3.1.3); use \"3 1 1\", or \"2 1 1\" for an issuer",
				     p->usage);
		if (p->selector == 0)
			dz_cfg_warning(parser, tlsa_mark, child,
				       "selector 0 hashes the whole certificate, so the record changes "
				       "at every renewal even with the same key; prefer selector 1");
		if (p->matching == 0)
			dz_cfg_warning(parser, tlsa_mark, child,
				       "matching type 0 publishes the whole %s; prefer 1 (SHA2-256) to "
				       "keep responses small (RFC 7671 section 10.1)",
				       p->selector == 0 ? "certificate" : "public key");
	}
}

static const dz_cfg_field_t host_fields[] = {
	{ F("name", DZ_CFG_STRING, dz_config_mail_host_t, name), MARK(dz_config_mail_host_t, name_mark),
	  .flags = DZ_CFG_REQUIRED, .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "Host name the clients connect to: for SMTP the MX target (RFC 7672 section "
		 "2.2.1). It must lie in the zone. Internationalised names are written as A-labels "
		 "in the records." },
	{ F("ports", DZ_CFG_LIST, dz_config_mail_host_t, ports), COUNT(dz_config_mail_host_t, port_count),
	  .elem_size = sizeof(uint16_t), .min = 1, .max = 32, .parse_scalar = parse_port,
	  .format = format_port, .reload = DZ_CFG_RELOAD_APPLY, .type_doc = "port list",
	  .doc = "Ports that get a TLSA RRset \"_PORT._PROTOCOL.NAME\": 25 for SMTP, 465 and 587 "
		 "for submission, 993 for IMAPS, 995 for POP3S." },
	{ F("protocol", DZ_CFG_ENUM, dz_config_mail_host_t, protocol), .values = protocols,
	  .reload = DZ_CFG_RELOAD_APPLY, .doc = "Transport protocol label of the owner names." },
	{ F("certificates", DZ_CFG_LIST, dz_config_mail_host_t, certificates),
	  COUNT(dz_config_mail_host_t, certificate_count), .elem_size = sizeof(char *), .min = 1,
	  .max = 16, .flags = DZ_CFG_REQUIRED, .parse_scalar = dz_cfg_parse_file_elem,
	  .free_value = dz_cfg_free_string_elem, .format = dz_cfg_format_string_elem,
	  .reload = DZ_CFG_RELOAD_APPLY, .type_doc = "file list",
	  .doc = "The certificate files the server presents, PEM or DER, each a single "
		 "certificate or a chain with the server's certificate first (as certbot's "
		 "fullchain.pem). A server with an RSA and an ECDSA certificate lists both. "
		 "The files are watched; a change is published at once." },
	{ F("next", DZ_CFG_LIST, dz_config_mail_host_t, next), COUNT(dz_config_mail_host_t, next_count),
	  .elem_size = sizeof(char *), .min = 0, .max = 16,
	  .parse_scalar = dz_cfg_parse_optional_file_elem, .free_value = dz_cfg_free_string_elem,
	  .format = dz_cfg_format_string_elem, .reload = DZ_CFG_RELOAD_APPLY, .type_doc = "file list",
	  .doc = "Staged next keys: a certificate, a private key, a public key or a certificate "
		 "signing request, PEM or DER. Their records are published at once, and danezone "
		 "tlsa status tells when the key is safe to deploy. A file that does not exist yet is "
		 "read when it appears." },
	{ F("tlsa", DZ_CFG_LIST, dz_config_mail_host_t, tlsa), COUNT(dz_config_mail_host_t, tlsa_count),
	  MARK(dz_config_mail_host_t, tlsa_mark),
	  .elem_size = sizeof(dz_tlsa_params_t), .min = 1, .max = 8, .parse_scalar = parse_tlsa_params,
	  .format = format_tlsa_params, .reload = DZ_CFG_RELOAD_APPLY, .type_doc = "parameter list",
	  .doc = "Usage, selector and matching type of the records. \"3 1 1\" (DANE-EE, public "
		 "key, SHA2-256) is what RFC 7672 section 3.1.1 recommends; \"2 1 1\" adds the "
		 "issuing CA's key, which must be in the served chain; \"3 1 2\" adds a SHA2-512 "
		 "digest. Selector 0 is accepted with a warning; usages 0 and 1 are rejected on "
		 "port 25." },
	{ F("ttl", DZ_CFG_DURATION, dz_config_mail_host_t, ttl), .min = 0, .max = TTL_MAX,
	  .unit_doc = "seconds", .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "TTL of the TLSA RRsets. A next key is ready to deploy two TTLs after every "
		 "secondary serves it." },
};

static const dz_cfg_schema_t host_schema = {
	.name = "zones[].mail.hosts[]",
	.doc = "Mail servers whose certificates become TLSA records.",
	.fields = host_fields,
	.field_count = DZ_ARRAY_SIZE(host_fields),
	.struct_size = sizeof(dz_config_mail_host_t),
	.name_offset = DZ_CFG_NO_OFFSET,
	.mark_offset = offsetof(dz_config_mail_host_t, mark),
	.init = host_init,
	.check = host_check,
};

static bool
mail_init(void *object)
{
	dz_config_mail_t *mail = object;

	mail->smimea = (dz_tlsa_params_t){ 3, 0, 0 };
	mail->smimea_ttl = 3600;
	mail->openpgpkey_ttl = 3600;
	mail->lowercase_variants = true;
	mail->rrset_warn_size = 4096;
	mail->total_warn_size = 1024 * 1024;
	/* Some large senders failed beyond about 12 TLSA records per host (2024). */
	mail->rrset_warn_records = 12;
	return true;
}

static void
mail_check(dz_cfg_parser_t *parser, void *object, dz_cfg_mark_t mark, const char *key)
{
	dz_config_mail_t *mail = object;
	char child[256];

	snprintf(child, sizeof(child), "%s.smimea", key);
	if (mail->smimea.selector != 0 || mail->smimea.matching != 0)
		dz_cfg_warning(parser, mark, child,
			       "\"%u %u %u\" only confirms a certificate found elsewhere; senders "
			       "that look up a certificate to encrypt need \"3 0 0\" (RFC 8162 "
			       "section 2)", mail->smimea.usage, mail->smimea.selector,
			       mail->smimea.matching);
}

static const dz_cfg_field_t mail_fields[] = {
	{ F("hosts", DZ_CFG_SEQUENCE, dz_config_mail_t, hosts), COUNT(dz_config_mail_t, host_count),
	  .sub = &host_schema, .reload = DZ_CFG_RELOAD_APPLY, .default_doc = "none",
	  .doc = "Mail servers and their certificates." },
	{ F("smime-folders", DZ_CFG_LIST, dz_config_mail_t, smime_folders),
	  COUNT(dz_config_mail_t, smime_folder_count), .elem_size = sizeof(char *), .max = 64,
	  .parse_scalar = dz_cfg_parse_folder_elem, .free_value = dz_cfg_free_string_elem,
	  .format = dz_cfg_format_string_elem, .reload = DZ_CFG_RELOAD_APPLY, .type_doc = "folder list",
	  .doc = "Folders of users' S/MIME certificates (PEM or DER, one or more per file). Every "
		 "e-mail address of the zone in a valid certificate gets an SMIMEA record (RFC "
		 "8162). Files whose names start with a dot or end with ~, .tmp or .swp are "
		 "ignored." },
	{ F("smimea", DZ_CFG_CUSTOM, dz_config_mail_t, smimea), .parse_node = parse_smimea_params,
	  .format = format_tlsa_params, .reload = DZ_CFG_RELOAD_APPLY, .type_doc = "parameters",
	  .doc = "Usage, selector and matching type of the SMIMEA records. \"3 0 0\" publishes the "
		 "whole certificate, which a sender needs to encrypt." },
	{ F("smimea-ttl", DZ_CFG_DURATION, dz_config_mail_t, smimea_ttl), .min = 0, .max = TTL_MAX,
	  .unit_doc = "seconds", .reload = DZ_CFG_RELOAD_APPLY, .doc = "TTL of the SMIMEA RRsets." },
	{ F("openpgp-folders", DZ_CFG_LIST, dz_config_mail_t, openpgp_folders),
	  COUNT(dz_config_mail_t, openpgp_folder_count), .elem_size = sizeof(char *), .max = 64,
	  .parse_scalar = dz_cfg_parse_folder_elem, .free_value = dz_cfg_free_string_elem,
	  .format = dz_cfg_format_string_elem, .reload = DZ_CFG_RELOAD_APPLY, .type_doc = "folder list",
	  .doc = "Folders of exported OpenPGP public keys (gpg --export, binary or ASCII armour). "
		 "Every user ID address of the zone gets an OPENPGPKEY record (RFC 7929)." },
	{ F("openpgpkey-ttl", DZ_CFG_DURATION, dz_config_mail_t, openpgpkey_ttl), .min = 0,
	  .max = TTL_MAX, .unit_doc = "seconds", .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "TTL of the OPENPGPKEY RRsets." },
	{ F("lowercase-variants", DZ_CFG_BOOL, dz_config_mail_t, lowercase_variants),
	  .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "Besides the owner from the exact local part, publish one from its ASCII-lowercase "
		 "form when that differs (RFC 8162 section 4 lets a domain publish variants it "
		 "treats as equal)." },
	{ F("quoted-local-parts", DZ_CFG_BOOL, dz_config_mail_t, quoted_local_parts),
	  .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "Publish addresses with a quoted local part (\"john smith\"@example.org). RFC 8162 "
		 "and RFC 7929 do not say how senders hash the quotes, so they are skipped with a "
		 "warning unless this is true." },
	{ F("rrset-warn-size", DZ_CFG_BYTES, dz_config_mail_t, rrset_warn_size), .min = 512,
	  .max = 65535, .unit_doc = "bytes", .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "Warn when the records of one owner and type pass this size in wire form." },
	{ F("total-warn-size", DZ_CFG_BYTES, dz_config_mail_t, total_warn_size), .min = 1024,
	  .max = (int64_t)1 << 32, .unit_doc = "bytes", .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "Warn when all generated records of the zone pass this size; large SMIMEA sets "
		 "have broken zone transfers at some secondaries." },
	{ F("rrset-warn-records", DZ_CFG_UINT, dz_config_mail_t, rrset_warn_records), .min = 1,
	  .max = 1000, .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "Warn when one TLSA RRset has more records; some senders fail on large ones." },
	{ F("ready-hook", DZ_CFG_COMMAND, dz_config_mail_t, ready_hook), .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "Shell command run when a next key becomes ready to deploy. It gets DZ_ZONE, "
		 "DZ_HOST, DZ_KEY_SHA256 (the 3 1 1 digest) and DZ_FILE in its environment." },
};

static const dz_cfg_schema_t mail_schema = {
	.name = "zones[].mail",
	.doc = "Records made from certificates and keys: TLSA for the mail servers, SMIMEA and "
	       "OPENPGPKEY for the users.",
	.fields = mail_fields,
	.field_count = DZ_ARRAY_SIZE(mail_fields),
	.struct_size = sizeof(dz_config_mail_t),
	.name_offset = DZ_CFG_NO_OFFSET,
	.mark_offset = DZ_CFG_NO_OFFSET,
	.init = mail_init,
	.check = mail_check,
};

/* ---- zones ---- */

static void
parent_check(dz_cfg_parser_t *parser, void *object, dz_cfg_mark_t mark, const char *key)
{
	dz_config_parent_t *parent = object;
	char child[256];

	(void)mark;
	snprintf(child, sizeof(child), "%s.tsig", key);
	check_tsig_reference(parser, parent->tsig, parent->tsig_mark, child);
}

static const dz_cfg_field_t parent_fields[] = {
	{ F("servers", DZ_CFG_LIST, dz_config_parent_t, servers), COUNT(dz_config_parent_t, server_count),
	  .elem_size = sizeof(dz_config_address_t), .max = 64, .parse_scalar = parse_dns_address,
	  .format = format_address, .reload = DZ_CFG_RELOAD_APPLY, .type_doc = "address list",
	  .doc = "Name servers of the parent zone, asked for the DS RRset when the policy's "
		 "ds-observation is parent." },
	{ F("tsig", DZ_CFG_STRING, dz_config_parent_t, tsig), MARK(dz_config_parent_t, tsig_mark),
	  .reload = DZ_CFG_RELOAD_APPLY, .doc = "TSIG key for those queries." },
};

static const dz_cfg_schema_t parent_schema = {
	.name = "zones[].parent",
	.doc = "The parent zone's servers.",
	.fields = parent_fields,
	.field_count = DZ_ARRAY_SIZE(parent_fields),
	.struct_size = sizeof(dz_config_parent_t),
	.name_offset = DZ_CFG_NO_OFFSET,
	.mark_offset = DZ_CFG_NO_OFFSET,
	.check = parent_check,
};

static bool
zone_init(void *object)
{
	dz_config_zone_t *zone = object;
	zone->policy = strdup("default");
	return zone->policy != NULL;
}

static const dz_cfg_field_t zone_fields[] = {
	{ F("name", DZ_CFG_STRING, dz_config_zone_t, name), MARK(dz_config_zone_t, name_mark),
	  .flags = DZ_CFG_REQUIRED, .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "Origin of the zone; case and a trailing dot do not matter." },
	{ F("source", DZ_CFG_PATH, dz_config_zone_t, source), .flags = DZ_CFG_REQUIRED | DZ_CFG_FILE,
	  .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "The unsigned zone file, kept by hand or by another tool; $INCLUDE, $ORIGIN and "
		 "$TTL are understood." },
	{ F("policy", DZ_CFG_STRING, dz_config_zone_t, policy), MARK(dz_config_zone_t, policy_mark),
	  .reload = DZ_CFG_RELOAD_APPLY, .doc = "Name of the DNSSEC policy." },
	{ F("output", DZ_CFG_PATH, dz_config_zone_t, output), .reload = DZ_CFG_RELOAD_APPLY,
	  .default_doc = "STATE-DIR/signed/NAME.zone",
	  .doc = "Where the signed zone file is written (atomically), for secondaries that read "
		 "files and for inspection." },
	{ F("secondaries", DZ_CFG_LIST, dz_config_zone_t, secondaries),
	  COUNT(dz_config_zone_t, secondary_count), MARK(dz_config_zone_t, secondaries_mark),
	  .elem_size = sizeof(char *), .max = 64, .parse_scalar = dz_cfg_parse_string_elem,
	  .free_value = dz_cfg_free_string_elem, .format = dz_cfg_format_string_elem,
	  .reload = DZ_CFG_RELOAD_APPLY, .type_doc = "name list",
	  .doc = "Names of the secondaries that serve this zone." },
	{ F("parent", DZ_CFG_SECTION, dz_config_zone_t, parent), .sub = &parent_schema,
	  .reload = DZ_CFG_RELOAD_APPLY, .doc = "The parent zone's servers, for DS polling." },
	{ F("publish-hook", DZ_CFG_COMMAND, dz_config_zone_t, publish_hook),
	  .reload = DZ_CFG_RELOAD_APPLY,
	  .doc = "Shell command run after each new version of the signed zone is published. It "
		 "gets DZ_ZONE, DZ_SERIAL and DZ_OUTPUT in its environment." },
	{ F("mail", DZ_CFG_SECTION, dz_config_zone_t, mail), .sub = &mail_schema,
	  .reload = DZ_CFG_RELOAD_APPLY, .doc = "Mail records made from certificates and keys." },
};

static const dz_cfg_schema_t zone_schema = {
	.name = "zones[]",
	.doc = "The zones danezone signs and serves.",
	.fields = zone_fields,
	.field_count = DZ_ARRAY_SIZE(zone_fields),
	.struct_size = sizeof(dz_config_zone_t),
	.name_offset = DZ_CFG_NO_OFFSET,
	.mark_offset = offsetof(dz_config_zone_t, mark),
	.init = zone_init,
	.check = dz_config_zone_check,
};

/* ---- root ---- */

static const dz_cfg_field_t root_fields[] = {
	{ F("server", DZ_CFG_SECTION, dz_config_t, server), .sub = &server_schema,
	  .reload = DZ_CFG_RELOAD_APPLY, .doc = "The daemon process." },
	{ F("hsm", DZ_CFG_NAMED, dz_config_t, hsms), COUNT(dz_config_t, hsm_count), .sub = &hsm_schema,
	  .reload = DZ_CFG_RELOAD_RESTART, .default_doc = "none",
	  .doc = "PKCS#11 tokens by name." },
	{ F("tsig", DZ_CFG_NAMED, dz_config_t, tsigs), COUNT(dz_config_t, tsig_count),
	  .sub = &tsig_schema, .reload = DZ_CFG_RELOAD_APPLY, .default_doc = "none",
	  .doc = "TSIG keys by name." },
	{ F("secondaries", DZ_CFG_NAMED, dz_config_t, secondaries), COUNT(dz_config_t, secondary_count),
	  .sub = &secondary_schema, .reload = DZ_CFG_RELOAD_APPLY, .default_doc = "none",
	  .doc = "Secondary name servers by name." },
	{ F("policies", DZ_CFG_NAMED, dz_config_t, policies), COUNT(dz_config_t, policy_count),
	  .sub = &policy_schema, .reload = DZ_CFG_RELOAD_APPLY, .default_doc = "default",
	  .doc = "DNSSEC policies by name." },
	{ F("zones", DZ_CFG_SEQUENCE, dz_config_t, zones), COUNT(dz_config_t, zone_count),
	  .sub = &zone_schema, .reload = DZ_CFG_RELOAD_APPLY, .default_doc = "none",
	  .doc = "The zones." },
};

static const dz_cfg_schema_t root_schema = {
	.name = "Top level",
	.doc = "Sections of the file. They may come in any order.",
	.fields = root_fields,
	.field_count = DZ_ARRAY_SIZE(root_fields),
	.struct_size = sizeof(dz_config_t),
	.name_offset = DZ_CFG_NO_OFFSET,
	.mark_offset = DZ_CFG_NO_OFFSET,
	.check = dz_config_root_check,
};

const dz_cfg_schema_t *
dz_config_schema(void)
{
	return &root_schema;
}

const dz_cfg_schema_t *
dz_config_policy_schema(void)
{
	return &policy_schema;
}

const char *
dz_tsig_algorithm_name(dz_tsig_algorithm_t algorithm)
{
	for (const dz_cfg_enum_value_t *v = tsig_algorithms; v->name != NULL; v++) {
		if (v->value == (int)algorithm)
			return v->name;
	}
	return "unknown";
}

const char *
dz_mail_protocol_name(dz_mail_protocol_t protocol)
{
	for (const dz_cfg_enum_value_t *v = protocols; v->name != NULL; v++) {
		if (v->value == (int)protocol)
			return v->name;
	}
	return "tcp";
}
