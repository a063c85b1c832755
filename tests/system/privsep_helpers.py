"""Fixtures and checks shared by the privilege separation tests.

The users dz-dns (DNS server process) and dz-sign (daemon and signer
processes) are created for the test session when missing.  Only users
created here are removed at the end.  Files live in a folder under /tmp
that every user may traverse, so that a denied open comes from the
files' own modes, not from pytest's private temporary folder.
"""
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import run

DNS_USER = "dz-dns"
SIGN_USER = "dz-sign"


def _user_exists(name):
    return subprocess.run(["id", "-u", name], capture_output=True).returncode == 0


@pytest.fixture(scope="session")
def test_users():
    """The users dz-dns and dz-sign; skips the test when not root."""
    if os.geteuid() != 0:
        pytest.skip("privilege separation tests need root to create users and drop privileges")
    if shutil.which("useradd") is None:
        pytest.skip("useradd is not installed (Debian package passwd)")
    created = []
    for name in (DNS_USER, SIGN_USER):
        if not _user_exists(name):
            run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name])
            created.append(name)
    yield {"dns": DNS_USER, "sign": SIGN_USER}
    for name in created:
        subprocess.run(["userdel", name], capture_output=True)


@pytest.fixture
def open_folder(test_users):
    """A folder under /tmp that every user may traverse; removed at test end."""
    path = Path(tempfile.mkdtemp(prefix="dz-privsep-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def user_ids(name):
    """(uid, gid) of a user, from id(1)."""
    return int(run(["id", "-u", name]).stdout), int(run(["id", "-g", name]).stdout)


def proc_status(pid):
    """The Uid, Gid and Groups lines of /proc/PID/status as lists of numbers."""
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            name, _, value = line.partition(":")
            if name in ("Uid", "Gid", "Groups"):
                fields[name] = [int(v) for v in value.split()]
    return fields


def ps_user(pid):
    """The user name that `ps -o user=,pid=,comm=` shows for pid."""
    out = run(["ps", "-o", "user=,pid=,comm=", "-p", str(pid)]).stdout.split()
    assert out and int(out[1]) == pid, f"ps does not list {pid}: {out}"
    return out[0]


def read_as(user, path):
    """Run `cat PATH` as user; return the completed process."""
    return subprocess.run(["runuser", "-u", user, "--", "cat", str(path)], capture_output=True,
                          text=True, errors="replace", timeout=30)


def token_in(folder, softhsm, owner=None):
    """Copy the softhsm fixture's token into folder and point softhsm.env at the copy.

    With owner, the copy is given to that user, as an installation gives
    the token to the daemon's user.  Returns the token folder.
    """
    tokens = folder / "tokens"
    shutil.copytree(softhsm.tokens, tokens)
    if owner:
        run(["chown", "-R", f"{owner}:", str(tokens)])
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\n"
                    "log.level = ERROR\n")
    conf.chmod(0o644)
    softhsm.env["SOFTHSM2_CONF"] = str(conf)
    softhsm.tokens = str(tokens)
    return tokens
