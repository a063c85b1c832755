"""Helpers for the signing tests: run the validators on a signed zone and
read records back with dnspython."""
import os
import subprocess
import time

import dns.name
import dns.rdatatype
import dns.zone

from conftest import BUILDDIR, run

SOFTSIGN = os.path.join(BUILDDIR, "tests", "unit", "signer", "softsign")

# softsign leaks nothing, but its test keys live until exit: skip leak checks.
SOFTSIGN_ENV = {"ASAN_OPTIONS": "detect_leaks=0"}


def softsign(origin, input_path, output_path, *args, check=True):
    """Sign with the test tool (in-memory OpenSSL keys); returns the CompletedProcess."""
    return run([SOFTSIGN, origin, input_path, output_path, "--now", str(int(time.time())), *args],
               env=SOFTSIGN_ENV, check=check)


def parse_report(stdout):
    """Turn 'key=value key=value' into a dict of ints."""
    return {k: int(v) for k, v in (item.split("=") for item in stdout.split())}


def assert_validators_accept(origin, path):
    """ldns-verify-zone, dnssec-verify and kzonecheck must all accept the zone."""
    origin = origin.rstrip(".")
    for args in (["ldns-verify-zone", path],
                 ["dnssec-verify", "-q", "-o", origin, path],
                 ["kzonecheck", "-o", origin, "-d", "on", path]):
        proc = subprocess.run(args, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, (
            f"{args[0]} rejected {path} (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")


def load_zone(origin, path):
    """The zone as dnspython reads it, without its own checks."""
    return dns.zone.from_file(str(path), origin=origin, relativize=False, check_origin=False)


def nsec3_owner_labels(zone):
    """First labels (base32hex hashes) of every NSEC3 owner."""
    return sorted(name.labels[0].decode() for name, node in zone.nodes.items()
                  if node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.NSEC3) is not None)


def nsec_owners(zone):
    """Owners of NSEC records, in presentation form."""
    return sorted(name.to_text() for name, node in zone.nodes.items()
                  if node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.NSEC) is not None)


def ldns_nsec3_hash(name, salt="-", iterations=0):
    """The NSEC3 hash label of a name, computed by ldns-nsec3-hash."""
    args = ["ldns-nsec3-hash", "-t", str(iterations)]
    if salt not in ("-", ""):
        args += ["-s", salt]
    out = run(args + [name]).stdout.strip()
    return out.rstrip(".").split(".")[0].lower()
