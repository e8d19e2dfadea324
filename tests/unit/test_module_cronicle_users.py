"""cronicle_users makes the accounts of a declared list match it in a (fake) Cronicle and deletes the accounts the
list made that it no longer lists (full name ending with the marker); other accounts are never touched."""
import pytest

from ansible_collections.vixtract.stack.plugins.modules.cronicle_users import main

MARKER = " (vixtract_users)"
USER_PRIVILEGES = {"run_events": 1, "cat_limit": 1, "cat_vxu_anna_dk": 1}


@pytest.fixture
def cronicle(cronicle):
    cronicle.add_user("vixtract", "s3cret", {"admin": 1}, full_name="vixtract automation")
    return cronicle


def args(cronicle, users, **extra):
    return dict(url=cronicle.url, auth_username="vixtract", auth_password="s3cret", marker=MARKER, users=users,
                **extra)


def anna(**changes):
    return dict({"username": "anna.k", "password": "pw-anna-123", "privileges": USER_PRIVILEGES}, **changes)


def outcome(result):
    """changed, and what was done to each account in order (listed ones first, then deletions), without the
    account's name: the users option is no_log as a whole, so Ansible masks every value of the list (names,
    privilege values) wherever it appears in the result. The names are checked in what Cronicle was sent."""
    return result["changed"], [change.split(": ", 1)[1] for change in result["changes"]]


def writes(cronicle):
    return [(r.path, r.body) for r in cronicle.writes()]


def test_listed_account_missing_from_cronicle_is_created_with_the_marker(cronicle, run_module):
    result = run_module(main, args(cronicle, [anna()]))
    assert outcome(result) == (True, ["created"])
    assert writes(cronicle) == [("/api/user/admin_create", {
        "username": "anna.k", "password": "pw-anna-123", "full_name": "anna.k (vixtract_users)",
        "email": "anna.k@localhost", "privileges": USER_PRIVILEGES})]


def test_account_as_listed_is_left_alone(cronicle, run_module):
    cronicle.add_user("anna.k", "pw-anna-123", dict(USER_PRIVILEGES, admin=0), full_name="anna.k (vixtract_users)")
    result = run_module(main, args(cronicle, [anna()]))
    assert outcome(result) == (False, [])
    assert writes(cronicle) == []


def test_listed_account_without_privileges_given_is_left_alone(cronicle, run_module):
    cronicle.add_user("anna.k", "pw-anna-123", {"admin": 1}, full_name="anna.k (vixtract_users)")
    result = run_module(main, args(cronicle, [{"username": "anna.k", "password": "pw-anna-123"}]))
    assert outcome(result) == (False, [])


@pytest.mark.parametrize("stored, changes, update", [
    (dict(privileges={"admin": 1}), "privileges", {"privileges": dict(USER_PRIVILEGES, admin=1)}),
    (dict(password="changed in the UI"), "password", {"new_password": "pw-anna-123"}),
    (dict(full_name="Anna K."), "full name", {"full_name": "anna.k (vixtract_users)"}),
], ids=["privileges", "password", "made in the UI, now listed: adopted"])
def test_listed_account_that_differs_is_updated(cronicle, run_module, stored, changes, update):
    cronicle.add_user("anna.k", stored.get("password", "pw-anna-123"), stored.get("privileges", USER_PRIVILEGES),
                      full_name=stored.get("full_name", "anna.k (vixtract_users)"))
    result = run_module(main, args(cronicle, [anna()]))
    assert outcome(result) == (True, [changes])
    assert writes(cronicle) == [("/api/user/admin_update", dict(update, username="anna.k"))]


def test_managed_account_no_longer_listed_is_deleted(cronicle, run_module):
    cronicle.add_user("anna.k", "pw-anna-123", USER_PRIVILEGES, full_name="anna.k (vixtract_users)")
    cronicle.add_user("bob", "pw-bob-456", {}, full_name="bob (vixtract_users)")
    result = run_module(main, args(cronicle, [anna()]))
    assert result["changes"] == ["bob: deleted (no longer listed)"]
    assert writes(cronicle) == [("/api/user/admin_delete", {"username": "bob"})]
    assert sorted(cronicle.users) == ["anna.k", "vixtract"]


