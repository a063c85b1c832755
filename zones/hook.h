/*
 * hook.h -- run an operator's hook command.
 */
#ifndef DZ_ZONES_HOOK_H
#define DZ_ZONES_HOOK_H

#include "common/error.h"

/* Maximum time a hook may run before it is killed. */
#define DZ_HOOK_TIMEOUT_SECONDS 60

/*
 * Run `command` with /bin/sh -c and the variables `env` ("NAME=value",
 * NULL-terminated) added to the environment, and wait until it ends or
 * `timeout_seconds` pass (then kill it).  Blocks the caller meanwhile.
 * Returns DZ_OK when it exited with status 0; otherwise DZ_EIO or
 * DZ_ETIMEOUT with a message naming the exit status.
 */
dz_result_t dz_hook_run(const char *command, const char *const *env, int timeout_seconds,
			dz_error_t *err);

#endif
