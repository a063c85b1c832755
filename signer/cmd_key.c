/*
 * cmd_key.c -- `danezone key SUBCOMMAND`: key ceremonies on a PKCS#11 token.
 *
 * Every step that touches the token appends a line to the audit log in the
 * state folder, whether it succeeds or fails.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/file.h"
#include "common/mem.h"
#include "common/policy.h"
#include "hsm/dnskey.h"
#include "hsm/uri.h"
#include "signer/cmd_key_state.h"
#include "signer/command.h"
#include "signer/key_ceremony.h"

/* Tries to get a key whose tag no other key of the zone has (RFC 4034 appendix B). */
#define KEY_TAG_TRIES 4

typedef int (*key_command_fn)(int argc, char **argv, const char *name);

/* Report an unknown option or a missing argument; returns DZ_EXIT_USAGE. */
static int
bad_option(const char *name, char **argv, int option)
{
	if (option == ':')
		fprintf(stderr, "danezone key %s: option '%s' needs a value\n", name,
			argv[optind - 1]);
	else
		fprintf(stderr, "danezone key %s: unknown option '%s'; see 'danezone key %s "
			"--help'\n", name, argv[optind - 1], name);
	return DZ_EXIT_USAGE;
}

static int
usage_error(const char *name, const char *message)
{
	fprintf(stderr, "danezone key %s: %s; see 'danezone key %s --help'\n", name, message,
		name);
	return DZ_EXIT_USAGE;
}

static int
fail(const char *name, const dz_error_t *err)
{
	fprintf(stderr, "danezone key %s: %s\n", name, dz_error_message(err));
	return DZ_EXIT_FAILURE;
}

static bool
parse_key_tag(const char *text, int *tag)
{
	char *end;

	errno = 0;
	long value = strtol(text, &end, 10);
	if (text[0] < '0' || text[0] > '9' || *end != '\0' || errno != 0 || value > 65535)
		return false;
	*tag = (int)value;
	return true;
}

/* ------------------------------------------------------------------ init-token */

static void
init_token_usage(FILE *out)
{
	fprintf(out,
		"usage: danezone key init-token --label LABEL --so-pin-file FILE --pin-file FILE\n"
		"                               [--module PATH] [--state-dir DIR]\n\n"
		"Initialise a new token in the first free slot (SoftHSM2) with a security officer\n"
		"PIN and a user PIN read from files.\n\n"
		"  --label LABEL       label of the new token (1 to 32 bytes)\n"
		"  --so-pin-file FILE  file holding the security officer PIN\n");
	dz_token_options_usage(out, true);
}

