/*
 * schema.h -- table-driven YAML configuration: parsing, checking and docs.
 *
 * A configuration section is described once, as a table of fields (key,
 * type, where the value is stored, range, default, reload behaviour,
 * description).  The same table drives the YAML parser (strict: unknown
 * keys, wrong types and out-of-range values are errors with file, line and
 * column), the freeing of parsed objects and the generated man page.
 *
 * Values are stored into plain C structs at the offsets the table gives, so
 * a section's struct (for example dz_policy_t) needs no knowledge of YAML.
 * Defaults come from the section's init function; the documentation prints
 * them by formatting a freshly initialised struct, so documented and real
 * defaults cannot drift apart.
 */
#ifndef DZ_ZONES_SCHEMA_H
#define DZ_ZONES_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <yaml.h>

#include "common/error.h"
#include "common/log.h"

/* Position of a YAML node: 1-based line and column; 0 when unknown. */
typedef struct dz_cfg_mark {
	unsigned line;
	unsigned column;
} dz_cfg_mark_t;

/* One error or warning found in a configuration file. */
typedef struct dz_cfg_diag {
	dz_log_level_t level; /* DZ_LOG_ERROR or DZ_LOG_WARNING */
	char *text;	      /* "FILE:LINE:COLUMN: error: KEY: message" (owned) */
} dz_cfg_diag_t;

/* Every error and warning of one load, in the order found. */
typedef struct dz_cfg_diags {
	dz_cfg_diag_t *items;
	size_t count;
	size_t cap;
	size_t errors;
	size_t warnings;
} dz_cfg_diags_t;

void dz_cfg_diags_init(dz_cfg_diags_t *diags);
void dz_cfg_diags_clear(dz_cfg_diags_t *diags);

/*
 * Append a diagnostic.  `file` and `mark` may be NULL / zero; `key` is the
 * dotted key path ("zones[0].mail.hosts[1].name") or NULL.  Running out of
 * memory is counted as an error with no text.
 */
