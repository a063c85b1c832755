#!/usr/bin/env python3
"""Write the seed corpus of fuzz_sign_protocol into tests/fuzz/sign_protocol/.

Each file is the byte stream a parent sends to a signer process
(hsm/sign_protocol.h): messages of a 20-byte header

    magic "DZS1" | type | flags | reserved (2) | id (4) | count (4) | body length (4)

then a body.  A SIGN body has `count` entries

    algorithm (1) | key id length (1) | data length (4) | key id | data

and the key requests (count 0) have these bodies:

    INFO      empty
    GENERATE  role (1) | algorithm (1) | bits (2) | zone length (2) | label length (2) |
              zone | label
    CHECK, DELETE
              key id length (1) | key id
    LABEL     key id length (1) | label length (2) | key id | label

The fuzz target's token contains an ECDSA P-256 key (algorithm 13) with the
key id 01 02 03 04 05 06 07 08, so the well-formed seeds get real
signatures; the others break one rule of the format each.

Run it again after changing the list; the files are committed.
"""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sign_protocol")

KEY_ID = bytes(range(1, 9))
ECDSAP256SHA256, RSASHA256, ED25519 = 13, 8, 15
READY, SIGN, SIGNED = 1, 2, 3
INFO, TOKEN, GENERATE, GENERATED, CHECK, DELETE, LABEL, DONE = range(4, 12)
KSK, ZSK, CSK = 1, 2, 3
BODY_MAX = 64 * 1024 * 1024
DATA_MAX = 1024 * 1024


def entry(data, key_id=KEY_ID, algorithm=ECDSAP256SHA256, data_len=None, key_id_len=None):
    return struct.pack("!BBI", algorithm, len(key_id) if key_id_len is None else key_id_len,
                       len(data) if data_len is None else data_len) + key_id + data


def message(entries, msg_id=1, msg_type=SIGN, flags=0, reserved=0, count=None, body_len=None,
            magic=b"DZS1"):
    body = b"".join(entries)
    return magic + struct.pack("!BBHIII", msg_type, flags, reserved, msg_id,
                               len(entries) if count is None else count,
                               len(body) if body_len is None else body_len) + body


def key_message(msg_type, body, msg_id=1, count=0, body_len=None):
    return b"DZS1" + struct.pack("!BBHIII", msg_type, 0, 0, msg_id, count,
                                 len(body) if body_len is None else body_len) + body


def generate(zone=b"example.com.", label=b"example.com. CSK new ECDSAP256SHA256", role=CSK,
             algorithm=ECDSAP256SHA256, bits=0, zone_len=None, label_len=None, msg_id=1):
    body = struct.pack("!BBHHH", role, algorithm, bits,
                       len(zone) if zone_len is None else zone_len,
                       len(label) if label_len is None else label_len) + zone + label
    return key_message(GENERATE, body, msg_id)


def by_key_id(msg_type, key_id=KEY_ID, key_id_len=None, msg_id=1):
    return key_message(msg_type, bytes([len(key_id) if key_id_len is None else key_id_len])
                       + key_id, msg_id)


def label(text=b"fuzz", key_id=KEY_ID, label_len=None, msg_id=1):
    body = struct.pack("!BH", len(key_id), len(text) if label_len is None else label_len)
    return key_message(LABEL, body + key_id + text, msg_id)


# RRSIG RDATA without the signature, then one A record, as the signer sends (RFC 4034 section 3.1.8.1).
RRSIG_DATA = (struct.pack("!HBBIIIH", 1, ECDSAP256SHA256, 2, 3600, 1900000000, 1700000000, 12345)
              + b"\x07example\x03com\x00" + b"\x03www\x07example\x03com\x00"
              + struct.pack("!HHIH", 1, 1, 3600, 4) + bytes([192, 0, 2, 1]))

