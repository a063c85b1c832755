/*
 * control.h -- the control socket of danezoned: a unix stream socket on
 * which `danezone` asks the daemon for its status, forces a signing run,
 * reloads, stops it and changes key state.
 *
 * Protocol.  A request and a response are one frame each: a 4-byte
 * big-endian length, then that many bytes of text.  A connection carries
 * one request or several in sequence; the daemon answers each in order.
 *
 *   request   a command name and its arguments separated by single NUL
 *             bytes ("status\0example.net"), at most DZ_CONTROL_REQUEST_MAX
 *             bytes and DZ_CONTROL_ARGS_MAX strings including the name.
 *             There is no NUL before the first string or after the last,
 *             so no string is empty.  The text is UTF-8 without control
 *             characters (U+0000..U+001F other than the separator, U+007F).
 *   response  "ok\n" followed by the command's output, or one line
 *             "error CODE MESSAGE\n" where CODE is a dz_result_name()
 *             ("notfound") and MESSAGE is one line of text.  At most
 *             DZ_CONTROL_RESPONSE_MAX bytes.
 *
 * A frame that breaks these rules (empty, over the limit, with an empty
 * string, invalid UTF-8, too many strings) ends the connection with one log
 * line and without a response.  An unknown command or a wrong number of
 * arguments is a well-formed request: it gets an "error" response with the
 * usage, and the connection stays open.
 *
 * Permissions.  The socket file gets the mode given to dz_control_create()
 * and the group `group`.  The daemon also checks each peer with
 * SO_PEERCRED and accepts uid 0, the daemon's effective uid, and users whose
 * primary or supplementary groups contain the socket's group; it sends any
 * other peer one "error permission" response, logs it and closes the
 * connection.
 *
 * Limits.  At most DZ_CONTROL_CLIENTS_DEFAULT connections at a time (more
 * are closed at once).  A connection on which no byte arrives, or whose
 * response is not read, for DZ_CONTROL_IDLE_MS_DEFAULT is closed.
 * dz_control_set_limits() changes both.  Rejections and malformed frames
 * are logged rate-limited.
 *
 * Threads: the server runs on the thread of its event base, and handlers
 * run there too, so a handler must not block for long: a "sign" handler
 * schedules the work and returns.  A handler may end the loop (the "stop"
 * of the daemon) but must not call dz_control_destroy() itself.  The
 * process must ignore SIGPIPE, because libevent sends responses with
 * writev(), which raises it when a client has gone.  The parse and format
 * functions are thread safe.  The client side is in
 * signer/control_client.h.
 */
#ifndef DZ_SIGNER_CONTROL_H
#define DZ_SIGNER_CONTROL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <event2/event.h>

#include "common/error.h"
#include "common/mem.h"

/* Size limits of a frame's text, in bytes, without the 4-byte length. */
#define DZ_CONTROL_REQUEST_MAX (64 * 1024)
#define DZ_CONTROL_RESPONSE_MAX (16 * 1024 * 1024)

/* Maximum number of strings in a request, the command name included. */
#define DZ_CONTROL_ARGS_MAX 32

#define DZ_CONTROL_IDLE_MS_DEFAULT 10000
#define DZ_CONTROL_CLIENTS_DEFAULT 16

typedef struct dz_control dz_control_t;

/*
 * A command's handler.  argv[0] is the command name and argv[1..argc-1]
 * its arguments, already checked against the command's min_args and
 * max_args; the strings stay valid until the handler returns.  On success
 * the handler appends its output (UTF-8 text, usually lines ending in
 * "\n") to `out` and returns DZ_OK; on failure it returns the code with a
 * message in `err`, and its output is discarded.
 */
typedef dz_result_t (*dz_control_handler_fn)(void *ctx, int argc, char **argv, dz_buf_t *out,
					      dz_error_t *err);

/*
 * A command of the daemon: `name`, the number of arguments after the name
 * it takes (min_args..max_args), the handler, and a usage line without the
 * name ("ZONE", "[ZONE]", "" for none) sent back with a wrong count.
 */
