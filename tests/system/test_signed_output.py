"""Signed output of the signing engine checked by independent validators.

The zones are signed by `danezone sign` with keys in a SoftHSM2 token.
"""
import struct

import dns.name
import dns.rdatatype
import pytest

from conftest import run
from signer_helpers import (TokenSigner, assert_validators_accept, ldns_nsec3_hash, load_zone,
                            nsec3_owner_labels, nsec_owners, parse_stats)

# A mail domain with the cases a signer gets wrong.  It has glue below a
# cut, a secure and an insecure delegation, and empty non-terminals (_tcp
# under a mail host, and one made only by a delegation).  It also has a
# wildcard beside an empty non-terminal, a DNAME, an unknown type and
# upper-case names.
ZONE = """\
$ORIGIN example.com.
$TTL 3600
@        SOA ns1 hostmaster 2026010101 7200 3600 1209600 300
@        NS  ns1
@        NS  ns.sec
@        MX  10 Mail
ns1      A   192.0.2.1
Mail     A   192.0.2.25
_25._tcp.mail TLSA 3 1 1 0011223344556677889900112233445566778899001122334455667788990011
sec      NS  ns.sec
sec      DS  12345 13 2 0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20
ns.sec   A   192.0.2.53
insecure NS  ns.other.net.
a.b.deleg NS ns.other.net.
*.w      TXT "wildcard"
x.y.w    A   192.0.2.7
alias    DNAME example.net.
odd      TYPE65000 \\# 4 0a000001
"""

# Authoritative names, hand-derived: every name with data above or at a
# cut, the empty non-terminals, and the delegations.
NSEC3_NAMES = ["example.com.", "ns1.example.com.", "mail.example.com.", "_tcp.mail.example.com.",
               "_25._tcp.mail.example.com.", "sec.example.com.", "insecure.example.com.",
               "deleg.example.com.", "b.deleg.example.com.", "a.b.deleg.example.com.",
               "w.example.com.", "*.w.example.com.", "y.w.example.com.", "x.y.w.example.com.",
               "alias.example.com.", "odd.example.com."]
# With opt-out, the insecure delegations and the empty non-terminals that lead only to them go.
OPT_OUT_GONE = ["insecure.example.com.", "deleg.example.com.", "b.deleg.example.com.",
                "a.b.deleg.example.com."]
# NSEC: names with authoritative data, no empty non-terminals, no glue, nothing below the DNAME.
NSEC_NAMES = ["example.com.", "ns1.example.com.", "mail.example.com.", "_25._tcp.mail.example.com.",
              "sec.example.com.", "insecure.example.com.", "a.b.deleg.example.com.",
              "*.w.example.com.", "x.y.w.example.com.", "alias.example.com.", "odd.example.com."]


@pytest.fixture
def zone_file(tmp_path):
    path = tmp_path / "example.com.zone"
    path.write_text(ZONE)
    return path


@pytest.fixture
def signer(tmp_path, softhsm):
    """A token signer without keys; a test generates them with csk() or split_keys()."""
    state = tmp_path / "state"
    state.mkdir()
    return TokenSigner(softhsm, state)


def csk(signer):
    signer.generate("csk")
    return signer


def split_keys(signer):
    signer.generate("ksk")
    signer.generate("zsk")
    return signer


@pytest.mark.parametrize("args", [
    [],
    ["--denial", "nsec"],
    ["--nsec3-opt-out", "yes"],
    ["--nsec3-salt", "aabbccdd", "--nsec3-iterations", "5"],
])
def test_validators_accept_signed_zone(tmp_path, zone_file, signer, args):
    out = tmp_path / "signed"
    split_keys(signer).sign(zone_file, out, *args)
    assert_validators_accept("example.com", str(out))


def test_validators_accept_generated_zone(tmp_path, signer):
    zone = tmp_path / "gen.zone"
    zone.write_text(run(["python3", "/work/shared/bench/genzone.py", "example.com", "3000"]).stdout)
    out = tmp_path / "signed"
    split_keys(signer).sign(zone, out)
    assert_validators_accept("example.com", str(out))


@pytest.mark.parametrize("salt,iterations,opt_out", [("-", 0, False), ("aabbccdd", 12, False),
                                                     ("-", 0, True)])
