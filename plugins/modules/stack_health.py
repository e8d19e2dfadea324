#!/usr/bin/python
# Copyright: vixtract.stack maintainers
# Apache License 2.0
from __future__ import annotations

DOCUMENTATION = r"""
module: stack_health
short_description: Report the health of one component of the stack, or of the server it runs on
version_added: 1.1.0
description:
  - >-
    With O(container): the container's image, state, health and restart count, the size of its named volumes,
    and, when asked, the days left on a certificate, a process that must run inside it (the Hub's idle culler)
    and Cronicle's master and failed jobs.
  - >-
    With O(disk_paths) or O(backup_dir): the free disk under each path and the age of the newest backup.
  - >-
    Never fails on what it finds: every finding that needs someone's attention is one line of RV(problems),
    naming the component; the caller decides (playbooks/health.yml fails on any). It fails only on a wrong call.
  - Only reads; never changes anything.
options:
  component:
    description: The name the report gives (C(postgres), C(jupyterhub), C(cronicle), C(nginx), C(server)).
    type: str
    required: true
  container:
    description: >-
      The component's container; its absence, a stop, a restart loop or an unhealthy check is a problem. A container
      whose health check has not yet passed since it started (health C(starting)) is asked again every second, for up
      to 60 seconds, before that counts: a report right after a deploy does not call a restart a problem.
    type: str
  version_command:
    description: >-
      A command run in the running container whose output's last word is the version the report gives
      (C(postgres --version), C(nginx -v)); Cronicle's version comes from its API.
    type: list
    elements: str
  certificate:
    description: >-
      A PEM certificate on the server the component serves; fewer than O(cert_days) days left, or no file, is
      a problem.
    type: path
  cert_days:
    description: Days a certificate must still be valid.
    type: int
    default: 14
  process:
    description: >-
      A process that must run in the container (its command line contains O(process.match)).
    type: dict
    suboptions:
      name: {description: What the report calls it, type: str, required: true}
      match: {description: A part of its command line, type: str, required: true}
  cronicle:
    description: >-
      Cronicle's API (with O(container)) - this node must be master, and no job may have failed lately.
    type: dict
    suboptions:
      url: {description: Cronicle's base URL as seen from the server, type: str, required: true}
      api_key: {description: An API key that may read the schedule and the job history, type: str, required: true}
      hours: {description: Jobs that ended in this many hours count, type: int, default: 24}
  disk_paths:
    description: Paths whose file system's use is reported; more than O(disk_percent) used is a problem.
    type: list
    elements: path
    default: []
  docker_root:
    description: Report the file system of Docker's data root (images, containers, volumes) too.
    type: bool
    default: false
  disk_percent:
    description: The use of a file system (percent of its size) above which it is a problem.
    type: int
    default: 90
  backup_dir:
    description: Where the backups of playbooks/backup.yml are (directories named by their UTC time).
    type: path
  backup_hours:
    description: The newest backup must be younger than this many hours; 0 only reports its age.
    type: int
    default: 0
extends_documentation_fragment:
  - vixtract.stack.read_only
  - ansible.builtin.action_common_attributes
author: ViXtract stack maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Health of the Hub
  vixtract.stack.stack_health:
    component: jupyterhub
    container: vixtract-jupyterhub
    process: {name: idle culler, match: jupyterhub_idle_culler}
  register: hub_health

- name: Health of the server
  vixtract.stack.stack_health:
    component: server
    docker_root: true
    disk_paths: [/var/backups/vixtract]
    backup_dir: /var/backups/vixtract
    backup_hours: 36
"""

RETURN = r"""
report:
  description: What was found, for the health table.
  type: dict
  returned: always
  contains:
    component: {description: O(component), type: str}
    image: {description: The container's image reference, type: str}
    version: {description: The version the component reports (O(version_command) or Cronicle's API), type: str}
    state: {description: "The container's state: running, exited, restarting, missing", type: str}
    health: {description: "Docker's health check: healthy, unhealthy, starting, or none", type: str}
    restarts: {description: How often Docker restarted the container, type: int}
    volumes_bytes: {description: Bytes in the container's named volumes, type: int}
    cert_days: {description: Whole days left on O(certificate), type: int}
    details: {description: "Further findings as short phrases (culler, Cronicle master and jobs)", type: list, elements: str}
    disks: {description: "For each of O(disk_paths): path, used_percent, free_bytes", type: list, elements: dict}
    backup_age_hours: {description: Age of the newest backup in hours (null when there is none), type: float}
    backup: {description: Name of the newest backup, type: str}
problems:
  description: One line for each finding that needs attention, starting with the component; empty when all is well.
  type: list
  elements: str
  returned: always
"""

import datetime as dt
import json
import os
import re
import subprocess
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.vixtract.stack.plugins.module_utils.cronicle import CronicleClient

BACKUP_NAME = re.compile(r"\d{8}T\d{6}Z\Z")


def run(argv):
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


