/*
 * fuzz_dns_message.c -- libFuzzer target for the DNS message handler.
 *
 * The first input byte selects the transport and source address (bit 0:
 * TCP, bit 1: IPv6) and whether the target signs the request with the
 * TSIG key before handling it (bit 2), so that the paths behind a valid
 * MAC are reached; the rest is the request.  The responder serves a small
 * published zone with a journal of two entries, the second committed by
 * the fast path so that AXFR merges it into the snapshot, a TSIG key "xfr."
 * and access lists that allow everyone, so that SOA, AXFR, IXFR and NOTIFY
 * paths all run.  Transfers are driven to their end.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "common/log.h"
#include "signer/publish.h"
#include "signer/responder.h"
#include "signer/tsig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static dz_server_config_t config;
static dz_responder_t *responder;
static uint8_t out[DZ_WIRE_MESSAGE_MAX + 2];
static uint8_t request[DZ_WIRE_MESSAGE_MAX + 2];

static const char *const version1[] = {
	"example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300",
	"example.com. 3600 IN NS ns1.example.com.",
	"_25._tcp.mail.example.com. 300 IN TLSA 3 1 1 "
	"1111111111111111111111111111111111111111111111111111111111111111",
	"ns1.example.com. 3600 IN A 192.0.2.53",
	NULL,
};

static const char *const version2[] = {
	"example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 2 7200 3600 1209600 300",
	"example.com. 3600 IN NS ns1.example.com.",
	"_25._tcp.mail.example.com. 300 IN TLSA 3 1 1 "
	"2222222222222222222222222222222222222222222222222222222222222222",
	"ns1.example.com. 3600 IN A 192.0.2.53",
	NULL,
};

/* Append the wire form of the RR in presentation form `text` to `rrs`. */
static void
append_rr(dz_buf_t *rrs, const char *text)
{
	ldns_rr *rr = NULL;
	uint8_t *wire = NULL;
	size_t len = 0;

	if (ldns_rr_new_frm_str(&rr, text, 3600, NULL, NULL) != LDNS_STATUS_OK ||
	    ldns_rr2wire(&wire, rr, LDNS_SECTION_ANSWER, &len) != LDNS_STATUS_OK ||
	    dz_buf_append(rrs, wire, len) != DZ_OK)
		abort();
	free(wire);
	ldns_rr_free(rr);
}

static void
publish(const dz_publish_target_t *target, const char *const *texts)
{
	dz_snapshot_writer_t *writer = NULL;
	dz_buf_t rrs;

	dz_buf_init(&rrs);
	for (size_t i = 0; texts[i] != NULL; i++)
		append_rr(&rrs, texts[i]);
	if (dz_publish_begin(target, &writer, NULL) != DZ_OK ||
	    dz_snapshot_writer_add_all(writer, &rrs, NULL) != DZ_OK ||
	    dz_publish_commit(target, writer, NULL, NULL, NULL, NULL) != DZ_OK)
		abort();
	dz_buf_clear(&rrs);
}

/* Commit version 3 as a diff from version 2: the TLSA changes again, and a TTL. */
static void
publish_diff(const dz_publish_target_t *target)
{
	dz_buf_t removed, added, soa;

	dz_buf_init(&removed);
	dz_buf_init(&added);
	dz_buf_init(&soa);
	append_rr(&removed, version2[2]);
	append_rr(&removed, version2[3]);
	append_rr(&added, "_25._tcp.mail.example.com. 300 IN TLSA 3 1 1 "
			  "3333333333333333333333333333333333333333333333333333333333333333");
	append_rr(&added, "ns1.example.com. 600 IN A 192.0.2.53");
	append_rr(&soa, "example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 3 "
			"7200 3600 1209600 300");
	if (dz_publish_diff(target, &removed, &added, &soa, NULL, NULL) != DZ_OK)
		abort();
	dz_buf_clear(&removed);
	dz_buf_clear(&added);
	dz_buf_clear(&soa);
}

