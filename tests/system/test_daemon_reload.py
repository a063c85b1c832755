"""SIGHUP reloads the configuration: a broken file keeps the running one,
and an added zone is signed and served.
"""
import signal

from daemon_helpers import daemon  # noqa: F401 (fixture)


def test_reload_broken_config_keeps_running(daemon):
    daemon.start()
    first = daemon.wait_serial(0)
    good = daemon.config.read_text()
    daemon.config.write_text(good.replace("zones:", "zones: [", 1))
    daemon.proc.signal(signal.SIGHUP)
    daemon.wait_logged(r"reload failed")
    errors = daemon.logged(r"danezone.yaml:\d+:\d+: error")
    assert errors, daemon.output()
    assert daemon.proc.running()
    assert daemon.serial() == first
    # Changes still publish with the old configuration.
    daemon.write_source("example.net", extra="after A 127.0.0.9\n", atomic=True)
    assert daemon.wait_serial(first) == first + 1


def test_reload_adds_zone(daemon):
    daemon.start()
    daemon.wait_serial(0)
    daemon.write_source("example.org")
    daemon.write_config(extra_zones=["example.org"])
    daemon.proc.signal(signal.SIGHUP)
    daemon.wait_logged(r"reloaded: 2 zones, 1 added, 0 removed")
    assert daemon.wait_serial(0, zone="example.org") == 1
    daemon.verify_zone("example.org")
    # The first zone goes on serving.
    assert daemon.serial("example.net") == 1
