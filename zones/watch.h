/*
 * watch.h -- inotify watches of certificate files and folders.
 *
 * The watcher never watches a file itself: it watches the folder that
 * contains the path, and, when the path is a symbolic link, the folder of
 * the link's final target too.  So it sees an atomic replacement by rename,
 * a symbolic link swapped to a new target (certbot's live/ links into
 * archive/), a file written in place, and a deletion.  Changes are
 * debounced: a tag becomes due once no event touched it for a short delay
 * (or a longer bound passed while events keep coming), so a file that is
 * still being written is read after its writer is done.
 *
 * It plugs into any event loop: poll dz_watch_fd() for input, call
 * dz_watch_process() when it is readable, and call dz_watch_take_due() at
 * the time dz_watch_next_due() gives.  Times are monotonic milliseconds
 * passed in by the caller.  Not thread safe.
 */
#ifndef DZ_ZONES_WATCH_H
#define DZ_ZONES_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* Quiet time after the last event before a tag is due. */
#define DZ_WATCH_DEBOUNCE_MS 300
/*
 * Quiet time after a rename into place (IN_MOVED_TO), which also swaps a
 * symbolic link: the new file is complete, so the wait only gathers the
 * renames of one update, such as certbot's several links.
 */
#define DZ_WATCH_RENAME_MS 20
/* A tag whose events never stop is due this long after its first event. */
#define DZ_WATCH_MAX_DELAY_MS 3000

typedef struct dz_watch dz_watch_t;

/* Create a watcher with its own inotify descriptor. */
dz_result_t dz_watch_create(dz_watch_t **out, dz_error_t *err);

/* Close the descriptor and free; NULL is ignored. */
void dz_watch_destroy(dz_watch_t *watch);

/* The inotify descriptor (non-blocking, close-on-exec) to poll for input. */
int dz_watch_fd(const dz_watch_t *watch);

/*
 * Watch one file path; events for it mark `tag`.  The file need not exist,
 * but its folder must (DZ_ENOTFOUND otherwise; dz_watch_refresh() retries).
 */
dz_result_t dz_watch_add_file(dz_watch_t *watch, const char *path, uintptr_t tag,
			      dz_error_t *err);

/*
 * Watch a folder; events for its entries mark `tag`, except names of
 * editors' and tools' temporary files (see dz_watch_ignored_name).
 */
dz_result_t dz_watch_add_folder(dz_watch_t *watch, const char *path, uintptr_t tag,
				dz_error_t *err);

/* Whether a folder entry is a temporary file: ".name", "name~", "*.swp", "*.tmp", ... */
bool dz_watch_ignored_name(const char *name);

/*
 * Read every pending event without blocking and mark the tags they touch.
 * Re-resolves symbolic links whose folders changed.  Returns how many events
 * were read.  An event queue overflow marks every tag.
 */
size_t dz_watch_process(dz_watch_t *watch, int64_t now_ms);

/* Mark a tag as if an event touched it (used to retry a half-written file). */
void dz_watch_mark(dz_watch_t *watch, uintptr_t tag, int64_t due_ms);

/* Time at which the earliest marked tag is due; -1 when none is marked. */
int64_t dz_watch_next_due(const dz_watch_t *watch);

/*
 * Store up to `max` distinct tags that are due at `now_ms` in `tags` and
 * unmark them; returns how many.
 */
size_t dz_watch_take_due(dz_watch_t *watch, int64_t now_ms, uintptr_t *tags, size_t max);

/* Add watches that could not be added before (a folder created later). */
void dz_watch_refresh(dz_watch_t *watch);

#endif
