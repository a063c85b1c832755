"""Privilege separation in a danezoned run.

A daemon started as root runs as dz-sign after start-up and its DNS
server process as dz-dns.  The DNS server process cannot read the token
or the key state while it serves the signed zone.  The tests need root
and are skipped otherwise (privsep_helpers.py).
"""
import os
import re
import signal
import stat
import subprocess

from daemon_helpers import DaemonSetup, daemon  # noqa: F401 (fixture)
from privsep_helpers import DNS_USER, SIGN_USER, open_folder, proc_status, ps_user, read_as, \
    test_users, token_in, user_ids  # noqa: F401 (fixtures)
# Send "status" over the control socket (4-byte length, then the text) and print the response.
CONTROL_STATUS = """
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall((6).to_bytes(4, "big") + b"status")
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
    if len(data) >= 4 and len(data) >= 4 + int.from_bytes(data[:4], "big"):
        break
print(data[4:].decode())
"""


def logged_pid(setup, pattern):
    """The number that group 1 of pattern captures in the daemon's log."""
    lines = setup.logged(pattern)
    assert lines, f"no log line /{pattern}/:\n{setup.output()}"
    return int(re.search(pattern, lines[-1]).group(1))

def test_daemon_processes_run_unprivileged(open_folder, softhsm, servers):
    tokens = token_in(open_folder, softhsm, owner=SIGN_USER)
    setup = DaemonSetup(open_folder, softhsm, servers)
    setup.allow_root = False
    setup.write_config(server_yaml=f"  user: {SIGN_USER}\n  dns-user: {DNS_USER}\n")
    setup.start()
    assert setup.serial() is not None, setup.output()

    sign_uid, sign_gid = user_ids(SIGN_USER)
    dns_uid, dns_gid = user_ids(DNS_USER)
    parent = setup.proc.proc.pid
    dns_pid = logged_pid(setup, r"DNS server process (\d+) serves as user " + DNS_USER)
    assert ps_user(parent) == SIGN_USER
    assert ps_user(dns_pid) == DNS_USER
    assert proc_status(parent)["Uid"] == [sign_uid] * 4
    assert proc_status(dns_pid)["Uid"] == [dns_uid] * 4
    assert proc_status(dns_pid)["Groups"] == [dns_gid]
    signer_lines = setup.logged(r"signer process \d+: runs as user " + SIGN_USER)
    assert signer_lines, setup.output()

    # The DNS server process's user cannot read the token or the key files ...
    state = setup.state
    secret_files = [p for p in tokens.rglob("*") if p.is_file()]
    secret_files += [p for p in state.iterdir() if p.is_file() and p.name.startswith("token-")]
    secret_files += [p for p in (state / "keystate").iterdir() if p.is_file()]
    assert any(p.parent.name == "keystate" for p in secret_files), secret_files
    for path in secret_files:
        result = read_as(DNS_USER, path)
        assert result.returncode != 0, f"{DNS_USER} could read {path}"
        assert "Permission denied" in result.stderr, result.stderr
        assert read_as(SIGN_USER, path).returncode == 0, f"{SIGN_USER} cannot read {path}"

    # The layout of doc/danezoned.8, PROCESSES.
    assert stat.S_IMODE(state.stat().st_mode) == 0o711
    assert stat.S_IMODE((state / "keystate").stat().st_mode) == 0o700
    assert stat.S_IMODE((state / "signed").stat().st_mode) == 0o2750
    assert (state / "signed").stat().st_gid == dns_gid

    # ... but reads the published files, which others cannot.
    published = [p for p in (state / "signed").iterdir() if p.name.startswith("example.net.")]
    assert published
    for path in published:
        assert read_as(DNS_USER, path).returncode == 0, path
    assert read_as("nobody", published[0]).returncode != 0

    # The daemon's user may use the control socket, as the peer check allows.
    status = subprocess.run(["runuser", "-u", SIGN_USER, "--", "/usr/bin/python3", "-c",
                             CONTROL_STATUS, str(state / "control.sock")],
                            capture_output=True, text=True, timeout=30)
    assert status.returncode == 0, status.stderr
    assert status.stdout.startswith("ok"), status.stdout

    setup.verify_zone()
    assert setup.stop() == 0, setup.output()

def test_daemon_refuses_root_without_user(open_folder, softhsm, servers):
    token_in(open_folder, softhsm)
    setup = DaemonSetup(open_folder, softhsm, servers)
    setup.allow_root = False
    setup.start(wait=False)
    assert setup.proc.proc.wait(timeout=60) == 2
    output = setup.output()
    assert "danezoned would run as root; set server.user" in output, output
    assert "server.allow-root: true" in output, output


def test_group_signal_stops_quietly(daemon):
    """Ctrl-C reaches every process of the group: only the parent may act on it."""
    daemon.write_config(server_yaml="  signer-processes: 2\n")
    daemon.start()
    assert daemon.serial() is not None
    os.killpg(daemon.proc.proc.pid, signal.SIGINT)
    assert daemon.proc.proc.wait(timeout=60) == 0, daemon.output()
    output = daemon.output()
    assert "received SIGINT, stopping" in output, output
    assert "notice: stopped" in output, output
    for unexpected in ("was killed by signal", "restarting the DNS server process",
                       "stopped answering", "ended by signal", "Broken pipe"):
        assert unexpected not in output, output
