"""The wheelhouse's pins: the app's own, then the role's package's for what the app does not pin."""

from __future__ import annotations

import argparse
import base64
import hashlib
import importlib.metadata
import importlib.util
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "files" / "build_wheelhouse.py"
# Its modules beside it (project_pins, project_tree), as when it runs as a script.
sys.path.insert(0, str(SCRIPT.parent))
spec = importlib.util.spec_from_file_location("build_wheelhouse", SCRIPT)
assert spec is not None
assert spec.loader is not None
build_wheelhouse = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build_wheelhouse)


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("prometheus-client==0.26.0", "prometheus-client"),
        ("Prometheus_Client==0.20", "prometheus-client"),
        ("uvicorn[standard]==0.54.0", "uvicorn"),
        ("zope.interface>=6 ; python_version>'3'", "zope-interface"),
    ],
)
def test_requirement_names_are_normalised(line: str, name: str) -> None:
    assert build_wheelhouse.requirement_name(line) == name


def test_the_apps_pin_wins_and_missing_ones_are_added(tmp_path: Path) -> None:
    app = tmp_path / "constraints.txt"
    app.write_text("# the app's\nfastapi==0.165.0\nprometheus_client==0.21.0\n")
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "constraints.txt").write_text("prometheus-client==0.26.0\nsix==1.17.0\n")
    server = tmp_path / "server.txt"
    server.write_text("# the server\nFastAPI==0.110.0\ngunicorn==27.0.1\nsix==1.16.0\n")
    args = argparse.Namespace(constraints=app, extra_dir=[extra], add_pins=[server])
    pins = build_wheelhouse.pin_lines(app)
    pinned = {build_wheelhouse.requirement_name(line) for line in pins}
    assert pins + build_wheelhouse.added_pins(pinned, args) == [
        "fastapi==0.165.0",
        "prometheus_client==0.21.0",
        "six==1.17.0",
        "gunicorn==27.0.1",
    ]


def project(tmp_path: Path, requires: list[str] | None) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    table = "" if requires is None else f"[build-system]\nrequires = {requires!r}\n"
    (tmp_path / "pyproject.toml").write_text(table + '[project]\nname = "x"\nversion = "1"\n')
    return tmp_path


@pytest.mark.parametrize(
    ("requires", "missing"),
    [
        (["setuptools>=69"], []),
        (None, []),  # no table: setuptools, as pip assumes
        (["setuptools>=999"], ["setuptools>=999"]),
        (["hatchling"], ["hatchling"]),
        (["hatchling; python_version < '3'"], []),  # a marker that does not apply here
    ],
)
def test_build_requirements_met_by_the_controller(
    tmp_path: Path, requires: list[str] | None, missing: list[str]
) -> None:
    assert build_wheelhouse.missing_build_requirements(project(tmp_path, requires)) == missing


def test_the_apps_wheel_is_built_with_the_pinned_setuptools_and_twice_the_same(tmp_path: Path) -> None:
    """Same sources, same wheel: a host refuses a release version built from other bytes."""
    app = Path(__file__).resolve().parents[3] / "app"
    digests = []
    for name in ("one", "two"):
        out = tmp_path / name
        out.mkdir()
        build_wheelhouse.build_app_wheel(app, out, [])
        (wheel,) = out.glob("*.whl")
        with zipfile.ZipFile(wheel) as archive:
            meta = next(n for n in archive.namelist() if n.endswith(".dist-info/WHEEL"))
            generator = archive.read(meta).decode()
        assert f"Generator: setuptools ({importlib.metadata.version('setuptools')})" in generator
        digests.append(hashlib.sha256(wheel.read_bytes()).hexdigest())
    assert digests[0] == digests[1]


@pytest.mark.parametrize(("requires", "isolated"), [(["setuptools>=69"], False), (["hatchling"], True)])
def test_only_a_backend_not_installed_here_is_built_in_isolation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, requires: list[str], isolated: bool
) -> None:
    calls: list[tuple[str, ...]] = []
    in_place: list[Path] = []
    monkeypatch.setattr(build_wheelhouse, "pip", lambda *args, env=None: calls.append(args))
    monkeypatch.setattr(build_wheelhouse, "build_in_place", lambda src, out, env: in_place.append(src))
    (tmp_path / "src").mkdir()
    build_wheelhouse.build_app_wheel(project(tmp_path / "src", requires), tmp_path, [])
    assert len(calls) == int(isolated)
    assert len(in_place) == int(not isolated)
    if isolated:
        assert calls[0][0] == "wheel"
        assert "--no-build-isolation" not in calls[0]


