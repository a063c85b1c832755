/*
 * danezoned.c -- the danezone daemon: keeps every configured zone signed,
 * its mail records current and its keys rolling, and serves it to the
 * secondaries as a hidden primary.
 *
 * Start-up order (see danezoned(8)): options, the configuration and its
 * checks, logging, background, pidfile, then the tokens and signer
 * processes, which fork before any thread exists.  Next come each zone's
 * published files and key state, the DNS server's sockets and the control
 * socket.  Privileges are dropped at a single point after them, and then
 * the watches, the worker threads and the loop start.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <ldns/ldns.h>
#include <openssl/crypto.h>
#include <yaml.h>

#include "common/file.h"
#include "keystore/policy_check.h"
#include "signer/daemon.h"

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: danezoned -c FILE [-f] [-d] [--allow-root] [--log-level LEVEL]\n"
		"                 [--pidfile PATH]\n"
		"\n"
		"Keep the configured zones signed and serve them as a hidden primary.\n"
		"\n"
		"  -c, --config FILE     configuration file (default %s)\n"
		"  -f, --foreground      stay in the foreground and log to standard error\n"
		"  -d, --debug           log at level debug\n"
		"  --allow-root          permit the processes to keep running as root\n"
		"  --log-level LEVEL     error, warning, notice, info or debug (overrides\n"
		"                        server.log-level)\n"
		"  --pidfile PATH        pidfile (overrides server.pidfile)\n"
		"  -h, --help            show this help\n"
		"  --version             print the versions and exit\n"
		"\n"
		"Signals: HUP reloads the configuration, TERM and INT stop.  See danezoned(8).\n",
		DZ_CONFIG_DEFAULT_PATH);
}

int64_t
daemon_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

dz_time_t
daemon_now(const dz_daemon_t *d)
{
	return dz_clock_now(d->clock);
}

void
daemon_request_stop(dz_daemon_t *d)
{
	event_base_loopexit(d->base, NULL);
}

/* "danezoned VERSION starting (ldns X, OpenSSL Y, libyaml Z, libevent W)" */
static void
log_versions(void)
{
	dz_log(DZ_LOG_NOTICE, "danezoned %s starting (ldns %s, OpenSSL %s, libyaml %s, libevent %s)",
	       PACKAGE_VERSION, ldns_version(), OpenSSL_version(OPENSSL_VERSION_STRING),
	       yaml_get_version_string(), event_get_version());
}

/*
 * Load and check the configuration as `danezone check-config` does; log
 * every error and warning (FILE:LINE:COLUMN).  NULL when it has errors.
 */
static dz_config_t *
load_config(const char *path, bool log_warnings)
{
	dz_config_t *config = NULL;
	dz_cfg_diags_t diags;
	dz_error_t err;

	dz_cfg_diags_init(&diags);
	dz_error_init(&err);
	if (dz_config_load(path, &config, &diags, &err) == DZ_OK) {
		for (size_t i = 0; i < config->policy_count; i++) {
			const dz_config_policy_t *p = &config->policies[i];
			dz_error_t policy_err;
			char key[300];
			dz_error_init(&policy_err);
			if (dz_key_policy_check(&p->policy, &policy_err) == DZ_OK)
				continue;
			snprintf(key, sizeof(key), "policies.%s", p->policy.name);
			dz_cfg_diag_add(&diags, DZ_LOG_ERROR, p->builtin ? NULL : config->path, p->mark,
					key, "%s", dz_error_message(&policy_err));
		}
		dz_mail_check_config(config, dz_clock_now(dz_clock_system()), &diags);
	}
	for (size_t i = 0; i < diags.count; i++) {
		if (diags.items[i].level == DZ_LOG_ERROR || log_warnings)
			dz_log(diags.items[i].level, "%s", diags.items[i].text);
	}
	if (config == NULL && diags.count == 0)
		dz_log(DZ_LOG_ERROR, "%s", dz_error_message(&err));
	if (config != NULL && diags.errors > 0) {
		dz_config_destroy(config);
		config = NULL;
	}
	if (config == NULL)
		dz_log(DZ_LOG_ERROR, "%s: %zu error%s in the configuration; 'danezone check-config -c %s' "
		       "lists them", path, diags.errors, diags.errors == 1 ? "" : "s", path);
	dz_cfg_diags_clear(&diags);
	return config;
}

dz_config_t *
daemon_load_config(const char *path, bool log_warnings)
{
	return load_config(path, log_warnings);
}

/*
 * Create and lock the pidfile.  The lock is held until exit, so a second
 * daemon finds it locked.  DZ_EBUSY names the pid of the live daemon.
 */
