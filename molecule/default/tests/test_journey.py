"""User journeys across the whole stack, with the clients people really use (issue 7).

- The analyst: a real browser (headless chromium driven through chromedriver's W3C WebDriver API by
  journey_browser.py) opens the landing page by the site's name, follows its JupyterHub link, logs in with the
  Hub's form through nginx and gets JupyterLab. The stack's self-signed CA is trusted in chromium's NSS database,
  so the browser verifies the certificate. Screenshot: $MOLECULE_PROJECT_DIRECTORY/artifacts/journey-jupyterlab.png
  (journey-failure.png when the journey breaks).
- The ETL: the analyst's notebook fetches a CSV over HTTP from a small source on the stack network, transforms it
  with petl and loads it into PostgreSQL (papermill, as anna.k); the same notebook then runs from its Cronicle event.
- The BI tool: those rows are read by the read-only account with psql
  and with the PostgreSQL JDBC driver (BiQuery.java, as DBeaver or Visiology connect), and both are refused a write.
  Nobody grants anything by hand: the reader sees the new table through the default privileges the role sets.

The clients run in vixtract-test/client:trixie (molecule/resources/images.sh builds it): the browser beside the
server on the engine that runs it (as a desktop on the office network), the BI client inside the server on the
stack network, because PostgreSQL is not published outside the server by default.
Whatever cannot run says 'SKIPPED: <test>: <why>'.
"""
import base64
import json
import os
import shlex
import subprocess
import uuid
from pathlib import Path

import pytest

from vixtest.cronicle import run_and_wait
from vixtest.hub import hub, put_file
from vixtest.stack import ARTIFACTS, PROJECT, credential, outer_docker, require_running, server_container, stack_vars

CLIENT_IMAGE = os.environ.get("VIXTRACT_TEST_CLIENT_IMAGE", "vixtract-test/client:trixie")
BROWSER_SCRIPT = Path(__file__).with_name("journey_browser.py")
BI_QUERY = PROJECT / "molecule/resources/client/BiQuery.java"
ANALYST = "anna.k"
VARS = stack_vars()
NETWORK = VARS.get("vixtract_network", "vixtract")
PG_HOST = VARS.get("vixtract_postgres_container", "vixtract-postgres")
PG_PORT = VARS.get("vixtract_postgres_port", 5432)
DATABASE = VARS.get("vixtract_postgres_database", "etl")
READER = VARS.get("vixtract_postgres_reader", "bi_reader")


def require(host, *containers):
    """The components a journey needs run here, and the client image exists: anything missing fails the test."""
    require_running(host, *containers)
    assert outer_docker("image", "inspect", CLIENT_IMAGE, check=False).returncode == 0, \
        f"the client image {CLIENT_IMAGE} is missing (molecule/resources/images.sh builds it)"


# --- the analyst in a browser ---

def site(host):
    """(URL of the landing page, the name users type, TLS mode) as the inventory says."""
    name = VARS.get("vixtract_server_name") or server_container(host)
    mode = VARS.get("vixtract_tls_mode", "selfsigned")
    scheme, port = ("http", VARS.get("nginx_http_port", 80)) if mode == "none" else \
        ("https", VARS.get("nginx_https_port", 443))
    default = 80 if scheme == "http" else 443
    return f"{scheme}://{name}{'' if int(port) == default else f':{port}'}/", name, mode


def server_address(host):
    """(network, IP address) of the server on the outer engine: the default bridge here; the first network with
    an address when the platform is attached to others."""
    networks = json.loads(outer_docker("inspect", "-f", "{{json .NetworkSettings.Networks}}",
                                       server_container(host)).stdout)
    addresses = {net: cfg["IPAddress"] for net, cfg in networks.items() if cfg.get("IPAddress")}
    assert addresses, f"{server_container(host)} has no address on the outer engine: {networks}"
    net = "bridge" if "bridge" in addresses else min(addresses)
    return net, addresses[net]


@pytest.fixture
def browser_client(host):
    """A client container beside the server (on its network), its NSS database trusting the stack's CA when it
    has its own."""
    name = f"vixtract-journey-browser-{uuid.uuid4().hex[:6]}"
    outer_docker("run", "-d", "--rm", "--name", name, "--network", server_address(host)[0], CLIENT_IMAGE,
                 "sleep", "600")
    try:
        outer_docker("cp", str(BROWSER_SCRIPT), f"{name}:/tmp/journey_browser.py")
        if VARS.get("vixtract_tls_mode", "selfsigned") == "selfsigned":
            ca = Path(VARS["vixtract_credentials_dir"]) / "tls/ca.crt"
            outer_docker("cp", str(ca), f"{name}:/tmp/vixtract-ca.crt")
            outer_docker("exec", name, "sh", "-c",
                         "mkdir -p $HOME/.pki/nssdb && certutil -d sql:$HOME/.pki/nssdb -N --empty-password && "
                         "certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n vixtract-ca -i /tmp/vixtract-ca.crt")
        yield name
    finally:
        outer_docker("rm", "-f", name, check=False)


