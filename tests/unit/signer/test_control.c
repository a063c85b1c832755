#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/log.h"
#include "signer/control.h"
#include "signer/control_client.h"

#define CALL_TIMEOUT_MS 5000
#define NOBODY 65534
/* A group no account of the test host belongs to, given to the socket in the peer tests. */
#define SOCKET_GROUP 23456

/* ---- log capture ----------------------------------------------------------- */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_text[16384];

static void
capture_log(dz_log_level_t level, const char *line, void *ctx)
{
	(void)level;
	(void)ctx;
	pthread_mutex_lock(&log_lock);
	size_t used = strlen(log_text);
	snprintf(log_text + used, sizeof(log_text) - used, "%s\n", line);
	pthread_mutex_unlock(&log_lock);
}

static bool
log_contains(const char *text)
{
	pthread_mutex_lock(&log_lock);
	bool found = strstr(log_text, text) != NULL;
	pthread_mutex_unlock(&log_lock);
	return found;
}

static void
log_reset(void)
{
	pthread_mutex_lock(&log_lock);
	log_text[0] = '\0';
	pthread_mutex_unlock(&log_lock);
}

/* ---- test commands --------------------------------------------------------- */

/* Print each argument after the name on its own line. */
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
	(void)argc;
	(void)argv;
	dz_buf_printf(out, "output that an error discards\n");
	return dz_error_set(err, DZ_ENOTFOUND, "zone a\nb.example is not \xff configured");
}

/* Output argv[1] bytes of 'x'. */
static dz_result_t
cmd_big(void *ctx, int argc, char **argv, dz_buf_t *out, dz_error_t *err)
{
	size_t len = strtoul(argv[1], NULL, 10);

	(void)ctx;
	(void)argc;
	if (dz_buf_reserve(out, len) != DZ_OK)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	memset(out->data + out->len, 'x', len);
	out->len += len;
	return DZ_OK;
}

/* End the server's loop after this response, as the daemon's "stop" does. */
static dz_result_t
cmd_stop(void *ctx, int argc, char **argv, dz_buf_t *out, dz_error_t *err)
{
	(void)argc;
	(void)argv;
	(void)err;
	event_base_loopbreak(ctx);
	dz_buf_printf(out, "stopping\n");
	return DZ_OK;
}

static const dz_control_command_t commands[] = {
	{ "echo", 0, DZ_CONTROL_ARGS_MAX - 1, cmd_echo, "[TEXT]..." },
	{ "fail", 0, 0, cmd_fail, "" },
	{ "big", 1, 1, cmd_big, "BYTES" },
	{ "stop", 0, 0, cmd_stop, "" },
};

/* ---- a server on a socket in a temporary folder, in its own thread --------- */

typedef struct server {
	char folder[64];
	char path[128];
	struct event_base *base;
	dz_control_t *control;
	pthread_t thread;
	bool running;
} server_t;

static void *
serve(void *arg)
{
	server_t *server = arg;

	event_base_dispatch(server->base);
	dz_control_destroy(server->control);
	server->control = NULL;
	return NULL;
}

static void
make_folder(server_t *server)
{
	snprintf(server->folder, sizeof(server->folder), "/tmp/dz-control-XXXXXX");
	assert_non_null(mkdtemp(server->folder));
	snprintf(server->path, sizeof(server->path), "%s/control.sock", server->folder);
	server->base = event_base_new();
	assert_non_null(server->base);
}

static void
server_start(server_t *server, mode_t mode, gid_t group)
{
	dz_error_t err;
	/* A bound on the thread's life even when a test fails before sending "stop". */
	struct timeval limit = { .tv_sec = 20 };

	dz_error_init(&err);
	assert_int_equal(dz_control_create(server->base, server->path, mode, group, commands,
					   DZ_ARRAY_SIZE(commands), server->base, &server->control,
					   &err),
			 DZ_OK);
	event_base_loopexit(server->base, &limit);
	assert_int_equal(pthread_create(&server->thread, NULL, serve, server), 0);
	server->running = true;
}

static int
setup_server(void **state)
{
	server_t *server = calloc(1, sizeof(*server));

	log_reset();
	dz_log_set_sink(capture_log, NULL);
	make_folder(server);
	server_start(server, 0660, (gid_t)-1);
	*state = server;
	return 0;
}

static void
remove_folder(const char *folder)
{
	char command[128];

	snprintf(command, sizeof(command), "rm -rf '%s'", folder);
	assert_int_equal(system(command), 0);
}

static int
teardown_server(void **state)
{
	server_t *server = *state;
	dz_buf_t out;
	char *stop[] = { "stop" };

	if (server->running) {
		dz_buf_init(&out);
		dz_control_call(server->path, 1, stop, CALL_TIMEOUT_MS, &out, NULL);
		dz_buf_clear(&out);
		pthread_join(server->thread, NULL);
	}
	dz_control_destroy(server->control);
	event_base_free(server->base);
	remove_folder(server->folder);
	dz_log_set_sink(NULL, NULL);
	free(server);
	return 0;
}

/* ---- parsing requests ------------------------------------------------------ */

