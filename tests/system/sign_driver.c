/*
 * sign_driver.c -- a test driver that signs data with a key in a token
 * through the sign service, so the system tests can check the signatures
 * with independent tools.
 *
 * usage: dz-sign-driver [token options] --id HEX --algorithm ALG [--processes P]
 *
 * Reads one request per line on stdin (the data to sign, in hex), signs
 * them as one batch, and prints one line per request: the signature in hex,
 * or "error RESULT-NAME".  The exit status is 0 when every request was
 * signed.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/policy.h"
#include "hsm/hsm.h"
#include "hsm/sign_service.h"
#include "signer/token_options.h"

#define LINE_MAX_BYTES (256 * 1024)

typedef struct input {
	dz_sign_request_t *requests;
	uint8_t **data;
	size_t count;
} input_t;

static int
read_requests(input_t *input, const uint8_t *id, size_t id_len, uint8_t algorithm)
{
	char *line = malloc(LINE_MAX_BYTES);
	size_t cap = 0;

	if (line == NULL)
		return -1;
	while (fgets(line, LINE_MAX_BYTES, stdin) != NULL) {
		size_t len = strcspn(line, "\r\n");
		if (input->count == cap) {
			cap = cap == 0 ? 16 : 2 * cap;
			input->requests = realloc(input->requests, cap * sizeof(*input->requests));
			input->data = realloc(input->data, cap * sizeof(*input->data));
			if (input->requests == NULL || input->data == NULL)
				return -1;
		}
		uint8_t *data = malloc(len / 2 + 1);
		long data_len = data != NULL ? dz_hex_decode(line, len, data, len / 2 + 1) : -1;
		if (data_len < 0) {
			fprintf(stderr, "dz-sign-driver: line %zu is not hex\n", input->count + 1);
			free(data);
			free(line);
			return -1;
		}
		dz_sign_request_t *request = &input->requests[input->count];
		memset(request, 0, sizeof(*request));
		memcpy(request->key_id, id, id_len);
		request->key_id_len = id_len;
		request->algorithm = algorithm;
		request->data = data;
		request->data_len = (size_t)data_len;
		input->data[input->count++] = data;
	}
	free(line);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option long_options[] = {
		{ "id", required_argument, NULL, 'i' },
		{ "algorithm", required_argument, NULL, 'a' },
		{ "processes", required_argument, NULL, 'p' },
		DZ_TOKEN_LONG_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	dz_token_options_t options;
	uint8_t id[DZ_KEY_ID_MAX];
	long id_len = -1;
	uint8_t algorithm = 0;
	unsigned processes = 0;
	input_t input = { NULL, NULL, 0 };
	dz_hsm_config_t config;
	dz_hsm_t *hsm = NULL;
	dz_sign_service_t *service = NULL;
	dz_error_t err;
	int status = 1;
	int c;

	dz_log_open("dz-sign-driver", DZ_LOG_TARGET_STDERR, DZ_LOG_WARNING);
	dz_token_options_init(&options);
	while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		if (dz_token_options_handle(&options, c, optarg))
			continue;
		if (c == 'i')
			id_len = dz_hex_decode(optarg, strlen(optarg), id, sizeof(id));
		else if (c == 'a' && dz_algorithm_parse(optarg, &algorithm))
			continue;
		else if (c == 'p')
			processes = (unsigned)atoi(optarg);
		else
			return 2;
	}
	if (id_len <= 0 || algorithm == 0) {
		fprintf(stderr, "usage: dz-sign-driver [token options] --id HEX --algorithm ALG "
			"[--processes P] < hex-lines\n");
		return 2;
	}
	dz_error_init(&err);
	dz_token_options_config(&options, 1, &config);
	dz_result_t result;
	if (processes > 0) {
		result = dz_sign_service_create_processes(&config, processes, &service, &err);
	} else {
		result = dz_hsm_create(&config, &hsm, &err);
		if (result == DZ_OK)
			result = dz_sign_service_create_local(hsm, &service, &err);
	}
	if (result != DZ_OK) {
		fprintf(stderr, "dz-sign-driver: %s\n", dz_error_message(&err));
		goto cleanup;
	}
	/* Read the requests only now, so tests can inspect the running signer processes. */
	if (read_requests(&input, id, (size_t)id_len, algorithm) != 0)
		goto cleanup;
	result = dz_sign_service_sign(service, input.requests, input.count, &err);
	for (size_t i = 0; i < input.count; i++) {
		const dz_sign_request_t *request = &input.requests[i];
		char hex[2 * DZ_SIGNATURE_MAX + 1];
		if (request->result == DZ_OK) {
			dz_hex_encode(request->signature, request->signature_len, hex);
			printf("%s\n", hex);
		} else {
			printf("error %s\n", dz_result_name(request->result));
		}
	}
	if (result != DZ_OK)
		fprintf(stderr, "dz-sign-driver: %s\n", dz_error_message(&err));
	else
		status = 0;

cleanup:
	dz_sign_service_destroy(service);
	dz_hsm_destroy(hsm);
	for (size_t i = 0; i < input.count; i++)
		free(input.data[i]);
	free(input.data);
	free(input.requests);
	return status;
}
