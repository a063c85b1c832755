"""Helpers for the fault, load and clock tests of danezoned.

Each test runs the real daemon with `-f` against a SoftHSM2 token (through
the p11shim module where a test injects HSM faults), serving example.net
on 127.0.0.1 with a TLSA record made from a certificate.  What the daemon
serves is checked by transferring the zone with dnspython and running
ldns-verify-zone on the result, so the verdict comes from ldns, not from
danezone.

Faults come from the outside as a user could cause them: flag files that
the shim module checks, a small tmpfs that fills up, a read-only bind
mount, and libfaketime for the daemon's wall clock.
"""
import errno
import os
import re
import socket
import struct
import subprocess
import textwrap

import dns.exception
import dns.message
import dns.query
import dns.rdataclass
import dns.rdatatype
import dns.zone
import pytest

from conftest import DANEZONED, free_port, run, wait_for
from hsm_helpers import P11_SHIM
from mail_helpers import Pki, sha256_hex, spki_of_cert

ZONE = "example.net."
HOST = "mx1.example.net"
# libfaketime's library for programs with threads; Debian package libfaketime.
LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"

SOURCE = """$ORIGIN example.net.
$TTL 3600
@ SOA ns1 hostmaster 1 7200 3600 1209600 300
@ NS ns1
@ MX 10 mx1
ns1 A 127.0.0.1
mx1 A 127.0.0.1
"""

# A policy with one CSK and the defaults of the schema; the clock tests
# give their own.
CSK_POLICY = """\
keys:
  - role: csk
    algorithm: ECDSAP256SHA256
    lifetime: unlimited
"""


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    """Two TLS certificates for mx1.example.net with different keys: (first, second)."""
    pki = Pki(tmp_path_factory.mktemp("pki"))
    first, _ = pki.server("mx1-first", pki.key("mx1-first", "ec"), host=HOST)
    second, _ = pki.server("mx1-second", pki.key("mx1-second", "ec"), host=HOST)
    return first, second


def tlsa_rdata(cert):
    """The 3 1 1 TLSA RDATA of a certificate, from openssl and hashlib."""
    return f"3 1 1 {sha256_hex(spki_of_cert(cert))}"


def faketime_env(offset):
    """Environment that runs a program with its wall clock moved by `offset` ("+7d").

    CLOCK_MONOTONIC and CLOCK_BOOTTIME stay true, as they do when a real
    clock is set wrong, so the daemon can compare them with the wall clock.
    ASan checks that its runtime is the first library loaded, which a
    preloaded libfaketime breaks; the check is switched off, not ASan.
    """
    asan = os.environ.get("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1")
    return {
        "LD_PRELOAD": LIBFAKETIME,
        "FAKETIME": offset,
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        "ASAN_OPTIONS": asan + ":verify_asan_link_order=0",
    }


def require_faketime():
    if not os.path.exists(LIBFAKETIME):
        pytest.skip(f"{LIBFAKETIME} is missing; install the Debian package faketime")


class ServedZone:
    """One AXFR of example.net from the daemon, written to a file and checked by ldns."""

    def __init__(self, path, messages_zone):
        self.path = str(path)
        self.zone = messages_zone
        soa = messages_zone.find_rdataset(ZONE, dns.rdatatype.SOA)
        self.serial = soa[0].serial

    def rdatas(self, owner, rdtype):
        node = self.zone.get_node(owner)
        if node is None:
            return []
        rdataset = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.from_text(rdtype))
        return [] if rdataset is None else [r.to_text() for r in rdataset]

    def tlsa(self):
        return self.rdatas(f"_25._tcp.{HOST}.", "TLSA")

    def signatures(self):
        """Every RRSIG rdata of the zone."""
        return [rdata for _, _, rdata in self.zone.iterate_rdatas()
                if rdata.rdtype == dns.rdatatype.RRSIG]

    def key_tags_signing(self, covered="SOA"):
        """Key tags of the RRSIGs over the apex RRset of type `covered`."""
        rtype = dns.rdatatype.from_text(covered)
        return sorted(r.key_tag for r in self.signatures() if r.type_covered == rtype)


def verify_zone_file(path, env=None):
    """Run ldns-verify-zone on a zone file; returns the CompletedProcess."""
    return run(["ldns-verify-zone", path], check=False, env=env, timeout=60)


