"""Sign the test corpus and check the signed zones.

The corpus is tests/data/zones: unsigned zones, each with a file of expected
results written by hand (format in tests/data/zones/README.md).  This module
loads it, signs zones with a signer, and checks a signed zone two ways:

- check_signed_zone() compares it with the expected results: which names
  are signed, which are kept unsigned, which are absent, and the owners of
  the NSEC or NSEC3 chain (NSEC3 owners hashed with ldns-nsec3-hash);
- run_validators() runs the independent validators ldns-verify-zone,
  dnssec-verify (BIND), kzonecheck (Knot) and validns where it applies.

Signers: LdnsSigner runs ldns-signzone with keys in files.  It shares no
code with danezone, so the corpus test with it checks the harness itself.
DanezoneSigner runs `danezone sign` with keys in a SoftHSM token.
"""
import collections
import dataclasses
import functools
import os
import re

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import yaml

from conftest import DANEZONE, DATADIR, run

CORPUS_DIR = os.path.join(DATADIR, "zones")

STATUSES = ("signed", "delegation", "glue", "occluded", "empty-non-terminal", "out-of-zone")
# Statuses whose names keep records in the signed output.
KEPT = ("signed", "delegation", "glue", "occluded")

# DNSSEC algorithm numbers that validns 0.8 can verify.  With OpenSSL 3 it
# fails on ECDSA keys ("error building pkey") and it does not know Ed25519
# or Ed448, so it checks only zones signed with RSA.
VALIDNS_ALGORITHMS = {5, 7, 8, 10}
# Record types that validns 0.8 cannot read at the apex: it reports them as
# unsupported and then loses the apex NSEC record.  danezone publishes both.
VALIDNS_UNREADABLE_APEX_TYPES = ("CDS", "CDNSKEY")


@dataclasses.dataclass(frozen=True)
class Denial:
    """Authenticated denial of existence for one signing run."""

    kind: str  # "nsec" or "nsec3"
    iterations: int = 0
    salt: str = ""  # hex; empty for no salt
    opt_out: bool = False

    def __str__(self):
        if self.kind == "nsec":
            return "nsec"
        text = f"nsec3-i{self.iterations}"
        if self.salt:
            text += f"-s{self.salt}"
        if self.opt_out:
            text += "-optout"
        return text


@dataclasses.dataclass
class CorpusZone:
    """One zone of the corpus with its expected results."""

    name: str  # file name without .zone
    path: str
    origin: dns.name.Name
    statuses: dict  # dns.name.Name -> status
    name_texts: dict  # dns.name.Name -> the name as written in the expected file
    nsec: list  # dns.name.Name, canonical order
    nsec3: list
    nsec3_opt_out: list
    validator_errors: dict  # validator -> list of messages it must report

    @property
    def origin_text(self):
        return self.origin.to_text()

    def names_with(self, status):
        return [n for n, s in self.statuses.items() if s == status]

    def chain(self, denial):
        """The expected chain owners for `denial`."""
        if denial.kind == "nsec":
            return self.nsec
        return self.nsec3_opt_out if denial.opt_out else self.nsec3


def load_corpus():
    """Load every NAME.yaml of the corpus, sorted by name."""
    zones = []
    for entry in sorted(os.listdir(CORPUS_DIR)):
        if entry.endswith(".yaml"):
            zones.append(load_expected(os.path.join(CORPUS_DIR, entry)))
    return zones


def load_expected(path):
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    statuses = {}
    texts = {}
    for text, status in data["names"].items():
        if status not in STATUSES:
            raise ValueError(f"{path}: unknown status {status!r} for {text}; use one of {STATUSES}")
        name = dns.name.from_text(text)
        statuses[name] = status
        texts[name] = text
    nsec = [dns.name.from_text(t) for t in data["nsec"]]
    nsec3 = [dns.name.from_text(t) for t in data["nsec3"]]
    opt_out = [dns.name.from_text(t) for t in data.get("nsec3_opt_out", data["nsec3"])]
    return CorpusZone(
        name=os.path.basename(path)[: -len(".yaml")],
        path=os.path.join(CORPUS_DIR, data["zone"]),
        origin=dns.name.from_text(data["origin"]),
        statuses=statuses,
        name_texts=texts,
        nsec=nsec,
        nsec3=nsec3,
        nsec3_opt_out=opt_out,
        validator_errors=data.get("validator_errors") or {},
    )


