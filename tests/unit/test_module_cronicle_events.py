"""cronicle_events makes the plugins, categories and managed events of a (fake) Cronicle match the declaration."""
import pytest

from ansible_collections.vixtract.stack.plugins.modules.cronicle_events import main, normalize

MARKER = "Managed by vixtract.stack"
NIGHTLY = {"title": "nightly", "enabled": 1, "category": "vxu_anna_dk", "plugin": "vixtract_notebook",
           "target": "maingrp", "timing": {"hours": [2], "minutes": [0]},
           "params": {"notebook": "etl/load.ipynb", "output": "etl/runs/load.ipynb", "parameters": "{}"},
           "notes": MARKER}
# what Cronicle adds to an event it stores
STORED = {"id": "e1", "created": 1445233022, "modified": 1445233242, "username": "vixtract", "multiplex": 0,
          "web_hook": ""}
NOTEBOOK = {"id": "vixtract_notebook", "title": "Notebook", "enabled": 1,
            "command": "/usr/bin/sudo -n /usr/local/sbin/vixtract-run-notebook", "params": []}
# what Cronicle adds to a plugin it stores
STORED_PLUGIN = {"username": "admin", "created": 1445233022, "modified": 1445233242}
SHELL = {"id": "shellplug", "title": "Shell Script", "enabled": 1, "command": "bin/shell-plugin.js",
         "params": [{"id": "script", "type": "textarea"}], **STORED_PLUGIN}
ANNA = {"id": "vxu_anna_dk", "title": "anna.k"}
# what Cronicle adds to a category it stores
STORED_CATEGORY = {"max_children": 0, "enabled": 1, "username": "vixtract", "created": 1445233022,
                   "modified": 1445233242}


@pytest.fixture
def cronicle(cronicle):
    cronicle.add_user("vixtract", "s3cret", {"admin": 1})
    return cronicle


def args(cronicle, events, **extra):
    return dict(url=cronicle.url, auth_username="vixtract", auth_password="s3cret", marker=MARKER, events=events,
                **extra)


def outcome(result):
    return {k: result[k] for k in ("changed", "created", "updated", "deleted", "categories", "plugins")}


NOTHING = {"changed": False, "created": [], "updated": [], "deleted": [], "categories": [], "plugins": []}


def changed(**lists):
    return dict(NOTHING, changed=True, **lists)


def writes(cronicle):
    return [(r.path, r.body) for r in cronicle.writes()]


@pytest.mark.parametrize("value, expected", [
    (True, 1),
    (False, 0),
    ({"enabled": True, "params": {"annotate": False, "script": "x"}}, {"enabled": 1, "params": {"annotate": 0,
                                                                                                "script": "x"}}),
    ([True, 2, "a", None], [1, 2, "a", None]),
    ({"timing": {"hours": [2], "minutes": [0]}}, {"timing": {"hours": [2], "minutes": [0]}}),
], ids=["true", "false", "nested in dicts", "in a list", "everything else unchanged"])
def test_normalize_turns_booleans_into_cronicles_numbers(value, expected):
    assert normalize(value) == expected


def test_result_has_exactly_these_lists(cronicle, run_module):
    result = run_module(main, args(cronicle, []))
    assert sorted(k for k in result if k != "invocation") == [
        "categories", "changed", "created", "deleted", "plugins", "updated"]


# Events

def test_declared_event_missing_from_cronicle_is_created(cronicle, run_module):
    result = run_module(main, args(cronicle, [NIGHTLY]))
    assert outcome(result) == changed(created=["nightly"])
    assert writes(cronicle) == [("/api/app/create_event/v1", NIGHTLY)]


def test_event_as_cronicle_stored_it_is_left_alone(cronicle, run_module):
    cronicle.events = [dict(NIGHTLY, **STORED)]
    result = run_module(main, args(cronicle, [dict(NIGHTLY, enabled=True)]))
    assert outcome(result) == NOTHING
    assert writes(cronicle) == []


@pytest.mark.parametrize("stored_change", [
    {"timing": {"hours": [3], "minutes": [0]}},
    {"enabled": 0},
    {"params": {"notebook": "etl/other.ipynb", "output": "etl/runs/load.ipynb", "parameters": "{}"}},
    {"params": {"notebook": "etl/load.ipynb", "output": "etl/runs/load.ipynb", "parameters": '{"days": 7}'}},
    {"category": "vxu_bob"},
    {"plugin": "shellplug"},
], ids=["timing", "disabled in the UI", "notebook", "parameters", "moved to another category",
        "plugin of the previous release"])
