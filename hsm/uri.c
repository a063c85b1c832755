#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <p11-kit/pkcs11.h>
#include <p11-kit/uri.h>

#include "common/mem.h"
#include "hsm/uri.h"

#define URI_PREFIX "pkcs11:"

/* Copy a NUL-terminated string into a space-padded PKCS#11 text field. */
static void
pad_field(unsigned char *field, size_t size, const char *text)
{
	size_t len = strlen(text);

	if (len > size)
		len = size;
	memset(field, ' ', size);
	memcpy(field, text, len);
}

/* Copy an attribute value into a new NUL-terminated string; NULL on ENOMEM. */
static char *
attribute_string(const CK_ATTRIBUTE *attr)
{
	char *text = malloc(attr->ulValueLen + 1);

	if (text == NULL)
		return NULL;
	memcpy(text, attr->pValue, attr->ulValueLen);
	text[attr->ulValueLen] = '\0';
	return text;
}

/* Fill the parts of spec that come from a parsed URI. */
static dz_result_t
spec_from_uri(dz_hsm_token_spec_t *spec, P11KitUri *uri, dz_error_t *err)
{
	const char *pin_source = p11_kit_uri_get_pin_source(uri);
	const char *module_path = p11_kit_uri_get_module_path(uri);
	CK_ATTRIBUTE *id = p11_kit_uri_get_attribute(uri, CKA_ID);
	CK_ATTRIBUTE *label = p11_kit_uri_get_attribute(uri, CKA_LABEL);

	if (p11_kit_uri_get_pin_value(uri) != NULL)
		return dz_error_set(err, DZ_EINVAL,
				    "the PKCS#11 URI contains pin-value; put the PIN in a file "
				    "readable only by its owner and name it with pin-source "
				    "or --pin-file");
	if (pin_source != NULL) {
		/* RFC 7512 leaves the form open: accept "file:PATH", "file://PATH" and a path. */
		if (strncmp(pin_source, "file://", 7) == 0)
			pin_source += 7;
		else if (strncmp(pin_source, "file:", 5) == 0)
			pin_source += 5;
		if (pin_source[0] == '\0')
			return dz_error_set(err, DZ_EINVAL, "the PKCS#11 URI has an empty pin-source");
		if ((spec->pin_source = strdup(pin_source)) == NULL)
			return DZ_ENOMEM;
	}
	if (module_path != NULL && (spec->module_path = strdup(module_path)) == NULL)
		return DZ_ENOMEM;
	if (id != NULL) {
		if (id->ulValueLen == 0 || id->ulValueLen > DZ_KEY_ID_MAX)
			return dz_error_set(err, DZ_EINVAL,
					    "the id in the PKCS#11 URI has %lu bytes; "
					    "danezone accepts 1 to %d",
					    (unsigned long)id->ulValueLen, DZ_KEY_ID_MAX);
		memcpy(spec->object_id, id->pValue, id->ulValueLen);
		spec->object_id_len = id->ulValueLen;
	}
	if (label != NULL && (spec->object_label = attribute_string(label)) == NULL)
		return DZ_ENOMEM;
	return DZ_OK;
}

dz_result_t
dz_hsm_token_spec_parse(const char *text, dz_hsm_token_spec_t *spec, dz_error_t *err)
{
	dz_hsm_token_spec_t parsed;
	dz_result_t result = DZ_OK;

	memset(&parsed, 0, sizeof(parsed));
	if (text == NULL || text[0] == '\0')
		return dz_error_set(err, DZ_EINVAL, "empty token name; give a token label or a pkcs11: URI");
	if ((parsed.text = strdup(text)) == NULL) {
		result = dz_error_set(err, DZ_ENOMEM, "out of memory");
		goto cleanup;
	}

	if (strncmp(text, URI_PREFIX, strlen(URI_PREFIX)) != 0) {
		if (strlen(text) > 32) {
			result = dz_error_set(err, DZ_EINVAL,
					      "token label '%s' is longer than the 32 bytes "
					      "PKCS#11 allows", text);
			goto cleanup;
		}
		if ((parsed.label = strdup(text)) == NULL) {
			result = dz_error_set(err, DZ_ENOMEM, "out of memory");
			goto cleanup;
		}
		goto done;
	}

	parsed.uri = p11_kit_uri_new();
	if (parsed.uri == NULL) {
		result = dz_error_set(err, DZ_ENOMEM, "out of memory");
		goto cleanup;
	}
	int rc = p11_kit_uri_parse(text, P11_KIT_URI_FOR_ANY, parsed.uri);
	if (rc != P11_KIT_URI_OK) {
		result = dz_error_set(err, DZ_ESYNTAX, "invalid PKCS#11 URI '%s': %s", text,
				      p11_kit_uri_message(rc));
		goto cleanup;
	}
	if (p11_kit_uri_any_unrecognized(parsed.uri)) {
		result = dz_error_set(err, DZ_ESYNTAX,
				      "PKCS#11 URI '%s' has an attribute that RFC 7512 does not "
				      "define; check the spelling", text);
		goto cleanup;
	}
	result = spec_from_uri(&parsed, parsed.uri, err);
	if (result != DZ_OK) {
		if (result == DZ_ENOMEM)
			dz_error_set(err, DZ_ENOMEM, "out of memory");
		goto cleanup;
	}

done:
	*spec = parsed;
	return DZ_OK;

cleanup:
	dz_hsm_token_spec_clear(&parsed);
	return result;
}

void
dz_hsm_token_spec_clear(dz_hsm_token_spec_t *spec)
{
	free(spec->text);
	free(spec->label);
	if (spec->uri != NULL)
		p11_kit_uri_free(spec->uri);
	free(spec->pin_source);
	free(spec->module_path);
	free(spec->object_label);
	memset(spec, 0, sizeof(*spec));
}

bool
dz_hsm_token_spec_matches(const dz_hsm_token_spec_t *spec, const dz_hsm_token_info_t *token)
{
	CK_TOKEN_INFO info;

	if (spec->uri == NULL)
		return strcmp(spec->label, token->label) == 0;
	memset(&info, 0, sizeof(info));
	pad_field(info.label, sizeof(info.label), token->label);
	pad_field(info.manufacturerID, sizeof(info.manufacturerID), token->manufacturer);
	pad_field(info.model, sizeof(info.model), token->model);
	pad_field(info.serialNumber, sizeof(info.serialNumber), token->serial);
	return p11_kit_uri_match_token_info(spec->uri, &info) == 1;
}

bool
dz_hsm_token_spec_names_key(const dz_hsm_token_spec_t *spec)
{
	return spec->object_id_len > 0 || spec->object_label != NULL;
}
