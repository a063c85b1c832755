"""Key ceremonies with `danezone key` on real SoftHSM2 tokens.

Every signature is checked with tools that share no code with danezone:
openssl on a public key rebuilt from the exported DNSKEY, ldns-verify-zone
and dnssec-verify on a small zone signed with the token's key, and
ldns-key2ds for the DS records.
"""
import base64
import re

import pytest

from conftest import DANEZONE, run
from hsm_helpers import (ALGORITHMS, RRset, key, key_tag, openssl_verify, parse_dnskey,
                         record_lines, dnskey_rdata, rrsig_fields, rrsig_timestamp, sign,
                         signed_data, validity_window)


def generate(softhsm, state, zone, role, algorithm, *extra):
    """Generate a key and return (key id, DNSKEY line, DS lines, output)."""
    out = key(softhsm, state, "generate", "--zone", zone, "--role", role, "--algorithm",
              algorithm, *extra).stdout
    match = re.search(r"^generated \S+ \S+ (\d+) \S+ in token '[^']*', id ([0-9a-f]+)$", out,
                      re.M)
    assert match, out
    dnskeys = record_lines(out, "DNSKEY")
    assert len(dnskeys) == 1, out
    return match.group(2), dnskeys[0], record_lines(out, "DS"), out


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_signature_verifies_from_dnskey(softhsm, tmp_path, algorithm):
    state = tmp_path / "state"
    key_id, dnskey_line, _, _ = generate(softhsm, state, "example.com", "zsk", algorithm)
    owner, _, flags, protocol, number, public_key = parse_dnskey(dnskey_line)
    assert (owner, flags, protocol, number) == ("example.com.", 256, 3, ALGORITHMS[algorithm])

    rrset = RRset("mail.example.com.", 300, "TLSA",
                  ["3 1 1 0c72ac70b745ac19998811b131d662c9ac69dbdbe7cb23e5b514b56664c5d3d6"])
    inception, expiration = validity_window()
    tag = key_tag(dnskey_rdata(flags, protocol, number, public_key))
    data = signed_data(rrset, rrsig_fields(rrset, number, tag, "example.com.", inception,
                                           expiration))
    proc, signatures = sign(softhsm, key_id, algorithm, [data])
    assert proc.returncode == 0, proc.stderr
    assert openssl_verify(tmp_path, number, public_key, data, signatures[0])
    # The check can fail: a changed RRset must not verify.
    assert not openssl_verify(tmp_path, number, public_key, data + b"\0", signatures[0])


def build_zone(softhsm, tmp_path, algorithm, processes=0):
    """Sign a small zone with one CSK from the token; returns its text and the key's tag."""
    state = tmp_path / "state"
    key_id, dnskey_line, _, _ = generate(softhsm, state, "example.com", "csk", algorithm)
    _, _, flags, protocol, number, public_key = parse_dnskey(dnskey_line)
    tag = key_tag(dnskey_rdata(flags, protocol, number, public_key))
    dnskey_text = " ".join(dnskey_line.split()[4:])

    rrsets = [
        RRset("example.com.", 3600, "SOA",
              ["ns1.example.com. hostmaster.example.com. 2027010301 3600 900 1209600 300"]),
        RRset("example.com.", 3600, "NS", ["ns1.example.com."]),
        RRset("example.com.", 3600, "DNSKEY", [dnskey_text]),
        RRset("example.com.", 300, "NSEC", ["ns1.example.com. NS SOA RRSIG NSEC DNSKEY"]),
        RRset("ns1.example.com.", 3600, "A", ["192.0.2.53"]),
        RRset("ns1.example.com.", 300, "NSEC", ["example.com. A RRSIG NSEC"]),
    ]
    inception, expiration = validity_window()
    payloads = [signed_data(r, rrsig_fields(r, number, tag, "example.com.", inception,
                                            expiration)) for r in rrsets]
    proc, signatures = sign(softhsm, key_id, algorithm, payloads, processes=processes)
    assert proc.returncode == 0, proc.stderr

    lines = []
    for rrset, signature in zip(rrsets, signatures):
        for rdata in rrset.rdatas:
            lines.append(f"{rrset.owner} {rrset.ttl} IN {rrset.rrtype.name} {rdata.to_text()}")
        labels = len(rrset.owner.labels) - 1
        lines.append(f"{rrset.owner} {rrset.ttl} IN RRSIG {rrset.rrtype.name} {number} "
                     f"{labels} {rrset.ttl} {rrsig_timestamp(expiration)} "
                     f"{rrsig_timestamp(inception)} {tag} example.com. "
                     f"{base64.b64encode(signature).decode()}")
    return "\n".join(lines) + "\n", tag


