"""`danezone sign` with keys in a SoftHSM2 token, checked by independent validators."""
import pytest

from conftest import danezone, run
from signer_helpers import TokenSigner, assert_validators_accept, load_zone, parse_stats
from test_signed_output import ZONE

TLSA_OLD = "_25._tcp.mail 3600 IN TLSA 3 1 1 0011223344556677889900112233445566778899001122334455667788990011"
TLSA_NEW = "_25._tcp.mail 3600 IN TLSA 3 1 1 ee11223344556677889900112233445566778899001122334455667788990011"


def token_args(softhsm, state):
    return ["--token", softhsm.label, "--pin-file", softhsm.pin_file, "--state-dir", state]


@pytest.fixture
def signing(tmp_path, softhsm):
    state = tmp_path / "state"
    state.mkdir()
    zone = tmp_path / "example.com.zone"
    zone.write_text(ZONE)
    signer = TokenSigner(softhsm, state)
    ksk = signer.generate("ksk")
    zsk = signer.generate("zsk")
    return tmp_path, softhsm, str(state), zone, ksk, zsk


@pytest.mark.parametrize("processes", ["0", "2"])
def test_sign_with_registered_keys(signing, processes):
    tmp_path, softhsm, state, zone, _ksk, _zsk = signing
    out = tmp_path / "signed"
    proc = danezone("sign", "--zone", "example.com", "--input", zone, "--output", out,
                    "--processes", processes, "--stats", *token_args(softhsm, state),
                    env=softhsm.env)
    figures = parse_stats(proc.stdout)
    assert int(figures["rrsigs_created"]) > 0
    assert float(figures["rrsigs_per_second"]) > 0
    assert_validators_accept("example.com", str(out))


# DNSKEY algorithm numbers from the IANA registry.
ALGORITHM_NUMBERS = {"RSASHA256": 8, "RSASHA512": 10, "ECDSAP256SHA256": 13,
                     "ECDSAP384SHA384": 14, "ED25519": 15, "ED448": 16}


@pytest.mark.parametrize("algorithm", sorted(ALGORITHM_NUMBERS))
def test_sign_with_each_algorithm(tmp_path, softhsm, algorithm):
    state = tmp_path / "state"
    state.mkdir()
    zone = tmp_path / "example.com.zone"
    zone.write_text(ZONE)
    signer = TokenSigner(softhsm, state)
    signer.generate("ksk", algorithm)
    signer.generate("zsk", algorithm)
    out = tmp_path / "signed"
    danezone("sign", "--zone", "example.com", "--input", zone, "--output", out,
             *token_args(softhsm, str(state)), env=softhsm.env)
    signed = load_zone("example.com.", out)
    dnskeys = signed.find_rdataset("example.com.", "DNSKEY")
    assert {key.algorithm for key in dnskeys} == {ALGORITHM_NUMBERS[algorithm]}
    rrsigs = signed.find_rdataset("example.com.", "RRSIG", "SOA")
    assert {sig.algorithm for sig in rrsigs} == {ALGORITHM_NUMBERS[algorithm]}
    run(["dnssec-verify", "-q", "-o", "example.com", out])
    run(["kzonecheck", "-o", "example.com", "-d", "on", out])
    run(["ldns-verify-zone", out])


def test_sign_with_named_csk_key(signing):
    tmp_path, softhsm, state, zone, ksk, _zsk = signing
    out = tmp_path / "signed"
    danezone("sign", "--zone", "example.com", "--input", zone, "--output", out, "--key",
             f"{ksk}:csk", "--denial", "nsec", *token_args(softhsm, state), env=softhsm.env)
    run(["ldns-verify-zone", out])
    # One key with the SEP flag signs everything: BIND needs -z to accept that.
    run(["dnssec-verify", "-q", "-z", "-o", "example.com", out])
    run(["kzonecheck", "-o", "example.com", "-d", "on", out])
    zone_data = load_zone("example.com.", out)
    assert len(zone_data.find_rdataset("example.com.", "DNSKEY")) == 1


def test_one_tlsa_change_resigns_two_rrsets(signing):
    tmp_path, softhsm, state, zone, _ksk, _zsk = signing
    first = tmp_path / "v1"
    second = tmp_path / "v2"
    ixfr = tmp_path / "v2.ixfr"
    danezone("sign", "--zone", "example.com", "--input", zone, "--output", first,
             *token_args(softhsm, state), env=softhsm.env)
    diff = tmp_path / "change.diff"
    diff.write_text(f"- {TLSA_OLD}\n+ {TLSA_NEW}\n")
    proc = danezone("sign", "--zone", "example.com", "--previous", first, "--diff", diff,
                    "--output", second, "--ixfr-out", ixfr, "--stats",
                    *token_args(softhsm, state), env=softhsm.env)
    figures = parse_stats(proc.stdout)
    # The TLSA RRset and the SOA.
    assert figures["rrsigs_created"] == "2"
    assert int(figures["rrsigs_kept"]) > 20
    assert figures["ixfr_removed"] == "3"
    assert figures["ixfr_added"] == "3"
    assert ixfr.stat().st_size > 0
    assert_validators_accept("example.com", str(second))


