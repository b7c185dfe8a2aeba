"""Certificates from a real ACME server (pebble) on two web hosts: issuance, HTTP/2, port 80, idempotence,
renewal under load, the renewed chain on the second host, and a name the CA cannot validate.

The tests run in file order: the renewal changes the serial the later tests compare with.
"""

from __future__ import annotations

import json
import shlex
import uuid

import pytest

from helpers import BackgroundLoad, wait_for
from playbook import ansible_playbook

APP = "fastapi-demo"
NAMES = ["www.acme.test", "api.acme.test"]
SITE = f"/etc/nginx/sites-available/{APP}.conf"
WEBROOT = "/var/www/acme-challenge/.well-known/acme-challenge"
# pebble's log lines per new order and per certificate issued.
ORDERED = "Added order"
ISSUED = "Issued certificate serial"


def curl(host, *args: str):
    return host.run("curl --silent --show-error --max-time 10 " + " ".join(shlex.quote(a) for a in args))


def served_serial(host, name: str = NAMES[0]) -> str:
    """Serial of the certificate nginx on `host` serves for `name`."""
    return host.check_output(
        f"openssl s_client -connect 127.0.0.1:443 -servername {name} </dev/null 2>/dev/null"
        " | openssl x509 -noout -serial"
    )


def pebble_count(pebble, line: str) -> int:
    return pebble.check_output("journalctl --no-pager -u pebble --output=cat").count(line)


@pytest.mark.parametrize("name", NAMES)
def test_every_name_is_served_with_a_chain_pebble_signed(webs, pebble_root, name):
    for web in webs:
        # Verified against pebble's root only (not -k, not the system's CAs).
        result = curl(
            web,
            "--cacert",
            pebble_root,
            "--resolve",
            f"{name}:443:127.0.0.1",
            "--write-out",
            " %{http_code}",
            f"https://{name}/health",
        )
        assert result.rc == 0, f"{web.backend.host}: {result.stderr}"
        body, _, status = result.stdout.rpartition(" ")
        assert status == "200", result.stdout
        assert json.loads(body)["status"] == "ok"


def test_both_web_hosts_serve_the_same_certificate(web1, web2):
    serial = served_serial(web1)
    assert serial.startswith("serial=")
    assert served_serial(web2) == serial
    # The primary's certificate is certbot's; web2 has no certbot at all.
    assert web1.file(f"/etc/letsencrypt/live/{APP}/fullchain.pem").exists
    assert not web2.exists("certbot")
    text = web1.check_output(f"openssl x509 -noout -text -in /etc/nginx/tls/{APP}/fullchain.pem")
    assert "ASN1 OID: prime256v1" in text  # ECDSA P-256


def test_http2_is_negotiated(web1, pebble_root):
    result = curl(
        web1,
        "--http2",
        "--cacert",
        pebble_root,
        "--resolve",
        f"{NAMES[0]}:443:127.0.0.1",
        "--output",
        "/dev/null",
        "--write-out",
        "%{http_version}",
        f"https://{NAMES[0]}/health",
    )
    assert result.stdout == "2", result.stderr


def test_plain_http_redirects_to_https(webs):
    for web in webs:
        result = curl(
            web,
            "--resolve",
            f"{NAMES[1]}:80:127.0.0.1",
            "--output",
            "/dev/null",
            "--write-out",
            "%{http_code} %{redirect_url}",
            f"http://{NAMES[1]}/items/1?q=2",
        )
        assert result.stdout == f"301 https://{NAMES[1]}/items/1?q=2", web.backend.host


def test_the_challenge_path_answers_on_port_80_of_both_hosts(web1, web2):
    """A token in the primary's webroot is answered by both hosts (web2 passes it to web1), for the site's
    names and for a name the site does not list yet (the catch-all)."""
    token = uuid.uuid4().hex
    web1.run_expect([0], f"mkdir -p {WEBROOT} && printf {token}.key > {WEBROOT}/{token}")
    try:
        for web in (web1, web2):
            for name in (NAMES[0], "new.acme.test"):
                result = curl(
                    web,
                    "--resolve",
                    f"{name}:80:127.0.0.1",
                    "--write-out",
                    " %{http_code}",
                    f"http://{name}/.well-known/acme-challenge/{token}",
                )
                assert result.stdout == f"{token}.key 200", (web.backend.host, name, result.stdout)
    finally:
        web1.run(f"rm -f {WEBROOT}/{token}")


def test_the_second_run_asked_for_nothing(pebble):
    # converge and idempotence ran against a pebble started empty: one order, one certificate.
    assert (pebble_count(pebble, ORDERED), pebble_count(pebble, ISSUED)) == (1, 1)


