#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/file.h"
#include "common/log.h"
#include "zones/dname.h"
#include "zones/rollover.h"

#define STATE_MAGIC "danezone-tlsa-state 1"

/* Largest state file read back: a few hundred entries with SHA-512 records. */
#define STATE_FILE_MAX (16 * 1024 * 1024)

bool
dz_serial_le(uint32_t a, uint32_t b)
{
	return a == b || (uint32_t)(b - a) < 0x80000000u;
}

static const char *
role_name(dz_tlsa_role_t role)
{
	return role == DZ_TLSA_ROLE_EE ? "server-key" : "issuer-key";
}

static void
entry_free(dz_rollover_entry_t *entry)
{
	if (entry == NULL)
		return;
	free(entry->host);
	free(entry->file);
	for (size_t i = 0; i < entry->rdata_count; i++)
		dz_buf_clear(&entry->rdata[i]);
	free(entry->rdata);
	free(entry);
}

dz_rollover_t *
dz_rollover_create(const char *zone)
{
	dz_rollover_t *rollover = calloc(1, sizeof(*rollover));

	if (rollover == NULL)
		return NULL;
	rollover->zone = strdup(zone);
	if (rollover->zone == NULL) {
		free(rollover);
		return NULL;
	}
	return rollover;
}

void
dz_rollover_destroy(dz_rollover_t *rollover)
{
	if (rollover == NULL)
		return;
	for (size_t i = 0; i < rollover->count; i++)
		entry_free(rollover->entries[i]);
	free(rollover->entries);
	free(rollover->zone);
	free(rollover);
}

static dz_result_t
append_entry(dz_rollover_t *rollover, dz_rollover_entry_t *entry)
{
	if (rollover->count == rollover->cap) {
		size_t cap = rollover->cap == 0 ? 8 : rollover->cap * 2;
		dz_rollover_entry_t **entries = realloc(rollover->entries, cap * sizeof(*entries));
		if (entries == NULL)
			return DZ_ENOMEM;
		rollover->entries = entries;
		rollover->cap = cap;
	}
	rollover->entries[rollover->count++] = entry;
	rollover->changed = true;
	return DZ_OK;
}

static void
remove_entry_at(dz_rollover_t *rollover, size_t index)
{
	entry_free(rollover->entries[index]);
	memmove(&rollover->entries[index], &rollover->entries[index + 1],
		(rollover->count - index - 1) * sizeof(*rollover->entries));
	rollover->count--;
	rollover->changed = true;
}

static dz_rollover_entry_t *
find_entry(const dz_rollover_t *rollover, const char *host, dz_tlsa_role_t role, const uint8_t id[32])
{
	for (size_t i = 0; i < rollover->count; i++) {
		dz_rollover_entry_t *e = rollover->entries[i];
		if (e->role == role && strcmp(e->host, host) == 0 && memcmp(e->id, id, 32) == 0)
			return e;
	}
	return NULL;
}

dz_time_t
dz_rollover_ready_at(const dz_rollover_entry_t *entry)
{
	if (!entry->published || entry->propagated == 0)
		return DZ_TIME_NEVER;
	return entry->propagated + 2 * (dz_time_t)entry->wait_ttl;
}

static bool
entry_ready(const dz_rollover_entry_t *entry, dz_time_t now)
{
	return now >= dz_rollover_ready_at(entry);
}

static dz_result_t
set_rdata(dz_rollover_entry_t *entry, const dz_rollover_key_t *key)
{
	dz_buf_t *rdata = calloc(key->rdata_count > 0 ? key->rdata_count : 1, sizeof(*rdata));

	if (rdata == NULL)
		return DZ_ENOMEM;
	for (size_t i = 0; i < key->rdata_count; i++) {
		if (dz_buf_append(&rdata[i], key->rdata[i].data, key->rdata[i].len) != DZ_OK) {
			for (size_t j = 0; j <= i; j++)
				dz_buf_clear(&rdata[j]);
			free(rdata);
			return DZ_ENOMEM;
		}
	}
	for (size_t i = 0; i < entry->rdata_count; i++)
		dz_buf_clear(&entry->rdata[i]);
	free(entry->rdata);
	entry->rdata = rdata;
	entry->rdata_count = key->rdata_count;
	return DZ_OK;
}

