#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "signer/publish.h"
#include "signer/responder.h"
#include "tests/unit/signer/rr_text.h"

#define SOA(serial)                                                                            \
	"example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. " #serial            \
	" 7200 3600 1209600 300"
#define NS "example.com. 3600 IN NS ns1.example.com."
#define A(last) "ns1.example.com. 3600 IN A 192.0.2." #last

static const char *const version1[] = { SOA(1), NS, A(1), NULL };
static const char *const version2[] = { SOA(2), NS, A(2), NULL };
static const char *const version3[] = { SOA(3), NS, A(3), NULL };

struct fixture {
	char *dir;
	dz_publish_target_t target;
	dz_server_config_t config;
	dz_responder_t *responder;
	uint8_t out[DZ_WIRE_MESSAGE_MAX + 2];
};

static void
publish(struct fixture *f, const char *const *texts, dz_result_t expected)
{
	dz_snapshot_writer_t *writer = NULL;
	dz_buf_t rrs;

	dz_buf_init(&rrs);
	rr_text_append_all(&rrs, texts);
	assert_int_equal(dz_publish_begin(&f->target, &writer, NULL), DZ_OK);
	assert_int_equal(dz_snapshot_writer_add_all(writer, &rrs, NULL), DZ_OK);
	assert_int_equal(dz_publish_commit(&f->target, writer, NULL, NULL, NULL, NULL), expected);
	dz_buf_clear(&rrs);
}

static bool
crash_before_snapshot(dz_publish_step_t step, void *ctx)
{
	(void)ctx;
	return step == DZ_PUBLISH_STEP_SNAPSHOT;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	dz_server_zone_config_t *zone = NULL;

	f->dir = rr_text_temp_dir("dz-test-responder");
	assert_int_equal(dz_publish_target_init(&f->target, f->dir, "example.com", 0, NULL), DZ_OK);
	dz_server_config_init(&f->config);
	assert_int_equal(dz_server_config_add_zone(&f->config, "example.com", f->dir, &zone, NULL),
			 DZ_OK);
	assert_int_equal(dz_acl_add(&zone->transfer_acl, "127.0.0.1", NULL), DZ_OK);
	assert_int_equal(dz_responder_create(&f->config, &f->responder, NULL), DZ_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	dz_publish_set_fault(NULL, NULL);
	dz_responder_destroy(f->responder);
	dz_server_config_clear(&f->config);
	rr_text_remove_dir(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* Send an IXFR request from `serial` over TCP and store the response in *response. */
static void
ixfr_request(struct fixture *f, uint32_t serial, dz_response_t *response)
{
	char text[128];
	ldns_pkt *query = NULL;
	ldns_rr *soa = NULL;
	uint8_t *wire = NULL;
	size_t wire_len = 0;
	struct sockaddr_in source = { .sin_family = AF_INET };

	source.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(ldns_pkt_query_new_frm_str(&query, "example.com.", LDNS_RR_TYPE_IXFR,
						    LDNS_RR_CLASS_IN, 0),
			 LDNS_STATUS_OK);
	snprintf(text, sizeof(text), "example.com. 0 IN SOA . . %u 0 0 0 0", serial);
	assert_int_equal(ldns_rr_new_frm_str(&soa, text, 0, NULL, NULL), LDNS_STATUS_OK);
	ldns_pkt_push_rr(query, LDNS_SECTION_AUTHORITY, soa);
	assert_int_equal(ldns_pkt2wire(&wire, query, &wire_len), LDNS_STATUS_OK);

	dz_responder_handle(f->responder, DZ_TRANSPORT_TCP, (struct sockaddr *)&source, wire,
			    wire_len, 1700000000, f->out, sizeof(f->out), response);
	free(wire);
	ldns_pkt_free(query);
}

/* Send IXFR from `serial` over TCP and return the SOA serials of the answer, in order. */
static size_t
ixfr_soa_serials(struct fixture *f, uint32_t serial, uint32_t *serials, size_t max)
{
	dz_response_t response;
	size_t count = 0;

	ixfr_request(f, serial, &response);
	assert_int_equal(response.kind, DZ_RESPONSE_TRANSFER);
	bool done = false;
	while (!done) {
		size_t len = 0;
		ldns_pkt *message = NULL;
		assert_int_equal(dz_transfer_next(response.transfer, f->out, DZ_WIRE_MESSAGE_MAX, &len,
						  &done, 1700000000),
				 DZ_OK);
		assert_int_equal(ldns_wire2pkt(&message, f->out, len), LDNS_STATUS_OK);
		ldns_rr_list *answer = ldns_pkt_answer(message);
		for (size_t i = 0; i < ldns_rr_list_rr_count(answer); i++) {
			ldns_rr *rr = ldns_rr_list_rr(answer, i);
			if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA && count < max)
				serials[count++] = ldns_rdf2native_int32(ldns_rr_rdf(rr, 2));
		}
		ldns_pkt_free(message);
	}
	dz_transfer_destroy(response.transfer);
	return count;
}

/* The SOA serial of a one-message reply, which must hold only the SOA. */
static uint32_t
reply_soa_serial(struct fixture *f, const dz_response_t *response)
{
	ldns_pkt *message = NULL;
	uint32_t serial;

	assert_int_equal(response->kind, DZ_RESPONSE_REPLY);
	assert_int_equal(ldns_wire2pkt(&message, f->out, response->reply_len), LDNS_STATUS_OK);
	assert_int_equal(ldns_rr_list_rr_count(ldns_pkt_answer(message)), 1);
	ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(message), 0);
	assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_SOA);
	serial = ldns_rdf2native_int32(ldns_rr_rdf(rr, 2));
	ldns_pkt_free(message);
	return serial;
}

