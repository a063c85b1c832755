"""A KSK rollover in real time, watched by a validating Unbound.

danezoned signs a parent zone, example., and its child, child.example.,
whose policy counts in seconds: TTLs of 5 s, propagation delays of 3 s and
a KSK lifetime of 30 s.  NSD transfers both zones from danezoned, and
Unbound, whose only trust anchor is the parent's key, queries NSD.  The test
plays the registrar.  Whenever the child publishes a CDS RRset that
differs from the parent's DS RRset, it writes the CDS records as DS
records into the parent's source file.  Once NSD serves them, it reports
the change with `danezone key ds-seen` and `ds-gone`.  Meanwhile a thread queries
Unbound for the child's records without pause.  No answer may be SERVFAIL
or missing, and the child's KSK must be replaced: the key tags of its SEP
DNSKEYs and of the parent's DS records change.
"""
import os
import threading
import time

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from conftest import free_port, wait_for
from peer_helpers import (Daemon, daemon_config, ds_of_sep_keys, fetch_zone, resolve, sep_key_tags,
                          serial_of, start_unbound)
from server_helpers import KEY_NAME, KEYRING, start_nsd

PARENT = "example."
CHILD = "child.example."
TTL = 5

PARENT_SOURCE = """$ORIGIN example.
$TTL {ttl}
@ SOA ns1 hostmaster {serial} 60 30 600 {ttl}
@ NS ns1
ns1 A 127.0.0.1
child NS ns1.child
ns1.child A 127.0.0.1
{ds}"""

CHILD_SOURCE = f"""$ORIGIN child.example.
$TTL {TTL}
@ SOA ns1 hostmaster 1 60 30 600 {TTL}
@ NS ns1
ns1 A 127.0.0.1
www A 192.0.2.80
"""

# The child's policy counts in seconds.  Daemon() runs `danezone
# check-config` first, so the policy's sanity checks must accept it.
POLICIES = f"""\
parent:
  keys:
    - role: csk
      algorithm: ECDSAP256SHA256
      lifetime: unlimited
  dnskey-ttl: {TTL}s
  max-zone-ttl: {TTL}s
fast-ksk:
  keys:
    - role: ksk
      algorithm: ECDSAP256SHA256
      lifetime: 30s
    - role: zsk
      algorithm: ECDSAP256SHA256
      lifetime: unlimited
  ksk-rollover: double-ksk
  dnskey-ttl: {TTL}s
  max-zone-ttl: {TTL}s
  ds-ttl: {TTL}s
  zone-propagation-delay: 3s
  parent-propagation-delay: 3s
  publish-safety: 1s
  retire-safety: 1s
  purge-delay: 1h
  signature-validity: 1h
  signature-validity-dnskey: 1h
  signature-refresh: 5m
  signature-jitter: 0s
  ds-observation: operator
"""

# The whole rollover takes about a minute; stop waiting after this many seconds.
ROLLOVER_TIMEOUT = 100


def rrset_texts(port, name, rdtype):
    """RDATA texts of one RRset that NSD on 127.0.0.1:port serves (an empty set when there is none)."""
    response = dns.query.udp(dns.message.make_query(name, rdtype), "127.0.0.1", port=port, timeout=2)
    return {rdata.to_text().lower() for rrset in response.answer
            if rrset.rdtype == dns.rdatatype.from_text(rdtype) for rdata in rrset}


def ds_key_tag(ds_text):
    return int(ds_text.split()[0])


class Prober(threading.Thread):
    """Queries Unbound for the child's records without pause and keeps every outcome."""

    QUESTIONS = (("www." + CHILD, "A"), (CHILD, "DNSKEY"), (CHILD, "SOA"))

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.stopping = threading.Event()
        self.outcomes = []  # (monotonic time, name, type, "SERVFAIL"/"NOERROR"/... or "timeout", AD bit)

    def run(self):
        while not self.stopping.is_set():
            for name, rdtype in self.QUESTIONS:
                response = resolve(self.port, name, rdtype, timeout=5)
                if response is None:
                    self.outcomes.append((time.monotonic(), name, rdtype, "timeout", False))
                else:
                    self.outcomes.append((time.monotonic(), name, rdtype,
                                          dns.rcode.to_text(response.rcode()),
                                          bool(response.flags & dns.flags.AD)))
            time.sleep(0.1)

    def stop(self):
        self.stopping.set()
        self.join(timeout=30)


def write_parent(source, serial, ds):
    """Replace the parent's source file by rename, with the DS RDATA texts `ds` for the child."""
    lines = "".join(f"child {TTL} IN DS {text}\n" for text in sorted(ds))
    temporary = f"{source}.tmp-write"
    with open(temporary, "w") as f:
        f.write(PARENT_SOURCE.format(ttl=TTL, serial=serial, ds=lines))
    os.rename(temporary, source)


