"""TLSA rollover on a simulated clock (`--now`), with a real NSD on 127.0.0.1
as the secondary whose SOA serial tells when a zone version has arrived."""
import os
import signal

import pytest

from conftest import danezone, free_port, run, wait_for
from mail_helpers import Pki, parse_records, sha256_hex, spki_of_cert, write_config

T = 1893456000  # 2030-01-01T00:00:00Z
TTL = 600


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return Pki(tmp_path_factory.mktemp("pki"))


class Nsd:
    """NSD serving example.net from a file on 127.0.0.1."""

    def __init__(self, servers, folder):
        self.folder = folder
        self.port = free_port()
        self.zone = folder / "example.net.zone"
        conf = folder / "nsd.conf"
        conf.write_text(
            "server:\n"
            f"  ip-address: 127.0.0.1@{self.port}\n"
            "  username: \"\"\n  chroot: \"\"\n  database: \"\"\n  verbosity: 1\n"
            f"  zonesdir: \"{folder}\"\n  pidfile: \"{folder}/nsd.pid\"\n"
            f"  xfrdfile: \"{folder}/xfrd.state\"\n  zonelistfile: \"{folder}/zone.list\"\n"
            "remote-control:\n  control-enable: no\n"
            "zone:\n  name: example.net\n  zonefile: example.net.zone\n")
        self.write(1, [])
        self.server = servers.start(["nsd", "-d", "-c", conf], folder / "nsd.log")
        wait_for(lambda: self.serial() == 1 or not self.server.running(), what="NSD to serve")
        assert self.server.running(), self.server.output()

    def write(self, serial, tlsa_lines):
        self.zone.write_text(zone_text(serial, tlsa_lines))

    def serial(self):
        proc = run(["dig", "+short", "+time=1", "+tries=1", "-p", self.port, "@127.0.0.1",
                    "example.net", "SOA"], check=False)
        fields = proc.stdout.split()
        return int(fields[2]) if proc.returncode == 0 and len(fields) == 7 else None

    def serve(self, serial, tlsa_lines):
        self.write(serial, tlsa_lines)
        self.server.signal(signal.SIGHUP)
        wait_for(lambda: self.serial() == serial, what=f"NSD to serve serial {serial}")


def zone_text(serial, tlsa_lines):
    return ("$ORIGIN example.net.\n"
            f"@ 3600 IN SOA ns1 hostmaster {serial} 7200 3600 1209600 300\n"
            "@ 3600 IN NS ns1\nns1 3600 IN A 127.0.0.1\nmx1 3600 IN A 127.0.0.1\n"
            + "".join(line + "\n" for line in tlsa_lines))


def publish(output, serial, lines):
    """Write the zone version the signer would publish, with these TLSA records."""
    output.write_text(zone_text(serial, lines))


def status(config, now):
    return danezone("tlsa", "status", "-c", config, "--now", f"@{now}").stdout


def update(config, now):
    return danezone("tlsa", "update", "-c", config, "--now", f"@{now}")


def records(config):
    return [f"{owner} {ttl} IN {rtype} {rdata}"
            for owner, ttl, rtype, rdata in parse_records(
                danezone("records", "example.net", "-c", config).stdout)]


