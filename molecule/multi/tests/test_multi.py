"""Two servers: PostgreSQL alone on the db server, the applications on the app server, and the database
reachable from the app server only (the addresses are fixed in molecule.yml)."""
import os
import re
import shlex
import subprocess
import uuid

import pytest
import testinfra

from vixtest.stack import credential, stack_vars
from vixtest.hub import papermill

DB, APP = "vixtract-multi-db", "vixtract-multi-app"
DB_ADDRESS, NETWORK = "172.31.250.10", "vixtract-multi"
# made by molecule/resources/images.sh (psql among its tools)
CLIENT_IMAGE = os.environ.get("VIXTRACT_TEST_CLIENT_IMAGE", "vixtract-test/client:trixie")
# Each test runs once, from the app server; the db server is the `db` fixture
testinfra_hosts = [f"ansible://{APP}"]
VARS = stack_vars()
DATABASE = VARS.get("vixtract_postgres_database", "etl")


@pytest.fixture(scope="module")
def db():
    return testinfra.get_host(f"ansible://{DB}", ansible_inventory=os.environ["MOLECULE_INVENTORY_FILE"])


def containers(server):
    return set(server.check_output("docker ps --format '{{.Names}}'").split())


def test_each_server_runs_its_components_only(host, db):
    assert containers(db) == {"vixtract-postgres"}
    app = containers(host)
    assert {"vixtract-jupyterhub", "vixtract-nginx"} <= app and "vixtract-postgres" not in app
    assert db.run("docker inspect -f '{{.State.Health.Status}}' vixtract-postgres").stdout.strip() == "healthy"


def test_analysts_notebook_on_the_app_server_writes_to_the_db_server(host, db):
    """papermill as anna.k in the Hub on the app server, with her ~/.pgpass and the PG* settings it points to."""
    table = f"multi_probe_{uuid.uuid4().hex[:6]}"
    env = {"PGHOST": DB_ADDRESS, "PGPORT": 5432, "PGDATABASE": DATABASE, "PGUSER": "anna.k"}
    pgpass = host.run("docker exec vixtract-jupyterhub cut -d: -f1 /home/anna.k/.pgpass").stdout.strip()
    assert pgpass == DB_ADDRESS, f"anna.k's .pgpass names {pgpass!r}, not the db server"
    run = papermill(host, "anna.k", [
        "import psycopg\n"
        "with psycopg.connect() as conn:\n"
        f"    conn.execute('CREATE TABLE public.{table} AS SELECT 42 AS answer, host(inet_client_addr()) AS client')\n"
        "    print(conn.info.pgconn.ssl_in_use)\n"], env=env, name="multi_probe")
    assert run.rc == 0, run.stdout + run.stderr
    try:
        rows = db.check_output(f"docker exec -u postgres vixtract-postgres psql -d {DATABASE} -tAc "
                               f"{shlex.quote(f'SELECT answer, client FROM public.{table}')}")
        assert rows.strip() == "42|172.31.250.20", "the row came from the app server's address"
    finally:
        db.run(f"docker exec -u postgres vixtract-postgres psql -d {DATABASE} -c "
               f"{shlex.quote(f'DROP TABLE IF EXISTS public.{table}')}")


def refused_by_pg_hba(message, address):
    """PostgreSQL's words for a connection pg_hba turns away: a reject line, or no line at all."""
    return any(f'{words} for host "{address}"' in message
               for words in ("pg_hba.conf rejects connection", "no pg_hba.conf entry"))


