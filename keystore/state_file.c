#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/duration.h"
#include "common/file.h"
#include "common/mem.h"
#include "keystore/state_file.h"

#define LINE_MAX_FIELDS 64

char *
dz_key_state_path(const char *state_dir, const char *zone)
{
	size_t len = strlen(zone);
	char *path;

	while (len > 0 && zone[len - 1] == '.')
		len--;
	if (len == 0) {
		zone = "root";
		len = 4;
	}
	path = malloc(strlen(state_dir) + len + sizeof("/.keys"));
	if (path == NULL)
		return NULL;
	sprintf(path, "%s/%.*s.keys", state_dir, (int)len, zone);
	for (char *p = path + strlen(state_dir) + 1; *p != '\0'; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	}
	return path;
}

/* ---------------------------------------------------------------------------
 * Writing
 */

/* Base64 (RFC 4648) of `len` bytes into `out`, which needs 4 * ((len + 2) / 3) + 1 bytes. */
static void
base64_encode(const uint8_t *data, size_t len, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
}

/* Decode base64 into `out` of `cap` bytes; returns the length or -1. */
static long
base64_decode(const char *text, uint8_t *out, size_t cap)
{
	size_t len = strlen(text);
	uint8_t buf[4 * DZ_PUBLIC_KEY_MAX];

	if (len == 0 || len % 4 != 0 || len / 4 * 3 > sizeof(buf))
		return -1;
	int n = EVP_DecodeBlock(buf, (const unsigned char *)text, (int)len);
	if (n < 0)
		return -1;
	/* EVP_DecodeBlock counts the bytes the padding stands for. */
	if (text[len - 1] == '=')
		n--;
	if (text[len - 2] == '=')
		n--;
	if ((size_t)n > cap)
		return -1;
	memcpy(out, buf, (size_t)n);
	return n;
}

static const char *
fmt_time(dz_time_t t, char buf[DZ_TIME_TEXT_MAX])
{
	if (t == DZ_KEY_TIME_NONE)
		return "-";
	return dz_time_format(t, buf);
}

/* Percent-encode text so it contains no space, '%' or control character; "-" if empty. */
static void
put_text(dz_buf_t *b, const char *text)
{
	if (text == NULL || text[0] == '\0') {
		dz_buf_printf(b, "-");
		return;
	}
	for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
		if (*p <= ' ' || *p == '%' || *p >= 0x7f || (p == (const unsigned char *)text && *p == '-'))
			dz_buf_printf(b, "%%%02X", *p);
		else
			dz_buf_printf(b, "%c", *p);
	}
}

static const char *
ksk_method_name(dz_ksk_rollover_t m)
{
	switch (m) {
	case DZ_KSK_DOUBLE_KSK:
		return "double-ksk";
	case DZ_KSK_DOUBLE_DS:
		return "double-ds";
	case DZ_KSK_DOUBLE_RRSET:
		return "double-rrset";
	}
	return "double-ksk";
}

static const char *
zsk_method_name(dz_zsk_rollover_t m)
{
	return m == DZ_ZSK_DOUBLE_RRSIG ? "double-rrsig" : "prepublish";
}

static const char *ttl_class_names[DZ_TTL_CLASS_COUNT] = { "dnskey", "ds", "data" };

static void
write_policy(dz_buf_t *b, const dz_policy_t *p, uint32_t negative_ttl)
{
	dz_buf_printf(b, "policy name=");
	put_text(b, p->name);
	dz_buf_printf(b,
		      " ksk-rollover=%s zsk-rollover=%s standby-keys=%u manual-mode=%s"
		      " dnskey-ttl=%" PRIu32 " max-zone-ttl=%" PRIu32 " ds-ttl=%" PRIu32
		      " zone-propagation-delay=%" PRId64 " parent-propagation-delay=%" PRId64
		      " registration-delay=%" PRId64 " publish-safety=%" PRId64
		      " retire-safety=%" PRId64 " purge-delay=%" PRId64
		      " signature-validity=%" PRId64 " signature-validity-dnskey=%" PRId64
		      " signature-refresh=%" PRId64 " signature-jitter=%" PRId64
		      " signature-inception-offset=%" PRId64,
		      ksk_method_name(p->ksk_rollover), zsk_method_name(p->zsk_rollover),
		      p->standby_keys, p->manual_mode ? "yes" : "no", p->dnskey_ttl,
		      p->max_zone_ttl, p->ds_ttl, p->zone_propagation_delay,
		      p->parent_propagation_delay, p->registration_delay, p->publish_safety,
		      p->retire_safety, p->purge_delay, p->signature_validity,
		      p->signature_validity_dnskey, p->signature_refresh, p->signature_jitter,
		      p->signature_inception_offset);
	dz_buf_printf(b, " cds-digest-types=");
	for (size_t i = 0; i < p->cds_digest_count; i++)
		dz_buf_printf(b, "%s%u", i > 0 ? "," : "", p->cds_digest_types[i]);
	if (p->cds_digest_count == 0)
		dz_buf_printf(b, "-");
	dz_buf_printf(b,
		      " publish-cdnskey=%s ds-observation=%s ds-check-interval=%" PRId64
		      " ds-alert-after=%" PRId64 " negative-ttl=%" PRIu32 "\n",
		      p->publish_cdnskey ? "yes" : "no",
		      p->ds_observation == DZ_DS_OBSERVE_PARENT ? "parent" : "operator",
		      p->ds_check_interval, p->ds_alert_after, negative_ttl);
	for (size_t i = 0; i < p->key_count; i++) {
		const dz_policy_key_t *k = &p->keys[i];
		dz_buf_printf(b, "policy-key role=%s algorithm=%u bits=%u lifetime=%" PRId64 " token=",
			      dz_role_name(k->role), k->algorithm, k->bits, k->lifetime);
		put_text(b, k->token);
		dz_buf_printf(b, "\n");
	}
}

