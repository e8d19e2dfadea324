"""A PostgreSQL major upgrade by dump and reload (roles/postgres/tasks/upgrade.yml and reload.yml; docs/operations.md,
"PostgreSQL major versions"). The db server runs PostgreSQL 15, Debian 12's package (molecule.yml gives it
bookworm's base image); people's work is put on it; a setting 17 rejects, given with the upgrade, stops the run with
15 untouched; then postgres_version 17 with trixie's base image upgrades it, and everything is there: rows, roles
with their password hashes, memberships, privileges, and the read-only role's default privileges on what a writer
makes after the upgrade. Going back to 15 is refused before any change, and a re-apply changes nothing. Last module
of the scenario (file order): it leaves the db server on 17."""
import json
import re
import subprocess
import time

from vixtest.pg import psql, superuser
from vixtest.stack import changed_count, credential, report_figure, run_playbook, stack_vars

DB, APP, DB_ADDRESS = "vixtract-multi-db", "vixtract-multi-app", "172.31.250.10"
testinfra_hosts = [f"ansible://{DB}"]
VARS = stack_vars()
DATABASE = VARS.get("vixtract_postgres_database", "etl")
WRITER = "anna.k"
# the app server's base image: the db server moves to it with the upgrade
TRIXIE = {"vixtract_base_image": "debian:trixie-slim",
          "vixtract_base_image_archive": VARS["vixtract_base_image_archive"]}
UPGRADE = dict(TRIXIE, postgres_version=17)
NOTE = "/opt/vixtract/postgres/major-upgrade.json"
KEPT = "vixtract-postgres-data-pg15"
# what must come through the upgrade as it was, asked as the superuser (the password hashes included: a password
# that changed would differ)
STATE = {
    "roles": "SELECT rolname, rolpassword, rolsuper, rolcreaterole, rolcreatedb, rolcanlogin, rolconnlimit,"
             " array(SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid"
             "       WHERE m.member = a.oid ORDER BY 1)"
             " FROM pg_authid a WHERE rolname !~ '^pg_' ORDER BY 1",
    "databases": "SELECT datname, pg_get_userbyid(datdba), datacl FROM pg_database WHERE NOT datistemplate ORDER BY 1",
    "default privileges": "SELECT pg_get_userbyid(defaclrole), defaclnamespace::regnamespace, defaclobjtype, defaclacl"
                          " FROM pg_default_acl ORDER BY 1, 2, 3",
    # each grant, the owner's own included; MAINTAIN is new in PostgreSQL 17 (an owner holds it there, and 15 has
    # no such privilege), so it is left out of the comparison
    "tables": "SELECT c.relname, pg_get_userbyid(c.relowner), a.grantor::regrole::text, a.grantee::regrole::text,"
              " a.privilege_type, a.is_grantable"
              " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) a"
              " WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.privilege_type <> 'MAINTAIN' ORDER BY 1, 3, 4, 5",
    "rows": "SELECT count(*), sum(n), md5(string_agg(label, ',' ORDER BY n)) FROM public.upgrade_probe",
}


def sql(db, query, database=DATABASE):
    result = superuser(db, query, db=database)
    assert result.rc == 0, result.stderr
    return result.stdout


def state(db):
    return {name: sql(db, query) for name, query in STATE.items()}


def major(db):
    return db.check_output("docker exec vixtract-postgres postgres --version").split()[2].split(".")[0]


def started(db):
    return db.check_output("docker inspect -f '{{.State.StartedAt}}' vixtract-postgres")


def bi_from_the_app_server(query):
    """The read-only role over TLS from the app server, as a BI tool there connects."""
    probe = ("import psycopg, sys\n"
             f"c = psycopg.connect(host='{DB_ADDRESS}', dbname='{DATABASE}', user='bi_reader',\n"
             "                     password=sys.stdin.readline().strip(), sslmode='require', connect_timeout=10)\n"
             "print(c.execute(sys.argv[1]).fetchone()[0], c.info.pgconn.ssl_in_use)\n")
    answer = subprocess.run(["docker", "exec", "-i", APP, "docker", "exec", "-i", "vixtract-jupyterhub",
                             "/opt/vixtract/venv/bin/python", "-c", probe, query],
                            input=credential("postgres/bi_reader") + "\n", capture_output=True, text=True,
                            timeout=120, check=False)
    return answer.stdout.split() or [answer.stderr[-500:]]


