/*
 * daemon_serve.c -- the daemon's only contact with the DNS server.
 *
 * The server runs in the daemon's event loop for now.  Every dz_server_*
 * call is in this file, so that running it in its own unprivileged process
 * (signer/server_proc.h) changes only this file.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "signer/daemon.h"
#include "signer/server.h"

struct daemon_serve {
	dz_server_config_t config; /* must outlive the server */
	dz_server_t *server;
};

static dz_result_t
serve_create(dz_daemon_t *d, const dz_config_t *config, daemon_serve_t **out, dz_error_t *err)
{
	daemon_serve_t *s = calloc(1, sizeof(*s));
	dz_result_t result;

	if (s == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	dz_server_config_init(&s->config);
	result = dz_server_config_from_config(config, &s->config, err);
	if (result == DZ_OK)
		result = dz_server_config_check(&s->config, err);
	if (result == DZ_OK)
		result = dz_server_create(d->base, &s->config, d->clock, &s->server, err);
	if (result != DZ_OK) {
		dz_server_config_clear(&s->config);
		free(s);
		return dz_error_prefix(err, "DNS server");
	}
	*out = s;
	return DZ_OK;
}

static void
serve_destroy(daemon_serve_t *s)
{
	if (s == NULL)
		return;
	dz_server_destroy(s->server);
	dz_server_config_clear(&s->config);
	free(s);
}

dz_result_t
daemon_serve_start(dz_daemon_t *d, dz_error_t *err)
{
	return serve_create(d, d->config, &d->serve, err);
}

dz_result_t
daemon_serve_published(dz_daemon_t *d, const char *zone, dz_error_t *err)
{
	if (d->serve == NULL)
		return DZ_OK;
	return dz_server_zone_published(d->serve->server, zone, err);
}

/*
 * Apply a new configuration: the in-process server is replaced by one
 * made from it, which binds its sockets again.  When the new one cannot
 * start, the old one keeps serving.
 * NOTE: binding again needs the privileges of start-up for ports below
 * 1024; the separate server process (signer/server_proc.h) avoids that.
 */
dz_result_t
daemon_serve_reconfigure(dz_daemon_t *d, const dz_config_t *config, dz_error_t *err)
{
	daemon_serve_t *old = d->serve;
	daemon_serve_t *fresh = NULL;
	dz_result_t result;

	/* The listeners bind the same addresses, so the old ones close first. */
	dz_server_destroy(old->server);
	old->server = NULL;
	result = serve_create(d, config, &fresh, err);
	if (result != DZ_OK) {
		dz_error_t again;
		dz_error_init(&again);
		if (dz_server_create(d->base, &old->config, d->clock, &old->server, &again) != DZ_OK) {
			dz_log(DZ_LOG_ERROR, "the DNS server cannot start again with the old "
			       "configuration either: %s", dz_error_message(&again));
			serve_destroy(old);
			d->serve = NULL;
		}
		return result;
	}
	serve_destroy(old);
	d->serve = fresh;
	return DZ_OK;
}

int
daemon_serve_port(const dz_daemon_t *d, int family)
{
	if (d->serve == NULL || d->serve->server == NULL)
		return 0;
	return dz_server_port(d->serve->server, family);
}

void
daemon_serve_stop(dz_daemon_t *d)
{
	serve_destroy(d->serve);
	d->serve = NULL;
}
