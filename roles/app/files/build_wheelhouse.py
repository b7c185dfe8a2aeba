#!/usr/bin/env python3
"""Build the wheelhouse that app hosts install from, on the controller.

Hosts need no access to PyPI: the role copies this directory to them and runs
``pip install --no-index``. Wheels are fetched for the *target's* Python and
platform, not the controller's, so a Debian 13 host (Python 3.13) gets cp313
wheels even when the controller runs 3.11.

The app's pins are read from the project as it is (project_pins.py: its
uv.lock, poetry.lock, pylock.toml or requirements file, or an explicit
``--constraints`` file). Each ``--extra-dir`` is a package of the role's own
that every release gets next to the app (deploy_observe: request metrics and a
health check around any ASGI app): its wheel is built too, and its
``constraints.txt`` pins whatever of its dependencies the app's pins do not;
each ``--add-pins`` file (the app server) likewise: the app's pin wins.

A lock's pins are fetched as they are (``--no-deps``, its hashes checked), sdists
included: a pure-Python sdist is built into a wheel here; one that builds a
native extension is refused by name (its wheel would be for the controller's
Python and machine, not the host's). The set is then resolved offline for the
target, so a lock that lacks a dependency fails here, not on a host.

The project's tree (project_tree.py) goes in ``tree.tar``: a release is the
project (alembic.ini, migrations, templates, data), with its virtualenv beside
it. The app's own wheel is built and installed only when the project has a
``[build-system]``; a project without one (uv's default for apps) is imported
from the tree, the service's working directory.

The output directory holds, in ``deps/``, every dependency wheel and the extra
packages' wheels (and, in ``deps/installer/``, the wheel of the installer the
hosts run, ``--installer``: uv), with ``SHA256SUMS`` of them all; at its top the
app's own wheel (if built), ``tree.tar``, ``requirements.lock`` (exact pins, the
app last if installed), ``install.txt`` (the same pins with the sha256 of each
wheel, for ``--require-hashes``), ``app.requirement`` (the app's own pin),
``DEPS`` (an id of ``deps/``'s content: the host keeps one unpacked copy per id)
and ``MANIFEST.sha256``, a digest of the wheels, tree and pins that the role
compares with what a host's release was built from. Beside the directory,
``<out>.tar`` holds the top's files and ``<out>.deps.tar`` those of ``deps/``
(reproducibly: sorted, zero mtimes and owners): a code-only release ships the
small first one (in base64 on the install command's standard input when it is
under ``INLINE_LIMIT``: ``<out>.tar.b64``), the second only goes to a host that
lacks its id. A rebuild is
skipped when the inputs (pins, the project's tree, target) have not changed since
the last one; ``deps/`` and its archive are kept as they are when only the app
changed.

The app's and the extra packages' wheels are built with the build backend installed beside
Ansible (requirements.txt pins setuptools) whenever it meets their ``[build-system]
requires``: the same sources then give the same wheel on every controller with the same
pins (a wheel names the setuptools that built it, and the manifest covers its bytes), and
the build takes a second instead of four. Only a project whose backend is not installed
here is built in pip's isolated environment, with whatever the index serves that day.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from project_pins import Pins, find_source, project_pins, requirement_name
from project_tree import tree_files, write_tree_tar

# manylinux tags old enough for Debian 12 (glibc 2.36) and Debian 13 (2.41).
PLATFORMS = ("manylinux_2_28_{arch}", "manylinux_2_17_{arch}", "manylinux2014_{arch}")
# Wheels carry zip timestamps; pin them so the same sources give the same wheel.
SOURCE_DATE_EPOCH = "315532800"
# The dependencies' part of the wheelhouse, its checksums, and the installer's wheel in it.
DEPS = "deps"
SUMS = "SHA256SUMS"
INSTALLER = "installer"
# The largest app's part (tree, app wheel, pins) sent inline, on the install command's standard input.
INLINE_LIMIT = 1024 * 1024


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app-dir", type=Path, required=True, help="app source (pyproject.toml)")
    parser.add_argument(
        "--constraints", default="", help="exact runtime pins (default: the project's lock or requirements)"
    )
    parser.add_argument("--group", action="append", default=[], help="a lock's dependency group to add")
    parser.add_argument("--extra", action="append", default=[], help="an extra of the project to add")
    parser.add_argument("--exclude", action="append", default=[], help="a tree path pattern not to ship")
    parser.add_argument(
        "--add-pins", type=Path, action="append", default=[], help="pins added where the app has none"
    )
    parser.add_argument(
        "--extra-dir",
        type=Path,
        action="append",
        default=[],
        help="a package (pyproject.toml, constraints.txt) every release installs beside the app",
    )
    parser.add_argument(
        "--installer",
        type=Path,
        help="pins of the installer the hosts run (uv), fetched for the target into deps/installer/",
    )
    parser.add_argument("--python", help="target Python, e.g. 3.11")
    parser.add_argument("--arch", default="x86_64", help="target machine, e.g. x86_64 or aarch64")
    parser.add_argument("--out", type=Path, help="wheelhouse directory to fill")
    parser.add_argument(
        "--describe",
        action="store_true",
        help="print the project's name, version, requires-python and pins source as JSON; build nothing",
    )
    parser.add_argument(
        "--check-python",
        action="append",
        default=[],
        help="with --describe: a host's Python version (3.11.2) to check against requires-python",
    )
    parser.add_argument(
        "--index-url", default="", help="package index (or mirror) to fetch from instead of pip's own"
    )
    args = parser.parse_args(argv)
    if not args.describe and (args.python is None or args.out is None):
        parser.error("--python and --out are required to build")
    return args


def pyproject(app_dir: Path) -> dict[str, Any]:
    with (app_dir / "pyproject.toml").open("rb") as fh:
        return tomllib.load(fh)


def app_metadata(app_dir: Path) -> tuple[str, str]:
    """(name, version) of the project: [project], or Poetry 1's [tool.poetry]."""
    data = pyproject(app_dir)
    project = data.get("project", {})
    poetry = data.get("tool", {}).get("poetry", {})
    name = project.get("name") or poetry.get("name")
    version = project.get("version") or poetry.get("version")
    if not name or not version:
        raise SystemExit(
            f"{app_dir}/pyproject.toml: the release is named after the project's version, and it has "
            f"{'a dynamic one' if 'version' in project.get('dynamic', []) else 'none'}: "
            'set [project] version = "..." (a static version)'
        )
    return str(name), str(version)


