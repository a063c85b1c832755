"""Key events in danezoned: an operator's rollover request becomes one new
serial whose IXFR adds the successor's DNSKEY.

Key tags come from dnspython (RFC 4034 appendix B), not from danezone.
"""
import dns.dnssec
import dns.rdatatype
import dns.zone

from daemon_helpers import daemon  # noqa: F401 (fixture)

SPLIT_POLICY = """\
policies:
  split:
    keys:
      - role: ksk
        algorithm: ECDSAP256SHA256
        lifetime: unlimited
      - role: zsk
        algorithm: ECDSAP256SHA256
        lifetime: unlimited
    ds-observation: operator
"""


def dnskeys(daemon):
    zone = dns.zone.from_text(daemon.axfr_text(), origin="example.net.", relativize=False)
    rrset = zone.find_rrset("example.net.", dns.rdatatype.DNSKEY)
    return {dns.dnssec.key_id(rdata): rdata.flags for rdata in rrset}


def test_zsk_rollover_request_publishes_successor(daemon):
    text = daemon.config.read_text()
    text = text.replace("zones:\n", SPLIT_POLICY + "zones:\n", 1)
    text = text.replace("    secondaries: [local]\n", "    policy: split\n    secondaries: [local]\n", 1)
    daemon.config.write_text(text)
    daemon.start()
    first = daemon.wait_serial(0)
    keys = dnskeys(daemon)
    assert sorted(keys.values()) == [256, 257]
    zsk = next(tag for tag, flags in keys.items() if flags == 256)

    # "force": the introduction of the first keys has not finished yet.
    reply = daemon.control("rollover", "example.net", str(zsk), "now", "force")
    assert reply.startswith("ok\n"), reply
    second = daemon.wait_serial(first)
    assert second == first + 1
    after = dnskeys(daemon)
    assert len(after) == 3
    assert zsk in after
    assert sorted(after.values()) == [256, 256, 257]
    ixfr = daemon.ixfr("example.net", first)
    added_dnskeys = [rr for rr in ixfr if rr[2] == "DNSKEY"]
    assert len(added_dnskeys) == 1
    assert added_dnskeys[0][3].startswith("256 3 13 ")
    daemon.verify_zone()
    # The transition is recorded once the version is published.
    daemon.wait_logged(r"DNSKEY hidden -> rumoured", count=3)
