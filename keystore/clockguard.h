/*
 * clockguard.h -- detection of wall-clock jumps between key manager runs.
 *
 * Every wait of the key state machine is measured on the wall clock.  A
 * jump forward would make waits look over while caches still hold old
 * records.  A jump backward would stamp transitions with times that look
 * long past once the clock is corrected.  So each run compares how far the
 * wall clock moved since the last accepted reading with how far
 * CLOCK_BOOTTIME moved (it counts suspend and never jumps).  When they
 * differ by more than the tolerance, all transitions freeze (re-signing is
 * the signer's business and continues) until either the wall clock returns
 * to its old offset, or the operator acknowledges the new time.  An
 * acknowledgement within the same boot moves every recorded time by the
 * jump, so waits keep their real elapsed time; after a reboot the boot
 * time cannot prove anything, so waits in progress start again.
 *
 * Not thread safe per ring.
 */
#ifndef DZ_KEYSTORE_CLOCKGUARD_H
#define DZ_KEYSTORE_CLOCKGUARD_H

#include <stdbool.h>
#include <stdint.h>

#include "common/clock.h"
#include "keystore/ring.h"

/* One reading of the clocks. */
typedef struct dz_clock_sample {
	dz_time_t wall;		     /* CLOCK_REALTIME seconds */
	int64_t boottime;	     /* CLOCK_BOOTTIME seconds */
	char boot_id[DZ_BOOT_ID_MAX]; /* kernel boot id; "" if unknown */
} dz_clock_sample_t;

/* Read the system clocks and /proc/sys/kernel/random/boot_id. */
void dz_key_clock_sample(dz_clock_sample_t *sample);

/* Tolerated difference between wall and boot time: 60 s plus 1 % of the elapsed boot time. */
int64_t dz_key_clock_tolerance(int64_t elapsed);

typedef enum dz_key_clock_verdict {
	DZ_CLOCK_OK,	      /* reading accepted */
	DZ_CLOCK_FROZE,	      /* a jump was detected now; transitions freeze */
	DZ_CLOCK_FROZEN,      /* still frozen from an earlier jump */
	DZ_CLOCK_RESUMED,     /* the wall clock came back, or the jump was acknowledged */
} dz_key_clock_verdict_t;

/*
 * Compare `sample` with the ring's last accepted reading, apply a pending
 * operator acknowledgement (ring->clock.ack_requested above ack_done), and
 * update the ring's clock guard.  An acknowledgement moves or restarts the
 * ring's recorded times as described above.  Across a reboot only a jump
 * backward can be detected.
 */
dz_key_clock_verdict_t dz_key_clock_check(dz_keyring_t *ring, const dz_clock_sample_t *sample);

#endif
