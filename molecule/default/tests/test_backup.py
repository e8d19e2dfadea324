"""playbooks/backup.yml on the deployed stack (issue 13): what a backup holds, that it is whole and restorable,
private, kept to vixtract_backup_keep, scheduled by cron, and that a user's planted link reads nothing into it.

Expected values come from the stack itself (a row written here, a file put in a home), from sha256sum and
pg_restore, never from the backup program's own report. The module leaves the server as the inventory has it:
no schedule (site.yml's re-apply stays changed=0), backups in /var/backups/vixtract.
"""
import hashlib
import json
import shlex
import uuid

import pytest
from vixtest.pg import CONTAINER, superuser
from vixtest.stack import COMPONENTS, changed_count, require_running, run_playbook, stack_vars

BACKUP_DIR = "/var/backups/vixtract"
ANALYST = "anna.k"
PROBE = uuid.uuid4().hex[:12]


def backups(host):
    out = host.check_output(f"ls -1 {BACKUP_DIR}")
    return sorted(name for name in out.split() if name[:8].isdigit() and name.endswith("Z"))


def manifest(host, name):
    return json.loads(host.check_output(f"cat {BACKUP_DIR}/{name}/manifest.json"))


@pytest.fixture(scope="module")
def backed_up(host, tmp_path_factory):
    """A row in the ETL database, a notebook and a link to the Hub's cookie secret in the analyst's home, then
    playbooks/backup.yml with a copy to the controller."""
    require_running(host, CONTAINER, "vixtract-jupyterhub", "vixtract-cronicle", "vixtract-nginx")
    assert superuser(host, f"DROP TABLE IF EXISTS backup_probe; CREATE TABLE backup_probe (v text); "
                           f"INSERT INTO backup_probe VALUES ('{PROBE}')").rc == 0
    home = f"/home/{ANALYST}"
    host.check_output(f"docker exec vixtract-jupyterhub setpriv --reuid={ANALYST} --regid={ANALYST} --init-groups sh -c "
                      + shlex.quote(f"echo '{{\"probe\": \"{PROBE}\"}}' > {home}/backup-probe.ipynb && "
                                    f"ln -sfn /srv/jupyterhub/jupyterhub_cookie_secret {home}/secret-link"))
    copy_dir = tmp_path_factory.mktemp("backup-copies")
    before = set(backups(host)) if host.file(BACKUP_DIR).exists else set()
    rc, out = run_playbook({"vixtract_backup_copy_dir": str(copy_dir)}, playbook="playbooks/backup.yml")
    assert rc == 0, out
    new = sorted(set(backups(host)) - before)
    assert len(new) == 1, (new, out)
    yield {"name": new[0], "out": out, "copy": copy_dir / "vixtract-default" / new[0]}
    host.run(f"docker exec vixtract-jupyterhub rm -f {home}/backup-probe.ipynb {home}/secret-link")
    superuser(host, "DROP TABLE IF EXISTS backup_probe")


def test_the_backup_is_reported_with_its_size_and_time(backed_up):
    assert f"{BACKUP_DIR}/{backed_up['name']}: " in backed_up["out"]
    assert " MB in " in backed_up["out"] and "written and verified in" in backed_up["out"]


def test_every_file_matches_the_manifest_checksums(host, backed_up):
    files = manifest(host, backed_up["name"])["files"]
    expected = {"postgres/etl.dump", "postgres/globals.sql", "volumes/vixtract-jupyterhub-home.tar",
                "volumes/vixtract-jupyterhub-lib.tar", "volumes/vixtract-jupyterhub-users.tar",
                "volumes/vixtract-jupyterhub-data.tar", "volumes/vixtract-cronicle-data.tar", "files/nginx-tls.tar"}
    assert expected <= set(files), sorted(files)
    out = host.check_output(f"cd {BACKUP_DIR}/{backed_up['name']} && find . -type f ! -name manifest.json "
                            "-printf '%P\\n' | sort | xargs sha256sum")
    actual = {line.split()[1]: line.split()[0] for line in out.splitlines()}
    assert actual == {rel: meta["sha256"] for rel, meta in files.items()}


def test_the_database_dump_restores_the_rows_and_the_roles_keep_their_password_hashes(host, backed_up):
    path = f"{BACKUP_DIR}/{backed_up['name']}/postgres"
    scratch = f"restore_{PROBE}"
    assert superuser(host, f"CREATE DATABASE {scratch}", db="postgres").rc == 0
    try:
        restore = host.run(f"docker exec -i -u postgres {CONTAINER} pg_restore --no-owner -d {scratch} "
                           f"< {path}/etl.dump")
        assert restore.rc == 0, restore.stderr
        assert superuser(host, "SELECT v FROM backup_probe", db=scratch).stdout.strip() == PROBE
    finally:
        superuser(host, f"DROP DATABASE IF EXISTS {scratch}", db="postgres")
    scram = superuser(host, f"SELECT rolpassword FROM pg_authid WHERE rolname = '{ANALYST}'", db="postgres")
    globals_sql = host.check_output(f"cat {path}/globals.sql")
    assert f'CREATE ROLE "{ANALYST}";' in globals_sql
    assert f"PASSWORD '{scram.stdout.strip()}'" in globals_sql


