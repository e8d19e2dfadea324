"""A lost server, brought back from its backup (issue 13; docs/operations.md, "Backup" and "Restore").

Server A is the upgraded stack people have used since the previous release (prepare.yml: a library module, a
notebook run by hand and by Cronicle, rows, an event made in Cronicle's UI beside the declared one); here they also
run a notebook of their own by hand. playbooks/backup.yml backs A up with a copy on the controller; then A is
destroyed with its disks and a fresh server B is started the way Molecule started A (nothing of A on it).
playbooks/restore.yml deploys the stack on B from the same inventory and puts the backup back, and everything is as
it was: accounts and passwords, notebooks, rows, the events with their ids and schedules, the job history, the
library, the HTTPS certificate; the event runs on B, and a re-apply changes nothing. The steps build on each other:
one test. The expected values are read from A before the backup, never from the backup or the restore's own
report. It runs after test_upgrade.py and before test_wipe.py (conftest.py), which then purges B. Molecule's
destroy removes B."""
import hashlib
import json
import re
import ssl
import time

from vixtest.cronicle import api, api_key, run_and_wait
from vixtest.hub import can_log_in, hub, notebook, put_file, session
from vixtest.pg import psql, superuser
from vixtest.stack import (changed_count, credential, outer_docker, report_figure, run_playbook, server_container,
                           stack_vars)

VARS = stack_vars()
ANALYST = "anna.k"
EVENT = VARS["cronicle_events"][0]
# what a notebook of hers finds in its environment when she runs it by hand (Cronicle sets the same)
ANALYST_ENV = {"PGHOST": "vixtract-postgres", "PGDATABASE": "etl", "PGUSER": ANALYST}
HELPER = 'GREETING = "from the shared library"\n'
LOAD = notebook("import psycopg\nimport restore_helper\nwith psycopg.connect() as conn:\n"
                "    conn.execute('CREATE TABLE IF NOT EXISTS public.restore_sales (n int, tag text)')\n"
                "    with conn.cursor() as cur:\n"
                "        cur.executemany('INSERT INTO public.restore_sales VALUES (%s, %s)',"
                " [(n, tag) for n in range(rows)])\n"
                "print(f'loaded {rows} rows ({tag}) {restore_helper.GREETING}')\n",
                parameters="rows = 1\ntag = 'by-hand'\n")
# her own rows, and the rows her declared event loads (prepare.yml's notebook, files/load.ipynb)
ROWS = "SELECT tag, count(*) FROM public.restore_sales GROUP BY tag ORDER BY tag"
EVENT_ROWS = "SELECT count(*) FROM public.upgrade_sales WHERE tag = 'scheduled'"
ROLES = "SELECT rolname, rolpassword FROM pg_authid WHERE rolname !~ '^pg_' ORDER BY 1"
HUB_USERS = ("python3 -c \"import json, sqlite3; print(json.dumps(dict(sqlite3.connect("
             "'/srv/jupyterhub/jupyterhub.sqlite').execute('SELECT name, created FROM users'))))\"")
CERTIFICATE = "/opt/vixtract/nginx/tls/server.crt"


def events(host):
    """Every event by title: its id, timing, parameters and owner."""
    answer = api(host, "/api/app/get_schedule/v1", {"offset": 0, "limit": 0}, key=api_key())
    assert answer["code"] == 0, answer
    return {e["title"]: [e["id"], e["timing"], e.get("params"), e.get("notes")] for e in answer.get("rows", [])}


def history(host):
    answer = api(host, "/api/app/get_history/v1", {"offset": 0, "limit": 100}, key=api_key())
    assert answer["code"] == 0, answer
    return [job["id"] for job in answer.get("rows", [])]


def scheduled_rows(host):
    return int(superuser(host, EVENT_ROWS).stdout.strip())


def state(host):
    """What people made, read from the running stack."""
    return {
        "rows": superuser(host, ROWS).stdout,
        "event rows": scheduled_rows(host),
        "roles": superuser(host, ROLES, db="postgres").stdout,
        "events": events(host),
        "history": history(host),
        "hub users": json.loads(hub(host, HUB_USERS).stdout),
        "notebooks": hub(host, "ls restore upgrade", user=ANALYST).stdout.split(),
        "library": hub(host, "cat /opt/vixtract/lib/restore_helper.py /opt/vixtract/lib/upgrade_helper.py").stdout,
        "certificate": host.check_output(f"sha256sum {CERTIFICATE}"),
        "served certificate": served_certificate(host),
    }


def served_certificate(host):
    """The certificate nginx serves, as HTTPS clients get it (the file on disk may be one nginx has not read)."""
    pem = host.check_output("python3 -c \"import ssl; print(ssl.get_server_certificate(('127.0.0.1', 443)))\"")
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


