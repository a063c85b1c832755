#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file.h"

/* Copy of the folder part of `path` ("." when there is none); NULL on ENOMEM. */
static char *
dir_of(const char *path)
{
	char *copy = strdup(path);
	char *result;

	if (copy == NULL)
		return NULL;
	result = strdup(dirname(copy));
	free(copy);
	return result;
}

dz_result_t
dz_fsync_dir_of(const char *path, bool is_dir, dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	char *dir = is_dir ? strdup(path) : dir_of(path);
	int fd = -1;

	if (dir == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		result = dz_error_set(err, DZ_EIO, "cannot open folder %s: %s", dir,
				      strerror(errno));
		goto cleanup;
	}
	if (fsync(fd) != 0 && errno != EINVAL) {
		result = dz_error_set(err, DZ_EIO, "cannot fsync folder %s: %s", dir,
				      strerror(errno));
		goto cleanup;
	}

cleanup:
	if (fd >= 0)
		close(fd);
	free(dir);
	return result;
}

dz_result_t
dz_atomic_file_open(dz_atomic_file_t *file, const char *path, mode_t mode, dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	size_t len = strlen(path);
	char *final_path = NULL;
	char *tmp_path = NULL;
	int fd = -1;

	memset(file, 0, sizeof(*file));
	final_path = strdup(path);
	tmp_path = malloc(len + sizeof(".tmp.XXXXXX"));
	if (final_path == NULL || tmp_path == NULL) {
		result = dz_error_set(err, DZ_ENOMEM, "out of memory");
		goto cleanup;
	}
	memcpy(tmp_path, path, len);
	memcpy(tmp_path + len, ".tmp.XXXXXX", sizeof(".tmp.XXXXXX"));
	fd = mkostemp(tmp_path, O_CLOEXEC);
	if (fd < 0) {
		result = dz_error_set(err, errno == EACCES || errno == EROFS ? DZ_EPERM : DZ_EIO,
				      "cannot create a temporary file beside %s: %s", path,
				      strerror(errno));
		goto cleanup;
	}
	if (fchmod(fd, mode) != 0) {
		result = dz_error_set(err, DZ_EIO, "cannot set permissions on %s: %s", tmp_path,
				      strerror(errno));
		goto cleanup;
	}
	file->fp = fdopen(fd, "w");
	if (file->fp == NULL) {
		result = dz_error_set(err, DZ_EIO, "cannot open %s: %s", tmp_path,
				      strerror(errno));
		goto cleanup;
	}
	fd = -1;
	file->path = final_path;
	file->tmp_path = tmp_path;
	final_path = NULL;
	tmp_path = NULL;

cleanup:
	if (fd >= 0) {
		close(fd);
		unlink(tmp_path);
	}
	free(final_path);
	free(tmp_path);
	return result;
}

void
dz_atomic_file_abort(dz_atomic_file_t *file)
{
	if (file->fp != NULL)
		fclose(file->fp);
	if (file->tmp_path != NULL)
		unlink(file->tmp_path);
	free(file->path);
	free(file->tmp_path);
	memset(file, 0, sizeof(*file));
}

dz_result_t
dz_atomic_file_commit(dz_atomic_file_t *file, dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	bool write_failed = ferror(file->fp) != 0;

	if (fflush(file->fp) != 0 || write_failed) {
		result = dz_error_set(err, errno == ENOSPC ? DZ_ETOOBIG : DZ_EIO,
				      "cannot write %s: %s; %s is unchanged", file->tmp_path,
				      write_failed ? "write error" : strerror(errno), file->path);
		goto fail;
	}
	if (fsync(fileno(file->fp)) != 0) {
		result = dz_error_set(err, DZ_EIO, "cannot fsync %s: %s; %s is unchanged",
				      file->tmp_path, strerror(errno), file->path);
		goto fail;
	}
	if (fclose(file->fp) != 0) {
		file->fp = NULL;
		result = dz_error_set(err, DZ_EIO, "cannot close %s: %s; %s is unchanged",
				      file->tmp_path, strerror(errno), file->path);
		goto fail;
	}
	file->fp = NULL;
	if (rename(file->tmp_path, file->path) != 0) {
		result = dz_error_set(err, DZ_EIO, "cannot rename %s to %s: %s", file->tmp_path,
				      file->path, strerror(errno));
		goto fail;
	}
	free(file->tmp_path);
	file->tmp_path = NULL;
	result = dz_fsync_dir_of(file->path, false, err);
	dz_atomic_file_abort(file);
	return result;

fail:
	dz_atomic_file_abort(file);
	return result;
}

