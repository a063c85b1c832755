#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sys/stat.h>
#include <unistd.h>

#include "common/duration.h"
#include "common/file.h"
#include "common/mem.h"
#include "zones/schema.h"

/* Maximum length of a key path in messages ("zones[12].mail.hosts[3].certificates[2]"). */
#define KEY_PATH_MAX 256

void
dz_cfg_diags_init(dz_cfg_diags_t *diags)
{
	memset(diags, 0, sizeof(*diags));
}

void
dz_cfg_diags_clear(dz_cfg_diags_t *diags)
{
	for (size_t i = 0; i < diags->count; i++)
		free(diags->items[i].text);
	free(diags->items);
	dz_cfg_diags_init(diags);
}

static void
diag_add_va(dz_cfg_diags_t *diags, dz_log_level_t level, const char *file, dz_cfg_mark_t mark,
	    const char *key, const char *fmt, va_list ap)
{
	char message[DZ_ERROR_MESSAGE_MAX];
	char location[PATH_MAX + 64];
	char *text = NULL;

	if (level == DZ_LOG_ERROR)
		diags->errors++;
	else
		diags->warnings++;

	vsnprintf(message, sizeof(message), fmt, ap);
	if (file != NULL && mark.line > 0)
		snprintf(location, sizeof(location), "%s:%u:%u: ", file, mark.line, mark.column);
	else if (file != NULL)
		snprintf(location, sizeof(location), "%s: ", file);
	else
		location[0] = '\0';

	const char *level_name = level == DZ_LOG_ERROR ? "error: " : "warning: ";
	size_t len = strlen(location) + strlen(level_name) + (key != NULL ? strlen(key) + 2 : 0) +
		     strlen(message) + 1;
	text = malloc(len);
	if (text == NULL)
		return;
	snprintf(text, len, "%s%s%s%s%s", location, level_name,
		 key != NULL && key[0] != '\0' ? key : "", key != NULL && key[0] != '\0' ? ": " : "",
		 message);

	if (diags->count == diags->cap) {
		size_t cap = diags->cap == 0 ? 8 : diags->cap * 2;
		dz_cfg_diag_t *items = realloc(diags->items, cap * sizeof(*items));
		if (items == NULL) {
			free(text);
			return;
		}
		diags->items = items;
		diags->cap = cap;
	}
	diags->items[diags->count].level = level;
	diags->items[diags->count].text = text;
	diags->count++;
}

void
dz_cfg_diag_add(dz_cfg_diags_t *diags, dz_log_level_t level, const char *file, dz_cfg_mark_t mark,
		const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_add_va(diags, level, file, mark, key, fmt, ap);
	va_end(ap);
}

const char *
dz_cfg_diags_first_error(const dz_cfg_diags_t *diags)
{
	for (size_t i = 0; i < diags->count; i++) {
		if (diags->items[i].level == DZ_LOG_ERROR)
			return diags->items[i].text;
	}
	return diags->errors > 0 ? "out of memory while reporting configuration errors" : NULL;
}

bool
dz_cfg_error(dz_cfg_parser_t *parser, dz_cfg_mark_t mark, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_add_va(parser->diags, DZ_LOG_ERROR, parser->file, mark, key, fmt, ap);
	va_end(ap);
	return false;
}

void
dz_cfg_warning(dz_cfg_parser_t *parser, dz_cfg_mark_t mark, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_add_va(parser->diags, DZ_LOG_WARNING, parser->file, mark, key, fmt, ap);
	va_end(ap);
}

dz_cfg_mark_t
dz_cfg_node_mark(const yaml_node_t *node)
{
	dz_cfg_mark_t mark = { 0, 0 };

	if (node != NULL) {
		mark.line = (unsigned)node->start_mark.line + 1;
		mark.column = (unsigned)node->start_mark.column + 1;
	}
	return mark;
}

/* ---- storage helpers ---- */

static void *
field_ptr(void *object, const dz_cfg_field_t *field)
{
	return (char *)object + field->offset;
}

static size_t *
field_count_ptr(void *object, const dz_cfg_field_t *field)
{
	return (size_t *)(void *)((char *)object + field->count_offset);
}

static void
store_uint(void *ptr, size_t size, uint64_t value)
{
	switch (size) {
	case 1: {
		uint8_t v = (uint8_t)value;
		memcpy(ptr, &v, 1);
		break;
	}
	case 2: {
		uint16_t v = (uint16_t)value;
		memcpy(ptr, &v, 2);
		break;
	}
	case 4: {
		uint32_t v = (uint32_t)value;
		memcpy(ptr, &v, 4);
		break;
	}
	default: {
		uint64_t v = value;
		memcpy(ptr, &v, 8);
		break;
	}
	}
}

static uint64_t
load_uint(const void *ptr, size_t size)
{
	switch (size) {
	case 1: {
		uint8_t v;
		memcpy(&v, ptr, 1);
		return v;
	}
	case 2: {
		uint16_t v;
		memcpy(&v, ptr, 2);
		return v;
	}
	case 4: {
		uint32_t v;
		memcpy(&v, ptr, 4);
		return v;
	}
	default: {
		uint64_t v;
		memcpy(&v, ptr, 8);
		return v;
	}
	}
}

static int
load_enum(const void *ptr, size_t size)
{
	int value = 0;

	if (size == sizeof(int))
		memcpy(&value, ptr, sizeof(int));
	else
		value = (int)load_uint(ptr, size);
	return value;
}

static void
store_enum(void *ptr, size_t size, int value)
{
	if (size == sizeof(int))
		memcpy(ptr, &value, sizeof(int));
	else
		store_uint(ptr, size, (uint64_t)value);
}

/* ---- init and clear ---- */