def test_analyst_opens_jupyterlab_from_the_landing_page_in_a_browser(host, request):
    require(host, "vixtract-nginx", "vixtract-jupyterhub")
    client = request.getfixturevalue("browser_client")
    url, name, mode = site(host)
    ip = server_address(host)[1]
    # the password travels in the environment, not on a command line
    env = dict(os.environ, JOURNEY_PASSWORD=credential(f"users/{ANALYST}"))
    run = outer_docker("exec", "-e", "JOURNEY_PASSWORD", client, "python3", "/tmp/journey_browser.py",
                       url, name, ip, ANALYST, check=False, timeout=300, env=env)
    assert run.returncode == 0 and run.stdout.strip(), run.stdout[-2000:] + run.stderr[-2000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    png = base64.b64decode(result.pop("screenshot") or "")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / ("journey-jupyterlab.png" if result["ok"] else "journey-failure.png")
    if png:
        shot.write_bytes(png)
    print(f"{mode} site {url} at {ip}; screenshot {shot}\n" + "\n".join(result["steps"]))
    assert result["ok"], f"{result['error']}\nsteps: {result['steps']}\nlast page: {result['url']} " \
                         f"({result['title']!r}), screenshot {shot}"
    assert result["url"].startswith(f"{url}jupyter/user/{ANALYST}/lab"), result
    assert "JupyterLab" in result["title"], result
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10000, f"not a screenshot: {len(png)} bytes"


# --- the BI tool on the database ---

ETL_EVENT = "vixtract journey: daily sales"
SOURCE = "vixtract-journey-source"
SALES_CSV = "id,region,amount\n1,north,120.50\n2,south,80.00\n3,east,42.25\n"
# what the notebook makes of SALES_CSV, as psql and BiQuery print it
SALES_ROWS = [(1, "North", "120.50"), (2, "South", "80.00"), (3, "East", "42.25")]
ETL_NOTEBOOK = json.dumps({
    "nbformat": 4, "nbformat_minor": 5,
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                 "language_info": {"name": "python"}},
    "cells": [
        {"cell_type": "code", "id": "parameters", "metadata": {"tags": ["parameters"]}, "execution_count": None,
         "outputs": [], "source": "source_url = ''\ntable = 'journey_sales'\n"},
        {"cell_type": "code", "id": "etl", "metadata": {}, "execution_count": None, "outputs": [], "source": (
            "from decimal import Decimal\n"
            "import petl as etl\n"
            "from vixtract import db\n"
            "sales = etl.fromcsv(source_url).convert('id', int).convert('region', str.title)"
            ".convert('amount', Decimal)\n"
            "# the stack's load helper: COPY, a table made from the header on the first run, appended to after\n"
            "count = db.load(sales, f'public.{table}', create=True,\n"
            "                types={'id': 'int', 'amount': 'numeric(10,2)'})\n"
            "print(f'loaded {count} rows into {table}')\n")},
    ]})


def etl_event():
    """The scenario's Cronicle event for the analyst's ETL notebook (molecule.yml declares it)."""
    return next((e for e in VARS.get("cronicle_events", []) if e["title"] == ETL_EVENT), None)


def superuser_sql(host, sql):
    return host.run(f"docker exec -u postgres {PG_HOST} psql -d {DATABASE} -tAc {shlex.quote(sql)}")


@pytest.fixture(scope="module")
def client_in_server(host):
    """The client image in the server's own engine, loaded once (and again when the harness rebuilt it)."""
    wanted = outer_docker("image", "inspect", "-f", "{{.Id}}", CLIENT_IMAGE, check=False).stdout.strip()
    if wanted and host.run(f"docker image inspect -f '{{{{.Id}}}}' {CLIENT_IMAGE}").stdout.strip() != wanted:
        pipe = 'set -o pipefail; docker save "$1" | docker exec -i "$2" docker load'
        load = subprocess.run(["bash", "-c", pipe, "load", CLIENT_IMAGE, server_container(host)], check=False,
                              capture_output=True, text=True, timeout=900)
        assert load.returncode == 0, load.stderr
    return CLIENT_IMAGE