def test_homes_hold_the_notebook_and_a_planted_link_stays_a_link(host, backed_up):
    tar = f"{BACKUP_DIR}/{backed_up['name']}/volumes/vixtract-jupyterhub-home.tar"
    notebook = host.check_output(f"tar -xOf {tar} ./{ANALYST}/backup-probe.ipynb")
    assert PROBE in notebook
    listing = host.check_output(f"tar -tvf {tar} ./{ANALYST}/secret-link")
    assert listing.startswith("l") and "-> /srv/jupyterhub/jupyterhub_cookie_secret" in listing
    secret = host.check_output("cat /var/lib/docker/volumes/vixtract-jupyterhub-data/_data/jupyterhub_cookie_secret")
    assert secret.strip()
    assert host.run(f"tar -xOf {tar} | grep -qaF {shlex.quote(secret.strip())}").rc == 1


def test_the_hub_database_is_a_whole_sqlite_file_with_the_users(host, backed_up):
    tar = f"{BACKUP_DIR}/{backed_up['name']}/volumes/vixtract-jupyterhub-data.tar"
    work = f"/tmp/hubdb-{PROBE}"
    try:
        host.check_output(f"mkdir -p {work} && tar -xf {tar} -C {work} ./jupyterhub.sqlite")
        query = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
                 "print(c.execute('PRAGMA integrity_check').fetchone()[0]); "
                 "print(' '.join(r[0] for r in c.execute('SELECT name FROM users ORDER BY name')))")
        out = host.check_output(f"python3 -c {shlex.quote(query)} {work}/jupyterhub.sqlite").splitlines()
        assert out[0] == "ok"
        assert ANALYST in out[1].split()
        assert host.check_output(f"stat -c %a {work}/jupyterhub.sqlite") == "600"
    finally:
        host.run(f"rm -rf {work}")
    assert not host.check_output("ls -A /var/lib/docker/volumes/vixtract-jupyterhub-data/_data").count(".vixtract-backup")


def test_cronicle_data_holds_the_schedules_and_cronicle_runs_on(host, backed_up):
    tar = f"{BACKUP_DIR}/{backed_up['name']}/volumes/vixtract-cronicle-data.tar"
    # job logs in there are gzip: searched as bytes on the server
    for event in stack_vars()["cronicle_events"]:
        found = host.run(f"tar -xOf {tar} | grep -qaF {shlex.quote(json.dumps(event['title']))}")
        assert found.rc == 0, event["title"]
    state = json.loads(host.check_output("docker inspect -f '{{json .State}}' vixtract-cronicle"))
    assert state["Running"] and not state["Paused"]


def test_only_root_reads_the_backups_and_no_container_mounts_them(host, backed_up):
    for path in (BACKUP_DIR, f"{BACKUP_DIR}/{backed_up['name']}"):
        assert host.check_output(f"stat -c '%a %U' {path}") == "700 root"
    readable = host.check_output(f"find {BACKUP_DIR} -type f -perm /077")
    assert readable == "", readable
    for name in host.check_output("docker ps --format '{{.Names}}'").split():
        mounts = json.loads(host.check_output(f"docker inspect -f '{{{{json .Mounts}}}}' {name}"))
        assert not [m for m in mounts if m["Source"].startswith("/var/backups")], (name, mounts)


def test_the_controller_copy_is_private_and_identical(host, backed_up):
    copy = backed_up["copy"]
    assert (copy.parent.stat().st_mode & 0o777) == 0o700
    files = manifest(host, backed_up["name"])["files"]
    for rel, meta in files.items():
        assert hashlib.sha256((copy / rel).read_bytes()).hexdigest() == meta["sha256"], rel
    assert json.loads((copy / "manifest.json").read_text())["files"] == files


def test_retention_keeps_the_newest_backups(host, backed_up):
    for _attempt in range(2):
        rc, out = run_playbook({"vixtract_backup_keep": 2}, playbook="playbooks/backup.yml")
        assert rc == 0, out
    kept = backups(host)
    assert len(kept) == 2, kept
    assert backed_up["name"] < kept[0], kept


