#!/usr/bin/env python3
"""Write the seed corpus of fuzz_dns_message into tests/fuzz/dns_message/.

Each file is one byte that selects the transport (bit 0: TCP, bit 1: IPv6
source, bit 2: the target signs the request) followed by a DNS request.
The files named found-* are inputs that libFuzzer found and kept after
`-merge=1`, because each reaches code the seeds below do not.  Run it again
after changing the list; the files are committed.
"""
import os
import struct
import time

import dns.edns
import dns.flags
import dns.message
import dns.opcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.tsigkeyring

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dns_message")
UDP, TCP, V6, SIGN = 0, 1, 2, 4


# The fuzz target handles every request at this time (Unix seconds).
TARGET_NOW = 1700000000
SECRET = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="


def query(qtype, zone="example.com.", serial=None, edns=False, tsig=None, opcode=None,
          keyname="xfr", signed_at=TARGET_NOW, edns_version=0):
    msg = dns.message.make_query(zone, qtype)
    if edns:
        msg.use_edns(edns=edns_version)
    msg.id = 0x1234
    if opcode is not None:
        msg.set_opcode(opcode)
    if serial is not None:
        soa = dns.rrset.from_text(zone, 0, "IN", "SOA", f"ns1.{zone} hostmaster.{zone} {serial} 1 1 1 1")
        msg.authority.append(soa)
    if tsig is None:
        return msg.to_wire()
    ring = dns.tsigkeyring.from_text({keyname: (tsig, SECRET)})
    msg.use_tsig(ring, keyname=keyname, fudge=300, algorithm=tsig)
    # dnspython signs with the current time; sign at a fixed one so that the
    # files are the same on every run.
    real_time = time.time
    time.time = lambda: signed_at
    try:
        return msg.to_wire()
    finally:
        time.time = real_time


def query_class(name, qtype, rdclass):
    msg = dns.message.make_query(name, qtype, rdclass=rdclass)
    msg.id = 0x1234
    return msg.to_wire()


def notify_with_soa(serial):
    """A NOTIFY that carries the new SOA in its answer section (RFC 1996 section 3.7)."""
    msg = dns.message.make_query("example.com.", "SOA")
    msg.id = 0x1234
    msg.set_opcode(dns.opcode.NOTIFY)
    msg.answer.append(dns.rrset.from_text("example.com.", 3600, "IN", "SOA",
                                          f"ns1.example.com. hostmaster.example.com. {serial} 1 1 1 1"))
    return msg.to_wire()


def tsig_not_last(signed):
    """Move an OPT after the TSIG RR, which must be the last additional record."""
    arcount = struct.unpack("!H", signed[10:12])[0]
    return signed[:10] + struct.pack("!H", arcount + 1) + signed[12:] + opt_rr()


def with_options(qtype, options, payload=1232, version=0, flags=0):
    """A query with an OPT RR that carries the given EDNS options."""
    msg = dns.message.make_query("example.com.", qtype, use_edns=version, payload=payload,
                                 ednsflags=flags, options=options)
    msg.id = 0x1234
    return msg.to_wire(max_size=65535)


def header(qdcount=1, ancount=0, nscount=0, arcount=0, flags=0):
    return struct.pack("!HHHHHH", 0x1234, flags, qdcount, ancount, nscount, arcount)


QNAME = b"\x07example\x03com\x00"
QUESTION_SOA = QNAME + struct.pack("!HH", 6, 1)


def opt_rr(rdata=b"", owner=b"\x00", payload=1232):
    return owner + struct.pack("!HHIH", 41, payload, 0, len(rdata)) + rdata


