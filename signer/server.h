/*
 * server.h -- the DNS server of a hidden primary: UDP and TCP listeners,
 * transfers, and NOTIFY to the secondaries, inside a libevent base.
 *
 * The server reads only published files (signer/publish.h) and has no HSM
 * session, so it can run in the daemon's loop or, later, in its own
 * unprivileged process.  It learns about a new published version from
 * dz_server_zone_published(), which loads the files and sends NOTIFY.
 *
 * Limits: at most config->tcp_clients_max TCP connections (further ones are
 * closed at once), and a TCP connection that makes no progress reading or
 * writing for config->tcp_idle_ms is closed.  Both are logged rate-limited.
 */
#ifndef DZ_SIGNER_SERVER_H
#define DZ_SIGNER_SERVER_H

#include <stdint.h>

#include <event2/event.h>

#include "common/clock.h"
#include "common/error.h"
#include "signer/server_config.h"

typedef struct dz_server dz_server_t;

/*
 * Create the server on `base`: open and bind the UDP and TCP sockets of
 * config->listen, load each zone that is already published and send NOTIFY
 * for it (a zone without published files is served once it is published).  `config` and
 * `clock` must outlive the server.  DZ_EIO naming the address when a socket
 * cannot be bound; DZ_ECONFIG when the configuration is inconsistent.
 */
dz_result_t dz_server_create(struct event_base *base, const dz_server_config_t *config,
			     dz_clock_t *clock, dz_server_t **out, dz_error_t *err);

/*
 * The bound sockets of config->listen, entry i on udp[i] and tcp[i] (TCP
 * already listening).  A privileged process opens them and a server
 * process without privileges serves on them.
 */
typedef struct dz_server_sockets {
	int *udp;
	int *tcp;
	size_t count;
} dz_server_sockets_t;

/*
 * Open and bind the sockets of config->listen into *out (port 0 binds a
 * free port, the same for UDP and TCP).  DZ_EIO or DZ_EPERM naming the
 * address when one cannot be bound.
 */
dz_result_t dz_server_sockets_open(const dz_server_config_t *config, dz_server_sockets_t *out,
				   dz_error_t *err);

/* Close the sockets and free the arrays; an emptied struct is ignored. */
void dz_server_sockets_close(dz_server_sockets_t *sockets);

/*
 * Create the server as dz_server_create() does, but serve on duplicates
 * of `sockets` instead of binding: the caller keeps `sockets` open and
 * may create another server on them later.  DZ_ECONFIG when their count
 * differs from config->listen_count.
 */
dz_result_t dz_server_create_on(struct event_base *base, const dz_server_config_t *config,
				dz_clock_t *clock, const dz_server_sockets_t *sockets,
				dz_server_t **out, dz_error_t *err);

/* Close all sockets, end running transfers and NOTIFYs, and free; NULL is ignored. */
void dz_server_destroy(dz_server_t *server);

/*
 * Load the newly published version of zone `name` (presentation form) and,
 * when its serial changed, send NOTIFY to each of its secondaries, retried
 * with backoff until each acknowledges.  DZ_ENOTFOUND when the zone is not
 * configured; errors of loading leave the previous version served.
 */
dz_result_t dz_server_zone_published(dz_server_t *server, const char *name, dz_error_t *err);

/* Port the first listener of `family` is bound to (useful with port 0); 0 if none. */
int dz_server_port(const dz_server_t *server, int family);

/* Number of NOTIFYs not yet acknowledged, for tests. */
unsigned dz_server_notify_pending(const dz_server_t *server);

#endif
