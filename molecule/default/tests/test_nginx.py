"""The nginx front, asserted with real requests from inside the host.

The scenario's inventory (inventory/group_vars) turns on HTTPS with a generated
CA (nginx_tls_mode selfsigned), caches /items/ (nginx_proxy_cache_paths) and adds
/robots.txt through nginx_server_extra; everything else is the role's defaults.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import uuid

import pytest

from helpers import APP, CA, wait_for
from logs import NGINX_ACCESS_LOG, REQUEST_ID, lines_with
from playbook import VENV_BIN

STATIC_DIR = f"/var/www/{APP}/static"
BURST = 20  # nginx_limit_req_burst's default


def curl(host, *args: str):
    """Run curl in the host with shell-quoted args; returns testinfra's result."""
    return host.run("curl --silent --show-error --max-time 5 " + " ".join(shlex.quote(a) for a in args))


def app_journal(host) -> str:
    return host.check_output(f"journalctl --no-pager --output=cat -u {APP}.service")


def test_https_health_verifies_against_the_sandbox_ca(get, host):
    response = get("https://localhost/health")
    assert response.status == 200
    assert response.json()["status"] == "ok"
    # The certificate is trusted because of the test CA, not the system store.
    untrusted = curl(host, "https://localhost/health")
    assert untrusted.rc == 60, untrusted.stderr


@pytest.mark.parametrize("version", ["tls1", "tls1_1"])
def test_old_tls_versions_are_refused(host, version):
    # SECLEVEL=0 lets the client offer the old protocol: the refusal is the server's.
    result = host.run(
        f"openssl s_client -connect 127.0.0.1:443 -servername localhost -{version} "
        f"-cipher DEFAULT@SECLEVEL=0 -CAfile {CA} </dev/null"
    )
    assert result.rc != 0
    assert "alert protocol version" in result.stdout + result.stderr


@pytest.mark.parametrize(("version", "name"), [("tls1_2", "TLSv1.2"), ("tls1_3", "TLSv1.3")])
def test_tls_1_2_and_1_3_are_accepted(host, version, name):
    result = host.run(
        f"openssl s_client -connect 127.0.0.1:443 -servername localhost -{version} -CAfile {CA} </dev/null"
    )
    assert result.rc == 0, result.stderr
    assert f"Protocol  : {name}" in result.stdout or f"New, {name}" in result.stdout
    assert "Verify return code: 0 (ok)" in result.stdout


def test_http2_is_negotiated_and_http1_kept(host):
    # On Debian 12's nginx 1.22 through `listen ... http2`, on Debian 13's 1.26 through `http2 on`.
    versions = {}
    for flag in ("--http2", "--http1.1"):
        result = curl(
            host,
            flag,
            "--cacert",
            CA,
            "--output",
            "/dev/null",
            "--write-out",
            "%{http_version}",
            "https://localhost/health",
        )
        assert result.rc == 0, result.stderr
        versions[flag] = result.stdout
    assert versions == {"--http2": "2", "--http1.1": "1.1"}


def nginx_error(host, *args: str) -> tuple[int, str, dict, str]:
    """One request (curl args); returns status, Content-Type, the JSON body and X-Request-ID."""
    body = f"/tmp/nginx-error-{uuid.uuid4().hex}"
    result = curl(
        host,
        "--cacert",
        CA,
        "--output",
        body,
        "--write-out",
        "%{http_code} %{content_type} %header{x-request-id}",
        *args,
    )
    assert result.rc == 0, result.stderr
    status, content_type, request_id = result.stdout.split(" ")
    payload = json.loads(host.file(body).content_string)
    host.run(f"rm -f {body}")
    return int(status), content_type, payload, request_id


def assert_json_error(
    host, status: int, expected: int, content_type: str, payload: dict, request_id: str
) -> None:
    """nginx's own error as the app's: JSON with the id the response header and nginx's access line carry."""
    assert status == expected
    assert content_type == "application/json"
    assert set(payload) == {"detail", "request_id"}
    assert payload["request_id"] == request_id
    assert REQUEST_ID.match(request_id)

    def logged() -> list[dict]:
        return lines_with(host.file(NGINX_ACCESS_LOG).content_string, request_id)

    # nginx buffers its access log (flushed at least every second).
    entries = wait_for(logged, timeout=5)
    assert [entry["status"] for entry in entries] == [expected], entries


