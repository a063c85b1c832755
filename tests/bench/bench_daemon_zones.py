#!/usr/bin/env python3
"""Benchmark danezoned with many small zones: start-up time and memory per
zone, against BIND (named) loading the same signed zones.

The script writes ZONES small unsigned zones (SOA, two NS, MX, a few A,
AAAA and TXT records each) and one configuration with all of them.  They
use the default policy: one ECDSA P-256 CSK per zone, with the keys in a
SoftHSM2 token that the script makes in the work folder.  It then measures, in one run:

  danezoned cold   exec to the "started" line on the first start: a key
                   generated in the token for each zone, every zone signed;
  danezoned 1st    the same after a restart, with the key state and
                   signed zones of the first start (this start also makes
                   the standby keys that the key manager keeps ahead);
  danezoned warm   the same after a second restart, where nothing is due;
  named            exec to BIND's "all zones loaded" line, with the signed
                   zone files that danezoned wrote (type primary, no
                   signing by named).

Memory is Rss and Pss of the process and its children, read from
/proc/PID/smaps_rollup right after the start-up line.  The same start
with one zone gives the base that "per zone" subtracts.  Only ratios
from one run on one machine mean anything; build danezone without
--enable-sanitizers for this.

Usage: bench_daemon_zones.py --build BUILDDIR [--zones 10000] [--workdir DIR]
"""
import argparse
import os
import shutil
import subprocess
import tempfile
import time

from daemon_bench import Daemon, free_port, machine_line, make_token, memory_kib, run, server_yaml

ZONE_TEMPLATE = """$ORIGIN {name}
$TTL 3600
@ SOA ns1 hostmaster 1 7200 3600 1209600 300
@ NS ns1
@ NS ns2
@ MX 10 mail
@ TXT "v=spf1 mx -all"
ns1 A 192.0.2.1
ns2 A 192.0.2.2
mail A 192.0.2.25
mail AAAA 2001:db8::25
www A 192.0.2.80
"""


def zone_name(index):
    return f"z{index:05d}.example."


def write_zones(folder, count):
    """Write `count` zone sources and return the YAML of their zones section."""
    os.makedirs(folder, exist_ok=True)
    entries = []
    for index in range(count):
        name = zone_name(index)
        path = os.path.join(folder, name + "zone")
        with open(path, "w") as f:
            f.write(ZONE_TEMPLATE.format(name=name))
        entries.append(f"  - name: {name}\n    source: {path}\n")
    return "zones:\n" + "".join(entries)


def measure_danezoned(binary, folder, count):
    """Start danezoned three times (cold, first restart, warm), each with its memory; return
    the figures and the state folder."""
    os.makedirs(folder, exist_ok=True)
    env, pin_file, label = make_token(folder)
    state = os.path.join(folder, "state")
    port = free_port()
    config = os.path.join(folder, "danezone.yaml")
    with open(config, "w") as f:
        f.write(server_yaml(state, port, pin_file, label))
        f.write(write_zones(os.path.join(folder, "zones"), count))
    figures = {}
    for run_name in ("cold", "restart", "warm"):
        daemon = Daemon(binary, config, os.path.join(folder, f"danezoned-{run_name}.log"), env)
        try:
            rss, pss = memory_kib(daemon.proc.pid)
            answer = run(["dig", "@127.0.0.1", "-p", str(port), "+short", zone_name(count - 1), "SOA"])
            if not answer.stdout.strip():
                raise RuntimeError(f"danezoned does not serve {zone_name(count - 1)} after start")
        finally:
            status = daemon.stop()
        if status != 0:
            raise RuntimeError(f"danezoned exited with {status}; see {daemon.log_path}")
        figures[run_name] = {"start_s": daemon.start_s, "rss": rss, "pss": pss}
    return figures, state