def builds_a_wheel(app_dir: Path) -> bool:
    """Whether the project is a package to install (it has a [build-system]) or an app run from its tree."""
    return "build-system" in pyproject(app_dir)


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


def pins_source(args: argparse.Namespace) -> Path | None:
    return Path(args.constraints) if args.constraints else find_source(args.app_dir)[1]


def inputs_digest(args: argparse.Namespace) -> str:
    digest = hashlib.sha256()
    here = Path(__file__).parent
    code = b"".join(
        (here / name).read_bytes() for name in ("build_wheelhouse.py", "project_pins.py", "project_tree.py")
    )
    options = (args.python, args.arch, args.group, args.extra, args.exclude, code.hex())
    digest.update(repr(options).encode())
    source = pins_source(args)
    for path in [*([source] if source else []), *args.add_pins, *installer_pins(args)]:
        digest.update(str(path).encode() + path.read_bytes())
    for relative in tree_files(args.app_dir, tuple(args.exclude)):
        path = args.app_dir / relative
        digest.update(relative.encode())
        digest.update(os.readlink(path).encode() if path.is_symlink() else path.read_bytes())
    for extra in args.extra_dir:
        _digest_files(digest, extra.parent, source_files(extra))
    return digest.hexdigest()


def deps_digest(args: argparse.Namespace, pins: Pins, additions: list[str]) -> str:
    """What the dependency wheels depend on: pins, target and the extra packages, not the app's code."""
    digest = hashlib.sha256(f"{args.python}|{args.arch}|{PLATFORMS}".encode())
    digest.update(repr((pins.lines, sorted(pins.hashes.items()), pins.complete, additions)).encode())
    for path in installer_pins(args):
        digest.update(path.read_bytes())
    for extra in args.extra_dir:
        _digest_files(digest, extra.parent, source_files(extra))
    return digest.hexdigest()


