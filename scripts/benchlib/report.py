"""Figures out: a JSON record, a markdown table and a PNG chart."""

from __future__ import annotations

import json
import platform
import statistics
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchlib.deploying import DeployRun
from benchlib.serving import Run

TARGETS = {
    "proxy cost (deployed / gunicorn)": ("deployed", "gunicorn", 0.95),
    "deployment gain (deployed / uvicorn)": ("deployed", "uvicorn", 1.5),
}
DEPLOY_LIMITS = {"first provisioning": 180.0, "idempotent re-run": 15.0, "code-only release": 45.0}


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
    rounds = {(r.config, r.path): r.rounds or [r.result.rps] for r in runs if r.config != "sweep"}
    out: dict[str, dict[str, float | bool | str]] = {}

    def add(name: str, num: tuple[str, str], den: tuple[str, str], target: float | str = "") -> None:
        if num in rounds and den in rounds:
            value = paired(rounds[num], rounds[den])
            met = True if target == "" else value >= float(target)
            out[name] = {"value": round(value, 3), "target": target, "met": met}

    for path in sorted({path for _, path in rounds}):
        for label, (num, den, target) in TARGETS.items():
            add(f"{label} {path}", (num, path), (den, path), target)
        add(f"deployed / uvicorn without access log {path}", ("deployed", path), ("uvicorn-no-log", path))
        add(f"upstream keep-alive gain {path}", ("deployed", path), ("deployed-no-ka", path))
    sweep_default(runs, out)
    return out


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


def record(runs: list[Run], deploys: list[DeployRun], settings: dict[str, Any]) -> dict[str, Any]:
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
            }
            for r in runs
        ],
        "ratios": ratios(runs),
        "deploy": [
            {
                "name": d.name,
                "seconds": round(d.seconds, 1),
                "changed": d.changed,
                "each": list(d.each),
                "limit": DEPLOY_LIMITS.get(d.name),
                "met": d.name not in DEPLOY_LIMITS or d.seconds <= DEPLOY_LIMITS[d.name],
            }
            for d in deploys
        ],
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
        "| configuration | path | workers | req/s | p50 ms | p99 ms | errors | req/s per round |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in data["serving"]:
        per_round = " / ".join(f"{rps:.0f}" for rps in r.get("rounds_rps", []))
        lines.append(
            f"| {r['config']} | `{r['path']}` | {r['workers'] or '-'} | {r['rps']:.0f} | "
            f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['errors']} | {per_round} |"
        )
    lines += ["", "## Ratios", "", "| ratio | value | target | met |", "| --- | ---: | ---: | --- |"]
    for name, r in data["ratios"].items():
        target = f"≥ {r['target']}" if r["target"] != "" else ""
        met = "-" if r["target"] == "" else "yes" if r["met"] else "**no**"
        lines.append(f"| {name} | {r['value']:.2f} | {target} | {met} |")
    if data["deploy"]:
        lines += [
            "",
            "## Deploying",
            "",
            "| run | seconds | changed | target | met | each run (s) |",
            "| --- | ---: | ---: | ---: | --- | --- |",
        ]
        for d in data["deploy"]:
            limit, met = (
                ("", "-")
                if d["limit"] is None
                else (f"≤ {d['limit']:.0f} s", "yes" if d["met"] else "**no**")
            )
            each = " / ".join(f"{s:.1f}" for s in d.get("each", []))
            lines.append(f"| {d['name']} | {d['seconds']:.1f} | {d['changed']} | {limit} | {met} | {each} |")
    return "\n".join(lines) + "\n"


def chart(data: dict[str, Any], path: Path) -> None:
    # Imported here: only the full benchmark needs matplotlib.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    compare = [r for r in data["serving"] if r["config"] != "sweep"]
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
    if with_chart:
        chart(data, out / "results.png")
