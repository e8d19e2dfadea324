# Copyright: vixtract.stack maintainers
# Apache License 2.0
"""A small client for Cronicle's JSON API, shared by the cronicle_* modules of vixtract.stack.

Cronicle answers every call with HTTP 200 and a JSON body whose `code` is 0 on success. Event and job calls
take the API key (header X-API-Key); the user-management calls of pixl-server-user take a session, which
`login()` opens and `logout()` closes.
"""
from __future__ import annotations

import json

from ansible.module_utils.urls import open_url


# The options every cronicle_* module takes to reach Cronicle and log in as an administrator
CONNECTION_ARGUMENT_SPEC = dict(
    url=dict(type="str", required=True),
    auth_username=dict(type="str", required=True),
    auth_password=dict(type="str", required=True, no_log=True),
)


def logged_in_client(module):
    """A CronicleClient with an administrator session from the module's connection options; fails the module
    with what to do when Cronicle refuses the login."""
    p = module.params
    client = CronicleClient(p["url"])
    client.session_id = client.login(p["auth_username"], p["auth_password"])
    if not client.session_id:
        module.fail_json(msg=f"Cronicle refused the login of {p['auth_username']}: its password in the "
                             "credentials directory no longer matches (restore the file cronicle/automation)")
    return client


class CronicleError(Exception):
    def __init__(self, path, response):
        self.path = path
        self.response = response
        super().__init__(f"Cronicle {path}: {response.get('code')}: {response.get('description', response)}")


class CronicleClient:
    def __init__(self, url, api_key=None, timeout=30):
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.session_id = None

    def call(self, path, params=None, check=True, session=None):
        headers = {"Content-Type": "application/json"}
        if session or self.session_id:
            headers["X-Session-ID"] = session or self.session_id
        elif self.api_key:
            headers["X-API-Key"] = self.api_key
        resp = open_url(self.url + path, method="POST", data=json.dumps(params or {}), headers=headers,
                        timeout=self.timeout, follow_redirects="none")
        body = json.loads(resp.read() or b"{}")
        if check and body.get("code") != 0:
            raise CronicleError(path, body)
        return body

    def login(self, username, password):
        """Open a session; returns its id, or None when the password is wrong."""
        body = self.call("/api/user/login", {"username": username, "password": password}, check=False)
        if body.get("code") != 0:
            return None
        return body.get("session_id")

    def logout(self, session_id):
        self.call("/api/user/logout", {}, check=False, session=session_id)


def ensure_user(client, check_mode, username, password=None, privileges=None, full_name=None, state="present"):
    """Make one Cronicle account match: created, updated (privileges given are set, others left alone; activated;
    password changed when it no longer logs in) or deleted. Returns what was done (created, deleted, privileges,
    activated, password)."""
    actions = []
    found = client.call("/api/user/admin_get_user", {"username": username}, check=False)
    user = found.get("user") if found.get("code") == 0 else None
    if state == "absent":
        if user:
            actions.append("deleted")
            if not check_mode:
                client.call("/api/user/admin_delete", {"username": username})
        return actions
    if not user:
        actions.append("created")
        if not check_mode:
            client.call("/api/user/admin_create", {
                "username": username, "password": password, "full_name": full_name or username,
                "email": username + "@localhost", "privileges": privileges or {}})
        return actions
    updates = {}
    current = user.get("privileges") or {}
    wanted = {k: int(v) for k, v in (privileges or {}).items()}
    if any(int(current.get(k, 0)) != v for k, v in wanted.items()):
        updates["privileges"] = dict(current, **wanted)
        actions.append("privileges")
    if full_name and user.get("full_name") != full_name:
        updates["full_name"] = full_name
        actions.append("full name")
    if not user.get("active"):
        updates["active"] = 1
        actions.append("activated")
    # The only way to compare a password with its bcrypt hash: log in with it
    own = client.login(username, password)
    if own:
        client.logout(own)
    else:
        updates["new_password"] = password
        actions.append("password")
    if updates and not check_mode:
        client.call("/api/user/admin_update", dict(updates, username=username))
    return actions


def all_users(client):
    """Every Cronicle account (its record without the password hash)."""
    users, offset = [], 0
    while True:
        page = client.call("/api/user/admin_get_users", {"offset": offset, "limit": 100})
        rows = page.get("rows") or []
        users += rows
        offset += len(rows)
        if not rows or offset >= int((page.get("list") or {}).get("length", offset)):
            return users
