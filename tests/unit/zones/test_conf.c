#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zones/conf.h"

/* A temporary folder with a zone file, a certificate file and a PIN file. */
typedef struct fixture {
	char dir[64];
	char config_path[128];
	dz_cfg_diags_t diags;
	dz_config_t *config;
} fixture_t;

static void
write_file(const char *dir, const char *name, const char *text, mode_t mode)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(chmod(path, mode), 0);
}

static int
setup(void **state)
{
	fixture_t *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/dz-test-conf-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->config_path, sizeof(f->config_path), "%s/danezone.yaml", f->dir);
	write_file(f->dir, "example.net.zone", "; empty\n", 0644);
	write_file(f->dir, "mx.pem", "not read by the configuration loader\n", 0644);
	write_file(f->dir, "token.pin", "1234\n", 0600);
	write_file(f->dir, "public.pin", "1234\n", 0644);
	/* 32 octets of 0x01 in base64. */
	write_file(f->dir, "xfr.secret", "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n", 0600);
	dz_cfg_diags_init(&f->diags);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fixture_t *f = *state;
	char command[128];

	dz_config_destroy(f->config);
	dz_cfg_diags_clear(&f->diags);
	snprintf(command, sizeof(command), "rm -rf '%s'", f->dir);
	assert_int_equal(system(command), 0);
	free(f);
	return 0;
}

/* Write the configuration text and load it; returns the load result. */
static dz_result_t
load(fixture_t *f, const char *yaml)
{
	dz_error_t err;

	write_file(f->dir, "danezone.yaml", yaml, 0644);
	dz_config_destroy(f->config);
	f->config = NULL;
	dz_cfg_diags_clear(&f->diags);
	dz_error_init(&err);
	return dz_config_load(f->config_path, &f->config, &f->diags, &err);
}

/* Assert that one diagnostic reads exactly "CONFIG:TEXT". */
static void
assert_diag(const fixture_t *f, const char *text)
{
	char expected[1024];

	snprintf(expected, sizeof(expected), "%s:%s", f->config_path, text);
	for (size_t i = 0; i < f->diags.count; i++) {
		if (strcmp(f->diags.items[i].text, expected) == 0)
			return;
	}
	for (size_t i = 0; i < f->diags.count; i++)
		print_message("diagnostic: %s\n", f->diags.items[i].text);
	fail_msg("missing diagnostic: %s", expected);
}

static void
conf_minimal_gets_defaults(void **state)
{
	fixture_t *f = *state;

	assert_int_equal(load(f, "server:\n"
				 "  state-dir: state\n"
				 "zones:\n"
				 "  - name: Example.NET.\n"
				 "    source: example.net.zone\n"
				 "    mail:\n"
				 "      hosts:\n"
				 "        - name: MX1.example.net\n"
				 "          certificates: [mx.pem]\n"),
			 DZ_OK);
	assert_int_equal(f->diags.errors, 0);
	const dz_config_t *c = f->config;
	assert_int_equal(c->server.listen_count, 1);
	assert_string_equal(c->server.listen[0].text, "127.0.0.1@5353");
	assert_int_equal(c->server.log_level, DZ_LOG_NOTICE);
	assert_int_equal(c->zone_count, 1);
	const dz_config_zone_t *zone = &c->zones[0];
	assert_string_equal(zone->name, "example.net");
	assert_string_equal(zone->policy, "default");

	char expected[256];
	snprintf(expected, sizeof(expected), "%s/state/signed/example.net.zone", f->dir);
	assert_string_equal(zone->output, expected);
	snprintf(expected, sizeof(expected), "%s/example.net.zone", f->dir);
	assert_string_equal(zone->source, expected);

	const dz_config_mail_host_t *host = &zone->mail.hosts[0];
	assert_string_equal(host->name, "mx1.example.net");
	assert_int_equal(host->port_count, 1);
	assert_int_equal(host->ports[0], 25);
	assert_int_equal(host->tlsa_count, 1);
	assert_int_equal(host->tlsa[0].usage, 3);
	assert_int_equal(host->tlsa[0].selector, 1);
	assert_int_equal(host->tlsa[0].matching, 1);
	assert_int_equal(host->ttl, 3600);
	assert_int_equal(zone->mail.smimea.usage, 3);
	assert_int_equal(zone->mail.smimea.selector, 0);
	assert_int_equal(zone->mail.smimea.matching, 0);
	assert_true(zone->mail.lowercase_variants);

	const dz_config_policy_t *policy = dz_config_find_policy(c, "default");
	assert_non_null(policy);
	assert_true(policy->builtin);
	assert_int_equal(policy->policy.dnskey_ttl, 3600);
	assert_int_equal(policy->policy.key_count, 1);
}

