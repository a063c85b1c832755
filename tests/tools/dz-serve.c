/*
 * dz-serve.c -- test driver: publish signed zone files into a state folder
 * and serve them with the danezone DNS server, until the daemon exists.
 *
 *   dz-serve --state DIR --zone NAME [options] [ZONEFILE]
 *
 * Options (repeatable where it makes sense):
 *   --listen ADDR[@PORT]        UDP and TCP address (port 0 picks a free one)
 *   --key ALG:NAME:SECRET       TSIG key
 *   --secondary "ADDR@PORT [key NAME]"   gets NOTIFY on each new serial, and
 *                               may query, as the daemon configures it
 *   --allow-transfer RULE       transfer ACL rule ("127.0.0.1 key NAME")
 *   --allow-notify RULE, --allow-query RULE
 *   --tcp-clients N, --tcp-idle-ms N, --notify-retry-ms N
 *   --journal-max BYTES         journal size bound
 *   --materialize-idle-ms N     rewrite the snapshot and zone text file on a
 *                               background thread once no diff came for N ms
 *                               (default 0: only on the command and at exit)
 *   --dns-user USER             run the DNS server in a process of its own
 *                               as USER (signer/server_proc.h); needs root
 *   --dns-chroot DIR            chroot that process to DIR (with --dns-user)
 *   --verbose                   log at debug level
 *
 * At start it recovers the state folder, brings the snapshot and text
 * file up to the committed serial, and publishes ZONEFILE when given and
 * its serial is not the one published.  Then it reads commands on
 * standard input, one per line:
 *   publish FILE   publish a full version (journal entry, snapshot, NOTIFY)
 *   diff FILE      commit a diff with the fast path (journal entry, NOTIFY).
 *                  FILE contains one RR per line, "-RR" removed and "+RR"
 *                  added, and the added SOA is the new SOA
 *   materialize    rewrite the snapshot and zone text file now
 *   status         print the serials of the published files
 *   server-pid     print "server-pid PID", the DNS server process (with
 *                  --dns-user; 0 while it restarts)
 *   server-raw HEX send the bytes HEX to the DNS server process, to test
 *                  its parser (with --dns-user)
 *   quit           stop (after a last materialization)
 * It prints "ready PORT" once listening, "published SERIAL in MS ms" after
 * each publication, "materialized SERIAL in MS ms, server reload MS ms"
 * (the time of the rewrite, then of the server mapping the new snapshot),
 * "status serial S
 * snapshot N text T pending P" and "error: MESSAGE" when a command fails.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <ldns/ldns.h>

#include "common/clock.h"
#include "common/file.h"
#include "common/log.h"
#include "common/mem.h"
#include "signer/publish.h"
#include "signer/server.h"
#include "signer/server_proc.h"
#include "signer/wire.h"

/*
 * The background materialization.  The loop thread sets `due_ms` after
 * each diff, and the thread materializes once the monotonic clock passes
 * it.  Then it wakes the loop through `done_pipe`, so that the server maps
 * the new snapshot.
 */
typedef struct materializer {
	pthread_t thread;
	bool running;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;
	double due_ms; /* 0 when nothing is pending */
	unsigned idle_ms;
	int done_pipe[2];
	struct event *done_event;
} materializer_t;

typedef struct app {
	struct event_base *base;
	dz_server_t *server;
	dz_server_proc_t *server_proc; /* instead of `server` with --dns-user */
	dz_publish_target_t target;
	materializer_t materializer;
	char line[8192];
	size_t line_len;
} app_t;

static double
monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

typedef struct wire_rr {
	uint8_t *data;
	size_t len;
	dz_wire_rr_t rr;
} wire_rr_t;

static int
compare_wire_rr(const void *a, const void *b)
{
	const wire_rr_t *x = a;
	const wire_rr_t *y = b;

	/* The SOA goes first; everything else in canonical order. */
	if (x->rr.type == DZ_TYPE_SOA || y->rr.type == DZ_TYPE_SOA)
		return (y->rr.type == DZ_TYPE_SOA) - (x->rr.type == DZ_TYPE_SOA);
	return dz_wire_rr_compare(&x->rr, &y->rr);
}

