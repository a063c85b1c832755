"""danezone status, rollover plan and the key state commands of danezone key.

Key state files are written here from the documented format; expected times
are the rollover table's arithmetic (Policy A: IpubC = 26h, Iret = 241h), and
DS records for the parent are made by dnspython.
"""
import os
import time

import pytest

from conftest import danezone, free_port, run
from keystate_helpers import DAY, HOUR, Key, parse_rfc3339, read_fields, rfc3339, write_state

NOW = 1893456000  # 2030-01-01T00:00:00Z


def zsk_rollover_state(state_dir):
    """KSK 1 steady; ZSK 2 being replaced by ZSK 3, whose DNSKEY was published 10h ago."""
    ksk = Key(1, "ksk", 1, states={"dnskey": ("omnipresent", NOW - 40 * DAY),
                                   "krrsig": ("omnipresent", NOW - 40 * DAY),
                                   "ds": ("omnipresent", NOW - 39 * DAY)}, active=NOW - 40 * DAY)
    zsk2 = Key(2, "zsk", 2, goal="hidden", successor=3,
               states={"dnskey": ("omnipresent", NOW - 40 * DAY),
                       "zrrsig": ("omnipresent", NOW - 40 * DAY)}, active=NOW - 30 * DAY)
    zsk3 = Key(3, "zsk", 3, predecessor=2, states={"dnskey": ("rumoured", NOW - 10 * HOUR)},
               active=NOW + 16 * HOUR)
    return write_state(state_dir, [ksk, zsk2, zsk3]), (ksk, zsk2, zsk3)


def test_status_shows_states_waits_and_next_event(tmp_path):
    _, (ksk, zsk2, zsk3) = zsk_rollover_state(tmp_path)
    out = danezone("status", "--state-dir", tmp_path, "--now", rfc3339(NOW)).stdout
    assert "zone example.com.: policy policy-a" in out
    row = next(line for line in out.splitlines() if line.strip().startswith("#3 "))
    assert row.split()[1:] == [str(zsk3.tag()), "zsk", "ECDSAP256SHA256", "omnipresent",
                               "rumoured", "-", "hidden", "-"]
    # ZSK 3's DNSKEY is omnipresent 26h after its publication.
    due = rfc3339(NOW + 16 * HOUR)
    assert (f"next event: {due} (in 16h): key {zsk3.tag()} (#3) DNSKEY rumoured -> omnipresent"
            in out)
    # ZSK 2's signatures may not go before ZSK 3's DNSKEY is in every cache.
    assert (f"key {zsk2.tag()} (#2) ZRRSIG omnipresent -> unretentive: waiting until it is safe: "
            "a cached DNSKEY RRset would not authenticate cached zone data") in out


def test_status_of_unsigned_zone(tmp_path):
    (tmp_path / "keystate").mkdir()
    out = danezone("status", "example.org", "--state-dir", tmp_path).stdout
    assert "zone example.org.: no key state yet" in out


def plan_lines(out):
    """(time, text) of the event lines of a rollover plan."""
    events = []
    for line in out.splitlines():
        if line[:4].isdigit() and line[4] == "-":
            when, text = line.split("  ", 1)
            events.append((parse_rfc3339(when), text))
    return events


def test_rollover_plan_follows_policy_a(tmp_path):
    _, (ksk, zsk2, zsk3) = zsk_rollover_state(tmp_path)
    out = danezone("rollover", "plan", "example.com", "--state-dir", tmp_path,
                   "--now", rfc3339(NOW), "--until", rfc3339(NOW + 400 * HOUR),
                   "--gradual").stdout
    events = plan_lines(out)
    tag2, tag3 = zsk2.tag(), zsk3.tag()
    step2, step3 = NOW + 16 * HOUR, NOW + 16 * HOUR + 241 * HOUR
    expected = [
        (step2, f"zsk key {tag3} (#3) DNSKEY: rumoured -> omnipresent"),
        (step2, f"zsk key {tag3} (#3) ZRRSIG: hidden -> rumoured"),
        (step2, f"zsk key {tag2} (#2) ZRRSIG: omnipresent -> unretentive"),
        (step3, f"zsk key {tag3} (#3) ZRRSIG: rumoured -> omnipresent"),
        (step3, f"zsk key {tag2} (#2) ZRRSIG: unretentive -> hidden"),
        (step3, f"zsk key {tag2} (#2) DNSKEY: omnipresent -> unretentive"),
        (step3 + 2 * HOUR, f"zsk key {tag2} (#2) DNSKEY: unretentive -> hidden"),
        (step3 + 3 * HOUR, f"zsk key {tag2} (#2) is deleted from the token"),
    ]
    for event in expected:
        assert event in events, f"{event} missing from:\n{out}"
    assert all(t >= step2 for t, _ in events), out
    # With full re-signs when the keys change, the signing delay drops: 73h.
    out = danezone("rollover", "plan", "example.com", "--state-dir", tmp_path,
                   "--now", rfc3339(NOW), "--until", rfc3339(NOW + 400 * HOUR)).stdout
    assert (step2 + 73 * HOUR, f"zsk key {tag3} (#3) ZRRSIG: rumoured -> omnipresent") in \
        plan_lines(out)


