#!/usr/bin/env python3
"""Write the seed corpus of fuzz_control into tests/fuzz/control/.

Each file is the byte stream a client sends on the control socket of
danezoned (signer/control.h): frames of a 4-byte big-endian length and a
request text of strings separated by single NUL bytes, for example
b"\\x00\\x00\\x00\\x12status\\x00example.net".  The fuzz target's stub
server has the commands status [ZONE], sign ZONE, echo [TEXT]...,
fail [ZONE] and big BYTES.  The first seeds are well formed; the others
break one rule of the format each.

Run it again after changing the list; the files are committed.
"""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "control")

REQUEST_MAX = 64 * 1024
ARGS_MAX = 32


def frame(text, length=None):
    return struct.pack("!I", len(text) if length is None else length) + text


def request(*strings):
    return frame(b"\0".join(s.encode("utf-8") if isinstance(s, str) else s for s in strings))


SEEDS = {
    # Well-formed streams.
    "status": request("status"),
    "status_zone": request("status", "example.net"),
    "sign_zone": request("sign", "example.net."),
    "three_requests": request("status") + request("echo", "a", "b") + request("sign", "x"),
    "utf8_arguments": request("echo", "caf\u00e9", "\u20ac", "\U0010ffff"),
    "unknown_command": request("reload"),
    "too_few_arguments": request("sign"),
    "too_many_arguments": request("status", "a", "b"),
    "handler_error": request("fail", "example.net"),
    "big_output": request("big", "200000"),
    "args_at_limit": request("echo", *(["a"] * (ARGS_MAX - 1))),
    "size_at_limit": request("echo", "x" * (REQUEST_MAX - 5)),
    "empty_stream": b"",
    # Broken frames.
    "empty_frame": frame(b""),
    "length_cut": request("status")[:3],
    "body_cut": request("status", "example.net")[:-4],
    "good_then_cut": request("status") + request("echo", "z")[:6],
    "over_limit": frame(b"x" * 16, length=REQUEST_MAX + 1),
    "length_max": frame(b"status", length=0xFFFFFFFF),
    "size_over_limit": request("echo", "x" * (REQUEST_MAX - 4)),
    "args_over_limit": request("echo", *(["a"] * ARGS_MAX)),
    # Broken request texts.
    "leading_nul": frame(b"\0status"),
    "trailing_nul": frame(b"status\0"),
    "double_nul": frame(b"status\0\0example.net"),
    "only_nul": frame(b"\0"),
    "newline": request("status", "a\nb"),
    "delete_character": request("status", "a\x7f"),
    "overlong_slash": frame(b"status\0\xc0\xaf"),
    "surrogate": frame(b"status\0\xed\xa0\x80"),
    "above_unicode": frame(b"status\0\xf4\x90\x80\x80"),
    "continuation_first": frame(b"\x80status"),
    "cut_sequence": frame(b"status\0ab\xe2\x82"),
    "good_then_bad": request("echo", "ok") + frame(b"echo\0\xff") + request("status"),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
