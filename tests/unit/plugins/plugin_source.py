"""The collection's plugins as the tests beside this file use them: loaded from their files (the
collection is not an installed package), and modules run as Ansible runs them."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[3]


def plugin_path(relative: str) -> Path:
    """A plugin's file, `relative` to plugins/ (e.g. "modules/host_state.py")."""
    return ROOT / "plugins" / relative


def load(relative: str) -> ModuleType:
    """The plugin's file imported as a module of its own name."""
    path = plugin_path(relative)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_module(
    relative: str, args: dict[str, Any], tmp_path: Path, check_mode: bool = False
) -> tuple[int, dict[str, Any]]:
    """A module run as Ansible runs it (its arguments in a file): its exit code and its JSON result."""
    args_file = tmp_path / "args.json"
    module_args = {**args, "_ansible_check_mode": True} if check_mode else args
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": module_args}))
    proc = subprocess.run(
        [sys.executable, str(plugin_path(relative)), str(args_file)], capture_output=True, text=True
    )
    return proc.returncode, json.loads(proc.stdout)