def flatten_includes(path, origin):
    """Return the text of zone file `path` with every $INCLUDE expanded.

    For signers without $INCLUDE (ldns-signzone).  The included text is
    framed by $ORIGIN lines so that the include's origin applies only inside
    it.  NOTE: a blank owner on the first record after an $INCLUDE would
    repeat the included file's last owner.  BIND and danezone repeat the
    including file's owner instead, and the corpus has no such record.
    """
    current = dns.name.from_text(origin)
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.split(";", 1)[0].split()
            if fields and fields[0].upper() == "$ORIGIN":
                current = dns.name.from_text(fields[1], origin=current)
            if fields and fields[0].upper() == "$INCLUDE":
                target = os.path.join(os.path.dirname(path), fields[1].strip('"'))
                inner = dns.name.from_text(fields[2], origin=current) if len(fields) > 2 else current
                out.append(f"$ORIGIN {inner.to_text()}\n")
                out.append(flatten_includes(target, inner.to_text()))
                out.append(f"$ORIGIN {current.to_text()}\n")
                continue
            out.append(line)
    return "".join(out)


@functools.lru_cache(maxsize=None)
def nsec3_hash(name_text, iterations, salt):
    """The NSEC3 hash of a name (base32hex, lower case), from ldns-nsec3-hash."""
    proc = run(["ldns-nsec3-hash", "-t", str(iterations), "-s", salt, name_text])
    return proc.stdout.strip().rstrip(".").lower()


class SignedZone:
    """The records of a signed zone file, grouped for the checks.

    ldns-read-zone prints one record per line with absolute names, and
    dnspython parses each record.  dnspython's own zone reader is not used
    because it drops out-of-zone records without a word.
    """

    def __init__(self, path):
        self.types = collections.defaultdict(set)  # name -> record types present
        self.covered = collections.defaultdict(set)  # name -> types covered by an RRSIG
        self.nsec = {}  # name -> NSEC rdata
        self.nsec3 = {}  # name -> NSEC3 rdata
        self.nsec3param = []
        self.ttls = {}  # (name, type) -> TTL
        proc = run(["ldns-read-zone", path])
        for line in proc.stdout.splitlines():
            if not line.strip() or line.startswith(";"):
                continue
            owner, ttl, rdclass, rdtype, *rest = line.split(None, 4)
            name = dns.name.from_text(owner)
            rdtype = dns.rdatatype.from_text(rdtype)
            rdata = dns.rdata.from_text(dns.rdataclass.from_text(rdclass), rdtype,
                                        rest[0] if rest else "", origin=dns.name.root,
                                        relativize=False)
            self.types[name].add(rdtype)
            self.ttls[(name, rdtype)] = int(ttl)
            if rdtype == dns.rdatatype.RRSIG:
                self.covered[name].add(rdata.type_covered)
            elif rdtype == dns.rdatatype.NSEC:
                self.nsec[name] = rdata
            elif rdtype == dns.rdatatype.NSEC3:
                self.nsec3[name] = rdata
            elif rdtype == dns.rdatatype.NSEC3PARAM:
                self.nsec3param.append((name, rdata))
            elif rdtype == dns.rdatatype.SOA:
                self.soa = (name, int(ttl), rdata)

    def data_types(self, name):
        """Record types at `name` other than RRSIG, NSEC and NSEC3."""
        return self.types.get(name, set()) - {dns.rdatatype.RRSIG, dns.rdatatype.NSEC,
                                              dns.rdatatype.NSEC3}


def _type_names(types):
    return " ".join(sorted(dns.rdatatype.to_text(t) for t in types))


