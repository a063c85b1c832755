"""Each failure of the token has a message that names its cause.

Failures that SoftHSM2 cannot produce (a full token, a token without
EdDSA, a token removed while signing) come from a PKCS#11 shim module that
forwards every call to SoftHSM2 and fails the calls a test selects.
"""
import os
import re
import subprocess

from conftest import DANEZONE, run, wait_for
from hsm_helpers import P11_SHIM, SIGN_DRIVER, key, sign


def shim_env(softhsm, **faults):
    env = {"DZ_SHIM_MODULE": softhsm.module}
    env.update({name: str(value) for name, value in faults.items()})
    return env


def failing(softhsm, state, *args, env=None, module=None):
    """Run `danezone key ARGS`, expect exit status 1 and return stderr."""
    proc = key(softhsm, state, *args, check=False, env=env, module=module)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    return proc.stderr


def test_missing_module(softhsm, tmp_path):
    err = failing(softhsm, tmp_path, "list", module="/nonexistent/libpkcs11.so")
    assert "PKCS#11 module /nonexistent/libpkcs11.so cannot be read" in err
    assert "--module" in err


def test_text_file_is_not_a_module(softhsm, tmp_path):
    fake = tmp_path / "libfake.so"
    fake.write_text("not a library\n")
    err = failing(softhsm, tmp_path, "list", module=str(fake))
    assert f"cannot load PKCS#11 module {fake}" in err


def test_library_without_pkcs11_interface(softhsm, tmp_path):
    # libcrypto, as danezone itself links it, is a library but no PKCS#11 module.
    ldd = run(["ldd", DANEZONE]).stdout
    libcrypto = re.search(r"libcrypto\.so\S* => (\S+)", ldd).group(1)
    err = failing(softhsm, tmp_path, "list", module=libcrypto)
    assert f"{libcrypto} is not a PKCS#11 module" in err
    assert "C_GetFunctionList" in err


def test_unknown_token_lists_tokens(softhsm, tmp_path):
    proc = run([DANEZONE, "key", "list", "--module", softhsm.module, "--token", "nope",
                "--pin-file", softhsm.pin_file, "--state-dir", tmp_path], check=False,
               env=softhsm.env)
    assert proc.returncode == 1
    assert "token 'nope' not found" in proc.stderr
    assert f"tokens present: '{softhsm.label}' (serial " in proc.stderr


def test_wrong_pin(softhsm, tmp_path):
    wrong = tmp_path / "wrong.pin"
    wrong.write_text("86420975\n")
    wrong.chmod(0o600)
    proc = run([DANEZONE, "key", "list", "--module", softhsm.module, "--token", softhsm.label,
                "--pin-file", wrong, "--state-dir", tmp_path], check=False, env=softhsm.env)
    assert proc.returncode == 1
    assert f"login to token '{softhsm.label}' failed: wrong PIN in {wrong}" in proc.stderr
    assert "does not retry" in proc.stderr
    assert "86420975" not in proc.stderr + proc.stdout


def test_pin_file_readable_by_others(softhsm, tmp_path):
    os.chmod(softhsm.pin_file, 0o644)
    err = failing(softhsm, tmp_path, "list")
    assert f"PIN file: {softhsm.pin_file} is accessible by group or others (mode 0644)" in err
    assert f"chmod 600 {softhsm.pin_file}" in err
    assert softhsm.pin not in err.replace(softhsm.pin_file, "")


def test_pin_value_in_uri_rejected(softhsm, tmp_path):
    proc = run([DANEZONE, "key", "list", "--module", softhsm.module, "--token",
                f"pkcs11:token={softhsm.label};pin-value=24680", "--state-dir", tmp_path],
               check=False, env=softhsm.env)
    assert proc.returncode == 1
    assert "contains pin-value" in proc.stderr
    assert "pin-source" in proc.stderr


def test_key_not_found(softhsm, tmp_path):
    err = failing(softhsm, tmp_path, "export-dnskey", "--id", "deadbeef")
    assert "no registered key with id deadbeef" in err
    err = failing(softhsm, tmp_path, "delete", "--id", "deadbeef")
    assert f"no private key with CKA_ID deadbeef in token '{softhsm.label}'" in err
    err = failing(softhsm, tmp_path, "import", "--zone", "example.com", "--role", "zsk",
                  "--label", "no such key")
    assert f"no private key labelled 'no such key' in token '{softhsm.label}'" in err


def test_mechanism_not_supported(softhsm, tmp_path):
    err = failing(softhsm, tmp_path, "generate", "--zone", "example.com", "--role", "csk",
                  "--algorithm", "ED25519", module=P11_SHIM,
                  env=shim_env(softhsm, DZ_SHIM_HIDE_EDDSA=1))
    assert (f"token '{softhsm.label}' does not support CKM_EC_EDWARDS_KEY_PAIR_GEN, "
            "which ED25519 keys need") in err
    assert "it offers CKM_RSA_PKCS_KEY_PAIR_GEN" in err
    assert "CKM_ECDSA" in err


