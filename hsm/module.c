/*
 * module.c -- loading PKCS#11 modules, listing and initialising tokens,
 * reading PIN files.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/file.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/policy.h"
#include "hsm/internal.h"
#include "hsm/rv.h"

static pthread_mutex_t modules_lock = PTHREAD_MUTEX_INITIALIZER;
static dz_hsm_module_t *modules;

void
dz_hsm_trim_field(char *out, const unsigned char *field, size_t size)
{
	size_t len = size;

	while (len > 0 && (field[len - 1] == ' ' || field[len - 1] == '\0'))
		len--;
	memcpy(out, field, len);
	out[len] = '\0';
}

void
dz_hsm_token_info_from(dz_hsm_token_info_t *out, CK_SLOT_ID slot, const CK_TOKEN_INFO *info)
{
	memset(out, 0, sizeof(*out));
	out->slot = slot;
	dz_hsm_trim_field(out->label, info->label, sizeof(info->label));
	dz_hsm_trim_field(out->serial, info->serialNumber, sizeof(info->serialNumber));
	dz_hsm_trim_field(out->manufacturer, info->manufacturerID, sizeof(info->manufacturerID));
	dz_hsm_trim_field(out->model, info->model, sizeof(info->model));
	out->initialized = (info->flags & CKF_TOKEN_INITIALIZED) != 0;
	out->user_pin_initialized = (info->flags & CKF_USER_PIN_INITIALIZED) != 0;
}

const char *
dz_hsm_id_hex(const uint8_t *id, size_t id_len, char *out)
{
	dz_hex_encode(id, id_len, out);
	return out;
}

/* A hint on what the operator can do about a class of failure. */
static const char *
failure_hint(dz_result_t result)
{
	switch (result) {
	case DZ_EHSM_FULL:
		return "; the token is full: delete keys that are no longer used or use a token "
		       "with more room";
	case DZ_EHSM_MECHANISM:
		return "; the token does not support this: choose another algorithm or key size";
	case DZ_EHSM_SESSION:
		return "; the session to the token was closed or the token was removed";
	default:
		return "";
	}
}

dz_result_t
dz_hsm_fail(dz_error_t *err, CK_RV rv, const char *fmt, ...)
{
	char text[DZ_ERROR_MESSAGE_MAX];
	char name[32];
	va_list ap;
	dz_result_t result = dz_hsm_rv_result(rv);

	if (result == DZ_OK)
		result = DZ_EHSM;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return dz_error_set(err, result, "%s: %s%s", text, dz_hsm_rv_name(rv, name),
			    failure_hint(result));
}

/*
 * DER encodings of the curves danezone uses: OIDs from RFC 5480 (P-256,
 * P-384) and RFC 8410 (Ed25519, Ed448), and the PrintableString names that
 * PKCS#11 3.0 also allows for Edwards curves.
 */
static const uint8_t oid_p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const uint8_t oid_p384[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22 };
static const uint8_t oid_ed25519[] = { 0x06, 0x03, 0x2b, 0x65, 0x70 };
static const uint8_t oid_ed448[] = { 0x06, 0x03, 0x2b, 0x65, 0x71 };
static const uint8_t name_ed25519[] = { 0x13, 0x0c, 'e', 'd', 'w', 'a', 'r', 'd', 's',
					'2', '5', '5', '1', '9' };
static const uint8_t name_ed448[] = { 0x13, 0x0a, 'e', 'd', 'w', 'a', 'r', 'd', 's',
				      '4', '4', '8' };

static const struct {
	const uint8_t *der;
	size_t len;
	uint8_t algorithm;
	bool for_generation;
} curves[] = {
	{ oid_p256, sizeof(oid_p256), DZ_ALG_ECDSAP256SHA256, true },
	{ oid_p384, sizeof(oid_p384), DZ_ALG_ECDSAP384SHA384, true },
	{ oid_ed25519, sizeof(oid_ed25519), DZ_ALG_ED25519, false },
	{ oid_ed448, sizeof(oid_ed448), DZ_ALG_ED448, false },
	/* SoftHSM2 2.6.1 accepts only the names when generating Edwards keys. */
	{ name_ed25519, sizeof(name_ed25519), DZ_ALG_ED25519, true },
	{ name_ed448, sizeof(name_ed448), DZ_ALG_ED448, true },
};

