"""Components switched off (<role>_enabled: false) on both servers are removed the way playbooks/uninstall.yml
removes them, and their data stays; playbooks/health.yml leaves them out; switched on again, they come back with
that data. Runs after the scenario's other modules (file order), and leaves the stack as it found it."""
import os
import shlex
import uuid

import pytest
import testinfra

from vixtest.stack import run_playbook, stack_vars

DB, APP = "vixtract-multi-db", "vixtract-multi-app"
testinfra_hosts = [f"ansible://{APP}"]
DATABASE = stack_vars().get("vixtract_postgres_database", "etl")
OFF = {"postgres_enabled": False, "jupyterhub_enabled": False, "cronicle_enabled": False, "nginx_enabled": False}
APP_CONTAINERS = {"vixtract-jupyterhub", "vixtract-cronicle", "vixtract-nginx"}
APP_IMAGES = {"vixtract/jupyterhub", "vixtract/cronicle", "vixtract/nginx"}
APP_VOLUMES = {"vixtract-jupyterhub-home", "vixtract-jupyterhub-lib", "vixtract-jupyterhub-users",
               "vixtract-jupyterhub-data", "vixtract-cronicle-data", "vixtract-cronicle-logs"}
CERTIFICATE = "/opt/vixtract/nginx/tls/server.crt"


@pytest.fixture(scope="module")
def db():
    return testinfra.get_host(f"ansible://{DB}", ansible_inventory=os.environ["MOLECULE_INVENTORY_FILE"])


def names(server, command):
    return set(server.check_output(command).split())


def psql(db, sql):
    return db.check_output(f"docker exec -u postgres vixtract-postgres psql -d {DATABASE} -tAc {shlex.quote(sql)}")


def test_switched_off_components_go_keep_their_data_and_come_back_with_it(host, db):
    table = f"switch_probe_{uuid.uuid4().hex[:6]}"
    psql(db, f"CREATE TABLE public.{table} AS SELECT 7 AS kept")
    host.check_output("docker exec vixtract-jupyterhub sh -c 'echo kept > /home/anna.k/switch-probe.txt'")
    certificate = host.file(CERTIFICATE).content

    rc, out = run_playbook(OFF)
    assert rc == 0, out[-3000:]
    assert not names(host, "docker ps -a --format '{{.Names}}'") & APP_CONTAINERS
    assert "vixtract-postgres" not in names(db, "docker ps -a --format '{{.Names}}'")
    assert not names(host, "docker images --format '{{.Repository}}'") & APP_IMAGES
    assert "vixtract/postgres" not in names(db, "docker images --format '{{.Repository}}'")
    assert APP_VOLUMES <= names(host, "docker volume ls -q")
    assert "vixtract-postgres-data" in names(db, "docker volume ls -q")
    assert host.file(CERTIFICATE).content == certificate
    assert not host.file("/opt/vixtract/nginx/conf").exists

    # the health report lists no component it would have to fail on
    rc, out = run_playbook(OFF, playbook="playbooks/health.yml")
    assert rc == 0, out[-3000:]
    assert "problems: none" in out, out[-3000:]

    rc, out = run_playbook()
    assert rc == 0, out[-3000:]
    assert APP_CONTAINERS <= names(host, "docker ps --format '{{.Names}}'")
    assert "vixtract-postgres" in names(db, "docker ps --format '{{.Names}}'")
    assert psql(db, f"SELECT kept FROM public.{table}").strip() == "7"
    psql(db, f"DROP TABLE public.{table}")
    assert host.check_output("docker exec vixtract-jupyterhub cat /home/anna.k/switch-probe.txt") == "kept"
    host.check_output("docker exec vixtract-jupyterhub rm /home/anna.k/switch-probe.txt")
    assert host.file(CERTIFICATE).content == certificate, "nginx's certificate was replaced"
    # the landing page answers again, over HTTPS
    assert host.run("curl -sfk -o /dev/null https://127.0.0.1/").rc == 0
