"""`site.yml --check --diff` on the deployed stack: a preview finishes, reports the changed settings in each component
(a PostgreSQL setting; a user, an event and an nginx option) and nothing else, so every other task sees the stack
as the inventory has it, applies none of them, and prints no secret."""
import json
import re

from vixtest.cronicle import admin_password, api, schedule
from vixtest.pg import CONTAINER, superuser
from vixtest.stack import changed_count, changed_tasks, roles_run, run_playbook, stack_credentials, stack_vars


def secrets():
    """Every value the credentials directory holds (generated passwords, keys)."""
    values = set()
    for path in stack_credentials().rglob("*"):
        if path.is_file():
            for line in path.read_text(errors="replace").splitlines():
                token = line.strip().split()[0] if line.strip() else ""
                # a secret is one long word (comments and PEM armour lines are not)
                if len(token) >= 12 and not line.startswith(("-----", "#")):
                    values.add(token)
    assert values, "the scenario's credentials directory holds nothing to look for"
    return values


def test_a_previewed_setting_is_reported_and_not_applied(host):
    started = json.loads(host.check_output(f"docker inspect -f '{{{{json .State.StartedAt}}}}' {CONTAINER}"))
    before = superuser(host, "SHOW work_mem").stdout.strip()
    wanted = "9MB" if before != "9MB" else "10MB"
    rc, out = run_playbook({"postgres_settings": {"work_mem": wanted}}, tags=["postgres"], check=True, diff=True)
    assert rc == 0, out[-3000:]
    # PostgreSQL alone, on the base image found in the engine (the machinery's lookup, read-only in check mode too)
    touched = roles_run(out)
    assert "postgres" in touched and touched <= {"vixtract", "machinery", "postgres"}, touched
    assert "Name the stack base image from its build context on the server" in out, out[-3000:]
    assert changed_count(out) >= 1, out[-3000:]
    assert superuser(host, "SHOW work_mem").stdout.strip() == before
    assert json.loads(host.check_output(f"docker inspect -f '{{{{json .State.StartedAt}}}}' {CONTAINER}")) == started


def test_a_preview_reports_a_user_an_event_and_an_nginx_option_in_each_component_and_applies_none(host):
    """One --check --diff run of the whole stack with a new user, an event's schedule moved and an nginx option
    changed: each component that would change says what, no other task reports a change (the rest of the stack
    matches the inventory: a preview of an unchanged stack would report nothing), and nothing of it is on the
    server afterwards."""
    stack = stack_vars()
    events = [dict(e) for e in stack["cronicle_events"]]
    moved = events[0]
    hour = int(moved["schedule"].split()[1])
    moved["schedule"] = f"0 {(hour + 1) % 24} * * *"
    conf = "/opt/vixtract/nginx/conf/nginx.conf"
    body_size = re.search(r"client_max_body_size (\S+);", host.file(conf).content_string).group(1)
    wanted_size = "3g" if body_size != "3g" else "4g"
    newbie = {"name": "preview.newbie", "postgres": True, "cronicle": True}
    nginx_started = host.check_output("docker inspect -f '{{.State.StartedAt}}' vixtract-nginx")
    timing_before = schedule(host)[moved["title"]]["timing"]

    rc, out = run_playbook({"vixtract_users": stack["vixtract_users"] + [newbie], "cronicle_events": events,
                            "nginx_client_max_body_size": wanted_size}, check=True, diff=True)
    assert rc == 0, out[-3000:]
    # these tasks, and no other (PostgreSQL's role, the Hub's account, Cronicle's account and event, nginx's option)
    assert changed_tasks(out) == {
        "vixtract.stack.postgres : Passwords, databases and roles",
        "vixtract.stack.jupyterhub : Apply the stack's users (system accounts, passwords, homes, ~/.pgpass, Hub users)",
        "vixtract.stack.cronicle : Cronicle accounts (admin, and vixtract_users with cronicle true)",
        "vixtract.stack.cronicle : Scheduled notebooks (cronicle_events), their owners' categories and the notebook"
        " plugin",
        "vixtract.stack.nginx : Render the nginx configuration, checked with nginx -t before it replaces the live one",
    }, out[-3000:]
    # reported, component by component
    assert '"preview.newbie: created"' in out, "PostgreSQL's role"
    assert '"preview.newbie: system account"' in out and '"preview.newbie: Hub user"' in out, "JupyterHub's account"
    assert re.search(r'"preview.newbie: [^"]*created', out.split("Cronicle accounts changed", 1)[-1]), "Cronicle's"
    assert re.search(rf'"{re.escape(moved["title"])}": {{\n\s+"timing": {{\n\s+"hours": \[\n-\s+{hour}\n'
                     rf'\+\s+{(hour + 1) % 24}\n', out), "the event's schedule in the diff"
    assert f"-    client_max_body_size {body_size};" in out and f"+    client_max_body_size {wanted_size};" in out
    leaked = [s[:4] + "..." for s in secrets() if s in out]
    assert not leaked, f"secrets in the --check --diff output: {leaked}"
    assert "PRIVATE KEY" not in out
    # and applied nowhere
    assert host.run("docker exec vixtract-jupyterhub getent passwd preview.newbie").rc != 0
    assert not host.file("/var/lib/docker/volumes/vixtract-jupyterhub-home/_data/preview.newbie").exists
    assert superuser(host, "SELECT count(*) FROM pg_roles WHERE rolname = 'preview.newbie'").stdout.strip() == "0"
    admin = api(host, "/api/user/login", {"username": "admin", "password": admin_password()})
    assert admin["code"] == 0, admin
    assert api(host, "/api/user/admin_get_user", {"username": "preview.newbie"},
               session=admin["session_id"])["code"] != 0
    assert api(host, "/api/user/admin_get_user", {"username": "cronicle.tester"},
               session=admin["session_id"])["code"] == 0, "the question can be answered"
    assert schedule(host)[moved["title"]]["timing"] == timing_before
    assert f"client_max_body_size {body_size};" in host.file(conf).content_string
    assert host.check_output("docker inspect -f '{{.State.StartedAt}}' vixtract-nginx") == nginx_started
