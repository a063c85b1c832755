"""danezone check-config and the generated danezone.yaml(5) man page."""
import os
import subprocess

from conftest import SRCDIR, danezone, run


def test_man_page_is_current():
    generated = danezone("config-schema", "--man").stdout
    with open(os.path.join(SRCDIR, "doc", "danezone.yaml.5"), encoding="utf-8") as f:
        committed = f.read()
    assert generated == committed, (
        "doc/danezone.yaml.5 is out of date; regenerate it with "
        "'danezone config-schema --man > doc/danezone.yaml.5'")


def test_man_page_renders():
    proc = subprocess.run(["groff", "-t", "-man", "-Tutf8", "-z", "-wmac",
                           os.path.join(SRCDIR, "doc", "danezone.yaml.5")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert "error" not in proc.stderr


def make_example_tree(tmp_path):
    """Copy examples/danezone.yaml with its absolute paths moved under tmp_path."""
    root = tmp_path / "root"
    for folder in ["etc/danezone/zones", "etc/danezone/next", "etc/danezone/smime",
                   "etc/danezone/openpgp", "etc/letsencrypt/live/mx1.example.net-ecdsa",
                   "etc/letsencrypt/live/mx1.example.net-rsa",
                   "etc/letsencrypt/live/mail.example.net", "usr/lib/softhsm"]:
        (root / folder).mkdir(parents=True)
    (root / "etc/danezone/zones/example.net.zone").write_text(
        "$ORIGIN example.net.\n$TTL 3600\n"
        "@ SOA ns1 hostmaster 1 7200 3600 1209600 3600\n@ NS ns1\n@ MX 10 mx1\n"
        "ns1 A 192.0.2.53\nmx1 A 192.0.2.25\n")
    for secret in ["softhsm.pin", "xfr.example.net.secret"]:
        path = root / "etc/danezone" / secret
        path.write_text("1234\n" if secret.endswith(".pin")
                        else "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n")
        path.chmod(0o600)
    (root / "usr/lib/softhsm/libsofthsm2.so").write_text("")
    for live in ["mx1.example.net-ecdsa", "mx1.example.net-rsa", "mail.example.net"]:
        key = root / "etc/letsencrypt/live" / live / "privkey.pem"
        cert = root / "etc/letsencrypt/live" / live / "fullchain.pem"
        algorithm = ["-newkey", "rsa:2048"] if live.endswith("-rsa") else \
            ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
        run(["openssl", "req", "-x509", "-nodes", *algorithm, "-keyout", key, "-out", cert,
             "-days", "30", "-subj", f"/CN={live}"])
    text = (open(os.path.join(SRCDIR, "examples", "danezone.yaml"), encoding="utf-8").read()
            .replace(" /etc/", f" {root}/etc/").replace("- /etc/", f"- {root}/etc/")
            .replace("[/etc/", f"[{root}/etc/").replace(" /var/", f" {root}/var/")
            .replace(" /run/", f" {root}/run/").replace(" /usr/lib/", f" {root}/usr/lib/"))
    config = tmp_path / "danezone.yaml"
    config.write_text(text)
    return config


def test_example_config_is_valid(tmp_path):
    config = make_example_tree(tmp_path)
    proc = danezone("check-config", "-c", config)
    assert "configuration is valid: 1 zone" in proc.stdout
    # The staged next key of mx1 does not exist yet: a warning, not an error.
    assert "next[0]: file " in proc.stderr
    assert "does not exist yet" in proc.stderr


def test_check_config_lists_every_error(tmp_path):
    zone = tmp_path / "z.zone"
    zone.write_text("; empty\n")
    config = tmp_path / "bad.yaml"
    config.write_text(
        "server:\n"
        "  log-level: loud\n"
        "zones:\n"
        f"  - name: example.net\n"
        f"    source: {zone}\n"
        "    mail:\n"
        "      hosts:\n"
        "        - name: mx.example.org\n"
        "          certificates: [nothere.pem]\n")
    proc = danezone("check-config", "-c", config, check=False)
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert (f"{config}:2:14: error: server.log-level: unknown value 'loud'; use one of: "
            "error, warning, notice, info, debug") in lines
    assert (f"{config}:9:26: error: zones[0].mail.hosts[0].certificates[0]: file "
            f"{tmp_path}/nothere.pem not found (No such file or directory); correct the path "
            "or create it") in lines
    assert (f"{config}:8:17: error: zones[0].mail.hosts[0].name: host mx.example.org is not in "
            "zone example.net; move the host to the zone that contains its name") in lines
    assert lines[-1] == f"{config}: 3 errors, 0 warnings"
    assert proc.stdout == ""


def test_check_config_missing_file(tmp_path):
    proc = danezone("check-config", "-c", tmp_path / "none.yaml", check=False)
    assert proc.returncode == 1
    assert "cannot open the configuration file: No such file or directory" in proc.stderr


def test_hidden_command_not_in_help():
    out = danezone("help").stdout
    assert "check-config" in out
    assert "config-schema" not in out


def test_check_config_reads_mail_files(tmp_path):
    zone = tmp_path / "example.net.zone"
    zone.write_text("$ORIGIN example.net.\n$TTL 3600\n"
                    "@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n@ NS ns1\n"
                    "@ MX 10 mx1\n@ MX 20 mx2\n@ MX 30 mx3\n"
                    "ns1 A 192.0.2.1\nmx1 A 192.0.2.25\nmx2 CNAME mx1\nmx3 A 192.0.2.26\n")
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    key = tmp_path / "mx3.key"
    run(["openssl", "genpkey", "-algorithm", "ED25519", "-out", key])
    config = tmp_path / "danezone.yaml"
    config.write_text(
        "zones:\n"
        "  - name: example.net\n"
        f"    source: {zone}\n"
        "    mail:\n"
        "      hosts:\n"
        "        - name: mx1.example.net\n"
        f"          certificates: [{garbage}]\n"
        "        - name: mx3.example.net\n"
        f"          certificates: [{key}]\n")
    proc = danezone("check-config", "-c", config, check=False)
    assert proc.returncode == 1
    assert (f"{config}:6:11: error: zones[0].mail.hosts[0].certificates[0]: {garbage}: "
            "PEM block 1 is incomplete or damaged") in proc.stderr
    assert (f"{config}:8:11: warning: zones[0].mail.hosts[1].certificates[0]: {key} holds a "
            "private key, not the certificate the server presents") in proc.stderr
    assert (f"{zone}: warning: MX target mx2.example.net. is an alias (CNAME), which RFC 2181 "
            "section 10.3 forbids") in proc.stderr
    assert (f"{zone}: warning: MX target mx2.example.net. has no entry under mail.hosts, so it "
            "gets no TLSA records") in proc.stderr
