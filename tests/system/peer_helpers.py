"""Helpers for the tests that run danezoned with real peers: the daemon with
a configuration the test writes, zones fetched by AXFR as record sets,
trust anchors computed from served DNSKEY RRsets, and Unbound as a
validating resolver.

Everything listens on 127.0.0.1 with ephemeral ports and stops at the end
of the test that started it (the `servers` fixture of conftest.py).
"""
import os
import re
import textwrap

import dns.dnssec
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.zone

from conftest import DANEZONED, run, wait_for
from server_helpers import KEY_NAME, KEY_SECRET, records_of


def write_secret(folder):
    """Write the TSIG secret of server_helpers.KEY_NAME to a file of mode 0600; return its path."""
    path = os.path.join(str(folder), f"{KEY_NAME}.secret")
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(KEY_SECRET + "\n")
    return path


def daemon_config(state, port, softhsm, secondaries, zones, policies=""):
    """Text of a danezone.yaml for danezoned on 127.0.0.1@port.

    `secondaries` maps a name to the port of a secondary on 127.0.0.1 that
    uses the TSIG key server_helpers.KEY_NAME.  `zones` and `policies` are
    YAML blocks (without their section key) inserted as they are.
    """
    state = str(state)
    lines = [
        "server:",
        f"  state-dir: {state}",
        f"  listen: [127.0.0.1@{port}]",
        f"  control-socket: {state}/control.sock",
        "  allow-query: [127.0.0.1]",
        "  log-level: info",
        "hsm:",
        "  softhsm:",
        f"    module: {softhsm.module}",
        f"    token-label: {softhsm.label}",
        f"    pin-file: {softhsm.pin_file}",
        "tsig:",
        f"  {KEY_NAME}:",
        "    algorithm: hmac-sha256",
        f"    secret-file: {write_secret(os.path.dirname(state))}",
        "secondaries:",
    ]
    for name, secondary_port in secondaries.items():
        lines += [f"  {name}:", f"    addresses: [127.0.0.1@{secondary_port}]", f"    tsig: {KEY_NAME}"]
    text = "\n".join(lines) + "\n"
    if policies:
        text += "policies:\n" + textwrap.indent(textwrap.dedent(policies), "  ")
    text += "zones:\n" + textwrap.indent(textwrap.dedent(zones), "  ")
    return text


class Daemon:
    """danezoned in the foreground, logging to a file, stopped at test end."""

    def __init__(self, servers, folder, config_text, env):
        self.folder = str(folder)
        os.makedirs(self.folder, exist_ok=True)
        self.config = os.path.join(self.folder, "danezone.yaml")
        with open(self.config, "w") as f:
            f.write(config_text)
        run([os.path.join(os.path.dirname(DANEZONED), "danezone"), "check-config", "-c", self.config],
            env=env)
        self.env = env
        # danezoned refuses to keep root without server.user unless allowed; CI runs as root.
        allow_root = ["--allow-root"] if os.geteuid() == 0 else []
        self.server = servers.start([DANEZONED, "-c", self.config, "-f", "--log-level", "info",
                                     *allow_root],
                                    os.path.join(self.folder, "danezoned.log"), env=env)
        wait_for(lambda: re.search(r"\bstarted\b", self.output()) or not self.server.running(),
                 timeout=120, what="danezoned to log that it started")
        assert self.server.running(), f"danezoned exited:\n{self.output()}"

    def output(self):
        return self.server.output()

    def danezone(self, *args, check=True):
        """Run `danezone ARGS -c CONFIG`, which talks to this daemon over its control socket."""
        return run([os.path.join(os.path.dirname(DANEZONED), "danezone"), *args, "-c", self.config],
                   env=self.env, check=check)

    def transfers(self, zone, serial):
        """Kinds of the transfers of `serial` that danezoned queued, such as "incremental IXFR"."""
        return re.findall(rf"zone {re.escape(zone.rstrip('.'))}: (AXFR|IXFR of the whole zone|incremental IXFR) "
                          rf"of serial {serial} to \S+ queued", self.output())


def fetch_zone(port, zone, keyring=None, keyname=None):
    """Transfer `zone` from 127.0.0.1:port by AXFR; return the dns.zone.Zone."""
    messages = dns.query.xfr("127.0.0.1", zone, port=port, timeout=10, lifetime=60,
                             keyring=keyring, keyname=keyname, relativize=False)
    return dns.zone.from_xfr(messages, relativize=False, check_origin=False)


def zone_axfr(port, zone, keyring=None, keyname=None):
    """Transfer `zone` from 127.0.0.1:port; return its records as server_helpers.records_of() does."""
    return records_of(fetch_zone(port, zone, keyring, keyname).iterate_rdatas())


