#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ldns/ldns.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "zones/dname.h"
#include "zones/keymat.h"
#include "zones/mail.h"
#include "zones/mailbox.h"
#include "zones/openpgp.h"
#include "zones/watch.h"

static bool
uses_issuer(const dz_config_mail_host_t *host)
{
	for (size_t p = 0; p < host->tlsa_count; p++) {
		if (host->tlsa[p].usage == 0 || host->tlsa[p].usage == 2)
			return true;
	}
	return false;
}

/* Whether the leaf certificate's names cover the host (checked for usage 2). */
static bool
leaf_names_host(const dz_keymat_t *km, const char *host)
{
	const unsigned char *p = km->leaf.der;
	X509 *cert = d2i_X509(NULL, &p, (long)km->leaf.der_len);
	bool ok = cert != NULL && X509_check_host(cert, host, 0, 0, NULL) == 1;

	X509_free(cert);
	return ok;
}

static void
check_host_file(const dz_config_t *config, const dz_config_mail_host_t *host, const char *path,
		bool live, const char *key, dz_time_t now, dz_cfg_diags_t *diags)
{
	dz_keymat_t km;
	dz_error_t err;
	struct stat st;

	if (!live && stat(path, &st) != 0)
		return;
	dz_error_init(&err);
	if (dz_keymat_load(path, &km, &err) != DZ_OK) {
		dz_cfg_diag_add(diags, live ? DZ_LOG_ERROR : DZ_LOG_WARNING, config->path, host->mark,
				key, "%s", dz_error_message(&err));
		return;
	}
	if (live && km.kind != DZ_KEYMAT_CERTIFICATE)
		dz_cfg_diag_add(diags, DZ_LOG_WARNING, config->path, host->mark, key,
				"%s holds a %s, not the certificate the server presents; a staged key "
				"belongs under next", path, dz_keymat_kind_name(km.kind));
	if (km.has_cert && uses_issuer(host) && !km.has_issuer)
		dz_cfg_diag_add(diags, DZ_LOG_WARNING, config->path, host->mark, key,
				"%s holds no certificate that issued the server's certificate, so usage 2 "
				"gets no record; give the chain the server sends", path);
	if (km.has_cert && uses_issuer(host) && !leaf_names_host(&km, host->name))
		dz_cfg_diag_add(diags, DZ_LOG_WARNING, config->path, host->mark, key,
				"the certificate in %s does not name %s; senders check the name for usage 2 "
				"(RFC 7672 section 3.2.2)", path, host->name);
	if (km.has_cert && km.not_after < now)
		dz_cfg_diag_add(diags, DZ_LOG_WARNING, config->path, host->mark, key,
				"the certificate in %s has expired; usage 3 records still match it, but "
				"senders that also check PKIX will fail", path);
	dz_keymat_clear(&km);
}

static void
check_folder(const dz_config_t *config, const dz_config_zone_t *zone, const char *folder,
	     bool smime, const char *key, dz_time_t now, dz_cfg_diags_t *diags)
{
	struct dirent **entries = NULL;
	dz_mailbox_options_t options;
	int n = scandir(folder, &entries, NULL, alphasort);
	dz_cfg_mark_t no_mark = { 0, 0 };

	if (n < 0) {
		dz_cfg_diag_add(diags, DZ_LOG_ERROR, config->path, zone->mark, key,
				"cannot read folder %s: %s", folder, strerror(errno));
		return;
	}
	dz_mailbox_options_from_config(zone, &options);
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;
		dz_records_t records;
		dz_time_t next_change = DZ_TIME_NEVER;
		dz_error_t err;

		snprintf(path, sizeof(path), "%s/%s", folder, entries[i]->d_name);
		if (dz_watch_ignored_name(entries[i]->d_name) || stat(path, &st) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		dz_records_init(&records);
		dz_error_init(&err);
		dz_result_t rc = smime ? dz_smimea_file_records(&options, path, now, &records,
								&next_change, &err)
				       : dz_openpgp_file_records(&options, path, &records, &err);
		if (rc != DZ_OK)
			dz_cfg_diag_add(diags, DZ_LOG_WARNING, NULL, no_mark, NULL, "%s",
					dz_error_message(&err));
		dz_records_clear(&records);
	}
	for (int i = 0; i < n; i++)
		free(entries[i]);
	free(entries);
}

/* Order CNAME records by owner name, in canonical order, for bsearch(). */
static int
compare_owners(const void *a, const void *b)
{
	const ldns_rr *const *x = a;
	const ldns_rr *const *y = b;
	return ldns_dname_compare(ldns_rr_owner(*x), ldns_rr_owner(*y));
}

/* Compare a name with a CNAME record's owner, for bsearch(). */
static int
compare_name_owner(const void *key, const void *member)
{
	const ldns_rr *const *alias = member;
	return ldns_dname_compare(key, ldns_rr_owner(*alias));
}

/* Number of MX targets without a mail.hosts entry that get a warning each; one line counts the rest. */
#define UNCONFIGURED_MX_WARNINGS 10

