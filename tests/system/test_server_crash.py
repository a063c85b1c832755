"""Publication survives kill -9 at any moment.

dz-serve publishes a new version while the test kills it after a varying
delay, then restarts it on the same state folder.  The zone file,
snapshot and journal must agree: the server serves the old or the new
version and the zone text file has the same serial.  When the new version
was committed, IXFR from the old serial is incremental.
"""
import os
import signal
import time

import dns.query
import dns.rdatatype

from server_helpers import DzServe, ZONE, ZoneSigner, axfr_records, soa_serial, zone_records


def text_serial(state):
    with open(os.path.join(state, "example.com.zone")) as f:
        first = f.readline().split()
    return int(first[-1])


def test_kill_during_publication(tmp_path):
    signer = ZoneSigner(tmp_path / "keys")
    v1 = signer.sign(1, hosts=500)
    v2 = signer.sign(2, hosts=500, tlsa="22" * 32)
    outcomes = set()
    # Publication takes from milliseconds to seconds depending on the disk, so
    # the delays spread the kills over it; either outcome must be consistent.
    for attempt, delay in enumerate((0.0, 0.02, 0.1, 0.5, 2.0)):
        run_dir = tmp_path / f"run{attempt}"
        run_dir.mkdir()
        server = DzServe(run_dir, ["--allow-transfer", "127.0.0.1"], v1)
        assert soa_serial(server.port) == 1
        server.proc.stdin.write(f"publish {v2}\n")
        server.proc.stdin.flush()
        time.sleep(delay)
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait(timeout=10)
        server.log.close()

        restarted = DzServe(run_dir, ["--allow-transfer", "127.0.0.1"])
        try:
            serial = soa_serial(restarted.port)
            assert serial in (1, 2), f"attempt {attempt}: serial {serial}"
            outcomes.add(serial)
            assert text_serial(restarted.state) == serial
            assert axfr_records(restarted.port) == zone_records(v1 if serial == 1 else v2)
            leftovers = [name for name in os.listdir(restarted.state) if ".tmp." in name]
            assert leftovers == []
            if serial == 2:
                messages = dns.query.xfr("127.0.0.1", ZONE, rdtype="IXFR", serial=1,
                                         port=restarted.port, relativize=False, timeout=10)
                serials = [rdata.serial for message in messages for rrset in message.answer
                           if rrset.rdtype == dns.rdatatype.SOA for rdata in rrset]
                # Incremental (RFC 1995 section 4): new SOA, old SOA, new SOA, new SOA.
                assert serials == [2, 1, 2, 2]
            # Publishing goes on from whatever version survived.
            if serial == 1:
                assert restarted.publish(v2) == 2
        finally:
            assert restarted.stop() == 0
    print(f"serials after the kills: {sorted(outcomes)}")
