"""OPENPGPKEY records (RFC 7929) from keys exported by GnuPG."""
import base64
import glob
import os
import subprocess

import pytest

from conftest import danezone, run
from mail_helpers import mailbox_label, parse_records, run_bytes, write_config


def gpg(home, *args, input=None):
    return run_bytes(["gpg", "--homedir", home, "--batch", "--pinentry-mode", "loopback",
                      "--passphrase", "", *args], input=input)


@pytest.fixture
def home(tmp_path):
    """A GnuPG home folder whose gpg-agent is stopped when the test ends."""
    path = str(tmp_path / "gnupg")
    yield path
    subprocess.run(["gpgconf", "--homedir", path, "--kill", "gpg-agent"], check=False,
                   capture_output=True, timeout=30)


def make_key(home, uid):
    os.makedirs(home, mode=0o700, exist_ok=True)
    gpg(home, "--quick-gen-key", uid, "ed25519", "sign", "never")
    fingerprint = [line.split(":")[9] for line in
                   gpg(home, "--with-colons", "--list-keys", uid).decode().splitlines()
                   if line.startswith("fpr:")][0]
    return fingerprint


def test_binary_and_armoured_exports(tmp_path, home):
    fingerprint = make_key(home, "Alice Example <Alice@example.net>")
    gpg(home, "--quick-add-uid", fingerprint, "alice.work@example.net")
    gpg(home, "--quick-add-uid", fingerprint, "Alice Elsewhere <alice@example.org>")
    binary = gpg(home, "--export", fingerprint)
    armoured = gpg(home, "--export", "--armor", fingerprint)
    folder = tmp_path / "openpgp"
    folder.mkdir()
    (folder / "alice.gpg").write_bytes(binary)
    config = write_config(tmp_path, f"mail:\n  openpgp-folders: [{folder}]\n")
    records = parse_records(danezone("records", "example.net", "-c", config).stdout)
    expected = sorted(f"{mailbox_label(local)}._openpgpkey.example.net."
                      for local in ["Alice", "alice", "alice.work"])
    assert sorted(r[0] for r in records) == expected
    for owner, ttl, rtype, rdata in records:
        assert rtype == "OPENPGPKEY"
        assert base64.b64decode(rdata) == binary

    os.unlink(folder / "alice.gpg")
    (folder / "alice.asc").write_bytes(armoured)
    assert parse_records(danezone("records", "example.net", "-c", config).stdout) == records


def test_damaged_armour_and_secret_key_rejected(tmp_path, home):
    fingerprint = make_key(home, "bob@example.net")
    armoured = gpg(home, "--export", "--armor", fingerprint).decode()
    lines = armoured.splitlines()
    # Change one base64 character of the body: the CRC-24 no longer matches.
    body = next(i for i, line in enumerate(lines) if len(line) > 40)
    lines[body] = ("A" if lines[body][0] != "A" else "B") + lines[body][1:]
    folder = tmp_path / "openpgp"
    folder.mkdir()
    (folder / "bob.asc").write_text("\n".join(lines) + "\n")
    (folder / "secret.asc").write_bytes(gpg(home, "--export-secret-keys", "--armor", fingerprint))
    config = write_config(tmp_path, f"mail:\n  openpgp-folders: [{folder}]\n")
    proc = danezone("records", "example.net", "-c", config)
    assert proc.stdout == ""
    assert "checksum does not match" in proc.stderr or "not valid base64" in proc.stderr
    assert "contains a secret key" in proc.stderr


def test_revoked_key_not_published(tmp_path, home):
    fingerprint = make_key(home, "carol@example.net")
    # GnuPG writes a revocation certificate at key creation, guarded by a ':'.
    revocation = glob.glob(os.path.join(home, "openpgp-revocs.d", "*.rev"))[0]
    text = open(revocation).read().replace(":-----BEGIN PGP PUBLIC KEY BLOCK-----",
                                           "-----BEGIN PGP PUBLIC KEY BLOCK-----")
    gpg(home, "--import", input=text.encode())
    folder = tmp_path / "openpgp"
    folder.mkdir()
    (folder / "carol.gpg").write_bytes(gpg(home, "--export", fingerprint))
    listing = run(["gpg", "--homedir", home, "--with-colons", "--list-keys", fingerprint]).stdout
    assert listing.splitlines()[1].split(":")[1] == "r"
    config = write_config(tmp_path, f"mail:\n  openpgp-folders: [{folder}]\n")
    proc = danezone("records", "example.net", "-c", config)
    assert proc.stdout == ""
    assert "is revoked" in proc.stderr
