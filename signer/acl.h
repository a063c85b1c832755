/*
 * acl.h -- access lists by source address prefix and TSIG key.
 *
 * An access list is an ordered list of rules; the first rule that matches
 * a request decides whether it is allowed, and a request that matches no
 * rule is denied.  A rule matches when the source address lies in its
 * prefix and, if the rule names a key, the request was signed with that key
 * and the signature verified.
 */
#ifndef DZ_SIGNER_ACL_H
#define DZ_SIGNER_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/error.h"
#include "signer/wire.h"

typedef struct dz_acl_rule {
	bool deny;
	int family;	     /* AF_INET or AF_INET6 */
	uint8_t address[16]; /* network byte order; 4 bytes used for AF_INET */
	unsigned prefix_len;
	bool has_key;
	uint8_t key_name[DZ_WIRE_NAME_MAX]; /* lower-case wire form */
	size_t key_name_len;
} dz_acl_rule_t;

typedef struct dz_acl {
	dz_acl_rule_t *rules; /* owned */
	size_t count;
} dz_acl_t;

void dz_acl_init(dz_acl_t *acl);
void dz_acl_clear(dz_acl_t *acl);

/*
 * Parse one rule and append it: "[!]ADDRESS[/PREFIX] [key NAME]", for
 * example "127.0.0.1", "::1/128 key xfr.example.", "!10.0.0.0/8" or
 * "0.0.0.0/0 key xfr".  A leading "!" makes it a deny rule.  Without a
 * prefix the rule covers the single address.  DZ_EINVAL naming the bad
 * part.
 */
dz_result_t dz_acl_add(dz_acl_t *acl, const char *text, dz_error_t *err);

/*
 * Whether the request from `source` is allowed.  `key_name` is the wire
 * name of the key whose TSIG verified, or NULL for an unsigned request.
 * IPv4-mapped IPv6 sources (::ffff:a.b.c.d) match IPv4 rules.
 */
bool dz_acl_allows(const dz_acl_t *acl, const struct sockaddr *source, const uint8_t *key_name);

#endif