def test_a_newer_postgres_version_upgrades_the_data_and_everything_people_made(host):
    assert major(host) == "15", "molecule.yml deploys the db server with PostgreSQL 15"
    writer = credential(f"postgres/users/{WRITER}")
    reader = credential("postgres/bi_reader")
    # a writer's table with rows, through the stack network as an app connects
    made = psql(host, WRITER, writer, "CREATE TABLE public.upgrade_probe AS SELECT n, 'row ' || n AS label"
                                      " FROM generate_series(1, 20000) AS n")
    assert made.rc == 0, made.stderr
    before = state(host)
    rows_bytes = sql(host, f"SELECT pg_size_pretty(pg_database_size('{DATABASE}'))").strip()
    assert before["rows"].startswith("20000|"), before
    assert "|bi_reader|SELECT|" in before["tables"], before["tables"]
    assert psql(host, "bi_reader", reader, "SELECT count(*) FROM public.upgrade_probe").stdout.strip() == "20000"

    # a setting PostgreSQL 17 rejects, given with the upgrade: the run stops before the old server is touched
    was = started(host)
    rc, out = run_playbook(dict(UPGRADE, postgres_settings={"vixtract_no_such_setting": "1"}))
    assert rc != 0 and "postgres_settings: PostgreSQL rejects" in out and "vixtract_no_such_setting" in out, \
        out[-3000:]
    assert "Stop and remove PostgreSQL" not in out and started(host) == was and major(host) == "15", out[-3000:]
    assert not host.file(NOTE).exists and host.run(f"docker volume inspect {KEPT}").rc != 0

    # --check says what the run would do, and does none of it (the db server's preview: --limit, as an ops team
    # previews the one server an upgrade changes; the app server takes part in the real run below)
    rc, out = run_playbook(UPGRADE, check=True, limit=DB)
    assert rc == 0, out[-3000:]
    assert "PostgreSQL 15 on vixtract-multi-db would be upgraded to 17" in " ".join(out.split()), out[-3000:]
    assert started(host) == was and major(host) == "15" and not host.file(NOTE).exists

    backups = set(host.check_output("ls /var/backups/vixtract 2>/dev/null || true").split())
    began = time.monotonic()
    rc, out = run_playbook(UPGRADE)
    seconds = time.monotonic() - began
    assert rc == 0, out[-3000:]
    reloaded = re.search(r"reloaded in ([\d.]+) s", out)
    report_figure(f"PostgreSQL 15 -> 17 upgrade of {rows_bytes} of data: the run took {seconds:.0f} s, the reload "
                  f"{reloaded.group(1) if reloaded else '?'} s")
    assert major(host) == "17"
    assert " ".join(out.split()).count("PostgreSQL 15 -> 17 on vixtract-multi-db: roles and databases") == 1, \
        out[-3000:]

    after = state(host)
    assert after == before
    # the passwords log in, and a table the writer makes now is readable by the read-only role at once
    assert psql(host, WRITER, writer, "CREATE TABLE public.upgrade_after AS SELECT 1 AS one").rc == 0
    assert psql(host, "bi_reader", reader, "SELECT one FROM public.upgrade_after").stdout.strip() == "1"
    assert psql(host, "bi_reader", reader, "SELECT count(*) FROM public.upgrade_probe").stdout.strip() == "20000"
    assert psql(host, "bi_reader", reader, "DELETE FROM public.upgrade_probe").rc != 0, "bi_reader may write"

    # the data of 15 is kept in a volume of its own, the backup taken first is there, the note is gone
    kept = host.check_output(f"docker volume inspect -f '{{{{.Mountpoint}}}}' {KEPT}")
    assert host.file(f"{kept}/PG_VERSION").content_string.strip() == "15"
    assert not host.file(NOTE).exists
    taken = set(host.check_output("ls /var/backups/vixtract").split()) - backups
    assert len(taken) == 1, taken
    manifest = json.loads(host.file(f"/var/backups/vixtract/{taken.pop()}/manifest.json").content_string)
    assert DATABASE in manifest["databases"] and f"postgres/{DATABASE}.dump" in manifest["files"], manifest
    # BI tools on the app server get in over TLS with the same password
    assert bi_from_the_app_server("SELECT count(*) FROM public.upgrade_probe") == ["20000", "True"]

    rc, out = run_playbook(UPGRADE)
    assert rc == 0 and changed_count(out) == 0, out[-3000:]


def test_going_back_a_major_version_is_refused_before_any_change(host):
    was = started(host)
    rc, out = run_playbook(dict(TRIXIE, postgres_version=15), tags=["postgres"])
    assert rc != 0, out[-3000:]
    said = " ".join(out.split())
    assert ("postgres_version 15 is older than the data on vixtract-multi-db (PostgreSQL 17, in the volume "
            "vixtract-postgres-data): PostgreSQL cannot go back a major version. Fix: postgres_version: 17.") in said, \
        out[-3000:]
    # stopped in validation, before the plays that deploy
    assert "PLAY [Docker Engine on every server]" not in out and "PLAY [Database servers]" not in out, out[-3000:]
    assert started(host) == was and major(host) == "17"
    superuser(host, "DROP TABLE public.upgrade_probe, public.upgrade_after")
