"""The app's pins read from the project as it is: which file, which packages for the host's Python,
with their hashes; and the sdists a lock fetched, built or refused."""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest

FILES = Path(__file__).resolve().parents[1] / "files"
sys.path.insert(0, str(FILES))

import build_wheelhouse  # noqa: E402
from project_pins import (  # noqa: E402
    find_source,
    marker_environment,
    poetry_pins,
    project_pins,
    pylock_pins,
    read_requirements_text,
)

PY313 = marker_environment("3.13", "x86_64")
PY311 = marker_environment("3.11", "x86_64")

POETRY_LOCK = """\
[[package]]
name = "fastapi"
version = "0.165.0"
optional = false
python-versions = ">=3.9"
groups = ["main"]
files = [
    {file = "fastapi-0.165.0-py3-none-any.whl", hash = "sha256:aaaa"},
    {file = "fastapi-0.165.0.tar.gz", hash = "sha256:bbbb"},
]

[[package]]
name = "tomli"
version = "2.2.1"
optional = false
python-versions = ">=3.8"
groups = ["main"]
markers = "python_version < \\"3.11\\""
files = [{file = "tomli-2.2.1-py3-none-any.whl", hash = "sha256:cccc"}]

[[package]]
name = "Typing_Extensions"
version = "4.16.0"
optional = false
python-versions = ">=3.9"
groups = ["main", "dev"]
markers = {main = "python_version < \\"3.13\\"", dev = "python_version >= \\"3.8\\""}
files = [{file = "typing_extensions-4.16.0-py3-none-any.whl", hash = "sha256:dddd"}]

[[package]]
name = "pytest"
version = "9.2.0"
optional = false
python-versions = ">=3.9"
groups = ["dev"]
files = [{file = "pytest-9.2.0-py3-none-any.whl", hash = "sha256:eeee"}]

[[package]]
name = "psycopg-binary"
version = "3.3.2"
optional = true
python-versions = ">=3.9"
groups = ["main"]
files = [{file = "psycopg_binary-3.3.2-cp313-cp313-manylinux_2_28_x86_64.whl", hash = "sha256:ffff"}]

[extras]
binary = ["psycopg-binary"]

[metadata]
lock-version = "2.1"
python-versions = ">=3.11"
content-hash = "0"
"""


def test_poetry_lock_main_group_markers_for_the_host_and_hashes(tmp_path: Path) -> None:
    lock = tmp_path / "poetry.lock"
    lock.write_text(POETRY_LOCK)
    pins = poetry_pins(lock, [], [], PY313)
    assert pins.complete
    # tomli only below 3.11; typing-extensions in main only below 3.13; pytest is dev; psycopg an extra.
    assert pins.lines == ["fastapi==0.165.0"]
    assert pins.hashes == {"fastapi": ["aaaa", "bbbb"]}
    assert poetry_pins(lock, [], [], PY311).lines == ["fastapi==0.165.0", "typing-extensions==4.16.0"]
    with_dev = poetry_pins(lock, ["dev"], ["binary"], PY313).lines
    assert with_dev == [
        "fastapi==0.165.0",
        "typing-extensions==4.16.0",
        "pytest==9.2.0",
        "psycopg-binary==3.3.2",
    ]


def test_an_old_poetry_lock_without_groups_is_refused_with_what_to_do(tmp_path: Path) -> None:
    lock = tmp_path / "poetry.lock"
    lock.write_text(POETRY_LOCK.replace('lock-version = "2.1"', 'lock-version = "2.0"'))
    with pytest.raises(SystemExit, match=r"lock-version 2\.0 records no dependency groups"):
        poetry_pins(lock, [], [], PY313)