void
dz_mail_check_mx(const dz_config_zone_t *zone, dz_cfg_diags_t *diags)
{
	FILE *fp = fopen(zone->source, "r");
	ldns_zone *parsed = NULL;
	ldns_rdf *origin = NULL;
	const ldns_rr **aliases = NULL;
	size_t alias_count = 0;
	size_t unconfigured = 0;
	int line = 0;
	dz_cfg_mark_t no_mark = { 0, 0 };

	if (fp == NULL)
		return;
	origin = ldns_dname_new_frm_str(zone->name);
	/* NOTE: ldns stops at $INCLUDE; such sources get no MX check here. */
	ldns_status status = ldns_zone_new_frm_fp_l(&parsed, fp, origin, 3600, LDNS_RR_CLASS_IN, &line);
	fclose(fp);
	if (status != LDNS_STATUS_OK) {
		dz_cfg_diag_add(diags, DZ_LOG_WARNING, zone->source, no_mark, NULL,
				"line %d: %s; MX targets were not checked", line,
				ldns_get_errorstr_by_id(status));
		goto cleanup;
	}
	ldns_rr_list *rrs = ldns_zone_rrs(parsed);
	size_t rr_count = ldns_rr_list_rr_count(rrs);

	/*
	 * Sort the CNAME records by owner and look each MX target up in them,
	 * so a zone with many MX records does not cost MX records times RRs.
	 */
	aliases = malloc((rr_count + 1) * sizeof(*aliases));
	if (aliases == NULL) {
		dz_cfg_diag_add(diags, DZ_LOG_WARNING, zone->source, no_mark, NULL,
				"out of memory; MX targets were not checked");
		goto cleanup;
	}
	for (size_t i = 0; i < rr_count; i++) {
		ldns_rr *rr = ldns_rr_list_rr(rrs, i);
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME)
			aliases[alias_count++] = rr;
	}
	qsort(aliases, alias_count, sizeof(*aliases), compare_owners);

	for (size_t i = 0; i < rr_count; i++) {
		ldns_rr *mx = ldns_rr_list_rr(rrs, i);
		if (ldns_rr_get_type(mx) != LDNS_RR_TYPE_MX || ldns_rr_rd_count(mx) != 2)
			continue;
		ldns_rdf *target = ldns_rr_rdf(mx, 1);
		char *target_text = ldns_rdf2str(target);
		char normalized[DZ_DNAME_TEXT_MAX];
		if (target_text == NULL || dz_dname_normalize(target_text, 0, normalized, NULL) != DZ_OK) {
			free(target_text);
			continue;
		}
		if (bsearch(target, aliases, alias_count, sizeof(*aliases), compare_name_owner) != NULL)
			dz_cfg_diag_add(diags, DZ_LOG_WARNING, zone->source, no_mark, NULL,
					"MX target %s is an alias (CNAME), which RFC 2181 section "
					"10.3 forbids; DANE senders look for TLSA at the end of the "
					"alias chain first, and some do not apply DANE at all; point "
					"the MX at the host's own name", target_text);
		bool configured = false;
		for (size_t h = 0; h < zone->mail.host_count && !configured; h++)
			configured = strcmp(zone->mail.hosts[h].name, normalized) == 0;
		if (!configured && zone->mail.host_count > 0 && dz_dname_in_zone(normalized, zone->name)) {
			if (unconfigured < UNCONFIGURED_MX_WARNINGS)
				dz_cfg_diag_add(diags, DZ_LOG_WARNING, zone->source, no_mark, NULL,
						"MX target %s has no entry under mail.hosts, so it gets "
						"no TLSA records", target_text);
			unconfigured++;
		}
		free(target_text);
	}
	if (unconfigured > UNCONFIGURED_MX_WARNINGS)
		dz_cfg_diag_add(diags, DZ_LOG_WARNING, zone->source, no_mark, NULL,
				"%zu more MX targets have no entry under mail.hosts, so they get no "
				"TLSA records", unconfigured - UNCONFIGURED_MX_WARNINGS);

cleanup:
	free(aliases);
	/* ldns 1.8.3 dereferences a NULL zone here, and a source ldns cannot parse leaves it NULL. */
	if (parsed != NULL)
		ldns_zone_deep_free(parsed);
	ldns_rdf_deep_free(origin);
}

void
dz_mail_check_config(const dz_config_t *config, dz_time_t now, dz_cfg_diags_t *diags)
{
	for (size_t z = 0; z < config->zone_count; z++) {
		const dz_config_zone_t *zone = &config->zones[z];
		const dz_config_mail_t *mail = &zone->mail;
		char key[256];

		for (size_t h = 0; h < mail->host_count; h++) {
			const dz_config_mail_host_t *host = &mail->hosts[h];
			for (size_t f = 0; f < host->certificate_count; f++) {
				snprintf(key, sizeof(key), "zones[%zu].mail.hosts[%zu].certificates[%zu]",
					 z, h, f);
				check_host_file(config, host, host->certificates[f], true, key, now, diags);
			}
			for (size_t f = 0; f < host->next_count; f++) {
				snprintf(key, sizeof(key), "zones[%zu].mail.hosts[%zu].next[%zu]", z, h, f);
				check_host_file(config, host, host->next[f], false, key, now, diags);
			}
		}
		for (size_t f = 0; f < mail->smime_folder_count; f++) {
			snprintf(key, sizeof(key), "zones[%zu].mail.smime-folders[%zu]", z, f);
			check_folder(config, zone, mail->smime_folders[f], true, key, now, diags);
		}
		for (size_t f = 0; f < mail->openpgp_folder_count; f++) {
			snprintf(key, sizeof(key), "zones[%zu].mail.openpgp-folders[%zu]", z, f);
			check_folder(config, zone, mail->openpgp_folders[f], false, key, now, diags);
		}
		dz_mail_check_mx(zone, diags);
	}
}
