"""CronicleClient and logged_in_client (module_utils/cronicle.py) against a fake Cronicle on 127.0.0.1."""
import urllib.error

import pytest

from ansible_collections.vixtract.stack.plugins.module_utils.cronicle import (CronicleClient, CronicleError,
                                                                              all_users, ensure_user, logged_in_client)


@pytest.fixture
def echo(cronicle):
    """/api/test/echo answers code 0 and what it was sent."""
    cronicle.routes["/api/test/echo"] = lambda r: {"code": 0, "got": r.body}
    return cronicle


def test_call_posts_the_parameters_as_json_and_returns_the_answer(echo):
    answer = CronicleClient(echo.url).call("/api/test/echo", {"title": "nightly", "timing": {"hours": [2]}})
    assert answer == {"code": 0, "got": {"title": "nightly", "timing": {"hours": [2]}}}
    request = echo.requests[0]
    assert (request.path, request.headers["content-type"]) == ("/api/test/echo", "application/json")


def test_call_without_parameters_posts_an_empty_object(echo):
    assert CronicleClient(echo.url).call("/api/test/echo") == {"code": 0, "got": {}}


def test_trailing_slash_of_the_url_is_dropped(echo):
    CronicleClient(echo.url + "/").call("/api/test/echo")
    assert echo.paths() == ["/api/test/echo"]


def test_api_key_goes_in_the_x_api_key_header(echo):
    CronicleClient(echo.url, api_key="0095f5b6").call("/api/test/echo")
    headers = echo.requests[0].headers
    assert (headers.get("x-api-key"), headers.get("x-session-id")) == ("0095f5b6", None)


def test_open_session_is_sent_instead_of_the_api_key(echo):
    client = CronicleClient(echo.url, api_key="0095f5b6")
    client.session_id = "session-7"
    client.call("/api/test/echo")
    headers = echo.requests[0].headers
    assert (headers.get("x-api-key"), headers.get("x-session-id")) == (None, "session-7")


def test_session_given_to_a_call_wins_over_the_clients_session(echo):
    client = CronicleClient(echo.url)
    client.session_id = "session-admin"
    client.call("/api/test/echo", session="session-other")
    assert echo.requests[0].session == "session-other"


def test_no_key_and_no_session_sends_neither_header(echo):
    CronicleClient(echo.url).call("/api/test/echo")
    headers = echo.requests[0].headers
    assert "x-api-key" not in headers and "x-session-id" not in headers


def test_answer_with_a_nonzero_code_raises_with_code_and_description(cronicle):
    cronicle.routes["/api/app/create_event/v1"] = lambda r: {"code": "event", "description": "Title exists"}
    with pytest.raises(CronicleError) as error:
        CronicleClient(cronicle.url).call("/api/app/create_event/v1", {"title": "x"})
    assert str(error.value) == "Cronicle /api/app/create_event/v1: event: Title exists"
    assert error.value.path == "/api/app/create_event/v1"
    assert error.value.response == {"code": "event", "description": "Title exists"}


def test_error_without_description_shows_the_whole_answer(cronicle):
    cronicle.routes["/api/x"] = lambda r: {"code": 1}
    with pytest.raises(CronicleError) as error:
        CronicleClient(cronicle.url).call("/api/x")
    assert str(error.value) == "Cronicle /api/x: 1: {'code': 1}"


def test_empty_answer_counts_as_a_failure(cronicle):
    cronicle.routes["/api/x"] = lambda r: (200, {}, b"")
    with pytest.raises(CronicleError) as error:
        CronicleClient(cronicle.url).call("/api/x")
    assert error.value.response == {}


def test_unchecked_call_returns_an_error_answer_without_raising(cronicle):
    cronicle.routes["/api/x"] = lambda r: {"code": "user", "description": "User not found"}
    assert CronicleClient(cronicle.url).call("/api/x", check=False) == {"code": "user", "description": "User not found"}


def test_redirect_is_not_followed(cronicle):
    """A non-primary Cronicle answers 302; the POST with its session must not be re-sent elsewhere."""
    cronicle.routes["/api/x"] = lambda r: (302, {"Location": cronicle.url + "/api/elsewhere"}, b"")
    with pytest.raises(urllib.error.HTTPError) as error:
        CronicleClient(cronicle.url).call("/api/x")
    assert error.value.code == 302
    assert cronicle.paths() == ["/api/x"]


def test_login_returns_the_session_id(cronicle):
    cronicle.add_user("vixtract", "s3cret", {"admin": 1})
    session = CronicleClient(cronicle.url).login("vixtract", "s3cret")
    assert cronicle.sessions == {session: "vixtract"}
    assert cronicle.requests[0].body == {"username": "vixtract", "password": "s3cret"}