static void
write_key(dz_buf_t *b, const dz_key_t *k)
{
	char t[6][DZ_TIME_TEXT_MAX];
	char hex[2 * DZ_KEY_ID_MAX + 1];
	char b64[4 * ((DZ_PUBLIC_KEY_MAX + 2) / 3) + 1];

	dz_hex_encode(k->key_id, k->key_id_len, hex);
	b64[0] = '\0';
	if (k->public_key_len > 0)
		base64_encode(k->public_key, k->public_key_len, b64);
	dz_buf_printf(b, "key number=%" PRIu32 " role=%s algorithm=%u bits=%u token=", k->number,
		      dz_role_name(k->role), k->algorithm, k->bits);
	put_text(b, k->token);
	dz_buf_printf(b, " flags=%u tag=%u id=%s public-key=%s goal=%s standby=%s",
		      k->flags, k->tag, k->key_id_len > 0 ? hex : "-", b64[0] != '\0' ? b64 : "-",
		      dz_key_goal_name(k->goal), k->standby ? "yes" : "no");
	dz_buf_printf(b,
		      " predecessor=%" PRIu32 " successor=%" PRIu32
		      " created=%s publish=%s active=%s retire=%s",
		      k->predecessor, k->successor, fmt_time(k->created, t[0]),
		      fmt_time(k->publish, t[1]), fmt_time(k->active, t[2]),
		      fmt_time(k->retire, t[3]));
	for (int r = 0; r < DZ_REC_COUNT; r++) {
		if (!dz_key_has_record(k, (dz_key_record_t)r)) {
			dz_buf_printf(b, " %s=-", dz_key_record_name((dz_key_record_t)r));
			continue;
		}
		dz_buf_printf(b, " %s=%s@%s", dz_key_record_name((dz_key_record_t)r),
			      dz_key_state_name(k->state[r]), fmt_time(k->changed[r], t[0]));
	}
	dz_buf_printf(b,
		      " resigned=%s ds-seen=%s ds-gone=%s ds-checked=%s ds-ttl-seen=%" PRIu32
		      " roll-at=%s roll-force=%s backup=%s\n",
		      fmt_time(k->resigned, t[0]), fmt_time(k->ds_seen, t[1]),
		      fmt_time(k->ds_gone, t[2]), fmt_time(k->ds_checked, t[3]), k->ds_ttl_seen,
		      fmt_time(k->roll_at, t[4]), k->roll_force ? "yes" : "no",
		      k->backup == DZ_BACKUP_NEEDED ? "needed"
		      : k->backup == DZ_BACKUP_DONE ? "done"
						    : "none");
}

