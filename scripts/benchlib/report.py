"""Figures out: a JSON record, a markdown table and a PNG chart."""

from __future__ import annotations

import json
import platform
import statistics
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchlib.decompose import PREFIX
from benchlib.deploying import WATCHED, DeployRun
from benchlib.fleet import FleetRun, curves, growth
from benchlib.serving import Run
from benchlib.shipping import PREFIX as SHIPPING
from benchlib.shipping import SHIPPING_ROLES

TARGETS = {
    "deployment gain (deployed / uvicorn)": ("deployed", "uvicorn", 1.8),
}
# Reported beside the targets, without one: (numerator, denominator) configurations.
CONTEXT = {
    "deployed / uvicorn without access log": ("deployed", "uvicorn-no-log"),
    "upstream keep-alive gain": ("deployed", "deployed-no-ka"),
    # The old proxy-cost target (0.95), retired: TLS and proxying together.
    "proxy and TLS cost (deployed / gunicorn)": ("deployed", "gunicorn"),
    "TLS cost (deployed / deployed-plain)": ("deployed", "deployed-plain"),
    "proxy cost (deployed-plain / gunicorn)": ("deployed-plain", "gunicorn"),
    "HTTP/2 (deployed-h2 / deployed-h1 (h2load))": ("deployed-h2", "deployed-h1 (h2load)"),
}
# The fronts a user would pick instead of the deployed nginx site (benchlib/peers.py).
PEERS = ("caddy", "haproxy")
PEER_TARGET = 1.0
# nginx's CPU per proxied request (the deployed site) against its CPU per `return 200` of the
# same body over the same TLS with the same headers and log (the decomposition's), at most.
RETURN_VARIANT = PREFIX + "return + headers + log"
NGINX_CPU_LIMIT = 2.0
ROLES = ("nginx", "workers", "wrk")
# The serving table's CPU columns: a peer's own CPU ("front") shows in the front column.
SERVING_ROLES = ("front", "workers", "wrk")
# Issue 20's goals (the code-only release's multiple from issue 31). "floor": at most this
# multiple of the floor play measured on the same transport in the same run; "seconds": at
# most this wall time on the transports listed.
DEPLOY_LIMITS: dict[str, dict[str, Any]] = {
    "first provisioning": {"seconds": 180.0, "transports": ("docker", "ssh")},
    "idempotent re-run": {"floor": 3.0, "seconds": 12.0, "transports": ("ssh",)},
    "code-only release": {"floor": 4.0, "seconds": 25.0, "transports": ("ssh",)},
    # The same release as docs/releases.md has users run it (--tags release): the same goals.
    "code-only release, --tags release": {"floor": 4.0, "seconds": 25.0, "transports": ("ssh",)},
}


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    cores = subprocess.run(["nproc"], capture_output=True, text=True, check=False).stdout.strip()
    return f"{cores} cores, {cpu}, {platform.system()} {platform.release()}"


def paired(num: list[float], den: list[float]) -> float:
    """Median over rounds of num/den measured in the same round (rounds drift as a whole on a
    shared machine, so comparing within a round cancels it); a single figure each if rounds differ."""
    if len(num) != len(den) or not num:
        num, den = [statistics.median(num)], [statistics.median(den)]
    pairs = [n / d for n, d in zip(num, den, strict=True) if d]
    return statistics.median(pairs) if pairs else 0.0


def ratios(runs: list[Run]) -> dict[str, dict[str, float | bool | str]]:
    rounds = {
        (r.config, r.path): r.rounds or [r.result.rps]
        for r in runs
        if r.config != "sweep" and not r.config.startswith(PREFIX)
    }
    out: dict[str, dict[str, float | bool | str]] = {}

    def add(name: str, num: tuple[str, str], den: tuple[str, str], target: float | str = "") -> None:
        if num in rounds and den in rounds:
            value = paired(rounds[num], rounds[den])
            met = True if target == "" else value >= float(target)
            out[name] = {"value": round(value, 3), "target": target, "met": met}

    for path in sorted({path for _, path in rounds}):
        for label, (num, den, target) in TARGETS.items():
            add(f"{label} {path}", (num, path), (den, path), target)
        for label, (num, den) in CONTEXT.items():
            add(f"{label} {path}", (num, path), (den, path))
        peer_front(runs, path, out)
    sweep_default(runs, out)
    nginx_cpu(runs, out)
    observe_cpu(runs, out)
    return out


