#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/privdrop.h"

/* Buffer for getpwnam_r/getgrnam_r when sysconf() gives no size; grown on ERANGE. */
#define LOOKUP_BUFFER_MIN 1024
#define LOOKUP_BUFFER_MAX (1024 * 1024)

static dz_result_t
copy_name(char *out, const char *name, const char *what, dz_error_t *err)
{
	size_t len = strlen(name);

	if (len == 0)
		return dz_error_set(err, DZ_EINVAL, "the %s name is empty; give a %s name", what, what);
	if (len >= DZ_PRIVDROP_NAME_MAX)
		return dz_error_set(err, DZ_EINVAL, "%s name '%.64s...' is longer than %d bytes", what,
				    name, DZ_PRIVDROP_NAME_MAX - 1);
	memcpy(out, name, len + 1);
	return DZ_OK;
}

static size_t
lookup_buffer_size(int name)
{
	long size = sysconf(name);

	return size > 0 ? (size_t)size : LOOKUP_BUFFER_MIN;
}

/* getpwnam_r into *uid and *gid, growing the buffer while it is too small. */
static dz_result_t
lookup_user(const char *user, uid_t *uid, gid_t *gid, dz_error_t *err)
{
	size_t size = lookup_buffer_size(_SC_GETPW_R_SIZE_MAX);
	dz_result_t result = DZ_OK;
	char *buffer = NULL;

	for (;;) {
		struct passwd entry;
		struct passwd *found = NULL;
		char *grown = realloc(buffer, size);
		if (grown == NULL) {
			result = dz_error_set(err, DZ_ENOMEM, "out of memory");
			break;
		}
		buffer = grown;
		int rc = getpwnam_r(user, &entry, buffer, size, &found);
		if (rc == ERANGE && size < LOOKUP_BUFFER_MAX) {
			size *= 2;
			continue;
		}
		if (rc != 0) {
			result = dz_error_set(err, DZ_EIO, "cannot look up user '%s': %s", user,
					      strerror(rc));
		} else if (found == NULL) {
			result = dz_error_set(err, DZ_ENOTFOUND,
					      "user '%s' does not exist; create it (useradd --system %s) "
					      "or name an existing user",
					      user, user);
		} else {
			*uid = entry.pw_uid;
			*gid = entry.pw_gid;
		}
		break;
	}
	free(buffer);
	return result;
}

static dz_result_t
lookup_group(const char *group, gid_t *gid, dz_error_t *err)
{
	size_t size = lookup_buffer_size(_SC_GETGR_R_SIZE_MAX);
	dz_result_t result = DZ_OK;
	char *buffer = NULL;

	for (;;) {
		struct group entry;
		struct group *found = NULL;
		char *grown = realloc(buffer, size);
		if (grown == NULL) {
			result = dz_error_set(err, DZ_ENOMEM, "out of memory");
			break;
		}
		buffer = grown;
		int rc = getgrnam_r(group, &entry, buffer, size, &found);
		if (rc == ERANGE && size < LOOKUP_BUFFER_MAX) {
			size *= 2;
			continue;
		}
		if (rc != 0)
			result = dz_error_set(err, DZ_EIO, "cannot look up group '%s': %s", group,
					      strerror(rc));
		else if (found == NULL)
			result = dz_error_set(err, DZ_ENOTFOUND,
					      "group '%s' does not exist; create it (groupadd --system "
					      "%s) or name an existing group",
					      group, group);
		else
			*gid = entry.gr_gid;
		break;
	}
	free(buffer);
	return result;
}

/* Name of group `gid` for log lines, or its number when it has no name. */
static void
group_name(gid_t gid, char *out, size_t size)
{
	size_t buffer_size = lookup_buffer_size(_SC_GETGR_R_SIZE_MAX);
	char *buffer = malloc(buffer_size);
	struct group entry;
	struct group *found = NULL;

	if (buffer != NULL && getgrgid_r(gid, &entry, buffer, buffer_size, &found) == 0 &&
	    found != NULL && strlen(entry.gr_name) < size)
		snprintf(out, size, "%s", entry.gr_name);
	else
		snprintf(out, size, "%lu", (unsigned long)gid);
	free(buffer);
}

dz_result_t
dz_privdrop_resolve(const char *user, const char *group, dz_privdrop_target_t *out,
		    dz_error_t *err)
{
	dz_privdrop_target_t target;
	dz_result_t result;

	memset(&target, 0, sizeof(target));
	if (user == NULL)
		return dz_error_set(err, DZ_EINVAL, "no user given to switch to");
	result = copy_name(target.user, user, "user", err);
	if (result == DZ_OK)
		result = lookup_user(user, &target.uid, &target.gid, err);
	if (result == DZ_OK && group != NULL) {
		result = copy_name(target.group, group, "group", err);
		if (result == DZ_OK)
			result = lookup_group(group, &target.gid, err);
	} else if (result == DZ_OK) {
		group_name(target.gid, target.group, sizeof(target.group));
	}
	if (result == DZ_OK)
		*out = target;
	return result;
}

/* Whether the real, effective and saved ids already are the target's. */
static bool
runs_as(uid_t uid, gid_t gid)
{
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;

	if (getresuid(&ruid, &euid, &suid) != 0 || getresgid(&rgid, &egid, &sgid) != 0)
		return false;
	return ruid == uid && euid == uid && suid == uid && rgid == gid && egid == gid &&
	       sgid == gid;
}