static void
write_ring(dz_buf_t *b, const dz_keyring_t *ring, const dz_policy_t *policy,
	   uint32_t negative_ttl)
{
	char t[3][DZ_TIME_TEXT_MAX];
	const dz_key_clock_guard_t *c = &ring->clock;

	dz_buf_printf(b, "danezone-keystate %d\n", DZ_KEY_STATE_FORMAT);
	dz_buf_printf(b, "zone %s\n", ring->zone);
	dz_buf_printf(b, "next-key %" PRIu32 "\n", ring->next_number);
	dz_buf_printf(b, "ds-ttl-observed %" PRIu32 "\n", ring->ds_ttl_observed);
	dz_buf_printf(b, "last-commit %s\n", fmt_time(ring->last_commit, t[0]));
	dz_buf_printf(b, "clock wall=%s boottime=%" PRId64 " boot-id=", fmt_time(c->wall, t[0]),
		      c->boottime);
	put_text(b, c->boot_id);
	dz_buf_printf(b,
		      " frozen=%s frozen-at=%s jump=%" PRId64 " ack-requested=%" PRIu32
		      " ack-done=%" PRIu32 " reason=",
		      c->frozen ? "yes" : "no", fmt_time(c->frozen_at, t[1]), c->jump,
		      c->ack_requested, c->ack_done);
	put_text(b, c->reason);
	dz_buf_printf(b, "\n");
	dz_buf_printf(b, "step requested=%" PRIu32 " done=%" PRIu32 "\n", ring->step_requested,
		      ring->step_done);
	for (int cls = 0; cls < DZ_TTL_CLASS_COUNT; cls++) {
		for (size_t i = 0; i < ring->ttl[cls].count; i++) {
			const dz_ttl_entry_t *e = &ring->ttl[cls].entries[i];
			dz_buf_printf(b, "ttl class=%s ttl=%" PRIu32 " from=%s until=%s\n",
				      ttl_class_names[cls], e->ttl, fmt_time(e->from, t[0]),
				      e->until == DZ_TIME_NEVER ? "-" : dz_time_format(e->until, t[1]));
		}
	}
	if (policy != NULL)
		write_policy(b, policy, negative_ttl);
	for (size_t i = 0; i < ring->count; i++)
		write_key(b, &ring->keys[i]);
	for (size_t i = 0; i < ring->event_count; i++) {
		const dz_key_event_t *e = &ring->events[i];
		dz_buf_printf(b, "event time=%s key=%" PRIu32 " record=%s from=%s to=%s\n",
			      fmt_time(e->time, t[0]), e->key, dz_key_record_name(e->record),
			      dz_key_state_name(e->from), dz_key_state_name(e->to));
	}
	dz_buf_printf(b, "end\n");
}

dz_result_t
dz_key_state_write(const char *path, const dz_keyring_t *ring, const dz_policy_t *policy,
		   uint32_t negative_ttl, dz_error_t *err)
{
	dz_buf_t buf;
	dz_result_t result;

	dz_buf_init(&buf);
	write_ring(&buf, ring, policy, negative_ttl);
	/* dz_buf_printf keeps the buffer NUL-terminated; a failed append leaves it short. */
	if (buf.data == NULL || buf.len < 4 || memcmp(buf.data + buf.len - 4, "end\n", 4) != 0) {
		result = dz_error_set(err, DZ_ENOMEM, "out of memory writing key state file %s",
				      path);
		goto cleanup;
	}
	result = dz_file_write_atomic(path, buf.data, buf.len, 0640, err);

cleanup:
	dz_buf_clear(&buf);
	return result;
}

/* ---------------------------------------------------------------------------
 * Reading
 */

typedef struct reader {
	const char *path;
	unsigned line;
	dz_error_t *err;
	char *fields[LINE_MAX_FIELDS];
	size_t field_count;
	bool *used;
} reader_t;

static dz_result_t
syntax(reader_t *rd, const char *what, const char *value)
{
	return dz_error_set(rd->err, DZ_ESYNTAX,
			    "key state file %s line %u: %s%s%s%s; restore the file from a backup "
			    "or from the daemon's last good copy",
			    rd->path, rd->line, what, value != NULL ? " '" : "",
			    value != NULL ? value : "", value != NULL ? "'" : "");
}

/* Split a line into space-separated fields (in place). */
static void
split(reader_t *rd, char *line)
{
	rd->field_count = 0;
	for (char *p = strtok(line, " \t"); p != NULL; p = strtok(NULL, " \t")) {
		if (rd->field_count < LINE_MAX_FIELDS)
			rd->fields[rd->field_count++] = p;
	}
}

/* Value of `name=` among fields 1.. of the line, or NULL. */
static const char *
field(reader_t *rd, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 1; i < rd->field_count; i++) {
		if (strncmp(rd->fields[i], name, len) == 0 && rd->fields[i][len] == '=') {
			rd->used[i] = true;
			return rd->fields[i] + len + 1;
		}
	}
	return NULL;
}

static dz_result_t
need(reader_t *rd, const char *name, const char **value)
{
	*value = field(rd, name);
	if (*value == NULL)
		return syntax(rd, "missing field", name);
	return DZ_OK;
}

static dz_result_t
check_all_used(reader_t *rd)
{
	for (size_t i = 1; i < rd->field_count; i++) {
		if (!rd->used[i])
			return syntax(rd, "unknown field", rd->fields[i]);
	}
	return DZ_OK;
}

static dz_result_t
get_time(reader_t *rd, const char *name, dz_time_t *out)
{
	const char *v;
	dz_result_t result = need(rd, name, &v);

	if (result != DZ_OK)
		return result;
	if (strcmp(v, "-") == 0) {
		*out = DZ_KEY_TIME_NONE;
		return DZ_OK;
	}
	if (dz_time_parse(v, out, NULL) != DZ_OK)
		return syntax(rd, "invalid time", v);
	return DZ_OK;
}

static dz_result_t
get_int(reader_t *rd, const char *name, int64_t min, int64_t max, int64_t *out)
{
	const char *v;
	char *end;
	dz_result_t result = need(rd, name, &v);

	if (result != DZ_OK)
		return result;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < min || n > max)
		return syntax(rd, "invalid number", v);
	*out = n;
	return DZ_OK;
}

