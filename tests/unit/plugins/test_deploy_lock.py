"""The deploy lock module's own logic, run here as the host would run it (root: the state
directory's owner is root)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from plugin_source import load, run_module

MODULE = "modules/deploy_lock.py"
ROOT = os.geteuid() == 0
deploy_lock = load(MODULE)


def run(args: dict[str, object], tmp_path: Path) -> dict[str, object]:
    return run_module(MODULE, args, tmp_path)[1]


@pytest.mark.skipif(not ROOT, reason="the state directory is root's")
def test_lock_makes_its_directory_and_puts_its_mode_back(tmp_path: Path) -> None:
    state = tmp_path / "state"
    holder = {"run": "r1", "user": "me"}
    first = run({"path": str(state / "app.lock"), "holder": holder, "directory_mode": "0750"}, tmp_path)
    assert first["changed"] is True
    assert first["directory_changed"] is True
    assert oct(state.stat().st_mode & 0o7777) == "0o750"
    assert json.loads((state / "app.lock").read_text())["run"] == "r1"
    # Held by the same run: kept, the directory as it should be.
    again = run({"path": str(state / "app.lock"), "holder": holder, "directory_mode": "0750"}, tmp_path)
    assert (again["changed"], again["directory_changed"]) == (False, False)
    state.chmod(0o777)
    fixed = run({"path": str(state / "app.lock"), "holder": holder, "directory_mode": "0750"}, tmp_path)
    assert fixed["directory_changed"] is True
    assert oct(state.stat().st_mode & 0o7777) == "0o750"


@pytest.mark.skipif(not ROOT, reason="the state directory is root's")
def test_ensure_directory_sets_owner(tmp_path: Path) -> None:
    path = tmp_path / "d"
    path.mkdir(mode=0o750)
    path.chmod(0o750)
    os.chown(path, 1, 1)
    assert deploy_lock.ensure_directory(str(path), 0o750) is True
    assert (path.stat().st_uid, path.stat().st_gid) == (0, 0)
    assert deploy_lock.ensure_directory(str(path), 0o750) is False


def test_another_runs_lock_is_refused_after_the_wait(tmp_path: Path) -> None:
    lock = tmp_path / "app.lock"
    lock.write_text(json.dumps({"run": "other", "user": "ann", "playbook": "deploy.yml", "since": "then"}))
    result = run({"path": str(lock), "holder": {"run": "mine"}, "wait": 0}, tmp_path)
    assert result["failed"] is True
    assert result["held"] is True
    assert "held by ann@?" in str(result["msg"])