/* Commit the diff that replaces `old_rr` by `new_rr` with the fast path. */
static void
publish_diff(struct fixture *f, const char *old_rr, const char *new_rr, const char *serial)
{
	dz_buf_t removed, added, soa;
	char text[256];

	dz_buf_init(&removed);
	dz_buf_init(&added);
	dz_buf_init(&soa);
	rr_text_append(&removed, old_rr);
	rr_text_append(&added, new_rr);
	snprintf(text, sizeof(text),
		 "example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. %s 7200 3600 "
		 "1209600 300",
		 serial);
	rr_text_append(&soa, text);
	assert_int_equal(dz_publish_diff(&f->target, &removed, &added, &soa, NULL, NULL), DZ_OK);
	dz_buf_clear(&removed);
	dz_buf_clear(&added);
	dz_buf_clear(&soa);
}

/* Start an AXFR over TCP from 127.0.0.1. */
static dz_response_t
axfr_start(struct fixture *f)
{
	ldns_pkt *query = NULL;
	uint8_t *wire = NULL;
	size_t wire_len = 0;
	struct sockaddr_in source = { .sin_family = AF_INET };
	dz_response_t response;

	source.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(ldns_pkt_query_new_frm_str(&query, "example.com.", LDNS_RR_TYPE_AXFR,
						    LDNS_RR_CLASS_IN, 0),
			 LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt2wire(&wire, query, &wire_len), LDNS_STATUS_OK);
	dz_responder_handle(f->responder, DZ_TRANSPORT_TCP, (struct sockaddr *)&source, wire,
			    wire_len, 1700000000, f->out, sizeof(f->out), &response);
	assert_int_equal(response.kind, DZ_RESPONSE_TRANSFER);
	free(wire);
	ldns_pkt_free(query);
	return response;
}

/*
 * Run `transfer` to its end (and free it) and check that its answer RRs
 * are `texts` in order, followed by the first (the SOA) again, as RFC 5936
 * section 2.2 has it.
 */
static void
expect_transfer(struct fixture *f, dz_transfer_t *transfer, const char *const *texts)
{
	size_t expected_count = 0;
	size_t got = 0;
	bool done = false;

	while (texts[expected_count] != NULL)
		expected_count++;
	while (!done) {
		size_t len = 0;
		ldns_pkt *message = NULL;
		assert_int_equal(dz_transfer_next(transfer, f->out, DZ_WIRE_MESSAGE_MAX, &len, &done,
						  1700000000),
				 DZ_OK);
		assert_int_equal(ldns_wire2pkt(&message, f->out, len), LDNS_STATUS_OK);
		ldns_rr_list *answer = ldns_pkt_answer(message);
		for (size_t i = 0; i < ldns_rr_list_rr_count(answer); i++, got++) {
			ldns_rr *expected = NULL;
			const char *text = texts[got < expected_count ? got : 0];
			assert_true(got <= expected_count);
			assert_int_equal(ldns_rr_new_frm_str(&expected, text, 0, NULL, NULL),
					 LDNS_STATUS_OK);
			assert_int_equal(ldns_rr_compare(expected, ldns_rr_list_rr(answer, i)), 0);
			assert_int_equal(ldns_rr_ttl(expected), ldns_rr_ttl(ldns_rr_list_rr(answer, i)));
			ldns_rr_free(expected);
		}
		ldns_pkt_free(message);
	}
	assert_int_equal(got, expected_count + 1);
	dz_transfer_destroy(transfer);
}

static void
expect_axfr(struct fixture *f, const char *const *texts)
{
	expect_transfer(f, axfr_start(f).transfer, texts);
}

