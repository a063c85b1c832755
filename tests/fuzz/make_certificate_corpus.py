#!/usr/bin/env python3
"""Write the seed corpus of fuzz_certificate into tests/fuzz/certificate/.

Each file is the content of one certificate, chain, public key or CSR file,
in PEM or DER.  There are mail server files as certbot and openssl write
them, users' S/MIME certificates with their addresses in the places that
RFC 5280 and RFC 9598 allow, and damaged files.  The fuzz target reads them at 2030-01-01, so the
validity periods are set around that date.

Keys are generated on every run and never written, so the files change each
time the script runs.  No private key goes into the corpus: the private key
seeds are made up of PEM blocks whose content is not a key.

Run it again after changing the list; the files are committed.
"""
import datetime
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "certificate")

# id-on-SmtpUTF8Mailbox, RFC 9598 section 3.
SMTP_UTF8_MAILBOX = ObjectIdentifier("1.3.6.1.5.5.7.8.9")

NOW = datetime.datetime(2030, 1, 1)
DAY = datetime.timedelta(days=1)
PEM = serialization.Encoding.PEM
DER = serialization.Encoding.DER
SPKI = serialization.PublicFormat.SubjectPublicKeyInfo


def name(common_name, email=None):
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if email is not None:
        attributes.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, email))
    return x509.Name(attributes)


def ec_key():
    return ec.generate_private_key(ec.SECP256R1())


def sign_algorithm(key):
    return None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()