def test_login_with_a_wrong_password_returns_none(cronicle):
    cronicle.add_user("vixtract", "s3cret", {"admin": 1})
    assert CronicleClient(cronicle.url).login("vixtract", "wrong") is None


def test_logout_closes_the_given_session(cronicle):
    cronicle.add_user("vixtract", "s3cret", {"admin": 1})
    client = CronicleClient(cronicle.url)
    session = client.login("vixtract", "s3cret")
    client.logout(session)
    assert cronicle.sessions == {}
    assert (cronicle.requests[-1].path, cronicle.requests[-1].session) == ("/api/user/logout", session)


class Failed(Exception):
    pass


class FakeModule:
    def __init__(self, url):
        self.params = {"url": url, "auth_username": "vixtract", "auth_password": "s3cret"}

    def fail_json(self, **result):
        raise Failed(result)


def test_logged_in_client_holds_an_administrator_session(cronicle):
    cronicle.add_user("vixtract", "s3cret", {"admin": 1})
    client = logged_in_client(FakeModule(cronicle.url))
    assert cronicle.sessions == {client.session_id: "vixtract"}
    assert client.call("/api/app/get_schedule/v1") == {"code": 0, "rows": []}


def test_refused_login_fails_the_module_with_what_to_do(cronicle):
    cronicle.add_user("vixtract", "changed by hand", {"admin": 1})
    with pytest.raises(Failed) as failed:
        logged_in_client(FakeModule(cronicle.url))
    assert failed.value.args[0] == {
        "msg": "Cronicle refused the login of vixtract: its password in the credentials directory no longer "
               "matches (restore the file cronicle/automation)"}


# ensure_user: one account made to match, as cronicle_user and cronicle_users do it

@pytest.fixture
def admin(cronicle):
    """A client with the session of the administrator vixtract."""
    cronicle.add_user("vixtract", "s3cret", {"admin": 1})
    client = CronicleClient(cronicle.url)
    client.session_id = client.login("vixtract", "s3cret")
    cronicle.requests.clear()
    return client


def writes(cronicle):
    return [(r.path, r.body) for r in cronicle.writes()]


def test_ensure_user_creates_a_missing_account(cronicle, admin):
    actions = ensure_user(admin, False, "anna.k", "pw-anna", {"run_events": 1}, "anna.k (vixtract_users)")
    assert actions == ["created"]
    assert writes(cronicle) == [("/api/user/admin_create", {
        "username": "anna.k", "password": "pw-anna", "full_name": "anna.k (vixtract_users)",
        "email": "anna.k@localhost", "privileges": {"run_events": 1}})]


def test_ensure_user_creates_with_the_name_as_full_name_and_no_privileges_by_default(cronicle, admin):
    assert ensure_user(admin, False, "anna.k", "pw-anna") == ["created"]
    assert writes(cronicle) == [("/api/user/admin_create", {
        "username": "anna.k", "password": "pw-anna", "full_name": "anna.k", "email": "anna.k@localhost",
        "privileges": {}})]


def test_ensure_user_leaves_a_matching_account_alone(cronicle, admin):
    cronicle.add_user("anna.k", "pw-anna", {"run_events": 1, "admin": 0}, full_name="Anna")
    assert ensure_user(admin, False, "anna.k", "pw-anna", {"run_events": True}, "Anna") == []
    assert writes(cronicle) == []


@pytest.mark.parametrize("stored, declared, actions, update", [
    (dict(privileges={"run_events": 0}), dict(privileges={"run_events": 1}), ["privileges"],
     {"privileges": {"run_events": 1}}),
    (dict(privileges={"cat_vxu_anna_dk": 1}), dict(privileges={"admin": 1}), ["privileges"],
     {"privileges": {"cat_vxu_anna_dk": 1, "admin": 1}}),
    (dict(full_name="Anna"), dict(full_name="Anna K."), ["full name"], {"full_name": "Anna K."}),
    (dict(active=0), {}, ["activated", "password"], {"active": 1, "new_password": "pw-anna"}),
    (dict(password="changed in the UI"), {}, ["password"], {"new_password": "pw-anna"}),
    (dict(privileges={"admin": 1}, full_name="Anna", active=0, password="old"),
     dict(privileges={"admin": 0}, full_name="Anna K."), ["privileges", "full name", "activated", "password"],
     {"privileges": {"admin": 0}, "full_name": "Anna K.", "active": 1, "new_password": "pw-anna"}),
], ids=["privilege differs", "privilege added, others kept", "full name",
        "disabled (a disabled account cannot log in, so its password is set too)", "password",
        "everything in one update"])
