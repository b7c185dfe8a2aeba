"""What of a project's tree a release ships: what git sees (or the directory), never secrets, virtualenvs
or caches, and what the operator leaves out."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "files"))

from project_tree import tree_files, write_tree_tar


def make_project(root: Path) -> Path:
    files = {
        "pyproject.toml": '[project]\nname = "x"\nversion = "1"\n',
        "alembic.ini": "[alembic]\nscript_location = alembic\n",
        "alembic/env.py": "# env\n",
        "alembic/versions/0001_init.py": "# 0001\n",
        "app/main.py": "app = None\n",
        "app/__pycache__/main.cpython-311.pyc": "bytecode",
        "data/categories.json": "[]\n",
        "tests/test_app.py": "def test(): pass\n",
        ".env": "SECRET_KEY=changethis\n",
        ".env.production": "SECRET_KEY=changethis\n",
        ".venv/pyvenv.cfg": "home = /usr/bin\n",
        ".venv/lib/site.py": "",
        "env/pyvenv.cfg": "home = /usr/bin\n",
        "build/lib/app/main.py": "",
        "node_modules/left-pad/index.js": "",
        "frontend/dist/index.html": "<html></html>\n",
        "scripts/prestart.sh": "#!/bin/sh\nalembic upgrade head\n",
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "scripts/prestart.sh").chmod(0o755)
    return root


SHIPPED = [
    "alembic.ini",
    "alembic/env.py",
    "alembic/versions/0001_init.py",
    "app/main.py",
    "data/categories.json",
    "frontend/dist/index.html",
    "pyproject.toml",
    "scripts/prestart.sh",
    "tests/test_app.py",
]


def test_a_directory_ships_its_files_without_secrets_venvs_caches_or_build_outputs(tmp_path: Path) -> None:
    assert tree_files(make_project(tmp_path)) == SHIPPED


def test_a_git_checkout_ships_what_git_tracks_or_would_track(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    (root / ".gitignore").write_text("data/local.db\n")
    (root / "data/local.db").write_text("sqlite")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "pyproject.toml", "app/main.py"], check=True)
    # Tracked, untracked and new files alike, as in the working tree; ignored ones not.
    assert tree_files(root) == sorted([*SHIPPED, ".gitignore"])


def test_a_directory_its_repository_ignores_is_walked(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("build/\n")
    assert tree_files(make_project(tmp_path / "build" / "copy")) == SHIPPED


def test_a_subdirectory_of_a_checkout_ships_only_itself(tmp_path: Path) -> None:
    make_project(tmp_path / "backend")
    (tmp_path / "README.md").write_text("monorepo\n")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    assert tree_files(tmp_path / "backend") == SHIPPED


@pytest.mark.parametrize(
    ("excludes", "gone"),
    [
        (("tests",), {"tests/test_app.py"}),
        (("tests/",), {"tests/test_app.py"}),
        (("*.ini", "alembic/versions/*"), {"alembic.ini", "alembic/versions/0001_init.py"}),
        (("frontend",), {"frontend/dist/index.html"}),
    ],
)
def test_the_operator_leaves_paths_out(tmp_path: Path, excludes: tuple[str, ...], gone: set[str]) -> None:
    assert tree_files(make_project(tmp_path), excludes) == [f for f in SHIPPED if f not in gone]


def test_a_name_the_release_directory_needs_is_refused(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    (root / "RUNTIME").write_text("mine\n")
    with pytest.raises(SystemExit, match="RUNTIME would overwrite"):
        tree_files(root)
    assert "RUNTIME" not in tree_files(root, ("RUNTIME",))


def test_the_archive_is_the_same_bytes_twice_and_keeps_the_executable_bit(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    first, second = tmp_path / "a.tar", tmp_path / "b.tar"
    write_tree_tar(root, tree_files(root), first)
    (root / "app/main.py").touch()  # a new mtime changes nothing
    write_tree_tar(root, tree_files(root), second)
    assert first.read_bytes() == second.read_bytes()
    with tarfile.open(first) as tar:
        modes = {member.name: member.mode for member in tar.getmembers()}
    assert modes["scripts/prestart.sh"] == 0o755
    assert modes["app/main.py"] == 0o644
    assert sorted(modes) == SHIPPED
