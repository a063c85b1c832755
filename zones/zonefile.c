#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "common/mem.h"
#include "zones/zonefile_internal.h"

static dz_result_t read_source(reader_t *r, source_t *src);

void
dz_zonefile_options_init(dz_zonefile_options_t *options)
{
	memset(options, 0, sizeof(*options));
	options->allow_include = true;
	options->max_include_depth = DZ_ZONEFILE_INCLUDE_DEPTH_DEFAULT;
	options->max_includes = DZ_ZONEFILE_INCLUDES_DEFAULT;
}

dz_result_t
dz_zonefile_reserve(char **buf, size_t *cap, size_t needed)
{
	if (needed <= *cap)
		return DZ_OK;
	size_t new_cap = *cap ? *cap : 256;
	while (new_cap < needed)
		new_cap *= 2;
	char *p = realloc(*buf, new_cap);
	if (p == NULL)
		return DZ_ENOMEM;
	*buf = p;
	*cap = new_cap;
	return DZ_OK;
}

/* Copy `len` bytes of `text` into a new NUL-terminated string. */
static char *
copy_span(const char *text, size_t len)
{
	char *s = malloc(len + 1);
	if (s != NULL) {
		memcpy(s, text, len);
		s[len] = '\0';
	}
	return s;
}

const char *
dz_zonefile_excerpt(const reader_t *r, char *out)
{
	size_t start = 0;
	size_t end = r->text_len;

	while (start < end && isspace((unsigned char)r->text[start]))
		start++;
	while (end > start && isspace((unsigned char)r->text[end - 1]))
		end--;
	size_t len = end - start;
	if (len > EXCERPT_MAX) {
		memcpy(out, r->text + start, EXCERPT_MAX);
		memcpy(out + EXCERPT_MAX, "...", 4);
	} else {
		memcpy(out, r->text + start, len);
		out[len] = '\0';
	}
	return out;
}

/* ---- input -------------------------------------------------------------- */

static int
next_char(source_t *src)
{
	if (src->fp != NULL)
		return getc_unlocked(src->fp);
	if (src->pos >= src->len)
		return EOF;
	return (unsigned char)src->data[src->pos++];
}

static dz_result_t
append_char(reader_t *r, source_t *src, unsigned start_line, char c)
{
	if (r->text_len + 2 > DZ_ZONEFILE_RECORD_TEXT_MAX)
		return dz_error_set(r->err, DZ_ETOOBIG,
				    "%s:%u: record text longer than %u bytes; check for a missing ')' "
				    "or a missing closing quote",
				    src->name, start_line, DZ_ZONEFILE_RECORD_TEXT_MAX);
	if (dz_zonefile_reserve(&r->text, &r->text_cap, r->text_len + 2) != DZ_OK)
		return dz_error_set(r->err, DZ_ENOMEM, "%s:%u: out of memory", src->name, start_line);
	r->text[r->text_len++] = c;
	r->text[r->text_len] = '\0';
	return DZ_OK;
}

/*
 * Read the next record's text into r->text: comments removed, the lines of
 * a parenthesised record joined with spaces, the parentheses themselves
 * replaced by spaces.  Quoted strings and backslash escapes are copied
 * unchanged for ldns.  Sets *eof at the end of the input (r->text_len is 0
 * then) and *start_line to the line where the text starts.
 */