def peer_front(runs: list[Run], path: str, out: dict[str, dict[str, float | bool | str]]) -> None:
    """The deployed nginx front against the best of Caddy and HAProxy, round by round (the best
    peer of each round); met when ≥ PEER_TARGET with a p99 no worse than that of the peer with the
    best median round."""
    by_config = {r.config: r for r in runs if r.path == path}
    deployed = by_config.get("deployed")
    peers = [by_config[name] for name in PEERS if name in by_config]
    if deployed is None or not peers:
        return
    rounds = [p.rounds or [p.result.rps] for p in peers]
    mine = deployed.rounds or [deployed.result.rps]
    if len({len(r) for r in rounds} | {len(mine)}) == 1:
        value = paired(mine, [max(values) for values in zip(*rounds, strict=True)])
    else:
        value = paired(mine, [max(statistics.median(r) for r in rounds)])
    best = max(peers, key=lambda p: p.result.rps)
    p99_ok = deployed.result.p99_ms <= best.result.p99_ms
    out[f"nginx front / best of Caddy and HAProxy {path}"] = {
        "value": round(value, 3),
        "target": f"≥ {PEER_TARGET}, p99 ≤ {best.config}'s",
        "met": value >= PEER_TARGET and p99_ok,
    }
    out[f"p99: nginx front / {best.config} {path}"] = {
        "value": round(deployed.result.p99_ms / best.result.p99_ms, 3) if best.result.p99_ms else 0.0,
        "target": "",
        "met": True,
    }


def observe_cpu(runs: list[Run], out: dict[str, dict[str, float | bool | str]]) -> None:
    """What deploy_observe (request metrics) adds to a worker's CPU per request: Gunicorn with it
    (as deployed) minus the same Gunicorn without it, in µs."""
    without = {r.path: r.cpu.get("workers") for r in runs if r.config == "gunicorn-no-observe"}
    for r in runs:
        base = without.get(r.path)
        if r.config == "gunicorn" and base and r.cpu.get("workers"):
            name = f"request metrics: worker µs per request added by deploy_observe {r.path}"
            out[name] = {"value": round(r.cpu["workers"] - base, 1), "target": "", "met": True}


def nginx_cpu(runs: list[Run], out: dict[str, dict[str, float | bool | str]]) -> None:
    """nginx µs per proxied request (deployed) / per `return 200` over the same TLS, headers and log."""
    answer = next((r for r in runs if r.config == RETURN_VARIANT), None)
    if answer is None or not answer.cpu.get("nginx"):
        return
    for r in runs:
        if r.config == "deployed" and r.path == answer.path and "nginx" in r.cpu:
            value = r.cpu["nginx"] / answer.cpu["nginx"]
            name = f"nginx CPU: proxied (deployed) / return 200 {r.path}"
            out[name] = {
                "value": round(value, 3),
                "target": f"≤ {NGINX_CPU_LIMIT}",
                "met": value <= NGINX_CPU_LIMIT,
            }


def sweep_default(runs: list[Run], out: dict[str, dict[str, float | bool | str]]) -> None:
    """The deployed worker count against the best count of the sweep, round by round."""
    sweep = {r.workers: r.rounds or [r.result.rps] for r in runs if r.config == "sweep"}
    default = next((r.workers for r in runs if r.config == "deployed"), None)
    if default not in sweep or len({len(v) for v in sweep.values()}) != 1:
        return
    best_per_round = [max(values) for values in zip(*sweep.values(), strict=True)]
    value = paired(sweep[default], best_per_round)
    name = f"default workers ({default}) / best of the sweep"
    out[name] = {"value": round(value, 3), "target": 0.95, "met": value >= 0.95}


