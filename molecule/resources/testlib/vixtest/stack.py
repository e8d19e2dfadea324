"""The scenario under test, as Molecule describes it to the verifier.

- `stack_vars()` is the scenario's inventory (group_vars/all as Molecule wrote it), so tests follow it.
- `credential(path)` reads a secret generated into the scenario's credentials directory.
- `run_playbook(...)` re-applies site.yml to the scenario's servers with extra variables, the way an ops team
  changes a setting; the `converge` fixture hands it to tests. Returns (rc, output).
- `roles_run(output)` names the roles a run touched after validation.
- `report_figure(text)` hands a measured figure to the CI summary.
- `outer_docker(...)` talks to the engine that runs the scenario's servers.
"""
import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
import yaml

PROJECT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[4]))
EPHEMERAL = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent"))
INVENTORY = Path(os.environ.get("MOLECULE_INVENTORY_FILE", EPHEMERAL / "inventory/ansible_inventory.yml"))
ARTIFACTS = PROJECT / "artifacts"
# The containers of a whole stack with the role defaults, in the order site.yml starts them, and the volumes that
# hold its data (what an uninstall keeps and a purge deletes)
COMPONENTS = ["vixtract-postgres", "vixtract-jupyterhub", "vixtract-cronicle", "vixtract-nginx"]
DATA_VOLUMES = ["vixtract-postgres-data", "vixtract-jupyterhub-home", "vixtract-jupyterhub-lib",
                "vixtract-jupyterhub-users", "vixtract-jupyterhub-data", "vixtract-cronicle-data",
                "vixtract-cronicle-logs"]


def stack_vars():
    """group_vars/all of the scenario (as Molecule rendered it)."""
    path = EPHEMERAL / "inventory/group_vars/all"
    return yaml.safe_load(path.read_text()) if path.exists() else {}


def stack_credentials():
    return Path(stack_vars().get("vixtract_credentials_dir", EPHEMERAL / "credentials"))


def credential(relpath):
    """A secret generated into vixtract_credentials_dir, e.g. credential('users/anna.k')."""
    return (stack_credentials() / relpath).read_text().split()[0]


def run_playbook(extra_vars=None, tags=None, limit=None, playbook="playbooks/site.yml", check=False, diff=False):
    env = dict(os.environ, ANSIBLE_CONFIG=str(PROJECT / "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=str(PROJECT / ".collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_FORCE_COLOR="0")
    env.setdefault("ANSIBLE_CALLBACKS_ENABLED", "ansible.posix.profile_tasks")
    cmd = ["ansible-playbook", "-i", str(INVENTORY.parent), str(PROJECT / playbook)]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    if tags:
        cmd += ["--tags", ",".join(tags)]
    if limit:
        cmd += ["--limit", limit]
    if check:
        cmd += ["--check"]
    if diff:
        cmd += ["--diff"]
    start = time.monotonic()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800, check=False)
    output = proc.stdout + proc.stderr
    log_run(cmd[3], extra_vars, tags, check, proc.returncode, time.monotonic() - start, output)
    return proc.returncode, output


def log_run(playbook, extra_vars, tags, check, rc, seconds, output):
    """One line per playbook a test runs, in artifacts/playbook-runs-<scenario>.log, with its slowest tasks: where
    a scenario's verify time goes (the variables' names only, never their values)."""
    tasks = sum(int(n) for n in re.findall(r" (?:ok|changed|failed|skipped)=(\d+)", "\n".join(
        line for line in output.splitlines() if " ok=" in line and " changed=" in line)))
    slowest = [line.strip() for line in output.splitlines() if re.search(r" -+ \d+\.\d+s$", line)][:3]
    test = os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0].split("::")[-1]
    line = (f"{seconds:6.1f}s rc={rc} tasks={tasks} changed={changed_count(output)} {Path(playbook).name}"
            f"{' --check' if check else ''} tags={','.join(tags or []) or '-'} vars={','.join(extra_vars or {}) or '-'}"
            f" test={test}\n" + "".join(f"    slowest: {task}\n" for task in slowest))
    try:
        ARTIFACTS.mkdir(exist_ok=True)
        with (ARTIFACTS / f"playbook-runs-{os.environ.get('MOLECULE_SCENARIO_NAME', 'local')}.log").open("a") as log:
            log.write(line)
    except OSError:
        pass  # a log that cannot be written never fails a test


def report_figure(text):
    """A measured figure the CI summary prints (artifacts/figures.log, a line each with the scenario's name): the
    numbers an issue asks a scenario to print, e.g. a backup's size and time."""
    ARTIFACTS.mkdir(exist_ok=True)
    with (ARTIFACTS / "figures.log").open("a") as log:
        log.write(f"{os.environ.get('MOLECULE_SCENARIO_NAME', 'local')}: {text}\n")


def roles_run(output):
    """The roles whose tasks ran after validation: what a run limited by --tags really touched. Validation runs
    whatever the tags: the validation play, and Ansible's check of each role's arguments against its spec."""
    deploy = output.split("PLAY [Docker Engine on every server]", 1)
    assert len(deploy) == 2, "not a site.yml run: " + output[-2000:]
    return set(re.findall(r"^TASK \[vixtract\.stack\.(\w+) : (?!Validating arguments against arg spec )", deploy[1],
                          re.M))


def changed_tasks(output):
    """The names of the tasks that reported a change ("changed: [host]" under "TASK [name]")."""
    changed, task = set(), None
    for line in output.splitlines():
        if line.startswith("TASK ["):
            task = line[len("TASK ["):].rsplit("]", 1)[0]
        elif line.startswith("changed: [") and task:
            changed.add(task)
    return changed


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


def outer_docker(*args, check=True, timeout=300, env=None):
    """The engine that runs the scenario's servers (the machine running the tests talks to it)."""
    proc = subprocess.run(["docker", *args], check=False, capture_output=True, text=True, timeout=timeout, env=env)
    if check:
        assert proc.returncode == 0, f"docker {' '.join(args[:3])}: {proc.stderr}"
    return proc


def server_container(host):
    """The server's container on the outer engine: Molecule names it after the inventory host."""
    return host.backend.get_hostname()


def running(host, name):
    """Whether container NAME runs on the server."""
    return host.run(f"docker inspect -f '{{{{.State.Running}}}}' {name}").stdout.strip() == "true"


def require_running(host, *names):
    """The scenario deploys these components on this server: a missing one is a failure, never a skip."""
    missing = [name for name in names if not running(host, name)]
    assert not missing, f"not running on this server: {', '.join(missing)}"