def test_event_that_differs_is_updated_with_the_whole_declaration(cronicle, run_module, stored_change):
    cronicle.events = [dict(NIGHTLY, **STORED, **stored_change)]
    result = run_module(main, args(cronicle, [NIGHTLY]))
    assert outcome(result) == changed(updated=["nightly"])
    assert writes(cronicle) == [("/api/app/update_event/v1", dict(NIGHTLY, id="e1"))]


def test_managed_event_no_longer_declared_is_deleted(cronicle, run_module):
    cronicle.events = [dict(NIGHTLY, **STORED), dict(NIGHTLY, title="old", notes=MARKER + " (etl/old.ipynb)", id="e9")]
    result = run_module(main, args(cronicle, [NIGHTLY]))
    assert outcome(result) == changed(deleted=["old"])
    assert writes(cronicle) == [("/api/app/delete_event/v1", {"id": "e9"})]


def test_events_made_in_the_ui_are_never_touched(cronicle, run_module):
    cronicle.events = [dict(NIGHTLY, title="anna's own", notes="", id="e5"),
                       dict(NIGHTLY, notes="same title, made by hand", id="e6"),
                       dict(NIGHTLY, title="marker later in the notes", notes="see " + MARKER, id="e7")]
    result = run_module(main, args(cronicle, [NIGHTLY]))
    assert outcome(result) == changed(created=["nightly"])
    assert writes(cronicle) == [("/api/app/create_event/v1", NIGHTLY)]


@pytest.mark.parametrize("category", ["vxu_anna_dk", "general", "Reports"], ids=["a user's id", "an existing id",
                                                                                 "a title"])
def test_category_is_passed_as_given_and_never_created_for_an_event(cronicle, run_module, category):
    cronicle.categories.append({"id": "c7", "title": "Reports"})
    result = run_module(main, args(cronicle, [dict(NIGHTLY, category=category)]))
    assert outcome(result) == changed(created=["nightly"])
    assert writes(cronicle) == [("/api/app/create_event/v1", dict(NIGHTLY, category=category))]


def test_event_without_category_is_sent_without_one(cronicle, run_module):
    declared = {k: v for k, v in NIGHTLY.items() if k != "category"}
    run_module(main, args(cronicle, [declared]))
    assert writes(cronicle) == [("/api/app/create_event/v1", declared)]


# Plugins

def test_missing_plugin_is_created_as_declared(cronicle, run_module):
    result = run_module(main, args(cronicle, [], plugins=[NOTEBOOK]))
    assert outcome(result) == changed(plugins=["vixtract_notebook: created"])
    assert writes(cronicle) == [("/api/app/create_plugin/v1", NOTEBOOK)]


def test_plugin_as_cronicle_stored_it_is_left_alone(cronicle, run_module):
    cronicle.plugins = [dict(NOTEBOOK, **STORED_PLUGIN)]
    result = run_module(main, args(cronicle, [], plugins=[dict(NOTEBOOK, enabled=True)]))
    assert outcome(result) == NOTHING
    assert writes(cronicle) == []


def test_field_only_cronicle_has_does_not_count(cronicle, run_module):
    cronicle.plugins = [dict(NOTEBOOK, **STORED_PLUGIN, cwd="/tmp", uid="")]
    result = run_module(main, args(cronicle, [], plugins=[NOTEBOOK]))
    assert outcome(result) == NOTHING


@pytest.mark.parametrize("stored_change", [
    {"command": "/usr/local/bin/old-runner"},
    {"enabled": 0},
    {"title": "Renamed in the UI"},
    {"params": [{"id": "notebook", "type": "text"}]},
], ids=["command", "disabled in the UI", "title", "params"])
def test_plugin_that_differs_is_updated_with_the_whole_declaration(cronicle, run_module, stored_change):
    cronicle.plugins = [dict(NOTEBOOK, **STORED_PLUGIN, **stored_change)]
    result = run_module(main, args(cronicle, [], plugins=[NOTEBOOK]))
    assert outcome(result) == changed(plugins=["vixtract_notebook: updated"])
    assert writes(cronicle) == [("/api/app/update_plugin/v1", NOTEBOOK)]
    assert cronicle.plugins == [dict(NOTEBOOK, **STORED_PLUGIN)]


def test_plugins_to_remove_are_deleted_when_present(cronicle, run_module):
    cronicle.plugins = [SHELL, dict(SHELL, id="testplug", title="Test Plugin"), dict(NOTEBOOK, **STORED_PLUGIN)]
    result = run_module(main, args(cronicle, [], plugins=[NOTEBOOK], remove_plugins=["shellplug", "urlplug",
                                                                                     "testplug"]))
    assert outcome(result) == changed(plugins=["shellplug: deleted", "testplug: deleted"])
    assert writes(cronicle) == [("/api/app/delete_plugin/v1", {"id": "shellplug"}),
                                ("/api/app/delete_plugin/v1", {"id": "testplug"})]
    assert [p["id"] for p in cronicle.plugins] == ["vixtract_notebook"]