dz_result_t
dz_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
		     dz_error_t *err)
{
	dz_atomic_file_t file;
	dz_result_t result = dz_atomic_file_open(&file, path, mode, err);

	if (result != DZ_OK)
		return result;
	if (len > 0 && fwrite(data, 1, len, file.fp) != len) {
		result = dz_error_set(err, errno == ENOSPC ? DZ_ETOOBIG : DZ_EIO,
				      "cannot write %s: %s; %s is unchanged", file.tmp_path,
				      strerror(errno), path);
		dz_atomic_file_abort(&file);
		return result;
	}
	return dz_atomic_file_commit(&file, err);
}

dz_result_t
dz_file_append_durable(const char *path, const void *data, size_t len, mode_t mode,
		       dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	const char *p = data;
	size_t left = len;
	bool created;
	struct stat st;
	int fd;

	created = stat(path, &st) != 0;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, mode);
	if (fd < 0)
		return dz_error_set(err, errno == EACCES ? DZ_EPERM : DZ_EIO,
				    "cannot open %s for appending: %s", path, strerror(errno));
	while (left > 0) {
		ssize_t n = write(fd, p, left);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			result = dz_error_set(err, errno == ENOSPC ? DZ_ETOOBIG : DZ_EIO,
					      "cannot append to %s: %s", path, strerror(errno));
			goto cleanup;
		}
		p += n;
		left -= (size_t)n;
	}
	if (fsync(fd) != 0) {
		result = dz_error_set(err, DZ_EIO, "cannot fsync %s: %s", path, strerror(errno));
		goto cleanup;
	}
	if (created)
		result = dz_fsync_dir_of(path, false, err);

cleanup:
	close(fd);
	return result;
}

dz_result_t
dz_file_read_all(const char *path, size_t max_size, char **data, size_t *len,
		 dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	char *buf = NULL;
	size_t used = 0;
	size_t cap = 0;
	struct stat st;
	int status_flags;
	int fd;

	/*
	 * Without O_NONBLOCK, opening a FIFO waits for a writer, and the check
	 * for a regular file below would come too late.
	 */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return dz_error_set(err, errno == ENOENT ? DZ_ENOTFOUND
					 : errno == EACCES ? DZ_EPERM : DZ_EIO,
				    "cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		result = dz_error_set(err, DZ_EINVAL, "%s is not a regular file", path);
		goto cleanup;
	}
	status_flags = fcntl(fd, F_GETFL);
	if (status_flags < 0 || fcntl(fd, F_SETFL, status_flags & ~O_NONBLOCK) != 0) {
		result = dz_error_set(err, DZ_EIO, "cannot read %s: %s", path, strerror(errno));
		goto cleanup;
	}
	for (;;) {
		if (used + 1 >= cap) {
			/*
			 * Start with room for the whole file and its NUL, but never more
			 * than the limit allows: reading one byte past it proves the file
			 * too large.
			 */
			size_t first = (size_t)st.st_size < max_size ? (size_t)st.st_size : max_size;
			size_t grow = cap == 0 ? first + 2 : cap * 2;
			if (grow < 4096)
				grow = 4096;
			char *next = realloc(buf, grow);
			if (next == NULL) {
				result = dz_error_set(err, DZ_ENOMEM, "out of memory reading %s", path);
				goto cleanup;
			}
			buf = next;
			cap = grow;
		}
		ssize_t n = read(fd, buf + used, cap - used - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			result = dz_error_set(err, DZ_EIO, "cannot read %s: %s", path,
					      strerror(errno));
			goto cleanup;
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (used > max_size) {
			result = dz_error_set(err, DZ_ETOOBIG,
					      "%s is larger than the limit of %zu bytes", path,
					      max_size);
			goto cleanup;
		}
	}
	buf[used] = '\0';
	*data = buf;
	*len = used;
	buf = NULL;

cleanup:
	free(buf);
	close(fd);
	return result;
}

dz_result_t
dz_file_check_private(const char *path, dz_error_t *err)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return dz_error_set(err, errno == ENOENT ? DZ_ENOTFOUND : DZ_EIO,
				    "cannot read %s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return dz_error_set(err, DZ_EINVAL, "%s is not a regular file", path);
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
		return dz_error_set(err, DZ_EPERM,
				    "%s is accessible by group or others (mode %04o); "
				    "it holds a secret, so restrict it with: chmod 600 %s",
				    path, (unsigned)(st.st_mode & 07777), path);
	return DZ_OK;
}

dz_result_t
dz_mkdir_p(const char *path, mode_t mode, dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	char *copy = strdup(path);

	if (copy == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	/* The loop starts after the first byte, so an empty path would read past the copy. */
	if (copy[0] == '\0') {
		free(copy);
		return dz_error_set(err, DZ_EINVAL, "cannot create a folder from an empty path");
	}
	for (char *p = copy + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(copy, mode) != 0 && errno != EEXIST) {
			result = dz_error_set(err, errno == EACCES ? DZ_EPERM : DZ_EIO,
					      "cannot create folder %s: %s", copy, strerror(errno));
			break;
		}
		*p = saved;
		if (saved == '\0')
			break;
	}
	free(copy);
	return result;
}
