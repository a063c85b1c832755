/*
 * daemon_control.c -- the commands of the control socket.
 *
 * NOTE: the control socket (signer/control.h) is not built in yet, so
 * start and stop do nothing.
 */
#include "config.h"

#include "signer/daemon.h"

dz_result_t
daemon_control_start(dz_daemon_t *d, dz_error_t *err)
{
	(void)d;
	(void)err;
	return DZ_OK;
}

void
daemon_control_stop(dz_daemon_t *d)
{
	(void)d;
}