static void
conf_policy_values_stored(void **state)
{
	fixture_t *f = *state;

	assert_int_equal(load(f, "hsm:\n"
				 "  soft:\n"
				 "    token-label: dz\n"
				 "    pin-file: token.pin\n"
				 "policies:\n"
				 "  split:\n"
				 "    keys:\n"
				 "      - role: ksk\n"
				 "        algorithm: RSASHA256\n"
				 "        bits: 3072\n"
				 "        lifetime: 365d\n"
				 "        token: soft\n"
				 "      - role: zsk\n"
				 "        algorithm: 15\n"
				 "        lifetime: P30D\n"
				 "    dnskey-ttl: 2h\n"
				 "    zone-propagation-delay: 1h30m\n"
				 "    denial: nsec\n"
				 "    nsec3-salt: \"-\"\n"
				 "    cds-digest-types: [sha256, 4]\n"
				 "    ds-observation: parent\n"
				 "    serial-policy: datecounter\n"
				 "    manual-mode: true\n"
				 "zones: []\n"),
			 DZ_OK);
	const dz_config_policy_t *split = dz_config_find_policy(f->config, "split");
	assert_non_null(split);
	const dz_policy_t *p = &split->policy;
	assert_int_equal(p->key_count, 2);
	assert_int_equal(p->keys[0].role, DZ_ROLE_KSK);
	assert_int_equal(p->keys[0].algorithm, DZ_ALG_RSASHA256);
	assert_int_equal(p->keys[0].bits, 3072);
	assert_int_equal(p->keys[0].lifetime, 365 * 86400);
	assert_string_equal(p->keys[0].token, "soft");
	assert_int_equal(p->keys[1].algorithm, DZ_ALG_ED25519);
	assert_int_equal(p->keys[1].lifetime, 30 * 86400);
	assert_null(p->keys[1].token);
	assert_int_equal(p->dnskey_ttl, 7200);
	assert_int_equal(p->zone_propagation_delay, 5400);
	assert_int_equal(p->denial, DZ_DENIAL_NSEC);
	assert_int_equal(p->cds_digest_count, 2);
	assert_int_equal(p->cds_digest_types[0], DZ_DIGEST_SHA256);
	assert_int_equal(p->cds_digest_types[1], DZ_DIGEST_SHA384);
	assert_int_equal(p->ds_observation, DZ_DS_OBSERVE_PARENT);
	assert_int_equal(p->serial_policy, DZ_SERIAL_DATECOUNTER);
	assert_true(p->manual_mode);
	/* Keys left out keep the defaults of dz_policy_init_defaults(). */
	assert_int_equal(p->signature_validity, 14 * 86400);
	/* The built-in default is still there beside the named one. */
	assert_non_null(dz_config_find_policy(f->config, "default"));
}

static void
conf_unknown_key_suggests_name(void **state)
{
	fixture_t *f = *state;

	assert_int_equal(load(f, "server:\n"
				 "  listen: [127.0.0.1]\n"
				 "  log_level: debug\n"
				 "zones: []\n"),
			 DZ_ECONFIG);
	assert_diag(f, "3:3: error: server: unknown key 'log_level'; did you mean 'log-level'?");
	assert_int_equal(f->diags.errors, 1);
	assert_null(f->config);
}