@pytest.mark.parametrize("full_name", [
    "Administrator",
    "bob",
    "bob (vixtract_users) old",
    "bob (vixtract_user)",
    "bob(vixtract_users)",
    "",
], ids=["cronicle's admin", "made in the UI", "marker not at the end", "another marker", "marker without its space",
        "no full name"])
def test_accounts_without_the_marker_at_the_end_are_never_touched(cronicle, run_module, full_name):
    cronicle.add_user("bob", "pw-bob-456", {"admin": 1}, full_name=full_name)
    cronicle.users["bob"]["full_name"] = full_name
    result = run_module(main, args(cronicle, [anna()]))
    assert outcome(result) == (True, ["created"])
    assert "bob" in cronicle.users
    assert [path for path, _unused in writes(cronicle)] == ["/api/user/admin_create"]


def test_account_without_a_full_name_field_is_never_touched(cronicle, run_module):
    cronicle.add_user("bob", "pw-bob-456", {})
    del cronicle.users["bob"]["full_name"]
    result = run_module(main, args(cronicle, []))
    assert outcome(result) == (False, [])
    assert "bob" in cronicle.users


def test_empty_list_deletes_every_managed_account_and_nothing_else(cronicle, run_module):
    cronicle.add_user("admin", "pw-admin", {"admin": 1}, full_name="Administrator")
    cronicle.add_user("anna.k", "pw-anna-123", {}, full_name="anna.k (vixtract_users)")
    cronicle.add_user("bob", "pw-bob-456", {}, full_name="bob (vixtract_users)")
    result = run_module(main, args(cronicle, []))
    assert result["changes"] == ["anna.k: deleted (no longer listed)", "bob: deleted (no longer listed)"]
    assert sorted(cronicle.users) == ["admin", "vixtract"]


def test_managed_accounts_beyond_the_first_page_are_deleted_too(cronicle, run_module):
    for i in range(230):
        cronicle.add_user(f"u{i:03d}", "pw", {}, full_name=f"u{i:03d} (vixtract_users)")
    result = run_module(main, args(cronicle, [{"username": "u150", "password": "pw", "privileges": {}}]))
    assert len(result["changes"]) == 229
    assert result["changes"][0] == "u000: deleted (no longer listed)"
    assert result["changes"][-1] == "u229: deleted (no longer listed)"
    assert "u150: deleted (no longer listed)" not in result["changes"]
    assert sorted(cronicle.users) == ["u150", "vixtract"]
    assert [r.body for r in cronicle.requests if r.path == "/api/user/admin_get_users"] == [
        {"offset": 0, "limit": 100}, {"offset": 100, "limit": 100}, {"offset": 200, "limit": 100}]


def test_listed_account_created_in_this_run_is_not_deleted(cronicle, run_module):
    result = run_module(main, args(cronicle, [anna(), anna(username="bob", password="pw-bob-456")]))
    assert outcome(result) == (True, ["created", "created"])
    assert sorted(cronicle.users) == ["anna.k", "bob", "vixtract"]


def test_everything_at_once_in_list_order_then_deletions(cronicle, run_module):
    cronicle.add_user("anna.k", "old", USER_PRIVILEGES, full_name="anna.k (vixtract_users)")
    cronicle.add_user("carl", "pw-carl-789", {}, full_name="carl (vixtract_users)")
    result = run_module(main, args(cronicle, [anna(), anna(username="bob", password="pw-bob-456", privileges={})]))
    assert outcome(result) == (True, ["password", "created", "deleted (no longer listed)"])
    assert result["changes"][-1] == "carl: deleted (no longer listed)"
    assert [path for path, _unused in writes(cronicle)] == ["/api/user/admin_update", "/api/user/admin_create",
                                                            "/api/user/admin_delete"]