static int
cmd_init_token(int argc, char **argv, const char *name)
{
	static const struct option long_options[] = {
		{ "label", required_argument, NULL, 'l' },
		{ "so-pin-file", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		DZ_TOKEN_LONG_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	dz_token_options_t options;
	const char *label = NULL, *so_pin_file = NULL;
	dz_ceremony_t ceremony;
	dz_hsm_token_info_t token;
	dz_error_t err;
	int c;

	dz_token_options_init(&options);
	while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
		if (dz_token_options_handle(&options, c, optarg))
			continue;
		switch (c) {
		case 'l':
			label = optarg;
			break;
		case 's':
			so_pin_file = optarg;
			break;
		case 'h':
			init_token_usage(stdout);
			return DZ_EXIT_OK;
		default:
			return bad_option(name, argv, c);
		}
	}
	if (optind != argc)
		return usage_error(name, "unexpected argument");
	if (label == NULL || so_pin_file == NULL || options.pin_file == NULL)
		return usage_error(name, "--label, --so-pin-file and --pin-file are required");
	if (options.token != NULL)
		return usage_error(name, "--token selects an existing token; name the new one "
				   "with --label");

	dz_error_init(&err);
	if (dz_ceremony_init(&ceremony, name, &options, dz_clock_now(dz_clock_system()),
			     &err) != DZ_OK)
		return fail(name, &err);
	ceremony.audit.token = label;
	dz_result_t result = dz_hsm_init_token(options.module, label, so_pin_file,
					       options.pin_file, &token, &err);
	if (result == DZ_OK)
		ceremony.audit.serial = token.serial;
	if (result == DZ_OK)
		printf("initialised token '%s' (serial %s) in slot %lu\n", token.label,
		       token.serial, token.slot);
	result = dz_ceremony_finish(&ceremony, result, &err);
	return result == DZ_OK ? DZ_EXIT_OK : fail(name, &err);
}

/* ------------------------------------------------------------------ generate */

static void
generate_usage(FILE *out)
{
	fprintf(out,
		"usage: danezone key generate --zone ZONE --role ksk|zsk|csk --algorithm ALG\n"
		"                             [--bits N] [--ttl SECONDS] [token options]\n\n"
		"Generate a key pair inside the token and register it for the zone.  A KSK or\n"
		"CSK ceremony ends with the DS record to hand to the registrar.\n\n"
		"  --zone ZONE         zone the key signs\n"
		"  --role ROLE         ksk, zsk or csk\n"
		"  --algorithm ALG     RSASHA256, ECDSAP256SHA256, ECDSAP384SHA384, ED25519, ED448\n"
		"  --bits N            RSA modulus size, 2048 to 4096 (default 2048)\n"
		"  --ttl SECONDS       TTL of the printed DNSKEY and DS records (default %d)\n",
		DZ_CEREMONY_DEFAULT_TTL);
	dz_token_options_usage(out, true);
}

/* Whether another registered key of the zone has this key tag and algorithm. */
static bool
key_tag_taken(const dz_hsm_registry_t *registry, const char *zone, uint8_t algorithm,
	      uint16_t tag)
{
	for (size_t i = 0; i < registry->count; i++) {
		const dz_hsm_key_record_t *record = &registry->records[i];
		if (record->key_tag == tag && record->algorithm == algorithm &&
		    strcmp(record->zone, zone) == 0)
			return true;
	}
	return false;
}

/* Print the DNSKEY record and, for a KSK or CSK, the DS record; record the DS for the audit. */
static dz_result_t
print_records(dz_ceremony_t *ceremony, const dz_hsm_key_record_t *record, const dz_buf_t *rdata,
	      uint32_t ttl, dz_error_t *err)
{
	char *dnskey = dz_hsm_dnskey_format(record->zone, ttl, rdata->data, rdata->len);
	char *ds = NULL;
	dz_result_t result = DZ_OK;

	if (dnskey == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	printf("%s\n", dnskey);
	if ((record->role & DZ_ROLE_KSK) != 0) {
		result = dz_ceremony_ds_line(record->zone, ttl, rdata, DZ_DIGEST_SHA256, &ds, err);
		if (result == DZ_OK) {
			printf("DS record to hand to the registrar of %s:\n%s\n", record->zone, ds);
			dz_ceremony_audit_ds(ceremony, ds);
		}
	}
	free(ds);
	free(dnskey);
	return result;
}

/* Generate a key pair whose tag is free in the zone; fills record and rdata. */
static dz_result_t
generate_key(dz_ceremony_t *ceremony, dz_hsm_key_record_t *record, dz_buf_t *rdata,
	     dz_error_t *err)
{
	char label[DZ_HSM_KEY_LABEL_MAX];
	const char *role = record->role == DZ_ROLE_KSK ? "KSK" :
			   record->role == DZ_ROLE_ZSK ? "ZSK" : "CSK";
	const char *algorithm = dz_algorithm_name(record->algorithm);
	dz_result_t result;

	for (int tries = 1;; tries++) {
		dz_hsm_key_t key;

		snprintf(label, sizeof(label), "%s %s new %s", record->zone, role, algorithm);
		result = dz_hsm_generate_key(ceremony->hsm, record->algorithm, record->bits, label,
					     &key, err);
		if (result != DZ_OK)
			return result;
		memcpy(record->id, key.id, key.id_len);
		record->id_len = key.id_len;
		record->key_tag = 0;
		if (record->algorithm != DZ_ALG_RSASHA256 && record->algorithm != DZ_ALG_RSASHA512)
			record->bits = key.bits;
		dz_ceremony_audit_key(ceremony, record);

		uint8_t public_key[DZ_HSM_PUBLIC_KEY_MAX];
		size_t public_key_len = 0;
		rdata->len = 0;
		result = dz_hsm_public_key(ceremony->hsm, key.id, key.id_len, record->algorithm,
					   public_key, &public_key_len, err);
		if (result == DZ_OK &&
		    dz_hsm_dnskey_rdata(rdata, dz_ceremony_dnskey_flags(record->role),
					record->algorithm, public_key, public_key_len) != DZ_OK)
			result = dz_error_set(err, DZ_ENOMEM, "out of memory");
		if (result != DZ_OK)
			return result;
		record->key_tag = dz_hsm_dnskey_key_tag(rdata->data, rdata->len);
		dz_ceremony_audit_key(ceremony, record);
		if (!key_tag_taken(&ceremony->registry, record->zone, record->algorithm,
				   record->key_tag) || tries == KEY_TAG_TRIES)
			break;
		/* Validators try every key with a tag, so avoid duplicates: discard and retry. */
		result = dz_hsm_delete_key(ceremony->hsm, key.id, key.id_len, err);
		if (result != DZ_OK)
			return result;
	}

	snprintf(label, sizeof(label), "%s %s %u %s", record->zone, role,
		 (unsigned)record->key_tag, algorithm);
	return dz_hsm_set_key_label(ceremony->hsm, record->id, record->id_len, label, err);
}

static int
cmd_generate(int argc, char **argv, const char *name)
{
	static const struct option long_options[] = {
		{ "zone", required_argument, NULL, 'z' },
		{ "role", required_argument, NULL, 'r' },
		{ "algorithm", required_argument, NULL, 'a' },
		{ "bits", required_argument, NULL, 'b' },
		{ "ttl", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		DZ_TOKEN_LONG_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	dz_token_options_t options;
	const char *zone = NULL, *role = NULL, *algorithm = NULL, *bits = NULL, *ttl_text = NULL;
	dz_hsm_key_record_t record;
	dz_ceremony_t ceremony;
	dz_buf_t rdata;
	uint32_t ttl = DZ_CEREMONY_DEFAULT_TTL;
	dz_error_t err;
	int c;

	dz_token_options_init(&options);
	while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
		if (dz_token_options_handle(&options, c, optarg))
			continue;
		switch (c) {
		case 'z': zone = optarg; break;
		case 'r': role = optarg; break;
		case 'a': algorithm = optarg; break;
		case 'b': bits = optarg; break;
		case 't': ttl_text = optarg; break;
		case 'h':
			generate_usage(stdout);
			return DZ_EXIT_OK;
		default:
			return bad_option(name, argv, c);
		}
	}
	if (optind != argc)
		return usage_error(name, "unexpected argument");
	if (zone == NULL || role == NULL || algorithm == NULL)
		return usage_error(name, "--zone, --role and --algorithm are required");

	memset(&record, 0, sizeof(record));
	dz_error_init(&err);
	if (!dz_role_parse(role, &record.role))
		return usage_error(name, "--role must be ksk, zsk or csk");
	if (!dz_algorithm_parse(algorithm, &record.algorithm)) {
		fprintf(stderr, "danezone key %s: unknown algorithm '%s'; use RSASHA256, "
			"ECDSAP256SHA256, ECDSAP384SHA384, ED25519 or ED448\n", name, algorithm);
		return DZ_EXIT_USAGE;
	}
	bool rsa = record.algorithm == DZ_ALG_RSASHA256 || record.algorithm == DZ_ALG_RSASHA512;
	if (bits != NULL) {
		char *end;
		errno = 0;
		unsigned long value = strtoul(bits, &end, 10);
		if (!rsa)
			return usage_error(name, "--bits applies only to RSA algorithms");
		if (bits[0] < '0' || bits[0] > '9' || *end != '\0' || errno != 0 ||
		    value < DZ_HSM_RSA_BITS_MIN || value > DZ_HSM_RSA_BITS_MAX)
			return usage_error(name, "--bits must be a number from 2048 to 4096");
		record.bits = (unsigned)value;
	} else if (rsa) {
		record.bits = DZ_HSM_RSA_BITS_MIN;
	}
	if (ttl_text != NULL && dz_parse_ttl(ttl_text, &ttl, &err) != DZ_OK)
		return fail(name, &err);

	record.created = dz_clock_now(dz_clock_system());
	if (dz_ceremony_init(&ceremony, name, &options, record.created, &err) != DZ_OK)
		return fail(name, &err);
	dz_buf_init(&rdata);
	dz_result_t result = dz_hsm_canonical_name(zone, &record.zone, &err);
	if (result == DZ_OK) {
		ceremony.audit.zone = record.zone;
		ceremony.audit.role = dz_role_name(record.role);
		ceremony.audit.algorithm = dz_algorithm_name(record.algorithm);
		result = dz_ceremony_open_token(&ceremony, &err);
	}
	if (result == DZ_OK)
		result = generate_key(&ceremony, &record, &rdata, &err);
	if (result == DZ_OK)
		result = dz_hsm_registry_add(&ceremony.registry, &record, &err);
	if (result == DZ_OK)
		result = dz_ceremony_save_registry(&ceremony, &err);
	if (result == DZ_OK) {
		char hex[2 * DZ_KEY_ID_MAX + 1];
		printf("generated %s %s %u %s in token '%s', id %s\n", record.zone,
		       dz_role_name(record.role), (unsigned)record.key_tag,
		       dz_algorithm_name(record.algorithm), dz_hsm_token(ceremony.hsm)->label,
		       dz_hsm_id_hex(record.id, record.id_len, hex));
		result = print_records(&ceremony, &record, &rdata, ttl, &err);
	}
	result = dz_ceremony_finish(&ceremony, result, &err);
	dz_buf_clear(&rdata);
	free(record.zone);
	return result == DZ_OK ? DZ_EXIT_OK : fail(name, &err);
}

/* ------------------------------------------------------------------ list */

static void
list_usage(FILE *out)
{
	fprintf(out,
		"usage: danezone key list [--zone ZONE] [--all] [token options]\n\n"
		"List the registered keys: zone, role, algorithm, key tag, CKA_ID, creation time\n"
		"and state.\n\n"
		"  --zone ZONE         only keys of this zone\n"
		"  --all               also private keys in the token that are not registered\n");
	dz_token_options_usage(out, true);
}

static const char *
record_state(const dz_hsm_key_record_t *record, bool in_token)
{
	if (!in_token)
		return "missing-from-token";
	if (record->published && record->signing)
		return "published,signing";
	if (record->published)
		return "published";
	if (record->signing)
		return "signing";
	return "-";
}

static int
cmd_list(int argc, char **argv, const char *name)
{
	static const struct option long_options[] = {
		{ "zone", required_argument, NULL, 'z' },
		{ "all", no_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		DZ_TOKEN_LONG_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	dz_token_options_t options;
	dz_key_selector_t selector;
	dz_ceremony_t ceremony;
	dz_hsm_key_t *keys = NULL;
	size_t key_count = 0;
	bool all = false;
	dz_error_t err;
	int c;

	dz_token_options_init(&options);
	dz_key_selector_init(&selector);
	dz_error_init(&err);
	while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
		if (dz_token_options_handle(&options, c, optarg))
			continue;
		switch (c) {
		case 'z':
			if (dz_key_selector_zone(&selector, optarg, &err) != DZ_OK)
				return fail(name, &err);
			break;
		case 'A':
			all = true;
			break;
		case 'h':
			list_usage(stdout);
			dz_key_selector_clear(&selector);
			return DZ_EXIT_OK;
		default:
			dz_key_selector_clear(&selector);
			return bad_option(name, argv, c);
		}
	}
	if (optind != argc) {
		dz_key_selector_clear(&selector);
		return usage_error(name, "unexpected argument");
	}

	dz_result_t result = dz_ceremony_init(&ceremony, name, &options,
					      dz_clock_now(dz_clock_system()), &err);
	if (result != DZ_OK) {
		dz_key_selector_clear(&selector);
		return fail(name, &err);
	}
	result = dz_ceremony_open_token(&ceremony, &err);
	if (result == DZ_OK)
		result = dz_hsm_list_keys(ceremony.hsm, &keys, &key_count, &err);
	if (result == DZ_OK) {
		printf("%-24s %-4s %-16s %-5s %-32s %-20s %s\n", "ZONE", "ROLE", "ALGORITHM",
		       "TAG", "ID", "CREATED", "STATE");
		for (size_t i = 0; i < ceremony.registry.count; i++) {
			const dz_hsm_key_record_t *record = &ceremony.registry.records[i];
			char hex[2 * DZ_KEY_ID_MAX + 1];
			char created[DZ_TIME_TEXT_MAX];
			dz_hsm_key_t key;
			if (selector.zone != NULL && strcmp(selector.zone, record->zone) != 0)
				continue;
			bool in_token = dz_hsm_find_key(ceremony.hsm, record->id, record->id_len,
							&key, NULL) == DZ_OK;
			printf("%-24s %-4s %-16s %-5u %-32s %-20s %s\n", record->zone,
			       dz_role_name(record->role), dz_algorithm_name(record->algorithm),
			       (unsigned)record->key_tag,
			       dz_hsm_id_hex(record->id, record->id_len, hex),
			       dz_time_format(record->created, created),
			       record_state(record, in_token));
		}
		for (size_t i = 0; all && i < key_count; i++) {
			char hex[2 * DZ_KEY_ID_MAX + 1];
			const char *algorithm = dz_algorithm_name(keys[i].algorithm);
			if (dz_hsm_registry_find(&ceremony.registry, keys[i].id, keys[i].id_len) != NULL)
				continue;
			printf("%-24s %-4s %-16s %-5s %-32s %-20s unregistered '%s'\n", "-", "-",
			       algorithm != NULL ? algorithm : "-", "-",
			       dz_hsm_id_hex(keys[i].id, keys[i].id_len, hex), "-", keys[i].label);
		}
	}
	free(keys);
	/* Listing changes nothing, so it is not a ceremony step: no audit entry. */
	free(ceremony.audit_path);
	ceremony.audit_path = NULL;
	result = dz_ceremony_finish(&ceremony, result, &err);
	dz_key_selector_clear(&selector);
	return result == DZ_OK ? DZ_EXIT_OK : fail(name, &err);
}

/* ------------------------------------------------------------------ export-dnskey, export-ds */

static void
export_usage(FILE *out, bool ds)
{
	fprintf(out,
		"usage: danezone key %s --zone ZONE [--tag N] [--id HEX]%s [--ttl SECONDS]\n"
		"       [token options]\n\n"
		"Print the %s records of the zone's registered keys in zone-file form.\n\n"
		"  --zone ZONE         zone of the keys\n"
		"  --tag N             only the key with this key tag\n"
		"  --id HEX            only the key with this CKA_ID\n"
		"%s"
		"  --ttl SECONDS       TTL of the records (default %d)\n",
		ds ? "export-ds" : "export-dnskey", ds ? " [--digest sha256|sha384]" : "",
		ds ? "DS (of KSKs and CSKs)" : "DNSKEY",
		ds ? "  --digest ALG        sha256 (default) or sha384; may be given twice\n" : "",
		DZ_CEREMONY_DEFAULT_TTL);
	dz_token_options_usage(out, true);
}

static int
cmd_export(int argc, char **argv, const char *name)
{
	static const struct option long_options[] = {
		{ "zone", required_argument, NULL, 'z' },
		{ "tag", required_argument, NULL, 'T' },
		{ "id", required_argument, NULL, 'i' },
		{ "digest", required_argument, NULL, 'd' },
		{ "ttl", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		DZ_TOKEN_LONG_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	bool ds = strcmp(name, "export-ds") == 0;
	dz_token_options_t options;
	dz_key_selector_t selector;
	dz_ceremony_t ceremony;
	uint8_t digests[2];
	size_t digest_count = 0;
	uint32_t ttl = DZ_CEREMONY_DEFAULT_TTL;
	dz_hsm_key_record_t **records = NULL;
	size_t count = 0;
	dz_error_t err;
	int status = DZ_EXIT_USAGE;
	int c;

	dz_token_options_init(&options);
	dz_key_selector_init(&selector);
	dz_error_init(&err);
	while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
		if (dz_token_options_handle(&options, c, optarg))
			continue;
		switch (c) {
		case 'z':
			if (dz_key_selector_zone(&selector, optarg, &err) != DZ_OK)
				goto failed;
			break;
		case 'T':
			if (!parse_key_tag(optarg, &selector.key_tag)) {
				usage_error(name, "--tag must be a key tag from 0 to 65535");
				goto cleanup;
			}
			break;
		case 'i':
			if (dz_key_selector_id(&selector, optarg, &err) != DZ_OK)
				goto failed;
			break;
		case 'd':
			if (!ds || digest_count == DZ_ARRAY_SIZE(digests)) {
				usage_error(name, ds ? "--digest may be given at most twice" :
						       "--digest applies to export-ds");
				goto cleanup;
			}
			if (dz_parse_digest(optarg, &digests[digest_count++], &err) != DZ_OK)
				goto failed;
			break;
		case 't':
			if (dz_parse_ttl(optarg, &ttl, &err) != DZ_OK)
				goto failed;
			break;
		case 'h':
			export_usage(stdout, ds);
			status = DZ_EXIT_OK;
			goto cleanup;
		default:
			status = bad_option(name, argv, c);
			goto cleanup;
		}
	}
	if (optind != argc) {
		usage_error(name, "unexpected argument");
		goto cleanup;
	}
	if (selector.zone == NULL && selector.id_len == 0) {
		usage_error(name, "give --zone or --id");
		goto cleanup;
	}
	if (digest_count == 0)
		digests[digest_count++] = DZ_DIGEST_SHA256;
	selector.ksk_only = ds && selector.id_len == 0;

	dz_result_t result = dz_ceremony_init(&ceremony, name, &options,
					      dz_clock_now(dz_clock_system()), &err);
	if (result != DZ_OK)
		goto failed;
	ceremony.audit.zone = selector.zone;
	result = dz_ceremony_open_token(&ceremony, &err);
	if (result == DZ_OK)
		result = dz_ceremony_select(&ceremony, &selector, &records, &count, &err);
	for (size_t i = 0; result == DZ_OK && i < count; i++) {
		const dz_hsm_key_record_t *record = records[i];
		dz_buf_t rdata;

		if (count == 1)
			dz_ceremony_audit_key(&ceremony, record);
		if (ds && (record->role & DZ_ROLE_KSK) == 0) {
			result = dz_error_set(&err, DZ_EINVAL,
					      "key %u of %s is a ZSK; DS records point only at KSKs "
					      "and CSKs", (unsigned)record->key_tag, record->zone);
			break;
		}
		dz_buf_init(&rdata);
		result = dz_ceremony_dnskey(&ceremony, record, &rdata, &err);
		if (result == DZ_OK && !ds) {
			char *line = dz_hsm_dnskey_format(record->zone, ttl, rdata.data, rdata.len);
			if (line == NULL)
				result = dz_error_set(&err, DZ_ENOMEM, "out of memory");
			else
				printf("%s\n", line);
			free(line);
		}
		for (size_t d = 0; result == DZ_OK && ds && d < digest_count; d++) {
			char *line = NULL;
			result = dz_ceremony_ds_line(record->zone, ttl, &rdata, digests[d], &line,
						     &err);
			if (result == DZ_OK) {
				printf("%s\n", line);
				dz_ceremony_audit_ds(&ceremony, line);
			}
			free(line);
		}
		dz_buf_clear(&rdata);
	}
	free(records);
	result = dz_ceremony_finish(&ceremony, result, &err);
	if (result == DZ_OK) {
		status = DZ_EXIT_OK;
		goto cleanup;
	}

failed:
	status = fail(name, &err);
cleanup:
	dz_key_selector_clear(&selector);
	return status;
}

/* ------------------------------------------------------------------ import */

static void
import_usage(FILE *out)
{
	fprintf(out,
		"usage: danezone key import --zone ZONE --role ksk|zsk|csk\n"
		"                           (--id HEX | --label LABEL | --key pkcs11:URI)\n"
		"                           [--algorithm ALG] [--ttl SECONDS] [token options]\n\n"
		"Register a key pair that already exists in the token for a zone and role.\n\n"
		"  --id HEX            CKA_ID of the private key\n"
		"  --label LABEL       CKA_LABEL of the private key\n"
		"  --key URI           pkcs11: URI with id= or object=\n"
		"  --algorithm ALG     for RSA keys: RSASHA256 (default) or RSASHA512; other\n"
		"                      keys have the algorithm of their curve\n");
	dz_token_options_usage(out, true);
}

/* Find the key an import names by id, label or URI. */
static dz_result_t
find_import_key(dz_ceremony_t *ceremony, const dz_key_selector_t *selector, const char *label,
		const char *uri, dz_hsm_key_t *key, dz_error_t *err)
{
	dz_hsm_token_spec_t spec;
	dz_result_t result;

	if (selector->id_len > 0)
		return dz_hsm_find_key(ceremony->hsm, selector->id, selector->id_len, key, err);
	if (label != NULL)
		return dz_hsm_find_key_by_label(ceremony->hsm, label, key, err);
	result = dz_hsm_token_spec_parse(uri, &spec, err);
	if (result != DZ_OK)
		return result;
	if (!dz_hsm_token_spec_names_key(&spec))
		result = dz_error_set(err, DZ_EINVAL, "--key %s names no key: add id= or object=",
				      uri);
	else if (!dz_hsm_token_spec_matches(&spec, dz_hsm_token(ceremony->hsm)))
		result = dz_error_set(err, DZ_EINVAL, "--key %s names another token than '%s'",
				      uri, dz_hsm_token(ceremony->hsm)->label);
	else if (spec.object_id_len > 0)
		result = dz_hsm_find_key(ceremony->hsm, spec.object_id, spec.object_id_len, key,
					 err);
	else
		result = dz_hsm_find_key_by_label(ceremony->hsm, spec.object_label, key, err);
	if (result == DZ_OK && spec.object_id_len > 0 && spec.object_label != NULL &&
	    strcmp(spec.object_label, key->label) != 0)
		result = dz_error_set(err, DZ_EHSM_KEY,
				      "the key with the URI's id is labelled '%s', not '%s'",
				      key->label, spec.object_label);
	dz_hsm_token_spec_clear(&spec);
	return result;
}

static int
cmd_import(int argc, char **argv, const char *name)
{
	static const struct option long_options[] = {
		{ "zone", required_argument, NULL, 'z' },
		{ "role", required_argument, NULL, 'r' },
		{ "id", required_argument, NULL, 'i' },
		{ "label", required_argument, NULL, 'l' },
		{ "key", required_argument, NULL, 'k' },
		{ "algorithm", required_argument, NULL, 'a' },
		{ "ttl", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		DZ_TOKEN_LONG_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	dz_token_options_t options;
	dz_key_selector_t selector;
	const char *zone = NULL, *role = NULL, *label = NULL, *uri = NULL, *algorithm = NULL;
	const char *ttl_text = NULL;
	uint32_t ttl = DZ_CEREMONY_DEFAULT_TTL;
	dz_hsm_key_record_t record;
	dz_ceremony_t ceremony;
	dz_hsm_key_t key;
	dz_buf_t rdata;
	dz_error_t err;
	int status = DZ_EXIT_USAGE;
	int c;

	dz_token_options_init(&options);
	dz_key_selector_init(&selector);
	dz_error_init(&err);
	memset(&record, 0, sizeof(record));
	dz_buf_init(&rdata);
	while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
		if (dz_token_options_handle(&options, c, optarg))
			continue;
		switch (c) {
		case 'z': zone = optarg; break;
		case 'r': role = optarg; break;
		case 'l': label = optarg; break;
		case 'k': uri = optarg; break;
		case 'a': algorithm = optarg; break;
		case 't': ttl_text = optarg; break;
		case 'i':
			if (dz_key_selector_id(&selector, optarg, &err) != DZ_OK)
				goto failed;
			break;
		case 'h':
			import_usage(stdout);
			status = DZ_EXIT_OK;
			goto cleanup;
		default:
			status = bad_option(name, argv, c);
			goto cleanup;
		}
	}
	if (optind != argc) {
		usage_error(name, "unexpected argument");
		goto cleanup;
	}
	if (zone == NULL || role == NULL) {
		usage_error(name, "--zone and --role are required");
		goto cleanup;
	}
	if ((selector.id_len > 0) + (label != NULL) + (uri != NULL) != 1) {
		usage_error(name, "name the key with one of --id, --label and --key");
		goto cleanup;
	}
	if (!dz_role_parse(role, &record.role)) {
		usage_error(name, "--role must be ksk, zsk or csk");
		goto cleanup;
	}
	if (algorithm != NULL && !dz_algorithm_parse(algorithm, &record.algorithm)) {
		usage_error(name, "unknown --algorithm");
		goto cleanup;
	}
	if (ttl_text != NULL && dz_parse_ttl(ttl_text, &ttl, &err) != DZ_OK)
		goto failed;

	record.created = dz_clock_now(dz_clock_system());
	if (dz_ceremony_init(&ceremony, name, &options, record.created, &err) != DZ_OK)
		goto failed;
	dz_result_t result = dz_hsm_canonical_name(zone, &record.zone, &err);
	if (result == DZ_OK) {
		ceremony.audit.zone = record.zone;
		result = dz_ceremony_open_token(&ceremony, &err);
	}
	if (result == DZ_OK)
		result = find_import_key(&ceremony, &selector, label, uri, &key, &err);
	if (result == DZ_OK) {
		memcpy(record.id, key.id, key.id_len);
		record.id_len = key.id_len;
		record.bits = key.bits;
		if (record.algorithm == 0)
			record.algorithm = key.algorithm;
		if (record.algorithm == 0)
			result = dz_error_set(&err, DZ_ENOTSUP,
					      "key '%s' is of a type or curve DNSSEC does not use",
					      key.label);
	}
	if (result == DZ_OK) {
		uint8_t public_key[DZ_HSM_PUBLIC_KEY_MAX];
		size_t public_key_len = 0;
		result = dz_hsm_public_key(ceremony.hsm, record.id, record.id_len, record.algorithm,
					   public_key, &public_key_len, &err);
		if (result == DZ_OK &&
		    dz_hsm_dnskey_rdata(&rdata, dz_ceremony_dnskey_flags(record.role),
					record.algorithm, public_key, public_key_len) != DZ_OK)
			result = dz_error_set(&err, DZ_ENOMEM, "out of memory");
	}
	if (result == DZ_OK) {
		record.key_tag = dz_hsm_dnskey_key_tag(rdata.data, rdata.len);
		dz_ceremony_audit_key(&ceremony, &record);
		result = dz_hsm_registry_add(&ceremony.registry, &record, &err);
	}
	if (result == DZ_OK)
		result = dz_ceremony_save_registry(&ceremony, &err);
	if (result == DZ_OK) {
		printf("registered key '%s' as %s %s %u %s\n", key.label, record.zone,
		       dz_role_name(record.role), (unsigned)record.key_tag,
		       dz_algorithm_name(record.algorithm));
		result = print_records(&ceremony, &record, &rdata, ttl, &err);
	}
	result = dz_ceremony_finish(&ceremony, result, &err);
	if (result == DZ_OK) {
		status = DZ_EXIT_OK;
		goto cleanup;
	}

failed:
	status = fail(name, &err);
cleanup:
	dz_buf_clear(&rdata);
	free(record.zone);
	dz_key_selector_clear(&selector);
	return status;
}

/* ------------------------------------------------------------------ delete */

static void
delete_usage(FILE *out)
{
	fprintf(out,
		"usage: danezone key delete (--id HEX | --zone ZONE --tag N) [--force]\n"
		"                           [token options]\n\n"
		"Delete a key pair from the token and the registry.  A key that is published\n"
		"or signing is kept unless --force is given.\n\n"
		"  --id HEX            CKA_ID of the key\n"
		"  --zone ZONE --tag N zone and key tag of a registered key\n"
		"  --force             delete even a published or signing key\n");
	dz_token_options_usage(out, true);
}

/* Delete a key named by id that the registry does not know. */
static dz_result_t
delete_unregistered(dz_ceremony_t *ceremony, const dz_key_selector_t *selector, dz_error_t *err)
{
	dz_hsm_key_t key;
	dz_result_t result = dz_hsm_find_key(ceremony->hsm, selector->id, selector->id_len, &key,
					     err);

	dz_hex_encode(selector->id, selector->id_len, ceremony->audit_id);
	ceremony->audit.key_id = ceremony->audit_id;
	if (result == DZ_OK)
		result = dz_hsm_delete_key(ceremony->hsm, selector->id, selector->id_len, err);
	if (result == DZ_OK)
		printf("deleted unregistered key '%s' (id %s) from token '%s'\n", key.label,
		       ceremony->audit_id, dz_hsm_token(ceremony->hsm)->label);
	return result;
}

static dz_result_t
delete_registered(dz_ceremony_t *ceremony, dz_hsm_key_record_t *record, bool force,
		  dz_error_t *err)
{
	dz_hsm_key_t key;
	char hex[2 * DZ_KEY_ID_MAX + 1];
	dz_result_t result;
	char *zone = NULL;
	unsigned tag = record->key_tag;

	dz_ceremony_audit_key(ceremony, record);
	if ((record->published || record->signing) && !force)
		return dz_error_set(err, DZ_ESTATE,
				    "key %u of %s is %s; deleting it would break validation of "
				    "the zone: let the key manager retire it first, or give "
				    "--force", tag, record->zone,
				    record->published && record->signing ? "published and signing" :
				    record->published ? "published" : "signing");
	dz_hsm_id_hex(record->id, record->id_len, hex);
	result = dz_hsm_find_key(ceremony->hsm, record->id, record->id_len, &key, NULL);
	if (result == DZ_OK)
		result = dz_hsm_delete_key(ceremony->hsm, record->id, record->id_len, err);
	else if (result == DZ_EHSM_KEY)
		result = DZ_OK;	/* gone from the token already: drop the record */
	if (result != DZ_OK)
		return result;
	zone = strdup(record->zone);
	dz_hsm_registry_remove(&ceremony->registry, record->id, record->id_len);
	result = dz_ceremony_save_registry(ceremony, err);
	if (result == DZ_OK)
		printf("deleted key %u of %s (id %s) from token '%s'%s\n", tag,
		       zone != NULL ? zone : "?", hex, dz_hsm_token(ceremony->hsm)->label,
		       force ? " (forced)" : "");
	free(zone);
	return result;
}

static int
cmd_delete(int argc, char **argv, const char *name)
{
	static const struct option long_options[] = {
		{ "zone", required_argument, NULL, 'z' },
		{ "tag", required_argument, NULL, 'T' },
		{ "id", required_argument, NULL, 'i' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		DZ_TOKEN_LONG_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	dz_token_options_t options;
	dz_key_selector_t selector;
	dz_ceremony_t ceremony;
	dz_hsm_key_record_t **records = NULL;
	size_t count = 0;
	bool force = false;
	dz_error_t err;
	int status = DZ_EXIT_USAGE;
	int c;

	dz_token_options_init(&options);
	dz_key_selector_init(&selector);
	dz_error_init(&err);
	while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
		if (dz_token_options_handle(&options, c, optarg))
			continue;
		switch (c) {
		case 'z':
			if (dz_key_selector_zone(&selector, optarg, &err) != DZ_OK)
				goto failed;
			break;
		case 'T':
			if (!parse_key_tag(optarg, &selector.key_tag)) {
				usage_error(name, "--tag must be a key tag from 0 to 65535");
				goto cleanup;
			}
			break;
		case 'i':
			if (dz_key_selector_id(&selector, optarg, &err) != DZ_OK)
				goto failed;
			break;
		case 'f':
			force = true;
			break;
		case 'h':
			delete_usage(stdout);
			status = DZ_EXIT_OK;
			goto cleanup;
		default:
			status = bad_option(name, argv, c);
			goto cleanup;
		}
	}
	if (optind != argc) {
		usage_error(name, "unexpected argument");
		goto cleanup;
	}
	if (selector.id_len == 0 && (selector.zone == NULL || selector.key_tag < 0)) {
		usage_error(name, "name the key with --id, or with --zone and --tag");
		goto cleanup;
	}

	if (dz_ceremony_init(&ceremony, name, &options, dz_clock_now(dz_clock_system()),
			     &err) != DZ_OK)
		goto failed;
	ceremony.audit.zone = selector.zone;
	dz_result_t result = dz_ceremony_open_token(&ceremony, &err);
	if (result == DZ_OK) {
		bool registered = selector.id_len > 0 &&
				  dz_hsm_registry_find(&ceremony.registry, selector.id,
						       selector.id_len) != NULL;
		if (selector.id_len > 0 && !registered && selector.zone == NULL)
			result = delete_unregistered(&ceremony, &selector, &err);
		else
			result = dz_ceremony_select(&ceremony, &selector, &records, &count, &err);
		if (records != NULL && count > 1)
			result = dz_error_set(&err, DZ_EINVAL,
					      "%zu keys of %s have key tag %d; name the key with --id",
					      count, selector.zone, selector.key_tag);
		else if (records != NULL)
			result = delete_registered(&ceremony, records[0], force, &err);
	}
	free(records);
	result = dz_ceremony_finish(&ceremony, result, &err);
	if (result == DZ_OK) {
		status = DZ_EXIT_OK;
		goto cleanup;
	}

failed:
	status = fail(name, &err);
cleanup:
	dz_key_selector_clear(&selector);
	return status;
}

/* ------------------------------------------------------------------ audit */

static int
cmd_audit(int argc, char **argv, const char *name)
{
	static const struct option long_options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "state-dir", required_argument, NULL, DZ_OPT_STATE_DIR },
		{ NULL, 0, NULL, 0 },
	};
	dz_token_options_t options;
	char *text = NULL;
	size_t len = 0;
	dz_buf_t path;
	dz_error_t err;
	int c;

	dz_token_options_init(&options);
	while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
		if (dz_token_options_handle(&options, c, optarg))
			continue;
		if (c == 'h') {
			printf("usage: danezone key audit [--state-dir DIR]\n\n"
			       "Print the key ceremony audit log, oldest step first.\n\n");
			dz_token_options_usage(stdout, true);
			return DZ_EXIT_OK;
		}
		return bad_option(name, argv, c);
	}
	if (optind != argc)
		return usage_error(name, "unexpected argument");

	dz_error_init(&err);
	dz_buf_init(&path);
	if (dz_buf_printf(&path, "%s/%s", dz_token_options_state_dir(&options),
			  DZ_HSM_AUDIT_LOG_NAME) != DZ_OK)
		return DZ_EXIT_FAILURE;
	/* The log grows by one line per step; 64 MiB is decades of ceremonies. */
	dz_result_t result = dz_file_read_all((const char *)path.data, 64 * 1024 * 1024, &text,
					      &len, &err);
	if (result == DZ_ENOTFOUND)
		dz_error_set(&err, result, "no audit log at %s: no ceremony step was recorded in "
			     "this state folder", (const char *)path.data);
	dz_buf_clear(&path);
	if (result != DZ_OK)
		return fail(name, &err);
	fwrite(text, 1, len, stdout);
	free(text);
	return DZ_EXIT_OK;
}

/* ------------------------------------------------------------------ dispatch */

static const struct {
	const char *name;
	const char *summary;
	key_command_fn run;
} key_commands[] = {
	{ "audit", "print the ceremony audit log", cmd_audit },
	{ "backup-done", "confirm that a key of a zone is backed up", dz_cmd_key_backup_done },
	{ "clock-ack", "accept the clock after a jump froze key transitions", dz_cmd_key_clock_ack },
	{ "delete", "delete a key pair from the token", cmd_delete },
	{ "ds-check", "ask the parent's servers for the zone's DS RRset", dz_cmd_key_ds_check },
	{ "ds-gone", "record that the parent no longer serves a key's DS", dz_cmd_key_ds_observed },
	{ "ds-seen", "record that the parent serves a key's DS", dz_cmd_key_ds_observed },
	{ "export-dnskey", "print DNSKEY records of a zone's keys", cmd_export },
	{ "export-ds", "print DS records of a zone's KSKs and CSKs", cmd_export },
	{ "generate", "generate a key pair in the token for a zone", cmd_generate },
	{ "import", "register a key pair that is already in the token", cmd_import },
	{ "init-token", "initialise a SoftHSM2 token", cmd_init_token },
	{ "list", "list the registered keys", cmd_list },
	{ "rollover", "request a rollover (or an emergency one) of a zone's key", dz_cmd_key_rollover },
	{ "step", "manual mode: allow the next key transitions of a zone", dz_cmd_key_step },
};

static void
key_usage(FILE *out)
{
	fprintf(out, "usage: danezone key COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < DZ_ARRAY_SIZE(key_commands); i++)
		fprintf(out, "  %-14s %s\n", key_commands[i].name, key_commands[i].summary);
	fprintf(out, "\n'danezone key COMMAND --help' describes one command.\n");
}

int
dz_cmd_key(int argc, char **argv)
{
	if (argc < 2) {
		key_usage(stderr);
		return DZ_EXIT_USAGE;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		key_usage(stdout);
		return DZ_EXIT_OK;
	}
	for (size_t i = 0; i < DZ_ARRAY_SIZE(key_commands); i++) {
		if (strcmp(argv[1], key_commands[i].name) == 0) {
			opterr = 0;
			optind = 1;
			return key_commands[i].run(argc - 1, argv + 1, key_commands[i].name);
		}
	}
	fprintf(stderr, "danezone key: unknown command '%s'; 'danezone key help' lists them\n",
		argv[1]);
	return DZ_EXIT_USAGE;
}
