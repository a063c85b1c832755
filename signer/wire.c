#include "config.h"

#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "signer/wire.h"

#define LABELS_MAX 128

size_t
dz_wire_name_len(const uint8_t *data, size_t len)
{
	size_t pos = 0;

	for (;;) {
		if (pos >= len)
			return 0;
		uint8_t label = data[pos];
		if (label > 63)
			return 0;
		pos += 1 + (size_t)label;
		if (pos > DZ_WIRE_NAME_MAX)
			return 0;
		if (label == 0)
			return pos;
	}
}

dz_result_t
dz_wire_rr_parse(const uint8_t *data, size_t len, size_t *offset, dz_wire_rr_t *rr)
{
	size_t pos = *offset;

	if (pos >= len)
		return DZ_EFORMERR;
	size_t name_len = dz_wire_name_len(data + pos, len - pos);
	if (name_len == 0 || len - pos - name_len < 10)
		return DZ_EFORMERR;
	const uint8_t *fixed = data + pos + name_len;
	uint16_t rdlength = dz_wire_get_u16(fixed + 8);
	if (len - pos - name_len - 10 < rdlength)
		return DZ_EFORMERR;
	rr->start = data + pos;
	rr->owner = data + pos;
	rr->owner_len = name_len;
	rr->type = dz_wire_get_u16(fixed);
	rr->rrclass = dz_wire_get_u16(fixed + 2);
	rr->ttl = dz_wire_get_u32(fixed + 4);
	rr->rdlength = rdlength;
	rr->rdata = fixed + 10;
	rr->len = name_len + 10 + rdlength;
	*offset = pos + rr->len;
	return DZ_OK;
}

bool
dz_wire_name_equal(const uint8_t *a, const uint8_t *b)
{
	for (;;) {
		if (*a != *b)
			return false;
		uint8_t label = *a;
		if (label == 0)
			return true;
		for (uint8_t i = 1; i <= label; i++) {
			if (tolower(a[i]) != tolower(b[i]))
				return false;
		}
		a += 1 + label;
		b += 1 + label;
	}
}

/* Offsets of the labels of a valid name, the root label excluded; returns the count. */
static size_t
label_offsets(const uint8_t *name, size_t offsets[LABELS_MAX])
{
	size_t count = 0;
	size_t pos = 0;

	while (name[pos] != 0 && count < LABELS_MAX) {
		offsets[count++] = pos;
		pos += 1 + (size_t)name[pos];
	}
	return count;
}

bool
dz_wire_name_is_below_or_at(const uint8_t *name, size_t name_len, const uint8_t *origin,
			    size_t origin_len)
{
	size_t pos = 0;

	if (name_len < origin_len)
		return false;
	/* Walk labels until the rest of the name is as long as the origin. */
	while (name_len - pos > origin_len)
		pos += 1 + (size_t)name[pos];
	if (name_len - pos != origin_len)
		return false;
	return dz_wire_name_equal(name + pos, origin);
}

int
dz_wire_name_compare(const uint8_t *a, const uint8_t *b)
{
	size_t a_labels[LABELS_MAX];
	size_t b_labels[LABELS_MAX];
	size_t a_count = label_offsets(a, a_labels);
	size_t b_count = label_offsets(b, b_labels);

	while (a_count > 0 && b_count > 0) {
		const uint8_t *la = a + a_labels[--a_count];
		const uint8_t *lb = b + b_labels[--b_count];
		size_t common = la[0] < lb[0] ? la[0] : lb[0];
		for (size_t i = 1; i <= common; i++) {
			int ca = tolower(la[i]);
			int cb = tolower(lb[i]);
			if (ca != cb)
				return ca - cb;
		}
		if (la[0] != lb[0])
			return (int)la[0] - (int)lb[0];
	}
	if (a_count == b_count)
		return 0;
	return a_count < b_count ? -1 : 1;
}

int
dz_wire_rr_compare(const dz_wire_rr_t *a, const dz_wire_rr_t *b)
{
	int c = dz_wire_name_compare(a->owner, b->owner);

	if (c != 0)
		return c;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	if (a->rrclass != b->rrclass)
		return a->rrclass < b->rrclass ? -1 : 1;
	size_t common = a->rdlength < b->rdlength ? a->rdlength : b->rdlength;
	c = common > 0 ? memcmp(a->rdata, b->rdata, common) : 0;
	if (c != 0)
		return c;
	if (a->rdlength != b->rdlength)
		return a->rdlength < b->rdlength ? -1 : 1;
	return 0;
}

uint32_t
dz_wire_soa_serial(const dz_wire_rr_t *soa)
{
	size_t pos = 0;

	for (int i = 0; i < 2; i++) {
		size_t n = dz_wire_name_len(soa->rdata + pos, soa->rdlength - pos);
		if (n == 0)
			return 0;
		pos += n;
	}
	if (soa->rdlength - pos < 20)
		return 0;
	return dz_wire_get_u32(soa->rdata + pos);
}