class Danezoned:
    """danezoned with a configuration for example.net in `folder`.

    `output_dir` is where the signed zone, snapshot and journal go (the
    zone's output folder); `state_dir` contains the key state.  `module` replaces the token's PKCS#11 module (the shim
    with its real module in DZ_SHIM_MODULE).
    """

    def __init__(self, folder, servers, softhsm, certificate, *, module=None, env=None,
                 policy=CSK_POLICY, server_yaml="", output_dir=None, state_dir=None):
        self.folder = folder
        self.servers = servers
        self.softhsm = softhsm
        self.port = free_port()
        self.secondary_port = free_port()
        self.state_dir = state_dir or folder / "state"
        self.output_dir = output_dir or folder / "signed"
        self.output = self.output_dir / "example.net.zone"
        self.socket = folder / "control.sock"
        self.source = folder / "example.net.zone"
        self.certificate = folder / "mx1.pem"
        self.config = folder / "danezone.yaml"
        self.module = module or softhsm.module
        self.env = dict(softhsm.env)
        if module == P11_SHIM:
            self.env["DZ_SHIM_MODULE"] = softhsm.module
        self.env.update(env or {})
        self.process = None
        self.runs = 0
        self.source.write_text(SOURCE)
        self.set_certificate(certificate)
        self.write_config(policy, server_yaml)

    def write_config(self, policy, server_yaml=""):
        server = textwrap.indent(textwrap.dedent(server_yaml), "  ")
        # The secondary's port has no server: it only opens transfers and
        # queries from 127.0.0.1 to the tests, so it gets no NOTIFY.
        self.config.write_text(
            "server:\n"
            f"  state-dir: {self.state_dir}\n"
            f"  listen: [127.0.0.1@{self.port}]\n"
            f"  control-socket: {self.socket}\n"
            "  control-mode: \"0600\"\n"
            "  log-level: info\n"
            "  allow-query: [127.0.0.1]\n"
            f"{server}"
            "hsm:\n"
            "  token:\n"
            f"    module: {self.module}\n"
            f"    token-label: {self.softhsm.label}\n"
            f"    pin-file: {self.softhsm.pin_file}\n"
            "secondaries:\n"
            "  tests:\n"
            f"    addresses: [127.0.0.1@{self.secondary_port}]\n"
            "    notify: false\n"
            "    allow-transfer: true\n"
            "policies:\n"
            "  faults:\n" + textwrap.indent(textwrap.dedent(policy), "    ") +
            "zones:\n"
            "  - name: example.net\n"
            f"    source: {self.source}\n"
            "    policy: faults\n"
            f"    output: {self.output}\n"
            "    secondaries: [tests]\n"
            "    mail:\n"
            "      hosts:\n"
            f"        - name: {HOST}\n"
            "          ports: [25]\n"
            f"          certificates: [{self.certificate}]\n"
            "          tlsa: [\"3 1 1\"]\n"
            "          ttl: 5m\n")

    def add_hosts(self, count):
        """Replace the zone source atomically with one that has `count` more A records."""
        extra = "".join(f"host{i} A 192.0.2.{i % 250 + 1}\n" for i in range(count))
        temporary = self.folder / "example.net.zone.tmp-write"
        temporary.write_text(SOURCE + extra)
        os.rename(temporary, self.source)

    def set_certificate(self, pem):
        """Replace the certificate file with `pem` atomically, as certbot does."""
        temporary = self.folder / "mx1.pem.tmp-write"
        with open(pem, "rb") as f:
            temporary.write_bytes(f.read())
        os.rename(temporary, self.certificate)

    # Process control.

    def start(self, env=None, wait=True):
        """Start `danezoned -f`; with `wait`, return once it logged "started"."""
        self.runs += 1
        full_env = dict(self.env)
        full_env.update(env or {})
        # The tests run as root in CI, where danezoned needs leave to stay root.
        allow_root = ["--allow-root"] if os.geteuid() == 0 else []
        self.process = self.servers.start([DANEZONED, "-c", self.config, "-f", *allow_root],
                                          self.folder / f"danezoned.{self.runs}.log",
                                          env=full_env)
        if wait:
            self.wait_log(r"\bstarted: ", timeout=60, what="danezoned to start")
        return self.process

    def stop(self):
        """Stop with SIGTERM and return the exit status."""
        return self.process.stop()

    def wait_exit(self, timeout=60):
        try:
            return self.process.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"danezoned still runs after {timeout} s\n{self.log()}")

    def log(self):
        return self.process.output()

    def log_lines(self, pattern):
        """Log lines of the current run that match the regular expression."""
        regex = re.compile(pattern)
        return [line for line in self.log().splitlines() if regex.search(line)]

    def wait_log(self, pattern, timeout=30, what=None, count=1):
        """Wait until `count` lines of this run match; fails early if the daemon exits."""
        def seen():
            if not self.process.running():
                pytest.fail(f"danezoned exited with status {self.process.proc.returncode} "
                            f"while waiting for {what or pattern}\n{self.log()}")
            return len(self.log_lines(pattern)) >= count
        wait_for(seen, timeout=timeout, what=f"{what or pattern}; log:\n{self.log()[-4000:]}")

    # Control socket.

    def control(self, *args, timeout=30):
        """Send one request to the control socket and return the response text.

        The frame format is the one danezone(8) uses: a 4-byte big-endian
        length, then the command and its arguments separated by NUL bytes.
        The response starts with "ok" or "error CODE MESSAGE".
        """
        request = "\0".join(args).encode()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(self.socket))
            sock.sendall(struct.pack(">I", len(request)) + request)
            header = receive_exactly(sock, 4)
            (length,) = struct.unpack(">I", header)
            return receive_exactly(sock, length).decode()

    # DNS queries and transfers from 127.0.0.1, as from a secondary.

    def serial(self, timeout=2):
        """SOA serial served over UDP, or None when no response comes."""
        query = dns.message.make_query(ZONE, "SOA")
        try:
            response = dns.query.udp(query, "127.0.0.1", port=self.port, timeout=timeout)
        except (dns.exception.Timeout, OSError):
            return None
        for rrset in response.answer:
            if rrset.rdtype == dns.rdatatype.SOA:
                return rrset[0].serial
        return None

    def wait_serial(self, predicate, timeout=30, what="a new serial"):
        return wait_for(lambda: (lambda s: s if s is not None and predicate(s) else None)(
            self.serial()), timeout=timeout, what=what)

    def transfer(self, name="axfr", verify=True, verify_env=None):
        """AXFR the zone into FOLDER/NAME.zone; with `verify`, ldns-verify-zone must pass."""
        messages = dns.query.xfr("127.0.0.1", ZONE, port=self.port, timeout=10, lifetime=60,
                                 relativize=False)
        zone = dns.zone.from_xfr(messages, relativize=False, check_origin=False)
        path = self.folder / f"{name}.zone"
        zone.to_file(str(path), relativize=False, want_origin=False)
        served = ServedZone(path, zone)
        if verify:
            proc = verify_zone_file(str(path), env=verify_env)
            assert proc.returncode == 0, (
                f"ldns-verify-zone rejects the zone served as serial {served.serial}:\n"
                f"{proc.stdout}{proc.stderr}")
        return served


