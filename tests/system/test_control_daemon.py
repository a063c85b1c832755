"""danezone commands with a running danezoned: zone list, status, sign,
reload, a key state command and stop go through its control socket.

The expected serial comes from a SOA query (dnspython) of the daemon's DNS
server; the texts are those the daemon's handlers write.
"""
from conftest import danezone
from daemon_helpers import daemon  # noqa: F401 (fixture)


def test_danezone_commands_reach_daemon(daemon):
    daemon.start()
    serial = daemon.wait_serial(0)
    config = daemon.config

    assert danezone("zone", "list", "-c", config).stdout == f"example.net serial {serial}\n"
    status = danezone("status", "example.net", "-c", config).stdout
    assert status.startswith("zone example.net\n")
    assert f"serial {serial}," in status
    proc = danezone("status", "example.invalid", "-c", config, check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("danezone status: zone example.invalid is not configured")

    runs = len(daemon.logged(r"signed \d+ RRsets"))
    out = danezone("sign", "example.net", "-c", config).stdout
    assert out == "signing run of example.net scheduled\n"
    daemon.wait_logged(r"signed \d+ RRsets", count=runs + 1)

    # The key state file has one writer: the daemon logs the request it applied.
    out = danezone("key", "step", "example.net", "-c", config).stdout
    assert "recorded for example.net" in out
    daemon.wait_logged(r"zone example.net: DNSSEC, .* requested through the control socket")
    proc = danezone("key", "backup-done", "example.net", "#99", "-c", config, check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("danezone key backup-done: ")

    out = danezone("reload", "-c", config).stdout
    assert out.startswith("reload of ")
    out = danezone("stop", "-c", config).stdout
    assert out == "stopping\n"
    daemon.proc.proc.wait(timeout=30)
    assert daemon.proc.proc.returncode == 0

    proc = danezone("stop", "-c", config, check=False)
    assert proc.returncode == 1
    socket_path = daemon.state / "control.sock"
    assert proc.stderr == (f"danezone stop: danezoned is not running (no answer on "
                           f"{socket_path})\n")