static dz_result_t
parse(const char *text, size_t len, int *argc, char ***argv)
{
	return dz_control_parse_request((const uint8_t *)text, len, argc, argv, NULL);
}

static void
parse_command_alone(void **state)
{
	int argc;
	char **argv;

	(void)state;
	assert_int_equal(parse("status", 6, &argc, &argv), DZ_OK);
	assert_int_equal(argc, 1);
	assert_string_equal(argv[0], "status");
	assert_null(argv[1]);
	free(argv);
}

static void
parse_command_with_arguments(void **state)
{
	static const char text[] = "status\0example.net\0x";
	int argc;
	char **argv;

	(void)state;
	assert_int_equal(parse(text, sizeof(text) - 1, &argc, &argv), DZ_OK);
	assert_int_equal(argc, 3);
	assert_string_equal(argv[0], "status");
	assert_string_equal(argv[1], "example.net");
	assert_string_equal(argv[2], "x");
	assert_null(argv[3]);
	free(argv);
}

static void
parse_rejects_empty_strings(void **state)
{
	static const struct {
		const char *text;
		size_t len;
	} cases[] = {
		{ "", 0 },		    /* empty frame */
		{ "\0status", 7 },	    /* NUL before the first string */
		{ "status\0", 7 },	    /* NUL after the last string */
		{ "status\0\0zone", 12 }, /* two NULs in a row */
		{ "\0", 1 },
	};
	dz_error_t err;
	int argc;
	char **argv;

	(void)state;
	for (size_t i = 0; i < DZ_ARRAY_SIZE(cases); i++) {
		dz_error_init(&err);
		assert_int_equal(dz_control_parse_request((const uint8_t *)cases[i].text,
							  cases[i].len, &argc, &argv, &err),
				 DZ_ESYNTAX);
		assert_null(argv);
		assert_int_equal(argc, 0);
		assert_true(strstr(err.message, "empty") != NULL);
	}
}

static void
parse_checks_utf8(void **state)
{
	/* RFC 3629 section 4 and its table of well-formed byte sequences. */
	static const char *const valid[] = {
		"caf\xc3\xa9",		  /* U+00E9 */
		"\xe2\x82\xac",		  /* U+20AC */
		"\xed\x9f\xbf",		  /* U+D7FF, the last code point before the surrogates */
		"\xef\xbf\xbd",		  /* U+FFFD */
		"\xf0\x90\x80\x80",	  /* U+10000 */
		"\xf4\x8f\xbf\xbf",	  /* U+10FFFF */
		"tab-free text ~",
	};
	static const char *const invalid[] = {
		"\x80",			  /* continuation byte first */
		"\xc0\xaf",		  /* overlong "/" */
		"\xc1\xbf",		  /* overlong */
		"\xe0\x80\xaf",		  /* overlong "/" */
		"\xe0\x9f\xbf",		  /* overlong U+07FF */
		"\xed\xa0\x80",		  /* U+D800, a surrogate */
		"\xed\xbf\xbf",		  /* U+DFFF, a surrogate */
		"\xf0\x8f\xbf\xbf",	  /* overlong U+FFFF */
		"\xf4\x90\x80\x80",	  /* U+110000 */
		"\xf5\x80\x80\x80",	  /* lead byte above F4 */
		"\xff",
		"\xe2\x82",		  /* cut sequence */
		"ab\xc3",		  /* cut at the end */
		"\xc3\x28",		  /* bad continuation */
	};
	int argc;
	char **argv;

	(void)state;
	for (size_t i = 0; i < DZ_ARRAY_SIZE(valid); i++) {
		assert_int_equal(parse(valid[i], strlen(valid[i]), &argc, &argv), DZ_OK);
		free(argv);
	}
	for (size_t i = 0; i < DZ_ARRAY_SIZE(invalid); i++) {
		dz_error_t err;
		dz_error_init(&err);
		assert_int_equal(dz_control_parse_request((const uint8_t *)invalid[i],
							  strlen(invalid[i]), &argc, &argv, &err),
				 DZ_ESYNTAX);
		assert_true(strstr(err.message, "invalid UTF-8") != NULL);
	}
}

static void
parse_rejects_control_characters(void **state)
{
	static const char *const cases[] = { "a\nb", "\t", "zone\r", "del\x7f", "\x1b[0m" };
	int argc;
	char **argv;

	(void)state;
	for (size_t i = 0; i < DZ_ARRAY_SIZE(cases); i++) {
		dz_error_t err;
		dz_error_init(&err);
		assert_int_equal(dz_control_parse_request((const uint8_t *)cases[i], strlen(cases[i]),
							  &argc, &argv, &err),
				 DZ_ESYNTAX);
		assert_true(strstr(err.message, "control character") != NULL);
	}
}