static void clear_field(const dz_cfg_field_t *field, void *object);

bool
dz_cfg_object_init(const dz_cfg_schema_t *schema, void *object)
{
	memset(object, 0, schema->struct_size);
	for (size_t i = 0; i < schema->field_count; i++) {
		const dz_cfg_field_t *field = &schema->fields[i];
		if (field->type == DZ_CFG_SECTION &&
		    !dz_cfg_object_init(field->sub, field_ptr(object, field))) {
			dz_cfg_object_clear(schema, object);
			return false;
		}
	}
	if (schema->init != NULL && !schema->init(object)) {
		dz_cfg_object_clear(schema, object);
		return false;
	}
	return true;
}

static void
clear_array(const dz_cfg_field_t *field, void *object)
{
	void **array = field_ptr(object, field);
	size_t *count = field_count_ptr(object, field);
	char *items = *array;

	for (size_t i = 0; items != NULL && i < *count; i++) {
		if (field->type == DZ_CFG_LIST) {
			if (field->free_value != NULL)
				field->free_value(items + i * field->elem_size);
		} else {
			dz_cfg_object_clear(field->sub, items + i * field->sub->struct_size);
		}
	}
	free(items);
	*array = NULL;
	*count = 0;
}

static void
clear_field(const dz_cfg_field_t *field, void *object)
{
	void *ptr = field_ptr(object, field);

	switch (field->type) {
	case DZ_CFG_STRING:
	case DZ_CFG_PATH:
	case DZ_CFG_COMMAND: {
		char **s = ptr;
		free(*s);
		*s = NULL;
		break;
	}
	case DZ_CFG_LIST:
	case DZ_CFG_SEQUENCE:
	case DZ_CFG_NAMED:
		clear_array(field, object);
		break;
	case DZ_CFG_SECTION:
		dz_cfg_object_clear(field->sub, ptr);
		break;
	case DZ_CFG_CUSTOM:
		if (field->free_value != NULL)
			field->free_value(ptr);
		break;
	default:
		break;
	}
}

void
dz_cfg_object_clear(const dz_cfg_schema_t *schema, void *object)
{
	for (size_t i = 0; i < schema->field_count; i++)
		clear_field(&schema->fields[i], object);
	if (schema->name_offset != DZ_CFG_NO_OFFSET) {
		char **name = (char **)(void *)((char *)object + schema->name_offset);
		free(*name);
	}
	memset(object, 0, schema->struct_size);
}

/* ---- scalar parsing ---- */

/* Append text to out and cut it when it does not fit.  out stays NUL-terminated. */
static void
append_text(char *out, size_t size, size_t *used, const char *text)
{
	size_t len = strlen(text);

	if (*used + 1 >= size)
		return;
	if (len > size - *used - 1)
		len = size - *used - 1;
	memcpy(out + *used, text, len);
	*used += len;
	out[*used] = '\0';
}

/* Key paths longer than KEY_PATH_MAX are cut; they only label messages. */
static void
key_join(char *out, size_t size, const char *parent, const char *child)
{
	size_t used = 0;

	out[0] = '\0';
	if (parent != NULL && parent[0] != '\0') {
		append_text(out, size, &used, parent);
		append_text(out, size, &used, ".");
	}
	append_text(out, size, &used, child);
}

static void
key_index(char *out, size_t size, const char *parent, size_t index)
{
	char suffix[32];
	size_t used = 0;

	snprintf(suffix, sizeof(suffix), "[%zu]", index);
	out[0] = '\0';
	append_text(out, size, &used, parent);
	append_text(out, size, &used, suffix);
}

static const char *
scalar_text(const yaml_node_t *node)
{
	return (const char *)node->data.scalar.value;
}

/* A plain scalar that YAML reads as null: empty, "~" or "null". */
static bool
scalar_is_null(const yaml_node_t *node)
{
	if (node->type != YAML_SCALAR_NODE)
		return false;
	if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	const char *text = scalar_text(node);
	return text[0] == '\0' || strcmp(text, "~") == 0 || strcmp(text, "null") == 0 ||
	       strcmp(text, "Null") == 0 || strcmp(text, "NULL") == 0;
}

static const char *
node_kind(const yaml_node_t *node)
{
	switch (node->type) {
	case YAML_SCALAR_NODE:
		return scalar_is_null(node) ? "an empty value" : "a single value";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

static bool
parse_digits(const char *text, uint64_t *value)
{
	uint64_t v = 0;

	if (text[0] == '\0')
		return false;
	for (const char *p = text; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return false;
		unsigned digit = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - digit) / 10)
			return false;
		v = v * 10 + digit;
	}
	*value = v;
	return true;
}

static bool
parse_bytes_text(const char *text, uint64_t *value)
{
	char digits[32];
	size_t len = strlen(text);
	uint64_t multiplier = 1;

	if (len == 0 || len >= sizeof(digits))
		return false;
	memcpy(digits, text, len + 1);
	switch (digits[len - 1]) {
	case 'k':
	case 'K':
		multiplier = 1024;
		break;
	case 'm':
	case 'M':
		multiplier = 1024 * 1024;
		break;
	case 'g':
	case 'G':
		multiplier = 1024 * 1024 * 1024;
		break;
	default:
		break;
	}
	if (multiplier != 1)
		digits[len - 1] = '\0';
	uint64_t v;
	if (!parse_digits(digits, &v) || v > UINT64_MAX / multiplier)
		return false;
	*value = v * multiplier;
	return true;
}

