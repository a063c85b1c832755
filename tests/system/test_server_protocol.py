"""The DNS server against clients: TSIG and access lists on transfers,
IXFR over UDP and TCP, NOTIFY retries, malformed packets and TCP limits.

The clients are dig, kdig and dnspython.  Expected responses come from the
RFCs (1995, 1996, 5936, 8945), not from danezone's own output.
"""
import base64
import socket
import struct
import threading
import time

import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdtypes.ANY.TSIG
import dns.rdatatype
import dns.rrset
import dns.tsig
import dns.tsigkeyring
import pytest

from conftest import run, wait_for
from server_helpers import (KEY_NAME, KEY_SECRET, KEY_SPEC, KEYRING, ZONE, ZoneSigner,  # noqa: F401
                            axfr_records, dz_serve, soa_serial, zone_records)

SHA384_SECRET = base64.b64encode(b"another-secret-for-hmac-sha384-tests").decode()
SHA512_SECRET = base64.b64encode(b"a-third-secret-for-the-hmac-sha512-test").decode()


@pytest.fixture
def signed(tmp_path):
    signer = ZoneSigner(tmp_path / "keys")
    return signer


def start(dz_serve, zone_file, *extra):  # noqa: F811
    return dz_serve(["--key", KEY_SPEC,
                     "--key", f"hmac-sha384:k384:{SHA384_SECRET}",
                     "--key", f"hmac-sha512:k512:{SHA512_SECRET}",
                     "--allow-transfer", f"127.0.0.1 key {KEY_NAME}",
                     "--allow-transfer", "127.0.0.1 key k384",
                     "--allow-transfer", "127.0.0.1 key k512",
                     *extra], zone_file)


def sign_at(message, when):
    """Sign `message` with the transfer key as if at time `when`; return the wire form and MAC."""
    key = dns.tsig.Key(KEY_NAME, KEY_SECRET, "hmac-sha256")
    wire = bytearray(message.to_wire())
    unsigned = dns.rdtypes.ANY.TSIG.TSIG(dns.rdataclass.ANY, dns.rdatatype.TSIG, key.algorithm,
                                         0, 300, b"", message.id, 0, b"")
    signed, _ = dns.tsig.sign(bytes(wire), key, unsigned, time=when)
    rdata = signed.to_wire()
    wire += key.name.to_wire() + struct.pack(">HHIH", dns.rdatatype.TSIG, dns.rdataclass.ANY, 0,
                                             len(rdata)) + rdata
    wire[10:12] = struct.pack(">H", struct.unpack(">H", wire[10:12])[0] + 1)
    return bytes(wire), signed.mac


def dig(port, *args):
    return run(["dig", "@127.0.0.1", "-p", str(port), "+time=5", "+tries=1", *args], check=False).stdout


def test_axfr_tsig_with_dig_and_kdig(tmp_path, signed, dz_serve):  # noqa: F811
    # A zone large enough for several messages, so every TSIG after the first is checked too.
    zone_file = signed.sign(1, hosts=3000)
    server = start(dz_serve, zone_file)
    expected = len(zone_records(zone_file)) + 1  # dig counts the closing SOA

    for algorithm, name, secret in (("hmac-sha256", KEY_NAME, KEY_SECRET),
                                    ("hmac-sha384", "k384", SHA384_SECRET),
                                    ("hmac-sha512", "k512", SHA512_SECRET)):
        out = dig(server.port, ZONE, "AXFR", "-y", f"{algorithm}:{name}:{secret}")
        assert "Transfer failed" not in out, out
        assert "tsig verify failure" not in out.lower(), out
        size = [line for line in out.splitlines() if "XFR size" in line]
        assert size, out
        assert f"XFR size: {expected} records" in size[0], size[0]
        assert "messages 1," not in size[0], "the zone should need several messages"

    out = run(["kdig", "@127.0.0.1", "-p", str(server.port), "AXFR", ZONE,
               "-y", f"hmac-sha256:{KEY_NAME}:{KEY_SECRET}", "+timeout=5"], check=False).stdout
    assert "TSIG" in out, out
    assert "NOERROR" in out, out
    assert ";; ERROR" not in out, out
    assert axfr_records(server.port, KEYRING, KEY_NAME) == zone_records(zone_file)