static void
parse_limits_argument_count(void **state)
{
	char text[2 * (DZ_CONTROL_ARGS_MAX + 1)];
	int argc;
	char **argv;

	(void)state;
	/* "a\0a\0...a": n strings take 2n - 1 bytes. */
	for (size_t i = 0; i < sizeof(text); i++)
		text[i] = i % 2 == 0 ? 'a' : '\0';
	assert_int_equal(parse(text, 2 * DZ_CONTROL_ARGS_MAX - 1, &argc, &argv), DZ_OK);
	assert_int_equal(argc, DZ_CONTROL_ARGS_MAX);
	assert_string_equal(argv[DZ_CONTROL_ARGS_MAX - 1], "a");
	free(argv);
	assert_int_equal(parse(text, 2 * (DZ_CONTROL_ARGS_MAX + 1) - 1, &argc, &argv), DZ_ETOOBIG);
	assert_null(argv);
}

static void
parse_limits_size(void **state)
{
	char *text = malloc(DZ_CONTROL_REQUEST_MAX + 1);
	int argc;
	char **argv;

	(void)state;
	memset(text, 'z', DZ_CONTROL_REQUEST_MAX + 1);
	assert_int_equal(parse(text, DZ_CONTROL_REQUEST_MAX, &argc, &argv), DZ_OK);
	assert_int_equal(strlen(argv[0]), DZ_CONTROL_REQUEST_MAX);
	free(argv);
	assert_int_equal(parse(text, DZ_CONTROL_REQUEST_MAX + 1, &argc, &argv), DZ_ETOOBIG);
	free(text);
}

/* ---- formatting ------------------------------------------------------------ */

