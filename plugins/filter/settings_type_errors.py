# Used by the internal _settings role: the type check of every option of a
# role's spec, as given (Ansible's own spec check converts what it can). In
# Python: the same check as a Jinja macro templated per option cost about a
# third of a second of controller time on every run (docs/design.md).
"""One line per option whose value is not of its spec's type."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ansible.plugins.filter.core import to_json

KINDS = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "path": "an absolute path",
    "dict": "a mapping",
    "list": "a list",
    "raw": "anything",
}
BOOLEAN_WORDS = {"true", "false", "yes", "no", "on", "off", "1", "0"}
# As the Jinja test `match` reads them (re.match, `$` before a final newline too).
INTEGER = re.compile(r"^-?[0-9]+$")
NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def kind_ok(value: Any, kind: str) -> bool:
    """Whether `value` is of the spec type `kind`; strings that read as one pass for int, float and bool
    (extra vars on the command line are strings)."""
    if kind == "raw":
        return True
    if kind == "bool":
        return isinstance(value, bool) or (isinstance(value, str) and value.lower() in BOOLEAN_WORDS)
    if kind == "int":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, str) and INTEGER.match(value) is not None
        )
    if kind == "float":
        return _number(value) or (isinstance(value, str) and NUMBER.match(value) is not None)
    if kind == "path":
        return isinstance(value, str) and value.startswith("/")
    if kind == "dict":
        return isinstance(value, Mapping)
    if kind == "list":
        return isinstance(value, Sequence) and not isinstance(value, str | Mapping)
    return isinstance(value, str) or _number(value)


def settings_type_errors(options: Mapping[str, Any], values: Sequence[Any]) -> list[str]:
    """`options`: the spec's options (name -> {type, elements, choices}); `values`: theirs, in the same
    order (None where unset: not checked). One line per wrong value, naming it and its type or choices.
    With Ansible's own spec check this is all of it: the roles' specs use nothing else."""
    errors = []
    for (name, option), value in zip(options.items(), values, strict=True):
        kind = option.get("type", "str")
        if value is None:
            continue
        if not kind_ok(value, kind):
            errors.append(f"{name} must be {KINDS[kind]} (got {to_json(value)})")
        elif option.get("choices") and str(value) not in [str(choice) for choice in option["choices"]]:
            errors.append(
                f"{name} must be one of {', '.join(map(str, option['choices']))} (got {to_json(value)})"
            )
        elif kind == "list" and option.get("elements"):
            wrong = [element for element in value if not kind_ok(element, option["elements"])]
            if wrong:
                noun = re.sub("^an? ", "", KINDS[option["elements"]])
                errors.append(
                    f"{name} must be a list of {noun}s (got {to_json(value)}, not "
                    + ", ".join(to_json(element) for element in wrong)
                    + ")"
                )
    return errors


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"settings_type_errors": settings_type_errors}
