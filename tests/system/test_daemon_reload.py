"""SIGHUP reloads the configuration: a broken file keeps the running one,
an added zone is signed and served, a removed zone is refused, and a new
listen address is logged as needing a restart.
"""
import signal

import dns.rcode

from conftest import free_port

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


def test_reload_removes_zone_keeps_listen(daemon):
    daemon.write_source("example.org")
    daemon.write_config(extra_zones=["example.org"])
    daemon.start()
    daemon.wait_serial(0, zone="example.org")
    old_port = daemon.port
    daemon.port = free_port()
    daemon.write_config()
    daemon.proc.signal(signal.SIGHUP)
    daemon.wait_logged(r"reloaded: 1 zones, 0 added, 1 removed")
    # The sockets were bound at start-up: a new listen address waits for a restart.
    assert daemon.logged(r"warning: .*listen")
    daemon.port = old_port
    assert daemon.serial("example.net") == 1
    assert daemon.query("example.org").rcode() == dns.rcode.REFUSED
