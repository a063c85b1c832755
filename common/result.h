/*
 * result.h -- the one result type of danezone.
 *
 * Every function that can fail returns a dz_result_t.  Names and messages
 * live in one table (DZ_RESULT_TABLE) so codes and texts cannot drift apart.
 * A result says what kind of failure happened; the details (file, line, value,
 * what to do) travel in a dz_error_t (common/error.h).
 */
#ifndef DZ_COMMON_RESULT_H
#define DZ_COMMON_RESULT_H

/*
 * X(code, name, message): append new codes at the end of their group.  The
 * numeric values are internal and never stored on disk.
 */
#define DZ_RESULT_TABLE(X) \
	X(DZ_OK,              "ok",               "success") \
	X(DZ_ENOMEM,          "nomem",            "out of memory") \
	X(DZ_EINVAL,          "invalid",          "invalid value") \
	X(DZ_ENOTFOUND,       "notfound",         "not found") \
	X(DZ_EEXIST,          "exists",           "already exists") \
	X(DZ_EIO,             "io",               "input/output error") \
	X(DZ_EPERM,           "permission",       "permission denied") \
	X(DZ_ESYNTAX,         "syntax",           "syntax error") \
	X(DZ_ERANGE,          "range",            "value out of range") \
	X(DZ_ETOOBIG,         "toobig",           "too large") \
	X(DZ_ETIMEOUT,        "timeout",          "timed out") \
	X(DZ_EAGAIN,          "again",            "temporarily unavailable, try again") \
	X(DZ_EBUSY,           "busy",             "in use") \
	X(DZ_ENOTSUP,         "notsupported",     "not supported") \
	X(DZ_ESTATE,          "state",            "not allowed in the current state") \
	X(DZ_ECANCELED,       "canceled",         "canceled") \
	X(DZ_EINTERNAL,       "internal",         "internal error") \
	/* PKCS#11 and key material */ \
	X(DZ_EHSM_MODULE,     "hsm-module",       "PKCS#11 module could not be loaded") \
	X(DZ_EHSM_TOKEN,      "hsm-token",        "PKCS#11 token not found") \
	X(DZ_EHSM_PIN,        "hsm-pin",          "PKCS#11 login failed: wrong PIN or PIN locked") \
	X(DZ_EHSM_FULL,       "hsm-full",         "PKCS#11 token has no room for more objects") \
	X(DZ_EHSM_KEY,        "hsm-key",          "key not found in the PKCS#11 token") \
	X(DZ_EHSM_MECHANISM,  "hsm-mechanism",    "mechanism not supported by the PKCS#11 token") \
	X(DZ_EHSM_SESSION,    "hsm-session",      "PKCS#11 session closed or token removed") \
	X(DZ_EHSM,            "hsm",              "PKCS#11 operation failed") \
	/* Zone data and DNSSEC */ \
	X(DZ_EZONE,           "zone",             "invalid zone content") \
	X(DZ_EVERIFY,         "verify",           "signed zone failed verification") \
	X(DZ_ECRYPTO,         "crypto",           "cryptographic operation failed") \
	X(DZ_ECERT,           "certificate",      "invalid certificate or key") \
	/* Configuration and policy */ \
	X(DZ_ECONFIG,         "config",           "invalid configuration") \
	X(DZ_EPOLICY,         "policy",           "invalid policy") \
	/* DNS protocol */ \
	X(DZ_EFORMERR,        "formerr",          "malformed DNS message") \
	X(DZ_ETSIG,           "tsig",             "TSIG verification failed") \
	X(DZ_EREFUSED,        "refused",          "request refused")

typedef enum dz_result {
#define DZ_RESULT_ENUM(code, name, message) code,
	DZ_RESULT_TABLE(DZ_RESULT_ENUM)
#undef DZ_RESULT_ENUM
	DZ_RESULT_COUNT
} dz_result_t;

/* Short stable name of a result ("notfound"); never NULL. */
const char *dz_result_name(dz_result_t result);

/* Human-readable message of a result ("not found"); never NULL. */
const char *dz_result_text(dz_result_t result);

#endif
