"""Publication survives kill -9 at any moment.

dz-serve publishes a new version while the test kills it after a varying
delay, then restarts it on the same state folder.  The zone file,
snapshot and journal must agree: the server serves the old or the new
version and, once dz-serve has brought the files up at start-up, the zone
text file has the same serial.  When the new version was committed, IXFR
from the old serial is incremental.  Versions are published in full, or
as a diff followed by the rewrite of the snapshot and text file.
"""
import os
import signal
import time

import dns.query
import dns.rdatatype
import pytest

from server_helpers import (DzServe, ZONE, ZoneSigner, axfr_records, soa_serial, write_diff,
                            zone_records)


ARGS = ["--allow-transfer", "127.0.0.1", "--allow-query", "127.0.0.1"]


def text_serial(state):
    with open(os.path.join(state, "example.com.zone")) as f:
        first = f.readline().split()
    return int(first[-1])


def ixfr_soa_serials(port):
    messages = dns.query.xfr("127.0.0.1", ZONE, rdtype="IXFR", serial=1, port=port,
                             relativize=False, timeout=10)
    return [rdata.serial for message in messages for rrset in message.answer
            if rrset.rdtype == dns.rdatatype.SOA for rdata in rrset]


@pytest.mark.parametrize("path", ["full", "diff"])
def test_kill_during_publication(tmp_path, path):
    signer = ZoneSigner(tmp_path / "keys")
    v1 = signer.sign(1, hosts=500)
    v2 = signer.sign(2, hosts=500, tlsa="22" * 32)
    diff = write_diff(v1, v2, tmp_path / "diff12")
    commands = f"publish {v2}\n" if path == "full" else f"diff {diff}\nmaterialize\n"
    outcomes = set()
    # Publication takes from milliseconds to seconds depending on the disk, so
    # the delays spread the kills over it; either outcome must be consistent.
    for attempt, delay in enumerate((0.0, 0.02, 0.1, 0.5, 2.0)):
        run_dir = tmp_path / f"run{attempt}"
        run_dir.mkdir()
        server = DzServe(run_dir, ARGS, v1)
        assert soa_serial(server.port) == 1
        server.proc.stdin.write(commands)
        server.proc.stdin.flush()
        time.sleep(delay)
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait(timeout=10)
        server.log.close()

        restarted = DzServe(run_dir, ARGS)
        try:
            serial = soa_serial(restarted.port)
            assert serial in (1, 2), f"attempt {attempt}: serial {serial}"
            outcomes.add(serial)
            assert text_serial(restarted.state) == serial
            assert axfr_records(restarted.port) == zone_records(v1 if serial == 1 else v2)
            leftovers = [name for name in os.listdir(restarted.state) if ".tmp." in name]
            assert leftovers == []
            if serial == 2:
                # Incremental (RFC 1995 section 4): new SOA, old SOA, new SOA, new SOA.
                assert ixfr_soa_serials(restarted.port) == [2, 1, 2, 2]
            # Publishing goes on from whatever version survived.
            if serial == 1:
                assert (restarted.publish(v2) if path == "full" else restarted.diff(diff)) == 2
                assert axfr_records(restarted.port) == zone_records(v2)
        finally:
            assert restarted.stop() == 0
    print(f"serials after the kills: {sorted(outcomes)}")