static void
conf_wrong_type_and_range(void **state)
{
	fixture_t *f = *state;

	assert_int_equal(load(f, "server:\n"
				 "  tcp-idle-timeout: 2h\n"
				 "  tcp-max-connections: [1, 2]\n"
				 "  control-mode: \"0999\"\n"
				 "policies:\n"
				 "  p:\n"
				 "    dnskey-ttl: 3000000000\n"
				 "    manual-mode: yes\n"
				 "    denial: nsec4\n"
				 "zones: []\n"),
			 DZ_ECONFIG);
	assert_diag(f, "2:21: error: server.tcp-idle-timeout: value '2h' is out of range; use a value "
		       "from 1s to 1h");
	assert_diag(f, "3:24: error: server.tcp-max-connections: expected a single value, found a list");
	assert_diag(f, "4:17: error: server.control-mode: invalid file mode '0999'; write it in octal, "
		       "as \"0660\"");
	assert_diag(f, "7:17: error: policies.p.dnskey-ttl: value '3000000000' is out of range; use a "
		       "TTL from 0 to 2147483647 seconds");
	assert_diag(f, "8:18: error: policies.p.manual-mode: invalid value 'yes'; use true or false");
	assert_diag(f, "9:13: error: policies.p.denial: unknown value 'nsec4'; use one of: nsec, nsec3");
	assert_int_equal(f->diags.errors, 6);
}

static void
conf_privsep_keys(void **state)
{
	fixture_t *f = *state;

	assert_int_equal(load(f, "server:\n"
				 "  state-dir: state\n"
				 "zones: []\n"),
			 DZ_OK);
	assert_null(f->config->server.dns_user);
	assert_null(f->config->server.chroot);
	assert_false(f->config->server.allow_root);
	assert_int_equal(f->config->server.signer_processes, 1);

	assert_int_equal(load(f, "server:\n"
				 "  user: danezone\n"
				 "  dns-user: dz-dns\n"
				 "  chroot: jail\n"
				 "  allow-root: true\n"
				 "  signer-processes: 4\n"
				 "zones: []\n"),
			 DZ_OK);
	assert_string_equal(f->config->server.dns_user, "dz-dns");
	char expected[256];
	snprintf(expected, sizeof(expected), "%s/jail", f->dir);
	assert_string_equal(f->config->server.chroot, expected);
	assert_true(f->config->server.allow_root);
	assert_int_equal(f->config->server.signer_processes, 4);

	assert_int_equal(load(f, "server:\n"
				 "  signer-processes: 0\n"
				 "  dns-user: dz-dns\n"
				 "zones: []\n"),
			 DZ_ECONFIG);
	assert_diag(f, "2:21: error: server.signer-processes: value '0' is out of range; use a value "
		       "from 1 to 64");
	assert_diag(f, "2:3: error: server: dns-user is set without user; set user too, so that the "
		       "daemon does not keep root while its DNS server process drops it");
	assert_int_equal(f->diags.errors, 2);
}

static void
conf_allow_query_prefixes_checked(void **state)
{
	fixture_t *f = *state;

	assert_int_equal(load(f, "server:\n"
				 "  allow-query: [192.0.2.0/33, \"2001:db8::/129\", example.net, "
				 "\"10.0.0.0/8\", \"::1\"]\n"
				 "zones: []\n"),
			 DZ_ECONFIG);
	assert_diag(f, "2:17: error: server.allow-query[0]: invalid prefix length in "
		       "'192.0.2.0/33'; give 0 to 32");
	assert_diag(f, "2:31: error: server.allow-query[1]: invalid prefix length in "
		       "'2001:db8::/129'; give 0 to 128");
	assert_diag(f, "2:49: error: server.allow-query[2]: invalid address 'example.net'; write "
		       "an IPv4 or IPv6 address, with /LENGTH for a prefix");
	assert_int_equal(f->diags.errors, 3);

	assert_int_equal(load(f, "server:\n"
				 "  allow-query: [\"10.0.0.0/8\", \"::1\"]\n"
				 "zones: []\n"),
			 DZ_OK);
	assert_int_equal(f->config->server.allow_query_count, 2);
	assert_string_equal(f->config->server.allow_query[0], "10.0.0.0/8");
	assert_string_equal(f->config->server.allow_query[1], "::1");
}

static void
conf_duplicate_zone_names_line(void **state)
{
	fixture_t *f = *state;

	assert_int_equal(load(f, "zones:\n"
				 "  - name: example.net\n"
				 "    source: example.net.zone\n"
				 "  - name: EXAMPLE.net.\n"
				 "    source: example.net.zone\n"),
			 DZ_ECONFIG);
	assert_diag(f, "4:11: error: zones[1].name: zone example.net is already configured at line 2; "
		       "remove one of them");
}

