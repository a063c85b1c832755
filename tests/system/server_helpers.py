"""Helpers for the DNS server system tests: signed test zones made with
ldns-signzone, the dz-serve test driver, and NSD and BIND secondaries.

Everything listens on 127.0.0.1 with ephemeral ports and stops at the end
of the test that started it.
"""
import base64
import os
import selectors
import subprocess
import time

import dns.message
import dns.query
import dns.rdatatype
import dns.tsigkeyring
import dns.zone
import pytest

from conftest import BUILDDIR, run, wait_for

DZ_SERVE = os.path.join(BUILDDIR, "tests", "tools", "dz-serve")
ZONE = "example.com."
KEY_NAME = "xfr"
KEY_SECRET = base64.b64encode(b"danezone-test-transfer-key-32byt").decode()
KEY_SPEC = f"hmac-sha256:{KEY_NAME}:{KEY_SECRET}"
KEYRING = dns.tsigkeyring.from_text({KEY_NAME: ("hmac-sha256", KEY_SECRET)})

UNSIGNED_TEMPLATE = """$ORIGIN example.com.
$TTL 3600
@ IN SOA ns1 hostmaster {serial} 7200 3600 1209600 300
@ IN NS ns1
@ IN MX 10 mail
ns1 IN A 127.0.0.1
mail {mail_ttl} IN A 192.0.2.25
_25._tcp.mail 300 IN TLSA 3 1 1 {tlsa}
{extra}"""


class ZoneSigner:
    """Signs versions of example.com. with ldns-signzone and one pair of keys."""

    def __init__(self, folder):
        self.folder = str(folder)
        os.makedirs(self.folder, exist_ok=True)
        self.ksk = run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", ZONE], cwd=self.folder).stdout.strip()
        self.zsk = run(["ldns-keygen", "-a", "ECDSAP256SHA256", ZONE], cwd=self.folder).stdout.strip()

    def sign(self, serial, tlsa="11" * 32, mail_ttl=3600, salt="aabb", hosts=0):
        """Write and sign one version; return the path of the signed zone file."""
        extra = "".join(f"host{i} IN A 192.0.2.{i % 250 + 1}\n" for i in range(hosts))
        unsigned = os.path.join(self.folder, f"example.com.{serial}")
        with open(unsigned, "w") as f:
            f.write(UNSIGNED_TEMPLATE.format(serial=serial, tlsa=tlsa, mail_ttl=mail_ttl, extra=extra))
        run(["ldns-signzone", "-n", "-s", salt, "-f", unsigned + ".signed", unsigned,
             self.ksk, self.zsk], cwd=self.folder)
        return unsigned + ".signed"


def zone_records(path):
    """The records of a zone file as a set of (name, ttl, type, rdata) text tuples."""
    zone = dns.zone.from_file(path, origin=ZONE, relativize=False, check_origin=False)
    return records_of(zone.iterate_rdatas())


def records_of(triples):
    return {(name.to_text().lower(), ttl, dns.rdatatype.to_text(rdata.rdtype), rdata.to_text().lower())
            for name, ttl, rdata in triples}


def write_diff(old_path, new_path, out_path):
    """Write the diff between two zone files for dz-serve's `diff` command.

    Records are compared with their TTL, so a TTL change is a removal and an
    addition, as IXFR has it (RFC 1995).  The new SOA is the one added SOA.
    """
    def lines(path):
        # Compared as zone_records() does, written with the RDATA's own case (base64).
        zone = dns.zone.from_file(str(path), origin=ZONE, relativize=False, check_origin=False)
        return {(name.to_text().lower(), ttl, dns.rdatatype.to_text(rdata.rdtype),
                 rdata.to_text().lower()):
                f"{name.to_text()} {ttl} IN {dns.rdatatype.to_text(rdata.rdtype)} {rdata.to_text()}"
                for name, ttl, rdata in zone.iterate_rdatas()}

    old = lines(old_path)
    new = lines(new_path)
    with open(out_path, "w") as f:
        for sign, mine, theirs in (("-", old, new), ("+", new, old)):
            for key in sorted(mine.keys() - theirs.keys()):
                if key[2] == "SOA" and sign == "-":
                    continue
                f.write(f"{sign}{mine[key]}\n")
    return out_path


def axfr_records(port, keyring=None, keyname=None):
    """Transfer example.com. from 127.0.0.1:port and return its records as zone_records() does."""
    messages = dns.query.xfr("127.0.0.1", ZONE, port=port, timeout=10, lifetime=60,
                             keyring=keyring, keyname=keyname, relativize=False)
    zone = dns.zone.from_xfr(messages, relativize=False, check_origin=False)
    return records_of(zone.iterate_rdatas())


def soa_serial(port, keyring=None, keyname=None):
    """Serial that 127.0.0.1:port serves for example.com., or None when it does not answer."""
    query = dns.message.make_query(ZONE, "SOA")
    if keyring:
        query.use_tsig(keyring, keyname=keyname)
    try:
        response = dns.query.udp(query, "127.0.0.1", port=port, timeout=2)
    except (dns.exception.Timeout, OSError):
        return None
    for rrset in response.answer:
        if rrset.rdtype == dns.rdatatype.SOA:
            return rrset[0].serial
    return None


