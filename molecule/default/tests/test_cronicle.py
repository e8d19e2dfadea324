"""The promises of the cronicle role, checked on the server the scenario deployed.

Cronicle comes from the release archive the dependency step found (molecule/resources/release_archives.sh);
a scenario without Cronicle fails these tests, it never skips them.
"""
import base64
import json
import threading
from datetime import datetime
from pathlib import Path

import pytest

from vixtest.cronicle import CONTAINER, admin_password, api, first_master, run_and_wait, schedule, sh
from vixtest.stack import changed_count, credential, roles_run, stack_vars

VARS = stack_vars()
EVENTS = VARS.get("cronicle_events", [])
USERS = VARS.get("vixtract_users", [])
# Re-apply only what these tests change: Cronicle (alone: it builds on the image the Hub runs)
TAGS = ["cronicle"]


# The Cronicle timing each declared schedule means, worked out by hand from cron's rules (man 5 crontab):
# a unit Cronicle should not restrict is left out.
EXPECTED_TIMING = {
    "0 3 * * *": {"hours": [3], "minutes": [0]},
    "30 4 * * 1-5": {"hours": [4], "minutes": [30], "weekdays": [1, 2, 3, 4, 5]},
    "0 6 * * *": {"hours": [6], "minutes": [0]},
    "15 5 * * *": {"hours": [5], "minutes": [15]},
}


# Each user's Cronicle category, worked out by hand from the rule ('vxu_' + the name, '.' as '_d', '-' as '_h',
# '_' as '__')
OWN_CATEGORY = {"anna.k": "vxu_anna_dk", "cronicle.tester": "vxu_cronicle_dtester",
                "cronicle.boss": "vxu_cronicle_dboss", "cronicle.newbie": "vxu_cronicle_dnewbie"}


@pytest.fixture(autouse=True)
def cronicle_container(host):
    assert host.run(f"docker inspect {CONTAINER}").rc == 0, f"{CONTAINER} is not on this server"


def started_at(host):
    return host.check_output(f"docker inspect -f '{{{{.State.StartedAt}}}}' {CONTAINER}")


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


def account_uid(host, user):
    """The owner's uid as the stack's accounts say (getent in the Hub container, which manages them)."""
    entry = host.run(f"docker exec vixtract-jupyterhub getent passwd {user}")
    assert entry.rc == 0, f"{user} has no account in the Hub container"
    return int(entry.stdout.split(":")[2])


def prepare_home(host, ev, content, extra=""):
    """The notebook in its owner's home (which the jupyterhub role made: a missing home is a failure)."""
    user, nb = ev["user"], ev["notebook"]
    folder = str(Path(nb).parent)
    result = sh(host, f"""set -e
home=/home/{user}
[ -d "$home" ] || {{ echo "$home is missing" >&2; exit 1; }}
owner=$(stat -c %u:%g "$home")
mkdir -p "$home/{folder}"
echo {base64.b64encode(content.encode()).decode()} | base64 -d > "$home/{nb}"
rm -f "$home/{folder}/ran-as.txt"
{extra}
chown -R "$owner" "$home/{folder}"
stat -c %u "$home"
""")
    assert result.rc == 0, result.stderr


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
            # runs and watches the events of their own category, as they are; creates and edits none
            assert {k: v for k, v in privileges.items() if v} == {
                "run_events": 1, "abort_events": 1, "job_read_only": 1, "cat_limit": 1,
                "cat_" + OWN_CATEGORY[user["name"]]: 1}, privileges


def test_declared_events_exist_with_the_declared_timing_in_their_owners_category(host):
    events = schedule(host)
    assert EVENTS, "the scenario declares cronicle_events"
    for declared in EVENTS:
        assert declared["title"] in events, declared["title"]
        assert events[declared["title"]]["timing"] == EXPECTED_TIMING[declared["schedule"]]
        assert events[declared["title"]]["enabled"] == 1
        assert events[declared["title"]]["plugin"] == "vixtract_notebook"
        assert events[declared["title"]]["category"] == OWN_CATEGORY[declared["user"]]
        assert events[declared["title"]]["params"]["notebook"] == declared["notebook"]
        # created through a session: no event carries the automation API key
        assert "api_key" not in events[declared["title"]]


def test_a_run_executes_the_notebook_as_its_owner_and_keeps_the_executed_copy(host):
    ev = event("vixtract test: load rows")
    prepare_home(host, ev, LOAD_NOTEBOOK)
    uid = account_uid(host, ev["user"])
    assert uid >= 2000, "stack accounts have uids from 2000"
    job = run_and_wait(host, ev["title"])
    assert job["code"] == 0, job
    home, folder = f"/home/{ev['user']}", str(Path(ev["notebook"]).parent)
    ran = sh(host, f"cat {home}/{folder}/ran-as.txt").stdout.split()
    assert ran == [str(uid), str(ev["parameters"]["rows"])], "the notebook ran as its owner with the parameters"
    copies = sh(host, f"find {home}/{folder}/runs -name 'load-*.ipynb' -newer {home}/{ev['notebook']} "
                      "-printf '%u %p\\n'").stdout.split("\n")
    assert copies[0], "an executed copy is kept"
    executed = json.loads(sh(host, f"cat {copies[0].split()[1]}").stdout)
    assert executed["metadata"]["papermill"]["parameters"] == {"rows": ev["parameters"]["rows"]}


