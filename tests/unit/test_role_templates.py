"""Every template a role ships is written by the role, and every template it names exists.

The roles write only what their file tables (vars/main.yml `_<role>_files`, read on the host in one
module run) and tasks name: a template added under templates/ without its row would never be written,
and nothing would say so.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROLES = sorted(path.parent for path in ROOT.glob("roles/*/templates"))
NAMED = re.compile(r"(?<![\w./-])((?:[\w.-]+/)*[\w.-]+\.j2)\b")


def shipped(role: Path) -> set[str]:
    return {str(path.relative_to(role / "templates")) for path in (role / "templates").rglob("*.j2")}


def named(role: Path) -> set[str]:
    texts = [path.read_text() for path in [*role.glob("vars/*.yml"), *role.glob("tasks/*.yml")]]
    found = {match for text in texts for match in NAMED.findall(text)}
    # A task may name a template by its file name alone when its directory is a variable.
    by_name = {Path(name).name: name for name in shipped(role)}
    return {name if "/" in name or name not in by_name else by_name[name] for name in found}


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role.name)
def test_every_template_is_written_and_every_named_one_exists(role: Path) -> None:
    assert ROLES, "no role with templates found"
    assert shipped(role) - named(role) == set(), "templates no task or file table writes"
    assert named(role) - shipped(role) == set(), "templates named that the role does not ship"
