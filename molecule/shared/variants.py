"""Copies of the app's source tree with another version (or a broken health check), to deploy as releases."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

APP_SOURCE = Path(__file__).resolve().parents[2] / "app"


# What a release that passes its health check may still do wrong (fault=), on / and /items/{item_id}
# (nginx may cache the items: the default scenario's does): the post-switch watch's cases.
FAULTS = {
    # Every third request of those two routes a worker answers is a 500.
    "errors": (
        "    if next(calls) % 3 == 0:\n"
        '        raise HTTPException(status_code=500, detail="broken on purpose")\n'
    ),
    # Each request of those two routes waits 20 ms first (the demo answers in about 1 ms).
    "slow": "    await asyncio.sleep(0.02)\n",
}


def app_variant(dest: Path, version: str, *, healthy: bool = True, fault: str = "") -> Path:
    """Copy app/ to dest with `version` as the package version; return the copy's path.

    With healthy=False, the copy's /health answers 500: a release that imports and passes
    Gunicorn's config check, yet must never take traffic. fault= one of FAULTS: a release that
    passes its health check and serves / and /items/{item_id} badly.
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
    if fault:
        main = dest / "fastapi_demo" / "main.py"
        source = main.read_text()
        for anchor in (
            "async def read_root() -> dict[str, str]:\n",
            "async def read_item(item_id: int) -> dict[str, int | str]:\n",
        ):
            assert anchor in source, f"{anchor} not found in {main}"
            source = source.replace(anchor, anchor + FAULTS[fault])
        source = source.replace("app = FastAPI(", "calls = itertools.count(1)\napp = FastAPI(", 1)
        main.write_text("import asyncio\nimport itertools\n\nfrom fastapi import HTTPException\n\n" + source)
    return dest