static dz_result_t
read_record_text(reader_t *r, source_t *src, unsigned *start_line, bool *eof)
{
	unsigned paren_depth = 0;
	unsigned paren_line = 0;
	bool quoted = false;
	unsigned quote_line = 0;
	bool first = true;
	dz_result_t result;

	r->text_len = 0;
	if (dz_zonefile_reserve(&r->text, &r->text_cap, 1) != DZ_OK)
		return dz_error_set(r->err, DZ_ENOMEM, "%s: out of memory", src->name);
	r->text[0] = '\0';
	r->blank_owner = false;
	*start_line = src->line;
	*eof = false;

	for (;;) {
		int c = next_char(src);

		if (c == ';' && !quoted) {
			do
				c = next_char(src);
			while (c != '\n' && c != EOF);
		}
		if (c == EOF) {
			if (src->fp != NULL && ferror(src->fp))
				return dz_error_set(r->err, DZ_EIO, "%s:%u: read failed: %s", src->name,
						    src->line, strerror(errno));
			if (quoted)
				return dz_error_set(r->err, DZ_ESYNTAX,
						    "%s:%u: quoted string not closed before the end of "
						    "the file; add the closing '\"'",
						    src->name, quote_line);
			if (paren_depth > 0)
				return dz_error_set(r->err, DZ_ESYNTAX,
						    "%s:%u: '(' not closed before the end of the file; "
						    "add the closing ')'",
						    src->name, paren_line);
			*eof = r->text_len == 0;
			return DZ_OK;
		}
		if (c == '\0')
			return dz_error_set(r->err, DZ_ESYNTAX,
					    "%s:%u: NUL byte in the text; a zone file is text, write "
					    "binary data as \\DDD escapes or in generic form",
					    src->name, src->line);
		if (first) {
			r->blank_owner = c == ' ' || c == '\t';
			first = false;
		}
		if (c == '\n') {
			src->line++;
			if (quoted)
				return dz_error_set(r->err, DZ_ESYNTAX,
						    "%s:%u: quoted string not closed on its line; add the "
						    "closing '\"' (write a line break inside a string as \\010)",
						    src->name, quote_line);
			if (paren_depth == 0)
				return DZ_OK;
			c = ' ';
		} else if (c == '\\') {
			/* Copy the escape and the character it protects. */
			result = append_char(r, src, *start_line, '\\');
			if (result != DZ_OK)
				return result;
			c = next_char(src);
			if (c == EOF || c == '\n' || c == '\0')
				return dz_error_set(r->err, DZ_ESYNTAX,
						    "%s:%u: backslash at the end of a line; a zone file "
						    "has no line continuation, use ( ) around multi-line records",
						    src->name, src->line);
		} else if (quoted) {
			if (c == '"')
				quoted = false;
		} else if (c == '"') {
			quoted = true;
			quote_line = src->line;
		} else if (c == '(') {
			if (paren_depth == 0)
				paren_line = src->line;
			paren_depth++;
			c = ' ';
		} else if (c == ')') {
			if (paren_depth == 0)
				return dz_error_set(r->err, DZ_ESYNTAX,
						    "%s:%u: ')' without a matching '('; remove it or add "
						    "the '('",
						    src->name, src->line);
			paren_depth--;
			c = ' ';
		} else if (c == '\r') {
			c = ' ';
		}
		result = append_char(r, src, *start_line, (char)c);
		if (result != DZ_OK)
			return result;
	}
}

/* Split r->text at blanks outside quotes; escapes stay inside their token. */
static dz_result_t
tokenize(reader_t *r)
{
	size_t i = 0;

	r->token_count = 0;
	while (i < r->text_len) {
		char c = r->text[i];
		if (c == ' ' || c == '\t') {
			i++;
			continue;
		}
		token_t tok = { .start = i, .len = 0, .quoted = c == '"' };
		if (tok.quoted) {
			i++;
			while (i < r->text_len && r->text[i] != '"')
				i += r->text[i] == '\\' ? 2 : 1;
			i++; /* the closing quote; read_record_text() made sure it exists */
		} else {
			while (i < r->text_len && r->text[i] != ' ' && r->text[i] != '\t')
				i += r->text[i] == '\\' ? 2 : 1;
		}
		if (i > r->text_len)
			i = r->text_len;
		tok.len = i - tok.start;
		if (r->token_count == r->token_cap) {
			size_t cap = r->token_cap ? 2 * r->token_cap : 32;
			token_t *p = realloc(r->tokens, cap * sizeof(*p));
			if (p == NULL)
				return DZ_ENOMEM;
			r->tokens = p;
			r->token_cap = cap;
		}
		r->tokens[r->token_count++] = tok;
	}
	return DZ_OK;
}

