"""SMIMEA records (RFC 8162) from S/MIME certificates made with openssl."""
import os

import pytest

from conftest import danezone
from mail_helpers import Pki, der_of, mailbox_label, parse_records, write_config


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return Pki(tmp_path_factory.mktemp("pki"))


def smimea_config(tmp_path, folder, extra=""):
    return write_config(tmp_path, "mail:\n"
                        f"  smime-folders: [{folder}]\n" + extra)


def owners(records):
    return sorted({r[0] for r in records})


def full_certificate_rdata(pem):
    return "3 0 0 " + der_of(pem).hex()


def test_two_addresses_and_lowercase_variant(tmp_path, pki):
    folder = tmp_path / "smime"
    folder.mkdir()
    key = pki.key("alice", "ec")
    cert = pki.smime("alice", key, emails=["alice@example.net", "Bob.Smith+list@example.net",
                                            "carol@example.org"])
    (folder / "alice.pem").write_text(open(cert).read())
    records = parse_records(danezone("records", "example.net", "-c",
                                     smimea_config(tmp_path, folder)).stdout)
    expected_owners = sorted(f"{mailbox_label(local)}._smimecert.example.net." for local in
                             ["alice", "Bob.Smith+list", "bob.smith+list"])
    assert owners(records) == expected_owners
    rdata = full_certificate_rdata(cert)
    for owner, ttl, rtype, text in records:
        assert rtype == "SMIMEA"
        assert ttl == 3600
        assert text == rdata
    # The address of example.org is not in this zone.
    assert f"{mailbox_label('carol')}._smimecert.example.net." not in owners(records)


def test_lowercase_variant_can_be_switched_off(tmp_path, pki):
    folder = tmp_path / "smime"
    folder.mkdir()
    cert = pki.smime("upper", pki.key("upper", "ec"), emails=["John.Doe@example.net"])
    (folder / "john.pem").write_text(open(cert).read())
    config = smimea_config(tmp_path, folder, "  lowercase-variants: false\n")
    records = parse_records(danezone("records", "example.net", "-c", config).stdout)
    # The DANE.md vector for the exact octets "John.Doe".
    assert owners(records) == [
        "73372335bd12eb0633284c1b68419e0f7ad16d3d777b13e5d2f8c415._smimecert.example.net."]


def test_utf8_local_part_and_legacy_subject(tmp_path, pki):
    folder = tmp_path / "smime"
    folder.mkdir()
    utf8 = pki.smime("joerg", pki.key("joerg", "ec"), utf8_emails=["j\u00f6rg@example.net"])
    legacy = pki.smime("legacy", pki.key("legacy", "rsa"), subject_email="legacy@example.net")
    (folder / "joerg.pem").write_text(open(utf8).read())
    # DER input works as well as PEM.
    (folder / "legacy.der").write_bytes(der_of(legacy))
    records = parse_records(danezone("records", "example.net", "-c",
                                     smimea_config(tmp_path, folder)).stdout)
    joerg = mailbox_label("j\u00f6rg") + "._smimecert.example.net."
    assert owners(records) == sorted([joerg, f"{mailbox_label('legacy')}._smimecert.example.net."])
    assert [r[3] for r in records if r[0] == joerg] == [full_certificate_rdata(utf8)]


def test_validity_window(tmp_path, pki):
    folder = tmp_path / "smime"
    folder.mkdir()
    expired = pki.smime("expired", pki.key("expired", "ec"), emails=["old@example.net"],
                        start="20200101000000Z", end="20210101000000Z")
    future = pki.smime("future", pki.key("future", "ec"), emails=["new@example.net"],
                       start="20900101000000Z", end="20950101000000Z")
    (folder / "expired.pem").write_text(open(expired).read())
    (folder / "future.pem").write_text(open(future).read())
    config = smimea_config(tmp_path, folder)
    assert danezone("records", "example.net", "-c", config).stdout == ""
    # Evaluated in 2092, the second certificate is valid and the first still expired.
    records = parse_records(danezone("records", "example.net", "-c", config,
                                     "--now", "2092-06-01T00:00:00Z").stdout)
    assert owners(records) == [f"{mailbox_label('new')}._smimecert.example.net."]
    # At 2020-06-01 only the first is valid.
    records = parse_records(danezone("records", "example.net", "-c", config,
                                     "--now", "2020-06-01T00:00:00Z").stdout)
    assert owners(records) == [f"{mailbox_label('old')}._smimecert.example.net."]


def test_removed_file_removes_records(tmp_path, pki):
    folder = tmp_path / "smime"
    folder.mkdir()
    cert = pki.smime("gone", pki.key("gone", "ec"), emails=["gone@example.net"])
    (folder / "gone.pem").write_text(open(cert).read())
    # Editors' temporary files are not read.
    (folder / ".gone.pem.swp").write_text("not a certificate")
    (folder / "gone.pem~").write_text(open(cert).read())
    config = smimea_config(tmp_path, folder)
    assert len(parse_records(danezone("records", "example.net", "-c", config).stdout)) == 1
    os.unlink(folder / "gone.pem")
    assert danezone("records", "example.net", "-c", config).stdout == ""


def test_quoted_local_part_skipped(tmp_path, pki):
    folder = tmp_path / "smime"
    folder.mkdir()
    cert = pki.smime("quoted", pki.key("quoted", "ec"), emails=['"john smith"@example.net'])
    (folder / "quoted.pem").write_text(open(cert).read())
    unquoted = pki.smime("unquoted", pki.key("unquoted", "ec"), emails=["john smith@example.net"])
    (folder / "unquoted.pem").write_text(open(unquoted).read())
    proc = danezone("records", "example.net", "-c", smimea_config(tmp_path, folder))
    assert proc.stdout == ""
    assert "do not say how a quoted local part is hashed" in proc.stderr
    assert "the local part has characters that need quoting" in proc.stderr
