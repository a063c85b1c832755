/*
 * daemon_control.c -- the commands of the control socket (signer/control.h).
 *
 * Handlers run on the loop thread and return at once: `sign` and the key
 * commands schedule a signing run, `reload` and `stop` take effect after
 * the response is queued.  Arguments after the command name:
 *
 *   status [ZONE]            zone-list                sign ZONE
 *   reload                   stop
 *   ds-seen ZONE KEY [TIME]  ds-gone ZONE KEY [TIME]
 *   rollover ZONE KEY [TIME] [force]
 *   clock-ack ZONE           step ZONE                backup-done ZONE KEY
 *
 * KEY is a key tag or "#NUMBER"; TIME is "now", RFC 3339 UTC,
 * YYYYMMDDHHmmSS or @SECONDS (as `danezone key` accepts them).
 */
#include "config.h"

#include <grp.h>
#include <string.h>

#include "signer/control.h"
#include "signer/daemon.h"
#include "signer/key_state_cli.h"

static const char *
time_text(dz_time_t t, char buf[DZ_TIME_TEXT_MAX])
{
	if (t == DZ_TIME_NEVER || t == INT64_MAX)
		return "none";
	return dz_time_format(t, buf);
}

static void
zone_status(const daemon_zone_t *z, dz_buf_t *out)
{
	char a[DZ_TIME_TEXT_MAX], b[DZ_TIME_TEXT_MAX], c[DZ_TIME_TEXT_MAX];

	dz_buf_printf(out, "zone %s\n", z->name);
	if (z->published)
		dz_buf_printf(out, "  serial %u, zone file at serial %u, last published %s\n",
			      z->serial, z->text_serial, time_text(z->last_published_at, a));
	else
		dz_buf_printf(out, "  not published yet\n");
	dz_buf_printf(out, "  state %s%s%s\n", z->busy ? "signing" : "idle",
		      z->source_failed ? ", zone source failed to load (see the log)" : "",
		      z->sign_condition.active ? ", signing fails (see the log)"
		      : z->publish_condition.active ? ", publication fails (see the log)" : "");
	dz_buf_printf(out, "  last run: %zu RRsets signed, %zu signatures made, %zu kept\n",
		      z->last_rrsets_signed, z->last_signatures, z->last_signatures_kept);
	dz_buf_printf(out, "  next signature refresh %s, next key event %s, next retry %s\n",
		      time_text(z->refresh_at, a), time_text(z->key_event_at, b),
		      time_text(z->retry_at, c));
	if (z->keys != NULL && dz_key_manager_halted(z->keys) != NULL)
		dz_buf_printf(out, "  key management halted: %s\n", dz_key_manager_halted(z->keys));
	const dz_keyring_t *ring = z->keys != NULL ? dz_key_manager_ring(z->keys) : NULL;
	if (ring != NULL && ring->clock.frozen)
		dz_buf_printf(out, "  key transitions frozen since %s: %s; if the current time is "
			      "right, run 'danezone key clock-ack %s'\n",
			      time_text(ring->clock.frozen_at, a), ring->clock.reason, z->name);
}

void
daemon_status_text(const dz_daemon_t *d, const char *zone, dz_buf_t *out)
{
	for (size_t i = 0; i < d->zone_count; i++) {
		const daemon_zone_t *z = d->zones[i];
		if (zone != NULL && daemon_find_zone(d, zone) != z)
			continue;
		zone_status(z, out);
	}
}

static dz_result_t
find_zone(dz_daemon_t *d, const char *name, daemon_zone_t **z, dz_error_t *err)
{
	*z = daemon_find_zone(d, name);
	if (*z == NULL)
		return dz_error_set(err, DZ_ENOTFOUND, "zone %s is not configured in %s", name,
				    d->config_path);
	return DZ_OK;
}

static dz_result_t
handle_status(void *ctx, int argc, char **argv, dz_buf_t *out, dz_error_t *err)
{
	dz_daemon_t *d = ctx;
	daemon_zone_t *z;

	if (argc > 1 && find_zone(d, argv[1], &z, err) != DZ_OK)
		return err->code;
	daemon_status_text(d, argc > 1 ? argv[1] : NULL, out);
	return DZ_OK;
}

