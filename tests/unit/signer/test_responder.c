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
responder_ignores_uncommitted_entry(void **state)
{
	struct fixture *f = *state;
	uint32_t serials[16];
	uint32_t serial = 0;

	publish(f, version1, DZ_OK);
	publish(f, version2, DZ_OK);
	/* A publication stopped between the journal and the snapshot step. */
	dz_publish_set_fault(crash_before_snapshot, NULL);
	publish(f, version3, DZ_ECANCELED);
	dz_publish_set_fault(NULL, NULL);

	assert_int_equal(dz_responder_load_zone(f->responder, 0, &serial, NULL), DZ_OK);
	assert_int_equal(serial, 2);
	/* The journal already ends at 3, but the served version is 2. */
	assert_int_equal(ixfr_soa_serials(f, 1, serials, 16), 4);
	assert_int_equal(serials[0], 2);
	assert_int_equal(serials[1], 1);
	assert_int_equal(serials[2], 2);
	assert_int_equal(serials[3], 2);
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
		cmocka_unit_test_setup_teardown(responder_ignores_uncommitted_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(responder_ixfr_serial_comparison, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
