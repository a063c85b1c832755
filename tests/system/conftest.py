"""Shared fixtures for the system tests.

System tests run the built programs against real components: SoftHSM2
tokens in temporary folders, NSD, BIND, Unbound, openssl s_server and the
zone validators.  Servers listen on 127.0.0.1 or ::1 with ephemeral ports
and are stopped by the fixtures that start them.

Environment (set by `make check-system`): DZ_BUILDDIR, DZ_SRCDIR and
DZ_SOFTHSM_MODULE.
"""
import os
import signal
import socket
import subprocess
import time
import types

import pytest

SRCDIR = os.environ.get("DZ_SRCDIR") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILDDIR = os.environ.get("DZ_BUILDDIR") or os.path.join(SRCDIR, "build-test")
SOFTHSM_MODULE = os.environ.get("DZ_SOFTHSM_MODULE") or "/usr/lib/softhsm/libsofthsm2.so"
DANEZONE = os.path.join(BUILDDIR, "danezone")
DANEZONED = os.path.join(BUILDDIR, "danezoned")
DATADIR = os.path.join(SRCDIR, "tests", "data")

# Default limit for one command, so a hung program fails its test instead of CI.
COMMAND_TIMEOUT = 300


def run(args, check=True, timeout=COMMAND_TIMEOUT, env=None, input=None, cwd=None):
    """Run a command and return the CompletedProcess with text output.

    With check=True a non-zero exit fails the test and shows the output.
    """
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    proc = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=timeout,
        env=full_env, input=input, cwd=cwd,
    )
    if check and proc.returncode != 0:
        pytest.fail(
            f"command failed with exit status {proc.returncode}: {' '.join(map(str, args))}\n"
            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc


def danezone(*args, **kwargs):
    """Run the built `danezone` command."""
    return run([DANEZONE, *args], **kwargs)


def free_port(family=socket.AF_INET, kind=socket.SOCK_DGRAM):
    """Return a port that is free on loopback for both UDP and TCP right now."""
    host = "127.0.0.1" if family == socket.AF_INET else "::1"
    for _ in range(100):
        with socket.socket(family, socket.SOCK_DGRAM) as udp:
            udp.bind((host, 0))
            port = udp.getsockname()[1]
            try:
                with socket.socket(family, socket.SOCK_STREAM) as tcp:
                    tcp.bind((host, port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free loopback port found")


def wait_for(predicate, timeout=30.0, interval=0.05, what="condition"):
    """Poll predicate() until it returns a true value; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class Server:
    """A background process that is stopped (TERM, then KILL) when the test ends."""

    def __init__(self, args, log_path, env=None, cwd=None):
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        self.args = [str(a) for a in args]
        self.log_path = str(log_path)
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=full_env, cwd=cwd, start_new_session=True)

    def output(self):
        self.log.flush()
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def running(self):
        return self.proc.poll() is None

    def signal(self, signum):
        self.proc.send_signal(signum)

    def stop(self, timeout=20):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.log.close()
        return self.proc.returncode


@pytest.fixture
def servers():
    """Start servers with servers.start(args, log_path); all stop at test end."""
    started = []

    def start(args, log_path, env=None, cwd=None):
        server = Server(args, log_path, env=env, cwd=cwd)
        started.append(server)
        return server

    yield types.SimpleNamespace(start=start, started=started)
    for server in reversed(started):
        server.stop()


@pytest.fixture
def softhsm(tmp_path):
    """A fresh SoftHSM2 token in a temporary folder.

    Returns a namespace with module, conf, label, pin, pin_file, so_pin and
    env (the variables to pass to programs that use the token).
    """
    tokens = tmp_path / "softhsm-tokens"
    tokens.mkdir()
    conf = tmp_path / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
    env = {"SOFTHSM2_CONF": str(conf)}
    label = "dz-test"
    pin = "1234"
    so_pin = "12345678"
    run(["softhsm2-util", "--init-token", "--free", "--label", label, "--pin", pin,
         "--so-pin", so_pin], env=env)
    pin_file = tmp_path / "token.pin"
    pin_file.write_text(pin + "\n")
    pin_file.chmod(0o600)
    return types.SimpleNamespace(module=SOFTHSM_MODULE, conf=str(conf), tokens=str(tokens),
                                 label=label, pin=pin, pin_file=str(pin_file),
                                 so_pin=so_pin, env=env)


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: runs for a minute or more; deselect with -m 'not slow'")