@pytest.fixture(scope="module")
def sales_source(host, client_in_server):
    """The data source the analyst fetches: a CSV over HTTP from a small web server on the stack network."""
    host.run(f"docker rm -f {SOURCE}")
    csv = base64.b64encode(SALES_CSV.encode()).decode()
    serve = 'mkdir -p /srv && echo "$SALES" | base64 -d > /srv/sales.csv && exec python3 -m http.server -d /srv 8000'
    started = host.run(f"docker run -d --rm --name {SOURCE} --network {NETWORK} -e SALES={csv} {client_in_server} "
                       f"sh -c {shlex.quote(serve)}")
    assert started.rc == 0, started.stderr
    url = f"http://{SOURCE}:8000/sales.csv"
    try:
        probe = ("import time, urllib.request\nfor _ in range(30):\n    try:\n"
                 "        urllib.request.urlopen('http://127.0.0.1:8000/sales.csv', timeout=2); break\n"
                 "    except OSError:\n        time.sleep(0.5)\nelse:\n    raise SystemExit('not serving')\n")
        host.check_output(f"docker exec {SOURCE} python3 -c {shlex.quote(probe)}")
        yield url
    finally:
        host.run(f"docker rm -f {SOURCE}")


@pytest.fixture(scope="module")
def analysts_table(host, request):
    """The analyst's ETL: her notebook (~/journey/etl.ipynb, the one the Cronicle event names) fetches the CSV over
    HTTP, transforms it with petl and loads it into PostgreSQL with her ~/.pgpass and PG* settings; run by hand
    with papermill here. Nothing is granted to the reader. The table and the folder go afterwards."""
    require(host, PG_HOST, "vixtract-jupyterhub")
    source = request.getfixturevalue("sales_source")
    event = etl_event()
    table = event["parameters"]["table"] if event else "journey_sales"
    env = {"PGHOST": PG_HOST, "PGPORT": PG_PORT, "PGDATABASE": DATABASE, "PGUSER": ANALYST}
    superuser_sql(host, f"DROP TABLE IF EXISTS public.{table}")
    try:
        hub(host, "mkdir -p journey", user=ANALYST)
        put_file(host, f"/home/{ANALYST}/journey/etl.ipynb", ETL_NOTEBOOK, user=ANALYST)
        run = hub(host, f"papermill --log-output -p source_url {shlex.quote(source)} -p table {table} "
                        "journey/etl.ipynb journey/etl.by-hand.ipynb", user=ANALYST, env=env, check=False)
        assert run.rc == 0, run.stdout + run.stderr
        assert f"loaded {len(SALES_ROWS)} rows into {table}" in run.stdout + run.stderr
        yield table, SALES_ROWS
    finally:
        superuser_sql(host, f"DROP TABLE IF EXISTS public.{table}")
        hub(host, f"rm -rf /home/{ANALYST}/journey", check=False)


@pytest.fixture(scope="module")
def bi_client(host, client_in_server):
    """A container of the client image on the stack network with BiQuery.java in /tmp."""
    server = server_container(host)
    name = f"vixtract-journey-bi-{uuid.uuid4().hex[:6]}"
    started = host.run(f"docker run -d --rm --name {name} --network {NETWORK} {client_in_server} sleep 600")
    assert started.rc == 0, started.stderr
    try:
        source = base64.b64encode(BI_QUERY.read_bytes()).decode()
        host.check_output(f"echo {source} | base64 -d | docker exec -i {name} sh -c 'cat > /tmp/BiQuery.java'")
        # the reader's password as a BI desktop keeps it (psql: ~/.pgpass), through stdin: never on a command line
        password = credential(f"postgres/{READER}")
        save = ("umask 077 && read -r pw && printf '%s\\n' \"$pw\" > /root/reader.password && "
                f"printf '{PG_HOST}:{PG_PORT}:{DATABASE}:{READER}:%s\\n' \"$pw\" > /root/.pgpass")
        saved = subprocess.run(["docker", "exec", "-i", server, "docker", "exec", "-i", name, "sh", "-c", save],
                               input=password + "\n", check=False, capture_output=True, text=True, timeout=60)
        assert saved.returncode == 0, saved.stderr
        yield name
    finally:
        host.run(f"docker rm -f {name}")


