#include "config.h"

#include <string.h>
#include <sys/time.h>

#include <ldns/ldns.h>

#include "keystore/parent.h"

/* Copy the DS records of `owner` from the packet's answer section into `answer`. */
static dz_result_t
copy_ds(const ldns_pkt *pkt, const ldns_rdf *owner, dz_parent_answer_t *answer)
{
	ldns_rr_list *list = ldns_pkt_rr_list_by_name_and_type(pkt, owner, LDNS_RR_TYPE_DS,
								 LDNS_SECTION_ANSWER);
	ldns_buffer *buf = NULL;
	dz_result_t result = DZ_OK;

	if (list == NULL)
		return DZ_OK;
	buf = ldns_buffer_new(128);
	if (buf == NULL) {
		result = DZ_ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < ldns_rr_list_rr_count(list); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(list, i);
		if (answer->ds_count == DZ_PARENT_DS_MAX) {
			answer->truncated_list = true;
			break;
		}
		ldns_buffer_clear(buf);
		if (ldns_rr_rdata2buffer_wire(buf, rr) != LDNS_STATUS_OK) {
			result = DZ_ENOMEM;
			goto cleanup;
		}
		dz_ds_rdata_t *ds = &answer->ds[answer->ds_count];
		size_t len = ldns_buffer_position(buf);
		if (len > sizeof(ds->data))
			continue;
		memcpy(ds->data, ldns_buffer_begin(buf), len);
		ds->len = len;
		answer->ds_count++;
		if (ldns_rr_ttl(rr) > answer->ttl)
			answer->ttl = ldns_rr_ttl(rr);
	}

cleanup:
	ldns_buffer_free(buf);
	ldns_rr_list_deep_free(list);
	return result;
}

void
dz_key_parent_query(const char *zone, const dz_parent_server_t *server, int timeout_ms,
		    dz_parent_answer_t *answer, dz_error_t *err)
{
	ldns_resolver *res = NULL;
	ldns_rdf *owner = NULL;
	ldns_rdf *address = NULL;
	ldns_pkt *pkt = NULL;
	uint16_t port = 0;
	ldns_status status;

	memset(answer, 0, sizeof(*answer));
	snprintf(answer->server, sizeof(answer->server), "%s", server->name);
	answer->result = DZ_ENOMEM;
	res = ldns_resolver_new();
	owner = ldns_dname_new_frm_str(zone);
	address = ldns_sockaddr_storage2rdf(&server->addr, &port);
	if (res == NULL || owner == NULL || address == NULL) {
		dz_error_set(err, DZ_EINVAL, "cannot prepare the DS query of %s to %s", zone,
			     server->name);
		answer->result = DZ_EINVAL;
		goto cleanup;
	}
	if (ldns_resolver_push_nameserver(res, address) != LDNS_STATUS_OK)
		goto cleanup;
	ldns_resolver_set_port(res, port);
	ldns_resolver_set_recursive(res, true);
	ldns_resolver_set_fallback(res, true);
	ldns_resolver_set_retry(res, 2);
	ldns_resolver_set_edns_udp_size(res, 1232);
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	ldns_resolver_set_timeout(res, tv);
	if (server->tsig_name != NULL) {
		ldns_resolver_set_tsig_keyname(res, server->tsig_name);
		ldns_resolver_set_tsig_algorithm(res, server->tsig_algorithm);
		ldns_resolver_set_tsig_keydata(res, server->tsig_secret_base64);
	}

	status = ldns_resolver_query_status(&pkt, res, owner, LDNS_RR_TYPE_DS, LDNS_RR_CLASS_IN,
					    LDNS_RD);
	if (status != LDNS_STATUS_OK || pkt == NULL) {
		bool tsig = status == LDNS_STATUS_CRYPTO_TSIG_BOGUS ||
			    status == LDNS_STATUS_CRYPTO_TSIG_ERR;
		answer->result = tsig ? DZ_ETSIG : DZ_ETIMEOUT;
		dz_error_set(err, answer->result, "DS query of %s to %s failed: %s", zone,
			     server->name, ldns_get_errorstr_by_id(status));
		goto cleanup;
	}
	answer->rcode = (uint8_t)ldns_pkt_get_rcode(pkt);
	answer->authoritative = ldns_pkt_aa(pkt);
	answer->result = copy_ds(pkt, owner, answer);
	if (answer->result != DZ_OK)
		dz_error_set(err, answer->result, "out of memory");

cleanup:
	ldns_pkt_free(pkt);
	ldns_rdf_deep_free(owner);
	ldns_resolver_deep_free(res);
	/* The resolver keeps its own copy of the address. */
	ldns_rdf_deep_free(address);
}
