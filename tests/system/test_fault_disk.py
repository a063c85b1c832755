"""Disk faults while danezoned publishes: nothing half-written, the old zone stays.

The state folder (key state, journal, snapshot and signed zone file) sits
on a small tmpfs that a test fills up, or becomes read-only through a
read-only bind mount.  A certificate change then cannot be published.  The
zone served during the fault, and after a restart during the fault, must be
the last good version, checked with ldns-verify-zone.  Once the fault ends,
the change must be published without a restart.
"""
import os

from fault_helpers import (Danezoned, assert_same_zone, certificates,  # noqa: F401
                           fill_file_system, leftover_temporary_files, mounts, tlsa_rdata)

# The daemon's log lines when publishing starts and stops failing.
PUBLISH_FAILED = r"zone example\.net: publication failed: .*(No space left on device|Read-only file system)"
PUBLISH_RECOVERED = r"zone example\.net: publication works again"


def published_names(daemon):
    """Files of a published zone (signer/publish.h) in the output folder."""
    return ["example.net.zone", "example.net.snapshot", "example.net.journal"]


def assert_no_temporary_files(daemon):
    left = leftover_temporary_files(daemon.output_dir, published_names(daemon))
    assert left == [], f"files left in {daemon.output_dir}: {left}"


def check_fault(daemon, certificates, end_fault, what):  # noqa: F811
    """Publish a certificate change during a fault, restart, end the fault.

    The daemon is running and the fault is in place.
    """
    before = daemon.transfer("before")
    assert before.tlsa() == [tlsa_rdata(certificates[0])]
    daemon.set_certificate(certificates[1])
    daemon.wait_log(PUBLISH_FAILED, what=f"the {what} error in the log")
    assert_same_zone(daemon.transfer("during"), before, f"during the {what}")
    assert_no_temporary_files(daemon)

    # The journal is intact: a new daemon serves the same version from it.
    assert daemon.stop() == 0, daemon.log()
    daemon.start()
    assert_same_zone(daemon.transfer("restarted"), before, f"after a restart during the {what}")
    assert_no_temporary_files(daemon)

    end_fault()
    daemon.wait_serial(lambda s: s != before.serial, timeout=60,
                       what=f"the change to be published after the {what}")
    after = daemon.transfer("after")
    assert after.tlsa() == [tlsa_rdata(certificates[1])]
    daemon.wait_log(PUBLISH_RECOVERED, what=f"the end of the {what} in the log")
    assert len(daemon.log_lines(PUBLISH_FAILED)) == 1, daemon.log()
    assert daemon.stop() == 0, daemon.log()
    assert_no_temporary_files(daemon)


def test_disk_full_during_publication(softhsm, tmp_path, servers, certificates,  # noqa: F811
                                      mounts):  # noqa: F811
    state = tmp_path / "state"
    mounts.tmpfs(state, "4m")
    daemon = Danezoned(tmp_path, servers, softhsm, certificates[0], state_dir=state,
                       output_dir=state / "signed")
    daemon.start()
    filler = state / "filler"
    assert fill_file_system(filler) > 0

    check_fault(daemon, certificates, lambda: os.unlink(filler), "full disk")


def test_read_only_state_folder(softhsm, tmp_path, servers, certificates,  # noqa: F811
                                mounts):  # noqa: F811
    daemon = Danezoned(tmp_path, servers, softhsm, certificates[0])
    daemon.start()
    mounts.read_only(daemon.output_dir)

    check_fault(daemon, certificates, lambda: mounts.unmount(daemon.output_dir),
                "read-only folder")
