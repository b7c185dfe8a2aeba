#!/usr/bin/env python3
"""The three versions of the notes app the database scenario deploys, made from examples/notes.

- v1 (1.0.0): migration 0001 only (the notes table), and code without the author column;
- v2 (2.0.0): examples/notes as it is (0002 adds notes.author, and the code writes and reads it);
- v3 (3.0.0): v2 and a migration 0003 that adds a column, then fails (division by zero): PostgreSQL
  rolls the whole upgrade back.

``notes_variants.py <dir>`` writes <dir>/v1, v2, v3, each only when it differs (prints "written <name>"):
the scenario's converge runs it and must report no change the second time.
"""

from __future__ import annotations

import filecmp
import re
import shutil
import sys
import tempfile
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[3] / "examples" / "notes"
VERSIONS = {"v1": "1.0.0", "v2": "2.0.0", "v3": "3.0.0"}

FAILING_MIGRATION = '''"""Add notes.rating, filled by a computation that fails."""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.add_column("notes", sa.Column("rating", sa.Integer, nullable=True))
    op.execute("UPDATE notes SET rating = 1 / 0")


def downgrade() -> None:
    op.drop_column("notes", "rating")
'''


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not found in {path}"
    path.write_text(text.replace(old, new))


def make(dest: Path, name: str) -> None:
    shutil.copytree(SOURCE, dest, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"))
    pyproject = dest / "pyproject.toml"
    text, count = re.subn(r'(?m)^version = "[^"]+"$', f'version = "{VERSIONS[name]}"', pyproject.read_text())
    assert count == 1, f"no version line in {pyproject}"
    pyproject.write_text(text)
    versions = dest / "notes" / "migrations" / "versions"
    if name == "v1":
        (versions / "0002_add_author.py").unlink()
        models = dest / "notes" / "models.py"
        replace(
            models,
            "    # Added by migration 0002 (with a default, so the code before it kept inserting).\n"
            '    author: Mapped[str] = mapped_column(String(100), server_default="anonymous")\n',
            "",
        )
        replace(models, '    author: str = Field(default="anonymous", min_length=1, max_length=100)\n', "")
        replace(models, "    created_at: datetime\n    author: str\n", "    created_at: datetime\n")
        replace(
            models,
            "from sqlalchemy import DateTime, String, Text, func",
            "from sqlalchemy import DateTime, Text, func",
        )
    if name == "v3":
        (versions / "0003_add_rating.py").write_text(FAILING_MIGRATION)


def same_tree(a: Path, b: Path) -> bool:
    compare = filecmp.dircmp(a, b)
    if compare.left_only or compare.right_only or compare.funny_files:
        return False
    _, mismatch, errors = filecmp.cmpfiles(a, b, compare.common_files, shallow=False)
    return not mismatch and not errors and all(same_tree(a / d, b / d) for d in compare.common_dirs)


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    for name in VERSIONS:
        with tempfile.TemporaryDirectory(dir=out) as tmp:
            staged = Path(tmp) / name
            make(staged, name)
            dest = out / name
            if dest.is_dir() and same_tree(staged, dest):
                continue
            shutil.rmtree(dest, ignore_errors=True)
            staged.rename(dest)
            print(f"written {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
