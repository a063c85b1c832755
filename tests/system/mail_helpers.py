"""Helpers for the mail record tests: a PKI made with openssl, configurations,
independent digests and OpenSSL's DANE verifier.

Expected values come from openssl and hashlib, never from danezone itself.
"""
import hashlib
import os
import subprocess
import textwrap

from conftest import run

CA_CONFIG = """\
[ ca ]
default_ca = dz
[ dz ]
dir = {folder}
database = $dir/index.txt
new_certs_dir = $dir/issued
serial = $dir/serial
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = yes
[ policy_any ]
commonName = optional
emailAddress = optional
"""


class Pki:
    """A root CA, an intermediate CA and leaves, all issued with `openssl ca`."""

    def __init__(self, folder):
        self.folder = str(folder)
        os.makedirs(os.path.join(self.folder, "issued"), exist_ok=True)
        open(os.path.join(self.folder, "index.txt"), "w").close()
        with open(os.path.join(self.folder, "serial"), "w") as f:
            f.write("1000\n")
        self.config = os.path.join(self.folder, "ca.cnf")
        with open(self.config, "w") as f:
            f.write(CA_CONFIG.format(folder=self.folder))
        self.root_key = self.key("root", "ec")
        self.root = self.path("root.pem")
        run(["openssl", "req", "-x509", "-new", "-key", self.root_key, "-out", self.root,
             "-days", "3650", "-subj", "/CN=danezone test root",
             "-addext", "basicConstraints=critical,CA:true",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        self.intermediate_key = self.key("intermediate", "ec")
        self.intermediate = self.issue("intermediate", self.intermediate_key, "/CN=danezone test R1",
                                       "basicConstraints=critical,CA:true\n"
                                       "keyUsage=critical,keyCertSign,cRLSign",
                                       issuer="root")

    def path(self, name):
        return os.path.join(self.folder, name)

    def key(self, name, kind):
        """Make a private key: kind is rsa, ec (P-256) or ed25519."""
        path = self.path(name + ".key")
        if kind == "rsa":
            args = ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]
        elif kind == "ec":
            args = ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]
        else:
            args = ["-algorithm", "ED25519"]
        run(["openssl", "genpkey", *args, "-out", path])
        return path

    def csr(self, name, key, subject="/CN=danezone test"):
        path = self.path(name + ".csr")
        run(["openssl", "req", "-new", "-key", key, "-out", path, "-subj", subject, "-utf8"])
        return path

    def issue(self, name, key, subject, extensions, issuer="intermediate",
              start="20200101000000Z", end="20991231000000Z"):
        """Issue a certificate for key; returns the PEM path."""
        csr = self.csr(name, key, subject)
        ext = self.path(name + ".ext")
        with open(ext, "w") as f:
            f.write("[ ext ]\n" + extensions + "\n")
        out = self.path(name + ".pem")
        issuer_cert = self.root if issuer == "root" else self.intermediate
        issuer_key = self.root_key if issuer == "root" else self.intermediate_key
        run(["openssl", "ca", "-batch", "-config", self.config, "-cert", issuer_cert,
             "-keyfile", issuer_key, "-in", csr, "-out", out, "-notext", "-utf8",
             "-startdate", start, "-enddate", end, "-extfile", ext, "-extensions", "ext",
             "-subj", subject])
        return out

    def server(self, name, key, host="mx1.example.net", **dates):
        """A TLS server certificate for host, and its full chain file."""
        cert = self.issue(name, key, f"/CN={host}",
                          f"subjectAltName=DNS:{host}\nkeyUsage=critical,digitalSignature"
                          ",keyEncipherment\nextendedKeyUsage=serverAuth", **dates)
        chain = self.path(name + ".fullchain.pem")
        with open(chain, "w") as out:
            for part in (cert, self.intermediate):
                with open(part) as f:
                    out.write(f.read())
        return cert, chain

    def smime(self, name, key, emails=(), utf8_emails=(), subject_email=None, **dates):
        """An S/MIME certificate with SAN rfc822Name and SmtpUTF8Mailbox entries."""
        # openssl's configuration parser drops unescaped double quotes.
        alt_names = [f"email.{i} = " + e.replace('"', '\\"') for i, e in enumerate(emails)]
        # FORMAT:UTF8 makes openssl keep the octets; without it they are read as Latin-1.
        alt_names += [f"otherName.{i} = 1.3.6.1.5.5.7.8.9;FORMAT:UTF8,UTF8:{e}"
                      for i, e in enumerate(utf8_emails)]
        extensions = "keyUsage=critical,digitalSignature,keyEncipherment\n" \
                     "extendedKeyUsage=emailProtection\nbasicConstraints=CA:false"
        if alt_names:
            extensions += "\nsubjectAltName=@alt_names\n[ alt_names ]\n" + "\n".join(alt_names)
        subject = f"/CN={name}" + (f"/emailAddress={subject_email}" if subject_email else "")
        return self.issue(name, key, subject, extensions, **dates)


def der_of(pem):
    return run_bytes(["openssl", "x509", "-in", pem, "-outform", "DER"])


def run_bytes(args, input=None):
    proc = subprocess.run([str(a) for a in args], capture_output=True, input=input, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return proc.stdout


def spki_of_cert(pem):
    """DER SubjectPublicKeyInfo, as the RFC 6698 pipeline extracts it with openssl."""
    public = run_bytes(["openssl", "x509", "-in", pem, "-noout", "-pubkey"])
    return run_bytes(["openssl", "pkey", "-pubin", "-outform", "DER"], input=public)


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def sha512_hex(data):
    return hashlib.sha512(data).hexdigest()


def mailbox_label(local):
    """First 28 octets of SHA2-256 of the local part (RFC 8162 / RFC 7929), in hex."""
    return hashlib.sha256(local.encode("utf-8")).hexdigest()[:56]


def write_config(tmp_path, zone_yaml, extra=""):
    """A configuration with one zone example.net and its source file."""
    zone = tmp_path / "example.net.zone"
    if not zone.exists():
        zone.write_text("$ORIGIN example.net.\n$TTL 3600\n"
                        "@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n@ NS ns1\n"
                        "@ MX 10 mx1\nns1 A 127.0.0.1\nmx1 A 127.0.0.1\n")
    config = tmp_path / "danezone.yaml"
    config.write_text(
        f"server:\n  state-dir: {tmp_path}/state\n" + extra +
        "zones:\n  - name: example.net\n"
        f"    source: {zone}\n" + textwrap.indent(textwrap.dedent(zone_yaml), "    "))
    return config


def parse_records(text):
    """Zone-file lines of `danezone records` into (owner, ttl, type, rdata text) tuples."""
    records = []
    for line in text.splitlines():
        if not line or line.startswith(";"):
            continue
        owner, ttl, klass, rtype, rdata = line.split(None, 4)
        assert klass == "IN"
        records.append((owner, int(ttl), rtype, rdata))
    return records


def dane_verify(port, domain, rrdata, timeout=30):
    """Run OpenSSL's DANE verifier against a server on 127.0.0.1; returns (ok, output)."""
    proc = subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", domain,
         "-dane_tlsa_domain", domain, "-dane_tlsa_rrdata", rrdata, "-verify_return_error",
         "-brief"],
        input=b"", capture_output=True, timeout=timeout)
    output = (proc.stdout + proc.stderr).decode(errors="replace")
    return proc.returncode == 0 and "Verification: OK" in output, output
