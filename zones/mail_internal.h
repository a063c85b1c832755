/*
 * mail_internal.h -- the parts of dz_mail_t shared by zones/mail*.c and
 * the unit tests.
 */
#ifndef DZ_ZONES_MAIL_INTERNAL_H
#define DZ_ZONES_MAIL_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/log.h"
#include "zones/keymat.h"
#include "zones/mail.h"
#include "zones/mailbox.h"
#include "zones/records.h"
#include "zones/rollover.h"
#include "zones/watch.h"

typedef enum file_kind {
	FILE_TLSA,    /* a host's certificate, chain, key or CSR */
	FILE_SMIME,   /* a user's S/MIME certificates */
	FILE_OPENPGP, /* a user's OpenPGP keys */
} file_kind_t;

/* What was read from one file, and when it last changed. */
typedef struct cached_file {
	char *path;
	file_kind_t kind;
	bool used;	      /* still named by the configuration or a folder */
	bool exists;
	dev_t dev;	      /* identity at the last read */
	ino_t ino;
	off_t size;
	int64_t mtime_sec, mtime_nsec;
	int64_t ctime_sec, ctime_nsec;
	bool have_good;	      /* a read succeeded; its results follow */
	dz_keymat_t keymat;   /* FILE_TLSA */
	dz_records_t records; /* FILE_SMIME, FILE_OPENPGP */
	dz_time_t valid_until; /* FILE_SMIME: regenerate the records at this time */
	unsigned failures;    /* failed reads of the current content in a row */
	bool warned_no_issuer;
	dz_log_condition_t condition;
} cached_file_t;

typedef struct mail_zone {
	const dz_config_zone_t *config;
	dz_mailbox_options_t options;
	dz_rollover_t *rollover;
	char *state_path;
	cached_file_t **files;
	size_t file_count;
	dz_records_t current;  /* generated at the last update */
	dz_records_t reported; /* accepted by the change callback */
	dz_time_t next_change; /* a certificate becomes valid or expires */
	int64_t retry_ms;      /* read failed files again at this time; -1 = no retry */
	bool dirty;	       /* regenerate at the next update */
	dz_log_condition_t folder_condition;
} mail_zone_t;

struct dz_mail {
	const dz_config_t *config;
	unsigned flags;
	mail_zone_t *zones;
	size_t zone_count;
	dz_watch_t *watch;
};

/*
 * Read a zone file (the signer's output) with ldns: its SOA serial, its
 * negative TTL min(SOA TTL, SOA MINIMUM), and its TLSA records into
 * `tlsa` (sorted).  DZ_ENOTFOUND when the file does not exist, DZ_EZONE when
 * it does not parse or has no SOA for `origin`.
 */
dz_result_t dz_mail_read_zone_file(const char *path, const char *origin, dz_records_t *tlsa,
				   uint32_t *serial, uint32_t *negative_ttl, dz_error_t *err);

#endif
