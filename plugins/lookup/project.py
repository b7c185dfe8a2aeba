# Used by the app role's first-play checks (tasks/validate.yml): what the
# project declares, read in the controller's worker by the app role's own
# build script (roles/app/files/build_wheelhouse.py --describe, imported).
# As a command task the same read cost a module run on the controller, about
# 0.4 s of every deploy (docs/design.md).
"""The project's name, version, requires-python and pins, and which Pythons it accepts."""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from pathlib import Path
from typing import Any

from ansible.plugins.lookup import LookupBase

DOCUMENTATION = r"""
name: project
version_added: 1.1.0
short_description: What a Python project declares, and whether given Pythons meet its requires-python
description:
  - Reads the project in C(_terms[0]) as the app role's wheelhouse build does (C(pyproject.toml) and its
    lock, or C(constraints)) and returns one mapping, C({name, version, requires_python, pins, wheel,
    python_ok}), with C(python_ok) mapping each of C(check_python) to whether the project accepts it.
  - Where the project cannot be read, C({error}) with the line that says why.
options:
  _terms:
    description: The project's directory on the controller.
    required: true
  constraints:
    description: A constraints file to read the pins from instead of the project's lock.
    type: str
    default: ""
  check_python:
    description: Python versions (3.11.2) to check against the project's requires-python.
    type: list
    elements: str
    default: []
"""

RETURN = r"""
_raw:
  description: One mapping, C({name, version, requires_python, pins, wheel, python_ok}) or C({error}).
  type: list
  elements: dict
"""

FILES = Path(__file__).resolve().parents[2] / "roles" / "app" / "files"


def describe(app_dir: str, constraints: str, check_python: list[str]) -> dict[str, Any]:
    if str(FILES) not in sys.path:
        sys.path.insert(0, str(FILES))
    # In the task's worker only: no __pycache__ written into the role (an installed collection).
    sys.dont_write_bytecode = True
    build = importlib.import_module("build_wheelhouse")
    args = argparse.Namespace(app_dir=Path(app_dir), constraints=constraints, check_python=check_python)
    try:
        return build.describe(args)
    except SystemExit as stop:
        return {"error": str(stop.code)}
    # Any failure to read the project is the operator's line, as the script's last line of stderr was.
    except Exception as error:
        return {"error": traceback.format_exception_only(error)[-1].strip()}


class LookupModule(LookupBase):
    def run(self, terms: list[Any], variables: dict[str, Any] | None = None, **kwargs: Any) -> list[Any]:
        self.set_options(var_options=variables, direct=kwargs)
        return [describe(str(terms[0]), self.get_option("constraints"), self.get_option("check_python"))]