def recreate(name):
    """Server A removed with its disks, and a fresh server B started in its place as Molecule started A: the same
    image, name, hostname, network, capabilities and mounts, as `docker inspect` tells them."""
    info = json.loads(outer_docker("inspect", name).stdout)[0]
    config, host_config = info["Config"], info["HostConfig"]
    args = ["run", "-d", "--name", name, "--hostname", config["Hostname"]]
    args += [f"--cap-add={cap}" for cap in host_config.get("CapAdd") or []]
    args += [f"--security-opt={opt}" for opt in host_config.get("SecurityOpt") or []]
    args += [f"--cgroupns={host_config['CgroupnsMode']}"] if host_config.get("CgroupnsMode") else []
    args += ["--privileged"] if host_config.get("Privileged") else []
    binds = host_config.get("Binds") or []
    args += [f"--volume={bind}" for bind in binds]
    bound = {bind.split(":")[1] for bind in binds}
    # the anonymous volumes (the server's own engine storage): new and empty
    args += [f"--volume={path}" for path in config.get("Volumes") or {} if path not in bound]
    args += [f"--tmpfs={path}:{opts}" if opts else f"--tmpfs={path}"
             for path, opts in (host_config.get("Tmpfs") or {}).items()]
    args += [f"--stop-signal={config['StopSignal']}"] if config.get("StopSignal") else []
    args += [f"--label={key}={value}" for key, value in (config.get("Labels") or {}).items()]
    networks = list(info["NetworkSettings"]["Networks"])
    args += [f"--network={networks[0]}", config["Image"], *(config.get("Cmd") or [])]
    outer_docker("rm", "--force", "--volumes", name)
    outer_docker(*args)
    for network in networks[1:]:
        outer_docker("network", "connect", network, name)
    deadline = time.time() + 120
    while time.time() < deadline:
        booted = outer_docker("exec", name, "systemctl", "is-system-running", check=False).stdout.strip()
        if booted in ("running", "degraded"):
            return
        time.sleep(1)
    raise AssertionError(f"the fresh server {name} did not boot: {booted}")


def test_a_lost_server_comes_back_from_its_backup_on_a_fresh_one(host, tmp_path_factory):
    password = credential(f"users/{ANALYST}")
    # people use server A
    put_file(host, "/opt/vixtract/lib/restore_helper.py", HELPER, user=ANALYST)
    hub(host, "mkdir -p restore", user=ANALYST)
    put_file(host, f"/home/{ANALYST}/restore/load.ipynb", LOAD, user=ANALYST)
    hub(host, "papermill --log-output -p rows 3 restore/load.ipynb restore/load.by-hand.ipynb", user=ANALYST,
        env=ANALYST_ENV)
    scheduled = scheduled_rows(host)
    job = run_and_wait(host, EVENT["title"])
    assert job["code"] == 0, job
    before = state(host)
    assert before["rows"].split() == ["by-hand|3"], before["rows"]
    assert before["event rows"] == scheduled + EVENT["parameters"]["rows"], (scheduled, before["event rows"])
    assert job["id"] in before["history"] and "anna: monthly export" in before["events"], before

    # backed up, with a copy on the controller
    copies = tmp_path_factory.mktemp("backup-copies")
    rc, out = run_playbook({"vixtract_backup_copy_dir": str(copies)}, playbook="playbooks/backup.yml")
    assert rc == 0, out[-3000:]
    report = re.search(r"/var/backups/vixtract/(\d{8}T\d{6}Z): ([\d.]+) MB in (\d+) files, written and verified in "
                       r"([\d.]+) s", out)
    assert report, out[-3000:]
    copied = copies / server_container(host) / report.group(1)
    assert (copied / "manifest.json").is_file(), sorted(p.name for p in copies.rglob("*"))
    report_figure(f"backup of server A: {report.group(2)} MB in {report.group(3)} files, written and verified in "
                  f"{report.group(4)} s")

    # A is gone; B is a fresh machine, the stack not on it
    recreate(server_container(host))
    assert host.run("command -v docker").rc != 0, "the fresh server has an engine: it is not fresh"

    began = time.monotonic()
    rc, out = run_playbook({"vixtract_restore_backup": "latest", "vixtract_restore_dir": str(copies)},
                           playbook="playbooks/restore.yml")
    seconds = time.monotonic() - began
    assert rc == 0, out[-3000:]
    restored = re.search(r"restored on \S+ in ([\d.]+) s", out)
    assert restored and f"{report.group(1)} restored on {server_container(host)}" in out, out[-3000:]
    report_figure(f"restore onto a fresh server B: playbooks/restore.yml {seconds:.0f} s (deploy from the image "
                  f"cache, the restore itself {restored.group(1)} s, the inventory applied again)")

    # everything as it was on A
    after = state(host)
    for key, value in before.items():
        assert after[key] == value, (key, value, after[key])
    for name in [user["name"] for user in VARS["vixtract_users"]]:
        assert can_log_in(host, name, credential(f"users/{name}")), f"{name} cannot log in on B"
    ran = session(host, "run", ANALYST, password, "import restore_helper; print(restore_helper.GREETING)")
    assert ran["ok"] and ran["error"] is None and ran["stdout"].strip() == "from the shared library", ran
    reader = psql(host, "bi_reader", credential("postgres/bi_reader"), "SELECT count(*) FROM public.restore_sales")
    assert reader.rc == 0 and reader.stdout.strip() == "3", reader.stderr
    job = run_and_wait(host, EVENT["title"])
    assert job["code"] == 0, job
    assert scheduled_rows(host) == before["event rows"] + EVENT["parameters"]["rows"]

    rc, out = run_playbook()
    assert rc == 0 and changed_count(out) == 0, out[-3000:]
