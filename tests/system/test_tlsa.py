"""TLSA records from certificates, checked against openssl digests and against
OpenSSL's DANE verifier talking to `openssl s_server` on 127.0.0.1."""
import pytest

from conftest import danezone, free_port, run, wait_for
from mail_helpers import (Pki, dane_verify, der_of, parse_records, run_bytes, sha256_hex,
                          sha512_hex, spki_of_cert, write_config)

EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return Pki(tmp_path_factory.mktemp("pki"))


def records_for(tmp_path, hosts_yaml, *args):
    config = write_config(tmp_path, "mail:\n  hosts:\n" + hosts_yaml)
    out = danezone("records", "example.net", "-c", config, *args).stdout
    return parse_records(out)


def tlsa_rdata(records, owner):
    return sorted(r[3] for r in records if r[0] == owner and r[2] == "TLSA")


@pytest.mark.parametrize("kind", ["rsa", "ec", "ed25519"])
def test_tlsa_matches_openssl_digests(tmp_path, pki, kind):
    key = pki.key(f"digest-{kind}", kind)
    cert, chain = pki.server(f"digest-{kind}", key)
    records = records_for(tmp_path,
                          f"    - name: mx1.example.net\n"
                          f"      certificates: [{chain}]\n"
                          f"      tlsa: [\"3 1 1\", \"3 1 2\", \"2 1 1\", \"3 0 1\"]\n")
    spki = spki_of_cert(cert)
    expected = sorted([
        f"3 1 1 {sha256_hex(spki)}",
        f"3 1 2 {sha512_hex(spki)}",
        f"2 1 1 {sha256_hex(spki_of_cert(pki.intermediate))}",
        f"3 0 1 {sha256_hex(der_of(cert))}",
    ])
    assert tlsa_rdata(records, "_25._tcp.mx1.example.net.") == expected
    assert all(r[1] == 3600 for r in records)
    assert EMPTY_SHA256 not in str(records)


def test_every_form_of_one_key_gives_same_record(tmp_path, pki):
    key = pki.key("forms", "ec")
    cert, chain = pki.server("forms", key)
    reissued, _ = pki.server("forms-reissued", key, start="20210101000000Z")
    csr = pki.path("forms.csr")
    public = pki.path("forms.pub.pem")
    run(["openssl", "pkey", "-in", key, "-pubout", "-out", public])
    cert_der = pki.path("forms.der")
    with open(cert_der, "wb") as f:
        f.write(der_of(cert))
    key_der = pki.path("forms.key.der")
    run(["openssl", "pkey", "-in", key, "-outform", "DER", "-out", key_der])
    files = {"cert": cert, "chain": chain, "reissued": reissued, "csr": csr, "public": public,
             "certder": cert_der, "privatekey": key, "keyder": key_der}
    hosts = "".join(f"    - name: {name}.example.net\n      certificates: [{path}]\n"
                    f"      tlsa: [\"3 1 1\"]\n" for name, path in files.items())
    records = records_for(tmp_path, hosts)
    expected = [f"3 1 1 {sha256_hex(spki_of_cert(cert))}"]
    for name in files:
        assert tlsa_rdata(records, f"_25._tcp.{name}.example.net.") == expected, name


def test_reissued_certificate_changes_only_selector_0(tmp_path, pki):
    key = pki.key("reissue", "rsa")
    first, _ = pki.server("reissue-1", key)
    second, _ = pki.server("reissue-2", key, start="20210101000000Z")
    hosts = "".join(f"    - name: {name}.example.net\n      certificates: [{path}]\n"
                    f"      tlsa: [\"3 1 1\", \"3 0 1\"]\n"
                    for name, path in (("first", first), ("second", second)))
    records = records_for(tmp_path, hosts)
    a = {r[:5]: r for r in tlsa_rdata(records, "_25._tcp.first.example.net.")}
    b = {r[:5]: r for r in tlsa_rdata(records, "_25._tcp.second.example.net.")}
    assert a["3 1 1"] == b["3 1 1"]
    assert a["3 0 1"] != b["3 0 1"]
    assert a["3 0 1"] == f"3 0 1 {sha256_hex(der_of(first))}"


def test_generic_form_is_same_rdata(tmp_path, pki):
    key = pki.key("generic", "ec")
    cert, chain = pki.server("generic", key)
    config = write_config(tmp_path, "mail:\n  hosts:\n"
                          f"    - name: mx1.example.net\n      certificates: [{chain}]\n")
    normal = parse_records(danezone("records", "example.net", "-c", config).stdout)
    generic = parse_records(danezone("records", "example.net", "-c", config, "--generic").stdout)
    digest = sha256_hex(spki_of_cert(cert))
    assert normal == [("_25._tcp.mx1.example.net.", 3600, "TLSA", f"3 1 1 {digest}")]
    assert generic == [("_25._tcp.mx1.example.net.", 3600, "TYPE52", f"\\# 35 030101{digest}")]
    # ldns parses both lines to the same record.
    lines = danezone("records", "example.net", "-c", config).stdout + \
        danezone("records", "example.net", "-c", config, "--generic").stdout
    zone = tmp_path / "check.zone"
    zone.write_text("$ORIGIN example.net.\n@ 3600 IN SOA ns1 h 1 2 3 4 5\n" + lines)
    out = run(["ldns-read-zone", "-c", zone]).stdout
    tlsa_lines = [line for line in out.splitlines() if "TLSA" in line]
    assert len(tlsa_lines) == 2
    assert tlsa_lines[0].split() == tlsa_lines[1].split()


