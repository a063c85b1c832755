/*
 * control_client.h -- the client side of the control socket
 * (signer/control.h describes the protocol): connect to danezoned, send a
 * request and read its response, with a deadline.  Thread safe; SIGPIPE is
 * never raised (the requests are sent with MSG_NOSIGNAL).
 */
#ifndef DZ_SIGNER_CONTROL_CLIENT_H
#define DZ_SIGNER_CONTROL_CLIENT_H

#include "common/error.h"
#include "common/mem.h"

/* Time `danezone` waits for the daemon to accept a request and answer, in milliseconds. */
#define DZ_CONTROL_CALL_TIMEOUT_MS 30000

/*
 * Connect to the daemon at `path`, waiting at most timeout_ms.
 * DZ_ENOTFOUND with the message "danezoned is not running (no answer on
 * PATH)" when there is no socket file or nothing listens on it; DZ_EPERM
 * when the socket file's permissions reject the user; DZ_ETIMEOUT.
 */
dz_result_t dz_control_connect(const char *path, int timeout_ms, int *fd, dz_error_t *err);

/*
 * Send one request on a connected socket and read its response, waiting at
 * most timeout_ms in all.  Returns as dz_control_parse_response(), or
 * DZ_EIO when the daemon closes the connection without a response (it
 * does so after a malformed request) and DZ_ETIMEOUT.
 */
dz_result_t dz_control_request(int fd, int argc, char *const *argv, int timeout_ms, dz_buf_t *out,
			       dz_error_t *err);

/* dz_control_connect(), dz_control_request() and close() in one call. */
dz_result_t dz_control_call(const char *path, int argc, char *const *argv, int timeout_ms,
			    dz_buf_t *out, dz_error_t *err);

#endif