def test_incremental_run_in_memory(signing):
    tmp_path, softhsm, state, zone, _ksk, _zsk = signing
    out = tmp_path / "signed"
    diff = tmp_path / "change.diff"
    diff.write_text(f"- {TLSA_OLD}\n+ {TLSA_NEW}\n")
    proc = danezone("sign", "--zone", "example.com", "--input", zone, "--output", out,
                    "--incremental", diff, "--stats", *token_args(softhsm, state),
                    env=softhsm.env)
    figures = parse_stats(proc.stdout)
    assert figures["incremental_rrsigs_created"] == "2"
    assert int(figures["incremental_serial"]) == int(figures["serial"]) + 1
    assert_validators_accept("example.com", str(out))
    assert "ee112233" in out.read_text()


def test_wrong_pin_writes_nothing(signing):
    tmp_path, softhsm, state, zone, _ksk, _zsk = signing
    bad_pin = tmp_path / "bad.pin"
    bad_pin.write_text("9999\n")
    bad_pin.chmod(0o600)
    out = tmp_path / "signed"
    proc = danezone("sign", "--zone", "example.com", "--input", zone, "--output", out,
                    "--token", softhsm.label, "--pin-file", bad_pin, "--state-dir", state,
                    env=softhsm.env, check=False)
    assert proc.returncode == 1
    assert "PIN" in proc.stderr
    assert not out.exists()


def test_unknown_policy_value_is_usage_error(signing):
    tmp_path, softhsm, state, zone, _ksk, _zsk = signing
    proc = danezone("sign", "--zone", "example.com", "--input", zone, "--output",
                    tmp_path / "signed", "--denial", "nsec5", *token_args(softhsm, state),
                    env=softhsm.env, check=False)
    assert proc.returncode == 2
    assert "invalid value 'nsec5' for denial: expected nsec|nsec3" in proc.stderr


def test_snapshot_previous_resigns_two_rrsets(signing):
    tmp_path, softhsm, state, zone, _ksk, _zsk = signing
    signer = TokenSigner(softhsm, state)
    first, first_snap = tmp_path / "v1", tmp_path / "v1.snapshot"
    second, second_snap = tmp_path / "v2", tmp_path / "v2.snapshot"
    ixfr = tmp_path / "v2.ixfr"
    signer.sign(zone, first, "--snapshot-out", first_snap)
    diff = tmp_path / "change.diff"
    diff.write_text(f"- {TLSA_OLD}\n+ {TLSA_NEW}\n")
    figures = parse_stats(signer.sign(None, second, "--previous", first_snap, "--diff", diff,
                                      "--snapshot-out", second_snap, "--ixfr-out", ixfr).stdout)
    assert figures["previous_snapshot"] == "1"
    assert figures["previous_reused"] == "1"
    # The TLSA RRset and the SOA, as from the zone file.
    assert figures["rrsigs_created"] == "2"
    assert figures["ixfr_removed"] == "3"
    assert figures["ixfr_added"] == "3"
    assert_validators_accept("example.com", str(second))

    # The new snapshot is the zone just written: read back without changes, it prints the same file.
    empty = tmp_path / "empty.diff"
    empty.write_text("")
    again = tmp_path / "v2-again"
    figures = parse_stats(signer.sign(None, again, "--previous", second_snap, "--diff", empty).stdout)
    assert figures["rrsigs_created"] == "0"
    assert again.read_bytes() == second.read_bytes()


def test_snapshot_previous_with_new_key_signs_all(signing):
    tmp_path, softhsm, state, zone, _ksk, _zsk = signing
    signer = TokenSigner(softhsm, state)
    first, first_snap = tmp_path / "v1", tmp_path / "v1.snapshot"
    second = tmp_path / "v2"
    figures = parse_stats(signer.sign(zone, first, "--snapshot-out", first_snap).stdout)
    made_first = int(figures["rrsigs_created"])
    signer.generate("zsk")
    diff = tmp_path / "change.diff"
    diff.write_text(f"- {TLSA_OLD}\n+ {TLSA_NEW}\n")
    figures = parse_stats(signer.sign(None, second, "--previous", first_snap, "--diff", diff).stdout)
    # Signatures of the old keys cannot be reused for the new key: every RRset gets one.
    assert figures["previous_reused"] == "0"
    assert int(figures["rrsigs_created"]) >= made_first - 4
    assert_validators_accept("example.com", str(second))


def test_damaged_snapshot_writes_nothing(signing):
    tmp_path, softhsm, state, zone, _ksk, _zsk = signing
    signer = TokenSigner(softhsm, state)
    first_snap = tmp_path / "v1.snapshot"
    signer.sign(zone, tmp_path / "v1", "--snapshot-out", first_snap)
    data = bytearray(first_snap.read_bytes())
    data[23] += 1  # the RR count in the header (signer/snapshot.h)
    first_snap.write_bytes(bytes(data))
    diff = tmp_path / "change.diff"
    diff.write_text(f"- {TLSA_OLD}\n+ {TLSA_NEW}\n")
    out = tmp_path / "v2"
    proc = signer.sign(None, out, "--previous", first_snap, "--diff", diff, check=False)
    assert proc.returncode == 1
    assert str(first_snap) in proc.stderr
    assert not out.exists()