static void
format_bytes(uint64_t value, char *buf, size_t size)
{
	if (value != 0 && value % (1024 * 1024 * 1024) == 0)
		snprintf(buf, size, "%" PRIu64 "G", value / (1024 * 1024 * 1024));
	else if (value != 0 && value % (1024 * 1024) == 0)
		snprintf(buf, size, "%" PRIu64 "M", value / (1024 * 1024));
	else if (value != 0 && value % 1024 == 0)
		snprintf(buf, size, "%" PRIu64 "k", value / 1024);
	else
		snprintf(buf, size, "%" PRIu64, value);
}

/* Format a number of this field's type for messages and docs. */
static void
format_number(const dz_cfg_field_t *field, int64_t value, char *buf, size_t size)
{
	char duration[DZ_DURATION_TEXT_MAX];

	switch (field->type) {
	case DZ_CFG_DURATION:
		snprintf(buf, size, "%s", dz_duration_format(value, duration));
		break;
	case DZ_CFG_BYTES:
		format_bytes((uint64_t)value, buf, size);
		break;
	case DZ_CFG_MODE:
		snprintf(buf, size, value == 0 ? "0" : "0%" PRIo64, (uint64_t)value);
		break;
	default:
		snprintf(buf, size, "%" PRId64, value);
		break;
	}
}

static bool
check_range(dz_cfg_parser_t *parser, const dz_cfg_field_t *field, dz_cfg_mark_t mark,
	    const char *key, const char *text, uint64_t value)
{
	char low[48], high[48];

	if ((int64_t)value >= field->min && (value <= (uint64_t)field->max))
		return true;
	if (field->type == DZ_CFG_DURATION && field->size == 4) {
		/* A TTL: its maximum reads better in seconds than as 3550w5d3h14m7s. */
		return dz_cfg_error(parser, mark, key,
				    "value '%s' is out of range; use a TTL from %" PRId64 " to %" PRId64
				    " seconds", text, field->min, field->max);
	}
	format_number(field, field->min, low, sizeof(low));
	format_number(field, field->max, high, sizeof(high));
	return dz_cfg_error(parser, mark, key, "value '%s' is out of range; use a value from %s to %s",
			    text, low, high);
}

char *
dz_cfg_absolute_path(const dz_cfg_parser_t *parser, const char *path)
{
	if (path[0] == '/' || parser->base_dir == NULL)
		return strdup(path);
	size_t len = strlen(parser->base_dir) + 1 + strlen(path) + 1;
	char *result = malloc(len);
	if (result != NULL)
		snprintf(result, len, "%s/%s", parser->base_dir, path);
	return result;
}

static bool
out_of_memory(dz_cfg_parser_t *parser, dz_cfg_mark_t mark, const char *key)
{
	return dz_cfg_error(parser, mark, key, "out of memory");
}

bool
dz_cfg_parse_string_elem(dz_cfg_parser_t *parser, const char *text, dz_cfg_mark_t mark,
			 const char *key, void *elem)
{
	char **out = elem;

	if (text[0] == '\0')
		return dz_cfg_error(parser, mark, key, "empty value; give a non-empty text");
	*out = strdup(text);
	return *out != NULL || out_of_memory(parser, mark, key);
}

bool
dz_cfg_parse_path_elem(dz_cfg_parser_t *parser, const char *text, dz_cfg_mark_t mark,
		       const char *key, void *elem)
{
	char **out = elem;

	if (text[0] == '\0')
		return dz_cfg_error(parser, mark, key, "empty path; give a file or folder name");
	*out = dz_cfg_absolute_path(parser, text);
	return *out != NULL || out_of_memory(parser, mark, key);
}

/* Check that `path` exists as the flags ask; report at mark. */
static bool
check_path(dz_cfg_parser_t *parser, const char *path, unsigned flags, dz_cfg_mark_t mark,
	   const char *key)
{
	struct stat st;

	if (!(flags & (DZ_CFG_FILE | DZ_CFG_FOLDER | DZ_CFG_PRIVATE)))
		return true;
	if (stat(path, &st) != 0)
		return dz_cfg_error(parser, mark, key, "%s %s not found (%s); correct the path or create it",
				    flags & DZ_CFG_FOLDER ? "folder" : "file", path, strerror(errno));
	if ((flags & DZ_CFG_FOLDER) && !S_ISDIR(st.st_mode))
		return dz_cfg_error(parser, mark, key, "%s is not a folder; give a folder", path);
	if (!(flags & DZ_CFG_FOLDER) && !S_ISREG(st.st_mode))
		return dz_cfg_error(parser, mark, key, "%s is not a regular file; give a file", path);
	if (access(path, R_OK) != 0)
		return dz_cfg_error(parser, mark, key,
				    "cannot read %s (%s); make it readable for the user danezone runs as",
				    path, strerror(errno));
	if (flags & DZ_CFG_PRIVATE) {
		dz_error_t err;
		dz_error_init(&err);
		if (dz_file_check_private(path, &err) != DZ_OK)
			return dz_cfg_error(parser, mark, key, "%s", dz_error_message(&err));
	}
	return true;
}

static bool
parse_checked_path_elem(dz_cfg_parser_t *parser, const char *text, dz_cfg_mark_t mark,
			const char *key, void *elem, unsigned flags)
{
	char **out = elem;

	if (!dz_cfg_parse_path_elem(parser, text, mark, key, elem))
		return false;
	if (!check_path(parser, *out, flags, mark, key)) {
		free(*out);
		*out = NULL;
		return false;
	}
	return true;
}

bool
dz_cfg_parse_file_elem(dz_cfg_parser_t *parser, const char *text, dz_cfg_mark_t mark,
		       const char *key, void *elem)
{
	return parse_checked_path_elem(parser, text, mark, key, elem, DZ_CFG_FILE);
}

bool
dz_cfg_parse_folder_elem(dz_cfg_parser_t *parser, const char *text, dz_cfg_mark_t mark,
			 const char *key, void *elem)
{
	return parse_checked_path_elem(parser, text, mark, key, elem, DZ_CFG_FOLDER);
}

