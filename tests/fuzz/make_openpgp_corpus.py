#!/usr/bin/env python3
"""Write the seed corpus of fuzz_openpgp into tests/fuzz/openpgp/.

Each file is the content of one key file.  Some are public keys exported by
GnuPG, binary and armoured: Ed25519 and RSA keys, several User IDs, subkeys,
a revoked key and several keys in one file.  The others are hand-built
packet sequences for the edge cases of RFC 4880 section 4.2 (old and new
packet headers, partial and indeterminate lengths, truncation) and of the
armour (checksum, headers, missing END line).

GnuPG runs in a temporary home folder; keys are generated on every run, so
the files change each time.  Only public keys are exported: the packets of
secret-key type in the corpus carry no key.

Run it again after changing the list; the files are committed.
"""
import base64
import os
import shutil
import subprocess
import tempfile

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "openpgp")


def gpg(home, *args, stdin=None):
    return subprocess.run(["gpg", "--homedir", home, "--batch", "--no-tty", "--quiet",
                           "--pinentry-mode", "loopback", "--passphrase", "", *args],
                          input=stdin, check=True, capture_output=True).stdout


def generate(home, uid, algorithm):
    gpg(home, "--quick-gen-key", uid, algorithm, "default", "never")
    fingerprint = None
    for line in gpg(home, "--with-colons", "--list-keys", uid).decode().splitlines():
        if line.startswith("fpr:"):
            fingerprint = line.split(":")[9]
            break
    return fingerprint


def new_header(tag, body):
    """A new-format packet header (RFC 4880 section 4.2.2) with the shortest length."""
    n = len(body)
    if n < 192:
        length = bytes([n])
    elif n < 8384:
        n -= 192
        length = bytes([(n >> 8) + 192, n & 0xff])
    else:
        length = b"\xff" + n.to_bytes(4, "big")
    return bytes([0xc0 | tag]) + length + body


def old_header(tag, body, length_type):
    """An old-format packet header (RFC 4880 section 4.2.1) with 1, 2 or 4 length octets."""
    size = {0: 1, 1: 2, 2: 4}[length_type]
    return bytes([0x80 | tag << 2 | length_type]) + len(body).to_bytes(size, "big") + body


def packets(data):
    """Split binary OpenPGP data into (tag, body) pairs, reading new and old packet headers."""
    result = []
    pos = 0
    while pos < len(data):
        first = data[pos]
        if first & 0x40:
            tag = first & 0x3f
            o1 = data[pos + 1]
            if o1 < 192:
                length, header = o1, 2
            elif o1 < 224:
                length, header = ((o1 - 192) << 8) + data[pos + 2] + 192, 3
            else:
                length, header = int.from_bytes(data[pos + 2:pos + 6], "big"), 6
        else:
            tag = (first >> 2) & 0x0f
            size = {0: 1, 1: 2, 2: 4}[first & 3]
            length, header = int.from_bytes(data[pos + 1:pos + 1 + size], "big"), 1 + size
        result.append((tag, data[pos + header:pos + header + length]))
        pos += header + length
    return result


def armour(data, headers=("Comment: danezone fuzz seed",), checksum=True, end=True, newline="\n"):
    crc = 0xb704ce
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864cfb
    lines = ["-----BEGIN PGP PUBLIC KEY BLOCK-----", *headers, ""]
    text = base64.b64encode(data).decode("ascii")
    lines += [text[i:i + 64] for i in range(0, len(text), 64)]
    if checksum:
        lines.append("=" + base64.b64encode((crc & 0xffffff).to_bytes(3, "big")).decode("ascii"))
    if end:
        lines.append("-----END PGP PUBLIC KEY BLOCK-----")
    return (newline.join(lines) + newline).encode("ascii")


def gnupg_seeds(home):
    alice = generate(home, "Alice <alice@example.com>", "ed25519")
    gpg(home, "--quick-add-uid", alice, "Alice Work <Alice.Smith@example.com>")
    gpg(home, "--quick-add-uid", alice, "alice@lists.example.com")
    gpg(home, "--quick-add-uid", alice, "Alice Elsewhere <alice@example.org>")
    gpg(home, "--quick-add-key", alice, "cv25519", "encr", "never")
    bob = generate(home, "Bob <bob@example.com>", "rsa2048")
    jorg = generate(home, "Jörg <jörg@example.com>", "ed25519")
    revoked = generate(home, "Old <old@example.com>", "ed25519")
    # GnuPG writes a revocation certificate for each new key, with its armour
    # line disabled by a leading ':'.
    with open(os.path.join(home, "openpgp-revocs.d", revoked + ".rev"), "rb") as f:
        certificate = f.read().replace(b":-----BEGIN", b"-----BEGIN")
    gpg(home, "--import", stdin=certificate)

    def export(*fingerprints, armor=False, options=()):
        return gpg(home, *(["--armor"] if armor else []), *options, "--export", *fingerprints)

    alice_binary = export(alice)
    return {
        "alice.gpg": alice_binary,
        "alice.asc": export(alice, armor=True),
        "alice_minimal.gpg": export(alice, options=("--export-options", "export-minimal")),
        "bob_rsa.gpg": export(bob),
        "bob_rsa.asc": export(bob, armor=True),
        "jorg_utf8.asc": export(jorg, armor=True),
        "revoked.gpg": export(revoked),
        "keyring.gpg": export(alice, bob, jorg),
        "keyring.asc": export(alice, bob, armor=True),
        "two_blocks.asc": export(alice, armor=True) + b"\n" + export(bob, armor=True),
    }, alice_binary


