#!/usr/bin/env python3
"""Build the wheelhouse that app hosts install from, on the controller.

Hosts need no access to PyPI: the role copies this directory to them and runs
``pip install --no-index``. Wheels are fetched for the *target's* Python and
platform, not the controller's, so a Debian 13 host (Python 3.13) gets cp313
wheels even when the controller runs 3.11.

Each ``--extra-dir`` is a package of the role's own that every release gets
next to the app (deploy_observe: request metrics and a health check around any
ASGI app): its wheel is built too, and its ``constraints.txt`` pins whatever of
its dependencies the app's constraints do not (the app's pin wins).

The output directory holds every dependency wheel pinned in the constraints
file, the extra packages' wheels, the app's own wheel, ``requirements.lock``
(exact pins, the app last),
``app.requirement`` (the app's own pin, for reinstalling it alone) and
``MANIFEST.sha256``, a digest of all of it that the role compares with
what a host's venv was last built from. Beside the directory, ``<out>.tar``
holds the same files (reproducibly: sorted, zero mtimes and owners) so the
role ships one file instead of one round trip per wheel. A rebuild is skipped when the inputs
(constraints, app sources, target) have not changed since the last one.

The app's and the extra packages' wheels are built with the build backend installed beside
Ansible (requirements.txt pins setuptools) whenever it meets their ``[build-system]
requires``: the same sources then give the same wheel on every controller with the same
pins (a wheel names the setuptools that built it, and the manifest covers its bytes), and
the build takes a second instead of four. Only a project whose backend is not installed
here is built in pip's isolated environment, with whatever the index serves that day.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from pathlib import Path
from typing import Any

# manylinux tags old enough for Debian 12 (glibc 2.36) and Debian 13 (2.41).
PLATFORMS = ("manylinux_2_28_{arch}", "manylinux_2_17_{arch}", "manylinux2014_{arch}")
# Wheels carry zip timestamps; pin them so the same sources give the same wheel.
SOURCE_DATE_EPOCH = "315532800"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app-dir", type=Path, required=True, help="app source (pyproject.toml)")
    parser.add_argument("--constraints", type=Path, required=True, help="exact runtime pins")
    parser.add_argument(
        "--extra-dir",
        type=Path,
        action="append",
        default=[],
        help="a package (pyproject.toml, constraints.txt) every release installs beside the app",
    )
    parser.add_argument("--python", required=True, help="target Python, e.g. 3.11")
    parser.add_argument("--arch", default="x86_64", help="target machine, e.g. x86_64 or aarch64")
    parser.add_argument("--out", type=Path, required=True, help="wheelhouse directory to fill")
    parser.add_argument(
        "--index-url", default="", help="package index (or mirror) to fetch from instead of pip's own"
    )
    return parser.parse_args(argv)


def app_metadata(app_dir: Path) -> tuple[str, str]:
    with (app_dir / "pyproject.toml").open("rb") as fh:
        project = tomllib.load(fh)["project"]
    return project["name"], project["version"]


def source_files(app_dir: Path) -> list[Path]:
    skip = {"__pycache__", ".pytest_cache", "build", "tests", ".ruff_cache"}
    files = []
    for path in sorted(app_dir.rglob("*")):
        parts = set(path.relative_to(app_dir).parts)
        if path.is_file() and not parts & skip and not any(p.endswith(".egg-info") for p in parts):
            files.append(path)
    return files


def _digest_files(digest: Any, root: Path, paths: list[Path]) -> None:
    for path in paths:
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())


def inputs_digest(args: argparse.Namespace) -> str:
    digest = hashlib.sha256()
    digest.update(f"{args.python}|{args.arch}|{Path(__file__).read_bytes().hex()}".encode())
    _digest_files(digest, args.app_dir.parent, [args.constraints, *source_files(args.app_dir)])
    for extra in args.extra_dir:
        _digest_files(digest, extra.parent, source_files(extra))
    return digest.hexdigest()


def deps_digest(args: argparse.Namespace) -> str:
    """What the dependency wheels depend on: pins, target and the extra packages, not the app's code."""
    digest = hashlib.sha256(f"{args.python}|{args.arch}|{PLATFORMS}".encode())
    digest.update(args.constraints.read_bytes())
    for extra in args.extra_dir:
        _digest_files(digest, extra.parent, source_files(extra))
    return digest.hexdigest()


def requirement_name(line: str) -> str:
    """The normalised project name of a pin line (``Foo_Bar[x]==1`` -> ``foo-bar``)."""
    name = line.split(";")[0]
    for sep in ("[", "=", "<", ">", "!", "~", " ", "@"):
        name = name.split(sep)[0]
    return name.strip().lower().replace("_", "-").replace(".", "-")