def test_curve_too_large_for_token(softhsm, tmp_path):
    env = shim_env(softhsm, DZ_SHIM_EDWARDS_MAX_BITS=256)
    err = failing(softhsm, tmp_path, "generate", "--zone", "example.com", "--role", "csk",
                  "--algorithm", "ED448", module=P11_SHIM, env=env)
    assert (f"token '{softhsm.label}' offers CKM_EC_EDWARDS_KEY_PAIR_GEN for curves of at "
            "most 256 bits, so it cannot generate ED448 keys (448 bits)") in err
    # Ed25519 fits, and the same token still makes it.
    key(softhsm, tmp_path, "generate", "--zone", "example.com", "--role", "csk",
        "--algorithm", "ED25519", module=P11_SHIM, env=env)


def test_token_full(softhsm, tmp_path):
    err = failing(softhsm, tmp_path, "generate", "--zone", "example.com", "--role", "ksk",
                  "--algorithm", "ECDSAP256SHA256", module=P11_SHIM,
                  env=shim_env(softhsm, DZ_SHIM_DEVICE_MEMORY=1))
    assert (f"token '{softhsm.label}' has no room for another ECDSAP256SHA256 key pair: "
            "CKR_DEVICE_MEMORY; the token is full") in err
    audit = key(softhsm, tmp_path, "audit").stdout
    assert "command=generate" in audit
    assert 'result="failed: token' in audit


def test_token_removed_while_signing(softhsm, tmp_path):
    out = key(softhsm, tmp_path, "generate", "--zone", "example.com", "--role", "zsk",
              "--algorithm", "ECDSAP256SHA256").stdout
    key_id = re.search(r", id ([0-9a-f]+)$", out, re.M).group(1)
    proc, signatures = sign(softhsm, key_id, "ECDSAP256SHA256", [b"one", b"two", b"three"],
                            module=P11_SHIM, env=shim_env(softhsm, DZ_SHIM_REMOVE_AFTER=1))
    assert proc.returncode == 1
    assert signatures[0] is not None
    assert proc.stdout.splitlines()[1:] == ["error hsm-session", "error hsm-session"]
    assert (f"PKCS#11 session to token '{softhsm.label}' was lost (CKR_DEVICE_REMOVED) and "
            f"reopening it failed: token '{softhsm.label}' not found") in proc.stderr
    assert "tokens present: none" in proc.stderr


def make_token(softhsm, tmp_path, label, pin, so_pin):
    """Initialise a token with distinctive PINs; returns (pin file, state folder, output)."""
    pin_file = tmp_path / f"{label}.pin"
    pin_file.write_text(pin + "\n")
    pin_file.chmod(0o600)
    so_pin_file = tmp_path / f"{label}.so-pin"
    so_pin_file.write_text(so_pin + "\n")
    so_pin_file.chmod(0o600)
    state = tmp_path / "state"
    proc = run([DANEZONE, "key", "init-token", "--label", label, "--so-pin-file", so_pin_file,
                "--pin-file", pin_file, "--module", softhsm.module, "--state-dir", state],
               env=softhsm.env)
    return pin_file, state, proc.stdout + proc.stderr


def test_pin_never_in_output(softhsm, tmp_path):
    pin, so_pin = "73915846", "59263148"
    pin_file, state, init_output = make_token(softhsm, tmp_path, "secret", pin, so_pin)
    common = ["--module", softhsm.module, "--state-dir", state]
    token = ["--token", "secret", "--pin-file", pin_file]
    outputs = [init_output]
    for args in (
        ["generate", "--zone", "example.com", "--role", "ksk", "--algorithm", "ED25519"],
        ["list"],
        ["export-ds", "--zone", "example.com"],
        ["delete", "--zone", "example.com", "--tag", "1"],
    ):
        proc = run([DANEZONE, "key", *args, *token, *common], check=False, env=softhsm.env)
        outputs.append(proc.stdout + proc.stderr)
    pin_file.write_text("11111111\n")
    proc = run([DANEZONE, "key", "list", *token, *common], check=False, env=softhsm.env)
    outputs.append(proc.stdout + proc.stderr)
    assert "wrong PIN" in outputs[-1]
    files = [path.read_text() for path in state.iterdir() if path.suffix != ".lock"]
    assert any("command=generate" in text for text in files)
    for text in outputs + files:
        assert pin not in text
        assert so_pin not in text
        assert "11111111" not in text


def test_pin_not_in_signer_process_titles(softhsm, tmp_path):
    pin = "48151623"
    pin_file, state, _ = make_token(softhsm, tmp_path, "titles", pin, "42424242")
    out = run([DANEZONE, "key", "generate", "--zone", "example.com", "--role", "zsk",
               "--algorithm", "ED25519", "--module", softhsm.module, "--token", "titles",
               "--pin-file", pin_file, "--state-dir", state], env=softhsm.env).stdout
    key_id = re.search(r", id ([0-9a-f]+)$", out, re.M).group(1)
    driver = subprocess.Popen(
        [SIGN_DRIVER, "--module", softhsm.module, "--token", "titles", "--pin-file", pin_file,
         "--id", key_id, "--algorithm", "ED25519", "--processes", "2"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **softhsm.env})
    try:
        # The driver starts its signer processes, then waits for requests on stdin.
        def signer_processes():
            found = run(["pgrep", "-P", str(driver.pid)], check=False).stdout.split()
            return found if len(found) == 2 else None
        pids = wait_for(signer_processes, timeout=60, what="two signer processes")
        for pid in [driver.pid, *map(int, pids)]:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                assert pin.encode() not in f.read()
    finally:
        out, err = driver.communicate(input="00\n", timeout=60)
    assert driver.returncode == 0, err
    assert len(out.split()) == 1
