#!/usr/bin/env python3
"""Benchmark danezoned: time from a certificate file change to NOTIFY.

For each zone size (owner names, made with genzone.py) the script gives
danezoned the unsigned zone and one mail host, mail.example.com.  It
replaces the host's certificate file ROUNDS + 1 times, by rename, with
certificates of new keys that openssl made beforehand.  The first change
is not timed, because the daemon may still write the files of its first
signing then.  A UDP listener on 127.0.0.1,
configured as the zone's only secondary, acknowledges each NOTIFY and
records when it arrived.  One round is the time from the rename to the
arrival of the NOTIFY that carries the next serial; each change replaces
one TLSA record.  The script prints the median, 90th percentile and
maximum per size, the time from danezoned's log line on the new
certificate to its "published serial" line, the start-up time (key
generation and the first signing of the whole zone included), and the
ratio of the medians of the largest and the smallest size.

danezoned's certificate watcher waits until no event touched a file for
a quiet time (DZ_WATCH_DEBOUNCE_MS in zones/watch.h) before it reads
it, so that time is part of every round.  Build danezone without
--enable-sanitizers for meaningful numbers.

Usage: bench_daemon_notify.py --build BUILDDIR [--names 100000] [--rounds R]
                              [--workdir DIR]
"""
import argparse
import datetime
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from bench_publish import NotifyListener, percentile
from bench_axfr import serial_of
from daemon_bench import Daemon, free_port, machine_line, make_token, run, server_yaml

GENZONE = "/work/shared/bench/genzone.py"
ZONE = "example.com."
HOST = "mail.example.com"


def make_certificates(folder, count):
    """`count` self-signed EC certificates for HOST, each with its own key; return their paths."""
    paths = []
    for index in range(count):
        key = os.path.join(folder, f"cert{index}.key")
        cert = os.path.join(folder, f"cert{index}.pem")
        run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", key, "-out", cert, "-days", "30", "-subj", f"/CN={HOST}",
             "-addext", f"subjectAltName=DNS:{HOST}"])
        paths.append(cert)
    return paths


def replace(source, target):
    """Copy `source` over `target` by writing a temporary file and renaming it."""
    temporary = f"{target}.tmp"
    shutil.copyfile(source, temporary)
    os.rename(temporary, target)


def bench_size(binary, work, names, rounds):
    folder = os.path.join(work, f"z{names}")
    os.makedirs(folder, exist_ok=True)
    source = os.path.join(folder, "example.com.zone")
    with open(source, "w") as f:
        subprocess.run([sys.executable, GENZONE, ZONE, str(names)], stdout=f, check=True)
    # One certificate to start with, one for the untimed first change, one per round.
    certificates = make_certificates(folder, rounds + 2)
    live = os.path.join(folder, "mail.pem")
    replace(certificates[0], live)
    env, pin_file, label = make_token(folder)

    listener = NotifyListener()
    state = os.path.join(folder, "state")
    config = os.path.join(folder, "danezone.yaml")
    port = free_port()
    with open(config, "w") as f:
        f.write(server_yaml(state, port, pin_file, label))
        f.write(f"secondaries:\n  listener:\n    addresses: [127.0.0.1@{listener.port}]\n"
                f"zones:\n  - name: {ZONE}\n    source: {source}\n    secondaries: [listener]\n"
                f"    mail:\n      hosts:\n        - name: {HOST}\n          certificates: [{live}]\n")
    daemon = Daemon(binary, config, os.path.join(folder, "danezoned.log"), env)
    try:
        # "started" may come before the first signing succeeded: wait for a served serial.
        deadline = time.monotonic() + 3600
        while (serial := serial_of(port)) is None:
            if time.monotonic() > deadline:
                raise RuntimeError(f"danezoned on port {port} served no serial within an hour")
            time.sleep(0.05)
        first_serial_s = time.perf_counter() - daemon.exec_time
        # Let the kernel write back the first signing before the timed rounds.
        os.sync()
        latencies_ms = []
        for index in range(1, rounds + 2):
            time.sleep(0.5)
            changed = time.perf_counter()
            replace(certificates[index], live)
            arrived = listener.wait(serial + 1, timeout=600)
            latencies_ms.append((arrived - changed) * 1e3)
            serial += 1
    finally:
        daemon.stop()
        listener.close()
    rrs = sum(1 for line in open(os.path.join(state, "signed", "example.com.zone"))
              if line.strip() and not line.startswith(";"))
    inside_ms = read_to_publish_ms(daemon.output())[1:]
    # The first change is not timed: the daemon may still write the files of the first signing.
    timed = latencies_ms[1:]
    return {"names": names, "rrs": rrs, "start_s": first_serial_s, "first": latencies_ms[0],
            "median": statistics.median(timed), "p90": percentile(timed, 0.9), "max": max(timed),
            "inside": statistics.median(inside_ms) if inside_ms else float("nan")}


def log_time(line):
    """Seconds since the epoch of a danezoned log line ("2026-12-05T01:18:31.214Z ...")."""
    stamp = line.split()[0].rstrip("Z")
    return datetime.datetime.fromisoformat(stamp).replace(tzinfo=datetime.timezone.utc).timestamp()


def read_to_publish_ms(log):
    """Per change, ms from danezoned's log line on the new certificate to its "published serial" line."""
    result = []
    read_at = None
    for line in log.splitlines():
        if f"DANE, host {HOST}:" in line and "now serves" in line:
            read_at = log_time(line)
        elif "published serial" in line and "(diff" in line and read_at is not None:
            result.append((log_time(line) - read_at) * 1e3)
            read_at = None
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", required=True, help="danezone build folder (with danezoned)")
    parser.add_argument("--names", default="100000",
                        help="comma-separated zone sizes in owner names (default 100000)")
    parser.add_argument("--rounds", type=int, default=9, help="certificate changes per size (default 9)")
    parser.add_argument("--workdir", help="keep files here instead of a temporary folder")
    args = parser.parse_args()

    binary = os.path.join(args.build, "danezoned")
    work = args.workdir or tempfile.mkdtemp(prefix="dz-bench-daemon-notify-")
    os.makedirs(work, exist_ok=True)
    print(f"machine: {machine_line()}")
    print("load average at start: %.2f %.2f %.2f" % os.getloadavg())
    results = []
    try:
        for names in (int(n) for n in args.names.split(",")):
            results.append(bench_size(binary, work, names, args.rounds))
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    print("load average at end:   %.2f %.2f %.2f" % os.getloadavg())

    print(f"\ncertificate file renamed to NOTIFY received, ms ({args.rounds} changes per size)")
    print(f"{'names':>9} {'signed RRs':>10} {'start s':>8} {'first':>8} {'median':>8} {'p90':>8} "
          f"{'max':>8} {'in dz med':>9}")
    for r in results:
        print(f"{r['names']:9d} {r['rrs']:10d} {r['start_s']:8.1f} {r['first']:8.1f} "
              f"{r['median']:8.1f} {r['p90']:8.1f} {r['max']:8.1f} {r['inside']:9.1f}")
    print("start: danezoned exec to the first serial served (keys generated, whole zone signed); "
          "first: the untimed first change after start; median, p90, max: the timed changes, "
          "each with the certificate watcher's quiet time; in dz: danezoned's log line on the "
          "new certificate to its \"published serial\" line (log timestamps, ms resolution)")
    if len(results) > 1:
        first, last = results[0], results[-1]
        print(f"\nmedian latency, {last['names']} names / {first['names']} names: "
              f"{last['median'] / first['median']:.2f}")


if __name__ == "__main__":
    main()