uint8_t
dz_hsm_curve_algorithm(const uint8_t *params, size_t len)
{
	for (size_t i = 0; i < DZ_ARRAY_SIZE(curves); i++) {
		if (curves[i].len == len && memcmp(curves[i].der, params, len) == 0)
			return curves[i].algorithm;
	}
	return 0;
}

const uint8_t *
dz_hsm_curve_params(uint8_t algorithm, size_t *len)
{
	for (size_t i = 0; i < DZ_ARRAY_SIZE(curves); i++) {
		if (curves[i].algorithm == algorithm && curves[i].for_generation) {
			*len = curves[i].len;
			return curves[i].der;
		}
	}
	return NULL;
}

/* C_Initialize with the operating system's locks, which threads need. */
static CK_RV
initialize(CK_FUNCTION_LIST_PTR p11)
{
	CK_C_INITIALIZE_ARGS args;

	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	return p11->C_Initialize(&args);
}

/* Initialise a module in this process; the caller holds modules_lock. */
static dz_result_t
module_initialize(dz_hsm_module_t *module, dz_error_t *err)
{
	CK_RV rv = initialize(module->p11);

	if (rv == CKR_CRYPTOKI_ALREADY_INITIALIZED && module->pid != 0 && module->pid != getpid()) {
		/*
		 * The module state came with fork() from the parent.  PKCS#11
		 * requires the child to initialise the library again; modules
		 * such as SoftHSM2 keep the parent's state, so finalise it first.
		 */
		module->p11->C_Finalize(NULL);
		rv = initialize(module->p11);
	}
	if (rv == CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		/* Someone else in this process initialised it; leave finalising to them. */
		module->finalize = false;
	} else if (rv != CKR_OK) {
		return dz_hsm_fail(err, rv, "initialising PKCS#11 module %s failed", module->path);
	} else {
		module->finalize = true;
	}
	module->pid = getpid();
	rv = module->p11->C_GetInfo(&module->info);
	if (rv != CKR_OK)
		memset(&module->info, 0, sizeof(module->info));
	return DZ_OK;
}

dz_result_t
dz_hsm_module_acquire(const char *path, dz_hsm_module_t **out, dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	dz_hsm_module_t *module = NULL;
	void *handle = NULL;
	CK_C_GetFunctionList get_function_list;
	CK_FUNCTION_LIST_PTR p11 = NULL;

	if (path == NULL)
		path = DZ_DEFAULT_PKCS11_MODULE;
	if (access(path, R_OK) != 0)
		return dz_error_set(err, DZ_EHSM_MODULE,
				    "PKCS#11 module %s cannot be read: %s; install the module "
				    "(for SoftHSM2: apt-get install softhsm2) or give its path "
				    "with --module", path, strerror(errno));

	pthread_mutex_lock(&modules_lock);
	/*
	 * RTLD_NODELETE keeps the module mapped after dlclose(): modules register
	 * exit handlers (SoftHSM2 through OpenSSL) that must find their code.
	 */
	handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (handle == NULL) {
		result = dz_error_set(err, DZ_EHSM_MODULE, "cannot load PKCS#11 module %s: %s", path,
				      dlerror());
		goto cleanup;
	}
	for (module = modules; module != NULL; module = module->next) {
		if (module->handle == handle)
			break;
	}
	if (module != NULL) {
		dlclose(handle);
		handle = NULL;
		if (module->refs == 0 || module->pid != getpid()) {
			module->refs = 0;
			result = module_initialize(module, err);
			if (result != DZ_OK)
				goto cleanup;
		}
		module->refs++;
		*out = module;
		goto cleanup;
	}

	*(void **)&get_function_list = dlsym(handle, "C_GetFunctionList");
	if (get_function_list == NULL) {
		result = dz_error_set(err, DZ_EHSM_MODULE,
				      "%s is not a PKCS#11 module: it has no C_GetFunctionList "
				      "function; give the path of the token's PKCS#11 library "
				      "with --module", path);
		goto cleanup;
	}
	CK_RV rv = get_function_list(&p11);
	if (rv != CKR_OK || p11 == NULL) {
		result = dz_hsm_fail(err, rv, "C_GetFunctionList of PKCS#11 module %s failed", path);
		goto cleanup;
	}
	if (p11->version.major != 2) {
		/* NOTE: PKCS#11 3.x modules also offer the 2.x list; others are untested. */
		dz_log(DZ_LOG_WARNING, "PKCS#11 module %s reports interface version %u.%u",
		       path, p11->version.major, p11->version.minor);
	}

	module = calloc(1, sizeof(*module));
	if (module == NULL || (module->path = strdup(path)) == NULL) {
		free(module);
		module = NULL;
		result = dz_error_set(err, DZ_ENOMEM, "out of memory");
		goto cleanup;
	}
	module->handle = handle;
	module->p11 = p11;
	result = module_initialize(module, err);
	if (result != DZ_OK) {
		free(module->path);
		free(module);
		goto cleanup;
	}
	handle = NULL;
	module->refs = 1;
	module->next = modules;
	modules = module;
	*out = module;

cleanup:
	if (handle != NULL)
		dlclose(handle);
	pthread_mutex_unlock(&modules_lock);
	return result;
}

