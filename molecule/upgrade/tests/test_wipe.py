"""The end of a stack: uninstall.yml with both keys of a purge deletes the data too (every volume, nginx's
certificate), and keeps the backups, which are what a purge cannot take back. It deletes what the other modules
check, so it runs last (conftest.py's order), on the server test_restore.py brought back from its backup."""
from vixtest.stack import COMPONENTS, DATA_VOLUMES

BACKUPS = "/var/backups/vixtract"
CERTIFICATE = "/opt/vixtract/nginx/tls/server.crt"


def names(host, cmd):
    return set(host.check_output(cmd).split())


def test_a_purge_deletes_the_data_and_keeps_the_backups(host, converge):
    assert set(DATA_VOLUMES) <= names(host, "docker volume ls -q"), "the stack's volumes are missing before the purge"
    assert host.file(CERTIFICATE).exists
    # stands for the backups an ops team has: they stay
    host.check_output(f"mkdir -p {BACKUPS}/20260101T000000Z && echo kept > {BACKUPS}/20260101T000000Z/marker")

    purge = {"vixtract_purge": True, "vixtract_purge_confirm": "delete all data"}
    rc, out = converge(purge, playbook="playbooks/uninstall.yml")
    assert rc == 0, out[-3000:]
    assert not names(host, "docker ps -a --format '{{.Names}}'") & set(COMPONENTS)
    left = names(host, "docker volume ls -q") & set(DATA_VOLUMES)
    assert not left, f"volumes left after the purge: {left}"
    assert not host.file(CERTIFICATE).exists, "nginx's certificate is data: a purge deletes it"
    assert host.file(f"{BACKUPS}/20260101T000000Z/marker").content_string == "kept\n"
