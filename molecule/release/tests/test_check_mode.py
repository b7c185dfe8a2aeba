"""`ansible-playbook --check --diff` on the converged host reports nothing to change."""

from __future__ import annotations

import re

from playbook import ansible_playbook


def test_check_diff_on_converged_host_changes_nothing() -> None:
    result = ansible_playbook("deploy.yml", "--check", "--diff")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    recap = r"^(\S+)\s+: ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)"
    recaps = re.findall(recap, result.stdout, re.M)
    assert recaps, result.stdout[-2000:]
    for host, changed, unreachable, failed in recaps:
        assert (changed, unreachable, failed) == ("0", "0", "0"), (host, result.stdout[-4000:])
    # --diff prints a unified diff for every file it would change: there must be none.
    assert not re.search(r"^[-+]{3} (before|after)", result.stdout, re.M), result.stdout[-4000:]
