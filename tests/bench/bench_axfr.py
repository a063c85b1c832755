#!/usr/bin/env python3
"""Benchmark AXFR of a signed zone: danezone's server against NSD and BIND as primaries.

One run generates a zone of NAMES owner names with genzone.py, signs it
with ldns-signzone (ECDSA P-256, NSEC3 without iterations or salt), and
serves the same signed zone from three primaries on 127.0.0.1: dz-serve,
NSD and BIND (named).  For each primary it measures, best of ROUNDS:

  kdig      wall time of `kdig +noall AXFR`, a client that receives and
            parses every message;
  nsd load  wall time from starting an NSD secondary that pulls the zone by
            AXFR until it answers with the zone's serial.

It prints the times and the ratios danezone/NSD and danezone/BIND.  Only
ratios from one run on one machine mean anything; build danezone without
sanitizers for this (configure without --enable-sanitizers).

Usage: bench_axfr.py --build BUILDDIR [--names N] [--rounds R] [--workdir DIR]
"""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.dirname(os.path.dirname(HERE))
GENZONE = "/work/shared/bench/genzone.py"
ZONE = "example.com."


def free_port():
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                    tcp.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free loopback port found")


def run(args, **kwargs):
    return subprocess.run([str(a) for a in args], check=True, capture_output=True, text=True,
                          **kwargs)


def serial_of(port):
    proc = subprocess.run(["dig", "@127.0.0.1", "-p", str(port), "+short", "+time=1", "+tries=1",
                           ZONE, "SOA"], capture_output=True, text=True)
    fields = proc.stdout.split()
    # While a server loads, dig prints an error message instead of the SOA.
    if len(fields) != 7 or not fields[2].isdigit():
        return None
    return int(fields[2])