def test_second_run_changes_nothing(cronicle, run_module):
    cronicle.add_user("carl", "pw-carl-789", {}, full_name="carl (vixtract_users)")
    declared = args(cronicle, [anna(), anna(username="bob", password="pw-bob-456")])
    run_module(main, declared)
    assert outcome(run_module(main, declared)) == (False, [])


def test_check_mode_reports_every_change_and_writes_nothing(cronicle, run_module):
    cronicle.add_user("anna.k", "old", {}, full_name="anna.k (vixtract_users)")
    cronicle.add_user("carl", "pw-carl-789", {}, full_name="carl (vixtract_users)")
    result = run_module(main, args(cronicle, [anna(), anna(username="bob", password="pw-bob-456")],
                                   _ansible_check_mode=True))
    assert outcome(result) == (True, ["privileges, password", "created",
                                      "deleted (no longer listed)"])
    assert writes(cronicle) == []
    assert sorted(cronicle.users) == ["anna.k", "carl", "vixtract"]


def test_no_password_appears_in_the_result(cronicle, run_module):
    cronicle.add_user("anna.k", "old", {}, full_name="anna.k (vixtract_users)")
    cronicle.add_user("carl", "Carl-Old-Pw-Qz", {}, full_name="carl (vixtract_users)")
    result = run_module(main, args(cronicle, [anna(password="Anna-New-Pw-Xq"),
                                              anna(username="bob", password="Bob-New-Pw-Yv")]))
    assert outcome(result) == (True, ["privileges, password", "created", "deleted (no longer listed)"])
    for password in ("Anna-New-Pw-Xq", "Bob-New-Pw-Yv", "Carl-Old-Pw-Qz", "s3cret"):
        assert password not in repr(result)


def test_password_checks_and_the_administrator_session_are_closed(cronicle, run_module):
    cronicle.add_user("anna.k", "pw-anna-123", USER_PRIVILEGES, full_name="anna.k (vixtract_users)")
    run_module(main, args(cronicle, [anna()]))
    assert cronicle.sessions == {}
    assert cronicle.paths()[-1] == "/api/user/logout"


def test_cronicle_error_fails_with_the_changes_made_before_it(cronicle, run_module):
    cronicle.add_user("carl", "pw-carl-789", {}, full_name="carl (vixtract_users)")
    cronicle.routes["/api/user/admin_delete"] = lambda r: {"code": "user", "description": "Failed to delete user"}
    result = run_module(main, args(cronicle, [anna()]))
    assert result["failed"] is True
    assert result["msg"] == "Cronicle /api/user/admin_delete: user: Failed to delete user"
    assert result["changes"][0].endswith(": created")
    assert "anna.k" in cronicle.users and "carl" in cronicle.users
    assert cronicle.sessions == {}


def test_refused_login_fails_before_anything_is_read(cronicle, run_module):
    result = run_module(main, dict(args(cronicle, [anna()]), auth_password="old password"))
    assert result["failed"] is True
    assert result["msg"].startswith("Cronicle refused the login of vixtract")
    assert cronicle.paths() == ["/api/user/login"]


# --- the ledger: passwords that logged in are not tried again while the account is unchanged ---------------------

def logins(cronicle):
    """Whose passwords were tried, in order (the module's own administrator first)."""
    names = [r.body.get("username") for r in cronicle.requests if r.path == "/api/user/login"]
    cronicle.requests.clear()
    return names


def test_a_password_that_logged_in_is_not_tried_again_while_the_account_is_unchanged(cronicle, run_module, tmp_path):
    cronicle.add_user("anna.k", "pw-anna-123", USER_PRIVILEGES, full_name="anna.k (vixtract_users)")
    ledger = tmp_path / "logins.json"
    assert outcome(run_module(main, args(cronicle, [anna()], ledger=str(ledger)))) == (False, [])
    assert logins(cronicle) == ["vixtract", "anna.k"]
    assert ledger.stat().st_mode & 0o777 == 0o600
    assert "pw-anna-123" not in ledger.read_text()
    assert outcome(run_module(main, args(cronicle, [anna()], ledger=str(ledger)))) == (False, [])
    assert logins(cronicle) == ["vixtract"]
    assert writes(cronicle) == []