dz_result_t
dz_privdrop_apply(const dz_privdrop_target_t *target, const char *chroot_dir, const char *who,
		  dz_error_t *err)
{
	if (geteuid() != 0) {
		if (chroot_dir == NULL && runs_as(target->uid, target->gid)) {
			dz_log(DZ_LOG_INFO, "%s: already runs as user %s, group %s; nothing to drop",
			       who, target->user, target->group);
			return DZ_OK;
		}
		return dz_error_set(err, DZ_EPERM,
				    "%s: cannot switch to user %s, group %s%s%s: the process runs "
				    "as uid %lu, not root; start it as root or remove the user "
				    "setting",
				    who, target->user, target->group,
				    chroot_dir != NULL ? " and chroot to " : "",
				    chroot_dir != NULL ? chroot_dir : "", (unsigned long)geteuid());
	}
	dz_log(DZ_LOG_INFO, "%s: sockets and files are open; dropping privileges to user %s "
	       "(uid %lu), group %s (gid %lu)",
	       who, target->user, (unsigned long)target->uid, target->group,
	       (unsigned long)target->gid);

	if (chroot_dir != NULL) {
		if (chroot(chroot_dir) != 0 || chdir("/") != 0)
			return dz_error_set(err, DZ_EPERM, "%s: chroot to %s failed: %s; check that "
					    "the folder exists", who, chroot_dir, strerror(errno));
		dz_log(DZ_LOG_INFO, "%s: chroot to %s, so that only files below it can be opened",
		       who, chroot_dir);
	}

	gid_t groups[1] = { target->gid };
	if (setgroups(1, groups) != 0)
		return dz_error_set(err, DZ_EPERM, "%s: setgroups(%lu) failed: %s", who,
				    (unsigned long)target->gid, strerror(errno));
	dz_log(DZ_LOG_INFO, "%s: setgroups to %s alone, so that no group of root is kept", who,
	       target->group);

	if (setresgid(target->gid, target->gid, target->gid) != 0)
		return dz_error_set(err, DZ_EPERM, "%s: setresgid(%lu) failed: %s", who,
				    (unsigned long)target->gid, strerror(errno));
	dz_log(DZ_LOG_INFO, "%s: setresgid to %s, before the user id, while changing the group "
	       "is still allowed", who, target->group);

	if (setresuid(target->uid, target->uid, target->uid) != 0)
		return dz_error_set(err, DZ_EPERM, "%s: setresuid(%lu) failed: %s", who,
				    (unsigned long)target->uid, strerror(errno));
	dz_log(DZ_LOG_INFO, "%s: setresuid to %s, so that real, effective and saved user ids "
	       "lose root", who, target->user);

	dz_result_t result = dz_privdrop_check(target->uid, target->gid, err);
	if (result != DZ_OK)
		return dz_error_prefix(err, "%s", who);
	if (target->uid != 0)
		dz_log(DZ_LOG_NOTICE, "%s: runs as user %s, group %s; regaining root failed as "
		       "expected", who, target->user, target->group);
	return DZ_OK;
}

dz_result_t
dz_privdrop_check(uid_t uid, gid_t gid, dz_error_t *err)
{
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;

	if (getresuid(&ruid, &euid, &suid) != 0 || getresgid(&rgid, &egid, &sgid) != 0)
		return dz_error_set(err, DZ_EPERM, "cannot read the process ids: %s",
				    strerror(errno));
	if (ruid != uid || euid != uid || suid != uid)
		return dz_error_set(err, DZ_EPERM,
				    "user ids are %lu/%lu/%lu (real/effective/saved), expected %lu",
				    (unsigned long)ruid, (unsigned long)euid, (unsigned long)suid,
				    (unsigned long)uid);
	if (rgid != gid || egid != gid || sgid != gid)
		return dz_error_set(err, DZ_EPERM,
				    "group ids are %lu/%lu/%lu (real/effective/saved), expected %lu",
				    (unsigned long)rgid, (unsigned long)egid, (unsigned long)sgid,
				    (unsigned long)gid);
	if (uid == 0)
		return DZ_OK;

	gid_t groups[64];
	int count = getgroups((int)DZ_ARRAY_SIZE(groups), groups);
	if (count < 0)
		return dz_error_set(err, DZ_EPERM, "the process has more than %zu supplementary "
				    "groups, expected only %lu", DZ_ARRAY_SIZE(groups),
				    (unsigned long)gid);
	for (int i = 0; i < count; i++) {
		if (groups[i] != gid)
			return dz_error_set(err, DZ_EPERM, "supplementary group %lu is still set, "
					    "expected only %lu", (unsigned long)groups[i],
					    (unsigned long)gid);
	}
	/* Each call below must fail: success would mean root is still reachable. */
	if (setresuid((uid_t)-1, 0, (uid_t)-1) == 0)
		return dz_error_set(err, DZ_EPERM, "setresuid to root succeeded after the drop");
	if (setresgid((gid_t)-1, 0, (gid_t)-1) == 0)
		return dz_error_set(err, DZ_EPERM, "setresgid to root succeeded after the drop");
	return DZ_OK;
}

dz_result_t
dz_privdrop_refuse_root(bool allow_root, const char *who, const char *user_key, dz_error_t *err)
{
	if (geteuid() != 0)
		return DZ_OK;
	if (allow_root) {
		dz_log(DZ_LOG_WARNING, "%s runs as root because server.allow-root is set; set %s to "
		       "an unprivileged user to limit what an attacker could do", who, user_key);
		return DZ_OK;
	}
	return dz_error_set(err, DZ_EPERM,
			    "%s would run as root; set %s to an unprivileged user (for example "
			    "one made with useradd --system), or set server.allow-root: true "
			    "(or --allow-root) to permit root",
			    who, user_key);
}