def check_signed_zone(signed, zone, denial, chain=None):
    """Compare a SignedZone with the expected results; return the problems found.

    `chain` replaces the expected chain owners (for a peer signer whose
    choice differs from ours where the RFC allows both).
    """
    problems = []
    for name, status in zone.statuses.items():
        problems += _check_name(signed, name, status)

    # Every owner in the output is a name of the corpus that keeps records,
    # or the hashed owner of an NSEC3 record.
    nsec3_only = {dns.rdatatype.NSEC3, dns.rdatatype.RRSIG}
    for name in signed.types:
        if signed.types[name] <= nsec3_only and dns.rdatatype.NSEC3 in signed.types[name]:
            continue
        if zone.statuses.get(name) not in KEPT:
            problems.append(f"{name}: in the output ({_type_names(signed.types[name])}) but "
                            f"expected {zone.statuses.get(name, 'not listed')}")

    expected = zone.chain(denial) if chain is None else chain
    soa_name, soa_ttl, soa = signed.soa
    if soa_name != zone.origin:
        problems.append(f"SOA at {soa_name}, expected at the apex {zone.origin}")
    denial_ttl = min(soa_ttl, soa.minimum)  # RFC 9077
    if denial.kind == "nsec":
        problems += _check_nsec_chain(signed, expected, denial_ttl)
    else:
        problems += _check_nsec3_chain(signed, zone, expected, denial, denial_ttl)
    return problems


def _check_name(signed, name, status):
    problems = []
    present = signed.types.get(name, set())
    data = signed.data_types(name)
    covered = signed.covered.get(name, set())
    if status == "signed":
        if not data:
            problems.append(f"{name}: signed name missing from the output")
        unsigned = data - covered
        if unsigned:
            problems.append(f"{name}: RRsets without RRSIG: {_type_names(unsigned)}")
    elif status == "delegation":
        if dns.rdatatype.NS not in data:
            problems.append(f"{name}: delegation without its NS RRset in the output")
        if dns.rdatatype.NS in covered:
            problems.append(f"{name}: NS RRset at a delegation is signed")
        if dns.rdatatype.DS in data and dns.rdatatype.DS not in covered:
            problems.append(f"{name}: DS RRset at a delegation is not signed")
        extra = data - {dns.rdatatype.NS, dns.rdatatype.DS}
        if extra:
            problems.append(f"{name}: delegation has other data: {_type_names(extra)}")
    elif status in ("glue", "occluded"):
        if not data:
            problems.append(f"{name}: {status} records missing from the output")
        if covered:
            problems.append(f"{name}: {status} records are signed: {_type_names(covered)}")
        if dns.rdatatype.NSEC in present:
            problems.append(f"{name}: {status} name has an NSEC record")
    elif status in ("empty-non-terminal", "out-of-zone"):
        if present:
            problems.append(f"{name}: {status} name has records: {_type_names(present)}")
    return problems


def _check_nsec_chain(signed, expected, ttl):
    problems = []
    if signed.nsec3 or signed.nsec3param:
        problems.append("NSEC3 or NSEC3PARAM records in a zone signed with NSEC")
    have = set(signed.nsec)
    want = set(expected)
    for name in sorted(want - have):
        problems.append(f"{name}: NSEC record missing")
    for name in sorted(have - want):
        problems.append(f"{name}: unexpected NSEC record")
    # The next owner of each NSEC is the following name of the hand-sorted
    # list, and the last one points back at the apex.
    for i, name in enumerate(expected):
        rdata = signed.nsec.get(name)
        following = expected[(i + 1) % len(expected)]
        if rdata is not None and rdata.next != following:
            problems.append(f"{name}: NSEC next owner is {rdata.next}, expected {following}")
        if rdata is not None and signed.ttls[(name, dns.rdatatype.NSEC)] != ttl:
            problems.append(f"{name}: NSEC TTL {signed.ttls[(name, dns.rdatatype.NSEC)]}, "
                            f"expected {ttl} (RFC 9077)")
    return problems


