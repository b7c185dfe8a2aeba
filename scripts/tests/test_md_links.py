"""Markdown links: a missing file or heading is reported; code, schemes and good links are not."""

from __future__ import annotations

from pathlib import Path

import md_links
import pytest


def test_good_links_pass(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A\n\n## The app server: settings\n\nSee [b](../b.md#b-1).\n")
    (tmp_path / "b.md").write_text(
        "# B\n\n## B\n\n[a](docs/a.md#the-app-server-settings), [top](#b), [web](https://example.com/x)\n"
        "```\n[not a link](nowhere.md)\n```\n`[code](nowhere.md)`\n"
    )
    assert md_links.main(["--root", str(tmp_path)]) == 0


def test_missing_file_and_heading_are_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.md").write_text("# A\n\n[gone](gone.md) and [there](b.md#nope)\n")
    (tmp_path / "b.md").write_text("# B\n")
    assert md_links.main(["--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "a.md: gone.md: no such file" in err
    assert "a.md: b.md#nope: no such heading" in err