char *
dz_zonefile_token_text(const reader_t *r, size_t i)
{
	return copy_span(r->text + r->tokens[i].start, r->tokens[i].len);
}

/* ---- directives --------------------------------------------------------- */

static dz_result_t
handle_origin(reader_t *r, source_t *src, unsigned line)
{
	char buf[EXCERPT_SIZE];
	ldns_rdf *origin = NULL;
	char *text = NULL;
	dz_result_t result;

	if (r->token_count != 2 || r->tokens[1].quoted) {
		return dz_error_set(r->err, DZ_ESYNTAX,
				    "%s:%u: invalid '%s'; write $ORIGIN NAME", src->name, line,
				    dz_zonefile_excerpt(r, buf));
	}
	text = dz_zonefile_token_text(r, 1);
	if (text == NULL)
		return dz_error_set(r->err, DZ_ENOMEM, "%s:%u: out of memory", src->name, line);
	result = dz_zonefile_resolve_name(r, src, line, text, src->origin, "$ORIGIN", &origin);
	free(text);
	if (result != DZ_OK)
		return result;
	ldns_rdf_deep_free(src->origin);
	src->origin = origin;
	return DZ_OK;
}

static dz_result_t
handle_ttl(reader_t *r, source_t *src, unsigned line)
{
	char buf[EXCERPT_SIZE];
	uint32_t ttl;

	if (r->token_count != 2 || r->tokens[1].quoted)
		return dz_error_set(r->err, DZ_ESYNTAX, "%s:%u: invalid '%s'; write $TTL SECONDS",
				    src->name, line, dz_zonefile_excerpt(r, buf));
	const token_t *tok = &r->tokens[1];
	dz_result_t result = dz_zonefile_parse_ttl(r->text + tok->start, tok->len, &ttl);
	if (result == DZ_ERANGE)
		return dz_error_set(r->err, DZ_ERANGE,
				    "%s:%u: $TTL '%.*s' is above the maximum %u (RFC 2181 section "
				    "8); lower it",
				    src->name, line, (int)tok->len, r->text + tok->start,
				    DZ_ZONEFILE_TTL_MAX);
	if (result != DZ_OK)
		return dz_error_set(r->err, DZ_ESYNTAX,
				    "%s:%u: invalid $TTL '%.*s'; write seconds, or numbers with the "
				    "units s, m, h, d, w",
				    src->name, line, (int)tok->len, r->text + tok->start);
	r->default_ttl = ttl;
	r->default_ttl_known = true;
	return DZ_OK;
}

/* File name of an $INCLUDE: the token with quotes removed and escapes undone. */
static char *
include_path_text(const reader_t *r, size_t i)
{
	const token_t *tok = &r->tokens[i];
	const char *p = r->text + tok->start;
	size_t len = tok->len;
	char *out = malloc(len + 1);
	size_t n = 0;

	if (out == NULL)
		return NULL;
	if (tok->quoted && len >= 2) {
		p++;
		len -= 2;
	}
	for (size_t k = 0; k < len; k++) {
		if (p[k] == '\\' && k + 1 < len)
			k++;
		out[n++] = p[k];
	}
	out[n] = '\0';
	return out;
}

/* `path` resolved from the folder of `base` (unless absolute); owned by the caller. */
static char *
join_path(const char *base, const char *path)
{
	const char *slash = strrchr(base, '/');

	if (path[0] == '/' || slash == NULL)
		return strdup(path);
	size_t dir_len = (size_t)(slash - base) + 1;
	char *out = malloc(dir_len + strlen(path) + 1);
	if (out != NULL) {
		memcpy(out, base, dir_len);
		strcpy(out + dir_len, path);
	}
	return out;
}

/*
 * `path` with "." components and "name/.." pairs removed and slashes
 * collapsed, as an identity for sources read through the include hook.
 */
