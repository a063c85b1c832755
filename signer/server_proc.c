/*
 * server_proc.c -- the DNS server process: the parent side (start, watch,
 * restart, messages) and the child's main loop.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/privdrop.h"
#include "signer/server.h"
#include "signer/server_proc.h"

#define WHO "DNS server process"
/* Time the child gets to exit after STOP before it is killed. */
#define STOP_TIMEOUT_MS 10000
/* A message the child does not take within this time means it is stuck: it is killed. */
#define SEND_TIMEOUT_MS 5000

struct dz_server_proc {
	struct event_base *base;
	dz_server_sockets_t sockets;
	dz_server_address_t *listen; /* the addresses of the start, for reconfigure */
	size_t listen_count;
	dz_buf_t config;	     /* CONFIG body of the current configuration */
	char *user;
	char *group;
	char *chroot;
	bool allow_root;
	bool has_target;
	dz_privdrop_target_t target;

	pid_t pid;		     /* 0 while no child runs */
	int fd;			     /* our end of the socketpair, -1 while no child runs */
	struct event *child_event;   /* READY and end of file from the child */
	struct event *restart_timer;
	unsigned backoff_ms;
	struct timespec started;     /* CLOCK_MONOTONIC start of the current child */
	uint8_t input[DZ_SERVER_PROC_HEADER_LEN + 2 + DZ_SERVER_PROC_TEXT_MAX];
	size_t input_len;
};

static double
monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
encode_header(uint8_t header[DZ_SERVER_PROC_HEADER_LEN], dz_server_proc_msg_type_t type,
	      size_t body_len)
{
	header[0] = (uint8_t)type;
	header[1] = header[2] = header[3] = 0;
	header[4] = (uint8_t)(body_len >> 24);
	header[5] = (uint8_t)(body_len >> 16);
	header[6] = (uint8_t)(body_len >> 8);
	header[7] = (uint8_t)body_len;
}

/* Largest body each type may carry. */
static size_t
body_max(dz_server_proc_msg_type_t type)
{
	switch (type) {
	case DZ_SERVER_PROC_MSG_ZONE: return DZ_SERVER_PROC_NAME_MAX;
	case DZ_SERVER_PROC_MSG_CONFIG: return DZ_SERVER_PROC_CONFIG_MAX;
	case DZ_SERVER_PROC_MSG_STOP: return 0;
	case DZ_SERVER_PROC_MSG_READY: return 2 + DZ_SERVER_PROC_TEXT_MAX;
	}
	return 0;
}

/*
 * Check a header that `receiver_is_child` reads: the type must be one the
 * receiver accepts.  DZ_ESYNTAX naming the problem.
 */
static dz_result_t
decode_header(const uint8_t header[DZ_SERVER_PROC_HEADER_LEN], bool receiver_is_child,
	      dz_server_proc_msg_type_t *type, size_t *body_len, dz_error_t *err)
{
	uint8_t code = header[0];
	size_t len = (size_t)header[4] << 24 | (size_t)header[5] << 16 | (size_t)header[6] << 8 |
		     header[7];
	bool known = receiver_is_child ? code >= DZ_SERVER_PROC_MSG_ZONE &&
						 code <= DZ_SERVER_PROC_MSG_STOP
				       : code == DZ_SERVER_PROC_MSG_READY;

	if (!known)
		return dz_error_set(err, DZ_ESYNTAX, "unknown message type %u", code);
	if (header[1] != 0 || header[2] != 0 || header[3] != 0)
		return dz_error_set(err, DZ_ESYNTAX, "reserved header bytes are not zero");
	if (len > body_max((dz_server_proc_msg_type_t)code))
		return dz_error_set(err, DZ_ESYNTAX, "message type %u has a body of %zu bytes, more "
				    "than its maximum %zu", code, len,
				    body_max((dz_server_proc_msg_type_t)code));
	*type = (dz_server_proc_msg_type_t)code;
	*body_len = len;
	return DZ_OK;
}

/* Whether `name` is a zone name a ZONE message may carry. */
static bool
valid_zone_name(const char *name, size_t len)
{
	if (len == 0 || len > DZ_SERVER_PROC_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (name[i] <= ' ' || name[i] > '~')
			return false;
	}
	return true;
}

