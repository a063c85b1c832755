/*
 * index.c -- the in-memory index of a token's private keys by CKA_ID.
 *
 * One enumeration of all private keys (and one of all public keys, to pair
 * them) builds the index when the connection is made, so that thousands of
 * zones cost two searches, not one per zone.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/policy.h"
#include "hsm/dnskey.h"
#include "hsm/internal.h"
#include "hsm/rv.h"

/* Objects asked for per C_FindObjects call. */
#define FIND_BATCH 256
/* Largest CKA_EC_PARAMS danezone reads (named curves are far shorter). */
#define EC_PARAMS_MAX 64
/* Minimum time between index rebuilds caused by lookups of unknown keys. */
#define REFRESH_INTERVAL_NS 1000000000LL

/* All objects of a class, as handles; caller frees *handles. */
static dz_result_t
find_objects(dz_hsm_t *hsm, CK_SESSION_HANDLE session, CK_OBJECT_CLASS class,
	     CK_OBJECT_HANDLE **handles, size_t *count, CK_RV *rv, dz_error_t *err)
{
	CK_ATTRIBUTE template[] = { { CKA_CLASS, &class, sizeof(class) } };
	CK_OBJECT_HANDLE *list = NULL;
	size_t n = 0, cap = 0;
	dz_result_t result = DZ_OK;

	*rv = hsm->p11->C_FindObjectsInit(session, template, DZ_ARRAY_SIZE(template));
	if (*rv != CKR_OK)
		return dz_hsm_fail(err, *rv, "searching the keys of token '%s' failed",
				   hsm->token.label);
	for (;;) {
		if (cap - n < FIND_BATCH) {
			CK_OBJECT_HANDLE *grown = realloc(list, (cap + 4 * FIND_BATCH) * sizeof(*list));
			if (grown == NULL) {
				result = dz_error_set(err, DZ_ENOMEM, "out of memory");
				goto cleanup;
			}
			list = grown;
			cap += 4 * FIND_BATCH;
		}
		CK_ULONG found = 0;
		*rv = hsm->p11->C_FindObjects(session, list + n, FIND_BATCH, &found);
		if (*rv != CKR_OK) {
			result = dz_hsm_fail(err, *rv, "searching the keys of token '%s' failed",
					     hsm->token.label);
			goto cleanup;
		}
		if (found == 0)
			break;
		n += found;
	}

cleanup:
	hsm->p11->C_FindObjectsFinal(session);
	if (result != DZ_OK) {
		free(list);
		return result;
	}
	*handles = list;
	*count = n;
	return DZ_OK;
}

/*
 * Read CKA_ID into id[DZ_KEY_ID_MAX].  Returns CKR_OK with *len 0 when the
 * object has no usable id (missing, empty or too long).
 */
static CK_RV
read_id(dz_hsm_t *hsm, CK_SESSION_HANDLE session, CK_OBJECT_HANDLE handle, uint8_t *id,
	size_t *len)
{
	CK_ATTRIBUTE attr = { CKA_ID, id, DZ_KEY_ID_MAX };
	CK_RV rv = hsm->p11->C_GetAttributeValue(session, handle, &attr, 1);

	*len = 0;
	if (rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_BUFFER_TOO_SMALL ||
	    rv == CKR_ATTRIBUTE_SENSITIVE)
		return CKR_OK;
	if (rv == CKR_OK && attr.ulValueLen != CK_UNAVAILABLE_INFORMATION &&
	    attr.ulValueLen <= DZ_KEY_ID_MAX)
		*len = attr.ulValueLen;
	return rv;
}