static dz_result_t
pidfile_create(dz_daemon_t *d, const char *path, dz_error_t *err)
{
	char text[32];
	int fd;

	if (path == NULL)
		return DZ_OK;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return dz_error_set(err, DZ_EIO, "cannot open the pidfile %s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		ssize_t n = read(fd, text, sizeof(text) - 1);
		text[n > 0 ? n : 0] = '\0';
		text[strcspn(text, "\n")] = '\0';
		close(fd);
		return dz_error_set(err, DZ_EBUSY,
				    "another danezoned (pid %s) holds the pidfile %s; stop it first",
				    text[0] != '\0' ? text : "unknown", path);
	}
	int len = snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || write(fd, text, (size_t)len) != len) {
		dz_error_set(err, DZ_EIO, "cannot write the pidfile %s: %s", path, strerror(errno));
		close(fd);
		return DZ_EIO;
	}
	/* The descriptor stays open until exit to keep the lock; O_CLOEXEC keeps it from hooks. */
	d->pidfile = strdup(path);
	if (d->pidfile == NULL) {
		close(fd);
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	}
	return DZ_OK;
}

/*
 * The single point where the daemon gives up privileges: every socket and
 * file that needs them is open before this call (signer/daemon_privsep.c).
 */
static dz_result_t
daemon_drop_privileges(dz_daemon_t *d, dz_error_t *err)
{
	return daemon_privsep_drop(d, err);
}

static void
signal_stop(evutil_socket_t fd, short what, void *arg)
{
	dz_daemon_t *d = arg;

	(void)what;
	dz_log(DZ_LOG_NOTICE, "received %s, stopping", fd == SIGTERM ? "SIGTERM" : "SIGINT");
	daemon_request_stop(d);
}

static void
signal_reload(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	dz_log(DZ_LOG_NOTICE, "received SIGHUP");
	daemon_reload(arg);
}

static dz_result_t
add_signals(dz_daemon_t *d, dz_error_t *err)
{
	static const int numbers[] = { SIGTERM, SIGINT, SIGHUP };

	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < DZ_ARRAY_SIZE(numbers); i++) {
		d->signal_events[i] = evsignal_new(d->base, numbers[i],
						   numbers[i] == SIGHUP ? signal_reload : signal_stop, d);
		if (d->signal_events[i] == NULL || event_add(d->signal_events[i], NULL) != 0)
			return dz_error_set(err, DZ_EIO, "cannot watch signal %d", numbers[i]);
	}
	return DZ_OK;
}