def deploy_rows(deploys: list[DeployRun]) -> list[dict[str, Any]]:
    """Each deploy timing with its multiple of the same transport's floor and its targets, met or not."""
    floors = {d.transport: d.seconds for d in deploys if d.name == "floor"}
    rows = []
    for d in deploys:
        # A row measured with floor runs of its own is divided by those.
        floor = d.floor if d.floor is not None else floors.get(d.transport)
        multiple = round(d.seconds / floor, 2) if floor and d.name != "floor" else None
        limits = DEPLOY_LIMITS.get(d.name, {})
        targets: list[str] = []
        met: list[bool] = []
        if "floor" in limits and multiple is not None:
            targets.append(f"≤ {limits['floor']:g}x floor")
            met.append(multiple <= limits["floor"])
        if "seconds" in limits and d.transport in limits["transports"]:
            targets.append(f"≤ {limits['seconds']:g} s")
            met.append(d.seconds <= limits["seconds"])
        rows.append(
            {
                "name": d.name,
                "transport": d.transport,
                "seconds": round(d.seconds, 1),
                "changed": d.changed,
                "each": list(d.each),
                "floor_multiple": multiple,
                "floor_seconds": None if floor is None or d.name == "floor" else round(floor, 1),
                "targets": targets,
                "met": all(met) if met else None,
            }
        )
    return rows


def fleet_record(runs: list[FleetRun]) -> dict[str, Any]:
    """The fleet's runs, the code-only release curve per serial and its growth (s per extra host)."""
    lines = curves(runs)
    return {
        "runs": [
            {"name": r.name, "hosts": r.hosts, "serial": r.serial, "seconds": r.seconds, "changed": r.changed}
            for r in runs
        ],
        "curves": {serial: [list(p) for p in points] for serial, points in lines.items()},
        "growth_s_per_host": {
            serial: None if (g := growth(points)) is None else round(g, 1) for serial, points in lines.items()
        },
    }


def record(
    runs: list[Run], deploys: list[DeployRun], settings: dict[str, Any], fleet: list[FleetRun] | None = None
) -> dict[str, Any]:
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "settings": settings,
        "serving": [
            {
                "config": r.config,
                "path": r.path,
                "workers": r.workers,
                **r.result.as_dict(),
                "errors": r.errors,
                "rounds_rps": r.rounds,
                "cpu_us": r.cpu,
            }
            for r in runs
        ],
        "ratios": ratios(runs),
        "deploy": deploy_rows(deploys),
        "fleet": fleet_record(fleet) if fleet else None,
    }


def markdown(data: dict[str, Any]) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Measured {data['date']} on {data['machine']} by `make bench` "
        f"(wrk, {data['settings']['connections']} connections, {data['settings']['seconds']} s per run, "
        f"{data['settings'].get('rounds', 1)} interleaved rounds, median round shown; "
        "load generator inside the sandbox container, loopback only). Absolute figures are for context: "
        "the ratios, measured in the same run, are what the targets apply to.",
        "",
        "## Serving",
        "",
        "CPU time per request (µs, median over rounds; each unit's cgroup `cpu.stat`, around each run) "
        "of the front (nginx, or Caddy's or HAProxy's unit), of the process(es) serving the app and of "
        "the client (wrk or h2load): steadier than requests/s on a shared machine. "
        "`deployed-h2` and `deployed-h1 (h2load)` are h2load's runs (HTTP/2 and HTTP/1.1, one stream "
        "per connection); every other row is wrk's (HTTP/1.1).",
        "",
        "| configuration | path | workers | req/s | p50 ms | p99 ms | errors "
        "| front µs | workers µs | wrk µs | req/s per round |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    serving = [r for r in data["serving"] if not r["config"].startswith((PREFIX, SHIPPING))]
    parts = [r for r in data["serving"] if r["config"].startswith(PREFIX)]
    shipped = [r for r in data["serving"] if r["config"].startswith(SHIPPING)]
    for r in serving:
        per_round = " / ".join(f"{rps:.0f}" for rps in r.get("rounds_rps", []))
        lines.append(
            f"| {r['config']} | `{r['path']}` | {r['workers'] or '-'} | {r['rps']:.0f} | "
            f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['errors']} | "
            f"{cpu_cells(r, SERVING_ROLES)} | {per_round} |"
        )
    lines += fronts(serving)
    if parts:
        lines += decomposition(parts)
    if shipped:
        lines += shipping(shipped)
    lines += ["", "## Ratios", "", "| ratio | value | target | met |", "| --- | ---: | ---: | --- |"]
    for name, r in data["ratios"].items():
        target = r["target"] if isinstance(r["target"], str) else f"≥ {r['target']}"
        met = "-" if r["target"] == "" else "yes" if r["met"] else "**no**"
        lines.append(f"| {name} | {r['value']:.2f} | {target} | {met} |")
    if data["deploy"]:
        lines += deploy_table(data["deploy"])
    if data.get("fleet"):
        lines += fleet_table(data["fleet"])
    return "\n".join(lines) + "\n"


