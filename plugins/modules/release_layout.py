#!/usr/bin/python
# Used by the app role to switch `current` (and back, on a failed gate), and
# after a release passed its health gate: the release links (previous,
# previous-config, current-config, the config generation a release ran with)
# and the pruning of old releases, each in one module run instead of one
# ansible.builtin.file run per link or path (about 0.25 s of a release each:
# docs/design.md).
"""Point release links at their targets atomically, and remove old release paths."""

from __future__ import annotations

import os
import shutil
from typing import Any

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: release_layout
short_description: Point a release layout's links and remove its old paths, in one module run
description:
  - Each link of C(links) is made to point at its C(src), relative to the link's directory as
    C(ansible.builtin.file) C(state=link) writes it. A link pointing elsewhere is replaced atomically (a new
    link renamed over it), so a reader sees the old target or the new one, never none.
  - Each path of C(absent) is removed (a directory with its contents).
  - Links first, then removals. Check mode reports what would change and changes nothing.
options:
  links:
    description: "The links, each C({path, src}); C(src) must exist (unless in check mode)."
    type: list
    elements: dict
    default: []
  absent:
    description: Paths to remove; those already gone are skipped.
    type: list
    elements: path
    default: []
"""

RETURN = r"""
linked: {description: The links this run pointed elsewhere., type: list, returned: always}
removed: {description: The paths this run removed., type: list, returned: always}
"""


def link_differs(path: str, src: str) -> bool:
    """Whether `path` is not a link to `src` (also when it is no link at all)."""
    return not os.path.islink(path) or os.readlink(path) != src


def point(path: str, src: str) -> None:
    """Make `path` a link to `src`: a new link renamed over the old one (atomic on one filesystem)."""
    target = src if os.path.isabs(src) else os.path.join(os.path.dirname(path), src)
    if not os.path.exists(target):
        raise FileNotFoundError(f"{path}: its target {src} does not exist")
    if os.path.isdir(path) and not os.path.islink(path):
        raise IsADirectoryError(f"{path} is a directory, not a link")
    temporary = f"{path}.new.{os.getpid()}"
    if os.path.lexists(temporary):
        os.unlink(temporary)
    os.symlink(src, temporary)
    os.replace(temporary, path)


def remove(path: str) -> None:
    """Remove a file, a link or a directory tree."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.unlink(path)


def run(links: list[dict[str, str]], absent: list[str], check_mode: bool) -> dict[str, Any]:
    linked = [link["path"] for link in links if link_differs(link["path"], link["src"])]
    removed = [path for path in absent if os.path.lexists(path)]
    diff = {
        "before": "".join(
            f"{link['path']} -> {os.readlink(link['path'])}\n"
            for link in links
            if link["path"] in linked and os.path.islink(link["path"])
        )
        + "".join(f"{path}\n" for path in removed),
        "after": "".join(f"{link['path']} -> {link['src']}\n" for link in links if link["path"] in linked),
    }
    if not check_mode:
        for link in links:
            if link["path"] in linked:
                point(link["path"], link["src"])
        for path in removed:
            remove(path)
    return {"changed": bool(linked or removed), "linked": linked, "removed": removed, "diff": diff}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "links": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {
                    "path": {"type": "path", "required": True},
                    "src": {"type": "str", "required": True},
                },
            },
            "absent": {"type": "list", "elements": "path", "default": []},
        },
        supports_check_mode=True,
    )
    try:
        result = run(module.params["links"], module.params["absent"], module.check_mode)
    except OSError as error:
        module.fail_json(msg=str(error))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