def test_tls_key_readable_by_root_only(host):
    key = host.file(f"/etc/nginx/tls/{APP}/privkey.pem")
    assert (key.user, key.group, key.mode) == ("root", "root", 0o600)
    # nginx's workers (www-data) never need it: the master reads it as root.
    assert host.run(f"runuser -u www-data -- cat /etc/nginx/tls/{APP}/privkey.pem").rc != 0


def test_plain_http_redirects_to_https(get):
    response = get("http://localhost/items/3?q=x")
    assert response.status == 301
    assert response.headers["location"] == "https://localhost/items/3?q=x"


@pytest.mark.parametrize("path", ["/health", "/items/7", "/does-not-exist"])
def test_security_headers_on_every_answer(get, path):
    response = get(f"https://localhost{path}")
    assert response.status in (200, 404)
    headers = response.headers
    assert headers["server"] == "nginx"  # server_tokens off: no version
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["content-security-policy"] == "frame-ancestors 'none'"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert headers["strict-transport-security"] == "max-age=63072000"
    assert REQUEST_ID.match(headers["x-request-id"])


def test_redirect_carries_a_request_id(get):
    assert REQUEST_ID.match(get("http://localhost/health").headers["x-request-id"])


def test_trace_gets_405_with_allow(host, get):
    response = get("https://localhost/health", curl_args=("--request", "TRACE"))
    assert response.status == 405
    assert "GET" in response.headers["allow"]
    assert "TRACE" not in response.headers["allow"]
    assert response.headers["content-type"] == "application/json"
    assert response.json()["request_id"] == response.headers["x-request-id"]


def test_unknown_host_gets_its_connection_closed(host, get):
    # Port 80: the catch-all answers nothing (444); curl sees an empty reply.
    plain = curl(host, "--header", "Host: unknown.example", "http://127.0.0.1/")
    assert plain.rc == 52, plain.stderr
    # HTTPS: the handshake for an unknown name is rejected.
    tls = curl(host, "--cacert", CA, "--resolve", "unknown.example:443:127.0.0.1", "https://unknown.example/")
    assert tls.rc == 35, tls.stderr
    assert "unrecognized name" in tls.stderr
    # The site's own name still works on the same address.
    assert get("http://127.0.0.1/health", host_header="localhost").status == 301


def test_nginx_refusing_metrics_answers_json_the_apps_own_404_passes_through(host, get):
    # From the host's own network address: not loopback, not in nginx_metrics_allow.
    own_address = host.check_output("hostname -I").split()[0]
    refused = nginx_error(host, "--resolve", f"localhost:443:{own_address}", "https://localhost/metrics")
    assert_json_error(host, refused[0], 403, *refused[1:])
    assert refused[2]["detail"] == "Forbidden"
    # A path the app does not have: FastAPI's own 404, not nginx's (no request id in it).
    missing = get("https://localhost/nope")
    assert missing.status == 404
    assert missing.headers["content-type"] == "application/json"
    assert missing.json() == {"detail": "Not Found"}


def test_requests_beyond_the_burst_get_429(host, get):
    # One curl, many requests on a keep-alive connection, from 127.0.0.2 so
    # that the other tests (from 127.0.0.1) keep their own allowance.
    count = 3 * BURST
    bodies = f"/tmp/burst-{uuid.uuid4().hex}"
    host.run_expect([0], f"mkdir {bodies}")
    args = ["--ipv4", "--interface", "127.0.0.2", "--cacert", CA]
    args += ["--write-out", "%{http_code} %{content_type} %header{x-request-id}\\n"]
    for number in range(count):
        args += ["--output", f"{bodies}/{number}", "https://localhost/health"]
    answers = [line.split(" ") for line in curl(host, *args).stdout.splitlines()]
    statuses = [status for status, _, _ in answers]
    assert len(statuses) == count
    # The burst (plus the request the rate allows) passes at once ...
    assert statuses[: BURST + 1] == ["200"] * (BURST + 1)
    # ... then the client is limited ...
    assert "429" in statuses[BURST + 1 :], statuses
    # ... by nginx, which answers JSON as the app does.
    limited = statuses.index("429")
    _, content_type, request_id = answers[limited]
    payload = json.loads(host.file(f"{bodies}/{limited}").content_string)
    host.run(f"rm -rf {bodies}")
    assert_json_error(host, 429, 429, content_type, payload, request_id)
    assert payload["detail"] == "Too Many Requests"
    # Another client is not.
    assert get("https://localhost/health").status == 200


