"""Privilege separation of the DNS server: dz-serve --dns-user runs the
server in a process of its own (signer/server_proc.h) as the test user
dz-dns, without the daemon.

The process must run as dz-dns, be unable to open the SoftHSM token and
the key files, still respond to SOA and AXFR on loopback, come back after
it is killed, and exit on a malformed message from its parent.  These
tests need root (to create the user and to drop privileges) and are
skipped otherwise (privsep_helpers.py).
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import run, wait_for
from hsm_helpers import key
from privsep_helpers import DNS_USER, open_folder, proc_status, ps_user, read_as, \
    test_users, token_in  # noqa: F401 (fixtures)
from server_helpers import DzServe, KEY_NAME, KEY_SPEC, KEYRING, ZoneSigner, axfr_records, \
    soa_serial, zone_records


@pytest.fixture
def serve(open_folder):
    """Start dz-serve --dns-user dz-dns in open_folder; stopped at test end."""
    started = []

    def start(args, zone_file=None):
        server = DzServe(open_folder, ["--dns-user", DNS_USER, *args], zone_file)
        started.append(server)
        return server

    yield start
    for server in started:
        assert server.stop() == 0, f"dz-serve did not stop cleanly:\n{server.output()}"


def server_pid(server):
    return int(server.command("server-pid", "server-pid").split()[1])


def await_restart(server, old_pid, timeout=20):
    """Wait until a DNS server process other than old_pid runs as dz-dns; return its pid."""
    uid = int(run(["id", "-u", DNS_USER]).stdout)
    found = {}

    def restarted():
        pid = server_pid(server)
        if pid in (0, old_pid):
            return False
        try:
            if proc_status(pid)["Uid"] != [uid] * 4:
                return False
        except FileNotFoundError:
            return False
        found["pid"] = pid
        return True

    wait_for(restarted, timeout=timeout, what="a restarted DNS server process")
    return found["pid"]


def test_server_process_runs_as_dns_user(serve, open_folder, tmp_path):
    zone = ZoneSigner(tmp_path / "signer").sign(2026120501)
    server = serve(["--allow-query", "127.0.0.1"], zone)
    pid = server_pid(server)
    uid = int(run(["id", "-u", DNS_USER]).stdout)
    gid = int(run(["id", "-g", DNS_USER]).stdout)

    assert ps_user(pid) == DNS_USER
    assert ps_user(server.proc.pid) == "root"
    status = proc_status(pid)
    assert status["Uid"] == [uid] * 4, status
    assert status["Gid"] == [gid] * 4, status
    assert status["Groups"] == [gid], status

    log = server.output()
    steps = ["sockets and files are open", "setgroups to", "setresgid to", "setresuid to",
             "regaining root failed as expected"]
    positions = [log.find(step) for step in steps]
    assert all(p >= 0 for p in positions), log
    assert positions == sorted(positions), log


def test_dns_user_cannot_open_token_or_key_files(serve, open_folder, tmp_path, softhsm):
    # A token and key files in a folder dz-dns may traverse.
    tokens = token_in(open_folder, softhsm)
    keys = open_folder / "keys"
    keys.mkdir(mode=0o755)
    key(softhsm, keys, "generate", "--zone", "example.com", "--role", "csk", "--algorithm",
        "ECDSAP256SHA256")

    server = serve(["--allow-query", "127.0.0.1"])
    pid = server_pid(server)
    assert ps_user(pid) == DNS_USER

    token_files = [p for p in tokens.rglob("*") if p.is_file()]
    key_files = [p for p in keys.iterdir() if p.is_file()]
    assert token_files, "the SoftHSM token has no files"
    assert any(p.name.startswith("token-") for p in key_files), key_files
    for path in token_files + key_files:
        result = read_as(DNS_USER, path)
        assert result.returncode != 0, f"{DNS_USER} could read {path}"
        assert "Permission denied" in result.stderr, result.stderr
        # The file is readable to its owner: the denial is about the user.
        assert read_as("root", path).returncode == 0
    listing = subprocess.run(["runuser", "-u", DNS_USER, "--", "ls", str(next(tokens.iterdir()))],
                             capture_output=True, text=True, timeout=30)
    assert listing.returncode != 0
    assert "Permission denied" in listing.stderr

    # The published files are what dz-dns may read.
    state = open_folder / "dz-state"
    server.publish(ZoneSigner(tmp_path / "signer").sign(2026120502))
    server.materialize()
    published = [p for p in state.iterdir() if p.name.startswith("example.com.")]
    assert published
    for path in published:
        assert read_as(DNS_USER, path).returncode == 0, path


def test_soa_and_axfr_after_drop(serve, tmp_path):
    signer = ZoneSigner(tmp_path / "signer")
    first = signer.sign(2026120501)
    server = serve(["--allow-query", "127.0.0.1", "--key", KEY_SPEC, "--allow-transfer",
                    f"127.0.0.1 key {KEY_NAME}"], first)
    assert ps_user(server_pid(server)) == DNS_USER
    assert soa_serial(server.port) == 2026120501
    assert axfr_records(server.port, KEYRING, KEY_NAME) == zone_records(first)

    second = signer.sign(2026120502, tlsa="22" * 32)
    assert server.publish(second) == 2026120502
    wait_for(lambda: soa_serial(server.port) == 2026120502, timeout=10, what="serial 2026120502")
    assert axfr_records(server.port, KEYRING, KEY_NAME) == zone_records(second)


def test_killed_server_process_restarts(serve, tmp_path):
    signer = ZoneSigner(tmp_path / "signer")
    server = serve(["--allow-query", "127.0.0.1"], signer.sign(2026120501))
    first = server_pid(server)
    assert soa_serial(server.port) == 2026120501

    os.kill(first, signal.SIGKILL)
    second = await_restart(server, first)
    assert ps_user(second) == DNS_USER
    wait_for(lambda: soa_serial(server.port) == 2026120501, timeout=10, what="SOA after restart")
    log = server.output()
    assert f"DNS server process {first} was killed by signal 9" in log, log
    assert "restarting the DNS server process in 100 ms" in log, log

    # A version published after the restart reaches the new process.
    assert server.publish(signer.sign(2026120502)) == 2026120502
    wait_for(lambda: soa_serial(server.port) == 2026120502, timeout=10, what="serial 2026120502")


# Malformed messages from the parent: header bytes (type, reserved, length) and body.
MALFORMED = [
    ("unknown type", "09000000" "00000000", "unknown message type 9"),
    ("reserved byte", "01000100" "00000003" + "616263", "reserved header bytes are not zero"),
    ("zone name too long", "01000000" "00000400", "more than its maximum 1020"),
    ("zone name with space", "01000000" "00000003" + "612062", "invalid zone name"),
    ("stop with a body", "03000000" "00000001" + "00", "more than its maximum 0"),
]


def test_malformed_parent_message_ends_child(serve, tmp_path):
    server = serve(["--allow-query", "127.0.0.1"], ZoneSigner(tmp_path / "signer").sign(2026120501))
    for name, hex_bytes, expected in MALFORMED:
        pid = server_pid(server)
        server.command(f"server-raw {hex_bytes}", "sent")
        new_pid = await_restart(server, pid)
        log = server.output()
        assert re.search(rf"dz-serve\[{pid}\]: error: DNS server process: malformed message "
                         rf"from the parent: [^\n]*{re.escape(expected)}[^\n]*; exiting", log), \
            f"{name}: no log line for {expected!r}\n{log}"
        assert f"DNS server process {pid} exited with status 1" in log, f"{name}\n{log}"
        wait_for(lambda: soa_serial(server.port) == 2026120501, timeout=10,
                 what=f"SOA after {name}")
        assert new_pid != pid


def _free_low_port():
    """A port below 1024 that is free for UDP and TCP on 127.0.0.1."""
    for port in range(650, 1000, 7):
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u, \
                    socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                u.bind(("127.0.0.1", port))
                t.bind(("127.0.0.1", port))
                return port
        except OSError:
            continue
    pytest.skip("no free port below 1024 on 127.0.0.1")


def test_port_below_1024_served_by_dns_user(serve, tmp_path):
    port = _free_low_port()
    server = serve(["--allow-query", "127.0.0.1", "--listen", f"127.0.0.1@{port}"],
                   ZoneSigner(tmp_path / "signer").sign(2026120501))
    assert ps_user(server_pid(server)) == DNS_USER
    assert soa_serial(port) == 2026120501


def test_chroot_confines_server_process(serve, open_folder, tmp_path):
    server = serve(["--allow-query", "127.0.0.1", "--dns-chroot", str(open_folder)],
                   ZoneSigner(tmp_path / "signer").sign(2026120501))
    pid = server_pid(server)
    assert os.readlink(f"/proc/{pid}/root") == str(open_folder)
    assert soa_serial(server.port) == 2026120501
    log = server.output()
    assert f"chroot to {open_folder}" in log, log
    assert log.find(f"chroot to {open_folder}") < log.find("setgroups to"), log


def test_zone_outside_chroot_rejected(open_folder, tmp_path):
    outside = Path(tempfile.mkdtemp(prefix="dz-privsep-jail-", dir="/tmp"))
    try:
        with pytest.raises(pytest.fail.Exception, match="is outside server.chroot"):
            DzServe(open_folder, ["--dns-user", DNS_USER, "--dns-chroot", str(outside)]).stop()
    finally:
        shutil.rmtree(outside, ignore_errors=True)
