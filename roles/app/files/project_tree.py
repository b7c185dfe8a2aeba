"""The project's tree as a release ships it: what git sees of it, or the directory, minus what never runs.

A release is the project, not only its wheel: ``alembic.ini`` and its migrations, templates, static
files and data the app reads relative to its working directory are where the app expects them.
In a git checkout the files are those git tracks or would track (``git ls-files --cached --others
--exclude-standard``: ``.gitignore`` applies), as they are in the working tree; elsewhere (or in a
directory its repository ignores) every file below the directory. Never shipped: ``.git``, ``.env``
files (projects commit example ones with placeholder secrets; the app's environment comes from the
inventory), virtualenvs, caches, Python build outputs, and what the operator excludes
(``app_release_exclude``, shell patterns matched against the path from the project's root and
against each of its parent directories).
"""

from __future__ import annotations

import fnmatch
import os
import subprocess
import tarfile
from pathlib import Path, PurePosixPath

# Directory names never shipped, at any depth.
SKIP_DIRS = frozenset(
    {
        ".git",
        "__pycache__",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".tox",
        ".nox",
        ".venv",
        "node_modules",
        ".hypothesis",
        ".idea",
        ".vscode",
    }
)
# Patterns never shipped: environment files with secrets, compiled bytecode, packaging outputs.
SKIP_FILES = (".env", ".env.*", "*.pyc", "*.pyo", "*.egg-info", ".coverage", ".DS_Store")
# At the project's root only: what `pip wheel` / `python -m build` leave behind.
SKIP_ROOT = frozenset({"build", "dist"})
# What the role keeps in a release directory beside the tree.
RESERVED = frozenset({"venv", "RUNTIME", "MANIFEST.sha256"})


def _git_files(root: Path) -> list[str] | None:
    try:
        inside = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--is-inside-work-tree"],
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        return None
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        return None
    # A directory its repository ignores (a copy under build/) is no checkout of the project.
    ignored = subprocess.run(["git", "-C", str(root), "check-ignore", "-q", "."], check=False)
    if ignored.returncode == 0:
        return None
    listed = subprocess.run(
        ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "."],
        capture_output=True,
        check=True,
    )
    return sorted({name for name in listed.stdout.decode().split("\0") if name})


def _walk_files(root: Path) -> list[str]:
    found = []
    for directory, dirs, files in os.walk(root):
        here = Path(directory)
        dirs[:] = sorted(d for d in dirs if not (here / d / "pyvenv.cfg").exists())
        found.extend(str((here / name).relative_to(root)) for name in files)
        found.extend(str((here / d).relative_to(root)) for d in dirs if (here / d).is_symlink())
    return sorted(found)


def _skipped(relative: str, excludes: tuple[str, ...]) -> bool:
    path = PurePosixPath(relative)
    parts = path.parts
    if parts[0] in SKIP_ROOT or any(part in SKIP_DIRS for part in parts):
        return True
    if any(fnmatch.fnmatch(part, pattern) for part in parts for pattern in SKIP_FILES):
        return True
    prefixes = [str(PurePosixPath(*parts[:n])) for n in range(1, len(parts) + 1)]
    return any(fnmatch.fnmatch(prefix, pattern.rstrip("/")) for prefix in prefixes for pattern in excludes)


def tree_files(root: Path, excludes: tuple[str, ...] = ()) -> list[str]:
    """The project's files (paths relative to root, sorted) that a release ships."""
    listed = _git_files(root)
    if listed is None:
        listed = _walk_files(root)
    # A virtualenv is wherever a pyvenv.cfg is, whatever its directory's name.
    venvs = {PurePosixPath(f).parent for f in listed if PurePosixPath(f).name == "pyvenv.cfg"}
    files = []
    for relative in listed:
        path = root / relative
        if not (path.is_file() or path.is_symlink()) or _skipped(relative, excludes):
            continue
        if any(parent in venvs for parent in PurePosixPath(relative).parents):
            continue
        files.append(relative)
    clashes = sorted({PurePosixPath(f).parts[0] for f in files} & RESERVED)
    if clashes:
        raise SystemExit(
            f"{root}: the project's {', '.join(clashes)} would overwrite what the role keeps in a release "
            "directory (venv/, RUNTIME, MANIFEST.sha256): add it to app_release_exclude or rename it"
        )
    return files


def write_tree_tar(root: Path, files: list[str], archive: Path) -> None:
    """A reproducible tar of the files (sorted, zero mtimes and owners; modes 0644, or 0755 when
    executable), symlinks kept as links."""

    def normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.mtime = 0
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        if info.isfile():
            info.mode = 0o755 if info.mode & 0o111 else 0o644
        return info

    with tarfile.open(archive, "w", format=tarfile.GNU_FORMAT) as tar:
        for relative in files:
            tar.add(root / relative, arcname=relative, recursive=False, filter=normalise)