static dz_result_t
handle_zone_list(void *ctx, int argc, char **argv, dz_buf_t *out, dz_error_t *err)
{
	dz_daemon_t *d = ctx;

	(void)argc;
	(void)argv;
	(void)err;
	for (size_t i = 0; i < d->zone_count; i++) {
		const daemon_zone_t *z = d->zones[i];
		if (z->published)
			dz_buf_printf(out, "%s serial %u\n", z->name, z->serial);
		else
			dz_buf_printf(out, "%s not published\n", z->name);
	}
	return DZ_OK;
}

static dz_result_t
handle_sign(void *ctx, int argc, char **argv, dz_buf_t *out, dz_error_t *err)
{
	dz_daemon_t *d = ctx;
	daemon_zone_t *z;

	(void)argc;
	if (find_zone(d, argv[1], &z, err) != DZ_OK)
		return err->code;
	dz_log_zone(DZ_LOG_NOTICE, z->name, "signing run requested through the control socket");
	/* Reads every input again, so it also picks up a change the watches missed. */
	daemon_zone_request(z, DAEMON_WANT_SOURCE | DAEMON_WANT_MAIL | DAEMON_WANT_KEYS |
				       DAEMON_WANT_SIGN);
	dz_buf_printf(out, "signing run of %s scheduled\n", z->name);
	return DZ_OK;
}

static void
reload_later(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	daemon_reload(arg);
}

static dz_result_t
handle_reload(void *ctx, int argc, char **argv, dz_buf_t *out, dz_error_t *err)
{
	dz_daemon_t *d = ctx;
	struct timeval now = { 0, 0 };

	(void)argc;
	(void)argv;
	/* After this handler, so that the response goes out first. */
	if (event_base_once(d->base, -1, EV_TIMEOUT, reload_later, d, &now) != 0)
		return dz_error_set(err, DZ_ENOMEM, "cannot schedule the reload");
	dz_buf_printf(out, "reload of %s scheduled; the log shows the result\n", d->config_path);
	return DZ_OK;
}

static dz_result_t
handle_stop(void *ctx, int argc, char **argv, dz_buf_t *out, dz_error_t *err)
{
	dz_daemon_t *d = ctx;

	(void)argc;
	(void)argv;
	(void)err;
	dz_log(DZ_LOG_NOTICE, "stop requested through the control socket");
	daemon_request_stop(d);
	dz_buf_printf(out, "stopping\n");
	return DZ_OK;
}

/* The zone and its key manager of a key command. */
static dz_result_t
key_zone(dz_daemon_t *d, const char *name, daemon_zone_t **z, dz_error_t *err)
{
	if (find_zone(d, name, z, err) != DZ_OK)
		return err->code;
	if ((*z)->keys == NULL)
		return dz_error_set(err, DZ_ESTATE,
				    "key management of zone %s did not start; the daemon's log says why",
				    (*z)->name);
	return DZ_OK;
}

/* After an operator request: log it, let the next run apply it, and answer. */
static dz_result_t
key_done(daemon_zone_t *z, const char *what, dz_buf_t *out)
{
	dz_log_zone(DZ_LOG_NOTICE, z->name, "DNSSEC, %s requested through the control socket", what);
	/* The request may end a failure (clock-ack does), so it does not wait for the backoff. */
	z->retry_at = DZ_TIME_NEVER;
	daemon_zone_request(z, DAEMON_WANT_KEYS);
	dz_buf_printf(out, "%s recorded for %s; a signing run applies it now\n", what, z->name);
	return DZ_OK;
}

static dz_result_t
handle_ds(void *ctx, int argc, char **argv, dz_buf_t *out, dz_error_t *err)
{
	dz_daemon_t *d = ctx;
	bool seen = strcmp(argv[0], "ds-seen") == 0;
	dz_time_t now = daemon_now(d);
	dz_time_t when = now;
	daemon_zone_t *z;

	if (key_zone(d, argv[1], &z, err) != DZ_OK)
		return err->code;
	if (argc > 3 && dz_keycli_time(argv[3], now, &when, err) != DZ_OK)
		return err->code;
	dz_result_t result = seen ? dz_key_manager_ds_seen(z->keys, argv[2], when, now, err)
				  : dz_key_manager_ds_gone(z->keys, argv[2], when, now, err);
	if (result != DZ_OK)
		return result;
	return key_done(z, argv[0], out);
}

