#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "common/log.h"
#include "signer/control.h"
#include "signer/ratelog.h"

#define LISTEN_BACKLOG 16

/* Upper bound of the supplementary groups read with SO_PEERGROUPS (Linux NGROUPS_MAX). */
#define PEER_GROUPS_MAX 65536

typedef struct control_conn {
	dz_control_t *control;
	struct bufferevent *bev;
	int fd;
	struct control_conn *prev;
	struct control_conn *next;
	char peer[64]; /* "uid 1000 pid 4242", for log lines */
	bool eof;      /* the peer closed its side; finish the queued responses */
} control_conn_t;

struct dz_control {
	struct event_base *base;
	char *path;
	int listen_fd;
	struct event *listen_event;
	dev_t socket_dev; /* identity of the socket file, so destroy removes only ours */
	ino_t socket_ino;
	gid_t group;	  /* group of the socket file; its members may connect */
	const dz_control_command_t *commands;
	size_t command_count;
	void *ctx;
	unsigned idle_ms;
	unsigned clients_max;
	control_conn_t *conns;
	size_t conn_count;
	dz_ratelog_t log_rejected;
	dz_ratelog_t log_limit;
	dz_ratelog_t log_malformed;
	dz_ratelog_t log_idle;
};

static int64_t
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

/* ---- connections ----------------------------------------------------------- */

static void
conn_close(control_conn_t *conn)
{
	dz_control_t *control = conn->control;

	/*
	 * libevent 2.1 frees a bufferevent in a finalizer that runs in the
	 * loop, so the socket is closed here: a daemon that destroys the
	 * server after its loop ended still ends its connections.
	 */
	bufferevent_free(conn->bev);
	close(conn->fd);
	if (conn->prev != NULL)
		conn->prev->next = conn->next;
	else
		control->conns = conn->next;
	if (conn->next != NULL)
		conn->next->prev = conn->prev;
	control->conn_count--;
	free(conn);
}

/* Log why the connection breaks the protocol and close it. */
static void
conn_reject_input(control_conn_t *conn, const char *reason)
{
	dz_ratelog(&conn->control->log_malformed, now_seconds(), DZ_LOG_WARNING,
		   "control: closed the connection of %s: %s", conn->peer, reason);
	conn_close(conn);
}

static const dz_control_command_t *
find_command(const dz_control_t *control, const char *name)
{
	for (size_t i = 0; i < control->command_count; i++) {
		if (strcmp(control->commands[i].name, name) == 0)
			return &control->commands[i];
	}
	return NULL;
}

/* Run the request's command and append its response frame to `frame`. */
static dz_result_t
dispatch(dz_control_t *control, const char *peer, int argc, char **argv, dz_buf_t *frame)
{
	const dz_control_command_t *command = find_command(control, argv[0]);
	dz_error_t err;
	dz_buf_t output;
	dz_result_t result;

	dz_error_init(&err);
	dz_buf_init(&output);
	if (command == NULL) {
		dz_buf_printf(&output, "unknown command '%s'; the commands are:", argv[0]);
		for (size_t i = 0; i < control->command_count; i++)
			dz_buf_printf(&output, "%s %s", i > 0 ? "," : "", control->commands[i].name);
		result = dz_control_format_error(frame, DZ_ENOTFOUND,
					       output.data != NULL ? (char *)output.data : "");
		dz_log(DZ_LOG_INFO, "control: %s sent the unknown command '%s'", peer, argv[0]);
		dz_buf_clear(&output);
		return result;
	}
	if (argc - 1 < command->min_args || argc - 1 > command->max_args) {
		dz_error_set(&err, DZ_EINVAL, "wrong number of arguments (%d); usage: %s%s%s", argc - 1,
			     command->name, command->usage[0] != '\0' ? " " : "", command->usage);
		dz_log(DZ_LOG_INFO, "control: %s sent '%s' with %d arguments", peer, command->name,
		       argc - 1);
		return dz_control_format_error(frame, DZ_EINVAL, dz_error_message(&err));
	}

	result = command->handler(control->ctx, argc, argv, &output, &err);
	if (result == DZ_OK && output.len > DZ_CONTROL_RESPONSE_MAX - 3) {
		dz_error_set(&err, DZ_ETOOBIG,
			     "the output of '%s' is %zu bytes, over the limit of %d bytes of a "
			     "response",
			     command->name, output.len, DZ_CONTROL_RESPONSE_MAX);
		result = DZ_ETOOBIG;
	}
	if (result == DZ_OK) {
		dz_log(DZ_LOG_INFO, "control: %s ran '%s'", peer, command->name);
		if (dz_buf_append_u32(frame, (uint32_t)(output.len + 3)) != DZ_OK ||
		    dz_buf_append(frame, "ok\n", 3) != DZ_OK ||
		    dz_buf_append(frame, output.data, output.len) != DZ_OK)
			result = DZ_ENOMEM;
	} else {
		dz_log(DZ_LOG_INFO, "control: %s ran '%s': %s", peer, command->name,
		       dz_error_message(&err));
		result = dz_control_format_error(frame, result, dz_error_message(&err));
	}
	dz_buf_clear(&output);
	return result;
}

