/*
 * test_watch.c -- quiet times of the certificate watcher.
 */
#include "config.h"

#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "zones/watch.h"

#define NOW_MS 1000000
#define TAG 7

typedef struct fixture {
	char folder[64];
	char path[PATH_MAX];
	dz_watch_t *watch;
} fixture_t;

static void
write_file(const char *path, const char *text)
{
	FILE *file = fopen(path, "w");
	assert_non_null(file);
	assert_int_equal(fputs(text, file) >= 0, 1);
	assert_int_equal(fclose(file), 0);
}

static int
setup(void **state)
{
	fixture_t *f = calloc(1, sizeof(*f));
	dz_error_t err;

	assert_non_null(f);
	snprintf(f->folder, sizeof(f->folder), "/tmp/dz-watch-XXXXXX");
	assert_non_null(mkdtemp(f->folder));
	snprintf(f->path, sizeof(f->path), "%s/cert.pem", f->folder);
	write_file(f->path, "old\n");
	dz_error_init(&err);
	assert_int_equal(dz_watch_create(&f->watch, &err), DZ_OK);
	assert_int_equal(dz_watch_add_file(f->watch, f->path, TAG, &err), DZ_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fixture_t *f = *state;
	char other[PATH_MAX];

	dz_watch_destroy(f->watch);
	snprintf(other, sizeof(other), "%s/cert.pem.new", f->folder);
	unlink(other);
	unlink(f->path);
	rmdir(f->folder);
	free(f);
	return 0;
}

/* A file written in place may still be incomplete: the long quiet time applies. */
static void
write_in_place_waits_debounce(void **state)
{
	fixture_t *f = *state;

	write_file(f->path, "new\n");
	assert_true(dz_watch_process(f->watch, NOW_MS) > 0);
	assert_int_equal(dz_watch_next_due(f->watch), NOW_MS + DZ_WATCH_DEBOUNCE_MS);
}

/* A rename into place delivers a complete file: the short quiet time applies. */
static void
rename_into_place_is_due_soon(void **state)
{
	fixture_t *f = *state;
	char other[PATH_MAX];

	snprintf(other, sizeof(other), "%s/cert.pem.new", f->folder);
	write_file(other, "new\n");
	/* Events of the temporary name do not touch the watched path. */
	dz_watch_process(f->watch, NOW_MS - 100);
	assert_int_equal(dz_watch_next_due(f->watch), -1);
	assert_int_equal(rename(other, f->path), 0);
	assert_true(dz_watch_process(f->watch, NOW_MS) > 0);
	assert_int_equal(dz_watch_next_due(f->watch), NOW_MS + DZ_WATCH_RENAME_MS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(write_in_place_waits_debounce, setup, teardown),
		cmocka_unit_test_setup_teardown(rename_into_place_is_due_soon, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
