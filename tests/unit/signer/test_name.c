#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "signer/name.h"
#include "signer_test.h"

typedef struct named_key {
	uint8_t key[DZ_NAME_KEY_MAX];
	size_t len;
	int expected_position;
} named_key_t;

static int
compare_named(const void *a, const void *b)
{
	const named_key_t *x = a;
	const named_key_t *y = b;

	return dz_name_key_compare(x->key, x->len, y->key, y->len);
}

/* RFC 4034 section 6.1: the example names in canonical order. */
static void
canonical_order_rfc4034_example(void **state)
{
	static const char *const ordered[] = {
		"example.",	    "a.example.",     "yljkjljk.a.example.", "Z.a.example.",
		"zABC.a.EXAMPLE.", "z.example.",     "\\001.z.example.",    "*.z.example.",
		"\\200.z.example.",
	};
	/* A fixed shuffle, so a sort that does nothing cannot pass. */
	static const int shuffle[] = { 5, 8, 0, 3, 7, 1, 6, 2, 4 };
	named_key_t names[9];

	(void)state;
	for (size_t i = 0; i < 9; i++) {
		names[i].len = test_key(ordered[shuffle[i]], names[i].key);
		names[i].expected_position = shuffle[i];
	}
	qsort(names, 9, sizeof(names[0]), compare_named);
	for (int i = 0; i < 9; i++)
		assert_int_equal(names[i].expected_position, i);
}

static void
key_round_trip_lowers_case(void **state)
{
	uint8_t wire[DZ_NAME_WIRE_MAX];
	uint8_t key[DZ_NAME_KEY_MAX];
	uint8_t back[DZ_NAME_WIRE_MAX];
	uint8_t expected[DZ_NAME_WIRE_MAX];
	size_t wire_len = test_wire_name("WWW.Example.COM.", wire);
	size_t expected_len = test_wire_name("www.example.com.", expected);
	int key_len = dz_name_key_from_wire(wire, wire_len, key);

	(void)state;
	assert_int_equal(key_len, (int)wire_len - 1);
	/* Top label first: "com" is at the start of the key. */
	assert_int_equal(key[0], 3);
	assert_memory_equal(key + 1, "com", 3);
	assert_int_equal(dz_name_wire_from_key(key, (size_t)key_len, back), expected_len);
	assert_memory_equal(back, expected, expected_len);
}

static void
subdomain_and_parent(void **state)
{
	uint8_t child[DZ_NAME_KEY_MAX];
	uint8_t parent[DZ_NAME_KEY_MAX];
	uint8_t other[DZ_NAME_KEY_MAX];
	size_t child_len = test_key("_25._tcp.mail.example.com.", child);
	size_t parent_len = test_key("mail.example.com.", parent);
	size_t other_len = test_key("ail.example.com.", other);

	(void)state;
	assert_true(dz_name_key_is_at_or_below(child, child_len, parent, parent_len));
	assert_true(dz_name_key_is_at_or_below(parent, parent_len, parent, parent_len));
	assert_false(dz_name_key_is_at_or_below(parent, parent_len, child, child_len));
	assert_false(dz_name_key_is_at_or_below(child, child_len, other, other_len));
	assert_int_equal(dz_name_key_labels(child, child_len), 5);
	size_t up = dz_name_key_parent_len(child, child_len);
	uint8_t tcp[DZ_NAME_KEY_MAX];
	size_t tcp_len = test_key("_tcp.mail.example.com.", tcp);
	assert_int_equal(up, tcp_len);
	assert_memory_equal(child, tcp, tcp_len);
}

static void
wildcard_and_text(void **state)
{
	uint8_t key[DZ_NAME_KEY_MAX];
	char text[DZ_NAME_TEXT_MAX];
	size_t len = test_key("*.w.example.", key);

	(void)state;
	assert_true(dz_name_key_is_wildcard(key, len));
	assert_string_equal(dz_name_key_to_text(key, len, text), "*.w.example.");
	len = test_key("a\\.b.example.", key);
	assert_false(dz_name_key_is_wildcard(key, len));
	assert_string_equal(dz_name_key_to_text(key, len, text), "a\\.b.example.");
	len = test_key("\\200.example.", key);
	assert_string_equal(dz_name_key_to_text(key, len, text), "\\200.example.");
}

static void
malformed_wire_rejected(void **state)
{
	uint8_t key[DZ_NAME_KEY_MAX];
	static const uint8_t no_root[] = { 3, 'c', 'o', 'm' };
	static const uint8_t pointer[] = { 0xc0, 0x0c };

	(void)state;
	assert_int_equal(dz_name_key_from_wire(no_root, sizeof(no_root), key), -1);
	assert_int_equal(dz_name_key_from_wire(pointer, sizeof(pointer), key), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(canonical_order_rfc4034_example),
		cmocka_unit_test(key_round_trip_lowers_case),
		cmocka_unit_test(subdomain_and_parent),
		cmocka_unit_test(wildcard_and_text),
		cmocka_unit_test(malformed_wire_rejected),
	};

	return cmocka_run_group_tests_name("signer_name", tests, NULL, NULL);
}