/*
 * Handle the complete requests in the input, one at a time, while no
 * response is waiting to be sent.  Returns false when it closed the
 * connection.
 */
static bool
conn_process(control_conn_t *conn)
{
	struct evbuffer *input = bufferevent_get_input(conn->bev);
	struct evbuffer *output = bufferevent_get_output(conn->bev);
	char reason[DZ_ERROR_MESSAGE_MAX + 64];

	while (evbuffer_get_length(output) == 0) {
		size_t available = evbuffer_get_length(input);
		uint8_t header[4];

		if (available < sizeof(header))
			return true;
		evbuffer_copyout(input, header, sizeof(header));
		uint32_t len = (uint32_t)header[0] << 24 | (uint32_t)header[1] << 16 |
			       (uint32_t)header[2] << 8 | header[3];
		if (len == 0) {
			conn_reject_input(conn, "empty frame");
			return false;
		}
		if (len > DZ_CONTROL_REQUEST_MAX) {
			snprintf(reason, sizeof(reason),
				 "frame of %u bytes is over the limit of %d bytes of a request", len,
				 DZ_CONTROL_REQUEST_MAX);
			conn_reject_input(conn, reason);
			return false;
		}
		if (available < sizeof(header) + len)
			return true;

		uint8_t *text = malloc(len);
		if (text == NULL) {
			conn_reject_input(conn, "out of memory for the request");
			return false;
		}
		evbuffer_drain(input, sizeof(header));
		evbuffer_remove(input, text, len);

		dz_error_t err;
		int argc;
		char **argv;
		dz_error_init(&err);
		dz_result_t result = dz_control_parse_request(text, len, &argc, &argv, &err);
		free(text);
		if (result != DZ_OK) {
			snprintf(reason, sizeof(reason), "malformed request: %s",
				 dz_error_message(&err));
			conn_reject_input(conn, reason);
			return false;
		}

		dz_buf_t frame;
		dz_buf_init(&frame);
		result = dispatch(conn->control, conn->peer, argc, argv, &frame);
		free(argv);
		if (result != DZ_OK || bufferevent_write(conn->bev, frame.data, frame.len) != 0) {
			dz_buf_clear(&frame);
			conn_reject_input(conn, "out of memory for the response");
			return false;
		}
		dz_buf_clear(&frame);
	}
	return true;
}

/* After the peer's EOF, close once every response is sent. */
static void
conn_finish_if_done(control_conn_t *conn)
{
	size_t left = evbuffer_get_length(bufferevent_get_input(conn->bev));
	char reason[96];

	if (!conn->eof || evbuffer_get_length(bufferevent_get_output(conn->bev)) > 0)
		return;
	if (left > 0) {
		snprintf(reason, sizeof(reason),
			 "it ended the connection inside a frame (%zu bytes of it received)", left);
		conn_reject_input(conn, reason);
		return;
	}
	dz_log(DZ_LOG_DEBUG, "control: %s closed the connection", conn->peer);
	conn_close(conn);
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	conn_process(arg);
}

static void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	control_conn_t *conn = arg;

	(void)bev;
	if (conn_process(conn))
		conn_finish_if_done(conn);
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	control_conn_t *conn = arg;
	dz_control_t *control = conn->control;

	(void)bev;
	if (what & BEV_EVENT_EOF) {
		conn->eof = true;
		bufferevent_disable(conn->bev, EV_READ);
		if (conn_process(conn))
			conn_finish_if_done(conn);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		dz_ratelog(&control->log_idle, now_seconds(), DZ_LOG_INFO,
			   "control: closed the connection of %s: idle for %u ms", conn->peer,
			   control->idle_ms);
		conn_close(conn);
		return;
	}
	dz_log(DZ_LOG_INFO, "control: connection of %s failed: %s", conn->peer,
	       strerror(EVUTIL_SOCKET_ERROR()));
	conn_close(conn);
}

