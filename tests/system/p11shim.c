/*
 * p11shim.c -- a PKCS#11 module for tests that forwards every call to a
 * real module (SoftHSM2) and injects the failures a test cannot cause in
 * SoftHSM2 itself.  Environment:
 *
 *   DZ_SHIM_MODULE             path of the real module (required)
 *   DZ_SHIM_HIDE_EDDSA=1       hide CKM_EC_EDWARDS_KEY_PAIR_GEN and CKM_EDDSA, like
 *                              an HSM without EdDSA
 *   DZ_SHIM_DEVICE_MEMORY=1    C_GenerateKeyPair fails with CKR_DEVICE_MEMORY, like
 *                              a full token
 *   DZ_SHIM_REMOVE_AFTER=N     after N signatures the token is gone: calls on it
 *                              fail with CKR_DEVICE_REMOVED and no slot lists it
 *   DZ_SHIM_EDWARDS_MAX_BITS=N CKM_EC_EDWARDS_KEY_PAIR_GEN reports curves of at most
 *                              N bits, like an HSM with Ed25519 but not Ed448
 *   DZ_SHIM_SIGN_FAIL_FILE=PATH
 *                              while PATH exists, C_Sign fails with CKR_DEVICE_ERROR,
 *                              like an HSM with a transient fault; the session and
 *                              the login stay valid
 *   DZ_SHIM_REMOVED_FILE=PATH  while PATH exists, the token is gone as with
 *                              DZ_SHIM_REMOVE_AFTER, and it is back once PATH is removed
 *   DZ_SHIM_CALL_LOG=PATH      append "PID FUNCTION" to PATH for C_GetFunctionList,
 *                              C_Initialize, C_Login and C_GenerateKeyPair, so a test
 *                              sees which process loads the module, logs in and
 *                              generates keys
 *
 * A test creates and removes the flag files while the program runs.  Each
 * call checks its flag with access(), so a fault starts and ends at once.
 */
#include "config.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>

static CK_FUNCTION_LIST_PTR real;
static CK_FUNCTION_LIST shim;
static bool hide_eddsa;
static bool device_memory;
static long remove_after = -1;
static long edwards_max_bits = -1;
static long signatures;
static const char *sign_fail_file;
static const char *removed_file;

static const char *call_log;

/* Append "PID FUNCTION" to DZ_SHIM_CALL_LOG, one write() so that processes do not interleave. */
static void
log_call(const char *function)
{
	char line[96];

	if (call_log == NULL)
		return;
	int len = snprintf(line, sizeof(line), "%ld %s\n", (long)getpid(), function);
	int fd = open(call_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (write(fd, line, (size_t)len) != len)
		fprintf(stderr, "p11shim: cannot write %s\n", call_log);
	close(fd);
}

static CK_RV
shim_Initialize(CK_VOID_PTR args)
{
	log_call("C_Initialize");
	return real->C_Initialize(args);
}

static CK_RV
shim_Login(CK_SESSION_HANDLE session, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
	log_call("C_Login");
	return real->C_Login(session, user, pin, len);
}

static bool
flag_set(const char *path)
{
	return path != NULL && access(path, F_OK) == 0;
}

static bool
removed(void)
{
	return (remove_after >= 0 && signatures >= remove_after) || flag_set(removed_file);
}

static CK_RV
shim_GetSlotList(CK_BBOOL present, CK_SLOT_ID_PTR list, CK_ULONG_PTR count)
{
	if (removed() && present) {
		*count = 0;
		return CKR_OK;
	}
	return real->C_GetSlotList(present, list, count);
}

static CK_RV
shim_GetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
	if (removed())
		return CKR_TOKEN_NOT_PRESENT;
	return real->C_GetTokenInfo(slot, info);
}

static CK_RV
shim_OpenSession(CK_SLOT_ID slot, CK_FLAGS flags, CK_VOID_PTR app, CK_NOTIFY notify,
		 CK_SESSION_HANDLE_PTR session)
{
	if (removed())
		return CKR_TOKEN_NOT_PRESENT;
	return real->C_OpenSession(slot, flags, app, notify, session);
}

static CK_RV
shim_GetMechanismList(CK_SLOT_ID slot, CK_MECHANISM_TYPE_PTR list, CK_ULONG_PTR count)
{
	CK_RV rv = real->C_GetMechanismList(slot, list, count);
	CK_ULONG kept = 0;

	if (rv != CKR_OK || !hide_eddsa)
		return rv;
	if (list == NULL)
		return CKR_OK;	/* the real count is an upper bound */
	for (CK_ULONG i = 0; i < *count; i++) {
		if (list[i] != CKM_EC_EDWARDS_KEY_PAIR_GEN && list[i] != CKM_EDDSA)
			list[kept++] = list[i];
	}
	*count = kept;
	return CKR_OK;
}