def receive_exactly(sock, size):
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        assert chunk, f"the control socket closed after {len(data)} of {size} bytes"
        data += chunk
    return data


def assert_same_zone(served, reference, when):
    """The zone served `when` is the reference version, record for record."""
    assert served.serial == reference.serial, f"{when}: serial {served.serial}, expected {reference.serial}"
    assert served.zone == reference.zone, f"{when}: the records of serial {served.serial} changed"


def leftover_temporary_files(folder, published_names):
    """Files in `folder` other than the published ones and their lock files."""
    names = set(os.listdir(folder))
    allowed = set(published_names) | {n + ".lock" for n in published_names}
    return sorted(names - allowed)


class Mounts:
    """Mounts made by one test; each is unmounted when the test ends."""

    def __init__(self):
        self.points = []

    def _mount(self, args, point):
        proc = subprocess.run(["mount", *args], capture_output=True, text=True, timeout=30)
        if proc.returncode != 0:
            pytest.skip(f"mount {' '.join(args)} is not permitted here: {proc.stderr.strip()}")
        self.points.append(str(point))

    def tmpfs(self, point, size):
        """Mount a tmpfs of `size` ("4m") on `point` (created when missing)."""
        os.makedirs(point, exist_ok=True)
        self._mount(["-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(point)], point)

    def read_only(self, point):
        """Make the folder `point` read-only with a read-only bind mount on itself.

        A chmod would not do: the tests run as root, who may write anyway.
        """
        self._mount(["--bind", str(point), str(point)], point)
        proc = subprocess.run(["mount", "-o", "remount,bind,ro", str(point)],
                              capture_output=True, text=True, timeout=30)
        assert proc.returncode == 0, proc.stderr

    def unmount(self, point):
        point = str(point)
        proc = subprocess.run(["umount", point], capture_output=True, text=True, timeout=30)
        assert proc.returncode == 0, proc.stderr
        self.points.remove(point)

    def writable(self, point):
        """End read_only(): make the bind mount writable again.

        Remounting, not unmounting, because the daemon keeps files open there.
        """
        proc = subprocess.run(["mount", "-o", "remount,bind,rw", str(point)],
                              capture_output=True, text=True, timeout=30)
        assert proc.returncode == 0, proc.stderr

    def unmount_all(self):
        for point in reversed(self.points):
            # Lazy, so a process with a file open there cannot keep the mount.
            subprocess.run(["umount", "-l", point], capture_output=True, timeout=30)
        self.points = []


@pytest.fixture
def mounts(servers):
    """Mounts for one test; the servers it started stop before the mounts go."""
    made = Mounts()
    yield made
    for server in reversed(servers.started):
        server.stop()
    made.unmount_all()


def fill_file_system(path, chunk=64 * 1024):
    """Write zeros to `path` until the file system is full; returns the bytes written."""
    written = 0
    block = b"\0" * chunk
    with open(path, "wb", buffering=0) as f:
        while True:
            try:
                written += f.write(block)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                if chunk == 1:
                    return written
                chunk //= 2
                block = block[:chunk]
