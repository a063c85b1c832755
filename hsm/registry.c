#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/file.h"
#include "common/mem.h"
#include "hsm/dnskey.h"
#include "hsm/registry.h"

/* Start of the first line, which describes the token. */
#define TITLE_PREFIX "# danezone key registry: "

/* Largest registry file accepted (about 50,000 keys). */
#define REGISTRY_MAX_SIZE (8 * 1024 * 1024)

dz_result_t
dz_hsm_registry_path(const char *state_dir, const dz_hsm_token_info_t *token, char **path,
		     dz_error_t *err)
{
	char serial[sizeof(token->serial)];
	size_t len = strlen(token->serial);
	dz_buf_t buf;

	for (size_t i = 0; i <= len; i++) {
		char c = token->serial[i];
		bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '\0';
		serial[i] = plain ? c : '_';
	}
	if (len == 0)
		snprintf(serial, sizeof(serial), "no-serial");
	dz_buf_init(&buf);
	if (dz_buf_printf(&buf, "%s/token-%s.keys", state_dir, serial) != DZ_OK) {
		dz_buf_clear(&buf);
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	}
	*path = (char *)buf.data;
	return DZ_OK;
}

static void
record_clear(dz_hsm_key_record_t *record)
{
	free(record->zone);
	record->zone = NULL;
}

static void
registry_free_records(dz_hsm_registry_t *registry)
{
	for (size_t i = 0; i < registry->count; i++)
		record_clear(&registry->records[i]);
	free(registry->records);
	registry->records = NULL;
	registry->count = registry->cap = 0;
}

dz_hsm_key_record_t *
dz_hsm_registry_find(dz_hsm_registry_t *registry, const uint8_t *id, size_t id_len)
{
	for (size_t i = 0; i < registry->count; i++) {
		dz_hsm_key_record_t *record = &registry->records[i];
		if (record->id_len == id_len && memcmp(record->id, id, id_len) == 0)
			return record;
	}
	return NULL;
}