def test_plugins_to_remove_that_are_gone_are_no_change(cronicle, run_module):
    result = run_module(main, args(cronicle, [], remove_plugins=["shellplug", "urlplug"]))
    assert outcome(result) == NOTHING
    assert writes(cronicle) == []


def test_plugins_not_declared_are_left_alone(cronicle, run_module):
    cronicle.plugins = [SHELL]
    result = run_module(main, args(cronicle, [], plugins=[NOTEBOOK]))
    assert outcome(result) == changed(plugins=["vixtract_notebook: created"])
    assert [p["id"] for p in cronicle.plugins] == ["shellplug", "vixtract_notebook"]


# Categories

def test_missing_category_is_created_with_its_id_and_the_marker(cronicle, run_module):
    result = run_module(main, args(cronicle, [], categories=[ANNA]))
    assert outcome(result) == changed(categories=["vxu_anna_dk"])
    assert writes(cronicle) == [("/api/app/create_category/v1", {
        "id": "vxu_anna_dk", "title": "anna.k", "description": MARKER, "max_children": 0, "enabled": 1})]
    assert [c["id"] for c in cronicle.categories] == ["general", "vxu_anna_dk"]


def test_declared_description_replaces_the_marker(cronicle, run_module):
    run_module(main, args(cronicle, [], categories=[dict(ANNA, description="Anna's notebooks")]))
    assert writes(cronicle) == [("/api/app/create_category/v1", {
        "id": "vxu_anna_dk", "title": "anna.k", "description": "Anna's notebooks", "max_children": 0, "enabled": 1})]


def test_category_as_cronicle_stored_it_is_left_alone(cronicle, run_module):
    cronicle.categories.append(dict(ANNA, description=MARKER, **STORED_CATEGORY))
    result = run_module(main, args(cronicle, [], categories=[ANNA]))
    assert outcome(result) == NOTHING
    assert writes(cronicle) == []


@pytest.mark.parametrize("stored_change", [
    {"title": "Anna"},
    {"description": "edited in the UI"},
], ids=["title", "description"])
def test_category_whose_title_or_description_differs_is_updated(cronicle, run_module, stored_change):
    cronicle.categories.append({**ANNA, "description": MARKER, **STORED_CATEGORY, **stored_change})
    result = run_module(main, args(cronicle, [], categories=[ANNA]))
    assert outcome(result) == changed(categories=["vxu_anna_dk"])
    assert writes(cronicle) == [("/api/app/update_category/v1", {"id": "vxu_anna_dk", "title": "anna.k",
                                                                 "description": MARKER})]


@pytest.mark.parametrize("stored_change", [
    {"max_children": 3},
    {"enabled": 0},
    {"notify_fail": "ops@example.com"},
], ids=["max children", "disabled", "a field it does not declare"])
def test_category_fields_other_than_title_and_description_are_left_alone(cronicle, run_module, stored_change):
    cronicle.categories.append({**ANNA, "description": MARKER, **STORED_CATEGORY, **stored_change})
    result = run_module(main, args(cronicle, [], categories=[ANNA]))
    assert outcome(result) == NOTHING


def test_categories_are_never_deleted(cronicle, run_module):
    cronicle.categories.append(dict(id="vxu_bob", title="bob", description=MARKER, **STORED_CATEGORY))
    result = run_module(main, args(cronicle, [], categories=[ANNA]))
    assert outcome(result) == changed(categories=["vxu_anna_dk"])
    assert [c["id"] for c in cronicle.categories] == ["general", "vxu_bob", "vxu_anna_dk"]


# Everything at once

def test_plugins_then_categories_then_events(cronicle, run_module):
    cronicle.plugins = [SHELL]
    cronicle.events = [{**NIGHTLY, **STORED, "title": "old", "id": "e9"}]
    result = run_module(main, args(cronicle, [NIGHTLY], plugins=[NOTEBOOK], remove_plugins=["shellplug"],
                                   categories=[ANNA]))
    assert outcome(result) == changed(created=["nightly"], deleted=["old"], categories=["vxu_anna_dk"],
                                      plugins=["vixtract_notebook: created", "shellplug: deleted"])
    assert [path for path, _unused in writes(cronicle)] == [
        "/api/app/create_plugin/v1", "/api/app/create_category/v1",
        "/api/app/create_event/v1", "/api/app/delete_event/v1", "/api/app/delete_plugin/v1"]