@pytest.mark.parametrize("algorithm", ["ECDSAP256SHA256", "ED25519", "RSASHA256"])
def test_signed_zone_validates(softhsm, tmp_path, algorithm):
    zone_text, _ = build_zone(softhsm, tmp_path, algorithm)
    zone = tmp_path / "example.com.zone"
    zone.write_text(zone_text)
    run(["ldns-verify-zone", zone])
    # -z: the CSK has the SEP flag, so it also counts as the zone signing key.
    run(["dnssec-verify", "-z", "-o", "example.com", zone])

    # A corrupted signature must make the validator fail.
    lines = zone_text.splitlines()
    index = next(i for i, line in enumerate(lines) if " RRSIG A " in line)
    fields = lines[index].split()
    signature = bytearray(base64.b64decode(fields[-1]))
    signature[len(signature) // 2] ^= 1
    fields[-1] = base64.b64encode(bytes(signature)).decode()
    lines[index] = " ".join(fields)
    zone.write_text("\n".join(lines) + "\n")
    assert run(["ldns-verify-zone", zone], check=False).returncode != 0


def test_process_service_signs_zone(softhsm, tmp_path):
    zone_text, _ = build_zone(softhsm, tmp_path, "ECDSAP256SHA256", processes=2)
    zone = tmp_path / "example.com.zone"
    zone.write_text(zone_text)
    run(["ldns-verify-zone", zone])


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_ds_matches_ldns_key2ds(softhsm, tmp_path, algorithm):
    state = tmp_path / "state"
    _, dnskey_line, ds_lines, out = generate(softhsm, state, "Example.NET", "ksk", algorithm)
    assert "DS record to hand to the registrar of example.net." in out
    exported = key(softhsm, state, "export-dnskey", "--zone", "example.net").stdout
    assert record_lines(exported, "DNSKEY") == [dnskey_line]

    keyfile = tmp_path / "dnskey.txt"
    keyfile.write_text(dnskey_line + "\n")
    for digest, flag in (("sha256", "-2"), ("sha384", "-4")):
        ours = record_lines(key(softhsm, state, "export-ds", "--zone", "example.net",
                                "--digest", digest).stdout, "DS")
        theirs = run(["ldns-key2ds", "-n", flag, keyfile]).stdout.split()
        assert len(ours) == 1
        fields = ours[0].split()
        assert fields[0] == "example.net."
        assert fields[4:7] == theirs[4:7]
        assert fields[7].lower() == theirs[7].lower()
        if digest == "sha256":
            assert ds_lines == ours


def test_init_token_and_list(softhsm, tmp_path):
    state = tmp_path / "state"
    so_pin = tmp_path / "so.pin"
    so_pin.write_text("87654321\n")
    so_pin.chmod(0o600)
    out = run([DANEZONE, "key", "init-token", "--label", "second", "--so-pin-file", so_pin,
               "--pin-file", softhsm.pin_file, "--module", softhsm.module,
               "--state-dir", state], env=softhsm.env).stdout
    assert re.match(r"initialised token 'second' \(serial [0-9a-f]+\)", out)
    tokens = run([DANEZONE, "hsm", "tokens", "--module", softhsm.module],
                 env=softhsm.env).stdout
    assert re.search(r"\bsecond\b.*initialised", tokens)
    assert re.search(r"\bdz-test\b.*initialised", tokens)

    key_id, _, _, gen = generate(softhsm, state, "example.org", "ksk", "ECDSAP256SHA256")
    tag = re.search(r"ksk (\d+) ", gen).group(1)
    listing = key(softhsm, state, "list").stdout
    row = next(line for line in listing.splitlines() if key_id in line)
    assert row.split()[:4] == ["example.org.", "ksk", "ECDSAP256SHA256", tag]
    assert re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row)


def test_label_names_zone_role_and_tag(softhsm, tmp_path):
    state = tmp_path / "state"
    key_id, _, _, out = generate(softhsm, state, "example.com", "ksk", "ED25519")
    tag = re.search(r"ksk (\d+) ", out).group(1)
    objects = run(["pkcs11-tool", "--module", softhsm.module, "--token-label", softhsm.label,
                   "--login", "--pin", softhsm.pin, "--list-objects", "--type", "privkey"],
                  env=softhsm.env).stdout
    assert f"label:      example.com. KSK {tag} ED25519" in objects
    assert "never extractable" in objects
    assert f"ID:         {key_id}" in objects