# How long a container whose health check has not passed since it started (`starting`) is given: longer than the
# stack's longest check interval (15 s) and the engine's first check after a start
STARTING_WAIT = 60


def container_findings(name, wait=STARTING_WAIT, sleep=time.sleep):
    """(report fields, problems, volume sources) of a container, from `docker inspect`. A container in `starting`
    is inspected again every second, for up to WAIT seconds."""
    deadline = time.monotonic() + wait
    while True:
        rc, out, _err = run(["docker", "inspect", "--type", "container", name])
        if rc != 0:
            return {"state": "missing", "health": "none", "restarts": 0, "image": ""}, \
                [f"container {name} does not exist: run playbooks/site.yml"], []
        info = json.loads(out)[0]
        state = info.get("State", {})
        health = (state.get("Health") or {}).get("Status", "none")
        if health != "starting" or state.get("Status") != "running" or time.monotonic() >= deadline:
            break
        sleep(1)
    status = state.get("Status", "unknown")
    fields = {"state": status, "health": health, "restarts": int(info.get("RestartCount", 0)),
              "image": info.get("Config", {}).get("Image", "")}
    problems = []
    if status == "restarting" or (status == "running" and state.get("Restarting")):
        problems.append(f"container {name} keeps restarting ({fields['restarts']} restarts): docker logs {name}")
    elif status != "running":
        problems.append(f"container {name} is {status} (exit code {state.get('ExitCode')}): docker logs {name}, "
                        "then playbooks/site.yml starts it")
    elif health not in ("healthy", "none"):
        problems.append(f"container {name} is {health}: docker inspect {name} shows its health check's output")
    sources = [m["Source"] for m in info.get("Mounts", []) if m.get("Type") == "volume" and m.get("Source")]
    return fields, problems, sources


def version_of(container, command):
    """The last word of what COMMAND prints in CONTAINER (stdout, else stderr: nginx -v), or ''."""
    rc, out, err = run(["docker", "exec", container] + list(command))
    words = (out.strip() or err.strip()).splitlines()[0].split() if rc == 0 and (out.strip() or err.strip()) else []
    return words[-1].rsplit("/", 1)[-1].rstrip(")") if words else ""


def tree_bytes(paths):
    """Bytes under PATHS on their own file systems (what `du -sxb` counts)."""
    total = 0
    for path in paths:
        rc, out, _err = run(["du", "-sxb", path])
        if rc == 0 and out.split():
            total += int(out.split()[0])
    return total


