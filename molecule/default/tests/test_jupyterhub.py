"""The promises of the jupyterhub role, checked on the server the scenario deployed.

Users come from the scenario's vixtract_users (anna.k: admin + postgres; bi: plain); their passwords were
generated into the scenario's credentials directory."""
import json
import shlex

from vixtest.hub import HUB, can_log_in, hub, papermill, put_file, server_env, session
from vixtest.stack import changed_count, credential, stack_vars

ANNA = "anna.k"


def inspect(host, name):
    return json.loads(host.check_output(f"docker inspect {name}"))[0]


def hub_image(host):
    """The image the Hub container runs: vixtract/jupyterhub tagged by a digest of its inputs."""
    return inspect(host, HUB)["Config"]["Image"]


def test_image_is_built_on_the_server_from_the_stack_base(host):
    assert hub_image(host).startswith("vixtract/jupyterhub:")
    image = inspect(host, hub_image(host))
    bases = host.check_output("docker images vixtract/base --format '{{.Repository}}:{{.Tag}}'").split()
    base = inspect(host, bases[0])
    assert set(base["RootFS"]["Layers"]) <= set(image["RootFS"]["Layers"])
    versions = hub(host, "/opt/vixtract/venv/bin/python -c 'import jupyterhub, jupyterlab, ldapauthenticator, "
                         "papermill, petl, psycopg, pandas, ipykernel, jupyterhub_idle_culler; "
                         "print(jupyterhub.__version__, jupyterlab.__version__)'").stdout.split()
    assert versions[0].startswith("6.") and versions[1].startswith("4."), versions
    assert hub(host, "configurable-http-proxy --version").stdout.strip()