def test_large_json_is_gzipped_small_is_not(get):
    large = get("https://localhost/openapi.json", curl_args=("--compressed",))
    assert large.status == 200
    assert large.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in large.headers["vary"].lower()
    assert len(large.body) > 1024
    assert "openapi" in large.json()
    small = get("https://localhost/health", curl_args=("--compressed",))
    assert small.status == 200
    assert len(small.body) < 1024
    assert "content-encoding" not in small.headers


def test_static_file_is_served_by_nginx_without_reaching_the_app(host, get):
    token = uuid.uuid4().hex
    path = f"{STATIC_DIR}/{token}.css"
    host.run_expect([0], f"printf 'body{{color:red}}' > {path}")
    try:
        response = get(f"https://localhost/static/{token}.css")
        assert response.status == 200
        assert response.body == "body{color:red}"
        assert response.headers["content-type"] == "text/css"
        assert response.headers["cache-control"] == "max-age=604800"
        assert response.headers["x-content-type-options"] == "nosniff"
        missing = get(f"https://localhost/static/missing-{token}.css")
        assert missing.status == 404
        assert missing.headers["content-type"] == "application/json"
        # nginx's answer (with the request's id), not the app's.
        assert missing.json() == {"detail": "Not Found", "request_id": missing.headers["x-request-id"]}
    finally:
        host.run(f"rm -f {path}")
    # A proxied request with the same token shows up in the app's log (so the
    # log is being read), the static ones never do.
    # (JSON access lines keep the query apart from the path.)
    get(f"https://localhost/health?{token}")
    assert wait_for(lambda: token in app_journal(host), timeout=10)
    assert f"/static/{token}" not in app_journal(host)
    assert f"missing-{token}" not in app_journal(host)


def test_listed_paths_are_cached_with_status_header(get):
    path = f"/items/{uuid.uuid4().int % 100000}"
    first = get(f"https://localhost{path}")
    second = get(f"https://localhost{path}")
    assert (first.status, second.status) == (200, 200)
    assert first.headers["x-cache-status"] == "MISS"
    assert second.headers["x-cache-status"] == "HIT"
    assert second.body == first.body
    assert "x-cache-status" not in get("https://localhost/health").headers


def test_client_cannot_forge_its_address(host, get):
    token = uuid.uuid4().hex
    get(f"https://localhost/health?fwd={token}", headers=("X-Forwarded-For: 203.0.113.9",))

    def logged_line() -> str:
        return next((line for line in app_journal(host).splitlines() if token in line), "")

    line = wait_for(logged_line, timeout=10)
    assert line, "the request never reached the app's log"
    assert "203.0.113.9" not in line
    assert "127.0.0.1" in line


def test_request_body_limit(host):
    body = "/tmp/nginx-413.json"
    result = host.run(
        f"head -c 11M /dev/zero | curl -s -o {body} --cacert {CA} --data-binary @- "
        "-w '%{http_code} %{content_type} %header{x-request-id}' https://localhost/items/1"
    )
    status, content_type, request_id = result.stdout.split(" ")
    payload = json.loads(host.file(body).content_string)
    assert_json_error(host, int(status), 413, content_type, payload, request_id)


def test_stub_status_only_on_localhost(host, get):
    status = get("http://127.0.0.1:8081/nginx_status")
    assert status.status == 200
    assert status.body.startswith("Active connections:")
    assert host.socket("tcp://127.0.0.1:8081").is_listening
    assert not host.socket("tcp://0.0.0.0:8081").is_listening
    # Not part of the public site.
    assert "Active connections" not in get("https://localhost/nginx_status").body


def test_operator_snippet_is_inserted(get):
    response = get("https://localhost/robots.txt")
    assert response.status == 200
    assert response.body == "User-agent: *\nDisallow: /\n"


def test_rendered_config_has_no_gixy_findings(host):
    dump = host.check_output("nginx -T 2>/dev/null")
    result = subprocess.run(
        [str(VENV_BIN / "gixy"), "--format", "json", "-"],
        input=dump,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    findings = json.loads(result.stdout or "[]")
    assert findings == [], json.dumps(findings, indent=2)
