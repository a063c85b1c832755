#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "common/file.h"
#include "common/log.h"
#include "zones/dname.h"
#include "zones/hook.h"
#include "zones/keymat.h"
#include "zones/mail.h"
#include "zones/mail_internal.h"
#include "zones/mailbox.h"
#include "zones/openpgp.h"
#include "zones/rollover.h"
#include "zones/soa.h"
#include "zones/tlsa.h"
#include "zones/watch.h"

/* ---- file cache ---- */

static void
cached_file_free(cached_file_t *file)
{
	if (file == NULL)
		return;
	free(file->path);
	dz_keymat_clear(&file->keymat);
	dz_records_clear(&file->records);
	free(file);
}

static cached_file_t *
cache_get(mail_zone_t *zone, const char *path, file_kind_t kind)
{
	for (size_t i = 0; i < zone->file_count; i++) {
		if (zone->files[i]->kind == kind && strcmp(zone->files[i]->path, path) == 0) {
			zone->files[i]->used = true;
			return zone->files[i];
		}
	}
	cached_file_t *file = calloc(1, sizeof(*file));
	cached_file_t **files = realloc(zone->files, (zone->file_count + 1) * sizeof(*files));
	if (file == NULL || files == NULL) {
		free(file);
		if (files != NULL)
			zone->files = files;
		return NULL;
	}
	zone->files = files;
	file->path = strdup(path);
	if (file->path == NULL) {
		free(file);
		return NULL;
	}
	file->kind = kind;
	file->used = true;
	dz_records_init(&file->records);
	zone->files[zone->file_count++] = file;
	return file;
}

static void
cache_prune(mail_zone_t *zone)
{
	size_t kept = 0;

	for (size_t i = 0; i < zone->file_count; i++) {
		if (zone->files[i]->used)
			zone->files[kept++] = zone->files[i];
		else
			cached_file_free(zone->files[i]);
	}
	zone->file_count = kept;
}

static bool
same_identity(const cached_file_t *file, const struct stat *st)
{
	return file->dev == st->st_dev && file->ino == st->st_ino && file->size == st->st_size &&
	       file->mtime_sec == st->st_mtim.tv_sec && file->mtime_nsec == st->st_mtim.tv_nsec &&
	       file->ctime_sec == st->st_ctim.tv_sec && file->ctime_nsec == st->st_ctim.tv_nsec;
}

static void
store_identity(cached_file_t *file, const struct stat *st)
{
	file->dev = st->st_dev;
	file->ino = st->st_ino;
	file->size = st->st_size;
	file->mtime_sec = st->st_mtim.tv_sec;
	file->mtime_nsec = st->st_mtim.tv_nsec;
	file->ctime_sec = st->st_ctim.tv_sec;
	file->ctime_nsec = st->st_ctim.tv_nsec;
}

/* Parse the file's current content into its good results; false on failure. */
static bool
parse_file(mail_zone_t *zone, cached_file_t *file, dz_time_t now, dz_error_t *err)
{
	switch (file->kind) {
	case FILE_TLSA: {
		dz_keymat_t keymat;
		if (dz_keymat_load(file->path, &keymat, err) != DZ_OK)
			return false;
		dz_keymat_clear(&file->keymat);
		file->keymat = keymat;
		file->warned_no_issuer = false;
		return true;
	}
	case FILE_SMIME:
	case FILE_OPENPGP: {
		dz_records_t records;
		dz_time_t valid_until = DZ_TIME_NEVER;
		dz_result_t rc;
		dz_records_init(&records);
		if (file->kind == FILE_SMIME)
			rc = dz_smimea_file_records(&zone->options, file->path, now, &records,
						    &valid_until, err);
		else
			rc = dz_openpgp_file_records(&zone->options, file->path, &records, err);
		if (rc != DZ_OK) {
			dz_records_clear(&records);
			return false;
		}
		dz_records_clear(&file->records);
		file->records = records;
		file->valid_until = valid_until;
		return true;
	}
	}
	return false;
}

/*
 * Bring a cached file up to date.  A missing file has no results; a file
 * that fails to parse keeps its last good results and is retried.
 */