/* Read CKA_LABEL into label[DZ_HSM_KEY_LABEL_MAX], truncating a longer one. */
static CK_RV
read_label(dz_hsm_t *hsm, CK_SESSION_HANDLE session, CK_OBJECT_HANDLE handle, char *label)
{
	CK_ATTRIBUTE attr = { CKA_LABEL, NULL, 0 };
	CK_RV rv = hsm->p11->C_GetAttributeValue(session, handle, &attr, 1);

	label[0] = '\0';
	if (rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_ATTRIBUTE_SENSITIVE)
		return CKR_OK;
	if (rv != CKR_OK || attr.ulValueLen == CK_UNAVAILABLE_INFORMATION || attr.ulValueLen == 0)
		return rv;
	char *value = malloc(attr.ulValueLen);
	if (value == NULL)
		return CKR_HOST_MEMORY;
	attr.pValue = value;
	rv = hsm->p11->C_GetAttributeValue(session, handle, &attr, 1);
	if (rv == CKR_OK) {
		size_t len = attr.ulValueLen < DZ_HSM_KEY_LABEL_MAX ? attr.ulValueLen :
								      DZ_HSM_KEY_LABEL_MAX - 1;
		memcpy(label, value, len);
		label[len] = '\0';
	}
	free(value);
	return rv;
}

/* Length of an attribute, 0 if the object has none. */
static CK_ULONG
attribute_length(dz_hsm_t *hsm, CK_SESSION_HANDLE session, CK_OBJECT_HANDLE handle,
		 CK_ATTRIBUTE_TYPE type)
{
	CK_ATTRIBUTE attr = { type, NULL, 0 };

	if (hsm->p11->C_GetAttributeValue(session, handle, &attr, 1) != CKR_OK ||
	    attr.ulValueLen == CK_UNAVAILABLE_INFORMATION)
		return 0;
	return attr.ulValueLen;
}

/* Fill an index entry from a private key object; *usable is false for keys without an id. */
static CK_RV
read_private_key(dz_hsm_t *hsm, CK_SESSION_HANDLE session, CK_OBJECT_HANDLE handle,
		 dz_hsm_key_entry_t *entry, bool *usable)
{
	CK_KEY_TYPE key_type = 0;
	CK_ATTRIBUTE type_attr = { CKA_KEY_TYPE, &key_type, sizeof(key_type) };
	CK_RV rv;

	memset(entry, 0, sizeof(*entry));
	*usable = false;
	entry->private_handle = handle;
	entry->public_handle = CK_INVALID_HANDLE;
	rv = read_id(hsm, session, handle, entry->info.id, &entry->info.id_len);
	if (rv != CKR_OK || entry->info.id_len == 0)
		return rv;
	rv = read_label(hsm, session, handle, entry->info.label);
	if (rv != CKR_OK)
		return rv;
	rv = hsm->p11->C_GetAttributeValue(session, handle, &type_attr, 1);
	if (rv != CKR_OK)
		return rv == CKR_ATTRIBUTE_TYPE_INVALID ? CKR_OK : rv;
	entry->key_type = key_type;
	*usable = true;

	if (key_type == CKK_RSA) {
		entry->info.algorithm = DZ_ALG_RSASHA256;
		entry->info.bits = (unsigned)(8 * attribute_length(hsm, session, handle, CKA_MODULUS));
	} else if (key_type == CKK_EC || key_type == CKK_EC_EDWARDS) {
		uint8_t params[EC_PARAMS_MAX];
		CK_ATTRIBUTE attr = { CKA_EC_PARAMS, params, sizeof(params) };
		if (hsm->p11->C_GetAttributeValue(session, handle, &attr, 1) == CKR_OK &&
		    attr.ulValueLen != CK_UNAVAILABLE_INFORMATION)
			entry->info.algorithm = dz_hsm_curve_algorithm(params, attr.ulValueLen);
		entry->info.bits = (unsigned)(4 * dz_hsm_dnskey_ec_public_len(entry->info.algorithm));
		if (entry->info.algorithm == DZ_ALG_ED25519)
			entry->info.bits = 255;
		else if (entry->info.algorithm == DZ_ALG_ED448)
			entry->info.bits = 448;
		if (key_type == CKK_EC && (entry->info.algorithm == DZ_ALG_ED25519 ||
					   entry->info.algorithm == DZ_ALG_ED448))
			entry->info.algorithm = 0;
		if (key_type == CKK_EC_EDWARDS && (entry->info.algorithm == DZ_ALG_ECDSAP256SHA256 ||
						   entry->info.algorithm == DZ_ALG_ECDSAP384SHA384))
			entry->info.algorithm = 0;
	}
	return CKR_OK;
}

