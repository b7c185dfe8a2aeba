#!/usr/bin/python
# Documentation only: the action plugin plugins/action/wheelhouse.py does the work, on the controller.
"""Build the app role's wheelhouse for one host target (the action plugin's documentation)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: wheelhouse
short_description: Build the app role's wheelhouse on the controller for one host's Python and machine
description:
  - Runs the app role's C(files/build_wheelhouse.py) on the controller (an action; the task's host is not
    contacted). The project's pins (its lock, or C(constraints)) and the app server where they lack it,
    C(deploy_observe), the installer the hosts run and the project's tree, fetched and built for
    C(python) and C(arch) into C(out). Nothing is done when C(out) was built from the same inputs.
  - C(changed) when it built; on failure C(msg) is the build's last line, the reason.
  - Writes only the controller's build directory, in check mode too.
options:
  app_dir: {description: The project (pyproject.toml)., type: path, required: true}
  constraints: {description: Exact pins to use instead of the project's lock., type: str, default: ""}
  python: {description: "The host's Python, C(3.13).", type: str, required: true}
  arch: {description: "The host's machine, C(x86_64) or C(aarch64).", type: str, required: true}
  out: {description: The wheelhouse directory to fill., type: path, required: true}
  index_url: {description: The package index to fetch from instead of pip's own., type: str, default: ""}
  groups: {description: The lock's dependency groups to add., type: list, elements: str, default: []}
  extras: {description: The project's extras to add., type: list, elements: str, default: []}
  exclude: {description: Tree paths not to ship (patterns)., type: list, elements: str, default: []}
"""

RETURN = r"""
stdout: {description: "The build's output, ending in built or up to date.", type: str, returned: always}
stderr: {description: The build's errors and pip's warnings., type: str, returned: always}
rc: {description: The build's exit code., type: int, returned: always}
"""
