"""roles/vixtract/files/vixtract-backup without Docker: what it keeps, what it deletes, what it refuses.

The components are absent here (the server runs none), so a backup holds what `files` names and the manifest;
the checks are on the backup directory the program leaves."""
import hashlib
import importlib.machinery
import importlib.util
import json
import os
import sys
from pathlib import Path

import pytest

PROGRAM = Path(__file__).resolve().parents[2] / "roles/vixtract/files/vixtract-backup"


@pytest.fixture()
def backup(monkeypatch):
    sys.dont_write_bytecode = True    # nothing may land beside the role's file
    loader = importlib.machinery.SourceFileLoader("vixtract_backup", str(PROGRAM))
    spec = importlib.util.spec_from_loader("vixtract_backup", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    monkeypatch.setattr(module, "container", lambda name: None)
    umask = os.umask(0o022)
    os.umask(umask)
    yield module
    os.umask(umask)                   # backup() sets its own: the other tests keep theirs


def config(root, keep=2, files=None):
    return {"dir": str(root), "keep": keep, "containers": {"postgres": "p", "jupyterhub": "j", "cronicle": "c"},
            "hub_database": ["/srv/jupyterhub/jupyterhub.sqlite", "v"], "files": files or {}}


def test_retention_keeps_the_newest_and_touches_nothing_else(backup, tmp_path):
    root = tmp_path / "backups"
    for name in ("20240101T000000Z", "20250101T000000Z", "20260101T000000Z", "notes", "20240101T000000Z.partial"):
        (root / name).mkdir(parents=True)
    (root / "README").write_text("kept")
    result = backup.backup(config(root, keep=2))
    new = Path(result["backup"]).name
    assert sorted(os.listdir(root)) == sorted([".lock", "20260101T000000Z", new, "notes", "README"])


def test_files_are_archived_private_and_listed_with_their_checksums(backup, tmp_path):
    source = tmp_path / "tls"
    source.mkdir()
    (source / "server.key").write_text("secret key")
    previous = os.umask(0o022)
    try:
        result = backup.backup(config(tmp_path / "b", files={"nginx-tls": str(source), "absent": str(tmp_path / "no")}))
    finally:
        os.umask(previous)
    out = Path(result["backup"])
    manifest = json.loads((out / "manifest.json").read_text())
    archive = out / "files/nginx-tls.tar"
    assert set(manifest["files"]) == {"files/nginx-tls.tar"}
    assert manifest["files"]["files/nginx-tls.tar"]["sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert result["files"] == 1 and result["bytes"] == archive.stat().st_size
    assert (tmp_path / "b").stat().st_mode & 0o777 == 0o700
    assert archive.stat().st_mode & 0o777 == 0o600 and (out / "manifest.json").stat().st_mode & 0o777 == 0o600


def test_a_second_run_while_one_holds_the_lock_is_refused(backup, tmp_path):
    import fcntl
    root = tmp_path / "b"
    root.mkdir()
    with open(root / ".lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(backup.BackupError, match="another backup is running"):
            backup.backup(config(root))
    assert sorted(os.listdir(root)) == [".lock"]


def test_a_failed_step_leaves_only_a_partial_directory_that_the_next_run_removes(backup, tmp_path, monkeypatch):
    root = tmp_path / "b"
    real_tar = backup.tar

    def disk_full(*_args):
        raise backup.BackupError("tar: disk full")

    monkeypatch.setattr(backup, "tar", disk_full)
    source = tmp_path / "tls"
    source.mkdir()
    with pytest.raises(backup.BackupError, match="disk full"):
        backup.backup(config(root, files={"nginx-tls": str(source)}))
    assert [n for n in os.listdir(root) if not n.startswith(".")][0].endswith(".partial")
    monkeypatch.setattr(backup, "tar", real_tar)
    result = backup.backup(config(root, files={"nginx-tls": str(source)}))
    assert sorted(n for n in os.listdir(root) if not n.startswith(".")) == [Path(result["backup"]).name]


def _backup_with_one_file(backup, tmp_path):
    source = tmp_path / "tls"
    source.mkdir()
    (source / "server.key").write_text("secret key")
    return Path(backup.backup(config(tmp_path / "b", files={"nginx-tls": str(source)}))["backup"])


def test_a_restore_refuses_a_changed_file_before_it_changes_anything(backup, tmp_path, monkeypatch):
    out = _backup_with_one_file(backup, tmp_path)
    with open(out / "files/nginx-tls.tar", "ab") as f:
        f.write(b"tampered")
    monkeypatch.setattr(backup, "run", lambda *a, **k: pytest.fail(f"ran {a} before the backup was checked"))
    with pytest.raises(backup.BackupError, match="sha256 differs"):
        backup.restore(config(tmp_path / "b", files={"nginx-tls": str(tmp_path / "target")}), str(out))
    assert not (tmp_path / "target").exists()


def test_a_restore_refuses_a_manifest_that_names_a_file_outside_the_backup(backup, tmp_path, monkeypatch):
    out = _backup_with_one_file(backup, tmp_path)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["files"]["../../etc/passwd"] = {"bytes": 1, "sha256": "0" * 64}
    (out / "manifest.json").write_text(json.dumps(manifest))
    monkeypatch.setattr(backup, "run", lambda *a, **k: pytest.fail(f"ran {a} before the backup was checked"))
    with pytest.raises(backup.BackupError, match="outside the backup"):
        backup.restore(config(tmp_path / "b"), str(out))


def _backup_with_databases(backup, tmp_path, monkeypatch, databases=("etl", "postgres")):
    """A backup as a server with PostgreSQL and the Hub leaves it: dumps, globals, a volume and a TLS archive."""
    out = tmp_path / "20261204T000000Z"
    for rel in [f"postgres/{db}.dump" for db in databases] + ["postgres/globals.sql", "volumes/vixtract-home.tar",
                                                              "files/nginx-tls.tar"]:
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(rel.encode())
    files = {str(p.relative_to(out)): {"bytes": p.stat().st_size, "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
             for p in out.rglob("*") if p.is_file()}
    (out / "manifest.json").write_text(json.dumps({"databases": list(databases), "volumes": ["vixtract-home"],
                                                   "files": files}))
    ran = []
    monkeypatch.setattr(backup, "container", lambda name: {"State": {"Running": True}})
    monkeypatch.setattr(backup, "run", lambda argv, stdout=None, stdin=None: ran.append(argv) or "")
    monkeypatch.setattr(backup, "users_of", lambda volume: pytest.fail(f"looked at the users of {volume}"))
    return out, ran


def test_restore_databases_brings_back_every_database_from_template1_and_nothing_else(backup, tmp_path, monkeypatch):
    """The reload of a PostgreSQL major upgrade: the roles, then each database dropped and re-created from its dump,
    `postgres` too (the new server's is empty), from template1; no volume, no file."""
    out, ran = _backup_with_databases(backup, tmp_path, monkeypatch)
    target = tmp_path / "tls"
    result = backup.restore(config(tmp_path, files={"nginx-tls": str(target)}), str(out), databases_only=True)
    assert result["databases"] == ["etl", "postgres"] and result["volumes"] == [] and result["files"] == []
    tail = [argv[6:] for argv in ran]
    assert tail == [
        ["psql", "-X", "-q", "-d", "template1"],
        ["psql", "-X", "-q", "-d", "template1", "-c", 'DROP DATABASE IF EXISTS "etl" WITH (FORCE)'],
        ["pg_restore", "--create", "--exit-on-error", "-d", "template1"],
        ["psql", "-X", "-q", "-d", "template1", "-c", 'DROP DATABASE IF EXISTS "postgres" WITH (FORCE)'],
        ["pg_restore", "--create", "--exit-on-error", "-d", "template1"],
    ], ran
    assert not target.exists()


def test_restore_databases_refuses_a_backup_without_the_servers_databases(backup, tmp_path, monkeypatch):
    out, ran = _backup_with_databases(backup, tmp_path, monkeypatch, databases=())
    with pytest.raises(backup.BackupError, match="holds no databases of PostgreSQL"):
        backup.restore(config(tmp_path), str(out), databases_only=True)
    assert ran == []


def test_a_whole_restore_leaves_the_postgres_database_alone(backup, tmp_path, monkeypatch):
    """playbooks/restore.yml over a deployed server: the databases but `postgres`, from it (the upgrade's reload
    differs only there); volumes and files are the whole restore's."""
    out, ran = _backup_with_databases(backup, tmp_path, monkeypatch)
    monkeypatch.setattr(backup, "users_of", lambda volume: [])
    monkeypatch.setattr(backup, "volume_dir", lambda volume: str(tmp_path / "volume"))
    (tmp_path / "volume").mkdir()
    result = backup.restore(config(tmp_path, files={"nginx-tls": str(tmp_path / "tls")}), str(out))
    assert result["databases"] == ["etl"] and result["volumes"] == ["vixtract-home"]
    assert result["files"] == ["nginx-tls"]
    assert [argv[6:9] for argv in ran[:3]] == [["psql", "-X", "-q"]] * 2 + [["pg_restore", "--create",
                                                                             "--exit-on-error"]]
    assert all("template1" not in argv for argv in ran), ran


def test_a_restore_restarts_the_containers_that_mount_the_restored_files_and_only_them(backup, tmp_path, monkeypatch):
    """nginx reads its certificate and key at start: after they came back from the backup it is restarted, or it
    would go on serving the ones the deploy made; a container that mounts other directories is left running."""
    out, ran = _backup_with_databases(backup, tmp_path, monkeypatch, databases=())
    tls = tmp_path / "nginx/tls"
    mounts = {"n1": [{"Source": str(tls)}], "h1": [{"Source": str(tmp_path / "nginx/tlsx")}, {"Source": "/srv"}],
              "p1": [{"Source": str(tmp_path / "other")}], "s1": [{"Source": str(tls / "live")}]}
    monkeypatch.setattr(backup, "container", lambda name: {"State": {"Running": True}, "Mounts": mounts.get(name, [])})
    monkeypatch.setattr(backup, "users_of", lambda volume: [])
    monkeypatch.setattr(backup, "volume_dir", lambda volume: str(tmp_path / "volume"))
    (tmp_path / "volume").mkdir()

    def fake_run(argv, stdout=None, stdin=None):
        ran.append(argv)
        return "n1\nh1\np1\ns1\n" if argv == ["docker", "ps", "-q"] else ""

    monkeypatch.setattr(backup, "run", fake_run)
    result = backup.restore(config(tmp_path, files={"nginx-tls": str(tls)}), str(out))
    assert result["files"] == ["nginx-tls"]
    restarts = [argv for argv in ran if argv[:2] == ["docker", "restart"]]
    assert restarts == [["docker", "restart", "n1"], ["docker", "restart", "s1"]]
    tar = next(i for i, argv in enumerate(ran) if argv[0] == "tar" and str(tls) in argv)
    assert ran.index(["docker", "restart", "n1"]) > tar