static void
conf_host_outside_zone(void **state)
{
	fixture_t *f = *state;

	assert_int_equal(load(f, "zones:\n"
				 "  - name: example.net\n"
				 "    source: example.net.zone\n"
				 "    mail:\n"
				 "      hosts:\n"
				 "        - name: mx.example.org\n"
				 "          certificates: mx.pem\n"),
			 DZ_ECONFIG);
	assert_diag(f, "6:17: error: zones[0].mail.hosts[0].name: host mx.example.org is not in zone "
		       "example.net; move the host to the zone that contains its name");
}

static void
conf_missing_file_named(void **state)
{
	fixture_t *f = *state;
	char expected[512];

	assert_int_equal(load(f, "zones:\n"
				 "  - name: example.net\n"
				 "    source: missing.zone\n"),
			 DZ_ECONFIG);
	snprintf(expected, sizeof(expected),
		 "3:13: error: zones[0].source: file %s/missing.zone not found (No such file or "
		 "directory); correct the path or create it", f->dir);
	assert_diag(f, expected);
}

static void
conf_buffer_loads_like_file(void **state)
{
	fixture_t *f = *state;
	static const char yaml[] = "zones:\n"
				   "  - name: example.net\n"
				   "    source: example.net.zone\n"
				   "  - name: example.org\n"
				   "    source: missing.zone\n";
	char expected[512];
	dz_error_t err;

	/* Nothing is written at config_path: the text comes from memory only. */
	dz_error_init(&err);
	assert_int_equal(dz_config_load_buffer(yaml, sizeof(yaml) - 1, f->config_path, &f->config,
					       &f->diags, &err),
			 DZ_ECONFIG);
	assert_null(f->config);
	snprintf(expected, sizeof(expected),
		 "5:13: error: zones[1].source: file %s/missing.zone not found (No such file or "
		 "directory); correct the path or create it", f->dir);
	assert_diag(f, expected);

	/* Without its last zone the text loads, and relative paths start at the folder of the name. */
	dz_cfg_diags_clear(&f->diags);
	size_t first_zone_len = strstr(yaml, "  - name: example.org") - yaml;
	assert_int_equal(dz_config_load_buffer(yaml, first_zone_len, f->config_path, &f->config,
					       &f->diags, &err),
			 DZ_OK);
	assert_string_equal(f->config->path, f->config_path);
	snprintf(expected, sizeof(expected), "%s/example.net.zone", f->dir);
	assert_string_equal(f->config->zones[0].source, expected);
}

static void
conf_unknown_references(void **state)
{
	fixture_t *f = *state;

	assert_int_equal(load(f, "secondaries:\n"
				 "  ns1:\n"
				 "    addresses: [192.0.2.1]\n"
				 "    tsig: nokey\n"
				 "zones:\n"
				 "  - name: example.net\n"
				 "    source: example.net.zone\n"
				 "    policy: nope\n"
				 "    secondaries: [ns1, ns9]\n"),
			 DZ_ECONFIG);
	assert_diag(f, "4:11: error: secondaries.ns1.tsig: unknown TSIG key 'nokey'; define it under tsig");
	assert_diag(f, "8:13: error: zones[0].policy: unknown policy 'nope'; define it under policies");
	assert_diag(f, "9:18: error: zones[0].secondaries: unknown secondary 'ns9'; define it under "
		       "secondaries");
}

static void
conf_tlsa_parameters_checked(void **state)
{
	fixture_t *f = *state;

	assert_int_equal(load(f, "zones:\n"
				 "  - name: example.net\n"
				 "    source: example.net.zone\n"
				 "    mail:\n"
				 "      hosts:\n"
				 "        - name: mx.example.net\n"
				 "          certificates: [mx.pem]\n"
				 "          tlsa: [\"1 1 1\", \"3 0 1\", \"4 1 1\", \"3 1\"]\n"),
			 DZ_ECONFIG);
	assert_diag(f, "8:36: error: zones[0].mail.hosts[0].tlsa[2]: '4 1 1' uses an unassigned value; "
		       "usage is 0 to 3, selector 0 or 1, matching type 0 to 2 (RFC 6698 section 7)");
	assert_diag(f, "8:45: error: zones[0].mail.hosts[0].tlsa[3]: invalid record parameters '3 1'; "
		       "write usage, selector and matching type as three numbers, as \"3 1 1\"");
	assert_diag(f, "8:17: error: zones[0].mail.hosts[0].tlsa: usage 1 (PKIX) is not usable for SMTP "
		       "on port 25 (RFC 7672 section 3.1.3); use \"3 1 1\", or \"2 1 1\" for an issuer");
	assert_diag(f, "8:17: warning: zones[0].mail.hosts[0].tlsa: selector 0 hashes the whole "
		       "certificate, so the record changes at every renewal even with the same key; "
		       "prefer selector 1");
}

