"""The fronts a user would pick instead of the deployed nginx site: Caddy and HAProxy.

Each configured as its own documentation recommends for a reverse proxy: HTTPS with the site's
certificate, keep-alive to the app's unix socket (Caddy's reverse_proxy keeps its connections
by default; HAProxy `http-reuse safe`), a JSON access log, X-Forwarded-For and Host passed on.
Bench-only: the configs are written into the bench container's /run and run as transient
units; nothing of them is in the roles.
"""

from __future__ import annotations

from dataclasses import dataclass

# Loopback ports inside the bench container.
CADDY_PORT = 18441
HAPROXY_PORT = 18442
# The deployed site's location without TLS (the TLS / proxy split).
PLAIN_PORT = 18083
PACKAGES = ("caddy", "haproxy", "nghttp2-client")
UNITS = ("bench-caddy", "bench-haproxy")
DIR = "/run/bench-peers"


@dataclass(frozen=True)
class Tls:
    cert: str
    key: str


def tls_paths(directives: str) -> Tls:
    """The certificate and key paths of the site's `ssl_certificate(_key)` directives."""
    words = directives.replace(";", " ").split()
    paths = {words[i]: words[i + 1] for i in range(len(words) - 1) if words[i].startswith("ssl_")}
    if "ssl_certificate" not in paths or "ssl_certificate_key" not in paths:
        raise RuntimeError(f"the site has no certificate and key: {directives!r}")
    return Tls(paths["ssl_certificate"], paths["ssl_certificate_key"])


def install_command() -> str:
    """The peers and h2load in the bench container; Debian's caddy.service would take :80 from
    nginx, so it is stopped and masked at once (a policy-rc.d of our own, when the host has none,
    keeps it from starting at all)."""
    wanted = " ".join(PACKAGES)
    return (
        "command -v caddy >/dev/null && command -v haproxy >/dev/null && command -v h2load >/dev/null || "
        "( made=; [ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d "
        "&& chmod 0755 /usr/sbin/policy-rc.d && made=1; }; if apt-get update -qq && "
        f"DEBIAN_FRONTEND=noninteractive apt-get install -y -qq {wanted} >/dev/null; "
        'then rc=0; else rc=$?; fi; [ -z "$made" ] || rm -f /usr/sbin/policy-rc.d; exit $rc )\n'
        "systemctl disable --now caddy.service haproxy.service >/dev/null 2>&1 || true\n"
        "systemctl mask caddy.service haproxy.service >/dev/null 2>&1 || true\n"
    )


def caddyfile(socket: str, access_log: str) -> str:
    """Caddy: `reverse_proxy` to the unix socket, the copied certificate, a JSON log file."""
    return f"""# scripts/bench.py fixture: removed when the benchmark ends
{{
	auto_https off
	admin off
}}
https://localhost:{CADDY_PORT} {{
	bind 127.0.0.1
	tls {DIR}/cert.pem {DIR}/key.pem
	log {{
		output file {access_log}
		format json
	}}
	reverse_proxy unix/{socket}
}}
"""


# HAProxy's JSON access line: the fields nginx's site logs (time, client, request, status, bytes,
# duration).
HAPROXY_LOG = (
    '{"time":"%tr","remote_addr":"%ci","method":"%HM","uri":"%HU","status":%ST,'
    '"bytes":%B,"request_time_ms":%Ta,"upstream_time_ms":%Tr}'
)


def haproxy_cfg(socket: str) -> str:
    """HAProxy 2.6, `mode http`: TLS with the copied certificate, `http-reuse safe` to the unix
    socket, a JSON log-format to stdout (HAProxy writes no log file itself; journald keeps it)."""
    return f"""# scripts/bench.py fixture: removed when the benchmark ends
global
    log stdout format raw local0
    maxconn 4096
    ssl-default-bind-options ssl-min-ver TLSv1.2

defaults
    mode http
    log global
    option http-keep-alive
    option forwardfor
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 30s

frontend bench
    bind 127.0.0.1:{HAPROXY_PORT} ssl crt {DIR}/haproxy.pem alpn http/1.1
    log-format '{HAPROXY_LOG}'
    default_backend app

backend app
    http-reuse safe
    server app {socket}
"""


def setup_command(tls: Tls, user: str, caddy: str, haproxy: str) -> str:
    """The configs and a copy of the certificate the peers' user can read, in DIR."""
    return (
        f"install -d -m 0750 -o {user} {DIR} {DIR}/log\n"
        f"install -m 0640 -o {user} {tls.cert} {DIR}/cert.pem\n"
        f"install -m 0600 -o {user} {tls.key} {DIR}/key.pem\n"
        f"cat {DIR}/cert.pem {DIR}/key.pem > {DIR}/haproxy.pem && chown {user} {DIR}/haproxy.pem "
        f"&& chmod 0600 {DIR}/haproxy.pem\n"
        f"cat > {DIR}/Caddyfile <<'EOF'\n{caddy}EOF\n"
        f"cat > {DIR}/haproxy.cfg <<'EOF'\n{haproxy}EOF\n"
        f"caddy validate --config {DIR}/Caddyfile --adapter caddyfile >/dev/null\n"
        f"haproxy -c -q -f {DIR}/haproxy.cfg\n"
    )


# Caddy keeps its data and config state under $HOME / XDG dirs: in DIR, not the user's home.
ENV = {"HOME": DIR, "XDG_DATA_HOME": DIR, "XDG_CONFIG_HOME": DIR}


def commands() -> dict[str, str]:
    """Each peer's unit and command line."""
    return {
        "bench-caddy": f"/usr/bin/caddy run --config {DIR}/Caddyfile --adapter caddyfile",
        "bench-haproxy": f"/usr/sbin/haproxy -Ws -f {DIR}/haproxy.cfg",
    }
