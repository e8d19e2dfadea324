"""Shared helpers for the scenarios' testinfra tests (molecule/*/tests use them through this file).

- `converge(...)` re-applies site.yml to the scenario's servers with extra variables, the way an ops team
  changes a setting, and returns (rc, output).
- `credential(path)` reads a generated secret from the scenario's credentials directory.
- `stack_vars()` is the scenario's inventory as Molecule wrote it, so tests follow the inventory.
"""
import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

PROJECT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[3]))
EPHEMERAL = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent"))
INVENTORY = Path(os.environ.get("MOLECULE_INVENTORY_FILE", EPHEMERAL / "inventory/ansible_inventory.yml"))


def stack_vars():
    """group_vars/all of the scenario (as Molecule rendered it)."""
    path = EPHEMERAL / "inventory/group_vars/all"
    return yaml.safe_load(path.read_text()) if path.exists() else {}


def credential(relpath):
    """A secret generated into vixtract_credentials_dir, e.g. credential('users/anna.k')."""
    base = Path(stack_vars().get("vixtract_credentials_dir", EPHEMERAL / "credentials"))
    return (base / relpath).read_text().split()[0]


def run_playbook(extra_vars=None, tags=None, limit=None, playbook="playbooks/site.yml", check=False):
    env = dict(os.environ, ANSIBLE_CONFIG=str(PROJECT / "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=str(PROJECT / ".collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_FORCE_COLOR="0")
    cmd = ["ansible-playbook", "-i", str(INVENTORY.parent), str(PROJECT / playbook)]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    if tags:
        cmd += ["--tags", ",".join(tags)]
    if limit:
        cmd += ["--limit", limit]
    if check:
        cmd += ["--check"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)
    return proc.returncode, proc.stdout + proc.stderr


def changed_count(output):
    """Sum of changed= over the PLAY RECAP lines."""
    total = 0
    for line in output.splitlines():
        if " changed=" in line and " ok=" in line:
            total += int(line.split(" changed=")[1].split()[0])
    return total


@pytest.fixture(scope="module")
def converge():
    return run_playbook
