#!/usr/bin/env python3
"""Run `molecule test` of several scenario:distro jobs, a few at a time.

A scenario spends much of its run waiting: containers booting, apt, health gates,
alert windows, load held for seconds. Two jobs side by side keep both cores busy.
Two jobs of the same scenario never overlap (they share Molecule's ephemeral
directory); everything else a scenario writes on the controller is its own
(.config/molecule/config.yml puts the wheelhouse and the self-signed CA in that
directory; containers and networks carry the scenario's name).

A job named <scenario>:<distro>@newest runs on the newest ansible-core, from a Debian 13
controller container (scripts/newest-core): the lane that proves each change on the
Ansible users run.

Each job's output goes to <logs>/<scenario>-<distro>[-newest].log; one line per job start and
end goes to stdout, then a summary, then the whole log of every job that failed.
Jobs start in the order given (longest first keeps the lanes even). Exit status 1
when a job failed.

    scripts/molecule_jobs.py --jobs 2 default:debian12 default:debian13 release:debian12
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Job:
    scenario: str
    distro: str
    log: Path
    newest: bool = False
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    seconds: float = 0.0
    returncode: int | None = None

    @property
    def name(self) -> str:
        return f"{self.scenario}:{self.distro}{'@newest' if self.newest else ''}"

    def command(self, molecule: str) -> list[str]:
        if not self.newest:
            return [molecule, "test", "-s", self.scenario]
        return [str(ROOT / "scripts/newest-core"), "molecule", "test", "-s", self.scenario]


def parse_job(text: str, logs: Path) -> Job:
    text, _, core = text.partition("@")
    scenario, sep, distro = text.partition(":")
    if not sep or not scenario or not distro or core not in ("", "newest"):
        raise argparse.ArgumentTypeError(f"job {text!r} must be <scenario>:<distro>[@newest]")
    suffix = "-newest" if core else ""
    return Job(scenario, distro, logs / f"{scenario}-{distro}{suffix}.log", newest=bool(core))


def image_name(distro: str) -> str:
    """The image scripts/sandbox-image builds for a distro (it prints the name only)."""
    result = subprocess.run(
        [str(ROOT / "scripts/sandbox-image"), "--name", distro], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def start(job: Job, molecule: str) -> None:
    env = {
        **os.environ,
        # Molecule runs ansible-playbook and friends from PATH: its own virtualenv's first.
        "PATH": f"{Path(molecule).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        # Plain text in the log files.
        "NO_COLOR": "1",
        "PY_COLORS": "0",
        "MOLECULE_DISTRO": job.distro,
        "MOLECULE_IMAGE": image_name(job.distro),
    }
    job.log.parent.mkdir(parents=True, exist_ok=True)
    with job.log.open("wb") as log:
        # A process group of its own: an interrupt stops the job's whole tree.
        job.process = subprocess.Popen(
            job.command(molecule),
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    job.started = time.monotonic()
    print(f"molecule: start {job.name} (log {job.log})", flush=True)


def next_job(waiting: list[Job], running: list[Job]) -> Job | None:
    """The first waiting job whose scenario is not running."""
    busy = {job.scenario for job in running}
    return next((job for job in waiting if job.scenario not in busy), None)


def run(jobs: list[Job], parallel: int, molecule: str) -> list[Job]:
    waiting, running, done = list(jobs), [], []
    try:
        while waiting or running:
            while len(running) < parallel and (job := next_job(waiting, running)):
                waiting.remove(job)
                start(job, molecule)
                running.append(job)
            time.sleep(1)
            for job in [job for job in running if job.process and job.process.poll() is not None]:
                running.remove(job)
                job.returncode = job.process.returncode
                job.seconds = time.monotonic() - job.started
                verdict = "passed" if job.returncode == 0 else f"FAILED (rc {job.returncode})"
                print(f"molecule: {job.name} {verdict} in {job.seconds:.0f} s", flush=True)
                done.append(job)
    except KeyboardInterrupt:
        for job in running:
            if job.process:
                os.killpg(job.process.pid, signal.SIGTERM)
        raise
    return done


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="jobs at a time (default 2)")
    parser.add_argument("--logs", type=Path, default=ROOT / "build/molecule-logs", help="log directory")
    parser.add_argument("--molecule", default=str(Path(sys.executable).parent / "molecule"))
    parser.add_argument("job", nargs="+", help="<scenario>:<distro>[@newest]")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1 (got {args.jobs})")
    try:
        jobs = [parse_job(text, args.logs.resolve()) for text in args.job]
    except argparse.ArgumentTypeError as error:
        parser.error(str(error))
    began = time.monotonic()
    done = run(jobs, args.jobs, args.molecule)
    failed = [job for job in done if job.returncode != 0]
    took = time.monotonic() - began
    print(f"\nmolecule: {len(done) - len(failed)} of {len(done)} jobs passed in {took:.0f} s")
    for job in done:
        print(f"  {job.name:<24} {'ok' if job.returncode == 0 else 'FAILED':<7} {job.seconds:6.0f} s")
    for job in failed:
        print(f"\n===== {job.name}: {job.log} =====", flush=True)
        sys.stdout.write(job.log.read_text(errors="replace"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
