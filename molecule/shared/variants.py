"""Copies of the app's source tree with another version (or a broken health check), to deploy as releases."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

APP_SOURCE = Path(__file__).resolve().parents[2] / "app"


def app_variant(dest: Path, version: str, *, healthy: bool = True) -> Path:
    """Copy app/ to dest with `version` as the package version; return the copy's path.

    With healthy=False, the copy's /health answers 500: a release that imports and passes
    Gunicorn's config check, yet must never take traffic.
    """
    # The tree as the release ships it from the checkout (tests included): a copy under the
    # deployed version is then the same release, not other code under that version.
    shutil.copytree(
        APP_SOURCE,
        dest,
        ignore=shutil.ignore_patterns("*.egg-info", "__pycache__", "build", ".pytest_cache"),
    )
    pyproject = dest / "pyproject.toml"
    text, count = re.subn(r'(?m)^version = "[^"]+"$', f'version = "{version}"', pyproject.read_text())
    assert count == 1, f"no version line in {pyproject}"
    pyproject.write_text(text)
    if not healthy:
        main = dest / "fastapi_demo" / "main.py"
        source = main.read_text()
        anchor = '    return {"status": "ok", "version": __version__}\n'
        assert anchor in source, f"health check not found in {main}"
        main.write_text(
            source.replace(
                anchor,
                '    raise RuntimeError("this release is broken on purpose")\n',
            )
        )
    return dest