def measure_named(folder, signed, count):
    """Start named with the signed zone files of `signed`; return start time and memory."""
    os.makedirs(folder, exist_ok=True)
    port = free_port()
    log = os.path.join(folder, "named.log")
    conf = os.path.join(folder, "named.conf")
    with open(conf, "w") as f:
        f.write(f"""options {{
    directory "{folder}";
    listen-on port {port} {{ 127.0.0.1; }};
    listen-on-v6 {{ none; }};
    pid-file "{folder}/named.pid";
    recursion no;
    dnssec-validation no;
    notify no;
}};
controls {{ }};
logging {{
    channel main {{ file "{log}"; severity info; print-time yes; }};
    category default {{ main; }};
}};
""")
        for index in range(count):
            name = zone_name(index)
            f.write(f'zone "{name}" {{ type primary; file "{os.path.join(signed, name + "zone")}"; }};\n')
    if os.path.exists(log):
        os.unlink(log)
    started = time.perf_counter()
    with open(os.path.join(folder, "named.stdout"), "w") as out:
        proc = subprocess.Popen(["named", "-f", "-c", conf], stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + 3600
        while True:
            if os.path.exists(log) and "all zones loaded" in open(log, errors="replace").read():
                break
            if proc.poll() is not None:
                raise RuntimeError(f"named exited with {proc.returncode}; see {log}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"named did not load the zones within an hour; see {log}")
            time.sleep(0.02)
        start_s = time.perf_counter() - started
        rss, pss = memory_kib(proc.pid)
        answer = run(["dig", "@127.0.0.1", "-p", str(port), "+short", zone_name(count - 1), "SOA"])
        if not answer.stdout.strip():
            raise RuntimeError(f"named does not serve {zone_name(count - 1)}; see {log}")
    finally:
        proc.terminate()
        proc.wait(timeout=600)
    return {"start_s": start_s, "rss": rss, "pss": pss}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", required=True, help="danezone build folder (with danezoned)")
    parser.add_argument("--zones", type=int, default=10000, help="number of zones (default 10000)")
    parser.add_argument("--workdir", help="keep files here instead of a temporary folder")
    args = parser.parse_args()

    binary = os.path.join(args.build, "danezoned")
    work = args.workdir or tempfile.mkdtemp(prefix="dz-bench-daemon-zones-")
    os.makedirs(work, exist_ok=True)
    print(f"machine: {machine_line()}")
    print("load average at start: %.2f %.2f %.2f" % os.getloadavg())
    results = {}
    try:
        for count in (1, args.zones):
            figures, state = measure_danezoned(binary, os.path.join(work, f"dz{count}"), count)
            figures["named"] = measure_named(os.path.join(work, f"named{count}"),
                                             os.path.join(state, "signed"), count)
            results[count] = figures
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    print("load average at end:   %.2f %.2f %.2f" % os.getloadavg())

    count = args.zones
    print(f"\n{count} zones: start-up time and memory (Rss/Pss of the process tree after start-up)")
    print(f"{'server':>16} {'start s':>9} {'Rss MiB':>9} {'Pss MiB':>9} {'Pss KiB/zone':>13}")
    rows = (("danezoned cold", "cold"), ("danezoned 1st", "restart"), ("danezoned warm", "warm"),
            ("named", "named"))
    for label, key in rows:
        many, one = results[count][key], results[1][key]
        per_zone = (many["pss"] - one["pss"]) / (count - 1) if count > 1 else many["pss"]
        print(f"{label:>16} {many['start_s']:9.2f} {many['rss'] / 1024:9.1f} "
              f"{many['pss'] / 1024:9.1f} {per_zone:13.1f}")
    print("per zone: Pss with all zones minus Pss with one zone, divided by the zones added")
    warm, named = results[count]["warm"], results[count]["named"]
    one_warm, one_named = results[1]["warm"], results[1]["named"]
    print(f"\ndanezoned warm / named: start-up time {warm['start_s'] / named['start_s']:.2f}, "
          f"Pss {warm['pss'] / named['pss']:.2f}")
    if count > 1:
        dz_zone = (warm["pss"] - one_warm["pss"]) / (count - 1)
        named_zone = (named["pss"] - one_named["pss"]) / (count - 1)
        if named_zone > 0:
            print(f"danezoned warm / named: Pss per zone {dz_zone / named_zone:.2f}")


if __name__ == "__main__":
    main()
