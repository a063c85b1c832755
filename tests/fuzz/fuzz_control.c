/*
 * fuzz_control.c -- libFuzzer target for the control socket protocol
 * (signer/control.h).
 *
 * The input is the byte stream a client sends on the control socket.  The
 * target writes it into one end of a socketpair whose other end a control
 * server with a stub command table serves, reads every response, and
 * half-closes the connection after the last byte.  It then checks that
 * the server closed the connection, that the responses are whole frames
 * and that each one is "ok" or a well-formed "error" line.
 *
 * It also parses the whole input as one request's text, and when that
 * succeeds, checks that formatting the strings again gives the same bytes.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/log.h"
#include "signer/control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Largest output the "big" command makes, so that one input stays fast. */
#define BIG_OUTPUT_MAX (256 * 1024)

/* Loop rounds within which a connection must end; more means that the server hangs. */
#define ROUNDS_MAX 1000000

static struct event_base *base;
static dz_control_t *control;

static void
discard_log(dz_log_level_t level, const char *line, void *ctx)
{
	(void)level;
	(void)line;
	(void)ctx;
}

static dz_result_t
cmd_echo(void *ctx, int argc, char **argv, dz_buf_t *out, dz_error_t *err)
{
	(void)ctx;
	(void)err;
	for (int i = 1; i < argc; i++)
		dz_buf_printf(out, "%s\n", argv[i]);
	return DZ_OK;
}

static dz_result_t
cmd_fail(void *ctx, int argc, char **argv, dz_buf_t *out, dz_error_t *err)
{
	(void)ctx;
	(void)out;
	return dz_error_set(err, DZ_ENOTFOUND, "zone %s\nis not configured",
			    argc > 1 ? argv[1] : "\xff");
}

static dz_result_t
cmd_big(void *ctx, int argc, char **argv, dz_buf_t *out, dz_error_t *err)
{
	size_t len = strtoul(argv[1], NULL, 10);

	(void)ctx;
	(void)argc;
	if (len > BIG_OUTPUT_MAX)
		len = BIG_OUTPUT_MAX;
	if (dz_buf_reserve(out, len) != DZ_OK)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	memset(out->data + out->len, 'x', len);
	out->len += len;
	return DZ_OK;
}

static const dz_control_command_t commands[] = {
	{ "status", 0, 1, cmd_echo, "[ZONE]" },
	{ "sign", 1, 1, cmd_echo, "ZONE" },
	{ "echo", 0, DZ_CONTROL_ARGS_MAX - 1, cmd_echo, "[TEXT]..." },
	{ "fail", 0, 1, cmd_fail, "[ZONE]" },
	{ "big", 1, 1, cmd_big, "BYTES" },
};

static void
initialize(void)
{
	dz_log_set_sink(discard_log, NULL);
	/* As danezoned does: a response to a closed connection must not end the process. */
	signal(SIGPIPE, SIG_IGN);
	base = event_base_new();
	if (base == NULL ||
	    dz_control_create(base, NULL, 0, (gid_t)-1, commands,
			      sizeof(commands) / sizeof(commands[0]), NULL, &control, NULL) != DZ_OK)
		abort();
}

static void
check_request_round_trip(const uint8_t *data, size_t size)
{
	int argc;
	char **argv;
	dz_buf_t frame;

	if (dz_control_parse_request(data, size, &argc, &argv, NULL) != DZ_OK)
		return;
	dz_buf_init(&frame);
	if (dz_control_format_request(argc, argv, &frame, NULL) != DZ_OK || frame.len != size + 4 ||
	    memcmp(frame.data + 4, data, size) != 0) {
		fprintf(stderr, "fuzz_control: a parsed request formats to other bytes\n");
		abort();
	}
	dz_buf_clear(&frame);
	free(argv);
}

/* Check that `responses` is a sequence of whole, well-formed response frames. */
static void
check_responses(const dz_buf_t *responses)
{
	size_t at = 0;

	while (at < responses->len) {
		if (responses->len - at < 4) {
			fprintf(stderr, "fuzz_control: a response frame ends inside its length\n");
			abort();
		}
		const uint8_t *p = responses->data + at;
		size_t len = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
		if (len == 0 || len > DZ_CONTROL_RESPONSE_MAX || responses->len - at - 4 < len) {
			fprintf(stderr, "fuzz_control: a response frame of %zu bytes is invalid or cut\n",
				len);
			abort();
		}
		dz_buf_t out;
		dz_error_t err;
		dz_buf_init(&out);
		dz_error_init(&err);
		if (dz_control_parse_response(p + 4, len, &out, &err) == DZ_EFORMERR) {
			fprintf(stderr, "fuzz_control: malformed response: %s\n", err.message);
			abort();
		}
		dz_buf_clear(&out);
		at += 4 + len;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fds[2];
	size_t sent = 0;
	bool closed = false, shut = false;
	dz_buf_t responses;
	uint8_t chunk[65536];

	if (base == NULL)
		initialize();
	check_request_round_trip(data, size);

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0 ||
	    dz_control_adopt(control, fds[0], NULL) != DZ_OK)
		abort();
	dz_buf_init(&responses);
	for (long round = 0; !closed; round++) {
		if (round == ROUNDS_MAX) {
			fprintf(stderr, "fuzz_control: the server did not end the connection\n");
			abort();
		}
		if (sent < size) {
			ssize_t n = send(fds[1], data + sent, size - sent, MSG_NOSIGNAL);
			if (n > 0)
				sent += (size_t)n;
			else if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
				sent = size; /* the server closed after a malformed frame */
		}
		if (sent == size && !shut) {
			shutdown(fds[1], SHUT_WR);
			shut = true;
		}
		event_base_loop(base, EVLOOP_NONBLOCK);
		for (;;) {
			ssize_t n = recv(fds[1], chunk, sizeof(chunk), 0);
			if (n > 0) {
				dz_buf_append(&responses, chunk, (size_t)n);
				continue;
			}
			if (n == 0 || (n < 0 && errno == ECONNRESET))
				closed = true;
			break;
		}
	}
	close(fds[1]);
	if (dz_control_connection_count(control) != 0) {
		fprintf(stderr, "fuzz_control: the server keeps a connection its peer closed\n");
		abort();
	}
	check_responses(&responses);
	dz_buf_clear(&responses);
	return 0;
}