def test_axfr_without_or_with_wrong_tsig_refused(tmp_path, signed, dz_serve):  # noqa: F811
    server = start(dz_serve, signed.sign(1))

    # No TSIG: the transfer access list requires the key.
    out = dig(server.port, ZONE, "AXFR")
    assert "Transfer failed" in out, out
    query = dns.message.make_query(ZONE, "AXFR")
    response = dns.query.tcp(query, "127.0.0.1", port=server.port, timeout=5)
    assert response.rcode() == dns.rcode.REFUSED

    # Wrong secret: NOTAUTH with BADSIG, unsigned (RFC 8945 section 5.2.2).
    wrong = base64.b64encode(b"not-the-right-secret-at-all-0000").decode()
    out = dig(server.port, ZONE, "AXFR", "-y", f"hmac-sha256:{KEY_NAME}:{wrong}")
    assert "Transfer failed" in out or "NOTAUTH" in out, out
    query = dns.message.make_query(ZONE, "AXFR")
    query.use_tsig(dns.tsigkeyring.from_text({KEY_NAME: ("hmac-sha256", wrong)}), keyname=KEY_NAME)
    with pytest.raises(dns.tsig.PeerBadSignature):
        dns.query.tcp(query, "127.0.0.1", port=server.port, timeout=5)

    # Unknown key name: BADKEY.
    query = dns.message.make_query(ZONE, "AXFR")
    query.use_tsig(dns.tsigkeyring.from_text({"nobody": ("hmac-sha256", KEY_SECRET)}), keyname="nobody")
    with pytest.raises(dns.tsig.PeerBadKey):
        dns.query.tcp(query, "127.0.0.1", port=server.port, timeout=5)

    # Time outside the fudge: NOTAUTH with BADTIME, signed with the key (RFC 8945 section 5.2.3).
    query = dns.message.make_query(ZONE, "SOA")
    wire, mac = sign_at(query, int(time.time()) - 3600)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5)
        sock.sendto(wire, ("127.0.0.1", server.port))
        reply, _ = sock.recvfrom(65535)
    with pytest.raises(dns.tsig.PeerBadTime):
        dns.message.from_wire(reply, keyring=KEYRING, request_mac=mac)

    assert "TSIG BADSIG for key xfr." in server.output()
    assert "TSIG BADKEY for key nobody." in server.output()
    assert soa_serial(server.port) == 1