static void
refresh_file(mail_zone_t *zone, cached_file_t *file, dz_time_t now, int64_t now_ms)
{
	struct stat st;
	dz_error_t err;

	if (stat(file->path, &st) != 0) {
		if (file->exists || file->have_good)
			dz_log_zone(DZ_LOG_NOTICE, zone->config->name,
				    "%s is gone; its records are removed", file->path);
		file->exists = false;
		file->have_good = false;
		file->failures = 0;
		dz_keymat_clear(&file->keymat);
		dz_records_clear(&file->records);
		return;
	}
	bool unchanged = file->exists && same_identity(file, &st);
	bool expired = file->kind == FILE_SMIME && file->have_good && now >= file->valid_until;
	if (unchanged && !expired && (file->failures == 0 || file->failures > DZ_MAIL_RETRIES))
		return;
	if (!unchanged)
		file->failures = 0;
	file->exists = true;
	store_identity(file, &st);

	dz_error_init(&err);
	if (parse_file(zone, file, now, &err)) {
		file->have_good = true;
		file->failures = 0;
		dz_log_condition_clear(&file->condition, "zone %s: %s can be read again",
				       zone->config->name, file->path);
		return;
	}
	file->failures++;
	if (file->failures <= DZ_MAIL_RETRIES) {
		/* Probably still being written: read it again shortly. */
		if (zone->retry_ms < 0 || now_ms + DZ_MAIL_RETRY_MS < zone->retry_ms)
			zone->retry_ms = now_ms + DZ_MAIL_RETRY_MS;
		dz_log_zone(DZ_LOG_INFO, zone->config->name, "%s; reading it again in %d ms",
			    dz_error_message(&err), DZ_MAIL_RETRY_MS);
	}
	if (file->failures == DZ_MAIL_RETRIES + 1 || file->failures == 1)
		dz_log_condition_raise(&file->condition,
				       file->failures > DZ_MAIL_RETRIES ? DZ_LOG_ERROR : DZ_LOG_WARNING,
				       "zone %s: %s; %s", zone->config->name, dz_error_message(&err),
				       file->have_good ? "keeping the records of its last good read"
				       : file->kind == FILE_TLSA ? "keeping its TLSA records from the rollover state"
								 : "it produces no records");
}

/* ---- TLSA keys of one host ---- */

typedef struct key_list {
	dz_rollover_key_t *keys;
	size_t count;
	dz_buf_t *buffers[64]; /* rdata arrays to free */
	size_t buffer_count;
} key_list_t;

static void
key_list_clear(key_list_t *list)
{
	for (size_t i = 0; i < list->count; i++) {
		for (size_t r = 0; r < list->keys[i].rdata_count; r++)
			dz_buf_clear(&list->keys[i].rdata[r]);
		free(list->keys[i].rdata);
	}
	free(list->keys);
	memset(list, 0, sizeof(*list));
}

static void
sha256(const uint8_t *data, size_t len, uint8_t out[32])
{
	unsigned len_out = 0;
	EVP_Digest(data, len, out, &len_out, EVP_sha256(), NULL);
}

/*
 * Add the key of one role from one file: its RDATA for each of the host's
 * parameters of that role.  A role without parameters or input adds nothing.
 */