def certificate_days(path, now=None):
    """Whole days until the PEM certificate at PATH expires (negative once it has), or None when it cannot be
    read."""
    if not os.path.isfile(path):
        return None
    rc, out, _err = run(["openssl", "x509", "-noout", "-enddate", "-in", path])
    match = re.search(r"notAfter=(.+)", out) if rc == 0 else None
    if not match:
        return None
    not_after = dt.datetime.strptime(" ".join(match.group(1).split()), "%b %d %H:%M:%S %Y %Z")
    now = now or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    return int((not_after - now).total_seconds() // 86400)


def process_running(container, match):
    # docker top needs the PID column; the command line follows it
    rc, out, _err = run(["docker", "top", container, "-eo", "pid,args"])
    return rc == 0 and any(match in line.split(None, 1)[-1] for line in out.splitlines()[1:] if line.strip())


def cronicle_findings(url, api_key, hours, now=None):
    """(version, details, problems) from Cronicle's API: its version, whether this node is master, and the jobs that failed in the last
    HOURS hours (code other than 0), newest first."""
    client = CronicleClient(url, api_key=api_key, timeout=15)
    try:
        version = str(client.call("/api/app/status/v1", check=False).get("version", ""))
        schedule = client.call("/api/app/get_schedule/v1", {"offset": 0, "limit": 1}, check=False)
    except Exception as e:  # pylint: disable=broad-except
        return "", ["master: no answer"], [f"Cronicle does not answer at {url}: {e}"]
    if schedule.get("code") != 0:
        return version, ["master: no"], [f"Cronicle is not master ({schedule.get('description', schedule.get('code'))}): "
                                         "docker logs of its container tell why"]
    since = (now or time.time()) - hours * 3600
    failed = []
    offset = 0
    while True:
        page = client.call("/api/app/get_history/v1", {"offset": offset, "limit": 100}, check=False)
        rows = page.get("rows") or []
        recent = [r for r in rows if float(r.get("epoch") or r.get("time_start") or 0) >= since]
        failed += [r for r in recent if str(r.get("code", 0)) != "0"]
        if len(recent) < len(rows) or len(rows) < 100:
            break
        offset += 100
    details = ["master: yes", f"failed jobs ({hours} h): {len(failed)}"]
    problems = []
    if failed:
        shown = ", ".join(f"{r.get('event_title', '?')} (job {r.get('id', '?')}: "
                          f"{str(r.get('description') or r.get('code'))[:80]})" for r in failed[:5])
        more = f" and {len(failed) - 5} more" if len(failed) > 5 else ""
        problems.append(f"{len(failed)} scheduled job(s) failed in the last {hours} h: {shown}{more}")
    return version, details, problems


def disk_findings(paths, percent):
    """Use of the file systems holding PATHS, each file system once (under the first of its paths)."""
    disks, problems, seen = [], [], {}
    for path in paths:
        if not os.path.exists(path):
            continue
        device = os.stat(path).st_dev
        if device in seen:
            seen[device]["path"] += f", {path}"
            continue
        st = os.statvfs(path)
        used = (st.f_blocks - st.f_bfree) * st.f_frsize
        free = st.f_bavail * st.f_frsize
        used_percent = round(100 * used / (used + free), 1) if used + free else 0.0
        seen[device] = {"path": path, "used_percent": used_percent, "free_bytes": free}
        disks.append(seen[device])
        if used_percent > percent:
            problems.append(f"the disk holding {path} is {used_percent} % full (more than {percent} %): "
                            "free space there (old images: docker image prune)")
    return disks, problems


def newest_backup(directory, now=None):
    """(name, age in hours) of the newest complete backup in DIRECTORY, or (None, None)."""
    try:
        names = sorted(n for n in os.listdir(directory)
                       if BACKUP_NAME.match(n) and os.path.isfile(os.path.join(directory, n, "manifest.json")))
    except OSError:
        return None, None
    if not names:
        return None, None
    taken = dt.datetime.strptime(names[-1], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.timezone.utc).timestamp()
    return names[-1], round(((now or time.time()) - taken) / 3600, 1)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            component=dict(type="str", required=True),
            container=dict(type="str"),
            version_command=dict(type="list", elements="str"),
            certificate=dict(type="path"),
            cert_days=dict(type="int", default=14),
            process=dict(type="dict", options=dict(name=dict(type="str", required=True),
                                                   match=dict(type="str", required=True))),
            cronicle=dict(type="dict", options=dict(url=dict(type="str", required=True),
                                                    api_key=dict(type="str", required=True, no_log=True),
                                                    hours=dict(type="int", default=24))),
            disk_paths=dict(type="list", elements="path", default=[]),
            docker_root=dict(type="bool", default=False),
            disk_percent=dict(type="int", default=90),
            backup_dir=dict(type="path"),
            backup_hours=dict(type="int", default=0),
        ),
        required_by={"process": "container", "cronicle": "container", "version_command": "container"},
        supports_check_mode=True,
    )
    p = module.params
    report = {"component": p["component"], "details": []}
    problems = []
    if p["container"]:
        fields, found, sources = container_findings(p["container"])
        report.update(fields, volumes_bytes=tree_bytes(sources))
        problems += found
        running = fields["state"] == "running"
        report["version"] = version_of(p["container"], p["version_command"]) if running and p["version_command"] else ""
        if p["process"]:
            on = running and process_running(p["container"], p["process"]["match"])
            report["details"].append(f"{p['process']['name']}: {'running' if on else 'NOT RUNNING'}")
            if running and not on:
                problems.append(f"{p['process']['name']} does not run in {p['container']}: docker logs "
                                f"{p['container']}")
        if p["cronicle"] and running:
            report["version"], details, found = cronicle_findings(p["cronicle"]["url"], p["cronicle"]["api_key"],
                                                                  p["cronicle"]["hours"])
            report["details"] += details
            problems += found
    if p["certificate"]:
        days = certificate_days(p["certificate"])
        report["cert_days"] = days
        if days is None:
            problems.append(f"the certificate {p['certificate']} is missing or unreadable: playbooks/site.yml "
                            "makes or installs it")
        elif days < p["cert_days"]:
            problems.append(f"the certificate {p['certificate']} expires in {days} days (fewer than "
                            f"vixtract_health_cert_days={p['cert_days']}): renew it (playbooks/site.yml renews "
                            "self-signed and ACME certificates; replace a provided one)")
    disk_paths = list(p["disk_paths"])
    if p["docker_root"]:
        rc, out, err = run(["docker", "info", "--format", "{{.DockerRootDir}}"])
        if rc != 0 or not out.strip():
            module.fail_json(msg=f"the Docker engine does not answer: {err.strip()}")
        disk_paths.insert(0, out.strip())
    if disk_paths:
        report["disks"], found = disk_findings(disk_paths, p["disk_percent"])
        problems += found
    if p["backup_dir"]:
        report["backup"], report["backup_age_hours"] = newest_backup(p["backup_dir"])
        age = report["backup_age_hours"]
        if p["backup_hours"] and (age is None or age > p["backup_hours"]):
            problems.append((f"the newest backup in {p['backup_dir']} is {age} hours old" if age is not None else
                             f"there is no backup in {p['backup_dir']}") +
                            f" (vixtract_health_backup_hours={p['backup_hours']}): see /var/log/vixtract-backup.log, "
                            "or run playbooks/backup.yml")
    module.exit_json(changed=False, report=report, problems=[f"{p['component']}: {x}" for x in problems])


if __name__ == "__main__":
    main()