static int
compare_ids(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
	int c = memcmp(a, b, a_len < b_len ? a_len : b_len);

	if (c != 0)
		return c;
	return (a_len > b_len) - (a_len < b_len);
}

static int
compare_entries(const void *a, const void *b)
{
	const dz_hsm_key_entry_t *x = a, *y = b;

	return compare_ids(x->info.id, x->info.id_len, y->info.id, y->info.id_len);
}

dz_hsm_key_entry_t *
dz_hsm_index_find(dz_hsm_t *hsm, const uint8_t *id, size_t id_len)
{
	size_t low = 0, high = hsm->key_count;

	while (low < high) {
		size_t mid = low + (high - low) / 2;
		dz_hsm_key_entry_t *entry = &hsm->keys[mid];
		int c = compare_ids(entry->info.id, entry->info.id_len, id, id_len);
		if (c == 0)
			return entry;
		if (c < 0)
			low = mid + 1;
		else
			high = mid;
	}
	return NULL;
}

/* Pair public key objects with the indexed private keys by CKA_ID. */
static dz_result_t
index_public_keys(dz_hsm_t *hsm, CK_SESSION_HANDLE session, CK_RV *rv, dz_error_t *err)
{
	CK_OBJECT_HANDLE *handles = NULL;
	size_t count = 0;
	dz_result_t result = find_objects(hsm, session, CKO_PUBLIC_KEY, &handles, &count, rv, err);

	if (result != DZ_OK)
		return result;
	for (size_t i = 0; i < count; i++) {
		uint8_t id[DZ_KEY_ID_MAX];
		size_t id_len = 0;
		*rv = read_id(hsm, session, handles[i], id, &id_len);
		if (*rv != CKR_OK) {
			result = dz_hsm_fail(err, *rv, "reading a public key of token '%s' failed",
					     hsm->token.label);
			break;
		}
		dz_hsm_key_entry_t *entry = id_len > 0 ? dz_hsm_index_find(hsm, id, id_len) : NULL;
		if (entry == NULL)
			continue;
		/* Entries with a duplicate id sit next to each other; give each the handle. */
		while (entry > hsm->keys && compare_entries(entry - 1, entry) == 0)
			entry--;
		for (; entry < hsm->keys + hsm->key_count &&
		       compare_ids(entry->info.id, entry->info.id_len, id, id_len) == 0;
		     entry++) {
			entry->public_handle = handles[i];
			entry->info.has_public_key = true;
		}
	}
	free(handles);
	return result;
}

