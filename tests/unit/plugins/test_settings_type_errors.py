"""The _settings role's type check of every option, as the roles' specs declare them."""

from __future__ import annotations

import json

import pytest

from plugin_source import load

check = load("filter/settings_type_errors.py").settings_type_errors


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        ("str", ["x", "", 3, 2.5], [True, ["x"], {"a": 1}]),
        ("int", [3, -1, "12", "-4"], [True, 2.5, "3.0", "three", [3]]),
        ("float", [2.5, 3, "0.5", "7"], [False, "1e3", "x", {}]),
        ("bool", [True, False, "yes", "Off", "1", "0"], [1, "maybe", []]),
        ("path", ["/srv/app"], ["srv/app", "", 3]),
        ("dict", [{}, {"a": 1}], [[], "a=1"]),
        ("list", [[], ["a"], ("a",)], ["a,b", {"a": 1}, 3]),
        ("raw", [None, 3, "x", [], {}], []),
    ],
)
def test_each_type_takes_its_values_and_strings_that_read_as_them(kind: str, good: list, bad: list) -> None:
    options = {f"v{i}": {"type": kind} for i in range(len(good) + len(bad))}
    errors = check(options, good + bad)
    assert len(errors) == len(bad)
    for line, value in zip(errors, bad, strict=True):
        assert " must be " in line
        assert line.endswith(f"(got {json.dumps(value)})")


def test_the_line_names_the_variable_the_type_and_the_value() -> None:
    options = {"app_workers": {"type": "int"}, "app_env": {"type": "dict"}, "app_name": {}}
    assert check(options, ["four", {"A": "1"}, 7]) == ['app_workers must be an integer (got "four")']


def test_unset_options_are_not_checked() -> None:
    assert check({"app_workers": {"type": "int"}, "app_bind": {"type": "str"}}, [None, None]) == []


def test_list_elements_are_checked_each_and_the_wrong_ones_named() -> None:
    options = {
        "app_ports": {"type": "list", "elements": "int"},
        "app_tags": {"type": "list", "elements": "str"},
    }
    assert check(options, [[80, "443", "x", True], ["a", "b"]]) == [
        'app_ports must be a list of integers (got [80, "443", "x", true], not "x", true)'
    ]


def test_choices_are_checked_on_values_of_the_right_type() -> None:
    options = {
        "app_server": {"type": "str", "choices": ["gunicorn", "uvicorn"]},
        "app_http": {"choices": ["h11"]},
    }
    assert check(options, ["hypercorn", "h11"]) == [
        'app_server must be one of gunicorn, uvicorn (got "hypercorn")'
    ]
    # A value of the wrong type gets the type's line alone.
    assert check(options, [["gunicorn"], None]) == ['app_server must be a string (got ["gunicorn"])']