static bool
rdata_equal(const dz_rollover_entry_t *entry, const dz_rollover_key_t *key)
{
	if (entry->rdata_count != key->rdata_count)
		return false;
	for (size_t i = 0; i < key->rdata_count; i++) {
		if (entry->rdata[i].len != key->rdata[i].len ||
		    memcmp(entry->rdata[i].data, key->rdata[i].data, key->rdata[i].len) != 0)
			return false;
	}
	return true;
}

/* Whether the host has records in a published zone version, and their TTL then. */
static bool
host_published(const dz_rollover_t *rollover, const char *host, uint32_t *ttl)
{
	bool found = false;

	*ttl = 0;
	for (size_t i = 0; i < rollover->count; i++) {
		const dz_rollover_entry_t *e = rollover->entries[i];
		if (strcmp(e->host, host) == 0 && e->published) {
			found = true;
			if (e->ttl > *ttl)
				*ttl = e->ttl;
		}
	}
	return found;
}

static bool
host_has_live_entry(const dz_rollover_t *rollover, const char *host)
{
	for (size_t i = 0; i < rollover->count; i++) {
		const dz_rollover_entry_t *e = rollover->entries[i];
		if (strcmp(e->host, host) == 0 && e->live)
			return true;
	}
	return false;
}

/* Whether a live issuer key of the host has TLSA records that every cache may hold. */
static bool
host_has_ready_issuer(const dz_rollover_t *rollover, const char *host, dz_time_t now)
{
	for (size_t i = 0; i < rollover->count; i++) {
		const dz_rollover_entry_t *e = rollover->entries[i];
		if (strcmp(e->host, host) == 0 && e->role == DZ_TLSA_ROLE_TA && e->live &&
		    entry_ready(e, now))
			return true;
	}
	return false;
}

static void
log_premature(const dz_rollover_t *rollover, const dz_rollover_host_input_t *input,
	      const dz_rollover_key_t *key, const dz_rollover_entry_t *entry, dz_time_t now)
{
	char when[DZ_TIME_TEXT_MAX];
	/*
	 * A new server key breaks DANE unless an issuer record ("2 1 1") of the
	 * host still matches the chain.  A new issuer alone still leaves the
	 * server's own "3 1 1" record to match.
	 */
	dz_log_level_t level = DZ_LOG_WARNING;
	if (key->role == DZ_TLSA_ROLE_EE && !host_has_ready_issuer(rollover, input->host, now))
		level = DZ_LOG_ERROR;

	if (entry == NULL) {
		dz_log_zone(level, rollover->zone,
			    "DANE, host %s: %s now serves %s %s (SHA2-256 %s), which was not published "
			    "before; DANE senders may fail until cached TLSA RRsets expire (up to %u "
			    "seconds); publishing it now", input->host, key->file, key->key_type,
			    role_name(key->role), key->spki_sha256, input->ttl);
		return;
	}
	dz_time_t ready = dz_rollover_ready_at(entry);
	if (ready == DZ_TIME_NEVER)
		dz_log_zone(level, rollover->zone,
			    "DANE, host %s: %s now serves %s %s (SHA2-256 %s), whose TLSA records "
			    "have not reached every secondary yet; DANE senders may fail until cached "
			    "TLSA RRsets expire", input->host, key->file, key->key_type,
			    role_name(key->role), key->spki_sha256);
	else
		dz_log_zone(level, rollover->zone,
			    "DANE, host %s: %s now serves %s %s (SHA2-256 %s) %" PRId64 " seconds "
			    "before its TLSA records are ready at %s; DANE senders may fail until "
			    "cached TLSA RRsets expire", input->host, key->file, key->key_type,
			    role_name(key->role), key->spki_sha256, ready - now,
			    dz_time_format(ready, when));
}

static bool
file_failed(const dz_rollover_host_input_t *input, const char *file)
{
	for (size_t i = 0; i < input->failed_count; i++) {
		if (file != NULL && strcmp(input->failed_files[i], file) == 0)
			return true;
	}
	return false;
}