def test_rollover_plan_rejects_bad_until(tmp_path):
    zsk_rollover_state(tmp_path)
    proc = danezone("rollover", "plan", "example.com", "--state-dir", tmp_path,
                    "--now", rfc3339(NOW), "--until", "yesterday", check=False)
    assert proc.returncode == 1
    assert "invalid time 'yesterday'" in proc.stderr


def ds_request_state(state_dir, requested):
    """KSK 1 with its DNSKEY in caches and its DS requested at `requested`; ZSK 2 steady."""
    ksk = Key(1, "ksk", 4, states={"dnskey": ("omnipresent", requested - DAY),
                                   "krrsig": ("omnipresent", requested - DAY),
                                   "ds": ("rumoured", requested)})
    zsk = Key(2, "zsk", 5, states={"dnskey": ("omnipresent", requested - DAY),
                                   "zrrsig": ("omnipresent", requested - DAY)})
    return write_state(state_dir, [ksk, zsk]), ksk


def test_ds_seen_records_and_rejects_early_times(tmp_path):
    requested = int(time.time()) - HOUR
    path, ksk = ds_request_state(tmp_path, requested)
    proc = danezone("key", "ds-seen", "example.com", str(ksk.tag()), "--when",
                    rfc3339(requested - 1), "--state-dir", tmp_path, check=False)
    assert proc.returncode == 1
    assert "is before the DS change was requested" in proc.stderr
    assert read_fields(path, 1)["ds-seen"] == "-"

    proc = danezone("key", "ds-gone", "example.com", "#1", "--state-dir", tmp_path, check=False)
    assert proc.returncode == 1
    assert "not waiting to be removed" in proc.stderr

    out = danezone("key", "ds-seen", "example.com", str(ksk.tag()), "--when",
                   rfc3339(requested + 60), "--state-dir", tmp_path).stdout
    assert read_fields(path, 1)["ds-seen"] == rfc3339(requested + 60)
    # The wait still applies after the observation: DprpP 1h + TTLds 1h.
    assert f"omnipresent in caches at {rfc3339(requested + 60 + 2 * HOUR)}" in out


def test_key_rollover_request(tmp_path):
    path, _ = zsk_rollover_state(tmp_path)
    when = int(time.time()) + DAY
    danezone("key", "rollover", "example.com", "--role", "ksk", "--when", rfc3339(when),
             "--state-dir", tmp_path)
    fields = read_fields(path, 1)
    assert fields["roll-at"] == rfc3339(when)
    assert fields["roll-force"] == "no"
    danezone("key", "rollover", "example.com", "#1", "--force", "--state-dir", tmp_path)
    assert read_fields(path, 1)["roll-force"] == "yes"
    # ZSK 2 is already being replaced.
    proc = danezone("key", "rollover", "example.com", "#2", "--state-dir", tmp_path, check=False)
    assert proc.returncode == 1
    assert "already being replaced" in proc.stderr
    proc = danezone("key", "rollover", "example.com", "--state-dir", tmp_path, check=False)
    assert proc.returncode == 2


def test_clock_ack_needs_a_freeze(tmp_path):
    zsk_rollover_state(tmp_path)
    proc = danezone("key", "clock-ack", "example.com", "--state-dir", tmp_path, check=False)
    assert proc.returncode == 1
    assert "not frozen" in proc.stderr


def test_check_config_rejects_short_lifetime(tmp_path):
    zone = tmp_path / "example.com.zone"
    zone.write_text("example.com. 3600 IN SOA ns1.example.com. h.example.com. 1 3600 900 "
                    "604800 300\nexample.com. 3600 IN NS ns1.example.com.\n")
    config = tmp_path / "danezone.yaml"
    config.write_text(f"""server:
  state-dir: {tmp_path}/state
policies:
  short:
    keys:
      - role: ksk
        algorithm: ECDSAP256SHA256
        lifetime: unlimited
      - role: zsk
        algorithm: ECDSAP256SHA256
        lifetime: 7d
    dnskey-ttl: 1h
    max-zone-ttl: 1d
    publish-safety: 1d
    retire-safety: 2d
    zone-propagation-delay: 1h
    signature-validity: 14d
    signature-refresh: 7d
zones:
  - name: example.com
    source: {zone}
    policy: short
""")
    proc = danezone("check-config", "-c", config, check=False)
    assert proc.returncode == 1
    # 26h to publish + 241h to retire + 2h for the old DNSKEY = 269h.
    assert "zsk lifetime 1w is shorter than a zsk rollover takes" in proc.stderr
    assert "the minimum is 1w4d5h" in proc.stderr


