"""Helpers for the fast checks: run ansible-playbook from this checkout against throw-away inventories."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def tool(name):
    found = BIN / name
    return str(found) if found.exists() else name


@pytest.fixture
def run_site(tmp_path):
    """Run playbooks/site.yml against one server that must never be contacted.

    The host points at a closed port on loopback: if any task tried to reach it, the run would
    report it UNREACHABLE. Returns (returncode, output)."""

    def run(extra_vars, host_vars=None, verbose=False, playbook="playbooks/site.yml", tags=None):
        inventory = tmp_path / "inventory"
        inventory.mkdir(exist_ok=True)
        host = {"ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": 9,
                "ansible_ssh_common_args": "-o ConnectTimeout=2"}
        host.update(host_vars or {})
        (inventory / "hosts.yml").write_text(yaml.safe_dump({"all": {
            "hosts": {"server": host},
            "children": {"vixtract_db": {"hosts": {"server": None}},
                         "vixtract_app": {"hosts": {"server": None}}}}}))
        (tmp_path / "vars.yml").write_text(yaml.safe_dump(extra_vars))
        env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                   ANSIBLE_FORCE_COLOR="0")
        proc = subprocess.run(
            [tool("ansible-playbook"), "-i", str(inventory), playbook, "-e", f"@{tmp_path / 'vars.yml'}"]
            + (["-vvv"] if verbose else []) + (["--tags", tags] if tags else []),
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
        return proc.returncode, proc.stdout + proc.stderr

    return run


def assert_stopped_in_validation(rc, out, message):
    """The run failed in the validation play with `message`, before any play that touches a server."""
    assert rc != 0, out
    assert message in out, out
    assert "PLAY [Validate the inventory before any host is touched]" in out
    assert "PLAY [Docker Engine on every server]" not in out
    assert "UNREACHABLE" not in out, out


def evaluate_vars(tmp_path, roles, names, inventory):
    """The values NAMES take in a play that loads ROLES' defaults and vars files (in that order, as a play holding
    those roles sees them), with INVENTORY's settings given as extra vars (the roles' defaults files would override
    play vars). Returns {name: value}."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    playbook = tmp_path / "show.yml"
    playbook.write_text(yaml.safe_dump([{
        "hosts": "localhost", "gather_facts": False,
        "vars_files": [str(ROOT / "roles" / role / kind / "main.yml") for role in roles for kind in ("defaults", "vars")
                       if (ROOT / "roles" / role / kind / "main.yml").exists()],
        "tasks": [{"ansible.builtin.debug": {"msg": "{{ {" + ", ".join(f"'{n}': {n}" for n in names) + "} }}"}}]}]))
    (tmp_path / "inventory.json").write_text(json.dumps(inventory))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json")
    proc = subprocess.run([tool("ansible-playbook"), "-i", "localhost,", str(playbook),
                           "-e", f"@{tmp_path / 'inventory.json'}"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]["msg"]
