"""Values that cross components are decided once, in the contract (roles/vixtract/vars/main.yml), and every play
sees the same ones: evaluated by Ansible from the roles' own files, as site.yml's application play, an nginx-only
play and the backups' play load them. Expected values are written out by hand."""
import re

import pytest
from conftest import ROOT, evaluate_vars

SHOWN = ["nginx_jupyterhub_upstream", "nginx_cronicle_upstream"]
APP_PLAY = ["vixtract", "jupyterhub", "cronicle", "nginx"]


def test_nginx_reaches_the_hub_and_cronicle_where_their_roles_run_them(tmp_path):
    values = evaluate_vars(tmp_path, APP_PLAY, SHOWN + ["cronicle_container", "jupyterhub_port"], {})
    assert values == {"nginx_jupyterhub_upstream": "vixtract-jupyterhub:8000",
                      "nginx_cronicle_upstream": "vixtract-cronicle:3012",
                      "cronicle_container": "vixtract-cronicle", "jupyterhub_port": 8000}


@pytest.mark.parametrize("roles", [APP_PLAY, ["vixtract", "nginx"]], ids=["site.yml", "nginx alone"])
def test_a_changed_hub_port_or_cronicle_container_reaches_nginx(tmp_path, roles):
    """The inventory moves the Hub's port and renames Cronicle's container: nginx follows, in site.yml's
    application play and in a play that holds nginx alone (it once typed vixtract-jupyterhub:8000 again)."""
    values = evaluate_vars(tmp_path, roles, SHOWN, {"jupyterhub_port": 8100, "cronicle_container": "etl-cron"})
    assert values == {"nginx_jupyterhub_upstream": "vixtract-jupyterhub:8100",
                      "nginx_cronicle_upstream": "etl-cron:3012"}


def test_the_backups_keep_what_the_components_write_and_ask_their_containers(tmp_path):
    """The backups' play loads no component role: it still names the inventory's Cronicle container and copies
    the very directories nginx and PostgreSQL write their TLS material and keys to."""
    inventory = {"cronicle_container": "etl-cron", "vixtract_base_dir": "/srv/vx"}
    backup = evaluate_vars(tmp_path / "backup", ["vixtract"], ["vixtract_backup_config"],
                           inventory)["vixtract_backup_config"]
    assert backup["containers"] == {"postgres": "vixtract-postgres", "jupyterhub": "vixtract-jupyterhub",
                                    "cronicle": "etl-cron"}
    assert backup["files"] == {"nginx-tls": "/srv/vx/nginx/tls", "nginx-acme": "/srv/vx/nginx/acme",
                               "postgres-ca": "/srv/vx/postgres/ca"}
    written = evaluate_vars(tmp_path / "components", ["vixtract", "postgres", "nginx"],
                            ["nginx_tls_dir", "nginx_acme_dir", "postgres_ca_dir"], inventory)
    assert written == {"nginx_tls_dir": "/srv/vx/nginx/tls", "nginx_acme_dir": "/srv/vx/nginx/acme",
                       "postgres_ca_dir": "/srv/vx/postgres/ca"}


# Literals of values that cross components: the Hub's and Cronicle's container names and ports, and a component
# directory spelled out under vixtract_base_dir
CROSSING = re.compile(r"vixtract-(?:jupyterhub|cronicle)(?![\w-])|(?<![\w.])(?:8000|3012)(?!\d)"
                      r"|vixtract_base_dir \}\}/(?:postgres|jupyterhub|cronicle|nginx)\b")
# Lines that may keep one, and why
ALLOWED = {
    # Cronicle's master identity is its own container's hostname, which no other component reads
    ("roles/cronicle/defaults/main.yml", "cronicle_hostname: vixtract-cronicle"),
    # the loopback port Cronicle is published on for the role's own API calls: its own setting, on the host
    ("roles/cronicle/defaults/main.yml", "cronicle_loopback_port: 3012"),
}


def crossing_literals(root):
    found = []
    paths = [p for p in (root / "roles").rglob("*") if p.is_file()] + list((root / "playbooks").rglob("*.yml"))
    for path in paths:
        rel = str(path.relative_to(root))
        # the contract itself; argument specs mirror defaults/main.yml (tests/test_role_contracts.py); READMEs
        if rel == "roles/vixtract/vars/main.yml" or rel.endswith(("argument_specs.yml", ".md")) or "__pycache__" in rel:
            continue
        for line in path.read_text(errors="replace").splitlines():
            code = line.split("#", 1)[0] if path.suffix in {".yml", ".j2", ""} and not line.lstrip().startswith(
                ("CMD", "EXPOSE")) else line
            if CROSSING.search(code) and (rel, line.strip()) not in ALLOWED:
                found.append(f"{rel}: {line.strip()}")
    return found


def test_no_role_types_a_value_of_another_component_again():
    found = crossing_literals(ROOT)
    assert not found, "values the contract (roles/vixtract/vars/main.yml) decides, typed again:\n" + "\n".join(found)


def test_the_scan_finds_a_typed_upstream(tmp_path):
    role = tmp_path / "roles/nginx/defaults"
    role.mkdir(parents=True)
    (tmp_path / "playbooks").mkdir()
    (role / "main.yml").write_text('# JupyterHub\nnginx_jupyterhub_upstream: "vixtract-jupyterhub:8000"\n'
                                   'nginx_other: "{{ vixtract_base_dir }}/nginx/tls"  # a comment: 3012\n')
    assert crossing_literals(tmp_path) == ['roles/nginx/defaults/main.yml: nginx_jupyterhub_upstream: '
                                           '"vixtract-jupyterhub:8000"',
                                           'roles/nginx/defaults/main.yml: nginx_other: "{{ vixtract_base_dir }}/nginx'
                                           '/tls"  # a comment: 3012']
