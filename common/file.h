/*
 * file.h -- durable file writes and careful reads.
 *
 * Files that others read (signed zone, key state, journal, audit log) are
 * replaced atomically: written to a temporary file in the same folder,
 * flushed, fsynced, renamed over the target, and the folder fsynced.  A
 * reader sees the old or the new content, never a mix, even after a crash.
 */
#ifndef DZ_COMMON_FILE_H
#define DZ_COMMON_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "common/error.h"

/* A file being written for atomic replacement of `path`. */
typedef struct dz_atomic_file {
	FILE *fp;	/* write the content here */
	char *path;	/* final path (owned) */
	char *tmp_path; /* temporary path in the same folder (owned) */
} dz_atomic_file_t;

/*
 * Create a temporary file beside `path` with permissions `mode` and open it
 * for writing.  On success the caller must end with _commit or _abort.
 */
dz_result_t dz_atomic_file_open(dz_atomic_file_t *file, const char *path, mode_t mode,
				dz_error_t *err);

/*
 * Flush, fsync, rename over the target and fsync the folder.  On failure the
 * temporary file is removed and the target is untouched.  Either way the
 * object is cleared.
 */
dz_result_t dz_atomic_file_commit(dz_atomic_file_t *file, dz_error_t *err);

/* Close and remove the temporary file; the target is untouched. */
void dz_atomic_file_abort(dz_atomic_file_t *file);

/* Replace `path` atomically with `len` bytes of `data`. */
dz_result_t dz_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
				 dz_error_t *err);

/*
 * Append `len` bytes to `path` (created with `mode` if missing) and fsync
 * before returning, for append-only logs such as the key ceremony audit log.
 */
dz_result_t dz_file_append_durable(const char *path, const void *data, size_t len,
				   mode_t mode, dz_error_t *err);

/*
 * Read a whole file into a new NUL-terminated buffer (caller frees *data).
 * Files larger than `max_size` bytes are rejected with DZ_ETOOBIG.  A path
 * that is not a regular file (folder, FIFO, device) is rejected with
 * DZ_EINVAL, and a FIFO without a writer does not block the call.
 */
dz_result_t dz_file_read_all(const char *path, size_t max_size, char **data, size_t *len,
			     dz_error_t *err);

/*
 * Check that a secret file (PIN, TSIG secret) is a regular file that group
 * and others can neither read nor write, as ssh requires of private keys.
 */
dz_result_t dz_file_check_private(const char *path, dz_error_t *err);

/* Create a folder and its parents with `mode` (like mkdir -p). */
dz_result_t dz_mkdir_p(const char *path, mode_t mode, dz_error_t *err);

/* fsync the folder that contains `path` (or `path` itself if it is a folder). */
dz_result_t dz_fsync_dir_of(const char *path, bool is_dir, dz_error_t *err);

#endif