def test_rsa_and_ecdsa_server_gets_both(tmp_path, pki):
    rsa_key = pki.key("dual-rsa", "rsa")
    ec_key = pki.key("dual-ec", "ec")
    rsa_cert, rsa_chain = pki.server("dual-rsa", rsa_key)
    ec_cert, ec_chain = pki.server("dual-ec", ec_key)
    records = records_for(tmp_path,
                          "    - name: mx1.example.net\n"
                          "      ports: [25, 465]\n"
                          f"      certificates: [{rsa_chain}, {ec_chain}]\n")
    expected = sorted([f"3 1 1 {sha256_hex(spki_of_cert(rsa_cert))}",
                       f"3 1 1 {sha256_hex(spki_of_cert(ec_cert))}"])
    assert tlsa_rdata(records, "_25._tcp.mx1.example.net.") == expected
    assert tlsa_rdata(records, "_465._tcp.mx1.example.net.") == expected


def test_idn_host_uses_a_labels(tmp_path, pki):
    # Python's IDNA codec gives the A-label independently ("mxä" is the same in IDNA2003 and 2008).
    a_label = "mx\u00e4".encode("idna").decode()
    key = pki.key("idn", "ec")
    _, chain = pki.server("idn", key, host=f"{a_label}.example.net")
    records = records_for(tmp_path, "    - name: \"MX\u00c4.EXAMPLE.net\"\n"
                                    f"      certificates: [{chain}]\n")
    assert [r[0] for r in records] == [f"_25._tcp.{a_label}.example.net."]


def test_unparseable_file_gives_no_records(tmp_path, pki):
    bad = tmp_path / "bad.pem"
    key = pki.key("truncated", "ec")
    _, chain = pki.server("truncated", key)
    text = open(chain).read()
    bad.write_text(text[: len(text) // 2])
    config = write_config(tmp_path, "mail:\n  hosts:\n"
                          f"    - name: mx1.example.net\n      certificates: [{bad}]\n")
    proc = danezone("records", "example.net", "-c", config)
    assert proc.stdout == ""
    assert "is incomplete or damaged" in proc.stderr
    assert EMPTY_SHA256 not in proc.stdout


def test_unparseable_file_keeps_last_good(tmp_path, pki):
    key = pki.key("lastgood", "ec")
    cert, chain = pki.server("lastgood", key)
    live = tmp_path / "live.pem"
    live.write_text(open(chain).read())
    config = write_config(tmp_path, "mail:\n  hosts:\n"
                          f"    - name: mx1.example.net\n      certificates: [{live}]\n")
    danezone("tlsa", "update", "-c", config)
    live.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n")
    proc = danezone("records", "example.net", "-c", config)
    assert parse_records(proc.stdout) == [
        ("_25._tcp.mx1.example.net.", 3600, "TLSA", f"3 1 1 {sha256_hex(spki_of_cert(cert))}")]
    assert "is incomplete or damaged" in proc.stderr
    assert "keeping its TLSA records from the rollover state" in proc.stderr


@pytest.mark.parametrize("kind", ["rsa", "ec", "ed25519"])
def test_openssl_dane_verifier_accepts_records(tmp_path, pki, servers, kind):
    key = pki.key(f"live-{kind}", kind)
    cert, chain = pki.server(f"live-{kind}", key)
    records = records_for(tmp_path,
                          f"    - name: mx1.example.net\n      certificates: [{chain}]\n"
                          "      tlsa: [\"3 1 1\", \"2 1 1\", \"3 1 2\"]\n")
    rdatas = tlsa_rdata(records, "_25._tcp.mx1.example.net.")
    assert len(rdatas) == 3
    port = free_port()
    server = servers.start(["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", cert,
                            "-key", key, "-cert_chain", pki.intermediate, "-naccept", "20",
                            "-quiet"], tmp_path / "s_server.log")

    def accepting():
        ok, _ = dane_verify(port, "mx1.example.net", rdatas[0])
        return ok or not server.running()
    wait_for(accepting, what="openssl s_server to accept")

    for rdata in rdatas:
        ok, output = dane_verify(port, "mx1.example.net", rdata)
        assert ok, f"{rdata}: {output}"
    # A record for another key must not verify.
    usage, selector, matching, digest = rdatas[-1].split()
    wrong = f"{usage} {selector} {matching} {digest[:-2]}{'00' if digest[-2:] != '00' else '11'}"
    ok, output = dane_verify(port, "mx1.example.net", wrong)
    assert not ok
    assert "No matching DANE TLSA records" in output or "verify error" in output.lower()
