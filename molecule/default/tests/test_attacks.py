"""The attack suite: each test is an escalation tried by an unprivileged party through the real interfaces of the
deployed stack, and asserts that it fails (docs/security.md lists the boundaries these tests hold).

The parties: cronicle.tester (a Cronicle user, not an admin), a scheduled job (a notebook run by Cronicle), anna.k
(a JupyterHub admin who also publishes to the shared library folder), bi (an analyst), and people removed from
the inventory. Each test sets up the state it needs and puts the inventory back when it changed it."""
import base64
import json
import shlex
import time
import uuid


from vixtest.cronicle import CONTAINER as CRONICLE, api, login, schedule, wait_job
from vixtest.hub import hub, put_file, session
from vixtest.pg import CONTAINER as POSTGRES, image as postgres_image
from vixtest.stack import credential, run_playbook, stack_credentials, stack_vars

VARS = stack_vars()
USERS = VARS["vixtract_users"]
TESTER, ADMIN, ANALYST = "cronicle.tester", "anna.k", "bi"
TESTER_EVENT = "vixtract test: load rows"      # cronicle.tester's event (molecule.yml)
ADMIN_EVENT = "vixtract journey: daily sales"  # anna.k's event
TAGS = ["jupyterhub", "cronicle"]


def password(user):
    return credential(f"users/{user}")


def cronicle_session(host, user):
    answer = login(host, user, password(user))
    assert answer["code"] == 0, answer
    return answer["session_id"]


def marker_anywhere(host, marker):
    """Files named after MARKER anywhere in the Hub's and Cronicle's containers (and who owns them)."""
    found = []
    for container in ("vixtract-jupyterhub", CRONICLE):
        out = host.run(f"docker exec {container} find / -xdev -name '*{marker}*' -printf '%u %p\\n'")
        found += [f"{container}: {line}" for line in out.stdout.splitlines() if line.strip()]
    return found


# --- Cronicle: no user runs arbitrary commands, nobody becomes root, jobs run as their owner only ---

def test_cronicle_runs_as_an_unprivileged_user_and_only_the_notebook_plugin_exists(host):
    # Cronicle names its process "Cronicle Server"; it is PID 1 of its container
    assert host.check_output(f"docker exec {CRONICLE} ps -o user= -p 1").strip() == "cronicle"
    # Sampled over more than one health-check interval (15 s): the engine's check runs as the image's user too.
    # Root only on the way down, which a sample can catch under load: the engine starting the check (runc init),
    # the check's setpriv before it drops to cronicle, and a job's runner before it drops to the notebook's owner
    # (sudo's command line, then the script's own: an earlier test's job may still run). Any other root process
    # fails. (docker top needs the pid column to tell the container's processes apart)
    dropping = {"runc init", "/usr/bin/sudo -n /usr/local/sbin/vixtract-run-notebook",
                "/usr/bin/python3 -IS /usr/local/sbin/vixtract-run-notebook"}
    to_cronicle = "setpriv --reuid=cronicle --regid=cronicle --init-groups --inh-caps=-all -- "
    seen, root = 0, set()
    for _sample in range(40):
        for line in host.check_output(f"docker top {CRONICLE} -o pid,user,args").splitlines()[1:]:
            _pid, user, args = (line.split(None, 2) + [""])[:3]
            seen += 1
            if user in ("root", "0") and args not in dropping and not args.startswith(to_cronicle):
                root.add(args)
        time.sleep(0.4)
    assert seen and not root, root
    plugins = api(host, "/api/app/get_plugins/v1", {"offset": 0, "limit": 0},
                  session=cronicle_session(host, "cronicle.boss"))
    assert [p["id"] for p in plugins["rows"]] == ["vixtract_notebook"], plugins


def test_a_cronicle_user_cannot_create_or_edit_an_event_that_runs_a_command(host):
    sid = cronicle_session(host, TESTER)
    mark = f"pwned-{uuid.uuid4().hex[:8]}"
    created = api(host, "/api/app/create_event/v1", {
        "title": "attack", "enabled": 1, "category": "general", "plugin": "shellplug", "target": "maingrp",
        "timing": {"minutes": [0]}, "params": {"script": f"#!/bin/sh\nid -u > /tmp/{mark}\n"}}, session=sid)
    assert created["code"] != 0, created
    own = schedule(host)[TESTER_EVENT]
    edited = api(host, "/api/app/update_event/v1", {"id": own["id"], "plugin": "shellplug", "category": "general",
                                                    "params": {"script": f"#!/bin/sh\nid -u > /tmp/{mark}\n"}},
                 session=sid)
    assert edited["code"] != 0, edited
    assert schedule(host)[TESTER_EVENT]["plugin"] == "vixtract_notebook"
    assert marker_anywhere(host, mark) == []