static char folder[] = "/tmp/dz-fuzz-dns-message-XXXXXX";

/* Remove the published files and their folder at exit. */
static void
remove_folder(void)
{
	static const char *const names[] = { "example.com.zone", "example.com.snapshot",
					     "example.com.journal" };
	char path[sizeof(folder) + 32];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", folder, names[i]);
		unlink(path);
	}
	rmdir(folder);
}

/* Take every log line, so that the messages about each request are formatted. */
static void
discard_log(dz_log_level_t level, const char *line, void *ctx)
{
	(void)level;
	(void)line;
	(void)ctx;
}

static void
initialize(void)
{
	dz_server_zone_config_t *zone = NULL;
	dz_publish_target_t target;

	dz_log_set_sink(discard_log, NULL);
	if (mkdtemp(folder) == NULL)
		abort();
	atexit(remove_folder);
	dz_server_config_init(&config);
	if (dz_server_config_add_key(&config, "hmac-sha256:xfr:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", NULL) != DZ_OK ||
	    dz_server_config_add_zone(&config, "example.com", folder, &zone, NULL) != DZ_OK ||
	    dz_acl_add(&zone->transfer_acl, "0.0.0.0/0", NULL) != DZ_OK ||
	    dz_acl_add(&zone->transfer_acl, "::/0", NULL) != DZ_OK ||
	    dz_acl_add(&zone->notify_acl, "0.0.0.0/0 key xfr", NULL) != DZ_OK ||
	    dz_acl_add(&zone->query_acl, "0.0.0.0/0", NULL) != DZ_OK ||
	    dz_acl_add(&zone->query_acl, "::/0", NULL) != DZ_OK ||
	    dz_publish_target_init(&target, folder, "example.com", 0, NULL) != DZ_OK)
		abort();
	publish(&target, version1);
	publish(&target, version2);
	publish_diff(&target);
	if (dz_responder_create(&config, &responder, NULL) != DZ_OK ||
	    dz_responder_load_zone(responder, 0, NULL, NULL) != DZ_OK)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_storage source;
	dz_response_t response;

	if (responder == NULL)
		initialize();
	if (size < 1)
		return 0;
	memset(&source, 0, sizeof(source));
	if (data[0] & 2) {
		struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&source;
		v6->sin6_family = AF_INET6;
		v6->sin6_addr.s6_addr[15] = 1;
		v6->sin6_port = htons(5300);
	} else {
		struct sockaddr_in *v4 = (struct sockaddr_in *)&source;
		v4->sin_family = AF_INET;
		v4->sin_addr.s_addr = htonl(0x7f000001);
		v4->sin_port = htons(5300);
	}
	dz_transport_t transport = (data[0] & 1) ? DZ_TRANSPORT_TCP : DZ_TRANSPORT_UDP;
	size_t len = size - 1;
	if (len > DZ_WIRE_MESSAGE_MAX)
		len = DZ_WIRE_MESSAGE_MAX;
	memcpy(request, data + 1, len);
	if ((data[0] & 4) && len >= DZ_WIRE_HEADER_SIZE) {
		dz_tsig_context_t tsig;
		dz_tsig_context_init(&tsig, &config.keys[0]);
		dz_tsig_sign(&tsig, request, &len, sizeof(request), 1700000000, 0);
	}
	dz_responder_handle(responder, transport, (struct sockaddr *)&source, request, len,
			    1700000000, out, sizeof(out), &response);
	if (response.kind == DZ_RESPONSE_TRANSFER) {
		bool done = false;
		for (int i = 0; i < 1000 && !done; i++) {
			size_t message_len = 0;
			if (dz_transfer_next(response.transfer, out, DZ_WIRE_MESSAGE_MAX, &message_len, &done,
					     1700000000) != DZ_OK)
				break;
		}
		dz_transfer_destroy(response.transfer);
	}
	return 0;
}
