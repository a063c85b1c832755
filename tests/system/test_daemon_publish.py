"""danezoned signs, publishes and serves a zone, and turns each change of a
certificate or the zone source into one new serial whose IXFR is the diff.

Expected records come from openssl (TLSA digests), dnspython (transfers)
and ldns-verify-zone (DNSSEC validity of the transferred zone).
"""
import os

from daemon_helpers import daemon, make_certificate, tlsa_3_1_1  # noqa: F401 (fixture)


def test_daemon_signs_and_serves(daemon):
    daemon.start()
    serial = daemon.wait_serial(0)
    assert serial == 1
    text = daemon.verify_zone()
    axfr = text.read_text()
    tlsa = tlsa_3_1_1(daemon.cert)
    assert f"_25._tcp.mx1.example.net. 3600 IN TLSA {tlsa}" in axfr
    assert "IN RRSIG TLSA 13 5 3600" in axfr
    assert " IN DNSKEY 257 3 13 " in axfr
    # The text file reaches the committed serial after the idle delay.
    daemon.wait_logged(r"zone file .*example.net.zone at serial 1")


def test_certificate_change_is_one_ixfr(daemon):
    daemon.start()
    first = daemon.wait_serial(0)
    old_tlsa = tlsa_3_1_1(daemon.cert)
    new_cert = make_certificate(str(daemon.certs), "mx1-renewed")
    new_tlsa = tlsa_3_1_1(new_cert)
    os.replace(new_cert, daemon.cert)

    second = daemon.wait_serial(first)
    assert second == first + 1
    ixfr = daemon.ixfr("example.net", first)
    # RFC 1995: new SOA, old SOA, removed RRs, new SOA, added RRs, new SOA.
    soas = [i for i, rr in enumerate(ixfr) if rr[2] == "SOA"]
    assert len(soas) == 4, ixfr
    removed = ixfr[soas[1] + 1:soas[2]]
    added = ixfr[soas[2] + 1:soas[3]]
    data_removed = [rr for rr in removed if rr[2] not in ("RRSIG",)]
    data_added = [rr for rr in added if rr[2] not in ("RRSIG",)]
    owner = "_25._tcp.mx1.example.net."
    assert data_removed == [(owner, 3600, "TLSA", old_tlsa)]
    assert data_added == [(owner, 3600, "TLSA", new_tlsa)]
    # Only the TLSA RRset and the SOA are signed again.
    covered = sorted(rr[3].split()[0] for rr in added if rr[2] == "RRSIG")
    assert covered == ["SOA", "TLSA"]
    daemon.verify_zone()
    assert len(daemon.logged(r"notice: zone example.net: published serial")) == 2


def test_zone_source_change(daemon):
    daemon.start()
    first = daemon.wait_serial(0)
    daemon.write_source("example.net", extra="extra A 127.0.0.7\n", atomic=True)
    second = daemon.wait_serial(first)
    assert second == first + 1
    added = [rr for rr in daemon.ixfr("example.net", first) if rr[2] == "A"]
    assert added == [("extra.example.net.", 3600, "A", "127.0.0.7")]
    daemon.verify_zone()


def test_bad_zone_source_keeps_zone(daemon):
    daemon.start()
    first = daemon.wait_serial(0)
    daemon.write_source("example.net", extra="broken A 999.1.1.1\n", atomic=True)
    line = daemon.wait_logged(r"zone source not loaded")[0]
    assert "example.net.zone" in line
    assert daemon.serial() == first
    daemon.verify_zone()
    # Repairing the file publishes it.
    daemon.write_source("example.net", extra="fixed A 127.0.0.8\n", atomic=True)
    assert daemon.wait_serial(first) == first + 1
    daemon.wait_logged(r"zone source .* loaded again")


def test_publish_hook_gets_zone_and_serial(daemon):
    record = daemon.tmp / "hook.out"
    text = daemon.config.read_text().replace(
        "    secondaries: [local]\n",
        "    secondaries: [local]\n"
        f"    publish-hook: echo \"$DZ_ZONE $DZ_SERIAL\" >> {record}\n", 1)
    daemon.config.write_text(text)
    daemon.start()
    first = daemon.wait_serial(0)
    daemon.wait_logged(r"publish hook for serial 1 exited with status 0")
    daemon.write_source("example.net", extra="hooked A 127.0.0.5\n", atomic=True)
    second = daemon.wait_serial(first)
    daemon.wait_logged(rf"publish hook for serial {second} exited with status 0")
    assert record.read_text().splitlines() == [f"example.net {first}", f"example.net {second}"]


def test_bad_certificate_keeps_tlsa(daemon):
    daemon.start()
    first = daemon.wait_serial(0)
    tlsa = tlsa_3_1_1(daemon.cert)
    with open(daemon.cert, "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    daemon.wait_logged(r"mx1\.pem", count=1)
    lines = daemon.wait_logged(r"(error|warning): .*mx1\.pem")
    assert lines
    assert daemon.serial() == first
    assert f"TLSA {tlsa}" in daemon.axfr_text()
