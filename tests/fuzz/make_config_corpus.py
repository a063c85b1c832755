#!/usr/bin/env python3
"""Write the seed corpus of fuzz_config into tests/fuzz/config/.

Each file is a danezone.yaml (text, or bytes for the encoding cases).  fuzz_config loads it from a temporary folder
that contains example.com.zone, mx.pem, token.pin (mode 0600), xfr.secret
(mode 0600) and the folders state, smime and openpgp, so the seeds name
those files with relative paths.  Other names are missing files, which the
loader must report.  The seeds are the example configuration, every
section and key type, and YAML that is broken or uses features the schema
does not expect (anchors, tags, several documents).

Run it again after changing the list; the files are committed.
"""
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "config")
EXAMPLE = os.path.join(HERE, "..", "..", "examples", "danezone.yaml")

MINIMAL = """\
server:
  state-dir: state
zones:
  - name: example.com
    source: example.com.zone
"""

FULL = """\
server:
  state-dir: state
  listen: [127.0.0.1@5353, "[::1]:5353", 192.0.2.1:53, "2001:db8::1@53"]
  control-socket: state/control.sock
  control-mode: "0660"
  user: danezone
  group: danezone
  pidfile: state/danezoned.pid
  log-target: stderr
  log-level: debug
  tcp-max-connections: 100
  tcp-idle-timeout: 1m30s
  journal-max-size: 64M
hsm:
  softhsm:
    module: /usr/lib/softhsm/libsofthsm2.so
    token-label: dnssec
    pin-file: token.pin
    default: true
  other:
    token-uri: "pkcs11:token=other;serial=1234"
    pin-file: token.pin
tsig:
  xfr.example.com:
    algorithm: hmac-sha256
    secret-file: xfr.secret
  inline.example.com.:
    algorithm: hmac-sha512
    secret: AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ==
secondaries:
  ns1:
    addresses: [192.0.2.53, "2001:db8::53"]
    tsig: xfr.example.com
    notify: true
    allow-transfer: true
  ns2:
    addresses: [198.51.100.53@53]
    notify: false
policies:
  split:
    keys:
      - role: ksk
        algorithm: ECDSAP256SHA256
        lifetime: 365d
        token: softhsm
      - role: zsk
        algorithm: RSASHA256
        bits: 2048
        lifetime: 30d
    ksk-rollover: double-ksk
    zsk-rollover: pre-publish
    standby-keys: 1
    manual-mode: false
    dnskey-ttl: 1h
    max-zone-ttl: 1d
    ds-ttl: 1d
    zone-propagation-delay: 5m
    parent-propagation-delay: 1h
    registration-delay: 1d
    publish-safety: 1h
    retire-safety: 1h
    purge-delay: 7d
    signature-validity: 14d
    signature-validity-dnskey: 21d
    signature-refresh: 5d
    signature-jitter: 12h
    signature-inception-offset: 1h
    denial: nsec3
    nsec3-iterations: 0
    nsec3-salt: "-"
    nsec3-opt-out: false
    cds-digest-types: [sha256, sha384]
    publish-cdnskey: true
    ds-observation: parent
    ds-check-interval: 1h
    ds-alert-after: 7d
    serial-policy: unixtime
zones:
  - name: Example.COM.
    source: example.com.zone
    policy: split
    output: state/example.com.signed
    secondaries: [ns1, ns2]
    parent:
      servers: [203.0.113.1, "[2001:db8::1]:53"]
      tsig: xfr.example.com
    publish-hook: logger -t danezone "published $DZ_ZONE serial $DZ_SERIAL"
    mail:
      hosts:
        - name: mx1.example.com
          ports: [25, 465, 587]
          protocol: tcp
          certificates: [mx.pem]
          next: [next.key]
          tlsa: ["3 1 1", "2 1 1", "3 0 2"]
          ttl: 1h
        - name: MX2.Example.Com.
          certificates: [mx.pem]
      smime-folders: [smime]
      smimea: "3 0 0"
      smimea-ttl: 1h
      openpgp-folders: [openpgp]
      openpgpkey-ttl: 1h
      lowercase-variants: true
      quoted-local-parts: true
      rrset-warn-size: 4k
      total-warn-size: 1M
      rrset-warn-records: 12
      ready-hook: /usr/local/sbin/deploy-next-cert "$DZ_HOST" "$DZ_FILE"
  - name: .
    source: example.com.zone
"""


def example():
    """The shipped example with its absolute paths replaced by the fixture's files."""
    with open(EXAMPLE, encoding="utf-8") as f:
        text = f.read()
    replacements = [
        (r"state-dir: \S+", "state-dir: state"),
        (r"pin-file: \S+", "pin-file: token.pin"),
        (r"secret-file: \S+", "secret-file: xfr.secret"),
        (r"source: \S+", "source: example.com.zone"),
        (r"/etc/letsencrypt/live/\S+?/fullchain\.pem", "mx.pem"),
        (r"smime-folders: \[\S+\]", "smime-folders: [smime]"),
        (r"openpgp-folders: \[\S+\]", "openpgp-folders: [openpgp]"),
        (r"example\.net", "example.com"),
    ]
    for pattern, replacement in replacements:
        text = re.sub(pattern, replacement, text)
    return text


