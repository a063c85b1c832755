"""HSM faults while danezoned runs: the last good zone stays served.

The PKCS#11 shim module (tests/system/p11shim.c) forwards to SoftHSM2 and
fails C_Sign, or hides the token, while a flag file exists.  In one test
SoftHSM2 itself loses the token: an empty tmpfs hides its token folder.
Each test transfers the zone before, during and after the fault and
checks it with ldns-verify-zone.
"""
import os
import re
import time

import pytest

from fault_helpers import (Danezoned, assert_same_zone, certificates, mounts,  # noqa: F401
                           tlsa_rdata)
from hsm_helpers import P11_SHIM, key, sign

# How long a fault lasts before the test ends it: long enough for the
# daemon's retries (1 s, then doubled) to fail a few times.
FAULT_SECONDS = 4

# The daemon's log lines when signing of the zone starts and stops failing.
SIGN_FAILED = r"zone example\.net: DNSSEC, signing failed: "
SIGN_RECOVERED = r"zone example\.net: DNSSEC, signing works again"


def published_files(folder):
    """Contents of every file in the output folder, by name."""
    return {name: (folder / name).read_bytes() for name in sorted(os.listdir(folder))}


def test_shim_fails_sign_while_flag_exists(softhsm, tmp_path):
    out = key(softhsm, tmp_path, "generate", "--zone", "example.com", "--role", "zsk",
              "--algorithm", "ECDSAP256SHA256").stdout
    key_id = re.search(r", id ([0-9a-f]+)$", out, re.M).group(1)
    flag = tmp_path / "sign-fails"
    env = {"DZ_SHIM_MODULE": softhsm.module, "DZ_SHIM_SIGN_FAIL_FILE": str(flag)}

    flag.touch()
    proc, signatures = sign(softhsm, key_id, "ECDSAP256SHA256", [b"one"], module=P11_SHIM,
                            env=env)
    assert signatures == [None], proc.stdout + proc.stderr
    assert "CKR_DEVICE_ERROR" in proc.stderr

    flag.unlink()
    proc, signatures = sign(softhsm, key_id, "ECDSAP256SHA256", [b"one", b"two"],
                            module=P11_SHIM, env=env)
    assert proc.returncode == 0, proc.stderr
    assert all(s is not None for s in signatures)


@pytest.mark.parametrize("fault", ["missing", "not-a-library"])
def test_module_missing_at_start(softhsm, tmp_path, servers, certificates, fault):  # noqa: F811
    daemon = Danezoned(tmp_path, servers, softhsm, certificates[0])
    daemon.start()
    before = daemon.transfer("before")
    assert daemon.stop() == 0
    files = published_files(daemon.output_dir)

    if fault == "missing":
        # The configuration names a file that is gone: a configuration error.
        module = "/nonexistent/libpkcs11.so"
        expected_status = 1
        expected = f"hsm.token.module: file {module} not found"
    else:
        # The file is there but is no library, as after a broken upgrade.
        module = str(tmp_path / "libbroken.so")
        (tmp_path / "libbroken.so").write_text("not a library\n")
        expected_status = 2
        expected = f"cannot load PKCS#11 module {module}"
    config = daemon.config.read_text()
    daemon.config.write_text(config.replace(f"module: {softhsm.module}", f"module: {module}"))
    daemon.start(wait=False)
    status = daemon.wait_exit()

    log = daemon.log()
    assert status == expected_status, log
    assert expected in log
    assert not re.search(r"\bstarted: ", log)
    assert published_files(daemon.output_dir) == files

    # The published zone is whole: the daemon starts from it again.
    daemon.config.write_text(config)
    daemon.start()
    assert_same_zone(daemon.transfer("after"), before, "after a failed start")


def run_hsm_fault(daemon, certificates, start_fault, end_fault):  # noqa: F811
    """Start the fault, change the certificate, end the fault.

    Checks the zone served at each stage and that the fault's start and end
    are each logged once.
    """
    daemon.start()
    before = daemon.transfer("before")
    assert before.tlsa() == [tlsa_rdata(certificates[0])]

    start_fault()
    daemon.set_certificate(certificates[1])
    daemon.wait_log(SIGN_FAILED, what="the HSM failure in the log")
    assert_same_zone(daemon.transfer("during"), before, "during the fault")

    # Retries fail meanwhile; the zone stays, and the failure is not logged again.
    time.sleep(FAULT_SECONDS)
    failures_seen = len(daemon.log_lines(SIGN_FAILED))
    assert_same_zone(daemon.transfer("during-2"), before, "while retries fail")

    end_fault()
    daemon.wait_serial(lambda s: s != before.serial, timeout=60,
                       what="the certificate change to be published after the fault")
    after = daemon.transfer("after")
    assert after.tlsa() == [tlsa_rdata(certificates[1])]
    daemon.wait_log(SIGN_RECOVERED, what="the end of the HSM failure in the log")
    assert failures_seen == 1
    assert len(daemon.log_lines(SIGN_FAILED)) == 1, daemon.log()
    assert len(daemon.log_lines(SIGN_RECOVERED)) == 1, daemon.log()
    assert daemon.stop() == 0


def test_sign_fails_mid_run(softhsm, tmp_path, servers, certificates):  # noqa: F811
    flag = tmp_path / "sign-fails"
    daemon = Danezoned(tmp_path, servers, softhsm, certificates[0], module=P11_SHIM,
                       env={"DZ_SHIM_SIGN_FAIL_FILE": str(flag)})
    run_hsm_fault(daemon, certificates, flag.touch, flag.unlink)


def test_token_removed_mid_run(softhsm, tmp_path, servers, certificates):  # noqa: F811
    flag = tmp_path / "token-removed"
    daemon = Danezoned(tmp_path, servers, softhsm, certificates[0], module=P11_SHIM,
                       env={"DZ_SHIM_REMOVED_FILE": str(flag)})
    run_hsm_fault(daemon, certificates, flag.touch, flag.unlink)


def test_token_folder_hidden_mid_run(softhsm, tmp_path, mounts, servers,  # noqa: F811
                                     certificates):  # noqa: F811
    """SoftHSM2 itself loses its token: an empty tmpfs hides the token folder.

    As root a chmod would not make the folder unreadable, so a mount does.
    """
    daemon = Danezoned(tmp_path, servers, softhsm, certificates[0])
    run_hsm_fault(daemon, certificates, lambda: mounts.tmpfs(softhsm.tokens, "1m"),
                  lambda: mounts.unmount(softhsm.tokens))
