"""A danezoned fixture for the system tests.

`daemon` (a pytest fixture) returns a DaemonSetup: a folder with a zone
source for example.net, a mail server certificate made with openssl, a
SoftHSM2 token (the `softhsm` fixture) and a configuration with ephemeral
loopback ports.  Call setup.start() to run `danezoned -c CONF -f -d`; it
returns once the daemon logged "started".  The `servers` fixture stops the
daemon at the end of the test (TERM, then KILL).

Other helpers build on it: write_config(extra_zones=..., server_yaml=...)
rewrites the configuration, and every query goes to 127.0.0.1 only.

Expected values come from dnspython, openssl and ldns-verify-zone, never from
danezone itself.
"""
import hashlib
import os
import re
import socket
import subprocess
import time

import dns.message
import dns.query
import dns.rdatatype
import dns.zone
import pytest

from conftest import DANEZONED, free_port, run, wait_for

ZONE_SOURCE = """\
$ORIGIN {zone}.
$TTL 3600
@ SOA ns1 hostmaster 1 7200 3600 1209600 300
@ NS ns1
@ MX 10 mx1
ns1 A 127.0.0.1
mx1 A 127.0.0.1
www A 127.0.0.2
{extra}"""


def make_certificate(folder, name, host="mx1.example.net"):
    """A self-signed EC P-256 server certificate for host; returns its path."""
    key = os.path.join(folder, name + ".key")
    cert = os.path.join(folder, name + ".pem")
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", key, "-out", cert, "-days", "30", "-subj", f"/CN={host}",
         "-addext", f"subjectAltName=DNS:{host}"])
    return cert


def tlsa_3_1_1(cert):
    """The RDATA text of the "3 1 1" TLSA record of a certificate, computed by openssl."""
    public = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-pubkey"],
                            capture_output=True, check=True).stdout
    spki = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=public,
                          capture_output=True, check=True).stdout
    return "3 1 1 " + hashlib.sha256(spki).hexdigest()


def replace_file(path, text):
    """Replace a file atomically (write a temporary file, rename), as editors and tools do."""
    temp = str(path) + ".tmp-new"
    with open(temp, "w") as f:
        f.write(text)
    os.replace(temp, path)


