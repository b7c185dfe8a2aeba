"""Deploy-speed benchmark: wall time of the playbook on a fresh sandbox host,
an idempotent re-run (also without the monitoring plays, for context) and a
code-only release (same pins, a new app version: releases are immutable, so
new code always comes with a new version)."""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class DeployRun:
    """One measured deploy; `seconds` is the median of `each` when it was repeated."""

    name: str
    seconds: float
    changed: int
    each: tuple[float, ...] = ()


def playbook(container: str, https_port: int, *extra: str) -> DeployRun:
    env = {
        **os.environ,
        "SANDBOX_NAME": container,
        "SANDBOX_HTTPS_PORT": str(https_port),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
    }
    start = time.monotonic()
    proc = subprocess.run(
        ["ansible-playbook", "-i", "inventory/sandbox", "playbooks/deploy.yml", *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        raise RuntimeError(f"ansible-playbook failed:\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}")
    recap = re.search(r"^\S+\s+: ok=\d+\s+changed=(\d+)", proc.stdout, re.M)
    return DeployRun("", seconds, int(recap.group(1)) if recap else -1)


def bump_version(pyproject: Path, suffix: str) -> str:
    """Append a PEP 440 suffix (e.g. post1700000000) to the project's version; return the new one."""
    text = pyproject.read_text()
    match = re.search(r'(?m)^version = "([^"]+)"$', text)
    if match is None:
        raise RuntimeError(f"no version line in {pyproject}")
    version = f"{match.group(1)}.{suffix}"
    pyproject.write_text(text[: match.start(1)] + version + text[match.end(1) :])
    return version


def sandbox(action: str, container: str, port: int, https_port: int) -> None:
    env = {**os.environ, "SANDBOX_NAME": container, "SANDBOX_PORT": str(port)}
    env["SANDBOX_HTTPS_PORT"] = str(https_port)
    subprocess.run([str(ROOT / "scripts" / "sandbox"), action], cwd=ROOT, env=env, check=True)


def measure(container: str, port: int, https_port: int) -> list[DeployRun]:
    """Fresh host, re-runs (median of three), code-only release; leaves the host deployed."""
    sandbox("down", container, port, https_port)
    sandbox("up", container, port, https_port)
    runs = []
    for name, extra, times in (
        ("first provisioning", (), 1),
        # Repeated: a re-run is short, and the machine's speed drifts.
        ("idempotent re-run", (), 3),
        # Context: the same without the sandbox's monitoring plays (Prometheus, exporters).
        ("re-run, --skip-tags monitoring", ("--skip-tags", "monitoring"), 3),
    ):
        repeats = [playbook(container, https_port, *extra) for _ in range(times)]
        each = tuple(round(r.seconds, 1) for r in repeats)
        run = DeployRun(name, statistics.median(each), max(r.changed for r in repeats), each)
        runs.append(run)
        print(f"  {name:<30} {run.seconds:6.1f} s  changed={run.changed}  each {each}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "app"
        shutil.copytree(ROOT / "app", source, ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"))
        bump_version(source / "pyproject.toml", f"post{int(time.time())}")
        run = playbook(container, https_port, "-e", f"app_source_dir={source}")
    runs.append(DeployRun("code-only release", run.seconds, run.changed, (round(run.seconds, 1),)))
    print(f"  {'code-only release':<30} {run.seconds:6.1f} s  changed={run.changed}", flush=True)
    return runs
