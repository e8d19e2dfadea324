"""cronicle_user makes one account of a (fake) Cronicle match its declaration."""
import pytest

from ansible_collections.vixtract.stack.plugins.modules.cronicle_user import main


@pytest.fixture
def cronicle(cronicle):
    cronicle.add_user("vixtract", "s3cret", {"admin": 1})
    return cronicle


def args(cronicle, **declared):
    return dict(url=cronicle.url, auth_username="vixtract", auth_password="s3cret", username="anna.k",
                password="pw-anna", **declared)


def without_password(declared):
    """As the role passes it when the user is not present: password omitted."""
    return {k: v for k, v in declared.items() if k != "password"}


def writes(cronicle):
    return [(r.path, r.body) for r in cronicle.writes()]


def test_missing_account_is_created_with_its_privileges(cronicle, run_module):
    result = run_module(main, args(cronicle, privileges={"create_events": 1, "run_events": True}))
    assert (result["changed"], result["actions"]) == (True, ["created"])
    assert writes(cronicle) == [("/api/user/admin_create", {
        "username": "anna.k", "password": "pw-anna", "full_name": "anna.k", "email": "anna.k@localhost",
        "privileges": {"create_events": 1, "run_events": True}})]


def test_full_name_is_used_when_given(cronicle, run_module):
    run_module(main, args(cronicle, full_name="Anna K."))
    assert writes(cronicle)[0][1]["full_name"] == "Anna K."


def test_account_as_declared_is_left_alone(cronicle, run_module):
    cronicle.add_user("anna.k", "pw-anna", {"admin": 0, "create_events": 1, "run_events": 1})
    result = run_module(main, args(cronicle, privileges={"create_events": True}))
    assert (result["changed"], result["actions"]) == (False, [])
    assert writes(cronicle) == []


def test_privilege_missing_from_the_account_counts_as_0(cronicle, run_module):
    cronicle.add_user("anna.k", "pw-anna", {"create_events": 1})
    result = run_module(main, args(cronicle, privileges={"abort_events": 0}))
    assert (result["changed"], result["actions"]) == (False, [])


def test_different_privileges_are_set_and_the_others_kept(cronicle, run_module):
    cronicle.add_user("anna.k", "pw-anna", {"admin": 0, "create_events": 1})
    result = run_module(main, args(cronicle, privileges={"admin": True}))
    assert (result["changed"], result["actions"]) == (True, ["privileges"])
    assert writes(cronicle) == [("/api/user/admin_update", {"username": "anna.k",
                                                            "privileges": {"admin": 1, "create_events": 1}})]


def test_password_that_does_not_log_in_is_set(cronicle, run_module):
    cronicle.add_user("anna.k", "changed in the UI", {"create_events": 1})
    result = run_module(main, args(cronicle, privileges={"create_events": 1}))
    assert (result["changed"], result["actions"]) == (True, ["password"])
    assert writes(cronicle) == [("/api/user/admin_update", {"username": "anna.k", "new_password": "pw-anna"})]


def test_password_check_leaves_no_session_of_the_user_open(cronicle, run_module):
    cronicle.add_user("anna.k", "pw-anna", {})
    run_module(main, args(cronicle))
    assert cronicle.sessions == {}
    assert [r.body for r in cronicle.requests if r.path == "/api/user/login"] == [
        {"username": "vixtract", "password": "s3cret"}, {"username": "anna.k", "password": "pw-anna"}]


def test_disabled_account_is_enabled(cronicle, run_module):
    cronicle.add_user("anna.k", "pw-anna", {}, active=0)
    result = run_module(main, args(cronicle))
    assert "activated" in result["actions"]
    assert cronicle.users["anna.k"]["active"] == 1


def test_absent_account_is_deleted(cronicle, run_module):
    cronicle.add_user("anna.k", "pw-anna", {})
    result = run_module(main, args(cronicle, state="absent"))
    assert (result["changed"], result["actions"]) == (True, ["deleted"])
    assert writes(cronicle) == [("/api/user/admin_delete", {"username": "anna.k"})]


def test_absent_account_that_does_not_exist_is_no_change(cronicle, run_module):
    result = run_module(main, without_password(args(cronicle, state="absent")))
    assert (result["changed"], result["actions"]) == (False, [])
    assert writes(cronicle) == []


def test_check_mode_reports_every_change_and_writes_nothing(cronicle, run_module):
    cronicle.add_user("anna.k", "old", {"admin": 0})
    result = run_module(main, args(cronicle, privileges={"admin": 1}, _ansible_check_mode=True))
    assert (result["changed"], result["actions"]) == (True, ["privileges", "password"])
    assert writes(cronicle) == []
    assert cronicle.users["anna.k"]["password"] == "old"


def test_present_account_needs_a_password(cronicle, run_module):
    result = run_module(main, without_password(args(cronicle)))
    assert (result["failed"], result["msg"]) == (True, "state is present but all of the following are missing: "
                                                       "password")
    assert cronicle.requests == []


def test_administrator_session_is_closed_at_the_end(cronicle, run_module):
    run_module(main, args(cronicle))
    assert cronicle.sessions == {}
    assert cronicle.paths()[-1] == "/api/user/logout"


def test_cronicle_error_fails_the_module_with_its_description(cronicle, run_module):
    """Nothing was done: the failed call was the only write (actions lists what was done, so not 'created')."""
    cronicle.routes["/api/user/admin_create"] = lambda r: {"code": "user", "description": "Invalid username"}
    result = run_module(main, args(cronicle))
    assert (result["failed"], result["msg"], result["actions"]) == (
        True, "Cronicle /api/user/admin_create: user: Invalid username", [])
    assert cronicle.sessions == {}
    assert "anna.k" not in cronicle.users


def test_different_full_name_is_set(cronicle, run_module):
    cronicle.add_user("anna.k", "pw-anna", {}, full_name="anna.k")
    result = run_module(main, args(cronicle, full_name="Anna K."))
    assert (result["changed"], result["actions"]) == (True, ["full name"])
    assert writes(cronicle) == [("/api/user/admin_update", {"username": "anna.k", "full_name": "Anna K."})]


def test_full_name_not_given_leaves_the_accounts_alone(cronicle, run_module):
    cronicle.add_user("anna.k", "pw-anna", {}, full_name="Anna from the UI")
    result = run_module(main, args(cronicle))
    assert (result["changed"], result["actions"]) == (False, [])
    assert cronicle.users["anna.k"]["full_name"] == "Anna from the UI"


def test_every_change_in_one_update(cronicle, run_module):
    cronicle.add_user("anna.k", "old", {"admin": 0, "run_events": 1}, active=0, full_name="anna.k")
    result = run_module(main, args(cronicle, privileges={"admin": 1}, full_name="Anna K."))
    assert (result["changed"], result["actions"]) == (True, ["privileges", "full name", "activated", "password"])
    assert writes(cronicle) == [("/api/user/admin_update", {
        "username": "anna.k", "privileges": {"admin": 1, "run_events": 1}, "full_name": "Anna K.", "active": 1,
        "new_password": "pw-anna"})]
    assert cronicle.users["anna.k"]["password"] == "pw-anna"


def test_password_never_appears_in_the_result(cronicle, run_module):
    cronicle.add_user("anna.k", "old", {})
    result = run_module(main, dict(args(cronicle), password="Kx9-unique-Pw"))
    assert result["actions"] == ["password"]
    assert "Kx9-unique-Pw" not in repr(result)