def test_a_scheduled_notebook_inserts_rows_into_postgresql(host):
    assert has_postgres(host), "the scenario runs PostgreSQL on this server"
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
    # what the notebook said stays in the owner's home: the job log (readable by every Cronicle user) has none of it
    folder = f"/home/{ev['user']}/{Path(ev['notebook']).parent}/runs"
    assert "vixtract deliberate failure" in sh(host, f"cat {folder}/fail-*.ipynb.log").stdout
    assert "vixtract deliberate failure" not in sh(host, f"cat /opt/cronicle/logs/jobs/{job['id']}*.log").stdout
    assert "vixtract deliberate failure" not in job["description"]


def test_schedule_changes_and_user_changes_apply_through_the_api_without_a_restart(host, converge):
    before = started_at(host)
    original = schedule(host)
    first, second = EVENTS[0], EVENTS[1]
    changed_events = [dict(first, schedule="15 5 * * *")] + EVENTS[2:]
    newbie = {"name": "cronicle.newbie", "cronicle": True}
    try:
        rc, out = converge({"cronicle_events": changed_events, "vixtract_users": USERS + [newbie]}, tags=TAGS)
        assert rc == 0, out[-3000:]
        # Cronicle alone: not the Hub it builds on, not the engine's role (the machinery loads or builds its image)
        touched = roles_run(out)
        assert "cronicle" in touched and touched <= {"vixtract", "machinery", "cronicle"}, touched
        events = schedule(host)
        assert events[first["title"]]["timing"] == EXPECTED_TIMING["15 5 * * *"]
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
    assert events[first["title"]]["timing"] == EXPECTED_TIMING[first["schedule"]]
    assert api(host, "/api/user/login", {"username": "cronicle.newbie", "password": "x"})["code"] != 0
    users = api(host, "/api/user/login", {"username": "admin", "password": admin_password()})
    gone = api(host, "/api/user/admin_get_user", {"username": "cronicle.newbie"}, session=users["session_id"])
    assert gone["code"] != 0, "a user with state absent is removed"
    assert started_at(host) == before, "Cronicle was not restarted"


def started_epoch(host):
    """When the Cronicle container last started, by the server's clock (the same as this machine's)."""
    stamp = started_at(host)  # e.g. 2026-12-02T04:13:01.123456789Z
    return datetime.fromisoformat(stamp[:26].rstrip("Z") + "+00:00").timestamp()


def test_master_within_60_s_after_the_container_is_recreated(host, converge):
    """Measured from the new container's start to the first answer as master, polled while the role runs."""
    host.check_output(f"docker rm -f {CONTAINER}")
    result = {}
    worker = threading.Thread(target=lambda: result.update(zip(("rc", "out"), converge(tags=TAGS))))
    worker.start()
    master_at, titles = first_master(host, 900)
    worker.join()
    assert result["rc"] == 0, result["out"][-3000:]
    assert changed_count(result["out"]) >= 1
    took = master_at - started_epoch(host)
    assert 0 <= took <= 60, f"Cronicle answered as master {took:.0f} s after its container started"
    assert {e["title"] for e in EVENTS} <= titles


def test_links_and_the_live_log_socket_use_the_sites_https_origin(host):
    """TLS is on here (selfsigned) and vixtract_server_name is the inventory name: Cronicle's links and its live job
    log socket are on https://NAME (a browser refuses a plain ws:// socket from an HTTPS page)."""
    assert stack_vars()["vixtract_tls_mode"] == "selfsigned"
    config = json.loads(host.file("/opt/vixtract/cronicle/config.json").content_string)
    name = host.backend.get_hostname()
    assert config["custom_live_log_socket_url"] == f"https://{name}"
    assert config["base_app_url"] == f"https://{name}/cronicle"


def test_the_container_mounts_its_volumes_and_the_hubs_each_once(host):
    """Cronicle's data and logs, and the Hub's homes, library and accounts (read-only) under the Hub's own names."""
    mounts = json.loads(host.check_output(f"docker inspect -f '{{{{json .Mounts}}}}' {CONTAINER}"))
    volumes = {m["Name"]: (m["Destination"], m["RW"]) for m in mounts if m["Type"] == "volume"}
    assert volumes == {"vixtract-cronicle-data": ("/opt/cronicle/data", True),
                       "vixtract-cronicle-logs": ("/opt/cronicle/logs", True),
                       "vixtract-jupyterhub-home": ("/home", True),
                       "vixtract-jupyterhub-lib": ("/opt/vixtract/lib", True),
                       "vixtract-jupyterhub-users": ("/var/lib/extrausers", False)}


def test_node_runs_cronicle_and_npm_is_gone(host):
    """npm (vixtract_npm_version) only installs Cronicle's modules, and the Hub's configurable-http-proxy, while each
    image is built, and is gone at the end of that layer: no npm in either container, nor its unpacked release."""
    assert host.run(f"docker exec {CONTAINER} node --version").rc == 0
    for container in (CONTAINER, "vixtract-jupyterhub"):
        assert host.run(f"docker exec {container} sh -c 'command -v npm'").rc != 0, container
        leftovers = host.run(f"docker exec {container} sh -c 'ls -d /tmp/npm /tmp/npm.tgz /usr/lib/node_modules/npm "
                             "/usr/local/lib/node_modules/npm /usr/share/nodejs/npm 2>/dev/null'")
        assert leftovers.stdout.strip() == "", (container, leftovers.stdout)
