/*
 * Privilege drop: name lookup, the order of the steps, and that root
 * cannot be regained.  The drop itself runs in a forked child, because the
 * tests run as root in CI and a drop cannot be undone.  The expected ids
 * of nobody and nogroup (65534) are fixed by Debian's base-passwd.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/privdrop.h"

#define NOBODY_ID 65534

static void
resolve_user_and_primary_group(void **state)
{
	dz_privdrop_target_t target;
	dz_error_t err;

	(void)state;
	dz_error_init(&err);
	assert_int_equal(dz_privdrop_resolve("nobody", NULL, &target, &err), DZ_OK);
	assert_int_equal(target.uid, NOBODY_ID);
	assert_int_equal(target.gid, NOBODY_ID);
	assert_string_equal(target.user, "nobody");
	assert_string_equal(target.group, "nogroup");
}

static void
resolve_named_group(void **state)
{
	dz_privdrop_target_t target;
	dz_error_t err;

	(void)state;
	dz_error_init(&err);
	assert_int_equal(dz_privdrop_resolve("nobody", "root", &target, &err), DZ_OK);
	assert_int_equal(target.uid, NOBODY_ID);
	assert_int_equal(target.gid, 0);
	assert_string_equal(target.group, "root");
}

static void
resolve_unknown_names(void **state)
{
	dz_privdrop_target_t target;
	dz_error_t err;

	(void)state;
	dz_error_init(&err);
	assert_int_equal(dz_privdrop_resolve("dz-no-such-user", NULL, &target, &err),
			 DZ_ENOTFOUND);
	assert_non_null(strstr(dz_error_message(&err), "user 'dz-no-such-user' does not exist"));

	dz_error_init(&err);
	assert_int_equal(dz_privdrop_resolve("nobody", "dz-no-such-group", &target, &err),
			 DZ_ENOTFOUND);
	assert_non_null(strstr(dz_error_message(&err), "group 'dz-no-such-group' does not exist"));
}

static void
resolve_invalid_names(void **state)
{
	dz_privdrop_target_t target;
	dz_error_t err;
	char long_name[DZ_PRIVDROP_NAME_MAX + 8];

	(void)state;
	dz_error_init(&err);
	assert_int_equal(dz_privdrop_resolve("", NULL, &target, &err), DZ_EINVAL);
	assert_int_equal(dz_privdrop_resolve(NULL, NULL, &target, &err), DZ_EINVAL);
	assert_int_equal(dz_privdrop_resolve("nobody", "", &target, &err), DZ_EINVAL);
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(dz_privdrop_resolve(long_name, NULL, &target, &err), DZ_EINVAL);
	assert_non_null(strstr(dz_error_message(&err), "longer than"));
}

static void
refuse_root_names_the_keys(void **state)
{
	dz_error_t err;

	(void)state;
	if (geteuid() != 0) {
		assert_int_equal(dz_privdrop_refuse_root(false, "danezoned", "server.user", NULL),
				 DZ_OK);
		return;
	}
	dz_error_init(&err);
	assert_int_equal(dz_privdrop_refuse_root(false, "danezoned", "server.user", &err), DZ_EPERM);
	assert_non_null(strstr(dz_error_message(&err), "danezoned would run as root"));
	assert_non_null(strstr(dz_error_message(&err), "set server.user"));
	assert_non_null(strstr(dz_error_message(&err), "server.allow-root: true"));
	assert_int_equal(dz_privdrop_refuse_root(true, "danezoned", "server.user", &err), DZ_OK);
}

static void
check_rejects_other_ids(void **state)
{
	dz_error_t err;

	(void)state;
	dz_error_init(&err);
	uid_t other = geteuid() == NOBODY_ID ? 1 : NOBODY_ID;
	assert_int_equal(dz_privdrop_check(other, getegid(), &err), DZ_EPERM);
	assert_non_null(strstr(dz_error_message(&err), "user ids are"));
}

/* ---- drops in a forked child ---- */

typedef struct child_log {
	char text[8192];
	size_t len;
} child_log_t;

static void
collect_line(dz_log_level_t level, const char *line, void *ctx)
{
	child_log_t *log = ctx;

	(void)level;
	int n = snprintf(log->text + log->len, sizeof(log->text) - log->len, "%s\n", line);
	if (n > 0 && (size_t)n < sizeof(log->text) - log->len)
		log->len += (size_t)n;
}

/* Checks that run in the child after a drop; each returns an exit code (0 = passed). */
typedef int (*child_check_fn)(const char *arg);

/*
 * Run dz_privdrop_apply() to nobody/nogroup in a child, then `check`.  The
 * child's log and error message come back through a pipe into *log;
 * returns the child's exit status.
 */