static dz_result_t
add_new_entry(dz_rollover_t *rollover, const dz_rollover_host_input_t *input,
	      const dz_rollover_key_t *key, dz_time_t now, dz_rollover_entry_t **out)
{
	dz_rollover_entry_t *entry = calloc(1, sizeof(*entry));
	uint32_t previous_ttl;

	if (entry == NULL)
		return DZ_ENOMEM;
	entry->host = strdup(input->host);
	entry->file = strdup(key->file);
	if (entry->host == NULL || entry->file == NULL || set_rdata(entry, key) != DZ_OK) {
		entry_free(entry);
		return DZ_ENOMEM;
	}
	entry->role = key->role;
	memcpy(entry->id, key->id, 32);
	snprintf(entry->spki_sha256, sizeof(entry->spki_sha256), "%s", key->spki_sha256);
	snprintf(entry->key_type, sizeof(entry->key_type), "%s", key->key_type);
	entry->added = now;
	entry->ttl = input->ttl;
	entry->new_owner = !host_published(rollover, input->host, &previous_ttl);
	entry->previous_ttl = previous_ttl;
	if (append_entry(rollover, entry) != DZ_OK) {
		entry_free(entry);
		return DZ_ENOMEM;
	}
	*out = entry;
	return DZ_OK;
}

dz_result_t
dz_rollover_update_host(dz_rollover_t *rollover, const dz_rollover_host_input_t *input,
			dz_time_t now)
{
	bool had_live = host_has_live_entry(rollover, input->host);
	bool *seen = NULL;
	size_t old_count = rollover->count;
	dz_result_t rc = DZ_OK;

	seen = calloc(old_count + input->key_count + 1, sizeof(*seen));
	if (seen == NULL)
		return DZ_ENOMEM;

	for (size_t k = 0; k < input->key_count; k++) {
		const dz_rollover_key_t *key = &input->keys[k];
		dz_rollover_entry_t *entry = find_entry(rollover, input->host, key->role, key->id);
		if (entry == NULL) {
			if (key->live && had_live)
				log_premature(rollover, input, key, NULL, now);
			else if (key->live)
				dz_log_zone(DZ_LOG_NOTICE, rollover->zone,
					    "DANE, host %s: publishing TLSA records for %s %s (SHA2-256 "
					    "%s) from %s", input->host, key->key_type, role_name(key->role),
					    key->spki_sha256, key->file);
			else
				dz_log_zone(DZ_LOG_NOTICE, rollover->zone,
					    "DANE, host %s: publishing TLSA records for the next %s %s "
					    "(SHA2-256 %s) from %s; it is ready to deploy two TTLs after "
					    "every secondary serves it", input->host, key->key_type,
					    role_name(key->role), key->spki_sha256, key->file);
			rc = add_new_entry(rollover, input, key, now, &entry);
			if (rc != DZ_OK)
				goto cleanup;
		} else {
			/*
			 * An entry added by this call for another file of the host (two
			 * chains with one issuer) is not live yet, but it is no switch.
			 */
			bool added_now = false;
			for (size_t i = old_count; i < rollover->count; i++)
				added_now = added_now || rollover->entries[i] == entry;
			if (key->live && !entry->live && !added_now && !entry_ready(entry, now))
				log_premature(rollover, input, key, entry, now);
			if (!rdata_equal(entry, key)) {
				/* The record parameters of the host changed. */
				rc = set_rdata(entry, key);
				if (rc != DZ_OK)
					goto cleanup;
				rollover->changed = true;
			}
			if (strcmp(entry->file, key->file) != 0) {
				char *file = strdup(key->file);
				if (file == NULL) {
					rc = DZ_ENOMEM;
					goto cleanup;
				}
				free(entry->file);
				entry->file = file;
				rollover->changed = true;
			}
		}
		for (size_t i = 0; i < rollover->count; i++) {
			if (rollover->entries[i] == entry)
				seen[i] = true;
		}
	}

	/* Set the flags from this observation; retire what no file yields. */
	for (size_t i = rollover->count; i-- > 0;) {
		dz_rollover_entry_t *e = rollover->entries[i];
		if (strcmp(e->host, input->host) != 0)
			continue;
		if (!seen[i] && file_failed(input, e->file))
			continue;
		if (!seen[i]) {
			dz_log_zone(DZ_LOG_NOTICE, rollover->zone,
				    "DANE, host %s: retiring the TLSA records of %s %s (SHA2-256 %s): no "
				    "configured file serves it any longer", e->host, e->key_type,
				    role_name(e->role), e->spki_sha256);
			remove_entry_at(rollover, i);
			continue;
		}
		bool live = false, next = false;
		for (size_t k = 0; k < input->key_count; k++) {
			const dz_rollover_key_t *key = &input->keys[k];
			if (key->role == e->role && memcmp(key->id, e->id, 32) == 0) {
				live = live || key->live;
				next = next || !key->live;
			}
		}
		if (live != e->live || next != e->next || e->ttl != input->ttl)
			rollover->changed = true;
		e->live = live;
		e->next = next;
		e->ttl = input->ttl;
	}

cleanup:
	free(seen);
	return rc;
}

