"""danezoned under load on loopback: it keeps answering and signing.

Each test loads the daemon's DNS server from threads of this process
(parallel AXFR clients, a flood of SOA queries over UDP, TCP clients that
connect and send nothing) and meanwhile asks for `danezone status` over the
control socket and changes the certificate of the mail host.  The load is
bounded in count and time and aimed only at 127.0.0.1.  Timing checks are
generous functional bounds, not measurements.
"""
import concurrent.futures
import socket
import struct
import threading
import time

import dns.message
import dns.query
import dns.rdatatype
import dns.zone

from fault_helpers import ZONE, Danezoned, certificates, tlsa_rdata  # noqa: F401

# Bound for one `danezone status` while the server is loaded; a stuck loop
# thread would exceed it by far.
STATUS_TIMEOUT = 15
AXFR_CLIENTS = 50
AXFR_ROUNDS = 2
FLOOD_THREADS = 4
FLOOD_QUERIES_PER_THREAD = 5000
FLOOD_BURST = 32


def status_answers(daemon):
    """Run `danezone status` over the control socket within STATUS_TIMEOUT seconds."""
    started = time.monotonic()
    proc = daemon.control("status", check=False, timeout=STATUS_TIMEOUT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "example.net" in proc.stdout
    return time.monotonic() - started


def transfer_zone(port):
    messages = dns.query.xfr("127.0.0.1", ZONE, port=port, timeout=20, lifetime=60,
                             relativize=False)
    return dns.zone.from_xfr(messages, relativize=False, check_origin=False)


def test_parallel_axfr_clients(softhsm, tmp_path, servers, certificates):  # noqa: F811
    daemon = Danezoned(tmp_path, servers, softhsm, certificates[0])
    daemon.start()
    before = daemon.transfer("before")
    start = threading.Barrier(AXFR_CLIENTS + 1, timeout=60)

    def client():
        start.wait()
        return [transfer_zone(daemon.port) for _ in range(AXFR_ROUNDS)]

    with concurrent.futures.ThreadPoolExecutor(AXFR_CLIENTS) as pool:
        futures = [pool.submit(client) for _ in range(AXFR_CLIENTS)]
        start.wait()
        status_answers(daemon)
        daemon.set_certificate(certificates[1])
        transfers = [zone for f in futures for zone in f.result(timeout=300)]

    new_serial = daemon.wait_serial(lambda s: s != before.serial, timeout=60,
                                    what="the certificate change to be published")
    after = daemon.transfer("after")
    assert after.serial == new_serial
    assert after.tlsa() == [tlsa_rdata(certificates[1])]
    # Each transfer is one whole version: the one before the change or the new one.
    assert len(transfers) == AXFR_CLIENTS * AXFR_ROUNDS
    for zone in transfers:
        assert zone == before.zone or zone == after.zone, "a transfer mixed two versions"
    status_answers(daemon)
    assert daemon.stop() == 0


class SoaFlood:
    """Threads that send SOA queries over UDP in bursts and count the answers."""

    def __init__(self, port, threads, per_thread):
        self.port = port
        self.per_thread = per_thread
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.sent = 0
        self.answered = 0
        self.serials = set()
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(threads)]

    def start(self):
        for thread in self.threads:
            thread.start()

    def join(self):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=120)
            assert not thread.is_alive(), "a flood thread did not end"

    def run(self, index):
        query = dns.message.make_query(ZONE, "SOA")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(0.5)
            sent = answered = 0
            serials = set()
            while sent < self.per_thread and not self.stop.is_set():
                burst = min(FLOOD_BURST, self.per_thread - sent)
                for i in range(burst):
                    query.id = (index * 8192 + sent + i) % 65536
                    sock.sendto(query.to_wire(), ("127.0.0.1", self.port))
                sent += burst
                for _ in range(burst):
                    try:
                        wire = sock.recv(4096)
                    except socket.timeout:
                        break
                    response = dns.message.from_wire(wire)
                    answered += 1
                    for rrset in response.answer:
                        if rrset.rdtype == dns.rdatatype.SOA:
                            serials.add(rrset[0].serial)
        with self.lock:
            self.sent += sent
            self.answered += answered
            self.serials |= serials


def test_soa_flood(softhsm, tmp_path, servers, certificates):  # noqa: F811
    daemon = Danezoned(tmp_path, servers, softhsm, certificates[0])
    daemon.start()
    before = daemon.transfer("before")

    flood = SoaFlood(daemon.port, FLOOD_THREADS, FLOOD_QUERIES_PER_THREAD)
    flood.start()
    try:
        status_answers(daemon)
        daemon.set_certificate(certificates[1])
        new_serial = daemon.wait_serial(lambda s: s != before.serial, timeout=60,
                                        what="the certificate change to be published")
        flooding = any(thread.is_alive() for thread in flood.threads)
    finally:
        flood.join()

    # UDP may drop some on loopback under load; most must be answered.
    assert flood.sent == FLOOD_THREADS * FLOOD_QUERIES_PER_THREAD or flooding
    assert flood.answered >= flood.sent // 2, f"{flood.answered} of {flood.sent} answered"
    assert flood.serials <= {before.serial, new_serial}
    after = daemon.transfer("after")
    assert after.serial == new_serial
    assert after.tlsa() == [tlsa_rdata(certificates[1])]
    status_answers(daemon)
    assert daemon.stop() == 0


TCP_LIMIT = 8
IDLE_SECONDS = 3
# The daemon's log line when a connection beyond the limit is closed.
TCP_LIMIT_REACHED = f"the limit of {TCP_LIMIT} connections is reached"


def closed_by_server(sock, timeout):
    """Whether the server closes `sock` within `timeout` seconds (EOF or reset)."""
    sock.settimeout(timeout)
    try:
        return sock.recv(100) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def test_slow_tcp_clients(softhsm, tmp_path, servers, certificates):  # noqa: F811
    daemon = Danezoned(tmp_path, servers, softhsm, certificates[0],
                       server_yaml=f"tcp-max-connections: {TCP_LIMIT}\n"
                                   f"tcp-idle-timeout: {IDLE_SECONDS}s\n")
    daemon.start()
    before = daemon.transfer("before")

    held = []
    opened = []
    extra = []
    try:
        for i in range(TCP_LIMIT):
            sock = socket.create_connection(("127.0.0.1", daemon.port), timeout=10)
            opened.append(time.monotonic())
            if i % 2:
                sock.sendall(struct.pack(">H", 40)[:1])  # half a length prefix
            held.append(sock)
        for _ in range(4):
            extra.append(socket.create_connection(("127.0.0.1", daemon.port), timeout=10))

        for sock in extra:
            assert closed_by_server(sock, IDLE_SECONDS * 10), \
                "a connection beyond the limit stayed open"
        daemon.wait_log(TCP_LIMIT_REACHED, what="the connection limit in the log")
        status_answers(daemon)
        daemon.set_certificate(certificates[1])
        new_serial = daemon.wait_serial(lambda s: s != before.serial, timeout=60,
                                        what="the certificate change to be published")

        # Held connections are closed once idle for the configured time, not before.
        for sock, opened_at in zip(held, opened):
            assert closed_by_server(sock, IDLE_SECONDS * 10), "an idle connection stayed open"
            assert time.monotonic() - opened_at >= IDLE_SECONDS - 0.5, \
                "an idle connection was closed before the idle timeout"
    finally:
        for sock in held + extra:
            sock.close()

    after = daemon.transfer("after")
    assert after.serial == new_serial
    assert after.tlsa() == [tlsa_rdata(certificates[1])]
    assert daemon.stop() == 0
