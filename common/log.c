#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

#define LOG_LINE_MAX 4096
#define CONDITION_REPEAT_INTERVAL 1000

static const char *log_ident = "danezone";
static dz_log_target_t log_target = DZ_LOG_TARGET_STDERR;
static dz_log_level_t log_max_level = DZ_LOG_NOTICE;
static bool log_syslog_open;
static dz_log_sink_fn log_sink;
static void *log_sink_ctx;

static const struct {
	dz_log_level_t level;
	const char *name;
} level_names[] = {
	{ DZ_LOG_ERROR, "error" },
	{ DZ_LOG_WARNING, "warning" },
	{ DZ_LOG_NOTICE, "notice" },
	{ DZ_LOG_INFO, "info" },
	{ DZ_LOG_DEBUG, "debug" },
};

void
dz_log_open(const char *ident, dz_log_target_t target, dz_log_level_t max_level)
{
	log_ident = ident;
	log_target = target;
	log_max_level = max_level;
	if (target == DZ_LOG_TARGET_SYSLOG && !log_syslog_open) {
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
		log_syslog_open = true;
	}
}

void
dz_log_close(void)
{
	if (log_syslog_open) {
		closelog();
		log_syslog_open = false;
	}
}

void
dz_log_set_level(dz_log_level_t max_level)
{
	log_max_level = max_level;
}

void
dz_log_set_sink(dz_log_sink_fn fn, void *ctx)
{
	log_sink = fn;
	log_sink_ctx = ctx;
}

bool
dz_log_enabled(dz_log_level_t level)
{
	return level <= log_max_level || log_sink != NULL;
}

bool
dz_log_level_parse(const char *text, dz_log_level_t *level)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcasecmp(text, level_names[i].name) == 0) {
			*level = level_names[i].level;
			return true;
		}
	}
	return false;
}

const char *
dz_log_level_name(dz_log_level_t level)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (level_names[i].level == level)
			return level_names[i].name;
	}
	return "unknown";
}

/* Write one formatted line to the sink or the target. */
static void
log_emit(dz_log_level_t level, const char *prefix, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	char out[LOG_LINE_MAX + 128];
	int used = 0;

	if (prefix != NULL)
		used = snprintf(line, sizeof(line), "%s", prefix);
	if (used < 0 || (size_t)used >= sizeof(line))
		used = 0;
	vsnprintf(line + used, sizeof(line) - (size_t)used, fmt, ap);

	if (log_sink != NULL) {
		log_sink(level, line, log_sink_ctx);
		return;
	}
	if (level > log_max_level)
		return;

	if (log_target == DZ_LOG_TARGET_SYSLOG) {
		syslog((int)level, "%s", line);
		return;
	}

	struct timespec ts;
	struct tm tm;
	char stamp[32];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	int len = snprintf(out, sizeof(out), "%s.%03ldZ %s[%ld]: %s: %s\n", stamp,
			   ts.tv_nsec / 1000000, log_ident, (long)getpid(),
			   dz_log_level_name(level), line);
	if (len < 0)
		return;
	if ((size_t)len >= sizeof(out)) {
		len = (int)sizeof(out) - 1;
		out[len - 1] = '\n';
	}
	/* One write() per line; a failed write to stderr has nowhere to go. */
	ssize_t written = write(STDERR_FILENO, out, (size_t)len);
	(void)written;
}

void
dz_log(dz_log_level_t level, const char *fmt, ...)
{
	va_list ap;

	if (!dz_log_enabled(level))
		return;
	va_start(ap, fmt);
	log_emit(level, NULL, fmt, ap);
	va_end(ap);
}

void
dz_log_zone(dz_log_level_t level, const char *zone, const char *fmt, ...)
{
	char prefix[300];
	va_list ap;

	if (!dz_log_enabled(level))
		return;
	/* One spelling for every subsystem: "example.net", not "example.net.". */
	size_t len = strlen(zone);
	if (len > 1 && zone[len - 1] == '.')
		len--;
	snprintf(prefix, sizeof(prefix), "zone %.*s: ", (int)len, zone);
	va_start(ap, fmt);
	log_emit(level, prefix, fmt, ap);
	va_end(ap);
}

bool
dz_log_condition_raise(dz_log_condition_t *condition, dz_log_level_t level,
		       const char *fmt, ...)
{
	va_list ap;
	char prefix[96];

	if (condition->active) {
		condition->repeats++;
		if (condition->repeats % CONDITION_REPEAT_INTERVAL != 0)
			return false;
		snprintf(prefix, sizeof(prefix), "still (%lu times): ", condition->repeats);
	} else {
		condition->active = true;
		condition->repeats = 0;
		prefix[0] = '\0';
	}
	if (!dz_log_enabled(level))
		return false;
	va_start(ap, fmt);
	log_emit(level, prefix, fmt, ap);
	va_end(ap);
	return true;
}

bool
dz_log_condition_clear(dz_log_condition_t *condition, const char *fmt, ...)
{
	va_list ap;

	if (!condition->active)
		return false;
	condition->active = false;
	condition->repeats = 0;
	if (!dz_log_enabled(DZ_LOG_NOTICE))
		return false;
	va_start(ap, fmt);
	log_emit(DZ_LOG_NOTICE, NULL, fmt, ap);
	va_end(ap);
	return true;
}