void
dz_rollover_keep_hosts(dz_rollover_t *rollover, const char *const *hosts, size_t count)
{
	for (size_t i = rollover->count; i-- > 0;) {
		bool configured = false;
		for (size_t h = 0; h < count && !configured; h++)
			configured = strcmp(rollover->entries[i]->host, hosts[h]) == 0;
		if (!configured) {
			dz_log_zone(DZ_LOG_NOTICE, rollover->zone,
				    "DANE, host %s: retiring its TLSA records: the host is no longer "
				    "configured", rollover->entries[i]->host);
			remove_entry_at(rollover, i);
		}
	}
}

static void
mark_published(dz_rollover_t *rollover, dz_rollover_entry_t *e, uint32_t serial,
	       uint32_t negative_ttl, size_t secondary_count, dz_time_t now)
{
	e->published = true;
	e->serial = serial;
	e->published_at = now;
	/*
	 * NOTE: a port added to a host that already has records gets a new
	 * owner, but the wait uses the previous RRset TTL of the host.
	 */
	e->wait_ttl = e->new_owner ? negative_ttl : e->previous_ttl;
	if (secondary_count == 0)
		e->propagated = now;
	rollover->changed = true;
}

void
dz_rollover_note_published(dz_rollover_t *rollover, uint32_t serial, uint32_t negative_ttl,
			   size_t secondary_count, dz_time_t now)
{
	for (size_t i = 0; i < rollover->count; i++) {
		if (!rollover->entries[i]->published)
			mark_published(rollover, rollover->entries[i], serial, negative_ttl,
				       secondary_count, now);
	}
}

dz_result_t
dz_rollover_note_published_in(dz_rollover_t *rollover, const dz_config_zone_t *zone,
			      const dz_records_t *published, uint32_t serial, uint32_t negative_ttl,
			      size_t secondary_count, dz_time_t now)
{
	for (size_t i = 0; i < rollover->count; i++) {
		dz_rollover_entry_t *e = rollover->entries[i];
		dz_rollover_t single = { .zone = rollover->zone, .entries = &e, .count = 1, .cap = 1 };
		dz_records_t records;
		bool all = true;

		if (e->published)
			continue;
		dz_records_init(&records);
		dz_result_t rc = dz_rollover_records(&single, zone, &records);
		if (rc != DZ_OK) {
			dz_records_clear(&records);
			return rc;
		}
		dz_records_sort(&records);
		for (size_t r = 0; r < records.count && all; r++)
			all = dz_records_contains(published, &records.items[r]);
		if (all && records.count > 0)
			mark_published(rollover, e, serial, negative_ttl, secondary_count, now);
		dz_records_clear(&records);
	}
	return DZ_OK;
}

void
dz_rollover_note_secondaries(dz_rollover_t *rollover, const uint32_t *serials, size_t count,
			     dz_time_t now)
{
	for (size_t i = 0; i < rollover->count; i++) {
		dz_rollover_entry_t *e = rollover->entries[i];
		bool everywhere = count > 0;
		if (!e->published || e->propagated != 0)
			continue;
		for (size_t s = 0; s < count; s++) {
			if (!dz_serial_le(e->serial, serials[s]))
				everywhere = false;
		}
		if (everywhere) {
			e->propagated = now;
			rollover->changed = true;
		}
	}
}

bool
dz_rollover_awaits_secondaries(const dz_rollover_t *rollover)
{
	for (size_t i = 0; i < rollover->count; i++) {
		if (rollover->entries[i]->published && rollover->entries[i]->propagated == 0)
			return true;
	}
	return false;
}

dz_time_t
dz_rollover_next_event(const dz_rollover_t *rollover, dz_time_t now)
{
	dz_time_t next = DZ_TIME_NEVER;

	for (size_t i = 0; i < rollover->count; i++) {
		const dz_rollover_entry_t *e = rollover->entries[i];
		dz_time_t ready = dz_rollover_ready_at(e);
		if (e->next && !e->live && !e->announced && ready > now && ready < next)
			next = ready;
	}
	return next;
}