def deploy_table(deploys: list[dict[str, Any]]) -> list[str]:
    lines = [
        "",
        "## Deploying",
        "",
        "docker: `docker exec` as root (inventory/sandbox); ssh: the same host over SSH as a sudo user "
        "(pipelining, ControlPersist). floor: a play against the same host that gathers the same facts and "
        "runs one module per role (scripts/benchlib/floor.yml); x floor: the run over its own "
        "transport's floor (for the code-only releases, the median of a floor run before each of "
        "theirs: the floor column). The code-only releases run with the post-switch watch off "
        "(app_watch_seconds=0): its window is waiting, not work; the watched one (its default, 30 s) "
        "shows it apart.",
        "",
        "| run | transport | seconds | floor | x floor | changed | target | met | each run (s) |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- | --- | --- |",
    ]
    for d in deploys:
        multiple = "-" if d.get("floor_multiple") is None else f"{d['floor_multiple']:.2f}"
        target = ", ".join(d.get("targets") or []) or "-"
        met = "-" if d.get("met") is None else "yes" if d["met"] else "**no**"
        each = " / ".join(f"{s:.1f}" for s in d.get("each", []))
        floor = "-" if d.get("floor_seconds") is None else f"{d['floor_seconds']:.1f}"
        lines.append(
            f"| {d['name']} | {d.get('transport', 'docker')} | {d['seconds']:.1f} | {floor} | {multiple} | "
            f"{d['changed']} | {target} | {met} | {each} |"
        )
    watched = {d.get("transport"): d["seconds"] for d in deploys if d["name"] == WATCHED}
    plain = {d.get("transport"): d["seconds"] for d in deploys if d["name"] == "code-only release"}
    for transport, seconds in watched.items():
        if transport in plain:
            lines += [
                "",
                f"The post-switch watch ({transport}): {seconds - plain[transport]:+.1f} s over the "
                "unwatched code-only release: its 30-s window, its reads of the app's counters, and what of "
                "the window before the switch the install did not cover.",
            ]
    return lines


def fleet_table(fleet: dict[str, Any]) -> list[str]:
    lines = [
        "",
        "## Fleet growth",
        "",
        "Code-only release to N app hosts + 1 web host (scripts/benchlib/fleet.py), default forks; the other "
        "runs put the fleet in place (context). Growth: least-squares slope of seconds against app hosts.",
        "",
        "| run | app hosts | deploy_serial | seconds | changed |",
        "| --- | ---: | --- | ---: | ---: |",
    ]
    for r in fleet["runs"]:
        lines.append(f"| {r['name']} | {r['hosts']} | {r['serial']} | {r['seconds']:.1f} | {r['changed']} |")
    lines += [
        "",
        "| deploy_serial | seconds at 1 / 2 / 4 ... hosts | growth, s per extra host |",
        "| --- | --- | ---: |",
    ]
    for serial, points in fleet["curves"].items():
        slope = fleet["growth_s_per_host"].get(serial)
        figures = " / ".join(f"{s:.1f} ({h})" for h, s in points)
        lines.append(f"| {serial} | {figures} | {'-' if slope is None else f'{slope:.1f}'} |")
    return lines