TSIG_NAME = "parent-key."
TSIG_SECRET = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI="


def start_parent(servers, folder, port, ds_lines):
    """NSD on 127.0.0.1:port serving com. with the delegation of example.com."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "com.zone"), "w") as f:
        f.write("$TTL 3600\n"
                "com. IN SOA a.gtld.test. h.test. 1 3600 900 604800 300\n"
                "com. IN NS a.gtld.test.\n"
                "example.com. IN NS ns1.example.com.\n"
                "ns1.example.com. IN A 127.0.0.1\n")
        for ds in ds_lines:
            f.write(f"example.com. 7200 IN DS {ds}\n")
    conf = os.path.join(folder, "nsd.conf")
    with open(conf, "w") as f:
        f.write(f"""server:
    ip-address: 127.0.0.1@{port}
    port: {port}
    username: ""
    chroot: ""
    zonesdir: "{folder}"
    database: ""
    pidfile: "{folder}/nsd.pid"
    xfrdfile: "{folder}/xfrd.state"
    zonelistfile: "{folder}/zone.list"
    logfile: "{folder}/nsd.log"
    server-count: 1
remote-control:
    control-enable: no
key:
    name: "{TSIG_NAME}"
    algorithm: hmac-sha256
    secret: "{TSIG_SECRET}"
zone:
    name: "com."
    zonefile: "com.zone"
""")
    run(["nsd-checkconf", conf])
    server = servers.start(["nsd", "-d", "-c", conf], os.path.join(folder, "nsd.stdout"))
    # Wait until NSD answers.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        probe = run(["dig", "+short", "+time=1", "+tries=1", "-p", str(port), "@127.0.0.1",
                     "com.", "SOA"], check=False)
        if probe.returncode == 0 and "a.gtld.test." in probe.stdout:
            return server
        time.sleep(0.1)
    pytest.fail(f"NSD did not start:\n{server.output()}")


def test_ds_check_records_what_every_server_serves(tmp_path, servers):
    requested = int(time.time()) - HOUR
    path, ksk = ds_request_state(tmp_path / "state", requested)
    with_ds, without_ds = free_port(), free_port()
    start_parent(servers, str(tmp_path / "parent1"), with_ds, [ksk.ds()])
    start_parent(servers, str(tmp_path / "parent2"), without_ds, [])

    out = danezone("key", "ds-check", "example.com", "--server", f"127.0.0.1@{with_ds}",
                   "--state-dir", tmp_path / "state").stdout
    assert f"127.0.0.1@{with_ds}: rcode 0, authoritative, 1 DS record, TTL 7200" in out
    assert "every parent server agrees" in out
    seen = read_fields(path, 1)["ds-seen"]
    assert seen != "-"
    assert parse_rfc3339(seen) >= requested

    # One of two servers lacks the DS: the observation is withdrawn and the server named.
    out = danezone("key", "ds-check", "example.com", "--server", f"127.0.0.1@{with_ds}",
                   "--server", f"127.0.0.1@{without_ds}", "--state-dir", tmp_path / "state").stdout
    assert f"127.0.0.1@{without_ds} does not serve the DS of key {ksk.tag()} (#1) yet" in out
    assert "and no longer does" in out
    assert read_fields(path, 1)["ds-seen"] == "-"


def test_ds_check_with_tsig_from_configuration(tmp_path, servers):
    requested = int(time.time()) - HOUR
    path, ksk = ds_request_state(tmp_path / "state", requested)
    port = free_port()
    start_parent(servers, str(tmp_path / "parent"), port, [ksk.ds()])
    zone = tmp_path / "example.com.zone"
    zone.write_text("example.com. 3600 IN SOA ns1.example.com. h.example.com. 1 3600 900 "
                    "604800 300\nexample.com. 3600 IN NS ns1.example.com.\n")

    def config(secret):
        path = tmp_path / "danezone.yaml"
        path.write_text(f"""server:
  state-dir: {tmp_path}/state
tsig:
  {TSIG_NAME.rstrip('.')}:
    algorithm: hmac-sha256
    secret: "{secret}"
zones:
  - name: example.com
    source: {zone}
    parent:
      servers: ["127.0.0.1@{port}"]
      tsig: {TSIG_NAME.rstrip('.')}
""")
        return path

    out = danezone("key", "ds-check", "example.com", "-c", config(TSIG_SECRET)).stdout
    assert f"127.0.0.1@{port}: rcode 0, authoritative, 1 DS record" in out
    assert read_fields(path, 1)["ds-seen"] != "-"

    # A wrong secret: the response cannot be trusted, and nothing is concluded.
    wrong = "d3Jvbmd3cm9uZ3dyb25nd3Jvbmd3cm9uZ3dyb25nMTI="
    out = danezone("key", "ds-check", "example.com", "-c", config(wrong)).stdout
    assert f"127.0.0.1@{port}: no answer" in out or "RCODE" in out, out
    assert "problem" in out
