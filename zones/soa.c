#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>

#include <ldns/ldns.h>

#include "zones/soa.h"

static const char *
tsig_algorithm_dname(dz_tsig_algorithm_t algorithm)
{
	switch (algorithm) {
	case DZ_TSIG_HMAC_SHA384:
		return "hmac-sha384.";
	case DZ_TSIG_HMAC_SHA512:
		return "hmac-sha512.";
	default:
		return "hmac-sha256.";
	}
}

dz_result_t
dz_soa_query_serial(const dz_config_address_t *address, const char *zone,
		    const dz_config_tsig_t *tsig, int timeout_ms, uint32_t *serial, dz_error_t *err)
{
	ldns_resolver *resolver = NULL;
	ldns_rdf *nameserver = NULL;
	ldns_rdf *qname = NULL;
	ldns_pkt *answer = NULL;
	ldns_rr_list *soas = NULL;
	char ip[INET6_ADDRSTRLEN];
	char tsig_name[300];
	uint16_t port;
	dz_result_t rc = DZ_OK;

	if (address->addr.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&address->addr;
		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		port = ntohs(sin->sin_port);
		nameserver = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, ip);
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&address->addr;
		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		port = ntohs(sin6->sin6_port);
		nameserver = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_AAAA, ip);
	}
	resolver = ldns_resolver_new();
	qname = ldns_dname_new_frm_str(zone);
	if (nameserver == NULL || resolver == NULL || qname == NULL) {
		rc = dz_error_set(err, DZ_ENOMEM, "out of memory");
		goto cleanup;
	}
	if (ldns_resolver_push_nameserver(resolver, nameserver) != LDNS_STATUS_OK) {
		rc = dz_error_set(err, DZ_ENOMEM, "out of memory");
		goto cleanup;
	}
	ldns_resolver_set_port(resolver, port);
	ldns_resolver_set_recursive(resolver, false);
	ldns_resolver_set_retry(resolver, 1);
	ldns_resolver_set_fallback(resolver, true);
	struct timeval timeout = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	ldns_resolver_set_timeout(resolver, timeout);
	if (tsig != NULL) {
		snprintf(tsig_name, sizeof(tsig_name), "%s.", tsig->name);
		ldns_resolver_set_tsig_keyname(resolver, tsig_name);
		ldns_resolver_set_tsig_algorithm(resolver, tsig_algorithm_dname(tsig->algorithm));
		ldns_resolver_set_tsig_keydata(resolver, tsig->secret_base64);
	}

	ldns_status status = ldns_resolver_send(&answer, resolver, qname, LDNS_RR_TYPE_SOA,
						LDNS_RR_CLASS_IN, 0);
	if (status == LDNS_STATUS_CRYPTO_TSIG_BOGUS) {
		rc = dz_error_set(err, DZ_ETSIG, "SOA query for %s to %s: the answer's TSIG does not "
				  "verify; check the key", zone, address->text);
		goto cleanup;
	}
	if (status != LDNS_STATUS_OK || answer == NULL) {
		rc = dz_error_set(err, DZ_ETIMEOUT, "SOA query for %s to %s failed: %s", zone,
				  address->text, ldns_get_errorstr_by_id(status));
		goto cleanup;
	}
	if (ldns_pkt_get_rcode(answer) != LDNS_RCODE_NOERROR || !ldns_pkt_aa(answer)) {
		rc = dz_error_set(err, DZ_EREFUSED,
				  "%s does not serve %s with authority (rcode %d); check the "
				  "secondary's configuration", address->text, zone,
				  (int)ldns_pkt_get_rcode(answer));
		goto cleanup;
	}
	soas = ldns_pkt_rr_list_by_name_and_type(answer, qname, LDNS_RR_TYPE_SOA, LDNS_SECTION_ANSWER);
	if (soas == NULL || ldns_rr_list_rr_count(soas) != 1 ||
	    ldns_rr_rd_count(ldns_rr_list_rr(soas, 0)) != 7) {
		rc = dz_error_set(err, DZ_EFORMERR, "the answer of %s has no SOA record for %s",
				  address->text, zone);
		goto cleanup;
	}
	*serial = ldns_rdf2native_int32(ldns_rr_rdf(ldns_rr_list_rr(soas, 0), 2));

cleanup:
	ldns_rr_list_deep_free(soas);
	ldns_pkt_free(answer);
	ldns_rdf_deep_free(qname);
	ldns_rdf_deep_free(nameserver);
	ldns_resolver_deep_free(resolver);
	return rc;
}
