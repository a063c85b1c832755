/*
 * server_config.h -- what the DNS server needs from the configuration, as
 * plain structs.
 *
 * The daemon maps its configuration objects to these in one place; the
 * test driver fills them from the command line.  Everything here is owned
 * by the dz_server_config_t and freed by dz_server_config_clear().
 */
#ifndef DZ_SIGNER_SERVER_CONFIG_H
#define DZ_SIGNER_SERVER_CONFIG_H

#include <stddef.h>
#include <sys/socket.h>

#include "common/error.h"
#include "signer/acl.h"
#include "signer/tsig.h"
#include "zones/conf.h"

/* Defaults; the limits are sized for a hidden primary that serves a few secondaries. */
/* The same as the default of server.tcp-max-connections, so the daemon and dz-serve agree. */
#define DZ_SERVER_TCP_CLIENTS_DEFAULT 100
#define DZ_SERVER_TCP_IDLE_DEFAULT_MS 10000
#define DZ_SERVER_NOTIFY_RETRY_DEFAULT_MS 2000
#define DZ_SERVER_NOTIFY_RETRY_MAX_DEFAULT_MS 300000
/* Largest query the server reads; longer ones are dropped. */
#define DZ_SERVER_QUERY_MAX 16384

typedef struct dz_server_address {
	struct sockaddr_storage address;
	socklen_t address_len;
} dz_server_address_t;

/* A secondary that gets NOTIFY for a zone. */
typedef struct dz_server_secondary {
	dz_server_address_t address;
	char *key_name; /* TSIG key that signs the NOTIFY, NULL for none */
} dz_server_secondary_t;

typedef struct dz_server_zone_config {
	char *name;	      /* origin, presentation form */
	char *folder;	      /* state folder with the published files (signer/publish.h) */
	dz_acl_t transfer_acl; /* AXFR and IXFR; empty denies everyone */
	dz_acl_t query_acl;   /* SOA and other queries; empty denies everyone */
	dz_acl_t notify_acl;  /* NOTIFY received; empty denies everyone */
	dz_server_secondary_t *secondaries;
	size_t secondary_count;
} dz_server_zone_config_t;

typedef struct dz_server_config {
	dz_server_address_t *listen; /* UDP and TCP on each */
	size_t listen_count;
	dz_tsig_key_t *keys;
	size_t key_count;
	unsigned tcp_clients_max;    /* open TCP connections at once */
	unsigned tcp_idle_ms;	     /* a TCP connection without progress is closed */
	unsigned notify_retry_ms;    /* first NOTIFY retry; doubles up to the max */
	unsigned notify_retry_max_ms;
	dz_server_zone_config_t *zones;
	size_t zone_count;
} dz_server_config_t;

/* Set the defaults and no addresses, keys or zones. */
void dz_server_config_init(dz_server_config_t *config);

/* Free everything the config owns and overwrite the TSIG secrets. */
void dz_server_config_clear(dz_server_config_t *config);

/*
 * Parse "ADDRESS@PORT", "IPv4:PORT" or "[IPv6]:PORT" (a bare address uses
 * `default_port`).  DZ_EINVAL naming the text.
 */
dz_result_t dz_server_address_parse(const char *text, int default_port,
				     dz_server_address_t *address, dz_error_t *err);

/* Format as "ADDRESS#PORT" into `out`. */
void dz_server_address_format(const struct sockaddr *address, char *out, size_t out_size);

/* Size of a buffer for dz_server_address_format(). */
#define DZ_SERVER_ADDRESS_TEXT_MAX 64

dz_result_t dz_server_config_add_listen(dz_server_config_t *config, const char *text,
					dz_error_t *err);

/* Add a key given as "ALGORITHM:NAME:SECRET". */
dz_result_t dz_server_config_add_key(dz_server_config_t *config, const char *spec,
				     dz_error_t *err);

/*
 * Add a zone and return it in *zone for its ACLs and secondaries; the
 * pointer is valid until the next zone is added.
 */
dz_result_t dz_server_config_add_zone(dz_server_config_t *config, const char *name,
				      const char *folder, dz_server_zone_config_t **zone,
				      dz_error_t *err);

/* Add a secondary "ADDRESS[@PORT] [key NAME]" (port 53 when omitted). */
dz_result_t dz_server_zone_add_secondary(dz_server_zone_config_t *zone, const char *text,
					 dz_error_t *err);

/* The key named `name` (wire form), or NULL. */
const dz_tsig_key_t *dz_server_config_find_key(const dz_server_config_t *config,
					       const uint8_t *name);

/*
 * Fill `out` (initialised by the caller) from a loaded configuration.  The
 * server section gives the listen addresses, TCP limits and TSIG keys.
 * Each zone is served from the folder of its output file, where the
 * publisher also writes the snapshot and journal.  A secondary with notify
 * set gets NOTIFY on each of its addresses, and one with allow-transfer
 * set may transfer from each address, with its TSIG key when it has one.
 * Queries are answered for every secondary's addresses and the server's
 * allow-query prefixes, and refused for everyone else; NOTIFY received is
 * refused.  DZ_ECONFIG
 * names the zone or key of an inconsistency that the loader missed.
 */
dz_result_t dz_server_config_from_config(const dz_config_t *config, dz_server_config_t *out,
					 dz_error_t *err);

/*
 * Check references: every key named by a secondary or an ACL rule exists.
 * DZ_ECONFIG naming the zone and the key.
 */
dz_result_t dz_server_config_check(const dz_server_config_t *config, dz_error_t *err);

#endif
