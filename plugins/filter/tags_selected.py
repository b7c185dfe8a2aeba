# Used by the nginx, logrotate and monitoring roles and playbooks/monitoring.yml:
# whether a run's --tags / --skip-tags leave any task of a role to run, so the
# role's always-tagged reads of the host are skipped when none does (a
# code-only release, --tags release).
"""Whether a run with these --tags and --skip-tags runs any task of a role."""

from __future__ import annotations

from typing import Any


def tags_selected(tags: list[str], run_tags: list[str], skip_tags: list[str]) -> bool:
    """`tags`: the role's own tag, which every task of the role carries, then the concern tags a task
    may carry beside it. True when some task tagged [own] or [own, concern] runs, by Ansible's rules:
    not when a tag of the task is skipped; when the run selects `all`, `tagged` or one of its tags."""
    own, *concerns = tags
    if own in skip_tags:
        return False
    selecting = {"all", "tagged", own} | (set(concerns) - set(skip_tags))
    return bool(selecting & set(run_tags))


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"tags_selected": tags_selected}