/* ---- peer check ------------------------------------------------------------ */

/* Whether `group` is among the supplementary groups of the peer (SO_PEERGROUPS, Linux 4.13). */
static bool
peer_groups_contain(int fd, uid_t uid, gid_t primary, gid_t group)
{
	bool found = false;
#ifdef SO_PEERGROUPS
	gid_t small[64];
	gid_t *groups = small;
	socklen_t len = sizeof(small);
	int rc = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len);

	if (rc != 0 && errno == ERANGE && len <= PEER_GROUPS_MAX * sizeof(gid_t)) {
		groups = malloc(len);
		rc = groups != NULL ? getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) : -1;
	}
	for (size_t i = 0; rc == 0 && i < len / sizeof(gid_t); i++) {
		if (groups[i] == group)
			found = true;
	}
	if (groups != small)
		free(groups);
	if (rc == 0)
		return found;
#endif
	/* Without SO_PEERGROUPS, or when it fails: the groups the user database gives the peer's user. */
	struct passwd pw, *result = NULL;
	char text[4096];
	if (getpwuid_r(uid, &pw, text, sizeof(text), &result) != 0 || result == NULL)
		return false;
	int count = 64;
	gid_t *list = malloc((size_t)count * sizeof(gid_t));
	if (list != NULL && getgrouplist(pw.pw_name, primary, list, &count) == -1) {
		gid_t *grown = realloc(list, (size_t)count * sizeof(gid_t));
		if (grown == NULL || getgrouplist(pw.pw_name, primary, grown, &count) == -1)
			count = 0;
		list = grown;
	}
	for (int i = 0; list != NULL && i < count; i++) {
		if (list[i] == group)
			found = true;
	}
	free(list);
	return found;
}

static void
group_text(gid_t gid, char *out, size_t size)
{
	struct group gr, *result = NULL;
	char text[4096];

	if (getgrgid_r(gid, &gr, text, sizeof(text), &result) == 0 && result != NULL)
		snprintf(out, size, "%s", gr.gr_name);
	else
		snprintf(out, size, "%u", (unsigned)gid);
}

/*
 * Check the peer of `fd` and describe it in `peer`.  A rejected peer gets
 * one error response, written without waiting, before the caller closes.
 */
static bool
peer_allowed(dz_control_t *control, int fd, char *peer, size_t peer_size)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char group[64], text[256];

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
		dz_ratelog(&control->log_rejected, now_seconds(), DZ_LOG_WARNING,
			   "control: rejected a connection: cannot read its credentials "
			   "(SO_PEERCRED): %s",
			   strerror(errno));
		return false;
	}
	snprintf(peer, peer_size, "uid %u pid %ld", (unsigned)cred.uid, (long)cred.pid);
	if (cred.uid == 0 || cred.uid == geteuid() || cred.gid == control->group ||
	    peer_groups_contain(fd, cred.uid, cred.gid, control->group))
		return true;

	group_text(control->group, group, sizeof(group));
	dz_ratelog(&control->log_rejected, now_seconds(), DZ_LOG_WARNING,
		   "control: rejected the connection of %s: not root, not the daemon's user and "
		   "not in group %s",
		   peer, group);
	snprintf(text, sizeof(text),
		 "uid %u may not use the control socket of danezoned; root, the daemon's user "
		 "and members of group %s may",
		 (unsigned)cred.uid, group);
	dz_buf_t frame;
	dz_buf_init(&frame);
	if (dz_control_format_error(&frame, DZ_EPERM, text) == DZ_OK) {
		/* Best effort: a short frame fits in an empty socket buffer. */
		ssize_t sent = send(fd, frame.data, frame.len, MSG_NOSIGNAL | MSG_DONTWAIT);
		(void)sent;
	}
	dz_buf_clear(&frame);
	return false;
}

/* ---- server ---------------------------------------------------------------- */

