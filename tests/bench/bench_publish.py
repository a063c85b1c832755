#!/usr/bin/env python3
"""Benchmark publishing one changed TLSA record: time from the change to NOTIFY.

For each zone size (owner names, made with genzone.py and signed with
ldns-signzone, ECDSA P-256, NSEC3 without iterations or salt) the script
starts dz-serve with the signed zone and a NOTIFY listener on 127.0.0.1
that acknowledges each NOTIFY.  Then it measures, from the moment the
command is written to dz-serve until the listener receives the NOTIFY
that carries the new serial in its SOA:

  diff         the fast path: one TLSA record and its RRSIG replaced, the
               SOA and its RRSIG renewed (dz_publish_diff(), journal append
               and fdatasync), ROUNDS times;
  full         one full version with the same change (dz-serve parses the
               zone file with ldns, then dz_publish_commit() writes the
               journal entry, snapshot and text file), once;

and the deferred rewrite of the snapshot and zone text file
(dz_publish_materialize()) after the diffs, with the time the server then
takes to map and check the new snapshot.

The signatures in the diffs are not valid: the publisher does not verify
them, and their size is that of real ones.  Build danezone without
--enable-sanitizers for meaningful numbers.  The load average of the
machine is printed at the start and the end.

Usage: bench_publish.py --build BUILDDIR [--names 10000,100000] [--rounds R]
                        [--workdir DIR]
"""
import argparse
import os
import selectors
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import dns.message
import dns.opcode
import dns.rdatatype

GENZONE = "/work/shared/bench/genzone.py"
ZONE = "example.com."


def run(args, **kwargs):
    return subprocess.run([str(a) for a in args], check=True, capture_output=True, text=True,
                          **kwargs)


