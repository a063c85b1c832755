/*
 * privdrop.h -- switching a process started as root to an unprivileged
 * user, in a fixed order with one log line per step.
 *
 * A process first opens everything that needs root (sockets on ports
 * below 1024, files owned by others), then calls dz_privdrop_apply(), which
 * runs these steps and logs why each one is done:
 *
 *   1. chroot(2) and chdir("/"), when a chroot folder is given
 *   2. setgroups(2) to the target group alone, so no supplementary group of
 *      root survives
 *   3. setresgid(2), real, effective and saved group id
 *   4. setresuid(2), real, effective and saved user id; last, because
 *      after it the process may no longer change its groups
 *
 * Then dz_privdrop_check() verifies that the ids took effect and that
 * setresuid(0) and setresgid(0) now fail, so root cannot be regained.
 *
 * User and group names are resolved with dz_privdrop_resolve() before the
 * drop (and before a chroot, which hides /etc/passwd).
 */
#ifndef DZ_COMMON_PRIVDROP_H
#define DZ_COMMON_PRIVDROP_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"

/* Maximum length of a user or group name, with its NUL. */
#define DZ_PRIVDROP_NAME_MAX 64

/* The user and group a process switches to. */
typedef struct dz_privdrop_target {
	char user[DZ_PRIVDROP_NAME_MAX];
	char group[DZ_PRIVDROP_NAME_MAX];
	uid_t uid;
	gid_t gid;
} dz_privdrop_target_t;

/*
 * Look up `user` (getpwnam_r) and `group` (getgrnam_r) into *out.  A NULL
 * `group` selects the user's primary group.  DZ_ENOTFOUND naming the user
 * or group when it does not exist; DZ_EINVAL when a name is empty or too
 * long; DZ_EIO when the lookup itself fails.
 */
dz_result_t dz_privdrop_resolve(const char *user, const char *group, dz_privdrop_target_t *out,
				dz_error_t *err);

/*
 * Switch this process to `target`: chroot to `chroot_dir` when it is not
 * NULL, then setgroups, setresgid and setresuid, logging one line per
 * step prefixed with `who` ("DNS server process").  Then
 * dz_privdrop_check().  The process must run as root, unless it already
 * runs as the target user and group and no chroot is requested: then
 * nothing changes and DZ_OK is returned.  DZ_EPERM naming the failed step
 * and what to do; the process must then exit, because it may be half
 * switched.
 */
dz_result_t dz_privdrop_apply(const dz_privdrop_target_t *target, const char *chroot_dir,
			      const char *who, dz_error_t *err);

/*
 * Verify that the real, effective and saved user and group ids are
 * `uid` and `gid`, that `gid` is the only supplementary group (when `uid`
 * is not 0), and that becoming root again fails.  Skips the last check
 * when `uid` is 0.  DZ_EPERM saying which id is wrong.
 */
dz_result_t dz_privdrop_check(uid_t uid, gid_t gid, dz_error_t *err);

/*
 * Reject running as root after start-up: DZ_EPERM with a message that
 * names the configuration keys to set, when the effective user id is 0
 * and `allow_root` is false.  With `allow_root`, logs a warning instead.
 * `who` names the process, `user_key` the key that sets its user
 * ("server.user" or "server.dns-user").
 */
dz_result_t dz_privdrop_refuse_root(bool allow_root, const char *who, const char *user_key,
				    dz_error_t *err);

#endif