def raw_edge_cases():
    """Hand-built messages that dnspython will not write."""
    soa_rdata = b"\xc0\x0c\xc0\x0c" + struct.pack("!IIIII", 1, 1, 1, 1, 1)
    soa_in_authority = b"\xc0\x0c" + struct.pack("!HHIH", 6, 1, 0, len(soa_rdata)) + soa_rdata
    ixfr_question = QNAME + struct.pack("!HH", 251, 1)
    return {
        # Compression pointers.
        "pointer_forward": header() + b"\xc0\x20" + struct.pack("!HH", 6, 1) + b"\x00" * 20 + QNAME,
        "pointer_into_header": header() + b"\xc0\x02" + struct.pack("!HH", 6, 1),
        "pointer_past_end": header() + b"\xc0\xff" + struct.pack("!HH", 6, 1),
        "pointer_chain": header(nscount=1) + ixfr_question + b"\x03sub\xc0\x0c" +
        struct.pack("!HHIH", 6, 1, 0, len(soa_rdata)) + soa_rdata,
        # The SOA's names point at offset 33, which holds a pointer to the question name.
        "pointer_to_pointer": header(nscount=1) + ixfr_question + b"\x03sub\xc0\x0c" +
        struct.pack("!HHIH", 6, 1, 0, 24) + b"\xc0\x21\xc0\x21" + struct.pack("!IIIII", 1, 1, 1, 1, 1),
        "pointer_in_question": header() + b"\x03www\xc0\x0c" + struct.pack("!HH", 6, 1),
        "label_type_reserved": header() + b"\x80\x00" + struct.pack("!HH", 6, 1),
        "ixfr_soa_compressed": header(nscount=1) + ixfr_question + soa_in_authority,
        # Header and section counts.
        "qdcount_zero": header(qdcount=0),
        "qdcount_two": header(qdcount=2) + QUESTION_SOA + QUESTION_SOA,
        "counts_too_high": header(ancount=0xffff, nscount=0xffff, arcount=0xffff) + QUESTION_SOA,
        "response_bit": header(flags=0x8000) + QUESTION_SOA,
        "opcode_status": header(flags=2 << 11) + QUESTION_SOA,
        "rcode_set_in_query": header(flags=0x000f) + QUESTION_SOA,
        # EDNS.
        "opt_two": header(arcount=2) + QUESTION_SOA + opt_rr() + opt_rr(),
        "opt_owner_not_root": header(arcount=1) + QUESTION_SOA + opt_rr(owner=b"\x01a\x00"),
        "opt_rdlength_past_end": header(arcount=1) + QUESTION_SOA + opt_rr(b"\x00\x0a\x00\x08")[:-2],
        "opt_payload_tiny": header(arcount=1) + QUESTION_SOA + opt_rr(payload=1),
        "opt_option_cut": header(arcount=1) + QUESTION_SOA + opt_rr(b"\x00\x0a\x00\x08\x01\x02"),
        "opt_in_answer": header(ancount=1) + QUESTION_SOA + opt_rr(),
    }


