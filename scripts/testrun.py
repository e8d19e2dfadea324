#!/usr/bin/env python3
"""The test run CI makes (scripts/test calls this once scripts/setup has prepared the machine).

Stages, each with its full log in artifacts/<stage>.log:
  lint        yamllint and ansible-lint
  ansible-test-sanity  scripts/sanity: ansible-test's sanity tests on a copy of the collection
  pytest      the fast checks (tests/), results in artifacts/junit-pytest.xml
  molecule    every scenario of molecule/scenarios.txt, step by step (Molecule's own commands), each step
              timed; verify writes artifacts/junit-<scenario>.xml
The first line of scenarios.txt deploys first (filling the image cache, which is kept between runs: see
prepare_image_cache) while the fast checks and the linters run (at a lower CPU priority: that deploy is what
every lane waits for). Every other line (a lane: its scenarios one after another) starts beside it: its
scenarios create and prepare at once and converge once the image cache is filled (a scenario that builds its own
images, OWN_IMAGES, runs whole). The other lanes run at a lower CPU priority, their servers' containers included
(lower_priority).

Every check counts: each test case of a junit file, and each stage or Molecule step that is not a test run.
A skipped test case is listed with its reason and must match an entry of .ci/allowed-skips.yml (a pattern and
why it may be skipped), or the run fails. A listed scenario that reports no verify result fails the run. The
last line is `ci: N passed, M failed, K skipped`; the exit status is 0 only when nothing failed.

  VIXTRACT_SCENARIOS="default upgrade" scripts/test   # only these scenarios, one after another
"""
from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
ART = ROOT / "artifacts"
ALLOWED_SKIPS = ROOT / ".ci/allowed-skips.yml"
# A step that hangs must fail the run rather than eat CI's time limit (5400 s): default's verify, the longest
# step, took up to 3600 s under the other lanes on a slow 2-core machine (stop 24)
STEP_TIMEOUT = int(os.environ.get("VIXTRACT_STEP_TIMEOUT", 4200))
DEPLOY_STEPS = ("dependency", "destroy", "syntax", "create", "converge")
FINISH_STEPS = ["idempotence", "verify"]
# Steps whose success is a promise of the product (counted as checks); the others only prepare the scenario
CHECK_STEPS = {"converge", "idempotence"}
# CPU priority (nice) of the linters and the fast checks, and of every lane but the first
FAST_NICE = 10
LANE_NICE = 10
# The image cache is kept between runs, and emptied (a cold deploy) past this age or size: prepare_image_cache
IMAGE_CACHE_DAYS = 7
IMAGE_CACHE_GB = 10
# Scenarios that build their own images (quickstart: a newcomer's bare machine) and so need not wait for the first
# scenario's cold deploy to fill the image cache
OWN_IMAGES = {"quickstart"}
# How often (seconds) a niced lane's containers are reniced while one of its steps runs (see lower_priority)
PRIORITY_EVERY = 15

print_lock = threading.Lock()


def say(line: str) -> None:
    with print_lock:
        print(line, flush=True)


@dataclass
class Check:
    name: str
    outcome: str  # passed | failed | skipped
    detail: str = ""


@dataclass
class Results:
    checks: list[Check] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    timings: dict[tuple[str, str], int] = field(default_factory=dict)
    # scenarios whose verify step reported test results
    reported: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, check: Check) -> None:
        with self.lock:
            self.checks.append(check)

    def note(self, line: str) -> None:
        with self.lock:
            self.lines.append(line)
        say(line)


def run(name: str, cmd: list[str], results: Results, nice: int = 0, env: dict | None = None) -> tuple[int, int]:
    """Runs CMD with its output in artifacts/NAME.log; returns (exit status, seconds)."""
    start = time.monotonic()
    log = ART / f"{name}.log"
    with log.open("a") as out:
        out.write(f"$ {' '.join(cmd)}\n")
        out.flush()
        try:
            proc = subprocess.run(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, timeout=STEP_TIMEOUT,
                                  env=env, preexec_fn=(lambda: os.nice(nice)) if nice else None, check=False)
            rc = proc.returncode
        except subprocess.TimeoutExpired:
            out.write(f"\n*** timed out after {STEP_TIMEOUT} s\n")
            rc = 124
    return rc, int(time.monotonic() - start)


