# Copyright: vixtract.stack maintainers
# Apache License 2.0
"""A small client for Cronicle's JSON API, shared by the cronicle_* modules of vixtract.stack.

Cronicle answers every call with HTTP 200 and a JSON body whose `code` is 0 on success. Event and job calls
take the API key (header X-API-Key); the user-management calls of pixl-server-user take a session, which
`login()` opens and `logout()` closes.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os

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


class PasswordLedger:
    """Which accounts logged in with which password, as of the account's last change (its `modified` time).

    Logging in is the only way to compare a password with Cronicle's bcrypt hash, and it costs a bcrypt round in
    Cronicle for every account on every run. The ledger (a JSON file, 0600) keeps for each account a salted PBKDF2
    digest of the password that last logged in and the account's `modified` time then; while both still match, the
    login is skipped. Any change to the account in Cronicle (a password changed in its UI, by an administrator or by
    a reset) moves `modified`, and the next run logs in again. An unreadable file is an empty ledger."""

    ITERATIONS = 100_000

    def __init__(self, path):
        self.path = path
        self.dirty = False
        try:
            with open(path, encoding="utf-8") as f:
                self.entries = json.load(f)
            if not isinstance(self.entries, dict):
                raise ValueError(path)
        except (OSError, ValueError):
            self.entries = {}

    def _digest(self, password, salt):
        return hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), self.ITERATIONS).hex()

    def knows(self, username, password, modified):
        entry = self.entries.get(username)
        if not isinstance(entry, dict) or modified is None or entry.get("modified") != modified:
            return False
        try:
            return hmac.compare_digest(str(entry.get("digest")), self._digest(password, str(entry.get("salt"))))
        except ValueError:
            return False

    def record(self, username, password, modified):
        if modified is None:
            return
        salt = os.urandom(16).hex()
        self.entries[username] = {"salt": salt, "digest": self._digest(password, salt), "modified": modified}
        self.dirty = True

    def forget(self, username):
        if self.entries.pop(username, None) is not None:
            self.dirty = True

    def save(self):
        if not self.dirty:
            return
        tmp = self.path + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(self.entries, f)
        os.replace(tmp, self.path)


def ensure_user(client, check_mode, username, password=None, privileges=None, full_name=None, state="present",
                ledger=None):
    """Make one Cronicle account match: created, updated (privileges given are set, others left alone; activated;
    password changed when it no longer logs in) or deleted. Returns what was done (created, deleted, privileges,
    activated, password). With a PasswordLedger, a password it knows for the account as it is is not tried again."""
    actions = []
    found = client.call("/api/user/admin_get_user", {"username": username}, check=False)
    user = found.get("user") if found.get("code") == 0 else None
    if ledger is not None and (state == "absent" or not user):
        ledger.forget(username)
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
    # The only way to compare a password with its bcrypt hash: log in with it (unless the ledger knows it)
    known = ledger is not None and ledger.knows(username, password, user.get("modified"))
    if not known:
        own = client.login(username, password)
        if own:
            client.logout(own)
        else:
            updates["new_password"] = password
            actions.append("password")
    if updates and not check_mode:
        client.call("/api/user/admin_update", dict(updates, username=username))
    if ledger is not None and not known and not check_mode:
        if updates:
            # the update moved the account's `modified`: the ledger keeps the new one
            again = client.call("/api/user/admin_get_user", {"username": username}, check=False)
            user = again.get("user") if again.get("code") == 0 else {}
        ledger.record(username, password, (user or {}).get("modified"))
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
