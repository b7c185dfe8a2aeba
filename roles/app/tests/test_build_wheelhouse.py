"""The wheelhouse's pins: the app's own, then the role's package's for what the app does not pin."""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import sys
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
    monkeypatch.setattr(build_wheelhouse, "pip", lambda *args, env=None: calls.append(args))
    (tmp_path / "src").mkdir()
    build_wheelhouse.build_app_wheel(project(tmp_path / "src", requires), tmp_path, [])
    assert len(calls) == 1
    assert ("--no-build-isolation" not in calls[0]) is isolated


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
