"""The promises of the postgres role, checked on the server the scenario deployed.

SQL runs from throw-away containers with psql, as BI tools and notebooks would connect: on the stack network
(inside the server) or, for the published port, from containers on the machine that runs the tests, i.e.
outside the server. Tests that change a setting re-converge (postgres tag only) with the inventory plus their
change: each such run also undoes the change of the test before, so the inventory itself is re-applied once,
after the last test of this module (and that restores the superuser password, the port and the settings).
"""
import json
import os
import subprocess
import uuid

import pytest
from vixtest.pg import CONTAINER, psql, superuser, superuser_with_password
from vixtest.stack import changed_count, credential, outer_docker, stack_vars

# made by molecule/resources/images.sh (psql among its tools)
CLIENT_IMAGE = os.environ.get("VIXTRACT_TEST_CLIENT_IMAGE", "vixtract-test/client:trixie")
TAGS = ["postgres"]


def inspect(host):
    return json.loads(host.check_output(f"docker inspect {CONTAINER}"))[0]


def converged(converge, extra):
    rc, out = converge(extra, tags=TAGS)
    assert rc == 0, out
    return out


@pytest.fixture(scope="module", autouse=True)
def inventory_applied_afterwards(host, converge):
    """After this module: the inventory alone, as before it (checked: rotated back, unpublished, default settings)."""
    old_password = credential("postgres/superuser")
    yield
    converged(converge, {})
    assert superuser_with_password(host, old_password, "SELECT 1").stdout.strip() == "1"
    assert "5432" not in host.check_output("ss -Hltn")
    assert superuser(host, "SHOW max_connections").stdout.strip() == "100"
    assert inspect(host)["State"]["Health"]["Status"] == "healthy"