def pin_lines(path: Path) -> list[str]:
    return [
        line.strip()
        for line in path.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def added_pins(pinned: set[str], args: argparse.Namespace) -> list[str]:
    """The pins of the extra packages and of each --add-pins file for projects the app does not pin."""
    added = []
    for path in [*(extra / "constraints.txt" for extra in args.extra_dir), *args.add_pins]:
        for line in pin_lines(path):
            if requirement_name(line) not in pinned:
                added.append(line)
                pinned.add(requirement_name(line))
    return added


def installer_pins(args: argparse.Namespace) -> list[Path]:
    return [args.installer] if args.installer else []


def reuse_deps(args: argparse.Namespace, staging: Path, digest: str) -> bool:
    """Keep the previous build's deps/ when the pins are unchanged (hard links, the same bytes):
    a code-only release then rebuilds just the app's wheel (if any), without PyPI."""
    stamp = args.out / ".deps"
    previous = args.out / DEPS
    if not stamp.is_file() or stamp.read_text().strip() != digest or not (previous / SUMS).is_file():
        return False
    shutil.copytree(previous, staging / DEPS, copy_function=os.link)
    return True


def wheel_name(path: Path) -> str:
    """A wheel file's project name, normalised as requirement_name() does."""
    return requirement_name(path.name.split("-", 1)[0])


def write_sums(deps: Path) -> str:
    """SHA256SUMS of every file of deps/ (sha256sum --check reads it on the host); its id, from it."""
    lines = [
        f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.relative_to(deps).as_posix()}\n"
        for path in sorted(p for p in deps.rglob("*") if p.is_file() and p.name != SUMS)
    ]
    (deps / SUMS).write_text("".join(lines))
    return hashlib.sha256("".join(lines).encode()).hexdigest()[:16]


def hashed_requirements(lock: list[str], wheels: list[Path]) -> list[str]:
    """The lock's lines, each with the sha256 of the wheel that satisfies it (--require-hashes on
    the host: a wheel it kept from an earlier release is installed only with the same bytes)."""
    hashes: dict[str, list[str]] = {}
    for wheel in sorted(wheels):
        hashes.setdefault(wheel_name(wheel), []).append(hashlib.sha256(wheel.read_bytes()).hexdigest())
    return [
        line + "".join(f" --hash=sha256:{h}" for h in hashes.get(requirement_name(line), [])) for line in lock
    ]


def fetch_installer(args: argparse.Namespace, deps: Path) -> None:
    """The installer's wheel (uv's carries its static binary) for the host's platform, in deps/installer/."""
    target = deps / INSTALLER
    target.mkdir()
    pip(
        "download",
        "--quiet",
        "--no-deps",
        "--only-binary=:all:",
        "--dest",
        str(target),
        *target_args(args),
        "--requirement",
        str(args.installer),
        *index_args(args),
    )
    if len(list(target.glob("*.whl"))) != 1:
        raise SystemExit(f"{args.installer}: expected one installer wheel, got {sorted(target.iterdir())}")


def index_args(args: argparse.Namespace) -> list[str]:
    """pip's index option; none keeps pip's own configuration (PyPI, pip.conf, PIP_INDEX_URL)."""
    return ["--index-url", args.index_url] if args.index_url else []


def pip(*pip_args: str, env: dict[str, str] | None = None) -> None:
    cmd = [sys.executable, "-m", "pip", "--disable-pip-version-check", *pip_args]
    subprocess.run(cmd, check=True, env=env)


def target_args(args: argparse.Namespace) -> list[str]:
    platforms = [flag for p in PLATFORMS for flag in ("--platform", p.format(arch=args.arch))]
    return ["--implementation", "cp", "--python-version", args.python, *platforms]


def download_deps(args: argparse.Namespace, staging: Path, pins: Path) -> None:
    """Resolve and fetch wheels for the target (pins that are not a complete lock)."""
    pip(
        "download",
        "--quiet",
        "--dest",
        str(staging),
        "--only-binary=:all:",
        *target_args(args),
        "--requirement",
        str(pins),
        *index_args(args),
    )


def download_locked(args: argparse.Namespace, staging: Path, pins: Pins, added: list[str]) -> None:
    """Fetch a complete lock as it is: no resolving, wheels for the target or sdists, hashes checked."""
    locked = staging / ".locked.txt"
    locked.write_text(
        "".join(
            line + "".join(f" --hash=sha256:{h}" for h in pins.hashes.get(requirement_name(line), [])) + "\n"
            for line in pins.lines
        )
    )
    extra = staging / ".added.txt"
    extra.write_text("".join(line + "\n" for line in added))
    for path in (locked, extra):
        if path.read_text().strip():
            pip(
                "download",
                "--quiet",
                "--no-deps",
                "--dest",
                str(staging),
                *target_args(args),
                "--requirement",
                str(path),
                *index_args(args),
            )
        path.unlink()
    build_sdists(args, staging)


