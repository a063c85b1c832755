"""danezoned started with its wall clock far from the key state.

libfaketime moves the daemon's wall clock (CLOCK_REALTIME) and leaves
CLOCK_BOOTTIME true, as a wrongly set system clock does.  Two cases:

- a week (or three) behind the key state: the key manager must see the
  jump, keep every key state as it is, report the jump, and move no key
  until the operator runs `danezone key clock-ack`.  The published
  signatures stay until then, because new ones would expire earlier;
- a week ahead (the daemon was down for days): the first version after
  the restart renews the signatures that are about to expire, and the
  rollover that fell due goes on.  Its waits start at the restart, not at
  some time during the outage.

The zone served is checked with ldns-verify-zone at the true time, which is
what resolvers with correct clocks see.
"""
import calendar
import re
import time

import dns.dnssec

from conftest import wait_for
from fault_helpers import (CSK_POLICY, ZONE, Danezoned, assert_same_zone,  # noqa: F401
                           certificates, faketime_env, require_faketime)

DAY = 86400
HOUR = 3600

# The daemon's log lines for a clock jump and for the operator's acknowledgement.
CLOCK_JUMPED_BACKWARD = (r"zone example\.net\.?: DNSSEC, key transitions frozen: "
                         r"the wall clock jumped backward")
CLOCK_ACKNOWLEDGED = r"zone example\.net\.?: DNSSEC, key transitions resume: the clock is accepted"
# The daemon's log line when it does not sign because of the clock.
SIGNING_REFUSED = (r"zone example\.net: DNSSEC, signing failed: the clock is behind the newest "
                   r"signature inception")
# Time for a few retries of the refused signing run (1 s, then doubled).
RETRY_SECONDS = 4

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
# Time from publishing a ZSK's DNSKEY to signing with it in a pre-publish
# rollover: zone propagation delay + DNSKEY TTL + publish safety, from the
# policy above.
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
    """The goal and the record states with their times of every key, by key number."""
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
    wait_for(lambda: clock_fields(daemon)["frozen"] == "yes", timeout=10,
             what="frozen=yes in the state file")
    # The zone signed at the true time stays: new signatures would start a
    # week before the ones already published, and with a clock further
    # behind they would expire before the true time.
    daemon.wait_log(SIGNING_REFUSED, what="the refused signing run in the log")
    time.sleep(RETRY_SECONDS)
    assert len(daemon.log_lines(SIGNING_REFUSED)) == 1, daemon.log()
    assert_same_zone(daemon.transfer("frozen"), before, "with the clock a week behind")
    frozen = key_states(daemon)
    for number, records in states.items():
        assert frozen[number] == records, f"key {number} changed while frozen"
    # A standby key may be made meanwhile, but it is not used.
    for number in frozen.keys() - states.keys():
        assert set(frozen[number].values()) == {"hidden@-", "hidden"}, frozen[number]
    status = daemon.control("status", "example.net")
    assert status.startswith("ok\n"), status
    assert "key transitions frozen since " in status

    reply = daemon.control("clock-ack", "example.net")
    assert reply.startswith("ok\n"), reply
    daemon.wait_log(CLOCK_ACKNOWLEDGED, what="the acknowledgement in the log")
    # The state file follows the log line.
    wait_for(lambda: clock_fields(daemon)["frozen"] == "no", timeout=10,
             what="frozen=no in the state file")
    # No key went back to an earlier state.
    after = key_states(daemon)
    for number, records in states.items():
        for record in ("dnskey", "krrsig", "zrrsig", "ds"):
            assert after[number][record].split("@")[0] == records[record].split("@")[0], \
                f"key {number} {record} changed state after the acknowledgement"

    # Once the operator confirmed the clock, the zone is signed again, and
    # the signatures are good at the true time.
    daemon.wait_serial(lambda s: s != before.serial, timeout=30,
                       what="a zone signed again after the acknowledgement")
    daemon.transfer("acknowledged")
    assert daemon.stop() == 0


