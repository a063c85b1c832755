#include "config.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keystore/state_file.h"
#include "signer/key_state_cli.h"

#define KEY_STATE_SUBDIR DZ_KEY_STATE_SUBDIR

void
dz_keycli_init(dz_keycli_t *cli)
{
	memset(cli, 0, sizeof(*cli));
}

bool
dz_keycli_option(dz_keycli_t *cli, int option, const char *arg)
{
	switch (option) {
	case 'c':
		cli->config_path = arg;
		return true;
	case DZ_KEYCLI_OPT_STATE_DIR:
		cli->state_dir = arg;
		return true;
	}
	return false;
}

void
dz_keycli_usage(FILE *out)
{
	fprintf(out,
		"  -c, --config FILE   configuration file (default %s, unless --state-dir is\n"
		"                      given)\n"
		"  --state-dir DIR     state folder; key states are in DIR/" KEY_STATE_SUBDIR "\n",
		DZ_CONFIG_DEFAULT_PATH);
}

dz_result_t
dz_keycli_open(dz_keycli_t *cli, dz_error_t *err)
{
	const char *state_dir = cli->state_dir;
	const char *config_path = cli->config_path;

	if (config_path == NULL && state_dir == NULL)
		config_path = DZ_CONFIG_DEFAULT_PATH;
	if (config_path != NULL) {
		dz_cfg_diags_t diags;
		dz_cfg_diags_init(&diags);
		dz_result_t result = dz_config_load(config_path, &cli->config, &diags, err);
		if (result != DZ_OK && dz_cfg_diags_first_error(&diags) != NULL)
			dz_error_set(err, result, "%s", dz_cfg_diags_first_error(&diags));
		dz_cfg_diags_clear(&diags);
		if (result != DZ_OK)
			return result;
		if (state_dir == NULL)
			state_dir = cli->config->server.state_dir;
	}
	cli->key_dir = malloc(strlen(state_dir) + sizeof("/" KEY_STATE_SUBDIR));
	if (cli->key_dir == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	sprintf(cli->key_dir, "%s/" KEY_STATE_SUBDIR, state_dir);
	return DZ_OK;
}

void
dz_keycli_close(dz_keycli_t *cli)
{
	dz_config_destroy(cli->config);
	free(cli->key_dir);
	memset(cli, 0, sizeof(*cli));
}

static dz_result_t
push_name(char ***names, size_t *count, const char *name)
{
	char **grown = realloc(*names, (*count + 1) * sizeof(**names));
	if (grown == NULL)
		return DZ_ENOMEM;
	*names = grown;
	grown[*count] = strdup(name);
	if (grown[*count] == NULL)
		return DZ_ENOMEM;
	(*count)++;
	return DZ_OK;
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

dz_result_t
dz_keycli_zones(dz_keycli_t *cli, char ***names, size_t *count, dz_error_t *err)
{
	*names = NULL;
	*count = 0;
	if (cli->config != NULL) {
		for (size_t i = 0; i < cli->config->zone_count; i++) {
			if (push_name(names, count, cli->config->zones[i].name) != DZ_OK)
				return dz_error_set(err, DZ_ENOMEM, "out of memory");
		}
		return DZ_OK;
	}
	DIR *dir = opendir(cli->key_dir);
	if (dir == NULL)
		return DZ_OK;
	for (struct dirent *e = readdir(dir); e != NULL; e = readdir(dir)) {
		size_t len = strlen(e->d_name);
		if (len <= 5 || strcmp(e->d_name + len - 5, ".keys") != 0)
			continue;
		char name[256];
		snprintf(name, sizeof(name), "%.*s", (int)(len - 5), e->d_name);
		if (push_name(names, count, strcmp(name, "root") == 0 ? "." : name) != DZ_OK) {
			closedir(dir);
			return dz_error_set(err, DZ_ENOMEM, "out of memory");
		}
	}
	closedir(dir);
	if (*count > 0)
		qsort(*names, *count, sizeof(**names), compare_names);
	return DZ_OK;
}

/* The configured policy of the zone, copied into *policy; false if the zone is not configured. */
static bool
configured_policy(dz_keycli_t *cli, const char *zone, dz_policy_t *policy, dz_result_t *result)
{
	*result = DZ_OK;
	if (cli->config == NULL)
		return false;
	const dz_config_zone_t *z = dz_config_find_zone(cli->config, zone);
	if (z == NULL)
		return false;
	const dz_config_policy_t *p = dz_config_find_policy(cli->config,
							    z->policy != NULL ? z->policy : "default");
	if (p == NULL)
		return false;
	if (!dz_policy_copy(policy, &p->policy))
		*result = DZ_ENOMEM;
	return true;
}

dz_result_t
dz_keycli_load(dz_keycli_t *cli, const char *zone, dz_keyring_t *ring, dz_policy_t *policy,
	       uint32_t *negative_ttl, dz_error_t *err)
{
	char *path = dz_key_state_path(cli->key_dir, zone);
	dz_policy_t stored;
	dz_result_t result;

	if (path == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	*negative_ttl = 0;
	result = dz_key_state_read(path, ring, &stored, negative_ttl, err);
	free(path);
	if (result == DZ_ENOTFOUND) {
		dz_keyring_init(ring, zone);
		if (!dz_policy_init_defaults(&stored))
			return dz_error_set(err, DZ_ENOMEM, "out of memory");
	} else if (result != DZ_OK) {
		return result;
	}
	dz_result_t copied;
	if (configured_policy(cli, zone, policy, &copied)) {
		dz_policy_clear(&stored);
		if (copied != DZ_OK) {
			dz_keyring_clear(ring);
			return dz_error_set(err, copied, "out of memory");
		}
	} else {
		*policy = stored;
	}
	if (result == DZ_ENOTFOUND)
		return dz_error_set(err, DZ_ENOTFOUND,
				    "zone %s has no key state in %s yet (the daemon creates it when "
				    "it first signs the zone)",
				    ring->zone, cli->key_dir);
	return DZ_OK;
}

dz_result_t
dz_keycli_edit(dz_keycli_t *cli, const char *zone, dz_key_ring_edit_fn fn, void *ctx,
	       dz_error_t *err)
{
	char *path = dz_key_state_path(cli->key_dir, zone);
	dz_keyring_t ring;
	dz_policy_t policy;
	uint32_t negative_ttl = 0;
	int lock = -1;
	dz_result_t result;

	if (path == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	if (access(path, F_OK) != 0) {
		result = dz_error_set(err, DZ_ENOTFOUND,
				      "zone %s has no key state file %s (the daemon creates it when "
				      "it first signs the zone)",
				      zone, path);
		free(path);
		return result;
	}
	result = dz_key_state_lock(path, &lock, err);
	if (result != DZ_OK)
		goto cleanup;
	result = dz_key_state_read(path, &ring, &policy, &negative_ttl, err);
	if (result != DZ_OK)
		goto cleanup;
	result = fn(&ring, ctx, err);
	if (result == DZ_OK)
		result = dz_key_state_write(path, &ring, &policy, negative_ttl, err);
	dz_keyring_clear(&ring);
	dz_policy_clear(&policy);

cleanup:
	dz_key_state_unlock(lock);
	free(path);
	return result;
}

dz_result_t
dz_keycli_time(const char *text, dz_time_t now, dz_time_t *out, dz_error_t *err)
{
	if (strcmp(text, "now") == 0) {
		*out = now;
		return DZ_OK;
	}
	return dz_time_parse(text, out, err);
}

const char *
dz_keycli_algorithm(uint8_t algorithm)
{
	static char number[8];
	const char *name = dz_algorithm_name(algorithm);

	if (name != NULL)
		return name;
	snprintf(number, sizeof(number), "%u", algorithm);
	return number;
}
