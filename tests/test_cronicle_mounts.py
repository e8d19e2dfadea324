"""The Cronicle container mounts its own volumes and the Hub's under the Hub's names and paths, each path once: the
vars the role renders (roles/cronicle/vars/main.yml over roles/vixtract/vars/main.yml), evaluated by Ansible."""
import json
import os
import subprocess

import pytest
import yaml
from conftest import ROOT, tool

HUB = ["vixtract-jupyterhub-home:/home", "vixtract-jupyterhub-lib:/opt/vixtract/lib",
       "vixtract-jupyterhub-users:/var/lib/extrausers:ro"]
OWN = ["vixtract-cronicle-data:/opt/cronicle/data", "vixtract-cronicle-logs:/opt/cronicle/logs"]


def mounts(tmp_path, cronicle_volumes):
    playbook = tmp_path / "show.yml"
    playbook.write_text(yaml.safe_dump([{
        "hosts": "localhost", "gather_facts": False,
        "vars_files": [str(ROOT / "roles/vixtract/vars/main.yml"), str(ROOT / "roles/cronicle/vars/main.yml")],
        "vars": {"cronicle_volumes": cronicle_volumes},
        "tasks": [{"ansible.builtin.debug": {"msg": "MOUNTS={{ cronicle_mounts | to_json }}"}}]}]))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([tool("ansible-playbook"), "-i", "localhost,", str(playbook)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    line = next(line for line in proc.stdout.splitlines() if "MOUNTS=" in line)
    return json.loads(line.split("MOUNTS=", 1)[1].rstrip('"').replace('\\"', '"'))


@pytest.mark.parametrize("given, expected", [
    (OWN, OWN + HUB),
    # an inventory written for 1.0 listed the Hub's volumes itself: each path is mounted once, as the inventory says
    (OWN + ["vixtract-jupyterhub-home:/home", "vixtract-jupyterhub-lib:/opt/vixtract/lib",
            "vixtract-jupyterhub-users:/var/lib/extrausers:ro"], OWN + HUB),
    (["other-data:/opt/cronicle/data"], ["other-data:/opt/cronicle/data"] + HUB),
])
def test_the_hubs_volumes_are_mounted_once_under_the_hubs_names(tmp_path, given, expected):
    assert mounts(tmp_path, given) == expected