static char *
normalize_path(const char *path)
{
	size_t len = strlen(path);
	char *out = malloc(len + 2);
	size_t n = 0;
	size_t removable = 0; /* components in `out` that a ".." may remove */

	if (out == NULL)
		return NULL;
	if (path[0] == '/')
		out[n++] = '/';
	const char *p = path;
	while (*p != '\0') {
		while (*p == '/')
			p++;
		const char *end = p;
		while (*end != '\0' && *end != '/')
			end++;
		size_t clen = (size_t)(end - p);
		if (clen == 0)
			break;
		if (clen == 1 && p[0] == '.') {
			/* skip */
		} else if (clen == 2 && p[0] == '.' && p[1] == '.' && removable > 0) {
			/* Drop the last component and its separator. */
			if (n > 0 && out[n - 1] == '/')
				n--;
			while (n > 0 && out[n - 1] != '/')
				n--;
			removable--;
		} else {
			if (n > 0 && out[n - 1] != '/')
				out[n++] = '/';
			memcpy(out + n, p, clen);
			n += clen;
			if (!(clen == 2 && p[0] == '.' && p[1] == '.'))
				removable++;
		}
		p = end;
	}
	if (n == 0)
		out[n++] = '.';
	out[n] = '\0';
	return out;
}

static bool
same_source(const source_t *a, const source_t *b)
{
	if (a->has_file_id && b->has_file_id)
		return a->dev == b->dev && a->ino == b->ino;
	return a->key != NULL && b->key != NULL && strcmp(a->key, b->key) == 0;
}

/* Write "top -> ... -> src" into buf. */
static const char *
include_chain(const source_t *src, char *buf, size_t size)
{
	const source_t *stack[DZ_ZONEFILE_INCLUDE_DEPTH_DEFAULT * 4 + 2];
	size_t count = 0;
	size_t used = 0;

	for (const source_t *s = src; s != NULL && count < DZ_ARRAY_SIZE(stack); s = s->parent)
		stack[count++] = s;
	buf[0] = '\0';
	while (count > 0 && used < size) {
		const source_t *s = stack[--count];
		int n = snprintf(buf + used, size - used, "%s%s", s->name, count > 0 ? " -> " : "");
		if (n < 0)
			break;
		used += (size_t)n;
	}
	return buf;
}

/* Fail if `child` is `src` or one of the files that include it. */
static dz_result_t
check_include_loop(reader_t *r, const source_t *src, const source_t *child, unsigned line)
{
	char chain[DZ_ERROR_MESSAGE_MAX / 2];

	for (const source_t *s = src; s != NULL; s = s->parent) {
		if (same_source(s, child))
			return dz_error_set(r->err, DZ_ESYNTAX,
					    "%s:%u: $INCLUDE loop: %s; remove the $INCLUDE that leads "
					    "back to an including file",
					    src->name, line, include_chain(child, chain, sizeof(chain)));
	}
	return DZ_OK;
}

static void
source_close(source_t *src)
{
	if (src->fp != NULL)
		fclose(src->fp);
	ldns_rdf_deep_free(src->origin);
	ldns_rdf_deep_free(src->previous_owner);
	free(src->name);
	free(src->key);
	memset(src, 0, sizeof(*src));
}

