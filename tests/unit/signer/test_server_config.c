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

#include "signer/server_config.h"
#include "tests/unit/signer/rr_text.h"
#include "zones/conf.h"

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

static struct sockaddr_storage
v4(const char *text)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, text, &((struct sockaddr_in *)&ss)->sin_addr), 1);
	return ss;
}

static void
server_config_maps_yaml(void **state)
{
	char *dir = rr_text_temp_dir("dz-test-server-config");
	char path[512], zone_path[512], yaml[2048];
	dz_config_t *config = NULL;
	dz_server_config_t server;
	dz_error_t err;

	(void)state;
	snprintf(zone_path, sizeof(zone_path), "%s/example.net.zone", dir);
	write_file(zone_path, "example.net. 3600 IN SOA ns1.example.net. h.example.net. 1 2 3 4 5\n");
	snprintf(path, sizeof(path), "%s/danezone.yaml", dir);
	snprintf(yaml, sizeof(yaml),
		 "server:\n"
		 "  state-dir: %s/state\n"
		 "  listen: [127.0.0.1@5353]\n"
		 "  tcp-max-connections: 7\n"
		 "  tcp-idle-timeout: 3s\n"
		 "  allow-query: [203.0.113.0/24, \"2001:db8::1\"]\n"
		 "tsig:\n"
		 "  xfr.example.net:\n"
		 "    algorithm: hmac-sha384\n"
		 "    secret: MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVm\n"
		 "secondaries:\n"
		 "  ns1:\n"
		 "    addresses: [192.0.2.53@5300]\n"
		 "    tsig: xfr.example.net\n"
		 "  ns2:\n"
		 "    addresses: [198.51.100.53]\n"
		 "    notify: false\n"
		 "zones:\n"
		 "  - name: example.net\n"
		 "    source: %s\n"
		 "    secondaries: [ns1, ns2]\n",
		 dir, zone_path);
	write_file(path, yaml);

	dz_error_init(&err);
	if (dz_config_load(path, &config, NULL, &err) != DZ_OK)
		fail_msg("cannot load the test configuration: %s", dz_error_message(&err));
	dz_server_config_init(&server);
	if (dz_server_config_from_config(config, &server, &err) != DZ_OK)
		fail_msg("mapping failed: %s", dz_error_message(&err));

	assert_int_equal(server.listen_count, 1);
	assert_int_equal(ntohs(((struct sockaddr_in *)&server.listen[0].address)->sin_port), 5353);
	assert_int_equal(server.tcp_clients_max, 7);
	assert_int_equal(server.tcp_idle_ms, 3000);
	assert_int_equal(server.key_count, 1);
	assert_string_equal(server.keys[0].name_text, "xfr.example.net.");
	assert_int_equal(server.keys[0].algorithm, DZ_TSIG_HMAC_SHA384);
	assert_int_equal(server.keys[0].secret_len, 48);

	assert_int_equal(server.zone_count, 1);
	dz_server_zone_config_t *zone = &server.zones[0];
	char folder[512];
	snprintf(folder, sizeof(folder), "%s/state/signed", dir);
	assert_string_equal(zone->folder, folder);
	/* ns1 gets NOTIFY with its key; ns2 has notify off. */
	assert_int_equal(zone->secondary_count, 1);
	assert_string_equal(zone->secondaries[0].key_name, "xfr.example.net");
	assert_int_equal(ntohs(((struct sockaddr_in *)&zone->secondaries[0].address.address)->sin_port),
			 5300);
	/* Both may transfer: ns1 only with its key, ns2 without one. */
	uint8_t key[DZ_WIRE_NAME_MAX];
	assert_true(dz_wire_name_from_text("xfr.example.net", key) > 0);
	struct sockaddr_storage ns1 = v4("192.0.2.53");
	struct sockaddr_storage ns2 = v4("198.51.100.53");
	struct sockaddr_storage other = v4("192.0.2.54");
	assert_true(dz_acl_allows(&zone->transfer_acl, (struct sockaddr *)&ns1, key));
	assert_false(dz_acl_allows(&zone->transfer_acl, (struct sockaddr *)&ns1, NULL));
	assert_true(dz_acl_allows(&zone->transfer_acl, (struct sockaddr *)&ns2, NULL));
	assert_false(dz_acl_allows(&zone->transfer_acl, (struct sockaddr *)&other, key));
	/* Queries: both secondaries, signed or not, and the allow-query prefixes; nobody else. */
	struct sockaddr_storage listed = v4("203.0.113.77");
	assert_true(dz_acl_allows(&zone->query_acl, (struct sockaddr *)&ns1, NULL));
	assert_true(dz_acl_allows(&zone->query_acl, (struct sockaddr *)&ns1, key));
	assert_true(dz_acl_allows(&zone->query_acl, (struct sockaddr *)&ns2, NULL));
	assert_true(dz_acl_allows(&zone->query_acl, (struct sockaddr *)&listed, NULL));
	assert_false(dz_acl_allows(&zone->query_acl, (struct sockaddr *)&other, NULL));
	struct sockaddr_in6 six = { .sin6_family = AF_INET6 };
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", &six.sin6_addr), 1);
	assert_true(dz_acl_allows(&zone->query_acl, (struct sockaddr *)&six, NULL));
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::2", &six.sin6_addr), 1);
	assert_false(dz_acl_allows(&zone->query_acl, (struct sockaddr *)&six, NULL));

	dz_server_config_clear(&server);
	dz_config_destroy(config);
	rr_text_remove_dir(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(server_config_maps_yaml),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