def test_container_is_healthy_restarts_and_keeps_data_on_a_volume(host):
    info = inspect(host)
    assert info["State"]["Health"]["Status"] == "healthy"
    assert info["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    assert "vixtract" in info["NetworkSettings"]["Networks"]
    mounts = {m["Destination"]: m for m in info["Mounts"]}
    assert mounts["/var/lib/postgresql/data"]["Name"] == "vixtract-postgres-data"
    assert superuser(host, "SHOW server_version").stdout.startswith("17.")


def test_memory_defaults_follow_the_servers_ram(host):
    mem_mb = int(host.check_output("awk '/MemTotal/ {print $2}' /proc/meminfo")) // 1024
    shared = superuser(host, "SELECT setting::bigint * 8 / 1024 FROM pg_settings WHERE name = 'shared_buffers'")
    assert abs(int(shared.stdout) - mem_mb // 4) <= 1, (shared.stdout, mem_mb)


def test_nothing_listens_on_5432_without_postgres_publish(host):
    assert "5432" not in host.check_output("ss -Hltn")
    assert host.check_output(f"docker port {CONTAINER}") == ""


def test_writer_writes_and_bi_reader_reads_later_tables_only(host, converge):
    """A user with postgres: true writes to etl as a member of etl_writer; bi_reader reads a table created
    after the role ran and can neither insert nor create; the user removed (state: absent), the data stays."""
    users = stack_vars().get("vixtract_users", [])
    table = f"sales_{uuid.uuid4().hex[:8]}"
    converged(converge, {"vixtract_users": users + [{"name": "pgtest", "postgres": True}]})
    writer = credential("postgres/users/pgtest")
    reader = credential("postgres/bi_reader")
    try:
        made = psql(host, "pgtest", writer, f"CREATE TABLE {table} (id int, amount numeric); "
                                            f"INSERT INTO {table} VALUES (1, 9.5), (2, 3); "
                                            f"SELECT pg_has_role('pgtest', 'etl_writer', 'member')")
        assert made.rc == 0, made.stderr
        assert made.stdout.strip().endswith("t")
        assert psql(host, "bi_reader", reader, f"SELECT sum(amount) FROM {table}").stdout.strip() == "12.5"
        insert = psql(host, "bi_reader", reader, f"INSERT INTO {table} VALUES (3, 1)")
        assert insert.rc != 0 and "permission denied" in insert.stderr, insert.stderr
        create = psql(host, "bi_reader", reader, "CREATE TABLE bi_reader_was_here (id int)")
        assert create.rc != 0 and "permission denied" in create.stderr, create.stderr
    finally:
        converged(converge, {"vixtract_users": users + [{"name": "pgtest", "state": "absent"}]})
    assert superuser(host, "SELECT count(*) FROM pg_roles WHERE rolname = 'pgtest'").stdout.strip() == "0"
    assert superuser(host, f"SELECT tableowner FROM pg_tables WHERE tablename = '{table}'").stdout.strip() == "etl_writer"
    assert psql(host, "bi_reader", reader, f"SELECT count(*) FROM {table}").stdout.strip() == "2"


def test_superuser_password_rotates_and_rerun_changes_nothing(host, converge):
    old = credential("postgres/superuser")
    new = "Rotated" + uuid.uuid4().hex
    superuser(host, "CREATE TABLE IF NOT EXISTS rotation_probe (v text); TRUNCATE rotation_probe; "
                    "INSERT INTO rotation_probe VALUES ('kept')")
    converged(converge, {"postgres_superuser_password": new})
    refused = superuser_with_password(host, old, "SELECT 1")
    assert refused.rc != 0 and "password authentication failed" in refused.stderr, refused.stderr
    assert superuser_with_password(host, new, "SELECT v FROM rotation_probe").stdout.strip() == "kept"
    again = converged(converge, {"postgres_superuser_password": new})
    assert changed_count(again) == 0, again
    superuser(host, "DROP TABLE rotation_probe")


def test_rejected_setting_stops_the_run_and_the_server_keeps_running(host, converge):
    started = inspect(host)["State"]["StartedAt"]
    conf = host.file("/opt/vixtract/postgres/conf/postgresql.conf").content_string
    for settings, named in (({"bogus_setting": "1"}, "bogus_setting"), ({"shared_buffers": "lots"}, "shared_buffers")):
        rc, out = converge({"postgres_settings": settings}, tags=TAGS)
        assert rc != 0, out
        assert "postgres_settings: PostgreSQL rejects" in out and named in out, out
        assert host.file("/opt/vixtract/postgres/conf/postgresql.conf").content_string == conf
        info = inspect(host)
        assert info["State"]["Health"]["Status"] == "healthy" and info["State"]["StartedAt"] == started


def test_settings_reload_or_restart_only_as_needed(host, converge):
    started = inspect(host)["State"]["StartedAt"]
    converged(converge, {"postgres_settings": {"work_mem": "7MB"}})
    assert superuser(host, "SHOW work_mem").stdout.strip() == "7MB"
    assert inspect(host)["State"]["StartedAt"] == started, "a reload was enough, the server restarted"
    converged(converge, {"postgres_settings": {"work_mem": "7MB", "max_connections": "77"}})
    assert superuser(host, "SHOW max_connections").stdout.strip() == "77"
    assert inspect(host)["State"]["StartedAt"] != started
    assert inspect(host)["State"]["Health"]["Status"] == "healthy"


@pytest.fixture
def outside_clients():
    """Two psql containers beside the server (on the engine that runs it), each with its own address.
    Containers inside the server cannot play this part: Docker's port proxy would relay their connections
    from the stack network's gateway, hiding their addresses."""
    names = []
    try:
        for role in ("in", "out"):
            name = f"pgclient-{role}-{uuid.uuid4().hex[:6]}"
            outer_docker("run", "-d", "--name", name, CLIENT_IMAGE, "sleep", "600")
            names.append(name)
        yield {role: (name, outer_docker("inspect", "-f", "{{.NetworkSettings.IPAddress}}", name).stdout.strip())
               for role, name in zip(("in", "out"), names)}
    finally:
        for name in names:
            outer_docker("rm", "-f", name, check=False)


def test_published_port_admits_allowed_cidrs_over_tls_only(host, converge, outside_clients):
    server_ip = host.check_output("ip -4 -o addr show dev eth0 | awk '{print $4}' | cut -d/ -f1 | head -n1")
    (inside, inside_ip), (outside, _unused) = outside_clients["in"], outside_clients["out"]
    reader = credential("postgres/bi_reader")
    # last in this module: port and settings go back with the module's final run (inventory_applied_afterwards)
    converged(converge, {"postgres_publish": f"{server_ip}:5432", "postgres_allowed_cidrs": [f"{inside_ip}/32"]})
    ca = open(stack_vars()["vixtract_credentials_dir"] + "/postgres/ca.crt").read()
    results = {}
    for name, sslmode in ((inside, "verify-ca"), (outside, "verify-ca"), (inside, "disable")):
        subprocess.run(["docker", "exec", "-i", name, "sh", "-c", "cat > /tmp/ca.crt"], input=ca, text=True,
                       check=True)
        results[(name, sslmode)] = outer_docker(
            "exec", "-e", f"PGPASSWORD={reader}", name, "psql",
            f"host={server_ip} port=5432 user=bi_reader dbname=etl sslmode={sslmode} sslrootcert=/tmp/ca.crt",
            "-Atc", "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", check=False)
    ok = results[(inside, "verify-ca")]
    assert ok.returncode == 0 and ok.stdout.strip() == "t", ok.stderr
    refused = results[(outside, "verify-ca")]
    assert refused.returncode != 0 and "pg_hba.conf rejects connection" in refused.stderr, refused.stderr
    plain = results[(inside, "disable")]
    assert plain.returncode != 0 and "pg_hba.conf rejects connection" in plain.stderr, plain.stderr


def test_an_older_major_version_than_the_datas_stops_the_run_in_validation(host, converge):
    """The data is PostgreSQL 17's (Debian trixie's, which this scenario deploys): 16 cannot open it, and PostgreSQL
    cannot go back a major version. The server is asked before any change (playbooks/validate.yml): no play deploys
    anything, the container runs as it was."""
    started = host.check_output(f"docker inspect -f '{{{{.State.StartedAt}}}}' {CONTAINER}")
    rc, out = converge({"postgres_version": 16}, tags=TAGS)
    assert rc != 0, out[-3000:]
    assert (f"postgres_version 16 is older than the data on {host.backend.get_hostname()} (PostgreSQL 17, in the "
            "volume vixtract-postgres-data): PostgreSQL cannot go back a major version. Fix: postgres_version: 17. "
            "PostgreSQL was not touched.") in " ".join(out.split()), out[-3000:]
    assert "PLAY [Docker Engine on every server]" not in out and "PLAY [Database servers]" not in out, out[-3000:]
    assert host.check_output(f"docker inspect -f '{{{{.State.StartedAt}}}}' {CONTAINER}") == started


def test_a_newer_major_version_debian_does_not_ship_fails_at_the_image_and_leaves_the_server_as_it_was(host, converge):
    """18 would be an upgrade (tasks/upgrade.yml), but trixie has no postgresql-18: the new image is built before the
    upgrade takes a backup or stops anything, so the run fails there and the running server, its data and the
    volumes are as they were."""
    started = host.check_output(f"docker inspect -f '{{{{.State.StartedAt}}}}' {CONTAINER}")
    volumes = host.check_output("docker volume ls -q")
    rc, out = converge({"postgres_version": 18}, tags=TAGS)
    assert rc != 0, out[-3000:]
    assert "postgresql-18" in out and "Back up the server before its PostgreSQL" not in out, out[-3000:]
    assert "Stop and remove PostgreSQL" not in out, out[-3000:]
    assert host.check_output(f"docker inspect -f '{{{{.State.StartedAt}}}}' {CONTAINER}") == started
    assert host.check_output("docker volume ls -q") == volumes
    assert not host.file("/opt/vixtract/postgres/major-upgrade.json").exists
    assert "/17/" in host.check_output(f"docker exec {CONTAINER} sh -c 'command -v postgres'")