class Registrar:
    """Copies the child's CDS RRset into the parent's DS RRset, as a registrar that accepts CDS does."""

    def __init__(self, daemon, source, nsd_port):
        self.daemon = daemon
        self.source = source
        self.nsd_port = nsd_port
        self.ds = set()
        self.serial = 1
        self.changes = []  # (monotonic time, DS set now served)

    def poll(self):
        """Act on the CDS RRset that NSD serves for the child; return True when the DS set changed."""
        cds = rrset_texts(self.nsd_port, CHILD, "CDS")
        if not cds or cds == self.ds:
            return False
        # Each CDS must be the DS of a DNSKEY the child serves (computed here by dnspython).
        served_ds = ds_of_sep_keys(fetch_zone(self.nsd_port, CHILD))
        assert cds <= served_ds, f"CDS {cds} matches no SEP DNSKEY of the child ({served_ds})"
        added = {ds_key_tag(ds) for ds in cds - self.ds}
        removed = {ds_key_tag(ds) for ds in self.ds - cds}
        self.ds = cds
        self.serial += 1
        # The daemon watches the source and re-signs the parent on each change.
        write_parent(self.source, self.serial, cds)
        wait_for(lambda: rrset_texts(self.nsd_port, CHILD, "DS") == cds, timeout=30,
                 what=f"NSD to serve the parent's DS RRset {sorted(cds)}")
        self.changes.append((time.monotonic(), set(cds)))
        for tag in sorted(added):
            self.daemon.danezone("key", "ds-seen", CHILD, str(tag))
        for tag in sorted(removed):
            self.daemon.danezone("key", "ds-gone", CHILD, str(tag))
        return True


@pytest.mark.slow
def test_ksk_rollover_with_unbound_watching(tmp_path, servers, softhsm):
    parent_source = tmp_path / "example.zone"
    child_source = tmp_path / "child.example.zone"
    child_source.write_text(CHILD_SOURCE)
    primary_port, nsd_port = free_port(), free_port()
    config = daemon_config(tmp_path / "state", primary_port, softhsm, {"nsd": nsd_port}, f"""\
        - name: example
          source: {parent_source}
          policy: parent
          secondaries: [nsd]
        - name: child.example
          source: {child_source}
          policy: fast-ksk
          secondaries: [nsd]
        """, policies=POLICIES)
    write_parent(parent_source, 1, set())
    daemon = Daemon(servers, tmp_path / "daemon", config, softhsm.env)
    registrar = Registrar(daemon, parent_source, nsd_port)

    start_nsd(servers, tmp_path / "nsd", primary_port, nsd_port, zones=[PARENT, CHILD])
    for zone in (PARENT, CHILD):
        serial = wait_for(lambda: serial_of(primary_port, zone), what=f"danezoned to serve {zone}")
        wait_for(lambda: (serial_of(nsd_port, zone) or 0) >= serial, timeout=30,
                 what=f"NSD to serve {zone}")

    parent = fetch_zone(primary_port, PARENT, KEYRING, KEY_NAME)
    anchors = [f"{PARENT} DS {ds}" for ds in ds_of_sep_keys(parent)]
    assert anchors, "the parent has no DNSKEY with the SEP flag"
    resolver_port = free_port()
    start_unbound(servers, tmp_path / "unbound", resolver_port, {PARENT: nsd_port, CHILD: nsd_port},
                  anchors)

    prober = Prober(resolver_port)
    prober.start()
    first_tags = None
    completed = None
    try:
        deadline = time.monotonic() + ROLLOVER_TIMEOUT
        while time.monotonic() < deadline:
            registrar.poll()
            if registrar.ds and first_tags is None:
                first_tags = {ds_key_tag(ds) for ds in registrar.ds}
            if first_tags is not None:
                tags = {ds_key_tag(ds) for ds in registrar.ds}
                dnskey_tags = sep_key_tags(fetch_zone(nsd_port, CHILD))
                # Complete: the parent has DS records only of new keys, and the old KSK has left the DNSKEY RRset.
                if tags and not tags & first_tags and not dnskey_tags & first_tags:
                    completed = time.monotonic()
                    break
            time.sleep(0.5)
        # Keep asking for two TTLs more, so caches filled during the last step expire and refill.
        time.sleep(2 * TTL + 1)
    finally:
        prober.stop()

    outcomes = prober.outcomes
    failures = [o for o in outcomes if o[3] != "NOERROR"]
    assert completed is not None, (
        f"no KSK rollover completed in {ROLLOVER_TIMEOUT} s; DS changes {registrar.changes}\n"
        + daemon.output()[-5000:])
    # About ten questions a second for a minute; far fewer would leave the rollover unwatched.
    assert len(outcomes) > 100, f"only {len(outcomes)} questions reached Unbound"
    assert not failures, f"{len(failures)} of {len(outcomes)} answers failed, first: {failures[:5]}"
    assert len(registrar.changes) >= 2, registrar.changes
    # Once the first DS has been served for longer than every TTL, the child validates: AD on every answer.
    secure_from = registrar.changes[0][0] + 2 * TTL + 3
    after = [o for o in outcomes if o[0] > secure_from]
    assert after, "no answers after the first DS had propagated"
    insecure = [o for o in after if not o[4]]
    assert not insecure, f"{len(insecure)} of {len(after)} answers lacked the AD bit, first: {insecure[:5]}"
    assert daemon.server.running(), daemon.output()