def test_container_runs_healthy_on_the_stack_network_only(host):
    c = inspect(host, HUB)
    assert c["State"]["Health"]["Status"] == "healthy"
    assert "hub/health" in " ".join(c["Config"]["Healthcheck"]["Test"])
    assert c["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    assert list(c["NetworkSettings"]["Networks"]) == ["vixtract"]
    assert not c["HostConfig"]["PortBindings"], "JupyterHub must not be published on the host"
    volumes = {m["Name"]: m["Destination"] for m in c["Mounts"] if m["Type"] == "volume"}
    assert volumes == {"vixtract-jupyterhub-home": "/home", "vixtract-jupyterhub-lib": "/opt/vixtract/lib",
                       "vixtract-jupyterhub-users": "/var/lib/extrausers",
                       "vixtract-jupyterhub-data": "/srv/jupyterhub"}


def test_hub_is_served_under_jupyter(host):
    status = hub(host, "python -c \"import urllib.request as u; "
                       "print(u.urlopen('http://127.0.0.1:8000/jupyter/hub/health').status)\"").stdout.strip()
    assert status == "200"


def test_accounts_persist_on_the_users_volume_for_other_containers(host):
    """A new container of the image (as Cronicle's, built FROM it) that mounts the users volume read-only
    resolves the same names, uids and gids; homes belong to those uids."""
    inside = hub(host, f"getent passwd {ANNA}").stdout.strip()
    fresh = host.check_output(
        "docker run --rm --entrypoint getent -v vixtract-jupyterhub-users:/var/lib/extrausers:ro "
        f"{hub_image(host)} passwd {ANNA}")
    assert fresh == inside and int(inside.split(":")[2]) >= 2000, (inside, fresh)
    uid = inside.split(":")[2]
    assert hub(host, f"stat -c '%u %a' /home/{ANNA}").stdout.split() == [uid, "700"]
    # not in the image's own /etc/passwd: that one is replaced with every new image
    assert hub(host, f"grep -c '^{ANNA}:' /etc/passwd", check=False).stdout.strip() == "0"


def test_local_user_logs_in_and_starts_jupyterlab(host):
    result = session(host, "start", ANNA, credential(f"users/{ANNA}"))
    assert result["ok"], result
    assert result["lab_status"] == 200 and result["is_lab"], result
    assert result["lab_url"].endswith(f"/jupyter/user/{ANNA}/lab"), result
    # the server runs as the user, not as root
    assert hub(host, f"pgrep -u {ANNA} -f jupyterhub-singleuser").rc == 0


def test_wrong_password_and_unknown_user_are_refused(host):
    assert not can_log_in(host, ANNA, "not-the-password")
    assert not can_log_in(host, "nobody.here", "whatever-password")


def test_postgres_users_get_pg_environment_and_a_private_pgpass(host):
    v = stack_vars()
    session(host, "start", ANNA, credential(f"users/{ANNA}"))
    env = server_env(host, ANNA)
    assert env.get("PGHOST") == v.get("vixtract_postgres_host", "vixtract-postgres")
    assert env.get("PGPORT") == str(v.get("vixtract_postgres_port", 5432))
    assert env.get("PGDATABASE") == v.get("vixtract_postgres_database", "etl")
    assert env.get("PGUSER") == ANNA
    assert "PGPASSWORD" not in env
    stat = hub(host, f"stat -c '%U %a' /home/{ANNA}/.pgpass").stdout.split()
    assert stat == [ANNA, "600"]
    pgpass = hub(host, f"cat /home/{ANNA}/.pgpass").stdout.strip()
    assert pgpass.endswith(f":{ANNA}:" + credential(f"postgres/users/{ANNA}"))
    # users without postgres: true get neither
    assert hub(host, "test -e /home/bi/.pgpass", check=False).rc != 0


def test_papermill_notebook_writes_rows_to_postgresql_with_pgpass_only(host):
    """A notebook run as anna.k (papermill, with the environment her server gets) inserts rows into the ETL
    database; the only secret it uses is ~/.pgpass. Needs the postgres role's container."""
    v = stack_vars()
    pg = v.get("vixtract_postgres_container", "vixtract-postgres")
    db = v.get("vixtract_postgres_database", "etl")
    writer = v.get("vixtract_postgres_writer", "etl_writer")
    running = host.run(f"docker inspect -f '{{{{.State.Running}}}}' {pg}")
    assert running.rc == 0 and running.stdout.strip() == "true", \
        f"the PostgreSQL container {pg} is not running: this test needs the postgres role"
    psql = f"docker exec -u postgres {pg} psql -v ON_ERROR_STOP=1 -At -d {db} -c "
    host.check_output(psql + shlex.quote(
        "CREATE TABLE IF NOT EXISTS public.jupyterhub_probe (who text, n int, at timestamptz DEFAULT now()); "
        f"GRANT SELECT, INSERT ON public.jupyterhub_probe TO {writer}; "
        "DELETE FROM public.jupyterhub_probe;"))
    session(host, "start", ANNA, credential(f"users/{ANNA}"))
    env = {k: v for k, v in server_env(host, ANNA).items() if k.startswith("PG")}
    # session_user: the login role (the postgres role may SET ROLE to the writer group for new tables)
    run = papermill(host, ANNA, [
        "import os, psycopg\n"
        "assert 'PGPASSWORD' not in os.environ\n"
        "with psycopg.connect() as conn:\n"
        "    with conn.cursor() as cur:\n"
        "        cur.executemany('INSERT INTO public.jupyterhub_probe (who, n) VALUES (session_user, %s)',\n"
        "                        [(i,) for i in range(3)])\n"
    ], env=env, name="pg_write")
    assert run.rc == 0, run.stdout + run.stderr
    rows = host.check_output(psql + shlex.quote("SELECT who, count(*) FROM public.jupyterhub_probe GROUP BY who"))
    assert rows.strip() == f"{ANNA}|3"


def test_shared_library_folder_is_on_every_interpreters_path(host):
    """Publishers (library: true) may write to /opt/vixtract/lib; kernels and papermill runs import from it; root's
    Python (JupyterHub, the accounts tool) does not see it."""
    assert hub(host, "touch /opt/vixtract/lib/.probe", user="bi", check=False).rc != 0, \
        "a user who does not publish must not write to the shared library folder"
    assert hub(host, "id -nG cronicle.boss").stdout.split().count("vixtract-lib") == 0, \
        "an admin is not a publisher unless library: true"
    assert "/opt/vixtract/lib" not in hub(host, "python -c 'import sys; print(sys.path)'").stdout
    put_file(host, "/opt/vixtract/lib/vixtract_shared_probe.py", "VALUE = 'shared'\n", user=ANNA)
    result = session(host, "run", "bi", credential("users/bi"),
                     "import vixtract_shared_probe; print(vixtract_shared_probe.VALUE)")
    assert result.get("stdout", "").strip() == "shared", result
    run = papermill(host, "bi", ["import vixtract_shared_probe\nassert vixtract_shared_probe.VALUE == 'shared'\n"])
    assert run.rc == 0, run.stdout + run.stderr
    hub(host, "rm -f /opt/vixtract/lib/vixtract_shared_probe.py", user=ANNA)


def test_pip_install_user_lands_in_the_home(host):
    probe = hub(host, "python -c 'import site; print(site.ENABLE_USER_SITE, site.getusersitepackages())'",
                user="bi").stdout.split()
    assert probe[0] == "True" and probe[1].startswith("/home/bi/.local/lib/python3."), probe
    user_site = probe[1]
    hub(host, f"mkdir -p {user_site} && echo \"VALUE = 'mine'\" > {user_site}/vixtract_user_probe.py", user="bi")
    out = hub(host, "python -c 'import vixtract_user_probe; print(vixtract_user_probe.VALUE, "
                    "vixtract_user_probe.__file__)'", user="bi").stdout.split()
    assert out == ["mine", f"{user_site}/vixtract_user_probe.py"]
    # pip itself accepts --user in this environment (no "user site-packages are not visible" refusal)
    dry = hub(host, "pip install --user --no-index --dry-run pip", user="bi", check=False)
    assert "not visible in this virtualenv" not in dry.stdout + dry.stderr, dry.stderr


def test_service_token_drives_the_rest_api(host):
    token = credential("jupyterhub/service_token")
    out = hub(host, "python -c \"import json, os, urllib.request as u; "
                    "r = u.Request('http://127.0.0.1:8000/jupyter/hub/api/users/anna.k', "
                    "headers={'Authorization': 'token ' + os.environ['T']}); "
                    "print(json.load(u.urlopen(r))['name'])\"", env={"T": token}).stdout.strip()
    assert out == "anna.k"
    assert "jupyterhub_idle_culler --timeout=" in hub(host, "ps -eo args").stdout


# The scenario's own people stay as they are (other roles' settings refer to them)
USERS = stack_vars().get("vixtract_users", [])
# Only the Hub changes here: re-apply only its role (docker_host always runs too)
TAGS = ["jupyterhub"]


def test_password_change_and_removal_apply_on_rerun(host, converge):
    """carol's password changes; dave goes from present to absent. Three runs of site.yml."""
    rc, out = converge({"vixtract_users": USERS + [{"name": "carol", "password": "Old-Pa55word"}, {"name": "dave"}]}, tags=TAGS)
    assert rc == 0, out[-3000:]
    assert can_log_in(host, "carol", "Old-Pa55word")
    dave = credential("users/dave")
    assert can_log_in(host, "dave", dave)
    hub(host, "echo keep-me > notes.txt", user="dave")

    changed = USERS + [{"name": "carol", "password": "New-Pa55word"}, {"name": "dave", "state": "absent"}]
    rc, out = converge({"vixtract_users": changed}, tags=TAGS)
    assert rc == 0, out[-3000:]
    assert not can_log_in(host, "carol", "Old-Pa55word")
    assert can_log_in(host, "carol", "New-Pa55word")

    # state: absent -> login refused, account gone, home archived with its files
    assert not can_log_in(host, "dave", dave)
    assert hub(host, "getent passwd dave", check=False).rc != 0
    assert hub(host, "test -e /home/dave", check=False).rc != 0
    archived = hub(host, "ls /home/.archive").stdout.split()
    match = [d for d in archived if d.startswith("dave-")]
    assert match, archived
    assert hub(host, f"cat /home/.archive/{match[-1]}/notes.txt").stdout.strip() == "keep-me"

    # the same inventory again changes nothing
    rc, out = converge({"vixtract_users": changed}, tags=TAGS)
    assert rc == 0 and changed_count(out) == 0, out[-5000:]