size_t
dz_wire_name_from_text(const char *text, uint8_t out[DZ_WIRE_NAME_MAX])
{
	size_t pos = 0;
	const char *p = text;

	if (strcmp(text, ".") == 0) {
		out[0] = 0;
		return 1;
	}
	while (*p != '\0') {
		size_t label_start = pos;
		if (pos + 1 >= DZ_WIRE_NAME_MAX)
			return 0;
		pos++;
		while (*p != '\0' && *p != '.') {
			int c = (unsigned char)*p++;
			if (c == '\\') {
				if (isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]) &&
				    isdigit((unsigned char)p[2])) {
					c = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
					if (c > 255)
						return 0;
					p += 3;
				} else if (*p != '\0') {
					c = (unsigned char)*p++;
				} else {
					return 0;
				}
			}
			if (pos - label_start > 63 || pos + 1 >= DZ_WIRE_NAME_MAX)
				return 0;
			out[pos++] = (uint8_t)tolower(c);
		}
		size_t label_len = pos - label_start - 1;
		if (label_len == 0 || label_len > 63)
			return 0;
		out[label_start] = (uint8_t)label_len;
		if (*p == '.')
			p++;
	}
	if (pos + 1 > DZ_WIRE_NAME_MAX)
		return 0;
	out[pos++] = 0;
	return pos;
}

void
dz_wire_name_to_text(const uint8_t *name, char *out, size_t out_size)
{
	size_t used = 0;

	assert(out_size >= 2);
	if (name[0] == 0) {
		snprintf(out, out_size, ".");
		return;
	}
	while (*name != 0) {
		uint8_t label = *name++;
		for (uint8_t i = 0; i < label; i++) {
			uint8_t c = name[i];
			char piece[4];
			size_t n = 0;
			if (c == '.' || c == '\\' || c == '"' || c == '(' || c == ')' ||
			    c == ';' || c == '$' || c == '@') {
				piece[n++] = '\\';
				piece[n++] = (char)c;
			} else if (c <= 0x20 || c >= 0x7f) {
				piece[n++] = '\\';
				piece[n++] = (char)('0' + c / 100);
				piece[n++] = (char)('0' + c / 10 % 10);
				piece[n++] = (char)('0' + c % 10);
			} else {
				piece[n++] = (char)c;
			}
			if (used + n + 2 > out_size)
				break;
			memcpy(out + used, piece, n);
			used += n;
		}
		name += label;
		if (used + 2 > out_size)
			break;
		out[used++] = '.';
	}
	out[used] = '\0';
}

dz_result_t
dz_wire_msg_skip_name(const uint8_t *msg, size_t len, size_t *offset)
{
	size_t pos = *offset;

	for (;;) {
		if (pos >= len)
			return DZ_EFORMERR;
		uint8_t label = msg[pos];
		if ((label & 0xc0) == 0xc0) {
			if (len - pos < 2)
				return DZ_EFORMERR;
			size_t target = (size_t)(label & 0x3f) << 8 | msg[pos + 1];
			if (target >= pos)
				return DZ_EFORMERR;
			pos += 2;
			break;
		}
		if (label > 63)
			return DZ_EFORMERR;
		pos += 1 + (size_t)label;
		if (label == 0)
			break;
	}
	*offset = pos;
	return DZ_OK;
}

size_t
dz_wire_msg_read_name(const uint8_t *msg, size_t len, size_t offset,
		      uint8_t out[DZ_WIRE_NAME_MAX])
{
	size_t pos = offset;
	size_t used = 0;
	/* Each pointer must go strictly backwards, which bounds the loop. */
	size_t limit = offset;

	for (;;) {
		if (pos >= len)
			return 0;
		uint8_t label = msg[pos];
		if ((label & 0xc0) == 0xc0) {
			if (len - pos < 2)
				return 0;
			size_t target = (size_t)(label & 0x3f) << 8 | msg[pos + 1];
			if (target >= limit)
				return 0;
			limit = target;
			pos = target;
			continue;
		}
		if (label > 63)
			return 0;
		if (len - pos < 1 + (size_t)label || used + 1 + label > DZ_WIRE_NAME_MAX)
			return 0;
		memcpy(out + used, msg + pos, 1 + (size_t)label);
		used += 1 + (size_t)label;
		pos += 1 + (size_t)label;
		if (label == 0)
			return used;
	}
}

void
dz_wire_builder_init(dz_wire_builder_t *b, uint8_t *data, size_t cap, uint16_t id,
		     uint16_t flags)
{
	assert(cap >= DZ_WIRE_HEADER_SIZE);
	assert(cap <= DZ_WIRE_MESSAGE_MAX);
	b->data = data;
	b->cap = cap;
	b->last_name_len = 0;
	b->last_labels = 0;
	memset(data, 0, DZ_WIRE_HEADER_SIZE);
	dz_wire_put_u16(data, id);
	dz_wire_put_u16(data + 2, flags);
	b->len = DZ_WIRE_HEADER_SIZE;
}