bool
dz_cfg_parse_optional_file_elem(dz_cfg_parser_t *parser, const char *text, dz_cfg_mark_t mark,
				const char *key, void *elem)
{
	char **out = elem;
	struct stat st;

	if (!dz_cfg_parse_path_elem(parser, text, mark, key, elem))
		return false;
	if (stat(*out, &st) != 0 && errno == ENOENT)
		dz_cfg_warning(parser, mark, key,
			       "file %s does not exist yet; it is read when it appears", *out);
	else if (stat(*out, &st) == 0 && !S_ISREG(st.st_mode))
		dz_cfg_warning(parser, mark, key, "%s is not a regular file", *out);
	return true;
}

void
dz_cfg_format_string_elem(const void *elem, char *buf, size_t size)
{
	const char *const *s = elem;
	snprintf(buf, size, "%s", *s != NULL ? *s : "none");
}

void
dz_cfg_free_string_elem(void *elem)
{
	char **s = elem;
	free(*s);
	*s = NULL;
}

static bool
parse_enum(dz_cfg_parser_t *parser, const dz_cfg_field_t *field, const char *text,
	   dz_cfg_mark_t mark, const char *key, void *ptr)
{
	char names[256] = "";
	size_t used = 0;

	for (const dz_cfg_enum_value_t *v = field->values; v->name != NULL; v++) {
		if (strcasecmp(text, v->name) == 0) {
			store_enum(ptr, field->size, v->value);
			return true;
		}
		int n = snprintf(names + used, sizeof(names) - used, "%s%s",
				 used > 0 ? ", " : "", v->name);
		if (n > 0 && (size_t)n < sizeof(names) - used)
			used += (size_t)n;
	}
	return dz_cfg_error(parser, mark, key, "unknown value '%s'; use one of: %s", text, names);
}

/* Parse a single scalar of a simple type into `ptr`. */
static bool
parse_scalar_value(dz_cfg_parser_t *parser, const dz_cfg_field_t *field, const yaml_node_t *node,
		   const char *key, void *ptr)
{
	dz_cfg_mark_t mark = dz_cfg_node_mark(node);
	const char *text;
	uint64_t value;

	if (node->type != YAML_SCALAR_NODE || scalar_is_null(node))
		return dz_cfg_error(parser, mark, key, "expected a single value, found %s",
				    node_kind(node));
	text = scalar_text(node);

	switch (field->type) {
	case DZ_CFG_STRING:
	case DZ_CFG_COMMAND: {
		char **s = ptr;
		char *copy = NULL;
		if (!dz_cfg_parse_string_elem(parser, text, mark, key, &copy))
			return false;
		free(*s);
		*s = copy;
		return true;
	}
	case DZ_CFG_PATH: {
		char **s = ptr;
		char *copy = NULL;
		if (!parse_checked_path_elem(parser, text, mark, key, &copy, field->flags))
			return false;
		free(*s);
		*s = copy;
		return true;
	}
	case DZ_CFG_BOOL: {
		bool *b = ptr;
		if (strcmp(text, "true") == 0)
			*b = true;
		else if (strcmp(text, "false") == 0)
			*b = false;
		else
			return dz_cfg_error(parser, mark, key, "invalid value '%s'; use true or false",
					    text);
		return true;
	}
	case DZ_CFG_UINT:
		if (!parse_digits(text, &value))
			return dz_cfg_error(parser, mark, key,
					    "invalid number '%s'; use decimal digits only", text);
		if (!check_range(parser, field, mark, key, text, value))
			return false;
		store_uint(ptr, field->size, value);
		return true;
	case DZ_CFG_DURATION: {
		int64_t seconds;
		dz_error_t err;
		dz_error_init(&err);
		if (field->flags & DZ_CFG_ZERO_NONE && strcmp(text, "unlimited") == 0) {
			seconds = 0;
		} else if (dz_duration_parse(text, &seconds, &err) != DZ_OK) {
			return dz_cfg_error(parser, mark, key, "%s", dz_error_message(&err));
		}
		if (!check_range(parser, field, mark, key, text, (uint64_t)seconds))
			return false;
		if (field->size == 4)
			store_uint(ptr, 4, (uint64_t)seconds);
		else
			memcpy(ptr, &seconds, sizeof(seconds));
		return true;
	}
	case DZ_CFG_BYTES:
		if (!parse_bytes_text(text, &value))
			return dz_cfg_error(parser, mark, key,
					    "invalid size '%s'; use a number of bytes with an optional "
					    "suffix k, M or G", text);
		if (!check_range(parser, field, mark, key, text, value))
			return false;
		store_uint(ptr, 8, value);
		return true;
	case DZ_CFG_MODE: {
		char *end;
		errno = 0;
		unsigned long mode = strtoul(text, &end, 8);
		if (text[0] < '0' || text[0] > '7' || *end != '\0' || errno != 0)
			return dz_cfg_error(parser, mark, key,
					    "invalid file mode '%s'; write it in octal, as \"0660\"", text);
		if (!check_range(parser, field, mark, key, text, mode))
			return false;
		store_uint(ptr, 4, mode);
		return true;
	}
	case DZ_CFG_ENUM:
		return parse_enum(parser, field, text, mark, key, ptr);
	default:
		break;
	}
	return dz_cfg_error(parser, mark, key, "internal error: field type %d is not a scalar",
			    (int)field->type);
}

/* ---- lists, sequences, named mappings ---- */

