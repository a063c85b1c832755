"""Helpers for the key state command tests: key state files written from the
documented format (keystore/state_file.h), and DS records computed with
dnspython rather than danezone.
"""
import base64
import calendar
import os
import time

import dns.dnssec
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype

HOUR = 3600
DAY = 86400

# Policy A of the rollover tables (BIND's zsk-prepub system test), in the
# state file's policy line.
POLICY_A = {
    "dnskey-ttl": 3600, "max-zone-ttl": DAY, "ds-ttl": 3600,
    "zone-propagation-delay": HOUR, "parent-propagation-delay": HOUR,
    "registration-delay": 0, "publish-safety": DAY, "retire-safety": 2 * DAY,
    "purge-delay": HOUR, "signature-validity": 14 * DAY,
    "signature-validity-dnskey": 14 * DAY, "signature-refresh": 7 * DAY,
    "signature-jitter": 0, "signature-inception-offset": HOUR,
}


def rfc3339(t):
    """A POSIX time as the state file writes it, or "-" for None."""
    if t is None:
        return "-"
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def parse_rfc3339(text):
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


class Key:
    """One key of a state file; `states` maps record names to (state, time)."""

    def __init__(self, number, role, seed, goal="omnipresent", predecessor=0, successor=0,
                 states=None, active=None, ds_seen=None):
        self.number = number
        self.role = role
        self.flags = 256 if role == "zsk" else 257
        self.algorithm = 13
        self.public_key = bytes((seed * 7 + i * 13) % 256 for i in range(64))
        self.key_id = bytes([seed] * 16)
        self.goal = goal
        self.predecessor = predecessor
        self.successor = successor
        self.states = states or {}
        self.active = active
        self.ds_seen = ds_seen

    def dnskey(self, zone):
        """The key's DNSKEY rdata, built by dnspython."""
        text = f"{self.flags} 3 {self.algorithm} {base64.b64encode(self.public_key).decode()}"
        return dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DNSKEY, text)

    def tag(self, zone="example.com."):
        return dns.dnssec.key_id(self.dnskey(zone))

    def ds(self, zone="example.com."):
        """The key's SHA-256 DS record as presentation text."""
        return dns.dnssec.make_ds(dns.name.from_text(zone), self.dnskey(zone), "SHA256").to_text()

    def line(self, zone="example.com."):
        has = {"dnskey": True, "krrsig": self.role != "zsk", "zrrsig": self.role != "ksk",
               "ds": self.role != "zsk"}
        fields = [f"key number={self.number}", f"role={self.role}", f"algorithm={self.algorithm}",
                  "bits=0", "token=-", f"flags={self.flags}", f"tag={self.tag(zone)}",
                  f"id={self.key_id.hex()}",
                  f"public-key={base64.b64encode(self.public_key).decode()}",
                  f"goal={self.goal}", "standby=no", f"predecessor={self.predecessor}",
                  f"successor={self.successor}", "created=-", "publish=-",
                  f"active={rfc3339(self.active)}", "retire=-"]
        for record in ("dnskey", "krrsig", "zrrsig", "ds"):
            if not has[record]:
                fields.append(f"{record}=-")
                continue
            state, since = self.states.get(record, ("hidden", None))
            fields.append(f"{record}={state}@{rfc3339(since)}")
        fields += ["resigned=-", f"ds-seen={rfc3339(self.ds_seen)}", "ds-gone=-",
                   "ds-checked=-", "ds-ttl-seen=0", "roll-at=-", "roll-force=no", "backup=none"]
        return " ".join(fields)


def write_state(state_dir, keys, policy=POLICY_A, zone="example.com.", slots=None):
    """Write STATE_DIR/keystate/ZONE.keys with the keys and a stored policy."""
    folder = os.path.join(str(state_dir), "keystate")
    os.makedirs(folder, exist_ok=True)
    slots = slots or [("ksk", 0), ("zsk", 30 * DAY)]
    policy_fields = " ".join(f"{k}={v}" for k, v in policy.items())
    lines = [
        "danezone-keystate 1", f"zone {zone}", f"next-key {max(k.number for k in keys) + 1}",
        "ds-ttl-observed 0", "last-commit -",
        "clock wall=- boottime=0 boot-id=- frozen=no frozen-at=- jump=0 ack-requested=0 "
        "ack-done=0 reason=-",
        "step requested=0 done=0",
        f"policy name=policy-a ksk-rollover=double-ksk zsk-rollover=prepublish standby-keys=0 "
        f"manual-mode=no {policy_fields} cds-digest-types=2 publish-cdnskey=yes "
        f"ds-observation=operator ds-check-interval=3600 ds-alert-after=172800 negative-ttl=3600",
    ]
    for role, lifetime in slots:
        lines.append(f"policy-key role={role} algorithm=13 bits=0 lifetime={lifetime} token=-")
    lines += [k.line(zone) for k in keys]
    lines.append("end")
    path = os.path.join(folder, zone.rstrip(".") + ".keys")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def read_fields(path, number):
    """The key=value fields of key `number` in a state file."""
    with open(path) as f:
        for line in f:
            if line.startswith(f"key number={number} "):
                return dict(field.split("=", 1) for field in line.split()[1:])
    raise AssertionError(f"no key {number} in {path}")
