#include "config.h"

#include <string.h>

#include "signer/token_options.h"

/* Default state folder, beside the daemon's other state. */
#define DEFAULT_STATE_DIR DZ_LOCALSTATEDIR "/lib/danezone"

void
dz_token_options_init(dz_token_options_t *options)
{
	memset(options, 0, sizeof(*options));
}

bool
dz_token_options_handle(dz_token_options_t *options, int option, const char *arg)
{
	switch (option) {
	case DZ_OPT_MODULE:
		options->module = arg;
		return true;
	case DZ_OPT_TOKEN:
		options->token = arg;
		return true;
	case DZ_OPT_PIN_FILE:
		options->pin_file = arg;
		return true;
	case DZ_OPT_STATE_DIR:
		options->state_dir = arg;
		return true;
	default:
		return false;
	}
}

void
dz_token_options_config(const dz_token_options_t *options, unsigned sessions,
			dz_hsm_config_t *config)
{
	memset(config, 0, sizeof(*config));
	config->module_path = options->module;
	config->token = options->token;
	config->pin_file = options->pin_file;
	config->sessions = sessions;
}

const char *
dz_token_options_state_dir(const dz_token_options_t *options)
{
	return options->state_dir != NULL ? options->state_dir : DEFAULT_STATE_DIR;
}

void
dz_token_options_usage(FILE *out, bool with_state_dir)
{
	fprintf(out,
		"  --module PATH       PKCS#11 module (default %s)\n"
		"  --token LABEL|URI   token label or RFC 7512 pkcs11: URI; may be omitted when\n"
		"                      the module has one token\n"
		"  --pin-file FILE     file holding the user PIN, readable only by its owner\n",
		DZ_DEFAULT_PKCS11_MODULE);
	if (with_state_dir)
		fprintf(out,
			"  --state-dir DIR     folder of the audit log and key registry (default %s)\n",
			DEFAULT_STATE_DIR);
}
