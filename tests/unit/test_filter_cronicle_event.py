"""cronicle_event: one item of cronicle_events as the fields of a Cronicle event (Shell Script plugin) whose script
runs the notebook as its owner through the image's runner. Expectations are written out by hand."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.vixtract.stack.plugins.filter.cronicle import cronicle_event

MARKER = "Managed by vixtract.stack"
RUNNER = "/usr/local/bin/vixtract-run-notebook"


def item(**changes):
    event = {"title": "Nightly sales load", "notebook": "etl/sales.ipynb", "user": "anna.k", "schedule": "0 2 * * *"}
    event.update(changes)
    return event


def script_line(event, **kwargs):
    """The line of the event's script that runs the notebook."""
    script = cronicle_event(event, MARKER, **kwargs)["params"]["script"]
    lines = script.split("\n")
    assert lines[:2] == ["#!/bin/bash", "# " + MARKER] and lines[3:] == [""], script
    return lines[2]


def test_minimal_item_gives_the_whole_event_with_defaults():
    assert cronicle_event(item(), MARKER) == {
        "title": "Nightly sales load",
        "enabled": 1,
        "category": "general",
        "plugin": "shellplug",
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
            "script": "#!/bin/bash\n"
                      "# Managed by vixtract.stack\n"
                      "exec /usr/local/bin/vixtract-run-notebook anna.k etl/sales.ipynb "
                      "etl/runs/sales-%Y%m%d-%H%M%S.ipynb\n",
            "annotate": 0,
            "json": 0,
        },
        "notes": "Managed by vixtract.stack",
    }


@pytest.mark.parametrize("notebook, output", [
    ("etl/sales.ipynb", "etl/runs/sales-%Y%m%d-%H%M%S.ipynb"),
    ("sales.ipynb", "runs/sales-%Y%m%d-%H%M%S.ipynb"),
    ("a/b/c/report.v2.ipynb", "a/b/c/runs/report.v2-%Y%m%d-%H%M%S.ipynb"),
], ids=["in a folder", "in the home itself", "nested, with a dot in the name"])
def test_default_output_is_a_dated_copy_in_runs_beside_the_notebook(notebook, output):
    assert script_line(item(notebook=notebook)) == f"exec {RUNNER} anna.k {notebook} {output}"


def test_declared_output_replaces_the_default():
    line = script_line(item(output="etl/done/sales-%Y-%m-%d.ipynb"))
    assert line == f"exec {RUNNER} anna.k etl/sales.ipynb etl/done/sales-%Y-%m-%d.ipynb"


def test_parameters_are_passed_as_sorted_json_in_one_quoted_word():
    line = script_line(item(parameters={"region": "north", "days": 7}))
    assert line == (f"exec {RUNNER} anna.k etl/sales.ipynb etl/runs/sales-%Y%m%d-%H%M%S.ipynb "
                    """-y '{"days": 7, "region": "north"}'""")


def test_shell_characters_in_paths_and_parameters_stay_inside_their_words():
    line = script_line(item(notebook="my reports/Q1 $(id).ipynb", parameters={"note": "it's; rm -rf ~"}))
    assert line == (f"exec {RUNNER} anna.k 'my reports/Q1 $(id).ipynb' 'my reports/runs/Q1 $(id)-%Y%m%d-%H%M%S.ipynb' "
                    """-y '{"note": "it'"'"'s; rm -rf ~"}'""")


def test_empty_parameters_add_no_option():
    line = script_line(item(parameters={}))
    assert line == f"exec {RUNNER} anna.k etl/sales.ipynb etl/runs/sales-%Y%m%d-%H%M%S.ipynb"


def test_runner_can_be_another_path():
    line = script_line(item(), runner="/opt/run")
    assert line == "exec /opt/run anna.k etl/sales.ipynb etl/runs/sales-%Y%m%d-%H%M%S.ipynb"


def test_marker_is_the_notes_and_a_comment_of_the_script():
    event = cronicle_event(item(), "Managed by ops")
    assert event["notes"] == "Managed by ops"
    assert event["params"]["script"].split("\n")[1] == "# Managed by ops"


@pytest.mark.parametrize("enabled, expected", [(True, 1), (False, 0)], ids=["true", "false"])
def test_enabled_becomes_1_or_0(enabled, expected):
    assert cronicle_event(item(enabled=enabled), MARKER)["enabled"] == expected


def test_declared_fields_replace_the_defaults():
    event = cronicle_event(item(category="ETL", timezone="Europe/Berlin", timeout=7200, retries=2, retry_delay=30),
                           MARKER)
    assert (event["category"], event["timezone"], event["timeout"], event["retries"], event["retry_delay"]) == \
        ("ETL", "Europe/Berlin", 7200, 2, 30)


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