def test_ixfr_answers(tmp_path, signed, dz_serve):  # noqa: F811
    v1 = signed.sign(1, hosts=40)
    v2 = signed.sign(2, hosts=40, tlsa="22" * 32)
    v3 = signed.sign(3, hosts=40, tlsa="22" * 32, salt="ccdd")
    server = start(dz_serve, v1)
    assert server.publish(v2) == 2
    assert server.publish(v3) == 3

    def ixfr(serial, udp):
        query = dns.message.make_query(ZONE, "IXFR", use_edns=0 if udp else None)
        query.authority.append(dns.rrset.from_text(ZONE, 0, "IN", "SOA",
                                                   f"ns1.{ZONE} hostmaster.{ZONE} {serial} 1 1 1 1"))
        query.use_tsig(KEYRING, keyname=KEY_NAME)
        if udp:
            return [dns.query.udp(query, "127.0.0.1", port=server.port, timeout=5)]
        return list(dns.query.xfr("127.0.0.1", ZONE, rdtype="IXFR", serial=serial, port=server.port,
                                  keyring=KEYRING, keyname=KEY_NAME, relativize=False, timeout=5))

    def answer_rrs(messages):
        return [(rrset.name.to_text(), rrset.rdtype, rdata)
                for message in messages for rrset in message.answer for rdata in rrset]

    # RFC 1995 section 4: SOA 3, then per version SOA old, removed, SOA new, added, then SOA 3.
    rrs = answer_rrs(ixfr(2, udp=False))
    positions = [i for i, (_, rdtype, _) in enumerate(rrs) if rdtype == dns.rdatatype.SOA]
    assert [rrs[i][2].serial for i in positions] == [3, 2, 3, 3]
    removed = rrs[positions[1] + 1:positions[2]]
    added = rrs[positions[2] + 1:positions[3]]
    removed_nsec3 = [rdata for _, rdtype, rdata in removed if rdtype == dns.rdatatype.NSEC3]
    added_nsec3 = [rdata for _, rdtype, rdata in added if rdtype == dns.rdatatype.NSEC3]
    # The whole chain is swapped, one NSEC3 per name each way: the apex, ns1, mail,
    # the empty non-terminal _tcp.mail, _25._tcp.mail and 40 hosts.
    assert len(removed_nsec3) == 45
    assert len(added_nsec3) == 45
    assert all(rdata.salt == bytes.fromhex("aabb") for rdata in removed_nsec3)
    assert all(rdata.salt == bytes.fromhex("ccdd") for rdata in added_nsec3)

    rrs = answer_rrs(ixfr(1, udp=False))
    assert [rdata.serial for _, rdtype, rdata in rrs if rdtype == dns.rdatatype.SOA] == [3, 1, 2, 2, 3, 3]

    # A current client gets the SOA alone; an older serial that the journal lacks gets the whole zone.
    rrs = answer_rrs(ixfr(3, udp=True))
    assert [rdata.serial for _, _, rdata in rrs] == [3]
    # A serial after ours (RFC 1982) also means the client is current.
    rrs = answer_rrs(ixfr(77, udp=False))
    assert [rdata.serial for _, _, rdata in rrs] == [3]
    rrs = answer_rrs(ixfr(0, udp=False))
    assert rrs[0][2].serial == 3
    assert rrs[-1][2].serial == 3
    assert len(rrs) == len(zone_records(v3)) + 1

    # Over UDP the NSEC3 chain swap does not fit, so only the SOA comes back (RFC 1995 section 2).
    messages = ixfr(2, udp=True)
    assert [rdata.serial for _, _, rdata in answer_rrs(messages)] == [3]
    assert not messages[0].flags & dns.flags.TC