static void
conf_pkix_allowed_off_port_25(void **state)
{
	fixture_t *f = *state;

	assert_int_equal(load(f, "zones:\n"
				 "  - name: example.net\n"
				 "    source: example.net.zone\n"
				 "    mail:\n"
				 "      hosts:\n"
				 "        - name: mail.example.net\n"
				 "          ports: [993, 587]\n"
				 "          certificates: [mx.pem]\n"
				 "          tlsa: [\"1 1 1\", \"3 1 1\"]\n"),
			 DZ_OK);
	assert_int_equal(f->config->zones[0].mail.hosts[0].port_count, 2);
	assert_int_equal(f->config->zones[0].mail.hosts[0].ports[1], 587);
}

static void
conf_idn_zone_and_host(void **state)
{
	fixture_t *f = *state;

	assert_int_equal(load(f, "zones:\n"
				 "  - name: b\xc3\xbc" "cher.example\n"
				 "    source: example.net.zone\n"
				 "    mail:\n"
				 "      hosts:\n"
				 "        - name: mx.B\xc3\x9c" "CHER.example\n"
				 "          certificates: [mx.pem]\n"),
			 DZ_OK);
	assert_string_equal(f->config->zones[0].name, "xn--bcher-kva.example");
	assert_string_equal(f->config->zones[0].mail.hosts[0].name, "mx.xn--bcher-kva.example");
	assert_non_null(dz_config_find_zone(f->config, "B\xc3\xbc" "cher.example."));
}

static void
conf_tsig_secrets(void **state)
{
	fixture_t *f = *state;

	assert_int_equal(load(f, "tsig:\n"
				 "  Xfr.Example.:\n"
				 "    algorithm: hmac-sha256\n"
				 "    secret-file: xfr.secret\n"
				 "  inline-key:\n"
				 "    algorithm: hmac-sha512\n"
				 "    secret: \"AAEC\"\n"
				 "zones: []\n"),
			 DZ_OK);
	const dz_config_tsig_t *xfr = dz_config_find_tsig(f->config, "xfr.example");
	assert_non_null(xfr);
	assert_int_equal(xfr->secret_len, 32);
	assert_int_equal(xfr->secret[0], 1);
	assert_int_equal(xfr->secret[31], 1);
	const dz_config_tsig_t *inline_key = dz_config_find_tsig(f->config, "inline-key");
	assert_non_null(inline_key);
	assert_int_equal(inline_key->algorithm, DZ_TSIG_HMAC_SHA512);
	assert_int_equal(inline_key->secret_len, 3);
	assert_int_equal(inline_key->secret[2], 2);
	/* RFC 2104: a 3-octet key is shorter than the 64-octet SHA-512 output. */
	assert_diag(f, "6:5: warning: tsig.inline-key: the secret has 3 octets, fewer than the 64 of "
		       "the hash output; generate a longer one with tsig-keygen");

	assert_int_equal(load(f, "tsig:\n"
				 "  k:\n"
				 "    secret: \"not base64!\"\n"
				 "zones: []\n"),
			 DZ_ECONFIG);
	assert_diag(f, "3:5: error: tsig.k: the secret is not valid base64; generate one with tsig-keygen");
}

static void
conf_pin_file_must_be_private(void **state)
{
	fixture_t *f = *state;

	assert_int_equal(load(f, "hsm:\n"
				 "  soft:\n"
				 "    token-label: dz\n"
				 "    pin-file: public.pin\n"
				 "zones: []\n"),
			 DZ_ECONFIG);
	int found = 0;
	for (size_t i = 0; i < f->diags.count; i++) {
		if (strstr(f->diags.items[i].text, "danezone.yaml:4:15: error: hsm.soft.pin-file: ") != NULL)
			found++;
	}
	assert_int_equal(found, 1);
}