def test_second_run_changes_nothing(cronicle, run_module):
    declared = args(cronicle, [NIGHTLY], plugins=[NOTEBOOK], categories=[ANNA])
    run_module(main, declared)
    assert outcome(run_module(main, declared)) == NOTHING
    assert len(cronicle.writes()) == 3


def test_check_mode_reports_every_change_and_writes_nothing(cronicle, run_module):
    cronicle.plugins = [SHELL, dict(NOTEBOOK, **STORED_PLUGIN, enabled=0)]
    cronicle.categories.append(dict(ANNA, description="old", **STORED_CATEGORY))
    cronicle.events = [dict(NIGHTLY, **STORED, enabled=0), dict(NIGHTLY, title="old", id="e9")]
    result = run_module(main, args(cronicle, [NIGHTLY, dict(NIGHTLY, title="new")],
                                   plugins=[NOTEBOOK, dict(NOTEBOOK, id="other", title="Other")],
                                   remove_plugins=["shellplug"],
                                   categories=[ANNA, {"id": "vxu_bob", "title": "bob"}],
                                   _ansible_check_mode=True))
    assert outcome(result) == changed(
        created=["new"], updated=["nightly"], deleted=["old"], categories=["vxu_anna_dk", "vxu_bob"],
        plugins=["vixtract_notebook: updated", "other: created", "shellplug: deleted"])
    assert writes(cronicle) == []


def test_diff_shows_each_changed_event_before_and_after_and_no_password(cronicle, run_module):
    cronicle.events = [dict(NIGHTLY, **STORED, timing={"hours": [3], "minutes": [30]}, enabled=0),
                       dict(NIGHTLY, **STORED, title="same"), dict(NIGHTLY, title="old", id="e9")]
    result = run_module(main, args(cronicle, [NIGHTLY, dict(NIGHTLY, title="same"), dict(NIGHTLY, title="new")],
                                   _ansible_check_mode=True, _ansible_diff=True))
    assert result["diff"]["before"] == {
        "nightly": {"enabled": 0, "timing": {"hours": [3], "minutes": [30]}},
        "old": {"title": "old", "category": "vxu_anna_dk", "timing": {"hours": [2], "minutes": [0]},
                "params": NIGHTLY["params"], "enabled": 1}}
    assert result["diff"]["after"] == {"nightly": {"enabled": 1, "timing": {"hours": [2], "minutes": [0]}},
                                       "new": dict(NIGHTLY, title="new")}
    assert "s3cret" not in str(result) and writes(cronicle) == []
    # without --diff, or with nothing to change, no diff
    assert "diff" not in run_module(main, args(cronicle, [NIGHTLY, dict(NIGHTLY, title="new")]))
    cronicle.events = [dict(NIGHTLY, **STORED)]
    in_sync = run_module(main, args(cronicle, [NIGHTLY], _ansible_diff=True))
    assert not in_sync["changed"] and "diff" not in in_sync


def test_administrator_session_is_closed_at_the_end(cronicle, run_module):
    run_module(main, args(cronicle, [NIGHTLY]))
    assert cronicle.sessions == {}
    assert cronicle.paths()[-1] == "/api/user/logout"


def test_cronicle_error_fails_the_module_and_closes_the_session(cronicle, run_module):
    cronicle.routes["/api/app/create_event/v1"] = lambda r: {"code": "event", "description": "Plugin not found"}
    result = run_module(main, args(cronicle, [NIGHTLY]))
    assert (result["failed"], result["msg"]) == (True, "Cronicle /api/app/create_event/v1: event: Plugin not found")
    assert cronicle.sessions == {}


def test_failure_reports_what_was_done_before_it(cronicle, run_module):
    cronicle.routes["/api/app/create_category/v1"] = lambda r: {"code": "api", "description": "Missing parameter"}
    result = run_module(main, args(cronicle, [NIGHTLY], plugins=[NOTEBOOK], categories=[ANNA]))
    assert (result["failed"], result["msg"]) == (True, "Cronicle /api/app/create_category/v1: api: Missing parameter")
    assert result["plugins"] == ["vixtract_notebook: created"]
    assert [p["id"] for p in cronicle.plugins] == ["vixtract_notebook"]
    assert "/api/app/create_event/v1" not in cronicle.paths()


def test_refused_login_fails_before_reading_the_schedule(cronicle, run_module):
    result = run_module(main, dict(args(cronicle, [NIGHTLY]), auth_password="old password"))
    assert result["failed"] is True
    assert result["msg"].startswith("Cronicle refused the login of vixtract")
    assert cronicle.paths() == ["/api/user/login"]
