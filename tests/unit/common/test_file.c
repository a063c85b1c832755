#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file.h"

static char *
make_temp_dir(void)
{
	char *dir = strdup("/tmp/dz-test-file-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return dir;
}

static void
remove_tree(const char *dir)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* Number of entries in `dir` besides "." and "..". */
static int
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	}
	closedir(d);
	return n;
}

static void
atomic_write_replaces_content(void **state)
{
	char *dir = make_temp_dir();
	char path[256];
	char *data = NULL;
	size_t len = 0;
	struct stat st;

	(void)state;
	snprintf(path, sizeof(path), "%s/zone.signed", dir);
	assert_int_equal(dz_file_write_atomic(path, "old\n", 4, 0644, NULL), DZ_OK);
	assert_int_equal(dz_file_write_atomic(path, "new content\n", 12, 0640, NULL), DZ_OK);
	assert_int_equal(dz_file_read_all(path, 1024, &data, &len, NULL), DZ_OK);
	assert_int_equal(len, 12);
	assert_string_equal(data, "new content\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	/* No temporary file is left behind. */
	assert_int_equal(count_entries(dir), 1);
	free(data);
	remove_tree(dir);
	free(dir);
}

static void
atomic_abort_keeps_old_content(void **state)
{
	char *dir = make_temp_dir();
	char path[256];
	char *data = NULL;
	size_t len = 0;
	dz_atomic_file_t file;

	(void)state;
	snprintf(path, sizeof(path), "%s/state", dir);
	assert_int_equal(dz_file_write_atomic(path, "v1", 2, 0600, NULL), DZ_OK);
	assert_int_equal(dz_atomic_file_open(&file, path, 0600, NULL), DZ_OK);
	fputs("half written", file.fp);
	dz_atomic_file_abort(&file);
	assert_int_equal(dz_file_read_all(path, 1024, &data, &len, NULL), DZ_OK);
	assert_string_equal(data, "v1");
	assert_int_equal(count_entries(dir), 1);
	free(data);
	remove_tree(dir);
	free(dir);
}

static void
atomic_write_into_missing_folder_fails(void **state)
{
	dz_error_t err;

	(void)state;
	dz_error_init(&err);
	assert_int_equal(dz_file_write_atomic("/nonexistent-dz/zone", "x", 1, 0644, &err), DZ_EIO);
	assert_non_null(strstr(err.message, "/nonexistent-dz/zone"));
}

static void
read_all_enforces_limit(void **state)
{
	char *dir = make_temp_dir();
	char path[256];
	char *data = NULL;
	size_t len = 0;
	dz_error_t err;

	(void)state;
	snprintf(path, sizeof(path), "%s/big", dir);
	assert_int_equal(dz_file_write_atomic(path, "0123456789", 10, 0644, NULL), DZ_OK);
	dz_error_init(&err);
	assert_int_equal(dz_file_read_all(path, 9, &data, &len, &err), DZ_ETOOBIG);
	assert_null(data);
	assert_non_null(strstr(err.message, "limit of 9 bytes"));
	assert_int_equal(dz_file_read_all(path, 10, &data, &len, NULL), DZ_OK);
	assert_int_equal(len, 10);
	free(data);
	dz_error_init(&err);
	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_equal(dz_file_read_all(path, 10, &data, &len, &err), DZ_ENOTFOUND);
	assert_non_null(strstr(err.message, "missing"));
	remove_tree(dir);
	free(dir);
}

/* A huge file with a small limit is rejected without allocating its size. */
static void
read_all_huge_file_small_limit(void **state)
{
	char *dir = make_temp_dir();
	char path[256];
	char *data = NULL;
	size_t len = 0;
	dz_error_t err;

	(void)state;
	/* 2 TiB, sparse: more than malloc() can give, and above ASan's limit of 1 TiB. */
	snprintf(path, sizeof(path), "%s/sparse", dir);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(ftruncate(fileno(fp), (off_t)2 << 40), 0);
	assert_int_equal(fclose(fp), 0);
	dz_error_init(&err);
	assert_int_equal(dz_file_read_all(path, 4096, &data, &len, &err), DZ_ETOOBIG);
	assert_null(data);
	assert_non_null(strstr(err.message, "limit of 4096 bytes"));
	remove_tree(dir);
	free(dir);
}

/* A FIFO with no writer is rejected at once, without waiting in open() for a writer. */
static void
read_all_rejects_fifo_without_writer(void **state)
{
	char *dir = make_temp_dir();
	char path[256];
	char *data = NULL;
	size_t len = 0;
	dz_error_t err;

	(void)state;
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	dz_error_init(&err);
	/* The default action of SIGALRM ends the test if the open blocks. */
	alarm(10);
	assert_int_equal(dz_file_read_all(path, 4096, &data, &len, &err), DZ_EINVAL);
	alarm(0);
	assert_null(data);
	assert_non_null(strstr(err.message, "not a regular file"));
	remove_tree(dir);
	free(dir);
}

static void
private_file_check_rejects_group_readable(void **state)
{
	char *dir = make_temp_dir();
	char path[256];
	dz_error_t err;

	(void)state;
	snprintf(path, sizeof(path), "%s/pin", dir);
	assert_int_equal(dz_file_write_atomic(path, "1234", 4, 0640, NULL), DZ_OK);
	dz_error_init(&err);
	assert_int_equal(dz_file_check_private(path, &err), DZ_EPERM);
	assert_non_null(strstr(err.message, "chmod 600"));
	assert_non_null(strstr(err.message, "0640"));
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(dz_file_check_private(path, NULL), DZ_OK);
	assert_int_equal(chmod(path, 0604), 0);
	assert_int_equal(dz_file_check_private(path, NULL), DZ_EPERM);
	remove_tree(dir);
	free(dir);
}

static void
append_durable_appends(void **state)
{
	char *dir = make_temp_dir();
	char path[256];
	char *data = NULL;
	size_t len = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/audit.log", dir);
	assert_int_equal(dz_file_append_durable(path, "a\n", 2, 0600, NULL), DZ_OK);
	assert_int_equal(dz_file_append_durable(path, "b\n", 2, 0600, NULL), DZ_OK);
	assert_int_equal(dz_file_read_all(path, 100, &data, &len, NULL), DZ_OK);
	assert_string_equal(data, "a\nb\n");
	free(data);
	remove_tree(dir);
	free(dir);
}

static void
mkdir_p_creates_parents(void **state)
{
	char *dir = make_temp_dir();
	char path[256];
	struct stat st;

	(void)state;
	snprintf(path, sizeof(path), "%s/a/b/c", dir);
	assert_int_equal(dz_mkdir_p(path, 0700, NULL), DZ_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(dz_mkdir_p(path, 0700, NULL), DZ_OK);
	remove_tree(dir);
	free(dir);
}

/* An empty path is an error, not a read past the end of the string. */
static void
mkdir_p_rejects_empty_path(void **state)
{
	dz_error_t err;

	(void)state;
	dz_error_init(&err);
	assert_int_equal(dz_mkdir_p("", 0700, &err), DZ_EINVAL);
	assert_non_null(strstr(err.message, "empty path"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(atomic_write_replaces_content),
		cmocka_unit_test(atomic_abort_keeps_old_content),
		cmocka_unit_test(atomic_write_into_missing_folder_fails),
		cmocka_unit_test(read_all_enforces_limit),
		cmocka_unit_test(read_all_huge_file_small_limit),
		cmocka_unit_test(read_all_rejects_fifo_without_writer),
		cmocka_unit_test(private_file_check_rejects_group_readable),
		cmocka_unit_test(append_durable_appends),
		cmocka_unit_test(mkdir_p_creates_parents),
		cmocka_unit_test(mkdir_p_rejects_empty_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
