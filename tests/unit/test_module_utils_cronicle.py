"""CronicleClient and logged_in_client (module_utils/cronicle.py) against a fake Cronicle on 127.0.0.1."""
import urllib.error

import pytest

from ansible_collections.vixtract.stack.plugins.module_utils.cronicle import (CronicleClient, CronicleError,
                                                                              logged_in_client)


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
