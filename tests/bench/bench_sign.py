#!/usr/bin/python3
"""Benchmark full and incremental signing against the token and peer signers.

For each zone size, generate a zone with genzone.py and print, from one run:

- danezone: full-sign time, RRSIGs per second, peak RSS (the larger of
  /usr/bin/time -v and the sampled sum over its signer processes), and
  the in-memory re-sign of one changed TLSA record;
- the token's raw signing rate on all cores (`danezone hsm bench`);
- ldns-signzone, dnssec-signzone -n CORES (with and without its own
  verification) and kzonesign on the same zone with ECDSA P-256 keys in
  files and NSEC3 with 0 iterations and no salt;
- the ratios and the goals: full sign at >= 85% of the token's all-core
  rate, peak RSS no more than kzonesign's, and the one-record change
  re-signed in under 1% of the full-sign time with fewer than 10 new
  signatures.

The programs run one after another, never in parallel.  Absolute times
depend on the machine; compare the ratios of one run.  This is not a test:
`make bench` runs it, `make check` does not.

Usage: bench_sign.py [--names N [N ...]] [--builddir DIR] [--workdir DIR] [--keep]
"""
import argparse
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import time

ORIGIN = "example.com"
ALGORITHM = "ECDSAP256SHA256"
SRCDIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GENZONE_DEFAULT = os.environ.get("DZ_GENZONE", "/work/shared/bench/genzone.py")
SOFTHSM_MODULE_DEFAULT = "/usr/lib/softhsm/libsofthsm2.so"

# Goals the signer is measured against.
GOAL_TOKEN_SHARE = 0.85	 # full-sign RRSIG rate / token all-core rate, at least
GOAL_INCREMENTAL_SHARE = 0.01  # incremental time / full-sign time, below
GOAL_INCREMENTAL_SIGNATURES = 10  # new signatures for one changed TLSA record, below

RSS_SAMPLE_INTERVAL = 0.05  # seconds between samples of a process tree's RSS
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


@dataclasses.dataclass
class Measurement:
    """One timed program run."""

    label: str
    wall: float = 0.0  # seconds
    cpu: float = 0.0  # user + system seconds
    rss_kb: int = 0  # peak resident set size, summed over the program's processes
    rrsigs: int = 0  # RRSIG records in the output
    note: str = ""  # why the run is missing, or extra facts
    sign_rate: float = 0.0  # RRSIGs per second of the signing step alone, when reported

    @property
    def ok(self):
        return self.wall > 0

    @property
    def rate(self):
        return self.rrsigs / self.wall if self.wall > 0 else 0.0


def log(message):
    print(message, file=sys.stderr, flush=True)


def run(args, **kwargs):
    """Run a command; raise with its output when it fails."""
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} failed with exit status "
                           f"{proc.returncode}:\n{proc.stdout}{proc.stderr}")
    return proc


def timed(label, args, output=None, **kwargs):
    """Run `args` under /usr/bin/time -v and count the RRSIGs in `output`.

    Returns the Measurement and the program's standard output.
    """
    log(f"running {label}: {' '.join(map(str, args))}")
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(["/usr/bin/time", "-v", *map(str, args)], stdout=out, stderr=err,
                                text=True, **kwargs)
        tree_peak_kb = 0
        while proc.poll() is None:
            tree_peak_kb = max(tree_peak_kb, tree_rss_kb(proc.pid))
            time.sleep(RSS_SAMPLE_INTERVAL)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    m = measurement_from_time(label, proc.returncode, stderr)
    # /usr/bin/time reports the largest single process; signer processes
    # started by the program count too, so keep the larger of the two.
    m.rss_kb = max(m.rss_kb, tree_peak_kb)
    if m.ok and output is not None:
        m.rrsigs = count_rrsigs(output)
    return m, stdout


