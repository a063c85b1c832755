"""danezoned stops cleanly, and a restart (after a clean stop or kill -9)
keeps the published serial and the signatures that are still valid.
"""
import os
import signal
import time

from daemon_helpers import daemon  # noqa: F401 (fixture)


def rrset_count(axfr_text):
    """Distinct (owner, type) pairs that are not RRSIGs: the RRsets a full signing run signs."""
    pairs = set()
    for line in axfr_text.splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[3] != "RRSIG":
            pairs.add((fields[0], fields[3]))
    return len(pairs)


def test_sigterm_stops_cleanly(daemon):
    daemon.start()
    daemon.wait_serial(0)
    assert daemon.pidfile.read_text().strip() == str(daemon.proc.proc.pid)
    assert daemon.stop() == 0
    assert daemon.logged(r"notice: stopped$")
    assert not daemon.pidfile.exists()
    # The zone text file is at the committed serial after the stop.
    text = (daemon.state / "signed" / "example.net.zone").read_text()
    assert text.startswith("; danezone zone example.net. serial 1")


def test_restart_reuses_signatures(daemon):
    # Two signer processes, so that a batch is split between them.
    daemon.write_config(server_yaml="  signer-processes: 2\n")
    daemon.start()
    assert daemon.logged(r"2 signer processes")
    first = daemon.wait_serial(0)
    rrsets = rrset_count(daemon.axfr_text())
    made_first = daemon.signature_counts()[-1][1]
    assert made_first >= rrsets
    assert daemon.stop() == 0

    daemon.start()
    assert daemon.serial() == first
    daemon.wait_logged(r"signed \d+ RRsets")
    made_after_restart = sum(made for _, made in daemon.signature_counts())
    assert made_after_restart < rrsets // 4
    # The serial continues with the next change.
    daemon.write_source("example.net", extra="later A 127.0.0.9\n", atomic=True)
    assert daemon.wait_serial(first) == first + 1
    daemon.verify_zone()


def test_kill_restart_recovers(daemon):
    daemon.start()
    first = daemon.wait_serial(0)
    daemon.write_source("example.net", extra="more A 127.0.0.9\n", atomic=True)
    second = daemon.wait_serial(first)
    # Killed right after a diff: the snapshot and text file are still behind the journal.
    os.killpg(daemon.proc.proc.pid, signal.SIGKILL)
    daemon.proc.proc.wait(timeout=10)
    assert daemon.pidfile.exists()

    daemon.start()
    assert daemon.serial() == second
    axfr = daemon.verify_zone().read_text()
    assert "more.example.net." in axfr
    daemon.write_source("example.net", extra="more A 127.0.0.9\nagain A 127.0.0.10\n",
                        atomic=True)
    assert daemon.wait_serial(second) == second + 1
    daemon.verify_zone()


def test_kill_during_change_keeps_whole_version(daemon):
    """kill -9 at several moments after a large change, so that some kills
    land while it is signed or published: after each restart the served
    zone is the old or the new version, whole and signed."""
    daemon.start()
    served = daemon.wait_serial(0)
    extra = ""
    for step, delay in enumerate((0.05, 0.3, 1.0)):
        extra += "".join(f"k{step}-{i} A 192.0.2.{i % 250 + 1}\n" for i in range(800))
        daemon.write_source("example.net", extra=extra, atomic=True)
        time.sleep(delay)
        os.killpg(daemon.proc.proc.pid, signal.SIGKILL)
        daemon.proc.proc.wait(timeout=10)

        daemon.start()
        after_restart = daemon.serial()
        assert after_restart is not None and after_restart >= served
        daemon.verify_zone()
        # The restarted daemon finishes the change it read from the source.
        if after_restart == served:
            after_restart = daemon.wait_serial(served, timeout=60)
        axfr = daemon.verify_zone().read_text()
        assert f"k{step}-799.example.net." in axfr
        served = after_restart


def test_second_daemon_rejected(daemon):
    daemon.start()
    first = daemon.proc
    second = daemon.start(wait=False)
    second.proc.wait(timeout=30)
    assert second.proc.returncode == 2
    assert "holds the pidfile" in second.output()
    assert first.running()


def test_restart_with_broken_source(daemon):
    daemon.start()
    first = daemon.wait_serial(0)
    assert daemon.stop() == 0
    daemon.write_source("example.net", extra="broken A 999.1.1.1\n")
    daemon.start()
    line = daemon.wait_logged(r"zone source not loaded")[0]
    assert "example.net.zone" in line
    assert daemon.serial() == first
    daemon.verify_zone()
    daemon.write_source("example.net", extra="fixed A 127.0.0.8\n", atomic=True)
    assert daemon.wait_serial(first) == first + 1
    assert "fixed.example.net." in daemon.axfr_text()