class DaemonSetup:
    def __init__(self, tmp_path, softhsm, servers):
        self.tmp = tmp_path
        self.softhsm = softhsm
        self.servers = servers
        self.port = free_port()
        self.state = tmp_path / "state"
        self.pidfile = tmp_path / "danezoned.pid"
        self.config = tmp_path / "danezone.yaml"
        self.certs = tmp_path / "certs"
        self.certs.mkdir()
        self.cert = make_certificate(str(self.certs), "mx1")
        self.proc = None
        self.log_path = None
        self.runs = 0
        # Tests run as root in CI; danezoned refuses root without server.user unless allowed.
        self.allow_root = True
        self.write_source("example.net")
        self.write_config()

    def source_path(self, zone):
        return self.tmp / f"{zone}.zone"

    def write_source(self, zone, extra="", atomic=False):
        text = ZONE_SOURCE.format(zone=zone, extra=extra)
        if atomic:
            replace_file(self.source_path(zone), text)
        else:
            self.source_path(zone).write_text(text)

    def zone_yaml(self, zone, mail=True):
        text = (f"  - name: {zone}\n"
                f"    source: {self.source_path(zone)}\n"
                "    secondaries: [local]\n")
        if mail:
            text += ("    mail:\n      hosts:\n        - name: mx1." + zone + "\n"
                     "          ports: [25]\n"
                     f"          certificates: [{self.cert}]\n")
        return text

    def write_config(self, extra_zones=(), server_yaml="", text=None):
        """Write the configuration: example.net with a mail host, plus `extra_zones` (names)."""
        if text is None:
            text = (
                "server:\n"
                f"  state-dir: {self.state}\n"
                f"  listen: [127.0.0.1@{self.port}]\n"
                "  allow-query: [127.0.0.1]\n"
                f"  pidfile: {self.pidfile}\n"
                + server_yaml +
                "secondaries:\n"
                "  local:\n"
                # The daemon itself: transfers from 127.0.0.1 are allowed, and the
                # SOA probes of the TLSA rollover get an answer.
                f"    addresses: [127.0.0.1@{self.port}]\n"
                "    notify: false\n"
                "    allow-transfer: true\n"
                "hsm:\n"
                "  softhsm:\n"
                f"    module: {self.softhsm.module}\n"
                f"    token-label: {self.softhsm.label}\n"
                f"    pin-file: {self.softhsm.pin_file}\n"
                "zones:\n" + self.zone_yaml("example.net") +
                "".join(self.zone_yaml(z, mail=False) for z in extra_zones))
        self.config.write_text(text)

    def start(self, wait=True, args=()):
        """Start danezoned in the foreground; with wait, return once it logged "started"."""
        self.runs += 1
        self.log_path = self.tmp / f"danezoned-{self.runs}.log"
        extra = ["--allow-root"] if self.allow_root and os.geteuid() == 0 else []
        self.proc = self.servers.start([DANEZONED, "-c", self.config, "-f", "-d", *extra, *args],
                                       self.log_path, env=self.softhsm.env)
        if wait:
            wait_for(lambda: self.logged(r"notice: started") or not self.proc.running(),
                     timeout=60, what="danezoned to log 'started'")
            assert self.proc.running(), "danezoned exited at start-up:\n" + self.output()
        return self.proc

    def output(self):
        # The Server closes its log at stop, so the file is read directly.
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def logged(self, pattern):
        """Lines of the current log that match the regular expression."""
        return [line for line in self.output().splitlines() if re.search(pattern, line)]

    def wait_logged(self, pattern, count=1, timeout=30):
        return wait_for(lambda: len(self.logged(pattern)) >= count and self.logged(pattern),
                        timeout=timeout, what=f"log line /{pattern}/ x{count}")

    def query(self, zone, rdtype="SOA"):
        message = dns.message.make_query(zone + ".", rdtype)
        return dns.query.udp(message, "127.0.0.1", port=self.port, timeout=5)

    def serial(self, zone="example.net"):
        response = self.query(zone)
        for rrset in response.answer:
            if rrset.rdtype == dns.rdatatype.SOA:
                return rrset[0].serial
        return None

    def wait_serial(self, above, zone="example.net", timeout=30):
        """Wait until the served serial is above `above`; returns it."""
        return wait_for(lambda: (self.serial(zone) or 0) > above and self.serial(zone),
                        timeout=timeout, what=f"{zone} serial above {above}")

    def axfr_text(self, zone="example.net"):
        """The zone by AXFR, as zone file text (dnspython's own transfer client)."""
        z = dns.zone.from_xfr(dns.query.xfr("127.0.0.1", zone + ".", port=self.port,
                                            timeout=10, relativize=False),
                              relativize=False)
        return z.to_text(relativize=False)

    def ixfr(self, zone, serial):
        """The RRs of the IXFR response from `serial`, as (owner, TTL, type, RDATA text) tuples."""
        query = dns.message.make_query(zone + ".", "IXFR")
        query.authority = [dns.rrset.from_text(zone + ".", 0, "IN", "SOA",
                                               f". . {serial} 0 0 0 0")]
        lines = []
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as sock:
            dns.query.send_tcp(sock, query)
            response, _ = dns.query.receive_tcp(sock, time.time() + 10, one_rr_per_rrset=True)
            for rrset in response.answer:
                for rdata in rrset:
                    lines.append((rrset.name.to_text(), rrset.ttl,
                                  dns.rdatatype.to_text(rrset.rdtype), rdata.to_text()))
        return lines

    def verify_zone(self, zone="example.net"):
        """Run ldns-verify-zone on the AXFR; fails the test on an error."""
        path = self.tmp / f"{zone}.axfr"
        path.write_text(self.axfr_text(zone))
        proc = run(["ldns-verify-zone", path], check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return path

    def signature_counts(self):
        """(RRsets signed, signatures made) of each "signed N RRsets, M signatures" log line."""
        return [(int(m.group(1)), int(m.group(2)))
                for m in (re.search(r"signed (\d+) RRsets, (\d+) signatures", line)
                          for line in self.logged(r"signed \d+ RRsets"))]

    def control(self, *args):
        """Send one request to the control socket; returns the response text.

        The frame is a 4-byte big-endian length and the arguments separated
        by NUL bytes, as danezone(8) sends them.
        """
        text = "\0".join(args).encode()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(10)
            sock.connect(str(self.state / "control.sock"))
            sock.sendall(len(text).to_bytes(4, "big") + text)
            header = b""
            while len(header) < 4:
                chunk = sock.recv(4 - len(header))
                assert chunk, "the control socket closed without a response"
                header += chunk
            length = int.from_bytes(header, "big")
            body = b""
            while len(body) < length:
                chunk = sock.recv(length - len(body))
                assert chunk, "the control socket closed in the middle of a response"
                body += chunk
        return body.decode()

    def stop(self):
        return self.proc.stop()


@pytest.fixture
def daemon(tmp_path, softhsm, servers):
    return DaemonSetup(tmp_path, softhsm, servers)
