"""Before the first change, each server checks the remote sources the run will need; one that does not answer
stops the run in the validation playbook, naming the variable and the alternatives.

The server here is this machine over a local connection: the checks only read, and the run stops in them."""
import os
import subprocess
import time

import yaml
from conftest import ROOT, tool


def run_validate(tmp_path, extra_vars, playbook="playbooks/site.yml", tags=()):
    inventory = tmp_path / "inventory"
    inventory.mkdir(parents=True)
    (inventory / "hosts.yml").write_text(yaml.safe_dump({"all": {
        "hosts": {"server": {"ansible_connection": "local", "ansible_python_interpreter": "/usr/bin/python3"}},
        "children": {"vixtract_db": {"hosts": {"server": None}}, "vixtract_app": {"hosts": {"server": None}}}}}))
    (tmp_path / "vars.yml").write_text(yaml.safe_dump(dict(extra_vars, vixtract_credentials_dir=str(tmp_path / "cred"))))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    start = time.monotonic()
    # site.yml itself: the check must stop it before the play that installs anything
    proc = subprocess.run([tool("ansible-playbook"), "-i", str(inventory), playbook,
                           "-e", f"@{tmp_path / 'vars.yml'}"] + (["--tags", ",".join(tags)] if tags else []),
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    return proc.returncode, proc.stdout + proc.stderr, time.monotonic() - start


# Sources that need nothing from the network, so that only the one under test can fail
OFFLINE = {"vixtract_base_image_source": "debootstrap", "cronicle_version": "0.9.106",
           "cronicle_nodejs_source": "debian", "vixtract_users": [{"name": "anna.k"}]}


def test_an_unreachable_cronicle_archive_url_stops_the_run_within_a_minute_naming_the_variable(tmp_path):
    rc, out, took = run_validate(tmp_path, dict(OFFLINE, cronicle_archive_url="http://127.0.0.1:9/cronicle.tar.gz"))
    assert rc != 0, out
    assert "cronicle_archive_url: http://127.0.0.1:9/cronicle.tar.gz cannot be had from this server" in out, out
    assert "Fix: cronicle_archive_src: a Cronicle release tarball on the controller" in out
    assert "or cronicle_enabled: false" in out
    assert "PLAY [Docker Engine on every server]" not in out, out
    assert took < 60, f"the run took {took:.0f} s to stop"


def test_nodesource_and_a_registry_that_do_not_resolve_name_their_alternatives(tmp_path):
    rc, out, _err = run_validate(tmp_path, dict(
        OFFLINE, cronicle_archive_src="/etc/hostname", cronicle_nodejs_source="nodesource",
        vixtract_base_image_source="pull", vixtract_base_image="registry.vixtract.invalid/debian:trixie-slim"))
    assert rc != 0, out
    assert "vixtract_base_image_source: https://registry.vixtract.invalid/v2/ cannot be had" in out, out
    assert "Fix: vixtract_base_image_source: debootstrap" in out
    assert "cronicle_nodejs_source: https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key" in out
    assert "cronicle_nodejs_source: debian (Node.js 20) with a cronicle_version that runs on it" in out
    assert "PLAY [Docker Engine on every server]" not in out, out


def test_a_run_limited_to_components_asks_only_for_their_sources(tmp_path):
    """--tags postgres builds nothing of Cronicle's: Cronicle's unreachable archive does not stop it; --tags cronicle
    asks for it. (validate.yml alone: nothing after validation runs on this machine.)"""
    bad = dict(OFFLINE, cronicle_archive_url="http://127.0.0.1:9/cronicle.tar.gz")
    rc, out, _took = run_validate(tmp_path / "postgres", bad, "playbooks/validate.yml", ["postgres"])
    assert rc == 0, out
    assert "cannot be had" not in out, out
    rc, out, _took = run_validate(tmp_path / "cronicle", bad, "playbooks/validate.yml", ["cronicle"])
    assert rc != 0, out
    assert "cronicle_archive_url: http://127.0.0.1:9/cronicle.tar.gz cannot be had from this server" in out, out


def test_components_switched_off_ask_for_nothing(tmp_path):
    """The Hub and Cronicle switched off: neither PyPI, npm nor Cronicle's archive is asked for, even through a proxy
    that answers nothing; switched on, the same run stops on them."""
    bad = dict(OFFLINE, cronicle_archive_url="http://127.0.0.1:9/cronicle.tar.gz",
               vixtract_http_proxy="http://127.0.0.1:9", vixtract_https_proxy="http://127.0.0.1:9")
    rc, out, _took = run_validate(tmp_path / "off", dict(bad, jupyterhub_enabled=False, cronicle_enabled=False),
                                  "playbooks/validate.yml", ["jupyterhub", "cronicle"])
    assert rc == 0, out
    assert "cannot be had" not in out, out
    rc, out, _took = run_validate(tmp_path / "on", bad, "playbooks/validate.yml", ["jupyterhub", "cronicle"])
    assert rc != 0, out
    assert "jupyterhub_version: https://pypi.org/simple/jupyterhub/ cannot be had from this server" in out, out
