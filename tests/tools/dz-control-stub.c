/*
 * dz-control-stub -- a control socket server with the commands of
 * danezoned and stub handlers, for the system tests of the `danezone`
 * commands that talk to the daemon.
 *
 *   dz-control-stub SOCKET [MODE]
 *
 * Listens on SOCKET (mode MODE in octal, default 0660) and prints
 * "listening" when ready.  It prints each request as one line
 * "request: NAME ARG..." and responds with the output "stub NAME ARG...".  Key state
 * requests are first parsed as danezoned parses them, so a malformed one
 * gets the parse error.  "status broken.example" gets an error response.
 * "stop" ends the program with exit status 0; it also ends by itself after
 * 60 seconds.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/clock.h"
#include "common/log.h"
#include "signer/control.h"
#include "signer/key_request.h"

#define LIFETIME_SECONDS 60

static struct event_base *base;

static void
print_request(int argc, char **argv, dz_buf_t *out)
{
	printf("request:");
	dz_buf_printf(out, "stub");
	for (int i = 0; i < argc; i++) {
		printf(" %s", argv[i]);
		dz_buf_printf(out, " %s", argv[i]);
	}
	printf("\n");
	fflush(stdout);
	dz_buf_printf(out, "\n");
}

static dz_result_t
handle(void *ctx, int argc, char **argv, dz_buf_t *out, dz_error_t *err)
{
	(void)ctx;
	print_request(argc, argv, out);
	if (strcmp(argv[0], "status") == 0 && argc == 2 && strcmp(argv[1], "broken.example") == 0)
		return dz_error_set(err, DZ_ENOTFOUND, "zone %s is not configured", argv[1]);
	if (strcmp(argv[0], "stop") == 0)
		event_base_loopbreak(base);
	return DZ_OK;
}

static dz_result_t
handle_key(void *ctx, int argc, char **argv, dz_buf_t *out, dz_error_t *err)
{
	dz_key_request_t request;
	dz_result_t result = dz_key_request_parse(argc, argv, dz_clock_now(dz_clock_system()),
						  &request, err);

	if (result != DZ_OK) {
		print_request(argc, argv, out);
		return result;
	}
	return handle(ctx, argc, argv, out, err);
}

static const dz_control_command_t commands[] = {
	{ "status", 0, 1, handle, "[ZONE]" },
	{ "zone-list", 0, 0, handle, "" },
	{ "sign", 1, 1, handle, "ZONE" },
	{ "reload", 0, 0, handle, "" },
	{ "stop", 0, 0, handle, "" },
#define STUB_KEY_COMMAND(name, kind, min_args, max_args, usage) \
	{ name, min_args, max_args, handle_key, usage },
	DZ_KEY_REQUEST_COMMANDS(STUB_KEY_COMMAND)
#undef STUB_KEY_COMMAND
};

int
main(int argc, char **argv)
{
	dz_control_t *control;
	dz_error_t err;
	struct timeval lifetime = { .tv_sec = LIFETIME_SECONDS };
	mode_t mode = argc > 2 ? (mode_t)strtoul(argv[2], NULL, 8) : 0660;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: dz-control-stub SOCKET [MODE]\n");
		return 2;
	}
	dz_log_open("dz-control-stub", DZ_LOG_TARGET_STDERR, DZ_LOG_DEBUG);
	signal(SIGPIPE, SIG_IGN);
	base = event_base_new();
	dz_error_init(&err);
	if (base == NULL || dz_control_create(base, argv[1], mode, (gid_t)-1, commands,
					      DZ_ARRAY_SIZE(commands), NULL, &control,
					      &err) != DZ_OK) {
		fprintf(stderr, "dz-control-stub: %s\n", dz_error_message(&err));
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	event_base_loopexit(base, &lifetime);
	event_base_dispatch(base);
	dz_control_destroy(control);
	event_base_free(base);
	return 0;
}