static void
format_request_frames_text(void **state)
{
	char *args[] = { "status", "example.net" };
	static const uint8_t expected[] = { 0, 0, 0, 18, 's', 't', 'a', 't', 'u', 's', 0,
					    'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'n', 'e', 't' };
	dz_buf_t frame;

	(void)state;
	dz_buf_init(&frame);
	assert_int_equal(dz_control_format_request(2, args, &frame, NULL), DZ_OK);
	assert_int_equal(frame.len, sizeof(expected));
	assert_memory_equal(frame.data, expected, sizeof(expected));
	dz_buf_clear(&frame);
}

static void
format_request_checks_rules(void **state)
{
	char *empty[] = { "status", "" };
	char *newline[] = { "status", "a\nb" };
	char *many[DZ_CONTROL_ARGS_MAX + 1];
	dz_buf_t frame;

	(void)state;
	for (size_t i = 0; i < DZ_ARRAY_SIZE(many); i++)
		many[i] = "a";
	dz_buf_init(&frame);
	assert_int_equal(dz_control_format_request(0, empty, &frame, NULL), DZ_ESYNTAX);
	assert_int_equal(dz_control_format_request(2, empty, &frame, NULL), DZ_ESYNTAX);
	assert_int_equal(dz_control_format_request(2, newline, &frame, NULL), DZ_ESYNTAX);
	assert_int_equal(dz_control_format_request(DZ_CONTROL_ARGS_MAX + 1, many, &frame, NULL),
			 DZ_ETOOBIG);
	assert_int_equal(frame.len, 0);
	dz_buf_clear(&frame);
}

static void
format_error_keeps_one_line(void **state)
{
	static const char expected[] = "error notfound zone a b.example is ? here\n";
	dz_buf_t frame;

	(void)state;
	dz_buf_init(&frame);
	assert_int_equal(dz_control_format_error(&frame, DZ_ENOTFOUND,
						 "zone a\nb.example is \xc3 here"),
			 DZ_OK);
	assert_int_equal(frame.len, 4 + sizeof(expected) - 1);
	assert_int_equal(frame.data[3], sizeof(expected) - 1);
	assert_memory_equal(frame.data + 4, expected, sizeof(expected) - 1);
	dz_buf_clear(&frame);
}

static dz_result_t
parse_response(const char *text, dz_buf_t *out, dz_error_t *err)
{
	return dz_control_parse_response((const uint8_t *)text, strlen(text), out, err);
}

static void
parse_response_cases(void **state)
{
	dz_buf_t out;
	dz_error_t err;

	(void)state;
	dz_buf_init(&out);
	dz_error_init(&err);
	assert_int_equal(parse_response("ok\nline 1\nline 2\n", &out, &err), DZ_OK);
	assert_string_equal((char *)out.data, "line 1\nline 2\n");
	out.len = 0;
	assert_int_equal(parse_response("ok\n", &out, &err), DZ_OK);
	assert_int_equal(out.len, 0);

	assert_int_equal(parse_response("error notfound zone x.example is not configured\n", &out,
					&err),
			 DZ_ENOTFOUND);
	assert_string_equal(err.message, "zone x.example is not configured");
	assert_int_equal(parse_response("error busy\n", &out, &err), DZ_EBUSY);
	assert_string_equal(err.message, "danezoned reported: in use");
	assert_int_equal(parse_response("error no-such-code text\n", &out, &err), DZ_EINTERNAL);
	assert_string_equal(err.message, "text");
	assert_int_equal(parse_response("error ok text\n", &out, &err), DZ_EINTERNAL);

	assert_int_equal(parse_response("ok", &out, &err), DZ_EFORMERR);
	assert_int_equal(parse_response("OK\n", &out, &err), DZ_EFORMERR);
	assert_int_equal(parse_response("error notfound text", &out, &err), DZ_EFORMERR);
	assert_int_equal(parse_response("error \n", &out, &err), DZ_EFORMERR);
	assert_int_equal(parse_response("error notfound a\nb\n", &out, &err), DZ_EFORMERR);
	assert_int_equal(parse_response("", &out, &err), DZ_EFORMERR);
	dz_buf_clear(&out);
}

/* ---- a server on a socketpair, driven by this thread ------------------------ */

typedef struct pair {
	struct event_base *base;
	dz_control_t *control;
	int client;
} pair_t;

static int
setup_pair(void **state)
{
	pair_t *pair = calloc(1, sizeof(*pair));
	int fds[2];

	log_reset();
	dz_log_set_sink(capture_log, NULL);
	pair->base = event_base_new();
	assert_non_null(pair->base);
	assert_int_equal(dz_control_create(pair->base, NULL, 0, (gid_t)-1, commands,
					   DZ_ARRAY_SIZE(commands), pair->base, &pair->control, NULL),
			 DZ_OK);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
	assert_int_equal(dz_control_adopt(pair->control, fds[0], NULL), DZ_OK);
	pair->client = fds[1];
	*state = pair;
	return 0;
}

static int
teardown_pair(void **state)
{
	pair_t *pair = *state;

	if (pair->client >= 0)
		close(pair->client);
	dz_control_destroy(pair->control);
	event_base_free(pair->base);
	dz_log_set_sink(NULL, NULL);
	free(pair);
	return 0;
}

static void
send_bytes(pair_t *pair, const void *data, size_t len)
{
	assert_int_equal(send(pair->client, data, len, MSG_NOSIGNAL), (ssize_t)len);
}

static void
send_request(pair_t *pair, int argc, char **argv)
{
	dz_buf_t frame;

	dz_buf_init(&frame);
	assert_int_equal(dz_control_format_request(argc, argv, &frame, NULL), DZ_OK);
	send_bytes(pair, frame.data, frame.len);
	dz_buf_clear(&frame);
}

/*
 * Run the server's loop until the client end has read `len` bytes or
 * reached EOF, for at most two seconds.  Returns the number of bytes read.
 */
static size_t
receive(pair_t *pair, uint8_t *data, size_t len)
{
	size_t got = 0;

	for (int round = 0; round < 2000 && got < len; round++) {
		event_base_loop(pair->base, EVLOOP_NONBLOCK);
		struct pollfd p = { .fd = pair->client, .events = POLLIN };
		if (poll(&p, 1, 1) <= 0)
			continue;
		ssize_t n = recv(pair->client, data + got, len - got, MSG_DONTWAIT);
		if (n == 0)
			return got;
		if (n > 0)
			got += (size_t)n;
	}
	return got;
}

/* Read one response frame into text (NUL-terminated); false at EOF. */
static bool
receive_response(pair_t *pair, char *text, size_t size)
{
	uint8_t header[4];

	if (receive(pair, header, 4) != 4)
		return false;
	size_t len = (size_t)header[0] << 24 | (size_t)header[1] << 16 | (size_t)header[2] << 8 |
		     header[3];
	assert_true(len < size);
	assert_int_equal(receive(pair, (uint8_t *)text, len), len);
	text[len] = '\0';
	return true;
}

/* Whether the server closed the connection without sending anything. */
static bool
closed_without_response(pair_t *pair)
{
	uint8_t byte;

	return receive(pair, &byte, 1) == 0 && dz_control_connection_count(pair->control) == 0;
}

static void
pair_answers_requests_in_order(void **state)
{
	pair_t *pair = *state;
	char *first[] = { "echo", "one" };
	char *second[] = { "echo", "two", "three" };
	char text[256];

	/* Both requests in the socket before the server reads either. */
	send_request(pair, 2, first);
	send_request(pair, 3, second);
	assert_true(receive_response(pair, text, sizeof(text)));
	assert_string_equal(text, "ok\none\n");
	assert_true(receive_response(pair, text, sizeof(text)));
	assert_string_equal(text, "ok\ntwo\nthree\n");
	assert_int_equal(dz_control_connection_count(pair->control), 1);
}

static void
pair_reports_command_errors(void **state)
{
	pair_t *pair = *state;
	char *unknown[] = { "frobnicate" };
	char *missing[] = { "big" };
	char *fail[] = { "fail" };
	char text[512];

	send_request(pair, 1, unknown);
	assert_true(receive_response(pair, text, sizeof(text)));
	assert_string_equal(text, "error notfound unknown command 'frobnicate'; the commands are: "
				  "echo, fail, big, stop\n");
	send_request(pair, 1, missing);
	assert_true(receive_response(pair, text, sizeof(text)));
	assert_string_equal(text, "error invalid wrong number of arguments (0); usage: big BYTES\n");
	send_request(pair, 1, fail);
	assert_true(receive_response(pair, text, sizeof(text)));
	assert_string_equal(text, "error notfound zone a b.example is not ? configured\n");
	/* Errors in a well-formed request keep the connection. */
	assert_int_equal(dz_control_connection_count(pair->control), 1);
}

static void
pair_closes_on_empty_frame(void **state)
{
	pair_t *pair = *state;
	static const uint8_t frame[] = { 0, 0, 0, 0 };

	send_bytes(pair, frame, sizeof(frame));
	assert_true(closed_without_response(pair));
	assert_true(log_contains("control: closed the connection of uid "));
	assert_true(log_contains(": empty frame"));
}

static void
pair_closes_on_oversized_frame(void **state)
{
	pair_t *pair = *state;
	/* 65537 bytes announced; the server must not wait for them. */
	static const uint8_t frame[] = { 0, 1, 0, 1, 'e' };

	send_bytes(pair, frame, sizeof(frame));
	assert_true(closed_without_response(pair));
	assert_true(log_contains("frame of 65537 bytes is over the limit of 65536 bytes"));
}

static void
pair_closes_on_invalid_utf8(void **state)
{
	pair_t *pair = *state;
	static const uint8_t frame[] = { 0, 0, 0, 7, 'e', 'c', 'h', 'o', 0, 0xc0, 0xaf };

	send_bytes(pair, frame, sizeof(frame));
	assert_true(closed_without_response(pair));
	assert_true(log_contains("malformed request: invalid UTF-8 at byte 5 of the request"));
}

static void
pair_closes_on_trailing_nul(void **state)
{
	pair_t *pair = *state;
	static const uint8_t frame[] = { 0, 0, 0, 5, 'e', 'c', 'h', 'o', 0 };

	send_bytes(pair, frame, sizeof(frame));
	assert_true(closed_without_response(pair));
	assert_true(log_contains("malformed request: empty string at byte 5"));
}

static void
pair_closes_on_too_many_arguments(void **state)
{
	pair_t *pair = *state;
	uint8_t frame[4 + 2 * (DZ_CONTROL_ARGS_MAX + 1) - 1];
	size_t len = sizeof(frame) - 4;

	frame[0] = 0;
	frame[1] = 0;
	frame[2] = (uint8_t)(len >> 8);
	frame[3] = (uint8_t)len;
	for (size_t i = 0; i < len; i++)
		frame[4 + i] = i % 2 == 0 ? 'a' : 0;
	send_bytes(pair, frame, sizeof(frame));
	assert_true(closed_without_response(pair));
	assert_true(log_contains("request has 33 strings, over the limit of 32"));
}

static void
pair_answers_after_half_close(void **state)
{
	pair_t *pair = *state;
	char *request[] = { "echo", "last" };
	char text[64];

	send_request(pair, 2, request);
	assert_int_equal(shutdown(pair->client, SHUT_WR), 0);
	assert_true(receive_response(pair, text, sizeof(text)));
	assert_string_equal(text, "ok\nlast\n");
	assert_true(closed_without_response(pair));
	assert_false(log_contains("closed the connection of"));
}

static void
pair_logs_eof_inside_frame(void **state)
{
	pair_t *pair = *state;
	static const uint8_t frame[] = { 0, 0, 0, 10, 'e', 'c' };

	send_bytes(pair, frame, sizeof(frame));
	assert_int_equal(shutdown(pair->client, SHUT_WR), 0);
	assert_true(closed_without_response(pair));
	assert_true(log_contains("ended the connection inside a frame (6 bytes of it received)"));
}

static void
pair_closes_idle_connection(void **state)
{
	pair_t *pair = *state;
	struct timespec start, end;

	/* The limit applies to connections adopted after the change. */
	dz_control_set_limits(pair->control, 100, 0);
	int fds[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
	assert_int_equal(dz_control_adopt(pair->control, fds[0], NULL), DZ_OK);
	close(pair->client);
	pair->client = fds[1];
	clock_gettime(CLOCK_MONOTONIC, &start);
	assert_true(closed_without_response(pair));
	clock_gettime(CLOCK_MONOTONIC, &end);
	long elapsed_ms = (end.tv_sec - start.tv_sec) * 1000 + (end.tv_nsec - start.tv_nsec) / 1000000;
	assert_true(elapsed_ms >= 90);
	assert_true(elapsed_ms < 1500);
	assert_true(log_contains("idle for 100 ms"));
}

static void
pair_closes_reader_that_stalls(void **state)
{
	pair_t *pair = *state;
	char *request[] = { "big", "4194304" };
	int fds[2];

	dz_control_set_limits(pair->control, 100, 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
	assert_int_equal(dz_control_adopt(pair->control, fds[0], NULL), DZ_OK);
	close(pair->client);
	pair->client = fds[1];
	/* 4 MiB of output fills the socket buffers; the client never reads them. */
	send_request(pair, 2, request);
	/*
	 * A byte of a next frame every 20 ms keeps the reading side busy, so
	 * only the write timeout can end the connection.
	 */
	static const uint8_t next_frame[] = { 0, 0, 3, 232, 'e', 'c', 'h', 'o', 0, 'x', 'x', 'x',
					      'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x' };
	size_t sent = 0;
	long last_send_ms = -1000;
	for (int round = 0; round < 2000 && dz_control_connection_count(pair->control) > 0; round++) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long now_ms = now.tv_sec * 1000 + now.tv_nsec / 1000000;
		if (now_ms - last_send_ms >= 20 && sent < sizeof(next_frame)) {
			send(pair->client, next_frame + sent++, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			last_send_ms = now_ms;
		}
		event_base_loop(pair->base, EVLOOP_NONBLOCK);
		usleep(1000);
	}
	assert_int_equal(dz_control_connection_count(pair->control), 0);
	assert_true(log_contains("idle for 100 ms"));
	/* Closed while bytes still arrived every 20 ms: by the write timeout. */
	assert_true(sent < sizeof(next_frame));
}

static void
pair_limits_connections(void **state)
{
	pair_t *pair = *state;
	int fds[2];
	dz_error_t err;

	dz_control_set_limits(pair->control, 0, 2);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
	assert_int_equal(dz_control_adopt(pair->control, fds[0], NULL), DZ_OK);
	close(fds[1]);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
	dz_error_init(&err);
	assert_int_equal(dz_control_adopt(pair->control, fds[0], &err), DZ_EBUSY);
	assert_int_equal(dz_control_connection_count(pair->control), 2);
	assert_true(log_contains("the limit of 2 connections is reached"));
	/* The server closed its end: the client reads EOF. */
	char byte;
	assert_int_equal(recv(fds[1], &byte, 1, 0), 0);
	close(fds[1]);
}

/* ---- a server on a socket file --------------------------------------------- */

static void
call_round_trip(void **state)
{
	server_t *server = *state;
	char *request[] = { "echo", "caf\xc3\xa9", "example.net" };
	dz_buf_t out;
	dz_error_t err;

	dz_buf_init(&out);
	dz_error_init(&err);
	assert_int_equal(dz_control_call(server->path, 3, request, CALL_TIMEOUT_MS, &out, &err),
			 DZ_OK);
	assert_string_equal((char *)out.data, "caf\xc3\xa9\nexample.net\n");
	dz_buf_clear(&out);
}

static void
call_maps_error_response(void **state)
{
	server_t *server = *state;
	char *fail[] = { "fail" };
	char *unknown[] = { "nope" };
	char *wrong[] = { "big", "1", "2" };
	dz_buf_t out;
	dz_error_t err;

	dz_buf_init(&out);
	dz_error_init(&err);
	assert_int_equal(dz_control_call(server->path, 1, fail, CALL_TIMEOUT_MS, &out, &err),
			 DZ_ENOTFOUND);
	assert_string_equal(err.message, "zone a b.example is not ? configured");
	assert_int_equal(out.len, 0);
	assert_int_equal(dz_control_call(server->path, 1, unknown, CALL_TIMEOUT_MS, &out, &err),
			 DZ_ENOTFOUND);
	assert_true(strstr(err.message, "unknown command 'nope'") != NULL);
	assert_int_equal(dz_control_call(server->path, 3, wrong, CALL_TIMEOUT_MS, &out, &err),
			 DZ_EINVAL);
	assert_string_equal(err.message, "wrong number of arguments (2); usage: big BYTES");
	dz_buf_clear(&out);
}

static void
call_several_requests_on_one_connection(void **state)
{
	server_t *server = *state;
	char *first[] = { "echo", "1" };
	char *second[] = { "fail" };
	char *third[] = { "echo", "3" };
	dz_buf_t out;
	dz_error_t err;
	int fd;

	dz_buf_init(&out);
	dz_error_init(&err);
	assert_int_equal(dz_control_connect(server->path, CALL_TIMEOUT_MS, &fd, &err), DZ_OK);
	assert_int_equal(dz_control_request(fd, 2, first, CALL_TIMEOUT_MS, &out, &err), DZ_OK);
	assert_string_equal((char *)out.data, "1\n");
	out.len = 0;
	assert_int_equal(dz_control_request(fd, 1, second, CALL_TIMEOUT_MS, &out, &err),
			 DZ_ENOTFOUND);
	assert_int_equal(dz_control_request(fd, 2, third, CALL_TIMEOUT_MS, &out, &err), DZ_OK);
	assert_string_equal((char *)out.data, "3\n");
	close(fd);
	dz_buf_clear(&out);
}

static void
call_large_response(void **state)
{
	server_t *server = *state;
	char size[32];
	char *request[] = { "big", size };
	dz_buf_t out;
	dz_error_t err;

	dz_buf_init(&out);
	dz_error_init(&err);
	/* Larger than a request may be and than a socket buffer. */
	snprintf(size, sizeof(size), "%d", 1024 * 1024);
	assert_int_equal(dz_control_call(server->path, 2, request, CALL_TIMEOUT_MS, &out, &err),
			 DZ_OK);
	assert_int_equal(out.len, 1024 * 1024);
	assert_int_equal(out.data[0], 'x');
	assert_int_equal(out.data[out.len - 1], 'x');
	out.len = 0;
	/* "ok\n" and the output must fit in DZ_CONTROL_RESPONSE_MAX. */
	snprintf(size, sizeof(size), "%d", DZ_CONTROL_RESPONSE_MAX - 2);
	assert_int_equal(dz_control_call(server->path, 2, request, CALL_TIMEOUT_MS, &out, &err),
			 DZ_ETOOBIG);
	assert_true(strstr(err.message, "over the limit of 16777216 bytes of a response") != NULL);
	dz_buf_clear(&out);
}

static void
call_stop_response_arrives(void **state)
{
	server_t *server = *state;
	char *stop[] = { "stop" };
	dz_buf_t out;
	dz_error_t err;
	struct stat st;

	dz_buf_init(&out);
	dz_error_init(&err);
	assert_int_equal(dz_control_call(server->path, 1, stop, CALL_TIMEOUT_MS, &out, &err), DZ_OK);
	assert_string_equal((char *)out.data, "stopping\n");
	pthread_join(server->thread, NULL);
	server->running = false;
	/* dz_control_destroy() removed the socket file. */
	assert_int_equal(lstat(server->path, &st), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(dz_control_call(server->path, 1, stop, CALL_TIMEOUT_MS, &out, &err),
			 DZ_ENOTFOUND);
	dz_buf_clear(&out);
}

static void
create_sets_mode_and_group(void **state)
{
	server_t *server = *state;
	struct stat st;

	assert_int_equal(lstat(server->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_int_equal(st.st_gid, getegid());
	assert_true(log_contains("control: listening on "));
}

static void
create_rejects_second_daemon(void **state)
{
	server_t *server = *state;
	dz_control_t *second = NULL;
	dz_error_t err;
	char *request[] = { "echo", "still here" };
	dz_buf_t out;
	struct event_base *base = event_base_new();

	dz_error_init(&err);
	assert_int_equal(dz_control_create(base, server->path, 0600, (gid_t)-1, commands,
					   DZ_ARRAY_SIZE(commands), base, &second, &err),
			 DZ_EBUSY);
	assert_null(second);
	assert_true(strstr(err.message, "another danezoned is running") != NULL);
	event_base_free(base);
	/* The first server keeps its socket. */
	dz_buf_init(&out);
	assert_int_equal(dz_control_call(server->path, 2, request, CALL_TIMEOUT_MS, &out, &err),
			 DZ_OK);
	assert_string_equal((char *)out.data, "still here\n");
	dz_buf_clear(&out);
}

/* Leave a socket file at path on which nothing listens, as a killed daemon does. */
static void
make_stale_socket(const char *path)
{
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_true(strlen(path) < sizeof(address.sun_path));
	memcpy(address.sun_path, path, strlen(path));
	assert_int_equal(bind(fd, (struct sockaddr *)&address, sizeof(address)), 0);
	close(fd);
}

static void
create_replaces_stale_socket(void **state)
{
	server_t *server = calloc(1, sizeof(*server));
	dz_buf_t out;
	dz_error_t err;
	char *request[] = { "echo", "new" };
	char expected[256];

	(void)state;
	log_reset();
	dz_log_set_sink(capture_log, NULL);
	make_folder(server);
	make_stale_socket(server->path);
	dz_buf_init(&out);
	dz_error_init(&err);
	assert_int_equal(dz_control_call(server->path, 2, request, CALL_TIMEOUT_MS, &out, &err),
			 DZ_ENOTFOUND);
	snprintf(expected, sizeof(expected), "danezoned is not running (no answer on %s)",
		 server->path);
	assert_string_equal(err.message, expected);

	server_start(server, 0600, (gid_t)-1);
	assert_true(log_contains("removed the stale socket"));
	assert_int_equal(dz_control_call(server->path, 2, request, CALL_TIMEOUT_MS, &out, &err),
			 DZ_OK);
	assert_string_equal((char *)out.data, "new\n");
	dz_buf_clear(&out);
	void *pointer = server;
	teardown_server(&pointer);
}

static void
create_keeps_other_files(void **state)
{
	server_t server;
	dz_control_t *control = NULL;
	dz_error_t err;
	struct stat st;

	(void)state;
	memset(&server, 0, sizeof(server));
	make_folder(&server);
	FILE *fp = fopen(server.path, "w");
	assert_non_null(fp);
	fclose(fp);
	dz_error_init(&err);
	assert_int_equal(dz_control_create(server.base, server.path, 0600, (gid_t)-1, commands,
					   DZ_ARRAY_SIZE(commands), NULL, &control, &err),
			 DZ_EEXIST);
	assert_true(strstr(err.message, "is not a socket") != NULL);
	assert_int_equal(lstat(server.path, &st), 0);
	assert_true(S_ISREG(st.st_mode));

	char long_path[200];
	memset(long_path, 'p', sizeof(long_path) - 1);
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = '\0';
	assert_int_equal(dz_control_create(server.base, long_path, 0600, (gid_t)-1, commands,
					   DZ_ARRAY_SIZE(commands), NULL, &control, &err),
			 DZ_EINVAL);
	event_base_free(server.base);
	remove_folder(server.folder);
}

/* ---- peer credentials (root only) ------------------------------------------ */

/*
 * In a child, become uid NOBODY with primary group `gid` and supplementary
 * groups `groups`, call "echo" and exit with 0 when the result is
 * `expected` (and for DZ_EPERM the message names the rule), else 1.
 */
static pid_t
spawn_client(const char *path, gid_t gid, const gid_t *groups, size_t group_count,
	     dz_result_t expected)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid > 0)
		return pid;
	if (setgroups(group_count, groups) != 0 || setgid(gid) != 0 || setuid(NOBODY) != 0)
		_exit(2);
	char *request[] = { "echo", "hello" };
	dz_buf_t out;
	dz_error_t err;
	dz_buf_init(&out);
	dz_error_init(&err);
	dz_result_t result = dz_control_call(path, 2, request, CALL_TIMEOUT_MS, &out, &err);
	if (result != expected) {
		fprintf(stderr, "client as uid %d: %s\n", NOBODY, dz_error_message(&err));
		_exit(1);
	}
	if (expected == DZ_EPERM && strstr(err.message, "may not use the control socket") == NULL)
		_exit(1);
	if (expected == DZ_OK && strcmp((char *)out.data, "hello\n") != 0)
		_exit(1);
	_exit(0);
}

static int
wait_client(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void
peer_check_as_other_user(void **state)
{
	server_t *server;
	gid_t supplementary = SOCKET_GROUP;
	struct stat st;

	(void)state;
	if (geteuid() != 0) {
		skip();
		return;
	}
	log_reset();
	dz_log_set_sink(capture_log, NULL);
	server = calloc(1, sizeof(*server));
	make_folder(server);
	/* The file mode lets everyone connect, so only the peer check decides. */
	assert_int_equal(chmod(server->folder, 0755), 0);
	server_start(server, 0666, SOCKET_GROUP);

	assert_int_equal(lstat(server->path, &st), 0);
	assert_int_equal(st.st_gid, SOCKET_GROUP);
	assert_int_equal(st.st_mode & 07777, 0666);

	assert_int_equal(wait_client(spawn_client(server->path, NOBODY, NULL, 0, DZ_EPERM)), 0);
	assert_true(log_contains("control: rejected the connection of uid 65534 pid "));
	assert_true(log_contains("not in group 23456"));
	/* The socket's group as primary group, then as a supplementary group. */
	assert_int_equal(wait_client(spawn_client(server->path, SOCKET_GROUP, NULL, 0, DZ_OK)), 0);
	assert_int_equal(wait_client(spawn_client(server->path, NOBODY, &supplementary, 1, DZ_OK)), 0);

	void *pointer = server;
	teardown_server(&pointer);
}

int
main(void)
{
	/* As danezoned does: a response to a closed connection must not end the process. */
	signal(SIGPIPE, SIG_IGN);

	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_command_alone),
		cmocka_unit_test(parse_command_with_arguments),
		cmocka_unit_test(parse_rejects_empty_strings),
		cmocka_unit_test(parse_checks_utf8),
		cmocka_unit_test(parse_rejects_control_characters),
		cmocka_unit_test(parse_limits_argument_count),
		cmocka_unit_test(parse_limits_size),
		cmocka_unit_test(format_request_frames_text),
		cmocka_unit_test(format_request_checks_rules),
		cmocka_unit_test(format_error_keeps_one_line),
		cmocka_unit_test(parse_response_cases),
		cmocka_unit_test_setup_teardown(pair_answers_requests_in_order, setup_pair, teardown_pair),
		cmocka_unit_test_setup_teardown(pair_reports_command_errors, setup_pair, teardown_pair),
		cmocka_unit_test_setup_teardown(pair_closes_on_empty_frame, setup_pair, teardown_pair),
		cmocka_unit_test_setup_teardown(pair_closes_on_oversized_frame, setup_pair, teardown_pair),
		cmocka_unit_test_setup_teardown(pair_closes_on_invalid_utf8, setup_pair, teardown_pair),
		cmocka_unit_test_setup_teardown(pair_closes_on_trailing_nul, setup_pair, teardown_pair),
		cmocka_unit_test_setup_teardown(pair_closes_on_too_many_arguments, setup_pair,
						teardown_pair),
		cmocka_unit_test_setup_teardown(pair_answers_after_half_close, setup_pair, teardown_pair),
		cmocka_unit_test_setup_teardown(pair_logs_eof_inside_frame, setup_pair, teardown_pair),
		cmocka_unit_test_setup_teardown(pair_closes_idle_connection, setup_pair, teardown_pair),
		cmocka_unit_test_setup_teardown(pair_closes_reader_that_stalls, setup_pair, teardown_pair),
		cmocka_unit_test_setup_teardown(pair_limits_connections, setup_pair, teardown_pair),
		cmocka_unit_test_setup_teardown(call_round_trip, setup_server, teardown_server),
		cmocka_unit_test_setup_teardown(call_maps_error_response, setup_server, teardown_server),
		cmocka_unit_test_setup_teardown(call_several_requests_on_one_connection, setup_server,
						teardown_server),
		cmocka_unit_test_setup_teardown(call_large_response, setup_server, teardown_server),
		cmocka_unit_test_setup_teardown(call_stop_response_arrives, setup_server,
						teardown_server),
		cmocka_unit_test_setup_teardown(create_sets_mode_and_group, setup_server,
						teardown_server),
		cmocka_unit_test_setup_teardown(create_rejects_second_daemon, setup_server,
						teardown_server),
		cmocka_unit_test(create_replaces_stale_socket),
		cmocka_unit_test(create_keeps_other_files),
		cmocka_unit_test(peer_check_as_other_user),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