def build_sdists(args: argparse.Namespace, staging: Path) -> None:
    """Each sdist a lock fetched (no wheel for the target) built into a wheel here; a pure-Python one
    works on any host, one that builds a native extension is refused by name."""
    sdists = sorted(p for p in staging.iterdir() if p.name.endswith((".tar.gz", ".zip")))
    for sdist in sdists:
        with tempfile.TemporaryDirectory() as tmp:
            built = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "--disable-pip-version-check",
                    "wheel",
                    "--quiet",
                    "--no-deps",
                    "--wheel-dir",
                    tmp,
                    *index_args(args),
                    str(sdist),
                ],
                capture_output=True,
                text=True,
                check=False,
                env={**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH},
            )
            wheels = list(Path(tmp).glob("*.whl"))
            pure = [w for w in wheels if w.name.endswith("-none-any.whl")]
            if built.returncode != 0 or not pure:
                why = (built.stderr.strip().splitlines() or ["a wheel for this machine only"])[-1]
                raise SystemExit(
                    f"{sdist.name}: no wheel for cp{args.python.replace('.', '')} {args.arch} (the host's "
                    f"Python and machine) on the index, and its sdist builds a native extension ({why}): "
                    "pin a version that publishes wheels for it, or build the wheel on a machine like the "
                    "host and put it on your index"
                )
            shutil.copy2(pure[0], staging / pure[0].name)
        sdist.unlink()


