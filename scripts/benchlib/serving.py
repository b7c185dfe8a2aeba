"""Serving benchmark: the same load against four ways of serving the app.

All in the sandbox container, load generator included (loopback only):
  nginx-return     nginx answering `return 200` itself: the ceiling
  uvicorn          one raw `uvicorn` process: what a user tries first
                   (its default access log on, to journald like the service's logs)
  uvicorn-no-log   the same with --no-access-log: what the app costs without logging
  gunicorn         Gunicorn + workers as deployed, hit directly (TCP)
  gunicorn-no-observe  the same without deploy_observe (no request metrics, no /metrics):
                   what the metrics cost the workers
  deployed         nginx -> unix socket -> Gunicorn: the real path
  deployed-no-ka   the real path without upstream keep-alive
  deployed-plain   the site's location on a plain-HTTP loopback listener (TLS's cost, the proxy's)
  caddy, haproxy   the fronts a user would pick instead, HTTPS with the same certificate (peers.py)
plus HTTP/2 on the deployed path (h2load, beside h2load's HTTP/1.1) and a sweep of the worker
count through nginx.

The machine is shared and its speed drifts by 10-20 % from one run to the
next, so the configurations are measured in rounds, interleaved (every
configuration once per round), and each figure is the median round.
"""

from __future__ import annotations

import dataclasses
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from benchlib import cpu, decompose, peers
from benchlib.sandbox import Sandbox
from benchlib.wrk import WrkResult

NGINX_RETURN_PORT = 18081
NO_KEEPALIVE_PORT = 18082
UVICORN_PORT = 19001
UVICORN_NO_LOG_PORT = 19004
GUNICORN_PORT = 19002
NO_OBSERVE_PORT = 19003
# The deployed Gunicorn config with a post_worker_init hook that leaves deploy_observe out.
NO_OBSERVE_CONF = "/run/bench-no-observe.conf.py"
# One Gunicorn per swept worker count, each behind its own nginx server.
SWEEP_PORT = 19100
SWEEP_NGINX_PORT = 18100
BENCH_CONF = "/etc/nginx/conf.d/zz-bench.conf"
CADDY_LOG = "/var/log/bench-caddy/access.log"
# The unit serving each front's CPU role: nginx's own, or a peer's ("front").
FRONT_UNITS = {"bench-caddy", "bench-haproxy"}


@dataclass(frozen=True)
class Run:
    """The median round of one configuration; `rounds` holds every round's requests/s,
    `errors` the errors of all rounds, `cpu` each role's CPU µs per request (median round by round)."""

    config: str
    path: str
    workers: int | None
    result: WrkResult
    rounds: list[float] = field(default_factory=list)
    errors: int = 0
    # CPU µs per request by role ("nginx", "workers", "wrk"): the median over rounds.
    cpu: dict[str, float] = field(default_factory=dict)


