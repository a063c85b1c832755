#!/usr/bin/env python3
"""Write the seed corpus of fuzz_zonefile into tests/fuzz/zonefile/.

Each file starts with one byte of reader options (bit 0: origin
example.com., bit 1: default TTL 3600, bit 2: $INCLUDE forbidden, bits 4-7:
include depth limit).  The zone file follows, then its included files, each
starting with a line "%file NAME".  The seeds are realistic zones and the
edge cases the reader documents.  Run it again after changing the list;
the files are committed.
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "zonefile")
DATA = os.path.join(HERE, "..", "data", "zonefile")
EXAMPLE = os.path.join(HERE, "..", "..", "examples", "example.net.zone")

ORIGIN, DEFAULT_TTL, NO_INCLUDE = 1, 2, 4


def depth(n):
    return n << 4


def files(top, included):
    """The zone file `top` followed by the files of `included` (name: text)."""
    text = top
    for name, body in included.items():
        text += "%file " + name + "\n" + body
    return text


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


SOA = "@ 3600 IN SOA ns1 hostmaster 2027010301 7200 3600 1209600 300\n"

SEEDS = {
    # Realistic zones.
    "example_net": (0, read(EXAMPLE)),
    "tricky_with_include": (0, files(read(os.path.join(DATA, "tricky.zone")),
                                     {"tricky-users.inc": read(os.path.join(DATA, "tricky-users.inc"))})),
    "mail_records": (ORIGIN, SOA + "@ NS ns1\nns1 A 192.0.2.1\n@ MX 10 mx1\nmx1 A 192.0.2.25\n"
                     "_25._tcp.mx1 TLSA 3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
                     "c93f1e400f26708f98cb19d936620da35eec8f72e57f9eec01c1afd6._openpgpkey OPENPGPKEY AQID\n"
                     "2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db._smimecert SMIMEA 3 0 0 308201\n"
                     "_mta-sts TXT \"v=STSv1; id=1\"\n"),
    # TTL rules.
    "ttl_from_soa_minimum": (ORIGIN, "@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300\n@ NS ns1\n"),
    "ttl_last_written": (ORIGIN, "@ 600 IN SOA ns1 hostmaster 1 1 1 1 1\nwww A 192.0.2.1\n"),
    "ttl_units": (ORIGIN, "$TTL 1h30m\n" + SOA + "a 1w2d3h4m5s A 192.0.2.1\nb 2147483647 A 192.0.2.2\n"),
    "ttl_too_big": (ORIGIN, "$TTL 2147483648\n" + SOA),
    "ttl_default_option": (ORIGIN | DEFAULT_TTL, "@ IN SOA ns1 hostmaster 1 1 1 1 1\nwww A 192.0.2.1\n"),
    "ttl_missing": (ORIGIN, "www A 192.0.2.1\n"),
    # Origins.
    "no_origin_relative": (0, "www 3600 IN A 192.0.2.1\n"),
    "no_origin_at": (0, "@ 3600 IN A 192.0.2.1\n"),
    "origin_relative": (ORIGIN, SOA + "$ORIGIN sub\nhost A 192.0.2.1\n$ORIGIN deeper.sub.example.com.\n@ A 192.0.2.2\n"),
    "origin_invalid": (ORIGIN, "$ORIGIN a..b\n"),
    "origin_root": (0, "$ORIGIN .\n$TTL 60\n. NS a.root-servers.net.\n"),
    # Syntax edge cases.
    "parentheses": (ORIGIN, "@ 3600 IN SOA ( ns1 hostmaster\n 1 ; serial\n 7200 3600\n 1209600 300 )\n"),
    "paren_not_closed": (ORIGIN, "@ 3600 IN SOA ( ns1 hostmaster 1 7200 3600 1209600 300\n"),
    "paren_extra_close": (ORIGIN, "@ 3600 IN A 192.0.2.1 )\n"),
    "quote_not_closed": (ORIGIN, "@ 3600 IN TXT \"abc\n"),
    "quoted_specials": (ORIGIN, "@ 3600 IN TXT \"a ; b\" \"( c\" \"\\\"d\\\"\" \"\\065\\255\"\n"),
    "escaped_labels": (ORIGIN, "a\\.b 60 A 192.0.2.1\n\\065\\066 60 A 192.0.2.2\n\\@ 60 A 192.0.2.3\n\\$x 60 A 192.0.2.4\n"),
    "backslash_at_end": (ORIGIN, "a 60 TXT abc\\\n"),
    "nul_byte": (ORIGIN, "a 60 TXT \"a\x00b\"\n"),
    "crlf": (ORIGIN, SOA.replace("\n", "\r\n") + "www 60 A 192.0.2.1\r\n"),
    "blank_owner": (ORIGIN, SOA + "  NS ns1\n\tNS ns2\n  MX 10 mx1\n"),
    "blank_owner_first": (ORIGIN, "  60 A 192.0.2.1\n"),
    "class_ttl_order": (ORIGIN, "a IN 60 A 192.0.2.1\nb 60 IN A 192.0.2.2\nc IN A 192.0.2.3\n"),
    "class_mismatch": (ORIGIN, "a 60 IN A 192.0.2.1\nb 60 CH TXT \"x\"\n"),
    "class_generic": (ORIGIN, "a 60 CLASS1 TYPE1 \\# 4 c0000201\nb 60 CLASS3 TXT \"chaos\"\n"),
    "generic_unknown": (ORIGIN, "a 60 TYPE65000 \\# 3 abcdef\nb 60 TYPE65001 \\# 0\nc 60 TYPE65002 \\# 1 ab\n"),
    "generic_mismatch": (ORIGIN, "a 60 TYPE1 \\# 5 c000020101\nb 60 MX \\# 3 000a00\n"),
    "generic_length_wrong": (ORIGIN, "a 60 TYPE1 \\# 4 c00002\n"),
    "long_name": (ORIGIN, ("a" * 63 + ".") * 3 + "b" * 61 + ". 60 A 192.0.2.1\n"),
    "name_too_long": (ORIGIN, ("a" * 63 + ".") * 4 + " 60 A 192.0.2.1\n"),
    "label_too_long": (ORIGIN, "a" * 64 + " 60 A 192.0.2.1\n"),
    "generate": (ORIGIN, "$GENERATE 1-10 host$ A 192.0.2.$\n"),
    "unknown_directive": (ORIGIN, "$FOO bar\n"),
    "bad_rdata": (ORIGIN, "a 60 A 192.0.2.300\nb 60 AAAA ::g\n"),
    "dnssec_types": (ORIGIN, SOA + "@ DNSKEY 257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==\n"
                     "@ DS 2371 13 2 1F987CC6583E92DF0890718C42A7EAC33A78A8A3C5E0C8E0F0A3E2F5D8F0B8A0\n"
                     "@ NSEC3PARAM 1 0 0 -\n@ CDS 0 0 0 00\n@ CAA 0 issue \"letsencrypt.org\"\n"),
    "svcb_https": (ORIGIN, "@ 60 HTTPS 1 . alpn=h2,h3 ipv4hint=192.0.2.1\n_dns 60 SVCB 1 dns.example.net. alpn=dot\n"),
    # $INCLUDE.
    "include_simple": (ORIGIN, files(SOA + "$INCLUDE users.inc\nafter 60 A 192.0.2.9\n",
                                     {"users.inc": "user1 60 A 192.0.2.1\n"})),
    "include_origin_arg": (ORIGIN, files(SOA + "$INCLUDE keys.inc _openpgpkey\n  60 TXT \"owner restored\"\n",
                                         {"keys.inc": "@ 60 TXT \"apex of include\"\nx 60 TXT \"inside\"\n"})),
    "include_blank_owner": (ORIGIN, files(SOA + "www 60 A 192.0.2.1\n$INCLUDE more.inc\n",
                                          {"more.inc": "  60 AAAA 2001:db8::1\n"})),
    "include_ttl_carries": (ORIGIN, files(SOA + "$INCLUDE ttl.inc\nafter A 192.0.2.9\n",
                                          {"ttl.inc": "$TTL 120\n"})),
    "include_quoted_path": (ORIGIN, files(SOA + "$INCLUDE \"sub dir/a\\\"b.inc\"\n",
                                          {"a\"b.inc": "q 60 A 192.0.2.1\n"})),
    "include_subfolder": (ORIGIN, files(SOA + "$INCLUDE sub/./x/../users.inc\n",
                                        {"users.inc": "u 60 A 192.0.2.1\n"})),
    "include_absolute": (ORIGIN, files(SOA + "$INCLUDE /etc/zones/users.inc\n",
                                       {"users.inc": "u 60 A 192.0.2.1\n"})),
    "include_missing": (ORIGIN, SOA + "$INCLUDE nowhere.inc\n"),
    "include_empty_name": (ORIGIN, SOA + "$INCLUDE \"\"\n"),
    "include_too_many_args": (ORIGIN, SOA + "$INCLUDE a b c\n"),
    "include_forbidden": (ORIGIN | NO_INCLUDE, files(SOA + "$INCLUDE users.inc\n",
                                                     {"users.inc": "u 60 A 192.0.2.1\n"})),
    "include_self_loop": (ORIGIN, files(SOA + "$INCLUDE example.com.zone\n",
                                        {"example.com.zone": "x 60 A 192.0.2.1\n"})),
    "include_loop_two": (ORIGIN, files(SOA + "$INCLUDE a.inc\n",
                                       {"a.inc": "$INCLUDE b.inc\n", "b.inc": "$INCLUDE a.inc\n"})),
    "include_loop_dotdot": (ORIGIN, files(SOA + "$INCLUDE d/a.inc\n",
                                          {"a.inc": "$INCLUDE ../d/a.inc\n"})),
    "include_depth_limit": (ORIGIN | depth(3), files(SOA + "$INCLUDE 1\n", {
        "1": "$INCLUDE 2\n", "2": "$INCLUDE 3\n", "3": "$INCLUDE 4\n", "4": "deep 60 A 192.0.2.1\n"})),
    "include_deep_paths": (ORIGIN, files(SOA + "$INCLUDE d/n\n", {"n": "$INCLUDE d/n\nx 60 A 192.0.2.1\n"})),
    "include_fan_out": (ORIGIN | depth(4), files(SOA + "$INCLUDE a/f\n$INCLUDE b/f\n",
                                                 {"f": "$INCLUDE a/f\n$INCLUDE b/f\nx 60 A 192.0.2.1\n"})),
    # Three includes per file over 11 levels: the include count limit ends the read.
    "include_fan_out_exponential": (ORIGIN, files(SOA + "$INCLUDE 1\n", {
        str(i): "".join(f"$INCLUDE {branch}/{i + 1}\n" for branch in "abc") for i in range(1, 12)} | {
        "12": "x 60 A 192.0.2.1\n"})),
    "include_bad_origin": (ORIGIN, files(SOA + "$INCLUDE a.inc a..b\n", {"a.inc": "x 60 A 192.0.2.1\n"})),
    "include_no_origin": (0, files("$INCLUDE a.inc\n", {"a.inc": "x 60 A 192.0.2.1\n"})),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, (flags, text) in SEEDS.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(bytes([flags]) + text.encode("utf-8"))


if __name__ == "__main__":
    main()
