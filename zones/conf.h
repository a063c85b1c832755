/*
 * conf.h -- the danezone configuration: one YAML file for the service.
 *
 * (Named conf.h because config.h is the header that configure generates.)
 *
 * dz_config_load() parses a file into a new dz_config_t and checks it
 * (types, ranges, references between sections, names inside their zones,
 * files that must exist).  The caller swaps the new object in, so a daemon
 * that reloads keeps its old configuration when the new one has errors.
 * The schema (zones/conf_schema.c) is the single description of every
 * key; doc/danezone.yaml.5 is generated from it.
 *
 * Thread safety: a loaded configuration is immutable and may be read by
 * several threads; loading and freeing are not synchronised.
 */
#ifndef DZ_ZONES_CONF_H
#define DZ_ZONES_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "common/error.h"
#include "common/log.h"
#include "common/policy.h"
#include "zones/schema.h"

/* Default port of the DNS server: the hidden primary does not take port 53. */
#define DZ_CONFIG_DEFAULT_DNS_PORT 5353

/* An IP address with a port, written "192.0.2.1", "192.0.2.1@5353" or "[2001:db8::1]:53". */
typedef struct dz_config_address {
	struct sockaddr_storage addr; /* AF_INET or AF_INET6, port in network order */
	socklen_t addr_len;
	char text[64];		      /* "192.0.2.1@53", "2001:db8::1@53" */
} dz_config_address_t;

typedef struct dz_config_server {
	char *state_dir;	    /* key state, journals, signed zones, rollover state */
	dz_config_address_t *listen; /* DNS server addresses */
	size_t listen_count;
	char *control_socket;	    /* UNIX socket of the control channel */
	uint32_t control_mode;	    /* permissions of the socket */
	char *user;		    /* user to switch to after start-up; NULL = stay */
	char *group;		    /* group to switch to; NULL = the user's group */
	char *dns_user;		    /* user of the DNS server process; NULL = none */
	char *chroot;		    /* chroot of the DNS server process; NULL = none */
	bool allow_root;	    /* processes may keep running as root */
	uint32_t signer_processes;  /* processes that log in to the token and sign */
	char *pidfile;		    /* NULL = none */
	dz_log_target_t log_target;
	dz_log_level_t log_level;
	uint32_t tcp_max_connections;
	int64_t tcp_idle_timeout;   /* seconds */
	uint64_t journal_max_size;  /* bytes per zone */
	char **allow_query;	    /* "ADDRESS[/PREFIX]" that may query besides the secondaries */
	size_t allow_query_count;
} dz_config_server_t;

typedef struct dz_config_hsm {
	char *name;
	dz_cfg_mark_t mark;
	char *module;	   /* PKCS#11 module path */
	char *token_label; /* exactly one of token_label and token_uri is set */
	char *token_uri;   /* RFC 7512 "pkcs11:token=..." */
	char *pin_file;
	bool is_default;   /* the token used by policies that name none */
} dz_config_hsm_t;

typedef struct dz_config_policy {
	dz_policy_t policy; /* policy.name is the configured name */
	dz_cfg_mark_t mark;
	bool builtin;	    /* the implicit "default" policy, not in the file */
} dz_config_policy_t;

typedef enum dz_tsig_algorithm {
	DZ_TSIG_HMAC_SHA256,
	DZ_TSIG_HMAC_SHA384,
	DZ_TSIG_HMAC_SHA512,
} dz_tsig_algorithm_t;

/* Largest TSIG secret accepted: the block size of HMAC-SHA512 is 128 bytes. */
#define DZ_TSIG_SECRET_MAX 128

typedef struct dz_config_tsig {
	char *name;	   /* the TSIG key name as sent on the wire */
	dz_cfg_mark_t mark;
	dz_tsig_algorithm_t algorithm;
	uint8_t *secret;   /* decoded secret (owned, wiped on free) */
	size_t secret_len;
	char *secret_base64; /* the secret as configured or read from secret_file (owned, wiped) */
	char *secret_file; /* NULL when the secret is inline */
} dz_config_tsig_t;

typedef struct dz_config_secondary {
	char *name;
	dz_cfg_mark_t mark;
	dz_config_address_t *addresses;
	size_t address_count;
	char *tsig;	     /* name of a dz_config_tsig_t, or NULL */
	dz_cfg_mark_t tsig_mark;
	bool notify;	     /* send NOTIFY to every address */
	bool allow_transfer; /* answer AXFR/IXFR from these addresses */
} dz_config_secondary_t;

/* TLSA (and SMIMEA) record parameters, RFC 6698 section 2.1. */
typedef struct dz_tlsa_params {
	uint8_t usage;	  /* 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE */
	uint8_t selector; /* 0 full certificate, 1 SubjectPublicKeyInfo */
	uint8_t matching; /* 0 exact, 1 SHA2-256, 2 SHA2-512 */
} dz_tlsa_params_t;

typedef enum dz_mail_protocol {
	DZ_PROTO_TCP,
	DZ_PROTO_UDP,
	DZ_PROTO_SCTP,
} dz_mail_protocol_t;

typedef struct dz_config_mail_host {
	char *name;		/* A-label, lower case, no trailing dot */
	dz_cfg_mark_t mark;
	dz_cfg_mark_t name_mark;
	uint16_t *ports;
	size_t port_count;
	dz_mail_protocol_t protocol;
	char **certificates;	/* files the server serves: certificate or chain, PEM or DER */
	size_t certificate_count;
	char **next;		/* staged next certificate, private key, public key or CSR */
	size_t next_count;
	dz_tlsa_params_t *tlsa;
	size_t tlsa_count;
	dz_cfg_mark_t tlsa_mark;
	uint32_t ttl;
} dz_config_mail_host_t;

