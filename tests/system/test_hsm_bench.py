"""`danezone hsm bench` measures the token and cleans up after itself."""
import re

from conftest import DANEZONE, run
from hsm_helpers import key


def test_bench_reports_each_algorithm(softhsm, tmp_path):
    proc = run([DANEZONE, "hsm", "bench", "--seconds", "1", "--algorithm", "ECDSAP256SHA256",
                "--algorithm", "ED25519", "--processes", "2", "--batch", "16",
                "--module", softhsm.module, "--token", softhsm.label,
                "--pin-file", softhsm.pin_file], env=softhsm.env)
    out = proc.stdout
    assert f"token '{softhsm.label}' in " in out
    assert "1 thread(s), batches of 16, 1.0 s per measurement" in out
    assert re.search(r"^ALGORITHM +raw C_Sign/s +service/s +ratio +raw CPU us +service CPU us "
                     r"+cores +2 processes/s$", out, re.M)
    for algorithm in ("ECDSAP256SHA256", "ED25519"):
        row = re.search(rf"^{algorithm} +(\d+) +(\d+) +(\d+)% +([\d.]+) +([\d.]+) +([\d.]+) "
                        r"+(\d+)$", out, re.M)
        assert row, out
        raw, service, _, raw_cpu, service_cpu, _, processes = (float(v) for v in row.groups())
        assert raw > 0
        assert service > 0
        assert raw_cpu > 0
        assert service_cpu > 0
        assert processes > 0

    # The temporary key pairs are gone again.
    listing = key(softhsm, tmp_path, "list", "--all").stdout
    assert "danezone bench" not in listing
    assert len(listing.splitlines()) == 1


def test_bench_rejects_unknown_algorithm(softhsm):
    proc = run([DANEZONE, "hsm", "bench", "--algorithm", "RSAMD5", "--token", softhsm.label,
                "--pin-file", softhsm.pin_file], check=False, env=softhsm.env)
    assert proc.returncode == 2
    assert "unknown --algorithm" in proc.stderr