def main():
    os.makedirs(HERE, exist_ok=True)
    seeds = {
        "soa_udp": bytes([UDP]) + query("SOA"),
        "soa_edns_v6": bytes([UDP | V6]) + query("SOA", edns=True),
        "axfr_tcp": bytes([TCP]) + query("AXFR"),
        "axfr_udp": bytes([UDP]) + query("AXFR"),
        "axfr_tsig_tcp": bytes([TCP]) + query("AXFR", tsig="hmac-sha256"),
        "axfr_signed_by_target": bytes([TCP | SIGN]) + query("AXFR"),
        "ixfr_signed_by_target": bytes([TCP | SIGN]) + query("IXFR", serial=1),
        "ixfr_udp_signed_by_target": bytes([UDP | SIGN]) + query("IXFR", serial=1, edns=True),
        "notify_signed_by_target": bytes([UDP | SIGN]) + query("SOA", opcode=dns.opcode.NOTIFY),
        "ixfr_tcp": bytes([TCP]) + query("IXFR", serial=1),
        "ixfr_udp_edns": bytes([UDP]) + query("IXFR", serial=1, edns=True),
        "ixfr_current": bytes([TCP]) + query("IXFR", serial=2),
        "ixfr_current_after_diff": bytes([TCP]) + query("IXFR", serial=3),
        "soa_edns_version_1": bytes([UDP]) + query("SOA", edns=True, edns_version=1),
        "axfr_edns_version_1_signed_by_target": bytes([TCP | SIGN]) + query("AXFR", edns=True,
                                                                             edns_version=1),
        "ixfr_unknown_serial": bytes([TCP | V6]) + query("IXFR", serial=77),
        "ixfr_no_soa": bytes([TCP]) + query("IXFR"),
        "notify": bytes([UDP]) + query("SOA", opcode=dns.opcode.NOTIFY),
        "notify_tsig": bytes([UDP]) + query("SOA", opcode=dns.opcode.NOTIFY, tsig="hmac-sha256"),
        "other_zone": bytes([UDP]) + query("SOA", zone="example.org."),
        "other_type": bytes([UDP]) + query("TLSA", zone="example.com."),
        "opcode_update": bytes([UDP]) + query("SOA", opcode=dns.opcode.UPDATE),
        "truncated": bytes([UDP]) + query("SOA")[:20],
        "short": bytes([UDP]) + b"\x12\x34\x00",
        "pointer_loop": bytes([UDP]) + bytes.fromhex("123400000001000000000000c00c00060001"),
        # EDNS options (RFC 6891, 7873, 5001, 7830, 7871) and versions.
        "edns_cookie": bytes([UDP]) + with_options("SOA", [dns.edns.GenericOption(10, b"\x01" * 8)]),
        "edns_cookie_server": bytes([UDP]) + with_options("SOA", [dns.edns.GenericOption(10, b"\x01" * 24)]),
        "edns_nsid": bytes([UDP | V6]) + with_options("SOA", [dns.edns.GenericOption(3, b"")]),
        "edns_padding": bytes([UDP]) + with_options("SOA", [dns.edns.GenericOption(12, b"\x00" * 300)]),
        "edns_client_subnet": bytes([UDP]) + with_options("SOA", [dns.edns.ECSOption("192.0.2.0", 24)]),
        "edns_unknown_option": bytes([UDP]) + with_options("SOA", [dns.edns.GenericOption(65001, b"xyz")]),
        "edns_version_1": bytes([UDP]) + with_options("SOA", [], version=1),
        "edns_do_bit": bytes([UDP]) + with_options("SOA", [], flags=dns.flags.DO),
        "edns_payload_512": bytes([UDP]) + with_options("SOA", [], payload=512),
        "edns_ixfr_signed_by_target": bytes([UDP | SIGN]) + with_options("SOA", [dns.edns.GenericOption(10, b"\x02" * 8)]),
        # TSIG variants: an unknown key, a MAC of another algorithm, a signed NOTIFY and IXFR.
        "tsig_unknown_key": bytes([TCP]) + query("AXFR", tsig="hmac-sha256", keyname="other"),
        "tsig_other_algorithm": bytes([TCP]) + query("AXFR", tsig="hmac-sha512"),
        "tsig_ixfr": bytes([TCP]) + query("IXFR", serial=1, tsig="hmac-sha256"),
        "tsig_bad_time": bytes([TCP]) + query("AXFR", tsig="hmac-sha256", signed_at=TARGET_NOW + 3600),
        # Other classes and types.
        "class_chaos": bytes([UDP]) + query_class("version.bind.", "TXT", "CH"),
        "class_any": bytes([UDP]) + query_class("example.com.", "SOA", "ANY"),
        "ixfr_future_serial": bytes([TCP]) + query("IXFR", serial=4000000000),
        "notify_other_zone": bytes([UDP | SIGN]) + query("SOA", zone="example.org.", opcode=dns.opcode.NOTIFY),
        "notify_with_soa": bytes([UDP | SIGN]) + notify_with_soa(2),
        # Sizes: a UDP query larger than 512 octets, and the largest request the server reads.
        "oversized_udp": bytes([UDP]) + with_options("SOA", [dns.edns.GenericOption(12, b"\x00" * 1500)]),
        "oversized_tcp": bytes([TCP]) + with_options("AXFR", [dns.edns.GenericOption(12, b"\x00" * 16000)]),
        "too_large": bytes([TCP]) + with_options("AXFR", [dns.edns.GenericOption(12, b"\x00" * 20000)]),
    }
    for name, data in raw_edge_cases().items():
        seeds[name] = bytes([TCP if name.startswith(("ixfr", "pointer_to", "pointer_chain")) else UDP]) + data
    # TSIG in the wrong place or cut short.
    signed = query("AXFR", tsig="hmac-sha256")
    seeds["tsig_not_last"] = bytes([TCP]) + tsig_not_last(signed)
    seeds["tsig_cut"] = bytes([TCP]) + signed[:-10]
    for name, data in seeds.items():
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