dz_result_t
dz_hsm_index_keys(dz_hsm_t *hsm, CK_SESSION_HANDLE session, CK_RV *rv, dz_error_t *err)
{
	CK_OBJECT_HANDLE *handles = NULL;
	dz_hsm_key_entry_t *entries = NULL;
	dz_hsm_key_entry_t *old_entries = hsm->keys;
	size_t old_count = hsm->key_count;
	size_t count = 0, usable_count = 0, skipped = 0;
	dz_result_t result;

	result = find_objects(hsm, session, CKO_PRIVATE_KEY, &handles, &count, rv, err);
	if (result != DZ_OK)
		return result;
	entries = calloc(count + 1, sizeof(*entries));
	if (entries == NULL) {
		result = dz_error_set(err, DZ_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < count; i++) {
		bool usable = false;
		*rv = read_private_key(hsm, session, handles[i], &entries[usable_count], &usable);
		if (*rv != CKR_OK) {
			result = dz_hsm_fail(err, *rv, "reading a private key of token '%s' failed",
					     hsm->token.label);
			goto cleanup;
		}
		if (usable)
			usable_count++;
		else
			skipped++;
	}
	qsort(entries, usable_count, sizeof(*entries), compare_entries);
	for (size_t i = 1; i < usable_count; i++) {
		if (compare_entries(&entries[i - 1], &entries[i]) == 0)
			entries[i - 1].duplicate_id = entries[i].duplicate_id = true;
	}

	hsm->keys = entries;
	hsm->key_count = usable_count;
	result = index_public_keys(hsm, session, rv, err);
	if (result != DZ_OK) {
		hsm->keys = old_entries;
		hsm->key_count = old_count;
		goto cleanup;
	}
	entries = old_entries;
	if (skipped > 0)
		dz_log(DZ_LOG_INFO, "PKCS#11 token '%s': %zu private keys without a CKA_ID of 1 to "
		       "%d bytes are ignored", hsm->token.label, skipped, DZ_KEY_ID_MAX);

cleanup:
	free(entries);
	free(handles);
	return result;
}

static dz_result_t
refresh_op(dz_hsm_t *hsm, CK_SESSION_HANDLE session, void *ctx, CK_RV *rv, dz_error_t *err)
{
	(void)ctx;
	return dz_hsm_index_keys(hsm, session, rv, err);
}

dz_result_t
dz_hsm_refresh_keys(dz_hsm_t *hsm, dz_error_t *err)
{
	return dz_hsm_run_exclusive(hsm, refresh_op, NULL, err);
}

dz_result_t
dz_hsm_list_keys(dz_hsm_t *hsm, dz_hsm_key_t **keys, size_t *count, dz_error_t *err)
{
	dz_hsm_key_t *list;
	size_t n;

	pthread_rwlock_rdlock(&hsm->lock);
	n = hsm->key_count;
	list = calloc(n + 1, sizeof(*list));
	if (list != NULL) {
		for (size_t i = 0; i < n; i++)
			list[i] = hsm->keys[i].info;
	}
	pthread_rwlock_unlock(&hsm->lock);
	if (list == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	*keys = list;
	*count = n;
	return DZ_OK;
}

/* Copy the key with this id out of the index under the read lock. */
static dz_result_t
lookup(dz_hsm_t *hsm, const uint8_t *id, size_t id_len, dz_hsm_key_t *out, dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	char hex[2 * DZ_KEY_ID_MAX + 1];

	pthread_rwlock_rdlock(&hsm->lock);
	dz_hsm_key_entry_t *entry = dz_hsm_index_find(hsm, id, id_len);
	if (entry == NULL)
		result = dz_error_set(err, DZ_EHSM_KEY,
				      "no private key with CKA_ID %s in token '%s'; 'danezone key "
				      "list' shows the keys", dz_hsm_id_hex(id, id_len, hex),
				      hsm->token.label);
	else if (entry->duplicate_id)
		result = dz_error_set(err, DZ_EINVAL,
				      "several private keys in token '%s' have CKA_ID %s; give "
				      "each key its own id", hsm->token.label,
				      dz_hsm_id_hex(id, id_len, hex));
	else
		*out = entry->info;
	pthread_rwlock_unlock(&hsm->lock);
	return result;
}

/*
 * Whether a lookup of an unknown key may rebuild the index now, and if so,
 * claim the rebuild.  The limit applies between such rebuilds only, not
 * from the index built at login, so a key generated by another process
 * right after login is found at its first use.
 */
static bool
claim_missing_refresh(dz_hsm_t *hsm)
{
	struct timespec now;
	bool allowed;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_rwlock_wrlock(&hsm->lock);
	const struct timespec *last = &hsm->last_missing_refresh;
	long long elapsed = (long long)(now.tv_sec - last->tv_sec) * 1000000000LL +
			    (now.tv_nsec - last->tv_nsec);
	allowed = (last->tv_sec == 0 && last->tv_nsec == 0) || elapsed >= REFRESH_INTERVAL_NS;
	if (allowed)
		hsm->last_missing_refresh = now;
	pthread_rwlock_unlock(&hsm->lock);
	return allowed;
}

dz_result_t
dz_hsm_refresh_for_missing_key(dz_hsm_t *hsm, dz_error_t *err)
{
	if (!claim_missing_refresh(hsm))
		return DZ_OK;
	return dz_hsm_refresh_keys(hsm, err);
}

dz_result_t
dz_hsm_find_key(dz_hsm_t *hsm, const uint8_t *id, size_t id_len, dz_hsm_key_t *out,
		dz_error_t *err)
{
	dz_result_t result = lookup(hsm, id, id_len, out, err);

	if (result != DZ_EHSM_KEY)
		return result;
	result = dz_hsm_refresh_for_missing_key(hsm, err);
	if (result != DZ_OK)
		return result;
	return lookup(hsm, id, id_len, out, err);
}

dz_result_t
dz_hsm_find_key_by_label(dz_hsm_t *hsm, const char *label, dz_hsm_key_t *out, dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	size_t matches = 0;

	pthread_rwlock_rdlock(&hsm->lock);
	for (size_t i = 0; i < hsm->key_count; i++) {
		if (strcmp(hsm->keys[i].info.label, label) == 0) {
			if (matches++ == 0)
				*out = hsm->keys[i].info;
		}
	}
	if (matches == 0)
		result = dz_error_set(err, DZ_EHSM_KEY,
				      "no private key labelled '%s' in token '%s'; 'danezone key "
				      "list --all' shows the keys", label, hsm->token.label);
	else if (matches > 1)
		result = dz_error_set(err, DZ_EINVAL,
				      "%zu private keys in token '%s' are labelled '%s'; select "
				      "the key by its id", matches, hsm->token.label, label);
	pthread_rwlock_unlock(&hsm->lock);
	return result;
}

/* Read a variable-length attribute into a new buffer; caller frees *value. */
static CK_RV
read_attribute(dz_hsm_t *hsm, CK_SESSION_HANDLE session, CK_OBJECT_HANDLE handle,
	       CK_ATTRIBUTE_TYPE type, uint8_t **value, size_t *len)
{
	CK_ATTRIBUTE attr = { type, NULL, 0 };
	CK_RV rv = hsm->p11->C_GetAttributeValue(session, handle, &attr, 1);

	if (rv != CKR_OK)
		return rv;
	if (attr.ulValueLen == CK_UNAVAILABLE_INFORMATION)
		return CKR_ATTRIBUTE_TYPE_INVALID;
	attr.pValue = malloc(attr.ulValueLen + 1);
	if (attr.pValue == NULL)
		return CKR_HOST_MEMORY;
	rv = hsm->p11->C_GetAttributeValue(session, handle, &attr, 1);
	if (rv != CKR_OK) {
		free(attr.pValue);
		return rv;
	}
	*value = attr.pValue;
	*len = attr.ulValueLen;
	return CKR_OK;
}

typedef struct public_key_ctx {
	const uint8_t *id;
	size_t id_len;
	uint8_t algorithm;
	uint8_t *out;
	size_t out_len;
} public_key_ctx_t;

/* Whether a key of this type and curve can make signatures of `algorithm`. */
static bool
key_fits_algorithm(const dz_hsm_key_entry_t *entry, uint8_t algorithm)
{
	if (entry->key_type == CKK_RSA)
		return algorithm == DZ_ALG_RSASHA256 || algorithm == DZ_ALG_RSASHA512;
	return entry->info.algorithm != 0 && entry->info.algorithm == algorithm;
}

dz_result_t
dz_hsm_check_key_algorithm(dz_hsm_t *hsm, const dz_hsm_key_entry_t *entry, uint8_t algorithm,
			   dz_error_t *err)
{
	char hex[2 * DZ_KEY_ID_MAX + 1];
	const char *wanted = dz_algorithm_name(algorithm);
	const char *kind;

	if (key_fits_algorithm(entry, algorithm))
		return DZ_OK;
	if (entry->key_type == CKK_RSA)
		kind = "RSA";
	else if (entry->info.algorithm != 0)
		kind = dz_algorithm_name(entry->info.algorithm);
	else
		kind = "unsupported";
	return dz_error_set(err, DZ_EINVAL,
			    "key %s in token '%s' is an %s key, which cannot make %s signatures",
			    dz_hsm_id_hex(entry->info.id, entry->info.id_len, hex), hsm->token.label,
			    kind, wanted != NULL ? wanted : "unknown-algorithm");
}

static dz_result_t
public_key_op(dz_hsm_t *hsm, CK_SESSION_HANDLE session, void *ctx, CK_RV *rv, dz_error_t *err)
{
	public_key_ctx_t *request = ctx;
	char hex[2 * DZ_KEY_ID_MAX + 1];
	uint8_t *first = NULL, *second = NULL;
	size_t first_len = 0, second_len = 0;
	dz_result_t result = DZ_OK;

	dz_hsm_key_entry_t *entry = dz_hsm_index_find(hsm, request->id, request->id_len);
	if (entry == NULL)
		return dz_error_set(err, DZ_EHSM_KEY, "no private key with CKA_ID %s in token '%s'",
				    dz_hsm_id_hex(request->id, request->id_len, hex),
				    hsm->token.label);
	result = dz_hsm_check_key_algorithm(hsm, entry, request->algorithm, err);
	if (result != DZ_OK)
		return result;

	if (entry->key_type == CKK_RSA) {
		/* Modulus and exponent are public attributes of RSA private keys too. */
		CK_OBJECT_HANDLE handle = entry->public_handle != CK_INVALID_HANDLE ?
						  entry->public_handle : entry->private_handle;
		*rv = read_attribute(hsm, session, handle, CKA_MODULUS, &first, &first_len);
		if (*rv == CKR_OK)
			*rv = read_attribute(hsm, session, handle, CKA_PUBLIC_EXPONENT, &second,
					     &second_len);
		if (*rv != CKR_OK) {
			result = dz_hsm_fail(err, *rv, "reading the public key of key %s failed",
					     dz_hsm_id_hex(request->id, request->id_len, hex));
			goto cleanup;
		}
		result = dz_hsm_dnskey_rsa_public(first, first_len, second, second_len, request->out,
					      DZ_HSM_PUBLIC_KEY_MAX, &request->out_len, err);
		goto cleanup;
	}

	if (entry->public_handle == CK_INVALID_HANDLE) {
		result = dz_error_set(err, DZ_EHSM_KEY,
				      "key %s in token '%s' has no public key object with the same "
				      "CKA_ID, so its DNSKEY cannot be made; import the public key "
				      "into the token", dz_hsm_id_hex(request->id, request->id_len, hex),
				      hsm->token.label);
		goto cleanup;
	}
	*rv = read_attribute(hsm, session, entry->public_handle, CKA_EC_POINT, &first, &first_len);
	if (*rv != CKR_OK) {
		result = dz_hsm_fail(err, *rv, "reading the public key of key %s failed",
				     dz_hsm_id_hex(request->id, request->id_len, hex));
		goto cleanup;
	}
	result = dz_hsm_dnskey_ec_public(request->algorithm, first, first_len, request->out,
				     DZ_HSM_PUBLIC_KEY_MAX, &request->out_len, err);

cleanup:
	free(first);
	free(second);
	return result;
}

dz_result_t
dz_hsm_public_key(dz_hsm_t *hsm, const uint8_t *id, size_t id_len, uint8_t algorithm,
		  uint8_t *out, size_t *out_len, dz_error_t *err)
{
	public_key_ctx_t ctx = { id, id_len, algorithm, out, 0 };
	dz_hsm_key_t key;
	dz_result_t result = dz_hsm_find_key(hsm, id, id_len, &key, err);

	if (result == DZ_OK)
		result = dz_hsm_run_shared(hsm, public_key_op, &ctx, err);
	if (result == DZ_OK)
		*out_len = ctx.out_len;
	return result;
}