def bi(host, client, tool, sql):
    """SQL as the read-only account: psql, or the JDBC driver (BiQuery.java); returns the testinfra result,
    rows as tab-separated lines."""
    if tool == "psql":
        conninfo = f"host={PG_HOST} port={PG_PORT} dbname={DATABASE} user={READER}"
        cmd = f"psql {shlex.quote(conninfo)} -v ON_ERROR_STOP=1 -At -F {shlex.quote(chr(9))} -c {shlex.quote(sql)}"
    else:
        url = f"jdbc:postgresql://{PG_HOST}:{PG_PORT}/{DATABASE}?sslmode=prefer&ApplicationName=journey-bi"
        cmd = (f"java -cp /usr/share/java/postgresql.jar /tmp/BiQuery.java {shlex.quote(url)} {READER} "
               f"\"$(cat /root/reader.password)\" {shlex.quote(sql)}")
    return host.run(f"docker exec {client} sh -c {shlex.quote(cmd)}")


@pytest.fixture
def bi_journey(host, request):
    require(host, PG_HOST, "vixtract-jupyterhub")
    made = request.getfixturevalue("analysts_table")
    assert made, "the analyst's table was not made"
    return made, request.getfixturevalue("bi_client")


@pytest.mark.parametrize("tool", ["psql", "jdbc"])
def test_bi_reader_reads_the_rows_an_analysts_notebook_wrote(host, bi_journey, tool):
    (table, rows), client = bi_journey
    read = bi(host, client, tool, f"SELECT id, region, amount FROM public.{table} ORDER BY id")
    assert read.rc == 0, read.stderr
    assert read.stdout.strip().splitlines() == ["\t".join(map(str, r)) for r in rows], read.stdout
    who = bi(host, client, tool, "SELECT current_user, session_user, pg_has_role(current_user, "
                                 f"{VARS.get('vixtract_postgres_writer', 'etl_writer')!r}, 'member')")
    assert who.stdout.strip() == f"{READER}\t{READER}\tf", who.stdout + who.stderr


@pytest.mark.parametrize("tool", ["psql", "jdbc"])
@pytest.mark.parametrize("write", ["insert", "create"])
def test_bi_reader_is_refused_a_write(host, bi_journey, tool, write):
    (table, rows), client = bi_journey
    sql = {"insert": f"INSERT INTO public.{table} VALUES (99, 'west', 1)",
           "create": f"CREATE TABLE public.bi_was_here_{uuid.uuid4().hex[:6]} (id int)"}[write]
    refused = bi(host, client, tool, sql)
    assert refused.rc != 0, refused.stdout + refused.stderr
    assert "permission denied for " + ("table" if write == "insert" else "schema public") in refused.stderr, \
        refused.stderr
    if tool == "jdbc":
        assert "SQLException: " in refused.stderr and "(SQLState 42501)" in refused.stderr, refused.stderr
    count = bi(host, client, "psql", f"SELECT count(*) FROM public.{table}")
    assert count.stdout.strip() == str(len(rows)), count.stdout + count.stderr


# --- the same notebook on Cronicle's schedule ---

def test_cronicle_runs_the_analysts_notebook_and_new_rows_land(host, request):
    """The event declared in the inventory runs her notebook as her (as its schedule would): the source is fetched
    again, new rows land next to the ones her own run loaded, and the executed copy is kept beside the notebook."""
    require(host, PG_HOST, "vixtract-jupyterhub", "vixtract-cronicle")
    event = etl_event()
    assert event is not None, f"the scenario declares the Cronicle event '{ETL_EVENT}'"

    made = request.getfixturevalue("analysts_table")
    assert made, "the analyst's table was not made"
    table, rows = made
    job = run_and_wait(host, ETL_EVENT)
    assert job["code"] == 0, job
    count = superuser_sql(host, f"SELECT region, count(*) FROM public.{table} GROUP BY region ORDER BY region")
    assert count.stdout.split() == [f"{region}|2" for region in sorted(r[1] for r in rows)], count.stdout
    copies = hub(host, f"ls /home/{ANALYST}/journey/runs/", user=ANALYST).stdout.split()
    executed = [c for c in copies if c.startswith("etl-") and c.endswith(".ipynb")]
    assert executed, f"no executed copy of journey/etl.ipynb in journey/runs: {copies}"
    notebook = json.loads(hub(host, f"cat /home/{ANALYST}/journey/runs/{executed[-1]}", user=ANALYST).stdout)
    assert notebook["metadata"]["papermill"]["parameters"] == event["parameters"]
    # nbformat keeps a stream's text as a string or as a list of lines
    outputs = "".join("".join(o.get("text", "")) for c in notebook["cells"] for o in c.get("outputs", []))
    assert f"loaded {len(rows)} rows into {table}" in outputs, outputs