void
dz_hsm_module_release(dz_hsm_module_t *module)
{
	if (module == NULL)
		return;
	pthread_mutex_lock(&modules_lock);
	if (module->refs > 0 && --module->refs == 0 && module->finalize &&
	    module->pid == getpid()) {
		module->p11->C_Finalize(NULL);
		module->finalize = false;
	}
	pthread_mutex_unlock(&modules_lock);
}

CK_RV
dz_hsm_module_reinitialize(dz_hsm_module_t *module)
{
	CK_RV rv;

	pthread_mutex_lock(&modules_lock);
	rv = initialize(module->p11);
	if (rv == CKR_OK)
		module->finalize = true;
	else if (rv == CKR_CRYPTOKI_ALREADY_INITIALIZED)
		rv = CKR_OK;
	pthread_mutex_unlock(&modules_lock);
	return rv;
}

CK_RV
dz_hsm_module_restart(dz_hsm_module_t *module)
{
	CK_RV rv;

	pthread_mutex_lock(&modules_lock);
	module->p11->C_Finalize(NULL);
	rv = initialize(module->p11);
	if (rv == CKR_OK) {
		module->finalize = true;
		module->pid = getpid();
	}
	pthread_mutex_unlock(&modules_lock);
	return rv;
}

dz_result_t
dz_hsm_module_tokens(dz_hsm_module_t *module, dz_hsm_token_info_t **tokens, size_t *count,
		     dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	CK_SLOT_ID *slots = NULL;
	CK_ULONG slot_count = 0;
	dz_hsm_token_info_t *list = NULL;
	size_t n = 0;
	CK_RV rv;

	/* The slot list may grow between the two calls; ask until it fits. */
	for (;;) {
		rv = module->p11->C_GetSlotList(CK_TRUE, NULL, &slot_count);
		if (rv != CKR_OK)
			break;
		free(slots);
		slots = calloc(slot_count + 1, sizeof(*slots));
		if (slots == NULL) {
			result = dz_error_set(err, DZ_ENOMEM, "out of memory");
			goto cleanup;
		}
		rv = module->p11->C_GetSlotList(CK_TRUE, slots, &slot_count);
		if (rv != CKR_BUFFER_TOO_SMALL)
			break;
	}
	if (rv != CKR_OK) {
		result = dz_hsm_fail(err, rv, "listing the slots of PKCS#11 module %s failed",
				     module->path);
		goto cleanup;
	}
	list = calloc(slot_count + 1, sizeof(*list));
	if (list == NULL) {
		result = dz_error_set(err, DZ_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (CK_ULONG i = 0; i < slot_count; i++) {
		CK_TOKEN_INFO info;
		rv = module->p11->C_GetTokenInfo(slots[i], &info);
		if (rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_DEVICE_REMOVED)
			continue;
		if (rv != CKR_OK) {
			result = dz_hsm_fail(err, rv, "reading the token in slot %lu of %s failed",
					     (unsigned long)slots[i], module->path);
			goto cleanup;
		}
		dz_hsm_token_info_from(&list[n++], slots[i], &info);
	}
	*tokens = list;
	*count = n;
	list = NULL;

cleanup:
	free(list);
	free(slots);
	return result;
}

/* Append "'label' (serial S)" for each initialised token to buf, or "none". */
static void
describe_tokens(char *buf, size_t size, const dz_hsm_token_info_t *tokens, size_t count)
{
	size_t used = 0;
	bool any = false;

	buf[0] = '\0';
	for (size_t i = 0; i < count && used < size; i++) {
		if (!tokens[i].initialized)
			continue;
		int n = snprintf(buf + used, size - used, "%s'%s' (serial %s)", any ? ", " : "",
				 tokens[i].label, tokens[i].serial);
		if (n < 0)
			break;
		used += (size_t)n;
		any = true;
	}
	if (!any)
		snprintf(buf, size, "none");
}

dz_result_t
dz_hsm_module_find_token(dz_hsm_module_t *module, const dz_hsm_token_spec_t *spec,
			 dz_hsm_token_info_t *out, dz_error_t *err)
{
	dz_hsm_token_info_t *tokens = NULL;
	size_t count = 0;
	size_t matches = 0;
	size_t found = 0;
	char present[512];
	dz_result_t result;

	result = dz_hsm_module_tokens(module, &tokens, &count, err);
	if (result != DZ_OK)
		return result;
	for (size_t i = 0; i < count; i++) {
		if (!tokens[i].initialized)
			continue;
		if (spec == NULL || dz_hsm_token_spec_matches(spec, &tokens[i])) {
			if (matches++ == 0)
				found = i;
		}
	}
	describe_tokens(present, sizeof(present), tokens, count);
	if (matches == 0) {
		if (spec == NULL)
			result = dz_error_set(err, DZ_EHSM_TOKEN,
					      "PKCS#11 module %s has no initialised token; "
					      "create one with 'danezone key init-token'",
					      module->path);
		else
			result = dz_error_set(err, DZ_EHSM_TOKEN,
					      "token '%s' not found in PKCS#11 module %s; "
					      "tokens present: %s", spec->text, module->path,
					      present);
	} else if (matches > 1) {
		result = dz_error_set(err, DZ_EHSM_TOKEN,
				      "%zu tokens of PKCS#11 module %s match '%s': %s; select one "
				      "with --token LABEL or a pkcs11: URI with serial=",
				      matches, module->path, spec != NULL ? spec->text : "(any)",
				      present);
	} else {
		*out = tokens[found];
	}
	free(tokens);
	return result;
}

dz_result_t
dz_hsm_list_tokens(const char *module_path, dz_hsm_token_info_t **tokens, size_t *count,
		   dz_error_t *err)
{
	dz_hsm_module_t *module = NULL;
	dz_result_t result = dz_hsm_module_acquire(module_path, &module, err);

	if (result != DZ_OK)
		return result;
	result = dz_hsm_module_tokens(module, tokens, count, err);
	dz_hsm_module_release(module);
	return result;
}

dz_result_t
dz_hsm_read_pin_file(const char *path, char *pin, size_t size, size_t *len, dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	size_t used = 0;
	int fd = -1;

	result = dz_file_check_private(path, err);
	if (result != DZ_OK)
		return dz_error_prefix(err, "PIN file");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return dz_error_set(err, errno == EACCES ? DZ_EPERM : DZ_EIO,
				    "cannot open PIN file %s: %s", path, strerror(errno));
	for (;;) {
		char extra;
		bool full = used == size - 1;
		ssize_t n = full ? read(fd, &extra, 1) : read(fd, pin + used, size - 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			result = dz_error_set(err, DZ_EIO, "cannot read PIN file %s: %s", path,
					      strerror(errno));
			goto cleanup;
		}
		if (n == 0)
			break;
		if (full) {
			dz_secure_zero(&extra, 1);
			result = dz_error_set(err, DZ_EINVAL,
					      "PIN file %s is longer than %zu bytes; it must hold "
					      "only the PIN", path, size - 1);
			goto cleanup;
		}
		used += (size_t)n;
	}
	if (used > 0 && pin[used - 1] == '\n')
		used--;
	if (used > 0 && pin[used - 1] == '\r')
		used--;
	if (used == 0 || memchr(pin, '\n', used) != NULL || memchr(pin, '\0', used) != NULL) {
		result = dz_error_set(err, DZ_EINVAL,
				      "PIN file %s must hold the PIN on one line, with nothing "
				      "else", path);
		goto cleanup;
	}
	pin[used] = '\0';
	*len = used;

cleanup:
	if (result != DZ_OK)
		dz_secure_zero(pin, size);
	close(fd);
	return result;
}

/* Pad a label to the 32 bytes of C_InitToken. */
static void
pad_label(CK_UTF8CHAR out[32], const char *label)
{
	size_t len = strlen(label);

	memset(out, ' ', 32);
	memcpy(out, label, len > 32 ? 32 : len);
}

dz_result_t
dz_hsm_init_token(const char *module_path, const char *label, const char *so_pin_file,
		  const char *user_pin_file, dz_hsm_token_info_t *out, dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	dz_hsm_module_t *module = NULL;
	dz_hsm_token_info_t *tokens = NULL;
	dz_hsm_token_info_t created;
	dz_hsm_token_spec_t spec;
	size_t count = 0;
	char so_pin[256];
	char user_pin[256];
	size_t so_len = 0, user_len = 0;
	CK_UTF8CHAR padded[32];
	CK_SESSION_HANDLE session = CK_INVALID_HANDLE;
	CK_RV rv;
	bool free_slot = false;
	CK_SLOT_ID slot = 0;

	memset(&spec, 0, sizeof(spec));
	memset(so_pin, 0, sizeof(so_pin));
	memset(user_pin, 0, sizeof(user_pin));
	if (label == NULL || label[0] == '\0' || strlen(label) > 32)
		return dz_error_set(err, DZ_EINVAL,
				    "token label '%s' must have 1 to 32 bytes", label ? label : "");

	result = dz_hsm_read_pin_file(so_pin_file, so_pin, sizeof(so_pin), &so_len, err);
	if (result != DZ_OK)
		goto cleanup;
	result = dz_hsm_read_pin_file(user_pin_file, user_pin, sizeof(user_pin), &user_len, err);
	if (result != DZ_OK)
		goto cleanup;
	result = dz_hsm_module_acquire(module_path, &module, err);
	if (result != DZ_OK)
		goto cleanup;
	result = dz_hsm_module_tokens(module, &tokens, &count, err);
	if (result != DZ_OK)
		goto cleanup;
	for (size_t i = 0; i < count; i++) {
		if (tokens[i].initialized && strcmp(tokens[i].label, label) == 0) {
			result = dz_error_set(err, DZ_EEXIST,
					      "a token labelled '%s' already exists in %s "
					      "(serial %s); choose another label",
					      label, module->path, tokens[i].serial);
			goto cleanup;
		}
		if (!tokens[i].initialized && !free_slot) {
			free_slot = true;
			slot = tokens[i].slot;
		}
	}
	if (!free_slot) {
		result = dz_error_set(err, DZ_EHSM_TOKEN,
				      "PKCS#11 module %s has no slot with an uninitialised token; "
				      "initialise hardware tokens with the vendor's tools",
				      module->path);
		goto cleanup;
	}

	pad_label(padded, label);
	rv = module->p11->C_InitToken(slot, (CK_UTF8CHAR_PTR)so_pin, so_len, padded);
	if (rv != CKR_OK) {
		result = dz_hsm_fail(err, rv, "initialising a token in slot %lu of %s failed",
				     (unsigned long)slot, module->path);
		goto cleanup;
	}

	/* SoftHSM2 moves a new token to another slot; find it by its label. */
	if (dz_hsm_token_spec_parse(label, &spec, err) != DZ_OK) {
		result = err != NULL ? err->code : DZ_EINVAL;
		goto cleanup;
	}
	result = dz_hsm_module_find_token(module, &spec, &created, err);
	if (result != DZ_OK)
		goto cleanup;
	rv = module->p11->C_OpenSession(created.slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL,
					NULL, &session);
	if (rv == CKR_OK)
		rv = module->p11->C_Login(session, CKU_SO, (CK_UTF8CHAR_PTR)so_pin, so_len);
	if (rv == CKR_OK) {
		rv = module->p11->C_InitPIN(session, (CK_UTF8CHAR_PTR)user_pin, user_len);
		module->p11->C_Logout(session);
	}
	if (rv != CKR_OK) {
		result = dz_hsm_fail(err, rv, "setting the user PIN of new token '%s' failed", label);
		goto cleanup;
	}
	created.user_pin_initialized = true;
	if (out != NULL)
		*out = created;

cleanup:
	if (session != CK_INVALID_HANDLE)
		module->p11->C_CloseSession(session);
	dz_secure_zero(so_pin, sizeof(so_pin));
	dz_secure_zero(user_pin, sizeof(user_pin));
	dz_hsm_token_spec_clear(&spec);
	free(tokens);
	dz_hsm_module_release(module);
	return result;
}