def test_next_key_ready_after_propagation_and_two_ttls(tmp_path, pki, servers):
    nsd_folder = tmp_path / "nsd"
    nsd_folder.mkdir()
    nsd = Nsd(servers, nsd_folder)
    key_a = pki.key("roll-a", "ec")
    cert_a, chain_a = pki.server("roll-a", key_a)
    key_b = pki.key("roll-b", "ec")
    cert_b, chain_b = pki.server("roll-b", key_b)
    live = tmp_path / "live.pem"
    live.write_text(open(chain_a).read())
    next_key = tmp_path / "next.key"
    output = tmp_path / "signed.zone"
    hook_out = tmp_path / "hook.out"
    config = write_config(
        tmp_path,
        f"output: {output}\n"
        "secondaries: [ns1]\n"
        "mail:\n  hosts:\n    - name: mx1.example.net\n"
        f"      certificates: [{live}]\n      next: [{next_key}]\n      ttl: {TTL}\n"
        f"  ready-hook: env | grep ^DZ_ | sort > {hook_out}\n",
        extra=f"secondaries:\n  ns1:\n    addresses: [127.0.0.1@{nsd.port}]\n")
    digest_a = sha256_hex(spki_of_cert(cert_a))
    digest_b = sha256_hex(spki_of_cert(cert_b))

    # The current key is published and reaches the secondary.
    update(config, T)
    lines_a = records(config)
    assert lines_a == [f"_25._tcp.mx1.example.net. {TTL} IN TLSA 3 1 1 {digest_a}"]
    publish(output, 10, lines_a)
    nsd.serve(10, lines_a)
    update(config, T + 10)
    assert "deployed" in status(config, T + 10)

    # A next key is staged (a bare private key) and published at once.
    run(["cp", key_b, next_key])
    update(config, T + 100)
    lines_ab = records(config)
    assert sorted(lines_ab) == sorted(lines_a + [
        f"_25._tcp.mx1.example.net. {TTL} IN TLSA 3 1 1 {digest_b}"])
    assert "waiting for the signer to publish it" in status(config, T + 100)

    # The signer publishes serial 11; the secondary still serves 10.
    publish(output, 11, lines_ab)
    update(config, T + 200)
    text = status(config, T + 200)
    assert "published in serial 11" in text
    assert "waiting for every secondary to serve it" in text

    # The secondary serves 11: ready two TTLs later, not before.
    nsd.serve(11, lines_ab)
    update(config, T + 300)
    text = status(config, T + 300)
    assert "ready to deploy at 2030-01-01T00:25:00Z" in text  # T + 300 + 2 * 600
    update(config, T + 300 + 2 * TTL - 1)
    assert "next, not ready" in status(config, T + 300 + 2 * TTL - 1)
    assert not hook_out.exists()
    proc = update(config, T + 300 + 2 * TTL)
    assert "ready to deploy since 2030-01-01T00:25:00Z" in proc.stdout
    assert "is ready to deploy" in proc.stderr
    hook_env = hook_out.read_text().splitlines()
    assert f"DZ_KEY_SHA256={digest_b}" in hook_env
    assert "DZ_HOST=mx1.example.net" in hook_env
    assert "DZ_ZONE=example.net" in hook_env
    assert f"DZ_FILE={next_key}" in hook_env

    # Deploying the ready key logs no error and retires the old key.
    live.write_text(open(chain_b).read())
    os.unlink(next_key)
    proc = update(config, T + 2000)
    assert "error" not in proc.stderr
    assert records(config) == [f"_25._tcp.mx1.example.net. {TTL} IN TLSA 3 1 1 {digest_b}"]

    # A live key that was never staged is published at once, with an error.
    key_c = pki.key("roll-c", "ec")
    cert_c, chain_c = pki.server("roll-c", key_c)
    live.write_text(open(chain_c).read())
    proc = update(config, T + 3000)
    assert "which was not published before; DANE senders may fail" in proc.stderr
    assert records(config) == [
        f"_25._tcp.mx1.example.net. {TTL} IN TLSA 3 1 1 {sha256_hex(spki_of_cert(cert_c))}"]


def test_switch_before_ready_is_reported(tmp_path, pki, servers):
    key_a = pki.key("early-a", "rsa")
    _, chain_a = pki.server("early-a", key_a)
    key_b = pki.key("early-b", "rsa")
    _, chain_b = pki.server("early-b", key_b)
    live = tmp_path / "live.pem"
    live.write_text(open(chain_a).read())
    next_file = tmp_path / "next.pem"
    next_file.write_text(open(chain_b).read())
    output = tmp_path / "signed.zone"
    config = write_config(
        tmp_path,
        f"output: {output}\nmail:\n  hosts:\n    - name: mx1.example.net\n"
        f"      certificates: [{live}]\n      next: [{next_file}]\n      ttl: {TTL}\n")
    update(config, T)
    # Without secondaries the published version counts as propagated at once.
    publish(output, 5, records(config))
    update(config, T + 60)
    assert "ready to deploy at" in status(config, T + 60)
    live.write_text(open(chain_b).read())
    proc = update(config, T + 120)
    assert "before its TLSA records are ready" in proc.stderr
    assert "DANE senders may fail" in proc.stderr