def test_only_the_app_server_may_connect(host, db):
    """A third machine on the same network reaches the port but pg_hba turns it away; the app server's
    address gets in over TLS only."""
    password = credential("postgres/bi_reader")
    probe = ("import psycopg, sys\n"
             "try:\n"
             f"    psycopg.connect(host='{DB_ADDRESS}', dbname='{DATABASE}', user='bi_reader',\n"
             "                    password=sys.stdin.readline().strip(), sslmode=sys.argv[1], connect_timeout=10)\n"
             "    print('connected')\n"
             "except psycopg.OperationalError as e:\n"
             "    print(str(e).strip().splitlines()[-1])\n")
    # from the app server (through its Hub container's network, masqueraded to the app server's address)
    inside = {mode: subprocess.run(
        ["docker", "exec", "-i", APP, "docker", "exec", "-i", "vixtract-jupyterhub",
         "/opt/vixtract/venv/bin/python", "-c", probe, mode], input=password + "\n", capture_output=True,
        text=True, timeout=120, check=False).stdout.strip() for mode in ("require", "disable")}
    assert inside["require"] == "connected", inside
    assert refused_by_pg_hba(inside["disable"], "172.31.250.20") and "no encryption" in inside["disable"], inside
    # from a third machine on the servers' network
    outsider = subprocess.run(
        ["docker", "run", "--rm", "-i", "--network", NETWORK, "--ip", "172.31.250.99", "--entrypoint", "sh",
         CLIENT_IMAGE, "-c",
         f"read pw; PGPASSWORD=$pw PGCONNECT_TIMEOUT=10 psql 'host={DB_ADDRESS} dbname={DATABASE} user=bi_reader "
         "sslmode=require' -c 'SELECT 1' 2>&1"], input=password + "\n", capture_output=True, text=True, timeout=300, check=False)
    assert refused_by_pg_hba(outsider.stdout, "172.31.250.99"), outsider.stdout + outsider.stderr


def test_the_landing_page_gives_bi_tools_the_published_address_port_and_ca_and_they_work(host):
    """What the BI box says is what a client on an allowed address connects with: host, port, database, the
    read-only user and the CA, with the server's certificate verified (sslmode=verify-ca)."""
    html = host.check_output("curl -sk https://127.0.0.1/")
    shown = dict(re.findall(r'<th scope="row">([^<]+)</th><td><code>([^<]*)</code></td>', html))
    assert shown["Host"] == DB_ADDRESS and shown["Port"] == "5432", shown
    assert shown["Database"] == DATABASE and shown["User (read-only)"] == "bi_reader", shown
    assert f"jdbc:postgresql://{DB_ADDRESS}:5432/{DATABASE}?sslmode=verify-ca" in shown["JDBC URL"], shown
    ca = host.check_output("curl -sk https://127.0.0.1/vixtract-postgres-ca.crt")
    assert ca.startswith("-----BEGIN CERTIFICATE-----"), ca[:100]
    probe = ("import psycopg, sys\n"
             "open('/tmp/bi-ca.crt', 'w').write(sys.stdin.read())\n"
             f"c = psycopg.connect(host={shown['Host']!r}, port={shown['Port']!r}, dbname={shown['Database']!r},\n"
             f"    user={shown['User (read-only)']!r}, password=sys.argv[1], sslmode='verify-ca',\n"
             "    sslrootcert='/tmp/bi-ca.crt', connect_timeout=10)\n"
             "print(c.execute('SELECT current_user').fetchone()[0], c.info.pgconn.ssl_in_use)\n")
    answer = subprocess.run(
        ["docker", "exec", "-i", APP, "docker", "exec", "-i", "vixtract-jupyterhub",
         "/opt/vixtract/venv/bin/python", "-c", probe, credential("postgres/bi_reader")],
        input=ca, capture_output=True, text=True, timeout=120, check=False)
    assert answer.stdout.split() == ["bi_reader", "True"], answer.stdout + answer.stderr


def test_landing_page_on_the_app_server(host):
    assert host.run("curl -sk -o /dev/null -w '%{http_code}' https://127.0.0.1/").stdout == "200"
    assert host.run("curl -sk -o /dev/null -w '%{http_code}' https://127.0.0.1/jupyter/hub/login").stdout == "200"
