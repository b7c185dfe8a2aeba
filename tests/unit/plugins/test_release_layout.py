"""release_layout (the app role's links and pruning) run as Ansible runs it, against a real layout."""

from __future__ import annotations

from pathlib import Path

import pytest

from plugin_source import run_module


def run(args: dict[str, object], tmp_path: Path, check: bool = False) -> dict[str, object]:
    return run_module("modules/release_layout.py", args, tmp_path, check_mode=check)[1]


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    home = tmp_path / "opt-app"
    for version in ("1.0", "1.1", "1.2"):
        (home / "releases" / version / "venv").mkdir(parents=True)
    (home / "configs" / "releases").mkdir(parents=True)
    (home / "configs" / "abc").mkdir()
    (home / "configs" / "releases" / "1.0").symlink_to("../abc")
    (home / "current").symlink_to("releases/1.2")
    (home / "previous").symlink_to("releases/1.0")
    return home


def test_links_point_where_asked_and_a_second_run_changes_nothing(layout: Path, tmp_path: Path) -> None:
    args = {
        "links": [
            {"path": str(layout / "previous"), "src": "releases/1.1"},
            {"path": str(layout / "current-config"), "src": "configs/abc"},
        ]
    }
    first = run(args, tmp_path)
    assert first["changed"] is True
    assert first["linked"] == [str(layout / "previous"), str(layout / "current-config")]
    assert (layout / "previous").readlink() == Path("releases/1.1")
    assert (layout / "current-config").readlink() == Path("configs/abc")
    assert (layout / "previous" / "venv").is_dir()
    assert not list(layout.glob("*.new.*"))
    again = run(args, tmp_path)
    assert (again["changed"], again["linked"], again["removed"]) == (False, [], [])


def test_check_mode_reports_and_changes_nothing(layout: Path, tmp_path: Path) -> None:
    args = {
        "links": [{"path": str(layout / "previous"), "src": "releases/1.1"}],
        "absent": [str(layout / "releases" / "1.0")],
    }
    checked = run(args, tmp_path, check=True)
    assert checked["changed"] is True
    assert (
        checked["diff"]["before"] == f"{layout / 'previous'} -> releases/1.0\n{layout / 'releases' / '1.0'}\n"
    )
    assert checked["diff"]["after"] == f"{layout / 'previous'} -> releases/1.1\n"
    assert (layout / "previous").readlink() == Path("releases/1.0")
    assert (layout / "releases" / "1.0" / "venv").is_dir()


def test_absent_removes_trees_and_links_and_skips_what_is_gone(layout: Path, tmp_path: Path) -> None:
    gone = [
        str(layout / "releases" / "1.0"),
        str(layout / "configs" / "releases" / "1.0"),
        str(layout / "nope"),
    ]
    result = run({"absent": gone}, tmp_path)
    assert result["changed"] is True
    assert result["removed"] == gone[:2]
    assert not (layout / "releases" / "1.0").exists()
    assert not (layout / "configs" / "releases" / "1.0").is_symlink()
    # The link went, not what it pointed at.
    assert (layout / "configs" / "abc").is_dir()
    assert run({"absent": gone}, tmp_path)["changed"] is False


def test_a_link_to_nothing_is_refused_and_the_old_link_kept(layout: Path, tmp_path: Path) -> None:
    result = run({"links": [{"path": str(layout / "current"), "src": "releases/9.9"}]}, tmp_path)
    assert result["failed"] is True
    assert "releases/9.9 does not exist" in result["msg"]
    assert (layout / "current").readlink() == Path("releases/1.2")


def test_a_directory_is_never_replaced_by_a_link(layout: Path, tmp_path: Path) -> None:
    (layout / "previous").unlink()
    (layout / "previous").mkdir()
    result = run({"links": [{"path": str(layout / "previous"), "src": "releases/1.1"}]}, tmp_path)
    assert result["failed"] is True
    assert (layout / "previous").is_dir()
    assert not (layout / "previous").is_symlink()