/* Open `src->name` from the file system and record its identity. */
static dz_result_t
source_open_file(source_t *src, dz_error_t *err)
{
	struct stat st;

	src->fp = fopen(src->name, "re");
	if (src->fp == NULL) {
		int e = errno;
		dz_result_t code = DZ_EIO;
		if (e == ENOENT)
			code = DZ_ENOTFOUND;
		else if (e == EACCES)
			code = DZ_EPERM;
		return dz_error_set(err, code, "cannot open zone file '%s': %s; check the path",
				    src->name, strerror(e));
	}
	if (fstat(fileno(src->fp), &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return dz_error_set(err, DZ_EIO,
					    "cannot read zone file '%s': it is a folder; give a file",
					    src->name);
		src->has_file_id = true;
		src->dev = st.st_dev;
		src->ino = st.st_ino;
	}
	return DZ_OK;
}

static dz_result_t
handle_include(reader_t *r, source_t *src, unsigned line)
{
	char buf[EXCERPT_SIZE];
	char chain[DZ_ERROR_MESSAGE_MAX / 2];
	source_t child = { 0 };
	char *path = NULL;
	unsigned max_depth = r->options->max_include_depth ? r->options->max_include_depth
							   : DZ_ZONEFILE_INCLUDE_DEPTH_DEFAULT;
	unsigned max_includes = r->options->max_includes ? r->options->max_includes
							 : DZ_ZONEFILE_INCLUDES_DEFAULT;
	dz_result_t result = DZ_OK;

	if (!r->options->allow_include) {
		result = dz_error_set(r->err, DZ_EPERM,
				      "%s:%u: $INCLUDE is not allowed for this zone ('%s'); put the "
				      "records in the zone file itself",
				      src->name, line, dz_zonefile_excerpt(r, buf));
		goto cleanup;
	}
	if (r->token_count < 2 || r->token_count > 3) {
		result = dz_error_set(r->err, DZ_ESYNTAX,
				      "%s:%u: invalid '%s'; write $INCLUDE FILE [ORIGIN]", src->name,
				      line, dz_zonefile_excerpt(r, buf));
		goto cleanup;
	}
	if (src->depth + 1 > max_depth) {
		result = dz_error_set(r->err, DZ_ERANGE,
				      "%s:%u: $INCLUDE nested more than %u files deep (%s); flatten "
				      "the includes",
				      src->name, line, max_depth, include_chain(src, chain, sizeof(chain)));
		goto cleanup;
	}
	if (r->include_count >= max_includes) {
		result = dz_error_set(r->err, DZ_ERANGE,
				      "%s:%u: more than %u $INCLUDE files read for one zone (%s); "
				      "files that include the same file several times multiply the "
				      "reads at each level, so flatten the includes",
				      src->name, line, max_includes,
				      include_chain(src, chain, sizeof(chain)));
		goto cleanup;
	}
	r->include_count++;

	path = include_path_text(r, 1);
	if (path == NULL || path[0] == '\0') {
		result = path == NULL
				 ? dz_error_set(r->err, DZ_ENOMEM, "%s:%u: out of memory", src->name, line)
				 : dz_error_set(r->err, DZ_ESYNTAX, "%s:%u: empty file name in '%s'",
						src->name, line, dz_zonefile_excerpt(r, buf));
		goto cleanup;
	}
	child.name = join_path(src->name, path);
	child.key = child.name != NULL ? normalize_path(child.name) : NULL;
	if (child.name == NULL || child.key == NULL) {
		result = dz_error_set(r->err, DZ_ENOMEM, "%s:%u: out of memory", src->name, line);
		goto cleanup;
	}
	child.line = 1;
	child.depth = src->depth + 1;
	child.parent = src;

	/* Origin: the argument (relative to the current origin) or the current one. */
	if (r->token_count == 3) {
		char *text = dz_zonefile_token_text(r, 2);
		if (text == NULL) {
			result = dz_error_set(r->err, DZ_ENOMEM, "%s:%u: out of memory", src->name, line);
			goto cleanup;
		}
		result = dz_zonefile_resolve_name(r, src, line, text, src->origin, "$INCLUDE origin",
						  &child.origin);
		free(text);
		if (result != DZ_OK)
			goto cleanup;
	} else if (src->origin != NULL) {
		child.origin = ldns_rdf_clone(src->origin);
		if (child.origin == NULL) {
			result = dz_error_set(r->err, DZ_ENOMEM, "%s:%u: out of memory", src->name, line);
			goto cleanup;
		}
	}
	/* As in BIND, a blank owner at the start of the included file repeats ours. */
	if (src->previous_owner != NULL) {
		child.previous_owner = ldns_rdf_clone(src->previous_owner);
		if (child.previous_owner == NULL) {
			result = dz_error_set(r->err, DZ_ENOMEM, "%s:%u: out of memory", src->name, line);
			goto cleanup;
		}
	}

	/*
	 * A file on disk is identified by its device and inode, so the loop
	 * check needs it open.  Text from the hook is identified by its path,
	 * so the check comes before the hook is called.
	 */
	if (r->options->include_fn != NULL) {
		result = check_include_loop(r, src, &child, line);
		if (result != DZ_OK)
			goto cleanup;
		result = r->options->include_fn(r->options->include_ctx, child.name, &child.data,
						&child.len, r->err);
		if (result == DZ_OK && child.data == NULL && child.len > 0)
			result = dz_error_set(r->err, DZ_EINTERNAL, "include callback returned no data");
	} else {
		result = source_open_file(&child, r->err);
	}
	if (result != DZ_OK) {
		dz_error_prefix(r->err, "%s:%u: $INCLUDE %s", src->name, line, path);
		goto cleanup;
	}
	if (r->options->include_fn == NULL) {
		result = check_include_loop(r, src, &child, line);
		if (result != DZ_OK)
			goto cleanup;
	}

	result = read_source(r, &child);
cleanup:
	source_close(&child);
	free(path);
	return result;
}

static dz_result_t
handle_directive(reader_t *r, source_t *src, unsigned line)
{
	char buf[EXCERPT_SIZE];
	const token_t *tok = &r->tokens[0];
	const char *name = r->text + tok->start;

	if (tok->len == 7 && strncasecmp(name, "$ORIGIN", 7) == 0)
		return handle_origin(r, src, line);
	if (tok->len == 4 && strncasecmp(name, "$TTL", 4) == 0)
		return handle_ttl(r, src, line);
	if (tok->len == 8 && strncasecmp(name, "$INCLUDE", 8) == 0)
		return handle_include(r, src, line);
	if (tok->len == 9 && strncasecmp(name, "$GENERATE", 9) == 0)
		return dz_error_set(r->err, DZ_ENOTSUP,
				    "%s:%u: $GENERATE is not supported ('%s'); write the records "
				    "out, for example with named-checkzone -D",
				    src->name, line, dz_zonefile_excerpt(r, buf));
	return dz_error_set(r->err, DZ_ESYNTAX,
			    "%s:%u: unknown directive '%.*s'; the directives are $ORIGIN, $TTL and "
			    "$INCLUDE (a name starting with '$' is written '\\$')",
			    src->name, line, (int)tok->len, name);
}

/* ---- driver ------------------------------------------------------------- */

static dz_result_t
read_source(reader_t *r, source_t *src)
{
	for (;;) {
		unsigned line = src->line;
		bool eof = false;
		dz_result_t result = read_record_text(r, src, &line, &eof);
		if (result != DZ_OK)
			return result;
		if (eof)
			return DZ_OK;
		if (tokenize(r) != DZ_OK)
			return dz_error_set(r->err, DZ_ENOMEM, "%s:%u: out of memory", src->name, line);
		if (r->token_count == 0)
			continue;
		if (!r->blank_owner && !r->tokens[0].quoted && r->text[r->tokens[0].start] == '$')
			result = handle_directive(r, src, line);
		else
			result = dz_zonefile_handle_record(r, src, line);
		if (result != DZ_OK)
			return result;
	}
}

/* Read `top`, already opened by the caller, with a fresh reader calling `fn` or `record_fn`. */
static dz_result_t
read_top(source_t *top, const char *origin, const dz_zonefile_options_t *options,
	 dz_zonefile_rr_fn fn, dz_zonefile_record_fn record_fn, void *ctx, dz_error_t *err)
{
	dz_zonefile_options_t defaults;
	reader_t r = { 0 };
	dz_result_t result = DZ_OK;

	if (options == NULL) {
		dz_zonefile_options_init(&defaults);
		options = &defaults;
	}
	r.options = options;
	r.fn = fn;
	r.record_fn = record_fn;
	r.ctx = ctx;
	r.err = err;
	if (options->has_default_ttl) {
		if (options->default_ttl > DZ_ZONEFILE_TTL_MAX) {
			result = dz_error_set(err, DZ_ERANGE,
					      "default TTL %u is above the maximum %u (RFC 2181 "
					      "section 8)",
					      options->default_ttl, DZ_ZONEFILE_TTL_MAX);
			goto cleanup;
		}
		r.default_ttl = options->default_ttl;
		r.default_ttl_known = true;
	}
	if (ldns_str2rdf_dname(&r.no_origin_marker, NO_ORIGIN_MARKER) != LDNS_STATUS_OK) {
		result = dz_error_set(err, DZ_ENOMEM, "out of memory");
		goto cleanup;
	}
	if (origin != NULL) {
		ldns_status status = ldns_str2rdf_dname(&top->origin, origin);
		if (status != LDNS_STATUS_OK) {
			result = dz_error_set(err, DZ_EINVAL, "invalid origin '%s': %s; give a domain name",
					      origin, ldns_get_errorstr_by_id(status));
			goto cleanup;
		}
	}
	result = read_source(&r, top);
cleanup:
	ldns_rdf_deep_free(r.no_origin_marker);
	free(r.text);
	free(r.tokens);
	free(r.scratch);
	free(r.wire);
	return result;
}

/* Open the file at `path` and read it with read_top(). */
static dz_result_t
read_path(const char *path, const char *origin, const dz_zonefile_options_t *options,
	  dz_zonefile_rr_fn fn, dz_zonefile_record_fn record_fn, void *ctx, dz_error_t *err)
{
	source_t top = { 0 };
	dz_result_t result;

	top.name = strdup(path);
	top.key = normalize_path(path);
	top.line = 1;
	if (top.name == NULL || top.key == NULL) {
		result = dz_error_set(err, DZ_ENOMEM, "out of memory");
		goto cleanup;
	}
	result = source_open_file(&top, err);
	if (result != DZ_OK)
		goto cleanup;
	result = read_top(&top, origin, options, fn, record_fn, ctx, err);
cleanup:
	source_close(&top);
	return result;
}

/* Read `data` as the top-level file `name` with read_top(). */
static dz_result_t
read_memory(const char *data, size_t len, const char *name, const char *origin,
	    const dz_zonefile_options_t *options, dz_zonefile_rr_fn fn,
	    dz_zonefile_record_fn record_fn, void *ctx, dz_error_t *err)
{
	source_t top = { 0 };
	dz_result_t result;

	top.name = strdup(name);
	top.key = normalize_path(name);
	top.data = data;
	top.len = len;
	top.line = 1;
	if (top.name == NULL || top.key == NULL) {
		result = dz_error_set(err, DZ_ENOMEM, "out of memory");
		goto cleanup;
	}
	result = read_top(&top, origin, options, fn, record_fn, ctx, err);
cleanup:
	source_close(&top);
	return result;
}

dz_result_t
dz_zonefile_read(const char *path, const char *origin, const dz_zonefile_options_t *options,
		 dz_zonefile_rr_fn fn, void *ctx, dz_error_t *err)
{
	return read_path(path, origin, options, fn, NULL, ctx, err);
}

dz_result_t
dz_zonefile_read_buffer(const char *data, size_t len, const char *name, const char *origin,
			const dz_zonefile_options_t *options, dz_zonefile_rr_fn fn, void *ctx,
			dz_error_t *err)
{
	return read_memory(data, len, name, origin, options, fn, NULL, ctx, err);
}

dz_result_t
dz_zonefile_read_records(const char *path, const char *origin, const dz_zonefile_options_t *options,
			 dz_zonefile_record_fn fn, void *ctx, dz_error_t *err)
{
	return read_path(path, origin, options, NULL, fn, ctx, err);
}

dz_result_t
dz_zonefile_read_records_buffer(const char *data, size_t len, const char *name, const char *origin,
				const dz_zonefile_options_t *options, dz_zonefile_record_fn fn,
				void *ctx, dz_error_t *err)
{
	return read_memory(data, len, name, origin, options, NULL, fn, ctx, err);
}
