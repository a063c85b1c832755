"""Helpers for the key ceremony tests: token options, the signing driver,
and DNSSEC checks that do not use danezone's own code.

The checks rebuild what they need from published rules: RRSIG signed data
per RFC 4034 section 3.1.8.1, public keys from the DNSKEY field per RFC 3110,
RFC 6605 and RFC 8080, verified by the openssl command.
"""
import base64
import os
import struct
import time

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype

from conftest import BUILDDIR, DANEZONE, run

SIGN_DRIVER = os.path.join(BUILDDIR, "tests", "system", "dz-sign-driver")
P11_SHIM = os.path.join(BUILDDIR, "tests", "system", "libdzp11shim.so")

ALGORITHMS = {
    "RSASHA256": 8,
    "ECDSAP256SHA256": 13,
    "ECDSAP384SHA384": 14,
    "ED25519": 15,
    "ED448": 16,
}


def token_args(softhsm, state_dir, module=None):
    """The options that select the fixture's token and a state folder."""
    return ["--module", module or softhsm.module, "--token", softhsm.label,
            "--pin-file", softhsm.pin_file, "--state-dir", str(state_dir)]


def key(softhsm, state_dir, *args, check=True, env=None, module=None):
    """Run `danezone key ARGS` against the fixture's token."""
    full_env = dict(softhsm.env)
    if env:
        full_env.update(env)
    command, rest = args[0], list(args[1:])
    if command == "audit":
        extra = ["--state-dir", str(state_dir)]
    else:
        extra = token_args(softhsm, state_dir, module)
    return run([DANEZONE, "key", command, *rest, *extra], check=check, env=full_env)


def record_lines(output, rrtype):
    """Lines of the output that are records of `rrtype` ("DNSKEY", "DS")."""
    return [line for line in output.splitlines() if f" IN {rrtype} " in line]


def parse_dnskey(line):
    """(owner, ttl, flags, protocol, algorithm, public key bytes) of a DNSKEY line."""
    fields = line.split()
    assert fields[2:4] == ["IN", "DNSKEY"], line
    return (fields[0], int(fields[1]), int(fields[4]), int(fields[5]), int(fields[6]),
            base64.b64decode("".join(fields[7:])))


def key_tag(rdata):
    """Key tag of DNSKEY RDATA, RFC 4034 appendix B."""
    total = 0
    for i, byte in enumerate(rdata):
        total += byte if i & 1 else byte << 8
    total += (total >> 16) & 0xFFFF
    return total & 0xFFFF


def dnskey_rdata(flags, protocol, algorithm, public_key):
    return struct.pack("!HBB", flags, protocol, algorithm) + public_key


# ---------------------------------------------------------------- public keys as PEM

def _der_length(length):
    if length < 0x80:
        return bytes([length])
    encoded = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(encoded)]) + encoded


def _der(tag, content):
    return bytes([tag]) + _der_length(len(content)) + content


def _der_integer(value):
    value = value.lstrip(b"\0") or b"\0"
    if value[0] & 0x80:
        value = b"\0" + value
    return _der(0x02, value)


def _der_sequence(*parts):
    return _der(0x30, b"".join(parts))


OID_RSA = bytes.fromhex("06092a864886f70d010101")
OID_EC = bytes.fromhex("06072a8648ce3d0201")
OID_P256 = bytes.fromhex("06082a8648ce3d030107")
OID_P384 = bytes.fromhex("06052b81040022")
OID_ED25519 = bytes.fromhex("06032b6570")
OID_ED448 = bytes.fromhex("06032b6571")


def public_key_pem(algorithm, public_key):
    """SubjectPublicKeyInfo (RFC 5280, RFC 5480, RFC 8410) in PEM from a DNSKEY field."""
    if algorithm in (8, 10):
        # RFC 3110 section 2: exponent length in one byte, or zero and two bytes.
        if public_key[0] != 0:
            exponent_len, pos = public_key[0], 1
        else:
            exponent_len, pos = int.from_bytes(public_key[1:3], "big"), 3
        exponent = public_key[pos:pos + exponent_len]
        modulus = public_key[pos + exponent_len:]
        inner = _der_sequence(_der_integer(modulus), _der_integer(exponent))
        spki = _der_sequence(_der_sequence(OID_RSA, b"\x05\x00"), _der(0x03, b"\0" + inner))
    elif algorithm in (13, 14):
        curve = OID_P256 if algorithm == 13 else OID_P384
        spki = _der_sequence(_der_sequence(OID_EC, curve),
                             _der(0x03, b"\0\x04" + public_key))
    elif algorithm in (15, 16):
        oid = OID_ED25519 if algorithm == 15 else OID_ED448
        spki = _der_sequence(_der_sequence(oid), _der(0x03, b"\0" + public_key))
    else:
        raise ValueError(f"no public key form for algorithm {algorithm}")
    body = base64.encodebytes(spki).decode()
    return f"-----BEGIN PUBLIC KEY-----\n{body}-----END PUBLIC KEY-----\n"