def check_complete(args: argparse.Namespace, staging: Path, requirements: list[str]) -> None:
    """Resolve the wheelhouse offline for the target, as the host's pip will: a lock that misses a
    dependency fails here, naming it."""
    with tempfile.TemporaryDirectory() as tmp:
        wanted = Path(tmp) / "requirements.txt"
        wanted.write_text("\n".join(requirements) + "\n")
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "--disable-pip-version-check",
                "install",
                "--dry-run",
                "--quiet",
                "--ignore-installed",
                "--no-index",
                "--find-links",
                str(staging),
                "--only-binary=:all:",
                *target_args(args),
                "--target",
                str(Path(tmp) / "target"),
                "--requirement",
                str(wanted),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise SystemExit(
                "the locked packages do not install together for the host "
                f"(cp{args.python.replace('.', '')} {args.arch}): {result.stderr.strip()}"
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
        if missing:
            wheel_dir = ["--wheel-dir", str(staging)]
            pip("wheel", "--quiet", "--no-deps", *index, *wheel_dir, str(src), env=env)
        else:
            build_in_place(src, staging.resolve(), env)


# PEP 517's build_wheel hook of the project's backend, called as pip calls it without build
# isolation (cwd the project, backend-path first on sys.path) but without pip around it: pip
# also asks the backend for the metadata first, and its own start-up costs more than the build
# (0.8-1.1 s against 0.2 s for the demo app's wheel, the same bytes).
BUILD_WHEEL = """
import importlib, os, sys
src, out, backend, *paths = sys.argv[1:]
sys.path[:0] = [os.path.join(src, path) for path in paths]
os.chdir(src)
module, _, attribute = backend.partition(":")
hooks = importlib.import_module(module)
for part in filter(None, attribute.split(".")):
    hooks = getattr(hooks, part)
hooks.build_wheel(out)
"""


def build_in_place(src: Path, wheel_dir: Path, env: dict[str, str]) -> None:
    """The project's wheel built by its backend as installed beside Ansible (no isolation)."""
    system = pyproject(src).get("build-system", {})
    # PEP 517: a table without build-backend means setuptools' legacy backend.
    backend = system.get("build-backend", "setuptools.build_meta:__legacy__")
    cmd = [
        sys.executable,
        "-c",
        BUILD_WHEEL,
        str(src),
        str(wheel_dir),
        backend,
        *system.get("backend-path", []),
    ]
    built = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if built.returncode != 0:
        raise SystemExit(
            f"{src.name}: building its wheel with {backend} failed:\n{built.stdout}{built.stderr}"
        )


def build(args: argparse.Namespace, staging: Path) -> None:
    name, version = app_metadata(args.app_dir)
    wheel = builds_a_wheel(args.app_dir)
    explicit = Path(args.constraints) if args.constraints else None
    project = {"name": name, **pyproject(args.app_dir).get("project", {})}
    pins = project_pins(args.app_dir, project, explicit, args.group, args.extra, args.python, args.arch)
    added = added_pins(pins.names() | {requirement_name(name)}, args)
    extras = [app_metadata(extra) for extra in args.extra_dir]
    digest = deps_digest(args, pins, added)
    deps = staging / DEPS
    # The extra packages' wheels are reused with the dependencies' (deps_digest covers their sources).
    if not reuse_deps(args, staging, digest):
        deps.mkdir()
        if pins.complete:
            download_locked(args, deps, pins, added)
        else:
            pin_file = deps / ".pins.txt"
            pin_file.write_text("\n".join([*pins.lines, *added]) + "\n")
            download_deps(args, deps, pin_file)
            pin_file.unlink()
        for extra in args.extra_dir:
            build_app_wheel(extra, deps, index_args(args))
        check_complete(args, deps, [*pins.lines, *added, *(f"{e}=={v}" for e, v in extras)])
        if args.installer:
            fetch_installer(args, deps)
        write_sums(deps)
    (staging / ".deps").write_text(digest + "\n")
    (staging / "DEPS").write_text(hashlib.sha256((deps / SUMS).read_bytes()).hexdigest()[:16] + "\n")
    if wheel:
        build_app_wheel(args.app_dir, staging, index_args(args))
    write_tree_tar(args.app_dir, tree_files(args.app_dir, tuple(args.exclude)), staging / "tree.tar")
    lock = [*pins.lines, *added, *(f"{extra}=={extra_version}" for extra, extra_version in extras)]
    lock += [f"{name}=={version}"] if wheel else []
    (staging / "requirements.lock").write_text("\n".join(lock) + "\n")
    (staging / "app.requirement").write_text(f"{name}=={version}\n")
    # What the release is: every wheel it installs, its tree and pins (not the installer).
    installed = sorted([*deps.glob("*.whl"), *staging.glob("*.whl")], key=lambda p: p.name)
    (staging / "install.txt").write_text("\n".join(hashed_requirements(lock, installed)) + "\n")
    manifest = hashlib.sha256()
    content = [*installed, *(staging / n for n in ("app.requirement", "requirements.lock", "tree.tar"))]
    for path in sorted(content, key=lambda p: p.name):
        manifest.update(path.name.encode())
        manifest.update(path.read_bytes())
    (staging / "MANIFEST.sha256").write_text(manifest.hexdigest() + "\n")


def write_tar(directory: Path, archive: Path, *, recursive: bool = False) -> None:
    """The directory's files (not those starting with a dot; with `recursive`, those of its
    subdirectories too, by relative path), sorted, with zero mtimes and owners."""

    def normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.mtime = 0
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        info.mode = 0o644
        return info

    paths = directory.rglob("*") if recursive else directory.iterdir()
    tmp = archive.with_suffix(".tmp")
    with tarfile.open(tmp, "w", format=tarfile.GNU_FORMAT) as tar:
        for path in sorted(p for p in paths if p.is_file() and not p.name.startswith(".")):
            tar.add(path, arcname=path.relative_to(directory).as_posix(), filter=normalise)
    tmp.replace(archive)


def write_inline(archive: Path) -> None:
    """``<archive>.b64``, the archive in base64, when it is small enough to go to the host on the
    standard input of the command that installs it (one module run fewer than a copy); none else."""
    inline = archive.with_name(archive.name + ".b64")
    if archive.stat().st_size <= INLINE_LIMIT:
        inline.write_bytes(base64.encodebytes(archive.read_bytes()))
    else:
        inline.unlink(missing_ok=True)


def describe(args: argparse.Namespace) -> dict[str, Any]:
    """What the first play checks before any host changes: the version names a release, and each
    host's Python meets the project's requires-python."""
    from packaging.specifiers import SpecifierSet

    name, version = app_metadata(args.app_dir)
    requires = str(pyproject(args.app_dir).get("project", {}).get("requires-python", ""))
    source = pins_source(args)
    return {
        "name": name,
        "version": version,
        "requires_python": requires,
        "pins": str(source) if source else f"{args.app_dir}/pyproject.toml (not locked)",
        "wheel": builds_a_wheel(args.app_dir),
        "python_ok": {v: SpecifierSet(requires).contains(v, prereleases=True) for v in args.check_python},
    }


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.describe:
        print(json.dumps(describe(args)))
        return 0
    stamp = args.out / ".inputs"
    archive = args.out.with_name(args.out.name + ".tar")
    deps_archive = args.out.with_name(args.out.name + ".deps.tar")
    digest = inputs_digest(args)
    built = archive.is_file() and deps_archive.is_file()
    if built and stamp.is_file() and stamp.read_text().strip() == digest:
        print(f"wheelhouse {args.out} is up to date")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=args.out.name + ".", dir=args.out.parent))
    try:
        build(args, staging)
        (staging / ".inputs").write_text(digest + "\n")
        previous = args.out / "DEPS"
        same_deps = previous.is_file() and previous.read_text() == (staging / "DEPS").read_text()
        if args.out.exists():
            shutil.rmtree(args.out)
        staging.rename(args.out)
        write_tar(args.out, archive)
        write_inline(archive)
        if not (same_deps and deps_archive.is_file()):
            write_tar(args.out / DEPS, deps_archive, recursive=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    print(f"wheelhouse {args.out} built")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