typedef struct dz_config_mail {
	dz_config_mail_host_t *hosts;
	size_t host_count;
	char **smime_folders;
	size_t smime_folder_count;
	dz_tlsa_params_t smimea;	/* parameters of every SMIMEA record */
	uint32_t smimea_ttl;
	char **openpgp_folders;
	size_t openpgp_folder_count;
	uint32_t openpgpkey_ttl;
	bool lowercase_variants;	/* also publish the ASCII-lowercase local part */
	bool quoted_local_parts;	/* publish addresses with a quoted local part */
	uint64_t rrset_warn_size;	/* warn when one owner's RRset passes this (bytes) */
	uint64_t total_warn_size;	/* warn when all generated records pass this (bytes) */
	uint32_t rrset_warn_records;	/* warn when one TLSA RRset has more records */
	char *ready_hook;		/* run when a next key becomes ready to deploy */
} dz_config_mail_t;

typedef struct dz_config_parent {
	dz_config_address_t *servers;	/* parent name servers to poll for DS */
	size_t server_count;
	char *tsig;
	dz_cfg_mark_t tsig_mark;
} dz_config_parent_t;

typedef struct dz_config_zone {
	char *name;		/* origin: A-label, lower case, no trailing dot ("." is the root) */
	dz_cfg_mark_t mark;
	dz_cfg_mark_t name_mark;
	char *source;		/* unsigned zone file */
	char *policy;		/* name of a dz_config_policy_t */
	dz_cfg_mark_t policy_mark;
	char *output;		/* signed zone file; default STATE_DIR/signed/NAME.zone */
	char **secondaries;	/* names of dz_config_secondary_t */
	size_t secondary_count;
	dz_cfg_mark_t secondaries_mark;
	dz_config_parent_t parent;
	char *publish_hook;	/* run after each publication */
	dz_config_mail_t mail;
} dz_config_zone_t;

typedef struct dz_config {
	char *path;		/* the file it was loaded from */
	dz_config_server_t server;
	dz_config_hsm_t *hsms;
	size_t hsm_count;
	dz_config_tsig_t *tsigs;
	size_t tsig_count;
	dz_config_secondary_t *secondaries;
	size_t secondary_count;
	dz_config_policy_t *policies; /* always contains "default" */
	size_t policy_count;
	dz_config_zone_t *zones;
	size_t zone_count;
} dz_config_t;

/* Default configuration file of the commands. */
#define DZ_CONFIG_DEFAULT_PATH DZ_SYSCONFDIR "/danezone/danezone.yaml"

/*
 * Load and check `path`.  Every error and warning goes to `diags` (which may
 * be NULL) with file, line and column.  On success *config receives a new
 * object (free with dz_config_destroy); warnings do not make it fail.  On
 * failure returns DZ_ECONFIG (or DZ_ENOMEM) with the first error in err,
 * and *config is untouched.  Reads the files it names (PIN and TSIG secret
 * files are checked to be private and TSIG secrets are read) but changes
 * nothing on disk.
 */
dz_result_t dz_config_load(const char *path, dz_config_t **config, dz_cfg_diags_t *diags,
			   dz_error_t *err);

/*
 * Like dz_config_load(), but the YAML text is the `len` bytes at `data`
 * (no NUL byte needed).  `path` is the name used in messages and its folder
 * is the base of relative paths; the file itself is not read.
 */
dz_result_t dz_config_load_buffer(const char *data, size_t len, const char *path,
				  dz_config_t **config, dz_cfg_diags_t *diags, dz_error_t *err);

/* Free a configuration; NULL is ignored.  TSIG secrets are wiped. */
void dz_config_destroy(dz_config_t *config);

/* Lookups by name; NULL when absent.  `name` of a zone may have a trailing dot and any case. */
const dz_config_zone_t *dz_config_find_zone(const dz_config_t *config, const char *name);
const dz_config_policy_t *dz_config_find_policy(const dz_config_t *config, const char *name);
const dz_config_hsm_t *dz_config_find_hsm(const dz_config_t *config, const char *name);
const dz_config_tsig_t *dz_config_find_tsig(const dz_config_t *config, const char *name);
const dz_config_secondary_t *dz_config_find_secondary(const dz_config_t *config,
						      const char *name);

/* The token marked default, or the only one; NULL when none is configured. */
const dz_config_hsm_t *dz_config_default_hsm(const dz_config_t *config);

/*
 * Keys whose change a reload cannot apply: compare two loaded
 * configurations and append a warning per changed key to diags (the daemon
 * logs them and keeps the old values until restart).  Returns the count.
 */
size_t dz_config_restart_changes(const dz_config_t *old_config, const dz_config_t *new_config,
				 dz_cfg_diags_t *diags);

/* The root schema (the whole file), for the man page and tests. */
const dz_cfg_schema_t *dz_config_schema(void);

/* Write doc/danezone.yaml.5: the fixed text and the tables from the schema. */
void dz_config_write_man(FILE *out);

/* Names of the enum values, for messages. */
const char *dz_tsig_algorithm_name(dz_tsig_algorithm_t algorithm);
const char *dz_mail_protocol_name(dz_mail_protocol_t protocol);

/*
 * Parse "U S M" (three decimal numbers, as in a TLSA record) into params;
 * false when the text is not of that form or a number is above 255.
 */
bool dz_tlsa_params_parse(const char *text, dz_tlsa_params_t *params);

/*
 * Parse an address with an optional port ("192.0.2.1", "192.0.2.1@53",
 * "2001:db8::1", "2001:db8::1@53", "[2001:db8::1]:53", "192.0.2.1:53").
 */
dz_result_t dz_config_address_parse(const char *text, uint16_t default_port,
				    dz_config_address_t *address, dz_error_t *err);

#endif