def ecdsa_der_signature(signature):
    """DER ECDSA-Sig-Value from the DNSSEC form r || s (RFC 6605 section 4)."""
    half = len(signature) // 2
    return _der_sequence(_der_integer(signature[:half]), _der_integer(signature[half:]))


def openssl_verify(tmp_path, algorithm, public_key, data, signature):
    """Verify with the openssl command; returns True when the signature is valid."""
    pem = tmp_path / "verify-key.pem"
    pem.write_text(public_key_pem(algorithm, public_key))
    data_file = tmp_path / "verify-data.bin"
    data_file.write_bytes(data)
    sig_file = tmp_path / "verify-sig.bin"
    if algorithm in (15, 16):
        sig_file.write_bytes(signature)
        proc = run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", pem, "-rawin",
                    "-in", data_file, "-sigfile", sig_file], check=False)
    else:
        digest = {8: "-sha256", 10: "-sha512", 13: "-sha256", 14: "-sha384"}[algorithm]
        sig_file.write_bytes(ecdsa_der_signature(signature) if algorithm in (13, 14)
                             else signature)
        proc = run(["openssl", "dgst", digest, "-verify", pem, "-signature", sig_file,
                    data_file], check=False)
    return proc.returncode == 0


# ---------------------------------------------------------------- RRSIG signed data

class RRset:
    """An RRset in presentation form: owner, TTL, type, and RDATA strings."""

    def __init__(self, owner, ttl, rrtype, rdatas):
        self.owner = dns.name.from_text(owner)
        self.ttl = ttl
        self.rrtype = dns.rdatatype.from_text(rrtype)
        self.rdatas = [dns.rdata.from_text(dns.rdataclass.IN, self.rrtype, text)
                       for text in rdatas]


def rrsig_fields(rrset, algorithm, tag, signer, inception, expiration):
    """RRSIG RDATA without the signature, RFC 4034 section 3.1."""
    labels = len(rrset.owner.labels) - 1   # the root label does not count
    if rrset.owner.labels[0] == b"*":
        labels -= 1
    signer_wire = dns.name.from_text(signer).canonicalize().to_wire()
    return struct.pack("!HBBIIIH", rrset.rrtype, algorithm, labels, rrset.ttl, expiration,
                       inception, tag) + signer_wire


def signed_data(rrset, rrsig_rdata):
    """The data an RRSIG signs: RRSIG RDATA, then the RRs in canonical form and order."""
    owner = rrset.owner.canonicalize().to_wire()
    wires = sorted(rdata.to_digestable(dns.name.root) for rdata in rrset.rdatas)
    data = rrsig_rdata
    for wire in wires:
        data += owner + struct.pack("!HHIH", rrset.rrtype, dns.rdataclass.IN, rrset.ttl,
                                    len(wire)) + wire
    return data


def sign(softhsm, key_id, algorithm_name, payloads, processes=0, module=None, env=None):
    """Sign each payload with the driver; returns the CompletedProcess and signatures."""
    args = [SIGN_DRIVER, "--module", module or softhsm.module, "--token", softhsm.label,
            "--pin-file", softhsm.pin_file, "--id", key_id, "--algorithm", algorithm_name]
    if processes:
        args += ["--processes", str(processes)]
    full_env = dict(softhsm.env)
    if env:
        full_env.update(env)
    proc = run(args, check=False, env=full_env, input="".join(p.hex() + "\n" for p in payloads))
    signatures = [bytes.fromhex(line) if not line.startswith("error") else None
                  for line in proc.stdout.splitlines()]
    return proc, signatures


def validity_window():
    """Inception an hour ago and expiration in 30 days, as RRSIG timestamps."""
    now = int(time.time())
    return now - 3600, now + 30 * 86400


def rrsig_timestamp(seconds):
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(seconds))