static dz_result_t
get_bool(reader_t *rd, const char *name, bool *out)
{
	const char *v;
	dz_result_t result = need(rd, name, &v);

	if (result != DZ_OK)
		return result;
	if (strcmp(v, "yes") == 0)
		*out = true;
	else if (strcmp(v, "no") == 0)
		*out = false;
	else
		return syntax(rd, "expected yes or no, got", v);
	return DZ_OK;
}

/* Decode percent-encoded text into `out` of `cap` bytes ("-" is empty). */
static dz_result_t
get_text(reader_t *rd, const char *name, char *out, size_t cap)
{
	const char *v;
	dz_result_t result = need(rd, name, &v);
	size_t n = 0;

	if (result != DZ_OK)
		return result;
	if (strcmp(v, "-") == 0) {
		out[0] = '\0';
		return DZ_OK;
	}
	for (const char *p = v; *p != '\0'; p++) {
		char c = *p;
		if (c == '%') {
			uint8_t byte;
			if (dz_hex_decode(p + 1, 2, &byte, 1) != 1)
				return syntax(rd, "invalid percent encoding in", v);
			c = (char)byte;
			p += 2;
		}
		if (n + 1 >= cap)
			return syntax(rd, "text too long", v);
		out[n++] = c;
	}
	out[n] = '\0';
	return DZ_OK;
}

#define GET_INT(rd, name, min, max, dst)                              \
	do {                                                           \
		int64_t v_;                                            \
		if ((result = get_int(rd, name, min, max, &v_)) != DZ_OK) \
			return result;                                 \
		(dst) = v_;                                            \
	} while (0)

static dz_result_t
parse_state_value(reader_t *rd, const char *v, dz_key_state_t *state, dz_time_t *changed)
{
	char name[16];
	const char *at = strchr(v, '@');

	if (at == NULL || (size_t)(at - v) >= sizeof(name))
		return syntax(rd, "expected STATE@TIME, got", v);
	memcpy(name, v, (size_t)(at - v));
	name[at - v] = '\0';
	if (!dz_key_state_parse(name, state))
		return syntax(rd, "unknown key state", name);
	if (strcmp(at + 1, "-") == 0)
		*changed = DZ_KEY_TIME_NONE;
	else if (dz_time_parse(at + 1, changed, NULL) != DZ_OK)
		return syntax(rd, "invalid time", at + 1);
	return DZ_OK;
}

static dz_result_t
read_key(reader_t *rd, dz_keyring_t *ring)
{
	dz_result_t result;
	dz_key_t k;
	const char *v;

	dz_key_init(&k);
	GET_INT(rd, "number", 1, UINT32_MAX, k.number);
	if ((result = need(rd, "role", &v)) != DZ_OK)
		return result;
	if (!dz_role_parse(v, &k.role))
		return syntax(rd, "unknown key role", v);
	GET_INT(rd, "algorithm", 1, 255, k.algorithm);
	GET_INT(rd, "bits", 0, 65535, k.bits);
	if ((result = get_text(rd, "token", k.token, sizeof(k.token))) != DZ_OK)
		return result;
	GET_INT(rd, "flags", 0, 65535, k.flags);
	GET_INT(rd, "tag", 0, 65535, k.tag);
	if ((result = need(rd, "id", &v)) != DZ_OK)
		return result;
	if (strcmp(v, "-") != 0) {
		long n = dz_hex_decode(v, strlen(v), k.key_id, sizeof(k.key_id));
		if (n < 0)
			return syntax(rd, "invalid key id", v);
		k.key_id_len = (size_t)n;
	}
	if ((result = need(rd, "public-key", &v)) != DZ_OK)
		return result;
	if (strcmp(v, "-") != 0) {
		long n = base64_decode(v, k.public_key, sizeof(k.public_key));
		if (n < 0)
			return syntax(rd, "invalid public key", v);
		k.public_key_len = (size_t)n;
	}
	if ((result = need(rd, "goal", &v)) != DZ_OK)
		return result;
	if (strcmp(v, "omnipresent") == 0)
		k.goal = DZ_GOAL_OMNIPRESENT;
	else if (strcmp(v, "hidden") == 0)
		k.goal = DZ_GOAL_HIDDEN;
	else
		return syntax(rd, "unknown goal", v);
	if ((result = get_bool(rd, "standby", &k.standby)) != DZ_OK)
		return result;
	GET_INT(rd, "predecessor", 0, UINT32_MAX, k.predecessor);
	GET_INT(rd, "successor", 0, UINT32_MAX, k.successor);
	if ((result = get_time(rd, "created", &k.created)) != DZ_OK ||
	    (result = get_time(rd, "publish", &k.publish)) != DZ_OK ||
	    (result = get_time(rd, "active", &k.active)) != DZ_OK ||
	    (result = get_time(rd, "retire", &k.retire)) != DZ_OK)
		return result;
	for (int r = 0; r < DZ_REC_COUNT; r++) {
		if ((result = need(rd, dz_key_record_name((dz_key_record_t)r), &v)) != DZ_OK)
			return result;
		bool has = dz_key_has_record(&k, (dz_key_record_t)r);
		if (strcmp(v, "-") == 0) {
			if (has)
				return syntax(rd, "missing state of record",
					      dz_key_record_name((dz_key_record_t)r));
			continue;
		}
		if (!has)
			return syntax(rd, "state given for a record the role lacks",
				      dz_key_record_name((dz_key_record_t)r));
		if ((result = parse_state_value(rd, v, &k.state[r], &k.changed[r])) != DZ_OK)
			return result;
	}
	if ((result = get_time(rd, "resigned", &k.resigned)) != DZ_OK ||
	    (result = get_time(rd, "ds-seen", &k.ds_seen)) != DZ_OK ||
	    (result = get_time(rd, "ds-gone", &k.ds_gone)) != DZ_OK ||
	    (result = get_time(rd, "ds-checked", &k.ds_checked)) != DZ_OK)
		return result;
	GET_INT(rd, "ds-ttl-seen", 0, UINT32_MAX, k.ds_ttl_seen);
	if ((result = get_time(rd, "roll-at", &k.roll_at)) != DZ_OK ||
	    (result = get_bool(rd, "roll-force", &k.roll_force)) != DZ_OK)
		return result;
	if ((result = need(rd, "backup", &v)) != DZ_OK)
		return result;
	if (strcmp(v, "none") == 0)
		k.backup = DZ_BACKUP_NONE;
	else if (strcmp(v, "needed") == 0)
		k.backup = DZ_BACKUP_NEEDED;
	else if (strcmp(v, "done") == 0)
		k.backup = DZ_BACKUP_DONE;
	else
		return syntax(rd, "unknown backup state", v);
	if ((result = check_all_used(rd)) != DZ_OK)
		return result;
	if (dz_keyring_index(ring, k.number) != SIZE_MAX)
		return syntax(rd, "duplicate key number", rd->fields[1]);
	if (dz_keyring_add(ring, &k, NULL) != DZ_OK)
		return dz_error_set(rd->err, DZ_ENOMEM, "out of memory");
	return DZ_OK;
}