static void
conf_yaml_syntax_error_position(void **state)
{
	fixture_t *f = *state;

	assert_int_equal(load(f, "server:\n"
				 "  listen: [127.0.0.1\n"
				 "zones: []\n"),
			 DZ_ECONFIG);
	assert_int_equal(f->diags.errors, 1);
	assert_non_null(strstr(f->diags.items[0].text, "danezone.yaml:3:"));
	assert_non_null(strstr(f->diags.items[0].text, "error: YAML syntax error"));
}

static void
conf_duplicate_key_reported(void **state)
{
	fixture_t *f = *state;

	assert_int_equal(load(f, "server:\n"
				 "  log-level: info\n"
				 "  log-level: debug\n"
				 "zones: []\n"),
			 DZ_ECONFIG);
	assert_diag(f, "3:3: error: server.log-level: key given twice (first on line 2); remove one "
		       "of them");
}

static void
conf_restart_changes_listed(void **state)
{
	fixture_t *f = *state;
	dz_config_t *old_config;
	dz_cfg_diags_t changes;

	assert_int_equal(load(f, "server:\n"
				 "  listen: [127.0.0.1@5300]\n"
				 "  log-level: info\n"
				 "zones: []\n"),
			 DZ_OK);
	old_config = f->config;
	f->config = NULL;
	assert_int_equal(load(f, "server:\n"
				 "  listen: [127.0.0.1@5301]\n"
				 "  log-level: debug\n"
				 "zones: []\n"),
			 DZ_OK);
	dz_cfg_diags_init(&changes);
	/* The log level is applied on reload; the listen address needs a restart. */
	assert_int_equal(dz_config_restart_changes(old_config, f->config, &changes), 1);
	assert_non_null(strstr(changes.items[0].text, "server.listen: changed, but a reload cannot apply it"));
	dz_cfg_diags_clear(&changes);
	dz_config_destroy(old_config);
}

static void
conf_address_forms(void **state)
{
	static const struct {
		const char *text;
		const char *normalized;
	} cases[] = {
		{ "192.0.2.1", "192.0.2.1@53" },
		{ "192.0.2.1@5353", "192.0.2.1@5353" },
		{ "192.0.2.1:8053", "192.0.2.1@8053" },
		{ "2001:db8::1", "2001:db8::1@53" },
		{ "2001:DB8::1@5353", "2001:db8::1@5353" },
		{ "[::1]:5300", "::1@5300" },
	};
	static const char *const bad[] = { "", "example.net", "192.0.2.1@0", "192.0.2.1@70000",
					   "[::1", "[::1]x", "300.1.1.1" };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		dz_config_address_t address;
		assert_int_equal(dz_config_address_parse(cases[i].text, 53, &address, NULL), DZ_OK);
		assert_string_equal(address.text, cases[i].normalized);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		dz_config_address_t address;
		assert_int_equal(dz_config_address_parse(bad[i], 53, &address, NULL), DZ_EINVAL);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(conf_minimal_gets_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(conf_policy_values_stored, setup, teardown),
		cmocka_unit_test_setup_teardown(conf_unknown_key_suggests_name, setup, teardown),
		cmocka_unit_test_setup_teardown(conf_wrong_type_and_range, setup, teardown),
		cmocka_unit_test_setup_teardown(conf_allow_query_prefixes_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(conf_duplicate_zone_names_line, setup, teardown),
		cmocka_unit_test_setup_teardown(conf_host_outside_zone, setup, teardown),
		cmocka_unit_test_setup_teardown(conf_missing_file_named, setup, teardown),
		cmocka_unit_test_setup_teardown(conf_buffer_loads_like_file, setup, teardown),
		cmocka_unit_test_setup_teardown(conf_unknown_references, setup, teardown),
		cmocka_unit_test_setup_teardown(conf_tlsa_parameters_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(conf_pkix_allowed_off_port_25, setup, teardown),
		cmocka_unit_test_setup_teardown(conf_idn_zone_and_host, setup, teardown),
		cmocka_unit_test_setup_teardown(conf_tsig_secrets, setup, teardown),
		cmocka_unit_test_setup_teardown(conf_pin_file_must_be_private, setup, teardown),
		cmocka_unit_test_setup_teardown(conf_yaml_syntax_error_position, setup, teardown),
		cmocka_unit_test_setup_teardown(conf_duplicate_key_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(conf_privsep_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(conf_restart_changes_listed, setup, teardown),
		cmocka_unit_test(conf_address_forms),
	};
	return cmocka_run_group_tests_name("zones/conf", tests, NULL, NULL);
}