def certificate(subject, key, issuer=None, issuer_key=None, ca=False, sans=None,
                not_before=NOW - 30 * DAY, not_after=NOW + 60 * DAY, eku=None):
    builder = (x509.CertificateBuilder()
               .subject_name(subject)
               .issuer_name(issuer.subject if issuer is not None else subject)
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(not_before)
               .not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    signer = issuer_key if issuer_key is not None else key
    return builder.sign(signer, sign_algorithm(signer))


def utf8_string(text):
    """DER UTF8String, the value of an SmtpUTF8Mailbox otherName."""
    data = text.encode("utf-8")
    assert len(data) < 128
    return bytes([0x0C, len(data)]) + data


def mailbox(text):
    return x509.OtherName(SMTP_UTF8_MAILBOX, utf8_string(text))


def rfc822_raw(text):
    """An rfc822Name that cryptography would reject (not ASCII or not an address)."""
    return x509.RFC822Name._init_without_validation(text)


def pem(*certs):
    return b"".join(c.public_bytes(PEM) for c in certs)


def pem_block(label, body):
    import base64
    text = base64.encodebytes(body).decode("ascii")
    return f"-----BEGIN {label}-----\n{text}-----END {label}-----\n".encode("ascii")


def csr(key, common_name):
    builder = x509.CertificateSigningRequestBuilder().subject_name(name(common_name))
    builder = builder.add_extension(
        x509.SubjectAlternativeName([x509.DNSName(common_name)]), critical=False)
    return builder.sign(key, sign_algorithm(key))


def mail_server_seeds():
    root_key = ec_key()
    root = certificate(name("Example Root CA"), root_key, ca=True,
                       not_before=NOW - 3650 * DAY, not_after=NOW + 3650 * DAY)
    inter_key = ec_key()
    inter = certificate(name("Example Issuing CA"), inter_key, issuer=root, issuer_key=root_key,
                        ca=True, not_before=NOW - 365 * DAY, not_after=NOW + 365 * DAY)
    ec_leaf_key = ec_key()
    ec_leaf = certificate(name("mx1.example.com"), ec_leaf_key, issuer=inter, issuer_key=inter_key,
                          sans=[x509.DNSName("mx1.example.com")],
                          eku=[ExtendedKeyUsageOID.SERVER_AUTH])
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_leaf = certificate(name("mx2.example.com"), rsa_key, issuer=inter, issuer_key=inter_key,
                           sans=[x509.DNSName("mx2.example.com")])
    ed_key = ed25519.Ed25519PrivateKey.generate()
    ed_leaf = certificate(name("mx3.example.com"), ed_key)
    request = csr(ec_leaf_key, "mx1.example.com")
    full = pem(ec_leaf, inter)

    ec_params = pem_block("EC PARAMETERS", bytes.fromhex("06082a8648ce3d030107"))
    return {
        "leaf_ec.pem": pem(ec_leaf),
        "leaf_rsa.pem": pem(rsa_leaf),
        "leaf_ed25519.pem": pem(ed_leaf),
        "leaf_ec.der": ec_leaf.public_bytes(DER),
        "fullchain.pem": full,
        "fullchain_with_root.pem": pem(ec_leaf, inter, root),
        "chain_reversed.pem": pem(inter, ec_leaf),
        "chain_unrelated.pem": pem(rsa_leaf, root),
        "chain_with_text.pem": b"subject=CN = mx1.example.com\nissuer=CN = Example Issuing CA\n" + full,
        "chain_crlf.pem": full.replace(b"\n", b"\r\n"),
        "x509_certificate_label.pem": full.replace(b"CERTIFICATE", b"X509 CERTIFICATE"),
        "trusted_certificate_label.pem": pem(root).replace(b"CERTIFICATE", b"TRUSTED CERTIFICATE"),
        "ec_parameters_and_cert.pem": ec_params + pem(ec_leaf),
        "csr.pem": request.public_bytes(PEM),
        "csr.der": request.public_bytes(DER),
        "csr_new_label.pem": request.public_bytes(PEM).replace(b"CERTIFICATE REQUEST",
                                                               b"NEW CERTIFICATE REQUEST"),
        "csr_bad_signature.der": request.public_bytes(DER)[:-3] + b"\x01\x02\x03",
        "public_ec.pem": ec_leaf_key.public_key().public_bytes(PEM, SPKI),
        "public_ec.der": ec_leaf_key.public_key().public_bytes(DER, SPKI),
        "public_rsa_pkcs1.pem": rsa_key.public_key().public_bytes(PEM, serialization.PublicFormat.PKCS1),
        "public_ed25519.pem": ed_key.public_key().public_bytes(PEM, SPKI),
        "cert_and_csr.pem": pem(ec_leaf) + request.public_bytes(PEM),
        "cert_and_public_key.pem": pem(ec_leaf) + ec_leaf_key.public_key().public_bytes(PEM, SPKI),
        "two_public_keys.pem": ec_leaf_key.public_key().public_bytes(PEM, SPKI) * 2,
        # Damaged files: cut short, with trailing bytes, or with a PEM label that does not match the content.
        "truncated.pem": full[: len(full) // 2],
        "truncated.der": ec_leaf.public_bytes(DER)[:-20],
        "trailing_bytes.der": ec_leaf.public_bytes(DER) + b"\x00",
        "cut_in_begin_line.pem": pem(ec_leaf) + b"-----BEGIN CERT",
        "bad_base64.pem": b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
        "wrong_der_in_block.pem": pem_block("CERTIFICATE", request.public_bytes(DER)),
        "private_key_not_a_key.pem": pem_block("PRIVATE KEY", b"\x30\x03\x02\x01\x00"),
        "ec_private_key_not_a_key.pem": pem_block("EC PRIVATE KEY", b"\x30\x00"),
        "encrypted_private_key.pem": pem_block("ENCRYPTED PRIVATE KEY", b"\x30\x00"),
        "proc_type_encrypted.pem": b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
                                   b"DEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\nAAAA\n"
                                   b"-----END RSA PRIVATE KEY-----\n",
        "unknown_block.pem": pem_block("PKCS7", b"\x30\x00"),
        "seventeen_certs.pem": pem(*([ec_leaf] * 17)),
        "empty": b"",
    }


def smime_seeds():
    ca_key = ec_key()
    ca = certificate(name("Example S/MIME CA"), ca_key, ca=True,
                     not_before=NOW - 3650 * DAY, not_after=NOW + 3650 * DAY)

    def user(common_name, sans=None, email=None, **dates):
        return certificate(name(common_name, email), ec_key(), issuer=ca, issuer_key=ca_key,
                           sans=sans, eku=[ExtendedKeyUsageOID.EMAIL_PROTECTION], **dates)

    alice = user("Alice", [x509.RFC822Name("alice@example.com")])
    return {
        "smime_rfc822.pem": pem(alice),
        "smime_rfc822.der": alice.public_bytes(DER),
        "smime_with_ca.pem": pem(alice, ca),
        "smime_ca_only.pem": pem(ca),
        "smime_utf8_mailbox.pem": pem(user("Jörg", [mailbox("jörg@example.com")])),
        "smime_utf8_and_ascii.pem": pem(user("Chen", [mailbox("陈@example.com"),
                                                      x509.RFC822Name("chen@example.com")])),
        "smime_subject_email.pem": pem(user("Bob", email="bob@example.com")),
        "smime_upper_case.pem": pem(user("Carol", [x509.RFC822Name("Carol.Smith@Example.COM")])),
        "smime_plus_tag.pem": pem(user("Dave", [x509.RFC822Name("dave+lists@example.com")])),
        "smime_quoted.pem": pem(user("Quoted", [rfc822_raw('"john doe"@example.com')])),
        "smime_needs_quoting.pem": pem(user("Spaces", [rfc822_raw("john doe@example.com")])),
        "smime_other_zone.pem": pem(user("Eve", [x509.RFC822Name("eve@example.org")])),
        "smime_subdomain.pem": pem(user("Frank", [x509.RFC822Name("frank@lists.example.com")])),
        "smime_many_addresses.pem": pem(user("Grace", [x509.RFC822Name(f"grace{i}@example.com")
                                                       for i in range(40)])),
        "smime_duplicate_addresses.pem": pem(user("Heidi", [x509.RFC822Name("heidi@example.com")] * 3,
                                                  email="heidi@example.com")),
        "smime_double_encoded.pem": pem(user("Ivan", [mailbox("jÃ¶rg@example.com")])),
        "smime_no_at.pem": pem(user("Judy", [rfc822_raw("judy.example.com")])),
        "smime_empty_local.pem": pem(user("Ken", [rfc822_raw("@example.com")])),
        "smime_bad_domain.pem": pem(user("Leo", [rfc822_raw("leo@exa..mple.com")])),
        "smime_long_local.pem": pem(user("Mallory", [rfc822_raw("m" * 300 + "@example.com")])),
        "smime_no_address.pem": pem(user("Nobody")),
        "smime_expired.pem": pem(user("Old", [x509.RFC822Name("old@example.com")],
                                      not_before=NOW - 400 * DAY, not_after=NOW - DAY)),
        "smime_not_yet_valid.pem": pem(user("New", [x509.RFC822Name("new@example.com")],
                                            not_before=NOW + DAY, not_after=NOW + 400 * DAY)),
        "smime_several_users.pem": pem(alice, user("Oscar", [x509.RFC822Name("oscar@example.com")]),
                                       user("Peggy", [x509.RFC822Name("peggy@example.com")],
                                            not_before=NOW + 10 * DAY, not_after=NOW + 20 * DAY)),
        "smime_with_other_blocks.pem": pem(alice) + pem_block("PRIVATE KEY", b"\x30\x00"),
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    for file_name, data in {**mail_server_seeds(), **smime_seeds()}.items():
        with open(os.path.join(OUT, file_name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