dz_result_t
dz_control_adopt(dz_control_t *control, int fd, dz_error_t *err)
{
	char peer[64];

	if (!peer_allowed(control, fd, peer, sizeof(peer))) {
		close(fd);
		return dz_error_set(err, DZ_EPERM, "control connection rejected by the peer check");
	}
	if (control->conn_count >= control->clients_max) {
		dz_ratelog(&control->log_limit, now_seconds(), DZ_LOG_WARNING,
			   "control: closed the connection of %s: the limit of %u connections is "
			   "reached",
			   peer, control->clients_max);
		close(fd);
		return dz_error_set(err, DZ_EBUSY, "the limit of %u control connections is reached",
				    control->clients_max);
	}
	control_conn_t *conn = calloc(1, sizeof(*conn));
	if (conn == NULL) {
		close(fd);
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	}
	if (evutil_make_socket_nonblocking(fd) != 0 ||
	    (conn->bev = bufferevent_socket_new(control->base, fd, 0)) == NULL) {
		close(fd);
		free(conn);
		return dz_error_set(err, DZ_ENOMEM, "cannot set up a control connection");
	}
	conn->control = control;
	conn->fd = fd;
	snprintf(conn->peer, sizeof(conn->peer), "%s", peer);

	struct timeval idle = { .tv_sec = control->idle_ms / 1000,
				.tv_usec = (control->idle_ms % 1000) * 1000 };
	bufferevent_setcb(conn->bev, conn_read_cb, conn_write_cb, conn_event_cb, conn);
	/* Stop reading while a request of the maximum size is buffered. */
	bufferevent_setwatermark(conn->bev, EV_READ, 0, 4 + DZ_CONTROL_REQUEST_MAX);
	bufferevent_set_timeouts(conn->bev, &idle, &idle);
	bufferevent_enable(conn->bev, EV_READ | EV_WRITE);

	conn->next = control->conns;
	if (control->conns != NULL)
		control->conns->prev = conn;
	control->conns = conn;
	control->conn_count++;
	dz_log(DZ_LOG_DEBUG, "control: connection of %s", peer);
	return DZ_OK;
}

static void
accept_cb(evutil_socket_t listen_fd, short what, void *arg)
{
	dz_control_t *control = arg;

	(void)what;
	/* A bounded number per wakeup, so that a flood cannot hold the loop. */
	for (int i = 0; i < LISTEN_BACKLOG; i++) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				dz_ratelog(&control->log_limit, now_seconds(), DZ_LOG_WARNING,
					   "control: accept on %s failed: %s", control->path,
					   strerror(errno));
			return;
		}
		dz_control_adopt(control, fd, NULL);
	}
}

/*
 * Remove a stale socket at `path`: one on which connect() is refused.
 * DZ_EBUSY when a process accepts connections there.
 */
static dz_result_t
remove_stale_socket(const char *path, const struct sockaddr_un *address, dz_error_t *err)
{
	struct stat st;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return DZ_OK;
		return dz_error_set(err, DZ_EIO, "cannot check the control socket path %s: %s", path,
				    strerror(errno));
	}
	if (!S_ISSOCK(st.st_mode))
		return dz_error_set(err, DZ_EEXIST,
				    "%s exists and is not a socket; remove it or set "
				    "server.control-socket to another path",
				    path);

	int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (probe < 0)
		return dz_error_set(err, DZ_EIO, "cannot create a unix socket: %s", strerror(errno));
	int rc = connect(probe, (const struct sockaddr *)address, sizeof(*address));
	int connect_errno = errno;
	close(probe);
	if (rc == 0 || connect_errno == EAGAIN)
		return dz_error_set(err, DZ_EBUSY,
				    "another danezoned is running: a process answers on the control "
				    "socket %s; stop it first",
				    path);
	if (connect_errno != ECONNREFUSED)
		return dz_error_set(err, DZ_EIO, "cannot check the existing control socket %s: %s",
				    path, strerror(connect_errno));
	if (unlink(path) != 0 && errno != ENOENT)
		return dz_error_set(err, DZ_EIO, "cannot remove the stale control socket %s: %s", path,
				    strerror(errno));
	dz_log(DZ_LOG_NOTICE, "control: removed the stale socket %s: nothing listened on it", path);
	return DZ_OK;
}

