/*
 * fuzz_sign_protocol.c -- libFuzzer target for the request parser of a
 * signer process (hsm/sign_protocol.h).
 *
 * The input is the byte stream the parent sends over the socketpair.  A
 * helper thread writes it, half-closes the connection and reads every
 * response, while dz_hsm_msg_serve() serves it as a signer process does,
 * on a SoftHSM2 token made at start in a temporary folder.  The token contains
 * one ECDSA P-256 key with CKA_ID 01 02 03 04 05 06 07 08, so requests in
 * the seed corpus that name it are really signed.
 *
 * The target then checks the outcome against its own reading of the
 * stream: one SIGNED response per well-formed SIGN message, with the same
 * id and count, in order; every successful signature verifies; one
 * response of the matching type per well-formed key request (INFO names
 * the token, a generated P-256 key has a 64-byte public key); and the
 * connection ends with DZ_OK after whole messages, DZ_EIO inside one and
 * DZ_ESYNTAX at the first malformed one, without any response to it.
 *
 * After each input the keys that GENERATE made are deleted, and the known
 * key is imported again if a DELETE removed it, so that every input starts
 * from the same token.
 */
#include "config.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/policy.h"
#include "hsm/hsm.h"
#include "hsm/sign_protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TOKEN_LABEL "fuzz"
#define USER_PIN "1234"
#define KEY_ID_HEX "0102030405060708"

static char folder[] = "/tmp/dz-fuzz-sign-XXXXXX";
static dz_hsm_t *hsm;
static EVP_PKEY *key;
static char import_command[512];	/* imports the known key again */
static const uint8_t known_key_id[] = { 1, 2, 3, 4, 5, 6, 7, 8 };

static void
discard_log(dz_log_level_t level, const char *line, void *ctx)
{
	(void)level;
	(void)line;
	(void)ctx;
}

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL || fputs(text, fp) < 0 || fclose(fp) != 0 || chmod(path, 0600) != 0)
		abort();
}

static void
run(const char *command)
{
	if (system(command) != 0) {
		fprintf(stderr, "fuzz_sign_protocol: '%s' failed\n", command);
		abort();
	}
}

static void
finish(void)
{
	char command[sizeof(folder) + 16];

	dz_hsm_destroy(hsm);
	hsm = NULL;
	EVP_PKEY_free(key);
	snprintf(command, sizeof(command), "rm -rf '%s'", folder);
	if (system(command) != 0)
		fprintf(stderr, "fuzz_sign_protocol: cannot remove %s\n", folder);
}

/* Make a token with one P-256 key of a known CKA_ID, and log in to it. */
static void
initialize(void)
{
	static char conf[sizeof(folder) + 32], pin_file[sizeof(folder) + 32];
	char path[sizeof(folder) + 32], text[256], command[512];
	dz_hsm_config_t config;
	dz_error_t err;

	dz_log_set_sink(discard_log, NULL);
	if (mkdtemp(folder) == NULL)
		abort();
	atexit(finish);
	snprintf(path, sizeof(path), "%s/tokens", folder);
	if (mkdir(path, 0700) != 0)
		abort();
	snprintf(conf, sizeof(conf), "%s/softhsm2.conf", folder);
	snprintf(text, sizeof(text),
		 "directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n", path);
	write_file(conf, text);
	if (setenv("SOFTHSM2_CONF", conf, 1) != 0)
		abort();
	snprintf(pin_file, sizeof(pin_file), "%s/user.pin", folder);
	write_file(pin_file, USER_PIN "\n");

	const char *module = getenv("DZ_SOFTHSM_MODULE");
	if (module == NULL || module[0] == '\0')
		module = DZ_DEFAULT_PKCS11_MODULE;
	snprintf(command, sizeof(command),
		 "softhsm2-util --module '%s' --init-token --free --label " TOKEN_LABEL
		 " --pin " USER_PIN " --so-pin 123456 >/dev/null", module);
	run(command);

	/* The key is made here and imported, because only an import sets the CKA_ID. */
	key = EVP_EC_gen("P-256");
	snprintf(path, sizeof(path), "%s/key.pem", folder);
	FILE *fp = fopen(path, "w");
	if (key == NULL || fp == NULL || PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL) != 1 ||
	    fclose(fp) != 0)
		abort();
	snprintf(import_command, sizeof(import_command),
		 "softhsm2-util --module '%s' --import '%s' --token " TOKEN_LABEL
		 " --label fuzz --id " KEY_ID_HEX " --pin " USER_PIN " >/dev/null", module, path);
	run(import_command);

	memset(&config, 0, sizeof(config));
	config.module_path = module;
	config.token = TOKEN_LABEL;
	config.pin_file = pin_file;
	config.sessions = 1;
	dz_error_init(&err);
	if (dz_hsm_create(&config, &hsm, &err) != DZ_OK) {
		fprintf(stderr, "fuzz_sign_protocol: %s\n", dz_error_message(&err));
		abort();
	}
}