class DzServe:
    """The dz-serve test driver, driven through its standard input."""

    def __init__(self, tmp_path, args, zone_file=None):
        self.state = tmp_path / "dz-state"
        self.log_path = tmp_path / "dz-serve.log"
        self.log = open(self.log_path, "w")
        cmd = [DZ_SERVE, "--state", str(self.state), "--zone", ZONE, "--listen", "127.0.0.1@0",
               *args]
        if zone_file:
            cmd.append(str(zone_file))
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log, text=True, bufsize=1)
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.proc.stdout, selectors.EVENT_READ)
        line = self._line(30)
        assert line.startswith("ready "), f"dz-serve did not start: {line!r}\n{self.output()}"
        self.port = int(line.split()[1])

    def _line(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.selector.select(timeout=0.1):
                line = self.proc.stdout.readline()
                if line == "":
                    pytest.fail(f"dz-serve exited with {self.proc.wait()}\n{self.output()}")
                return line.strip()
        pytest.fail(f"dz-serve printed nothing for {timeout} s\n{self.output()}")

    def command(self, text, expected, timeout=60):
        """Send one command line; return the reply line, which must start with `expected`."""
        self.proc.stdin.write(f"{text}\n")
        self.proc.stdin.flush()
        line = self._line(timeout)
        assert line.startswith(expected + " "), f"{text} failed: {line}\n{self.output()}"
        return line

    def publish(self, path):
        """Publish a signed zone file in full; return the new serial."""
        return int(self.command(f"publish {path}", "published").split()[1])

    def diff(self, path):
        """Commit a diff file (see write_diff) with the fast path; return the new serial."""
        return int(self.command(f"diff {path}", "published").split()[1])

    def materialize(self):
        """Rewrite the snapshot and zone text file; return their serial."""
        return int(self.command("materialize", "materialized").split()[1])

    def status(self):
        """Serials of the published files: a dict with serial, snapshot, text and pending."""
        fields = self.command("status", "status").split()[1:]
        return {fields[i]: int(fields[i + 1]) for i in range(0, len(fields), 2)}

    def output(self):
        self.log.flush()
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def running(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=20)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()
        return self.proc.returncode


@pytest.fixture
def dz_serve(tmp_path):
    """Start dz-serve with dz_serve(args, zone_file); stopped at test end."""
    started = []

    def start(args, zone_file=None):
        server = DzServe(tmp_path, args, zone_file)
        started.append(server)
        return server

    yield start
    for server in started:
        assert server.stop() == 0, f"dz-serve did not stop cleanly:\n{server.output()}"


def start_nsd(servers, folder, primary_port, port, zones=(ZONE,)):
    """Start NSD on 127.0.0.1:port as a TSIG secondary of 127.0.0.1:primary_port.

    `zones` are the zones it transfers.  Returns the server and the path of its log.
    """
    folder = str(folder)
    os.makedirs(folder, exist_ok=True)
    conf = os.path.join(folder, "nsd.conf")
    with open(conf, "w") as f:
        f.write(f"""server:
    ip-address: 127.0.0.1@{port}
    port: {port}
    username: ""
    chroot: ""
    zonesdir: "{folder}"
    database: ""
    pidfile: "{folder}/nsd.pid"
    xfrdfile: "{folder}/xfrd.state"
    xfrdir: "{folder}"
    zonelistfile: "{folder}/zone.list"
    logfile: "{folder}/nsd.log"
    verbosity: 2
    server-count: 1
remote-control:
    control-enable: no
key:
    name: "{KEY_NAME}"
    algorithm: hmac-sha256
    secret: "{KEY_SECRET}"
""")
        for zone in zones:
            f.write(f"""zone:
    name: "{zone}"
    zonefile: "{zone}zone"
    allow-notify: 127.0.0.1 {KEY_NAME}
    request-xfr: 127.0.0.1@{primary_port} {KEY_NAME}
    provide-xfr: 127.0.0.1 NOKEY
""")
    run(["nsd-checkconf", conf])
    server = servers.start(["nsd", "-d", "-c", conf], os.path.join(folder, "nsd.stdout"))
    return server, os.path.join(folder, "nsd.log")


def start_named(servers, folder, primary_port, port, zones=(ZONE,), xfer_debug=False):
    """Start BIND on 127.0.0.1:port as a TSIG secondary of 127.0.0.1:primary_port.

    `zones` are the zones it transfers.  With xfer_debug, incoming transfers
    are logged at debug level 3, where BIND names each one as IXFR
    ("got incremental response") or AXFR ("got nonincremental response").
    Returns the server and the path of its log.
    """
    folder = str(folder)
    os.makedirs(folder, exist_ok=True)
    conf = os.path.join(folder, "named.conf")
    with open(conf, "w") as f:
        f.write(f"""options {{
    directory "{folder}";
    listen-on port {port} {{ 127.0.0.1; }};
    listen-on-v6 {{ none; }};
    pid-file "{folder}/named.pid";
    recursion no;
    dnssec-validation no;
    notify no;
    allow-transfer {{ any; }};
    request-ixfr yes;
}};
controls {{ }};
key "{KEY_NAME}" {{ algorithm hmac-sha256; secret "{KEY_SECRET}"; }};
server 127.0.0.1 {{ keys {{ {KEY_NAME}; }}; }};
logging {{
    channel main {{ file "{folder}/named.log"; severity info; print-time yes; print-category yes; }};
    channel transfers {{ file "{folder}/named.log"; severity {"debug 3" if xfer_debug else "info"}; print-time yes; print-category yes; }};
    category default {{ main; }};
    category xfer-in {{ transfers; }};
    category notify {{ main; }};
}};
""")
        for zone in zones:
            f.write(f"""zone "{zone}" {{
    type secondary;
    primaries port {primary_port} {{ 127.0.0.1 key {KEY_NAME}; }};
    file "{zone}db";
    masterfile-format text;
}};
""")
    run(["named-checkconf", conf])
    server = servers.start(["named", "-f", "-c", conf, "-n", "1"], os.path.join(folder, "named.stdout"))
    return server, os.path.join(folder, "named.log")


def wait_for_serial(port, serial, what, timeout=60):
    wait_for(lambda: soa_serial(port) == serial, timeout=timeout, what=f"{what} to serve serial {serial}")