static bool
parse_list(dz_cfg_parser_t *parser, const dz_cfg_field_t *field, yaml_node_t *node,
	   const char *key, void *object)
{
	dz_cfg_mark_t mark = dz_cfg_node_mark(node);
	yaml_node_item_t *first = NULL;
	size_t n;
	char *items = NULL;
	bool ok = true;

	if (node->type == YAML_SCALAR_NODE && !scalar_is_null(node)) {
		n = 1;
	} else if (node->type == YAML_SEQUENCE_NODE) {
		first = node->data.sequence.items.start;
		n = (size_t)(node->data.sequence.items.top - first);
	} else {
		return dz_cfg_error(parser, mark, key, "expected a list of values, found %s",
				    node_kind(node));
	}
	if ((int64_t)n < field->min || (field->max > 0 && (int64_t)n > field->max)) {
		if (field->max > 0)
			return dz_cfg_error(parser, mark, key,
					    "%zu items given; give from %" PRId64 " to %" PRId64, n,
					    field->min, field->max);
		return dz_cfg_error(parser, mark, key, "%zu items given; give at least %" PRId64, n,
				    field->min);
	}

	clear_array(field, object);
	if (n > 0) {
		items = calloc(n, field->elem_size);
		if (items == NULL)
			return out_of_memory(parser, mark, key);
	}
	size_t parsed = 0;
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item = first == NULL ? node : yaml_document_get_node(parser->document, first[i]);
		char item_key[KEY_PATH_MAX];
		key_index(item_key, sizeof(item_key), key, i);
		if (item->type != YAML_SCALAR_NODE || scalar_is_null(item)) {
			ok = dz_cfg_error(parser, dz_cfg_node_mark(item), item_key,
					  "expected a single value, found %s", node_kind(item));
			continue;
		}
		char *elem = items + parsed * field->elem_size;
		if (field->parse_scalar(parser, scalar_text(item), dz_cfg_node_mark(item), item_key,
					elem))
			parsed++;
		else
			ok = false;
	}
	*(void **)field_ptr(object, field) = items;
	*field_count_ptr(object, field) = parsed;
	return ok;
}

static bool
parse_sequence(dz_cfg_parser_t *parser, const dz_cfg_field_t *field, yaml_node_t *node,
	       const char *key, void *object)
{
	dz_cfg_mark_t mark = dz_cfg_node_mark(node);
	const dz_cfg_schema_t *sub = field->sub;
	bool named = field->type == DZ_CFG_NAMED;
	size_t n;
	char *items = NULL;
	bool ok = true;

	if (named && node->type != YAML_MAPPING_NODE)
		return dz_cfg_error(parser, mark, key, "expected a mapping of names to settings, found %s",
				    node_kind(node));
	if (!named && node->type != YAML_SEQUENCE_NODE)
		return dz_cfg_error(parser, mark, key, "expected a list of mappings, found %s",
				    node_kind(node));
	n = named ? (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start)
		  : (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
	if ((int64_t)n < field->min)
		return dz_cfg_error(parser, mark, key, "%zu entries given; give at least %" PRId64, n,
				    field->min);

	clear_array(field, object);
	if (n > 0) {
		items = calloc(n, sub->struct_size);
		if (items == NULL)
			return out_of_memory(parser, mark, key);
	}
	size_t parsed = 0;
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *value;
		char item_key[KEY_PATH_MAX];
		void *elem = items + parsed * sub->struct_size;
		const char *name = NULL;

		if (named) {
			yaml_node_pair_t *pair = &node->data.mapping.pairs.start[i];
			yaml_node_t *name_node = yaml_document_get_node(parser->document, pair->key);
			value = yaml_document_get_node(parser->document, pair->value);
			if (name_node->type != YAML_SCALAR_NODE || scalar_is_null(name_node)) {
				ok = dz_cfg_error(parser, dz_cfg_node_mark(name_node), key,
						  "expected a name, found %s", node_kind(name_node));
				continue;
			}
			name = scalar_text(name_node);
			key_join(item_key, sizeof(item_key), key, name);
		} else {
			value = yaml_document_get_node(parser->document,
						       node->data.sequence.items.start[i]);
			key_index(item_key, sizeof(item_key), key, i);
		}
		if (!dz_cfg_object_init(sub, elem)) {
			ok = out_of_memory(parser, mark, item_key);
			continue;
		}
		if (named) {
			char **name_ptr = (char **)(void *)((char *)elem + sub->name_offset);
			free(*name_ptr);
			*name_ptr = strdup(name);
			if (*name_ptr == NULL) {
				dz_cfg_object_clear(sub, elem);
				ok = out_of_memory(parser, mark, item_key);
				continue;
			}
		}
		if (!dz_cfg_parse_mapping(parser, sub, value, item_key, elem))
			ok = false;
		parsed++;
	}
	*(void **)field_ptr(object, field) = items;
	*field_count_ptr(object, field) = parsed;
	return ok;
}

/* ---- mappings ---- */

/* Edit distance, for "did you mean" hints on unknown keys. */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[64];

	if (la >= DZ_ARRAY_SIZE(row) || lb >= DZ_ARRAY_SIZE(row))
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diagonal = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t above = row[j];
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t best = diagonal + cost;
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diagonal = above;
		}
	}
	return row[lb];
}

static void
report_unknown_key(dz_cfg_parser_t *parser, const dz_cfg_schema_t *schema, yaml_node_t *key_node,
		   const char *key)
{
	const char *text = scalar_text(key_node);
	const char *best = NULL;
	size_t best_distance = 3;
	char normalized[64];

	/* Writers of other configurations use '_' where danezone uses '-'. */
	snprintf(normalized, sizeof(normalized), "%s", text);
	for (char *p = normalized; *p != '\0'; p++) {
		if (*p == '_')
			*p = '-';
	}
	for (size_t i = 0; i < schema->field_count; i++) {
		size_t d = edit_distance(normalized, schema->fields[i].key);
		if (d < best_distance) {
			best_distance = d;
			best = schema->fields[i].key;
		}
	}
	if (best != NULL)
		dz_cfg_error(parser, dz_cfg_node_mark(key_node), key,
			     "unknown key '%s'; did you mean '%s'?", text, best);
	else
		dz_cfg_error(parser, dz_cfg_node_mark(key_node), key,
			     "unknown key '%s'; danezone.yaml(5) lists the keys of %s", text,
			     schema->name);
}