/* Convert one ldns RR to canonical wire form and append it to `rrs`. */
static dz_result_t
add_rr(ldns_rr *rr, wire_rr_t **rrs, size_t *count, size_t *cap, dz_error_t *err)
{
	uint8_t *wire = NULL;
	size_t size = 0;

	ldns_rr2canonical(rr);
	if (ldns_rr2wire(&wire, rr, LDNS_SECTION_ANSWER, &size) != LDNS_STATUS_OK)
		return dz_error_set(err, DZ_EZONE, "ldns cannot convert an RR to wire form");
	if (*count == *cap) {
		size_t grown = *cap == 0 ? 1024 : *cap * 2;
		wire_rr_t *list = realloc(*rrs, grown * sizeof(*list));
		if (list == NULL) {
			free(wire);
			return dz_error_set(err, DZ_ENOMEM, "out of memory");
		}
		*rrs = list;
		*cap = grown;
	}
	wire_rr_t *entry = &(*rrs)[(*count)++];
	entry->data = wire;
	entry->len = size;
	size_t offset = 0;
	return dz_wire_rr_parse(wire, size, &offset, &entry->rr) == DZ_OK
		       ? DZ_OK
		       : dz_error_set(err, DZ_EZONE, "invalid RR from ldns");
}

/* Publish the zone file at `path` as a new version. */
static dz_result_t
publish_file(app_t *app, const char *path, uint32_t *serial, dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	ldns_zone *zone = NULL;
	ldns_rdf *origin = NULL;
	wire_rr_t *rrs = NULL;
	size_t count = 0;
	size_t cap = 0;
	dz_snapshot_writer_t *writer = NULL;
	int line = 0;
	FILE *fp = fopen(path, "r");

	if (fp == NULL)
		return dz_error_set(err, DZ_ENOTFOUND, "cannot open %s: %s", path, strerror(errno));
	origin = ldns_dname_new_frm_str(app->target.zone);
	ldns_status status = ldns_zone_new_frm_fp_l(&zone, fp, origin, 3600, LDNS_RR_CLASS_IN,
						    &line);
	fclose(fp);
	if (status != LDNS_STATUS_OK) {
		result = dz_error_set(err, DZ_ESYNTAX, "%s line %d: %s", path, line,
				      ldns_get_errorstr_by_id(status));
		goto cleanup;
	}
	if (ldns_zone_soa(zone) == NULL) {
		result = dz_error_set(err, DZ_EZONE, "%s has no SOA record", path);
		goto cleanup;
	}
	result = add_rr(ldns_zone_soa(zone), &rrs, &count, &cap, err);
	for (size_t i = 0; result == DZ_OK && i < ldns_rr_list_rr_count(ldns_zone_rrs(zone)); i++)
		result = add_rr(ldns_rr_list_rr(ldns_zone_rrs(zone), i), &rrs, &count, &cap, err);
	if (result != DZ_OK)
		goto cleanup;
	qsort(rrs, count, sizeof(*rrs), compare_wire_rr);

	result = dz_publish_begin(&app->target, &writer, err);
	if (result != DZ_OK)
		goto cleanup;
	for (size_t i = 0; result == DZ_OK && i < count; i++) {
		/* Zone files may repeat a record, but a version contains it once. */
		if (i > 0 && dz_wire_rr_compare(&rrs[i - 1].rr, &rrs[i].rr) == 0)
			continue;
		result = dz_snapshot_writer_add(writer, rrs[i].data, rrs[i].len, err);
	}
	if (result != DZ_OK) {
		dz_snapshot_writer_abort(writer);
		goto cleanup;
	}
	result = dz_publish_commit(&app->target, writer, NULL, NULL, serial, err);

cleanup:
	for (size_t i = 0; i < count; i++)
		free(rrs[i].data);
	free(rrs);
	ldns_zone_deep_free(zone);
	ldns_rdf_deep_free(origin);
	return result;
}

