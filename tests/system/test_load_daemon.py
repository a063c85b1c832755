"""danezoned under load on loopback: it keeps serving, signing and taking commands.

Each test loads the daemon's DNS server from threads of this process
(parallel AXFR clients, a flood of SOA queries over UDP, TCP clients that
connect and send nothing).  Meanwhile it requests the status over the
control socket and changes the certificate of the mail host, and the new
TLSA record must be published while the load goes on.  The load is bounded
in count and time and aimed only at 127.0.0.1.  Timing checks are generous
functional bounds, not measurements.
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

# Bound for one status request while the server is loaded; a stuck loop
# thread would exceed it by far.
STATUS_TIMEOUT = 15
AXFR_CLIENTS = 50
# Each client transfers until the change is published, at most this often.
AXFR_MAX_ROUNDS = 100
FLOOD_THREADS = 4
FLOOD_QUERIES_PER_THREAD = 5000
# A thread goes on past FLOOD_QUERIES_PER_THREAD until the test stops it,
# so that the flood lasts until the change is published, but never past this.
FLOOD_QUERIES_MAX_PER_THREAD = 4 * FLOOD_QUERIES_PER_THREAD
FLOOD_BURST = 32


def status_answers(daemon):
    """Request the status over the control socket; it must come within STATUS_TIMEOUT seconds."""
    reply = daemon.control("status", "example.net", timeout=STATUS_TIMEOUT)
    assert reply.startswith("ok\n"), reply
    assert "example.net" in reply


def transfer_zone(port):
    messages = dns.query.xfr("127.0.0.1", ZONE, port=port, timeout=20, lifetime=60,
                             relativize=False)
    return dns.zone.from_xfr(messages, relativize=False, check_origin=False)


def test_parallel_axfr_clients(softhsm, tmp_path, servers, certificates):  # noqa: F811
    daemon = Danezoned(tmp_path, servers, softhsm, certificates[0])
    daemon.start()
    before = daemon.transfer("before")
    start = threading.Barrier(AXFR_CLIENTS + 1, timeout=60)
    published = threading.Event()

    def client():
        """Transfer until the change is published, then once more; returns the changed versions."""
        start.wait()
        others = []
        for _ in range(AXFR_MAX_ROUNDS):
            done = published.is_set()
            zone = transfer_zone(daemon.port)
            if zone != before.zone:
                others.append(zone)
            if done:
                break
        return others

    with concurrent.futures.ThreadPoolExecutor(AXFR_CLIENTS) as pool:
        futures = [pool.submit(client) for _ in range(AXFR_CLIENTS)]
        start.wait()
        status_answers(daemon)
        daemon.set_certificate(certificates[1])
        try:
            new_serial = daemon.wait_serial(lambda s: s != before.serial, timeout=60,
                                            what="the certificate change to be published")
        finally:
            published.set()
        status_answers(daemon)
        changed = [zone for f in futures for zone in f.result(timeout=300)]

    after = daemon.transfer("after")
    assert after.serial == new_serial
    assert after.tlsa() == [tlsa_rdata(certificates[1])]
    # Every client transferred the new version at its last round, and each
    # transfer was one whole version: the one before the change or the new one.
    assert len(changed) >= AXFR_CLIENTS
    for zone in changed:
        assert zone == after.zone, "a transfer mixed two versions"
    assert daemon.stop() == 0


class SoaFlood:
    """Threads that send SOA queries over UDP in bursts and count the answers."""

    def __init__(self, port, threads, per_thread, max_per_thread):
        self.port = port
        self.per_thread = per_thread
        self.max_per_thread = max_per_thread
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
            while sent < self.max_per_thread and not (self.stop.is_set() and
                                                      sent >= self.per_thread):
                burst = min(FLOOD_BURST, self.max_per_thread - sent)
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

    flood = SoaFlood(daemon.port, FLOOD_THREADS, FLOOD_QUERIES_PER_THREAD,
                     FLOOD_QUERIES_MAX_PER_THREAD)
    flood.start()
    try:
        status_answers(daemon)
        daemon.set_certificate(certificates[1])
        new_serial = daemon.wait_serial(lambda s: s != before.serial, timeout=60,
                                        what="the certificate change to be published")
        status_answers(daemon)
        # Let the flood see the new serial before it ends.
        time.sleep(0.5)
    finally:
        flood.join()

    assert flood.sent >= FLOOD_THREADS * FLOOD_QUERIES_PER_THREAD
    assert flood.sent <= FLOOD_THREADS * FLOOD_QUERIES_MAX_PER_THREAD
    # UDP may drop some on loopback under load; most must be answered.
    assert flood.answered >= flood.sent // 2, f"{flood.answered} of {flood.sent} answered"
    # The flood saw the change: it was published while the flood went on.
    assert flood.serials == {before.serial, new_serial}
    after = daemon.transfer("after")
    assert after.serial == new_serial
    assert after.tlsa() == [tlsa_rdata(certificates[1])]
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
