/*
 * cmd_daemon.h -- how `danezone` commands reach a running danezoned over
 * its control socket (signer/control.h).
 *
 * The socket is server.control-socket of the configuration (-c FILE, else
 * DZ_CONFIG_DEFAULT_PATH).  A command that has an offline form (status,
 * sign ZONE, the key state commands) sends its request to the daemon when
 * one listens there, so that the key state file has one writer.  Without
 * a daemon it works offline as before.  `danezone zone list`, `reload`
 * and `stop` need the daemon (signer/cmd_daemon.c).
 */
#ifndef DZ_SIGNER_CMD_DAEMON_H
#define DZ_SIGNER_CMD_DAEMON_H

#include <stdbool.h>

/*
 * Send the request argv[0..argc-1] to the daemon of the configuration at
 * config_path (NULL: the default path) and print its output to stdout.
 * Returns false without output when no daemon listens or the
 * configuration cannot be read, so that the caller goes on offline (and
 * reports a broken configuration itself).  Otherwise returns true with
 * the exit status in *status: DZ_EXIT_OK, or DZ_EXIT_FAILURE after
 * printing "danezone COMMAND: MESSAGE" to stderr, where COMMAND is
 * `command` ("key ds-seen").
 */
bool dz_daemon_forward(const char *command, const char *config_path, int argc, char **argv,
		       int *status);

/*
 * `danezone sign [-c FILE] ZONE`: force a signing run of a configured zone
 * in the daemon.  Returns false when the arguments have another form (the
 * options of the offline `danezone sign`) or ZONE is not configured, so
 * the caller goes on with the offline command.  Otherwise returns true with
 * the exit status in *status; without a daemon that is DZ_EXIT_FAILURE
 * after a message naming the socket.
 */
bool dz_daemon_sign(int argc, char **argv, int *status);

#endif
