"""Sign every corpus zone and check the result against the hand-written
expectations and the independent validators.

Each zone is signed with NSEC, NSEC3 (no salt, 0 iterations), NSEC3 with a
salt and 1 iteration, and NSEC3 opt-out.  ldns-signzone signs the same
zones to check the harness itself.  Where ldns-signzone is known to differ
from the expectations, its test names the difference and expects it.
"""
import os

import dns.name
import pytest

from conftest import run
from sign_helpers import (CORPUS_DIR, DanezoneSigner, Denial, LdnsSigner, SignedZone,
                          check_signed_zone, failed_validators, format_failures, load_corpus,
                          run_validators)

CORPUS = load_corpus()
DENIALS = [
    Denial("nsec"),
    Denial("nsec3"),
    Denial("nsec3", iterations=1, salt="cafe"),
    Denial("nsec3", opt_out=True),
]


def zone_id(zone):
    return zone.name


def test_corpus_expectations_consistent():
    """The expected files agree with the RFC rules they claim and with the zone files."""
    for zone in CORPUS:
        chained = ("signed", "delegation")
        for name in zone.nsec:
            assert zone.statuses.get(name) in chained, f"{zone.name}: NSEC owner {name} is not signed or a delegation"
        for name in zone.nsec3:
            assert zone.statuses.get(name) in chained + ("empty-non-terminal",), \
                f"{zone.name}: NSEC3 owner {name} has status {zone.statuses.get(name)}"
        assert set(zone.nsec3_opt_out) <= set(zone.nsec3), f"{zone.name}: opt-out adds owners"
        # Every signed name and delegation is in both chains.
        for name in zone.names_with("signed") + zone.names_with("delegation"):
            assert name in zone.nsec, f"{zone.name}: {name} missing from the NSEC list"
            assert name in zone.nsec3, f"{zone.name}: {name} missing from the NSEC3 list"
        for name in zone.names_with("empty-non-terminal"):
            assert name in zone.nsec3 or name not in zone.nsec3_opt_out, \
                f"{zone.name}: empty non-terminal {name} missing from the NSEC3 list"
        # dnspython compares names in DNSSEC canonical order (RFC 4034 section 6.1),
        # an independent check of the hand-sorted NSEC lists.
        assert zone.nsec == sorted(zone.nsec), f"{zone.name}: NSEC list not in canonical order"
        assert zone.nsec[0] == zone.origin


@pytest.mark.parametrize("zone", CORPUS, ids=zone_id)
def test_corpus_lists_every_owner(zone, tmp_path):
    """Every owner that BIND reads from the zone file has a status in the expected file."""
    dump = tmp_path / "dump.zone"
    # "-i none" keeps named-checkzone from looking up out-of-zone names in the DNS.
    run(["named-checkzone", "-q", "-i", "none", "-D", "-o", dump, zone.origin_text,
         os.path.basename(zone.path)], cwd=CORPUS_DIR)
    owners = set()
    for line in dump.read_text().splitlines():
        if line and not line.startswith(";"):
            owners.add(dns.name.from_text(line.split()[0]))
    for name in owners:
        assert zone.statuses.get(name) in ("signed", "delegation", "glue", "occluded"), \
            f"{zone.name}: owner {name} in the zone file has status {zone.statuses.get(name)}"


def sign_and_check(signer, zone, denial, tmp_path, chain=None):
    """Sign, then return (problems, validator results) for the signed zone."""
    out = tmp_path / f"{zone.name}.signed"
    signer.sign(zone, denial, out)
    signed = SignedZone(str(out))
    problems = check_signed_zone(signed, zone, denial, chain=chain)
    return problems, run_validators(str(out), zone)