void
dz_rollover_announce_ready(dz_rollover_t *rollover, dz_time_t now,
			   void (*fn)(const dz_rollover_entry_t *entry, void *ctx), void *ctx)
{
	for (size_t i = 0; i < rollover->count; i++) {
		dz_rollover_entry_t *e = rollover->entries[i];
		if (!e->next || e->live || e->announced || !entry_ready(e, now))
			continue;
		e->announced = true;
		rollover->changed = true;
		fn(e, ctx);
	}
}

dz_result_t
dz_rollover_records(const dz_rollover_t *rollover, const dz_config_zone_t *zone, dz_records_t *out)
{
	for (size_t i = 0; i < rollover->count; i++) {
		const dz_rollover_entry_t *e = rollover->entries[i];
		const dz_config_mail_host_t *host = NULL;
		for (size_t h = 0; h < zone->mail.host_count && host == NULL; h++) {
			if (strcmp(zone->mail.hosts[h].name, e->host) == 0)
				host = &zone->mail.hosts[h];
		}
		if (host == NULL)
			continue;
		for (size_t p = 0; p < host->port_count; p++) {
			char owner[DZ_DNAME_TEXT_MAX + 32];
			if (!dz_dname_tlsa_owner(host->ports[p], dz_mail_protocol_name(host->protocol),
						 host->name, owner, sizeof(owner)))
				return DZ_EINVAL;
			for (size_t r = 0; r < e->rdata_count; r++) {
				dz_result_t rc = dz_records_add(out, owner, DZ_TYPE_TLSA, host->ttl,
								e->rdata[r].data, e->rdata[r].len);
				if (rc != DZ_OK)
					return rc;
			}
		}
	}
	return DZ_OK;
}

static const char *
entry_state(const dz_rollover_entry_t *e, dz_time_t now, char *buf, size_t size)
{
	char t1[DZ_TIME_TEXT_MAX], t2[DZ_TIME_TEXT_MAX];
	dz_time_t ready = dz_rollover_ready_at(e);

	if (e->live) {
		snprintf(buf, size, "deployed%s", e->next ? " (also staged as next)" : "");
	} else if (!e->next) {
		snprintf(buf, size, "kept: its file cannot be read now");
	} else if (!e->published) {
		snprintf(buf, size, "next, not ready: waiting for the signer to publish it (added %s)",
			 dz_time_format(e->added, t1));
	} else if (e->propagated == 0) {
		snprintf(buf, size,
			 "next, not ready: published in serial %" PRIu32 " at %s, waiting for every "
			 "secondary to serve it", e->serial, dz_time_format(e->published_at, t1));
	} else if (now < ready) {
		snprintf(buf, size,
			 "next, not ready: on every secondary since %s, ready to deploy at %s (2 x %" PRIu32
			 " s)", dz_time_format(e->propagated, t1), dz_time_format(ready, t2), e->wait_ttl);
	} else {
		snprintf(buf, size, "next, ready to deploy since %s", dz_time_format(ready, t1));
	}
	return buf;
}

void
dz_rollover_print_status(const dz_rollover_t *rollover, dz_time_t now, FILE *out)
{
	const char *last_host = NULL;

	fprintf(out, "zone %s\n", rollover->zone);
	if (rollover->count == 0)
		fprintf(out, "  no TLSA records\n");
	for (size_t i = 0; i < rollover->count; i++) {
		const dz_rollover_entry_t *e = rollover->entries[i];
		char state[256];
		if (last_host == NULL || strcmp(last_host, e->host) != 0)
			fprintf(out, "  host %s\n", e->host);
		last_host = e->host;
		fprintf(out, "    %-10s %-10s %s  %s\n      %s\n", e->key_type, role_name(e->role),
			e->spki_sha256, e->file, entry_state(e, now, state, sizeof(state)));
	}
}

/* ---- state file ---- */

