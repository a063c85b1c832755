"""Shared parts of the danezoned benchmarks: a SoftHSM2 token in the work
folder, a configuration, and danezoned started in the foreground with the
time it takes to log "started".
"""
import os
import re
import subprocess
import time

from bench_axfr import free_port, run  # noqa: F401  (re-exported for the benchmarks)

TSIG_NAME = "xfr"


def make_token(folder):
    """Create a SoftHSM2 token in `folder`; return (environment for programs, pin file, label)."""
    tokens = os.path.join(folder, "tokens")
    os.makedirs(tokens, exist_ok=True)
    conf = os.path.join(folder, "softhsm2.conf")
    with open(conf, "w") as f:
        f.write(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
    env = dict(os.environ, SOFTHSM2_CONF=conf)
    label = "bench"
    run(["softhsm2-util", "--init-token", "--free", "--label", label, "--pin", "1234",
         "--so-pin", "12345678"], env=env)
    pin_file = os.path.join(folder, "token.pin")
    with open(os.open(pin_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write("1234\n")
    return env, pin_file, label


def server_yaml(state, port, pin_file, label, log_level="notice"):
    """The server and hsm sections of a danezone.yaml for a daemon on 127.0.0.1@port."""
    return (f"server:\n  state-dir: {state}\n  listen: [127.0.0.1@{port}]\n"
            f"  control-socket: {state}/control.sock\n  allow-query: [127.0.0.1]\n"
            f"  log-level: {log_level}\n"
            f"hsm:\n  softhsm:\n    token-label: {label}\n    pin-file: {pin_file}\n")


class Daemon:
    """danezoned in the foreground; `start_s` is the time from exec to its "started" line."""

    def __init__(self, binary, config, log, env, timeout=7200):
        self.log_path = log
        self.log = open(log, "w")
        self.exec_time = time.perf_counter()
        self.proc = subprocess.Popen([binary, "-c", config, "-f", "--allow-root"], stdout=self.log,
                                     stderr=subprocess.STDOUT, env=env, start_new_session=True)
        deadline = time.monotonic() + timeout
        while not re.search(r"\bstarted\b", self.output()):
            if self.proc.poll() is not None:
                raise RuntimeError(f"danezoned exited with {self.proc.returncode}; see {log}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"danezoned did not start within {timeout} s; see {log}")
            time.sleep(0.02)
        self.start_s = time.perf_counter() - self.exec_time

    def output(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self, timeout=600):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=60)
        self.log.close()
        return self.proc.returncode


def process_tree(pid):
    """`pid` and every descendant, from /proc/PID/task/*/children."""
    pids = [pid]
    index = 0
    while index < len(pids):
        task_dir = f"/proc/{pids[index]}/task"
        try:
            tasks = os.listdir(task_dir)
        except FileNotFoundError:
            tasks = []
        for task in tasks:
            try:
                with open(f"{task_dir}/{task}/children") as f:
                    pids += [int(child) for child in f.read().split()]
            except FileNotFoundError:
                pass
        index += 1
    return pids


def memory_kib(pid):
    """Resident (Rss) and proportional (Pss) memory of `pid` and its descendants, in KiB.

    Pss divides pages that forked processes share among them, so the sum
    over a process tree counts each page once.
    """
    rss = pss = 0
    for member in process_tree(pid):
        try:
            with open(f"/proc/{member}/smaps_rollup") as f:
                for line in f:
                    fields = line.split()
                    if fields[0] == "Rss:":
                        rss += int(fields[1])
                    elif fields[0] == "Pss:":
                        pss += int(fields[1])
        except FileNotFoundError:
            pass
    return rss, pss


def machine_line():
    """CPU model, cores and memory of this machine, for the record of a run."""
    model = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        total_kib = int(f.readline().split()[1])
    return f"{model}, {os.cpu_count()} cores, {total_kib / 1048576:.0f} GiB"
