"""nginx's proxied location taken apart: each part of the site's `location /` alone.

Every variant is a server of its own on loopback, with the site's certificate (HTTPS like the
site), proxying to the site's upstream (its keep-alive pool over the unix socket) with one part
of what the site adds: the proxy headers, limit_req with its geo/map key, the security headers,
the JSON access log, proxy_next_upstream*, the maintenance switch. Against them: `return 200` of
the same body over the same TLS, bare and with the site's headers and log, and a bare proxy to
nginx's own `return` (what proxying costs nginx when the upstream answers at once). The parts
are read from the deployed site's files, so the variants follow the role's templates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Loopback ports of the variants, one each, inside the bench container only.
DECOMPOSE_PORT = 18300
PREFIX = "nginx/"


@dataclass(frozen=True)
class SiteParts:
    tls: str  # ssl_certificate and ssl_certificate_key directives ("" for a plain-HTTP site)
    upstream: str  # the site's upstream block's name
    snippets: str  # the site's snippet directory (proxy.conf, proxy-headers.conf, ...)
    access_log: str  # the site's access_log directive (JSON format, buffered)
    next_upstream: str  # proxy_next_upstream, _tries, _timeout
    limit_req: str  # limit_req and limit_req_status of proxy.conf ("" when the site has none)


def _first(pattern: str, text: str, what: str) -> str:
    match = re.search(pattern, text, re.M)
    if match is None:
        raise RuntimeError(f"the site's configuration lacks {what}")
    return match.group(1)


def snippet_dir(site: str) -> str:
    """The site's snippet directory, from its rendered site file."""
    return _first(r"include\s+(\S+)/proxy\.conf;", site, "include .../proxy.conf")


def site_parts(site: str, proxy_conf: str) -> SiteParts:
    """The parts, from the rendered site file and its proxy.conf snippet."""
    return SiteParts(
        tls=" ".join(re.findall(r"^\s*(ssl_certificate(?:_key)?\s+[^;]+;)", site, re.M)),
        upstream=_first(r"^upstream\s+(\S+)\s*\{", site, "an upstream"),
        snippets=snippet_dir(site),
        access_log=_first(r"^\s*(access_log\s+\S+\s+\S+[^;]*;)", site, "an access_log"),
        next_upstream=" ".join(re.findall(r"^\s*(proxy_next_upstream\S*\s+[^;]+;)", site, re.M)),
        limit_req=" ".join(re.findall(r"^\s*(limit_req(?:_status)?\s+[^;]+;)", proxy_conf, re.M)),
    )


def variants(parts: SiteParts, body: str) -> list[tuple[str, str, str, bool]]:
    """(name, server-level directives, `location /` directives, proxies to the app) per variant."""
    answer = f"default_type application/json; return 200 '{body}';"
    bare = f'proxy_pass http://{parts.upstream}; proxy_http_version 1.1; proxy_set_header Connection "";'
    headers = f"include {parts.snippets}/security-headers.conf;"
    maintenance = f"include {parts.snippets}/maintenance.conf;"
    off = "access_log off;"
    return [
        ("return", off, answer, False),
        ("return + headers + log", f"{parts.access_log} {headers}", answer, False),
        ("proxy", off, bare, True),
        (
            "proxy + proxy headers",
            off,
            f'proxy_pass http://{parts.upstream}; proxy_set_header Connection ""; '
            f"include {parts.snippets}/proxy-headers.conf;",
            True,
        ),
        ("proxy + limit_req", off, f"{bare} {parts.limit_req}", True),
        # The site exempts loopback (an empty key: not counted); this zone counts every request.
        # nginx drains a bucket by the millisecond: requests of one millisecond all add to the
        # burst, so a high rate alone still answers 429 to 32 connections; hence the burst.
        ("proxy + limit_req, counted", off, f"{bare} limit_req zone=bench_req burst=1000 nodelay;", True),
        ("proxy + security headers", f"{off} {headers}", bare, True),
        ("proxy + access log", parts.access_log, bare, True),
        ("proxy + next_upstream", f"{off} {parts.next_upstream}", bare, True),
        ("proxy + maintenance switch", f"{off} {maintenance}", bare, True),
        ("proxy, buffering off", off, f"{bare} proxy_buffering off;", True),
        (
            "proxy to nginx's return",
            off,
            'proxy_pass http://bench_return; proxy_http_version 1.1; proxy_set_header Connection "";',
            False,
        ),
        (
            "all parts (the site's location)",
            f"{parts.access_log} {headers} {maintenance} {parts.next_upstream}",
            f"include {parts.snippets}/proxy.conf;",
            True,
        ),
    ]


def fixture(parts: SiteParts, body: str, return_port: int) -> str:
    """The variants' servers (and the upstream of nginx's own return), for conf.d."""
    servers = [
        f"upstream bench_return {{ server 127.0.0.1:{return_port}; keepalive 32; }}",
        "limit_req_zone $binary_remote_addr zone=bench_req:10m rate=1000000r/s;",
    ]
    for i, (_, server, location, _) in enumerate(variants(parts, body)):
        servers.append(
            f"server {{ listen 127.0.0.1:{DECOMPOSE_PORT + i}{' ssl' if parts.tls else ''}; "
            f"server_name localhost; {parts.tls}\n"
            f"  {server}\n  location / {{ {location} }} }}"
        )
    return "\n".join(servers) + "\n"


def plain_server(parts: SiteParts, body: str, port: int) -> str:
    """The site's location with everything it has ("all parts") on a plain-HTTP loopback
    listener: the deployed path without TLS, for TLS's cost and the proxy's."""
    _, server, location, _ = variants(parts, body)[-1]
    return (
        f"server {{ listen 127.0.0.1:{port}; server_name localhost;\n"
        f"  {server}\n  location / {{ {location} }} }}\n"
    )