def test_a_cronicle_user_cannot_override_a_run_or_run_another_users_event(host):
    sid = cronicle_session(host, TESTER)
    events = schedule(host)
    mark = f"pwned-{uuid.uuid4().hex[:8]}"
    # another user's event: refused outright
    other = api(host, "/api/app/run_event/v1", {"id": events[ADMIN_EVENT]["id"]}, session=sid)
    assert other["code"] != 0, other
    # their own event with a different plugin, parameters, environment and uid: runs as declared, or not at all
    own = api(host, "/api/app/run_event/v1", {
        "id": events[TESTER_EVENT]["id"], "plugin": "shellplug", "uid": 0, "env": {"LD_PRELOAD": "/x"},
        "params": {"script": f"#!/bin/sh\nid -u > /tmp/{mark}\n", "notebook": "../anna.k/journey/etl.ipynb"}},
        session=sid)
    if own["code"] == 0:
        job = wait_job(host, own["ids"][0])
        assert job["plugin"] == "vixtract_notebook" and job["params"]["notebook"] == events[TESTER_EVENT][
            "params"]["notebook"], job
    assert marker_anywhere(host, mark) == []


def job_probe(host, user, code):
    """Runs CODE as a notebook of USER's declared event through Cronicle; returns what the notebook wrote."""
    ev = next(e for e in VARS["cronicle_events"] if e["user"] == user)
    nb = {"cells": [{"cell_type": "code", "execution_count": None, "id": "p", "metadata": {}, "outputs": [],
                     "source": code}], "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                   "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    folder = ev["notebook"].rsplit("/", 1)[0]
    hub(host, f"mkdir -p /home/{user}/{folder} && rm -f /home/{user}/{folder}/probe.json", user=user)
    put_file(host, f"/home/{user}/{ev['notebook']}", json.dumps(nb), user=user)
    started = api(host, "/api/app/run_event/v1", {"title": ev["title"]}, session=cronicle_session(host, "cronicle.boss"))
    assert started["code"] == 0, started
    job = wait_job(host, started["ids"][0])
    assert job["code"] == 0, job
    return json.loads(hub(host, f"cat /home/{user}/{folder}/probe.json", user=user).stdout)


PROBE = """
import json, os
def tried(path):
    try:
        if os.path.isdir(path):
            os.listdir(path)
        else:
            open(path).read(1)
        return "read"
    except OSError as e:
        return type(e).__name__
paths = ["/opt/cronicle", "/opt/cronicle/data", "/opt/cronicle/logs", "/opt/cronicle/conf/config.json",
         "/opt/cronicle/queue", "/etc/cronicle/config.json", "/run/secrets/cronicle", "/var/lib/extrausers/shadow",
         "/home/anna.k", "/home/anna.k/.pgpass"]
out = {p: tried(p) for p in paths}
out["uid"] = os.getuid()
import subprocess
try:
    out["sudo"] = subprocess.run(["sudo", "-n", "/usr/local/sbin/vixtract-run-notebook"], input="{}", text=True,
                                 capture_output=True).returncode
except OSError:
    out["sudo"] = "no sudo"
json.dump(out, open("probe.json", "w"))
"""


def test_a_scheduled_job_reads_neither_cronicles_data_nor_secrets_nor_other_homes(host):
    seen = probe = job_probe(host, TESTER, PROBE)
    assert probe.pop("uid") == int(hub(host, f"id -u {TESTER}").stdout), "the job runs as its owner"
    assert probe.pop("sudo") != 0, "the job's owner may not use sudo"
    assert all(outcome == "PermissionError" for outcome in probe.values()), seen


def test_the_notebook_runner_refuses_what_cronicle_never_sends_it(host):
    """vixtract-run-notebook as cronicle (what a Cronicle admin's own plugin could do): never root, never a system
    account, never a path outside the owner's home."""
    cases = {
        "root's category": {"category": "vxu_root", "params": {"notebook": "x.ipynb"}},
        "a system account": {"category": "vxu_mail", "params": {"notebook": "x.ipynb"}},
        "no user's category": {"category": "general", "params": {"notebook": "x.ipynb"}},
        "outside the home": {"category": "vxu_cronicle_dtester", "params": {"notebook": "../anna.k/journey/etl.ipynb"}},
        "an absolute path": {"category": "vxu_cronicle_dtester", "params": {"notebook": "/etc/shadow"}},
    }
    for case, job in cases.items():
        encoded = base64.b64encode(json.dumps(dict(job, id="attack")).encode()).decode()
        out = host.run(f"echo {encoded} | base64 -d | docker exec -i -u cronicle {CRONICLE} "
                       "/usr/bin/sudo -n /usr/local/sbin/vixtract-run-notebook")
        result = json.loads(out.stdout.strip().splitlines()[-1])
        assert out.rc != 0 and result["code"] != 0, (case, out.stdout, out.stderr)
    # and nothing but the runner, and the runner with no arguments
    assert host.run(f"docker exec -u cronicle {CRONICLE} sudo -n /bin/id").rc != 0
    assert host.run(f"docker exec -u cronicle {CRONICLE} sudo -n /usr/local/sbin/vixtract-run-notebook x").rc != 0


def test_cronicle_answers_no_other_origin_and_login_is_rate_limited(host):
    ca = "/tmp/vixtract-attack-ca.crt"
    host.run(f"cat > {ca} <<'EOF'\n{(stack_credentials() / 'tls/ca.crt').read_text()}\nEOF")
    name = VARS.get("vixtract_server_name") or host.check_output("hostname")
    curl = f"curl -sS --max-time 20 --resolve {name}:443:127.0.0.1 --cacert {ca}"
    headers = host.check_output(f"{curl} -D - -o /dev/null -H 'Origin: https://evil.example' "
                                f"https://{name}/api/app/ping/v1").lower()
    assert "access-control-allow-origin" not in headers, headers
    preflight = host.check_output(f"{curl} -o /dev/null -w '%{{http_code}}' -X OPTIONS "
                                  f"-H 'Origin: https://evil.example' https://{name}/api/user/login")
    assert preflight == "405"
    codes = [host.check_output(f"{curl} -o /dev/null -w '%{{http_code}}' -H 'Content-Type: application/json' "
                               f"-d '{{\"username\": \"nobody.here\", \"password\": \"wrong\"}}' "
                               f"https://{name}/api/user/login") for _attempt in range(15)]
    assert "429" in codes, codes
    time.sleep(7)  # the 10 r/m budget refills: the tests after this one log in again


# --- JupyterHub: admins manage, they do not enter; nobody becomes root; the shared library starts nothing ---

def test_a_jupyterhub_admin_cannot_open_another_users_server_mint_their_token_or_become_root(host):
    session(host, "start", ANALYST, password(ANALYST))
    tried = session(host, "reach", ADMIN, password(ADMIN), ANALYST)
    assert tried["ok"] and tried["admin"] is False and "vixtract-hub-admin" in tried["roles"], tried
    assert tried["admin_page"] == 200 and tried["read_other"] == 200, tried
    assert tried["open_other_server"] == 403, tried
    assert tried["token_for_other"] == 403 and tried["rename_to_root"] == 403 and tried["make_admin"] == 403, tried


STARTUP_NAMES = ["sitecustomize", "usercustomize", "apport_python_hook"]


def test_a_start_up_module_planted_in_the_shared_library_never_runs(host, converge):
    """A publisher (anna.k) plants modules Python may import by itself at start-up, and a .pth file; the Hub
    restarts, the stack is re-applied and another user runs Python: none of them ever runs, as root or anyone."""
    mark = f"planted-{uuid.uuid4().hex[:8]}"
    payload = f"import os; open('/tmp/{mark}-' + str(os.getuid()), 'w').close()\n"
    for name in STARTUP_NAMES:
        put_file(host, f"/opt/vixtract/lib/{name}.py", payload, user=ADMIN)
    put_file(host, "/opt/vixtract/lib/zz-planted.pth", payload, user=ADMIN)
    try:
        host.check_output("docker restart vixtract-jupyterhub")
        rc, out = converge(tags=TAGS)
        assert rc == 0, out[-3000:]
        hub(host, "python -c 'import json'", user=ANALYST)
        hub(host, "/opt/vixtract/venv/bin/python -c 'import json'")  # root's interpreter
        assert session(host, "run", ANALYST, password(ANALYST), "print(1 + 1)")["stdout"].strip() == "2"
        assert marker_anywhere(host, mark) == []
    finally:
        hub(host, "rm -f " + " ".join(f"/opt/vixtract/lib/{n}.py" for n in STARTUP_NAMES)
            + " /opt/vixtract/lib/zz-planted.pth", user=ADMIN)


def test_the_hubs_database_and_secrets_are_not_readable_by_users(host):
    for path in ("/srv/jupyterhub/jupyterhub.sqlite", "/srv/jupyterhub/jupyterhub_cookie_secret",
                 "/etc/jupyterhub/secrets.json"):
        assert hub(host, f"cat {path}", user=ANALYST, check=False).rc != 0, path
    assert hub(host, "stat -c %a /srv/jupyterhub/jupyterhub.sqlite").stdout.strip() == "600"


def test_a_pgpass_swapped_for_a_link_is_replaced_not_followed(host, converge):
    target = "/var/lib/extrausers/etc/shadow"
    before = hub(host, f"stat -c '%u %a %s' {target}").stdout.strip()
    hub(host, "rm -f ~/.pgpass && ln -s /var/lib/extrausers/etc/shadow ~/.pgpass", user=ADMIN)
    rc, out = converge(tags=["jupyterhub"])
    assert rc == 0, out[-3000:]
    assert hub(host, f"stat -c '%u %a %s' {target}").stdout.strip() == before, "root followed the link"
    assert hub(host, f"stat -c '%F %U %a' /home/{ADMIN}/.pgpass").stdout.strip() == "regular file anna.k 600"
    assert f":{ADMIN}:" in hub(host, "cat ~/.pgpass", user=ADMIN).stdout


# --- PostgreSQL: the superuser is not reachable from the network ---

def test_the_superuser_is_refused_from_the_stack_network_even_with_its_password(host):
    out = host.run(f"docker run --rm --network vixtract --entrypoint psql -e PGPASSWORD={credential('postgres/superuser')} "
                   f"{postgres_image(host)} -h {POSTGRES} -U postgres -d etl -c 'SELECT 1'")
    assert out.rc != 0 and "pg_hba.conf rejects connection" in out.stderr, out.stderr


# --- The inventory is authoritative: a user left out loses every access; postgres false revokes LOGIN ---

def reachable(host, user, pw, pg_pw):
    """Which doors USER's credentials still open: the Hub, a system login, PostgreSQL, Cronicle."""
    sql = host.run(f"docker run --rm --network vixtract --entrypoint psql -e PGPASSWORD={shlex.quote(pg_pw)} "
                   f"{postgres_image(host)} -h {POSTGRES} -U {user} -d etl -tAc 'SELECT 1'")
    return {"hub": session(host, "login", user, pw)["ok"],
            "account": hub(host, f"getent passwd {user}", check=False).rc == 0,
            "postgres": sql.rc == 0,
            "cronicle": login(host, user, pw)["code"] == 0}


def test_a_user_removed_from_the_list_loses_every_access_and_postgres_false_revokes_login(host, converge):
    run = uuid.uuid4().hex[:6]
    name, keeper_name = f"leaver.{run}", f"keeper.{run}"
    leaver = {"name": name, "postgres": True, "cronicle": True}
    keeper = {"name": keeper_name, "postgres": True}
    tags = ["postgres", "jupyterhub", "cronicle"]
    rc, out = converge({"vixtract_users": USERS + [leaver, keeper]}, tags=tags)
    assert rc == 0, out[-3000:]
    pw, pg_pw = password(name), credential(f"postgres/users/{name}")
    assert reachable(host, name, pw, pg_pw) == {"hub": True, "account": True, "postgres": True, "cronicle": True}
    hub(host, "echo kept > ~/work.txt", user=name)
    try:
        # the leaver is simply deleted from the list; the keeper stays, with postgres false
        rc, out = converge({"vixtract_users": USERS + [dict(keeper, postgres=False)]}, tags=tags)
        assert rc == 0, out[-3000:]
        assert reachable(host, name, pw, pg_pw) == {"hub": False, "account": False, "postgres": False,
                                                    "cronicle": False}
        archived = hub(host, f"cat /home/.archive/{name}-*/work.txt").stdout.strip()
        assert archived == "kept", "the home is archived, not deleted"
        keeper_login = host.run(
            f"docker run --rm --network vixtract --entrypoint psql "
            f"-e PGPASSWORD={shlex.quote(credential(f'postgres/users/{keeper_name}'))} {postgres_image(host)} "
            f"-h {POSTGRES} -U {keeper_name} -d etl -tAc 'SELECT 1'")
        assert keeper_login.rc != 0 and "not permitted to log in" in keeper_login.stderr, keeper_login.stderr
    finally:
        rc, out = converge({"vixtract_users": USERS + [dict(keeper, state="absent")]}, tags=tags)
        assert rc == 0, out[-3000:]


# --- No secret in --diff output ---

def test_diff_output_shows_no_secret(host, converge):
    """A re-apply that has to put the TLS key and the Cronicle configuration back, with --diff."""
    host.check_output("rm -f /opt/vixtract/nginx/tls/server.key && echo '{}' > /opt/vixtract/cronicle/config.json")
    rc, out = run_playbook(tags=["nginx", "jupyterhub", "cronicle"], diff=True)
    assert rc == 0, out[-3000:]
    key = (stack_credentials() / "tls" / host.check_output("hostname") / "server.key").read_text()
    secrets = [key.strip().splitlines()[1], credential("cronicle/secret_key"), credential("cronicle/api_key")]
    assert "PRIVATE KEY" not in out
    assert not [s for s in secrets if s in out], "a secret is in the --diff output"
