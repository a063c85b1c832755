#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zones/hook.h"

dz_result_t
dz_hook_run(const char *command, const char *const *env, int timeout_seconds, dz_error_t *err)
{
	struct timespec start, now;
	int status = 0;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return dz_error_set(err, DZ_EIO, "cannot start hook '%s': %s", command, strerror(errno));
	if (pid == 0) {
		for (size_t i = 0; env != NULL && env[i] != NULL; i++)
			putenv((char *)env[i]);
		execl("/bin/sh", "sh", "-c", command, (char *)NULL);
		_exit(127);
	}

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (true) {
		pid_t done = waitpid(pid, &status, WNOHANG);
		if (done == pid)
			break;
		if (done < 0 && errno != EINTR)
			return dz_error_set(err, DZ_EIO, "waiting for hook '%s' failed: %s", command,
					    strerror(errno));
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= timeout_seconds) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return dz_error_set(err, DZ_ETIMEOUT, "hook '%s' was killed after %d seconds",
					    command, timeout_seconds);
		}
		struct timespec pause = { 0, 20 * 1000 * 1000 };
		nanosleep(&pause, NULL);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return DZ_OK;
	if (WIFEXITED(status))
		return dz_error_set(err, DZ_EIO, "hook '%s' failed with exit status %d", command,
				    WEXITSTATUS(status));
	return dz_error_set(err, DZ_EIO, "hook '%s' was ended by signal %d", command,
			    WTERMSIG(status));
}