def test_audit_log_records_each_step(softhsm, tmp_path):
    state = tmp_path / "state"
    key_id, _, ds_lines, out = generate(softhsm, state, "example.com", "ksk", "ECDSAP256SHA256")
    tag = re.search(r"ksk (\d+) ", out).group(1)
    key(softhsm, state, "export-ds", "--zone", "example.com")
    key(softhsm, state, "delete", "--zone", "example.com", "--tag", tag)
    key(softhsm, state, "export-dnskey", "--zone", "example.com", check=False)

    audit = key(softhsm, state, "audit").stdout.splitlines()
    assert len(audit) == 4
    generate_line, export_line, delete_line, failed_line = audit
    for line in audit:
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ", line)
        assert f"token={softhsm.label}" in line
    assert "command=generate" in generate_line
    assert f"key_tag={tag}" in generate_line
    assert f"id={key_id}" in generate_line
    assert f'ds="{ds_lines[0]}"' in generate_line
    assert generate_line.endswith("result=ok")
    assert "command=export-ds" in export_line
    assert ds_lines[0] in export_line
    assert "command=delete" in delete_line
    assert f"key_tag={tag}" in delete_line
    assert delete_line.endswith("result=ok")
    assert "command=export-dnskey" in failed_line
    assert 'result="failed: no registered key of zone example.com.' in failed_line


def test_delete_refuses_published_key(softhsm, tmp_path):
    state = tmp_path / "state"
    key_id, _, _, out = generate(softhsm, state, "example.com", "zsk", "ECDSAP256SHA256")
    tag = re.search(r"zsk (\d+) ", out).group(1)
    # The key manager marks keys it publishes; do what it would do.
    registry = next(state.glob("token-*.keys"))
    text = registry.read_text()
    assert re.search(rf"^{key_id} .* -$", text, re.M)
    registry.write_text(re.sub(rf"^({key_id} .*) -$", r"\1 published,signing", text,
                               flags=re.M))

    proc = key(softhsm, state, "delete", "--id", key_id, check=False)
    assert proc.returncode == 1
    assert f"key {tag} of example.com. is published and signing" in proc.stderr
    assert "--force" in proc.stderr
    assert key_id in key(softhsm, state, "list").stdout

    key(softhsm, state, "delete", "--id", key_id, "--force")
    listing = key(softhsm, state, "list", "--all").stdout
    assert key_id not in listing
    assert key_id not in registry.read_text()


def test_import_existing_key(softhsm, tmp_path):
    state = tmp_path / "state"
    # A key pair made by another tool, as an operator might bring.
    run(["pkcs11-tool", "--module", softhsm.module, "--token-label", softhsm.label, "--login",
         "--pin", softhsm.pin, "--keypairgen", "--key-type", "EC:prime256v1", "--id", "c0ffee",
         "--label", "brought along"], env=softhsm.env)
    unregistered = key(softhsm, state, "list", "--all").stdout
    assert "unregistered 'brought along'" in unregistered

    out = key(softhsm, state, "import", "--zone", "example.org", "--role", "ksk",
              "--label", "brought along").stdout
    assert re.search(r"registered key 'brought along' as example.org. ksk \d+ ECDSAP256SHA256",
                     out)
    assert len(record_lines(out, "DS")) == 1
    proc = key(softhsm, state, "import", "--zone", "example.org", "--role", "ksk",
               "--id", "c0ffee", check=False)
    assert proc.returncode == 1
    assert "already registered" in proc.stderr

    key(softhsm, state, "delete", "--id", "c0ffee")
    run(["pkcs11-tool", "--module", softhsm.module, "--token-label", softhsm.label, "--login",
         "--pin", softhsm.pin, "--keypairgen", "--key-type", "EC:secp384r1", "--id", "0102",
         "--label", "by uri"], env=softhsm.env)
    out = key(softhsm, state, "import", "--zone", "example.org", "--role", "zsk", "--key",
              f"pkcs11:token={softhsm.label};id=%01%02").stdout
    assert "as example.org. zsk" in out
    assert "ECDSAP384SHA384" in out
    assert record_lines(out, "DS") == []
