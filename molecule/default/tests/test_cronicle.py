"""The promises of the cronicle role, checked on the server the scenario deployed.

Cronicle cannot be downloaded here: the scenario deploys it only when its release archive is on the
controller (cronicle_enabled follows the archive). Without it, every test below says
'SKIPPED: <test>: no Cronicle archive' — none passes silently.
"""
import base64
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import PROJECT, changed_count, credential, stack_vars

sys.path.insert(0, str(PROJECT / "plugins/filter"))
from cronicle import cron_to_timing  # noqa: E402  (the role's own conversion, so the test follows it)

VARS = stack_vars()
ARCHIVE = VARS.get("cronicle_archive_src") or ""
CONTAINER = VARS.get("cronicle_container", "vixtract-cronicle")
EVENTS = VARS.get("cronicle_events", [])
USERS = VARS.get("vixtract_users", [])
# Re-apply only what these tests change: Cronicle, and JupyterHub whose image Cronicle is built FROM
TAGS = ["jupyterhub", "cronicle"]
URL = f"http://127.0.0.1:{VARS.get('cronicle_loopback_port', 3012)}"


@pytest.fixture(autouse=True)
def cronicle_archive(request):
    if not (ARCHIVE and Path(ARCHIVE).is_file()):
        pytest.skip(f"SKIPPED: {request.node.name}: no Cronicle archive")


def api(host, path, params=None, key=None, session=None):
    """POST to Cronicle's API from the server (its loopback port), return the JSON answer."""
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
    return VARS.get("cronicle_admin_password") or credential("cronicle/admin")


def schedule(host):
    answer = api(host, "/api/app/get_schedule/v1", {"offset": 0, "limit": 0}, key=api_key())
    assert answer["code"] == 0, answer
    return {e["title"]: e for e in answer.get("rows", [])}


def started_at(host):
    return host.check_output(f"docker inspect -f '{{{{.State.StartedAt}}}}' {CONTAINER}")


def sh(host, script):
    """Run a shell script inside the Cronicle container as root."""
    encoded = base64.b64encode(script.encode()).decode()
    return host.run(f"echo {encoded} | base64 -d | docker exec -i {CONTAINER} bash -s")


def notebook(*cells):
    return json.dumps({
        "cells": [{"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": meta,
                   "outputs": [], "source": src} for i, (src, meta) in enumerate(cells)],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4, "nbformat_minor": 5})


LOAD_NOTEBOOK = notebook(
    ("rows = 1", {"tags": ["parameters"]}),
    ("import os, pathlib\n"
     "pathlib.Path('ran-as.txt').write_text(f'{os.getuid()} {rows}')\n"
     "if pathlib.Path('pg.enabled').exists():\n"
     "    import psycopg\n"
     "    with psycopg.connect() as conn:\n"
     "        conn.execute('CREATE TABLE IF NOT EXISTS cronicle_test (n int, at timestamptz DEFAULT now())')\n"
     "        for n in range(rows):\n"
     "            conn.execute('INSERT INTO cronicle_test (n) VALUES (%s)', (n,))\n", {}))
FAIL_NOTEBOOK = notebook(("raise ValueError('vixtract deliberate failure')", {}))


def event(title):
    return next(e for e in EVENTS if e["title"] == title)


def prepare_home(host, ev, content, extra=""):
    """The owner's home (made by JupyterHub in the full stack; a test account here otherwise) and the notebook."""
    user, nb = ev["user"], ev["notebook"]
    folder = str(Path(nb).parent)
    result = sh(host, f"""set -e
home=/home/{user}
if [ ! -d "$home" ]; then mkdir -p "$home" && chown 15001:15001 "$home"; fi
owner=$(stat -c %u:%g "$home")
mkdir -p "$home/{folder}"
echo {base64.b64encode(content.encode()).decode()} | base64 -d > "$home/{nb}"
rm -f "$home/{folder}/ran-as.txt"
{extra}
chown -R "$owner" "$home/{folder}"
stat -c %u "$home"
""")
    assert result.rc == 0, result.stderr
    return int(result.stdout.split()[-1])


def run_and_wait(host, title, timeout=180):
    started = api(host, "/api/app/run_event/v1", {"title": title}, key=api_key())
    assert started["code"] == 0, started
    job_id = started["ids"][0]
    deadline = time.time() + timeout
    while time.time() < deadline:
        status = api(host, "/api/app/get_job_status/v1", {"id": job_id}, key=api_key())
        if status["code"] == 0 and status["job"].get("complete"):
            return status["job"]
        time.sleep(2)
    pytest.fail(f"job {job_id} of '{title}' did not complete within {timeout} s")


def has_postgres(host):
    return host.run("docker inspect vixtract-postgres").rc == 0


def test_login_with_the_inventory_password_and_admin_admin_is_refused(host):
    assert api(host, "/api/user/login", {"username": "admin", "password": "admin"})["code"] != 0
    answer = api(host, "/api/user/login", {"username": "admin", "password": admin_password()})
    assert answer["code"] == 0, answer
    assert answer["user"]["privileges"]["admin"] == 1


def test_users_with_cronicle_true_have_accounts_with_their_privileges(host):
    for user in USERS:
        if not user.get("cronicle") or user.get("state", "present") != "present":
            continue
        answer = api(host, "/api/user/login", {"username": user["name"],
                                               "password": user.get("password") or credential(f"users/{user['name']}")})
        assert answer["code"] == 0, (user["name"], answer)
        privileges = answer["user"]["privileges"]
        if user.get("admin"):
            assert privileges["admin"] == 1
        else:
            assert privileges["admin"] == 0
            assert privileges["create_events"] == privileges["edit_events"] == privileges["run_events"] == 1


