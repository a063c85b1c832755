"""The danezone commands that talk to danezoned over the control socket.

A stub server (tests/tools/dz-control-stub) listens on the configured
server.control-socket and prints each request it receives.  The tests check
what the commands send and what they print of the response.  Without a
daemon, the commands report that or work offline as before.
"""
import os
import pathlib
import shutil
import tempfile

import pytest

from conftest import BUILDDIR, danezone, run, wait_for
from keystate_helpers import Key, write_state

STUB = os.path.join(BUILDDIR, "tests", "tools", "dz-control-stub")
NOBODY = 65534


@pytest.fixture
def setup():
    """A configuration with one zone and its control socket, in a folder every user may read.

    The folder is short because a unix socket path may have at most 107
    bytes, more than pytest's tmp_path may give.
    """
    folder = pathlib.Path(tempfile.mkdtemp(prefix="dz-ctl-"))
    folder.chmod(0o755)
    socket_path = str(folder / "control.sock")
    zone = folder / "example.com.zone"
    zone.write_text("example.com. 3600 IN SOA ns1.example.com. h.example.com. 1 3600 900 "
                    "604800 300\nexample.com. 3600 IN NS ns1.example.com.\n")
    config = folder / "danezone.yaml"
    config.write_text(f"""server:
  state-dir: {folder}/state
  control-socket: {socket_path}
zones:
  - name: example.com
    source: {zone}
""")
    (folder / "state" / "keystate").mkdir(parents=True)
    yield config, socket_path, folder
    shutil.rmtree(folder, ignore_errors=True)


def start_stub(servers, tmp_path, socket_path, mode="0660"):
    stub = servers.start([STUB, socket_path, mode], tmp_path / "stub.log")
    wait_for(lambda: "listening" in stub.output(), timeout=10, what="the stub to listen")
    return stub


def requests(stub):
    return [line[len("request: "):] for line in stub.output().splitlines()
            if line.startswith("request: ")]


def test_daemon_commands_without_daemon(setup):
    config, socket_path, _ = setup
    for command in (["stop"], ["reload"], ["zone", "list"]):
        proc = danezone(*command, "-c", config, check=False)
        assert proc.returncode == 1
        assert proc.stderr == (f"danezone {' '.join(command)}: danezoned is not running "
                               f"(no answer on {socket_path})\n")
        assert proc.stdout == ""
    proc = danezone("sign", "example.com", "-c", config, check=False)
    assert proc.returncode == 1
    assert f"danezoned is not running (no answer on {socket_path})" in proc.stderr


def test_offline_commands_without_daemon(setup):
    config, _, _ = setup
    # Offline, status reads the key state folder, which has no state for the zone yet.
    out = danezone("status", "-c", config).stdout
    assert "no key state yet" in out
    proc = danezone("key", "step", "example.com", "-c", config, check=False)
    assert proc.returncode == 1
    assert "example.com" in proc.stderr
    assert "danezoned" not in proc.stderr


