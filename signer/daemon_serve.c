/*
 * daemon_serve.c -- the daemon's only contact with the DNS server.
 *
 * The server runs in a process of its own (signer/server_proc.h): the
 * daemon binds the sockets while it is still root, and the child serves
 * them as server.dns-user (or server.user), optionally chrooted to
 * server.chroot, so the process that parses network input holds no token
 * session and cannot write key state.  Every dz_server_proc_* call is in
 * this file.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "signer/daemon.h"
#include "signer/server_proc.h"

struct daemon_serve {
	dz_server_proc_t *proc;
};

/* The server's user: server.dns-user with its own group, else the daemon's user and group. */
static void
proc_options(const dz_daemon_t *d, const dz_config_t *config, dz_server_proc_options_t *out)
{
	const dz_config_server_t *server = &config->server;

	memset(out, 0, sizeof(*out));
	out->user = server->dns_user != NULL ? server->dns_user : server->user;
	out->group = server->dns_user != NULL ? NULL : server->group;
	out->chroot = server->chroot;
	out->allow_root = d->allow_root || server->allow_root;
}

/* The server configuration of `config` in *out (initialised here). */
static dz_result_t
server_config(const dz_config_t *config, dz_server_config_t *out, dz_error_t *err)
{
	dz_server_config_init(out);
	dz_result_t result = dz_server_config_from_config(config, out, err);
	if (result == DZ_OK)
		result = dz_server_config_check(out, err);
	if (result != DZ_OK)
		dz_server_config_clear(out);
	return result;
}

dz_result_t
daemon_serve_start(dz_daemon_t *d, dz_error_t *err)
{
	dz_server_proc_options_t options;
	dz_server_config_t config;
	daemon_serve_t *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	proc_options(d, d->config, &options);
	dz_result_t result = server_config(d->config, &config, err);
	if (result == DZ_OK) {
		/* The process keeps an encoded copy, so `config` is freed at once. */
		result = dz_server_proc_start(d->base, &config, &options, &s->proc, err);
		dz_server_config_clear(&config);
	}
	if (result != DZ_OK) {
		free(s);
		return dz_error_prefix(err, "DNS server");
	}
	d->serve = s;
	return DZ_OK;
}

dz_result_t
daemon_serve_published(dz_daemon_t *d, const char *zone, dz_error_t *err)
{
	if (d->serve == NULL)
		return DZ_OK;
	return dz_server_proc_published(d->serve->proc, zone, err);
}

/*
 * Apply a new configuration: the server process builds a new server on
 * the sockets it has and keeps the old one when that fails (it logs why).
 * A change of listen addresses, users or chroot needs a restart: the
 * sockets were bound and the privileges dropped at start-up.
 */
dz_result_t
daemon_serve_reconfigure(dz_daemon_t *d, const dz_config_t *config, dz_error_t *err)
{
	dz_server_config_t server;

	if (d->serve == NULL)
		return DZ_OK;
	dz_result_t result = server_config(config, &server, err);
	if (result == DZ_OK) {
		result = dz_server_proc_reconfigure(d->serve->proc, &server, err);
		dz_server_config_clear(&server);
	}
	if (result != DZ_OK)
		return dz_error_prefix(err, "DNS server");
	return DZ_OK;
}

int
daemon_serve_port(const dz_daemon_t *d, int family)
{
	if (d->serve == NULL)
		return 0;
	return dz_server_proc_port(d->serve->proc, family);
}

void
daemon_serve_stop(dz_daemon_t *d)
{
	if (d->serve == NULL)
		return;
	dz_server_proc_stop(d->serve->proc);
	free(d->serve);
	d->serve = NULL;
}