uint16_t
dz_wire_builder_count(const dz_wire_builder_t *b, int section)
{
	assert(section >= 0);
	assert(section <= 3);
	return dz_wire_get_u16(b->data + 4 + 2 * section);
}

static void
builder_count_add(dz_wire_builder_t *b, int section)
{
	dz_wire_put_u16(b->data + 4 + 2 * section, (uint16_t)(dz_wire_builder_count(b, section) + 1));
}

/* How an owner name is written: `literal` bytes of labels, then a pointer unless it is 0. */
typedef struct name_plan {
	size_t labels;
	size_t label_pos[DZ_WIRE_LABELS_MAX];
	size_t literal;
	size_t literal_labels;
	uint16_t pointer;
} name_plan_t;

/* Plan the compressed form of valid name `name` against the previous owner. */
static void
plan_name(const dz_wire_builder_t *b, const uint8_t *name, size_t name_len, name_plan_t *plan)
{
	size_t pos = 0;

	plan->labels = 0;
	while (name[pos] != 0 && plan->labels < DZ_WIRE_LABELS_MAX) {
		plan->label_pos[plan->labels++] = pos;
		pos += 1 + (size_t)name[pos];
	}
	plan->literal = name_len;
	plan->literal_labels = plan->labels;
	plan->pointer = 0;

	/* Count the labels both names end with, comparing bytes exactly. */
	size_t last_pos[DZ_WIRE_LABELS_MAX];
	pos = 0;
	for (size_t i = 0; i < b->last_labels; i++) {
		last_pos[i] = pos;
		pos += 1 + (size_t)b->last_name[pos];
	}
	size_t common = 0;
	while (common < plan->labels && common < b->last_labels) {
		size_t mine = plan->label_pos[plan->labels - 1 - common];
		size_t theirs = last_pos[b->last_labels - 1 - common];
		uint8_t length = name[mine];
		if (length != b->last_name[theirs] ||
		    memcmp(name + mine + 1, b->last_name + theirs + 1, length) != 0)
			break;
		common++;
	}
	/* Use the longest shared suffix that a pointer can reach. */
	for (size_t shared = common; shared > 0; shared--) {
		uint16_t target = b->suffix_offset[b->last_labels - shared];
		if (target == 0)
			continue;
		plan->literal_labels = plan->labels - shared;
		plan->literal = plan->label_pos[plan->literal_labels];
		plan->pointer = target;
		return;
	}
}

/* Write `name` as planned at the end of the message and remember it as the previous owner. */
static void
write_name(dz_wire_builder_t *b, const uint8_t *name, size_t name_len, const name_plan_t *plan)
{
	size_t start = b->len;
	uint16_t offsets[DZ_WIRE_LABELS_MAX];

	memcpy(b->data + start, name, plan->literal);
	b->len += plan->literal;
	if (plan->pointer != 0) {
		dz_wire_put_u16(b->data + b->len, (uint16_t)(0xc000 | plan->pointer));
		b->len += 2;
	}
	for (size_t i = 0; i < plan->literal_labels; i++) {
		size_t offset = start + plan->label_pos[i];
		offsets[i] = offset < 0x4000 ? (uint16_t)offset : 0;
	}
	/* Labels behind the pointer are where the previous owner's same labels are. */
	size_t shared = plan->labels - plan->literal_labels;
	for (size_t i = 0; i < shared; i++)
		offsets[plan->literal_labels + i] = b->suffix_offset[b->last_labels - shared + i];
	memcpy(b->suffix_offset, offsets, plan->labels * sizeof(offsets[0]));
	memcpy(b->last_name, name, name_len);
	b->last_name_len = name_len;
	b->last_labels = plan->labels;
}

bool
dz_wire_builder_question(dz_wire_builder_t *b, const uint8_t *name, size_t name_len,
			 uint16_t type, uint16_t rrclass)
{
	name_plan_t plan;

	plan_name(b, name, name_len, &plan);
	if (b->cap - b->len < plan.literal + (plan.pointer != 0 ? 2 : 0) + 4)
		return false;
	write_name(b, name, name_len, &plan);
	dz_wire_put_u16(b->data + b->len, type);
	dz_wire_put_u16(b->data + b->len + 2, rrclass);
	b->len += 4;
	builder_count_add(b, 0);
	return true;
}

bool
dz_wire_builder_rr(dz_wire_builder_t *b, int section, const dz_wire_rr_t *rr)
{
	name_plan_t plan;
	size_t tail = 10 + (size_t)rr->rdlength;

	assert(section >= 1);
	assert(section <= 3);
	plan_name(b, rr->owner, rr->owner_len, &plan);
	if (b->cap - b->len < plan.literal + (plan.pointer != 0 ? 2 : 0) + tail)
		return false;
	write_name(b, rr->owner, rr->owner_len, &plan);
	memcpy(b->data + b->len, rr->owner + rr->owner_len, tail);
	b->len += tail;
	builder_count_add(b, section);
	return true;
}
