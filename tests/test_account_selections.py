"""What the roles select from the user and role model (plugins/filter/accounts.py), evaluated by Ansible from the
roles' own vars files with one inventory of every kind of entry. Expected names are written out by hand."""
from conftest import evaluate_vars

INVENTORY = {
    "vixtract_users": [
        {"name": "anna.k", "postgres": True, "admin": True},
        {"name": "bi"},
        {"name": "olga", "postgres": True, "state": "present"},
        {"name": "gone", "postgres": True, "state": "absent"},
    ],
    "postgres_roles": [
        {"name": "loader", "member_of": ["etl_writer"]},
        # an explicit state: present is a writer too (it once dropped out of the writers)
        {"name": "etl2", "member_of": ["etl_writer"], "state": "present"},
        {"name": "viewer"},
        {"name": "old_loader", "state": "absent"},
    ],
    "postgres_readonly_roles": [
        {"name": "report", "databases": ["etl"]},
        {"name": "old_report", "databases": ["etl"], "state": "absent"},
    ],
    "postgres_databases": [{"name": "sales"}, {"name": "crm", "state": "present"}, {"name": "tmp", "state": "absent"}],
}
SHOWN = ["postgres_user_logins", "postgres_writers", "postgres_absent_roles", "postgres_database_names"]


def evaluate(tmp_path, names):
    return evaluate_vars(tmp_path, ["vixtract", "postgres"], names,
                         dict(INVENTORY, vixtract_credentials_dir=str(tmp_path / "credentials")))


def test_the_postgres_role_selects_logins_writers_absent_roles_and_databases(tmp_path):
    values = evaluate(tmp_path, SHOWN)
    assert values["postgres_user_logins"] == ["anna.k", "olga"]
    assert values["postgres_writers"] == ["etl_writer", "anna.k", "olga", "loader", "etl2"]
    assert values["postgres_absent_roles"] == ["gone", "old_loader", "old_report"]
    assert values["postgres_database_names"] == ["etl", "sales", "crm"]
    assert not (tmp_path / "credentials").exists(), "names only: no password was generated for them"


def test_resolved_roles_carry_the_passwords_kept_in_the_credentials_directory(tmp_path):
    values = evaluate(tmp_path, ["postgres_roles_resolved", "postgres_readonly_roles_resolved",
                                 "vixtract_users_resolved"])
    credentials = tmp_path / "credentials"
    roles = {r["name"]: r for r in values["postgres_roles_resolved"]}
    assert roles["loader"]["password"] == (credentials / "postgres/roles/loader").read_text().strip()
    assert roles["old_loader"]["password"] == "" and not (credentials / "postgres/roles/old_loader").exists()
    readers = values["postgres_readonly_roles_resolved"]
    assert [r["name"] for r in readers] == ["bi_reader", "report", "old_report"]
    assert readers[0]["password"] == (credentials / "postgres/bi_reader").read_text().strip()
    users = {u["name"]: u for u in values["vixtract_users_resolved"]}
    assert users["bi"]["password"] == (credentials / "users/bi").read_text().strip()
    assert users["bi"]["postgres_password"] == "" and users["gone"]["password"] == ""
    assert users["olga"]["postgres_password"] == (credentials / "postgres/users/olga").read_text().strip()
