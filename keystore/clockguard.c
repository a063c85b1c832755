#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "keystore/clockguard.h"

void
dz_key_clock_sample(dz_clock_sample_t *sample)
{
	struct timespec ts;
	FILE *f;

	memset(sample, 0, sizeof(*sample));
	clock_gettime(CLOCK_REALTIME, &ts);
	sample->wall = (dz_time_t)ts.tv_sec;
	sample->boottime = dz_clock_boottime();
	f = fopen("/proc/sys/kernel/random/boot_id", "r");
	if (f != NULL) {
		if (fgets(sample->boot_id, sizeof(sample->boot_id), f) == NULL)
			sample->boot_id[0] = '\0';
		sample->boot_id[strcspn(sample->boot_id, "\n")] = '\0';
		fclose(f);
	}
}

int64_t
dz_key_clock_tolerance(int64_t elapsed)
{
	if (elapsed < 0)
		elapsed = -elapsed;
	return 60 + elapsed / 100;
}

static void
accept(dz_key_clock_guard_t *c, const dz_clock_sample_t *s)
{
	c->wall = s->wall;
	c->boottime = s->boottime;
	snprintf(c->boot_id, sizeof(c->boot_id), "%s", s->boot_id);
}

static bool
same_boot(const dz_key_clock_guard_t *c, const dz_clock_sample_t *s)
{
	return c->boot_id[0] != '\0' && strcmp(c->boot_id, s->boot_id) == 0 &&
	       s->boottime >= c->boottime;
}

static void
shift_time(dz_time_t *t, int64_t by)
{
	if (*t != DZ_KEY_TIME_NONE && *t != DZ_TIME_NEVER)
		*t += by;
}

/* Move every recorded time by `by` seconds (same boot: elapsed times stay true). */
static void
shift_ring(dz_keyring_t *ring, int64_t by)
{
	for (size_t i = 0; i < ring->count; i++) {
		dz_key_t *k = &ring->keys[i];
		dz_time_t *times[] = { &k->created, &k->publish, &k->active, &k->retire,
				       &k->resigned, &k->ds_seen, &k->ds_gone, &k->ds_checked,
				       &k->roll_at };
		for (size_t t = 0; t < sizeof(times) / sizeof(times[0]); t++)
			shift_time(times[t], by);
		for (int r = 0; r < DZ_REC_COUNT; r++)
			shift_time(&k->changed[r], by);
	}
	for (int c = 0; c < DZ_TTL_CLASS_COUNT; c++) {
		for (size_t i = 0; i < ring->ttl[c].count; i++) {
			shift_time(&ring->ttl[c].entries[i].from, by);
			shift_time(&ring->ttl[c].entries[i].until, by);
		}
	}
	for (size_t i = 0; i < ring->event_count; i++)
		shift_time(&ring->events[i].time, by);
	shift_time(&ring->last_commit, by);
}

/* Restart every wait in progress at `now` (no proof of the time elapsed). */
static void
restart_waits(dz_keyring_t *ring, dz_time_t now)
{
	for (size_t i = 0; i < ring->count; i++) {
		dz_key_t *k = &ring->keys[i];
		for (int r = 0; r < DZ_REC_COUNT; r++) {
			if (k->state[r] == DZ_STATE_RUMOURED || k->state[r] == DZ_STATE_UNRETENTIVE)
				k->changed[r] = now;
		}
		if (k->ds_seen != DZ_KEY_TIME_NONE)
			k->ds_seen = now;
		if (k->ds_gone != DZ_KEY_TIME_NONE)
			k->ds_gone = now;
		if (k->ds_checked != DZ_KEY_TIME_NONE)
			k->ds_checked = now;
		k->resigned = DZ_KEY_TIME_NONE;
	}
}

static void
freeze(dz_key_clock_guard_t *c, const dz_clock_sample_t *s, int64_t jump, const char *why)
{
	c->frozen = true;
	c->frozen_at = s->wall;
	c->jump = jump;
	snprintf(c->reason, sizeof(c->reason), "%s", why);
}

dz_key_clock_verdict_t
dz_key_clock_check(dz_keyring_t *ring, const dz_clock_sample_t *s)
{
	dz_key_clock_guard_t *c = &ring->clock;

	if (c->wall == DZ_KEY_TIME_NONE) {
		accept(c, s);
		return DZ_CLOCK_OK;
	}
	if (c->frozen && c->ack_requested != c->ack_done) {
		if (same_boot(c, s))
			shift_ring(ring, (s->wall - s->boottime) - (c->wall - c->boottime));
		else
			restart_waits(ring, s->wall);
		c->frozen = false;
		c->frozen_at = DZ_KEY_TIME_NONE;
		c->jump = 0;
		c->reason[0] = '\0';
		c->ack_done = c->ack_requested;
		accept(c, s);
		return DZ_CLOCK_RESUMED;
	}
	/* An acknowledgement without a freeze has nothing to apply. */
	c->ack_done = c->ack_requested;

	if (same_boot(c, s)) {
		int64_t elapsed_boot = s->boottime - c->boottime;
		int64_t elapsed_wall = s->wall - c->wall;
		int64_t drift = elapsed_wall - elapsed_boot;
		int64_t tolerance = dz_key_clock_tolerance(elapsed_boot);
		if (c->frozen) {
			if (drift >= -tolerance && drift <= tolerance) {
				c->frozen = false;
				c->frozen_at = DZ_KEY_TIME_NONE;
				c->jump = 0;
				c->reason[0] = '\0';
				accept(c, s);
				return DZ_CLOCK_RESUMED;
			}
			return DZ_CLOCK_FROZEN;
		}
		if (drift > tolerance) {
			freeze(c, s, drift, "the wall clock jumped forward");
			return DZ_CLOCK_FROZE;
		}
		if (drift < -tolerance) {
			freeze(c, s, drift, "the wall clock jumped backward");
			return DZ_CLOCK_FROZE;
		}
		accept(c, s);
		return DZ_CLOCK_OK;
	}
	if (c->frozen)
		return DZ_CLOCK_FROZEN;
	/*
	 * NOTE: across a reboot CLOCK_BOOTTIME restarts, so a wall clock that
	 * moved forward cannot be checked; only a move backward is caught.
	 */
	if (s->wall < c->wall - dz_key_clock_tolerance(0)) {
		freeze(c, s, s->wall - c->wall, "the wall clock is behind the last run's (after a reboot)");
		return DZ_CLOCK_FROZE;
	}
	accept(c, s);
	return DZ_CLOCK_OK;
}