static dz_result_t
write_entry(dz_buf_t *buf, const dz_rollover_entry_t *e)
{
	char id[65];
	dz_result_t rc;

	dz_hex_encode(e->id, 32, id);
	rc = dz_buf_printf(buf,
			   "entry %s %s %s\n"
			   "spki-sha256 %s\n"
			   "key-type %s\n"
			   "flags live=%d next=%d new-owner=%d published=%d announced=%d\n"
			   "times added=%" PRId64 " published=%" PRId64 " propagated=%" PRId64 "\n"
			   "numbers serial=%" PRIu32 " ttl=%" PRIu32 " previous-ttl=%" PRIu32
			   " wait-ttl=%" PRIu32 "\n"
			   "file %s\n",
			   e->host, e->role == DZ_TLSA_ROLE_EE ? "ee" : "ta", id, e->spki_sha256,
			   e->key_type, e->live, e->next, e->new_owner, e->published, e->announced,
			   e->added, e->published_at, e->propagated, e->serial, e->ttl, e->previous_ttl,
			   e->wait_ttl, e->file);
	for (size_t r = 0; rc == DZ_OK && r < e->rdata_count; r++) {
		char *hex = malloc(2 * e->rdata[r].len + 1);
		if (hex == NULL)
			return DZ_ENOMEM;
		dz_hex_encode(e->rdata[r].data, e->rdata[r].len, hex);
		rc = dz_buf_printf(buf, "rdata %s\n", hex);
		free(hex);
	}
	if (rc == DZ_OK)
		rc = dz_buf_printf(buf, "end\n");
	return rc;
}

dz_result_t
dz_rollover_save(dz_rollover_t *rollover, const char *path, dz_error_t *err)
{
	dz_buf_t buf;
	dz_result_t rc = DZ_OK;

	dz_buf_init(&buf);
	rc = dz_buf_printf(&buf, "%s\nzone %s\n", STATE_MAGIC, rollover->zone);
	for (size_t i = 0; rc == DZ_OK && i < rollover->count; i++)
		rc = write_entry(&buf, rollover->entries[i]);
	if (rc != DZ_OK) {
		rc = dz_error_set(err, rc, "out of memory writing %s", path);
		goto cleanup;
	}
	rc = dz_file_write_atomic(path, buf.data, buf.len, 0644, err);
	if (rc == DZ_OK)
		rollover->changed = false;

cleanup:
	dz_buf_clear(&buf);
	return rc;
}

static bool
parse_flag(const char *line, const char *name, bool *value)
{
	char pattern[32];
	const char *p;

	snprintf(pattern, sizeof(pattern), " %s=", name);
	p = strstr(line, pattern);
	if (p == NULL || (p[strlen(pattern)] != '0' && p[strlen(pattern)] != '1'))
		return false;
	*value = p[strlen(pattern)] == '1';
	return true;
}

static bool
parse_number(const char *line, const char *name, int64_t *value)
{
	char pattern[32];
	const char *p;
	char *end;

	snprintf(pattern, sizeof(pattern), " %s=", name);
	p = strstr(line, pattern);
	if (p == NULL)
		return false;
	errno = 0;
	*value = strtoll(p + strlen(pattern), &end, 10);
	return errno == 0 && end != p + strlen(pattern) && (*end == ' ' || *end == '\0');
}

/* Parse the lines of one entry after its "entry" line; false when malformed. */
static bool
parse_entry_line(dz_rollover_entry_t *e, char *line)
{
	int64_t n;

	if (strncmp(line, "spki-sha256 ", 12) == 0) {
		snprintf(e->spki_sha256, sizeof(e->spki_sha256), "%s", line + 12);
		return strlen(e->spki_sha256) == 64;
	}
	if (strncmp(line, "key-type ", 9) == 0) {
		snprintf(e->key_type, sizeof(e->key_type), "%s", line + 9);
		return true;
	}
	if (strncmp(line, "flags ", 6) == 0)
		return parse_flag(line, "live", &e->live) && parse_flag(line, "next", &e->next) &&
		       parse_flag(line, "new-owner", &e->new_owner) &&
		       parse_flag(line, "published", &e->published) &&
		       parse_flag(line, "announced", &e->announced);
	if (strncmp(line, "times ", 6) == 0) {
		if (!parse_number(line, "added", &e->added) ||
		    !parse_number(line, "published", &e->published_at) ||
		    !parse_number(line, "propagated", &e->propagated))
			return false;
		return true;
	}
	if (strncmp(line, "numbers ", 8) == 0) {
		if (!parse_number(line, "serial", &n) || n < 0 || n > UINT32_MAX)
			return false;
		e->serial = (uint32_t)n;
		if (!parse_number(line, "ttl", &n) || n < 0 || n > UINT32_MAX)
			return false;
		e->ttl = (uint32_t)n;
		if (!parse_number(line, "previous-ttl", &n) || n < 0 || n > UINT32_MAX)
			return false;
		e->previous_ttl = (uint32_t)n;
		if (!parse_number(line, "wait-ttl", &n) || n < 0 || n > UINT32_MAX)
			return false;
		e->wait_ttl = (uint32_t)n;
		return true;
	}
	if (strncmp(line, "file ", 5) == 0) {
		free(e->file);
		e->file = strdup(line + 5);
		return e->file != NULL;
	}
	if (strncmp(line, "rdata ", 6) == 0) {
		size_t hex_len = strlen(line + 6);
		dz_buf_t *rdata = realloc(e->rdata, (e->rdata_count + 1) * sizeof(*rdata));
		if (rdata == NULL)
			return false;
		e->rdata = rdata;
		dz_buf_init(&rdata[e->rdata_count]);
		if (hex_len < 6 || hex_len % 2 != 0 ||
		    dz_buf_reserve(&rdata[e->rdata_count], hex_len / 2) != DZ_OK)
			return false;
		long len = dz_hex_decode(line + 6, hex_len, rdata[e->rdata_count].data, hex_len / 2);
		if (len < 3) {
			dz_buf_clear(&rdata[e->rdata_count]);
			return false;
		}
		rdata[e->rdata_count].len = (size_t)len;
		e->rdata_count++;
		return true;
	}
	return false;
}

