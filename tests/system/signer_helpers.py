"""Helpers for the signing tests: sign with `danezone sign` and keys in a
SoftHSM2 token, run the validators on a signed zone and read records back
with dnspython."""
import re
import subprocess

import dns.name
import dns.rdatatype
import dns.zone

from conftest import danezone, run


class TokenSigner:
    """`danezone sign` for one zone with keys generated in a SoftHSM2 token.

    The keys stay in the token and the key registry of `state`, so later
    runs of one test sign with the same keys.
    """

    def __init__(self, softhsm, state, origin="example.com"):
        self.softhsm = softhsm
        self.state = str(state)
        self.origin = origin

    def token_args(self):
        return ["--token", self.softhsm.label, "--pin-file", self.softhsm.pin_file,
                "--state-dir", self.state]

    def generate(self, role, algorithm="ECDSAP256SHA256"):
        """Generate a key of `role` (ksk, zsk, csk); returns its CKA_ID in hex."""
        danezone("key", "generate", "--zone", self.origin, "--role", role, "--algorithm",
                 algorithm, *self.token_args(), env=self.softhsm.env)
        listing = danezone("key", "list", "--zone", self.origin, *self.token_args(),
                           env=self.softhsm.env).stdout
        ids = re.findall(rf"^{re.escape(self.origin)}\.\s+{role}\s+\S+\s+\d+\s+([0-9a-f]+)",
                         listing, re.M)
        assert ids, listing
        return ids[-1]

    def sign(self, input_path, output_path, *args, check=True):
        """Run `danezone sign --stats`; `input_path` None signs from --previous and --diff."""
        command = ["sign", "--zone", self.origin, "--output", output_path, "--stats"]
        if input_path is not None:
            command += ["--input", input_path]
        return danezone(*command, *args, *self.token_args(), env=self.softhsm.env, check=check)


def parse_stats(stdout):
    """The "name value" lines of `danezone sign --stats` as a dict of strings."""
    return dict(line.split(" ", 1) for line in stdout.splitlines() if " " in line)


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
