"""danezoned's parent process keeps no PKCS#11 token: only its signer
processes load the module, read the PIN, log in and generate keys.

The daemon generates the first keys of example.net at start-up.  The tests
look at the parent from outside: its open files (/proc/PID/fd), its memory
map (/proc/PID/maps), and, through the test PKCS#11 shim, which process
called C_Initialize, C_Login and C_GenerateKeyPair.  The zone must still be
signed and validate with ldns-verify-zone.
"""
import os
import re
import types

from conftest import run
from daemon_helpers import daemon  # noqa: F401 (fixture)
from hsm_helpers import P11_SHIM

# "... danezoned[PID]: notice: signer process 1: zone example.net: generated a ksk key pair ..."
GENERATED = re.compile(r"\[(\d+)\]: notice: signer process \d+: zone example\.net\.?: "
                       r"generated an? \w+ key pair")


def open_paths(pid):
    """Targets of the process's open file descriptors."""
    paths = []
    folder = f"/proc/{pid}/fd"
    for name in os.listdir(folder):
        try:
            paths.append(os.readlink(os.path.join(folder, name)))
        except FileNotFoundError:
            pass  # closed meanwhile
    return paths


def socket_inodes(pid):
    """Inodes of the sockets the process has open ("socket:[INODE]" in /proc/PID/fd)."""
    return {int(p[len("socket:["):-1]) for p in open_paths(pid) if p.startswith("socket:[")}


def mapped_paths(pid):
    """Files mapped into the process's memory; empty once the process is gone."""
    try:
        with open(f"/proc/{pid}/maps") as f:
            return {line.split(None, 5)[5].strip() for line in f
                    if len(line.split(None, 5)) == 6}
    except (FileNotFoundError, ProcessLookupError):
        return set()


def parent_pid(pid):
    """The parent's pid, or None once the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("PPid:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return None


def wait_first_keys(daemon):
    """Wait for the signer process's log lines of the first keys; returns their pids."""
    daemon.wait_logged(GENERATED.pattern)
    return {int(GENERATED.search(line).group(1)) for line in daemon.logged(GENERATED.pattern)}


def check_zone_signed(daemon):
    """The zone has a DNSKEY and validates (read by AXFR, because the server serves only SOA queries and transfers)."""
    daemon.wait_serial(0)
    zone = daemon.verify_zone().read_text()
    assert re.search(r"^example\.net\.\s+\d+\s+IN\s+DNSKEY\s", zone, re.M), zone


def test_daemon_parent_opens_no_token_file(daemon):
    proc = daemon.start()
    pid = proc.proc.pid
    generator_pids = wait_first_keys(daemon)

    # The signer processes, not the parent, made the keys, and they are its children.
    assert pid not in generator_pids
    for child in generator_pids:
        assert parent_pid(child) == pid

    tokens = os.path.realpath(daemon.softhsm.tokens)
    pin_file = os.path.realpath(daemon.softhsm.pin_file)
    for path in open_paths(pid):
        assert not path.startswith(tokens + "/"), f"parent has {path} open"
        assert path != pin_file, "parent has the PIN file open"
    parent_maps = mapped_paths(pid)
    assert not [p for p in parent_maps if p.startswith(tokens + "/")]
    module = os.path.realpath(daemon.softhsm.module)
    assert module not in {os.path.realpath(p) for p in parent_maps if p.startswith("/")}
    # The same check finds the module in a signer process, so it can fail.
    signer = next(iter(generator_pids))
    assert module in {os.path.realpath(p) for p in mapped_paths(signer) if p.startswith("/")}

    # The start-up line still names the module and token, learned from a signer process.
    assert daemon.logged(r'notice: PKCS#11 module .*SoftHSM.*; token softhsm: label "dz-test", '
                         r'SoftHSM project SoftHSM v2, serial \w+')
    check_zone_signed(daemon)


def test_daemon_parent_never_logs_in(daemon, tmp_path):
    calls = tmp_path / "pkcs11-calls.log"
    shim = types.SimpleNamespace(**vars(daemon.softhsm))
    shim.module = P11_SHIM
    shim.env = dict(daemon.softhsm.env, DZ_SHIM_MODULE=daemon.softhsm.module,
                    DZ_SHIM_CALL_LOG=str(calls))
    daemon.softhsm = shim
    daemon.write_config(server_yaml="  signer-processes: 2\n")

    proc = daemon.start()
    pid = proc.proc.pid
    generator_pids = wait_first_keys(daemon)

    by_function = {}
    for line in calls.read_text().splitlines():
        caller, function = line.split()
        by_function.setdefault(function, set()).add(int(caller))
    assert pid not in set().union(*by_function.values()), calls.read_text()
    # Each of the two signer processes logs in once, and they alone generate keys.
    assert len(by_function["C_Login"]) == 2
    assert all(parent_pid(p) == pid for p in by_function["C_Login"])
    assert by_function["C_GenerateKeyPair"] <= by_function["C_Login"]
    assert generator_pids <= by_function["C_Login"]
    check_zone_signed(daemon)
    # The other signer process learned the new key before it had to sign with it.
    assert not daemon.logged(r"signing failed"), daemon.output()


def test_daemon_second_token_own_signer(daemon):
    """A second token gets its own signer process; the parent opens neither token."""
    run(["softhsm2-util", "--init-token", "--free", "--label", "dz-second", "--pin",
         daemon.softhsm.pin, "--so-pin", daemon.softhsm.so_pin], env=daemon.softhsm.env)
    daemon.write_config()
    text = daemon.config.read_text()
    second = ("  second:\n"
              f"    module: {daemon.softhsm.module}\n"
              "    token-label: dz-second\n"
              f"    pin-file: {daemon.softhsm.pin_file}\n")
    text = text.replace("  softhsm:\n", "  softhsm:\n    default: true\n", 1)
    daemon.config.write_text(text.replace("zones:\n", second + "zones:\n", 1))

    proc = daemon.start()
    pid = proc.proc.pid
    wait_first_keys(daemon)
    assert daemon.logged(r'token softhsm: label "dz-test", .*\(default, signs through the '
                         r'signer processes\)$'), daemon.output()
    assert daemon.logged(r'token second: label "dz-second", SoftHSM project SoftHSM v2, '
                         r'serial \w+$'), daemon.output()
    # One signer process for each token, both children of the parent.
    children = [int(p) for p in os.listdir("/proc") if p.isdigit() and parent_pid(int(p)) == pid]
    module = os.path.realpath(daemon.softhsm.module)
    signers = [c for c in children
               if module in {os.path.realpath(p) for p in mapped_paths(c) if p.startswith("/")}]
    assert len(signers) == 2, daemon.output()
    assert module not in {os.path.realpath(p) for p in mapped_paths(pid) if p.startswith("/")}
    # A socket pair is two sockets: each signer process has its own end and none
    # of the parent's, so the second token's process cannot use the first's connection.
    parent_sockets = socket_inodes(pid)
    for signer in signers:
        assert len(socket_inodes(signer)) == 1, open_paths(signer)
        assert not socket_inodes(signer) & parent_sockets, (open_paths(signer), parent_sockets)
    check_zone_signed(daemon)
