"""Every YAML file Ansible reads loads without a key twice in one mapping.

ansible-core 2.19 warns about such a key on every run ("Found duplicate mapping key"), keys
brought in by a `<<:` merge included (PyYAML drops a merged key seen before only when it is
the same string object, so short keys pass and long ones do not): one argument_specs entry
merging option sets that share a name printed ten warnings per deploy. The check runs
Ansible's own loader with DUPLICATE_YAML_DICT_KEY=error, so it sees exactly what a run sees.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLACES = ("roles", "playbooks", "inventory", "molecule", "examples")

LOAD = """
import sys
from ansible.parsing.dataloader import DataLoader
loader = DataLoader()
failed = 0
for name in sys.argv[1:]:
    try:
        loader.load_from_file(name)
    except Exception as exc:
        failed += 1
        print(f"{name}: {str(exc).splitlines()[0]}")
sys.exit(1 if failed else 0)
"""


def yaml_files() -> list[Path]:
    return sorted(
        path
        for place in PLACES
        for pattern in ("*.yml", "*.yaml")
        for path in (ROOT / place).rglob(pattern)
        # molecule.yml is Molecule's, read by its own loader (its platforms merge a base and
        # override `name` on purpose), never by Ansible.
        if ".cache" not in path.parts and path.name != "molecule.yml"
    )


def load(files: list[Path]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ANSIBLE_DUPLICATE_YAML_DICT_KEY": "error"}
    return subprocess.run(
        [sys.executable, "-c", LOAD, *map(str, files)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )


def test_no_yaml_file_has_a_key_twice() -> None:
    files = yaml_files()
    assert len(files) > 50, files
    proc = load(files)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    "text",
    [
        "some_option: 1\nsome_option: 2\n",
        "x: &x {some_option: 1}\ny: &y {other: 2, some_option: 2}\nz:\n  <<: [*x, *y]\n",
    ],
    ids=["plain", "merged"],
)
def test_a_key_twice_is_refused(tmp_path: Path, text: str) -> None:
    sample = tmp_path / "sample.yml"
    sample.write_text(text)
    proc = load([sample])
    assert proc.returncode == 1
    assert "duplicate mapping key 'some_option'" in proc.stdout
