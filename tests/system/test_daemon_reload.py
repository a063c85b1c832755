"""SIGHUP reloads the configuration: a broken file keeps the running one,
and an added zone is signed and served.
"""
import signal

import dns.exception
import dns.message
import dns.query
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


def test_reload_removes_zone_and_moves_port(daemon):

    daemon.write_source("example.org")
    daemon.write_config(extra_zones=["example.org"])
    daemon.start()
    daemon.wait_serial(0, zone="example.org")
    old_port = daemon.port
    daemon.port = free_port()
    daemon.write_config()
    daemon.proc.signal(signal.SIGHUP)
    daemon.wait_logged(r"reloaded: 1 zones, 0 added, 1 removed")
    assert daemon.serial("example.net") == 1
    assert daemon.query("example.org").rcode() == dns.rcode.REFUSED
    query = dns.message.make_query("example.net.", "SOA")
    try:
        dns.query.udp(query, "127.0.0.1", port=old_port, timeout=1)
    except (dns.exception.Timeout, ConnectionRefusedError):
        pass
    else:
        raise AssertionError("the old port still answers after the reload")