def test_nsec3_owners_match_ldns_hashes(tmp_path, zone_file, signer, salt, iterations, opt_out):
    out = tmp_path / "signed"
    csk(signer).sign(zone_file, out, "--nsec3-salt", salt, "--nsec3-iterations", str(iterations),
                     "--nsec3-opt-out", "yes" if opt_out else "no")
    names = [n for n in NSEC3_NAMES if not (opt_out and n in OPT_OUT_GONE)]
    expected = sorted(ldns_nsec3_hash(n, salt, iterations) for n in names)
    assert nsec3_owner_labels(load_zone("example.com.", out)) == expected


def test_nsec_chain_owners(tmp_path, zone_file, signer):
    out = tmp_path / "signed"
    csk(signer).sign(zone_file, out, "--denial", "nsec")
    assert nsec_owners(load_zone("example.com.", out)) == sorted(NSEC_NAMES)


def test_occluded_and_glue_are_kept_unsigned(tmp_path, signer):
    # Data below a DNAME breaks RFC 6672 section 2.4, so kzonecheck rejects the
    # zone itself.  ldns and BIND check that the data is kept, unsigned and
    # outside the chain.
    zone_file = tmp_path / "dname.zone"
    zone_file.write_text(ZONE + "below.alias A 192.0.2.99\n")
    out = tmp_path / "signed"
    proc = split_keys(signer).sign(zone_file, out, "--denial", "nsec")
    assert "below.alias.example.com. A is below the DNAME at alias.example.com." in proc.stderr
    run(["ldns-verify-zone", out])
    run(["dnssec-verify", "-q", "-o", "example.com", out])
    knot = run(["kzonecheck", "-o", "example.com", "-d", "on", out], check=False)
    assert "child record exists under DNAME" in knot.stdout + knot.stderr
    zone = load_zone("example.com.", out)
    for name, rdtype in (("ns.sec.example.com.", "A"), ("below.alias.example.com.", "A")):
        node = zone.nodes[dns.name.from_text(name)]
        assert node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.from_text(rdtype)) is not None
        assert node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.RRSIG,
                                 dns.rdatatype.from_text(rdtype)) is None
    # At a delegation only DS is signed, not NS.
    sec = zone.nodes[dns.name.from_text("sec.example.com.")]
    assert sec.get_rdataset(dns.rdataclass.IN, dns.rdatatype.RRSIG, dns.rdatatype.DS) is not None
    assert sec.get_rdataset(dns.rdataclass.IN, dns.rdatatype.RRSIG, dns.rdatatype.NS) is None


def read_wire_rrs(data):
    """Split concatenated uncompressed wire RRs into (owner, type, rdata) tuples."""
    rrs = []
    pos = 0
    while pos < len(data):
        start = pos
        while data[pos] != 0:
            pos += 1 + data[pos]
        pos += 1
        rtype, _cls, _ttl, rdlen = struct.unpack("!HHIH", data[pos:pos + 10])
        pos += 10 + rdlen
        rrs.append((data[start:pos - 10 - rdlen], rtype, data[pos - rdlen:pos]))
    return rrs


def test_one_tlsa_change_is_incremental(tmp_path, zone_file, signer):
    first = tmp_path / "v1"
    second = tmp_path / "v2"
    ixfr = tmp_path / "v2.ixfr"
    split_keys(signer).sign(zone_file, first)
    diff = tmp_path / "change.diff"
    diff.write_text(
        "- _25._tcp.mail 3600 IN TLSA 3 1 1 0011223344556677889900112233445566778899001122334455667788990011\n"
        "+ _25._tcp.mail 3600 IN TLSA 3 1 1 ff11223344556677889900112233445566778899001122334455667788990011\n")
    report = parse_stats(signer.sign(None, second, "--previous", first, "--diff", diff,
                                     "--ixfr-out", ixfr).stdout)
    # The TLSA RRset and the SOA; the chain does not change.
    assert report["rrsigs_created"] == "2"
    assert report["serial"] == "2026010102"
    assert_validators_accept("example.com", str(second))

    # IXFR order (RFC 1995): old SOA, removed RRs, new SOA, added RRs.
    rrs = read_wire_rrs(ixfr.read_bytes())
    types = [t for _o, t, _r in rrs]
    assert types[0] == dns.rdatatype.SOA
    second_soa = types.index(dns.rdatatype.SOA, 1)
    removed = rrs[1:second_soa]
    added = rrs[second_soa + 1:]
    assert sorted(t for _o, t, _r in removed) == sorted([dns.rdatatype.TLSA, dns.rdatatype.RRSIG,
                                                         dns.rdatatype.RRSIG])
    assert sorted(t for _o, t, _r in added) == sorted([dns.rdatatype.TLSA, dns.rdatatype.RRSIG,
                                                       dns.rdatatype.RRSIG])
    assert [r for _o, t, r in added if t == dns.rdatatype.TLSA][0][3:4] == b"\xff"