static dz_result_t
read_policy(reader_t *rd, dz_policy_t *p, uint32_t *negative_ttl)
{
	dz_result_t result;
	const char *v;
	char name[256];

	if ((result = get_text(rd, "name", name, sizeof(name))) != DZ_OK)
		return result;
	free(p->name);
	p->name = strdup(name);
	if (p->name == NULL)
		return dz_error_set(rd->err, DZ_ENOMEM, "out of memory");
	if ((result = need(rd, "ksk-rollover", &v)) != DZ_OK)
		return result;
	if (strcmp(v, "double-ksk") == 0)
		p->ksk_rollover = DZ_KSK_DOUBLE_KSK;
	else if (strcmp(v, "double-ds") == 0)
		p->ksk_rollover = DZ_KSK_DOUBLE_DS;
	else if (strcmp(v, "double-rrset") == 0)
		p->ksk_rollover = DZ_KSK_DOUBLE_RRSET;
	else
		return syntax(rd, "unknown KSK rollover method", v);
	if ((result = need(rd, "zsk-rollover", &v)) != DZ_OK)
		return result;
	if (strcmp(v, "prepublish") == 0)
		p->zsk_rollover = DZ_ZSK_PREPUBLISH;
	else if (strcmp(v, "double-rrsig") == 0)
		p->zsk_rollover = DZ_ZSK_DOUBLE_RRSIG;
	else
		return syntax(rd, "unknown ZSK rollover method", v);
	GET_INT(rd, "standby-keys", 0, 100, p->standby_keys);
	if ((result = get_bool(rd, "manual-mode", &p->manual_mode)) != DZ_OK)
		return result;
	GET_INT(rd, "dnskey-ttl", 0, UINT32_MAX, p->dnskey_ttl);
	GET_INT(rd, "max-zone-ttl", 0, UINT32_MAX, p->max_zone_ttl);
	GET_INT(rd, "ds-ttl", 0, UINT32_MAX, p->ds_ttl);
	GET_INT(rd, "zone-propagation-delay", 0, DZ_DURATION_MAX, p->zone_propagation_delay);
	GET_INT(rd, "parent-propagation-delay", 0, DZ_DURATION_MAX,
		p->parent_propagation_delay);
	GET_INT(rd, "registration-delay", 0, DZ_DURATION_MAX, p->registration_delay);
	GET_INT(rd, "publish-safety", 0, DZ_DURATION_MAX, p->publish_safety);
	GET_INT(rd, "retire-safety", 0, DZ_DURATION_MAX, p->retire_safety);
	GET_INT(rd, "purge-delay", 0, DZ_DURATION_MAX, p->purge_delay);
	GET_INT(rd, "signature-validity", 0, DZ_DURATION_MAX, p->signature_validity);
	GET_INT(rd, "signature-validity-dnskey", 0, DZ_DURATION_MAX,
		p->signature_validity_dnskey);
	GET_INT(rd, "signature-refresh", 0, DZ_DURATION_MAX, p->signature_refresh);
	GET_INT(rd, "signature-jitter", 0, DZ_DURATION_MAX, p->signature_jitter);
	GET_INT(rd, "signature-inception-offset", 0, DZ_DURATION_MAX,
		p->signature_inception_offset);
	if ((result = need(rd, "cds-digest-types", &v)) != DZ_OK)
		return result;
	p->cds_digest_count = 0;
	if (strcmp(v, "-") != 0) {
		char copy[64];
		snprintf(copy, sizeof(copy), "%s", v);
		for (char *t = strtok(copy, ","); t != NULL; t = strtok(NULL, ",")) {
			char *end;
			unsigned long d = strtoul(t, &end, 10);
			if (*end != '\0' || d > 255 || p->cds_digest_count == DZ_POLICY_MAX_DIGESTS)
				return syntax(rd, "invalid digest type list", v);
			p->cds_digest_types[p->cds_digest_count++] = (uint8_t)d;
		}
	}
	if ((result = get_bool(rd, "publish-cdnskey", &p->publish_cdnskey)) != DZ_OK)
		return result;
	if ((result = need(rd, "ds-observation", &v)) != DZ_OK)
		return result;
	if (strcmp(v, "operator") == 0)
		p->ds_observation = DZ_DS_OBSERVE_OPERATOR;
	else if (strcmp(v, "parent") == 0)
		p->ds_observation = DZ_DS_OBSERVE_PARENT;
	else
		return syntax(rd, "unknown DS observation", v);
	GET_INT(rd, "ds-check-interval", 0, DZ_DURATION_MAX, p->ds_check_interval);
	GET_INT(rd, "ds-alert-after", 0, DZ_DURATION_MAX, p->ds_alert_after);
	uint32_t neg;
	GET_INT(rd, "negative-ttl", 0, UINT32_MAX, neg);
	if (negative_ttl != NULL)
		*negative_ttl = neg;
	return check_all_used(rd);
}