static bool
parse_field(dz_cfg_parser_t *parser, const dz_cfg_field_t *field, yaml_node_t *value,
	    const char *key, void *object)
{
	void *ptr = field_ptr(object, field);

	switch (field->type) {
	case DZ_CFG_LIST:
		return parse_list(parser, field, value, key, object);
	case DZ_CFG_SEQUENCE:
	case DZ_CFG_NAMED:
		return parse_sequence(parser, field, value, key, object);
	case DZ_CFG_SECTION:
		return dz_cfg_parse_mapping(parser, field->sub, value, key, ptr);
	case DZ_CFG_CUSTOM:
		return field->parse_node(parser, value, key, ptr);
	default:
		return parse_scalar_value(parser, field, value, key, ptr);
	}
}

bool
dz_cfg_parse_mapping(dz_cfg_parser_t *parser, const dz_cfg_schema_t *schema, yaml_node_t *node,
		     const char *key, void *object)
{
	dz_cfg_mark_t mark = dz_cfg_node_mark(node);
	size_t errors_before = parser->diags->errors;
	yaml_node_pair_t *pairs;
	size_t pair_count;

	if (node->type != YAML_MAPPING_NODE)
		return dz_cfg_error(parser, mark, key, "expected a mapping of keys to values, found %s",
				    node_kind(node));
	if (schema->mark_offset != DZ_CFG_NO_OFFSET)
		memcpy((char *)object + schema->mark_offset, &mark, sizeof(mark));
	pairs = node->data.mapping.pairs.start;
	pair_count = (size_t)(node->data.mapping.pairs.top - pairs);

	/* Keys must be scalars, known and given once. */
	for (size_t i = 0; i < pair_count; i++) {
		yaml_node_t *key_node = yaml_document_get_node(parser->document, pairs[i].key);
		if (key_node->type != YAML_SCALAR_NODE) {
			dz_cfg_error(parser, dz_cfg_node_mark(key_node), key,
				     "expected a key name, found %s", node_kind(key_node));
			continue;
		}
		const char *name = scalar_text(key_node);
		bool known = false;
		for (size_t f = 0; f < schema->field_count; f++) {
			if (strcmp(schema->fields[f].key, name) == 0)
				known = true;
		}
		if (!known)
			report_unknown_key(parser, schema, key_node, key);
		for (size_t j = 0; j < i; j++) {
			yaml_node_t *other = yaml_document_get_node(parser->document, pairs[j].key);
			if (other->type == YAML_SCALAR_NODE && strcmp(scalar_text(other), name) == 0) {
				char child[KEY_PATH_MAX];
				key_join(child, sizeof(child), key, name);
				dz_cfg_error(parser, dz_cfg_node_mark(key_node), child,
					     "key given twice (first on line %u); remove one of them",
					     dz_cfg_node_mark(other).line);
				break;
			}
		}
	}

	/* Fields in table order, so a field may refer to sections parsed before it. */
	for (size_t f = 0; f < schema->field_count; f++) {
		const dz_cfg_field_t *field = &schema->fields[f];
		yaml_node_t *value = NULL;
		char child[KEY_PATH_MAX];

		for (size_t i = 0; i < pair_count && value == NULL; i++) {
			yaml_node_t *key_node = yaml_document_get_node(parser->document, pairs[i].key);
			if (key_node->type == YAML_SCALAR_NODE &&
			    strcmp(scalar_text(key_node), field->key) == 0)
				value = yaml_document_get_node(parser->document, pairs[i].value);
		}
		key_join(child, sizeof(child), key, field->key);
		if (value == NULL) {
			if (field->flags & DZ_CFG_REQUIRED)
				dz_cfg_error(parser, mark, key, "missing key '%s'; add it to %s",
					     field->key, key[0] != '\0' ? key : "the top level");
			continue;
		}
		if (field->mark_offset != 0) {
			dz_cfg_mark_t value_mark = dz_cfg_node_mark(value);
			memcpy((char *)object + field->mark_offset, &value_mark, sizeof(value_mark));
		}
		parse_field(parser, field, value, child, object);
	}

	/* Checks run even after errors, so one run reports as much as it can. */
	if (schema->check != NULL)
		schema->check(parser, object, mark, key);
	return parser->diags->errors == errors_before;
}

