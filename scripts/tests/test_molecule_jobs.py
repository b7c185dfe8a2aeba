"""scripts/molecule_jobs.py: jobs side by side, never two of one scenario, every failure reported."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import molecule_jobs

# A stand-in for molecule: notes when each scenario starts and ends, fails the scenario "bad".
FAKE = """#!/bin/sh
echo "start $3 $MOLECULE_DISTRO $(date +%s.%N)" >> "$TRACE"
sleep 0.6
echo "end $3 $MOLECULE_DISTRO $(date +%s.%N)" >> "$TRACE"
echo "output of $3 on $MOLECULE_DISTRO"
[ "$3" != bad ]
"""


def fake_molecule(tmp_path: Path) -> Path:
    path = tmp_path / "molecule"
    path.write_text(FAKE)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def spans(trace: Path) -> dict[tuple[str, str], tuple[float, float]]:
    times: dict[tuple[str, str], list[float]] = {}
    for line in trace.read_text().splitlines():
        _, scenario, distro, at = line.split()
        times.setdefault((scenario, distro), []).append(float(at))
    return {job: (min(at), max(at)) for job, at in times.items()}


def run(tmp_path: Path, *jobs: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            molecule_jobs.__file__,
            "--jobs",
            "2",
            "--logs",
            str(tmp_path / "logs"),
            "--molecule",
            str(fake_molecule(tmp_path)),
            *jobs,
        ],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "TRACE": str(tmp_path / "trace")},
        timeout=60,
    )


def overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def test_two_scenarios_run_side_by_side_and_one_scenario_never_twice(tmp_path: Path) -> None:
    result = run(tmp_path, "default:debian12", "default:debian13", "release:debian12")
    assert result.returncode == 0, result.stdout + result.stderr
    ran = spans(tmp_path / "trace")
    assert overlap(ran["default", "debian12"], ran["release", "debian12"])
    assert not overlap(ran["default", "debian12"], ran["default", "debian13"])
    assert "3 of 3 jobs passed" in result.stdout
    assert (tmp_path / "logs/default-debian13.log").read_text() == "output of default on debian13\n"


def test_a_failed_job_fails_the_run_and_prints_its_log(tmp_path: Path) -> None:
    result = run(tmp_path, "bad:debian12", "default:debian12")
    assert result.returncode == 1
    assert "bad:debian12 FAILED (rc 1)" in result.stdout
    assert "1 of 2 jobs passed" in result.stdout
    log = result.stdout.split("===== bad:debian12")[1]
    assert "output of bad on debian12" in log
    assert "output of default" not in log


def test_a_job_without_a_distro_is_refused(tmp_path: Path) -> None:
    result = run(tmp_path, "default")
    assert result.returncode == 2
    assert "job 'default' must be <scenario>:<distro>" in result.stderr


def test_a_newest_core_job_runs_its_scenario_in_the_controller_container(tmp_path: Path) -> None:
    job = molecule_jobs.parse_job("default:debian13@newest", tmp_path)
    assert (job.name, job.log.name) == ("default:debian13@newest", "default-debian13-newest.log")
    command = job.command("/venv/bin/molecule")
    assert command[0].endswith("scripts/newest-core")
    assert command[1:] == ["molecule", "test", "-s", "default"]
    plain = molecule_jobs.parse_job("default:debian12", tmp_path)
    assert plain.command("/venv/bin/molecule") == ["/venv/bin/molecule", "test", "-s", "default"]