void dz_cfg_diag_add(dz_cfg_diags_t *diags, dz_log_level_t level, const char *file,
		     dz_cfg_mark_t mark, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* Text of the first error, or NULL when there is none. */
const char *dz_cfg_diags_first_error(const dz_cfg_diags_t *diags);

typedef enum dz_cfg_type {
	DZ_CFG_STRING,	 /* char *, non-empty */
	DZ_CFG_PATH,	 /* char *, made absolute against the configuration file's folder */
	DZ_CFG_COMMAND,	 /* char *, a shell command line */
	DZ_CFG_BOOL,	 /* bool: true or false */
	DZ_CFG_UINT,	 /* unsigned integer of `size` bytes (1, 2, 4 or 8) */
	DZ_CFG_DURATION, /* int64_t seconds, or uint32_t when size == 4 (a TTL) */
	DZ_CFG_BYTES,	 /* uint64_t bytes, suffixes k, M, G (powers of 1024) */
	DZ_CFG_MODE,	 /* uint32_t file mode written in octal */
	DZ_CFG_ENUM,	 /* int (or a C enum), one of `values` */
	DZ_CFG_LIST,	 /* scalars: array of `elem_size` at offset, size_t count at count_offset */
	DZ_CFG_SECTION,	 /* mapping stored in the struct at offset, described by `sub` */
	DZ_CFG_SEQUENCE, /* sequence of mappings: array at offset, count at count_offset */
	DZ_CFG_NAMED,	 /* mapping NAME -> mapping: like SEQUENCE, name at sub->name_offset */
	DZ_CFG_CUSTOM,	 /* one scalar or node parsed by `parse_node` */
} dz_cfg_type_t;

/* How a running daemon treats a changed value on reload. */
typedef enum dz_cfg_reload {
	DZ_CFG_RELOAD_APPLY,   /* applied on reload */
	DZ_CFG_RELOAD_RESTART, /* kept until the daemon restarts; reload warns */
} dz_cfg_reload_t;

/* A named value of an enum field. */
typedef struct dz_cfg_enum_value {
	const char *name;
	int value;
} dz_cfg_enum_value_t;

typedef struct dz_cfg_parser dz_cfg_parser_t;
typedef struct dz_cfg_field dz_cfg_field_t;
typedef struct dz_cfg_schema dz_cfg_schema_t;

/*
 * Parse one list element from scalar text into `elem` (elem_size bytes,
 * zeroed).  On a bad value, report it with dz_cfg_error() and return false.
 */
typedef bool (*dz_cfg_parse_scalar_fn)(dz_cfg_parser_t *parser, const char *text,
				       dz_cfg_mark_t mark, const char *key, void *elem);

/* Parse a whole node into the field's storage; false after reporting an error. */
typedef bool (*dz_cfg_parse_node_fn)(dz_cfg_parser_t *parser, yaml_node_t *node,
				     const char *key, void *storage);

/* Free what one stored value or list element owns (not the element itself). */
typedef void (*dz_cfg_free_fn)(void *storage);

/* Format the stored value (for documented defaults) into buf. */
typedef void (*dz_cfg_format_fn)(const void *storage, char *buf, size_t size);

#define DZ_CFG_NO_OFFSET SIZE_MAX

/* Field flags. */
#define DZ_CFG_REQUIRED 0x01u	 /* the key must be present */
#define DZ_CFG_ZERO_NONE 0x02u	 /* 0 means none ("unlimited" for a duration) */
#define DZ_CFG_FILE 0x04u	 /* PATH: a readable regular file must exist there */
#define DZ_CFG_FOLDER 0x08u	 /* PATH: a readable folder must exist there */
#define DZ_CFG_PRIVATE 0x10u	 /* PATH: the file must be private (dz_file_check_private) */

struct dz_cfg_field {
	const char *key;	 /* YAML key, lower case with hyphens */
	dz_cfg_type_t type;
	size_t offset;		 /* of the value in the section's struct */
	size_t size;		 /* of the value (UINT, DURATION, ENUM) */
	size_t count_offset;	 /* LIST, SEQUENCE, NAMED: of the size_t element count */
	size_t elem_size;	 /* LIST: of one element */
	size_t mark_offset;	 /* where to store the value's dz_cfg_mark_t; 0 = nowhere */
	int64_t min, max;	 /* UINT, DURATION, BYTES, MODE: range; LIST: element count */
	unsigned flags;
	dz_cfg_reload_t reload;
	const dz_cfg_enum_value_t *values; /* ENUM: terminated by a NULL name */
	const dz_cfg_schema_t *sub;	   /* SECTION, SEQUENCE, NAMED */
	dz_cfg_parse_scalar_fn parse_scalar; /* LIST */
	dz_cfg_parse_node_fn parse_node;     /* CUSTOM */
	dz_cfg_free_fn free_value;	     /* LIST elements, CUSTOM storage */
	dz_cfg_format_fn format;	     /* LIST elements, CUSTOM storage */
	const char *type_doc;	 /* type as documented ("address list"); NULL = from type */
	const char *default_doc; /* documented default when it is not the init value */
	const char *unit_doc;	 /* unit for numbers ("seconds"); NULL = none */
	const char *doc;	 /* one or more sentences for the man page */
};

struct dz_cfg_schema {
	const char *name;	   /* section name for the man page ("policies.NAME") */
	const char *doc;	   /* paragraph describing the section */
	const dz_cfg_field_t *fields;
	size_t field_count;
	size_t struct_size;	   /* of one element (SEQUENCE, NAMED) or the section */
	size_t name_offset;	   /* NAMED: char * receiving the name; else DZ_CFG_NO_OFFSET */
	size_t mark_offset;	   /* dz_cfg_mark_t of the mapping, or DZ_CFG_NO_OFFSET */
	/* Set defaults in a zeroed struct; false on ENOMEM.  NULL = all zero. */
	bool (*init)(void *object);
	/*
	 * Checks across fields of one parsed object (both of two keys given,
	 * neither given, ...); reports with dz_cfg_error().  NULL = none.
	 */
	void (*check)(dz_cfg_parser_t *parser, void *object, dz_cfg_mark_t mark, const char *key);
};

/* State of one parse; the fields are for the custom callbacks. */
struct dz_cfg_parser {
	const char *file;	/* configuration file, for messages */
	char *base_dir;		/* relative paths are resolved against it (owned) */
	dz_cfg_diags_t *diags;
	void *root;		/* the object being filled, for cross-references */
	yaml_document_t *document;
};

/* Report an error on the value at `mark` of `key`; returns false. */
bool dz_cfg_error(dz_cfg_parser_t *parser, dz_cfg_mark_t mark, const char *key,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Report a warning on the value at `mark` of `key`. */
void dz_cfg_warning(dz_cfg_parser_t *parser, dz_cfg_mark_t mark, const char *key,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Mark of a YAML node (1-based). */
dz_cfg_mark_t dz_cfg_node_mark(const yaml_node_t *node);

/*
 * Initialise `object` with the schema's defaults (recursively for SECTION
 * fields).  Returns false on ENOMEM, with the object cleared.
 */
bool dz_cfg_object_init(const dz_cfg_schema_t *schema, void *object);

/* Free everything the object owns according to the schema and zero it. */
void dz_cfg_object_clear(const dz_cfg_schema_t *schema, void *object);

/*
 * Fill `object` (already initialised) from a YAML mapping node.  Errors go
 * to parser->diags; returns false if this call added any error.
 * `key` is the key path of the node for messages ("" for the root).
 */
bool dz_cfg_parse_mapping(dz_cfg_parser_t *parser, const dz_cfg_schema_t *schema,
			  yaml_node_t *node, const char *key, void *object);

/*
 * Load YAML into a document: the `len` bytes at `data`, or the file at
 * `path` when `data` is NULL.  `path` names the input in messages.  Syntax
 * errors and input that is not one document with a mapping at its top are
 * reported to diags, and the call then returns false with the document
 * deleted.
 */
bool dz_cfg_load_document(const char *path, const char *data, size_t len,
			  yaml_document_t *document, dz_cfg_diags_t *diags);

/* Resolve `path` against the parser's base folder; NULL on ENOMEM. */
char *dz_cfg_absolute_path(const dz_cfg_parser_t *parser, const char *path);

/*
 * Write the man page sections (roff) for a schema and, recursively, its
 * SECTION, SEQUENCE and NAMED sub-schemas: one table (key, type, default,
 * range, reload) per section, then each key's description.
 */
void dz_cfg_write_man(FILE *out, const dz_cfg_schema_t *schema, const char *section_key);

/* Scalar parsers shared by the configuration tables (DZ_CFG_LIST elements). */
bool dz_cfg_parse_string_elem(dz_cfg_parser_t *parser, const char *text, dz_cfg_mark_t mark,
			      const char *key, void *elem);
bool dz_cfg_parse_path_elem(dz_cfg_parser_t *parser, const char *text, dz_cfg_mark_t mark,
			    const char *key, void *elem);
/* A path to a readable regular file that exists now. */
bool dz_cfg_parse_file_elem(dz_cfg_parser_t *parser, const char *text, dz_cfg_mark_t mark,
			    const char *key, void *elem);
/* A path to a file that may appear later: a missing file is only a warning. */
bool dz_cfg_parse_optional_file_elem(dz_cfg_parser_t *parser, const char *text,
				     dz_cfg_mark_t mark, const char *key, void *elem);
/* A path to a readable folder that exists now. */
bool dz_cfg_parse_folder_elem(dz_cfg_parser_t *parser, const char *text, dz_cfg_mark_t mark,
			      const char *key, void *elem);
void dz_cfg_format_string_elem(const void *elem, char *buf, size_t size);
void dz_cfg_free_string_elem(void *elem);

#endif
