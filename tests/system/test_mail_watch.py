"""Watching certificate files: `danezone records --follow` runs the same
watcher and record engine as the daemon and prints each change."""
import os
import time

import pytest

from conftest import DANEZONE, wait_for
from mail_helpers import Pki, mailbox_label, sha256_hex, spki_of_cert, write_config


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return Pki(tmp_path_factory.mktemp("pki"))


class Follower:
    """Reads the output of `danezone records --follow` and keeps the record set it implies."""

    def __init__(self, server):
        self.server = server
        self.records = set()
        self.changes = 0
        self.lines_read = 0
        self.following = False

    def poll(self):
        lines = self.server.output().splitlines()
        # Log lines ("DATE danezone[PID]: ...") come in between; they start with neither.
        for line in lines[self.lines_read:]:
            if line == "; following":
                self.following = True
            elif line.startswith("; change "):
                self.changes += 1
            elif line.startswith("+ "):
                self.records.add(line[2:])
            elif line.startswith("- "):
                assert line[2:] in self.records, f"removal of a record never added: {line}"
                self.records.discard(line[2:])
            elif not self.following and " IN " in line and "danezone[" not in line:
                self.records.add(line)
        self.lines_read = len(lines)

    def wait_records(self, expected, what):
        def matches():
            self.poll()
            return self.records == expected
        wait_for(matches, timeout=20, what=f"{what}; have {sorted(self.records)}")

    def output(self):
        return self.server.output()


def tlsa_line(cert, host="mx1.example.net"):
    return f"_25._tcp.{host}. 3600 IN TLSA 3 1 1 {sha256_hex(spki_of_cert(cert))}"


def start_follow(servers, tmp_path, config):
    server = servers.start([DANEZONE, "records", "example.net", "-c", config, "--follow"],
                           tmp_path / "follow.log")
    wait_for(lambda: "; following" in server.output() or not server.running(),
             what="danezone records --follow to start")
    assert server.running(), server.output()
    follower = Follower(server)
    follower.poll()
    return follower


def atomic_write(path, data):
    temporary = f"{path}.tmp-write"
    with open(temporary, "wb") as f:
        f.write(data)
    os.rename(temporary, path)


def test_certbot_symlink_renewal(tmp_path, pki, servers):
    live = tmp_path / "letsencrypt" / "live" / "mx1"
    archive = tmp_path / "letsencrypt" / "archive" / "mx1"
    live.mkdir(parents=True)
    archive.mkdir(parents=True)
    key1 = pki.key("certbot-1", "ec")
    cert1, chain1 = pki.server("certbot-1", key1)
    (archive / "fullchain1.pem").write_text(open(chain1).read())
    os.symlink("../../archive/mx1/fullchain1.pem", live / "fullchain.pem")
    config = write_config(tmp_path, "mail:\n  hosts:\n    - name: mx1.example.net\n"
                          f"      certificates: [{live}/fullchain.pem]\n")
    follower = start_follow(servers, tmp_path, config)
    assert follower.records == {tlsa_line(cert1)}

    # Renewal with --reuse-key: a new certificate of the same key changes nothing.
    cert2, chain2 = pki.server("certbot-2", key1, start="20210101000000Z")
    (archive / "fullchain2.pem").write_text(open(chain2).read())
    os.symlink("../../archive/mx1/fullchain2.pem", live / "fullchain.pem.new-link")
    os.rename(live / "fullchain.pem.new-link", live / "fullchain.pem")

    # Renewal with a new key, swapped the same way: the new key replaces the old one.
    key3 = pki.key("certbot-3", "ec")
    cert3, chain3 = pki.server("certbot-3", key3)
    time.sleep(1)
    (archive / "fullchain3.pem").write_text(open(chain3).read())
    os.symlink("../../archive/mx1/fullchain3.pem", live / "fullchain.pem.new-link")
    os.rename(live / "fullchain.pem.new-link", live / "fullchain.pem")
    follower.wait_records({tlsa_line(cert3)}, "the new key after the symlink swap")
    # One change only: the same-key renewal before it changed no record.
    assert follower.changes == 1
    assert "which was not published before; DANE senders may fail" in follower.output()


def test_rename_truncation_and_deletion(tmp_path, pki, servers):
    live = tmp_path / "mx1.pem"
    key1 = pki.key("rename-1", "rsa")
    cert1, chain1 = pki.server("rename-1", key1)
    live.write_text(open(chain1).read())
    config = write_config(tmp_path, "mail:\n  hosts:\n    - name: mx1.example.net\n"
                          f"      certificates: [{live}]\n")
    follower = start_follow(servers, tmp_path, config)
    assert follower.records == {tlsa_line(cert1)}

    # Atomic replacement by rename.
    key2 = pki.key("rename-2", "ec")
    cert2, chain2 = pki.server("rename-2", key2)
    atomic_write(live, open(chain2, "rb").read())
    follower.wait_records({tlsa_line(cert2)}, "the renamed file's key")

    # A writer that truncates and has written only half: the records stay.
    changes = follower.changes
    data = open(chain1, "rb").read()
    with open(live, "wb") as f:
        f.write(data[: len(data) // 2])
    time.sleep(2.5)
    follower.poll()
    assert follower.records == {tlsa_line(cert2)}
    assert follower.changes == changes
    # ... and then finishes: the complete file is read.
    with open(live, "ab") as f:
        f.write(data[len(data) // 2:])
    follower.wait_records({tlsa_line(cert1)}, "the completed file's key")

    # Deletion removes the records.
    os.unlink(live)
    follower.wait_records(set(), "no records after deletion")


def test_smime_folder_changes(tmp_path, pki, servers):
    folder = tmp_path / "smime"
    folder.mkdir()
    config = write_config(tmp_path, f"mail:\n  smime-folders: [{folder}]\n")
    follower = start_follow(servers, tmp_path, config)
    assert follower.records == set()

    cert = pki.smime("watch-alice", pki.key("watch-alice", "ec"), emails=["alice@example.net"])
    # An editor's temporary file does not count; the file renamed into place does.
    (folder / ".alice.pem.swp").write_text("scratch")
    atomic_write(folder / "alice.pem", open(cert, "rb").read())
    owner = f"{mailbox_label('alice')}._smimecert.example.net."

    def has_alice():
        follower.poll()
        return any(line.startswith(owner) for line in follower.records)
    wait_for(has_alice, timeout=20, what="the SMIMEA record of a new certificate")
    os.unlink(folder / "alice.pem")
    follower.wait_records(set(), "no SMIMEA record after deletion")
