#!/usr/bin/env python3
"""Check that the relative links of the repository's Markdown files resolve.

A link to a file must name an existing path; a link with ``#anchor`` into a
Markdown file (or the same one) must name one of its headings, slugged as GitHub
does. Links with a scheme (``https:``, ``mailto:``) are not followed.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

SKIP = {".git", ".venv", "build", ".cache", "node_modules"}
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^\s*(```|~~~)")


def prose(text: str) -> list[str]:
    """The lines outside fenced code blocks."""
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def anchors(text: str) -> set[str]:
    seen: dict[str, int] = {}
    for line in prose(text):
        if line.startswith("#"):
            slug = re.sub(r"[^\w\- ]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            if count:
                seen[f"{slug}-{count}"] = 1
    return set(seen)


def broken(md: Path, root: Path) -> list[str]:
    problems = []
    for line in prose(md.read_text()):
        for target in LINK.findall(re.sub(r"`[^`]*`", "", line)):
            if re.match(r"[a-z][a-z0-9+.-]*:", target):
                continue
            path, _, anchor = target.partition("#")
            dest = (md.parent / path).resolve() if path else md
            if not dest.exists():
                problems.append(f"{md.relative_to(root)}: {target}: no such file")
            elif anchor and dest.suffix == ".md" and anchor not in anchors(dest.read_text()):
                problems.append(f"{md.relative_to(root)}: {target}: no such heading")
    return problems


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    args = parser.parse_args(argv)
    files = [p for p in sorted(args.root.rglob("*.md")) if not SKIP & set(p.relative_to(args.root).parts)]
    problems = [problem for md in files for problem in broken(md, args.root)]
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