def test_a_password_changed_in_the_ui_is_found_and_set_back(cronicle, run_module, tmp_path):
    cronicle.add_user("anna.k", "pw-anna-123", USER_PRIVILEGES, full_name="anna.k (vixtract_users)")
    ledger = str(tmp_path / "logins.json")
    run_module(main, args(cronicle, [anna()], ledger=ledger))
    cronicle.change_in_the_ui("anna.k", password="mine-now")
    logins(cronicle)
    assert outcome(run_module(main, args(cronicle, [anna()], ledger=ledger))) == (True, ["password"])
    assert logins(cronicle) == ["vixtract", "anna.k"]
    assert cronicle.users["anna.k"]["password"] == "pw-anna-123"
    # the ledger follows the account as the module left it: the next run tries nothing
    assert outcome(run_module(main, args(cronicle, [anna()], ledger=ledger))) == (False, [])
    assert logins(cronicle) == ["vixtract"]


def test_a_password_changed_in_the_inventory_is_tried_and_set(cronicle, run_module, tmp_path):
    cronicle.add_user("anna.k", "pw-anna-123", USER_PRIVILEGES, full_name="anna.k (vixtract_users)")
    ledger = str(tmp_path / "logins.json")
    run_module(main, args(cronicle, [anna()], ledger=ledger))
    logins(cronicle)
    assert outcome(run_module(main, args(cronicle, [anna(password="pw-anna-456")], ledger=ledger))) == \
        (True, ["password"])
    assert logins(cronicle) == ["vixtract", "anna.k"]
    assert cronicle.users["anna.k"]["password"] == "pw-anna-456"


@pytest.mark.parametrize("content", ["not json", "[1, 2]", '{"anna.k": {"salt": "zz", "digest": "x", "modified": 0}}'],
                         ids=["garbage", "a list", "a broken entry"])
def test_an_unreadable_ledger_only_means_logging_in(cronicle, run_module, tmp_path, content):
    cronicle.add_user("anna.k", "pw-anna-123", USER_PRIVILEGES, full_name="anna.k (vixtract_users)")
    ledger = tmp_path / "logins.json"
    ledger.write_text(content)
    assert outcome(run_module(main, args(cronicle, [anna()], ledger=str(ledger)))) == (False, [])
    assert logins(cronicle) == ["vixtract", "anna.k"]


def test_check_mode_writes_no_ledger(cronicle, run_module, tmp_path):
    cronicle.add_user("anna.k", "pw-anna-123", USER_PRIVILEGES, full_name="anna.k (vixtract_users)")
    ledger = tmp_path / "logins.json"
    run_module(main, args(cronicle, [anna()], ledger=str(ledger), _ansible_check_mode=True))
    assert not ledger.exists()


def test_an_account_deleted_from_the_list_leaves_the_ledger(cronicle, run_module, tmp_path):
    cronicle.add_user("anna.k", "pw-anna-123", USER_PRIVILEGES, full_name="anna.k (vixtract_users)")
    ledger = tmp_path / "logins.json"
    run_module(main, args(cronicle, [anna()], ledger=str(ledger)))
    assert "anna.k" in ledger.read_text()
    run_module(main, args(cronicle, [], ledger=str(ledger)))
    assert "anna.k" not in ledger.read_text()


def test_diff_mode_lists_the_changes_and_never_the_password(cronicle, run_module):
    cronicle.add_user("anna.k", "changed in the UI", USER_PRIVILEGES, full_name="anna.k (vixtract_users)")
    result = run_module(main, args(cronicle, [anna()], _ansible_check_mode=True, _ansible_diff=True))
    assert result["diff"] == {"prepared": "\n".join(result["changes"])} and result["changes"], result
    assert "password" in result["diff"]["prepared"] and "pw-anna-123" not in str(result["diff"])
    assert writes(cronicle) == []
    plain = run_module(main, args(cronicle, [anna()], _ansible_check_mode=True))
    assert "diff" not in plain