dz_result_t
dz_hsm_registry_add(dz_hsm_registry_t *registry, const dz_hsm_key_record_t *record,
		    dz_error_t *err)
{
	char hex[2 * DZ_KEY_ID_MAX + 1];

	if (dz_hsm_registry_find(registry, record->id, record->id_len) != NULL) {
		dz_hex_encode(record->id, record->id_len, hex);
		return dz_error_set(err, DZ_EEXIST, "key %s is already registered in %s", hex,
				    registry->path != NULL ? registry->path : "the registry");
	}
	if (registry->count == registry->cap) {
		size_t cap = registry->cap < 16 ? 16 : 2 * registry->cap;
		dz_hsm_key_record_t *grown = realloc(registry->records, cap * sizeof(*grown));
		if (grown == NULL)
			return dz_error_set(err, DZ_ENOMEM, "out of memory");
		registry->records = grown;
		registry->cap = cap;
	}
	dz_hsm_key_record_t copy = *record;
	copy.zone = strdup(record->zone);
	if (copy.zone == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	registry->records[registry->count++] = copy;
	return DZ_OK;
}

bool
dz_hsm_registry_remove(dz_hsm_registry_t *registry, const uint8_t *id, size_t id_len)
{
	dz_hsm_key_record_t *record = dz_hsm_registry_find(registry, id, id_len);

	if (record == NULL)
		return false;
	record_clear(record);
	size_t index = (size_t)(record - registry->records);
	memmove(record, record + 1, (registry->count - index - 1) * sizeof(*record));
	registry->count--;
	return true;
}

/* Parse FLAGS: "-" or a comma-separated list of "published" and "signing". */
static bool
parse_flags(const char *text, dz_hsm_key_record_t *record)
{
	if (strcmp(text, "-") == 0)
		return true;
	while (*text != '\0') {
		size_t len = strcspn(text, ",");
		if (len == 9 && strncmp(text, "published", 9) == 0)
			record->published = true;
		else if (len == 7 && strncmp(text, "signing", 7) == 0)
			record->signing = true;
		else
			return false;
		text += len;
		if (*text == ',')
			text++;
	}
	return true;
}

/* Parse an unsigned decimal number no larger than max. */
static bool
parse_number(const char *text, unsigned long max, unsigned long *out)
{
	char *end;

	if (text[0] < '0' || text[0] > '9')
		return false;
	errno = 0;
	unsigned long value = strtoul(text, &end, 10);
	if (errno != 0 || *end != '\0' || value > max)
		return false;
	*out = value;
	return true;
}

/* Parse one line "ID ZONE ROLE ALGORITHM BITS KEY-TAG CREATED FLAGS". */
static dz_result_t
parse_line(char *line, const char *name, unsigned line_number, dz_hsm_key_record_t *record,
	   dz_error_t *err)
{
	char *fields[9];
	size_t count = 0;
	char *save = NULL;
	char *canonical = NULL;
	unsigned long algorithm = 0, bits = 0, key_tag = 0;
	const char *problem = NULL;

	for (char *field = strtok_r(line, " \t", &save); field != NULL;
	     field = strtok_r(NULL, " \t", &save)) {
		if (count == DZ_ARRAY_SIZE(fields))
			break;
		fields[count++] = field;
	}
	memset(record, 0, sizeof(*record));
	if (count != 8)
		return dz_error_set(err, DZ_ESYNTAX,
				    "%s line %u: expected 8 fields (id zone role algorithm bits "
				    "key-tag created flags), found %zu", name, line_number, count);

	long id_len = dz_hex_decode(fields[0], strlen(fields[0]), record->id, DZ_KEY_ID_MAX);
	if (id_len <= 0)
		problem = "the key id is not 1 to 64 bytes of hex";
	else if (dz_hsm_canonical_name(fields[1], &canonical, NULL) != DZ_OK ||
		 strcmp(canonical, fields[1]) != 0)
		problem = "the zone is not a lower-case absolute domain name";
	else if (!dz_role_parse(fields[2], &record->role))
		problem = "the role is not ksk, zsk or csk";
	else if (!parse_number(fields[3], 255, &algorithm) ||
		 dz_algorithm_name((uint8_t)algorithm) == NULL)
		problem = "the algorithm is not a known DNSSEC algorithm number";
	else if (!parse_number(fields[4], 65535, &bits))
		problem = "the key size is not a number";
	else if (!parse_number(fields[5], 65535, &key_tag))
		problem = "the key tag is not a number from 0 to 65535";
	else if (dz_time_parse(fields[6], &record->created, NULL) != DZ_OK)
		problem = "the creation time is not an RFC 3339 time";
	else if (!parse_flags(fields[7], record))
		problem = "the flags are not '-' or a list of published and signing";
	free(canonical);
	if (problem != NULL)
		return dz_error_set(err, DZ_ESYNTAX, "%s line %u: %s", name, line_number, problem);
	record->id_len = (size_t)id_len;
	record->zone = fields[1];
	record->algorithm = (uint8_t)algorithm;
	record->bits = (unsigned)bits;
	record->key_tag = (uint16_t)key_tag;
	return DZ_OK;
}

dz_result_t
dz_hsm_registry_parse(dz_hsm_registry_t *registry, const char *name, const char *text,
		      dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	char *copy = strdup(text);
	unsigned line_number = 0;

	if (copy == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	char *line = copy;
	while (line != NULL && *line != '\0') {
		char *next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		line_number++;
		char *start = line + strspn(line, " \t");
		line = next;
		if (line_number == 1 && strncmp(start, TITLE_PREFIX, strlen(TITLE_PREFIX)) == 0) {
			free(registry->title);
			registry->title = strdup(start + strlen(TITLE_PREFIX));
		}
		if (*start == '\0' || *start == '#')
			continue;
		dz_hsm_key_record_t record;
		result = parse_line(start, name, line_number, &record, err);
		if (result == DZ_OK)
			result = dz_hsm_registry_add(registry, &record, err);
		if (result == DZ_EEXIST)
			result = dz_error_set(err, DZ_ESYNTAX, "%s line %u: the key id appears twice",
					      name, line_number);
		if (result != DZ_OK)
			break;
	}
	free(copy);
	if (result != DZ_OK)
		registry_free_records(registry);
	return result;
}

dz_result_t
dz_hsm_registry_open(dz_hsm_registry_t *registry, const char *path, dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	char *lock_path = NULL;
	char *text = NULL;
	size_t len = 0;
	dz_buf_t buf;

	memset(registry, 0, sizeof(*registry));
	registry->path = strdup(path);
	dz_buf_init(&buf);
	if (registry->path == NULL || dz_buf_printf(&buf, "%s.lock", path) != DZ_OK) {
		result = dz_error_set(err, DZ_ENOMEM, "out of memory");
		goto cleanup;
	}
	lock_path = (char *)buf.data;
	registry->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	registry->locked = registry->lock_fd >= 0;
	if (!registry->locked) {
		result = dz_error_set(err, errno == EACCES ? DZ_EPERM : DZ_EIO,
				      "cannot open lock file %s: %s; check --state-dir", lock_path,
				      strerror(errno));
		goto cleanup;
	}
	while (flock(registry->lock_fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			result = dz_error_set(err, DZ_EIO, "cannot lock %s: %s", lock_path,
					      strerror(errno));
			goto cleanup;
		}
	}
	result = dz_file_read_all(path, REGISTRY_MAX_SIZE, &text, &len, err);
	if (result == DZ_ENOTFOUND) {
		result = DZ_OK;
		goto cleanup;
	}
	if (result != DZ_OK)
		goto cleanup;
	if (strlen(text) != len) {
		result = dz_error_set(err, DZ_ESYNTAX, "%s contains a NUL byte", path);
		goto cleanup;
	}
	result = dz_hsm_registry_parse(registry, path, text, err);

cleanup:
	free(text);
	dz_buf_clear(&buf);
	if (result != DZ_OK)
		dz_hsm_registry_close(registry);
	return result;
}

dz_result_t
dz_hsm_registry_save(const dz_hsm_registry_t *registry, const char *title, dz_error_t *err)
{
	dz_buf_t text;
	dz_result_t result = DZ_OK;
	char hex[2 * DZ_KEY_ID_MAX + 1];
	char created[DZ_TIME_TEXT_MAX];

	if (title == NULL)
		title = registry->title != NULL ? registry->title : "keys of one PKCS#11 token";
	dz_buf_init(&text);
	dz_buf_printf(&text, TITLE_PREFIX "%s\n"
		      "# Written by danezone; edit it only while no danezone process runs.\n"
		      "# id zone role algorithm bits key-tag created flags\n", title);
	for (size_t i = 0; i < registry->count; i++) {
		const dz_hsm_key_record_t *record = &registry->records[i];
		const char *flags = record->published && record->signing ? "published,signing" :
				    record->published ? "published" :
				    record->signing ? "signing" : "-";
		dz_hex_encode(record->id, record->id_len, hex);
		if (dz_buf_printf(&text, "%s %s %s %u %u %u %s %s\n", hex, record->zone,
				  dz_role_name(record->role), (unsigned)record->algorithm,
				  record->bits, (unsigned)record->key_tag,
				  dz_time_format(record->created, created), flags) != DZ_OK)
			result = DZ_ENOMEM;
	}
	if (result != DZ_OK || text.data == NULL)
		result = dz_error_set(err, DZ_ENOMEM, "out of memory");
	else
		result = dz_file_write_atomic(registry->path, text.data, text.len, 0640, err);
	dz_buf_clear(&text);
	return result;
}

void
dz_hsm_registry_close(dz_hsm_registry_t *registry)
{
	registry_free_records(registry);
	free(registry->path);
	registry->path = NULL;
	free(registry->title);
	registry->title = NULL;
	if (registry->locked)
		close(registry->lock_fd);	/* releases the flock */
	registry->locked = false;
}

dz_result_t
dz_hsm_registry_set_flags(const char *path, const uint8_t *id, size_t id_len, bool published,
			  bool signing, dz_error_t *err)
{
	dz_hsm_registry_t registry;
	char hex[2 * DZ_KEY_ID_MAX + 1];
	dz_result_t result = dz_hsm_registry_open(&registry, path, err);

	if (result != DZ_OK)
		return result;
	dz_hsm_key_record_t *record = dz_hsm_registry_find(&registry, id, id_len);
	if (record == NULL) {
		dz_hex_encode(id, id_len, hex);
		result = dz_error_set(err, DZ_EHSM_KEY, "key %s is not registered in %s", hex, path);
	} else if (record->published != published || record->signing != signing) {
		record->published = published;
		record->signing = signing;
		result = dz_hsm_registry_save(&registry, NULL, err);
	}
	dz_hsm_registry_close(&registry);
	return result;
}