def restart_after_outage(daemon, offset, boot):
    """Restart the stopped daemon at wall clock `offset` as if the machine rebooted meanwhile.

    Within one boot, days of wall time without as much CLOCK_BOOTTIME are
    a clock jump, so each outage in this test spans a restart of the
    machine.  Returns the environment of the new run.
    """
    set_boot_id(daemon, f"00000000-0000-0000-0000-{boot:012d}")
    env = faketime_env(offset) if offset else {}
    daemon.start(env=env)
    return env


def test_clock_week_ahead_after_outage(softhsm, tmp_path, servers, certificates):  # noqa: F811
    require_faketime()
    daemon = Danezoned(tmp_path, servers, softhsm, certificates[0], policy=OUTAGE_POLICY)

    # A week ago the zone was signed for the first time, and a day later
    # the operator saw the KSK's DS at the parent.
    daemon.start(env=faketime_env("-7d"))
    assert daemon.stop() == 0
    keys = key_records(daemon)
    assert sorted(k["role"] for k in keys.values()) == ["ksk", "zsk"]
    ksk = next(k for k in keys.values() if k["role"] == "ksk")
    old_zsk = next(k for k in keys.values() if k["role"] == "zsk")
    six_days_ago = restart_after_outage(daemon, "-6d", 1)
    reply = daemon.control("ds-seen", "example.net", "#" + ksk["number"])
    assert reply.startswith("ok\n"), reply
    before = daemon.transfer("before", verify_env=six_days_ago)
    assert daemon.stop() == 0

    # Six days later the daemon starts again.  The ZSK, 4 days old at most,
    # had its rollover due two days ago, and the signatures made six days ago
    # expire in two days, less than the refresh time of five.
    restarted = int(time.time())
    restart_after_outage(daemon, None, 2)

    # First the signatures are renewed.
    first = daemon.wait_serial(lambda s: s != before.serial, timeout=60,
                               what="a re-signed version after the outage")
    renewed = daemon.transfer("renewed")
    assert renewed.serial == first or renewed.serial > first
    expirations = [r.expiration for r in renewed.signatures()]
    assert min(expirations) >= restarted + 5 * DAY, "signatures close to expiry were kept"

    # Then the ZSK rollover goes on, and its first wait starts at the restart.
    def new_zsk():
        found = [k for k in key_records(daemon).values()
                 if k["role"] == "zsk" and k["number"] != old_zsk["number"]
                 and k["dnskey"] != "hidden@-"]
        return found[0] if found else None
    zsk = wait_for(new_zsk, timeout=60, what="the new ZSK to be published")
    state, since = zsk["dnskey"].split("@")
    assert state == "rumoured"
    assert parse_time(since) >= restarted - 1, "the new ZSK's wait started before the restart"
    assert zsk["zrrsig"].split("@")[0] == "hidden", "the new ZSK signs before its wait ended"
    # The next key event is the end of that wait, counted from the restart.
    status = daemon.control("status", "example.net")
    next_event = re.search(r"next key event (\S+),", status)
    assert next_event, status
    assert parse_time(next_event.group(1)) >= restarted + ZSK_PUBLISH_WAIT, status

    served = daemon.transfer("rolling")
    tags = [dns.dnssec.key_id(k) for k in served.zone.find_rdataset(ZONE, "DNSKEY")]
    assert int(zsk["tag"]) in tags
    assert served.key_tags_signing("SOA") == [int(old_zsk["tag"])]
    assert daemon.stop() == 0


def test_clock_behind_longer_than_validity(softhsm, tmp_path, servers, certificates):  # noqa: F811
    """Signatures made three weeks in the past would have expired a week ago."""
    require_faketime()
    daemon = Danezoned(tmp_path, servers, softhsm, certificates[0], policy=CSK_POLICY)
    daemon.start()
    before = daemon.transfer("before")
    assert daemon.stop() == 0

    daemon.start(env=faketime_env("-21d"))
    daemon.wait_log(SIGNING_REFUSED, what="the refused signing run in the log")
    assert_same_zone(daemon.transfer("frozen"), before, "with the clock three weeks behind")
    assert daemon.stop() == 0