def test_ensure_user_updates_what_differs_in_one_call(cronicle, admin, stored, declared, actions, update):
    cronicle.add_user("anna.k", stored.get("password", "pw-anna"), stored.get("privileges", {}),
                      active=stored.get("active", 1), full_name=stored.get("full_name", "anna.k"))
    assert ensure_user(admin, False, "anna.k", "pw-anna", declared.get("privileges"),
                       declared.get("full_name")) == actions
    assert writes(cronicle) == [("/api/user/admin_update", dict(update, username="anna.k"))]


def test_ensure_user_checks_the_password_by_logging_in_and_closes_that_session(cronicle, admin):
    cronicle.add_user("anna.k", "pw-anna", {})
    ensure_user(admin, False, "anna.k", "pw-anna")
    assert [(r.path, r.body) for r in cronicle.requests if r.path == "/api/user/login"] == [
        ("/api/user/login", {"username": "anna.k", "password": "pw-anna"})]
    assert list(cronicle.sessions.values()) == ["vixtract"]


def test_ensure_user_deletes_an_absent_account(cronicle, admin):
    cronicle.add_user("anna.k", "pw-anna", {})
    assert ensure_user(admin, False, "anna.k", state="absent") == ["deleted"]
    assert writes(cronicle) == [("/api/user/admin_delete", {"username": "anna.k"})]


def test_ensure_user_absent_account_that_does_not_exist_is_nothing_to_do(cronicle, admin):
    assert ensure_user(admin, False, "anna.k", state="absent") == []
    assert writes(cronicle) == []


@pytest.mark.parametrize("state, setup, actions", [
    ("present", {}, ["created"]),
    ("present", {"password": "old", "full_name": "x"}, ["full name", "password"]),
    ("absent", {"password": "pw-anna", "full_name": "anna.k"}, ["deleted"]),
], ids=["create", "update", "delete"])
def test_ensure_user_in_check_mode_reports_and_writes_nothing(cronicle, admin, state, setup, actions):
    if setup:
        cronicle.add_user("anna.k", setup["password"], {}, full_name=setup["full_name"])
    assert ensure_user(admin, True, "anna.k", "pw-anna", {}, "anna.k", state) == actions
    assert writes(cronicle) == []


def test_ensure_user_error_raises(cronicle, admin):
    cronicle.routes["/api/user/admin_create"] = lambda r: {"code": "user", "description": "Invalid username"}
    with pytest.raises(CronicleError) as error:
        ensure_user(admin, False, "anna.k", "pw-anna")
    assert str(error.value) == "Cronicle /api/user/admin_create: user: Invalid username"


# all_users: every account, page after page

def names(users):
    return [u["username"] for u in users]


def test_all_users_of_one_page(cronicle, admin):
    cronicle.add_user("anna.k", "pw", {})
    users = all_users(admin)
    assert names(users) == ["anna.k", "vixtract"]
    assert all("password" not in u for u in users)
    assert [r.body for r in cronicle.requests] == [{"offset": 0, "limit": 100}]


@pytest.mark.parametrize("count, offsets", [
    (99, [0]),
    (100, [0]),
    (101, [0, 100]),
    (250, [0, 100, 200]),
], ids=["less than a page", "exactly a page", "one more than a page", "three pages"])
def test_all_users_asks_page_after_page_until_the_list_length(cronicle, admin, count, offsets):
    for i in range(count - 1):  # and vixtract
        cronicle.add_user(f"u{i:03d}", "pw", {})
    users = all_users(admin)
    assert len(users) == count
    assert len(set(names(users))) == count
    assert [r.body["offset"] for r in cronicle.requests] == offsets
    assert {r.body["limit"] for r in cronicle.requests} == {100}


def test_all_users_stops_when_a_page_is_empty_even_if_the_list_said_more(cronicle, admin):
    """An account deleted while the pages are read: the header still counts it."""
    pages = {0: [{"username": f"u{i}"} for i in range(100)], 100: [{"username": "last"}], 101: []}
    cronicle.routes["/api/user/admin_get_users"] = lambda r: {"code": 0, "rows": pages[r.body["offset"]],
                                                              "list": {"length": 500}}
    users = all_users(admin)
    assert len(users) == 101 and users[-1] == {"username": "last"}
    assert [r.body["offset"] for r in cronicle.requests] == [0, 100, 101]


def test_all_users_of_an_empty_list(cronicle, admin):
    cronicle.routes["/api/user/admin_get_users"] = lambda r: {"code": 0, "rows": [], "list": {"length": 0}}
    assert all_users(admin) == []
    assert len(cronicle.requests) == 1


def test_all_users_error_raises(cronicle, admin):
    cronicle.routes["/api/user/admin_get_users"] = lambda r: {"code": "session", "description": "No session"}
    with pytest.raises(CronicleError):
        all_users(admin)