typedef struct dz_control_command {
	const char *name;
	int min_args;
	int max_args;
	dz_control_handler_fn handler;
	const char *usage;
} dz_control_command_t;

/*
 * Create the control socket at `path` and serve it on `base`.
 *
 * An existing file at `path` is removed only when it is a socket on which
 * nothing listens.  When a process accepts connections there the result is
 * DZ_EBUSY ("another danezoned is running"), and any other kind of file is
 * DZ_EEXIST.  The socket is bound with umask 0177 (so the process umask
 * changes for the duration of bind(); call this before starting threads
 * that create files), then gets `mode` and, unless `group` is (gid_t)-1,
 * the group `group`, which needs root or membership in the group (DZ_EPERM
 * otherwise).  Without a group the socket file keeps the group the file
 * system gives new files, usually the daemon's effective gid.  The peer
 * check uses the group the file has.
 *
 * `path` may be NULL for a server without a socket file, which only serves
 * connections given to dz_control_adopt() (tests, the fuzz target).
 *
 * `commands` (count entries) and `ctx` must outlive the server.  The socket
 * file is removed by dz_control_destroy().
 */
dz_result_t dz_control_create(struct event_base *base, const char *path, mode_t mode, gid_t group,
			      const dz_control_command_t *commands, size_t count, void *ctx,
			      dz_control_t **out, dz_error_t *err);

/*
 * Close the listening socket, remove its file, and close every connection
 * after one non-blocking attempt to send the responses still queued (so
 * that the response of a "stop" handler reaches its client when the daemon
 * exits right after it).  NULL is ignored.
 */
void dz_control_destroy(dz_control_t *control);

/*
 * Change the idle timeout (ms) and the maximum number of connections; 0
 * keeps a value.  The timeout applies to connections accepted afterwards.
 */
void dz_control_set_limits(dz_control_t *control, unsigned idle_ms, unsigned clients_max);

/*
 * Serve the connected unix stream socket `fd` as if it had been accepted:
 * the peer check applies.  The server owns fd from then on, also on
 * failure.  DZ_EBUSY when the connection limit is reached.
 */
dz_result_t dz_control_adopt(dz_control_t *control, int fd, dz_error_t *err);

/* Number of open connections. */
size_t dz_control_connection_count(const dz_control_t *control);

/* The socket path given to dz_control_create(), or NULL. */
const char *dz_control_path(const dz_control_t *control);

/*
 * Parse a request's text (the frame without its length) into argc and a
 * NULL-terminated argv.  argv and its strings are one allocation: free(argv)
 * frees both.  DZ_ESYNTAX for an empty text, an empty string, invalid UTF-8
 * or a control character; DZ_ETOOBIG over DZ_CONTROL_REQUEST_MAX or
 * DZ_CONTROL_ARGS_MAX.  The message names the rule and the byte offset.
 */
dz_result_t dz_control_parse_request(const uint8_t *frame, size_t len, int *argc, char ***argv,
				     dz_error_t *err);

/*
 * Append a request frame (length and text) for argv[0..argc-1] to `frame`.
 * The same rules as in dz_control_parse_request() apply, with the same
 * codes.
 */
dz_result_t dz_control_format_request(int argc, char *const *argv, dz_buf_t *frame,
				      dz_error_t *err);

/*
 * Parse a response's text.  For "ok" return DZ_OK and append the output to
 * `out` (NUL-terminated after its length).  For "error CODE MESSAGE" return
 * the code (DZ_EINTERNAL for a name this version does not know) with
 * MESSAGE in err.  DZ_EFORMERR with a message for any other text.
 */
dz_result_t dz_control_parse_response(const uint8_t *text, size_t len, dz_buf_t *out,
				      dz_error_t *err);

/*
 * Append an error response frame for `code` with `message` to `frame`.
 * Control characters in the message become spaces and bytes that are not
 * UTF-8 become '?', so that a message naming a file cannot break the
 * format.  DZ_ENOMEM is the only failure.
 */
dz_result_t dz_control_format_error(dz_buf_t *frame, dz_result_t code, const char *message);

#endif
