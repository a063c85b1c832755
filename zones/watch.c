#include "config.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "common/log.h"
#include "common/mem.h"
#include "zones/watch.h"

#define WATCH_MASK                                                                           \
	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB |  \
	 IN_MODIFY | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

/* One watched path. */
typedef struct target {
	char *path;	   /* as configured */
	char *folder;	   /* folder that contains path (or path for a folder target) */
	char *name;	   /* last component of path; NULL for a folder target */
	int wd;		   /* watch of `folder`; -1 when it could not be added */
	char *link_folder; /* folder of the symlink's final target, or NULL */
	char *link_name;
	int link_wd;
	uintptr_t tag;
	bool is_folder;
} target_t;

/* A marked tag. */
typedef struct pending {
	uintptr_t tag;
	int64_t first_ms;
	int64_t due_ms;
} pending_t;

struct dz_watch {
	int fd;
	target_t *targets;
	size_t target_count;
	pending_t *pending;
	size_t pending_count;
	size_t pending_cap;
};

dz_result_t
dz_watch_create(dz_watch_t **out, dz_error_t *err)
{
	dz_watch_t *watch = calloc(1, sizeof(*watch));

	if (watch == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	watch->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (watch->fd < 0) {
		dz_result_t rc = dz_error_set(err, DZ_EIO, "cannot create an inotify instance: %s",
					      strerror(errno));
		free(watch);
		return rc;
	}
	*out = watch;
	return DZ_OK;
}

static void
target_clear(target_t *t)
{
	free(t->path);
	free(t->folder);
	free(t->name);
	free(t->link_folder);
	free(t->link_name);
}

void
dz_watch_destroy(dz_watch_t *watch)
{
	if (watch == NULL)
		return;
	for (size_t i = 0; i < watch->target_count; i++)
		target_clear(&watch->targets[i]);
	free(watch->targets);
	free(watch->pending);
	close(watch->fd);
	free(watch);
}

int
dz_watch_fd(const dz_watch_t *watch)
{
	return watch->fd;
}

bool
dz_watch_ignored_name(const char *name)
{
	static const char *const suffixes[] = { "~", ".swp", ".swx", ".tmp", ".part", ".dpkg-new",
						".dpkg-tmp", ".new" };
	size_t len = strlen(name);

	if (len == 0 || name[0] == '.' || name[0] == '#')
		return true;
	/* vim probes whether it may write a folder with a file named 4913. */
	if (strcmp(name, "4913") == 0)
		return true;
	for (size_t i = 0; i < DZ_ARRAY_SIZE(suffixes); i++) {
		size_t n = strlen(suffixes[i]);
		if (len >= n && strcmp(name + len - n, suffixes[i]) == 0)
			return true;
	}
	return false;
}

static char *
folder_part(const char *path)
{
	char *copy = strdup(path);
	char *result;

	if (copy == NULL)
		return NULL;
	result = strdup(dirname(copy));
	free(copy);
	return result;
}

static char *
name_part(const char *path)
{
	char *copy = strdup(path);
	char *result;

	if (copy == NULL)
		return NULL;
	result = strdup(basename(copy));
	free(copy);
	return result;
}

/*
 * Resolve a symbolic link's final target and watch its folder, so a file
 * rewritten in place behind the link is seen too.
 */
static void
resolve_link(dz_watch_t *watch, target_t *t)
{
	char resolved[PATH_MAX];

	free(t->link_folder);
	free(t->link_name);
	t->link_folder = NULL;
	t->link_name = NULL;
	t->link_wd = -1;
	if (t->is_folder || realpath(t->path, resolved) == NULL || strcmp(resolved, t->path) == 0)
		return;
	t->link_folder = folder_part(resolved);
	t->link_name = name_part(resolved);
	if (t->link_folder == NULL || t->link_name == NULL)
		return;
	t->link_wd = inotify_add_watch(watch->fd, t->link_folder, WATCH_MASK);
}

static void
add_target_watch(dz_watch_t *watch, target_t *t)
{
	if (t->wd < 0)
		t->wd = inotify_add_watch(watch->fd, t->folder, WATCH_MASK);
	resolve_link(watch, t);
}

static dz_result_t
add_target(dz_watch_t *watch, const char *path, uintptr_t tag, bool is_folder, dz_error_t *err)
{
	target_t *targets = realloc(watch->targets, (watch->target_count + 1) * sizeof(*targets));
	target_t *t;

	if (targets == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	watch->targets = targets;
	t = &targets[watch->target_count];
	memset(t, 0, sizeof(*t));
	t->wd = -1;
	t->link_wd = -1;
	t->tag = tag;
	t->is_folder = is_folder;
	t->path = strdup(path);
	t->folder = is_folder ? strdup(path) : folder_part(path);
	t->name = is_folder ? NULL : name_part(path);
	if (t->path == NULL || t->folder == NULL || (!is_folder && t->name == NULL)) {
		target_clear(t);
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	}
	watch->target_count++;
	add_target_watch(watch, t);
	if (t->wd < 0)
		return dz_error_set(err, errno == ENOENT ? DZ_ENOTFOUND : DZ_EIO,
				    "cannot watch folder %s: %s", t->folder, strerror(errno));
	return DZ_OK;
}

dz_result_t
dz_watch_add_file(dz_watch_t *watch, const char *path, uintptr_t tag, dz_error_t *err)
{
	return add_target(watch, path, tag, false, err);
}

dz_result_t
dz_watch_add_folder(dz_watch_t *watch, const char *path, uintptr_t tag, dz_error_t *err)
{
	return add_target(watch, path, tag, true, err);
}

void
dz_watch_refresh(dz_watch_t *watch)
{
	for (size_t i = 0; i < watch->target_count; i++)
		add_target_watch(watch, &watch->targets[i]);
}

void
dz_watch_mark(dz_watch_t *watch, uintptr_t tag, int64_t due_ms)
{
	for (size_t i = 0; i < watch->pending_count; i++) {
		pending_t *p = &watch->pending[i];
		if (p->tag != tag)
			continue;
		/* Events keep coming: wait again, but not beyond the bound. */
		p->due_ms = due_ms;
		if (p->due_ms > p->first_ms + DZ_WATCH_MAX_DELAY_MS)
			p->due_ms = p->first_ms + DZ_WATCH_MAX_DELAY_MS;
		return;
	}
	if (watch->pending_count == watch->pending_cap) {
		size_t cap = watch->pending_cap == 0 ? 8 : watch->pending_cap * 2;
		pending_t *pending = realloc(watch->pending, cap * sizeof(*pending));
		if (pending == NULL) {
			dz_log(DZ_LOG_ERROR, "out of memory recording a file change");
			return;
		}
		watch->pending = pending;
		watch->pending_cap = cap;
	}
	watch->pending[watch->pending_count].tag = tag;
	watch->pending[watch->pending_count].first_ms = due_ms - DZ_WATCH_DEBOUNCE_MS;
	watch->pending[watch->pending_count].due_ms = due_ms;
	watch->pending_count++;
}

static void
mark_all(dz_watch_t *watch, int64_t now_ms)
{
	for (size_t i = 0; i < watch->target_count; i++)
		dz_watch_mark(watch, watch->targets[i].tag, now_ms + DZ_WATCH_DEBOUNCE_MS);
}

static void
handle_event(dz_watch_t *watch, const struct inotify_event *event, int64_t now_ms)
{
	const char *name = event->len > 0 ? event->name : NULL;

	for (size_t i = 0; i < watch->target_count; i++) {
		target_t *t = &watch->targets[i];
		bool hit = false;

		if (event->mask & IN_IGNORED) {
			/* The folder went away; dz_watch_refresh() adds it back when it returns. */
			if (t->wd == event->wd) {
				t->wd = -1;
				hit = true;
			}
			if (t->link_wd == event->wd)
				t->link_wd = -1;
		} else if (t->wd == event->wd) {
			if (t->is_folder)
				hit = name == NULL || !dz_watch_ignored_name(name);
			else
				hit = name == NULL || strcmp(name, t->name) == 0;
			/* A rename or new link in the link's folder may point it elsewhere. */
			if (hit && !t->is_folder)
				resolve_link(watch, t);
		} else if (t->link_wd == event->wd && t->link_name != NULL) {
			hit = name == NULL || strcmp(name, t->link_name) == 0;
		}
		if (!hit)
			continue;
		int64_t quiet = (event->mask & IN_MOVED_TO) ? DZ_WATCH_RENAME_MS : DZ_WATCH_DEBOUNCE_MS;
		dz_watch_mark(watch, t->tag, now_ms + quiet);
	}
}

size_t
dz_watch_process(dz_watch_t *watch, int64_t now_ms)
{
	char buffer[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	size_t events = 0;

	while (true) {
		ssize_t n = read(watch->fd, buffer, sizeof(buffer));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (char *p = buffer; p < buffer + n;) {
			const struct inotify_event *event = (const struct inotify_event *)(void *)p;
			events++;
			if (event->mask & IN_Q_OVERFLOW) {
				dz_log(DZ_LOG_WARNING,
				       "too many file changes at once; rereading every watched file");
				mark_all(watch, now_ms);
			} else {
				handle_event(watch, event, now_ms);
			}
			p += sizeof(*event) + event->len;
		}
	}
	return events;
}

int64_t
dz_watch_next_due(const dz_watch_t *watch)
{
	int64_t due = -1;

	for (size_t i = 0; i < watch->pending_count; i++) {
		if (due < 0 || watch->pending[i].due_ms < due)
			due = watch->pending[i].due_ms;
	}
	return due;
}

size_t
dz_watch_take_due(dz_watch_t *watch, int64_t now_ms, uintptr_t *tags, size_t max)
{
	size_t taken = 0;

	for (size_t i = 0; i < watch->pending_count && taken < max;) {
		if (watch->pending[i].due_ms > now_ms) {
			i++;
			continue;
		}
		tags[taken++] = watch->pending[i].tag;
		watch->pending[i] = watch->pending[--watch->pending_count];
	}
	return taken;
}