def _check_nsec3_chain(signed, zone, expected, denial, ttl):
    problems = []
    if signed.nsec:
        problems.append("NSEC records in a zone signed with NSEC3")
    params = [(n, p) for n, p in signed.nsec3param]
    if len(params) != 1 or params[0][0] != zone.origin:
        problems.append(f"expected one NSEC3PARAM at the apex, found {len(params)}")
    else:
        p = params[0][1]
        if (p.algorithm, p.flags, p.iterations, p.salt.hex()) != (1, 0, denial.iterations, denial.salt):
            problems.append(f"NSEC3PARAM is {p}, expected 1 0 {denial.iterations} {denial.salt or '-'}")
    expected_hashes = {}
    for name in expected:
        text = zone.name_texts.get(name, name.to_text())
        expected_hashes[nsec3_hash(text, denial.iterations, denial.salt)] = name
    have = {}
    for owner, rdata in signed.nsec3.items():
        have[owner.labels[0].decode().lower()] = (owner, rdata)
        if owner.parent() != zone.origin:
            problems.append(f"{owner}: NSEC3 owner is not directly below the apex")
        flags = 1 if denial.opt_out else 0
        if rdata.flags != flags or rdata.iterations != denial.iterations or \
                rdata.salt.hex() != denial.salt:
            problems.append(f"{owner}: NSEC3 flags/iterations/salt {rdata.flags} "
                            f"{rdata.iterations} {rdata.salt.hex() or '-'}, expected {flags} "
                            f"{denial.iterations} {denial.salt or '-'}")
        if signed.ttls[(owner, dns.rdatatype.NSEC3)] != ttl:
            problems.append(f"{owner}: NSEC3 TTL {signed.ttls[(owner, dns.rdatatype.NSEC3)]}, "
                            f"expected {ttl} (RFC 9077)")
    for digest in sorted(set(expected_hashes) - set(have)):
        problems.append(f"{expected_hashes[digest]}: NSEC3 record missing (hash {digest})")
    for digest in sorted(set(have) - set(expected_hashes)):
        problems.append(f"{have[digest][0]}: unexpected NSEC3 record")
    return problems


@dataclasses.dataclass
class ValidatorResult:
    name: str
    ok: bool
    detail: str  # output, or why the validator was skipped
    skipped: bool = False


def validns_not_applicable(signed_path):
    """Why validns cannot check this signed zone file, or None when it can."""
    algorithms = set()
    unreadable = set()
    args = ["ldns-read-zone", "-E", "DNSKEY"]
    for rdtype in VALIDNS_UNREADABLE_APEX_TYPES:
        args += ["-E", rdtype]
    proc = run(args + [signed_path])
    for line in proc.stdout.splitlines():
        fields = line.split()
        if len(fields) > 6 and fields[3] == "DNSKEY":
            algorithms.add(int(fields[6]))
        elif len(fields) > 3 and fields[3] in VALIDNS_UNREADABLE_APEX_TYPES:
            unreadable.add(fields[3])
    if not algorithms <= VALIDNS_ALGORITHMS:
        return f"validns 0.8 cannot verify algorithms {sorted(algorithms - VALIDNS_ALGORITHMS)}"
    if unreadable:
        return f"validns 0.8 cannot read the apex records {sorted(unreadable)}"
    return None


def _result_with_known_errors(name, proc, pattern, known):
    """Judge a validator run against the errors that the expected file lists for it.

    Without `known` the validator must exit 0.  With it, the validator must
    fail, each error message (group 1 of `pattern`) must contain one of the
    known texts, and each known text must match some message.
    """
    output = proc.stdout + proc.stderr
    if not known:
        return ValidatorResult(name, proc.returncode == 0, output)
    messages = [m.strip() for m in re.findall(pattern, output, re.M)]
    unexplained = [m for m in messages if not any(k in m for k in known)]
    unseen = [k for k in known if not any(k in m for m in messages)]
    ok = proc.returncode != 0 and not unexplained and not unseen
    detail = (f"expected only the known errors {known}; unexplained: {unexplained}; "
              f"not reported: {unseen}\n{output}")
    return ValidatorResult(name, ok, detail)


def run_validators(signed_path, zone):
    """Run every validator that applies on a signed zone; one result each."""
    origin = zone.origin_text
    expected = zone.validator_errors
    results = []

    proc = run(["ldns-verify-zone", signed_path], check=False)
    results.append(ValidatorResult("ldns-verify-zone", proc.returncode == 0, proc.stdout + proc.stderr))

    proc = run(["dnssec-verify", "-q", "-o", origin, signed_path], check=False)
    results.append(ValidatorResult("dnssec-verify", proc.returncode == 0, proc.stdout + proc.stderr))

    proc = run(["kzonecheck", "-o", origin, "-d", "on", signed_path], check=False)
    results.append(_result_with_known_errors("kzonecheck", proc, r"^\[[^\]]*\] (.+)$",
                                             expected.get("kzonecheck")))

    reason = validns_not_applicable(signed_path)
    if reason is None:
        proc = run(["validns", "-z", origin, signed_path], check=False)
        results.append(_result_with_known_errors("validns", proc, r"^[^:]+:\d+: (.+)$",
                                                 expected.get("validns")))
    else:
        results.append(ValidatorResult("validns", True, "skipped: " + reason, skipped=True))
    return results