def fleet_chart(data: dict[str, Any], path: Path) -> None:
    """The second chart: a code-only release's seconds against app hosts, per deploy_serial."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.2))
    for serial, points in data["fleet"]["curves"].items():
        slope = data["fleet"]["growth_s_per_host"].get(serial)
        label = f"deploy_serial={serial}" + ("" if slope is None else f" ({slope:.1f} s/host)")
        ax.plot([h for h, _ in points], [s for _, s in points], "o-", label=label)
    ax.set_xlabel("app hosts (+1 web host)")
    ax.set_ylabel("code-only release, s")
    ax.set_ylim(bottom=0)
    ax.legend()
    ax.set_title(f"Fleet growth: {data['date']}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def cpu_cells(row: dict[str, Any], roles: tuple[str, ...] = ROLES) -> str:
    """The CPU µs cells of `roles`; "front" is the peer's own figure, else nginx's."""
    cpu = dict(row.get("cpu_us") or {})
    cpu.setdefault("front", cpu.get("nginx"))
    return " | ".join(f"{cpu[role]:.0f}" if cpu.get(role) is not None else "-" for role in roles)


def fronts(serving: list[dict[str, Any]]) -> list[str]:
    """Each front's CPU per request next to nginx's `return 200` of the same path."""
    names = ("nginx-return", "deployed", "deployed-plain", "deployed-h2", *PEERS)
    rows = [r for r in serving if r["config"] in names]
    if not any(r["config"] in PEERS for r in rows):
        return []
    answer = {r["path"]: (r.get("cpu_us") or {}).get("nginx") for r in rows if r["config"] == "nginx-return"}
    lines = [
        "",
        "## The fronts",
        "",
        "The deployed nginx site against Caddy and HAProxy (HTTPS with the site's certificate, "
        "keep-alive to the app's socket, a JSON access log: benchlib/peers.py) and against itself "
        "without TLS; the front's CPU µs per request from its unit's cgroup, and that over nginx's "
        "µs per `return 200` (plain HTTP, no log) of the same path in the same run.",
        "",
        "| front | path | req/s | p99 ms | errors | front µs | / nginx `return 200` µs | workers µs |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        cpu = r.get("cpu_us") or {}
        own = cpu.get("front", cpu.get("nginx"))
        base = answer.get(r["path"])
        times = f"{own / base:.1f}" if own and base else "-"
        workers = f"{cpu['workers']:.0f}" if "workers" in cpu else "-"
        lines.append(
            f"| {r['config']} | `{r['path']}` | {r['rps']:.0f} | {r['p99_ms']:.2f} | {r['errors']} | "
            f"{f'{own:.0f}' if own else '-'} | {times} | {workers} |"
        )
    return lines


def decomposition(parts: list[dict[str, Any]]) -> list[str]:
    """The decomposition table: each part of the proxied location alone, nginx µs against the bare proxy."""
    bare = next((r for r in parts if r["config"] == PREFIX + "proxy"), None)
    base = (bare or {}).get("cpu_us", {}).get("nginx")
    lines = [
        "",
        "## nginx's proxied location, part by part",
        "",
        f"`{parts[0]['path']}`, each variant a loopback server of its own with the site's certificate, "
        "proxying to the site's upstream (keep-alive, unix socket) with one part of the site's location "
        "added (benchlib/decompose.py). Δ nginx: µs per request above the bare proxy.",
        "",
        "| variant | req/s | errors | nginx µs | Δ nginx µs | workers µs | wrk µs |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in parts:
        nginx = (r.get("cpu_us") or {}).get("nginx")
        delta = f"{nginx - base:+.0f}" if nginx is not None and base is not None else "-"
        lines.append(
            f"| {r['config'].removeprefix(PREFIX)} | {r['rps']:.0f} | {r['errors']} | "
            f"{cpu_cells(r).split(' | ')[0]} | {delta} | {' | '.join(cpu_cells(r).split(' | ')[1:])} |"
        )
    return lines


def shipping(rows: list[dict[str, Any]]) -> list[str]:
    """The central log's CPU per request: nginx's access line into the journal and shipped (logs role)."""
    base = next((r for r in rows if r["config"] == SHIPPING + "access log file"), None)
    base_nginx = (base or {}).get("cpu_us", {}).get("nginx")
    lines = [
        "",
        "## The central log's cost per request",
        "",
        "nginx's `return 200` with the site's buffered JSON access log file alone; with each line also "
        "sent to journald as a syslog datagram; with the file followed into the journal by the logs "
        "role's follower (what the role does). The journal is shipped by the role's chain: "
        "systemd-journal-upload over TLS with a client certificate to stunnel, in front of "
        "systemd-journal-remote (all on this host here; the last two run on the log host). CPU µs per "
        "request of each unit (benchlib/shipping.py); shipping: journald, follower, upload, TLS front and "
        "receiver together; added: Δ nginx plus shipping, what one request's access line costs; "
        "received: the run's lines the receiver holds.",
        "",
        "| variant | req/s | nginx µs | Δ nginx µs | journald µs | follower µs | upload µs | tls front µs "
        "| receiver µs | shipping µs | added µs | received |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        cpu = r.get("cpu_us") or {}
        nginx = cpu.get("nginx")
        delta = nginx - base_nginx if nginx is not None and base_nginx is not None else None
        cells = " | ".join(f"{cpu.get(role, 0.0):.1f}" for role in (*SHIPPING_ROLES, "shipping"))
        added = f"{delta + cpu.get('shipping', 0.0):.1f}" if delta is not None else "-"
        own = f"{nginx:.1f}" if nginx is not None else "-"
        more = f"{delta:+.1f}" if delta is not None else "-"
        received = f"{cpu['received %']:.2f} %" if "received %" in cpu else "-"
        lines.append(
            f"| {r['config'].removeprefix(SHIPPING)} | {r['rps']:.0f} | {own} | {more} | "
            f"{cells} | {added} | {received} |"
        )
    return lines


def chart(data: dict[str, Any], path: Path) -> None:
    # Imported here: only the full benchmark needs matplotlib.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    compare = [
        r
        for r in data["serving"]
        if r["config"] != "sweep" and not r["config"].startswith((PREFIX, SHIPPING))
    ]
    sweep = [r for r in data["serving"] if r["config"] == "sweep"]
    fig, axes = plt.subplots(1, 2 if sweep else 1, figsize=(13 if sweep else 8, 4.8), squeeze=False)
    ax = axes[0][0]
    labels = [f"{r['config']}\n{r['path']}" for r in compare]
    ax.bar(range(len(compare)), [r["rps"] for r in compare], color="#4878a8")
    ax.set_xticks(range(len(compare)), labels, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("requests/s (bars)")
    ax.set_yscale("log")
    p99 = ax.twinx()
    p99.plot(range(len(compare)), [r["p99_ms"] for r in compare], "o", color="#c44e52")
    p99.set_ylabel("p99 latency, ms (dots)")
    ax.set_title("Throughput and p99 per configuration")
    if sweep:
        ax2 = axes[0][1]
        ax2.plot([r["workers"] for r in sweep], [r["rps"] for r in sweep], "o-", color="#4878a8")
        ax2.set_xlabel("Gunicorn workers (through nginx)")
        ax2.set_ylabel("requests/s")
        ax2.set_title(f"Worker sweep, {sweep[0]['path']}")
    fig.suptitle(f"make bench: {data['date']}, {data['machine']}", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def write(data: dict[str, Any], out: Path, *, with_chart: bool) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(data, indent=2) + "\n")
    (out / "results.md").write_text(markdown(data))
    if with_chart and data["serving"]:
        chart(data, out / "results.png")
    if with_chart and data.get("fleet"):
        fleet_chart(data, out / "results-fleet.png")