def test_a_backend_that_fails_is_named_with_its_output(tmp_path: Path) -> None:
    src = project(tmp_path / "src", ["setuptools>=69"])
    (src / "pyproject.toml").write_text(
        (src / "pyproject.toml")
        .read_text()
        .replace("[project]", 'build-backend = "nowhere.backend"\n[project]')
    )
    with pytest.raises(SystemExit, match=r"(?s)nowhere\.backend failed:.*No module named 'nowhere'"):
        build_wheelhouse.build_in_place(src, tmp_path, {})


def test_a_constraints_file_outside_the_project_is_read(tmp_path: Path) -> None:
    # Any path on the controller (a traceback once: "is not in the subpath of").
    (tmp_path / "app").mkdir()
    app = project(tmp_path / "app", ["setuptools>=69"])
    (app / "app.py").write_text("app = None\n")
    pins = tmp_path / "elsewhere" / "constraints.txt"
    pins.parent.mkdir()
    pins.write_text("fastapi==0.165.0\n")
    args = build_wheelhouse.parse_args(
        ["--app-dir", str(app), "--constraints", str(pins), "--python", "3.13", "--out", str(tmp_path / "o")]
    )
    first = build_wheelhouse.inputs_digest(args)
    pins.write_text("fastapi==0.165.1\n")
    assert build_wheelhouse.inputs_digest(args) != first


def wheel(directory: Path, name: str, content: bytes = b"wheel") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_bytes(content)
    return path


def test_every_pin_carries_the_sha256_of_its_wheel(tmp_path: Path) -> None:
    yaml_wheel = wheel(tmp_path, "PyYAML-6.0.4-cp311-cp311-manylinux2014_x86_64.whl", b"yaml")
    app_wheel = wheel(tmp_path, "fastapi_demo-1.2.1-py3-none-any.whl", b"app")
    lines = build_wheelhouse.hashed_requirements(
        ["pyyaml==6.0.4", "fastapi-demo==1.2.1"], [yaml_wheel, app_wheel]
    )
    assert lines == [
        f"pyyaml==6.0.4 --hash=sha256:{hashlib.sha256(b'yaml').hexdigest()}",
        f"fastapi-demo==1.2.1 --hash=sha256:{hashlib.sha256(b'app').hexdigest()}",
    ]


def test_the_dependency_set_is_named_by_its_checksums(tmp_path: Path) -> None:
    deps = tmp_path / "deps"
    wheel(deps, "a-1-py3-none-any.whl", b"a")
    wheel(deps / "installer", "uv-1-py3-none-manylinux_2_17_x86_64.whl", b"uv")
    first = build_wheelhouse.write_sums(deps)
    # What the host's sha256sum --check reads.
    assert (deps / "SHA256SUMS").read_text() == (
        f"{hashlib.sha256(b'a').hexdigest()}  a-1-py3-none-any.whl\n"
        f"{hashlib.sha256(b'uv').hexdigest()}  installer/uv-1-py3-none-manylinux_2_17_x86_64.whl\n"
    )
    assert first == hashlib.sha256((deps / "SHA256SUMS").read_bytes()).hexdigest()[:16]
    wheel(deps, "a-1-py3-none-any.whl", b"other bytes")
    assert build_wheelhouse.write_sums(deps) != first


def test_the_archives_hold_the_top_files_and_the_whole_dependency_set(tmp_path: Path) -> None:
    out = tmp_path / "cp311-x86_64"
    wheel(out, "app-1-py3-none-any.whl")
    wheel(out, ".inputs")
    wheel(out / "deps", "a-1-py3-none-any.whl")
    wheel(out / "deps" / "installer", "uv-1-py3-none-any.whl")
    build_wheelhouse.write_tar(out, tmp_path / "top.tar")
    build_wheelhouse.write_tar(out / "deps", tmp_path / "deps.tar", recursive=True)
    with tarfile.open(tmp_path / "top.tar") as top, tarfile.open(tmp_path / "deps.tar") as deps:
        assert top.getnames() == ["app-1-py3-none-any.whl"]
        assert deps.getnames() == ["a-1-py3-none-any.whl", "installer/uv-1-py3-none-any.whl"]
        assert {m.mtime for m in deps.getmembers()} == {0}


