"""danezoned as the hidden primary of NSD and BIND, checked by Unbound.

danezoned signs a mail zone whose TLSA record comes from a certificate
made with openssl in the test.  NSD and BIND transfer the zone with TSIG
and must serve what danezoned's own AXFR returns, record by record.  A
renewed certificate with a new key must reach both secondaries through
IXFR after NOTIFY.  A validating Unbound that queries a secondary, with a
trust anchor the test computes from the served DNSKEY RRset, must then
return the new TLSA record with the AD bit.
"""
import os
import re

import dns.flags
import dns.rcode

from conftest import free_port, run, wait_for
from mail_helpers import Pki, sha256_hex, spki_of_cert
from peer_helpers import (Daemon, answer_rdatas, daemon_config, ds_of_sep_keys, fetch_zone,
                          of_type, resolve, serial_of, start_unbound, wait_serial,
                          write_zone_file, zone_axfr)
from server_helpers import KEY_NAME, KEYRING, start_named, start_nsd

ZONE = "example.net."
TLSA_OWNER = "_25._tcp.mx1.example.net."
TLSA_TTL = 300

SOURCE = """$ORIGIN example.net.
$TTL 3600
@ SOA ns1 hostmaster 1 7200 3600 1209600 300
@ NS ns1
@ MX 10 mx1
ns1 A 127.0.0.1
mx1 A 127.0.0.1
"""


def atomic_write(path, data):
    """Replace `path` by rename, as certbot and most deploy scripts do."""
    temporary = f"{path}.tmp-write"
    with open(temporary, "wb") as f:
        f.write(data)
    os.rename(temporary, path)


def tlsa_3_1_1(cert):
    """The 3 1 1 RDATA of a certificate: SHA-256 of its SubjectPublicKeyInfo, from openssl."""
    return f"3 1 1 {sha256_hex(spki_of_cert(cert))}"


def bind_transfer_kind(log_path, serial):
    """How BIND's transfer from `serial` went: "incremental", "nonincremental" or None.

    BIND logs "requesting IXFR for serial N" and then "got incremental
    response" or "got nonincremental response" (xfer-in, debug level 3).
    """
    with open(log_path) as f:
        text = f.read()
    start = text.find(f"requesting IXFR for serial {serial}\n")
    if start < 0:
        return None
    match = re.compile(r"got (incremental|nonincremental) response").search(text, start)
    return match.group(1) if match else None


