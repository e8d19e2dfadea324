"""Uninstall, then site.yml: everything the stack ran is gone (containers, images, rendered configuration), the data
stayed, and site.yml brings the same stack back. Then a backup copied to the controller, a purge (the server has no
data left, like a new one) and restore.yml from the copy. This module runs before test_upgrade.py (file order),
whose checks of what people made before the upgrade (same Hub records, event ids, job history, rows, passwords)
then hold on the restored stack."""
import re
import time

from vixtest.stack import ARTIFACTS, changed_count

COMPONENTS = ["vixtract-postgres", "vixtract-jupyterhub", "vixtract-cronicle", "vixtract-nginx"]
IMAGES = ["vixtract/postgres", "vixtract/jupyterhub", "vixtract/cronicle", "vixtract/nginx", "vixtract/base"]
VOLUMES = ["vixtract-postgres-data", "vixtract-jupyterhub-home", "vixtract-jupyterhub-lib",
           "vixtract-jupyterhub-users", "vixtract-jupyterhub-data", "vixtract-cronicle-data", "vixtract-cronicle-logs"]
# rendered configuration and build contexts (gone) and what clients trust (kept)
RENDERED = ["/opt/vixtract/postgres/conf", "/opt/vixtract/postgres/build", "/opt/vixtract/nginx/conf",
            "/opt/vixtract/nginx/html", "/opt/vixtract/build/base", "/opt/vixtract/build/nginx",
            "/opt/vixtract/build/jupyterhub", "/opt/vixtract/cronicle/build", "/opt/vixtract/cronicle/config.json",
            "/opt/vixtract/jupyterhub", "/usr/local/sbin/vixtract-backup", "/etc/vixtract/backup.json",
            "/etc/cron.d/vixtract-backup"]
# nginx's certificate (the scenario's TLS mode is selfsigned; PostgreSQL is not published, so it has no CA here)
KEPT = ["/opt/vixtract/nginx/tls/server.crt", "/opt/vixtract/nginx/tls/server.key"]


def lines(host, cmd):
    return host.check_output(cmd).split()


def test_uninstall_removes_what_ran_keeps_the_data_and_site_yml_brings_it_back(host, converge):
    volumes_before = set(lines(host, "docker volume ls -q"))
    assert set(VOLUMES) <= volumes_before, f"the scenario's stack lacks volumes: {set(VOLUMES) - volumes_before}"
    certificate_before = host.file(KEPT[0]).content

    rc, out = converge(playbook="playbooks/uninstall.yml")
    assert rc == 0, out[-3000:]
    assert not set(lines(host, "docker ps -a --format '{{.Names}}'")) & set(COMPONENTS)
    repositories = lines(host, "docker images --format '{{.Repository}}'")
    assert not set(repositories) & set(IMAGES), repositories
    assert set(lines(host, "docker volume ls -q")) == volumes_before
    present = [path for path in RENDERED if host.file(path).exists]
    assert not present, f"left after the uninstall: {present}"
    assert all(host.file(path).exists for path in KEPT), KEPT
    assert host.run("docker network inspect vixtract").rc != 0

    # a second uninstall finds nothing to do
    rc, out = converge(playbook="playbooks/uninstall.yml")
    assert rc == 0, out[-3000:]
    assert changed_count(out) == 0, out[-3000:]

    rc, out = converge()
    assert rc == 0, out[-3000:]
    assert set(lines(host, "docker ps --format '{{.Names}}'")) >= set(COMPONENTS)
    assert host.file(KEPT[0]).content == certificate_before, "nginx's certificate was replaced"
    rc, out = converge()
    assert rc == 0 and changed_count(out) == 0, out[-3000:]


def test_a_backup_copied_off_the_server_restores_the_stack_after_a_purge(host, converge, tmp_path):
    start = time.monotonic()
    rc, out = converge({"vixtract_backup_copy_dir": str(tmp_path)}, playbook="playbooks/backup.yml")
    assert rc == 0, out[-3000:]
    backup_seconds = time.monotonic() - start
    report = re.search(r"(/var/backups/vixtract/\S+): ([0-9.]+) MB in (\d+) files", out)
    assert report, out[-3000:]
    name = report.group(1).rsplit("/", 1)[1]
    assert (tmp_path / host.backend.get_hostname() / name / "manifest.json").is_file()

    rc, out = converge({"vixtract_purge": True, "vixtract_purge_confirm": "delete all data"},
                       playbook="playbooks/uninstall.yml")
    assert rc == 0, out[-3000:]
    assert not set(lines(host, "docker volume ls -q")) & set(VOLUMES)
    host.check_output("rm -rf /var/backups/vixtract")      # a new server has no backups of its own

    start = time.monotonic()
    rc, out = converge({"vixtract_restore_backup": "latest", "vixtract_restore_dir": str(tmp_path)},
                       playbook="playbooks/restore.yml")
    restore_seconds = time.monotonic() - start
    assert rc == 0, out[-3000:]
    assert f"{name} restored on " in out, out[-3000:]
    assert set(lines(host, "docker ps --format '{{.Names}}'")) >= set(COMPONENTS)
    assert set(VOLUMES) <= set(lines(host, "docker volume ls -q"))
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "backup-restore-upgrade.txt").write_text(
        f"backup: {report.group(2)} MB in {report.group(3)} files, playbooks/backup.yml {backup_seconds:.0f} s\n"
        f"restore onto the purged server (deploy, restore, re-apply): playbooks/restore.yml {restore_seconds:.0f} s\n")
    rc, out = converge()
    assert rc == 0 and changed_count(out) == 0, out[-3000:]
