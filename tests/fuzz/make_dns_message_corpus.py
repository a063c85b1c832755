#!/usr/bin/env python3
"""Write the seed corpus of fuzz_dns_message into tests/fuzz/dns_message/.

Each file is one byte that selects the transport (bit 0: TCP, bit 1: IPv6
source, bit 2: the target signs the request) followed by a DNS request.
The files named found-* are inputs that libFuzzer found and kept after
`-merge=1`, because each reaches code the seeds below do not.  Run it again after changing the list;
the files are committed.
"""
import os

import dns.message
import dns.opcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.tsigkeyring

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dns_message")
KEYRING = dns.tsigkeyring.from_text({"xfr": ("hmac-sha256", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")})
UDP, TCP, V6, SIGN = 0, 1, 2, 4


def query(qtype, zone="example.com.", serial=None, edns=False, tsig=None, opcode=None):
    msg = dns.message.make_query(zone, qtype, use_edns=0 if edns else None)
    msg.id = 0x1234
    if opcode is not None:
        msg.set_opcode(opcode)
    if serial is not None:
        soa = dns.rrset.from_text(zone, 0, "IN", "SOA", f"ns1.{zone} hostmaster.{zone} {serial} 1 1 1 1")
        msg.authority.append(soa)
    if tsig is not None:
        msg.use_tsig(KEYRING, keyname="xfr", fudge=300, algorithm=tsig)
    wire = msg.to_wire() if tsig is None else msg.to_wire(tsig_ctx=None)
    return wire


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
    }
    for name, data in seeds.items():
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