def container_pids(prefix: str) -> list[int]:
    """Host PIDs of the running containers whose names start with PREFIX (a scenario's servers and helpers)."""
    try:
        found = subprocess.run(["docker", "ps", "--format", "{{.Names}} {{.ID}}"], capture_output=True, text=True,
                               timeout=60, check=False).stdout.splitlines()
        ids = [line.split()[1] for line in found
               if line.split()[0] == prefix or line.split()[0].startswith(prefix + "-")]
        if not ids:
            return []
        pids = subprocess.run(["docker", "inspect", "-f", "{{.State.Pid}}", *ids], capture_output=True, text=True,
                              timeout=60, check=False).stdout.split()
    except subprocess.TimeoutExpired:
        return []
    return [int(pid) for pid in pids if pid.isdigit() and int(pid) > 0]


def lower_priority(prefix: str, nice: int) -> int:
    """Lowers the CPU priority of everything a scenario's containers run, to NICE.

    os.nice() reaches the controller's side of a lane only: what its servers run (builds, the stack, every module
    a `docker exec` starts) descends from the container's containerd shim, not from Molecule. So every thread of
    the shim and of its descendants is reniced; what they start later inherits it. Returns how many threads."""
    parent = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parent[int(stat.parent.name)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    # A root that is the runner or one of its ancestors (a container whose shim died is init's child) would
    # renice the runner and the first lane too: such a root is skipped
    ours, pid = set(), os.getpid()
    while pid > 0 and pid not in ours:
        ours.add(pid)
        pid = parent.get(pid, 0)
    roots = {parent.get(pid, pid) for pid in container_pids(prefix)} - ours - {0, 1}  # the shims
    children: dict[int, list[int]] = {}
    for child, ppid in parent.items():
        children.setdefault(ppid, []).append(child)
    tree, todo = set(), list(roots)
    while todo:
        pid = todo.pop()
        if pid not in tree:
            tree.add(pid)
            todo += children.get(pid, [])
    count = 0
    for pid in tree:
        for task in Path(f"/proc/{pid}/task").glob("[0-9]*"):
            try:
                if os.getpriority(os.PRIO_PROCESS, int(task.name)) < nice:
                    os.setpriority(os.PRIO_PROCESS, int(task.name), nice)
                count += 1
            except OSError:
                continue
    return count


def tail(name: str, lines: int = 80) -> str:
    text = (ART / f"{name}.log").read_text(errors="replace").splitlines()
    return "\n".join(f"  [{name}] {line}" for line in text[-lines:])


def stage(name: str, cmd: list[str], results: Results, nice: int = 0) -> bool:
    """A stage that is one check: it passes or fails as a whole."""
    rc, took = run(name, cmd, results, nice)
    if rc == 0:
        results.add(Check(name, "passed"))
        results.note(f"STAGE {name}: PASS ({took}s)")
    else:
        results.add(Check(name, "failed", f"exit {rc}"))
        results.note(f"STAGE {name}: FAIL rc={rc} ({took}s) - log: artifacts/{name}.log")
        say(tail(name))
    return rc == 0


def read_junit(suite: str, path: Path, results: Results) -> int:
    """Adds every test case of a junit file as a check; returns how many there were."""
    if not path.exists():
        return 0
    try:
        tree = ET.parse(path)
    except ET.ParseError as e:
        results.add(Check(f"{suite}::junit", "failed", f"unreadable {path.name}: {e}"))
        return 0
    count = 0
    for case in tree.iter("testcase"):
        count += 1
        module = case.get("classname", "").rsplit(".", 1)[-1]
        name = f"{suite}::{module}::{case.get('name')}"
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        skipped = case.find("skipped")
        if failure is not None:
            results.add(Check(name, "failed", (failure.get("message") or "").splitlines()[0][:300]))
        elif skipped is not None:
            results.add(Check(name, "skipped", (skipped.get("message") or "").strip()))
        else:
            results.add(Check(name, "passed"))
    return count


def test_stage(name: str, suite: str, cmd: list[str], junit: Path, results: Results, nice: int = 0) -> bool:
    """A stage that runs pytest: its test cases are the checks; a run that reports none fails."""
    junit.unlink(missing_ok=True)
    rc, took = run(name, cmd, results, nice)
    count = read_junit(suite, junit, results)
    ok = rc == 0 and count > 0
    if count == 0:
        results.add(Check(f"{suite}::(no result)", "failed", f"{name} reported no test result (exit {rc})"))
    elif rc != 0 and rc != 1:
        # pytest's 1 is "some tests failed" (they are counted); anything else is an error of the run itself
        results.add(Check(f"{suite}::(run)", "failed", f"pytest exited {rc}"))
    results.note(f"STAGE {name}: {'PASS' if ok else 'FAIL rc=' + str(rc)} ({took}s, {count} tests)"
                 + ("" if ok else f" - log: artifacts/{name}.log"))
    if not ok:
        say(tail(name))
    return ok


class Scenario:
    def __init__(self, name: str, results: Results, nice: int = 0):
        self.name, self.results, self.nice = name, results, nice
        self.log = f"molecule-{name}"
        self.junit = ART / f"junit-molecule-{name}.xml"

    def steps(self, steps: list[str]) -> bool:
        for step in steps:
            if step == "verify":
                self.junit.unlink(missing_ok=True)
            done = threading.Event()
            if self.nice:
                # the containers appear during create (and prepare starts helpers): renice until the step ends
                threading.Thread(target=self.keep_priority, args=(done,), daemon=True).start()
            try:
                rc, took = run(self.log, ["molecule", step, "-s", self.name], self.results, self.nice)
            finally:
                done.set()
            self.results.timings[(self.name, step)] = took
            say(f"  timing: {self.name} {step} {took}s")
            check = f"molecule/{self.name}::{step}"
            if step == "verify":
                count = read_junit(f"molecule/{self.name}", self.junit, self.results)
                if count:
                    self.results.reported.add(self.name)
                if count == 0:
                    self.results.add(Check(f"molecule/{self.name}::(no result)", "failed",
                                           f"verify reported no test result (exit {rc})"))
                elif rc not in (0, 1):
                    self.results.add(Check(f"molecule/{self.name}::verify", "failed", f"pytest exited {rc}"))
            elif step in CHECK_STEPS or rc != 0:
                self.results.add(Check(check, "passed" if rc == 0 else "failed", "" if rc == 0 else f"exit {rc}"))
            if rc != 0:
                self.results.note(f"STAGE molecule-{self.name} {step}: FAIL rc={rc} ({took}s) - log: artifacts/{self.log}.log")
                say(tail(self.log, 120))
                if step != "verify":
                    # the scenario ends here: its tests never run, which is a failure of its own
                    self.results.add(Check(f"molecule/{self.name}::(no result)", "failed", f"{step} failed"))
                return False
        return True

    def keep_priority(self, done: threading.Event) -> None:
        while True:
            lower_priority(f"vixtract-{self.name}", self.nice)
            if done.wait(PRIORITY_EVERY):
                return

    def destroy(self) -> None:
        run(self.log, ["molecule", "destroy", "-s", self.name], self.results, self.nice)

    def deploy(self, steps: tuple[str, ...] = DEPLOY_STEPS, images: threading.Event | None = None,
               built: dict | None = None) -> bool:
        """The deploy steps; with IMAGES, converge waits until the first scenario has built the stack's images
        (BUILT['ok'] says whether it did: if not, this scenario is not run, which is a failure of its own)."""
        if steps[0] == DEPLOY_STEPS[0]:
            (ART / f"{self.log}.log").unlink(missing_ok=True)
        before = [s for s in steps if s != "converge"]
        ok = self.steps(before)
        if ok and "converge" in steps:
            if images is not None:
                images.wait()
                if not (built or {}).get("ok"):
                    self.results.add(Check(f"molecule/{self.name}::(no result)", "failed",
                                           "not run: the first scenario did not deploy the images it loads"))
                    self.destroy()
                    return False
            ok = self.steps(["converge"])
        if not ok:
            self.destroy()
        return ok

    def finish(self) -> bool:
        ok = self.steps(FINISH_STEPS)
        self.destroy()
        self.results.note(f"STAGE molecule-{self.name}: {'PASS' if ok else 'FAIL'}")
        return ok

    def whole(self) -> bool:
        return self.deploy() and self.finish()


def guarded(name: str, target, results: Results):
    """A thread's work; an exception in it is a failed check, never a lane that silently stopped."""
    def run_guarded(*args):
        try:
            target(*args)
        except Exception as e:  # noqa: BLE001 - any crash of the runner itself must fail the run
            results.add(Check(f"{name}::(runner)", "failed", f"{type(e).__name__}: {e}"))
            results.note(f"STAGE {name}: FAIL (the runner crashed: {type(e).__name__}: {e})")
    return run_guarded


def playbook_runs(scenario: str) -> str:
    """How much of a verify step the playbooks its tests ran took (vixtest.stack.run_playbook logs each run)."""
    log = ART / f"playbook-runs-{scenario}.log"
    if not log.exists():
        return ""
    seconds = [float(line.split("s rc=", 1)[0]) for line in log.read_text().splitlines() if "s rc=" in line]
    return f"; in verify, {len(seconds)} playbook runs took {sum(seconds):.0f}s: artifacts/{log.name}"


def lanes_from_file() -> list[list[str]]:
    lanes = []
    for line in (ROOT / "molecule/scenarios.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            lanes.append(line.split())
    return lanes


def allowed_skips() -> list[dict]:
    entries = yaml.safe_load(ALLOWED_SKIPS.read_text()) if ALLOWED_SKIPS.exists() else []
    for entry in entries or []:
        if not entry.get("check") or not str(entry.get("reason", "")).strip():
            raise SystemExit(f"{ALLOWED_SKIPS}: every entry needs a check pattern and a reason: {entry}")
    return entries or []


def prepare_image_cache(cache: Path, now: float | None = None) -> str:
    """Built images are shared through the product's image cache (vixtract_image_cache_dir), and kept from one run
    to the next like the previous release's images: an archive is named by the digest of every input of its image
    (roles/machinery), so a changed Dockerfile, package list or parent is a new name and is built. What a kept
    archive cannot show is a build that stopped working while its inputs stayed the same (an upstream package
    gone): quickstart builds every image on a bare machine in every run, and the cache is emptied, making the first
    scenario's converge a cold deploy, once its oldest archive is IMAGE_CACHE_DAYS old (each image is built from
    scratch at least that often), when it holds more than IMAGE_CACHE_GB, or with VIXTRACT_FRESH_IMAGE_CACHE=1.
    It is emptied whole, never in part: an archive holds its image's own layers only and needs its parent's.
    VIXTRACT_KEEP_IMAGE_CACHE=1 keeps it whatever its age. Returns what was done, for the summary."""
    now = time.time() if now is None else now
    found = sorted(cache.glob("*.tar")) if cache.is_dir() else []
    # half-fetched archives of an interrupted run (image_cache_save.yml fetches under a dot name first)
    for partial in (f for f in found if f.name.startswith(".")):
        partial.unlink()
    archives = [f for f in found if not f.name.startswith(".")]
    if not archives:
        return "empty: the first scenario's converge builds every image (a cold deploy)"
    age_days = (now - min(a.stat().st_mtime for a in archives)) / 86400
    size_gb = sum(a.stat().st_size for a in archives) / 1e9
    why = ("VIXTRACT_FRESH_IMAGE_CACHE=1" if os.environ.get("VIXTRACT_FRESH_IMAGE_CACHE") == "1"
           else f"its oldest archive is {age_days:.1f} days old (limit {IMAGE_CACHE_DAYS})"
           if age_days > IMAGE_CACHE_DAYS else f"it holds {size_gb:.1f} GB (limit {IMAGE_CACHE_GB})"
           if size_gb > IMAGE_CACHE_GB else "")
    if why and os.environ.get("VIXTRACT_KEEP_IMAGE_CACHE") != "1":
        shutil.rmtree(cache)
        return f"emptied ({why}): the first scenario's converge builds every image (a cold deploy)"
    return (f"kept from earlier runs ({len(archives)} archives, {size_gb:.1f} GB, the oldest {age_days:.1f} days): "
            "images whose inputs are unchanged are loaded, the others built")


def main() -> int:
    ART.mkdir(exist_ok=True)
    for old in list(ART.glob("*.log")) + list(ART.glob("junit-*.xml")):
        old.unlink()
    os.environ.update(PY_COLORS="0", ANSIBLE_FORCE_COLOR="0", NO_COLOR="1", ANSIBLE_NOCOLOR="1", TERM="dumb")
    results = Results()
    if os.environ.get("VIXTRACT_SETUP_SECONDS"):
        results.add(Check("setup", "passed"))
        results.note(f"STAGE setup: PASS ({os.environ['VIXTRACT_SETUP_SECONDS']}s)")

    cache = Path(os.environ.setdefault("VIXTRACT_TEST_IMAGE_CACHE", "/var/tmp/vixtract-test-image-cache"))
    cache_state = prepare_image_cache(cache)
    results.note(f"image cache: {cache_state}")

    pytest_cmd = ["pytest", "-q", "-rs", "tests", f"--junitxml={ART / 'junit-pytest.xml'}"]
    # The fast checks yield the CPU to the first scenario's cold deploy, which every other lane waits for: they
    # only have to end before the last lane does (they take a third of its time)
    fast = [threading.Thread(target=guarded("yamllint", stage, results),
                             args=("yamllint", ["yamllint", "--strict", "."], results, FAST_NICE)),
            threading.Thread(target=guarded("ansible-lint", stage, results),
                             args=("ansible-lint", ["ansible-lint", "--offline"], results, FAST_NICE)),
            # about 45 s of CPU (pylint most of it), beside the cold deploy on the same cores
            threading.Thread(target=guarded("ansible-test-sanity", stage, results),
                             args=("ansible-test-sanity", ["scripts/sanity"], results, FAST_NICE)),
            threading.Thread(target=guarded("pytest", test_stage, results),
                             args=("pytest", "pytest", pytest_cmd, ART / "junit-pytest.xml", results, FAST_NICE))]

    selected = os.environ.get("VIXTRACT_SCENARIOS", "").split()
    lanes = [selected] if selected else lanes_from_file()
    listed = [s for lane in lanes for s in lane]
    for thread in fast:
        thread.start()

    first = Scenario(lanes[0][0], results)
    workers = []
    if selected:
        for thread in fast:
            thread.join()
        for name in selected:
            guarded(f"molecule-{name}", lambda n: Scenario(n, results).whole(), results)(name)
    elif first.deploy(steps=DEPLOY_STEPS[:1]):
        # The first scenario's dependency step (the test images every scenario uses) runs alone; then every lane
        # starts. The first scenario's converge fills the image cache (building what it lacks): the other
        # scenarios prepare meanwhile (create; upgrade's previous release) and converge once it is done, except
        # those that build their own images (OWN_IMAGES), which run whole beside it.
        images, built = threading.Event(), {}

        def first_lane(names):
            try:
                built["ok"] = first.deploy(steps=DEPLOY_STEPS[1:])
            finally:
                images.set()
            if built["ok"]:
                first.finish()
            lane(names, 0)

        def lane(names, nice):
            for name in names:
                scenario = Scenario(name, results, nice)
                if scenario.deploy(images=None if name in OWN_IMAGES else images, built=built):
                    scenario.finish()

        workers.append(threading.Thread(target=guarded("lane-0", first_lane, results), args=(lanes[0][1:],)))
        workers += [threading.Thread(target=guarded(f"lane-{i}", lane, results), args=(names, LANE_NICE))
                    for i, names in enumerate(lanes[1:], 1)]
    else:
        results.note(f"NOT RUN: the rest of molecule/scenarios.txt ({first.name} did not prepare its test images)")
        for name in listed[1:]:
            results.add(Check(f"molecule/{name}::(no result)", "failed",
                              f"not run: {first.name} did not prepare its test images"))
    for worker in workers:
        worker.start()
    for thread in fast + workers:
        thread.join()

    # Every listed scenario reports test results, or it failed: whatever stopped it, it is counted
    for name in listed:
        if name not in results.reported and not any(
                c.name == f"molecule/{name}::(no result)" for c in results.checks):
            results.add(Check(f"molecule/{name}::(no result)", "failed", "the scenario reported no test result"))

    # Scenarios that exist but are not listed are skips like any other: they need an allowlist entry
    for path in sorted((ROOT / "molecule").glob("*/molecule.yml")):
        name = path.parent.name
        if name not in listed and not selected:
            results.add(Check(f"molecule/{name}::(scenario)", "skipped", "not listed in molecule/scenarios.txt"))

    for name in listed:
        steps = {step: t for (s, step), t in results.timings.items() if s == name}
        if steps:
            results.note(f"DURATION {name}: {sum(steps.values())}s (converge {steps.get('converge', '-')}s, "
                         f"idempotence {steps.get('idempotence', '-')}s, verify {steps.get('verify', '-')}s"
                         f"{playbook_runs(name)})")
    figures = ART / "figures.log"
    for line in figures.read_text().splitlines() if figures.exists() else []:
        results.note(f"FIGURE {line}")
    first_steps = {step: t for (s, step), t in results.timings.items() if s == first.name}
    cold = "cold deploy" if cache_state.startswith(("empty", "emptied")) else "deploy from the kept image cache"
    results.note(f"{cold} ({first.name} converge): {first_steps.get('converge', '-')}s; "
                 f"no-op re-apply ({first.name} idempotence): {first_steps.get('idempotence', '-')}s")
    for name in sorted(OWN_IMAGES & set(listed)):
        built = {step: t for (s, step), t in results.timings.items() if s == name}
        results.note(f"cold deploy on a bare machine ({name} converge, every image built): "
                     f"{built.get('converge', '-')}s")

    # Skips: each one listed with its reason, and each one allowed by .ci/allowed-skips.yml or a failure
    allow = allowed_skips()
    skips = [c for c in results.checks if c.outcome == "skipped"]
    unallowed = 0
    for check in skips:
        entry = next((e for e in allow if fnmatch.fnmatchcase(check.name, e["check"])), None)
        if entry:
            results.note(f"SKIPPED {check.name}: {check.detail} (allowed: {entry['reason']})")
        else:
            unallowed += 1
            results.note(f"SKIPPED {check.name}: {check.detail} - NOT ALLOWED: not in .ci/allowed-skips.yml")
    if unallowed:
        results.add(Check("allowed-skips", "failed", f"{unallowed} skip(s) not on the allowlist"))

    failed = [c for c in results.checks if c.outcome == "failed"]
    passed = sum(1 for c in results.checks if c.outcome == "passed")
    print("\n== summary")
    for line in results.lines:
        print(line)
    for check in failed:
        print(f"FAILED {check.name}: {check.detail}")
    print(f"ci: {passed} passed, {len(failed)} failed, {len(skips)} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