static dz_result_t
read_policy_key(reader_t *rd, dz_policy_t *p, bool *first)
{
	dz_result_t result;
	dz_policy_key_t k;
	const char *v;
	char token[DZ_KEY_TOKEN_MAX];

	memset(&k, 0, sizeof(k));
	if ((result = need(rd, "role", &v)) != DZ_OK)
		return result;
	if (!dz_role_parse(v, &k.role))
		return syntax(rd, "unknown key role", v);
	GET_INT(rd, "algorithm", 1, 255, k.algorithm);
	GET_INT(rd, "bits", 0, 65535, k.bits);
	GET_INT(rd, "lifetime", 0, DZ_DURATION_MAX, k.lifetime);
	if ((result = get_text(rd, "token", token, sizeof(token))) != DZ_OK)
		return result;
	if ((result = check_all_used(rd)) != DZ_OK)
		return result;
	if (*first) {
		/* The stored slots replace the default one. */
		for (size_t i = 0; i < p->key_count; i++)
			free(p->keys[i].token);
		p->key_count = 0;
		*first = false;
	}
	dz_policy_key_t *keys = realloc(p->keys, (p->key_count + 1) * sizeof(*keys));
	if (keys == NULL)
		return dz_error_set(rd->err, DZ_ENOMEM, "out of memory");
	p->keys = keys;
	if (token[0] != '\0' && (k.token = strdup(token)) == NULL)
		return dz_error_set(rd->err, DZ_ENOMEM, "out of memory");
	p->keys[p->key_count++] = k;
	return DZ_OK;
}

static dz_result_t
read_ttl(reader_t *rd, dz_keyring_t *ring)
{
	dz_result_t result;
	const char *v;
	int cls = -1;
	dz_ttl_entry_t e;

	if ((result = need(rd, "class", &v)) != DZ_OK)
		return result;
	for (int c = 0; c < DZ_TTL_CLASS_COUNT; c++) {
		if (strcmp(v, ttl_class_names[c]) == 0)
			cls = c;
	}
	if (cls < 0)
		return syntax(rd, "unknown TTL class", v);
	GET_INT(rd, "ttl", 0, UINT32_MAX, e.ttl);
	if ((result = get_time(rd, "from", &e.from)) != DZ_OK ||
	    (result = get_time(rd, "until", &e.until)) != DZ_OK)
		return result;
	if (e.until == DZ_KEY_TIME_NONE)
		e.until = DZ_TIME_NEVER;
	if ((result = check_all_used(rd)) != DZ_OK)
		return result;
	dz_ttl_history_t *h = &ring->ttl[cls];
	if (h->count == DZ_TTL_HISTORY_MAX)
		return syntax(rd, "too many TTL history entries for class", v);
	h->entries[h->count++] = e;
	return DZ_OK;
}

