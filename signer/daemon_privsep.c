/*
 * daemon_privsep.c -- who each danezoned process runs as, and the state
 * folder layout that keeps key state away from the DNS server process.
 *
 * Processes (doc/danezoned.8 describes them for the administrator):
 *   parent           started as root, opens sockets and files, then
 *                    switches to server.user / server.group
 *   signer processes log in to the token as root, then switch to
 *                    server.user (hsm/sign_service.h)
 *   DNS server       runs as server.dns-user, or server.user without it,
 *                    in server.chroot when set (signer/server_proc.h)
 *
 * Layout applied before the parent switches, when it runs as root and
 * server.user is set:
 *   STATE-DIR                 owner server.user, mode 0711: others may pass
 *                             through to the zone folders, not list it
 *   STATE-DIR/keystate        mode 0700
 *   other folders in STATE-DIR mode 0700 (the TLSA rollover state, for
 *                             example), unless a zone publishes there
 *   other files in STATE-DIR  owner server.user and its group; key
 *                             registries and the audit log are 0640, so
 *                             server.dns-user, outside that group, cannot
 *                             read them
 *   each zone output folder   owner server.user, group of server.dns-user,
 *                             mode 2750: the published files (journal,
 *                             snapshot, zone text) are readable by the DNS
 *                             server process and new files get that group
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/privdrop.h"
#include "keystore/state_file.h"
#include "signer/daemon.h"

/* Descriptors nftw() may keep open while it walks the state folder. */
#define WALK_FDS 16

bool
daemon_privsep_allow_root(const dz_daemon_t *d)
{
	return d->allow_root || d->config->server.allow_root;
}

dz_result_t
daemon_privsep_check_root(const dz_daemon_t *d, dz_error_t *err)
{
	if (d->config->server.user != NULL)
		return DZ_OK;
	return dz_privdrop_refuse_root(daemon_privsep_allow_root(d), "danezoned", "server.user",
				       err);
}

dz_result_t
daemon_privsep_signer_target(const dz_daemon_t *d, dz_privdrop_target_t *out, bool *has_target,
			     dz_error_t *err)
{
	const dz_config_server_t *server = &d->config->server;

	*has_target = false;
	if (server->user == NULL || geteuid() != 0)
		return DZ_OK;
	dz_result_t result = dz_privdrop_resolve(server->user, server->group, out, err);
	if (result != DZ_OK)
		return dz_error_prefix(err, "server.user");
	*has_target = true;
	return DZ_OK;
}

/* nftw() has no context argument: the owner of the walk in progress. */
static uid_t walk_uid;
static gid_t walk_gid;
static size_t walk_changed;
static dz_error_t *walk_err;

static int
give_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type != FTW_F && type != FTW_D && type != FTW_DP)
		return 0;
	/* Sockets (give_control_socket()), links and other special files stay as they are. */
	if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode))
		return 0;
	if (st->st_uid == walk_uid && st->st_gid == walk_gid)
		return 0;
	if (lchown(path, walk_uid, walk_gid) != 0) {
		dz_error_set(walk_err, DZ_EPERM, "cannot give %s to uid %lu: %s", path,
			     (unsigned long)walk_uid, strerror(errno));
		return 1;
	}
	walk_changed++;
	return 0;
}

/* Give every folder and regular file below `path` to uid/gid. */
static dz_result_t
give_tree(const char *path, uid_t uid, gid_t gid, size_t *changed, dz_error_t *err)
{
	walk_uid = uid;
	walk_gid = gid;
	walk_changed = 0;
	walk_err = err;
	int rc = nftw(path, give_entry, WALK_FDS, FTW_PHYS | FTW_MOUNT);
	*changed = walk_changed;
	if (rc > 0)
		return err != NULL ? err->code : DZ_EPERM;
	if (rc < 0 && errno != ENOENT)
		return dz_error_set(err, DZ_EIO, "cannot walk %s: %s", path, strerror(errno));
	return DZ_OK;
}

static dz_result_t
set_mode(const char *path, mode_t mode, dz_error_t *err)
{
	if (chmod(path, mode) != 0 && errno != ENOENT)
		return dz_error_set(err, DZ_EPERM, "cannot set mode %04o on %s: %s", (unsigned)mode,
				    path, strerror(errno));
	return DZ_OK;
}

/* Whether `path` is the folder of some zone's published files. */
static bool
is_output_folder(const dz_daemon_t *d, const char *path)
{
	for (size_t i = 0; i < d->zone_count; i++) {
		const char *text_path = d->zones[i]->target.text_path;
		const char *slash = strrchr(text_path, '/');
		size_t len = slash != NULL ? (size_t)(slash - text_path) : 0;
		if (strlen(path) == len && strncmp(path, text_path, len) == 0)
			return true;
	}
	return false;
}

/* Close every folder directly in STATE-DIR to others, except the zones' output folders. */
static dz_result_t
close_state_folders(const dz_daemon_t *d, const char *state, dz_error_t *err)
{
	DIR *dir = opendir(state);
	struct dirent *entry;
	dz_result_t result = DZ_OK;

	if (dir == NULL)
		return dz_error_set(err, DZ_EIO, "cannot list the state folder %s: %s", state,
				    strerror(errno));
	while (result == DZ_OK && (entry = readdir(dir)) != NULL) {
		char path[PATH_MAX];
		struct stat st;

		if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", state, entry->d_name) >= (int)sizeof(path))
			continue;
		if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode) || is_output_folder(d, path))
			continue;
		result = set_mode(path, 0700, err);
	}
	closedir(dir);
	return result;
}

