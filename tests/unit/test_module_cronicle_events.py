"""cronicle_events makes the managed events of a (fake) Cronicle match the declared list."""
import pytest

from ansible_collections.vixtract.stack.plugins.modules.cronicle_events import main, normalize

MARKER = "Managed by vixtract.stack"
NIGHTLY = {"title": "nightly", "enabled": 1, "category": "general", "plugin": "shellplug", "target": "maingrp",
           "timing": {"hours": [2], "minutes": [0]}, "params": {"script": "#!/bin/sh\necho hi\n"}, "notes": MARKER}
# what Cronicle adds to an event it stores
STORED = {"id": "e1", "created": 1445233022, "modified": 1445233242, "username": "vixtract", "multiplex": 0,
          "web_hook": ""}


@pytest.fixture
def cronicle(cronicle):
    cronicle.add_user("vixtract", "s3cret", {"admin": 1})
    return cronicle


def args(cronicle, events, **extra):
    return dict(url=cronicle.url, auth_username="vixtract", auth_password="s3cret", marker=MARKER, events=events,
                **extra)


def outcome(result):
    return {k: result[k] for k in ("changed", "created", "updated", "deleted", "categories")}


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


def test_declared_event_missing_from_cronicle_is_created(cronicle, run_module):
    result = run_module(main, args(cronicle, [NIGHTLY]))
    assert outcome(result) == {"changed": True, "created": ["nightly"], "updated": [], "deleted": [], "categories": []}
    assert writes(cronicle) == [("/api/app/create_event/v1", NIGHTLY)]


def test_event_as_cronicle_stored_it_is_left_alone(cronicle, run_module):
    cronicle.events = [dict(NIGHTLY, **STORED)]
    result = run_module(main, args(cronicle, [dict(NIGHTLY, enabled=True)]))
    assert outcome(result) == {"changed": False, "created": [], "updated": [], "deleted": [], "categories": []}
    assert writes(cronicle) == []


@pytest.mark.parametrize("stored_change", [
    {"timing": {"hours": [3], "minutes": [0]}},
    {"enabled": 0},
    {"params": {"script": "#!/bin/sh\necho edited in the UI\n"}},
    {"category": "cat-etl"},
], ids=["timing", "disabled in the UI", "script", "category"])
def test_event_that_differs_is_updated_with_the_whole_declaration(cronicle, run_module, stored_change):
    cronicle.categories.append({"id": "cat-etl", "title": "ETL"})
    cronicle.events = [dict(NIGHTLY, **STORED, **stored_change)]
    result = run_module(main, args(cronicle, [NIGHTLY]))
    assert outcome(result) == {"changed": True, "created": [], "updated": ["nightly"], "deleted": [], "categories": []}
    assert writes(cronicle) == [("/api/app/update_event/v1", dict(NIGHTLY, id="e1"))]


def test_managed_event_no_longer_declared_is_deleted(cronicle, run_module):
    cronicle.events = [dict(NIGHTLY, **STORED), dict(NIGHTLY, title="old", notes=MARKER + " (etl/old.ipynb)", id="e9")]
    result = run_module(main, args(cronicle, [NIGHTLY]))
    assert outcome(result) == {"changed": True, "created": [], "updated": [], "deleted": ["old"], "categories": []}
    assert writes(cronicle) == [("/api/app/delete_event/v1", {"id": "e9"})]


def test_events_made_in_the_ui_are_never_touched(cronicle, run_module):
    cronicle.events = [dict(NIGHTLY, title="anna's own", notes="", id="e5"),
                       dict(NIGHTLY, notes="same title, made by hand", id="e6")]
    result = run_module(main, args(cronicle, [NIGHTLY]))
    assert outcome(result) == {"changed": True, "created": ["nightly"], "updated": [], "deleted": [], "categories": []}
    assert writes(cronicle) == [("/api/app/create_event/v1", NIGHTLY)]


def test_category_given_by_title_is_sent_as_its_id(cronicle, run_module):
    cronicle.categories.append({"id": "c7", "title": "ETL"})
    result = run_module(main, args(cronicle, [dict(NIGHTLY, category="ETL")]))
    assert result["categories"] == []
    assert writes(cronicle) == [("/api/app/create_event/v1", dict(NIGHTLY, category="c7"))]


def test_missing_category_is_created_once_with_the_marker(cronicle, run_module):
    result = run_module(main, args(cronicle, [dict(NIGHTLY, category="Reports"),
                                              dict(NIGHTLY, title="weekly", category="Reports")]))
    assert outcome(result) == {"changed": True, "created": ["nightly", "weekly"], "updated": [], "deleted": [],
                               "categories": ["Reports"]}
    assert writes(cronicle) == [
        ("/api/app/create_category/v1", {"title": "Reports", "max_children": 0, "enabled": 1, "description": MARKER}),
        ("/api/app/create_event/v1", dict(NIGHTLY, category="cat-reports")),
        ("/api/app/create_event/v1", dict(NIGHTLY, title="weekly", category="cat-reports")),
    ]


def test_event_without_category_goes_to_general(cronicle, run_module):
    declared = {k: v for k, v in NIGHTLY.items() if k != "category"}
    run_module(main, args(cronicle, [declared]))
    assert writes(cronicle) == [("/api/app/create_event/v1", dict(declared, category="general"))]


def test_check_mode_reports_every_change_and_writes_nothing(cronicle, run_module):
    cronicle.events = [dict(NIGHTLY, **STORED, enabled=0), dict(NIGHTLY, title="old", id="e9")]
    result = run_module(main, args(cronicle, [NIGHTLY, dict(NIGHTLY, title="new", category="Reports")],
                                   _ansible_check_mode=True))
    assert outcome(result) == {"changed": True, "created": ["new"], "updated": ["nightly"], "deleted": ["old"],
                               "categories": ["Reports"]}
    assert writes(cronicle) == []


def test_administrator_session_is_closed_at_the_end(cronicle, run_module):
    run_module(main, args(cronicle, [NIGHTLY]))
    assert cronicle.sessions == {}
    assert cronicle.paths()[-1] == "/api/user/logout"


def test_cronicle_error_fails_the_module_and_closes_the_session(cronicle, run_module):
    cronicle.routes["/api/app/create_event/v1"] = lambda r: {"code": "event", "description": "Plugin not found"}
    result = run_module(main, args(cronicle, [NIGHTLY]))
    assert (result["failed"], result["msg"]) == (True, "Cronicle /api/app/create_event/v1: event: Plugin not found")
    assert cronicle.sessions == {}


def test_refused_login_fails_before_reading_the_schedule(cronicle, run_module):
    result = run_module(main, dict(args(cronicle, [NIGHTLY]), auth_password="old password"))
    assert result["failed"] is True
    assert result["msg"].startswith("Cronicle refused the login of vixtract")
    assert cronicle.paths() == ["/api/user/login"]