static void
responder_ixfr_chains_entries(void **state)
{
	struct fixture *f = *state;
	uint32_t serials[16];

	publish(f, version1, DZ_OK);
	publish(f, version2, DZ_OK);
	publish(f, version3, DZ_OK);
	assert_int_equal(dz_responder_load_zone(f->responder, 0, NULL, NULL), DZ_OK);

	/* RFC 1995 section 4: newest SOA, then each diff as old SOA ... new SOA ..., newest SOA. */
	assert_int_equal(ixfr_soa_serials(f, 1, serials, 16), 6);
	assert_int_equal(serials[0], 3);
	assert_int_equal(serials[1], 1);
	assert_int_equal(serials[2], 2);
	assert_int_equal(serials[3], 2);
	assert_int_equal(serials[4], 3);
	assert_int_equal(serials[5], 3);
}

static void
responder_serves_journal_ahead_of_snapshot(void **state)
{
	struct fixture *f = *state;
	uint32_t serials[16];
	uint32_t serial = 0;

	publish(f, version1, DZ_OK);
	publish(f, version2, DZ_OK);
	/* A publication stopped after its journal entry was committed, before the snapshot. */
	dz_publish_set_fault(crash_before_snapshot, NULL);
	publish(f, version3, DZ_ECANCELED);
	dz_publish_set_fault(NULL, NULL);

	assert_int_equal(dz_responder_load_zone(f->responder, 0, &serial, NULL), DZ_OK);
	assert_int_equal(serial, 3);
	assert_int_equal(ixfr_soa_serials(f, 1, serials, 16), 6);
	assert_int_equal(serials[0], 3);
	assert_int_equal(serials[5], 3);
	expect_axfr(f, version3);
}

/* Send a UDP query of `type` with EDNS `edns_version` (-1 for none) from 127.0.0.1; return the reply. */
static ldns_pkt *
udp_query(struct fixture *f, ldns_rr_type type, int edns_version)
{
	ldns_pkt *query = NULL;
	ldns_pkt *reply = NULL;
	uint8_t *wire = NULL;
	size_t wire_len = 0;
	struct sockaddr_in source = { .sin_family = AF_INET };
	dz_response_t response;

	source.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(ldns_pkt_query_new_frm_str(&query, "example.com.", type, LDNS_RR_CLASS_IN,
						    0),
			 LDNS_STATUS_OK);
	if (edns_version >= 0) {
		ldns_pkt_set_edns_udp_size(query, 1232);
		ldns_pkt_set_edns_version(query, (uint8_t)edns_version);
		/* ldns adds an OPT RR only when some EDNS field is set; the size is. */
	}
	assert_int_equal(ldns_pkt2wire(&wire, query, &wire_len), LDNS_STATUS_OK);
	dz_responder_handle(f->responder, DZ_TRANSPORT_UDP, (struct sockaddr *)&source, wire,
			    wire_len, 1700000000, f->out, sizeof(f->out), &response);
	assert_int_equal(response.kind, DZ_RESPONSE_REPLY);
	assert_int_equal(ldns_wire2pkt(&reply, f->out, response.reply_len), LDNS_STATUS_OK);
	free(wire);
	ldns_pkt_free(query);
	return reply;
}

static uint32_t
answer_soa_serial(const ldns_pkt *reply)
{
	ldns_rr_list *answer = ldns_pkt_answer(reply);

	assert_int_equal(ldns_rr_list_rr_count(answer), 1);
	assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(answer, 0)), LDNS_RR_TYPE_SOA);
	return ldns_rdf2native_int32(ldns_rr_rdf(ldns_rr_list_rr(answer, 0), 2));
}

static void
responder_axfr_merges_diffs(void **state)
{
	struct fixture *f = *state;
	dz_server_zone_config_t *zone = &f->config.zones[0];
	uint32_t serial = 0;

	assert_int_equal(dz_acl_add(&zone->query_acl, "127.0.0.1", NULL), DZ_OK);
	publish(f, version1, DZ_OK);
	assert_int_equal(dz_responder_load_zone(f->responder, 0, &serial, NULL), DZ_OK);
	assert_int_equal(serial, 1);

	publish_diff(f, A(1), A(2), "2");
	assert_int_equal(dz_responder_load_zone(f->responder, 0, &serial, NULL), DZ_OK);
	assert_int_equal(serial, 2);
	ldns_pkt *reply = udp_query(f, LDNS_RR_TYPE_SOA, -1);
	assert_int_equal(answer_soa_serial(reply), 2);
	ldns_pkt_free(reply);

	/* A transfer keeps the version it started with while a newer one loads. */
	dz_response_t started = axfr_start(f);
	publish_diff(f, A(2), A(3), "3");
	assert_int_equal(dz_responder_load_zone(f->responder, 0, &serial, NULL), DZ_OK);
	assert_int_equal(serial, 3);
	expect_transfer(f, started.transfer, version2);
	expect_axfr(f, version3);

	/* Neither snapshot nor text file changed: the version came from the journal. */
	uint32_t text_serial = 0;
	assert_int_equal(dz_snapshot_text_serial(f->target.text_path, &text_serial, NULL), DZ_OK);
	assert_int_equal(text_serial, 1);
}