static dz_result_t
read_event(reader_t *rd, dz_keyring_t *ring)
{
	dz_result_t result;
	dz_key_event_t e;
	const char *v;

	if ((result = get_time(rd, "time", &e.time)) != DZ_OK)
		return result;
	GET_INT(rd, "key", 1, UINT32_MAX, e.key);
	if ((result = need(rd, "record", &v)) != DZ_OK)
		return result;
	if (!dz_key_record_parse(v, &e.record))
		return syntax(rd, "unknown record", v);
	if ((result = need(rd, "from", &v)) != DZ_OK)
		return result;
	if (!dz_key_state_parse(v, &e.from))
		return syntax(rd, "unknown key state", v);
	if ((result = need(rd, "to", &v)) != DZ_OK)
		return result;
	if (!dz_key_state_parse(v, &e.to))
		return syntax(rd, "unknown key state", v);
	if ((result = check_all_used(rd)) != DZ_OK)
		return result;
	if (dz_keyring_add_event(ring, &e) != DZ_OK)
		return dz_error_set(rd->err, DZ_ENOMEM, "out of memory");
	return DZ_OK;
}

static dz_result_t
read_clock(reader_t *rd, dz_keyring_t *ring)
{
	dz_result_t result;
	dz_key_clock_guard_t *c = &ring->clock;

	if ((result = get_time(rd, "wall", &c->wall)) != DZ_OK)
		return result;
	GET_INT(rd, "boottime", INT64_MIN, INT64_MAX, c->boottime);
	if ((result = get_text(rd, "boot-id", c->boot_id, sizeof(c->boot_id))) != DZ_OK ||
	    (result = get_bool(rd, "frozen", &c->frozen)) != DZ_OK ||
	    (result = get_time(rd, "frozen-at", &c->frozen_at)) != DZ_OK)
		return result;
	GET_INT(rd, "jump", INT64_MIN, INT64_MAX, c->jump);
	GET_INT(rd, "ack-requested", 0, UINT32_MAX, c->ack_requested);
	GET_INT(rd, "ack-done", 0, UINT32_MAX, c->ack_done);
	if ((result = get_text(rd, "reason", c->reason, sizeof(c->reason))) != DZ_OK)
		return result;
	return check_all_used(rd);
}

/* Value of a line "NAME VALUE" with exactly one field after the name. */
static dz_result_t
single_value(reader_t *rd, const char **value)
{
	if (rd->field_count != 2)
		return syntax(rd, "expected one value after", rd->fields[0]);
	*value = rd->fields[1];
	return DZ_OK;
}

static dz_result_t
single_int(reader_t *rd, int64_t max, int64_t *out)
{
	const char *v;
	char *end;
	dz_result_t result = single_value(rd, &v);

	if (result != DZ_OK)
		return result;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < 0 || n > max)
		return syntax(rd, "invalid number", v);
	*out = n;
	return DZ_OK;
}

static dz_result_t
read_line(reader_t *rd, dz_keyring_t *ring, dz_policy_t *policy, uint32_t *negative_ttl,
	  bool *first_slot, bool *ended)
{
	const char *kind = rd->fields[0];
	const char *v;
	int64_t n;
	dz_result_t result;

	if (strcmp(kind, "zone") == 0) {
		if ((result = single_value(rd, &v)) != DZ_OK)
			return result;
		dz_keyring_init(ring, v);
	} else if (strcmp(kind, "next-key") == 0) {
		if ((result = single_int(rd, UINT32_MAX, &n)) != DZ_OK)
			return result;
		if ((uint32_t)n > ring->next_number)
			ring->next_number = (uint32_t)n;
	} else if (strcmp(kind, "ds-ttl-observed") == 0) {
		if ((result = single_int(rd, UINT32_MAX, &n)) != DZ_OK)
			return result;
		ring->ds_ttl_observed = (uint32_t)n;
	} else if (strcmp(kind, "last-commit") == 0) {
		if ((result = single_value(rd, &v)) != DZ_OK)
			return result;
		if (strcmp(v, "-") == 0)
			ring->last_commit = DZ_KEY_TIME_NONE;
		else if (dz_time_parse(v, &ring->last_commit, NULL) != DZ_OK)
			return syntax(rd, "invalid time", v);
	} else if (strcmp(kind, "clock") == 0) {
		return read_clock(rd, ring);
	} else if (strcmp(kind, "step") == 0) {
		GET_INT(rd, "requested", 0, UINT32_MAX, ring->step_requested);
		GET_INT(rd, "done", 0, UINT32_MAX, ring->step_done);
		return check_all_used(rd);
	} else if (strcmp(kind, "ttl") == 0) {
		return read_ttl(rd, ring);
	} else if (strcmp(kind, "policy") == 0) {
		if (policy == NULL) {
			dz_policy_t scratch;
			if (!dz_policy_init_defaults(&scratch))
				return dz_error_set(rd->err, DZ_ENOMEM, "out of memory");
			result = read_policy(rd, &scratch, negative_ttl);
			dz_policy_clear(&scratch);
			return result;
		}
		return read_policy(rd, policy, negative_ttl);
	} else if (strcmp(kind, "policy-key") == 0) {
		if (policy == NULL) {
			for (size_t i = 1; i < rd->field_count; i++)
				rd->used[i] = true;
			return DZ_OK;
		}
		return read_policy_key(rd, policy, first_slot);
	} else if (strcmp(kind, "key") == 0) {
		return read_key(rd, ring);
	} else if (strcmp(kind, "event") == 0) {
		return read_event(rd, ring);
	} else if (strcmp(kind, "end") == 0) {
		*ended = true;
	} else {
		return syntax(rd, "unknown record type", kind);
	}
	return DZ_OK;
}

