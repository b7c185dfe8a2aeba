"""The `wheelhouse` action (the app role's build on the controller): the build script run for real."""

from __future__ import annotations

import subprocess
from pathlib import Path

from plugin_source import ROOT, load

action = load("action/wheelhouse.py")
DEFAULTS = {"constraints": "", "index_url": "", "groups": [], "extras": [], "exclude": []}


def build(app_dir: Path, out: Path) -> dict:
    args = {**DEFAULTS, "app_dir": str(app_dir), "python": "3.11", "arch": "x86_64", "out": str(out)}
    proc = subprocess.run(action.command(args), capture_output=True, text=True, check=False)
    return action.outcome(proc)


def test_the_demo_builds_once_then_is_up_to_date(tmp_path: Path) -> None:
    out = tmp_path / "cp311-x86_64"
    first = build(ROOT / "app", out)
    assert first["changed"], first
    assert not first.get("failed"), first
    # The server the demo's pins lack, and the package every release carries beside the app.
    pins = (out / "requirements.lock").read_text()
    assert "gunicorn==" in pins, pins
    assert "deploy-observe==" in pins, pins
    again = build(ROOT / "app", out)
    assert not again["changed"], again
    assert not again.get("failed"), again
    assert again["stdout"].strip().endswith("is up to date")


def test_a_project_the_build_refuses_fails_with_its_reason_as_the_message(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\ndynamic = ["version"]\n')
    result = build(tmp_path, tmp_path / "out")
    assert result["failed"], result
    assert not result["changed"], result
    assert "it has a dynamic one" in result["msg"], result
    assert "Traceback" not in result["msg"]
    assert not (tmp_path / "out").exists()


def test_groups_extras_and_excludes_reach_the_script_one_flag_each() -> None:
    args = {**DEFAULTS, "app_dir": "/src", "python": "3.13", "arch": "aarch64", "out": "/w"}
    args |= {"groups": ["web", "db"], "extras": ["pg"], "exclude": ["tests/*"]}
    argv = action.command(args)
    assert argv[argv.index("--python") + 1] == "3.13"
    assert argv[argv.index("--arch") + 1] == "aarch64"
    assert [a for a in argv if a.startswith(("--group=", "--extra=", "--exclude="))] == [
        "--group=web",
        "--group=db",
        "--extra=pg",
        "--exclude=tests/*",
    ]
    # The role's own inputs are files of the role.
    for flag in ("--extra-dir", "--add-pins", "--installer"):
        assert Path(argv[argv.index(flag) + 1]).exists(), flag
