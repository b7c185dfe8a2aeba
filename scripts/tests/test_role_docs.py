"""Role READMEs: `make docs` writes the variable block, `--check` fails when a spec changed without it."""

from __future__ import annotations

from pathlib import Path

import pytest
import role_docs

SPECS = """\
argument_specs:
  main:
    short_description: A role.
    options: &options
      demo_port:
        type: int
        default: 8000
        description: Port of C(demo).
  validate:
    short_description: The checks only.
    options: *options
  extra:
    short_description: Something else.
    options:
      demo_port:
        type: int
        default: 9000
        description: Port of C(demo).
"""


def role(root: Path, specs: str = SPECS, readme: str | None = None) -> Path:
    (root / "roles" / "demo" / "meta").mkdir(parents=True)
    (root / "roles" / "demo" / "meta" / "argument_specs.yml").write_text(specs)
    path = root / "roles" / "demo" / "README.md"
    if readme is not None:
        path.write_text(readme)
    return path


def test_docs_fills_the_block_and_keeps_the_introduction(tmp_path: Path) -> None:
    readme = role(tmp_path, readme=f"# Role\n\nBy hand.\n\n{role_docs.BEGIN}\n{role_docs.END}\nAfter.\n")
    assert role_docs.main(["--root", str(tmp_path)]) == 0
    text = readme.read_text()
    assert text.startswith("# Role\n\nBy hand.\n\n")
    assert text.endswith(f"{role_docs.END}\nAfter.\n")
    assert "| `demo_port` | int | `8000` | Port of `demo`. |" in text
    # Entry points by name; `validate` shares main's options, `extra` has one of its own.
    assert "| `validate` | The checks only. |" in text
    assert text.count("`demo_port`") == 2
    assert "| `demo_port` | int | `9000` |" in text
    assert role_docs.main(["--check", "--root", str(tmp_path)]) == 0


def test_check_fails_on_a_stale_block_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = role(tmp_path, readme=f"# Role\n\n{role_docs.BEGIN}\n{role_docs.END}\n")
    assert role_docs.main(["--root", str(tmp_path)]) == 0
    spec_file = tmp_path / "roles" / "demo" / "meta" / "argument_specs.yml"
    spec_file.write_text(SPECS.replace("default: 8000", "default: 8001"))
    before = readme.read_text()
    assert role_docs.main(["--check", "--root", str(tmp_path)]) == 1
    assert "roles/demo/README.md" in capsys.readouterr().err
    assert readme.read_text() == before
    assert role_docs.main(["--root", str(tmp_path)]) == 0
    assert "`8001`" in readme.read_text()


def test_check_fails_on_a_missing_readme_that_docs_then_creates(tmp_path: Path) -> None:
    readme = role(tmp_path)
    assert role_docs.main(["--check", "--root", str(tmp_path)]) == 1
    assert not readme.exists()
    assert role_docs.main(["--root", str(tmp_path)]) == 0
    assert readme.read_text().startswith("# Role `demo`\n\nA role.\n")
    assert role_docs.main(["--check", "--root", str(tmp_path)]) == 0
