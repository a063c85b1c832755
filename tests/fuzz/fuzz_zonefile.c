/*
 * fuzz_zonefile.c -- libFuzzer target for the zone file reader.
 *
 * The first input byte selects the reader's options:
 *   bit 0    initial origin "example.com." (else none)
 *   bit 1    a default TTL of 3600 seconds
 *   bit 2    $INCLUDE forbidden
 *   bits 4-7 maximum include depth (0 means the default)
 * The rest is a set of files.  Text before the first line that starts with
 * "%file NAME" is the zone file /zones/example.com.zone; each "%file NAME"
 * line starts another file.  $INCLUDE reads through the include hook, which
 * finds a file by the last component of the resolved path, so "a",
 * "sub/a" and "sub/../a" all name file "a".  Nothing is read from disk,
 * and the fuzzer can build include chains, loops and deep nesting.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "common/log.h"
#include "zones/zonefile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FILES_MAX 16

static const char file_marker[] = "%file ";

typedef struct virtual_file {
	const char *name; /* not NUL-terminated */
	size_t name_len;
	const char *text;
	size_t len;
} virtual_file_t;

typedef struct file_set {
	virtual_file_t files[FILES_MAX];
	size_t count;
} file_set_t;

/* Split the input at "%file NAME" lines; files[0] is the top-level file. */
static void
split_files(const char *text, size_t len, file_set_t *set)
{
	const char *end = text + len;
	const char *p = text;

	set->count = 1;
	set->files[0] = (virtual_file_t){ .name = "", .text = text };
	while (p < end) {
		const char *line_end = memchr(p, '\n', (size_t)(end - p));
		const char *next = line_end != NULL ? line_end + 1 : end;
		size_t marker_len = sizeof(file_marker) - 1;
		if ((size_t)(end - p) > marker_len && memcmp(p, file_marker, marker_len) == 0 &&
		    set->count < FILES_MAX) {
			virtual_file_t *previous = &set->files[set->count - 1];
			previous->len = (size_t)(p - previous->text);
			const char *name = p + marker_len;
			const char *name_end = line_end != NULL ? line_end : end;
			const char *slash = memrchr(name, '/', (size_t)(name_end - name));
			if (slash != NULL)
				name = slash + 1;
			set->files[set->count++] = (virtual_file_t){
				.name = name,
				.name_len = (size_t)(name_end - name),
				.text = next,
			};
		}
		p = next;
	}
	virtual_file_t *last = &set->files[set->count - 1];
	last->len = (size_t)(end - last->text);
}

static dz_result_t
include_file(void *ctx, const char *path, const char **data, size_t *len, dz_error_t *err)
{
	const file_set_t *set = ctx;
	const char *slash = strrchr(path, '/');
	const char *base = slash != NULL ? slash + 1 : path;
	size_t base_len = strlen(base);

	for (size_t i = 1; i < set->count; i++) {
		const virtual_file_t *file = &set->files[i];
		if (file->name_len == base_len && memcmp(file->name, base, base_len) == 0) {
			*data = file->text;
			*len = file->len;
			return DZ_OK;
		}
	}
	return dz_error_set(err, DZ_ENOTFOUND, "cannot open '%s': no such file", path);
}

/* Encode each record to wire form, as the callers of the reader do. */
static dz_result_t
take_record(void *ctx, const ldns_rr *rr, const char *file, unsigned line, dz_error_t *err)
{
	size_t *count = ctx;
	uint8_t *wire = NULL;
	size_t wire_len = 0;

	if (ldns_rr2wire(&wire, rr, LDNS_SECTION_ANSWER, &wire_len) != LDNS_STATUS_OK || wire_len == 0)
		abort();
	free(wire);
	(*count)++;
	return DZ_OK;
}

static void
discard_log(dz_log_level_t level, const char *line, void *ctx)
{
	(void)level;
	(void)line;
	(void)ctx;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static file_set_t set;
	dz_zonefile_options_t options;
	dz_error_t err;
	size_t count = 0;

	if (size < 1)
		return 0;
	dz_log_set_sink(discard_log, NULL);
	uint8_t flags = data[0];
	split_files((const char *)data + 1, size - 1, &set);

	dz_zonefile_options_init(&options);
	if (flags & 2) {
		options.has_default_ttl = true;
		options.default_ttl = 3600;
	}
	options.allow_include = !(flags & 4);
	options.max_include_depth = flags >> 4;
	/*
	 * A lower limit than the default keeps inputs whose files include
	 * others several times fast; the limit is checked the same way.
	 */
	options.max_includes = 256;
	options.include_fn = include_file;
	options.include_ctx = &set;

	dz_error_init(&err);
	dz_result_t result = dz_zonefile_read_buffer(set.files[0].text, set.files[0].len,
						     "/zones/example.com.zone",
						     (flags & 1) ? "example.com." : NULL, &options,
						     take_record, &count, &err);
	/* A failed read sets an error message. */
	if (result != DZ_OK && err.message[0] == '\0')
		abort();
	return 0;
}