def wait_serial(port, serial, timeout=600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if serial_of(port) == serial:
            return
        time.sleep(0.05)
    raise RuntimeError(f"127.0.0.1:{port} did not serve serial {serial} within {timeout} s")


class Process:
    def __init__(self, args, log, **kwargs):
        self.log = open(log, "w")
        self.proc = subprocess.Popen([str(a) for a in args], stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True, **kwargs)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


def nsd_conf(folder, port, zone_lines):
    os.makedirs(folder, exist_ok=True)
    conf = os.path.join(folder, "nsd.conf")
    with open(conf, "w") as f:
        f.write(f"""server:
    ip-address: 127.0.0.1@{port}
    port: {port}
    username: ""
    chroot: ""
    zonesdir: "{folder}"
    database: ""
    pidfile: "{folder}/nsd.pid"
    xfrdfile: "{folder}/xfrd.state"
    xfrdir: "{folder}"
    zonelistfile: "{folder}/zone.list"
    logfile: "{folder}/nsd.log"
    server-count: 1
remote-control:
    control-enable: no
zone:
    name: "{ZONE}"
{zone_lines}""")
    return conf


def start_nsd_primary(folder, signed):
    port = free_port()
    conf = nsd_conf(folder, port, f'    zonefile: "{signed}"\n    provide-xfr: 127.0.0.1 NOKEY\n')
    return Process(["nsd", "-d", "-c", conf], os.path.join(folder, "stdout")), port


def start_named_primary(folder, signed):
    os.makedirs(folder, exist_ok=True)
    port = free_port()
    conf = os.path.join(folder, "named.conf")
    with open(conf, "w") as f:
        f.write(f"""options {{
    directory "{folder}";
    listen-on port {port} {{ 127.0.0.1; }};
    listen-on-v6 {{ none; }};
    pid-file "{folder}/named.pid";
    recursion no;
    notify no;
    dnssec-validation no;
    allow-transfer {{ any; }};
}};
controls {{ }};
zone "{ZONE}" {{ type primary; file "{signed}"; }};
""")
    return Process(["named", "-f", "-c", conf, "-n", "2"], os.path.join(folder, "stdout")), port


def time_kdig(port, rounds):
    best = None
    for _ in range(rounds):
        started = time.perf_counter()
        proc = subprocess.run(["kdig", "@127.0.0.1", "-p", str(port), "+noall", "+stats",
                               "+timeout=600", "AXFR", ZONE], capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        if proc.returncode != 0 or "Received" not in proc.stdout:
            raise RuntimeError(f"kdig AXFR from port {port} failed:\n{proc.stdout}{proc.stderr}")
        best = elapsed if best is None else min(best, elapsed)
    return best


def time_nsd_load(work, primary_port, serial, rounds):
    best = None
    for i in range(rounds):
        folder = os.path.join(work, f"secondary-{primary_port}-{i}")
        port = free_port()
        conf = nsd_conf(folder, port, f'    zonefile: "secondary.zone"\n'
                                      f'    request-xfr: AXFR 127.0.0.1@{primary_port} NOKEY\n')
        started = time.perf_counter()
        nsd = Process(["nsd", "-d", "-c", conf], os.path.join(folder, "stdout"))
        try:
            wait_serial(port, serial)
            elapsed = time.perf_counter() - started
        finally:
            nsd.stop()
        shutil.rmtree(folder, ignore_errors=True)
        best = elapsed if best is None else min(best, elapsed)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", required=True, help="danezone build folder (with tests/tools/dz-serve)")
    parser.add_argument("--names", type=int, default=100000, help="owner names in the zone (default 100000)")
    parser.add_argument("--rounds", type=int, default=3, help="runs per measurement; the best counts (default 3)")
    parser.add_argument("--workdir", help="keep files here instead of a temporary folder")
    args = parser.parse_args()

    work = args.workdir or tempfile.mkdtemp(prefix="dz-bench-axfr-")
    os.makedirs(work, exist_ok=True)
    dz_serve = os.path.join(args.build, "tests", "tools", "dz-serve")
    processes = []
    try:
        unsigned = os.path.join(work, "zone.unsigned")
        signed = os.path.join(work, "zone.signed")
        with open(unsigned, "w") as f:
            subprocess.run([sys.executable, GENZONE, ZONE, str(args.names)], stdout=f, check=True)
        ksk = run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", ZONE], cwd=work).stdout.strip()
        zsk = run(["ldns-keygen", "-a", "ECDSAP256SHA256", ZONE], cwd=work).stdout.strip()
        started = time.perf_counter()
        run(["ldns-signzone", "-n", "-t", "0", "-o", ZONE, "-f", signed, unsigned, ksk, zsk], cwd=work)
        print(f"signed {args.names} names with ldns-signzone in {time.perf_counter() - started:.1f} s")
        rrs = sum(1 for line in open(signed) if line.strip() and not line.startswith(";"))

        state = os.path.join(work, "dz-state")
        log = os.path.join(work, "dz-serve.log")
        started = time.perf_counter()
        dz = subprocess.Popen([dz_serve, "--state", state, "--zone", ZONE, "--listen", "127.0.0.1@0",
                               "--allow-transfer", "127.0.0.1", "--allow-query", "127.0.0.1",
                               signed],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=open(log, "w"),
                              text=True)
        line = dz.stdout.readline()
        if not line.startswith("ready"):
            raise RuntimeError(f"dz-serve did not start; see {log}")
        dz_port = int(line.split()[1])
        print(f"dz-serve published {rrs} RRs (snapshot, text, journal) and started in "
              f"{time.perf_counter() - started:.1f} s")
        serial = serial_of(dz_port)

        nsd, nsd_port = start_nsd_primary(os.path.join(work, "nsd-primary"), signed)
        processes.append(nsd)
        named, named_port = start_named_primary(os.path.join(work, "named-primary"), signed)
        processes.append(named)
        wait_serial(nsd_port, serial)
        wait_serial(named_port, serial)

        # One warm-up transfer each, then the rounds interleaved so that other
        # load on the machine hits every primary alike.
        primaries = (("danezone", dz_port), ("nsd", nsd_port), ("bind", named_port))
        for _, port in primaries:
            time_kdig(port, 1)
        results = {name: [None, None] for name, _ in primaries}
        for _ in range(args.rounds):
            for name, port in primaries:
                kdig = time_kdig(port, 1)
                load = time_nsd_load(work, port, serial, 1)
                best = results[name]
                best[0] = kdig if best[0] is None else min(best[0], kdig)
                best[1] = load if best[1] is None else min(best[1], load)

        print(f"\nAXFR of {args.names} names ({rrs} RRs), best of {args.rounds}; lower is faster")
        print(f"{'primary':10} {'kdig s':>10} {'nsd load s':>12}")
        for name, (kdig, load) in results.items():
            print(f"{name:10} {kdig:10.3f} {load:12.3f}")
        dz_kdig, dz_load = results["danezone"]
        for peer in ("nsd", "bind"):
            kdig, load = results[peer]
            print(f"ratio danezone/{peer}: kdig {dz_kdig / kdig:.2f}, nsd load {dz_load / load:.2f}")
        dz.stdin.write("quit\n")
        dz.stdin.flush()
        dz.wait(timeout=30)
    finally:
        for process in processes:
            process.stop()
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
