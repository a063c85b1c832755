/*
 * cmd_daemon.c -- `danezone zone list`, `danezone reload` and `danezone
 * stop`, which ask a running danezoned over its control socket, and the
 * forwarding that `status`, `sign ZONE` and the key state commands use
 * when a daemon runs (signer/cmd_daemon.h).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "signer/cmd_daemon.h"
#include "signer/command.h"
#include "signer/control_client.h"
#include "zones/conf.h"

/* Load the configuration; NULL config_path selects the default file. */
static dz_result_t
load_config(const char *config_path, dz_config_t **config, dz_error_t *err)
{
	dz_cfg_diags_t diags;
	dz_result_t result;

	*config = NULL;
	dz_cfg_diags_init(&diags);
	result = dz_config_load(config_path != NULL ? config_path : DZ_CONFIG_DEFAULT_PATH, config,
				&diags, err);
	if (result != DZ_OK && dz_cfg_diags_first_error(&diags) != NULL)
		dz_error_set(err, result, "%s", dz_cfg_diags_first_error(&diags));
	dz_cfg_diags_clear(&diags);
	if (result == DZ_OK && (*config)->server.control_socket == NULL) {
		dz_config_destroy(*config);
		*config = NULL;
		return dz_error_set(err, DZ_ECONFIG,
				    "the configuration sets no server.control-socket and no "
				    "server.state-dir");
	}
	return result;
}

static void
print_output(const dz_buf_t *out)
{
	if (out->len > 0)
		fwrite(out->data, 1, out->len, stdout);
}

/*
 * Send the request on `fd` and print the response; returns the exit
 * status.  `command` names the danezone command in error messages.
 */
static int
request_and_print(const char *command, int fd, int argc, char **argv)
{
	dz_buf_t out;
	dz_error_t err;
	int status = DZ_EXIT_OK;

	dz_buf_init(&out);
	dz_error_init(&err);
	if (dz_control_request(fd, argc, argv, DZ_CONTROL_CALL_TIMEOUT_MS, &out, &err) != DZ_OK) {
		fprintf(stderr, "danezone %s: %s\n", command, dz_error_message(&err));
		status = DZ_EXIT_FAILURE;
	} else {
		print_output(&out);
	}
	dz_buf_clear(&out);
	return status;
}

/* Forward to the daemon at socket_path; false when nothing listens there. */
static bool
forward_to_socket(const char *command, const char *socket_path, int argc, char **argv,
		  int *status)
{
	dz_error_t err;
	int fd;

	dz_error_init(&err);
	dz_result_t result = dz_control_connect(socket_path, DZ_CONTROL_CALL_TIMEOUT_MS, &fd, &err);
	if (result == DZ_ENOTFOUND)
		return false;
	if (result != DZ_OK) {
		fprintf(stderr, "danezone %s: %s\n", command, dz_error_message(&err));
		*status = DZ_EXIT_FAILURE;
		return true;
	}
	*status = request_and_print(command, fd, argc, argv);
	close(fd);
	return true;
}

bool
dz_daemon_forward(const char *command, const char *config_path, int argc, char **argv,
		  int *status)
{
	dz_config_t *config;
	bool answered;

	if (load_config(config_path, &config, NULL) != DZ_OK)
		return false;
	answered = forward_to_socket(command, config->server.control_socket, argc, argv, status);
	dz_config_destroy(config);
	return answered;
}

/* ---- zone list, reload, stop ---------------------------------------------- */

typedef struct daemon_command {
	const char *name;    /* as typed after "danezone" */
	const char *request; /* command name on the control socket */
	const char *summary;
} daemon_command_t;

static void
daemon_usage(FILE *out, const daemon_command_t *command)
{
	fprintf(out,
		"usage: danezone %s [-c FILE]\n\n"
		"%s\n\n"
		"  -c, --config FILE   configuration file, whose server.control-socket is where\n"
		"                      danezoned listens (default %s)\n",
		command->name, command->summary, DZ_CONFIG_DEFAULT_PATH);
}

/* Run a command that needs the daemon; argv[0] is its last word. */
static int
run_daemon_command(const daemon_command_t *command, int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL;
	dz_config_t *config;
	dz_error_t err;
	int opt, status;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 'h':
			daemon_usage(stdout, command);
			return DZ_EXIT_OK;
		default:
			daemon_usage(stderr, command);
			return DZ_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		daemon_usage(stderr, command);
		return DZ_EXIT_USAGE;
	}
	dz_error_init(&err);
	if (load_config(config_path, &config, &err) != DZ_OK) {
		fprintf(stderr, "danezone %s: %s\n", command->name, dz_error_message(&err));
		return DZ_EXIT_FAILURE;
	}
	char *request[] = { (char *)command->request };
	if (!forward_to_socket(command->name, config->server.control_socket, 1, request, &status)) {
		fprintf(stderr, "danezone %s: danezoned is not running (no answer on %s)\n",
			command->name, config->server.control_socket);
		status = DZ_EXIT_FAILURE;
	}
	dz_config_destroy(config);
	return status;
}

static const daemon_command_t zone_list = {
	"zone list", "zone-list",
	"List the zones of the running danezoned with their published serial;\n"
	"'danezone status' shows more of each.",
};

int
dz_cmd_zone(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return run_daemon_command(&zone_list, argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
			  strcmp(argv[1], "help") == 0)) {
		daemon_usage(stdout, &zone_list);
		return DZ_EXIT_OK;
	}
	daemon_usage(stderr, &zone_list);
	return DZ_EXIT_USAGE;
}

int
dz_cmd_reload(int argc, char **argv)
{
	static const daemon_command_t reload = {
		"reload", "reload",
		"Have the running danezoned read its configuration again, as SIGHUP does.\n"
		"With errors in the new configuration it keeps the old one and reports them.",
	};
	return run_daemon_command(&reload, argc, argv);
}

int
dz_cmd_stop(int argc, char **argv)
{
	static const daemon_command_t stop = {
		"stop", "stop",
		"Stop the running danezoned after the writes in progress, as SIGTERM does.",
	};
	return run_daemon_command(&stop, argc, argv);
}

/* ---- sign ZONE ------------------------------------------------------------ */

bool
dz_daemon_sign(int argc, char **argv, int *status)
{
	const char *config_path = NULL;
	const char *zone = NULL;
	dz_config_t *config;

	/* Only "[-c FILE | --config FILE | --config=FILE] ZONE" in any order. */
	for (int i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc)
			config_path = argv[++i];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			config_path = argv[i] + 9;
		else if (argv[i][0] == '-' || zone != NULL)
			return false;
		else
			zone = argv[i];
	}
	if (zone == NULL || load_config(config_path, &config, NULL) != DZ_OK)
		return false;
	if (dz_config_find_zone(config, zone) == NULL) {
		dz_config_destroy(config);
		return false;
	}
	char *request[] = { "sign", (char *)zone };
	if (!forward_to_socket("sign", config->server.control_socket, 2, request, status)) {
		fprintf(stderr,
			"danezone sign: danezoned is not running (no answer on %s); to sign a zone "
			"file without it, run 'danezone sign --zone %s --input FILE ...'\n",
			config->server.control_socket, zone);
		*status = DZ_EXIT_FAILURE;
	}
	dz_config_destroy(config);
	return true;
}