/* Convert one RR in presentation form to canonical wire form and append it to `out`. */
static dz_result_t
append_text_rr(const char *text, ldns_rdf *origin, dz_buf_t *out, bool *is_soa, dz_error_t *err)
{
	ldns_rr *rr = NULL;
	uint8_t *wire = NULL;
	size_t size = 0;
	ldns_status status = ldns_rr_new_frm_str(&rr, text, 3600, origin, NULL);

	if (status != LDNS_STATUS_OK)
		return dz_error_set(err, DZ_ESYNTAX, "invalid RR '%s': %s", text,
				    ldns_get_errorstr_by_id(status));
	ldns_rr2canonical(rr);
	*is_soa = ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA;
	status = ldns_rr2wire(&wire, rr, LDNS_SECTION_ANSWER, &size);
	ldns_rr_free(rr);
	if (status != LDNS_STATUS_OK)
		return dz_error_set(err, DZ_EZONE, "ldns cannot convert '%s' to wire form", text);
	dz_result_t result = dz_buf_append(out, wire, size);
	free(wire);
	return result == DZ_OK ? DZ_OK : dz_error_set(err, result, "out of memory");
}

/* Commit the diff in the file at `path` with the fast path. */
static dz_result_t
publish_diff_file(app_t *app, const char *path, uint32_t *serial, dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	dz_buf_t removed, added, soa;
	char line[65536];
	int number = 0;
	ldns_rdf *origin = ldns_dname_new_frm_str(app->target.zone);
	FILE *fp = fopen(path, "r");

	dz_buf_init(&removed);
	dz_buf_init(&added);
	dz_buf_init(&soa);
	if (fp == NULL) {
		result = dz_error_set(err, DZ_ENOTFOUND, "cannot open %s: %s", path, strerror(errno));
		goto cleanup;
	}
	while (result == DZ_OK && fgets(line, sizeof(line), fp) != NULL) {
		bool is_soa = false;
		number++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == ';')
			continue;
		if (line[0] != '-' && line[0] != '+') {
			result = dz_error_set(err, DZ_ESYNTAX,
					      "%s line %d: start the line with '-' (removed) or '+' "
					      "(added)",
					      path, number);
			break;
		}
		dz_buf_t scratch;
		dz_buf_init(&scratch);
		result = append_text_rr(line + 1, origin, &scratch, &is_soa, err);
		/* The old SOA comes from the journal, so a removed SOA is skipped. */
		dz_buf_t *target = NULL;
		if (is_soa && line[0] == '+')
			target = &soa;
		else if (!is_soa)
			target = line[0] == '-' ? &removed : &added;
		if (result == DZ_OK && target != NULL &&
		    dz_buf_append(target, scratch.data, scratch.len) != DZ_OK)
			result = dz_error_set(err, DZ_ENOMEM, "out of memory");
		dz_buf_clear(&scratch);
	}
	if (result == DZ_OK && soa.len == 0)
		result = dz_error_set(err, DZ_EZONE, "%s has no added SOA (\"+... SOA ...\")", path);
	if (result == DZ_OK)
		result = dz_publish_diff(&app->target, &removed, &added, &soa, serial, err);

cleanup:
	if (fp != NULL)
		fclose(fp);
	dz_buf_clear(&removed);
	dz_buf_clear(&added);
	dz_buf_clear(&soa);
	ldns_rdf_deep_free(origin);
	return result;
}

/* Tell the server, in this process or in its own, that the zone was published. */
static dz_result_t
server_published(app_t *app, dz_error_t *err)
{
	if (app->server_proc != NULL)
		return dz_server_proc_published(app->server_proc, app->target.zone, err);
	return dz_server_zone_published(app->server, app->target.zone, err);
}