def test_secondaries_follow_certificate_renewal(tmp_path, servers, softhsm):
    pki = Pki(tmp_path / "pki")
    cert1, chain1 = pki.server("mx1-1", pki.key("mx1-1", "ec"))
    live = tmp_path / "mx1.example.net.pem"
    atomic_write(live, open(chain1, "rb").read())
    source = tmp_path / "example.net.zone"
    source.write_text(SOURCE)

    primary_port, nsd_port, bind_port = free_port(), free_port(), free_port()
    config = daemon_config(tmp_path / "state", primary_port, softhsm,
                           {"nsd": nsd_port, "bind": bind_port}, f"""\
        - name: example.net
          source: {source}
          secondaries: [nsd, bind]
          mail:
            hosts:
              - name: mx1.example.net
                certificates: [{live}]
                ttl: {TLSA_TTL}
        """)
    daemon = Daemon(servers, tmp_path / "daemon", config, softhsm.env)
    first = wait_for(lambda: serial_of(primary_port, ZONE), what="danezoned to answer SOA queries")

    nsd, nsd_log = start_nsd(servers, tmp_path / "nsd", primary_port, nsd_port, zones=[ZONE])
    named, named_log = start_named(servers, tmp_path / "bind", primary_port, bind_port, zones=[ZONE],
                                   xfer_debug=True)
    wait_serial(nsd_port, ZONE, first, "NSD")
    wait_serial(bind_port, ZONE, first, "BIND")

    # After start: both secondaries hold exactly what danezoned transfers.
    reference = zone_axfr(primary_port, ZONE, KEYRING, KEY_NAME)
    assert of_type(reference, "TLSA", TLSA_OWNER) == {tlsa_3_1_1(cert1)}
    assert (TLSA_OWNER, TLSA_TTL, "TLSA", tlsa_3_1_1(cert1)) in reference
    assert zone_axfr(nsd_port, ZONE) == reference, "NSD's zone differs from danezoned's AXFR"
    assert zone_axfr(bind_port, ZONE) == reference, "BIND's zone differs from danezoned's AXFR"
    run(["ldns-verify-zone", write_zone_file(fetch_zone(primary_port, ZONE, KEYRING, KEY_NAME),
                                             tmp_path / "first.zone")])

    # Renewal with a new key: one new serial, sent to both by IXFR after NOTIFY.
    cert2, chain2 = pki.server("mx1-2", pki.key("mx1-2", "ec"), start="20210101000000Z")
    atomic_write(live, open(chain2, "rb").read())
    def new_serial():
        serial = serial_of(primary_port, ZONE)
        return serial if serial not in (None, first) else None

    second = wait_for(new_serial, timeout=60, what="danezoned to publish the renewed certificate")
    # The default policy's serial-policy is increment: one change, one serial.
    assert second == first + 1
    wait_serial(nsd_port, ZONE, second, "NSD")
    wait_serial(bind_port, ZONE, second, "BIND")
    for port in (nsd_port, bind_port):
        wait_for(lambda: f"NOTIFY for serial {second} acknowledged by 127.0.0.1#{port}"
                 in daemon.output(), timeout=30, what=f"the NOTIFY of serial {second} to port {port}")
    # Every transfer of the new serial so far went to a secondary; each was incremental.
    wait_for(lambda: len(daemon.transfers(ZONE, second)) >= 2, timeout=30,
             what=f"two transfers of serial {second} in danezoned's log")
    assert set(daemon.transfers(ZONE, second)) == {"incremental IXFR"}, daemon.output()
    assert bind_transfer_kind(named_log, first) == "incremental", open(named_log).read()

    renewed = zone_axfr(primary_port, ZONE, KEYRING, KEY_NAME)
    assert of_type(renewed, "TLSA", TLSA_OWNER) == {tlsa_3_1_1(cert2)}
    assert zone_axfr(nsd_port, ZONE) == renewed, "NSD's zone differs after the renewal"
    assert zone_axfr(bind_port, ZONE) == renewed, "BIND's zone differs after the renewal"
    # One change: the TLSA RRset and the signatures and denial records that depend on it.
    changed_types = {rtype for _, _, rtype, _ in reference ^ renewed}
    assert changed_types <= {"TLSA", "RRSIG", "SOA", "NSEC", "NSEC3"}, changed_types
    run(["ldns-verify-zone", write_zone_file(fetch_zone(primary_port, ZONE, KEYRING, KEY_NAME),
                                             tmp_path / "renewed.zone")])

    # Unbound, trusting the DS of the served SEP key, validates the new TLSA through each secondary.
    anchors = [f"{ZONE} DS {ds}" for ds in ds_of_sep_keys(fetch_zone(primary_port, ZONE, KEYRING, KEY_NAME))]
    assert anchors, "the zone has no DNSKEY with the SEP flag"
    for name, port in (("nsd", nsd_port), ("bind", bind_port)):
        resolver_port = free_port()
        start_unbound(servers, tmp_path / f"unbound-{name}", resolver_port, {ZONE: port}, anchors)
        response = resolve(resolver_port, TLSA_OWNER, "TLSA")
        assert response is not None, f"Unbound (via {name}) did not answer"
        assert response.rcode() == dns.rcode.NOERROR, response.to_text()
        assert response.flags & dns.flags.AD, f"no AD bit via {name}:\n{response.to_text()}"
        assert answer_rdatas(response, "TLSA") == {tlsa_3_1_1(cert2)}

    # The same Unbound with a trust anchor of another key must fail, so the AD check can fail.
    resolver_port = free_port()
    start_unbound(servers, tmp_path / "unbound-wrong-anchor", resolver_port, {ZONE: nsd_port},
                  [f"{ZONE} DS 1 13 2 {'00' * 32}"])
    response = resolve(resolver_port, TLSA_OWNER, "TLSA")
    assert response is not None and response.rcode() == dns.rcode.SERVFAIL, response

    assert nsd.running(), nsd.output()
    assert named.running(), named.output()
    assert daemon.server.running(), daemon.output()
