"""The machinery role works when its caller was itself included (uninstall.yml includes each component's uninstall
tasks; test playbooks include docker_host's): it brings the stack-wide settings it reads through its own dependency
on the vixtract role, rather than relying on a play that loaded them. Here a component-like role, included by a play
that loads nothing else, includes the machinery's base-image lookup on this machine over a local connection: it only
reads (check mode), finds no stack base image and says so, which it can only do with the settings resolved."""
import os
import subprocess

import yaml
from conftest import ROOT, tool


def test_an_included_role_can_include_the_machinery(tmp_path):
    role = tmp_path / "roles/component"
    (role / "meta").mkdir(parents=True)
    (role / "tasks").mkdir()
    (role / "meta/main.yml").write_text(yaml.safe_dump({"dependencies": [{"role": "vixtract.stack.vixtract"}]}))
    (role / "tasks/main.yml").write_text(yaml.safe_dump([{
        "name": "Find the stack base image", "ansible.builtin.include_role": {
            "name": "vixtract.stack.machinery", "tasks_from": "base_image"}}]))
    (tmp_path / "play.yml").write_text(yaml.safe_dump([{
        "hosts": "vixtract_app", "gather_facts": False,
        "tasks": [{"name": "Include the component", "ansible.builtin.include_role": {"name": "component"}}]}]))
    local = {"ansible_connection": "local", "ansible_python_interpreter": str(ROOT / ".venv/bin/python")}
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump({"all": {"children": {
        "vixtract_db": {"hosts": {"server": local}}, "vixtract_app": {"hosts": {"server": None}}}}}))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_ROLES_PATH=str(tmp_path / "roles"),
               ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([tool("ansible-playbook"), "-i", str(tmp_path / "inventory.yml"), str(tmp_path / "play.yml"),
                           "-e", f"vixtract_credentials_dir={tmp_path / 'credentials'}",
                           "-e", f"vixtract_base_dir={tmp_path / 'base'}"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False)
    out = proc.stdout + proc.stderr
    assert "is undefined" not in out, out
    assert "server has no stack base image yet" in out, out
    assert "Run playbooks/site.yml without --tags (or with --tags docker_host) first." in out, out
    assert not (tmp_path / "base").exists(), "the lookup only reads"
