# Used by the app role: the release commands' run as the audit log records
# it (roles/deploy finish.yml), read from the output of the role's command
# script (vars/main.yml _app_commands_script): "$ <command>" before each
# command's output, "release command <n> failed with exit code <rc>" after
# the one that failed, where the script stops.
"""The release commands' run from their output: each command run, its exit code and its last lines."""

from __future__ import annotations

import re
from typing import Any

FAILED = re.compile(r"^release command (\d+) failed with exit code (\d+)$")


def release_commands_run(
    result: dict[str, Any], commands: list[str], lines: int = 10, width: int = 200
) -> list[dict[str, Any]]:
    """[{command, rc, tail}] of the commands that ran; tail: their last `lines` lines, each cut at `width`."""
    text = str(result.get("stdout") or "") + "\n"
    rc = int(result.get("rc") or 0)
    starts: list[tuple[int, int]] = []
    position = 0
    for command in commands:
        header = f"$ {command}\n"
        found = text.find(header, position)
        if found < 0:
            break
        starts.append((found, found + len(header)))
        position = found + len(header)
    runs = []
    for index, (_, body) in enumerate(starts):
        end = starts[index + 1][0] if index + 1 < len(starts) else len(text)
        output = text[body:end].splitlines()
        code = 0
        if index == len(starts) - 1 and rc != 0:
            code = rc
            failed = FAILED.match(output[-1]) if output else None
            if failed and int(failed.group(1)) == index + 1:
                code = int(failed.group(2))
                output.pop()
        tail = [line[:width] for line in output[-lines:]]
        runs.append({"command": commands[index], "rc": code, "tail": tail})
    if not runs and rc != 0:
        # The script never started (systemd-run's own failure, on stderr).
        tail = str(result.get("stderr") or "").splitlines()[-lines:]
        runs.append({"command": "systemd-run", "rc": rc, "tail": [line[:width] for line in tail]})
    return runs


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"release_commands_run": release_commands_run}