def test_pylock_packages_by_marker_extras_and_groups(tmp_path: Path) -> None:
    lock = tmp_path / "pylock.toml"
    lock.write_text(
        textwrap.dedent(
            """\
            lock-version = "1.0"
            created-by = "uv"
            [[packages]]
            name = "fastapi"
            version = "0.165.0"
            wheels = [{name = "fastapi-0.165.0-py3-none-any.whl", hashes = {sha256 = "aaaa"}}]
            [[packages]]
            name = "exceptiongroup"
            version = "1.3.0"
            marker = "python_full_version < '3.11'"
            wheels = [{name = "exceptiongroup-1.3.0-py3-none-any.whl", hashes = {sha256 = "bbbb"}}]
            [[packages]]
            name = "pytest"
            version = "9.2.0"
            marker = "'dev' in dependency_groups"
            wheels = [{name = "pytest-9.2.0-py3-none-any.whl", hashes = {sha256 = "cccc"}}]
            [[packages]]
            name = "docopt"
            version = "0.6.2"
            sdist = {name = "docopt-0.6.2.tar.gz", hashes = {sha256 = "dddd"}}
            """
        )
    )
    pins = pylock_pins(lock, [], [], PY313)
    assert pins.lines == ["fastapi==0.165.0", "docopt==0.6.2"]
    assert pins.hashes == {"fastapi": ["aaaa"], "docopt": ["dddd"]}
    assert "pytest==9.2.0" in pylock_pins(lock, ["dev"], [], PY313).lines


def test_requirements_with_continuations_hashes_and_markers(tmp_path: Path) -> None:
    text = (
        "# exported\n"
        "fastapi==0.165.0 \\\n    --hash=sha256:aaaa \\\n    --hash=sha256:bbbb\n"
        "tomli==2.2.1 ; python_full_version < '3.11' \\\n    --hash=sha256:cccc\n"
    )
    assert read_requirements_text(text)[0] == "fastapi==0.165.0 --hash=sha256:aaaa --hash=sha256:bbbb"
    lock = tmp_path / "requirements.txt"
    lock.write_text(text)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1"\n')
    pins = project_pins(tmp_path, {"name": "x"}, None, [], [], "3.13", "x86_64")
    assert (pins.lines, pins.complete) == (["fastapi==0.165.0"], True)
    assert pins.hashes["fastapi"] == ["aaaa", "bbbb"]
    # Without hashes a requirements file is resolved (pip's usual download), not taken as complete.
    lock.write_text("fastapi>=0.110\n")
    assert not project_pins(tmp_path, {"name": "x"}, None, [], [], "3.13", "x86_64").complete


def test_a_workspace_lock_is_found_above_the_app_up_to_the_git_root(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    app = tmp_path / "services" / "api"
    app.mkdir(parents=True)
    (app / "requirements.txt").write_text("fastapi\n")
    assert find_source(app) == ("requirements", app / "requirements.txt")
    (tmp_path / "uv.lock").write_text("version = 1\n")
    assert find_source(app) == ("uv.lock", tmp_path / "uv.lock")
    (app / "poetry.lock").write_text("")
    assert find_source(app) == ("poetry.lock", (app / "poetry.lock").resolve())


def sdist(tmp_path: Path, name: str, native: bool) -> Path:
    """A minimal sdist of `name` 1.0, with a C extension if `native`."""
    src = tmp_path / f"{name}-1.0"
    (src / name).mkdir(parents=True)
    (src / name / "__init__.py").write_text("")
    ext = f"ext_modules=[Extension('{name}._speed', ['{name}/_speed.c'])]," if native else ""
    (src / name / "_speed.c").write_text("#include <Python.h>\nthis does not compile;\n")
    (src / "setup.py").write_text(
        "from setuptools import setup, Extension\n"
        f"setup(name='{name}', version='1.0', packages=['{name}'], {ext})\n"
    )
    (src / "PKG-INFO").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    archive = tmp_path / "staging" / f"{name}-1.0.tar.gz"
    archive.parent.mkdir(exist_ok=True)
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(src, arcname=src.name)
    return archive


def test_a_pure_sdist_is_built_and_a_native_one_refused_by_name(tmp_path: Path) -> None:
    args = argparse.Namespace(python="3.13", arch="x86_64", index_url="")
    pure = sdist(tmp_path, "puredep", native=False)
    build_wheelhouse.build_sdists(args, pure.parent)
    assert sorted(p.name for p in pure.parent.iterdir()) == ["puredep-1.0-py3-none-any.whl"]
    sdist(tmp_path, "nativedep", native=True)
    with pytest.raises(SystemExit, match=r"nativedep-1\.0\.tar\.gz: no wheel for cp313 x86_64"):
        build_wheelhouse.build_sdists(args, pure.parent)