def test_declared_events_exist_with_the_declared_timing(host):
    events = schedule(host)
    assert EVENTS, "the scenario declares cronicle_events"
    for declared in EVENTS:
        assert declared["title"] in events, declared["title"]
        assert events[declared["title"]]["timing"] == cron_to_timing(declared["schedule"])
        assert events[declared["title"]]["enabled"] == 1
        # created through a session: no event carries the automation API key
        assert "api_key" not in events[declared["title"]]


def test_a_run_executes_the_notebook_as_its_owner_and_keeps_the_executed_copy(host):
    ev = event("vixtract test: load rows")
    uid = prepare_home(host, ev, LOAD_NOTEBOOK)
    job = run_and_wait(host, ev["title"])
    assert job["code"] == 0, job
    home, folder = f"/home/{ev['user']}", str(Path(ev["notebook"]).parent)
    ran = sh(host, f"cat {home}/{folder}/ran-as.txt").stdout.split()
    assert ran == [str(uid), str(ev["parameters"]["rows"])], "the notebook ran as its owner with the parameters"
    assert uid != 0
    copies = sh(host, f"find {home}/{folder}/runs -name 'load-*.ipynb' -newer {home}/{ev['notebook']} "
                      "-printf '%u %p\\n'").stdout.split("\n")
    assert copies[0], "an executed copy is kept"
    executed = json.loads(sh(host, f"cat {copies[0].split()[1]}").stdout)
    assert executed["metadata"]["papermill"]["parameters"] == {"rows": ev["parameters"]["rows"]}


def test_a_scheduled_notebook_inserts_rows_into_postgresql(host, request):
    if not has_postgres(host):
        pytest.skip(f"SKIPPED: {request.node.name}: no PostgreSQL container (postgres role not deployed)")
    ev = event("vixtract test: load rows")
    prepare_home(host, ev, LOAD_NOTEBOOK, extra=f"touch /home/{ev['user']}/{Path(ev['notebook']).parent}/pg.enabled")
    db = VARS.get("vixtract_postgres_database", "etl")
    count = ("docker exec vixtract-postgres psql -U postgres -d " + db +
             " -tAc \"SELECT count(*) FROM cronicle_test\" 2>/dev/null || echo 0")
    before = int(host.check_output(count) or 0)
    job = run_and_wait(host, ev["title"])
    assert job["code"] == 0, job
    assert int(host.check_output(count)) == before + ev["parameters"]["rows"]


def test_a_failing_notebook_gives_a_failed_job_with_the_error(host):
    ev = event("vixtract test: failing")
    prepare_home(host, ev, FAIL_NOTEBOOK)
    job = run_and_wait(host, ev["title"])
    assert job["code"] != 0, job
    assert "ValueError" in job["description"], job["description"]
    assert "vixtract deliberate failure" in sh(host, f"cat /opt/cronicle/logs/jobs/{job['id']}*.log 2>/dev/null "
                                                     f"|| ls /home/{ev['user']}").stdout + job["description"]


def test_schedule_changes_and_user_changes_apply_through_the_api_without_a_restart(host, converge):
    before = started_at(host)
    original = schedule(host)
    first, second = EVENTS[0], EVENTS[1]
    changed_events = [dict(first, schedule="15 5 * * *")] + EVENTS[2:]
    newbie = {"name": "cronicle.newbie", "cronicle": True}
    try:
        rc, out = converge({"cronicle_events": changed_events, "vixtract_users": USERS + [newbie]}, tags=TAGS)
        assert rc == 0, out[-3000:]
        events = schedule(host)
        assert events[first["title"]]["timing"] == {"hours": [5], "minutes": [15]}
        assert events[first["title"]]["id"] == original[first["title"]]["id"], "updated in place"
        assert second["title"] not in events, "an event removed from the inventory is deleted"
        login = api(host, "/api/user/login", {"username": "cronicle.newbie",
                                              "password": credential("users/cronicle.newbie")})
        assert login["code"] == 0, login
        assert started_at(host) == before, "Cronicle was not restarted"
    finally:
        rc, out = converge({"vixtract_users": USERS + [dict(newbie, state="absent")]}, tags=TAGS)
    assert rc == 0, out[-3000:]
    events = schedule(host)
    assert {e["title"] for e in EVENTS} <= set(events)
    assert events[first["title"]]["timing"] == cron_to_timing(first["schedule"])
    assert api(host, "/api/user/login", {"username": "cronicle.newbie", "password": "x"})["code"] != 0
    users = api(host, "/api/user/login", {"username": "admin", "password": admin_password()})
    gone = api(host, "/api/user/admin_get_user", {"username": "cronicle.newbie"}, session=users["session_id"])
    assert gone["code"] != 0, "a user with state absent is removed"
    assert started_at(host) == before, "Cronicle was not restarted"


def wait_for_master(host, seconds=60):
    deadline = time.time() + seconds
    last = None
    while time.time() < deadline:
        try:
            last = api(host, "/api/app/get_schedule/v1", {"offset": 0, "limit": 0}, key=api_key())
            if last.get("code") == 0:
                return {e["title"] for e in last.get("rows", [])}
        except (AssertionError, ValueError) as e:  # not answering yet
            last = str(e)
        time.sleep(2)
    pytest.fail(f"Cronicle was not master within {seconds} s: {last}")


def test_master_within_60_s_after_the_container_is_recreated(host, converge):
    host.check_output(f"docker rm -f {CONTAINER}")
    rc, out = converge(tags=TAGS)
    assert rc == 0, out[-3000:]
    assert changed_count(out) >= 1
    assert {e["title"] for e in EVENTS} <= wait_for_master(host)