/* Whether an RFC 6605 signature (r || s) of `data` verifies with the key. */
static bool
verify(const uint8_t *data, size_t len, const uint8_t *signature, size_t signature_len)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	unsigned char *der = NULL;
	bool ok = false;

	if (sig == NULL || signature_len != 64 ||
	    ECDSA_SIG_set0(sig, BN_bin2bn(signature, 32, NULL), BN_bin2bn(signature + 32, 32, NULL)) != 1)
		goto cleanup;
	int der_len = i2d_ECDSA_SIG(sig, &der);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	ok = der_len > 0 && ctx != NULL &&
	     EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
	     EVP_DigestVerify(ctx, der, (size_t)der_len, data, len) == 1;
	EVP_MD_CTX_free(ctx);

cleanup:
	ECDSA_SIG_free(sig);
	OPENSSL_free(der);
	return ok;
}

/* The parent's side: send the input, half-close, collect the responses. */
typedef struct peer {
	int fd;
	const uint8_t *input;
	size_t input_len;
	dz_buf_t responses;
} peer_t;

static void *
run_peer(void *arg)
{
	peer_t *peer = arg;
	dz_error_t err;
	uint8_t buf[4096];

	dz_error_init(&err);
	/* The signer closes the connection at a malformed message, so a write may fail. */
	dz_hsm_msg_write(peer->fd, peer->input, peer->input_len, &err);
	shutdown(peer->fd, SHUT_WR);
	for (;;) {
		ssize_t n = read(peer->fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		if (dz_buf_append(&peer->responses, buf, (size_t)n) != DZ_OK)
			abort();
	}
	return NULL;
}

/* Key pairs that GENERATE made during the current input, deleted after it. */
static uint8_t generated[64][DZ_KEY_ID_MAX];
static size_t generated_len[64];
static size_t generated_count;
/* Whether a DELETE of the current input removed the known key. */
static bool known_deleted;

static bool
is_known_key(const dz_hsm_key_request_t *request)
{
	return request->key_id_len == sizeof(known_key_id) &&
	       memcmp(request->key_id, known_key_id, sizeof(known_key_id)) == 0;
}

static bool
is_generated_key(const dz_hsm_key_request_t *request)
{
	for (size_t i = 0; i < generated_count; i++) {
		if (generated_len[i] == request->key_id_len &&
		    memcmp(generated[i], request->key_id, request->key_id_len) == 0)
			return true;
	}
	return false;
}

/* Check the response to a key request; abort if it is wrong. */
static void
check_key_response(const dz_hsm_key_request_t *request, const dz_hsm_msg_header_t *header,
		   const uint8_t *body)
{
	static dz_hsm_key_response_t response;
	dz_error_t err;

	if (header->type != dz_hsm_msg_response_type(request->type) ||
	    dz_hsm_msg_key_response_decode(header, body, &response, &err) != DZ_OK)
		abort();
	switch (request->type) {
	case DZ_HSM_MSG_INFO:
		if (response.result != DZ_OK || strcmp(response.token.label, TOKEN_LABEL) != 0 ||
		    response.module[0] == '\0')
			abort();
		break;
	case DZ_HSM_MSG_GENERATE:
		if (response.result != DZ_OK)
			break;
		if (response.key_id_len != DZ_HSM_NEW_KEY_ID_LEN ||
		    (request->algorithm == DZ_ALG_ECDSAP256SHA256 && response.public_key_len != 64))
			abort();
		if (generated_count < sizeof(generated) / sizeof(generated[0])) {
			memcpy(generated[generated_count], response.key_id, response.key_id_len);
			generated_len[generated_count++] = response.key_id_len;
		}
		break;
	case DZ_HSM_MSG_CHECK:
		/* Only the known key and generated ones exist; the known key unless deleted. */
		if (response.result == DZ_OK && !is_known_key(request) && !is_generated_key(request))
			abort();
		if (response.result != DZ_OK && is_known_key(request) && !known_deleted)
			abort();
		break;
	case DZ_HSM_MSG_DELETE:
		if (response.result == DZ_OK && is_known_key(request))
			known_deleted = true;
		break;
	default:
		break;
	}
	if ((response.result == DZ_OK) != (response.message[0] == '\0'))
		abort();
}

/* Delete what GENERATE made and bring back the known key if a DELETE removed it. */
static void
restore_token(void)
{
	dz_hsm_key_t found;
	dz_error_t err;

	for (size_t i = 0; i < generated_count; i++) {
		/* A DELETE of the input may have removed it already. */
		dz_error_init(&err);
		dz_result_t result = dz_hsm_delete_key(hsm, generated[i], generated_len[i], &err);
		if (result != DZ_OK && result != DZ_EHSM_KEY && result != DZ_ENOTFOUND)
			abort();
	}
	generated_count = 0;
	known_deleted = false;
	dz_error_init(&err);
	if (dz_hsm_find_key(hsm, known_key_id, sizeof(known_key_id), &found, &err) == DZ_OK)
		return;
	run(import_command);
	dz_error_init(&err);
	if (dz_hsm_refresh_keys(hsm, &err) != DZ_OK ||
	    dz_hsm_find_key(hsm, known_key_id, sizeof(known_key_id), &found, &err) != DZ_OK)
		abort();
}

/*
 * Walk the input as the signer must: check each response in `responses`
 * against its request, and return the result that dz_hsm_msg_serve() must
 * give.
 */
static dz_result_t
check_responses(const uint8_t *input, size_t len, const dz_buf_t *responses)
{
	static dz_sign_request_t requests[DZ_HSM_MSG_COUNT_MAX];
	static dz_sign_request_t results[DZ_HSM_MSG_COUNT_MAX];
	static char message[DZ_HSM_MSG_TEXT_MAX + 1];
	static dz_hsm_key_request_t key_request;
	size_t pos = 0, response_pos = 0;
	dz_result_t expected = DZ_OK;
	dz_error_t err;

	while (pos < len) {
		dz_hsm_msg_header_t header, response;
		if (len - pos < DZ_HSM_MSG_HEADER_LEN) {
			expected = DZ_EIO;
			break;
		}
		if (dz_hsm_msg_header_decode(input + pos, &header, &err) != DZ_OK ||
		    (header.type != DZ_HSM_MSG_SIGN && dz_hsm_msg_response_type(header.type) == 0)) {
			expected = DZ_ESYNTAX;
			break;
		}
		pos += DZ_HSM_MSG_HEADER_LEN;
		if (len - pos < header.body_len) {
			expected = DZ_EIO;
			break;
		}
		bool is_sign = header.type == DZ_HSM_MSG_SIGN;
		dz_result_t decoded =
			is_sign ? dz_hsm_msg_sign_decode(&header, input + pos, requests, &err) :
				  dz_hsm_msg_key_request_decode(&header, input + pos, &key_request,
								&err);
		if (decoded != DZ_OK) {
			expected = DZ_ESYNTAX;
			break;
		}
		pos += header.body_len;
		if (!is_sign) {
			if (responses->len - response_pos < DZ_HSM_MSG_HEADER_LEN ||
			    dz_hsm_msg_header_decode(responses->data + response_pos, &response,
						     &err) != DZ_OK)
				abort();
			response_pos += DZ_HSM_MSG_HEADER_LEN;
			if (response.id != header.id || response.count != 0 ||
			    responses->len - response_pos < response.body_len)
				abort();
			check_key_response(&key_request, &response,
					   responses->data + response_pos);
			response_pos += response.body_len;
			continue;
		}

		/* Its response. */
		if (responses->len - response_pos < DZ_HSM_MSG_HEADER_LEN ||
		    dz_hsm_msg_header_decode(responses->data + response_pos, &response, &err) != DZ_OK)
			abort();
		response_pos += DZ_HSM_MSG_HEADER_LEN;
		if (response.type != DZ_HSM_MSG_SIGNED || response.id != header.id ||
		    response.count != header.count || responses->len - response_pos < response.body_len)
			abort();
		if (dz_hsm_msg_signed_decode(&response, responses->data + response_pos, results,
					     header.count, message, &err) != DZ_OK)
			abort();
		response_pos += response.body_len;
		for (uint32_t i = 0; i < header.count; i++) {
			if (results[i].result == DZ_OK &&
			    !verify(requests[i].data, requests[i].data_len, results[i].signature,
				    results[i].signature_len))
				abort();
		}
	}
	/* Nothing is sent after the last well-formed message. */
	if (response_pos != responses->len)
		abort();
	return expected;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pthread_t thread;
	peer_t peer;
	int sv[2];

	if (hsm == NULL)
		initialize();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		abort();
	peer = (peer_t){ .fd = sv[0], .input = data, .input_len = size };
	dz_buf_init(&peer.responses);
	if (pthread_create(&thread, NULL, run_peer, &peer) != 0)
		abort();
	dz_result_t result = dz_hsm_msg_serve(hsm, sv[1], "signer process 1");
	close(sv[1]);
	if (pthread_join(thread, NULL) != 0)
		abort();
	close(sv[0]);

	if (result != check_responses(data, size, &peer.responses))
		abort();
	restore_token();
	dz_buf_clear(&peer.responses);
	return 0;
}
