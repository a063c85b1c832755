/*
 * daemon_keys.c -- the tokens, the sign service and each zone's key
 * manager, driven by the prepare, publish, commit protocol of
 * keystore/manager.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/file.h"
#include "common/privdrop.h"
#include "hsm/registry.h"
#include "keystore/clockguard.h"
#include "keystore/parent.h"
#include "keystore/state_file.h"
#include "signer/apex.h"
#include "signer/daemon.h"
#include "signer/daemon_job.h"
#include "signer/rrsig.h"

/* Signer processes for the default token: server.signer-processes, at least one. */
static unsigned
signer_processes(const dz_config_t *config)
{
	return config->server.signer_processes > 0 ? config->server.signer_processes : 1;
}

static void
hsm_config_of(const dz_config_hsm_t *conf, dz_hsm_config_t *out)
{
	memset(out, 0, sizeof(*out));
	out->module_path = conf->module;
	out->token = conf->token_label != NULL ? conf->token_label : conf->token_uri;
	out->pin_file = conf->pin_file;
	out->sessions = 1;
}

/*
 * Start the signer processes of one token, learn its module and token from
 * the first of them and find its key registry.  The parent never logs in.
 */
static dz_result_t
token_open(dz_daemon_t *d, const dz_config_hsm_t *conf, unsigned processes,
	   const dz_privdrop_target_t *drop, daemon_token_t *t, dz_error_t *err)
{
	dz_hsm_config_t hsm_config;
	dz_hsm_token_info_t info;
	dz_result_t result;

	t->name = strdup(conf->name);
	if (t->name == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	hsm_config_of(conf, &hsm_config);
	result = dz_sign_service_create_processes_as(&hsm_config, processes, drop, &t->service,
						     err);
	if (result == DZ_OK)
		result = dz_sign_service_describe(t->service, &t->info, err);
	if (result != DZ_OK)
		return dz_error_prefix(err, "token %s", conf->name);
	memset(&info, 0, sizeof(info));
	snprintf(info.serial, sizeof(info.serial), "%s", t->info.serial);
	return dz_hsm_registry_path(d->config->server.state_dir, &info, &t->registry_path, err);
}

dz_result_t
daemon_tokens_open(dz_daemon_t *d, dz_error_t *err)
{
	const dz_config_t *config = d->config;
	const dz_config_hsm_t *default_hsm = dz_config_default_hsm(config);
	dz_result_t result;

	if (default_hsm == NULL)
		return dz_error_set(err, DZ_ECONFIG,
				    "%s configures no PKCS#11 token: add one to the hsm section",
				    config->path);
	d->tokens = calloc(config->hsm_count, sizeof(*d->tokens));
	d->provider_tokens = calloc(config->hsm_count, sizeof(*d->provider_tokens));
	if (d->tokens == NULL || d->provider_tokens == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");

	dz_privdrop_target_t signer_user;
	bool drop_signers = false;
	result = daemon_privsep_signer_target(d, &signer_user, &drop_signers, err);
	if (result != DZ_OK)
		return result;
	/*
	 * Before any thread of the daemon starts: the signer processes are
	 * forked here.  The default token goes first, because the key provider
	 * falls back to the first token.  It signs with server.signer-processes
	 * processes, and every other token gets one process for its keys.
	 * NOTE: the processes of later tokens are forked while the reader
	 * threads of earlier ones wait in read(), which holds no lock.
	 */
	for (size_t pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < config->hsm_count; i++) {
			const dz_config_hsm_t *conf = &config->hsms[i];
			if ((pass == 0) != (conf == default_hsm))
				continue;
			daemon_token_t *t = &d->tokens[d->token_count++];
			result = token_open(d, conf, pass == 0 ? signer_processes(config) : 1,
					    drop_signers ? &signer_user : NULL, t, err);
			if (result != DZ_OK)
				return result;
			d->provider_tokens[d->token_count - 1] = (dz_key_service_token_t){
				.name = t->name, .service = t->service, .registry_path = t->registry_path
			};
		}
	}
	d->provider_set = (dz_key_service_provider_t){ .tokens = d->provider_tokens,
						       .count = d->token_count };
	d->service = d->tokens[0].service;
	d->backend = dz_sign_backend_service(d->service);
	return DZ_OK;
}

void
daemon_tokens_close(dz_daemon_t *d)
{
	/* d->service is the default token's service, destroyed below. */
	d->service = NULL;
	for (size_t i = 0; i < d->token_count; i++) {
		dz_sign_service_destroy(d->tokens[i].service);
		free(d->tokens[i].name);
		free(d->tokens[i].registry_path);
	}
	free(d->tokens);
	free(d->provider_tokens);
	d->tokens = NULL;
	d->provider_tokens = NULL;
	d->token_count = 0;
}

void
daemon_log_token(const dz_daemon_t *d)
{
	for (size_t i = 0; i < d->token_count; i++) {
		const daemon_token_t *t = &d->tokens[i];
		dz_log(DZ_LOG_NOTICE,
		       "PKCS#11 module %s; token %s: label \"%s\", %s %s, serial %s%s", t->info.module,
		       t->name, t->info.label, t->info.manufacturer, t->info.model, t->info.serial,
		       i == 0 ? " (default, signs through the signer processes)" : "");
	}
}

const dz_policy_t *
daemon_zone_policy(const dz_daemon_t *d, const dz_config_zone_t *zone)
{
	const dz_config_policy_t *p =
		dz_config_find_policy(d->config, zone->policy != NULL ? zone->policy : "default");

	return p != NULL ? &p->policy : NULL;
}

dz_result_t
daemon_keys_open(daemon_zone_t *z, dz_error_t *err)
{
	dz_daemon_t *d = z->daemon;
	char *key_dir = NULL;
	const dz_policy_t *policy = daemon_zone_policy(d, z->conf);
	dz_result_t result;

	if (policy == NULL)
		return dz_error_set(err, DZ_ECONFIG, "zone %s: policy %s is not configured", z->name,
				    z->conf->policy);
	key_dir = malloc(strlen(d->config->server.state_dir) + sizeof("/" DZ_KEY_STATE_SUBDIR));
	if (key_dir == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	sprintf(key_dir, "%s/" DZ_KEY_STATE_SUBDIR, d->config->server.state_dir);
	result = dz_mkdir_p(key_dir, 0700, err);
	if (result == DZ_OK) {
		dz_key_manager_config_t config = {
			.zone = z->name,
			.state_dir = key_dir,
			.policy = policy,
			.negative_ttl = z->negative_ttl,
			.provider = dz_key_service_provider(&d->provider_set),
			/* A zone that was published before had keys: never start over without its state. */
			.expect_state = access(z->target.snapshot_path, F_OK) == 0,
		};
		result = dz_key_manager_create(&config, &z->keys, err);
	}
	free(key_dir);
	if (result != DZ_OK)
		return dz_error_prefix(err, "zone %s: key state", z->name);
	return DZ_OK;
}

/* Whether the RRSIG blob of an RRset has a signature by the key with `algorithm` and `tag`. */
static bool
signed_by(const dz_rrset_t *rrset, uint8_t algorithm, uint16_t tag)
{
	dz_rdata_iter_t it;
	const uint8_t *rdata;
	uint16_t len;

	if (rrset == NULL || rrset->sigs == NULL)
		return false;
	dz_rdata_iter_init(&it, rrset->sigs->data, rrset->sigs->len);
	while (dz_rdata_iter_next(&it, &rdata, &len)) {
		/* RRSIG RDATA: type covered, algorithm, labels, TTL, expiration, inception, key tag. */
		if (len >= 18 && rdata[2] == algorithm && ((rdata[16] << 8) | rdata[17]) == tag)
			return true;
	}
	return false;
}

static bool
rrset_contains(const dz_rrset_t *rrset, const uint8_t *want, size_t want_len)
{
	dz_rdata_iter_t it;
	const uint8_t *rdata;
	uint16_t len;

	if (rrset == NULL)
		return false;
	dz_rdata_iter_init(&it, rrset->data, rrset->len);
	while (dz_rdata_iter_next(&it, &rdata, &len)) {
		if (len == want_len && memcmp(rdata, want, len) == 0)
			return true;
	}
	return false;
}

/* Whether the CDS RRset has a record for the key tag and algorithm. */
static bool
cds_for(const dz_rrset_t *rrset, uint8_t algorithm, uint16_t tag)
{
	dz_rdata_iter_t it;
	const uint8_t *rdata;
	uint16_t len;

	if (rrset == NULL)
		return false;
	dz_rdata_iter_init(&it, rrset->data, rrset->len);
	while (dz_rdata_iter_next(&it, &rdata, &len)) {
		if (len >= 4 && ((rdata[0] << 8) | rdata[1]) == tag && rdata[2] == algorithm)
			return true;
	}
	return false;
}

void
daemon_keys_reconcile(daemon_zone_t *z, const dz_zone_t *served, dz_time_t now)
{
	const dz_keyring_t *ring;
	dz_keyset_t set;
	dz_error_t err;

	if (z->keys == NULL || served == NULL)
		return;
	ring = dz_key_manager_ring(z->keys);
	memset(&set, 0, sizeof(set));
	set.keys = calloc(ring->count > 0 ? ring->count : 1, sizeof(*set.keys));
	if (set.keys == NULL) {
		dz_log_zone(DZ_LOG_ERROR, z->name, "DNSSEC, cannot compare the key states: out of memory");
		return;
	}
	const dz_rrset_t *dnskey = dz_node_rrset(served->apex, DZ_TYPE_DNSKEY);
	const dz_rrset_t *soa = dz_node_rrset(served->apex, DZ_TYPE_SOA);
	const dz_rrset_t *cds = dz_node_rrset(served->apex, DZ_TYPE_CDS);
	for (size_t i = 0; i < ring->count; i++) {
		const dz_key_t *k = &ring->keys[i];
		dz_zone_key_t *key = &set.keys[set.count];
		uint8_t rdata[4 + DZ_PUBLIC_KEY_MAX];
		if (k->standby)
			continue;
		memcpy(key->key_id, k->key_id, k->key_id_len);
		key->key_id_len = k->key_id_len;
		key->algorithm = k->algorithm;
		key->flags = k->flags;
		key->key_tag = k->tag;
		memcpy(key->public_key, k->public_key, k->public_key_len);
		key->public_key_len = k->public_key_len;
		size_t rdata_len = dz_apex_dnskey_rdata(key, rdata);
		key->publish = rrset_contains(dnskey, rdata, rdata_len);
		key->sign_keys = signed_by(dnskey, k->algorithm, k->tag);
		key->sign_zone = signed_by(soa, k->algorithm, k->tag);
		key->publish_cds = cds_for(cds, k->algorithm, k->tag);
		set.count++;
	}
	dz_error_init(&err);
	if (dz_key_manager_reconcile(z->keys, &set, now, &err) != DZ_OK)
		dz_log_zone(DZ_LOG_ERROR, z->name, "DNSSEC, cannot align the key states with serial %u: %s",
			    z->serial, dz_error_message(&err));
	free(set.keys);
}

static dz_result_t
copy_keyset(const dz_keyset_t *from, dz_keyset_t *to, dz_error_t *err)
{
	*to = *from;
	to->keys = calloc(from->count > 0 ? from->count : 1, sizeof(*to->keys));
	if (to->keys == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	if (from->count > 0)
		memcpy(to->keys, from->keys, from->count * sizeof(*to->keys));
	return DZ_OK;
}

dz_result_t
daemon_keys_plan(daemon_zone_t *z, dz_time_t now, bool key_event, dz_key_plan_t **plan,
		 dz_keyset_t *keys, dz_error_t *err)
{
	dz_clock_sample_t sample;
	dz_result_t result;

	*plan = NULL;
	if (z->keys == NULL)
		return dz_error_set(err, DZ_ESTATE, "key management did not start (see the start-up log)");
	/* Every run checks the clock: the run refuses to sign while it is behind the signatures. */
	dz_key_clock_sample(&sample);
	result = dz_key_manager_check_clock(z->keys, &sample, NULL, err);
	if (result != DZ_OK)
		return result;
	/*
	 * Without a key event the committed key set is the one the published
	 * version uses, so a certificate or source change costs no key work.
	 */
	const dz_keyset_t *committed = dz_key_manager_keyset(z->keys);
	if (!key_event && committed != NULL && committed->count > 0)
		return copy_keyset(committed, keys, err);
	/*
	 * NOTE: prepare generates new key pairs in the token on this (the loop)
	 * thread; an RSA key may take seconds, during which the control socket
	 * and the timers wait.  The DNS server runs in its own process.
	 */
	result = dz_key_manager_prepare(z->keys, now, plan, err);
	if (result == DZ_ESTATE) {
		/* Halted: keep signing with the committed keys; log the reason when it changes. */
		const char *reason = dz_key_manager_halted(z->keys);
		if (reason != NULL && (z->keys_halted == NULL || strcmp(z->keys_halted, reason) != 0)) {
			dz_log_zone(DZ_LOG_ERROR, z->name, "DNSSEC, key management halted: %s", reason);
			free(z->keys_halted);
			z->keys_halted = strdup(reason);
		}
		*plan = NULL;
		if (committed == NULL || committed->count == 0)
			return dz_error_set(err, DZ_ESTATE, "key management halted with no committed keys: %s",
					    reason != NULL ? reason : dz_error_message(err));
		return copy_keyset(committed, keys, err);
	}
	if (result != DZ_OK)
		return result;
	if (z->keys_halted != NULL) {
		dz_log_zone(DZ_LOG_NOTICE, z->name, "DNSSEC, key management resumed");
		free(z->keys_halted);
		z->keys_halted = NULL;
	}
	result = copy_keyset(dz_key_plan_keyset(*plan), keys, err);
	if (result != DZ_OK) {
		dz_key_plan_destroy(*plan);
		*plan = NULL;
	}
	return result;
}

void
daemon_keys_commit(daemon_zone_t *z, dz_key_plan_t *plan, dz_time_t published_at,
		   bool full_resign)
{
	dz_key_commit_t info = { .published_at = published_at, .full_resign = full_resign };
	dz_time_t next = dz_key_plan_next_event(plan);
	char when[DZ_TIME_TEXT_MAX];
	dz_error_t err;

	dz_error_init(&err);
	if (dz_key_manager_commit(z->keys, plan, &info, &err) != DZ_OK) {
		/* The states stay as they were; the next run prepares the same step again. */
		dz_log_zone(DZ_LOG_ERROR, z->name, "DNSSEC, cannot record the key states: %s; "
			    "retrying at the next run", dz_error_message(&err));
		next = daemon_now(z->daemon) + DZ_DAEMON_RETRY_MAX_SECONDS;
	}
	dz_key_plan_destroy(plan);
	if (next != z->key_event_at && next != DZ_TIME_NEVER)
		dz_log_zone(DZ_LOG_INFO, z->name, "DNSSEC, next key event at %s",
			    dz_time_format(next, when));
	z->key_event_at = next;
	z->parent_check_at = dz_key_manager_next_parent_check(z->keys, daemon_now(z->daemon));
}

dz_result_t
daemon_keys_parent_job(daemon_zone_t *z, daemon_job_t **out)
{
	const dz_config_parent_t *parent = &z->conf->parent;
	daemon_job_t *job;

	*out = NULL;
	if (z->keys == NULL || parent->server_count == 0)
		return DZ_OK;
	job = calloc(1, sizeof(*job));
	if (job == NULL)
		return DZ_ENOMEM;
	job->kind = DAEMON_JOB_PARENT;
	job->zone = z;
	job->target = z->target;
	dz_records_init(&job->mail);
	dz_records_init(&job->tree_mail);
	job->parent_count = parent->server_count;
	job->parent_servers = calloc(parent->server_count, sizeof(*job->parent_servers));
	job->parent_answers = calloc(parent->server_count, sizeof(*job->parent_answers));
	if (job->parent_servers == NULL || job->parent_answers == NULL)
		goto nomem;
	const dz_config_tsig_t *tsig =
		parent->tsig != NULL ? dz_config_find_tsig(z->daemon->config, parent->tsig) : NULL;
	if (tsig != NULL) {
		char algorithm[32];
		snprintf(algorithm, sizeof(algorithm), "%s.", dz_tsig_algorithm_name(tsig->algorithm));
		job->tsig_name = strdup(tsig->name);
		job->tsig_algorithm = strdup(algorithm);
		job->tsig_secret = strdup(tsig->secret_base64);
		if (job->tsig_name == NULL || job->tsig_algorithm == NULL || job->tsig_secret == NULL)
			goto nomem;
	}
	for (size_t i = 0; i < parent->server_count; i++) {
		dz_parent_server_t *server = &job->parent_servers[i];
		memcpy(&server->addr, &parent->servers[i].addr, parent->servers[i].addr_len);
		server->addr_len = parent->servers[i].addr_len;
		snprintf(server->name, sizeof(server->name), "%s", parent->servers[i].text);
		server->tsig_name = job->tsig_name;
		server->tsig_algorithm = job->tsig_algorithm;
		server->tsig_secret_base64 = job->tsig_secret;
	}
	*out = job;
	return DZ_OK;
nomem:
	daemon_job_free(job);
	return DZ_ENOMEM;
}

void
daemon_keys_parent_answers(daemon_zone_t *z, const daemon_job_t *job, dz_time_t now)
{
	unsigned problems = 0;
	dz_error_t err;

	if (z->keys == NULL)
		return;
	dz_error_init(&err);
	if (dz_key_manager_observe_parent(z->keys, job->parent_answers, job->parent_count, now,
					  &problems, &err) != DZ_OK)
		dz_log_zone(DZ_LOG_ERROR, z->name, "DNSSEC, cannot record the parent's DS: %s",
			    dz_error_message(&err));
	z->parent_check_at = dz_key_manager_next_parent_check(z->keys, now);
	/* Every observation may let a DS state move. */
	z->want |= DAEMON_WANT_KEYS;
}