SEEDS = {
    "example.yaml": example(),
    "minimal.yaml": MINIMAL,
    "full.yaml": FULL,
    "full_flow_style.yaml": "{server: {state-dir: state}, zones: [{name: example.com, source: example.com.zone, "
                            "mail: {hosts: [{name: mx.example.com, certificates: [mx.pem]}]}}]}\n",
    # Missing and wrong files.
    "missing_files.yaml": MINIMAL.replace("example.com.zone", "nowhere.zone") +
    "hsm:\n  t:\n    token-label: x\n    pin-file: no.pin\n",
    "folder_as_file.yaml": MINIMAL.replace("example.com.zone", "state"),
    "public_pin_file.yaml": MINIMAL + "hsm:\n  t:\n    token-label: x\n    pin-file: mx.pem\n",
    "absolute_missing.yaml": MINIMAL.replace("example.com.zone", "/nonexistent/danezone/zone"),
    "secret_file_missing.yaml": MINIMAL + "tsig:\n  k:\n    algorithm: hmac-sha256\n    secret-file: none.secret\n",
    # Values out of range or of the wrong type.
    "bad_values.yaml": MINIMAL + "  - name: example.org\n    source: example.com.zone\n"
                      "policies:\n  p:\n    dnskey-ttl: -1\n    nsec3-iterations: 70000\n"
                      "    denial: nsec4\n    keys: {role: csk}\n",
    "bad_scalars.yaml": "server:\n  state-dir: state\n  listen: [300.1.1.1, \"[::1\", 192.0.2.1@0, 192.0.2.1@65536]\n"
                        "  control-mode: \"0999\"\n  tcp-idle-timeout: 10x\n  journal-max-size: 64Q\n"
                        "  tcp-max-connections: 18446744073709551616\n  log-level: loud\n",
    "bad_tlsa.yaml": MINIMAL + "    mail:\n      hosts:\n        - name: mx.example.com\n"
                     "          certificates: [mx.pem]\n          tlsa: [\"3 1\", \"4 1 1\", \"3 1 256\", \"a b c\"]\n"
                     "          ports: [0, 70000]\n      smimea: \"1 2 3 4\"\n",
    "host_outside_zone.yaml": MINIMAL + "    mail:\n      hosts:\n        - name: mx.example.org\n"
                              "          certificates: [mx.pem]\n",
    "bad_names.yaml": "server:\n  state-dir: state\nzones:\n  - name: \"a..b\"\n    source: example.com.zone\n"
                      "  - name: " + "a" * 64 + ".com\n    source: example.com.zone\n"
                      "  - name: \"bücher.example\"\n    source: example.com.zone\n",
    "duplicate_zones.yaml": MINIMAL + "  - name: EXAMPLE.com.\n    source: example.com.zone\n",
    "unknown_references.yaml": MINIMAL + "    policy: nope\n    secondaries: [ghost]\n"
                               "    parent:\n      tsig: missing\n",
    "tsig_bad_secret.yaml": MINIMAL + "tsig:\n  k:\n    algorithm: hmac-sha256\n    secret: \"not base64!\"\n"
                            "  short:\n    algorithm: hmac-sha384\n    secret: AQID\n"
                            "  both:\n    algorithm: hmac-sha256\n    secret: AQID\n    secret-file: xfr.secret\n",
    "two_default_tokens.yaml": MINIMAL + "hsm:\n  a:\n    token-label: a\n    pin-file: token.pin\n    default: true\n"
                               "  b:\n    token-label: b\n    pin-file: token.pin\n    default: true\n",
    "token_label_and_uri.yaml": MINIMAL + "hsm:\n  a:\n    token-label: a\n    token-uri: \"pkcs11:token=a\"\n"
                                "    pin-file: token.pin\n",
    "unknown_keys.yaml": MINIMAL + "extra: 1\nserver2:\n  x: y\n",
    "wrong_node_kinds.yaml": "server: [state]\nzones: {name: example.com}\npolicies: []\n",
    # YAML features the schema does not use.
    "anchors_and_aliases.yaml": "x-common: &addr [192.0.2.53]\nserver:\n  state-dir: &state state\n"
                                "secondaries:\n  a:\n    addresses: *addr\n  b:\n    addresses: *addr\n"
                                "zones:\n  - &zone\n    name: example.com\n    source: example.com.zone\n  - *zone\n",
    "merge_key.yaml": "base: &base\n  source: example.com.zone\nserver:\n  state-dir: state\n"
                      "zones:\n  - <<: *base\n    name: example.com\n",
    "tags.yaml": "server:\n  state-dir: !!str state\n  tcp-max-connections: !!int 5\nzones: !!seq\n"
                 "  - name: !custom example.com\n    source: example.com.zone\n",
    "null_values.yaml": "server:\n  state-dir:\n  listen: ~\nzones:\n  - name: null\n    source:\n",
    "block_scalars.yaml": "server:\n  state-dir: |\n    state\nzones:\n  - name: >\n      example.com\n"
                          "    source: example.com.zone\n",
    "quoted_escapes.yaml": "server:\n  state-dir: \"st\\x61te\"\nzones:\n  - name: \"example\\u002ecom\"\n"
                           "    source: 'example.com.zone'\n",
    "duplicate_keys.yaml": "server:\n  state-dir: state\n  state-dir: other\nzones: []\nzones: []\n",
    "two_documents.yaml": MINIMAL + "---\n" + MINIMAL,
    "document_markers.yaml": "%YAML 1.1\n---\n" + MINIMAL + "...\n",
    "empty.yaml": "",
    "comment_only.yaml": "# nothing here\n",
    "top_level_list.yaml": "- server\n- zones\n",
    "syntax_error.yaml": "server:\n  state-dir: [state\nzones:\n",
    "tab_indent.yaml": "server:\n\tstate-dir: state\n",
    "bad_utf8.yaml": b"server:\n  state-dir: st\xffate\n",
    "bom.yaml": "\ufeff" + MINIMAL,
    "utf16.yaml": MINIMAL.encode("utf-16"),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, text in SEEDS.items():
        data = text if isinstance(text, bytes) else text.encode("utf-8")
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
