"""A reboot of the server (a restart of its container): every component comes back by itself, healthy,
Cronicle as master with its events, and the data is still there. Runs last: it disturbs every container."""
import json
import subprocess
import time
from pathlib import Path

import pytest

from conftest import stack_vars

VARS = stack_vars()
COMPONENTS = ["vixtract-postgres", "vixtract-jupyterhub", "vixtract-nginx"]
if Path(VARS.get("cronicle_archive_src") or "/nonexistent").is_file():
    COMPONENTS.append("vixtract-cronicle")


def states(host):
    out = host.run("docker inspect -f '{{.Name}} {{.State.Status}} "
                   "{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' " + " ".join(COMPONENTS))
    return {line.split()[0].lstrip("/"): line.split()[1:] for line in out.stdout.splitlines() if line.strip()}


def wait_healthy(host, seconds):
    deadline = time.time() + seconds
    last = {}
    while time.time() < deadline:
        last = states(host)
        if len(last) == len(COMPONENTS) and all(s == ["running", "healthy"] for s in last.values()):
            return last
        time.sleep(3)
    pytest.fail(f"not every component was healthy within {seconds} s: {last}")


def test_every_component_comes_back_healthy_after_the_server_restarts(host):
    marker = f"resilience-{int(time.time())}"
    host.check_output("docker exec vixtract-postgres psql -d etl -v ON_ERROR_STOP=1 -c "
                      f"\"CREATE TABLE IF NOT EXISTS reboot_probe (v text); INSERT INTO reboot_probe VALUES ('{marker}')\"")
    server = host.backend.host  # the scenario's server container
    subprocess.run(["docker", "restart", server], check=True, capture_output=True, timeout=180)
    wait_healthy(host, 240)
    kept = host.check_output(f"docker exec vixtract-postgres psql -d etl -Atc \"SELECT count(*) FROM reboot_probe WHERE v = '{marker}'\"")
    assert kept == "1", "data written before the reboot is there after it"
    host.check_output("docker exec vixtract-postgres psql -d etl -c 'DROP TABLE reboot_probe'")


def test_cronicle_is_master_with_its_events_after_the_restart(host):
    if "vixtract-cronicle" not in COMPONENTS:
        pytest.skip("SKIPPED: test_cronicle_is_master_with_its_events_after_the_restart: no Cronicle archive")
    from test_cronicle import EVENTS, wait_for_master
    assert {e["title"] for e in EVENTS} <= wait_for_master(host, 60)


def restart_counts(host):
    return {name: json.loads(host.check_output(f"docker inspect -f '{{{{json .RestartCount}}}}' {name}"))
            for name in COMPONENTS}


def test_each_component_container_comes_back_after_it_crashes(host):
    before = restart_counts(host)
    for name in COMPONENTS:
        # a crash, not a `docker stop`: the main process dies by SIGKILL from the server
        host.check_output(f"kill -9 $(docker inspect -f '{{{{.State.Pid}}}}' {name})")
    wait_healthy(host, 240)
    after = restart_counts(host)
    assert all(after[name] > before[name] for name in COMPONENTS), (before, after)
