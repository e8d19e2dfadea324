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