dz_result_t
dz_key_state_read(const char *path, dz_keyring_t *ring, dz_policy_t *policy,
		  uint32_t *negative_ttl, dz_error_t *err)
{
	char *data = NULL;
	size_t len = 0;
	dz_result_t result;
	bool used[LINE_MAX_FIELDS];
	reader_t rd = { .path = path, .err = err, .used = used };
	bool have_policy = false;
	bool first_slot = true;
	bool ended = false;
	bool have_zone = false;
	uint32_t stored_negative_ttl = 0;

	dz_keyring_init(ring, ".");
	if (policy != NULL && !dz_policy_init_defaults(policy))
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	have_policy = policy != NULL;

	result = dz_file_read_all(path, DZ_KEY_STATE_MAX_SIZE, &data, &len, err);
	if (result != DZ_OK) {
		if (access(path, F_OK) != 0 && errno == ENOENT)
			result = dz_error_set(err, DZ_ENOTFOUND, "key state file %s does not exist",
					      path);
		goto cleanup;
	}
	char *save = NULL;
	for (char *line = strtok_r(data, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		rd.line++;
		if (ended) {
			result = syntax(&rd, "data after the end line", NULL);
			goto cleanup;
		}
		split(&rd, line);
		memset(used, 0, sizeof(used));
		if (rd.field_count == 0)
			continue;
		if (rd.line == 1) {
			if (rd.field_count != 2 || strcmp(rd.fields[0], "danezone-keystate") != 0) {
				result = syntax(&rd, "not a danezone key state file", NULL);
				goto cleanup;
			}
			if (strcmp(rd.fields[1], "1") != 0) {
				result = dz_error_set(
					err, DZ_ENOTSUP,
					"key state file %s has format version %s, but this danezone "
					"reads version %d; run the danezone that wrote it",
					path, rd.fields[1], DZ_KEY_STATE_FORMAT);
				goto cleanup;
			}
			continue;
		}
		if (strcmp(rd.fields[0], "zone") == 0)
			have_zone = true;
		else if (!have_zone) {
			result = syntax(&rd, "the zone line must come second", NULL);
			goto cleanup;
		}
		result = read_line(&rd, ring, policy, &stored_negative_ttl, &first_slot, &ended);
		if (result != DZ_OK)
			goto cleanup;
	}
	if (rd.line == 0 || !ended) {
		rd.line++;
		result = syntax(&rd, "the file is truncated (no end line)", NULL);
		goto cleanup;
	}
	if (negative_ttl != NULL)
		*negative_ttl = stored_negative_ttl;

cleanup:
	free(data);
	if (result != DZ_OK) {
		dz_keyring_clear(ring);
		if (have_policy)
			dz_policy_clear(policy);
	}
	return result;
}

dz_result_t
dz_key_state_lock(const char *path, int *fd, dz_error_t *err)
{
	size_t len = strlen(path);
	char *lock_path = malloc(len + sizeof(".lock"));
	int f;

	if (lock_path == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	memcpy(lock_path, path, len);
	memcpy(lock_path + len, ".lock", sizeof(".lock"));
	f = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (f < 0) {
		dz_result_t result = dz_error_set(err, errno == EACCES ? DZ_EPERM : DZ_EIO,
						  "cannot open lock file %s: %s", lock_path,
						  strerror(errno));
		free(lock_path);
		return result;
	}
	while (flock(f, LOCK_EX) != 0) {
		if (errno == EINTR)
			continue;
		dz_result_t result = dz_error_set(err, DZ_EIO, "cannot lock %s: %s", lock_path,
						  strerror(errno));
		close(f);
		free(lock_path);
		return result;
	}
	free(lock_path);
	*fd = f;
	return DZ_OK;
}

void
dz_key_state_unlock(int fd)
{
	if (fd >= 0) {
		flock(fd, LOCK_UN);
		close(fd);
	}
}
