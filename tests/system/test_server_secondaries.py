"""NSD and BIND follow the zones that danezone publishes as a hidden primary.

Each secondary uses TSIG for transfers and NOTIFY.  After start it serves
the zone as signed by ldns-signzone, record by record; each new version
(a changed TLSA record, a TTL-only change, a new NSEC3 chain) reaches it
by IXFR after NOTIFY.  Versions are published in full, or as diffs that
only the journal holds until the snapshot is rewritten: then the primary's
own AXFR merges the snapshot with the journal.
"""
import os
import re

import pytest

from conftest import free_port, wait_for
from server_helpers import (KEY_NAME, KEY_SPEC, KEYRING, ZONE, ZoneSigner, axfr_records,  # noqa: F401
                            dz_serve, start_named, start_nsd, wait_for_serial, write_diff,
                            zone_records)

SECONDARIES = {"nsd": start_nsd, "bind": start_named}


def incremental_transfers(server, serial):
    """Number of IXFRs of `serial` that dz-serve sent from its journal."""
    return len(re.findall(rf"incremental IXFR of serial {serial} to .* queued", server.output()))


@pytest.mark.parametrize("path", ["full", "diff"])
@pytest.mark.parametrize("kind", sorted(SECONDARIES))
def test_secondary_receives_each_version(kind, path, tmp_path, servers, dz_serve):  # noqa: F811
    signer = ZoneSigner(tmp_path / "keys")
    versions = {
        1: signer.sign(1),
        2: signer.sign(2, tlsa="22" * 32),                                  # changed TLSA
        3: signer.sign(3, tlsa="22" * 32, mail_ttl=600),                    # TTL-only change
        4: signer.sign(4, tlsa="22" * 32, mail_ttl=600, salt="ccdd"),       # NSEC3 chain swap
    }
    port = free_port()
    primary = dz_serve(["--key", KEY_SPEC, "--allow-transfer", f"127.0.0.1 key {KEY_NAME}",
                        "--allow-notify", "127.0.0.1", "--notify-retry-ms", "500",
                        "--secondary", f"127.0.0.1@{port} key {KEY_NAME}"], versions[1])
    secondary, log = SECONDARIES[kind](servers, tmp_path / kind, primary.port, port)
    wait_for_serial(port, 1, kind)
    assert axfr_records(port) == zone_records(versions[1])

    for serial in (2, 3, 4):
        if path == "full":
            assert primary.publish(versions[serial]) == serial
        else:
            diff = write_diff(versions[serial - 1], versions[serial], tmp_path / f"diff{serial}")
            assert primary.diff(diff) == serial
        wait_for_serial(port, serial, kind)
        assert axfr_records(port) == zone_records(versions[serial]), f"{kind} differs at serial {serial}"
        # The primary's own AXFR: the snapshot merged with the journal in the diff path.
        assert axfr_records(primary.port, KEYRING, KEY_NAME) == zone_records(versions[serial])
        wait_for(lambda: incremental_transfers(primary, serial) >= 1, timeout=30,
                 what=f"an IXFR of serial {serial} in the dz-serve log")
        wait_for(lambda: f"NOTIFY for serial {serial} acknowledged by 127.0.0.1#{port}"
                 in primary.output(), timeout=30, what=f"NOTIFY of serial {serial} acknowledged")

    status = primary.status()
    assert status["serial"] == 4
    if path == "diff":
        # Only the journal moved; the rewrite brings the snapshot and zone text file up.
        assert status == {"serial": 4, "snapshot": 1, "text": 1, "pending": 3}
        assert primary.materialize() == 4
        assert primary.status() == {"serial": 4, "snapshot": 4, "text": 4, "pending": 0}
        assert axfr_records(primary.port, KEYRING, KEY_NAME) == zone_records(versions[4])
    text_file = os.path.join(primary.state, "example.com.zone")
    assert zone_records(text_file) == zone_records(versions[4])
    assert secondary.running(), secondary.output()