def median_runs(runs: list[Run]) -> list[Run]:
    """One Run per (config, path, workers), in first-seen order: the round with the median requests/s."""
    groups: dict[tuple[str, str, int | None], list[Run]] = {}
    for run in runs:
        groups.setdefault((run.config, run.path, run.workers), []).append(run)
    out = []
    for (config, path, workers), group in groups.items():
        ordered = sorted(group, key=lambda r: r.result.rps)
        middle = ordered[(len(ordered) - 1) // 2]
        rounds = [round(r.result.rps, 1) for r in group]
        errors = sum(r.result.errors for r in group)
        roles = {role for r in group for role in r.cpu}
        cpu = {
            role: round(statistics.median([r.cpu[role] for r in group if role in r.cpu]), 1)
            for role in sorted(roles)
        }
        out.append(Run(config, path, workers, middle.result, rounds, errors, cpu))
    return out


def role_of(unit: str) -> str:
    """The CPU role a unit's figures are shown as."""
    return "nginx" if unit == "nginx" else "front" if unit in FRONT_UNITS else "workers"


def sweep_unit(count: int) -> str:
    return f"bench-sweep-{count}"


def nginx_fixture(app: str, tls: str = "", sweep: Iterable[int] = ()) -> str:
    """Extra nginx servers the benchmark needs, on loopback only.

    `tls`: the site's certificate directives; the path without upstream
    keep-alive then speaks HTTPS like the deployed one, so the two differ only
    in keep-alive.
    """
    proxy = (
        'proxy_http_version 1.1; proxy_set_header Connection ""; '
        "proxy_set_header Host $host; proxy_set_header X-Forwarded-For $remote_addr;"
    )
    sweep_servers = "".join(
        f"upstream bench_sweep_{n} {{ server 127.0.0.1:{SWEEP_PORT + i}; keepalive 32; }}\n"
        f"server {{ listen 127.0.0.1:{SWEEP_NGINX_PORT + i};\n"
        f"  location / {{ proxy_pass http://bench_sweep_{n}; {proxy} }} }}\n"
        for i, n in enumerate(sweep)
    )
    return f"""# scripts/bench.py fixture: removed when the benchmark ends
server {{ listen 127.0.0.1:{NGINX_RETURN_PORT}; access_log off;
  location / {{ default_type application/json; return 200 '{{"message":"Hello from FastAPI!"}}'; }} }}
upstream bench_no_keepalive {{ server unix:/run/{app}.sock; }}
server {{ listen 127.0.0.1:{NO_KEEPALIVE_PORT}{" ssl" if tls else ""}; {tls}
  location / {{ proxy_pass http://bench_no_keepalive; proxy_set_header Host $host; }} }}
{sweep_servers}"""


def gunicorn_command(app: str, module: str, port: int, workers: int, config: str = "") -> str:
    """The deployed config file (or `config`), bound to TCP instead of the systemd socket."""
    return (
        f"/opt/{app}/current/venv/bin/gunicorn --config {config or f'/etc/{app}/gunicorn.conf.py'} "
        f"--no-control-socket --bind 127.0.0.1:{port} --workers {workers} {module}"
    )


def no_observe_config(app: str, deployed: str) -> str:
    """`deployed` (the Gunicorn config's text) run as it is, then its post_worker_init replaced by
    one without deploy_observe; the app's access lines stay when the deployed hook wrote them."""
    logging = "deploy_logging.wrap_worker_app(worker)" in deployed
    body = (
        "    import deploy_logging\n\n    deploy_logging.wrap_worker_app(worker)\n"
        if logging
        else "    pass\n"
    )
    path = f"/etc/{app}/gunicorn.conf.py"
    return (
        "# scripts/bench.py fixture, removed when it ends: the deployed config without deploy_observe\n"
        f"exec(compile(open({path!r}).read(), {path!r}, 'exec'))\n\n\n"
        f"def post_worker_init(worker):\n{body}"
    )


def multiproc_env(unit: str) -> dict[str, str]:
    """Multiprocess metrics in the unit's runtime directory, as the deployed service has them."""
    return {"RuntimeDirectory": unit, "PROMETHEUS_MULTIPROC_DIR": f"/run/{unit}"}


UVICORN_UNITS = ("bench-uvicorn", "bench-uvicorn-no-log")
GUNICORN_UNITS = ("bench-gunicorn", "bench-gunicorn-no-observe")


class ServingBench:
    def __init__(self, box: Sandbox, seconds: float, connections: int, sweep: Iterable[int] = ()) -> None:
        self.box = box
        self.seconds = seconds
        self.connections = connections
        self.sweep_counts = list(sweep)
        # Read from the deployed host by setup().
        self.deployed = "http://127.0.0.1:80"
        self.workers = 1
        self.no_keepalive_url = f"http://127.0.0.1:{NO_KEEPALIVE_PORT}"
        # The decomposition's site parts and the body its `return 200` variants answer (setup()).
        self.parts = decompose.SiteParts("", "", "", "", "", "")
        self.body = '{"message":"Hello from FastAPI!"}'
        # Caddy and HAProxy run (setup(), when the site speaks HTTPS).
        self.peers = False

    def setup(self, decompose_path: str = "/items/1") -> None:
        """`decompose_path`: whose answer the decomposition's `return 200` variants send."""
        self.box.sh("command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)")
        self.box.sh(peers.install_command(), timeout=600)
        self.deployed = self.deployed_url()
        self.workers = self.box.worker_count()
        tls = self.site_tls() if self.deployed.startswith("https:") else ""
        self.no_keepalive_url = f"{'https://localhost' if tls else 'http://127.0.0.1'}:{NO_KEEPALIVE_PORT}"
        fixture = nginx_fixture(self.box.app, tls, self.sweep_counts)
        site = self.box.sh(f"cat /etc/nginx/sites-enabled/{self.box.app}.conf")
        proxy_conf = self.box.sh(f"cat {decompose.snippet_dir(site)}/proxy.conf")
        self.parts = decompose.site_parts(site, proxy_conf)
        if not tls:
            self.parts = dataclasses.replace(self.parts, tls="")
        answer = f"curl -sk --max-time 5 -H 'Host: localhost' {self.deployed}{decompose_path}"
        self.body = self.box.sh(answer).strip() or self.body
        fixture += decompose.fixture(self.parts, self.body, NGINX_RETURN_PORT)
        fixture += decompose.plain_server(self.parts, self.body, peers.PLAIN_PORT)
        self.box.sh(f"cat > {BENCH_CONF} <<'EOF'\n{fixture}EOF\nnginx -t -q && systemctl reload nginx")
        uvicorn = f"/opt/{self.box.app}/current/venv/bin/uvicorn {self.box.module} --host 127.0.0.1"
        self.box.start_unit("bench-uvicorn", f"{uvicorn} --port {UVICORN_PORT}")
        self.box.start_unit("bench-uvicorn-no-log", f"{uvicorn} --port {UVICORN_NO_LOG_PORT} --no-access-log")
        self.box.start_unit(
            "bench-gunicorn",
            gunicorn_command(self.box.app, self.box.module, GUNICORN_PORT, self.workers),
            multiproc_env("bench-gunicorn"),
        )
        deployed_conf = self.box.sh(f"cat /etc/{self.box.app}/gunicorn.conf.py")
        conf = no_observe_config(self.box.app, deployed_conf)
        self.box.sh(f"cat > {NO_OBSERVE_CONF} <<'EOF'\n{conf}EOF\nchmod 0644 {NO_OBSERVE_CONF}")
        self.box.start_unit(
            "bench-gunicorn-no-observe",
            gunicorn_command(self.box.app, self.box.module, NO_OBSERVE_PORT, self.workers, NO_OBSERVE_CONF),
            multiproc_env("bench-gunicorn-no-observe"),
        )
        for i, count in enumerate(self.sweep_counts):
            self.box.start_unit(
                sweep_unit(count),
                gunicorn_command(self.box.app, self.box.module, SWEEP_PORT + i, count),
                multiproc_env(sweep_unit(count)),
            )
        if tls:
            self.start_peers(tls)
        sweep_ports = [SWEEP_NGINX_PORT + i for i in range(len(self.sweep_counts))]
        ports = (
            NGINX_RETURN_PORT,
            peers.PLAIN_PORT,
            UVICORN_PORT,
            UVICORN_NO_LOG_PORT,
            GUNICORN_PORT,
            NO_OBSERVE_PORT,
        )
        for port in (*ports, *sweep_ports):
            self.box.wait_http(f"http://127.0.0.1:{port}/health")
        self.box.wait_http(f"{self.no_keepalive_url}/health")
        scheme = "https://localhost" if self.parts.tls else "http://127.0.0.1"
        for i in range(len(decompose.variants(self.parts, self.body))):
            self.box.wait_http(f"{scheme}:{decompose.DECOMPOSE_PORT + i}/health")

    def start_peers(self, tls: str) -> None:
        """Caddy and HAProxy on loopback, proxying to the app's socket as nginx's user: the socket
        is group www-data's (nginx's), mode 0660."""
        socket = f"/run/{self.box.app}.sock"
        user = "www-data"
        self.box.sh(f"install -d -o {user} {CADDY_LOG.rsplit('/', 1)[0]}")
        self.box.sh(
            peers.setup_command(
                peers.tls_paths(tls), user, peers.caddyfile(socket, CADDY_LOG), peers.haproxy_cfg(socket)
            )
        )
        for unit, command in peers.commands().items():
            self.box.start_unit(unit, command, dict(peers.ENV), user=user, workdir=peers.DIR)
        for port in (peers.CADDY_PORT, peers.HAPROXY_PORT):
            self.box.wait_http(f"https://localhost:{port}/health")
        self.peers = True

    def decompose(self, path: str, rounds: int = 1) -> list[Run]:
        """nginx's CPU per request for each part of the site's proxied location alone (benchlib.decompose)."""
        scheme = "https://localhost" if self.parts.tls else "http://127.0.0.1"
        app = self.box.app
        runs = []
        for number in range(1, rounds + 1):
            print(f" decomposition round {number}/{rounds}", flush=True)
            # Each round starts further down the list: a drift of the machine within a round
            # does not always fall on the same variants.
            order = list(enumerate(decompose.variants(self.parts, self.body)))
            start = (number - 1) * len(order) // rounds
            for i, (name, _, _, to_app) in order[start:] + order[:start]:
                url = f"{scheme}:{decompose.DECOMPOSE_PORT + i}"
                units = ("nginx", app) if to_app else ("nginx",)
                runs.append(
                    self.load(decompose.PREFIX + name, url, path, self.workers if to_app else None, units)
                )
        return median_runs(runs)

    def teardown(self) -> None:
        units = (*UVICORN_UNITS, *GUNICORN_UNITS, *peers.UNITS, *map(sweep_unit, self.sweep_counts))
        for unit in units:
            self.box.stop_unit(unit)
        self.box.sh(
            f"rm -rf {BENCH_CONF} {NO_OBSERVE_CONF} {peers.DIR} {CADDY_LOG.rsplit('/', 1)[0]}; "
            "nginx -t -q && systemctl reload nginx",
            check=False,
        )

    def load(
        self,
        config: str,
        url: str,
        path: str,
        workers: int | None,
        units: Sequence[str] = (),
        client: str = "wrk",
    ) -> Run:
        """One wrk run (`client` "h2load" or "h2load-h1": h2load over HTTP/2 or HTTP/1.1);
        `units`: the systemd units serving it, whose CPU per request is recorded (nginx.service as
        "nginx", Caddy's and HAProxy's as "front", any other as "workers"), with the client's own
        (as "wrk")."""
        if client == "wrk":
            result, seconds = self.box.wrk(
                url + path, seconds=self.seconds, connections=self.connections, units=units
            )
        else:
            result, seconds = self.box.h2load(
                url + path,
                seconds=self.seconds,
                connections=self.connections,
                h1=client == "h2load-h1",
                units=units,
            )
        roles = {unit: role_of(unit) for unit in units}
        cpu_us = cpu.per_request(seconds, roles, result.requests)
        usage = "  ".join(f"{role} {value:5.0f}" for role, value in cpu_us.items())
        print(
            f"  {config:<20} {path:<10} workers={workers or '-':<3} {result.rps:>9.0f} req/s  "
            f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:7.2f} ms  errors {result.errors}  "
            f"µs/req: {usage}",
            flush=True,
        )
        return Run(config, path, workers, result, [result.rps], result.errors, cpu_us)

    def site_tls(self) -> str:
        """The site's ssl_certificate and ssl_certificate_key directives."""
        site = self.box.sh(f"cat /etc/nginx/sites-enabled/{self.box.app}.conf")
        return " ".join(re.findall(r"^\s*(ssl_certificate(?:_key)?\s+[^;]+;)", site, re.M))

    def deployed_url(self) -> str:
        """The site as clients reach it: HTTPS when port 80 only redirects there."""
        probe = "curl -s -o /dev/null -w '%{http_code}' -H 'Host: localhost' http://127.0.0.1:80/health"
        status = self.box.sh(probe, check=False)
        return "https://localhost:443" if status.strip() in {"301", "308"} else "http://127.0.0.1:80"

    def compare(self, paths: Iterable[str], rounds: int = 1) -> list[Run]:
        workers = self.workers
        app = self.box.app
        targets = [
            ("nginx-return", f"http://127.0.0.1:{NGINX_RETURN_PORT}", None, ("nginx",)),
            ("uvicorn", f"http://127.0.0.1:{UVICORN_PORT}", 1, ("bench-uvicorn",)),
            ("uvicorn-no-log", f"http://127.0.0.1:{UVICORN_NO_LOG_PORT}", 1, ("bench-uvicorn-no-log",)),
            ("gunicorn", f"http://127.0.0.1:{GUNICORN_PORT}", workers, ("bench-gunicorn",)),
            (
                "gunicorn-no-observe",
                f"http://127.0.0.1:{NO_OBSERVE_PORT}",
                workers,
                ("bench-gunicorn-no-observe",),
            ),
            ("deployed", self.deployed, workers, ("nginx", app)),
            ("deployed-no-ka", self.no_keepalive_url, workers, ("nginx", app)),
            ("deployed-plain", f"http://127.0.0.1:{peers.PLAIN_PORT}", workers, ("nginx", app)),
        ]
        if self.peers:
            targets += [
                ("caddy", f"https://localhost:{peers.CADDY_PORT}", workers, ("bench-caddy", app)),
                ("haproxy", f"https://localhost:{peers.HAPROXY_PORT}", workers, ("bench-haproxy", app)),
            ]
        runs = []
        for number in range(1, rounds + 1):
            print(f" round {number}/{rounds}", flush=True)
            runs += [
                self.load(config, url, path, n, units) for path in paths for config, url, n, units in targets
            ]
        return median_runs(runs)

    def http2(self, path: str, rounds: int = 1) -> list[Run]:
        """The deployed path with h2load over HTTP/2 and, beside it, h2load over HTTP/1.1 (the
        same client, so only the protocol differs); none when the site is plain HTTP."""
        if not self.deployed.startswith("https:"):
            return []
        units = ("nginx", self.box.app)
        runs = []
        for number in range(1, rounds + 1):
            print(f" HTTP/2 round {number}/{rounds}", flush=True)
            for config, client in (("deployed-h2", "h2load"), ("deployed-h1 (h2load)", "h2load-h1")):
                runs.append(self.load(config, self.deployed, path, self.workers, units, client))
        return median_runs(runs)

    def sweep(self, path: str, rounds: int = 1) -> list[Run]:
        """Every swept count's Gunicorn is up from setup(); the rounds interleave them."""
        runs = []
        for number in range(1, rounds + 1):
            print(f" sweep round {number}/{rounds}", flush=True)
            for i, count in enumerate(self.sweep_counts):
                url = f"http://127.0.0.1:{SWEEP_NGINX_PORT + i}"
                runs.append(self.load("sweep", url, path, count, ("nginx", sweep_unit(count))))
        return median_runs(runs)
