/*
 * server_proc.h -- the DNS server in a process of its own, without
 * privileges.
 *
 * The process that parses network input should hold no HSM session, no
 * PIN and no write access to key state.  dz_server_proc_start() binds the
 * server's sockets in the calling (privileged) process, so ports below
 * 1024 work, then forks a child.  The child closes every other inherited
 * file descriptor, drops privileges (common/privdrop.h) to options->user,
 * optionally inside options->chroot, and runs dz_server on the inherited
 * sockets with an event base of its own.
 *
 * The parent talks to the child over a socketpair.  Each message is an
 * 8-byte header, then the body:
 *
 *   type (1) | reserved = 0 (3) | body length (4, big-endian)
 *
 *   ZONE    parent to child: a zone was published; body is the zone name
 *           in presentation form (1..DZ_SERVER_PROC_NAME_MAX printable
 *           ASCII bytes).  The child calls dz_server_zone_published().
 *   CONFIG  parent to child: a new server configuration, encoded by
 *           dz_server_proc_config_encode().  The child builds a new server
 *           on the same sockets and swaps it in, or keeps the old one and
 *           logs why.
 *   STOP    parent to child: empty body; the child stops and exits 0.
 *   READY   child to parent, once after start-up: result (2, big-endian)
 *           and message text (0..DZ_SERVER_PROC_TEXT_MAX bytes).
 *
 * Parsing is strict: an unknown type, a non-zero reserved byte, a length
 * over the limit of the type or a malformed body is logged, and the
 * receiver closes the connection.  The child exits when it reads a
 * malformed message and when the connection ends (the parent died).  It
 * ignores SIGTERM, SIGINT and SIGHUP, which a signal to the whole process
 * group would bring, because the parent stops it with STOP.
 *
 * The parent notices the child's death by end of file on the socketpair,
 * reaps it with waitpid() and logs its exit status.  It starts a new child
 * after DZ_SERVER_PROC_RESTART_MIN_MS, and doubles that wait up to
 * DZ_SERVER_PROC_RESTART_MAX_MS while children keep dying; a child that
 * ran for DZ_SERVER_PROC_STABLE_MS resets it.  The parent installs no
 * SIGCHLD handler, so it does not interfere with others' children.  A new child
 * serves the latest configuration and loads every zone's published files,
 * so ZONE messages missed while no child ran are not needed.
 *
 * Files: the child reads the published files of each zone (journal,
 * snapshot, zone text, signer/publish.h) as options->user.  The folders
 * must be readable by that user, and with a chroot every zone folder must
 * lie below it; the child opens them by their path below the chroot.
 */
#ifndef DZ_SIGNER_SERVER_PROC_H
#define DZ_SIGNER_SERVER_PROC_H

#include <stdbool.h>
#include <sys/types.h>

#include <event2/event.h>

#include "common/error.h"
#include "common/mem.h"
#include "signer/server_config.h"

#define DZ_SERVER_PROC_HEADER_LEN 8
/* Maximum length of a zone name in presentation form, with escapes (4 bytes per octet). */
#define DZ_SERVER_PROC_NAME_MAX 1020
/* Maximum length of the message text of READY. */
#define DZ_SERVER_PROC_TEXT_MAX 1024
/* Maximum body of CONFIG: far above any configuration of a hidden primary. */
#define DZ_SERVER_PROC_CONFIG_MAX (16 * 1024 * 1024)
/* Restart delays after the child died. */
#define DZ_SERVER_PROC_RESTART_MIN_MS 100
#define DZ_SERVER_PROC_RESTART_MAX_MS 30000
#define DZ_SERVER_PROC_STABLE_MS 60000
/* Time the first child gets to drop privileges, load the zones and report READY. */
#define DZ_SERVER_PROC_READY_TIMEOUT_MS 60000

typedef enum dz_server_proc_msg_type {
	DZ_SERVER_PROC_MSG_ZONE = 1,
	DZ_SERVER_PROC_MSG_CONFIG = 2,
	DZ_SERVER_PROC_MSG_STOP = 3,
	DZ_SERVER_PROC_MSG_READY = 4,
} dz_server_proc_msg_type_t;