def test_forced_renewal_under_load_loses_no_request_and_reaches_web2(web1, web2, pebble, pebble_root):
    before = served_serial(web1)
    issued = pebble_count(pebble, ISSUED)
    # Renewals by certbot.timer trust pebble through the drop-in, as this run does.
    environment = web1.check_output("systemctl show --property=Environment --value certbot.service")
    assert "REQUESTS_CA_BUNDLE=" in environment
    assert web1.service("certbot.timer").is_enabled
    load = BackgroundLoad(
        web1, url=f"https://{NAMES[0]}/health", host_header=NAMES[0], connections=8, rate=20
    )
    load.start(limit=120)
    try:
        renewal = web1.run(
            f"{environment} certbot renew --force-renewal --cert-name {APP} --no-random-sleep-on-renew"
        )
    finally:
        result = load.stop(tail=2)
    assert renewal.rc == 0, renewal.stdout + renewal.stderr
    print(f"renewal under load: {result.ok} ok, {result.failed} failed")
    assert result.ok > 0, result.report
    assert result.failed == 0, result.report
    # A reload is asynchronous: nginx's old workers answer until the master has started new ones.
    renewed = wait_for(lambda: (serial := served_serial(web1)) != before and serial, timeout=15)
    assert renewed, f"web1 still serves {before} after the renewal"
    assert pebble_count(pebble, ISSUED) == issued + 1
    # web2 still serves the old chain until its pull timer's service runs.
    assert served_serial(web2) == before
    web2.run_expect([0], f"systemctl start {APP}-acme-pull.service")
    assert wait_for(lambda: served_serial(web2) == renewed, timeout=15), served_serial(web2)
    assert web2.service(f"{APP}-acme-pull.timer").is_enabled
    # Both still verify against pebble's root.
    for web in (web1, web2):
        check = curl(
            web,
            "--cacert",
            pebble_root,
            "--resolve",
            f"{NAMES[0]}:443:127.0.0.1",
            f"https://{NAMES[0]}/health",
        )
        assert check.rc == 0, check.stderr


def test_a_name_the_ca_cannot_validate_fails_and_the_site_keeps_its_certificate(web1, web2, pebble, tmp_path):
    bad = "bad.acme.test"
    # pebble's DNS sends the CA to its own address for this name, where nothing answers on port 80.
    pebble.run_expect(
        [0],
        f'curl --silent --fail -X POST -d \'{{"host":"{bad}","addresses":["127.0.0.1"]}}\' '
        "http://127.0.0.1:8055/add-a",
    )
    serial = served_serial(web1)
    sites = {web: web.file(SITE).sha256sum for web in (web1, web2)}
    issued = pebble_count(pebble, ISSUED)
    extra_vars = tmp_path / "bad-name.json"
    extra_vars.write_text(json.dumps({"nginx_server_names": [*NAMES, bad]}))
    play = ansible_playbook("deploy.yml", "--extra-vars", f"@{extra_vars}")
    output = play.stdout + play.stderr
    assert play.returncode != 0, output
    assert "issued no certificate" in output, output
    assert f"Domain: {bad}" in output, output
    assert "Detail:" in output, output
    # The old certificate and configuration are still what both hosts serve.
    assert pebble_count(pebble, ISSUED) == issued
    for web, checksum in sites.items():
        assert web.file(SITE).sha256sum == checksum
        assert served_serial(web) == serial
        assert wait_for(
            lambda web=web: (
                curl(
                    web,
                    "--cacert",
                    "/tmp/pebble-root.pem",
                    "--resolve",
                    f"{NAMES[0]}:443:127.0.0.1",
                    f"https://{NAMES[0]}/health",
                ).rc
                == 0
            ),
            timeout=5,
        )


def test_names_and_email_acme_cannot_use_are_refused_before_any_change(web1, tmp_path):
    site = web1.file(SITE).sha256sum
    extra_vars = tmp_path / "not-acme.json"
    extra_vars.write_text(
        json.dumps({"nginx_server_names": ["localhost", "192.0.2.7"], "nginx_acme_email": ""})
    )
    play = ansible_playbook("deploy.yml", "--extra-vars", f"@{extra_vars}")
    output = play.stdout + play.stderr
    assert play.returncode != 0, output
    assert "nginx_server_names must be public DNS names with nginx_tls_mode acme" in output, output
    assert '(got ["localhost", "192.0.2.7"])' in output, output
    assert "nginx_acme_email must be the ACME account's e-mail address" in output, output
    assert 'with nginx_tls_mode acme (got "")' in output, output
    # The first play only reads: nothing was deployed.
    assert "PLAY [Deploy the FastAPI app on the app hosts]" not in output, output
    assert web1.file(SITE).sha256sum == site