bool
dz_cfg_load_document(const char *path, const char *data, size_t len, yaml_document_t *document,
		     dz_cfg_diags_t *diags)
{
	yaml_parser_t parser;
	FILE *fp = NULL;
	bool ok = false;
	bool parser_ready = false;
	bool document_ready = false;
	dz_cfg_mark_t mark = { 0, 0 };

	if (data == NULL) {
		fp = fopen(path, "rb");
		if (fp == NULL) {
			dz_cfg_diag_add(diags, DZ_LOG_ERROR, path, mark, NULL,
					"cannot open the configuration file: %s", strerror(errno));
			goto cleanup;
		}
	}
	if (!yaml_parser_initialize(&parser)) {
		dz_cfg_diag_add(diags, DZ_LOG_ERROR, path, mark, NULL, "out of memory");
		goto cleanup;
	}
	parser_ready = true;
	if (fp != NULL)
		yaml_parser_set_input_file(&parser, fp);
	else
		yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	if (!yaml_parser_load(&parser, document)) {
		mark.line = (unsigned)parser.problem_mark.line + 1;
		mark.column = (unsigned)parser.problem_mark.column + 1;
		dz_cfg_diag_add(diags, DZ_LOG_ERROR, path, mark, NULL, "YAML syntax error: %s%s%s",
				parser.problem != NULL ? parser.problem : "unknown problem",
				parser.context != NULL ? " " : "",
				parser.context != NULL ? parser.context : "");
		goto cleanup;
	}
	document_ready = true;
	yaml_node_t *root = yaml_document_get_root_node(document);
	if (root == NULL) {
		dz_cfg_diag_add(diags, DZ_LOG_ERROR, path, mark, NULL,
				"the file is empty; danezone.yaml(5) describes its sections");
		goto cleanup;
	}
	if (root->type != YAML_MAPPING_NODE) {
		dz_cfg_diag_add(diags, DZ_LOG_ERROR, path, dz_cfg_node_mark(root), NULL,
				"the top level must be a mapping of sections (server, zones, ...)");
		goto cleanup;
	}
	/* A second document in the same file would be silently ignored otherwise. */
	yaml_document_t extra;
	if (!yaml_parser_load(&parser, &extra)) {
		mark.line = (unsigned)parser.problem_mark.line + 1;
		mark.column = (unsigned)parser.problem_mark.column + 1;
		dz_cfg_diag_add(diags, DZ_LOG_ERROR, path, mark, NULL, "YAML syntax error: %s",
				parser.problem != NULL ? parser.problem : "unknown problem");
		goto cleanup;
	}
	yaml_node_t *extra_root = yaml_document_get_root_node(&extra);
	if (extra_root != NULL) {
		dz_cfg_diag_add(diags, DZ_LOG_ERROR, path, dz_cfg_node_mark(extra_root), NULL,
				"a second YAML document follows the first; keep one document per file");
		yaml_document_delete(&extra);
		goto cleanup;
	}
	yaml_document_delete(&extra);
	ok = true;

cleanup:
	if (!ok && document_ready)
		yaml_document_delete(document);
	if (parser_ready)
		yaml_parser_delete(&parser);
	if (fp != NULL)
		fclose(fp);
	return ok;
}

/* ---- man page ---- */

/* Write text for roff: escape backslashes and hyphens, protect leading dots. */
static void
roff_text(FILE *out, const char *text)
{
	if (text[0] == '.' || text[0] == '\'')
		fputs("\\&", out);
	for (const char *p = text; *p != '\0'; p++) {
		if (*p == '\\')
			fputs("\\e", out);
		else if (*p == '-')
			fputs("\\-", out);
		else
			fputc(*p, out);
	}
}

static const char *
type_name(const dz_cfg_field_t *field)
{
	if (field->type_doc != NULL)
		return field->type_doc;
	switch (field->type) {
	case DZ_CFG_STRING:
		return "text";
	case DZ_CFG_PATH:
		return "path";
	case DZ_CFG_COMMAND:
		return "command";
	case DZ_CFG_BOOL:
		return "boolean";
	case DZ_CFG_UINT:
		return "integer";
	case DZ_CFG_DURATION:
		return field->size == 4 ? "TTL" : "duration";
	case DZ_CFG_BYTES:
		return "size";
	case DZ_CFG_MODE:
		return "octal mode";
	case DZ_CFG_ENUM:
		return "keyword";
	case DZ_CFG_LIST:
		return "list";
	case DZ_CFG_SECTION:
		return "mapping";
	case DZ_CFG_SEQUENCE:
		return "list of mappings";
	case DZ_CFG_NAMED:
		return "names";
	case DZ_CFG_CUSTOM:
		return "value";
	}
	return "value";
}

static void
format_default(const dz_cfg_field_t *field, const void *object, char *buf, size_t size)
{
	const void *ptr = (const char *)object + field->offset;

	if (field->flags & DZ_CFG_REQUIRED) {
		snprintf(buf, size, "required");
		return;
	}
	if (field->default_doc != NULL) {
		snprintf(buf, size, "%s", field->default_doc);
		return;
	}
	switch (field->type) {
	case DZ_CFG_STRING:
	case DZ_CFG_PATH:
	case DZ_CFG_COMMAND: {
		const char *const *s = ptr;
		snprintf(buf, size, "%s", *s != NULL ? *s : "none");
		return;
	}
	case DZ_CFG_BOOL:
		snprintf(buf, size, "%s", *(const bool *)ptr ? "true" : "false");
		return;
	case DZ_CFG_UINT:
	case DZ_CFG_BYTES:
	case DZ_CFG_MODE: {
		uint64_t v = load_uint(ptr, field->type == DZ_CFG_UINT ? field->size
						: field->type == DZ_CFG_MODE ? 4 : 8);
		if (v == 0 && (field->flags & DZ_CFG_ZERO_NONE))
			snprintf(buf, size, "none");
		else
			format_number(field, (int64_t)v, buf, size);
		return;
	}
	case DZ_CFG_DURATION: {
		int64_t v;
		if (field->size == 4) {
			v = (int64_t)load_uint(ptr, 4);
		} else {
			memcpy(&v, ptr, sizeof(v));
		}
		if (v == 0 && (field->flags & DZ_CFG_ZERO_NONE))
			snprintf(buf, size, "unlimited");
		else
			format_number(field, v, buf, size);
		return;
	}
	case DZ_CFG_ENUM: {
		int v = load_enum(ptr, field->size);
		for (const dz_cfg_enum_value_t *e = field->values; e->name != NULL; e++) {
			if (e->value == v) {
				snprintf(buf, size, "%s", e->name);
				return;
			}
		}
		snprintf(buf, size, "%d", v);
		return;
	}
	case DZ_CFG_LIST: {
		const char *items = *(char *const *)ptr;
		size_t count = *(const size_t *)(const void *)((const char *)object + field->count_offset);
		size_t used = 0;
		buf[0] = '\0';
		if (count == 0 || field->format == NULL) {
			snprintf(buf, size, "none");
			return;
		}
		for (size_t i = 0; i < count && used + 1 < size; i++) {
			char item[128];
			field->format(items + i * field->elem_size, item, sizeof(item));
			int n = snprintf(buf + used, size - used, "%s%s", i > 0 ? ", " : "", item);
			if (n < 0)
				break;
			used += (size_t)n;
		}
		return;
	}
	case DZ_CFG_CUSTOM:
		if (field->format != NULL)
			field->format(ptr, buf, size);
		else
			snprintf(buf, size, "none");
		return;
	case DZ_CFG_SECTION:
	case DZ_CFG_SEQUENCE:
	case DZ_CFG_NAMED:
		snprintf(buf, size, "see below");
		return;
	}
}