SEEDS = {
    # Well-formed streams.
    "one_request": message([entry(RRSIG_DATA)]),
    "three_requests": message([entry(RRSIG_DATA), entry(b"second"), entry(b"")], msg_id=7),
    "two_messages": message([entry(b"a")], msg_id=1) + message([entry(b"b"), entry(b"c")], msg_id=2),
    "unknown_key": message([entry(b"data", key_id=b"\xff" * 16)]),
    "key_id_64_octets": message([entry(b"data", key_id=b"\x01" * 64)]),
    "other_algorithms": message([entry(b"x", algorithm=RSASHA256), entry(b"x", algorithm=ED25519),
                                 entry(b"x", algorithm=0), entry(b"x", algorithm=255)]),
    "mixed_results": message([entry(b"ok"), entry(b"no key", key_id=b"\x09"), entry(b"ok again")]),
    "max_count": message([entry(b"")] * 1024, msg_id=0xffffffff),
    "empty_stream": b"",
    # Broken headers.
    "header_cut": message([entry(b"a")])[:10],
    "wrong_magic": message([entry(b"a")], magic=b"HTTP"),
    "type_ready": message([], msg_type=READY, count=0) + struct.pack("!HH", 0, 0),
    "type_signed": message([struct.pack("!HH", 0, 0)], msg_type=SIGNED),
    "type_unknown": message([entry(b"a")], msg_type=12),
    "type_zero": message([entry(b"a")], msg_type=0),
    "flags_set": message([entry(b"a")], flags=1),
    "reserved_set": message([entry(b"a")], reserved=0x100),
    "count_zero": message([], count=0),
    "count_too_high": message([entry(b"")] * 1025),
    "body_over_limit": message([entry(b"a")], body_len=BODY_MAX + 1),
    "body_at_limit_cut": message([entry(b"a")], body_len=BODY_MAX),
    # Broken bodies.
    "body_cut": message([entry(b"abcdef")])[:-3],
    "count_above_entries": message([entry(b"a")], count=2),
    "count_below_entries": message([entry(b"a"), entry(b"b")], count=1),
    "trailing_byte": message([entry(b"a")], body_len=len(entry(b"a")) + 1) + b"\x00",
    "entry_header_cut": message([entry(b"a")[:4]]),
    "key_id_empty": message([entry(b"a", key_id=b"")]),
    "key_id_65_octets": message([entry(b"a", key_id=b"\x01" * 65)]),
    "key_id_past_body": message([entry(b"", key_id_len=40)]),
    "data_past_body": message([entry(b"abc", data_len=100)]),
    "data_over_limit": message([entry(b"", data_len=DATA_MAX + 1)]),
    "data_length_wraps": message([entry(b"", data_len=0xffffffff)]),
    "good_then_bad": message([entry(b"a")], msg_id=1) + message([entry(b"b")], msg_id=2, magic=b"DZS2"),
    "good_then_cut": message([entry(b"a")], msg_id=1) + message([entry(b"b")], msg_id=2)[:25],
    # Well-formed key requests.
    "info": key_message(INFO, b""),
    "generate_csk": generate(),
    "generate_ksk_ed25519": generate(b"example.org.", b"example.org. KSK new ED25519", role=KSK,
                                     algorithm=ED25519, msg_id=5),
    "generate_unknown_algorithm": generate(algorithm=200),
    "generate_rsa_too_small": generate(algorithm=RSASHA256, bits=1024),
    "check_known_key": by_key_id(CHECK),
    "check_unknown_key": by_key_id(CHECK, b"\xff" * 16),
    "label_known_key": label(),
    "label_unknown_key": label(key_id=b"\xee" * 16),
    "delete_unknown_key": by_key_id(DELETE, b"\xff" * 16),
    "delete_known_key_then_sign": by_key_id(DELETE, msg_id=1) + by_key_id(CHECK, msg_id=2)
    + message([entry(RRSIG_DATA)], msg_id=3),
    "keys_and_signatures": key_message(INFO, b"", msg_id=1) + message([entry(RRSIG_DATA)], msg_id=2)
    + by_key_id(CHECK, msg_id=3) + generate(msg_id=4) + message([entry(b"x")], msg_id=5),
    # Broken key requests.
    "info_with_body": key_message(INFO, b"\x00"),
    "info_count_one": key_message(INFO, b"", count=1),
    "generate_role_zero": generate(role=0),
    "generate_role_four": generate(role=4),
    "generate_zone_empty": generate(zone=b""),
    "generate_zone_over_limit": generate(zone=b"a" * 1025),
    "generate_label_empty": generate(label=b""),
    "generate_label_over_limit": generate(label=b"l" * 320),
    "generate_label_control": generate(label=b"new\nline"),
    "generate_zone_past_body": generate(zone_len=200),
    "generate_trailing_byte": key_message(GENERATE, generate()[20:] + b"\x00"),
    "generate_cut": generate()[:30],
    "check_key_id_empty": by_key_id(CHECK, b""),
    "check_key_id_65_octets": by_key_id(CHECK, b"\x01" * 65),
    "delete_key_id_past_body": by_key_id(DELETE, key_id_len=20),
    "label_empty": label(b""),
    "label_past_body": label(label_len=50),
    "response_type_done": key_message(DONE, b"\x00\x00\x00\x00"),
    "response_type_generated": key_message(GENERATED, b"\x00" * 9),
    "response_type_token": key_message(TOKEN, b"\x00" * 9),
    "good_key_then_bad": by_key_id(CHECK, msg_id=1) + by_key_id(CHECK, key_id_len=0, msg_id=2),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
