/*
 * softhsm_fixture.h -- a fresh SoftHSM2 token in a temporary folder for the
 * hsm unit tests, and an independent DNSSEC signature check with OpenSSL.
 */
#ifndef DZ_TESTS_SOFTHSM_FIXTURE_H
#define DZ_TESTS_SOFTHSM_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hsm/hsm.h"

#define FIXTURE_LABEL "dz-unit"
#define FIXTURE_PIN "3141"
#define FIXTURE_SO_PIN "27182818"

typedef struct softhsm_fixture {
	char dir[64];		/* temporary folder */
	char conf[128];		/* softhsm2.conf, exported as SOFTHSM2_CONF */
	char pin_file[128];	/* user PIN, mode 0600 */
	char so_pin_file[128];	/* security officer PIN, mode 0600 */
	const char *module;	/* SoftHSM2 module path */
	dz_hsm_config_t config;	/* module, FIXTURE_LABEL, pin_file, 1 session */
} softhsm_fixture_t;

/* Make the folder and configuration; with `init`, a token FIXTURE_LABEL made by softhsm2-util. */
softhsm_fixture_t *softhsm_fixture_create(bool init);

/* Remove the folder and free the fixture. */
void softhsm_fixture_destroy(softhsm_fixture_t *fixture);

/* Write a file with the given mode. */
void fixture_write_file(const char *path, const char *content, mode_t mode);

/*
 * Verify a DNSSEC signature over `data` with OpenSSL, using only the DNSKEY
 * public key field: the key is rebuilt from RFC 3110, RFC 6605 or RFC 8080
 * form here, not by danezone.
 */
bool fixture_verify(uint8_t algorithm, const uint8_t *public_key, size_t public_key_len,
		    const uint8_t *data, size_t data_len, const uint8_t *signature,
		    size_t signature_len);

/* Log lines captured by fixture_capture_log(), joined by newlines. */
extern char fixture_log[16384];

/* Send log lines to fixture_log (emptied first); NULL-safe to call repeatedly. */
void fixture_capture_log(void);

#endif