/* Send the bytes of the hex text `hex` to the DNS server process. */
static dz_result_t
send_raw(app_t *app, const char *hex, dz_error_t *err)
{
	uint8_t bytes[4096];
	size_t len = 0;

	if (app->server_proc == NULL)
		return dz_error_set(err, DZ_ESTATE, "server-raw needs --dns-user");
	for (; hex[0] != '\0' && hex[1] != '\0' && len < sizeof(bytes); hex += 2) {
		unsigned value;
		if (sscanf(hex, "%2x", &value) != 1)
			return dz_error_set(err, DZ_ESYNTAX, "invalid hex at '%s'", hex);
		bytes[len++] = (uint8_t)value;
	}
	if (hex[0] != '\0')
		return dz_error_set(err, DZ_ESYNTAX, "odd number of hex digits or more than %zu bytes",
				    sizeof(bytes));
	return dz_server_proc_send_raw(app->server_proc, bytes, len, err);
}

/* Schedule a background materialization `idle_ms` from now, if enabled. */
static void
materializer_schedule(materializer_t *m)
{
	if (!m->running)
		return;
	pthread_mutex_lock(&m->lock);
	m->due_ms = monotonic_ms() + m->idle_ms;
	pthread_cond_signal(&m->wake);
	pthread_mutex_unlock(&m->lock);
}

