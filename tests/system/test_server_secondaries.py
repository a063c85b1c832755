"""NSD and BIND follow the zones that danezone publishes as a hidden primary.

Each secondary uses TSIG for transfers and NOTIFY.  After start it serves
the zone as signed by ldns-signzone, record by record; each new version
(a changed TLSA record, a TTL-only change, a new NSEC3 chain) reaches it
by IXFR after NOTIFY.
"""
import re

import pytest

from conftest import free_port, wait_for
from server_helpers import (KEY_NAME, KEY_SPEC, ZoneSigner, axfr_records, dz_serve,  # noqa: F401
                            start_named, start_nsd, wait_for_serial, zone_records)

SECONDARIES = {"nsd": start_nsd, "bind": start_named}


def incremental_transfers(server, serial):
    """Number of IXFRs of `serial` that dz-serve sent from its journal."""
    return len(re.findall(rf"IXFR of serial {serial} to .* incremental from the journal",
                          server.output()))


@pytest.mark.parametrize("kind", sorted(SECONDARIES))
def test_secondary_receives_each_version(kind, tmp_path, servers, dz_serve):  # noqa: F811
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
        assert primary.publish(versions[serial]) == serial
        wait_for_serial(port, serial, kind)
        assert axfr_records(port) == zone_records(versions[serial]), f"{kind} differs at serial {serial}"
        wait_for(lambda: incremental_transfers(primary, serial) >= 1, timeout=30,
                 what=f"an IXFR of serial {serial} in the dz-serve log")
        wait_for(lambda: f"NOTIFY for serial {serial} acknowledged by 127.0.0.1#{port}"
                 in primary.output(), timeout=30, what=f"NOTIFY of serial {serial} acknowledged")
    assert secondary.running(), secondary.output()
