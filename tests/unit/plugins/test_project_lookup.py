"""The `project` lookup (the app role's first-play read of the project) on real project trees."""

from __future__ import annotations

import shutil
from pathlib import Path

from plugin_source import ROOT, load

describe = load("lookup/project.py").describe


def test_a_locked_project_names_its_version_its_lock_and_the_pythons_it_accepts() -> None:
    # examples/shelf: a uv project (uv.lock) requiring Python >= 3.12.
    found = describe(str(ROOT / "examples" / "shelf"), "", ["3.11.2", "3.13.5"])
    assert "error" not in found, found
    assert found["requires_python"] == ">=3.12"
    assert found["pins"].endswith("uv.lock")
    assert found["python_ok"] == {"3.11.2": False, "3.13.5": True}


def test_a_dynamic_version_is_the_line_that_says_what_to_set(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\ndynamic = ["version"]\n')
    found = describe(str(tmp_path), "", [])
    assert set(found) == {"error"}
    assert "it has a dynamic one" in found["error"]
    assert 'set [project] version = "..."' in found["error"]


def test_a_broken_pyproject_is_named_with_the_parser_line(tmp_path: Path) -> None:
    shutil.copy(ROOT / "app" / "pyproject.toml", tmp_path / "pyproject.toml")
    with (tmp_path / "pyproject.toml").open("a") as handle:
        handle.write("[project\n")
    found = describe(str(tmp_path), "", [])
    assert found["error"].startswith("tomllib.TOMLDecodeError: "), found
