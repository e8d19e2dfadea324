"""Uninstall, then site.yml: everything the stack ran is gone (containers, images, rendered configuration), the data
stayed, and site.yml brings the same stack back. This module runs before test_upgrade.py (conftest.py's order),
whose checks of what people made before the upgrade (same Hub records, event ids, job history, rows, passwords)
then hold on the reinstalled stack. The purge, which deletes the data too, is the scenario's last module
(test_wipe.py). A restore onto a server without data is test_restore.py's (a new server, its disks gone)."""
from vixtest.stack import COMPONENTS, DATA_VOLUMES as VOLUMES, changed_count

IMAGES = ["vixtract/postgres", "vixtract/jupyterhub", "vixtract/cronicle", "vixtract/nginx", "vixtract/base"]
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
