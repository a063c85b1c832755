"""danezoned started with its wall clock far from the key state.

libfaketime moves the daemon's wall clock (CLOCK_REALTIME) and leaves
CLOCK_BOOTTIME true, as a wrongly set system clock does.  Two cases:

- a week behind the key state: the key manager must see the jump, keep
  every key state as it is, report the jump, and move no key until the
  operator runs `danezone key clock-ack`;
- a week ahead (the daemon was down for a week): the daemon first renews
  the signatures that are about to expire, then goes on with the rollover
  that fell due.  Every wait of that rollover starts at the restart, not
  at some time during the outage.

The zone served is checked with ldns-verify-zone at the true time, which is
what resolvers with correct clocks see.
"""
import calendar
import re
import time

import dns.dnssec

from fault_helpers import (CSK_POLICY, Danezoned, assert_same_zone, certificates,  # noqa: F401
                           faketime_env, require_faketime)

DAY = 86400
HOUR = 3600

# The daemon's log lines for a clock jump and for the operator's acknowledgement.
CLOCK_JUMPED_BACKWARD = (r"zone example\.net: DNSSEC, key transitions frozen: "
                         r"the wall clock jumped backward")
CLOCK_ACKNOWLEDGED = r"zone example\.net: DNSSEC, key transitions resume: the clock is accepted"

# A KSK that stays and a ZSK that rolls every 4 days (check-config's
# minimum for these TTLs is 3d5h15m), with signatures that expire 8 days
# after signing and are renewed when less than 5 days are left.
OUTAGE_POLICY = """\
keys:
  - role: ksk
    algorithm: ECDSAP256SHA256
    lifetime: unlimited
  - role: zsk
    algorithm: ECDSAP256SHA256
    lifetime: 4d
standby-keys: 0
dnskey-ttl: 1h
max-zone-ttl: 1h
zone-propagation-delay: 5m
publish-safety: 1h
signature-validity: 8d
signature-validity-dnskey: 8d
signature-refresh: 5d
signature-jitter: 0s
signature-inception-offset: 1h
"""
# Time from publishing a ZSK's DNSKEY to signing with it (pre-publication,
# RFC 7583 section 3.2.1): zone propagation delay + DNSKEY TTL + publish
# safety, from the policy above.
ZSK_PUBLISH_WAIT = 5 * 60 + HOUR + HOUR


def parse_time(text):
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


def state_path(daemon):
    return daemon.state_dir / "keystate" / "example.net.keys"


def key_records(daemon):
    """Each key of the state file as a dict of its fields, by key number."""
    keys = {}
    for line in state_path(daemon).read_text().splitlines():
        if line.startswith("key "):
            fields = dict(field.split("=", 1) for field in line.split()[1:])
            keys[fields["number"]] = fields
    return keys


def key_states(daemon):
    """(number, role, record states with their times) of every key."""
    return {number: {r: fields[r] for r in ("dnskey", "krrsig", "zrrsig", "ds", "goal")}
            for number, fields in key_records(daemon).items()}


def clock_fields(daemon):
    for line in state_path(daemon).read_text().splitlines():
        if line.startswith("clock "):
            return dict(field.split("=", 1) for field in line.split()[1:])
    raise AssertionError(f"no clock line in {state_path(daemon)}")


def set_boot_id(daemon, boot_id):
    """Rewrite the boot id of the last clock reading in the stopped daemon's state."""
    path = state_path(daemon)
    text, count = re.subn(r"(?m)^(clock .*\bboot-id=)\S+", r"\g<1>" + boot_id, path.read_text())
    assert count == 1
    path.write_text(text)


def test_clock_week_behind(softhsm, tmp_path, servers, certificates):  # noqa: F811
    require_faketime()
    daemon = Danezoned(tmp_path, servers, softhsm, certificates[0], policy=CSK_POLICY)
    daemon.start()
    before = daemon.transfer("before")
    assert daemon.stop() == 0
    states = key_states(daemon)

    daemon.start(env=faketime_env("-7d"))
    daemon.wait_log(CLOCK_JUMPED_BACKWARD, what="the clock jump in the log")
    assert clock_fields(daemon)["frozen"] == "yes"
    # The zone signed at the true time stays: new signatures would start
    # a week before the ones already published.
    assert_same_zone(daemon.transfer("frozen"), before, "with the clock a week behind")
    assert key_states(daemon) == states
    status = daemon.control("status").stdout
    assert "frozen" in status

    daemon.control("key", "clock-ack", "example.net")
    daemon.wait_log(CLOCK_ACKNOWLEDGED, what="the acknowledgement in the log")
    assert clock_fields(daemon)["frozen"] == "no"
    # No key went back to an earlier state.
    after = key_states(daemon)
    for number, records in states.items():
        for record in ("dnskey", "krrsig", "zrrsig", "ds"):
            assert after[number][record].split("@")[0] == records[record].split("@")[0], \
                f"key {number} {record} changed state after the acknowledgement"
    daemon.transfer("acknowledged")
    assert daemon.stop() == 0


def test_clock_week_ahead_after_outage(softhsm, tmp_path, servers, certificates):  # noqa: F811
    require_faketime()
    daemon = Danezoned(tmp_path, servers, softhsm, certificates[0], policy=OUTAGE_POLICY)
    week_ago = faketime_env("-7d")
    daemon.start(env=week_ago)
    before = daemon.transfer("before", verify_env=week_ago)
    assert daemon.stop() == 0
    keys = key_records(daemon)
    assert sorted(k["role"] for k in keys.values()) == ["ksk", "zsk"]
    old_zsk = next(k for k in keys.values() if k["role"] == "zsk")

    # CLOCK_BOOTTIME cannot tell a week of outage from a clock jump within
    # one boot, so the outage is one across a restart of the machine, as
    # most week-long outages are.
    set_boot_id(daemon, "00000000-0000-0000-0000-000000000000")
    restarted = int(time.time())
    daemon.start()

    # First the signatures that expire within the refresh time are renewed.
    first = daemon.wait_serial(lambda s: s != before.serial, timeout=60,
                               what="a re-signed version after the outage")
    renewed = daemon.transfer("renewed")
    assert renewed.serial == first or renewed.serial > first
    expirations = [r.expiration for r in renewed.signatures()]
    assert min(expirations) >= restarted + 5 * DAY, "signatures close to expiry were kept"

    # Then the ZSK rollover that fell due during the outage starts, and its
    # wait starts at the restart.
    daemon.wait_log(r"zone example\.net: .*(ZSK|zsk).*(publish|rumoured)", timeout=60,
                    what="the ZSK rollover to start")
    keys = key_records(daemon)
    new_zsks = [k for k in keys.values() if k["role"] == "zsk" and k["number"] != old_zsk["number"]]
    assert len(new_zsks) == 1, keys
    new_zsk = new_zsks[0]
    state, since = new_zsk["dnskey"].split("@")
    assert state == "rumoured"
    assert parse_time(since) >= restarted - 1, "the new ZSK's wait started before the restart"
    assert new_zsk["zrrsig"].split("@")[0] == "hidden", "the new ZSK signs before its wait ended"

    served = daemon.transfer("rolling")
    new_tag = int(new_zsk["tag"])
    old_tag = int(old_zsk["tag"])
    tags = [dns.dnssec.key_id(k) for k in served.zone.find_rdataset(
        "example.net.", "DNSKEY")]
    assert new_tag in tags
    assert served.key_tags_signing("SOA") == [old_tag]
    assert daemon.stop() == 0