static int
drop_in_child(const char *chroot_dir, child_check_fn check, const char *arg, child_log_t *log)
{
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		child_log_t own = { .len = 0 };
		dz_privdrop_target_t target;
		dz_error_t err;
		int status = 0;

		close(fds[0]);
		dz_error_init(&err);
		dz_log_set_level(DZ_LOG_DEBUG);
		dz_log_set_sink(collect_line, &own);
		if (dz_privdrop_resolve("nobody", NULL, &target, &err) != DZ_OK ||
		    dz_privdrop_apply(&target, chroot_dir, "test process", &err) != DZ_OK) {
			collect_line(DZ_LOG_ERROR, dz_error_message(&err), &own);
			status = 10;
		} else if (check != NULL) {
			status = check(arg);
		}
		if (write(fds[1], own.text, own.len) < 0)
			status = 11;
		_exit(status);
	}
	close(fds[1]);
	log->len = 0;
	ssize_t n;
	while ((n = read(fds[0], log->text + log->len, sizeof(log->text) - 1 - log->len)) > 0)
		log->len += (size_t)n;
	log->text[log->len] = '\0';
	close(fds[0]);
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* Position of `needle` in `haystack`, failing the test when it is missing. */
static size_t
position(const char *haystack, const char *needle)
{
	const char *at = strstr(haystack, needle);

	if (at == NULL)
		fail_msg("'%s' not logged; the log was:\n%s", needle, haystack);
	return (size_t)(at - haystack);
}

static int
check_ids_and_root_file(const char *root_file)
{
	if (getuid() != NOBODY_ID || geteuid() != NOBODY_ID || getgid() != NOBODY_ID)
		return 20;
	if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0)
		return 21;
	int fd = open(root_file, O_RDONLY);
	if (fd >= 0 || errno != EACCES)
		return 22;
	return 0;
}

static void
drop_order_and_no_root(void **state)
{
	char dir[] = "/tmp/dz-privdrop-XXXXXX";
	char file[64];
	child_log_t log;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/secret", dir);
	int fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chmod(dir, 0755), 0);

	int status = drop_in_child(NULL, check_ids_and_root_file, file, &log);
	unlink(file);
	rmdir(dir);
	if (status != 0)
		fail_msg("child exited with %d; its log:\n%s", status, log.text);
	size_t open_step = position(log.text, "sockets and files are open");
	size_t groups_step = position(log.text, "setgroups to nogroup alone");
	size_t gid_step = position(log.text, "setresgid to nogroup");
	size_t uid_step = position(log.text, "setresuid to nobody");
	size_t checked = position(log.text, "regaining root failed as expected");
	assert_true(open_step < groups_step);
	assert_true(groups_step < gid_step);
	assert_true(gid_step < uid_step);
	assert_true(uid_step < checked);
	assert_null(strstr(log.text, "chroot"));
}

static int
check_chroot(const char *marker)
{
	if (access(marker, F_OK) != 0)
		return 30;
	/* The host's /etc is outside the chroot. */
	if (access("/etc/passwd", F_OK) == 0)
		return 31;
	return 0;
}

static void
drop_with_chroot(void **state)
{
	char dir[] = "/tmp/dz-privdrop-XXXXXX";
	char marker[64];
	child_log_t log;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_non_null(mkdtemp(dir));
	snprintf(marker, sizeof(marker), "%s/marker", dir);
	int fd = open(marker, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chmod(dir, 0755), 0);

	int status = drop_in_child(dir, check_chroot, "/marker", &log);
	unlink(marker);
	rmdir(dir);
	if (status != 0)
		fail_msg("child exited with %d; its log:\n%s", status, log.text);
	size_t chroot_step = position(log.text, "chroot to /tmp/dz-privdrop-");
	size_t groups_step = position(log.text, "setgroups");
	assert_true(position(log.text, "sockets and files are open") < chroot_step);
	assert_true(chroot_step < groups_step);
}

static void
drop_to_missing_chroot_fails(void **state)
{
	child_log_t log;

	(void)state;
	if (geteuid() != 0)
		skip();
	int status = drop_in_child("/nonexistent/dz-chroot", NULL, NULL, &log);
	assert_int_equal(status, 10);
	assert_non_null(strstr(log.text, "chroot to /nonexistent/dz-chroot failed"));
	assert_null(strstr(log.text, "setresuid to"));
}

/* After a first drop, a second one to another user must fail with a clear message. */
static int
check_second_drop_fails(const char *arg)
{
	dz_privdrop_target_t root_target;
	dz_error_t err;

	(void)arg;
	dz_error_init(&err);
	if (dz_privdrop_resolve("root", NULL, &root_target, &err) != DZ_OK)
		return 40;
	if (dz_privdrop_apply(&root_target, NULL, "test process", &err) != DZ_EPERM)
		return 41;
	if (strstr(dz_error_message(&err), "not root") == NULL)
		return 42;
	/* Dropping to the user it already runs as changes nothing and succeeds. */
	dz_privdrop_target_t same;
	if (dz_privdrop_resolve("nobody", NULL, &same, &err) != DZ_OK ||
	    dz_privdrop_apply(&same, NULL, "test process", &err) != DZ_OK)
		return 43;
	return 0;
}

static void
drop_without_root_fails(void **state)
{
	child_log_t log;

	(void)state;
	if (geteuid() != 0)
		skip();
	int status = drop_in_child(NULL, check_second_drop_fails, NULL, &log);
	if (status != 0)
		fail_msg("child exited with %d; its log:\n%s", status, log.text);
	assert_non_null(strstr(log.text, "already runs as user nobody"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(resolve_user_and_primary_group),
		cmocka_unit_test(resolve_named_group),
		cmocka_unit_test(resolve_unknown_names),
		cmocka_unit_test(resolve_invalid_names),
		cmocka_unit_test(refuse_root_names_the_keys),
		cmocka_unit_test(check_rejects_other_ids),
		cmocka_unit_test(drop_order_and_no_root),
		cmocka_unit_test(drop_with_chroot),
		cmocka_unit_test(drop_to_missing_chroot_fails),
		cmocka_unit_test(drop_without_root_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
