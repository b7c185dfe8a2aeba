"""The app's runtime pins for one target (Python, machine), read from the project as it is.

Where they come from, first found:
- ``app_constraints_file`` when the operator sets it (requirements format);
- ``uv.lock`` in the project or a parent directory up to its git root (a workspace), exported with
  ``uv export --frozen`` (offline; the ``uv`` wheel installed beside Ansible);
- ``poetry.lock`` (lock-version 2.1, Poetry 2, which dropped ``poetry export`` from its core) and
  ``pylock.toml`` (PEP 751), read here;
- ``requirements.lock``, ``constraints.txt`` or ``requirements.txt`` in the project;
- else ``[project] dependencies``: not locked, resolved at each build (a warning says so).

A lock is complete: its pins are downloaded without resolving (``--no-deps``), sdists allowed, each
file checked against the lock's hashes. Markers are evaluated for the target here, not for the
controller's Python. Default dependencies only, plus the groups and extras the operator names.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.markers import InvalidMarker, Marker
from packaging.utils import canonicalize_name

LOCKS = ("uv.lock", "poetry.lock", "pylock.toml")
REQUIREMENTS = ("requirements.lock", "constraints.txt", "requirements.txt")


@dataclass
class Pins:
    """Requirement lines for pip, and how to fetch them."""

    source: str  # what they were read from, for messages
    lines: list[str]
    complete: bool  # a lock: every package pinned, fetched with --no-deps
    hashes: dict[str, list[str]] = field(default_factory=dict)  # canonical name -> sha256 digests

    def names(self) -> set[str]:
        return {requirement_name(line) for line in self.lines}


def requirement_name(line: str) -> str:
    """The normalised project name of a requirement line (``Foo_Bar[x]==1`` -> ``foo-bar``)."""
    name = line.split(";")[0]
    for sep in ("[", "=", "<", ">", "!", "~", " ", "@"):
        name = name.split(sep)[0]
    return str(canonicalize_name(name.strip()))


def marker_environment(python: str, arch: str) -> dict[str, str]:
    """PEP 508 marker variables of a CPython `python` (``3.13``) on Debian, machine `arch`."""
    return {
        "implementation_name": "cpython",
        "implementation_version": f"{python}.0",
        "os_name": "posix",
        "platform_machine": arch,
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": "Linux",
        "platform_version": "",
        "python_full_version": f"{python}.0",
        "python_version": python,
        "sys_platform": "linux",
    }


def marker_holds(marker: str | None, env: dict[str, Any]) -> bool:
    if not marker or not marker.strip():
        return True
    try:
        return Marker(marker).evaluate(env)
    except InvalidMarker as error:
        raise SystemExit(f"a lock's marker {marker!r} cannot be read: {error}") from error


def git_root(path: Path) -> Path | None:
    result = subprocess.run(
        ["git", "-C", str(path), "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=False
    )
    return Path(result.stdout.strip()) if result.returncode == 0 else None


def find_source(app_dir: Path) -> tuple[str, Path | None]:
    """(kind, path) of the project's pins: a lock (in the project or a parent up to its git root),
    a requirements file in the project, or ('pyproject', None)."""
    top = git_root(app_dir) or app_dir
    directory = app_dir.resolve()
    while True:
        for name in LOCKS:
            if (directory / name).is_file():
                return name, directory / name
        if directory == top.resolve() or directory.parent == directory:
            break
        directory = directory.parent
    for name in REQUIREMENTS:
        if (app_dir / name).is_file():
            return "requirements", app_dir / name
    return "pyproject", None


def kind_of(path: Path) -> str:
    if path.name == "uv.lock":
        return "uv.lock"
    if path.name == "poetry.lock":
        return "poetry.lock"
    if path.name.startswith("pylock") and path.suffix == ".toml":
        return "pylock.toml"
    return "requirements"


def uv_binary() -> str:
    beside = Path(sys.executable).parent / "uv"
    found = str(beside) if beside.is_file() else shutil.which("uv")
    if not found:
        raise SystemExit(
            "the project has a uv.lock, read with `uv export`: install uv beside Ansible "
            "(pip install uv; requirements.txt pins it) or set app_constraints_file"
        )
    return found


def _split_requirement(line: str) -> tuple[str, list[str]]:
    """('name==1.0 ; marker', [sha256 digests]) of a requirements line with --hash options."""
    parts = line.split()
    digests = [p.split(":", 1)[1] for p in parts if p.startswith("--hash=sha256:")]
    spec = " ".join(p for p in parts if not p.startswith("--hash="))
    return spec, digests


def read_requirements_text(text: str) -> list[str]:
    """Logical lines of a requirements file: continuations joined, comments and blanks dropped."""
    lines, current = [], ""
    for raw in text.splitlines():
        stripped = raw.split(" #")[0].strip() if not raw.lstrip().startswith("#") else ""
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        if current.strip():
            lines.append(" ".join(current.split()))
        current = ""
    return lines


def _from_requirement_lines(source: str, lines: list[str], env: dict[str, Any], complete: bool) -> Pins:
    pins = Pins(source=source, lines=[], complete=complete)
    for line in lines:
        if line.startswith("-e ") or line.startswith("."):
            raise SystemExit(
                f"{source}: {line!r} is a local path dependency (a workspace member); "
                "only the project itself may be one: put the package on an index, or set app_constraints_file"
            )
        if line.startswith("-"):
            continue
        spec, digests = _split_requirement(line)
        requirement, _, marker = spec.partition(";")
        if not marker_holds(marker, env):
            continue
        pins.lines.append(requirement.strip())
        if digests:
            pins.hashes[requirement_name(requirement)] = digests
    return pins


def uv_pins(lock: Path, app_dir: Path, name: str, groups: list[str], extras: list[str], env: dict) -> Pins:
    command = [
        uv_binary(),
        "export",
        "--frozen",
        "--format",
        "requirements.txt",
        "--no-dev",
        "--no-emit-project",
        "--no-header",
        "--no-annotate",
    ]
    if lock.parent.resolve() != app_dir.resolve():
        command += ["--package", name]
    for group in groups:
        command += ["--group", group]
    for extra in extras:
        command += ["--extra", extra]
    result = subprocess.run(
        command,
        cwd=lock.parent,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "UV_OFFLINE": "1", "UV_PYTHON_DOWNLOADS": "never", "UV_NO_CONFIG": "1"},
    )
    if result.returncode != 0:
        raise SystemExit(f"{lock}: uv export failed: {result.stderr.strip()}")
    return _from_requirement_lines(str(lock), read_requirements_text(result.stdout), env, complete=True)


def poetry_pins(lock: Path, groups: list[str], extras: list[str], env: dict) -> Pins:
    data = tomllib.loads(lock.read_text())
    version = str(data.get("metadata", {}).get("lock-version", "1.0"))
    if tuple(int(p) for p in version.split(".")) < (2, 1):
        raise SystemExit(
            f"{lock}: lock-version {version} records no dependency groups: lock it again with Poetry 2 "
            "(`poetry lock`), or set app_constraints_file"
        )
    wanted = {"main", *groups}
    extra_packages = {
        str(canonicalize_name(n)) for extra in extras for n in data.get("extras", {}).get(extra, [])
    }
    pins = Pins(source=str(lock), lines=[], complete=True)
    for package in data.get("package", []):
        name = str(canonicalize_name(package["name"]))
        in_groups = set(package.get("groups", ["main"])) & wanted
        if not in_groups or (package.get("optional") and name not in extra_packages):
            continue
        markers = package.get("markers")
        if isinstance(markers, dict):  # per group; a group without one has none
            holds = any(marker_holds(markers.get(g), env) for g in in_groups)
        else:
            holds = marker_holds(markers, env)
        if not holds:
            continue
        source = package.get("source", {})
        if source.get("type") in {"directory", "file", "git", "url"}:
            raise SystemExit(f"{lock}: {name} comes from a {source['type']} source, not an index")
        pins.lines.append(f"{name}=={package['version']}")
        digests = [f["hash"].split(":", 1)[1] for f in package.get("files", []) if "hash" in f]
        if digests:
            pins.hashes[name] = digests
    return pins


def pylock_pins(lock: Path, groups: list[str], extras: list[str], env: dict) -> Pins:
    data = tomllib.loads(lock.read_text())
    marker_env = {**env, "extras": frozenset(extras), "dependency_groups": frozenset(groups)}
    pins = Pins(source=str(lock), lines=[], complete=True)
    for package in data.get("packages", []):
        if not marker_holds(package.get("marker"), marker_env):
            continue
        name = str(canonicalize_name(package["name"]))
        if "version" not in package:
            raise SystemExit(f"{lock}: {name} has no version (a directory or VCS source, not an index)")
        pins.lines.append(f"{name}=={package['version']}")
        files = [*package.get("wheels", []), *([package["sdist"]] if "sdist" in package else [])]
        digests = [f["hashes"]["sha256"] for f in files if "sha256" in f.get("hashes", {})]
        if digests:
            pins.hashes[name] = digests
    return pins


def pyproject_pins(app_dir: Path, project: dict[str, Any], extras: list[str], env: dict) -> Pins:
    lines = list(project.get("dependencies", []))
    for extra in extras:
        lines += project.get("optional-dependencies", {}).get(extra, [])
    print(
        f"{app_dir}: no lock file (uv.lock, poetry.lock, pylock.toml, requirements.txt): the dependencies of "
        "pyproject.toml are resolved again at each build, so two builds may install different versions",
        file=sys.stderr,
    )
    return _from_requirement_lines(f"{app_dir}/pyproject.toml", lines, env, complete=False)


def project_pins(
    app_dir: Path,
    project: dict[str, Any],
    explicit: Path | None,
    groups: list[str],
    extras: list[str],
    python: str,
    arch: str,
) -> Pins:
    env = marker_environment(python, arch)
    kind, path = (kind_of(explicit), explicit) if explicit else find_source(app_dir)
    if kind == "uv.lock" and path:
        return uv_pins(path, app_dir, project["name"], groups, extras, env)
    if kind == "poetry.lock" and path:
        return poetry_pins(path, groups, extras, env)
    if kind == "pylock.toml" and path:
        return pylock_pins(path, groups, extras, env)
    if kind == "requirements" and path:
        pins = _from_requirement_lines(
            str(path), read_requirements_text(path.read_text()), env, complete=False
        )
        # Hashes on every line (pip-compile --generate-hashes, uv export): a complete lock.
        pins.complete = bool(pins.lines) and len(pins.hashes) == len(pins.lines)
        return pins
    return pyproject_pins(app_dir, project, extras, env)