def test_validation_error_names_file_and_line(tmp_path, signer):
    bad = tmp_path / "bad.zone"
    bad.write_text(ZONE + "www CNAME mail\nwww A 192.0.2.80\n")
    out = tmp_path / "signed"
    proc = csk(signer).sign(bad, out, check=False)
    assert proc.returncode != 0
    assert f"{bad}:19: www.example.com. has a CNAME beside other data (A)" in proc.stderr
    assert not out.exists()


@pytest.mark.parametrize("previous", ["zone file", "snapshot"])
def test_switch_nsec_to_nsec3_in_one_version(tmp_path, zone_file, signer, previous):
    first = tmp_path / "v1"
    first_snapshot = tmp_path / "v1.snapshot"
    second = tmp_path / "v2"
    ixfr = tmp_path / "v2.ixfr"
    split_keys(signer).sign(zone_file, first, "--denial", "nsec", "--snapshot-out", first_snapshot)
    report = parse_stats(signer.sign(zone_file, second, "--previous",
                                     first if previous == "zone file" else first_snapshot,
                                     "--ixfr-out", ixfr, "--denial", "nsec3").stdout)
    assert report["previous_snapshot"] == ("1" if previous == "snapshot" else "0")
    assert_validators_accept("example.com", str(second))
    zone = load_zone("example.com.", second)
    assert nsec_owners(zone) == []
    assert len(nsec3_owner_labels(zone)) == len(NSEC3_NAMES)
    # The whole old chain goes and the whole new chain comes in the same version.
    rrs = read_wire_rrs(ixfr.read_bytes())
    second_soa = [t for _o, t, _r in rrs].index(dns.rdatatype.SOA, 1)
    removed = [t for _o, t, _r in rrs[1:second_soa]]
    added = [t for _o, t, _r in rrs[second_soa + 1:]]
    assert removed.count(dns.rdatatype.NSEC) == len(NSEC_NAMES)
    assert added.count(dns.rdatatype.NSEC3) == len(NSEC3_NAMES)
    assert added.count(dns.rdatatype.NSEC3PARAM) == 1
    assert dns.rdatatype.NSEC3 not in removed
    # Data RRsets keep their signatures: only the chain, NSEC3PARAM and the SOA are new.
    assert int(report["rrsigs_created"]) == len(NSEC3_NAMES) + 2


def test_snapshot_previous_with_changed_source(tmp_path, zone_file, signer):
    first = tmp_path / "v1"
    first_snapshot = tmp_path / "v1.snapshot"
    second = tmp_path / "v2"
    split_keys(signer).sign(zone_file, first, "--snapshot-out", first_snapshot)
    changed = tmp_path / "changed.zone"
    changed.write_text(ZONE.replace("Mail     A   192.0.2.25", "Mail     A   192.0.2.26"))
    report = parse_stats(signer.sign(changed, second, "--previous", first_snapshot).stdout)
    assert report["previous_reused"] == "1"
    # The A RRset of mail and the SOA.
    assert report["rrsigs_created"] == "2"
    assert_validators_accept("example.com", str(second))
    zone = load_zone("example.com.", second)
    assert [r.address for r in zone.find_rdataset("mail.example.com.", "A")] == ["192.0.2.26"]


def test_serial_policy_datecounter(tmp_path, zone_file, signer):
    first = tmp_path / "v1"
    second = tmp_path / "v2"
    # 2026-01-01: the source's serial 2026010101 is already past 2026010100.
    report = parse_stats(split_keys(signer).sign(zone_file, first, "--serial-policy", "datecounter",
                                                 "--now", "@1767225600").stdout)
    assert report["serial"] == "2026010101"
    diff = tmp_path / "change.diff"
    diff.write_text("+ new 3600 IN A 192.0.2.200\n")
    report = parse_stats(signer.sign(None, second, "--previous", first, "--diff", diff,
                                     "--serial-policy", "datecounter", "--now", "@1767312000").stdout)
    # The next day starts a new counter.
    assert report["serial"] == "2026010200"
