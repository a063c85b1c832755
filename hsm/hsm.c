/*
 * hsm.c -- a logged-in connection to one token: sessions, login and
 * recovery after a session is lost.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/mem.h"
#include "hsm/internal.h"
#include "hsm/rv.h"

/* Largest PIN read from a file, with its NUL; PKCS#11 tokens allow far less. */
#define PIN_MAX 256

unsigned
dz_hsm_session_take(dz_hsm_t *hsm)
{
	unsigned index = 0;

	pthread_mutex_lock(&hsm->pool_lock);
	for (;;) {
		for (index = 0; index < hsm->session_count; index++) {
			if (!hsm->busy[index])
				break;
		}
		if (index < hsm->session_count)
			break;
		pthread_cond_wait(&hsm->pool_cond, &hsm->pool_lock);
	}
	hsm->busy[index] = true;
	pthread_mutex_unlock(&hsm->pool_lock);
	return index;
}

void
dz_hsm_session_give(dz_hsm_t *hsm, unsigned index)
{
	pthread_mutex_lock(&hsm->pool_lock);
	hsm->busy[index] = false;
	pthread_cond_signal(&hsm->pool_cond);
	pthread_mutex_unlock(&hsm->pool_lock);
}

/* Close our sessions.  Never C_CloseAllSessions: other connections may share the token. */
static void
close_sessions(dz_hsm_t *hsm)
{
	for (unsigned i = 0; i < hsm->session_count; i++) {
		if (hsm->sessions[i] != CK_INVALID_HANDLE)
			hsm->p11->C_CloseSession(hsm->sessions[i]);
		hsm->sessions[i] = CK_INVALID_HANDLE;
	}
}

static dz_result_t
open_sessions(dz_hsm_t *hsm, dz_error_t *err)
{
	for (unsigned i = 0; i < hsm->session_count; i++) {
		CK_RV rv = hsm->p11->C_OpenSession(hsm->token.slot,
						   CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL,
						   NULL, &hsm->sessions[i]);
		if (rv != CKR_OK) {
			hsm->sessions[i] = CK_INVALID_HANDLE;
			close_sessions(hsm);
			if (rv == CKR_SESSION_COUNT)
				return dz_hsm_fail(err, rv,
						   "token '%s' refused session %u of %u; configure "
						   "fewer sessions", hsm->token.label, i + 1,
						   hsm->session_count);
			return dz_hsm_fail(err, rv, "opening a session to token '%s' failed",
					   hsm->token.label);
		}
	}
	return DZ_OK;
}

/*
 * Log in with the PIN from the PIN file.  C_Login logs in every session of
 * this process to the token, so one call covers all sessions.
 */
static dz_result_t
login(dz_hsm_t *hsm, dz_error_t *err)
{
	char pin[PIN_MAX];
	size_t pin_len = 0;
	dz_result_t result;
	CK_RV rv;

	result = dz_hsm_read_pin_file(hsm->pin_file, pin, sizeof(pin), &pin_len, err);
	if (result != DZ_OK)
		return result;
	rv = hsm->p11->C_Login(hsm->sessions[0], CKU_USER, (CK_UTF8CHAR_PTR)pin, pin_len);
	dz_secure_zero(pin, sizeof(pin));

	switch (rv) {
	case CKR_OK:
	case CKR_USER_ALREADY_LOGGED_IN:
		return DZ_OK;
	case CKR_PIN_INCORRECT:
	case CKR_PIN_INVALID:
	case CKR_PIN_LEN_RANGE:
		return dz_error_set(err, DZ_EHSM_PIN,
				    "login to token '%s' failed: wrong PIN in %s (%s); danezone "
				    "does not retry, because tokens lock the PIN after repeated "
				    "failures: correct the PIN file and run again",
				    hsm->token.label, hsm->pin_file,
				    rv == CKR_PIN_INCORRECT ? "CKR_PIN_INCORRECT" :
				    rv == CKR_PIN_INVALID ? "CKR_PIN_INVALID" : "CKR_PIN_LEN_RANGE");
	case CKR_PIN_LOCKED:
		return dz_error_set(err, DZ_EHSM_PIN,
				    "the user PIN of token '%s' is locked after too many failed "
				    "logins (CKR_PIN_LOCKED); the security officer must set a new "
				    "user PIN", hsm->token.label);
	case CKR_PIN_EXPIRED:
		return dz_error_set(err, DZ_EHSM_PIN,
				    "the user PIN of token '%s' has expired (CKR_PIN_EXPIRED); "
				    "set a new one", hsm->token.label);
	case CKR_USER_PIN_NOT_INITIALIZED:
		return dz_error_set(err, DZ_EHSM_PIN,
				    "token '%s' has no user PIN yet (CKR_USER_PIN_NOT_INITIALIZED); "
				    "the security officer must set one", hsm->token.label);
	default:
		return dz_hsm_fail(err, rv, "login to token '%s' failed", hsm->token.label);
	}
}