static void *
materializer_main(void *arg)
{
	app_t *app = arg;
	materializer_t *m = &app->materializer;

	pthread_mutex_lock(&m->lock);
	while (!m->stop) {
		if (m->due_ms == 0) {
			pthread_cond_wait(&m->wake, &m->lock);
			continue;
		}
		double now = monotonic_ms();
		if (now < m->due_ms) {
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			double wait_ms = m->due_ms - now;
			until.tv_sec += (time_t)(wait_ms / 1000);
			until.tv_nsec += (long)((wait_ms - (double)(long)(wait_ms / 1000) * 1000) * 1e6);
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&m->wake, &m->lock, &until);
			continue;
		}
		m->due_ms = 0;
		pthread_mutex_unlock(&m->lock);
		dz_error_t err;
		dz_error_init(&err);
		if (dz_publish_materialize(&app->target, NULL, &err) != DZ_OK)
			dz_log(DZ_LOG_ERROR, "background materialization failed: %s",
			       dz_error_message(&err));
		char byte = 1;
		if (write(m->done_pipe[1], &byte, 1) != 1)
			dz_log(DZ_LOG_WARNING, "cannot wake the event loop: %s", strerror(errno));
		pthread_mutex_lock(&m->lock);
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

/* A background materialization ended: let the server map the new snapshot. */
static void
materializer_done(evutil_socket_t fd, short what, void *arg)
{
	app_t *app = arg;
	char bytes[64];
	dz_error_t err;

	(void)what;
	while (read(fd, bytes, sizeof(bytes)) > 0)
		continue;
	dz_error_init(&err);
	if (server_published(app, &err) != DZ_OK)
		dz_log(DZ_LOG_ERROR, "cannot load the new snapshot: %s", dz_error_message(&err));
}

static bool
materializer_start(app_t *app, unsigned idle_ms)
{
	materializer_t *m = &app->materializer;

	m->idle_ms = idle_ms;
	if (idle_ms == 0)
		return true;
	if (pipe2(m->done_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		return false;
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->wake, NULL);
	m->done_event = event_new(app->base, m->done_pipe[0], EV_READ | EV_PERSIST, materializer_done,
				  app);
	if (m->done_event == NULL || event_add(m->done_event, NULL) != 0 ||
	    pthread_create(&m->thread, NULL, materializer_main, app) != 0)
		return false;
	m->running = true;
	return true;
}

static void
materializer_stop(materializer_t *m)
{
	if (!m->running)
		return;
	pthread_mutex_lock(&m->lock);
	m->stop = true;
	pthread_cond_signal(&m->wake);
	pthread_mutex_unlock(&m->lock);
	pthread_join(m->thread, NULL);
	event_free(m->done_event);
	close(m->done_pipe[0]);
	close(m->done_pipe[1]);
	pthread_mutex_destroy(&m->lock);
	pthread_cond_destroy(&m->wake);
	m->running = false;
}

/*
 * Materialize now and let the server map the new snapshot; *reload_ms is
 * the time the server took for that.
 */
static dz_result_t
materialize_now(app_t *app, uint32_t *serial, double *reload_ms, dz_error_t *err)
{
	dz_result_t result = dz_publish_materialize(&app->target, serial, err);
	double started = monotonic_ms();

	if (result == DZ_OK && (app->server != NULL || app->server_proc != NULL))
		result = server_published(app, err);
	*reload_ms = monotonic_ms() - started;
	return result;
}

static void
run_command(app_t *app, char *line)
{
	dz_error_t err;
	uint32_t serial = 0;
	double started = monotonic_ms();

	dz_error_init(&err);
	if (strcmp(line, "quit") == 0) {
		event_base_loopexit(app->base, NULL);
		return;
	}
	if (strncmp(line, "publish ", 8) == 0 || strncmp(line, "diff ", 5) == 0) {
		bool diff = line[0] == 'd';
		dz_result_t result = diff ? publish_diff_file(app, line + 5, &serial, &err)
					  : publish_file(app, line + 8, &serial, &err);
		if (result == DZ_OK)
			result = server_published(app, &err);
		if (result != DZ_OK) {
			printf("error: %s\n", dz_error_message(&err));
		} else {
			printf("published %u in %.3f ms\n", serial, monotonic_ms() - started);
			if (diff)
				materializer_schedule(&app->materializer);
		}
		fflush(stdout);
		return;
	}
	if (strcmp(line, "materialize") == 0) {
		double reload_ms = 0;
		if (materialize_now(app, &serial, &reload_ms, &err) != DZ_OK)
			printf("error: %s\n", dz_error_message(&err));
		else
			printf("materialized %u in %.3f ms, server reload %.3f ms\n", serial,
			       monotonic_ms() - started - reload_ms, reload_ms);
		fflush(stdout);
		return;
	}
	if (strcmp(line, "status") == 0) {
		dz_publish_status_t status;
		if (dz_publish_status(&app->target, &status, &err) != DZ_OK)
			printf("error: %s\n", dz_error_message(&err));
		else
			printf("status serial %u snapshot %u text %u pending %zu\n", status.serial,
			       status.snapshot_serial, status.has_text ? status.text_serial : 0,
			       status.pending_entries);
		fflush(stdout);
		return;
	}
	if (strcmp(line, "server-pid") == 0) {
		printf("server-pid %ld\n",
		       app->server_proc != NULL ? (long)dz_server_proc_pid(app->server_proc) : 0L);
		fflush(stdout);
		return;
	}
	if (strncmp(line, "server-raw ", 11) == 0) {
		if (send_raw(app, line + 11, &err) != DZ_OK)
			printf("error: %s\n", dz_error_message(&err));
		else
			printf("sent %zu\n", (strlen(line) - 11) / 2);
		fflush(stdout);
		return;
	}
	printf("error: unknown command '%s'; expected 'publish FILE', 'diff FILE', "
	       "'materialize', 'status', 'server-pid', 'server-raw HEX' or 'quit'\n",
	       line);
	fflush(stdout);
}

static void
stdin_read(evutil_socket_t fd, short what, void *arg)
{
	app_t *app = arg;

	(void)what;
	ssize_t n = read(fd, app->line + app->line_len, sizeof(app->line) - 1 - app->line_len);
	if (n <= 0) {
		event_base_loopexit(app->base, NULL);
		return;
	}
	app->line_len += (size_t)n;
	app->line[app->line_len] = '\0';
	char *newline;
	while ((newline = strchr(app->line, '\n')) != NULL) {
		*newline = '\0';
		run_command(app, app->line);
		size_t rest = app->line_len - (size_t)(newline + 1 - app->line);
		memmove(app->line, newline + 1, rest + 1);
		app->line_len = rest;
	}
	if (app->line_len == sizeof(app->line) - 1)
		app->line_len = 0;
}

static void
stop_signal(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopexit(arg, NULL);
}

static int
usage(void)
{
	fprintf(stderr, "usage: dz-serve --state DIR --zone NAME [--listen ADDR@PORT] [--key ALG:NAME:SECRET]\n"
			"                [--secondary 'ADDR@PORT [key NAME]'] [--allow-transfer RULE]\n"
			"                [--allow-notify RULE] [--allow-query RULE] [--tcp-clients N]\n"
			"                [--tcp-idle-ms N] [--notify-retry-ms N] [--journal-max BYTES]\n"
			"                [--materialize-idle-ms N] [--dns-user USER [--dns-chroot DIR]]\n"
			"                [--verbose] [ZONEFILE]\n");
	return 2;
}

int
main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "state", required_argument, NULL, 's' },
		{ "zone", required_argument, NULL, 'z' },
		{ "listen", required_argument, NULL, 'l' },
		{ "key", required_argument, NULL, 'k' },
		{ "secondary", required_argument, NULL, 'S' },
		{ "allow-transfer", required_argument, NULL, 't' },
		{ "allow-notify", required_argument, NULL, 'n' },
		{ "allow-query", required_argument, NULL, 'q' },
		{ "tcp-clients", required_argument, NULL, 'c' },
		{ "tcp-idle-ms", required_argument, NULL, 'i' },
		{ "notify-retry-ms", required_argument, NULL, 'r' },
		{ "journal-max", required_argument, NULL, 'j' },
		{ "materialize-idle-ms", required_argument, NULL, 'm' },
		{ "dns-user", required_argument, NULL, 'u' },
		{ "dns-chroot", required_argument, NULL, 'C' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	dz_server_config_t config;
	dz_server_zone_config_t *zone = NULL;
	const char *state = NULL;
	const char *zone_name = NULL;
	size_t journal_max = 0;
	unsigned materialize_idle_ms = 0;
	dz_server_proc_options_t proc_options = { 0 };
	app_t app;
	dz_error_t err;
	int status = 1;
	int opt;
	/* Zone options are collected first: the zone exists once --zone is seen. */
	const char *secondaries[32], *transfer[32], *notify[32], *query[32];
	size_t n_secondaries = 0, n_transfer = 0, n_notify = 0, n_query = 0;

	memset(&app, 0, sizeof(app));
	dz_error_init(&err);
	dz_server_config_init(&config);
	dz_log_open("dz-serve", DZ_LOG_TARGET_STDERR, DZ_LOG_INFO);
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		dz_result_t result = DZ_OK;
		switch (opt) {
		case 's': state = optarg; break;
		case 'z': zone_name = optarg; break;
		case 'l': result = dz_server_config_add_listen(&config, optarg, &err); break;
		case 'k': result = dz_server_config_add_key(&config, optarg, &err); break;
		case 'S': if (n_secondaries < 32) secondaries[n_secondaries++] = optarg; break;
		case 't': if (n_transfer < 32) transfer[n_transfer++] = optarg; break;
		case 'n': if (n_notify < 32) notify[n_notify++] = optarg; break;
		case 'q': if (n_query < 32) query[n_query++] = optarg; break;
		case 'c': config.tcp_clients_max = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'i': config.tcp_idle_ms = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'r': config.notify_retry_ms = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'j': journal_max = strtoul(optarg, NULL, 10); break;
		case 'm': materialize_idle_ms = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'u': proc_options.user = optarg; break;
		case 'C': proc_options.chroot = optarg; break;
		case 'v': dz_log_set_level(DZ_LOG_DEBUG); break;
		default: return usage();
		}
		if (result != DZ_OK) {
			fprintf(stderr, "dz-serve: %s\n", dz_error_message(&err));
			goto cleanup;
		}
	}
	if (state == NULL || zone_name == NULL || argc - optind > 1)
		return usage();
	if (dz_mkdir_p(state, 0755, &err) != DZ_OK ||
	    dz_server_config_add_zone(&config, zone_name, state, &zone, &err) != DZ_OK)
		goto fail;
	for (size_t i = 0; i < n_secondaries; i++) {
		if (dz_server_zone_add_secondary(zone, secondaries[i], &err) != DZ_OK)
			goto fail;
		/* Secondaries may query, as dz_server_config_from_config() allows them. */
		char host[DZ_SERVER_ADDRESS_TEXT_MAX];
		dz_server_address_format((const struct sockaddr *)&zone->secondaries[i].address.address,
					 host, sizeof(host));
		host[strcspn(host, "#")] = '\0';
		if (dz_acl_add(&zone->query_acl, host, &err) != DZ_OK)
			goto fail;
	}
	for (size_t i = 0; i < n_transfer; i++)
		if (dz_acl_add(&zone->transfer_acl, transfer[i], &err) != DZ_OK)
			goto fail;
	for (size_t i = 0; i < n_notify; i++)
		if (dz_acl_add(&zone->notify_acl, notify[i], &err) != DZ_OK)
			goto fail;
	for (size_t i = 0; i < n_query; i++)
		if (dz_acl_add(&zone->query_acl, query[i], &err) != DZ_OK)
			goto fail;
	if (dz_publish_target_init(&app.target, state, zone_name, journal_max, &err) != DZ_OK)
		goto fail;

	uint32_t published = 0;
	dz_result_t recovered = dz_publish_recover(&app.target, &published, &err);
	if (recovered != DZ_OK && recovered != DZ_ENOTFOUND)
		goto fail;
	dz_error_init(&err);
	if (recovered == DZ_OK && dz_publish_materialize(&app.target, NULL, &err) != DZ_OK)
		goto fail;

	app.base = event_base_new();
	if (app.base == NULL)
		goto cleanup;
	if (proc_options.user != NULL) {
		if (dz_server_proc_start(app.base, &config, &proc_options, &app.server_proc, &err) !=
		    DZ_OK)
			goto fail;
	} else if (dz_server_create(app.base, &config, dz_clock_system(), &app.server, &err) !=
		   DZ_OK) {
		goto fail;
	}
	if (!materializer_start(&app, materialize_idle_ms)) {
		dz_error_set(&err, DZ_EIO, "cannot start the materialization thread");
		goto fail;
	}
	if (optind < argc) {
		uint32_t serial = 0;
		if (publish_file(&app, argv[optind], &serial, &err) != DZ_OK &&
		    err.code != DZ_ESTATE)
			goto fail;
		if (server_published(&app, &err) != DZ_OK)
			goto fail;
	}

	struct event *input = event_new(app.base, STDIN_FILENO, EV_READ | EV_PERSIST, stdin_read,
					&app);
	struct event *term = evsignal_new(app.base, SIGTERM, stop_signal, app.base);
	struct event *intr = evsignal_new(app.base, SIGINT, stop_signal, app.base);
	event_add(input, NULL);
	event_add(term, NULL);
	event_add(intr, NULL);
	signal(SIGPIPE, SIG_IGN);
	int family = config.listen_count > 0 ? config.listen[0].address.ss_family : AF_INET;
	printf("ready %d\n", app.server_proc != NULL ? dz_server_proc_port(app.server_proc, family)
						     : dz_server_port(app.server, family));
	fflush(stdout);
	event_base_dispatch(app.base);
	event_free(input);
	event_free(term);
	event_free(intr);
	materializer_stop(&app.materializer);
	/* The text file is current when the driver stops, as the daemon leaves it. */
	dz_result_t materialized = dz_publish_materialize(&app.target, NULL, &err);
	if (materialized != DZ_OK && materialized != DZ_ENOTFOUND)
		goto fail;
	dz_log(DZ_LOG_NOTICE, "stopped");
	status = 0;
	goto cleanup;

fail:
	fprintf(stderr, "dz-serve: %s\n", dz_error_message(&err));
cleanup:
	materializer_stop(&app.materializer);
	dz_server_proc_stop(app.server_proc);
	dz_server_destroy(app.server);
	if (app.base != NULL)
		event_base_free(app.base);
	dz_server_config_clear(&config);
	return status;
}
