"""How scripts/testrun.py orders CI's scenarios (molecule is replaced by a recorder): the first scenario's
dependency step runs alone; the other lanes create beside its cold deploy and converge only once it has filled
the image cache, except a scenario that builds its own images; a failed cold deploy leaves those scenarios
counted as failed, never silently absent. And lower_priority renices a container's process tree, nothing else."""
import importlib.util
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LANES = [["first"], ["quickstart", "second"], ["third"]]


@pytest.fixture
def testrun(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("testrun_lanes_under_test", ROOT / "scripts/testrun.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "ART", tmp_path)
    monkeypatch.setattr(module.os, "environ", dict(os.environ, VIXTRACT_KEEP_IMAGE_CACHE="1",
                                                   VIXTRACT_TEST_IMAGE_CACHE=str(tmp_path / "cache")))
    monkeypatch.setattr(module, "lanes_from_file", lambda: LANES)
    monkeypatch.setattr(module, "stage", lambda *args: True)
    monkeypatch.setattr(module, "test_stage", lambda *args: True)
    monkeypatch.setattr(module, "allowed_skips", lambda: [{"check": "molecule/*::(scenario)", "reason": "test"}])
    monkeypatch.setattr(module, "PRIORITY_EVERY", 0.01)
    yield module
    sys.modules.pop(spec.name, None)


class Molecule:
    """Stands in for `molecule STEP -s NAME`: records when each step starts and ends."""

    def __init__(self, testrun, fail=()):
        self.testrun, self.fail = testrun, set(fail)
        self.events, self.lock = [], threading.Lock()
        self.quickstart_converging = threading.Event()
        self.third_created = threading.Event()
        self.reniced = []

    def run(self, name, cmd, results, nice=0, env=None):
        step, scenario = cmd[1], cmd[3]
        with self.lock:
            self.events.append(("start", scenario, step, time.monotonic()))
        if (scenario, step) == ("quickstart", "converge"):
            self.quickstart_converging.set()
        if (scenario, step) == ("first", "converge"):
            # the cold deploy lasts until quickstart converges and third has created beside it (or 5 s each, when
            # they were made to wait): the order below is then the orchestrator's, not the machine's speed
            self.quickstart_converging.wait(5)
            self.third_created.wait(5)
        time.sleep(0.02)
        if step == "verify":
            (self.testrun.ART / f"junit-molecule-{scenario}.xml").write_text(
                f'<testsuite><testcase classname="tests.t" name="t_{scenario}"/></testsuite>')
        with self.lock:
            self.events.append(("end", scenario, step, time.monotonic()))
        if (scenario, step) == ("third", "create"):
            self.third_created.set()
        return (2 if (scenario, step) in self.fail else 0), 0

    def at(self, kind, scenario, step):
        return next((t for k, s, st, t in self.events if (k, s, st) == (kind, scenario, step)), None)

    def started(self, scenario):
        return min(t for k, s, _step, t in self.events if k == "start" and s == scenario)


def run_ci(testrun, monkeypatch, fail=()):
    molecule = Molecule(testrun, fail)
    monkeypatch.setattr(testrun, "run", molecule.run)
    monkeypatch.setattr(testrun, "lower_priority",
                        lambda prefix, nice: molecule.reniced.append((prefix, nice)) or 0)
    return testrun.main(), molecule


def test_lanes_create_beside_the_cold_deploy_and_converge_on_its_images(testrun, monkeypatch, capsys):
    rc, molecule = run_ci(testrun, monkeypatch)
    out = capsys.readouterr().out
    assert rc == 0, out
    assert " 0 failed, " in out.rstrip().splitlines()[-1], out
    first_dependency = molecule.at("end", "first", "dependency")
    for other in ("quickstart", "second", "third"):
        assert molecule.started(other) >= first_dependency, other
    cold_deploy_done = molecule.at("end", "first", "converge")
    # the lanes started before the cold deploy ended: third created beside it
    assert molecule.at("end", "third", "create") < cold_deploy_done
    for waiting in ("second", "third"):
        assert molecule.at("start", waiting, "converge") >= cold_deploy_done, waiting
    # quickstart builds its own images: it converged while the first scenario was still deploying
    assert molecule.at("start", "quickstart", "converge") < cold_deploy_done
    for scenario in ("first", "quickstart", "second", "third"):
        assert molecule.at("end", scenario, "verify") is not None, scenario
    # the other lanes' containers were reniced to the lanes' priority, the first scenario's never
    assert {prefix for prefix, _nice in molecule.reniced} == {"vixtract-quickstart", "vixtract-second",
                                                              "vixtract-third"}
    assert {nice for _prefix, nice in molecule.reniced} == {testrun.LANE_NICE}


def test_the_figures_the_scenarios_measured_are_in_the_summary(testrun, monkeypatch, capsys):
    """What a scenario's tests handed to vixtest.stack.report_figure during the run, a FIGURE line each; a figures
    file left by an earlier run is not read."""
    (testrun.ART / "figures.log").write_text("third: from an earlier run\n")
    real_run = Molecule.run

    def run(self, name, cmd, results, nice=0, env=None):
        if cmd[1:2] == ["verify"] and cmd[3] == "third":
            with (testrun.ART / "figures.log").open("a") as log:
                log.write("third: backup of server A: 1.5 MB in 9 files, written and verified in 2.1 s\n")
        return real_run(self, name, cmd, results, nice, env)

    monkeypatch.setattr(Molecule, "run", run)
    rc, _molecule = run_ci(testrun, monkeypatch)
    out = capsys.readouterr().out
    assert rc == 0, out
    summary = out.split("== summary", 1)[1]
    assert "FIGURE third: backup of server A: 1.5 MB in 9 files, written and verified in 2.1 s" in summary, summary
    assert "from an earlier run" not in out


def test_a_failed_cold_deploy_fails_every_scenario_that_needs_its_images(testrun, monkeypatch, capsys):
    rc, molecule = run_ci(testrun, monkeypatch, fail={("first", "converge")})
    out = capsys.readouterr().out
    assert rc == 1
    for waiting in ("second", "third"):
        assert molecule.at("start", waiting, "converge") is None, waiting
        assert f"FAILED molecule/{waiting}::(no result): not run: the first scenario did not deploy" in out, out
    assert molecule.at("end", "quickstart", "verify") is not None
    assert "FAILED molecule/quickstart" not in out


@pytest.fixture
def process_tree():
    """A shell (standing for a container's shim) with a child (the container's first process) and a grandchild."""
    shim = subprocess.Popen(["sh", "-c", "sh -c 'sleep 60 & wait' & wait"])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        children = Path(f"/proc/{shim.pid}/task/{shim.pid}/children").read_text().split()
        grandchildren = Path(f"/proc/{children[0]}/task/{children[0]}/children").read_text().split() \
            if children else []
        if grandchildren:
            break
        time.sleep(0.05)
    yield shim.pid, int(children[0]), int(grandchildren[0])
    shim.kill()
    subprocess.run(["pkill", "-P", children[0]], check=False)
    subprocess.run(["kill", children[0]], check=False)
    shim.wait()


def test_lower_priority_renices_the_containers_tree_and_nothing_else(testrun, monkeypatch, process_tree):
    shim, container, grandchild = process_tree
    monkeypatch.setattr(testrun, "container_pids", lambda prefix: [container] if prefix == "vixtract-probe" else [])
    own = os.getpriority(os.PRIO_PROCESS, os.getpid())
    assert own < 19, "run the fast checks below nice 19: this test lowers a process tree's priority below its own"
    target = min(own + 5, 19)
    assert testrun.lower_priority("vixtract-probe", target) >= 3
    for pid in (shim, container, grandchild):
        assert os.getpriority(os.PRIO_PROCESS, pid) == target, pid
    # neither the runner itself nor the shim's parent (here the runner again) is touched
    assert os.getpriority(os.PRIO_PROCESS, os.getpid()) == own
    assert testrun.lower_priority("vixtract-other", target) == 0


def test_lower_priority_never_reaches_the_runner_through_a_container_whose_parent_is_its_ancestor(testrun,
                                                                                                  monkeypatch):
    """A name clash or a container reparented to init must not renice the runner (and with it the first lane)."""
    own = os.getpriority(os.PRIO_PROCESS, os.getpid())
    assert own < 19, "run the fast checks below nice 19"
    for claimed in (os.getpid(), os.getppid(), 1):
        monkeypatch.setattr(testrun, "container_pids", lambda prefix, pid=claimed: [pid])
        assert testrun.lower_priority("vixtract-probe", min(own + 5, 19)) == 0, claimed
        assert os.getpriority(os.PRIO_PROCESS, os.getpid()) == own


def make_cache(path, ages_days, now, size=10):
    """An image cache whose archives were written ages_days ago, plus a half-fetched archive of an interrupted run."""
    path.mkdir()
    for i, age in enumerate(ages_days):
        archive = path / f"vixtract_img{i}-{i:016x}.tar"
        archive.write_bytes(b"x" * size)
        os.utime(archive, (now - age * 86400, now - age * 86400))
    (path / ".vixtract-default.vixtract_img9-0000000000000009.tar").write_bytes(b"partial")
    return path


def test_the_image_cache_is_kept_between_runs_while_young_and_small(testrun, tmp_path, monkeypatch):
    now = time.time()
    cache = make_cache(tmp_path / "kept", [0.5, 3], now)
    monkeypatch.setattr(testrun.os, "environ", {})
    said = testrun.prepare_image_cache(cache, now)
    kept = sorted(p.name for p in cache.iterdir())
    assert kept == ["vixtract_img0-0000000000000000.tar", "vixtract_img1-0000000000000001.tar"]
    assert said.startswith("kept from earlier runs (2 archives"), said
    assert "the oldest 3.0 days" in said, said


@pytest.mark.parametrize("ages, env, size, why", [
    # one archive past the age limit empties the whole cache: a child's archive without its parent cannot load
    ([0.5, 8], {}, 10, "its oldest archive is 8.0 days old (limit 7)"),
    ([0.5], {}, 3 * 10**9, "it holds 3.0 GB (limit 2)"),
    ([0.5], {"VIXTRACT_FRESH_IMAGE_CACHE": "1"}, 10, "VIXTRACT_FRESH_IMAGE_CACHE=1"),
])
def test_the_image_cache_is_emptied_whole_when_old_big_or_asked(testrun, tmp_path, monkeypatch, ages, env, size, why):
    now = time.time()
    cache = make_cache(tmp_path / "cache", ages, now, size=1)
    if size > 10:
        # a sparse file: its size counts, no disk is used
        with open(next(cache.glob("*.tar")), "r+b") as archive:
            archive.truncate(size)
    monkeypatch.setattr(testrun, "IMAGE_CACHE_GB", 2)
    monkeypatch.setattr(testrun.os, "environ", env)
    said = testrun.prepare_image_cache(cache, now)
    assert not cache.exists()
    assert said == f"emptied ({why}): the first scenario's converge builds every image (a cold deploy)"


def test_keep_image_cache_keeps_even_an_old_cache_and_an_empty_one_says_cold(testrun, tmp_path, monkeypatch):
    now = time.time()
    cache = make_cache(tmp_path / "old", [30], now)
    monkeypatch.setattr(testrun.os, "environ", {"VIXTRACT_KEEP_IMAGE_CACHE": "1"})
    assert testrun.prepare_image_cache(cache, now).startswith("kept from earlier runs (1 archives")
    assert [p.name for p in cache.iterdir()] == ["vixtract_img0-0000000000000000.tar"]
    monkeypatch.setattr(testrun.os, "environ", {})
    assert "cold deploy" in testrun.prepare_image_cache(tmp_path / "missing", now)
