"""The wheelhouse's pins: the app's own, then the role's package's for what the app does not pin."""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "files" / "build_wheelhouse.py"
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
    args = argparse.Namespace(constraints=app, extra_dir=[extra])
    assert build_wheelhouse.merged_pins(args) == [
        "fastapi==0.165.0",
        "prometheus_client==0.21.0",
        "six==1.17.0",
    ]