typedef struct dz_server_proc_options {
	const char *user;   /* user of the child; NULL keeps this process's user */
	const char *group;  /* its group; NULL for the user's primary group */
	const char *chroot; /* NULL for none; needs `user` */
	bool allow_root;    /* permit the child to run as root (no `user` while root) */
} dz_server_proc_options_t;

typedef struct dz_server_proc dz_server_proc_t;

/*
 * Bind the sockets of config->listen, fork the DNS server process and wait
 * until it reports that it serves (at most DZ_SERVER_PROC_READY_TIMEOUT_MS).
 * The child's messages about the drop and the server go to the log.
 * `config` is copied; `base` is the caller's loop, which watches the
 * child and must outlive the handle.  fork() copies only the calling
 * thread, so other threads may run as long as they hold no lock that the
 * child needs: the child uses only its own event base, the log and
 * malloc, which glibc keeps usable across fork().
 * Errors: DZ_EPERM when the child would run as root and neither `user`
 * nor `allow_root` is set, or when the drop failed.  DZ_ENOTFOUND names
 * an unknown user or group.  DZ_ECONFIG when `chroot` is set without
 * `user` or a zone folder lies outside it.  Otherwise the errors of
 * dz_server_create().
 */
dz_result_t dz_server_proc_start(struct event_base *base, const dz_server_config_t *config,
				 const dz_server_proc_options_t *options, dz_server_proc_t **out,
				 dz_error_t *err);

/*
 * Tell the child that zone `zone` was published.  DZ_OK without sending
 * while no child runs (a new one loads the published files).  DZ_EINVAL
 * when the name is empty, too long or not printable ASCII.  DZ_EIO when
 * the message cannot be written, and DZ_ETIMEOUT when the child took no
 * message for 5 s; in both cases the child is killed and restarted.
 */
dz_result_t dz_server_proc_published(dz_server_proc_t *proc, const char *zone, dz_error_t *err);

/*
 * Send a new configuration to the child; later children start with it.
 * Changed listen addresses are logged and not applied, because the
 * sockets were bound at start: the addresses of the start stay served
 * until a restart.  DZ_ECONFIG as for dz_server_proc_start() for the
 * chroot, or from dz_server_config_check().  The child applies the
 * configuration asynchronously and logs the outcome.
 */
dz_result_t dz_server_proc_reconfigure(dz_server_proc_t *proc, const dz_server_config_t *config,
				       dz_error_t *err);

/* Port the first listening socket of `family` is bound to; 0 if none. */
int dz_server_proc_port(const dz_server_proc_t *proc, int family);

/* Process id of the running child; 0 while none runs (between a death and its restart). */
pid_t dz_server_proc_pid(const dz_server_proc_t *proc);

/*
 * Send STOP, wait up to 10 s for the child to exit (then SIGKILL), close
 * the sockets and free; NULL is ignored.
 */
void dz_server_proc_stop(dz_server_proc_t *proc);

/* Send raw bytes to the child, for tests of its parser. */
dz_result_t dz_server_proc_send_raw(dz_server_proc_t *proc, const void *data, size_t len,
				    dz_error_t *err);

/*
 * Encode `config` for a CONFIG body: every field of dz_server_config_t,
 * including the TSIG secrets.  DZ_ENOMEM.
 */
dz_result_t dz_server_proc_config_encode(const dz_server_config_t *config, dz_buf_t *out);

/*
 * Decode a CONFIG body into `out` (initialised by the caller, cleared on
 * failure) and check it with dz_server_config_check().  DZ_ESYNTAX naming
 * the field when a length, count, family or value is out of range, the
 * body ends early or has bytes after the end.
 */
dz_result_t dz_server_proc_config_decode(const uint8_t *body, size_t len,
					 dz_server_config_t *out, dz_error_t *err);

#endif