def failed_validators(results):
    return [r for r in results if not r.ok]


def format_failures(problems, results):
    """One text for an assertion message: chain and status problems, then validator output."""
    lines = [f"  {p}" for p in problems]
    for r in failed_validators(results):
        lines.append(f"  {r.name} failed:\n" + "\n".join("    " + l for l in r.detail.splitlines()))
    return "\n".join(lines)


class LdnsSigner:
    """ldns-signzone with a KSK and a ZSK in files under `workdir`."""

    name = "ldns-signzone"

    def __init__(self, workdir, algorithm="ECDSAP256SHA256"):
        self.workdir = str(workdir)
        self.algorithm = algorithm
        self.keys = {}

    def _keys(self, origin):
        if origin not in self.keys:
            size = ["-b", "2048"] if algorithm_is_rsa(self.algorithm) else []
            ksk = run(["ldns-keygen", "-a", self.algorithm, *size, "-k", origin], cwd=self.workdir)
            zsk = run(["ldns-keygen", "-a", self.algorithm, *size, origin], cwd=self.workdir)
            self.keys[origin] = [os.path.join(self.workdir, ksk.stdout.strip()),
                                 os.path.join(self.workdir, zsk.stdout.strip())]
        return self.keys[origin]

    def sign(self, zone, denial, out_path, check=True):
        """Sign `zone` into `out_path`; returns the CompletedProcess."""
        flat = os.path.join(self.workdir, f"{zone.name}.flat.zone")
        with open(flat, "w", encoding="utf-8") as f:
            f.write(flatten_includes(zone.path, zone.origin_text))
        args = ["ldns-signzone"]
        if denial.kind == "nsec3":
            args += ["-n", "-t", str(denial.iterations)]
            if denial.salt:
                args += ["-s", denial.salt]
            if denial.opt_out:
                args.append("-p")
        args += ["-o", zone.origin_text, "-f", str(out_path), flat, *self._keys(zone.origin_text)]
        return run(args, check=check, cwd=self.workdir)


def algorithm_is_rsa(algorithm):
    return algorithm.upper().startswith("RSA")


class DanezoneSigner:
    """`danezone sign` with a KSK and a ZSK made by `danezone key generate`
    in a SoftHSM token, registered in a state folder under `workdir`."""

    name = "danezone"

    def __init__(self, workdir, softhsm, algorithm="ECDSAP256SHA256"):
        self.workdir = str(workdir)
        self.softhsm = softhsm
        self.algorithm = algorithm
        self.state = os.path.join(self.workdir, "danezone-state")
        self.origins = set()

    def _token_args(self):
        return ["--token", self.softhsm.label, "--pin-file", self.softhsm.pin_file,
                "--state-dir", self.state]

    def _keys(self, origin):
        if origin in self.origins:
            return
        os.makedirs(self.state, exist_ok=True)
        for role in ("ksk", "zsk"):
            run([DANEZONE, "key", "generate", "--zone", origin, "--role", role, "--algorithm",
                 self.algorithm, *self._token_args()], env=self.softhsm.env)
        self.origins.add(origin)

    def sign(self, zone, denial, out_path, check=True, drop_out_of_zone=None):
        """Sign `zone` into `out_path`; returns the CompletedProcess.

        `drop_out_of_zone` None drops out-of-zone records when the expected
        results list some, because they describe the output without them.
        """
        self._keys(zone.origin_text)
        args = [DANEZONE, "sign", "--zone", zone.origin_text, "--input", zone.path,
                "--output", str(out_path), "--denial", denial.kind, *self._token_args()]
        if denial.kind == "nsec3":
            args += ["--nsec3-iterations", str(denial.iterations),
                     "--nsec3-salt", denial.salt or "-",
                     "--nsec3-opt-out", "yes" if denial.opt_out else "no"]
        if drop_out_of_zone is None:
            drop_out_of_zone = bool(zone.names_with("out-of-zone"))
        if drop_out_of_zone:
            args.append("--drop-out-of-zone")
        return run(args, check=check, env=self.softhsm.env)
