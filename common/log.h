/*
 * log.h -- leveled logging to stderr or syslog.
 *
 * Conventions: a zone event starts with the zone ("zone example.com: ..."),
 * use dz_log_zone() for that; a subsystem adds its fixed prefix after it
 * ("DNSSEC, ...").  Never pass a PIN or key material.  A condition that
 * repeats is logged when it starts and when it ends (dz_log_condition_t).
 *
 * Thread safety: every call formats one line and writes it with one write()
 * (or one syslog() call), so lines of different threads do not interleave.
 * dz_log_open() and dz_log_set_sink() are not thread safe; call them before
 * starting threads.
 */
#ifndef DZ_COMMON_LOG_H
#define DZ_COMMON_LOG_H

#include <stdbool.h>

/* Ordered from most to least severe; the numbers match syslog priorities. */
typedef enum dz_log_level {
	DZ_LOG_ERROR = 3,
	DZ_LOG_WARNING = 4,
	DZ_LOG_NOTICE = 5,
	DZ_LOG_INFO = 6,
	DZ_LOG_DEBUG = 7,
} dz_log_level_t;

typedef enum dz_log_target {
	DZ_LOG_TARGET_STDERR,
	DZ_LOG_TARGET_SYSLOG,
} dz_log_target_t;

/*
 * Callback that receives each line (without a trailing newline) instead of
 * the target; tests use it to assert on messages.
 */
typedef void (*dz_log_sink_fn)(dz_log_level_t level, const char *line, void *ctx);

/*
 * Select the target and the most verbose level written.  `ident` is the
 * program name used for syslog and the stderr prefix; it must stay valid.
 */
void dz_log_open(const char *ident, dz_log_target_t target, dz_log_level_t max_level);

/* Close syslog if it was opened. */
void dz_log_close(void);

/* Change the most verbose level written. */
void dz_log_set_level(dz_log_level_t max_level);

/* Install (or with fn == NULL remove) a sink that replaces the target. */
void dz_log_set_sink(dz_log_sink_fn fn, void *ctx);

/* Whether a message of this level would be written. */
bool dz_log_enabled(dz_log_level_t level);

/* Parse "error", "warning", "notice", "info" or "debug"; false if unknown. */
bool dz_log_level_parse(const char *text, dz_log_level_t *level);

/* Name of a level ("warning"). */
const char *dz_log_level_name(dz_log_level_t level);

void dz_log(dz_log_level_t level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Log "zone ZONE: message"; zone is the origin in presentation form. */
void dz_log_zone(dz_log_level_t level, const char *zone, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * A repeated condition (HSM down, parent not answering): logged once when it
 * starts, once when it ends, and every `repeat_interval` calls in between
 * with the count of suppressed repeats.  Embed it zeroed; it is not thread
 * safe, so keep one per thread or lock around it.
 */
typedef struct dz_log_condition {
	bool active;
	unsigned long repeats;
} dz_log_condition_t;

/*
 * Record that the condition holds now.  Logs the message at `level` on the
 * first call after a clear, and every 1000th repeat after that.  Returns
 * true when it logged.
 */
bool dz_log_condition_raise(dz_log_condition_t *condition, dz_log_level_t level,
			    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Record that the condition no longer holds.  Logs the message at
 * DZ_LOG_NOTICE only if the condition was active.  Returns true when it
 * logged.
 */
bool dz_log_condition_clear(dz_log_condition_t *condition, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