class NotifyListener:
    """Acknowledges NOTIFY on 127.0.0.1 and records when each serial arrived."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.arrivals = {}
        self.condition = threading.Condition()
        self.stopping = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopping:
            try:
                data, peer = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            arrived = time.perf_counter()
            request = dns.message.from_wire(data)
            if request.opcode() != dns.opcode.NOTIFY:
                continue
            self.sock.sendto(dns.message.make_response(request).to_wire(), peer)
            serials = [rdata.serial for rrset in request.answer
                       if rrset.rdtype == dns.rdatatype.SOA for rdata in rrset]
            with self.condition:
                for serial in serials:
                    self.arrivals.setdefault(serial, arrived)
                self.condition.notify_all()

    def wait(self, serial, timeout=600):
        """Time at which NOTIFY for `serial` arrived."""
        deadline = time.monotonic() + timeout
        with self.condition:
            while serial not in self.arrivals:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(f"no NOTIFY for serial {serial} within {timeout} s")
                self.condition.wait(left)
            return self.arrivals[serial]

    def close(self):
        self.stopping = True
        self.thread.join()
        self.sock.close()


class DzServe:
    def __init__(self, binary, state, log, notify_port, zone_file):
        self.log = open(log, "w")
        self.proc = subprocess.Popen(
            [binary, "--state", state, "--zone", ZONE, "--listen", "127.0.0.1@0",
             "--secondary", f"127.0.0.1@{notify_port}", "--notify-retry-ms", "2000", zone_file],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True, bufsize=1)
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.proc.stdout, selectors.EVENT_READ)
        line = self.line(1800)
        if not line.startswith("ready "):
            raise RuntimeError(f"dz-serve did not start: {line!r}; see {log}")

    def line(self, timeout):
        if not self.selector.select(timeout=timeout):
            raise RuntimeError(f"dz-serve printed nothing for {timeout} s")
        return self.proc.stdout.readline().strip()

    def send(self, command):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def reply(self, expected, timeout=1800):
        line = self.line(timeout)
        if not line.startswith(expected + " "):
            raise RuntimeError(f"dz-serve: expected {expected}, got {line!r}")
        return line

    def stop(self):
        self.send("quit")
        self.proc.wait(timeout=1800)
        self.log.close()


class SignedZone:
    """The signed zone's lines, and the ones a TLSA change touches."""

    def __init__(self, path):
        with open(path) as f:
            self.lines = [line.rstrip("\n") for line in f if line.strip() and not line.startswith(";")]
        self.soa = self.tlsa = self.tlsa_rrsig = self.soa_rrsig = None
        for index, line in enumerate(self.lines):
            fields = line.split()
            rtype = fields[3]
            if rtype == "SOA" and self.soa is None:
                self.soa = index
            elif rtype == "TLSA" and self.tlsa is None:
                self.tlsa = index
            elif rtype == "RRSIG" and fields[4] == "SOA":
                self.soa_rrsig = index
        owner = self.lines[self.tlsa].split()[0]
        for index, line in enumerate(self.lines):
            fields = line.split()
            if fields[0] == owner and fields[3] == "RRSIG" and fields[4] == "TLSA":
                self.tlsa_rrsig = index
        if None in (self.soa, self.tlsa, self.tlsa_rrsig, self.soa_rrsig):
            raise RuntimeError("the signed zone has no TLSA record with its RRSIG")

    @staticmethod
    def _new_signature(line, serial):
        """The RRSIG with other signature bytes of the same length."""
        fields = line.split()
        signature = "".join(fields[12:])
        stamp = f"{serial:08d}"
        return " ".join(fields[:12] + [stamp + signature[len(stamp):]])

    def change(self, serial):
        """Apply the TLSA change of `serial`; return the removed and added lines."""
        old = [self.lines[i] for i in (self.tlsa, self.tlsa_rrsig, self.soa_rrsig)]
        tlsa = self.lines[self.tlsa].split()
        self.lines[self.tlsa] = " ".join(tlsa[:4] + ["3", "1", "1", f"{serial:064x}"])
        self.lines[self.tlsa_rrsig] = self._new_signature(self.lines[self.tlsa_rrsig], serial)
        self.lines[self.soa_rrsig] = self._new_signature(self.lines[self.soa_rrsig], serial)
        soa = self.lines[self.soa].split()
        soa[6] = str(serial)
        self.lines[self.soa] = " ".join(soa)
        new = [self.lines[i] for i in (self.tlsa, self.tlsa_rrsig, self.soa_rrsig, self.soa)]
        return old, new

    def write(self, path):
        with open(path, "w") as f:
            f.write("\n".join(self.lines) + "\n")


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def bench_size(binary, work, names, rounds):
    folder = os.path.join(work, f"z{names}")
    os.makedirs(folder, exist_ok=True)
    unsigned = os.path.join(folder, "zone.unsigned")
    signed = os.path.join(folder, "zone.signed")
    with open(unsigned, "w") as f:
        subprocess.run([sys.executable, GENZONE, ZONE, str(names)], stdout=f, check=True)
    ksk = run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", ZONE], cwd=folder).stdout.strip()
    zsk = run(["ldns-keygen", "-a", "ECDSAP256SHA256", ZONE], cwd=folder).stdout.strip()
    run(["ldns-signzone", "-n", "-t", "0", "-o", ZONE, "-f", signed, unsigned, ksk, zsk], cwd=folder)
    zone = SignedZone(signed)

    listener = NotifyListener()
    state = os.path.join(folder, "state")
    started = time.perf_counter()
    server = DzServe(binary, state, os.path.join(folder, "dz-serve.log"), listener.port, signed)
    first_serial = int(zone.lines[zone.soa].split()[6])
    listener.wait(first_serial)
    start_s = time.perf_counter() - started
    try:
        # Let the kernel write back the first publication, whose flush would
        # otherwise slow the first syncs of the journal.
        os.sync()
        diff_ms = []
        inside_ms = []
        serial = first_serial
        for _ in range(rounds):
            serial += 1
            removed, added = zone.change(serial)
            path = os.path.join(folder, f"diff{serial}")
            with open(path, "w") as f:
                f.writelines(f"-{line}\n" for line in removed)
                f.writelines(f"+{line}\n" for line in added)
            sent = time.perf_counter()
            server.send(f"diff {path}")
            arrived = listener.wait(serial)
            # "published SERIAL in MS ms": dz-serve's own time, NOTIFY sent at its end.
            inside_ms.append(float(server.reply("published").split()[3]))
            diff_ms.append((arrived - sent) * 1e3)

        server.send("materialize")
        fields = server.reply("materialized").replace(",", "").split()
        materialize_ms, reload_ms = float(fields[3]), float(fields[7])

        serial += 1
        zone.change(serial)
        full_path = os.path.join(folder, f"full{serial}")
        zone.write(full_path)
        sent = time.perf_counter()
        server.send(f"publish {full_path}")
        full_ms = (listener.wait(serial) - sent) * 1e3
        server.reply("published")
    finally:
        server.stop()
        listener.close()
    snapshot_mb = os.path.getsize(os.path.join(state, "example.com.snapshot")) / 1e6
    return {
        "names": names, "rrs": len(zone.lines), "snapshot_mb": snapshot_mb, "start_s": start_s,
        "diff_median": statistics.median(diff_ms), "diff_p90": percentile(diff_ms, 0.9),
        "diff_max": max(diff_ms), "inside_median": statistics.median(inside_ms), "full": full_ms, "materialize": materialize_ms,
        "reload": reload_ms,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", required=True, help="danezone build folder (with tests/tools/dz-serve)")
    parser.add_argument("--names", default="10000,100000",
                        help="comma-separated zone sizes in owner names (default 10000,100000)")
    parser.add_argument("--rounds", type=int, default=20, help="diffs per zone size (default 20)")
    parser.add_argument("--workdir", help="keep files here instead of a temporary folder")
    args = parser.parse_args()

    binary = os.path.join(args.build, "tests", "tools", "dz-serve")
    work = args.workdir or tempfile.mkdtemp(prefix="dz-bench-publish-")
    os.makedirs(work, exist_ok=True)
    print("load average at start: %.2f %.2f %.2f" % os.getloadavg())
    results = []
    try:
        for names in (int(n) for n in args.names.split(",")):
            results.append(bench_size(binary, work, names, args.rounds))
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    print("load average at end:   %.2f %.2f %.2f" % os.getloadavg())

    print(f"\nchange to NOTIFY received, ms ({args.rounds} diffs per size); rewrite times, ms")
    print(f"{'names':>9} {'RRs':>9} {'snap MB':>8} {'diff med':>9} {'diff p90':>9} "
          f"{'diff max':>9} {'in dz med':>9} {'full':>9} {'rewrite':>9} {'reload':>8}")
    for r in results:
        print(f"{r['names']:9d} {r['rrs']:9d} {r['snapshot_mb']:8.1f} {r['diff_median']:9.2f} "
              f"{r['diff_p90']:9.2f} {r['diff_max']:9.2f} {r['inside_median']:9.2f} "
              f"{r['full']:9.1f} {r['materialize']:9.1f} {r['reload']:8.1f}")
    print("diff: command written to NOTIFY received; in dz: dz-serve's own time for the diff "
          "command (parse, dz_publish_diff, server load, NOTIFY sent); full: the same for a "
          "full version, ldns parsing of the zone file included; rewrite: "
          "dz_publish_materialize(); reload: the server mapping the new snapshot")
    if len(results) > 1:
        first, last = results[0], results[-1]
        print(f"\nmedian diff latency, {last['names']} names / {first['names']} names: "
              f"{last['diff_median'] / first['diff_median']:.2f}")


if __name__ == "__main__":
    main()