/* Create the zones of the configuration with their key managers and published state. */
static dz_result_t
zones_open(dz_daemon_t *d, dz_error_t *err)
{
	d->zones = calloc(d->config->zone_count > 0 ? d->config->zone_count : 1, sizeof(*d->zones));
	if (d->zones == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	for (size_t i = 0; i < d->config->zone_count; i++) {
		daemon_zone_t *z = NULL;
		dz_result_t result = daemon_zone_create(d, &d->config->zones[i], &z, err);
		if (result != DZ_OK)
			return result;
		d->zones[d->zone_count++] = z;
		result = daemon_keys_open(z, err);
		if (result == DZ_OK)
			result = daemon_zone_recover(z, err);
		if (result != DZ_OK)
			return result;
	}
	return DZ_OK;
}

static void
zones_close(dz_daemon_t *d)
{
	for (size_t i = 0; i < d->zone_count; i++)
		daemon_zone_destroy(d->zones[i]);
	free(d->zones);
	d->zones = NULL;
	d->zone_count = 0;
}

/* Everything before the loop; returns the exit status on failure, -1 on success. */
static int
start(dz_daemon_t *d, dz_error_t *err)
{
	if (!d->foreground && daemon(0, 0) != 0) {
		dz_error_set(err, DZ_EIO, "cannot go to the background: %s", strerror(errno));
		return DZ_DAEMON_EXIT_STARTUP;
	}
	log_versions();
	/* Before anything is forked or opened: the message says what to configure. */
	if (daemon_privsep_check_root(d, err) != DZ_OK)
		return DZ_DAEMON_EXIT_STARTUP;
	if (pidfile_create(d, d->pidfile_option != NULL ? d->pidfile_option
							: d->config->server.pidfile,
			   err) != DZ_OK)
		return DZ_DAEMON_EXIT_STARTUP;
	if (dz_mkdir_p(d->config->server.state_dir, 0755, err) != DZ_OK)
		return DZ_DAEMON_EXIT_STARTUP;
	d->base = event_base_new();
	if (d->base == NULL) {
		dz_error_set(err, DZ_ENOMEM, "cannot create the event loop");
		return DZ_DAEMON_EXIT_STARTUP;
	}
	/* Tokens first: the signer processes fork, and no thread may exist yet. */
	if (daemon_tokens_open(d, err) != DZ_OK)
		return DZ_DAEMON_EXIT_STARTUP;
	daemon_log_token(d);
	if (zones_open(d, err) != DZ_OK || daemon_privsep_prepare(d, err) != DZ_OK ||
	    daemon_serve_start(d, err) != DZ_OK ||
	    daemon_control_start(d, err) != DZ_OK || daemon_drop_privileges(d, err) != DZ_OK)
		return DZ_DAEMON_EXIT_STARTUP;
	if (daemon_mail_start(d, err) != DZ_OK || daemon_watch_start(d, err) != DZ_OK ||
	    add_signals(d, err) != DZ_OK || daemon_workers_start(d, err) != DZ_OK)
		return DZ_DAEMON_EXIT_STARTUP;
	for (size_t i = 0; i < d->zone_count; i++)
		daemon_zone_kick(d->zones[i]);
	if (daemon_zones_settled(d)) {
		d->started = true;
		dz_log(DZ_LOG_NOTICE, "started: %zu zones", d->zone_count);
	}
	return -1;
}

/* Finish the jobs in progress, bring the zone files up, and release everything. */
static void
stop(dz_daemon_t *d)
{
	d->stopping = true;
	daemon_workers_stop(d);
	daemon_zones_materialize_all(d);
	for (size_t i = 0; i < DZ_ARRAY_SIZE(d->signal_events); i++) {
		if (d->signal_events[i] != NULL)
			event_free(d->signal_events[i]);
	}
	daemon_control_stop(d);
	daemon_watch_stop(d);
	daemon_mail_stop(d);
	daemon_serve_stop(d);
	zones_close(d);
	daemon_tokens_close(d);
	if (d->base != NULL)
		event_base_free(d->base);
	if (d->pidfile != NULL && unlink(d->pidfile) != 0)
		dz_log(DZ_LOG_WARNING, "cannot remove the pidfile %s: %s", d->pidfile, strerror(errno));
	free(d->pidfile);
	dz_config_destroy(d->config);
}

int
main(int argc, char **argv)
{
	enum { OPT_ALLOW_ROOT = 1000, OPT_LOG_LEVEL, OPT_PIDFILE, OPT_VERSION };
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "debug", no_argument, NULL, 'd' },
		{ "allow-root", no_argument, NULL, OPT_ALLOW_ROOT },
		{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
		{ "pidfile", required_argument, NULL, OPT_PIDFILE },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	dz_daemon_t daemon_state;
	dz_daemon_t *d = &daemon_state;
	dz_error_t err;
	int opt;
	int status;

	memset(d, 0, sizeof(*d));
	d->config_path = DZ_CONFIG_DEFAULT_PATH;
	d->log_level = DZ_LOG_NOTICE;
	dz_error_init(&err);
	dz_log_open("danezoned", DZ_LOG_TARGET_STDERR, DZ_LOG_NOTICE);
	while ((opt = getopt_long(argc, argv, "c:fdh", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			d->config_path = optarg;
			break;
		case 'f':
			d->foreground = true;
			break;
		case 'd':
			d->log_level = DZ_LOG_DEBUG;
			d->log_level_set = true;
			break;
		case OPT_ALLOW_ROOT:
			d->allow_root = true;
			break;
		case OPT_LOG_LEVEL:
			if (!dz_log_level_parse(optarg, &d->log_level)) {
				fprintf(stderr, "danezoned: invalid log level '%s'; expected error, "
					"warning, notice, info or debug\n", optarg);
				return DZ_DAEMON_EXIT_CONFIG;
			}
			d->log_level_set = true;
			break;
		case OPT_PIDFILE:
			d->pidfile_option = optarg;
			break;
		case OPT_VERSION:
			log_versions();
			return DZ_DAEMON_EXIT_OK;
		case 'h':
			usage(stdout);
			return DZ_DAEMON_EXIT_OK;
		default:
			usage(stderr);
			return DZ_DAEMON_EXIT_CONFIG;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "danezoned: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return DZ_DAEMON_EXIT_CONFIG;
	}

	d->config = load_config(d->config_path, true);
	if (d->config == NULL)
		return DZ_DAEMON_EXIT_CONFIG;
	dz_log_open("danezoned", d->foreground ? DZ_LOG_TARGET_STDERR : d->config->server.log_target,
		    d->log_level_set ? d->log_level : d->config->server.log_level);
	d->clock = dz_clock_system();

	status = start(d, &err);
	if (status < 0) {
		event_base_dispatch(d->base);
		status = DZ_DAEMON_EXIT_OK;
	} else {
		dz_log(DZ_LOG_ERROR, "cannot start: %s", dz_error_message(&err));
	}
	stop(d);
	dz_log(DZ_LOG_NOTICE, status == DZ_DAEMON_EXIT_OK ? "stopped" : "stopped after a start-up error");
	dz_log_close();
	return status;
}