def edge_seeds(alice):
    parts = packets(alice)
    public_key = parts[0][1]
    user_id = next(body for tag, body in parts if tag == 13)
    old_format = b"".join(old_header(tag, body, 1 if len(body) > 255 else 0)
                          for tag, body in parts if tag < 16)
    key_and_uid = new_header(6, public_key) + new_header(13, user_id)
    return {
        "old_format.gpg": old_format,
        "old_format_four_octets.gpg": b"".join(old_header(tag, body, 2) for tag, body in parts if tag < 16),
        "new_format_two_octet_length.gpg": new_header(6, public_key) + new_header(13, b"x" * 300 + b" <long@example.com>"),
        "new_format_five_octet_length.gpg": b"\xc6\xff" + len(public_key).to_bytes(4, "big") + public_key,
        "partial_length.gpg": b"\xc6\xe1" + public_key[:2],
        "indeterminate_length.gpg": bytes([0x80 | 6 << 2 | 3]) + public_key,
        "truncated.gpg": alice[: len(alice) // 2],
        "cut_in_header.gpg": new_header(6, public_key) + b"\xcd",
        "with_trust_packet.gpg": new_header(6, public_key) + new_header(12, b"\x00\x00") + new_header(13, user_id),
        "user_attribute.gpg": key_and_uid + new_header(17, b"\x10\x01\x00"),
        "uid_before_key.gpg": new_header(13, user_id) + new_header(6, public_key),
        "signature_first.gpg": new_header(2, b"\x04\x20\x16\x08") + new_header(6, public_key),
        "revocation_v3.gpg": new_header(6, public_key) + new_header(2, b"\x03\x05\x20") + new_header(13, user_id),
        "version_3_key.gpg": new_header(6, b"\x03" + public_key[1:]),
        "version_6_key.gpg": new_header(6, b"\x06" + public_key[1:]) + new_header(13, user_id),
        "empty_key_packet.gpg": new_header(6, b""),
        "secret_key_packet.gpg": new_header(5, b"\x04not a key"),
        "secret_subkey_packet.gpg": key_and_uid + new_header(7, b"\x04not a key"),
        "unknown_packet.gpg": key_and_uid + new_header(60, b"private use"),
        "many_uids.gpg": new_header(6, public_key) + b"".join(
            new_header(13, f"User {i} <user{i}@example.com>".encode()) for i in range(40)),
        "uid_with_nul.gpg": new_header(6, public_key) + new_header(13, b"Nul \x00 <nul@example.com>"),
        "uid_unclosed.gpg": new_header(6, public_key) + new_header(13, b"Name <open@example.com"),
        "uid_empty_brackets.gpg": new_header(6, public_key) + new_header(13, b"Name <>"),
        "uid_bad_utf8.gpg": new_header(6, public_key) + new_header(13, b"\xff\xfe@example.com"),
        "large_key.gpg": new_header(6, public_key) + new_header(13, user_id) + new_header(2, b"\x04" + b"\x00" * 70000),
        "armour_no_checksum.asc": armour(key_and_uid, checksum=False),
        "armour_bad_checksum.asc": armour(key_and_uid)[:-44] + armour(b"other")[-44:],
        "armour_no_end.asc": armour(key_and_uid, end=False),
        "armour_no_headers.asc": armour(key_and_uid, headers=()),
        "armour_bad_header.asc": armour(key_and_uid, headers=("no colon here",)),
        "armour_crlf.asc": armour(key_and_uid, newline="\r\n"),
        "armour_empty.asc": armour(b""),
        "armour_bad_base64.asc": b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n!!!!\n-----END PGP PUBLIC KEY BLOCK-----\n",
        "armour_private_block.asc": b"-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nAAAA\n-----END PGP PRIVATE KEY BLOCK-----\n",
        "armour_message_block.asc": b"-----BEGIN PGP MESSAGE-----\n\nAAAA\n-----END PGP MESSAGE-----\n",
        "text_not_a_key.txt": b"this is not a key\n",
        "empty": b"",
    }


def main():
    home = tempfile.mkdtemp(prefix="dz-openpgp-corpus-")
    try:
        os.chmod(home, 0o700)
        seeds, alice = gnupg_seeds(home)
        seeds.update(edge_seeds(alice))
    finally:
        subprocess.run(["gpgconf", "--homedir", home, "--kill", "gpg-agent"], check=False)
        shutil.rmtree(home)
    os.makedirs(OUT, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