def serial_of(port, zone):
    """SOA serial of `zone` at 127.0.0.1:port, or None when the server returns no SOA record."""
    query = dns.message.make_query(zone, "SOA")
    try:
        response = dns.query.udp(query, "127.0.0.1", port=port, timeout=2)
    except (dns.exception.Timeout, OSError):
        return None
    for rrset in response.answer:
        if rrset.rdtype == dns.rdatatype.SOA:
            return rrset[0].serial
    return None


def wait_serial(port, zone, serial, what, timeout=60):
    wait_for(lambda: serial_of(port, zone) == serial, timeout=timeout,
             what=f"{what} to serve serial {serial} of {zone}")


def of_type(records, rtype, owner=None):
    """The RDATA texts of `records` with type `rtype` (and owner `owner`, if given)."""
    return {rdata for name, _, kind, rdata in records
            if kind == rtype and (owner is None or name == owner)}


def sep_keys(transferred):
    """DNSKEY RDATAs with the SEP flag (257) at the apex of a dns.zone.Zone."""
    rdataset = transferred.get_rdataset(transferred.origin, "DNSKEY")
    return [rdata for rdata in (rdataset or []) if rdata.flags & 0x0001]


def sep_key_tags(transferred):
    """Key tags of the SEP DNSKEYs of a dns.zone.Zone, computed by dnspython."""
    return {dns.dnssec.key_id(rdata) for rdata in sep_keys(transferred)}


def ds_of_sep_keys(transferred):
    """DS RDATA texts (SHA-256, computed by dnspython) of the SEP DNSKEYs of a dns.zone.Zone."""
    return {dns.dnssec.make_ds(transferred.origin, rdata, "SHA256").to_text().lower()
            for rdata in sep_keys(transferred)}


def write_zone_file(transferred, path):
    """Write a dns.zone.Zone as a zone file with absolute names; return the path."""
    transferred.to_file(str(path), sorted=True, relativize=False)
    return path


def start_unbound(servers, folder, port, stubs, trust_anchors):
    """Start a validating Unbound on 127.0.0.1:port.

    `stubs` maps a zone to the port of the server on 127.0.0.1 that Unbound
    asks for it; `trust_anchors` are zone-file lines (DS or DNSKEY).  The
    root is a stub zone too, pointing at the first stub's server, so that
    no query leaves the loopback interface.
    """
    folder = str(folder)
    os.makedirs(folder, exist_ok=True)
    conf = os.path.join(folder, "unbound.conf")
    lines = [
        "server:",
        f"    interface: 127.0.0.1@{port}",
        f"    port: {port}",
        "    do-ip6: no",
        "    do-not-query-localhost: no",
        "    username: \"\"",
        "    chroot: \"\"",
        f"    directory: \"{folder}\"",
        f"    pidfile: \"{folder}/unbound.pid\"",
        "    use-syslog: no",
        f"    logfile: \"{folder}/unbound.log\"",
        "    log-time-ascii: yes",
        "    verbosity: 1",
        "    val-log-level: 2",
        "    num-threads: 1",
        "    so-reuseport: no",
        "    access-control: 127.0.0.0/8 allow",
        "    module-config: \"validator iterator\"",
        "    outgoing-interface: 127.0.0.1",
    ]
    lines += [f"    trust-anchor: \"{anchor}\"" for anchor in trust_anchors]
    first_port = next(iter(stubs.values()))
    for zone, stub_port in [*stubs.items(), (".", first_port)]:
        lines += ["stub-zone:", f"    name: \"{zone}\"", f"    stub-addr: 127.0.0.1@{stub_port}"]
    with open(conf, "w") as f:
        f.write("\n".join(lines) + "\n")
    run(["unbound-checkconf", conf])
    server = servers.start(["unbound", "-d", "-c", conf], os.path.join(folder, "unbound.stdout"))
    wait_for(lambda: resolve(port, stubs and next(iter(stubs)), "SOA", timeout=1) is not None
             or not server.running(), timeout=30, what="Unbound to answer")
    assert server.running(), server.output()
    return server, os.path.join(folder, "unbound.log")


def resolve(port, name, rdtype, timeout=5):
    """Ask the resolver at 127.0.0.1:port with the DO bit; return the response or None on timeout."""
    query = dns.message.make_query(name, rdtype, want_dnssec=True)
    query.flags |= dns.flags.AD
    try:
        return dns.query.udp(query, "127.0.0.1", port=port, timeout=timeout)
    except (dns.exception.Timeout, OSError):
        return None


def answer_rdatas(response, rdtype):
    """RDATA texts of the answer section's RRsets of type `rdtype`."""
    return {rdata.to_text().lower() for rrset in response.answer if rrset.rdtype == dns.rdatatype.from_text(rdtype)
            for rdata in rrset}