/* Apply the layout of the file header; `dns_gid` is the DNS server process's group. */
static dz_result_t
prepare_state(const dz_daemon_t *d, const dz_privdrop_target_t *target, gid_t dns_gid,
	      dz_error_t *err)
{
	const char *state = d->config->server.state_dir;
	size_t changed = 0;
	char *keys = NULL;
	dz_result_t result = give_tree(state, target->uid, target->gid, &changed, err);

	if (result == DZ_OK)
		result = set_mode(state, 0711, err);
	if (result == DZ_OK && (keys = malloc(strlen(state) + sizeof("/" DZ_KEY_STATE_SUBDIR))) ==
				       NULL)
		result = dz_error_set(err, DZ_ENOMEM, "out of memory");
	if (result == DZ_OK) {
		sprintf(keys, "%s/" DZ_KEY_STATE_SUBDIR, state);
		result = set_mode(keys, 0700, err);
	}
	free(keys);
	if (result == DZ_OK)
		result = close_state_folders(d, state, err);
	if (result == DZ_OK && changed > 0)
		dz_log(DZ_LOG_INFO, "state folder %s: gave %zu files and folders to user %s, so "
		       "that the daemon can write them after it drops root", state, changed,
		       target->user);

	for (size_t i = 0; result == DZ_OK && i < d->zone_count; i++) {
		const char *text_path = d->zones[i]->target.text_path;
		char *copy = strdup(text_path);
		if (copy == NULL) {
			result = dz_error_set(err, DZ_ENOMEM, "out of memory");
			break;
		}
		const char *folder = dirname(copy);
		result = give_tree(folder, target->uid, dns_gid, &changed, err);
		if (result == DZ_OK)
			result = set_mode(folder, 02750, err);
		if (result == DZ_OK && changed > 0)
			dz_log_zone(DZ_LOG_INFO, d->zones[i]->conf->name,
				    "published files in %s readable by the DNS server process's "
				    "group, not by others", folder);
		free(copy);
	}
	return result;
}

/* Resolve server.user, and the DNS server process's group into *dns_gid. */
static dz_result_t
resolve_targets(const dz_daemon_t *d, dz_privdrop_target_t *target, gid_t *dns_gid,
		dz_error_t *err)
{
	const dz_config_server_t *server = &d->config->server;
	dz_privdrop_target_t dns;
	dz_result_t result = dz_privdrop_resolve(server->user, server->group, target, err);

	if (result != DZ_OK)
		return dz_error_prefix(err, "server.user");
	*dns_gid = target->gid;
	if (server->dns_user != NULL) {
		result = dz_privdrop_resolve(server->dns_user, NULL, &dns, err);
		if (result != DZ_OK)
			return dz_error_prefix(err, "server.dns-user");
		if (dns.gid == target->gid || dns.uid == target->uid)
			return dz_error_set(err, DZ_ECONFIG,
					    "server.dns-user %s shares the user or group %s of "
					    "server.user %s, so it could read the key files; give "
					    "the DNS server process a user and group of its own",
					    dns.user, dns.group, target->user);
		*dns_gid = dns.gid;
	}
	return DZ_OK;
}

dz_result_t
daemon_privsep_prepare(dz_daemon_t *d, dz_error_t *err)
{
	dz_privdrop_target_t target;
	gid_t dns_gid;

	if (d->config->server.user == NULL || geteuid() != 0)
		return DZ_OK;
	dz_result_t result = resolve_targets(d, &target, &dns_gid, err);
	if (result != DZ_OK)
		return result;
	return prepare_state(d, &target, dns_gid, err);
}

/*
 * Give the control socket, created by root, to the daemon's user, so that
 * the peers its check accepts (root, the daemon's user, the socket's
 * group) can open it.  Its group stays server.group, or root's without it.
 */
static dz_result_t
give_control_socket(const dz_daemon_t *d, const dz_privdrop_target_t *target, dz_error_t *err)
{
	const char *path = d->config->server.control_socket;
	struct stat st;

	if (path == NULL || lstat(path, &st) != 0 || !S_ISSOCK(st.st_mode) ||
	    st.st_uid == target->uid)
		return DZ_OK;
	if (lchown(path, target->uid, (gid_t)-1) != 0)
		return dz_error_set(err, DZ_EPERM, "cannot give the control socket %s to user %s: %s",
				    path, target->user, strerror(errno));
	return DZ_OK;
}

dz_result_t
daemon_privsep_drop(dz_daemon_t *d, dz_error_t *err)
{
	dz_privdrop_target_t target;
	gid_t dns_gid;

	if (d->config->server.user == NULL)
		return daemon_privsep_check_root(d, err);
	dz_result_t result = resolve_targets(d, &target, &dns_gid, err);
	if (result == DZ_OK && geteuid() == 0)
		result = give_control_socket(d, &target, err);
	if (result != DZ_OK)
		return result;
	/*
	 * The control socket, made by root, gets the daemon's user and keeps
	 * its group, so that the peers the control check accepts can connect.
	 */
	const char *control = d->config->server.control_socket;
	if (control != NULL && geteuid() == 0 && lchown(control, target.uid, (gid_t)-1) != 0)
		return dz_error_set(err, DZ_EPERM, "cannot give the control socket %s to user %s: %s",
				    control, target.user, strerror(errno));
	return dz_privdrop_apply(&target, NULL, "danezoned", err);
}