static CK_RV
shim_GetMechanismInfo(CK_SLOT_ID slot, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR info)
{
	CK_RV rv = real->C_GetMechanismInfo(slot, type, info);

	if (rv == CKR_OK && type == CKM_EC_EDWARDS_KEY_PAIR_GEN && edwards_max_bits >= 0)
		info->ulMaxKeySize = (CK_ULONG)edwards_max_bits;
	return rv;
}

static CK_RV
shim_GenerateKeyPair(CK_SESSION_HANDLE session, CK_MECHANISM_PTR mechanism,
		     CK_ATTRIBUTE_PTR public_template, CK_ULONG public_count,
		     CK_ATTRIBUTE_PTR private_template, CK_ULONG private_count,
		     CK_OBJECT_HANDLE_PTR public_key, CK_OBJECT_HANDLE_PTR private_key)
{
	log_call("C_GenerateKeyPair");
	if (device_memory)
		return CKR_DEVICE_MEMORY;
	if (removed())
		return CKR_DEVICE_REMOVED;
	return real->C_GenerateKeyPair(session, mechanism, public_template, public_count,
				       private_template, private_count, public_key, private_key);
}

static CK_RV
shim_SignInit(CK_SESSION_HANDLE session, CK_MECHANISM_PTR mechanism, CK_OBJECT_HANDLE key)
{
	if (removed())
		return CKR_DEVICE_REMOVED;
	return real->C_SignInit(session, mechanism, key);
}

static CK_RV
shim_Sign(CK_SESSION_HANDLE session, CK_BYTE_PTR data, CK_ULONG data_len, CK_BYTE_PTR signature,
	  CK_ULONG_PTR signature_len)
{
	CK_RV rv;

	if (removed())
		return CKR_DEVICE_REMOVED;
	rv = real->C_Sign(session, data, data_len, signature, signature_len);
	if (rv == CKR_OK && signature != NULL && flag_set(sign_fail_file)) {
		/*
		 * The real call has ended the operation, as a failing C_Sign
		 * also does in PKCS#11, so the next C_SignInit works.
		 */
		memset(signature, 0, *signature_len);
		return CKR_DEVICE_ERROR;
	}
	if (rv == CKR_OK && signature != NULL)
		signatures++;
	return rv;
}

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list);

CK_RV
C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
	const char *path = getenv("DZ_SHIM_MODULE");
	const char *value;
	CK_C_GetFunctionList get;

	call_log = getenv("DZ_SHIM_CALL_LOG");
	log_call("C_GetFunctionList");
	if (real == NULL) {
		void *handle = path != NULL ? dlopen(path, RTLD_NOW | RTLD_LOCAL) : NULL;
		if (handle == NULL)
			return CKR_GENERAL_ERROR;
		*(void **)&get = dlsym(handle, "C_GetFunctionList");
		if (get == NULL || get(&real) != CKR_OK)
			return CKR_GENERAL_ERROR;
		shim = *real;
		shim.C_GetSlotList = shim_GetSlotList;
		shim.C_GetTokenInfo = shim_GetTokenInfo;
		shim.C_OpenSession = shim_OpenSession;
		shim.C_GetMechanismList = shim_GetMechanismList;
		shim.C_GetMechanismInfo = shim_GetMechanismInfo;
		shim.C_GenerateKeyPair = shim_GenerateKeyPair;
		shim.C_SignInit = shim_SignInit;
		shim.C_Sign = shim_Sign;
		shim.C_Initialize = shim_Initialize;
		shim.C_Login = shim_Login;
		hide_eddsa = getenv("DZ_SHIM_HIDE_EDDSA") != NULL;
		device_memory = getenv("DZ_SHIM_DEVICE_MEMORY") != NULL;
		if ((value = getenv("DZ_SHIM_REMOVE_AFTER")) != NULL)
			remove_after = atol(value);
		if ((value = getenv("DZ_SHIM_EDWARDS_MAX_BITS")) != NULL)
			edwards_max_bits = atol(value);
		sign_fail_file = getenv("DZ_SHIM_SIGN_FAIL_FILE");
		removed_file = getenv("DZ_SHIM_REMOVED_FILE");
	}
	*list = &shim;
	return CKR_OK;
}