def test_commands_reach_daemon(setup, servers, tmp_path):
    config, socket_path, folder = setup
    stub = start_stub(servers, tmp_path, socket_path)

    # The daemon's response comes first, then the keys from the state files.
    out = danezone("status", "-c", config).stdout
    assert out.startswith("stub status\n\nkeys, from the key state files:\n"), out
    assert "zone example.com.: no key state yet" in out
    out = danezone("status", "example.com", "-c", config).stdout
    assert out.startswith("stub status example.com\n\nkeys, from the key state files:\n"), out
    assert danezone("zone", "list", "-c", config).stdout == "stub zone-list\n"
    assert danezone("sign", "example.com", "-c", config).stdout == "stub sign example.com\n"
    assert danezone("reload", "--config", config).stdout == "stub reload\n"
    danezone("key", "ds-seen", "example.com", "12345", "--when", "2030-01-01T00:00:00Z",
             "-c", config)
    danezone("key", "ds-gone", "example.com", "#2", "--when", "@1893456000", "-c", config)
    # The client reads which key is the KSK in use; the daemon takes key numbers.
    write_state(folder / "state", [Key(1, "ksk", 1), Key(2, "zsk", 2)])
    danezone("key", "rollover", "example.com", "--role", "ksk", "--force",
             "--when", "2030-01-02T00:00:00Z", "-c", config)
    danezone("key", "rollover", "example.com", "4711", "--when", "2030-01-03T00:00:00Z",
             "-c", config)
    danezone("key", "clock-ack", "example.com", "-c", config)
    danezone("key", "step", "example.com", "-c", config)
    out = danezone("key", "backup-done", "example.com", "#1", "-c", config).stdout
    assert out == "stub backup-done example.com #1\n"

    assert requests(stub) == [
        "status",
        "status example.com",
        "zone-list",
        "sign example.com",
        "reload",
        "ds-seen example.com 12345 2030-01-01T00:00:00Z",
        "ds-gone example.com #2 2030-01-01T00:00:00Z",
        "rollover example.com #1 2030-01-02T00:00:00Z force",
        "rollover example.com 4711 2030-01-03T00:00:00Z",
        "clock-ack example.com",
        "step example.com",
        "backup-done example.com #1",
    ]

    assert danezone("stop", "-c", config).stdout == "stub stop\n"
    wait_for(lambda: not stub.running(), timeout=10, what="the stub to stop")
    assert stub.proc.returncode == 0
    assert not os.path.exists(socket_path)


def test_offline_options_skip_daemon(setup, servers, tmp_path):
    config, socket_path, folder = setup
    stub = start_stub(servers, tmp_path, socket_path)
    # --now and --state-dir compute offline; the offline sign form has its options.
    out = danezone("status", "-c", config, "--now", "2030-01-01T00:00:00Z").stdout
    assert "no key state yet" in out
    out = danezone("status", "--state-dir", folder / "state", "example.com").stdout
    assert "no key state yet" in out
    proc = danezone("key", "step", "example.com", "--state-dir", folder / "state",
                    check=False)
    assert proc.returncode == 1
    # "sign ZONE" is forwarded only for a configured zone.
    proc = danezone("sign", "other.example", "-c", config, check=False)
    assert proc.returncode == 2
    proc = danezone("sign", "--zone", "example.com", "-c", config, check=False)
    assert proc.returncode == 2
    assert requests(stub) == []


def test_daemon_error_is_reported(setup, servers, tmp_path):
    config, socket_path, _ = setup
    start_stub(servers, tmp_path, socket_path)
    proc = danezone("status", "broken.example", "-c", config, check=False)
    assert proc.returncode == 1
    assert proc.stderr == "danezone status: zone broken.example is not configured\n"
    assert proc.stdout == ""


def as_nobody(*args):
    return run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                *map(str, args)], check=False)


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="needs root and setpriv to run a command as another user")
def test_other_user_is_rejected(setup, servers, tmp_path):
    config, socket_path, _ = setup
    os.chmod(config, 0o644)
    # Mode 0660, group root: the file mode keeps uid 65534 out.
    stub = start_stub(servers, tmp_path, socket_path)
    proc = as_nobody(os.path.join(BUILDDIR, "danezone"), "zone", "list", "-c", config)
    if "danezone.yaml" in proc.stderr or "danezone:" in proc.stderr:
        pytest.skip(f"uid {NOBODY} cannot run the built danezone here: {proc.stderr}")
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"danezone zone list: cannot connect to danezoned on {socket_path}: "
                                  "Permission denied")
    stub.stop()

    # Mode 0666: connect() succeeds and the peer check rejects the user.
    stub = start_stub(servers, tmp_path, socket_path, mode="0666")
    proc = as_nobody(os.path.join(BUILDDIR, "danezone"), "zone", "list", "-c", config)
    assert proc.returncode == 1
    assert proc.stderr.startswith("danezone zone list: uid 65534 may not use the control socket "
                                  "of danezoned")
    assert requests(stub) == []
    wait_for(lambda: "rejected the connection of uid 65534" in stub.output(), timeout=5,
             what="the rejection in the log")
