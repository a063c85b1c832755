#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "signer/ratelog.h"

void
dz_ratelog(dz_ratelog_t *rate, int64_t now, dz_log_level_t level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (now - rate->window_start >= DZ_RATELOG_WINDOW || now < rate->window_start) {
		if (rate->suppressed > 0)
			dz_log(level, "suppressed %lu similar messages in the last %d seconds",
			       rate->suppressed, DZ_RATELOG_WINDOW);
		rate->window_start = now;
		rate->logged = 0;
		rate->suppressed = 0;
	}
	if (rate->logged >= DZ_RATELOG_BURST) {
		rate->suppressed++;
		return;
	}
	rate->logged++;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	dz_log(level, "%s", line);
}
