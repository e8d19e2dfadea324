"""playbooks/health.yml on two servers: a table per server with the components it runs, each as the software
itself reports it; the run passes while all is well and fails, naming the server and the component, once a
container stops."""
import os
import time

import pytest
import testinfra

from vixtest.health import recap, server_line, table, verdict
from vixtest.stack import run_playbook

DB, APP = "vixtract-multi-db", "vixtract-multi-app"
testinfra_hosts = [f"ansible://{APP}"]


@pytest.fixture(scope="module")
def db():
    return testinfra.get_host(f"ansible://{DB}", ansible_inventory=os.environ["MOLECULE_INVENTORY_FILE"])


def test_each_server_reports_the_components_it_runs_healthy_with_their_own_versions(host, db):
    rc, out = run_playbook(playbook="playbooks/health.yml")
    assert rc == 0, out[-4000:]
    db_rows, db_problems = table(out, DB)
    app_rows, app_problems = table(out, APP)
    assert (db_problems, app_problems) == ("none", "none")
    assert set(db_rows) == {"postgres"}
    assert set(app_rows) == {"jupyterhub", "cronicle", "nginx"}
    for name, words in list(db_rows.items()) + list(app_rows.items()):
        assert words[2:4] == ["running", "healthy"], (name, words)
    # versions as each program prints them, asked here and not through the playbook
    assert db.check_output("docker exec vixtract-postgres postgres --version").split()[2] in db_rows["postgres"][1]
    assert app_rows["jupyterhub"][1] == host.check_output("docker exec vixtract-jupyterhub jupyterhub --version")
    assert app_rows["nginx"][1] == host.run("docker exec vixtract-nginx nginx -v").stderr.split("/")[-1].strip()
    # the db server publishes PostgreSQL with TLS: its certificate's days are counted; the culler runs in the Hub
    assert db_rows["postgres"][6].isdigit() and int(db_rows["postgres"][6]) > 300, db_rows
    assert "running" in " ".join(app_rows["jupyterhub"]).split("idle culler:")[1], app_rows
    assert "master: yes;" in " ".join(app_rows["cronicle"]), app_rows
    # no refresh ran on these servers (molecule/upgrade/tests/test_refresh.py shows a stamp)
    for server, name in ((db, DB), (host, APP)):
        assert not server.file("/opt/vixtract/image-refresh").exists
        assert server_line(out, name, "images refreshed: ") == "never (playbooks/refresh.yml)"
    assert recap(out, DB) == (0, 0, 0) and recap(out, APP) == (0, 0, 0)


def test_a_stopped_container_fails_the_run_naming_its_server_and_component(host, db):
    host.check_output("docker stop vixtract-nginx")
    try:
        rc, out = run_playbook(playbook="playbooks/health.yml")
        assert rc != 0, out[-4000:]
        rows, problems = table(out, APP)
        assert rows["nginx"][2] == "exited" and problems == "1", rows
        assert verdict(out, APP).startswith(f"{APP}: nginx: container vixtract-nginx is exited"), out[-3000:]
        # the other server is well and says so
        assert verdict(out, DB) is None and table(out, DB)[1] == "none"
        assert recap(out, DB)[2] == 0 and recap(out, APP)[2] == 1
    finally:
        host.check_output("docker start vixtract-nginx")
        deadline = time.time() + 120
        while time.time() < deadline and host.check_output(
                "docker inspect -f '{{.State.Health.Status}}' vixtract-nginx") != "healthy":
            time.sleep(2)
    rc, out = run_playbook(playbook="playbooks/health.yml")
    assert rc == 0 and table(out, APP)[1] == "none", out[-3000:]