static dz_result_t
write_all(int fd, const void *data, size_t len, dz_error_t *err)
{
	const uint8_t *p = data;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return dz_error_set(err, DZ_ETIMEOUT, "the " WHO " took no message for %d s",
					    SEND_TIMEOUT_MS / 1000);
		if (n < 0)
			return dz_error_set(err, DZ_EIO, "cannot write to the " WHO ": %s",
					    strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return DZ_OK;
}

static dz_result_t
send_message(int fd, dz_server_proc_msg_type_t type, const void *body, size_t len,
	     dz_error_t *err)
{
	uint8_t header[DZ_SERVER_PROC_HEADER_LEN];
	dz_result_t result;

	encode_header(header, type, len);
	result = write_all(fd, header, sizeof(header), err);
	if (result == DZ_OK && len > 0)
		result = write_all(fd, body, len, err);
	return result;
}

/*
 * The folder of a zone as the child sees it after chroot(chroot_dir):
 * its path below the chroot.  NULL when it lies outside.
 */
static const char *
path_below(const char *folder, const char *chroot_dir)
{
	size_t len = strlen(chroot_dir);

	while (len > 1 && chroot_dir[len - 1] == '/')
		len--;
	if (strncmp(folder, chroot_dir, len) != 0)
		return NULL;
	if (folder[len] == '\0')
		return "/";
	if (folder[len] != '/')
		return NULL;
	return folder + len;
}

static dz_result_t
check_chroot(const dz_server_config_t *config, const char *chroot_dir, dz_error_t *err)
{
	if (chroot_dir == NULL)
		return DZ_OK;
	for (size_t i = 0; i < config->zone_count; i++) {
		if (path_below(config->zones[i].folder, chroot_dir) == NULL)
			return dz_error_set(err, DZ_ECONFIG,
					    "zone %s: folder %s is outside server.chroot %s; put the "
					    "zone's output below the chroot or remove server.chroot",
					    config->zones[i].name, config->zones[i].folder, chroot_dir);
	}
	return DZ_OK;
}

/* ======================================================================== child */

typedef struct child {
	dz_server_proc_t *proc; /* the parent's handle, as copied by fork() */
	struct event_base *base;
	struct bufferevent *channel;
	dz_server_config_t *config; /* of `server`, which refers to it */
	dz_server_t *server;
	int status;
} child_t;

/* Close every inherited descriptor except 0-2, the channel and the listening sockets. */
static void
close_inherited(const dz_server_proc_t *proc, int channel)
{
	int keep[2 * 256 + 1];
	size_t count = 0;

	keep[count++] = channel;
	for (size_t i = 0; i < proc->sockets.count && count + 2 <= DZ_ARRAY_SIZE(keep); i++) {
		keep[count++] = proc->sockets.udp[i];
		keep[count++] = proc->sockets.tcp[i];
	}
	/* Insertion sort: a few descriptors. */
	for (size_t i = 1; i < count; i++) {
		for (size_t j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
			int swap = keep[j];
			keep[j] = keep[j - 1];
			keep[j - 1] = swap;
		}
	}
	unsigned first = 3;
	for (size_t i = 0; i < count; i++) {
		if ((unsigned)keep[i] > first)
			close_range(first, (unsigned)keep[i] - 1, 0);
		first = (unsigned)keep[i] + 1;
	}
	close_range(first, UINT_MAX, 0);
}

/* Rewrite each zone folder to its path below the chroot. */
static dz_result_t
relocate_folders(dz_server_config_t *config, const char *chroot_dir, dz_error_t *err)
{
	if (chroot_dir == NULL)
		return DZ_OK;
	for (size_t i = 0; i < config->zone_count; i++) {
		const char *below = path_below(config->zones[i].folder, chroot_dir);
		if (below == NULL)
			return check_chroot(config, chroot_dir, err);
		char *copy = strdup(below);
		if (copy == NULL)
			return dz_error_set(err, DZ_ENOMEM, "out of memory");
		free(config->zones[i].folder);
		config->zones[i].folder = copy;
	}
	return DZ_OK;
}

/* Decode a CONFIG body into a new server on the inherited sockets, replacing the running one. */
static void
free_config(dz_server_config_t *config)
{
	if (config == NULL)
		return;
	dz_server_config_clear(config);
	free(config);
}

static dz_result_t
child_apply_config(child_t *child, const uint8_t *body, size_t len, dz_error_t *err)
{
	dz_server_config_t *config = malloc(sizeof(*config));
	dz_server_t *server = NULL;

	if (config == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	dz_server_config_init(config);
	dz_result_t result = dz_server_proc_config_decode(body, len, config, err);
	if (result == DZ_OK)
		result = relocate_folders(config, child->proc->chroot, err);
	if (result == DZ_OK)
		result = dz_server_create_on(child->base, config, dz_clock_system(),
					     &child->proc->sockets, &server, err);
	if (result != DZ_OK) {
		free_config(config);
		return result;
	}
	/* The old server refers to the old configuration: free it first. */
	dz_server_destroy(child->server);
	free_config(child->config);
	child->config = config;
	child->server = server;
	return DZ_OK;
}

/* Handle one message; DZ_ESYNTAX for a malformed body, which ends the child. */
static dz_result_t
child_handle(child_t *child, dz_server_proc_msg_type_t type, const uint8_t *body, size_t len,
	     dz_error_t *err)
{
	switch (type) {
	case DZ_SERVER_PROC_MSG_ZONE: {
		char name[DZ_SERVER_PROC_NAME_MAX + 1];
		if (!valid_zone_name((const char *)body, len))
			return dz_error_set(err, DZ_ESYNTAX, "ZONE carries an invalid zone name");
		memcpy(name, body, len);
		name[len] = '\0';
		dz_error_t load_err;
		dz_error_init(&load_err);
		if (dz_server_zone_published(child->server, name, &load_err) != DZ_OK)
			dz_log_zone(DZ_LOG_ERROR, name, WHO ": cannot load the published files: %s",
				    dz_error_message(&load_err));
		return DZ_OK;
	}
	case DZ_SERVER_PROC_MSG_CONFIG: {
		dz_error_t config_err;
		dz_error_init(&config_err);
		dz_result_t result = child_apply_config(child, body, len, &config_err);
		if (result == DZ_ESYNTAX)
			return dz_error_set(err, DZ_ESYNTAX, "CONFIG: %s",
					    dz_error_message(&config_err));
		if (result != DZ_OK)
			dz_log(DZ_LOG_ERROR, WHO ": new configuration not applied, the old one "
			       "stays: %s", dz_error_message(&config_err));
		else
			dz_log(DZ_LOG_NOTICE, WHO ": new configuration applied");
		return DZ_OK;
	}
	case DZ_SERVER_PROC_MSG_STOP:
		dz_log(DZ_LOG_INFO, WHO ": stopping at the parent's request");
		child->status = 0;
		event_base_loopexit(child->base, NULL);
		return DZ_OK;
	case DZ_SERVER_PROC_MSG_READY:
		break;
	}
	return dz_error_set(err, DZ_ESYNTAX, "unexpected message type %u", type);
}

static void
child_fail(child_t *child, const char *what, const dz_error_t *err)
{
	dz_log(DZ_LOG_ERROR, WHO ": %s: %s; exiting", what, dz_error_message(err));
	child->status = 1;
	event_base_loopexit(child->base, NULL);
}

static void
child_read(struct bufferevent *bev, void *arg)
{
	child_t *child = arg;
	struct evbuffer *input = bufferevent_get_input(bev);
	uint8_t header[DZ_SERVER_PROC_HEADER_LEN];
	dz_error_t err;

	while (evbuffer_get_length(input) >= sizeof(header)) {
		dz_server_proc_msg_type_t type;
		size_t len = 0;
		dz_error_init(&err);
		evbuffer_copyout(input, header, sizeof(header));
		if (decode_header(header, true, &type, &len, &err) != DZ_OK) {
			child_fail(child, "malformed message from the parent", &err);
			return;
		}
		if (evbuffer_get_length(input) < sizeof(header) + len)
			return;
		evbuffer_drain(input, sizeof(header));
		const uint8_t *body = len > 0 ? evbuffer_pullup(input, (ev_ssize_t)len) : NULL;
		if (len > 0 && body == NULL) {
			dz_error_set(&err, DZ_ENOMEM, "out of memory");
			child_fail(child, "cannot read a message", &err);
			return;
		}
		dz_result_t result = child_handle(child, type, body, len, &err);
		evbuffer_drain(input, len);
		if (result != DZ_OK) {
			child_fail(child, "malformed message from the parent", &err);
			return;
		}
		if (type == DZ_SERVER_PROC_MSG_STOP)
			return;
	}
}

static void
child_event(struct bufferevent *bev, short what, void *arg)
{
	child_t *child = arg;

	(void)bev;
	/* A reset is an end of file too: the parent left a READY unread. */
	if ((what & BEV_EVENT_EOF) || EVUTIL_SOCKET_ERROR() == ECONNRESET)
		dz_log(DZ_LOG_NOTICE, WHO ": the parent closed the connection; exiting");
	else
		dz_log(DZ_LOG_ERROR, WHO ": reading from the parent failed: %s; exiting",
		       strerror(EVUTIL_SOCKET_ERROR()));
	child->status = 1;
	event_base_loopexit(child->base, NULL);
}

static void
report_ready(int fd, dz_result_t result, const char *message)
{
	uint8_t body[2 + DZ_SERVER_PROC_TEXT_MAX];
	size_t len = strlen(message);

	if (len > DZ_SERVER_PROC_TEXT_MAX)
		len = DZ_SERVER_PROC_TEXT_MAX;
	body[0] = (uint8_t)((unsigned)result >> 8);
	body[1] = (uint8_t)result;
	memcpy(body + 2, message, len);
	send_message(fd, DZ_SERVER_PROC_MSG_READY, body, 2 + len, NULL);
}

/*
 * Reset what the parent's event loop installed, because its handlers would
 * write to closed descriptors.  The stop signals are ignored: Ctrl-C or a
 * kill of the whole process group reaches the child too, and it must keep
 * serving until the parent has finished its last publication and sends
 * STOP.  The child still ends when the parent dies (end of file, and
 * SIGKILL as its parent-death signal).
 */
static void
reset_signals(void)
{
	static const int defaults[] = { SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM };
	static const int ignored[] = { SIGTERM, SIGINT, SIGHUP, SIGPIPE };
	sigset_t none;

	for (size_t i = 0; i < DZ_ARRAY_SIZE(defaults); i++)
		signal(defaults[i], SIG_DFL);
	for (size_t i = 0; i < DZ_ARRAY_SIZE(ignored); i++)
		signal(ignored[i], SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Body of the DNS server process; never returns. */
static void __attribute__((noreturn))
child_main(dz_server_proc_t *proc, int fd, pid_t parent)
{
	child_t child = { .proc = proc, .status = 1 };
	dz_error_t err;
	dz_result_t result = DZ_OK;

	dz_error_init(&err);
	reset_signals();
	/* End of file on the channel also ends the child; the signal covers a blocked loop. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	close_inherited(proc, fd);

	if (proc->has_target)
		result = dz_privdrop_apply(&proc->target, proc->chroot, WHO, &err);
	else
		result = dz_privdrop_refuse_root(proc->allow_root, WHO, "server.dns-user", &err);
	if (result == DZ_OK) {
		child.base = event_base_new();
		if (child.base == NULL)
			result = dz_error_set(&err, DZ_ENOMEM, "cannot create an event base");
	}
	if (result == DZ_OK)
		result = child_apply_config(&child, proc->config.data, proc->config.len, &err);
	if (result == DZ_OK) {
		evutil_make_socket_nonblocking(fd);
		child.channel = bufferevent_socket_new(child.base, fd, 0);
		if (child.channel == NULL)
			result = dz_error_set(&err, DZ_ENOMEM, "cannot watch the parent's socket");
	}
	if (result != DZ_OK) {
		dz_log(DZ_LOG_ERROR, WHO ": %s", dz_error_message(&err));
		report_ready(fd, result, dz_error_message(&err));
		goto cleanup;
	}
	bufferevent_setcb(child.channel, child_read, NULL, child_event, &child);
	bufferevent_enable(child.channel, EV_READ);
	report_ready(fd, DZ_OK, "");
	dz_log(DZ_LOG_INFO, WHO ": serving (pid %ld)", (long)getpid());
	event_base_dispatch(child.base);

cleanup:
	dz_server_destroy(child.server);
	free_config(child.config);
	if (child.channel != NULL)
		bufferevent_free(child.channel);
	if (child.base != NULL)
		event_base_free(child.base);
	close(fd);
	/* _exit(): exit() would run the parent's atexit handlers and flush its stdio copies. */
	_exit(child.status);
}

/* ======================================================================= parent */

static void child_readable(evutil_socket_t fd, short what, void *arg);

/* Fork a child with a new socketpair; the caller waits for its READY. */
static dz_result_t
spawn(dz_server_proc_t *proc, dz_error_t *err)
{
	int sv[2];
	pid_t parent = getpid();

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return dz_error_set(err, DZ_EIO, "cannot create a socket pair for the " WHO ": %s",
				    strerror(errno));
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return dz_error_set(err, DZ_EAGAIN, "cannot start the " WHO ": %s", strerror(errno));
	}
	if (pid == 0) {
		close(sv[0]);
		child_main(proc, sv[1], parent);
	}
	close(sv[1]);
	/* Blocking writes with a bound, so that a stuck child cannot stall the caller's loop. */
	struct timeval timeout = { .tv_sec = SEND_TIMEOUT_MS / 1000,
				   .tv_usec = (SEND_TIMEOUT_MS % 1000) * 1000 };
	setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
	proc->pid = pid;
	proc->fd = sv[0];
	proc->input_len = 0;
	clock_gettime(CLOCK_MONOTONIC, &proc->started);
	return DZ_OK;
}

/* Reap the child after its socket closed and log how it ended. */
static void
reap(dz_server_proc_t *proc, const char *reason)
{
	int status = 0;
	pid_t pid = proc->pid;
	pid_t reaped;

	if (proc->child_event != NULL) {
		event_free(proc->child_event);
		proc->child_event = NULL;
	}
	if (proc->fd >= 0)
		close(proc->fd);
	proc->fd = -1;
	proc->pid = 0;
	if (pid <= 0)
		return;
	do {
		reaped = waitpid(pid, &status, 0);
	} while (reaped < 0 && errno == EINTR);
	if (reaped != pid)
		dz_log(DZ_LOG_ERROR, WHO " %ld ended (%s); its exit status is unknown: %s",
		       (long)pid, reason, strerror(errno));
	else if (WIFSIGNALED(status))
		dz_log(DZ_LOG_ERROR, WHO " %ld was killed by signal %d (%s)", (long)pid,
		       WTERMSIG(status), reason);
	else if (WEXITSTATUS(status) != 0)
		dz_log(DZ_LOG_ERROR, WHO " %ld exited with status %d (%s)", (long)pid,
		       WEXITSTATUS(status), reason);
	else
		dz_log(DZ_LOG_INFO, WHO " %ld exited (%s)", (long)pid, reason);
}

static dz_result_t
watch_child(dz_server_proc_t *proc, dz_error_t *err)
{
	proc->child_event = event_new(proc->base, proc->fd, EV_READ | EV_PERSIST, child_readable,
				      proc);
	if (proc->child_event == NULL || event_add(proc->child_event, NULL) != 0)
		return dz_error_set(err, DZ_EIO, "cannot watch the " WHO);
	return DZ_OK;
}

/* Schedule the next start after the backoff, which doubles unless the child ran long. */
static void
schedule_restart(dz_server_proc_t *proc)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	double ran_ms = (double)(now.tv_sec - proc->started.tv_sec) * 1e3 +
			(double)(now.tv_nsec - proc->started.tv_nsec) / 1e6;
	if (ran_ms >= DZ_SERVER_PROC_STABLE_MS || proc->backoff_ms == 0)
		proc->backoff_ms = DZ_SERVER_PROC_RESTART_MIN_MS;
	else if (proc->backoff_ms < DZ_SERVER_PROC_RESTART_MAX_MS)
		proc->backoff_ms = proc->backoff_ms * 2 < DZ_SERVER_PROC_RESTART_MAX_MS
					   ? proc->backoff_ms * 2
					   : DZ_SERVER_PROC_RESTART_MAX_MS;
	dz_log(DZ_LOG_WARNING, "restarting the " WHO " in %u ms", proc->backoff_ms);
	struct timeval tv = { .tv_sec = proc->backoff_ms / 1000,
			      .tv_usec = (proc->backoff_ms % 1000) * 1000 };
	evtimer_add(proc->restart_timer, &tv);
}

static void
restart(evutil_socket_t fd, short what, void *arg)
{
	dz_server_proc_t *proc = arg;
	dz_error_t err;

	(void)fd;
	(void)what;
	dz_error_init(&err);
	if (spawn(proc, &err) != DZ_OK || watch_child(proc, &err) != DZ_OK) {
		dz_log(DZ_LOG_ERROR, "%s", dz_error_message(&err));
		if (proc->pid > 0)
			kill(proc->pid, SIGKILL);
		reap(proc, "could not be watched");
		schedule_restart(proc);
		return;
	}
	dz_log(DZ_LOG_NOTICE, WHO " started again (pid %ld)", (long)proc->pid);
}

/*
 * Parse a READY in proc->input.  DZ_EAGAIN while incomplete; DZ_ESYNTAX
 * when malformed; otherwise the child's result, with its message in err.
 */
static dz_result_t
parse_ready(dz_server_proc_t *proc, dz_error_t *err)
{
	dz_server_proc_msg_type_t type;
	size_t len = 0;

	if (proc->input_len < DZ_SERVER_PROC_HEADER_LEN)
		return DZ_EAGAIN;
	dz_result_t result = decode_header(proc->input, false, &type, &len, err);
	if (result != DZ_OK)
		return result;
	if (len < 2)
		return dz_error_set(err, DZ_ESYNTAX, "READY has a body of %zu bytes, expected at "
				    "least 2", len);
	if (proc->input_len < DZ_SERVER_PROC_HEADER_LEN + len)
		return DZ_EAGAIN;
	if (proc->input_len > DZ_SERVER_PROC_HEADER_LEN + len)
		return dz_error_set(err, DZ_ESYNTAX, "bytes after READY");
	const uint8_t *body = proc->input + DZ_SERVER_PROC_HEADER_LEN;
	unsigned code = (unsigned)body[0] << 8 | body[1];
	if (code >= DZ_RESULT_COUNT)
		return dz_error_set(err, DZ_ESYNTAX, "READY has an unknown result %u", code);
	if (code == DZ_OK)
		return DZ_OK;
	return dz_error_set(err, (dz_result_t)code, "%.*s", (int)(len - 2), (const char *)body + 2);
}

/* Read what the child sent; DZ_ENOTFOUND at end of file. */
static dz_result_t
read_input(dz_server_proc_t *proc, dz_error_t *err)
{
	if (proc->input_len == sizeof(proc->input))
		return dz_error_set(err, DZ_ESYNTAX, "the " WHO " sent more than one READY");
	ssize_t n = read(proc->fd, proc->input + proc->input_len,
			 sizeof(proc->input) - proc->input_len);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return DZ_EAGAIN;
	/* A reset means the child exited with one of our messages unread. */
	if (n == 0 || (n < 0 && errno == ECONNRESET))
		return DZ_ENOTFOUND;
	if (n < 0)
		return dz_error_set(err, DZ_EIO, "cannot read from the " WHO ": %s",
				    strerror(errno));
	proc->input_len += (size_t)n;
	return DZ_OK;
}

static void
child_readable(evutil_socket_t fd, short what, void *arg)
{
	dz_server_proc_t *proc = arg;
	dz_error_t err;

	(void)fd;
	(void)what;
	dz_error_init(&err);
	dz_result_t result = read_input(proc, &err);
	if (result == DZ_ENOTFOUND) {
		reap(proc, "its socket closed");
		schedule_restart(proc);
		return;
	}
	if (result == DZ_OK)
		result = parse_ready(proc, &err);
	if (result == DZ_EAGAIN)
		return;
	if (result == DZ_OK) {
		dz_log(DZ_LOG_NOTICE, WHO " %ld serves again", (long)proc->pid);
		return;
	}
	if (result == DZ_ESYNTAX)
		dz_log(DZ_LOG_ERROR, "malformed message from the " WHO ": %s; killing it",
		       dz_error_message(&err));
	else
		dz_log(DZ_LOG_ERROR, WHO " failed to start: %s", dz_error_message(&err));
	if (proc->pid > 0)
		kill(proc->pid, SIGKILL);
	reap(proc, "after an error");
	schedule_restart(proc);
}

/* Wait for the first child's READY, at most DZ_SERVER_PROC_READY_TIMEOUT_MS. */
static dz_result_t
await_ready(dz_server_proc_t *proc, dz_error_t *err)
{
	double deadline = monotonic_ms() + DZ_SERVER_PROC_READY_TIMEOUT_MS;

	for (;;) {
		struct pollfd pfd = { proc->fd, POLLIN, 0 };
		int left = (int)(deadline - monotonic_ms());
		if (left <= 0)
			return dz_error_set(err, DZ_ETIMEOUT, "the " WHO " did not start within %d s",
					    DZ_SERVER_PROC_READY_TIMEOUT_MS / 1000);
		int n = poll(&pfd, 1, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			continue;
		dz_result_t result = read_input(proc, err);
		if (result == DZ_ENOTFOUND)
			return dz_error_set(err, DZ_EIO, "the " WHO " exited during start-up; see "
					    "its log lines above");
		if (result == DZ_OK)
			result = parse_ready(proc, err);
		if (result != DZ_EAGAIN)
			return result;
	}
}

static dz_result_t
copy_option(char **out, const char *value)
{
	if (value == NULL)
		return DZ_OK;
	*out = strdup(value);
	return *out != NULL ? DZ_OK : DZ_ENOMEM;
}

static bool
listen_unchanged(const dz_server_proc_t *proc, const dz_server_config_t *config)
{
	bool same = config->listen_count == proc->listen_count;

	for (size_t i = 0; same && i < config->listen_count; i++)
		same = config->listen[i].address_len == proc->listen[i].address_len &&
		       memcmp(&config->listen[i].address, &proc->listen[i].address,
			      config->listen[i].address_len) == 0;
	return same;
}

dz_result_t
dz_server_proc_start(struct event_base *base, const dz_server_config_t *config,
		     const dz_server_proc_options_t *options, dz_server_proc_t **out,
		     dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	dz_server_proc_t *proc = calloc(1, sizeof(*proc));

	if (proc == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	proc->base = base;
	proc->fd = -1;
	proc->allow_root = options->allow_root;
	dz_buf_init(&proc->config);
	if (copy_option(&proc->user, options->user) != DZ_OK ||
	    copy_option(&proc->group, options->group) != DZ_OK ||
	    copy_option(&proc->chroot, options->chroot) != DZ_OK) {
		result = dz_error_set(err, DZ_ENOMEM, "out of memory");
		goto cleanup;
	}
	if (proc->chroot != NULL && proc->user == NULL) {
		result = dz_error_set(err, DZ_ECONFIG, "server.chroot %s is set without a user to "
				      "drop to; set server.dns-user or server.user", proc->chroot);
		goto cleanup;
	}
	result = check_chroot(config, proc->chroot, err);
	if (result != DZ_OK)
		goto cleanup;
	if (proc->user != NULL) {
		result = dz_privdrop_resolve(proc->user, proc->group, &proc->target, err);
		if (result != DZ_OK)
			goto cleanup;
		proc->has_target = true;
	} else {
		/* Fail here, before binding, rather than in a child that is restarted forever. */
		result = dz_privdrop_refuse_root(proc->allow_root, WHO, "server.dns-user", err);
		if (result != DZ_OK)
			goto cleanup;
	}
	if (dz_server_proc_config_encode(config, &proc->config) != DZ_OK) {
		result = dz_error_set(err, DZ_ENOMEM, "out of memory");
		goto cleanup;
	}
	proc->listen = calloc(config->listen_count + 1, sizeof(*proc->listen));
	if (proc->listen == NULL) {
		result = dz_error_set(err, DZ_ENOMEM, "out of memory");
		goto cleanup;
	}
	memcpy(proc->listen, config->listen, config->listen_count * sizeof(*proc->listen));
	proc->listen_count = config->listen_count;
	result = dz_server_sockets_open(config, &proc->sockets, err);
	if (result != DZ_OK)
		goto cleanup;
	proc->restart_timer = evtimer_new(base, restart, proc);
	if (proc->restart_timer == NULL) {
		result = dz_error_set(err, DZ_ENOMEM, "out of memory");
		goto cleanup;
	}

	result = spawn(proc, err);
	if (result == DZ_OK)
		result = await_ready(proc, err);
	if (result == DZ_OK)
		result = watch_child(proc, err);
	if (result != DZ_OK)
		goto cleanup;
	dz_log(DZ_LOG_NOTICE, WHO " %ld serves as user %s", (long)proc->pid,
	       proc->has_target ? proc->target.user : "(unchanged)");
	*out = proc;
	proc = NULL;

cleanup:
	dz_server_proc_stop(proc);
	return result;
}

/*
 * Send a message to the running child.  A child that does not take it in
 * time, or whose socket fails, is killed: the end of file that follows
 * restarts it, and the new child loads the current state.
 */
static dz_result_t
send_to_child(dz_server_proc_t *proc, dz_server_proc_msg_type_t type, const void *body,
	      size_t len, dz_error_t *err)
{
	dz_result_t result = send_message(proc->fd, type, body, len, err);

	if (result != DZ_OK && proc->pid > 0) {
		dz_log(DZ_LOG_ERROR, "%s; killing " WHO " %ld so that it restarts",
		       dz_error_message(err), (long)proc->pid);
		kill(proc->pid, SIGKILL);
	}
	return result;
}

dz_result_t
dz_server_proc_published(dz_server_proc_t *proc, const char *zone, dz_error_t *err)
{
	size_t len = strlen(zone);

	if (!valid_zone_name(zone, len))
		return dz_error_set(err, DZ_EINVAL, "invalid zone name '%.64s' for the " WHO, zone);
	if (proc->fd < 0) {
		dz_log_zone(DZ_LOG_DEBUG, zone, "no " WHO " runs; the next one loads this version");
		return DZ_OK;
	}
	return send_to_child(proc, DZ_SERVER_PROC_MSG_ZONE, zone, len, err);
}

dz_result_t
dz_server_proc_reconfigure(dz_server_proc_t *proc, const dz_server_config_t *config,
			   dz_error_t *err)
{
	dz_buf_t encoded;
	dz_server_config_t kept = *config;
	dz_result_t result = check_chroot(config, proc->chroot, err);

	if (result == DZ_OK)
		result = dz_server_config_check(config, err);
	if (result != DZ_OK)
		return result;
	/* The sockets were bound at start: the child keeps serving the addresses of the start. */
	if (!listen_unchanged(proc, config)) {
		dz_log(DZ_LOG_WARNING, WHO ": the listen addresses changed; they apply after a "
		       "restart, until then the old ones are served");
		kept.listen = proc->listen;
		kept.listen_count = proc->listen_count;
	}
	dz_buf_init(&encoded);
	if (dz_server_proc_config_encode(&kept, &encoded) != DZ_OK) {
		dz_buf_clear(&encoded);
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	}
	if (encoded.len > DZ_SERVER_PROC_CONFIG_MAX) {
		dz_buf_clear(&encoded);
		return dz_error_set(err, DZ_ETOOBIG, "the server configuration takes %zu bytes, more "
				    "than %d", encoded.len, DZ_SERVER_PROC_CONFIG_MAX);
	}
	dz_secure_zero(proc->config.data, proc->config.len);
	dz_buf_clear(&proc->config);
	proc->config = encoded;
	if (proc->fd < 0)
		return DZ_OK;
	return send_to_child(proc, DZ_SERVER_PROC_MSG_CONFIG, proc->config.data,
			    proc->config.len, err);
}

int
dz_server_proc_port(const dz_server_proc_t *proc, int family)
{
	for (size_t i = 0; i < proc->sockets.count; i++) {
		struct sockaddr_storage address;
		socklen_t len = sizeof(address);
		if (getsockname(proc->sockets.udp[i], (struct sockaddr *)&address, &len) != 0 ||
		    address.ss_family != family)
			continue;
		if (family == AF_INET)
			return ntohs(((struct sockaddr_in *)&address)->sin_port);
		return ntohs(((struct sockaddr_in6 *)&address)->sin6_port);
	}
	return 0;
}

pid_t
dz_server_proc_pid(const dz_server_proc_t *proc)
{
	return proc->pid;
}

dz_result_t
dz_server_proc_send_raw(dz_server_proc_t *proc, const void *data, size_t len, dz_error_t *err)
{
	if (proc->fd < 0)
		return dz_error_set(err, DZ_ESTATE, "no " WHO " runs");
	return write_all(proc->fd, data, len, err);
}

/* Ask the child to stop and wait for it, killing it after STOP_TIMEOUT_MS. */
static void
stop_child(dz_server_proc_t *proc)
{
	double deadline = monotonic_ms() + STOP_TIMEOUT_MS;

	if (proc->pid <= 0)
		return;
	send_message(proc->fd, DZ_SERVER_PROC_MSG_STOP, NULL, 0, NULL);
	for (;;) {
		struct pollfd pfd = { proc->fd, POLLIN, 0 };
		int left = (int)(deadline - monotonic_ms());
		if (left <= 0) {
			dz_log(DZ_LOG_WARNING, WHO " %ld did not stop within %d s; killing it",
			       (long)proc->pid, STOP_TIMEOUT_MS / 1000);
			kill(proc->pid, SIGKILL);
			break;
		}
		int n = poll(&pfd, 1, left);
		if (n < 0 && errno != EINTR)
			break;
		if (n > 0) {
			uint8_t discard[256];
			ssize_t got = read(proc->fd, discard, sizeof(discard));
			if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN))
				break;
		}
	}
	reap(proc, "stopped");
}

void
dz_server_proc_stop(dz_server_proc_t *proc)
{
	if (proc == NULL)
		return;
	stop_child(proc);
	if (proc->child_event != NULL)
		event_free(proc->child_event);
	if (proc->restart_timer != NULL)
		event_free(proc->restart_timer);
	dz_server_sockets_close(&proc->sockets);
	if (proc->config.data != NULL)
		dz_secure_zero(proc->config.data, proc->config.len);
	dz_buf_clear(&proc->config);
	free(proc->listen);
	free(proc->user);
	free(proc->group);
	free(proc->chroot);
	free(proc);
}