def test_a_code_only_build_keeps_the_dependency_set_and_its_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The set's id and archive stay as they were: a host that has it gets only the app's part."""
    app = project(tmp_path / "app", ["setuptools>=69"])
    (app / "app.py").write_text("app = None\n")
    pins = tmp_path / "constraints.txt"
    pins.write_text("fastapi==0.165.0\n")
    installer = tmp_path / "installer.txt"
    installer.write_text("uv==0.13.9\n")
    downloads: list[str] = []

    def download(args: argparse.Namespace, staging: Path, pin_file: Path) -> None:
        downloads.append(pin_file.read_text())
        wheel(staging, "fastapi-0.165.0-py3-none-any.whl", b"fastapi")

    def build_wheel(project_dir: Path, staging: Path, index: list[str]) -> None:
        version = build_wheelhouse.app_metadata(project_dir)[1]
        wheel(staging, f"x-{version}-py3-none-any.whl", version.encode())

    monkeypatch.setattr(build_wheelhouse, "download_deps", download)
    monkeypatch.setattr(build_wheelhouse, "check_complete", lambda *args: None)
    monkeypatch.setattr(build_wheelhouse, "build_app_wheel", build_wheel)
    monkeypatch.setattr(
        build_wheelhouse,
        "fetch_installer",
        lambda args, deps: wheel(deps / "installer", "uv-0.13.9-py3-none-any.whl", b"uv"),
    )
    out = tmp_path / "wh" / "cp311-x86_64"
    argv = ["--app-dir", str(app), "--constraints", str(pins), "--python", "3.11", "--out", str(out)]
    argv += ["--installer", str(installer)]
    assert build_wheelhouse.main(argv) == 0
    deps_tar = out.with_name(out.name + ".deps.tar")
    first = ((out / "DEPS").read_text(), deps_tar.stat().st_mtime_ns, (out / "MANIFEST.sha256").read_text())
    (app / "pyproject.toml").write_text((app / "pyproject.toml").read_text().replace('"1"', '"2"'))
    assert build_wheelhouse.main(argv) == 0
    assert len(downloads) == 1
    assert (out / "DEPS").read_text() == first[0]
    assert deps_tar.stat().st_mtime_ns == first[1]
    assert (out / "MANIFEST.sha256").read_text() != first[2]
    app_hash = hashlib.sha256(b"2").hexdigest()
    assert (out / "install.txt").read_text().splitlines()[-1] == f"x==2 --hash=sha256:{app_hash}"
    with tarfile.open(out.with_name(out.name + ".tar")) as top:
        assert "x-2-py3-none-any.whl" in top.getnames()
        assert not [name for name in top.getnames() if name.startswith(("fastapi", "uv"))]


def test_the_installer_is_not_part_of_the_release(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another uv does not make a version's release "built from other wheels"."""
    manifests = []
    for content in (b"uv one", b"uv two"):
        staging = tmp_path / content.decode().replace(" ", "-")
        app = project(tmp_path / "app", ["setuptools>=69"])
        installer = wheel(tmp_path, "installer.txt", b"uv==0.13.9\n")
        args = build_wheelhouse.parse_args(
            [
                "--app-dir",
                str(app),
                "--python",
                "3.11",
                "--out",
                str(tmp_path / "o"),
                "--installer",
                str(installer),
            ]
        )
        args.constraints = str(wheel(tmp_path, "constraints.txt", b"fastapi==0.165.0\n"))
        monkeypatch.setattr(
            build_wheelhouse,
            "download_deps",
            lambda args, deps, pins: wheel(deps, "fastapi-0.165.0-py3-none-any.whl", b"fastapi"),
        )
        monkeypatch.setattr(build_wheelhouse, "check_complete", lambda *args: None)
        monkeypatch.setattr(
            build_wheelhouse, "build_app_wheel", lambda d, s, i: wheel(s, "x-1-py3-none-any.whl")
        )
        monkeypatch.setattr(
            build_wheelhouse,
            "fetch_installer",
            lambda args, deps, content=content: wheel(deps / "installer", "uv-1-py3-none-any.whl", content),
        )
        staging.mkdir()
        build_wheelhouse.build(args, staging)
        manifests.append((staging / "MANIFEST.sha256").read_text())
    assert manifests[0] == manifests[1]


def test_the_hosts_installer_is_the_controllers_uv() -> None:
    root = Path(__file__).resolve().parents[3]
    pins = build_wheelhouse.pin_lines(SCRIPT.parent / "installer" / "constraints.txt")
    controller = [
        line for line in (root / "requirements.txt").read_text().splitlines() if line.startswith("uv==")
    ]
    assert pins == controller


def test_only_a_small_app_part_goes_inline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = wheel(tmp_path, "cp311-x86_64.tar", b"small archive")
    build_wheelhouse.write_inline(archive)
    inline = tmp_path / "cp311-x86_64.tar.b64"
    assert base64.b64decode(inline.read_bytes()) == b"small archive"
    monkeypatch.setattr(build_wheelhouse, "INLINE_LIMIT", 4)
    build_wheelhouse.write_inline(archive)
    assert not inline.exists()
