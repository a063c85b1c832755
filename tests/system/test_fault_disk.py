"""Disk faults while danezoned publishes: nothing half-written, the old zone stays.

The zone's output folder (journal, snapshot and signed zone file) sits on
a small tmpfs that a test fills up, or becomes read-only through a
read-only bind mount.  A change of the zone source then cannot be
published.  The zone served during the fault must be the last good
version, checked with ldns-verify-zone, and the files must be whole: no
temporary file is left, and a new daemon serves the same serial from
them.  Once the fault ends, the change is published without a restart.

The change adds HOSTS names, so its journal entry is some 40 KiB with
signatures and NSEC3 records.  That is more than the free part of the
last page of a file, which an append on a full tmpfs may still use.
"""
import os

from fault_helpers import (Danezoned, assert_same_zone, certificates,  # noqa: F401
                           fill_file_system, leftover_temporary_files, mounts)

HOSTS = 150
PUBLISHED_NAMES = ["example.net.zone", "example.net.snapshot", "example.net.journal"]

# The daemon's log lines when publishing starts and stops failing.
PUBLISH_FAILED = r"zone example\.net: publication failed: .*(No space left on device|Read-only file system)"
PUBLISH_RECOVERED = r"zone example\.net: publication works again"


def assert_no_temporary_files(daemon, other_files=()):
    left = leftover_temporary_files(daemon.output_dir, PUBLISHED_NAMES + list(other_files))
    assert left == [], f"files left in {daemon.output_dir}: {left}"


def published_files(daemon):
    return {name: (daemon.output_dir / name).read_bytes() for name in PUBLISHED_NAMES}


def publish_during_fault(daemon, other_files=()):
    """Change the source while the fault is in place; returns the zone served before."""
    before = daemon.transfer("before")
    daemon.add_hosts(HOSTS)
    daemon.wait_log(PUBLISH_FAILED, what="the publication error in the log")
    assert_same_zone(daemon.transfer("during"), before, "during the fault")
    assert_no_temporary_files(daemon, other_files)
    return before


def check_change_published(daemon, before):
    """The zone served is the changed one, newer than `before`."""
    daemon.wait_serial(lambda s: s != before.serial, timeout=60,
                       what="the change to be published after the fault")
    after = daemon.transfer("after")
    assert after.serial > before.serial
    last = HOSTS - 1
    assert after.rdatas(f"host{last}.example.net.", "A") == [f"192.0.2.{last % 250 + 1}"]


def test_disk_full_during_publication(softhsm, tmp_path, mounts, servers,  # noqa: F811
                                      certificates):  # noqa: F811
    signed = tmp_path / "signed"
    mounts.tmpfs(signed, "2m")
    daemon = Danezoned(tmp_path, servers, softhsm, certificates[0], output_dir=signed)
    daemon.start()
    filler = signed / "filler"
    assert fill_file_system(filler) > 0
    before = publish_during_fault(daemon, ["filler"])

    # The journal is intact: a new daemon serves the same version from it,
    # and fails to publish the change in the same way.
    assert daemon.stop() == 0, daemon.log()
    daemon.start()
    assert_same_zone(daemon.transfer("restarted"), before, "after a restart on a full disk")
    daemon.wait_log(PUBLISH_FAILED, what="the publication error after the restart")
    assert_no_temporary_files(daemon, ["filler"])

    os.unlink(filler)
    check_change_published(daemon, before)
    daemon.wait_log(PUBLISH_RECOVERED, what="the end of the publication error in the log")
    assert len(daemon.log_lines(PUBLISH_FAILED)) == 1, daemon.log()
    assert len(daemon.log_lines(PUBLISH_RECOVERED)) == 1, daemon.log()
    assert daemon.stop() == 0, daemon.log()
    assert_no_temporary_files(daemon)


def test_read_only_state_folder(softhsm, tmp_path, mounts, servers,  # noqa: F811
                                certificates):  # noqa: F811
    daemon = Danezoned(tmp_path, servers, softhsm, certificates[0])
    daemon.start()
    mounts.read_only(daemon.output_dir)
    before = publish_during_fault(daemon)

    # The end of the fault is seen by the next try, without a restart.
    mounts.writable(daemon.output_dir)
    check_change_published(daemon, before)
    daemon.wait_log(PUBLISH_RECOVERED, what="the end of the publication error in the log")
    assert len(daemon.log_lines(PUBLISH_FAILED)) == 1, daemon.log()
    assert len(daemon.log_lines(PUBLISH_RECOVERED)) == 1, daemon.log()
    assert daemon.stop() == 0, daemon.log()
    assert_no_temporary_files(daemon)


def test_read_only_state_folder_at_start(softhsm, tmp_path, mounts, servers,  # noqa: F811
                                         certificates):  # noqa: F811
    daemon = Danezoned(tmp_path, servers, softhsm, certificates[0])
    daemon.start()
    before = daemon.transfer("before")
    assert daemon.stop() == 0, daemon.log()
    files = published_files(daemon)
    mounts.read_only(daemon.output_dir)

    # A journal that cannot be opened for writing is left alone: the daemon
    # does not start, names the journal and the cause, and changes no file.
    daemon.start(wait=False)
    assert daemon.wait_exit() == 2, daemon.log()
    journal = daemon.output_dir / "example.net.journal"
    assert f"cannot open journal {journal}: Read-only file system" in daemon.log()
    assert "starting a new journal" not in daemon.log()
    assert published_files(daemon) == files

    mounts.writable(daemon.output_dir)
    daemon.start()
    assert_same_zone(daemon.transfer("after"), before, "after the folder is writable again")
    assert daemon.stop() == 0, daemon.log()
