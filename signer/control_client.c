#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "signer/control.h"
#include "signer/control_client.h"

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

dz_result_t
dz_control_connect(const char *path, int timeout_ms, int *fd, dz_error_t *err)
{
	struct sockaddr_un address;
	struct timeval timeout = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };

	*fd = -1;
	memset(&address, 0, sizeof(address));
	address.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(address.sun_path))
		return dz_error_set(err, DZ_EINVAL,
				    "control socket path %s is over the limit of %zu bytes of a unix "
				    "socket",
				    path, sizeof(address.sun_path) - 1);
	memcpy(address.sun_path, path, strlen(path));

	int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return dz_error_set(err, DZ_EIO, "cannot create a unix socket: %s", strerror(errno));
	/* A blocking connect() to a unix socket waits up to SO_SNDTIMEO while the backlog is full. */
	setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
	if (connect(sock, (const struct sockaddr *)&address, sizeof(address)) != 0) {
		int connect_errno = errno;
		close(sock);
		switch (connect_errno) {
		case ENOENT:
		case ENOTDIR:
		case ECONNREFUSED:
			return dz_error_set(err, DZ_ENOTFOUND,
					    "danezoned is not running (no answer on %s)", path);
		case EACCES:
		case EPERM:
			return dz_error_set(err, DZ_EPERM,
					    "cannot connect to danezoned on %s: %s; the socket's mode "
					    "and group (server.control-mode) decide who may",
					    path, strerror(connect_errno));
		case EAGAIN:
		case EINPROGRESS:
		case ETIMEDOUT:
			return dz_error_set(err, DZ_ETIMEOUT,
					    "danezoned accepted no connection on %s within %d ms",
					    path, timeout_ms);
		default:
			return dz_error_set(err, DZ_EIO, "cannot connect to danezoned on %s: %s", path,
					    strerror(connect_errno));
		}
	}
	int flags = fcntl(sock, F_GETFL);
	if (flags < 0 || fcntl(sock, F_SETFL, flags | O_NONBLOCK) != 0) {
		close(sock);
		return dz_error_set(err, DZ_EIO, "cannot set up the connection to %s: %s", path,
				    strerror(errno));
	}
	*fd = sock;
	return DZ_OK;
}

/* Wait until fd is ready for `events` or the deadline passes; false on timeout. */
static bool
wait_ready(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return false;
		struct pollfd p = { .fd = fd, .events = events };
		int rc = poll(&p, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (rc > 0)
			return true;
		if (rc < 0 && errno != EINTR)
			return true; /* the next read or write reports the error */
	}
}

/*
 * Send the whole frame.  A peer that closes early (it may have rejected us
 * and sent the reason) is not an error here: the response tells.
 */
static dz_result_t
send_frame(int fd, const dz_buf_t *frame, int64_t deadline, int timeout_ms, dz_error_t *err)
{
	size_t sent = 0;

	while (sent < frame->len) {
		ssize_t n = send(fd, frame->data + sent, frame->len - sent, MSG_NOSIGNAL);
		if (n > 0) {
			sent += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			return DZ_OK;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return dz_error_set(err, DZ_EIO, "cannot send the request to danezoned: %s",
					    strerror(errno));
		if (!wait_ready(fd, POLLOUT, deadline))
			return dz_error_set(err, DZ_ETIMEOUT,
					    "danezoned did not read the request within %d ms",
					    timeout_ms);
	}
	return DZ_OK;
}

/* Read exactly len bytes; DZ_EIO with a message on EOF (got tells how many arrived). */
static dz_result_t
receive_exactly(int fd, uint8_t *data, size_t len, int64_t deadline, int timeout_ms,
		dz_error_t *err)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = recv(fd, data + got, len - got, 0);
		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (n == 0)
			return dz_error_set(err, DZ_EIO,
					    "danezoned closed the connection without a complete "
					    "response; its log says why");
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return dz_error_set(err, DZ_EIO,
					    "cannot read the response of danezoned: %s",
					    strerror(errno));
		if (!wait_ready(fd, POLLIN, deadline))
			return dz_error_set(err, DZ_ETIMEOUT, "danezoned did not answer within %d ms",
					    timeout_ms);
	}
	return DZ_OK;
}

dz_result_t
dz_control_request(int fd, int argc, char *const *argv, int timeout_ms, dz_buf_t *out,
		   dz_error_t *err)
{
	int64_t deadline = now_ms() + timeout_ms;
	dz_buf_t frame;
	uint8_t header[4];
	uint8_t *text = NULL;
	dz_result_t result;

	dz_buf_init(&frame);
	result = dz_control_format_request(argc, argv, &frame, err);
	if (result != DZ_OK)
		goto cleanup;
	result = send_frame(fd, &frame, deadline, timeout_ms, err);
	if (result != DZ_OK)
		goto cleanup;
	result = receive_exactly(fd, header, sizeof(header), deadline, timeout_ms, err);
	if (result != DZ_OK)
		goto cleanup;

	uint32_t len = (uint32_t)header[0] << 24 | (uint32_t)header[1] << 16 |
		       (uint32_t)header[2] << 8 | header[3];
	if (len == 0 || len > DZ_CONTROL_RESPONSE_MAX) {
		result = dz_error_set(err, DZ_EFORMERR,
				      "invalid response from danezoned: a frame of %u bytes (1 to %d "
				      "allowed)",
				      len, DZ_CONTROL_RESPONSE_MAX);
		goto cleanup;
	}
	text = malloc(len);
	if (text == NULL) {
		result = dz_error_set(err, DZ_ENOMEM, "out of memory for a response of %u bytes", len);
		goto cleanup;
	}
	result = receive_exactly(fd, text, len, deadline, timeout_ms, err);
	if (result != DZ_OK)
		goto cleanup;
	result = dz_control_parse_response(text, len, out, err);

cleanup:
	free(text);
	dz_buf_clear(&frame);
	return result;
}

dz_result_t
dz_control_call(const char *path, int argc, char *const *argv, int timeout_ms, dz_buf_t *out,
		dz_error_t *err)
{
	int fd;
	dz_result_t result = dz_control_connect(path, timeout_ms, &fd, err);

	if (result != DZ_OK)
		return result;
	result = dz_control_request(fd, argc, argv, timeout_ms, out, err);
	close(fd);
	return result;
}