def pin_lines(path: Path) -> list[str]:
    return [
        line.strip()
        for line in path.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def merged_pins(args: argparse.Namespace) -> list[str]:
    """The app's pins, then each extra package's pins for projects the app does not pin."""
    pins = pin_lines(args.constraints)
    pinned = {requirement_name(line) for line in pins}
    for extra in args.extra_dir:
        for line in pin_lines(extra / "constraints.txt"):
            if requirement_name(line) not in pinned:
                pins.append(line)
                pinned.add(requirement_name(line))
    return pins


def reuse_deps(args: argparse.Namespace, staging: Path, app_wheel_prefix: str) -> bool:
    """Copy the previous build's dependency wheels when the pins are unchanged:
    a code-only release then rebuilds just the app's wheel, without PyPI."""
    stamp = args.out / ".deps"
    if not stamp.is_file() or stamp.read_text().strip() != deps_digest(args):
        return False
    for wheel in args.out.glob("*.whl"):
        if not wheel.name.startswith(app_wheel_prefix):
            shutil.copy2(wheel, staging / wheel.name)
    return True


def index_args(args: argparse.Namespace) -> list[str]:
    """pip's index option; none keeps pip's own configuration (PyPI, pip.conf, PIP_INDEX_URL)."""
    return ["--index-url", args.index_url] if args.index_url else []


def pip(*pip_args: str, env: dict[str, str] | None = None) -> None:
    cmd = [sys.executable, "-m", "pip", "--disable-pip-version-check", *pip_args]
    subprocess.run(cmd, check=True, env=env)


def download_deps(args: argparse.Namespace, staging: Path, pins: Path) -> None:
    platforms = [flag for p in PLATFORMS for flag in ("--platform", p.format(arch=args.arch))]
    pip(
        "download",
        "--quiet",
        "--dest",
        str(staging),
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        args.python,
        *platforms,
        "--requirement",
        str(pins),
        *index_args(args),
    )


def missing_build_requirements(project_dir: Path) -> list[str]:
    """The project's build requirements (``[build-system] requires``) this Python lacks."""
    with (project_dir / "pyproject.toml").open("rb") as fh:
        # Without the table pip assumes setuptools (PEP 518).
        requires = tomllib.load(fh).get("build-system", {}).get("requires", ["setuptools>=40.8.0"])
    try:
        from packaging.requirements import Requirement  # ansible-core's dependency
    except ImportError:
        return list(requires)
    missing = []
    for line in requires:
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        try:
            version = importlib.metadata.version(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(line)
            continue
        if not requirement.specifier.contains(version, prereleases=True):
            missing.append(line)
    return missing


def build_app_wheel(app_dir: Path, staging: Path, index: list[str]) -> None:
    env = {**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH}
    missing = missing_build_requirements(app_dir)
    if missing:
        print(
            f"{app_dir}: its build requirements {', '.join(missing)} are not installed beside Ansible: "
            "built in an isolated environment from the index, so the wheel follows the index's versions",
            file=sys.stderr,
        )
    with tempfile.TemporaryDirectory() as tmp:
        # Build from a copy so no build/ or *.egg-info litter lands in the source tree.
        src = Path(tmp) / "src"
        shutil.copytree(
            app_dir,
            src,
            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build", ".pytest_cache", "tests"),
        )
        isolation = [] if missing else ["--no-build-isolation"]
        wheel_dir = ["--wheel-dir", str(staging)]
        pip("wheel", "--quiet", "--no-deps", *isolation, *index, *wheel_dir, str(src), env=env)


def build(args: argparse.Namespace, staging: Path) -> None:
    name, version = app_metadata(args.app_dir)
    pins = merged_pins(args)
    extras = [app_metadata(extra) for extra in args.extra_dir]
    # The extra packages' wheels are reused with the dependencies' (deps_digest covers their sources).
    if not reuse_deps(args, staging, name.replace("-", "_") + "-"):
        pin_file = staging / ".pins.txt"
        pin_file.write_text("\n".join(pins) + "\n")
        download_deps(args, staging, pin_file)
        pin_file.unlink()
        for extra in args.extra_dir:
            build_app_wheel(extra, staging, index_args(args))
    (staging / ".deps").write_text(deps_digest(args) + "\n")
    build_app_wheel(args.app_dir, staging, index_args(args))
    lock = [*pins, *(f"{extra}=={extra_version}" for extra, extra_version in extras), f"{name}=={version}"]
    (staging / "requirements.lock").write_text("\n".join(lock) + "\n")
    (staging / "app.requirement").write_text(f"{name}=={version}\n")
    manifest = hashlib.sha256()
    for path in sorted(staging.iterdir()):
        if not path.name.startswith("."):
            manifest.update(path.name.encode())
            manifest.update(path.read_bytes())
    (staging / "MANIFEST.sha256").write_text(manifest.hexdigest() + "\n")


def write_tar(directory: Path, archive: Path) -> None:
    def normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.mtime = 0
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        info.mode = 0o644
        return info

    tmp = archive.with_suffix(".tmp")
    with tarfile.open(tmp, "w", format=tarfile.GNU_FORMAT) as tar:
        for path in sorted(directory.iterdir()):
            if not path.name.startswith("."):
                tar.add(path, arcname=path.name, filter=normalise)
    tmp.replace(archive)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    stamp = args.out / ".inputs"
    archive = args.out.with_name(args.out.name + ".tar")
    digest = inputs_digest(args)
    if stamp.is_file() and stamp.read_text().strip() == digest and archive.is_file():
        print(f"wheelhouse {args.out} is up to date")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=args.out.name + ".", dir=args.out.parent))
    try:
        build(args, staging)
        (staging / ".inputs").write_text(digest + "\n")
        if args.out.exists():
            shutil.rmtree(args.out)
        staging.rename(args.out)
        write_tar(args.out, archive)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    print(f"wheelhouse {args.out} built")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
