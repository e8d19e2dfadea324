"""vixtract.stack.checks, the one task each role's validation is: each check is evaluated like an assert task of its
own (when, vars, loop, that, fail_msg), in order, lazily, and the first one that does not hold fails the task with
its message. Run through ansible-playbook, as the roles run it."""
import json
import os
import subprocess

import yaml

from conftest import ROOT, tool


def run_checks(tmp_path, checks, extra_vars=None, verbose=False):
    """The result of one vixtract.stack.checks task on localhost, and the run's whole output."""
    playbook = tmp_path / "checks.yml"
    playbook.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "the checks", "vixtract.stack.checks": {"checks": checks}}]}], sort_keys=False))
    (tmp_path / "vars.json").write_text(json.dumps(extra_vars or {}))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json")
    proc = subprocess.run([tool("ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook),
                           "-e", f"@{tmp_path / 'vars.json'}"] + (["-vvv"] if verbose else []),
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    start = proc.stdout.find("{")
    result = json.loads(proc.stdout[start:])["plays"][0]["tasks"][0]["hosts"]["localhost"]
    return result, proc.stdout + proc.stderr


def test_every_check_that_holds_passes(tmp_path):
    result, out = run_checks(tmp_path, [
        {"name": "a number", "that": "size | int > 2"},
        {"name": "two conditions", "that": ["size | int < 10", "name is match('^[a-z]+$')"]},
        {"name": "each item", "loop": "{{ names }}", "that": "item | length > 1"},
    ], {"size": 5, "name": "anna", "names": ["bi", "dana"]})
    assert not result.get("failed"), out
    assert result["msg"] == "3 checks passed, 0 did not apply"


def test_the_first_failing_check_fails_with_its_message_and_the_rest_is_never_evaluated(tmp_path):
    result, out = run_checks(tmp_path, [
        {"name": "holds", "that": "size | int > 2"},
        {"name": "too big", "that": "size | int < 4", "fail_msg": "size {{ size }} must be below 4"},
        # evaluating this one would fail the task with an undefined-variable error instead
        {"name": "never reached", "that": "no_such_variable.attribute == 1", "fail_msg": "{{ no_such_variable }}"},
    ], {"size": 5})
    assert result["failed"] is True, out
    assert result["msg"] == "size 5 must be below 4"
    assert result["check"] == "too big"
    assert "no_such_variable" not in out


def test_a_check_whose_when_is_false_is_not_templated_at_all(tmp_path):
    result, out = run_checks(tmp_path, [
        {"name": "only with a purge", "when": "purge | bool",
         "that": "purge_confirm == 'delete all data'", "fail_msg": "{{ purge_confirm }}"},
        {"name": "both conditions", "when": ["purge | bool", "undefined_flag"], "that": "false"},
    ], {"purge": False})
    assert not result.get("failed"), out
    assert result["msg"] == "0 checks passed, 2 did not apply"
    result, out = run_checks(tmp_path, [
        {"name": "only with a purge", "when": "purge | bool",
         "that": "purge_confirm == 'delete all data'", "fail_msg": "purge_confirm is {{ purge_confirm | to_json }}"},
    ], {"purge": True, "purge_confirm": "yes"})
    assert result["msg"] == 'purge_confirm is "yes"', out


def test_the_message_names_every_failing_item_with_the_checks_own_vars_and_loop_var(tmp_path):
    result, out = run_checks(tmp_path, [
        {"name": "networks", "loop": "{{ networks }}", "loop_var": "net",
         "vars": {"_prefix": "{{ net.split('/')[1] | default('') }}"},
         "that": ["_prefix | length > 0", "_prefix | int <= 32"],
         "fail_msg": "networks: {{ net | to_json }} is not a CIDR (prefix {{ _prefix | to_json }})"},
    ], {"networks": ["10.0.0.0/8", "192.0.2.0/33", "10.1.0.0"]})
    assert result["failed"] is True, out
    assert result["msg"] == ('networks: "192.0.2.0/33" is not a CIDR (prefix "33")\n'
                             'networks: "10.1.0.0" is not a CIDR (prefix "")')


def test_a_template_in_a_file_the_checks_read_is_shown_as_text_never_run(tmp_path):
    """The checks read files named by the inventory (CA certificates, a provided certificate and key), which may come
    from someone else: what such a file holds is data, shown as it is, never evaluated."""
    planted = tmp_path / "planted"
    pem = tmp_path / "ca.pem"
    pem.write_text("{{ lookup('ansible.builtin.pipe', 'touch " + str(planted) + "') }}\n")
    result, out = run_checks(tmp_path, [
        {"name": "a PEM file", "that": "'-----BEGIN CERTIFICATE-----' in lookup('ansible.builtin.file', ca)",
         "fail_msg": "ca is not PEM, it starts with {{ lookup('ansible.builtin.file', ca)[:30] | to_json }}"},
    ], {"ca": str(pem)})
    assert result["failed"] is True, out
    assert result["msg"] == 'ca is not PEM, it starts with "{{ lookup(\'ansible.builtin.pip"'
    assert not planted.exists()


def test_loop_items_are_never_shown_even_verbose(tmp_path):
    """A check over people sees their passwords: neither the result nor -vvv shows an item."""
    secret = "S3cret-only-in-the-item"
    result, out = run_checks(tmp_path, [
        {"name": "people", "loop": "{{ people }}", "that": "item.password | length >= 8",
         "fail_msg": "the password of {{ item.name }} is too short"},
    ], {"people": [{"name": "anna", "password": secret}, {"name": "bi", "password": "short"}]}, verbose=True)
    assert result["msg"] == "the password of bi is too short", out
    assert secret not in out.replace(str(tmp_path), "")
    assert "short" not in json.dumps({k: v for k, v in result.items() if k != "msg"})


def test_a_check_with_an_unknown_key_is_refused_naming_the_allowed_ones(tmp_path):
    result, out = run_checks(tmp_path, [{"name": "typo", "that": "true", "fail_mesage": "x"}])
    assert result["failed"] is True, out
    assert "check 'typo': needs name and that; unknown keys ['fail_mesage']" in result["msg"]
    assert "'fail_msg'" in result["msg"]


def test_a_check_whose_vars_are_not_a_mapping_is_refused_by_name(tmp_path):
    result, out = run_checks(tmp_path, [{"name": "listed vars", "vars": ["a", "b"], "that": "true"}])
    assert result["failed"] is True, out
    assert result["msg"] == "check 'listed vars': vars must be a mapping"


def test_an_error_inside_a_check_names_the_check(tmp_path):
    result, out = run_checks(tmp_path, [
        {"name": "holds", "that": "true"},
        {"name": "refers to nothing", "that": "no_such_setting | length > 0"},
    ])
    assert result["failed"] is True, out
    assert result["msg"].startswith("check 'refers to nothing': "), result["msg"]
    assert "no_such_setting" in result["msg"]


def test_items_that_fail_with_the_same_message_give_it_once(tmp_path):
    result, out = run_checks(tmp_path, [
        {"name": "ports", "loop": "{{ ports }}", "that": "item | int > 0",
         "fail_msg": "ports: every entry must be a positive number"},
    ], {"ports": [0, 80, -1, 0]})
    assert result["failed"] is True, out
    assert result["msg"] == "ports: every entry must be a positive number"