/* Open sessions, log in, read mechanisms and index keys; the caller holds the write lock. */
static dz_result_t
connect_token(dz_hsm_t *hsm, dz_error_t *err)
{
	dz_result_t result = open_sessions(hsm, err);

	if (result == DZ_OK)
		result = login(hsm, err);
	CK_RV rv = CKR_OK;

	if (result == DZ_OK)
		result = dz_hsm_load_mechanisms(hsm, &rv, err);
	if (result == DZ_OK)
		result = dz_hsm_index_keys(hsm, hsm->sessions[0], &rv, err);
	if (result != DZ_OK)
		close_sessions(hsm);
	return result;
}

/* Choose the PIN file and module path from the configuration and the URI. */
static dz_result_t
resolve_config(dz_hsm_t *hsm, const dz_hsm_config_t *config, const char **module_path,
	       dz_error_t *err)
{
	const char *pin_file = config->pin_file;

	if (config->pin_file != NULL && hsm->spec.pin_source != NULL)
		return dz_error_set(err, DZ_EINVAL,
				    "the PIN file is given twice, by --pin-file %s and by the "
				    "URI's pin-source; keep one", config->pin_file);
	if (pin_file == NULL)
		pin_file = hsm->spec.pin_source;
	if (pin_file == NULL)
		return dz_error_set(err, DZ_EINVAL,
				    "no PIN file given: name the file holding the user PIN with "
				    "--pin-file FILE or pin-source in the pkcs11: URI");
	if ((hsm->pin_file = strdup(pin_file)) == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");

	*module_path = config->module_path;
	if (hsm->spec.module_path != NULL) {
		if (config->module_path != NULL &&
		    strcmp(config->module_path, hsm->spec.module_path) != 0)
			return dz_error_set(err, DZ_EINVAL,
					    "the URI names module %s but --module names %s; "
					    "keep one", hsm->spec.module_path, config->module_path);
		*module_path = hsm->spec.module_path;
	}
	return DZ_OK;
}

dz_result_t
dz_hsm_create(const dz_hsm_config_t *config, dz_hsm_t **out, dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	dz_hsm_t *hsm = NULL;
	const char *module_path = NULL;
	bool locks = false;

	hsm = calloc(1, sizeof(*hsm));
	if (hsm == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	if (pthread_rwlock_init(&hsm->lock, NULL) != 0) {
		free(hsm);
		return dz_error_set(err, DZ_ENOMEM, "cannot create a lock");
	}
	pthread_mutex_init(&hsm->pool_lock, NULL);
	pthread_cond_init(&hsm->pool_cond, NULL);
	locks = true;

	if (config->token != NULL) {
		result = dz_hsm_token_spec_parse(config->token, &hsm->spec, err);
		if (result != DZ_OK)
			goto cleanup;
	}
	result = resolve_config(hsm, config, &module_path, err);
	if (result != DZ_OK)
		goto cleanup;

	hsm->session_count = config->sessions > 0 ? config->sessions : 1;
	hsm->sessions = calloc(hsm->session_count, sizeof(*hsm->sessions));
	hsm->busy = calloc(hsm->session_count, sizeof(*hsm->busy));
	hsm->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	hsm->sha384 = EVP_MD_fetch(NULL, "SHA384", NULL);
	hsm->sha512 = EVP_MD_fetch(NULL, "SHA512", NULL);
	if (hsm->sessions == NULL || hsm->busy == NULL || hsm->sha256 == NULL ||
	    hsm->sha384 == NULL || hsm->sha512 == NULL) {
		result = dz_error_set(err, DZ_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (unsigned i = 0; i < hsm->session_count; i++)
		hsm->sessions[i] = CK_INVALID_HANDLE;

	result = dz_hsm_module_acquire(module_path, &hsm->module, err);
	if (result != DZ_OK)
		goto cleanup;
	hsm->p11 = hsm->module->p11;
	result = dz_hsm_module_find_token(hsm->module, config->token != NULL ? &hsm->spec : NULL,
					  &hsm->token, err);
	if (result != DZ_OK)
		goto cleanup;
	result = connect_token(hsm, err);
	if (result != DZ_OK)
		goto cleanup;

	*out = hsm;
	hsm = NULL;

cleanup:
	if (hsm != NULL) {
		if (!locks)
			free(hsm);
		else
			dz_hsm_destroy(hsm);
	}
	return result;
}

void
dz_hsm_destroy(dz_hsm_t *hsm)
{
	if (hsm == NULL)
		return;
	if (hsm->module != NULL) {
		if (hsm->sessions != NULL)
			close_sessions(hsm);
		dz_hsm_module_release(hsm->module);
	}
	free(hsm->sessions);
	free(hsm->busy);
	free(hsm->keys);
	free(hsm->mechanisms.list);
	EVP_MD_free(hsm->sha256);
	EVP_MD_free(hsm->sha384);
	EVP_MD_free(hsm->sha512);
	free(hsm->pin_file);
	dz_hsm_token_spec_clear(&hsm->spec);
	pthread_cond_destroy(&hsm->pool_cond);
	pthread_mutex_destroy(&hsm->pool_lock);
	pthread_rwlock_destroy(&hsm->lock);
	free(hsm);
}

const dz_hsm_token_info_t *
dz_hsm_token(const dz_hsm_t *hsm)
{
	return &hsm->token;
}

const char *
dz_hsm_module_path(const dz_hsm_t *hsm)
{
	return hsm->module->path;
}

unsigned
dz_hsm_sessions(const dz_hsm_t *hsm)
{
	return hsm->session_count;
}

const char *
dz_hsm_module_describe(const dz_hsm_t *hsm, char *buf, size_t size)
{
	const CK_INFO *info = &hsm->module->info;
	char description[33];
	char manufacturer[33];

	dz_hsm_trim_field(description, info->libraryDescription, sizeof(info->libraryDescription));
	dz_hsm_trim_field(manufacturer, info->manufacturerID, sizeof(info->manufacturerID));
	snprintf(buf, size, "%s %u.%u (%s, PKCS#11 %u.%u)", description,
		 info->libraryVersion.major, info->libraryVersion.minor, manufacturer,
		 info->cryptokiVersion.major, info->cryptokiVersion.minor);
	return buf;
}

dz_result_t
dz_hsm_recover(dz_hsm_t *hsm, unsigned seen_generation, CK_RV rv, dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	char name[32];
	dz_hsm_token_info_t token;

	pthread_rwlock_wrlock(&hsm->lock);
	if (hsm->failed) {
		result = dz_error_set(err, hsm->failure.code, "%s", hsm->failure.message);
		goto cleanup;
	}
	if (hsm->generation != seen_generation)
		goto cleanup;	/* another thread recovered already */

	/* A token that stays away makes every call try again; log that once, not each time. */
	dz_log_condition_raise(&hsm->session_lost, DZ_LOG_WARNING,
			       "PKCS#11 token '%s': %s; reopening the sessions and logging in again",
			       hsm->token.label, dz_hsm_rv_name(rv, name));
	close_sessions(hsm);
	if (rv == CKR_CRYPTOKI_NOT_INITIALIZED) {
		CK_RV init_rv = dz_hsm_module_reinitialize(hsm->module);
		if (init_rv != CKR_OK) {
			result = dz_hsm_fail(err, init_rv, "initialising PKCS#11 module %s again failed",
					     hsm->module->path);
			goto cleanup;
		}
	}
	/* A token that was removed and inserted again may sit in another slot. */
	result = dz_hsm_module_find_token(hsm->module, hsm->spec.text != NULL ? &hsm->spec : NULL,
					  &token, err);
	if (result != DZ_OK && dz_hsm_module_restart(hsm->module) == CKR_OK) {
		/*
		 * After its token folder was unreadable for a while, SoftHSM2 2.6
		 * fails C_GetTokenInfo with CKR_GENERAL_ERROR even once the folder
		 * is back, until the module is initialised anew.
		 */
		dz_error_t retry;
		dz_error_init(&retry);
		if (dz_hsm_module_find_token(hsm->module,
					     hsm->spec.text != NULL ? &hsm->spec : NULL, &token,
					     &retry) == DZ_OK)
			result = DZ_OK;
	}
	if (result != DZ_OK)
		goto cleanup;
	hsm->token = token;
	result = connect_token(hsm, err);
	if (result == DZ_EHSM_PIN) {
		/* Tokens lock the PIN after a few failures: never try this PIN again. */
		hsm->failed = true;
		hsm->failure.code = result;
		snprintf(hsm->failure.message, sizeof(hsm->failure.message), "%s",
			 dz_error_message(err));
	}
	if (result != DZ_OK)
		goto cleanup;
	hsm->generation++;
	dz_log_condition_clear(&hsm->session_lost,
			       "PKCS#11 token '%s': sessions reopened, %zu private keys indexed",
			       hsm->token.label, hsm->key_count);

cleanup:
	if (result != DZ_OK) {
		dz_error_prefix(err, "PKCS#11 session to token '%s' was lost (%s) and reopening it "
				"failed", hsm->token.label, dz_hsm_rv_name(rv, name));
		if (result != DZ_EHSM_PIN)
			result = DZ_EHSM_SESSION;
		if (err != NULL)
			err->code = result;
	}
	pthread_rwlock_unlock(&hsm->lock);
	return result;
}

/* Whether recovering the session may make a failed operation succeed. */
static bool
recoverable(dz_result_t result, CK_RV rv)
{
	return result != DZ_OK && (dz_hsm_rv_session_lost(rv) || dz_hsm_rv_handle_stale(rv));
}

/* The stored login failure, so that a failed PIN is never tried again. */
static dz_result_t
refuse_after_failure(dz_hsm_t *hsm, dz_error_t *err)
{
	return dz_error_set(err, hsm->failure.code, "%s", hsm->failure.message);
}

dz_result_t
dz_hsm_run_exclusive(dz_hsm_t *hsm, dz_hsm_op_fn op, void *ctx, dz_error_t *err)
{
	for (int attempt = 0;; attempt++) {
		CK_RV rv = CKR_OK;
		dz_result_t result;
		unsigned generation;

		pthread_rwlock_wrlock(&hsm->lock);
		if (hsm->failed) {
			result = refuse_after_failure(hsm, err);
			pthread_rwlock_unlock(&hsm->lock);
			return result;
		}
		generation = hsm->generation;
		result = op(hsm, hsm->sessions[0], ctx, &rv, err);
		pthread_rwlock_unlock(&hsm->lock);
		if (attempt > 0 || !recoverable(result, rv))
			return result;
		result = dz_hsm_recover(hsm, generation, rv, err);
		if (result != DZ_OK)
			return result;
	}
}

dz_result_t
dz_hsm_run_shared(dz_hsm_t *hsm, dz_hsm_op_fn op, void *ctx, dz_error_t *err)
{
	for (int attempt = 0;; attempt++) {
		CK_RV rv = CKR_OK;
		dz_result_t result;
		unsigned generation;

		pthread_rwlock_rdlock(&hsm->lock);
		if (hsm->failed) {
			result = refuse_after_failure(hsm, err);
			pthread_rwlock_unlock(&hsm->lock);
			return result;
		}
		generation = hsm->generation;
		unsigned index = dz_hsm_session_take(hsm);
		result = op(hsm, hsm->sessions[index], ctx, &rv, err);
		dz_hsm_session_give(hsm, index);
		pthread_rwlock_unlock(&hsm->lock);
		if (attempt > 0 || !recoverable(result, rv))
			return result;
		result = dz_hsm_recover(hsm, generation, rv, err);
		if (result != DZ_OK)
			return result;
	}
}
