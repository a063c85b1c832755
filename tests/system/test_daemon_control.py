"""The control socket of danezoned: status, zone list, a forced signing
run, a key command and stop, spoken in the documented frame format.
"""
from daemon_helpers import daemon  # noqa: F401 (fixture)


def test_control_status_and_zone_list(daemon):
    daemon.start()
    serial = daemon.wait_serial(0)
    listing = daemon.control("zone-list")
    assert listing == f"ok\nexample.net serial {serial}\n"
    status = daemon.control("status", "example.net")
    assert status.startswith("ok\nzone example.net\n")
    assert f"serial {serial}," in status
    missing = daemon.control("status", "example.invalid")
    assert missing.startswith("error notfound ")


def test_control_sign_and_key_command(daemon):
    daemon.start()
    daemon.wait_serial(0)
    runs = len(daemon.logged(r"signed \d+ RRsets"))
    assert daemon.control("sign", "example.net").startswith("ok\n")
    daemon.wait_logged(r"signed \d+ RRsets", count=runs + 1)
    # The CSK of the default policy is key #1; "step" only applies in manual mode but is accepted.
    reply = daemon.control("step", "example.net")
    assert reply.startswith("ok\n"), reply
    wrong = daemon.control("ds-seen", "example.net")
    assert wrong.startswith("error "), wrong


def test_control_stop(daemon):
    daemon.start()
    daemon.wait_serial(0)
    assert daemon.control("stop") == "ok\nstopping\n"
    daemon.proc.proc.wait(timeout=30)
    assert daemon.proc.proc.returncode == 0
    assert daemon.logged(r"notice: stopped$")
    assert not (daemon.state / "control.sock").exists()