/* Bind, set the group and mode, and listen; fills the identity fields of control. */
static dz_result_t
open_socket(dz_control_t *control, const char *path, mode_t mode, gid_t group, dz_error_t *err)
{
	struct sockaddr_un address;
	struct stat st;
	dz_result_t result;

	memset(&address, 0, sizeof(address));
	address.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(address.sun_path))
		return dz_error_set(err, DZ_EINVAL,
				    "control socket path %s is %zu bytes, over the limit of %zu of a "
				    "unix socket; set a shorter server.control-socket",
				    path, strlen(path), sizeof(address.sun_path) - 1);
	memcpy(address.sun_path, path, strlen(path));

	result = remove_stale_socket(path, &address, err);
	if (result != DZ_OK)
		return result;

	control->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (control->listen_fd < 0)
		return dz_error_set(err, DZ_EIO, "cannot create a unix socket: %s", strerror(errno));

	/* Nobody may connect before the mode and group are set. */
	mode_t old_umask = umask(0177);
	int rc = bind(control->listen_fd, (const struct sockaddr *)&address, sizeof(address));
	int bind_errno = errno;
	umask(old_umask);
	if (rc != 0)
		return dz_error_set(err, bind_errno == EACCES ? DZ_EPERM : DZ_EIO,
				    "cannot create the control socket %s: %s", path,
				    strerror(bind_errno));
	control->path = strdup(path);
	if (control->path == NULL || stat(path, &st) != 0) {
		unlink(path);
		return dz_error_set(err, DZ_ENOMEM, "cannot read the new control socket %s", path);
	}
	control->socket_dev = st.st_dev;
	control->socket_ino = st.st_ino;

	if (group != (gid_t)-1 && chown(path, (uid_t)-1, group) != 0)
		return dz_error_set(err, errno == EPERM ? DZ_EPERM : DZ_EIO,
				    "cannot give the control socket %s the group %u: %s; the daemon "
				    "must start as root or as a member of that group",
				    path, (unsigned)group, strerror(errno));
	if (chmod(path, mode) != 0)
		return dz_error_set(err, DZ_EIO, "cannot set mode %04o on the control socket %s: %s",
				    (unsigned)mode, path, strerror(errno));
	if (stat(path, &st) != 0)
		return dz_error_set(err, DZ_EIO, "cannot read the control socket %s: %s", path,
				    strerror(errno));
	control->group = st.st_gid;
	if (listen(control->listen_fd, LISTEN_BACKLOG) != 0)
		return dz_error_set(err, DZ_EIO, "cannot listen on the control socket %s: %s", path,
				    strerror(errno));

	control->listen_event = event_new(control->base, control->listen_fd, EV_READ | EV_PERSIST,
					  accept_cb, control);
	if (control->listen_event == NULL || event_add(control->listen_event, NULL) != 0)
		return dz_error_set(err, DZ_ENOMEM, "cannot watch the control socket %s", path);
	return DZ_OK;
}

dz_result_t
dz_control_create(struct event_base *base, const char *path, mode_t mode, gid_t group,
		  const dz_control_command_t *commands, size_t count, void *ctx,
		  dz_control_t **out, dz_error_t *err)
{
	dz_control_t *control = calloc(1, sizeof(*control));

	*out = NULL;
	if (control == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	control->base = base;
	control->listen_fd = -1;
	control->commands = commands;
	control->command_count = count;
	control->ctx = ctx;
	control->idle_ms = DZ_CONTROL_IDLE_MS_DEFAULT;
	control->clients_max = DZ_CONTROL_CLIENTS_DEFAULT;
	control->group = group != (gid_t)-1 ? group : getegid();
	if (path != NULL) {
		dz_result_t result = open_socket(control, path, mode, group, err);
		if (result != DZ_OK) {
			dz_control_destroy(control);
			return result;
		}
		dz_log(DZ_LOG_INFO, "control: listening on %s (mode %04o)", path, (unsigned)mode);
	}
	*out = control;
	return DZ_OK;
}

void
dz_control_destroy(dz_control_t *control)
{
	struct stat st;

	if (control == NULL)
		return;
	while (control->conns != NULL) {
		control_conn_t *conn = control->conns;
		struct evbuffer *output = bufferevent_get_output(conn->bev);
		/* A socket bufferevent keeps the start of its output frozen outside its own writes. */
		if (evbuffer_get_length(output) > 0 && evbuffer_unfreeze(output, 1) == 0)
			evbuffer_write(output, conn->fd);
		conn_close(conn);
	}
	if (control->listen_event != NULL)
		event_free(control->listen_event);
	if (control->listen_fd >= 0)
		close(control->listen_fd);
	/* Remove the file only while it is still our socket, not one a later daemon made. */
	if (control->path != NULL && lstat(control->path, &st) == 0 &&
	    st.st_dev == control->socket_dev && st.st_ino == control->socket_ino)
		unlink(control->path);
	free(control->path);
	free(control);
}

void
dz_control_set_limits(dz_control_t *control, unsigned idle_ms, unsigned clients_max)
{
	if (idle_ms > 0)
		control->idle_ms = idle_ms;
	if (clients_max > 0)
		control->clients_max = clients_max;
}

size_t
dz_control_connection_count(const dz_control_t *control)
{
	return control->conn_count;
}

const char *
dz_control_path(const dz_control_t *control)
{
	return control->path;
}
