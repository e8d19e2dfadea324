"""Cronicle's API, asked from the server (its loopback port) as the role asks it."""
import base64
import json
import time

import pytest

from vixtest.stack import credential, stack_vars

CONTAINER = stack_vars().get("cronicle_container", "vixtract-cronicle")
URL = f"http://127.0.0.1:{stack_vars().get('cronicle_loopback_port', 3012)}"


def api(host, path, params=None, key=None, session=None):
    """POST to Cronicle's API from the server, return the JSON answer."""
    headers = {"Content-Type": "application/json"}
    if key:
        headers["X-API-Key"] = key
    if session:
        headers["X-Session-ID"] = session
    script = (
        "import json,sys,urllib.request;"
        f"r=urllib.request.Request({URL + path!r},data=sys.stdin.buffer.read(),headers={headers!r});"
        "print(urllib.request.urlopen(r,timeout=30).read().decode())")
    body = base64.b64encode(json.dumps(params or {}).encode()).decode()
    out = host.run(f"echo {body} | base64 -d | python3 -c {json.dumps(script)}")
    assert out.rc == 0, out.stderr
    return json.loads(out.stdout)


def api_key():
    return credential("cronicle/api_key")


def admin_password():
    return stack_vars().get("cronicle_admin_password") or credential("cronicle/admin")


def login(host, user, password):
    return api(host, "/api/user/login", {"username": user, "password": password})


def schedule(host):
    """The events, by title."""
    answer = api(host, "/api/app/get_schedule/v1", {"offset": 0, "limit": 0}, key=api_key())
    assert answer["code"] == 0, answer
    return {e["title"]: e for e in answer.get("rows", [])}


def sh(host, script, user=None):
    """A shell script inside the Cronicle container, as root (or USER, switched to inside through NSS)."""
    encoded = base64.b64encode(script.encode()).decode()
    become = f"setpriv --reuid={user} --regid={user} --init-groups " if user else ""
    return host.run(f"echo {encoded} | base64 -d | docker exec -i {CONTAINER} {become}bash -s")


def wait_job(host, job_id, timeout=180, key=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        status = api(host, "/api/app/get_job_status/v1", {"id": job_id}, key=key or api_key())
        if status["code"] == 0 and status["job"].get("complete"):
            return status["job"]
        time.sleep(2)
    pytest.fail(f"job {job_id} did not complete within {timeout} s")


def run_and_wait(host, title, timeout=180):
    started = api(host, "/api/app/run_event/v1", {"title": title}, key=api_key())
    assert started["code"] == 0, started
    return wait_job(host, started["ids"][0], timeout)


def master_schedule(host):
    """The titles of the events when Cronicle answers as master, else None."""
    try:
        answer = api(host, "/api/app/get_schedule/v1", {"offset": 0, "limit": 0}, key=api_key())
    except (AssertionError, ValueError):  # not answering yet
        return None
    return {e["title"] for e in answer.get("rows", [])} if answer.get("code") == 0 else None


def first_master(host, deadline_seconds):
    """Polls until Cronicle answers as master; returns (the moment it first did, by this machine's clock, which the
    server containers share, and the event titles)."""
    deadline = time.time() + deadline_seconds
    while time.time() < deadline:
        titles = master_schedule(host)
        if titles is not None:
            return time.time(), titles
        time.sleep(1)
    pytest.fail(f"Cronicle did not answer as master within {deadline_seconds} s")
