/*
 * fuzz_config.c -- libFuzzer target for the YAML configuration loader.
 *
 * The input is the text of danezone.yaml, loaded from memory as if it were
 * FOLDER/danezone.yaml.  FOLDER is a temporary folder made at start with the
 * files a configuration names: a zone file, a certificate, a private PIN
 * file, a private TSIG secret file and the folders "state", "smime" and
 * "openpgp".  Any other relative path names a missing file,
 * which must be reported as an error.  A configuration that loads is also
 * compared with itself and with a fixed one for the keys that need a
 * restart.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "zones/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char folder[] = "/tmp/dz-fuzz-config-XXXXXX";
static char config_path[sizeof(folder) + 16];
static dz_config_t *reference;

static const char *const file_names[] = { "example.com.zone", "mx.pem", "token.pin",
					  "xfr.secret" };
static const char *const folder_names[] = { "state", "smime", "openpgp" };

static const char reference_text[] =
	"server:\n"
	"  state-dir: state\n"
	"  listen: [127.0.0.1@5353]\n"
	"hsm:\n"
	"  softhsm:\n"
	"    module: /usr/lib/softhsm/libsofthsm2.so\n"
	"    token-label: dnssec\n"
	"    pin-file: token.pin\n"
	"tsig:\n"
	"  xfr.example.com:\n"
	"    algorithm: hmac-sha256\n"
	"    secret-file: xfr.secret\n"
	"zones:\n"
	"  - name: example.com\n"
	"    source: example.com.zone\n";

static void
write_file(const char *name, const char *text, mode_t mode)
{
	char path[sizeof(folder) + 32];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", folder, name);
	fp = fopen(path, "w");
	if (fp == NULL || fputs(text, fp) < 0 || fclose(fp) != 0 || chmod(path, mode) != 0)
		abort();
}

static void
remove_folder(void)
{
	char path[sizeof(folder) + 32];

	for (size_t i = 0; i < sizeof(file_names) / sizeof(file_names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", folder, file_names[i]);
		unlink(path);
	}
	for (size_t i = 0; i < sizeof(folder_names) / sizeof(folder_names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", folder, folder_names[i]);
		rmdir(path);
	}
	rmdir(folder);
}

static void
discard_log(dz_log_level_t level, const char *line, void *ctx)
{
	(void)level;
	(void)line;
	(void)ctx;
}

static void
initialize(void)
{
	char path[sizeof(folder) + 32];
	dz_error_t err;

	dz_log_set_sink(discard_log, NULL);
	if (mkdtemp(folder) == NULL)
		abort();
	atexit(remove_folder);
	snprintf(config_path, sizeof(config_path), "%s/danezone.yaml", folder);
	write_file("example.com.zone", "@ 3600 IN SOA ns1 hostmaster 1 7200 3600 1209600 300\n",
		   0644);
	write_file("mx.pem", "not read by the configuration loader\n", 0644);
	write_file("token.pin", "1234\n", 0600);
	/* 32 octets of 0x01 in base64. */
	write_file("xfr.secret", "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n", 0600);
	for (size_t i = 0; i < sizeof(folder_names) / sizeof(folder_names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", folder, folder_names[i]);
		if (mkdir(path, 0700) != 0)
			abort();
	}
	dz_error_init(&err);
	if (dz_config_load_buffer(reference_text, strlen(reference_text), config_path, &reference,
				  NULL, &err) != DZ_OK) {
		fprintf(stderr, "fuzz_config: the reference configuration does not load: %s\n",
			dz_error_message(&err));
		abort();
	}
}

/* Use what a loaded configuration offers, as the daemon and commands do. */
static void
use_config(const dz_config_t *config)
{
	dz_cfg_diags_t changes;

	for (size_t i = 0; i < config->zone_count; i++) {
		if (config->zones[i].name == NULL ||
		    dz_config_find_zone(config, config->zones[i].name) == NULL)
			abort();
		if (config->zones[i].policy != NULL &&
		    dz_config_find_policy(config, config->zones[i].policy) == NULL)
			abort();
	}
	for (size_t i = 0; i < config->tsig_count; i++) {
		if (config->tsigs[i].name == NULL ||
		    dz_config_find_tsig(config, config->tsigs[i].name) == NULL)
			abort();
	}
	dz_config_default_hsm(config);

	dz_cfg_diags_init(&changes);
	if (dz_config_restart_changes(config, config, &changes) != 0)
		abort();
	dz_config_restart_changes(reference, config, &changes);
	dz_cfg_diags_clear(&changes);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dz_config_t *config = NULL;
	dz_cfg_diags_t diags;
	dz_error_t err;

	if (reference == NULL)
		initialize();
	dz_cfg_diags_init(&diags);
	dz_error_init(&err);
	dz_result_t result =
		dz_config_load_buffer((const char *)data, size, config_path, &config, &diags, &err);
	if (result == DZ_OK) {
		use_config(config);
		dz_config_destroy(config);
	} else if ((result != DZ_ECONFIG && result != DZ_ENOMEM) || config != NULL ||
		   err.message[0] == '\0') {
		/* A failed load leaves *config alone and sets an error message. */
		abort();
	}
	for (size_t i = 0; i < diags.count; i++) {
		if (diags.items[i].text != NULL)
			(void)strlen(diags.items[i].text);
	}
	dz_cfg_diags_clear(&diags);
	return 0;
}
