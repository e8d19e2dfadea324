"""The log of the playbooks a scenario's tests run (vixtest.stack.log_run) and the sum CI prints from it
(scripts/testrun.py's playbook_runs): one writes what the other reads, and no variable's value is written."""
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

OUTPUT = """PLAY RECAP *********************************************************************
vixtract-default           : ok=5    changed=1    unreachable=0    failed=0    skipped=2    rescued=0    ignored=0
vixtract.stack.postgres : Wait until the container is healthy ----------- 5.41s
vixtract.stack.cronicle : Cronicle accounts ------------------------------ 1.32s
Gathering Facts --------------------------------------------------------- 1.05s
vixtract.stack.nginx : Render the nginx configuration ------------------- 0.70s
"""


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def modules(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "molecule/resources/testlib"))
    monkeypatch.setenv("MOLECULE_SCENARIO_NAME", "probe")
    stack = load("vixtest_stack_under_test", ROOT / "molecule/resources/testlib/vixtest/stack.py")
    testrun = load("testrun_under_test", ROOT / "scripts/testrun.py")
    monkeypatch.setattr(stack, "ARTIFACTS", tmp_path)
    monkeypatch.setattr(testrun, "ART", tmp_path)
    yield stack, testrun
    for name in ("vixtest_stack_under_test", "testrun_under_test"):
        sys.modules.pop(name, None)


def test_a_run_is_logged_with_its_tasks_tags_variable_names_and_slowest_tasks(modules, tmp_path, monkeypatch):
    stack, _testrun = modules
    # the test that ran the playbook, as pytest names it while it runs
    monkeypatch.setenv("PYTEST_CURRENT_TEST", "tests/test_x.py::test_changes_a_setting[ansible://h] (call)")
    stack.log_run("/repo/playbooks/site.yml", {"postgres_superuser_password": "s3cret-value"}, ["postgres"], True,
                  0, 12.34, OUTPUT)
    log = (tmp_path / "playbook-runs-probe.log").read_text()
    assert log.splitlines() == [
        "  12.3s rc=0 tasks=8 changed=1 site.yml --check tags=postgres vars=postgres_superuser_password"
        " test=test_changes_a_setting[ansible://h]",
        "    slowest: vixtract.stack.postgres : Wait until the container is healthy ----------- 5.41s",
        "    slowest: vixtract.stack.cronicle : Cronicle accounts ------------------------------ 1.32s",
        "    slowest: Gathering Facts --------------------------------------------------------- 1.05s",
    ]
    assert "s3cret-value" not in log


def test_ci_sums_the_runs_of_a_scenario(modules, tmp_path):
    stack, testrun = modules
    assert testrun.playbook_runs("probe") == ""
    stack.log_run("/repo/playbooks/site.yml", None, None, False, 0, 12.4, OUTPUT)
    stack.log_run("/repo/playbooks/backup.yml", None, None, False, 2, 1003.2, "no recap")
    assert testrun.playbook_runs("probe") == \
        "; in verify, 2 playbook runs took 1016s: artifacts/playbook-runs-probe.log"
