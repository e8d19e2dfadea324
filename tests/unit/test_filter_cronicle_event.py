"""cronicle_event: one item of cronicle_events as the fields of a Cronicle event for the stack's notebook plugin
(vixtract_notebook), filed in its owner's category. Expectations are written out by hand."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.vixtract.stack.plugins.filter.cronicle import cronicle_event

MARKER = "Managed by vixtract.stack"


def item(**changes):
    event = {"title": "Nightly sales load", "notebook": "etl/sales.ipynb", "user": "anna.k", "schedule": "0 2 * * *"}
    event.update(changes)
    return event


def test_minimal_item_gives_the_whole_event_with_defaults():
    assert cronicle_event(item(), MARKER) == {
        "title": "Nightly sales load",
        "enabled": 1,
        "category": "vxu_anna_dk",
        "plugin": "vixtract_notebook",
        "target": "maingrp",
        "timing": {"minutes": [0], "hours": [2]},
        "timezone": "UTC",
        "timeout": 3600,
        "retries": 0,
        "retry_delay": 60,
        "notify_success": "",
        "notify_fail": "",
        "max_children": 1,
        "catch_up": 0,
        "params": {
            "notebook": "etl/sales.ipynb",
            "output": "etl/runs/sales-%Y%m%d-%H%M%S.ipynb",
            "parameters": "{}",
        },
        "notes": "Managed by vixtract.stack",
    }


@pytest.mark.parametrize("user, category", [
    ("anna.k", "vxu_anna_dk"),
    ("bob", "vxu_bob"),
    ("data_team", "vxu_data__team"),
    ("j-doe.2", "vxu_j_hdoe_d2"),
], ids=["dot", "plain", "underscore", "hyphen, dot and digit"])
def test_event_is_filed_in_its_owners_category(user, category):
    assert cronicle_event(item(user=user), MARKER)["category"] == category


@pytest.mark.parametrize("user", ["", "Anna K", "anna/k", None], ids=["empty", "space", "slash", "none"])
def test_owner_that_cannot_be_a_category_fails_the_filter(user):
    with pytest.raises(AnsibleFilterError) as error:
        cronicle_event(item(user=user), MARKER)
    assert error.value.message == f"cronicle_category: {user!r} is not a stack user name"


def test_declared_category_is_ignored_the_owner_decides():
    assert cronicle_event(item(category="ETL"), MARKER)["category"] == "vxu_anna_dk"


@pytest.mark.parametrize("notebook, output", [
    ("etl/sales.ipynb", "etl/runs/sales-%Y%m%d-%H%M%S.ipynb"),
    ("sales.ipynb", "runs/sales-%Y%m%d-%H%M%S.ipynb"),
    ("a/b/c/report.v2.ipynb", "a/b/c/runs/report.v2-%Y%m%d-%H%M%S.ipynb"),
], ids=["in a folder", "in the home itself", "nested, with a dot in the name"])
def test_default_output_is_a_dated_copy_in_runs_beside_the_notebook(notebook, output):
    params = cronicle_event(item(notebook=notebook), MARKER)["params"]
    assert (params["notebook"], params["output"]) == (notebook, output)


def test_declared_output_replaces_the_default():
    params = cronicle_event(item(output="etl/done/sales-%Y-%m-%d.ipynb"), MARKER)["params"]
    assert params["output"] == "etl/done/sales-%Y-%m-%d.ipynb"


@pytest.mark.parametrize("parameters, text", [
    ({"region": "north", "days": 7}, '{"days": 7, "region": "north"}'),
    ({"b": {"z": 1, "a": [1, 2]}, "a": None}, '{"a": null, "b": {"a": [1, 2], "z": 1}}'),
    ({"note": "it's; rm -rf ~ $(id)"}, '{"note": "it\'s; rm -rf ~ $(id)"}'),
    ({"city": "Zürich"}, '{"city": "Z\\u00fcrich"}'),
    ({}, "{}"),
    (None, "{}"),
], ids=["sorted keys", "nested dicts sorted too", "shell characters kept as they are", "non-ASCII escaped",
        "empty", "none"])
def test_parameters_are_one_json_text_with_sorted_keys(parameters, text):
    assert cronicle_event(item(parameters=parameters), MARKER)["params"]["parameters"] == text


def test_no_parameters_give_an_empty_json_object():
    assert cronicle_event(item(), MARKER)["params"]["parameters"] == "{}"


def test_paths_with_spaces_and_shell_characters_are_passed_as_they_are():
    params = cronicle_event(item(notebook="my reports/Q1 $(id).ipynb"), MARKER)["params"]
    assert params == {"notebook": "my reports/Q1 $(id).ipynb", "output": "my reports/runs/Q1 $(id)-%Y%m%d-%H%M%S.ipynb",
                      "parameters": "{}"}


def test_plugin_can_be_another_one():
    assert cronicle_event(item(), MARKER, plugin="other_plugin")["plugin"] == "other_plugin"


def test_marker_is_the_notes():
    assert cronicle_event(item(), "Managed by ops")["notes"] == "Managed by ops"


@pytest.mark.parametrize("enabled, expected", [(True, 1), (False, 0)], ids=["true", "false"])
def test_enabled_becomes_1_or_0(enabled, expected):
    assert cronicle_event(item(enabled=enabled), MARKER)["enabled"] == expected


def test_declared_fields_replace_the_defaults():
    event = cronicle_event(item(timezone="Europe/Berlin", timeout=7200, retries=2, retry_delay=30), MARKER)
    assert (event["timezone"], event["timeout"], event["retries"], event["retry_delay"]) == \
        ("Europe/Berlin", 7200, 2, 30)


def test_numbers_given_as_strings_become_numbers():
    event = cronicle_event(item(timeout="7200", retries="2", retry_delay="30"), MARKER)
    assert (event["timeout"], event["retries"], event["retry_delay"]) == (7200, 2, 30)


def test_role_timezone_applies_when_the_item_has_none():
    assert cronicle_event(item(), MARKER, timezone="Europe/Moscow")["timezone"] == "Europe/Moscow"


def test_item_timezone_wins_over_the_role_timezone():
    assert cronicle_event(item(timezone="Asia/Tokyo"), MARKER, timezone="Europe/Moscow")["timezone"] == "Asia/Tokyo"


@pytest.mark.parametrize("notify, success, fail", [
    (["data-team@example.com"], "", "data-team@example.com"),
    (["a@example.com", "b@example.com"], "", "a@example.com, b@example.com"),
    ("ops@example.com", "", "ops@example.com"),
    ({"success": "a@example.com", "fail": ["b@example.com", "c@example.com"]}, "a@example.com",
     "b@example.com, c@example.com"),
    ({"success": ["a@example.com"]}, "a@example.com", ""),
    (None, "", ""),
], ids=["list means on failure", "several addresses", "one address means on failure", "success and fail",
        "success only", "none"])
def test_notify_becomes_cronicles_comma_separated_recipients(notify, success, fail):
    event = cronicle_event(item(notify=notify), MARKER)
    assert (event["notify_success"], event["notify_fail"]) == (success, fail)


@pytest.mark.parametrize("schedule, timing", [
    ("*/15 9-17 * * 1-5", {"minutes": [0, 15, 30, 45], "hours": [9, 10, 11, 12, 13, 14, 15, 16, 17],
                           "weekdays": [1, 2, 3, 4, 5]}),
    ("@weekly", {"minutes": [0], "hours": [0], "weekdays": [0]}),
    ({"hours": [16, 4], "minutes": [30]}, {"hours": [4, 16], "minutes": [30]}),
], ids=["cron string", "macro", "timing object"])
def test_schedule_becomes_the_timing(schedule, timing):
    assert cronicle_event(item(schedule=schedule), MARKER)["timing"] == timing


def test_invalid_schedule_fails_with_the_reason():
    with pytest.raises(AnsibleFilterError) as error:
        cronicle_event(item(schedule="0 25 * * *"), MARKER)
    assert error.value.message == "invalid schedule: hour '25' is out of range 0-23"


def test_item_given_is_not_modified():
    given = item(parameters={"b": 1, "a": 2}, notify="ops@example.com")
    cronicle_event(given, MARKER)
    assert given == {"title": "Nightly sales load", "notebook": "etl/sales.ipynb", "user": "anna.k",
                     "schedule": "0 2 * * *", "parameters": {"b": 1, "a": 2}, "notify": "ops@example.com"}
