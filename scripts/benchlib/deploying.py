"""Deploy-speed benchmark: wall time of the playbook on a fresh sandbox host,
an idempotent re-run (also without the monitoring plays, for context) and a
code-only release (same pins, a new app version: releases are immutable, so
new code always comes with a new version), as the whole deploy.yml and as the
documented `--tags release` run."""

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

from benchlib import ssh

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class DeployRun:
    """One measured deploy; `seconds` is the median of `each` when it was repeated.

    `transport`: docker (docker exec as root) or ssh (deploy user, sudo, pipelining). `floor`: the
    median of the floor runs interleaved with this row's runs, where it has its own (the machine's
    speed drifts over the minutes between the floor rows and the later rows)."""

    name: str
    seconds: float
    changed: int
    each: tuple[float, ...] = ()
    transport: str = "docker"
    floor: float | None = None


FLOOR = Path(__file__).with_name("floor.yml")
WATCHED = "code-only release, watched"
# The code-only release as docs/releases.md has users run it: the `release` tag only.
TAGGED = "code-only release, --tags release"
DEPLOY = ROOT / "playbooks" / "deploy.yml"
FLOOR_ROUNDS = 3
LOGS = ROOT / "build" / "bench-logs"


def playbook(
    inventory: Path | str, container: str, https_port: int, *extra: str, play: Path = DEPLOY
) -> DeployRun:
    """One ansible-playbook run, its wall time and the most changed tasks of any host."""
    env = {
        **os.environ,
        "SANDBOX_NAME": container,
        "SANDBOX_HTTPS_PORT": str(https_port),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
    }
    start = time.monotonic()
    proc = subprocess.run(
        ["ansible-playbook", "-i", str(inventory), str(play), *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.monotonic() - start
    # Every run's output, for the task behind a changed count or a failure.
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / f"{time.strftime('%H%M%S')}-{play.stem}-{Path(str(inventory)).stem}.log"
    log.write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise RuntimeError(f"ansible-playbook failed:\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}")
    return DeployRun("", seconds, changed(proc.stdout))


def changed(stdout: str) -> int:
    """The most `changed=` of any host in the play recap (-1 without a recap)."""
    counts = [int(n) for n in re.findall(r"^\S+\s+: ok=\d+\s+changed=(\d+)", stdout, re.M)]
    return max(counts) if counts else -1


def bump_version(pyproject: Path, suffix: str) -> str:
    """Append a PEP 440 suffix (e.g. post1700000000) to the project's version; return the new one."""
    text = pyproject.read_text()
    match = re.search(r'(?m)^version = "([^"]+)"$', text)
    if match is None:
        raise RuntimeError(f"no version line in {pyproject}")
    version = f"{match.group(1)}.{suffix}"
    pyproject.write_text(text[: match.start(1)] + version + text[match.end(1) :])
    return version


def code_only(
    inventory: Path | str, container: str, https_port: int, *extra: str, watch: bool = False
) -> DeployRun:
    """A code-only release: the app's version bumped (a new one each call), pins unchanged. The
    post-switch watch is off unless `watch` (its window is waiting, not work: reported apart)."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "app"
        shutil.copytree(ROOT / "app", source, ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"))
        bump_version(source / "pyproject.toml", f"post{time.time_ns() // 1000}")
        watching = () if watch else ("-e", "app_watch_seconds=0")
        return playbook(inventory, container, https_port, "-e", f"app_source_dir={source}", *watching, *extra)


def sandbox(action: str, container: str, port: int, https_port: int) -> None:
    env = {**os.environ, "SANDBOX_NAME": container, "SANDBOX_PORT": str(port)}
    env["SANDBOX_HTTPS_PORT"] = str(https_port)
    subprocess.run([str(ROOT / "scripts" / "sandbox"), action], cwd=ROOT, env=env, check=True)


def ssh_inventory(container: str) -> Path:
    """The sandbox's inventory (its group_vars, the same host name and groups), over SSH."""
    private = ssh.key()
    host = ssh.open_ssh(container, private)
    hosts = [ssh.Host("fastapi-sandbox", host, ("app", "web", "monitoring"))]
    return ssh.write_inventory(
        ssh.SSH_DIR / "inventory-sandbox",
        hosts,
        {"fastapi-sandbox": ssh.host_vars(host, private)},
        ROOT / "inventory" / "sandbox" / "group_vars",
    )


def report_line(run: DeployRun) -> DeployRun:
    label = f"{run.name} ({run.transport})"
    floor = "" if run.floor is None else f"  its floor {run.floor:.1f} s"
    print(f"  {label:<36} {run.seconds:6.1f} s  changed={run.changed}  each {run.each}{floor}", flush=True)
    return run


def repeated(
    name: str, transport: str, runs: list[DeployRun], floors: list[DeployRun] | None = None
) -> DeployRun:
    each = tuple(round(r.seconds, 1) for r in runs)
    floor = statistics.median(f.seconds for f in floors) if floors else None
    return DeployRun(name, statistics.median(each), max(r.changed for r in runs), each, transport, floor)


def with_floors(
    inventory: Path, container: str, https_port: int, repeats: int, *extra: str
) -> tuple[list[DeployRun], list[DeployRun]]:
    """`repeats` code-only releases, each right after a floor run on the same transport."""
    floors, releases = [], []
    for _ in range(repeats):
        floors.append(playbook(inventory, container, https_port, play=FLOOR))
        releases.append(code_only(inventory, container, https_port, *extra))
    return releases, floors


def measure(
    container: str, port: int, https_port: int, *, repeats: int = 1, docker_first: bool = False
) -> list[DeployRun]:
    """One fresh host reached both ways (docker exec, SSH as a sudo user): first provisioning over
    SSH (and over docker exec on a second fresh host with `docker_first`), then `repeats` rounds of
    re-run and floor (at least FLOOR_ROUNDS of the floor) on each transport, interleaved, then
    `repeats` code-only releases on each transport and as `--tags release`, then one watched.
    Leaves the host deployed."""
    runs: list[DeployRun] = []
    docker_inv = ROOT / "inventory" / "sandbox"
    if docker_first:
        sandbox("down", container, port, https_port)
        sandbox("up", container, port, https_port)
        first = playbook(docker_inv, container, https_port)
        runs.append(report_line(repeated("first provisioning", "docker", [first])))
    sandbox("down", container, port, https_port)
    sandbox("up", container, port, https_port)
    ssh_inv = ssh_inventory(container)
    first = playbook(ssh_inv, container, https_port)
    runs.append(report_line(repeated("first provisioning", "ssh", [first])))
    inventories = {"docker": docker_inv, "ssh": ssh_inv}
    rounds: dict[tuple[str, str], list[DeployRun]] = {}
    # Interleaved, round after round: the machine's drift is shared by both transports. The floor
    # is cheap and every multiple divides by it: at least FLOOR_ROUNDS of it.
    for number in range(max(repeats, FLOOR_ROUNDS)):
        for transport, inventory in inventories.items():
            if number < repeats:
                rounds.setdefault(("idempotent re-run", transport), []).append(
                    playbook(inventory, container, https_port)
                )
            rounds.setdefault(("floor", transport), []).append(
                playbook(inventory, container, https_port, play=FLOOR)
            )
    for (name, transport), each in rounds.items():
        runs.append(report_line(repeated(name, transport, each)))
    # Each release `repeats` times, its median reported: one run of ~15 s varies by a second on a
    # 2-core machine. Each after a floor run, whose median is the row's own floor: the machine's
    # speed drifts over the minutes since the floor rows. Past app_releases_keep releases, each
    # also prunes the oldest, as every release of a host in service does.
    for transport, inventory in inventories.items():
        releases, floors = with_floors(inventory, container, https_port, repeats)
        runs.append(report_line(repeated("code-only release", transport, releases, floors)))
    # The documented command for it (docs/releases.md): only the release's tasks (and the version
    # probe's), over SSH as users run it.
    tagged, floors = with_floors(inventories["ssh"], container, https_port, repeats, "--tags", "release")
    runs.append(report_line(repeated(TAGGED, "ssh", tagged, floors)))
    # The same release with the post-switch watch at its default (30 s): the window and its reads,
    # apart from the release's work.
    watched = code_only(inventories["ssh"], container, https_port, watch=True)
    runs.append(report_line(repeated(WATCHED, "ssh", [watched])))
    return runs