dz_result_t
dz_rollover_load(const char *path, const char *zone, dz_rollover_t **out, dz_error_t *err)
{
	char *data = NULL;
	size_t len = 0;
	dz_rollover_t *rollover = NULL;
	dz_rollover_entry_t *entry = NULL;
	dz_result_t rc;
	unsigned line_number = 0;
	dz_error_t read_err;

	rollover = dz_rollover_create(zone);
	if (rollover == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	dz_error_init(&read_err);
	rc = dz_file_read_all(path, STATE_FILE_MAX, &data, &len, &read_err);
	if (rc == DZ_ENOTFOUND) {
		*out = rollover;
		return DZ_OK;
	}
	if (rc != DZ_OK) {
		dz_rollover_destroy(rollover);
		return dz_error_set(err, rc, "%s", dz_error_message(&read_err));
	}

	char *save = NULL;
	for (char *line = strtok_r(data, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		line_number++;
		if (line_number == 1) {
			if (strcmp(line, STATE_MAGIC) != 0)
				goto malformed;
			continue;
		}
		if (strncmp(line, "zone ", 5) == 0) {
			if (strcmp(line + 5, zone) != 0)
				goto malformed;
			continue;
		}
		if (strncmp(line, "entry ", 6) == 0) {
			char host[DZ_DNAME_TEXT_MAX], role[8], id[80];
			if (entry != NULL || sscanf(line + 6, "%253s %7s %79s", host, role, id) != 3)
				goto malformed;
			entry = calloc(1, sizeof(*entry));
			if (entry == NULL)
				goto nomem;
			entry->host = strdup(host);
			if (entry->host == NULL)
				goto nomem;
			if (strcmp(role, "ee") == 0)
				entry->role = DZ_TLSA_ROLE_EE;
			else if (strcmp(role, "ta") == 0)
				entry->role = DZ_TLSA_ROLE_TA;
			else
				goto malformed;
			if (dz_hex_decode(id, strlen(id), entry->id, sizeof(entry->id)) != 32)
				goto malformed;
			continue;
		}
		if (strcmp(line, "end") == 0) {
			if (entry == NULL || entry->file == NULL || entry->rdata_count == 0)
				goto malformed;
			if (append_entry(rollover, entry) != DZ_OK)
				goto nomem;
			entry = NULL;
			continue;
		}
		if (entry == NULL || !parse_entry_line(entry, line))
			goto malformed;
	}
	if (entry != NULL || line_number == 0)
		goto malformed;
	free(data);
	rollover->changed = false;
	*out = rollover;
	return DZ_OK;

malformed:
	rc = dz_error_set(err, DZ_EINVAL,
			  "%s: line %u is malformed; restore the file from a backup or remove it to "
			  "start the TLSA state afresh", path, line_number);
	goto fail;
nomem:
	rc = dz_error_set(err, DZ_ENOMEM, "out of memory reading %s", path);
fail:
	entry_free(entry);
	dz_rollover_destroy(rollover);
	free(data);
	return rc;
}