static void
format_range(const dz_cfg_field_t *field, char *buf, size_t size)
{
	char low[48], high[48];

	buf[0] = '\0';
	switch (field->type) {
	case DZ_CFG_UINT:
	case DZ_CFG_DURATION:
	case DZ_CFG_BYTES:
	case DZ_CFG_MODE:
		format_number(field, field->min, low, sizeof(low));
		if (field->type == DZ_CFG_DURATION && field->max >= DZ_DURATION_MAX) {
			snprintf(high, sizeof(high), "100 years");
		} else if (field->type == DZ_CFG_DURATION && field->size == 4) {
			/* TTLs in seconds, as in zone files. */
			snprintf(low, sizeof(low), "%" PRId64, field->min);
			snprintf(high, sizeof(high), "%" PRId64, field->max);
		} else {
			format_number(field, field->max, high, sizeof(high));
		}
		snprintf(buf, size, "%s .. %s", low, high);
		break;
	case DZ_CFG_ENUM: {
		size_t used = 0;
		for (const dz_cfg_enum_value_t *v = field->values; v->name != NULL; v++) {
			int n = snprintf(buf + used, size - used, "%s%s", used > 0 ? " " : "",
					 v->name);
			if (n < 0 || (size_t)n >= size - used)
				break;
			used += (size_t)n;
		}
		break;
	}
	case DZ_CFG_BOOL:
		snprintf(buf, size, "true false");
		break;
	case DZ_CFG_LIST:
	case DZ_CFG_SEQUENCE:
	case DZ_CFG_NAMED:
		if (field->max > 0)
			snprintf(buf, size, "%" PRId64 " .. %" PRId64 " items", field->min, field->max);
		else if (field->min > 0)
			snprintf(buf, size, "at least %" PRId64, field->min);
		break;
	default:
		break;
	}
	if (buf[0] == '\0')
		snprintf(buf, size, "-");
}

void
dz_cfg_write_man(FILE *out, const dz_cfg_schema_t *schema, const char *section_key)
{
	void *defaults = calloc(1, schema->struct_size);
	char value[512];

	if (defaults == NULL || !dz_cfg_object_init(schema, defaults)) {
		free(defaults);
		fputs(".\\\" out of memory while formatting defaults\n", out);
		return;
	}

	fputs(".SS ", out);
	roff_text(out, section_key[0] != '\0' ? section_key : schema->name);
	fputc('\n', out);
	if (schema->doc != NULL) {
		roff_text(out, schema->doc);
		fputc('\n', out);
	}

	fputs(".TS\ntab(|);\nlb lb lb lb lb\nl l l l l.\nkey|type|default|range|reload\n_\n", out);
	for (size_t i = 0; i < schema->field_count; i++) {
		const dz_cfg_field_t *field = &schema->fields[i];
		fputs("T{\n", out);
		roff_text(out, field->key);
		fputs("\nT}|T{\n", out);
		roff_text(out, type_name(field));
		fputs("\nT}|T{\n", out);
		format_default(field, defaults, value, sizeof(value));
		roff_text(out, value);
		fputs("\nT}|T{\n", out);
		format_range(field, value, sizeof(value));
		roff_text(out, value);
		fputs("\nT}|", out);
		fputs(field->reload == DZ_CFG_RELOAD_APPLY ? "reload" : "restart", out);
		fputc('\n', out);
	}
	fputs(".TE\n", out);

	for (size_t i = 0; i < schema->field_count; i++) {
		const dz_cfg_field_t *field = &schema->fields[i];
		fputs(".TP\n.B ", out);
		roff_text(out, field->key);
		fputc('\n', out);
		roff_text(out, field->doc != NULL ? field->doc : "");
		fputc('\n', out);
	}

	for (size_t i = 0; i < schema->field_count; i++) {
		const dz_cfg_field_t *field = &schema->fields[i];
		char child[KEY_PATH_MAX];
		if (field->type != DZ_CFG_SECTION && field->type != DZ_CFG_SEQUENCE &&
		    field->type != DZ_CFG_NAMED)
			continue;
		if (field->type == DZ_CFG_NAMED)
			snprintf(child, sizeof(child), "%s%s%s.NAME", section_key,
				 section_key[0] != '\0' ? "." : "", field->key);
		else if (field->type == DZ_CFG_SEQUENCE)
			snprintf(child, sizeof(child), "%s%s%s[]", section_key,
				 section_key[0] != '\0' ? "." : "", field->key);
		else
			key_join(child, sizeof(child), section_key, field->key);
		dz_cfg_write_man(out, field->sub, child);
	}

	dz_cfg_object_clear(schema, defaults);
	free(defaults);
}