static dz_result_t
add_role_key(key_list_t *list, const dz_config_mail_host_t *host, cached_file_t *file, bool live,
	     dz_tlsa_role_t role, const char *zone_name)
{
	const dz_keymat_t *km = &file->keymat;
	const uint8_t *cert = NULL, *spki;
	size_t cert_len = 0, spki_len;
	bool wants_selector0 = false;
	dz_rollover_key_t key;
	dz_result_t rc = DZ_OK;

	memset(&key, 0, sizeof(key));
	if (role == DZ_TLSA_ROLE_EE) {
		spki = km->spki;
		spki_len = km->spki_len;
		if (km->has_cert) {
			cert = km->leaf.der;
			cert_len = km->leaf.der_len;
		}
	} else {
		if (!km->has_issuer)
			return DZ_OK;
		spki = km->issuer.spki;
		spki_len = km->issuer.spki_len;
		cert = km->issuer.der;
		cert_len = km->issuer.der_len;
	}

	key.rdata = calloc(host->tlsa_count, sizeof(*key.rdata));
	if (key.rdata == NULL)
		return DZ_ENOMEM;
	for (size_t p = 0; p < host->tlsa_count; p++) {
		const dz_tlsa_params_t *params = &host->tlsa[p];
		bool ee_usage = params->usage == 1 || params->usage == 3;
		if ((role == DZ_TLSA_ROLE_EE) != ee_usage)
			continue;
		if (params->selector == 0)
			wants_selector0 = true;
		dz_error_t err;
		dz_error_init(&err);
		dz_buf_t *rdata = &key.rdata[key.rdata_count];
		rc = dz_tlsa_rdata(params, cert, cert_len, spki, spki_len, rdata, &err);
		if (rc == DZ_ENOTFOUND) {
			dz_log_zone(DZ_LOG_DEBUG, zone_name,
				    "DANE, host %s: %s has no certificate, so it gives no \"%u %u %u\" "
				    "record", host->name, file->path, params->usage, params->selector,
				    params->matching);
			rc = DZ_OK;
			continue;
		}
		if (rc != DZ_OK) {
			dz_log_zone(DZ_LOG_ERROR, zone_name, "DANE, host %s: %s: %s", host->name,
				    file->path, dz_error_message(&err));
			dz_buf_clear(rdata);
			rc = rc == DZ_ENOMEM ? DZ_ENOMEM : DZ_OK;
			if (rc != DZ_OK)
				break;
			continue;
		}
		key.rdata_count++;
	}
	if (rc != DZ_OK || key.rdata_count == 0) {
		for (size_t r = 0; r < key.rdata_count; r++)
			dz_buf_clear(&key.rdata[r]);
		free(key.rdata);
		return rc;
	}

	dz_rollover_key_t *keys = realloc(list->keys, (list->count + 1) * sizeof(*keys));
	if (keys == NULL) {
		for (size_t r = 0; r < key.rdata_count; r++)
			dz_buf_clear(&key.rdata[r]);
		free(key.rdata);
		return DZ_ENOMEM;
	}
	list->keys = keys;
	key.role = role;
	key.live = live;
	key.file = file->path;
	key.key_type = role == DZ_TLSA_ROLE_EE ? km->key_type : "CA";
	/* With selector 0 each certificate is its own key: its records change at renewal. */
	if (wants_selector0 && cert != NULL)
		sha256(cert, cert_len, key.id);
	else
		sha256(spki, spki_len, key.id);
	dz_tlsa_sha256_hex(spki, spki_len, key.spki_sha256);
	list->keys[list->count++] = key;
	return DZ_OK;
}

static bool
host_uses_issuer(const dz_config_mail_host_t *host)
{
	for (size_t p = 0; p < host->tlsa_count; p++) {
		if (host->tlsa[p].usage == 0 || host->tlsa[p].usage == 2)
			return true;
	}
	return false;
}

static dz_result_t
update_host(mail_zone_t *zone, const dz_config_mail_host_t *host, dz_time_t now, int64_t now_ms)
{
	key_list_t list;
	const char **failed = NULL;
	size_t failed_count = 0;
	size_t file_total = host->certificate_count + host->next_count;
	dz_result_t rc = DZ_OK;

	memset(&list, 0, sizeof(list));
	failed = calloc(file_total + 1, sizeof(*failed));
	if (failed == NULL)
		return DZ_ENOMEM;
	for (size_t f = 0; rc == DZ_OK && f < file_total; f++) {
		bool live = f < host->certificate_count;
		const char *path = live ? host->certificates[f] : host->next[f - host->certificate_count];
		cached_file_t *file = cache_get(zone, path, FILE_TLSA);
		if (file == NULL) {
			rc = DZ_ENOMEM;
			break;
		}
		refresh_file(zone, file, now, now_ms);
		if (!file->have_good) {
			if (file->exists)
				failed[failed_count++] = file->path;
			continue;
		}
		if (host_uses_issuer(host) && !file->keymat.has_issuer && file->keymat.has_cert &&
		    !file->warned_no_issuer) {
			dz_log_zone(DZ_LOG_WARNING, zone->config->name,
				    "DANE, host %s: %s holds no certificate that issued the server's "
				    "certificate, so it gives no usage 2 record; put the chain the server "
				    "sends into the file", host->name, file->path);
			file->warned_no_issuer = true;
		}
		rc = add_role_key(&list, host, file, live, DZ_TLSA_ROLE_EE, zone->config->name);
		if (rc == DZ_OK)
			rc = add_role_key(&list, host, file, live, DZ_TLSA_ROLE_TA, zone->config->name);
	}
	if (rc == DZ_OK) {
		dz_rollover_host_input_t input = {
			.host = host->name,
			.ttl = host->ttl,
			.keys = list.keys,
			.key_count = list.count,
			.failed_files = failed,
			.failed_count = failed_count,
		};
		rc = dz_rollover_update_host(zone->rollover, &input, now);
	}
	key_list_clear(&list);
	free(failed);
	return rc;
}

/* ---- S/MIME and OpenPGP folders ---- */

