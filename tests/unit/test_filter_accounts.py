"""accounts: the user and role model resolved in one place. Expected entries are written out by hand; generated
passwords are checked by their file (created once, 0600 in a 0700 directory) and by what a second call returns."""
import multiprocessing
import os
import re
import stat

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.vixtract.stack.plugins.filter.accounts import FilterModule, accounts


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_user_gets_every_key_and_generated_passwords_once(tmp_path):
    first = accounts([{"name": "anna.k", "postgres": True}], "users", str(tmp_path))
    password = (tmp_path / "users/anna.k").read_text().strip()
    pg_password = (tmp_path / "postgres/users/anna.k").read_text().strip()
    assert first == [{"name": "anna.k", "state": "present", "admin": False, "library": False, "postgres": True,
                      "cronicle": False, "password": password, "postgres_password": pg_password}]
    assert re.fullmatch(r"[A-Za-z0-9]{24}", password) and re.fullmatch(r"[A-Za-z0-9]{32}", pg_password)
    assert mode(tmp_path / "users/anna.k") == 0o600 and mode(tmp_path / "users") == 0o700
    assert accounts([{"name": "anna.k", "postgres": True}], "users", str(tmp_path)) == first


def test_a_given_password_is_kept_and_no_file_is_written(tmp_path):
    resolved = accounts([{"name": "bi", "password": "Given-Passw0rd"}], "users", str(tmp_path))
    assert resolved[0]["password"] == "Given-Passw0rd"
    assert resolved[0]["postgres_password"] == ""
    assert not (tmp_path / "users/bi").exists()
    assert not (tmp_path / "postgres").exists()


def test_an_absent_user_gets_no_password_and_no_file(tmp_path):
    resolved = accounts([{"name": "gone", "state": "absent", "postgres": True}], "users", str(tmp_path))
    assert resolved == [{"name": "gone", "state": "absent", "admin": False, "library": False, "postgres": True,
                         "cronicle": False, "password": "", "postgres_password": ""}]
    assert not tmp_path.joinpath("users").exists()


def test_files_written_by_ansible_password_lookup_are_read_as_they_are(tmp_path):
    """Earlier releases generated the files with ansible.builtin.password: 'PASSWORD\\n', or with ' salt=...'."""
    (tmp_path / "postgres/roles").mkdir(parents=True)
    (tmp_path / "postgres/roles/loader").write_text("OldPassword123\n")
    (tmp_path / "postgres/roles/etl").write_text("SaltedOne456 salt=abcdefgh\n")
    resolved = accounts([{"name": "loader"}, {"name": "etl", "member_of": ["vixtract_writer"], "state": "present"}],
                        "postgres_roles", str(tmp_path))
    assert resolved == [
        {"name": "loader", "state": "present", "attributes": "", "member_of": [], "password": "OldPassword123"},
        {"name": "etl", "state": "present", "attributes": "", "member_of": ["vixtract_writer"],
         "password": "SaltedOne456"}]


def test_read_only_roles_and_databases(tmp_path):
    roles = accounts([{"name": "report", "databases": ["etl"]}, {"name": "old", "databases": ["etl"], "state": "absent"}],
                     "readonly_roles", str(tmp_path))
    assert roles[0]["schemas"] == ["public"] and roles[0]["databases"] == ["etl"] and roles[0]["state"] == "present"
    assert roles[0]["password"] == (tmp_path / "postgres/roles/report").read_text().strip()
    assert roles[1] == {"name": "old", "databases": ["etl"], "state": "absent", "schemas": ["public"], "password": ""}
    assert accounts([{"name": "sales"}, {"name": "tmp", "state": "absent"}], "databases") == [
        {"name": "sales", "state": "present"}, {"name": "tmp", "state": "absent"}]


def resolve_in_a_process(credentials_dir, queue):
    queue.put(accounts([{"name": "race"}], "users", credentials_dir)[0]["password"])


def test_hosts_resolving_at_once_get_the_same_password(tmp_path):
    """Forks template for several hosts at the same time: whichever writes first, all read one password."""
    queue = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=resolve_in_a_process, args=(str(tmp_path), queue)) for _index in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    found = {queue.get(timeout=5) for _worker in workers}
    assert found == {(tmp_path / "users/race").read_text().strip()}
    assert [p.name for p in (tmp_path / "users").iterdir()] == ["race"], "no temporary file is left behind"


def test_without_the_credentials_directory_only_the_defaults(tmp_path, monkeypatch):
    """Validation asks for the defaults before the inventory is known to be valid: no password, no file."""
    monkeypatch.chdir(tmp_path)
    assert accounts([{"name": "anna.k", "postgres": True}, {"name": "bi", "state": "absent"}], "users") == [
        {"name": "anna.k", "state": "present", "admin": False, "library": False, "postgres": True, "cronicle": False},
        {"name": "bi", "state": "absent", "admin": False, "library": False, "postgres": False, "cronicle": False}]
    assert not list(tmp_path.iterdir())


def test_an_unknown_kind_is_an_error_that_names_the_kinds():
    with pytest.raises(AnsibleFilterError, match="unknown kind 'people' \\(one of databases, postgres_roles, "
                                                 "readonly_roles, users\\)"):
        accounts([{"name": "x"}], "people", "/tmp")


def test_the_filter_is_exported():
    assert FilterModule().filters() == {"accounts": accounts}


@pytest.mark.parametrize("name", ["../../etc/evil", "a/b", "..", ".hidden", ""])
def test_a_name_cannot_put_a_secret_outside_the_credentials_directory(tmp_path, name):
    credentials = tmp_path / "credentials"
    with pytest.raises(AnsibleFilterError, match="cannot name a file in the credentials directory"):
        accounts([{"name": name}], "users", str(credentials))
    assert not any(p.is_file() for p in tmp_path.rglob("*"))