def tree_rss_kb(root):
    """Resident set size in KiB summed over the descendants of process `root`."""
    parents = {}
    rss = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as f:
                stat = f.read()
            with open(f"/proc/{entry}/statm", encoding="utf-8") as f:
                resident_pages = int(f.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue  # the process ended meanwhile
        # The command name in parentheses may contain spaces; fields follow it.
        parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
        rss[int(entry)] = resident_pages * PAGE_KB
    total = 0
    for pid in rss:
        ancestor = parents.get(pid)
        while ancestor is not None and ancestor != root:
            ancestor = parents.get(ancestor)
        if ancestor == root:
            total += rss[pid]
    return total


def measurement_from_time(label, returncode, stderr):
    """Wall time, CPU time and peak RSS from the report of /usr/bin/time -v."""
    if returncode != 0:
        return Measurement(label, note=f"failed (exit {returncode}): "
                                       f"{stderr.strip().splitlines()[-1:]}")
    m = Measurement(label)
    for line in stderr.splitlines():
        line = line.strip()
        if line.startswith("Elapsed (wall clock) time"):
            m.wall = parse_elapsed(line.rsplit(" ", 1)[1])
        elif line.startswith("User time (seconds):") or line.startswith("System time (seconds):"):
            m.cpu += float(line.rsplit(" ", 1)[1])
        elif line.startswith("Maximum resident set size (kbytes):"):
            m.rss_kb = int(line.rsplit(" ", 1)[1])
    return m


def parse_elapsed(text):
    """Seconds from /usr/bin/time's "h:mm:ss" or "m:ss.ss"."""
    seconds = 0.0
    for part in text.split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


def count_rrsigs(path):
    """RRSIG records in a zone file written one record per line."""
    count = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            fields = line.split(None, 4)
            if "RRSIG" in fields[2:4]:
                count += 1
    return count


# ---- peers -------------------------------------------------------------


def bench_ldns(zone, workdir):
    keys = os.path.join(workdir, "ldns-keys")
    os.makedirs(keys)
    ksk = run(["ldns-keygen", "-a", ALGORITHM, "-k", ORIGIN], cwd=keys).stdout.strip()
    zsk = run(["ldns-keygen", "-a", ALGORITHM, ORIGIN], cwd=keys).stdout.strip()
    out = os.path.join(workdir, "ldns.signed")
    # "-n" alone means 1 iteration in ldns-signzone, so pass "-t 0".
    m, _ = timed("ldns-signzone", ["ldns-signzone", "-n", "-t", "0", "-o", ORIGIN, "-f", out, zone,
                                os.path.join(keys, ksk), os.path.join(keys, zsk)], output=out)
    m.note = "one thread"
    return [m]


def bench_bind(zone, workdir, cores):
    keys = os.path.join(workdir, "bind-keys")
    os.makedirs(keys)
    run(["dnssec-keygen", "-q", "-a", ALGORITHM, "-f", "KSK", "-K", keys, ORIGIN])
    run(["dnssec-keygen", "-q", "-a", ALGORITHM, "-K", keys, ORIGIN])
    results = []
    for verify in (False, True):
        out = os.path.join(workdir, f"bind-{'verify' if verify else 'noverify'}.signed")
        # "-O full" writes one record per line, so the RRSIGs can be counted.
        args = ["dnssec-signzone", "-q", *([] if verify else ["-P"]), "-S", "-K", keys,
                "-3", "-", "-H", "0", "-n", cores, "-O", "full", "-o", ORIGIN, "-f", out, zone]
        label = "dnssec-signzone" + ("" if verify else " -P")
        # dnssec-signzone writes a dsset file into its working folder.
        m, _ = timed(label, args, output=out, cwd=workdir)
        m.note = f"-n {cores}" + (", verifies its output" if verify else ", no verification")
        results.append(m)
    return results


KNOT_CONF = """database:
    storage: {dir}/db
policy:
  - id: bench
    algorithm: ecdsap256sha256
    nsec3: on
    nsec3-iterations: 0
    nsec3-salt-length: 0
    signing-threads: {cores}
template:
  - id: default
    storage: {dir}/zones
    file: "%s.zone"
zone:
  - domain: {origin}
    dnssec-signing: on
    dnssec-policy: bench
"""


def bench_knot(zone, workdir, cores):
    base = os.path.join(workdir, "knot")
    os.makedirs(os.path.join(base, "zones"))
    os.makedirs(os.path.join(base, "db"))
    conf = os.path.join(base, "knot.conf")
    with open(conf, "w", encoding="utf-8") as f:
        f.write(KNOT_CONF.format(dir=base, cores=cores, origin=ORIGIN))
    target = os.path.join(base, "zones", f"{ORIGIN}.zone")
    # kzonesign keeps keys in its KASP database: create them on the zone's
    # first lines with -r, then time the real run without -r.
    with open(zone, encoding="utf-8") as src, open(target, "w", encoding="utf-8") as dst:
        for _, line in zip(range(12), src):
            dst.write(line)
    run(["kzonesign", "-r", "-c", conf, "-o", os.path.join(base, "init"), ORIGIN])
    shutil.copyfile(zone, target)
    out_dir = os.path.join(base, "out")
    m, _ = timed("kzonesign", ["kzonesign", "-c", conf, "-o", out_dir, ORIGIN])
    if m.ok:
        m.rrsigs = count_rrsigs(os.path.join(out_dir, f"{ORIGIN}.zone"))
    m.note = f"signing-threads {cores}"
    return [m]


# ---- danezone ----------------------------------------------------------


def danezone_has(danezone, *command):
    """Whether `danezone COMMAND --help` succeeds."""
    if not os.path.exists(danezone):
        return False
    proc = subprocess.run([danezone, *command, "--help"], capture_output=True, text=True)
    return proc.returncode == 0


def make_token(workdir, module):
    """A SoftHSM2 token in `workdir`; returns (environment, token options)."""
    tokens = os.path.join(workdir, "tokens")
    os.makedirs(tokens)
    conf = os.path.join(workdir, "softhsm2.conf")
    with open(conf, "w", encoding="utf-8") as f:
        f.write(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
    env = dict(os.environ, SOFTHSM2_CONF=conf)
    pin_file = os.path.join(workdir, "token.pin")
    with open(pin_file, "w", encoding="utf-8") as f:
        f.write("1234\n")
    os.chmod(pin_file, 0o600)
    run(["softhsm2-util", "--init-token", "--free", "--label", "bench", "--pin", "1234",
         "--so-pin", "12345678"], env=env)
    options = ["--module", module, "--token", "bench", "--pin-file", pin_file]
    return env, options


def bench_token(danezone, workdir, module, cores):
    """The token's signing rate on all cores, from `danezone hsm bench`."""
    if not danezone_has(danezone, "hsm", "bench"):
        return None, "`danezone hsm bench` is not built"
    env, options = make_token(os.path.join(workdir, "hsm-bench"), module)
    proc = run([danezone, "hsm", "bench", "--algorithm", ALGORITHM, "--threads", cores,
                "--processes", cores, "--seconds", "5", *options], env=env)
    # Columns: ALGORITHM, raw C_Sign/s (one session), service/s, ratio, processes/s.
    for line in proc.stdout.splitlines():
        fields = line.split()
        if fields and fields[0] == ALGORITHM:
            rates = [float(f) for f in fields[1:3] + fields[4:5]]
            return max(rates), proc.stdout
    return None, "no result line in:\n" + proc.stdout


def first_tlsa_change(zone):
    """A diff file body replacing the first TLSA record of the generated zone."""
    with open(zone, encoding="utf-8") as f:
        for line in f:
            fields = line.split()
            if len(fields) == 6 and fields[1] == "TLSA":
                owner, _, usage, selector, matching, digest = fields
                new = format(int(digest, 16) ^ 1, "064x")
                return (f"- {owner} 3600 IN TLSA {usage} {selector} {matching} {digest}\n"
                        f"+ {owner} 3600 IN TLSA {usage} {selector} {matching} {new}\n")
    raise RuntimeError(f"{zone} has no TLSA record to change")


def parse_stats(text):
    """The "name value" lines that `danezone sign --stats` prints."""
    stats = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) == 2:
            stats[fields[0]] = fields[1]
    return stats


def bench_danezone(danezone, zone, workdir, module, cores):
    """Full sign, then one changed TLSA record, with `danezone sign`.

    One run does both: --incremental applies the change to the signed zone
    in memory and signs again, as the daemon does for each change, and
    --stats reports that step's time and new signatures on its own.  The
    output written is the second version.  Returns (measurement,
    (incremental seconds, new signatures) or None, note).
    """
    if not danezone_has(danezone, "sign"):
        return None, None, "`danezone sign` is not built"
    base = os.path.join(workdir, "danezone")
    os.makedirs(base)
    env, options = make_token(base, module)
    options += ["--state-dir", os.path.join(base, "state")]
    for role in ("ksk", "zsk"):
        run([danezone, "key", "generate", "--zone", ORIGIN, "--role", role, "--algorithm",
             ALGORITHM, *options], env=env)
    change = os.path.join(base, "change.diff")
    with open(change, "w", encoding="utf-8") as f:
        f.write(first_tlsa_change(zone))
    out = os.path.join(base, "signed.zone")
    m, stdout = timed("danezone sign", [danezone, "sign", "--zone", ORIGIN, "--input", zone,
                                        "--output", out, "--incremental", change, "--stats",
                                        "--denial", "nsec3", "--nsec3-iterations", "0",
                                        "--nsec3-salt", "-", *options], output=out, env=env)
    if not m.ok:
        return m, None, m.note
    stats = parse_stats(stdout)
    m.sign_rate = float(stats.get("rrsigs_per_second", 0))
    m.note = (f"{cores} signer processes; load {float(stats.get('seconds_load', 0)):.1f} s, "
              f"sign {float(stats.get('seconds_sign', 0)):.1f} s "
              f"({float(stats.get('rrsigs_per_second', 0)):.0f}/s), "
              f"write {float(stats.get('seconds_write', 0)):.1f} s")
    incremental = None
    if "incremental_seconds" in stats:
        incremental = (float(stats["incremental_seconds"]), int(stats["incremental_rrsigs_created"]))
    return m, incremental, ""


def built_with_sanitizers(builddir):
    """Whether config.log shows that the build was configured with sanitizers."""
    try:
        with open(os.path.join(builddir, "config.log"), encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("  $ "):
                    return "--enable-sanitizers" in line or "--enable-fuzzing" in line
    except OSError:
        pass
    return False


# ---- report ------------------------------------------------------------


def mib(kb):
    return kb / 1024.0


def report(names, ours, incremental, token_rate, token_note, peers):
    print(f"\n== {names} names, {ALGORITHM}, NSEC3 iterations 0 ==")
    print(f"{'signer':<22} {'wall s':>8} {'cpu s':>8} {'RRSIGs':>9} {'RRSIG/s':>9} "
          f"{'peak MiB':>9}  note")
    rows = ([ours] if ours else []) + peers
    for m in rows:
        if m.ok:
            print(f"{m.label:<22} {m.wall:8.2f} {m.cpu:8.2f} {m.rrsigs:9d} {m.rate:9.0f} "
                  f"{mib(m.rss_kb):9.1f}  {m.note}")
        else:
            print(f"{m.label:<22} {'-':>8} {'-':>8} {'-':>9} {'-':>9} {'-':>9}  {m.note}")
    if token_rate:
        print(f"token, all cores: {token_rate:.0f} signatures/s")
    else:
        print(f"token, all cores: not measured ({token_note})")

    if not ours or not ours.ok:
        print("danezone: not measured" + (f" ({ours.note})" if ours else ""))
        return
    print("\nratios (peer wall time / danezone wall time; danezone RSS / peer RSS):")
    for m in peers:
        if m.ok:
            print(f"  {m.label:<22} time x{m.wall / ours.wall:5.2f}   RSS {ours.rss_kb / m.rss_kb:5.2f}")
    print("\ngoals:")
    if token_rate:
        share = ours.rate / token_rate
        verdict = "met" if share >= GOAL_TOKEN_SHARE else "missed"
        step = f"; the signing step alone {ours.sign_rate / token_rate:.0%}" if ours.sign_rate else ""
        print(f"  full sign at {share:.0%} of the token's all-core rate "
              f"(goal >= {GOAL_TOKEN_SHARE:.0%}): {verdict}{step}")
    knot = [m for m in peers if m.label == "kzonesign" and m.ok]
    if knot:
        verdict = "met" if ours.rss_kb <= knot[0].rss_kb else "missed"
        print(f"  peak RSS {mib(ours.rss_kb):.1f} MiB vs kzonesign {mib(knot[0].rss_kb):.1f} MiB: {verdict}")
    if incremental:
        seconds, signatures = incremental
        share = seconds / ours.wall
        verdict = ("met" if share < GOAL_INCREMENTAL_SHARE
                   and signatures < GOAL_INCREMENTAL_SIGNATURES else "missed")
        print(f"  one TLSA change: {seconds * 1000:.1f} ms ({share:.3%} of the full sign), "
              f"{signatures} new signatures (goal < 1%, < {GOAL_INCREMENTAL_SIGNATURES}): {verdict}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--names", type=int, nargs="+", default=[100000],
                        help="owner names of each generated zone (default 100000)")
    parser.add_argument("--builddir", default=os.path.join(SRCDIR, "build"),
                        help="build folder with the danezone program")
    parser.add_argument("--workdir", help="folder for zones, keys and output (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--genzone", default=GENZONE_DEFAULT, help="zone generator script")
    parser.add_argument("--module", default=os.environ.get("DZ_SOFTHSM_MODULE", SOFTHSM_MODULE_DEFAULT),
                        help="SoftHSM2 PKCS#11 module")
    args = parser.parse_args()

    cores = str(os.cpu_count() or 1)
    danezone = os.path.join(args.builddir, "danezone")
    workdir = args.workdir or tempfile.mkdtemp(prefix="dz-bench-")
    os.makedirs(workdir, exist_ok=True)
    print(f"danezone signing benchmark: {cores} cores, work folder {workdir}")
    print(f"started {time.strftime('%Y-%m-%dT%H:%M:%S%z')}; compare ratios, not absolute times")
    if built_with_sanitizers(args.builddir):
        print("WARNING: danezone in this build folder has sanitizers, which slow it down several "
              "times; configure a build without --enable-sanitizers for figures to report")
    try:
        for names in args.names:
            base = os.path.join(workdir, f"z{names}")
            os.makedirs(base)
            zone = os.path.join(base, "unsigned.zone")
            with open(zone, "w", encoding="utf-8") as f:
                subprocess.run([sys.executable, args.genzone, ORIGIN, str(names)], stdout=f, check=True)
            ours, incremental, note = bench_danezone(danezone, zone, base, args.module, cores)
            if ours is None:
                ours = Measurement("danezone sign", note=note)
            token_rate, token_note = bench_token(danezone, base, args.module, cores)
            peers = bench_ldns(zone, base) + bench_bind(zone, base, cores) + bench_knot(zone, base, cores)
            report(names, ours, incremental, token_rate, token_note, peers)
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