static dz_result_t
handle_rollover(void *ctx, int argc, char **argv, dz_buf_t *out, dz_error_t *err)
{
	dz_daemon_t *d = ctx;
	dz_time_t now = daemon_now(d);
	dz_time_t when = now;
	bool force = false;
	daemon_zone_t *z;

	if (key_zone(d, argv[1], &z, err) != DZ_OK)
		return err->code;
	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "force") == 0)
			force = true;
		else if (dz_keycli_time(argv[i], now, &when, err) != DZ_OK)
			return err->code;
	}
	dz_result_t result = dz_key_manager_request_rollover(z->keys, argv[2], when, force, now, err);
	if (result != DZ_OK)
		return result;
	return key_done(z, "rollover", out);
}

static dz_result_t
handle_clock_ack(void *ctx, int argc, char **argv, dz_buf_t *out, dz_error_t *err)
{
	daemon_zone_t *z;

	(void)argc;
	if (key_zone(ctx, argv[1], &z, err) != DZ_OK)
		return err->code;
	if (dz_key_manager_clock_ack(z->keys, err) != DZ_OK)
		return err->code;
	return key_done(z, "clock acknowledgement", out);
}

static dz_result_t
handle_step(void *ctx, int argc, char **argv, dz_buf_t *out, dz_error_t *err)
{
	daemon_zone_t *z;

	(void)argc;
	if (key_zone(ctx, argv[1], &z, err) != DZ_OK)
		return err->code;
	if (dz_key_manager_step(z->keys, err) != DZ_OK)
		return err->code;
	return key_done(z, "manual step", out);
}

static dz_result_t
handle_backup_done(void *ctx, int argc, char **argv, dz_buf_t *out, dz_error_t *err)
{
	daemon_zone_t *z;

	(void)argc;
	if (key_zone(ctx, argv[1], &z, err) != DZ_OK)
		return err->code;
	if (dz_key_manager_confirm_backup(z->keys, argv[2], err) != DZ_OK)
		return err->code;
	return key_done(z, "backup confirmation", out);
}

static const dz_control_command_t commands[] = {
	{ "status", 0, 1, handle_status, "[ZONE]" },
	{ "zone-list", 0, 0, handle_zone_list, "" },
	{ "sign", 1, 1, handle_sign, "ZONE" },
	{ "reload", 0, 0, handle_reload, "" },
	{ "stop", 0, 0, handle_stop, "" },
	{ "ds-seen", 2, 3, handle_ds, "ZONE KEY [TIME]" },
	{ "ds-gone", 2, 3, handle_ds, "ZONE KEY [TIME]" },
	{ "rollover", 2, 4, handle_rollover, "ZONE KEY [TIME] [force]" },
	{ "clock-ack", 1, 1, handle_clock_ack, "ZONE" },
	{ "step", 1, 1, handle_step, "ZONE" },
	{ "backup-done", 2, 2, handle_backup_done, "ZONE KEY" },
};

dz_result_t
daemon_control_start(dz_daemon_t *d, dz_error_t *err)
{
	const dz_config_server_t *server = &d->config->server;
	gid_t group = (gid_t)-1;
	dz_control_t *control = NULL;
	dz_result_t result;

	if (server->control_socket == NULL)
		return DZ_OK;
	if (server->group != NULL) {
		struct group *g = getgrnam(server->group);
		if (g == NULL)
			return dz_error_set(err, DZ_ECONFIG, "group %s of the control socket does not exist",
					    server->group);
		group = g->gr_gid;
	}
	result = dz_control_create(d->base, server->control_socket, (mode_t)server->control_mode,
				   group, commands, DZ_ARRAY_SIZE(commands), d, &control, err);
	if (result != DZ_OK)
		return dz_error_prefix(err, "control socket %s", server->control_socket);
	d->control = control;
	dz_log(DZ_LOG_INFO, "control socket %s ready", server->control_socket);
	return DZ_OK;
}

void
daemon_control_stop(dz_daemon_t *d)
{
	dz_control_destroy(d->control);
	d->control = NULL;
}
