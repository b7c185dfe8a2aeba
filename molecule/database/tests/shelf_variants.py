#!/usr/bin/env python3
"""The versions of examples/shelf the database scenario deploys, each a copy of the project as it is.

- v1 (0.1.0): examples/shelf unchanged (migration 0001 creates the item table);
- v2 (0.2.0): migration 0002 adds item.priority (with a server default: expand), and the code uses it;
- v3 (0.3.0): v2 and a migration 0003 that adds a column, then fails (division by zero): PostgreSQL
  rolls the whole upgrade back;
- v3-fixed (0.3.0 again): v2 and a 0003 that works. A release that never served is installed again over
  the failed one: no new version, no hand step.

``shelf_variants.py <dir>`` writes each under <dir>, only when it differs (prints "written <name>"):
the scenario's converge runs it and must report no change the second time.
"""

from __future__ import annotations

import filecmp
import re
import shutil
import sys
import tempfile
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[3] / "examples" / "shelf"
VERSIONS = {"v1": "0.1.0", "v2": "0.2.0", "v3": "0.3.0", "v3-fixed": "0.3.0"}

ADD_PRIORITY = '''"""Add item.priority, with a server default so the code before it keeps inserting."""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.add_column("item", sa.Column("priority", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    op.drop_column("item", "priority")
'''

ADD_RATING = '''"""Add item.rating{what}."""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.add_column("item", sa.Column("rating", sa.Integer(), nullable=True))
    op.execute("UPDATE item SET rating = {value}")


def downgrade() -> None:
    op.drop_column("item", "rating")
'''


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not found in {path}"
    path.write_text(text.replace(old, new))


def make(dest: Path, name: str) -> None:
    shutil.copytree(SOURCE, dest, ignore=shutil.ignore_patterns("__pycache__", ".venv", ".pytest_cache"))
    pyproject = dest / "pyproject.toml"
    text, count = re.subn(r'(?m)^version = "[^"]+"$', f'version = "{VERSIONS[name]}"', pyproject.read_text())
    assert count == 1, f"no version line in {pyproject}"
    pyproject.write_text(text)
    if name == "v1":
        return
    versions = dest / "alembic" / "versions"
    (versions / "0002_add_priority.py").write_text(ADD_PRIORITY)
    replace(
        dest / "app" / "models.py",
        "    description: str | None = Field(default=None, max_length=255)\n",
        "    description: str | None = Field(default=None, max_length=255)\n    priority: int = 0\n",
    )
    if name == "v3":
        failing = ADD_RATING.format(what=", filled by a failing computation", value="1 / 0")
        (versions / "0003_add_rating.py").write_text(failing)
    if name == "v3-fixed":
        (versions / "0003_add_rating.py").write_text(ADD_RATING.format(what="", value="1"))


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
