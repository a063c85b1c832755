#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/file.h"
#include "common/mem.h"
#include "hsm/audit.h"

void
dz_hsm_audit_entry_init(dz_hsm_audit_entry_t *entry, dz_time_t now, const char *command)
{
	memset(entry, 0, sizeof(*entry));
	entry->time = now;
	entry->command = command;
	entry->key_tag = -1;
}

/* Append " name=value", quoting the value when it needs it.  False on ENOMEM. */
static bool
append_field(dz_buf_t *buf, const char *name, const char *value)
{
	bool quote = value[0] == '\0' || strpbrk(value, " \t\"\\=") != NULL;
	bool ok = dz_buf_printf(buf, " %s=", name) == DZ_OK;

	if (quote)
		ok = ok && dz_buf_append_u8(buf, '"') == DZ_OK;
	for (const char *p = value; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '"' || c == '\\')
			ok = ok && dz_buf_append_u8(buf, '\\') == DZ_OK;
		ok = ok && dz_buf_append_u8(buf, c < 0x20 || c == 0x7f ? '?' : c) == DZ_OK;
	}
	if (quote)
		ok = ok && dz_buf_append_u8(buf, '"') == DZ_OK;
	return ok;
}

char *
dz_hsm_audit_format(const dz_hsm_audit_entry_t *entry)
{
	char time_text[DZ_TIME_TEXT_MAX];
	char tag[8];
	dz_buf_t buf;
	const struct {
		const char *name;
		const char *value;
	} fields[] = {
		{ "command", entry->command },
		{ "token", entry->token },
		{ "serial", entry->serial },
		{ "zone", entry->zone },
		{ "role", entry->role },
		{ "algorithm", entry->algorithm },
		{ "key_tag", entry->key_tag >= 0 ? tag : NULL },
		{ "id", entry->key_id },
		{ "ds", entry->ds },
		{ "result", entry->result },
	};

	snprintf(tag, sizeof(tag), "%d", entry->key_tag);
	dz_buf_init(&buf);
	bool ok = dz_buf_printf(&buf, "%s", dz_time_format(entry->time, time_text)) == DZ_OK;
	for (size_t i = 0; i < DZ_ARRAY_SIZE(fields); i++) {
		if (fields[i].value != NULL)
			ok = ok && append_field(&buf, fields[i].name, fields[i].value);
	}
	ok = ok && dz_buf_append_u8(&buf, '\n') == DZ_OK;
	if (!ok) {
		dz_buf_clear(&buf);
		return NULL;
	}
	return (char *)buf.data;
}

dz_result_t
dz_hsm_audit_append(const char *path, const dz_hsm_audit_entry_t *entry, dz_error_t *err)
{
	char *line = dz_hsm_audit_format(entry);
	dz_result_t result;

	if (line == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	result = dz_file_append_durable(path, line, strlen(line), 0640, err);
	free(line);
	return result;
}