static dz_result_t
scan_folder(mail_zone_t *zone, const char *folder, file_kind_t kind, dz_time_t now, int64_t now_ms,
	    dz_records_t *out)
{
	struct dirent **entries = NULL;
	int n = scandir(folder, &entries, NULL, alphasort);
	dz_result_t rc = DZ_OK;

	if (n < 0) {
		dz_log_condition_raise(&zone->folder_condition, DZ_LOG_ERROR,
				       "zone %s: cannot read folder %s: %s; its records are kept",
				       zone->config->name, folder, strerror(errno));
		/* Keep the records of files seen before. */
		for (size_t i = 0; i < zone->file_count; i++) {
			cached_file_t *file = zone->files[i];
			size_t len = strlen(folder);
			if (file->kind == kind && strncmp(file->path, folder, len) == 0 &&
			    file->path[len] == '/') {
				file->used = true;
				if (file->have_good && dz_records_add_all(out, &file->records) != DZ_OK)
					return DZ_ENOMEM;
			}
		}
		return DZ_OK;
	}
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;
		const char *name = entries[i]->d_name;
		if (rc != DZ_OK || dz_watch_ignored_name(name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", folder, name);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		cached_file_t *file = cache_get(zone, path, kind);
		if (file == NULL) {
			rc = DZ_ENOMEM;
			continue;
		}
		refresh_file(zone, file, now, now_ms);
		if (file->have_good) {
			if (file->kind == FILE_SMIME && file->valid_until < zone->next_change)
				zone->next_change = file->valid_until;
			rc = dz_records_add_all(out, &file->records);
		}
	}
	for (int i = 0; i < n; i++)
		free(entries[i]);
	free(entries);
	return rc;
}

/* ---- size warnings ---- */

static void
warn_sizes(const mail_zone_t *zone, const dz_records_t *records)
{
	const dz_config_mail_t *mail = &zone->config->mail;
	size_t total = 0;

	for (size_t i = 0; i < records->count;) {
		size_t j = i, size = 0;
		while (j < records->count && records->items[j].type == records->items[i].type &&
		       strcmp(records->items[j].owner, records->items[i].owner) == 0) {
			size += dz_record_wire_size(&records->items[j]);
			j++;
		}
		const char *type = dz_record_type_name(records->items[i].type);
		if (size > mail->rrset_warn_size)
			dz_log_zone(DZ_LOG_WARNING, zone->config->name,
				    "the %s RRset of %s has %zu octets, more than rrset-warn-size %" PRIu64
				    "; large answers need TCP and have broken zone transfers at some "
				    "secondaries", type, records->items[i].owner, size,
				    mail->rrset_warn_size);
		if (records->items[i].type == DZ_TYPE_TLSA && j - i > mail->rrset_warn_records)
			dz_log_zone(DZ_LOG_WARNING, zone->config->name,
				    "the TLSA RRset of %s has %zu records, more than rrset-warn-records "
				    "%" PRIu32 "; some senders fail on large TLSA RRsets",
				    records->items[i].owner, j - i, mail->rrset_warn_records);
		total += size;
		i = j;
	}
	if (total > mail->total_warn_size)
		dz_log_zone(DZ_LOG_WARNING, zone->config->name,
			    "the mail records have %zu octets, more than total-warn-size %" PRIu64,
			    total, mail->total_warn_size);
}

/* ---- zones ---- */

static dz_result_t
regenerate_zone(mail_zone_t *zone, dz_time_t now, int64_t now_ms)
{
	const dz_config_mail_t *mail = &zone->config->mail;
	dz_records_t records;
	const char **hosts = NULL;
	dz_result_t rc = DZ_OK;

	dz_records_init(&records);
	zone->retry_ms = -1;
	zone->next_change = DZ_TIME_NEVER;
	for (size_t i = 0; i < zone->file_count; i++)
		zone->files[i]->used = false;

	hosts = calloc(mail->host_count + 1, sizeof(*hosts));
	if (hosts == NULL)
		return DZ_ENOMEM;
	for (size_t h = 0; rc == DZ_OK && h < mail->host_count; h++) {
		hosts[h] = mail->hosts[h].name;
		rc = update_host(zone, &mail->hosts[h], now, now_ms);
	}
	if (rc == DZ_OK)
		dz_rollover_keep_hosts(zone->rollover, hosts, mail->host_count);
	free(hosts);
	if (rc == DZ_OK)
		rc = dz_rollover_records(zone->rollover, zone->config, &records);
	for (size_t f = 0; rc == DZ_OK && f < mail->smime_folder_count; f++)
		rc = scan_folder(zone, mail->smime_folders[f], FILE_SMIME, now, now_ms, &records);
	for (size_t f = 0; rc == DZ_OK && f < mail->openpgp_folder_count; f++)
		rc = scan_folder(zone, mail->openpgp_folders[f], FILE_OPENPGP, now, now_ms, &records);
	if (rc != DZ_OK) {
		dz_records_clear(&records);
		return rc;
	}
	cache_prune(zone);
	dz_records_sort(&records);

	dz_records_t added, removed;
	if (dz_records_diff(&zone->current, &records, &added, &removed) == DZ_OK) {
		if (added.count > 0 || removed.count > 0)
			warn_sizes(zone, &records);
		dz_records_clear(&added);
		dz_records_clear(&removed);
	}
	dz_records_clear(&zone->current);
	zone->current = records;
	zone->dirty = false;
	return DZ_OK;
}

static void
zone_free(mail_zone_t *zone)
{
	for (size_t i = 0; i < zone->file_count; i++)
		cached_file_free(zone->files[i]);
	free(zone->files);
	dz_rollover_destroy(zone->rollover);
	free(zone->state_path);
	dz_records_clear(&zone->current);
	dz_records_clear(&zone->reported);
}

static mail_zone_t *
find_zone(const dz_mail_t *mail, const char *name)
{
	char normalized[DZ_DNAME_TEXT_MAX];

	if (dz_dname_normalize(name, 0, normalized, NULL) != DZ_OK)
		return NULL;
	for (size_t i = 0; i < mail->zone_count; i++) {
		if (strcmp(mail->zones[i].config->name, normalized) == 0)
			return &mail->zones[i];
	}
	return NULL;
}

static char *
state_path(const dz_config_t *config, const char *zone)
{
	size_t len = strlen(config->server.state_dir) + strlen(zone) + 32;
	char *path = malloc(len);

	if (path != NULL)
		snprintf(path, len, "%s/tlsa/%s.state", config->server.state_dir,
			 strcmp(zone, ".") == 0 ? "root" : zone);
	return path;
}

static dz_result_t
add_watches(dz_mail_t *mail, size_t index, dz_error_t *err)
{
	const dz_config_mail_t *m = &mail->zones[index].config->mail;
	dz_error_t watch_err;

	for (size_t h = 0; h < m->host_count; h++) {
		const dz_config_mail_host_t *host = &m->hosts[h];
		for (size_t f = 0; f < host->certificate_count + host->next_count; f++) {
			const char *path = f < host->certificate_count
				? host->certificates[f] : host->next[f - host->certificate_count];
			dz_error_init(&watch_err);
			dz_result_t rc = dz_watch_add_file(mail->watch, path, index, &watch_err);
			if (rc == DZ_ENOMEM)
				return dz_error_set(err, rc, "out of memory");
			if (rc != DZ_OK)
				dz_log(DZ_LOG_WARNING, "%s; changes of %s are seen at the next reload",
				       dz_error_message(&watch_err), path);
		}
	}
	for (size_t f = 0; f < m->smime_folder_count + m->openpgp_folder_count; f++) {
		const char *path = f < m->smime_folder_count ? m->smime_folders[f]
							     : m->openpgp_folders[f - m->smime_folder_count];
		dz_error_init(&watch_err);
		dz_result_t rc = dz_watch_add_folder(mail->watch, path, index, &watch_err);
		if (rc == DZ_ENOMEM)
			return dz_error_set(err, rc, "out of memory");
		if (rc != DZ_OK)
			dz_log(DZ_LOG_WARNING, "%s", dz_error_message(&watch_err));
	}
	return DZ_OK;
}

dz_result_t
dz_mail_create(const dz_config_t *config, unsigned flags, int64_t now_ms, dz_mail_t **out,
	       dz_error_t *err)
{
	dz_mail_t *mail = calloc(1, sizeof(*mail));
	dz_result_t rc = DZ_OK;

	if (mail == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	mail->config = config;
	mail->flags = flags;
	mail->zones = calloc(config->zone_count + 1, sizeof(*mail->zones));
	if (mail->zones == NULL) {
		rc = dz_error_set(err, DZ_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < config->zone_count; i++) {
		mail_zone_t *zone = &mail->zones[i];
		zone->config = &config->zones[i];
		zone->retry_ms = -1;
		zone->next_change = DZ_TIME_NEVER;
		zone->dirty = true;
		dz_records_init(&zone->current);
		dz_records_init(&zone->reported);
		dz_mailbox_options_from_config(zone->config, &zone->options);
		mail->zone_count++;
		zone->state_path = state_path(config, zone->config->name);
		if (zone->state_path == NULL) {
			rc = dz_error_set(err, DZ_ENOMEM, "out of memory");
			goto fail;
		}
		rc = dz_rollover_load(zone->state_path, zone->config->name, &zone->rollover, err);
		if (rc != DZ_OK)
			goto fail;
	}
	for (size_t i = 0; i < mail->zone_count; i++) {
		dz_cfg_diags_t diags;
		if (mail->zones[i].config->mail.host_count == 0)
			continue;
		dz_cfg_diags_init(&diags);
		dz_mail_check_mx(mail->zones[i].config, &diags);
		for (size_t d = 0; d < diags.count; d++)
			dz_log_zone(DZ_LOG_WARNING, mail->zones[i].config->name, "%s", diags.items[d].text);
		dz_cfg_diags_clear(&diags);
	}
	if (flags & DZ_MAIL_WATCH) {
		rc = dz_watch_create(&mail->watch, err);
		for (size_t i = 0; rc == DZ_OK && i < mail->zone_count; i++)
			rc = add_watches(mail, i, err);
		if (rc != DZ_OK)
			goto fail;
	}
	(void)now_ms;
	*out = mail;
	return DZ_OK;

fail:
	mail->flags |= DZ_MAIL_READ_ONLY;
	dz_mail_destroy(mail);
	return rc;
}

void
dz_mail_destroy(dz_mail_t *mail)
{
	if (mail == NULL)
		return;
	if (!(mail->flags & DZ_MAIL_READ_ONLY)) {
		dz_error_t err;
		dz_error_init(&err);
		if (dz_mail_save(mail, &err) != DZ_OK)
			dz_log(DZ_LOG_ERROR, "%s", dz_error_message(&err));
	}
	for (size_t i = 0; i < mail->zone_count; i++)
		zone_free(&mail->zones[i]);
	free(mail->zones);
	dz_watch_destroy(mail->watch);
	free(mail);
}

int
dz_mail_fd(const dz_mail_t *mail)
{
	return mail->watch != NULL ? dz_watch_fd(mail->watch) : -1;
}

void
dz_mail_process_events(dz_mail_t *mail, int64_t now_ms)
{
	if (mail->watch != NULL)
		dz_watch_process(mail->watch, now_ms);
}

void
dz_mail_touch_all(dz_mail_t *mail, int64_t now_ms)
{
	(void)now_ms;
	for (size_t i = 0; i < mail->zone_count; i++)
		mail->zones[i].dirty = true;
}

/* Whether the zone has work at these times. */
static bool
zone_due(const mail_zone_t *zone, dz_time_t now, int64_t now_ms)
{
	return zone->dirty || (zone->retry_ms >= 0 && zone->retry_ms <= now_ms) ||
	       now >= zone->next_change;
}

int64_t
dz_mail_timeout_ms(const dz_mail_t *mail, dz_time_t now, int64_t now_ms)
{
	int64_t timeout = -1;

	for (size_t i = 0; i < mail->zone_count; i++) {
		const mail_zone_t *zone = &mail->zones[i];
		int64_t t = -1;
		if (zone_due(zone, now, now_ms))
			return 0;
		if (zone->retry_ms >= 0)
			t = zone->retry_ms - now_ms;
		dz_time_t next = zone->next_change;
		dz_time_t ready = dz_rollover_next_event(zone->rollover, now);
		if (ready < next)
			next = ready;
		if (next != DZ_TIME_NEVER) {
			int64_t ms = (next - now) * 1000;
			if (t < 0 || ms < t)
				t = ms;
		}
		if (t >= 0 && (timeout < 0 || t < timeout))
			timeout = t;
	}
	if (mail->watch != NULL) {
		int64_t due = dz_watch_next_due(mail->watch);
		if (due >= 0) {
			int64_t t = due > now_ms ? due - now_ms : 0;
			if (timeout < 0 || t < timeout)
				timeout = t;
		}
	}
	return timeout;
}

typedef struct announce_ctx {
	dz_mail_t *mail;
	mail_zone_t *zone;
} announce_ctx_t;

static void
announce_ready(const dz_rollover_entry_t *entry, void *ctx_ptr)
{
	announce_ctx_t *ctx = ctx_ptr;
	const char *hook = ctx->zone->config->mail.ready_hook;

	dz_log_zone(DZ_LOG_NOTICE, ctx->zone->config->name,
		    "DANE, host %s: the next %s key from %s (SHA2-256 %s) is ready to deploy",
		    entry->host, entry->key_type, entry->file, entry->spki_sha256);
	if (hook == NULL || (ctx->mail->flags & DZ_MAIL_READ_ONLY))
		return;

	char zone_var[DZ_DNAME_TEXT_MAX + 16], host_var[DZ_DNAME_TEXT_MAX + 16];
	char key_var[96];
	size_t file_len = strlen(entry->file) + 16;
	char *file_var = malloc(file_len);
	if (file_var == NULL) {
		dz_log(DZ_LOG_ERROR, "out of memory running the ready hook");
		return;
	}
	snprintf(zone_var, sizeof(zone_var), "DZ_ZONE=%s", ctx->zone->config->name);
	snprintf(host_var, sizeof(host_var), "DZ_HOST=%s", entry->host);
	snprintf(key_var, sizeof(key_var), "DZ_KEY_SHA256=%s", entry->spki_sha256);
	snprintf(file_var, file_len, "DZ_FILE=%s", entry->file);
	const char *env[] = { zone_var, host_var, key_var, file_var, NULL };
	dz_error_t err;
	dz_error_init(&err);
	if (dz_hook_run(hook, env, DZ_HOOK_TIMEOUT_SECONDS, &err) != DZ_OK)
		dz_log_zone(DZ_LOG_ERROR, ctx->zone->config->name, "ready-hook: %s",
			    dz_error_message(&err));
	free(file_var);
}

dz_result_t
dz_mail_update(dz_mail_t *mail, dz_time_t now, int64_t now_ms, dz_mail_change_fn fn, void *ctx,
	       dz_error_t *err)
{
	if (mail->watch != NULL) {
		uintptr_t tags[64];
		size_t n;
		dz_watch_refresh(mail->watch);
		while ((n = dz_watch_take_due(mail->watch, now_ms, tags, DZ_ARRAY_SIZE(tags))) > 0) {
			for (size_t i = 0; i < n; i++) {
				if (tags[i] < mail->zone_count)
					mail->zones[tags[i]].dirty = true;
			}
		}
	}
	for (size_t i = 0; i < mail->zone_count; i++) {
		mail_zone_t *zone = &mail->zones[i];
		if (zone_due(zone, now, now_ms)) {
			dz_result_t rc = regenerate_zone(zone, now, now_ms);
			if (rc != DZ_OK)
				return dz_error_set(err, rc, "zone %s: out of memory generating mail "
						    "records", zone->config->name);
		}
		if (fn != NULL) {
			dz_records_t added, removed;
			if (dz_records_diff(&zone->reported, &zone->current, &added, &removed) != DZ_OK)
				return dz_error_set(err, DZ_ENOMEM, "out of memory");
			dz_result_t rc = DZ_OK;
			if (added.count > 0 || removed.count > 0)
				rc = fn(ctx, zone->config->name, &added, &removed);
			dz_records_clear(&added);
			dz_records_clear(&removed);
			if (rc == DZ_OK) {
				dz_records_t copy;
				if (dz_records_copy(&copy, &zone->current) != DZ_OK)
					return dz_error_set(err, DZ_ENOMEM, "out of memory");
				dz_records_clear(&zone->reported);
				zone->reported = copy;
			}
		}
		announce_ctx_t actx = { mail, zone };
		if (!(mail->flags & DZ_MAIL_READ_ONLY))
			dz_rollover_announce_ready(zone->rollover, now, announce_ready, &actx);
	}
	if (mail->flags & DZ_MAIL_READ_ONLY)
		return DZ_OK;
	return dz_mail_save(mail, err);
}

const dz_records_t *
dz_mail_records(const dz_mail_t *mail, const char *zone)
{
	const mail_zone_t *z = find_zone(mail, zone);
	return z != NULL ? &z->current : NULL;
}

static size_t
secondary_count(const dz_config_zone_t *zone)
{
	return zone->secondary_count;
}

dz_result_t
dz_mail_note_published(dz_mail_t *mail, const char *zone, uint32_t serial, uint32_t negative_ttl,
		       dz_time_t now, dz_error_t *err)
{
	mail_zone_t *z = find_zone(mail, zone);

	if (z == NULL)
		return dz_error_set(err, DZ_ENOTFOUND, "zone %s is not configured", zone);
	dz_rollover_note_published(z->rollover, serial, negative_ttl, secondary_count(z->config), now);
	if (mail->flags & DZ_MAIL_READ_ONLY)
		return DZ_OK;
	return dz_mail_save(mail, err);
}

dz_result_t
dz_mail_observe_output(dz_mail_t *mail, const char *zone, dz_time_t now, dz_error_t *err)
{
	mail_zone_t *z = find_zone(mail, zone);
	dz_records_t published;
	uint32_t serial = 0, negative_ttl = 0;
	dz_result_t rc;

	if (z == NULL)
		return dz_error_set(err, DZ_ENOTFOUND, "zone %s is not configured", zone);
	dz_records_init(&published);
	rc = dz_mail_read_zone_file(z->config->output, z->config->name, &published, &serial,
				    &negative_ttl, err);
	if (rc == DZ_OK)
		rc = dz_rollover_note_published_in(z->rollover, z->config, &published, serial,
						   negative_ttl, secondary_count(z->config), now);
	dz_records_clear(&published);
	if (rc == DZ_ENOMEM)
		return dz_error_set(err, rc, "out of memory");
	if (rc != DZ_OK || (mail->flags & DZ_MAIL_READ_ONLY))
		return rc;
	return dz_mail_save(mail, err);
}

bool
dz_mail_awaits_secondaries(const dz_mail_t *mail)
{
	for (size_t i = 0; i < mail->zone_count; i++) {
		if (dz_rollover_awaits_secondaries(mail->zones[i].rollover))
			return true;
	}
	return false;
}

void
dz_mail_probe_secondaries(dz_mail_t *mail, dz_time_t now, int timeout_ms)
{
	for (size_t i = 0; i < mail->zone_count; i++) {
		mail_zone_t *zone = &mail->zones[i];
		const dz_config_zone_t *cz = zone->config;
		uint32_t serials[256];
		size_t count = 0;
		bool complete = true;

		if (!dz_rollover_awaits_secondaries(zone->rollover))
			continue;
		for (size_t s = 0; s < cz->secondary_count; s++) {
			const dz_config_secondary_t *secondary =
				dz_config_find_secondary(mail->config, cz->secondaries[s]);
			const dz_config_tsig_t *tsig = NULL;
			if (secondary == NULL)
				continue;
			if (secondary->tsig != NULL)
				tsig = dz_config_find_tsig(mail->config, secondary->tsig);
			for (size_t a = 0; a < secondary->address_count && count < DZ_ARRAY_SIZE(serials); a++) {
				dz_error_t err;
				dz_error_init(&err);
				if (dz_soa_query_serial(&secondary->addresses[a], cz->name, tsig, timeout_ms,
							&serials[count], &err) == DZ_OK) {
					count++;
					continue;
				}
				complete = false;
				dz_log_zone(DZ_LOG_WARNING, cz->name,
					    "DANE, secondary %s: %s; the next key stays unready until "
					    "it answers", secondary->name, dz_error_message(&err));
			}
		}
		if (complete && count > 0)
			dz_rollover_note_secondaries(zone->rollover, serials, count, now);
	}
	if (!(mail->flags & DZ_MAIL_READ_ONLY)) {
		dz_error_t err;
		dz_error_init(&err);
		if (dz_mail_save(mail, &err) != DZ_OK)
			dz_log(DZ_LOG_ERROR, "%s", dz_error_message(&err));
	}
}

void
dz_mail_print_status(const dz_mail_t *mail, dz_time_t now, FILE *out)
{
	for (size_t i = 0; i < mail->zone_count; i++) {
		if (mail->zones[i].config->mail.host_count == 0)
			continue;
		dz_rollover_print_status(mail->zones[i].rollover, now, out);
	}
}

dz_result_t
dz_mail_save(dz_mail_t *mail, dz_error_t *err)
{
	if (mail->flags & DZ_MAIL_READ_ONLY)
		return DZ_OK;
	for (size_t i = 0; i < mail->zone_count; i++) {
		mail_zone_t *zone = &mail->zones[i];
		if (!zone->rollover->changed)
			continue;
		char *folder = strdup(zone->state_path);
		if (folder == NULL)
			return dz_error_set(err, DZ_ENOMEM, "out of memory");
		char *slash = strrchr(folder, '/');
		if (slash != NULL)
			*slash = '\0';
		dz_result_t rc = dz_mkdir_p(folder, 0700, err);
		free(folder);
		if (rc == DZ_OK)
			rc = dz_rollover_save(zone->rollover, zone->state_path, err);
		if (rc != DZ_OK)
			return rc;
	}
	return DZ_OK;
}