@pytest.mark.parametrize("denial", DENIALS, ids=str)
@pytest.mark.parametrize("zone", CORPUS, ids=zone_id)
def test_ldns_signzone_corpus(zone, denial, tmp_path):
    """Harness check: ldns-signzone output meets the expectations, except where
    ldns-signzone is known to get the case wrong."""
    signer = LdnsSigner(tmp_path)
    chain = None
    if denial.opt_out:
        # ldns-signzone -p sets the opt-out flag on every NSEC3 record but keeps
        # the delegations without DS in the chain, which RFC 5155 section 7.1
        # allows ("MAY").  Its chain is therefore the one without opt-out.
        chain = zone.nsec3
    problems, results = sign_and_check(signer, zone, denial, tmp_path, chain=chain)

    if zone.names_with("out-of-zone"):
        # ldns-signzone signs out-of-zone records and puts them in the chain.
        # ldns-verify-zone accepts the result; dnssec-verify rejects it.
        outside = [p for p in problems if "expected out-of-zone" in p]
        assert outside, "ldns-signzone no longer signs out-of-zone records; update this test"
        caught = sorted(r.name for r in failed_validators(results))
        assert "dnssec-verify" in caught
        pytest.xfail(f"ldns-signzone signs and chains out-of-zone records ({'; '.join(outside)}); "
                     f"validators that notice: {', '.join(caught)}")

    message = f"{zone.name} signed by ldns-signzone with {denial}:\n" + format_failures(problems, results)
    assert not problems, message
    assert not failed_validators(results), message


@pytest.mark.parametrize("zone", CORPUS, ids=zone_id)
def test_validns_on_rsa_zones(zone, tmp_path):
    """validns checks only RSA-signed zones (see sign_helpers.VALIDNS_ALGORITHMS),
    so ldns-signzone signs the corpus with RSASHA256 for it."""
    if zone.names_with("out-of-zone"):
        pytest.skip("ldns-signzone signs out-of-zone records (see test_ldns_signzone_corpus)")
    signer = LdnsSigner(tmp_path, algorithm="RSASHA256")
    problems, results = sign_and_check(signer, zone, Denial("nsec"), tmp_path)
    validns = [r for r in results if r.name == "validns"][0]
    assert not validns.skipped
    message = f"{zone.name} signed with RSASHA256:\n" + format_failures(problems, results)
    assert not problems, message
    assert not failed_validators(results), message


@pytest.mark.parametrize("denial", DENIALS, ids=str)
@pytest.mark.parametrize("zone", CORPUS, ids=zone_id)
def test_danezone_sign_corpus(zone, denial, tmp_path, softhsm):
    """danezone sign meets every expectation and passes every validator."""
    signer = DanezoneSigner(tmp_path, softhsm)
    problems, results = sign_and_check(signer, zone, denial, tmp_path)
    message = f"{zone.name} signed by danezone with {denial}:\n" + format_failures(problems, results)
    assert not problems, message
    assert not failed_validators(results), message


def test_validns_cannot_read_danezone_apex(tmp_path, softhsm):
    """danezone publishes CDS and CDNSKEY, which validns 0.8 cannot read, so
    validns checks no danezone output, not even with RSA keys."""
    zone = [z for z in CORPUS if z.name == "delegations"][0]
    out = tmp_path / "delegations.signed"
    DanezoneSigner(tmp_path, softhsm, algorithm="RSASHA256").sign(zone, Denial("nsec"), out)
    validns = [r for r in run_validators(str(out), zone) if r.name == "validns"][0]
    assert validns.skipped
    assert "cannot read the apex records ['CDNSKEY', 'CDS']" in validns.detail


def test_danezone_rejects_out_of_zone(tmp_path, softhsm):
    """Without the option to drop them, out-of-zone records fail the run, each
    named with its file and line, and no signed zone is written."""
    zone = [z for z in CORPUS if z.name == "outofzone"][0]
    out = tmp_path / "outofzone.signed"
    signer = DanezoneSigner(tmp_path, softhsm)
    proc = signer.sign(zone, Denial("nsec"), out, check=False, drop_out_of_zone=False)
    assert proc.returncode != 0
    assert not out.exists()
    # Lines of the out-of-zone records in outofzone.zone.
    for line, name in ((10, "www.example.net."), (12, "badexample.com."), (13, "com.")):
        assert f"outofzone.zone:{line}: {name} A is outside the zone" in proc.stderr, proc.stderr
