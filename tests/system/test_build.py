"""The built command starts and reports the library versions it runs with."""
import re
import subprocess

from conftest import danezone, run


def test_version_names_linked_libraries():
    out = danezone("version").stdout
    openssl = run(["openssl", "version"]).stdout.split()[1]
    assert re.match(r"^danezone \d+\.\d+\.\d+ \(", out)
    assert f"OpenSSL {openssl}" in out
    ldns = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libldns3"],
                          capture_output=True, text=True).stdout
    # Debian versions look like 1.8.3-1+b1; the library reports 1.8.3.
    assert f"ldns {ldns.split('-')[0]}" in out


def test_unknown_command_is_usage_error():
    proc = danezone("frobnicate", check=False)
    assert proc.returncode == 2
    assert "unknown command 'frobnicate'" in proc.stderr
