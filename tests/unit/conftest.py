"""Unit tests of the collection's Python: no server, no ansible-playbook.

The plugins are imported by their collection names (the modules import module_utils that way):
.collections/ansible_collections/vixtract/stack is a link to this checkout.
`cronicle` is a fake Cronicle API on 127.0.0.1 at a random port, in memory, started by the test that uses it.

tests/unit/__init__.py is empty but makes this directory a package, so that this conftest.py does not take the module
name `conftest` that tests/test_validation_*.py import their helpers from.
"""
import json
import re
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from ansible.module_utils.testing import patch_module_args

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / ".collections") not in sys.path:
    sys.path.insert(0, str(ROOT / ".collections"))


@dataclass
class Request:
    path: str
    body: dict
    headers: dict  # lower-case names

    @property
    def session(self):
        return self.headers.get("x-session-id")


class FakeCronicle:
    """The calls of Cronicle's API (and of pixl-server-user) that the cronicle_* modules make, on in-memory data.

    Every answer is HTTP 200 with a JSON body whose code is 0 on success, as Cronicle answers. The app and admin
    calls need the session of an administrator. `routes[path] = function(request) -> dict | (status, headers,
    bytes)` replaces or adds an answer."""

    def __init__(self):
        self.url = None
        self.requests = []
        self.users = {}
        self.categories = [{"id": "general", "title": "General"}]
        self.events = []
        self.plugins = []
        self.sessions = {}
        self._ids = 0
        self.routes = {
            "/api/user/login": self._login,
            "/api/user/logout": self._logout,
            "/api/user/admin_get_user": self._admin(self._get_user),
            "/api/user/admin_create": self._admin(self._create_user),
            "/api/user/admin_update": self._admin(self._update_user),
            "/api/user/admin_delete": self._admin(self._delete_user),
            "/api/user/admin_get_users": self._admin(self._get_users),
            "/api/app/get_categories/v1": self._admin(lambda r: {"code": 0, "rows": self.categories}),
            "/api/app/get_schedule/v1": self._admin(lambda r: {"code": 0, "rows": self.events}),
            "/api/app/create_category/v1": self._admin(self._create_category),
            "/api/app/update_category/v1": self._admin(self._update_category),
            "/api/app/get_plugins/v1": self._admin(lambda r: {"code": 0, "rows": self.plugins}),
            "/api/app/create_plugin/v1": self._admin(self._create_plugin),
            "/api/app/update_plugin/v1": self._admin(self._update_plugin),
            "/api/app/delete_plugin/v1": self._admin(self._delete_plugin),
            "/api/app/create_event/v1": self._admin(self._create_event),
            "/api/app/update_event/v1": self._admin(self._update_event),
            "/api/app/delete_event/v1": self._admin(self._delete_event),
        }

    # what the tests look at
    def add_user(self, username, password, privileges=None, active=1, full_name=None):
        self.users[username] = {"username": username, "password": password, "privileges": privileges or {},
                                "active": active, "full_name": full_name or username,
                                "email": username + "@localhost", "modified": self._tick()}

    def change_in_the_ui(self, username, **fields):
        """What a person does in Cronicle's UI (their password, say): the account's `modified` moves."""
        self.users[username].update(fields, modified=self._tick())

    def paths(self):
        return [r.path for r in self.requests]

    def writes(self):
        """The requests that change something (everything but reading, logging in and out)."""
        reads = {"/api/user/login", "/api/user/logout", "/api/user/admin_get_user", "/api/user/admin_get_users",
                 "/api/app/get_categories/v1", "/api/app/get_schedule/v1", "/api/app/get_plugins/v1"}
        return [r for r in self.requests if r.path not in reads]

    def open_sessions(self):
        return dict(self.sessions)

    # the fake API
    def _tick(self):
        self._clock = getattr(self, "_clock", 1796000000) + 1
        return self._clock

    def _new_id(self, prefix):
        self._ids += 1
        return f"{prefix}{self._ids}"

    def _login(self, r):
        user = self.users.get(r.body.get("username"))
        if not user or user["password"] != r.body.get("password") or not user["active"]:
            return {"code": "login", "description": "Username or password incorrect."}
        session = self._new_id("session-")
        self.sessions[session] = user["username"]
        return {"code": 0, "session_id": session, "username": user["username"]}

    def _logout(self, r):
        self.sessions.pop(r.session, None)
        return {"code": 0}

    def _admin(self, answer):
        def checked(r):
            user = self.users.get(self.sessions.get(r.session))
            if not user or not user["privileges"].get("admin"):
                return {"code": "session", "description": "No Session ID or API Key could be found"}
            return answer(r)
        return checked

    def _get_user(self, r):
        user = self.users.get(r.body["username"])
        if not user:
            return {"code": "user", "description": "User not found: " + r.body["username"]}
        return {"code": 0, "user": {k: v for k, v in user.items() if k != "password"}}

    def _create_user(self, r):
        if r.body["username"] in self.users:
            return {"code": "user", "description": "User already exists: " + r.body["username"]}
        self.users[r.body["username"]] = dict(r.body, active=1, modified=self._tick())
        return {"code": 0}

    def _update_user(self, r):
        user = self.users[r.body["username"]]
        user.update({k: v for k, v in r.body.items() if k != "new_password"})
        if "new_password" in r.body:
            user["password"] = r.body["new_password"]
        user["modified"] = self._tick()
        return {"code": 0}

    def _delete_user(self, r):
        del self.users[r.body["username"]]
        return {"code": 0}

    def _get_users(self, r):
        """pixl-server-user: one page of the accounts sorted by name (limit 50 by default), without their
        passwords, and the list header whose length is the number of all accounts."""
        offset, limit = int(r.body.get("offset") or 0), int(r.body.get("limit") or 50)
        names = sorted(self.users)
        rows = [{k: v for k, v in self.users[n].items() if k != "password"} for n in names[offset:offset + limit]]
        return {"code": 0, "rows": rows, "list": {"length": len(names)}}

    def _create_category(self, r):
        # As Cronicle: the id given, lower-cased and without non-word characters; a new one when none is given
        given = re.sub(r"\W+", "", str(r.body.get("id") or "").lower())
        category = dict(r.body, id=given or self._new_id("c"), username=self.sessions[r.session])
        self.categories.append(category)
        return {"code": 0, "id": category["id"]}

    def _update_category(self, r):
        for category in self.categories:
            if category["id"] == r.body["id"]:
                category.update(r.body)
                return {"code": 0}
        return {"code": "event", "description": "Failed to locate category: " + r.body["id"]}

    # Plugins. Not checked here as Cronicle checks them: delete_plugin also requires `title`, and refuses a plugin
    # that an event of the schedule still uses.
    def _create_plugin(self, r):
        plugin = dict(r.body, username=self.sessions[r.session])
        self.plugins.append(plugin)
        return {"code": 0, "id": plugin["id"]}

    def _update_plugin(self, r):
        for plugin in self.plugins:
            if plugin["id"] == r.body["id"]:
                plugin.update(r.body)
                return {"code": 0}
        return {"code": "event", "description": "Failed to locate plugin: " + r.body["id"]}

    def _delete_plugin(self, r):
        self.plugins = [p for p in self.plugins if p["id"] != r.body["id"]]
        return {"code": 0}

    def _create_event(self, r):
        event = dict(r.body, id=self._new_id("ev-"), username=self.sessions[r.session])
        self.events.append(event)
        return {"code": 0, "id": event["id"]}

    def _update_event(self, r):
        for event in self.events:
            if event["id"] == r.body["id"]:
                event.update(r.body)
                return {"code": 0}
        return {"code": "event", "description": "Event not found: " + r.body["id"]}

    def _delete_event(self, r):
        self.events = [e for e in self.events if e["id"] != r.body["id"]]
        return {"code": 0}


def _handler(fake):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            request = Request(self.path, json.loads(raw or b"{}"), {k.lower(): v for k, v in self.headers.items()})
            fake.requests.append(request)
            route = fake.routes.get(self.path)
            answer = route(request) if route else {"code": "api", "description": "Unsupported API: " + self.path}
            status, headers, body = answer if isinstance(answer, tuple) else (200, {}, json.dumps(answer).encode())
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def cronicle(monkeypatch):
    """A FakeCronicle listening on 127.0.0.1 (random port) for the duration of one test."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    fake = FakeCronicle()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield fake
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def run_module(capsys):
    """Run a module's main() with these arguments; returns its result (failed: True when it failed)."""

    def run(main, args):
        with patch_module_args(args), pytest.raises(SystemExit):
            main()
        return json.loads(capsys.readouterr().out)

    return run