def test_the_schedule_is_a_cron_entry_that_runs_the_backup_and_goes_when_unset(host, backed_up):
    rc, out = run_playbook({"vixtract_backup_schedule": "17 3 * * *"}, tags=["backup"])
    assert rc == 0, out
    entry = host.file("/etc/cron.d/vixtract-backup")
    assert entry.exists and entry.user == "root" and entry.mode == 0o644
    line = [x for x in entry.content_string.splitlines() if x and not x.startswith(("#", "SHELL", "PATH"))]
    assert line == ["17 3 * * * root /usr/local/sbin/vixtract-backup >>/var/log/vixtract-backup.log 2>&1"]
    assert host.run("pgrep -x cron").rc == 0
    again, out = run_playbook({"vixtract_backup_schedule": "17 3 * * *"}, tags=["backup"])
    assert again == 0 and changed_count(out) == 0, out
    # what cron runs, with cron's environment
    before = backups(host)
    run = host.run("env -i SHELL=/bin/sh PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "
                   "sh -c '/usr/local/sbin/vixtract-backup'")
    assert run.rc == 0, run.stderr
    assert json.loads(run.stdout.splitlines()[-1])["backup"].rsplit("/", 1)[1] not in before
    rc, out = run_playbook(None, tags=["backup"])
    assert rc == 0, out
    assert not host.file("/etc/cron.d/vixtract-backup").exists


def test_a_second_backup_while_one_runs_is_refused(host, backed_up):
    """The lock: cron and an operator at the same minute never write into each other's backup."""
    hold = host.run(f"python3 -c \"import fcntl, time; f = open('{BACKUP_DIR}/.lock', 'w'); "
                    f"fcntl.flock(f, fcntl.LOCK_EX); "
                    f"import subprocess; print(subprocess.run(['/usr/local/sbin/vixtract-backup'], "
                    f"capture_output=True, text=True).stderr)\"")
    assert hold.rc == 0, hold.stderr
    assert "another backup is running" in hold.stdout


def test_a_restore_names_a_missing_backup_and_changes_nothing(host, backed_up):
    before = backups(host)
    rc, out = run_playbook({"vixtract_restore_backup": "20990101T000000Z",
                            "vixtract_restore_dir": str(backed_up["copy"].parents[1])}, playbook="playbooks/restore.yml")
    assert rc != 0
    assert "vixtract_restore_backup '20990101T000000Z': no such backup of vixtract-default" in out, out[-3000:]
    assert f"There are: {backed_up['name']}" in " ".join(out.split()), out[-3000:]
    assert "PLAY [Deploy the stack]" not in out and "PLAY [Restore every server]" not in out
    assert backups(host) == before


def test_a_restore_over_the_running_stack_needs_its_confirmation_then_brings_the_backup_back(host, backed_up):
    """The analyst's notebook and the probe row are gone after the backup; the restore brings them back, from the
    controller's copy, after a backup of the current state; the inventory's re-apply then changes nothing."""
    home = f"/var/lib/docker/volumes/vixtract-jupyterhub-home/_data/{ANALYST}"
    host.check_output(f"rm -f {home}/backup-probe.ipynb")
    assert superuser(host, "DROP TABLE backup_probe").rc == 0
    source = {"vixtract_restore_backup": backed_up["name"], "vixtract_restore_dir": str(backed_up["copy"].parents[1])}

    rc, out = run_playbook(source, playbook="playbooks/restore.yml")
    assert rc != 0
    assert "To do it, also set vixtract_restore_confirm='replace the data'" in " ".join(out.split()), out[-3000:]
    assert "PLAY [Deploy the stack]" not in out
    assert not host.file(f"{home}/backup-probe.ipynb").exists

    before = backups(host)
    rc, out = run_playbook(dict(source, vixtract_restore_confirm="replace the data"), playbook="playbooks/restore.yml")
    assert rc == 0, out[-3000:]
    assert f"{backed_up['name']} restored on vixtract-default in " in out
    assert superuser(host, "SELECT v FROM backup_probe").stdout.strip() == PROBE
    assert PROBE in host.file(f"{home}/backup-probe.ipynb").content_string
    # the state it replaced was backed up first: without the probe table
    taken = sorted(set(backups(host)) - set(before))
    assert len(taken) == 1, taken
    listing = host.check_output(f"docker exec -i -u postgres {CONTAINER} pg_restore --list "
                                f"< {BACKUP_DIR}/{taken[0]}/postgres/etl.dump")
    assert "backup_probe" not in listing
    assert not host.file(f"{BACKUP_DIR}/.restore").exists
    for name in COMPONENTS:
        assert host.check_output(f"docker inspect -f '{{{{.State.Health.Status}}}}' {name}") == "healthy", name
    rc, out = run_playbook()
    assert rc == 0 and changed_count(out) == 0, out[-3000:]