static void
responder_badvers_for_edns1(void **state)
{
	struct fixture *f = *state;
	dz_server_zone_config_t *zone = &f->config.zones[0];

	assert_int_equal(dz_acl_add(&zone->query_acl, "127.0.0.1", NULL), DZ_OK);
	publish(f, version1, DZ_OK);
	assert_int_equal(dz_responder_load_zone(f->responder, 0, NULL, NULL), DZ_OK);

	/* RFC 6891 section 6.1.3: BADVERS (16) is 0 in the header and 1 in the OPT RR. */
	ldns_pkt *reply = udp_query(f, LDNS_RR_TYPE_SOA, 1);
	assert_int_equal(ldns_pkt_get_rcode(reply), 0);
	assert_int_equal(ldns_pkt_edns_extended_rcode(reply), 1);
	assert_int_equal(ldns_pkt_edns_version(reply), 0);
	assert_int_equal(ldns_rr_list_rr_count(ldns_pkt_answer(reply)), 0);
	ldns_pkt_free(reply);

	reply = udp_query(f, LDNS_RR_TYPE_SOA, 0);
	assert_int_equal(ldns_pkt_get_rcode(reply), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_edns_extended_rcode(reply), 0);
	assert_int_equal(answer_soa_serial(reply), 1);
	ldns_pkt_free(reply);
}

static void
responder_empty_query_acl_refuses(void **state)
{
	struct fixture *f = *state;
	dz_server_zone_config_t *zone = &f->config.zones[0];

	publish(f, version1, DZ_OK);
	assert_int_equal(dz_responder_load_zone(f->responder, 0, NULL, NULL), DZ_OK);
	ldns_pkt *reply = udp_query(f, LDNS_RR_TYPE_SOA, -1);
	assert_int_equal(ldns_pkt_get_rcode(reply), LDNS_RCODE_REFUSED);
	assert_int_equal(ldns_rr_list_rr_count(ldns_pkt_answer(reply)), 0);
	ldns_pkt_free(reply);

	assert_int_equal(dz_acl_add(&zone->query_acl, "127.0.0.0/8", NULL), DZ_OK);
	reply = udp_query(f, LDNS_RR_TYPE_SOA, -1);
	assert_int_equal(ldns_pkt_get_rcode(reply), LDNS_RCODE_NOERROR);
	assert_int_equal(answer_soa_serial(reply), 1);
	ldns_pkt_free(reply);
}

/*
 * RFC 1995 section 2: a client at the current serial or a newer one gets the
 * SOA alone.  A serial 2^31 away is neither newer nor older (RFC 1982 leaves
 * it undefined), so that client gets the whole zone rather than nothing.
 */
static void
responder_ixfr_serial_comparison(void **state)
{
	struct fixture *f = *state;
	dz_response_t response;
	uint32_t serials[16];

	publish(f, version1, DZ_OK);
	publish(f, version2, DZ_OK);
	assert_int_equal(dz_responder_load_zone(f->responder, 0, NULL, NULL), DZ_OK);

	ixfr_request(f, 2, &response);
	assert_int_equal(reply_soa_serial(f, &response), 2);
	ixfr_request(f, 3, &response);
	assert_int_equal(reply_soa_serial(f, &response), 2);
	ixfr_request(f, 2 + 0x7fffffffu, &response);
	assert_int_equal(reply_soa_serial(f, &response), 2);

	/* The whole zone in IXFR form (RFC 1995 section 4): SOA, the records, SOA. */
	assert_int_equal(ixfr_soa_serials(f, 2 + 0x80000000u, serials, 16), 2);
	assert_int_equal(serials[0], 2);
	assert_int_equal(serials[1], 2);
	/* A client 2^31 + 1 behind is older, so it gets the zone too. */
	assert_int_equal(ixfr_soa_serials(f, 2 + 0x80000001u, serials, 16), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(responder_ixfr_chains_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(responder_serves_journal_ahead_of_snapshot, setup,
						teardown),
		cmocka_unit_test_setup_teardown(responder_axfr_merges_diffs, setup, teardown),
		cmocka_unit_test_setup_teardown(responder_badvers_for_edns1, setup, teardown),
		cmocka_unit_test_setup_teardown(responder_empty_query_acl_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(responder_ixfr_serial_comparison, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
