"""A reboot of the server (a restart of its container): every component comes back by itself, healthy,
Cronicle as master with its events, and the data is still there. This module runs last (conftest.py orders it
so): it disturbs every container."""
import json
import time
from datetime import datetime

import pytest

from vixtest.cronicle import first_master
from vixtest.stack import COMPONENTS, outer_docker, server_container, stack_vars

VARS = stack_vars()
EVENTS = {e["title"] for e in VARS.get("cronicle_events", [])}


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


@pytest.fixture(scope="module")
def rebooted(host):
    """Writes a row, restarts the server, and watches Cronicle from the moment the server started again."""
    marker = f"resilience-{int(time.time())}"
    host.check_output("docker exec vixtract-postgres psql -d etl -v ON_ERROR_STOP=1 -c "
                      f"\"CREATE TABLE IF NOT EXISTS reboot_probe (v text); INSERT INTO reboot_probe VALUES ('{marker}')\"")
    server = server_container(host)
    outer_docker("restart", server, timeout=180)
    stamp = outer_docker("inspect", "-f", "{{.State.StartedAt}}", server).stdout.strip()
    started = datetime.fromisoformat(stamp[:26].rstrip("Z") + "+00:00").timestamp()
    master_at, titles = first_master(host, 240)
    return {"marker": marker, "master_after": master_at - started, "titles": titles}


def test_every_component_comes_back_healthy_after_the_server_restarts(host, rebooted):
    wait_healthy(host, 240)
    kept = host.check_output("docker exec vixtract-postgres psql -d etl -Atc "
                             f"\"SELECT count(*) FROM reboot_probe WHERE v = '{rebooted['marker']}'\"")
    assert kept == "1", "data written before the reboot is there after it"
    host.check_output("docker exec vixtract-postgres psql -d etl -c 'DROP TABLE reboot_probe'")


def test_cronicle_is_master_with_its_events_within_60_s_of_the_server_start(rebooted):
    assert rebooted["master_after"] <= 60, f"master {rebooted['master_after']:.0f} s after the server started"
    assert EVENTS and EVENTS <= rebooted["titles"]


def restart_counts(host):
    return {name: json.loads(host.check_output(f"docker inspect -f '{{{{json .RestartCount}}}}' {name}"))
            for name in COMPONENTS}


def test_each_component_container_comes_back_after_it_crashes(host, rebooted):
    wait_healthy(host, 240)
    before = restart_counts(host)
    for name in COMPONENTS:
        # a crash, not a `docker stop`: the main process dies by SIGKILL from the server
        host.check_output(f"kill -9 $(docker inspect -f '{{{{.State.Pid}}}}' {name})")
    wait_healthy(host, 240)
    after = restart_counts(host)
    assert all(after[name] > before[name] for name in COMPONENTS), (before, after)