def test_notify_retried_until_acknowledged(tmp_path, signed, dz_serve):  # noqa: F811
    """A fake secondary ignores the first two NOTIFYs and acknowledges the third."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(30)
    port = sock.getsockname()[1]
    received = []

    def secondary():
        while len(received) < 3:
            try:
                data, peer = sock.recvfrom(65535)
            except socket.timeout:
                return
            request = dns.message.from_wire(data, keyring=KEYRING)
            received.append((time.monotonic(), request))
            if len(received) == 3:
                response = dns.message.make_response(request)
                sock.sendto(response.to_wire(), peer)

    thread = threading.Thread(target=secondary)
    thread.start()
    server = start(dz_serve, signed.sign(1), "--secondary", f"127.0.0.1@{port} key {KEY_NAME}",
                   "--notify-retry-ms", "300")
    thread.join(timeout=40)
    sock.close()

    assert len(received) == 3
    for _, request in received:
        assert request.opcode() == dns.opcode.NOTIFY
        assert request.question[0].name.to_text() == ZONE
        assert request.question[0].rdtype == dns.rdatatype.SOA
        assert request.had_tsig
    # Backoff: the second gap is about twice the first (300 ms, then 600 ms).
    first_gap = received[1][0] - received[0][0]
    second_gap = received[2][0] - received[1][0]
    assert second_gap > first_gap
    wait_for(lambda: "NOTIFY for serial 1 acknowledged" in server.output(), timeout=10,
             what="the acknowledgement in the log")
    assert "after 3 attempts" in server.output()


def test_requests_other_than_transfers(tmp_path, signed, dz_serve):  # noqa: F811
    server = start(dz_serve, signed.sign(1), "--allow-notify", "127.0.0.1 key xfr")

    def udp(message):
        return dns.query.udp(message, "127.0.0.1", port=server.port, timeout=5)

    # Other types and other zones: REFUSED.
    assert udp(dns.message.make_query(ZONE, "TLSA")).rcode() == dns.rcode.REFUSED
    assert udp(dns.message.make_query("example.org.", "SOA")).rcode() == dns.rcode.REFUSED
    assert udp(dns.message.make_query("www." + ZONE, "SOA")).rcode() == dns.rcode.REFUSED
    # AXFR over UDP is not defined (RFC 5936 section 4.2), even with the key.
    axfr = dns.message.make_query(ZONE, "AXFR")
    assert udp(axfr).rcode() == dns.rcode.REFUSED
    axfr.use_tsig(KEYRING, keyname=KEY_NAME)
    assert udp(axfr).rcode() == dns.rcode.FORMERR
    # Unknown opcode: NOTIMP.
    update = dns.message.make_query(ZONE, "SOA")
    update.set_opcode(dns.opcode.UPDATE)
    assert udp(update).rcode() == dns.rcode.NOTIMP
    # NOTIFY: acknowledged with the key of the notify access list, refused without it.
    notify = dns.message.make_query(ZONE, "SOA")
    notify.set_opcode(dns.opcode.NOTIFY)
    assert udp(notify).rcode() == dns.rcode.REFUSED
    notify.use_tsig(KEYRING, keyname=KEY_NAME)
    response = udp(notify)
    assert response.rcode() == dns.rcode.NOERROR
    assert response.opcode() == dns.opcode.NOTIFY
    # SOA with EDNS: the answer is authoritative and carries OPT.
    response = udp(dns.message.make_query(ZONE, "SOA", use_edns=0))
    assert response.flags & dns.flags.AA
    assert response.edns == 0
    assert response.answer[0][0].serial == 1


def test_access_lists_by_address_and_key(tmp_path, signed, dz_serve):  # noqa: F811
    """127.0.0.2 is loopback too, so the tests can send from a second source address."""
    server = start(dz_serve, signed.sign(1), "--allow-query", "127.0.0.1")

    def soa_from(source):
        query = dns.message.make_query(ZONE, "SOA")
        return dns.query.udp(query, "127.0.0.1", port=server.port, timeout=5, source=source)

    assert soa_from("127.0.0.1").rcode() == dns.rcode.NOERROR
    assert soa_from("127.0.0.2").rcode() == dns.rcode.REFUSED

    # Transfers need both the address 127.0.0.1 and the key.
    def axfr_from(source):
        query = dns.message.make_query(ZONE, "AXFR")
        query.use_tsig(KEYRING, keyname=KEY_NAME)
        return dns.query.tcp(query, "127.0.0.1", port=server.port, timeout=5, source=source)

    assert axfr_from("127.0.0.1").rcode() == dns.rcode.NOERROR
    assert axfr_from("127.0.0.2").rcode() == dns.rcode.REFUSED
    assert "refused AXFR from 127.0.0.2" in server.output()


def test_malformed_packets_keep_serving(tmp_path, signed, dz_serve):  # noqa: F811
    server = start(dz_serve, signed.sign(1))
    good = dns.message.make_query(ZONE, "SOA").to_wire()
    header = struct.pack(">HHHHHH", 0x4242, 0, 1, 0, 0, 0)
    cases = {
        "empty": b"",
        "short header": b"\x42\x42\x00",
        "no question": struct.pack(">HHHHHH", 0x4242, 0, 0, 0, 0, 0),
        "truncated question": good[:20],
        "label too long": header + b"\x50" + b"a" * 80 + b"\x00\x00\x06\x00\x01",
        "pointer loop": header + b"\xc0\x0c\x00\x06\x00\x01",
        "additional count too high": good[:10] + b"\x00\x05" + good[12:],
        "TSIG not last": good[:10] + b"\x00\x02" + good[12:]
                         + b"\x00\x00\xfa\x00\xff\x00\x00\x00\x00\x00\x00" + b"\x00\x00\x29\x10\x00\x00\x00\x00\x00\x00\x00",
        "response": struct.pack(">HHHHHH", 0x4242, 0x8000, 1, 0, 0, 0) + good[12:],
        "random": bytes(range(256)) * 4,
        "oversized": good + b"\x00" * 20000,
    }
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(1)
    for name, packet in cases.items():
        sock.sendto(packet, ("127.0.0.1", server.port))
        try:
            reply, _ = sock.recvfrom(65535)
        except socket.timeout:
            reply = None
        if reply is not None:
            # Whatever comes back is a FORMERR response to the same ID.
            assert reply[:2] == packet[:2], name
            assert reply[2] & 0x80, name
            assert reply[3] & 0x0f == dns.rcode.FORMERR, name
        else:
            assert name in ("empty", "short header", "response", "random", "oversized"), \
                f"{name}: no reply"
        assert soa_serial(server.port) == 1, f"server stopped answering after {name}"
    sock.close()

    # The same over TCP: garbage closes the connection, the server keeps serving.
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as tcp:
        tcp.sendall(struct.pack(">H", 5) + b"\x00\x01\x02\x03\x04")
        assert tcp.recv(100) == b""
    assert server.running()
    assert soa_serial(server.port) == 1
    assert "FORMERR to 127.0.0.1" in server.output()


def test_slow_tcp_client_cut_off(tmp_path, signed, dz_serve):  # noqa: F811
    server = start(dz_serve, signed.sign(1), "--tcp-idle-ms", "1000")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as idle, \
            socket.create_connection(("127.0.0.1", server.port), timeout=10) as partial:
        # One sends nothing, the other half a length prefix.
        partial.sendall(b"\x00")
        started = time.monotonic()
        assert idle.recv(100) == b""
        assert partial.recv(100) == b""
        assert time.monotonic() - started < 8
    assert "no progress for 1000 ms" in server.output()
    assert soa_serial(server.port) == 1


def test_tcp_connection_limit(tmp_path, signed, dz_serve):  # noqa: F811
    server = start(dz_serve, signed.sign(1), "--tcp-clients", "2")
    query = dns.message.make_query(ZONE, "SOA")
    first = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    second = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    third = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    try:
        # The kernel accepts the third, and the server closes it at once.
        assert third.recv(100) == b""
        wait_for(lambda: "the limit of 2 connections is reached" in server.output(), timeout=10,
                 what="the connection limit in the log")
        # The first two still work.
        response = dns.query.tcp(query, None, sock=first, timeout=5)
        assert response.answer[0][0].serial == 1
        first.close()
        # A slot is free again.
        wait_for(lambda: dns_tcp_serial(server.port) == 1, timeout=10, what="a new TCP connection")
    finally:
        for sock in (first, second, third):
            sock.close()


def dns_tcp_serial(port):
    try:
        response = dns.query.tcp(dns.message.make_query(ZONE, "SOA"), "127.0.0.1", port=port, timeout=2)
    except (OSError, EOFError, dns.exception.DNSException):
        return None
    return response.answer[0][0].serial if response.answer else None


def test_tcp_half_close_gets_reply(tmp_path, signed, dz_serve):  # noqa: F811
    """A client that shuts down its sending side after the request still gets the AXFR."""
    zone_file = signed.sign(1)
    server = start(dz_serve, zone_file, "--allow-transfer", "127.0.0.1")
    query = dns.message.make_query(ZONE, "AXFR").to_wire()
    received = b""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(struct.pack(">H", len(query)) + query)
        sock.shutdown(socket.SHUT_WR)
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    records = 0
    while received:
        (length,) = struct.unpack(">H", received[:2])
        message = dns.message.from_wire(received[2:2 + length], xfr=True, origin=dns.name.from_text(ZONE))
        records += sum(len(rrset) for rrset in message.answer)
        received = received[2 + length:]
    # Every record of the zone plus the closing SOA, then the server closed the connection.
    assert records == len(zone_records(zone_file)) + 1


def test_tcp_pipelined_requests(tmp_path, signed, dz_serve):  # noqa: F811
    """Two requests in one write get two replies, in order, on the same connection."""
    server = start(dz_serve, signed.sign(1))
    first = dns.message.make_query(ZONE, "SOA")
    second = dns.message.make_query(ZONE, "TLSA")
    data = b"".join(struct.pack(">H", len(w)) + w for w in (first.to_wire(), second.to_wire()))
    replies = []
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(data)
        buffer = b""
        while len(replies) < 2:
            chunk = sock.recv(65536)
            assert chunk, "the server closed the connection early"
            buffer += chunk
            while len(buffer) >= 2 and len(buffer) >= 2 + struct.unpack(">H", buffer[:2])[0]:
                (length,) = struct.unpack(">H", buffer[:2])
                replies.append(dns.message.from_wire(buffer[2:2 + length]))
                buffer = buffer[2 + length:]
    assert replies[0].id == first.id
    assert replies[0].answer[0][0].serial == 1
    assert replies[1].id == second.id
    assert replies[1].rcode() == dns.rcode.REFUSED
