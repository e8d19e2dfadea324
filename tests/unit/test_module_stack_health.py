"""stack_health: what it finds in a container's inspect output, a certificate, the disks, the backups and
Cronicle's API, and that it reports problems (never fails on them) and never shows the API key. Docker is
replaced by answers the test gives (the `run` the module calls); certificates are made here with cryptography."""
import datetime as dt
import json
import os

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.vixtract.stack.plugins.modules import stack_health

KEY = "k3yThatMustNeverShow0123456789ab"


def certificate(path, days):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "probe")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=days, hours=1)).sign(key, hashes.SHA256()))
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(path)


def test_certificate_days_counts_whole_days_left(tmp_path):
    assert stack_health.certificate_days(certificate(tmp_path / "a.crt", 30)) == 30
    assert stack_health.certificate_days(certificate(tmp_path / "b.crt", 0)) == 0
    assert stack_health.certificate_days(str(tmp_path / "missing.crt")) is None
    (tmp_path / "junk.crt").write_text("not a certificate")
    assert stack_health.certificate_days(str(tmp_path / "junk.crt")) is None


def test_the_newest_complete_backup_and_its_age(tmp_path):
    for name in ("20261201T020000Z", "20261202T020000Z", "20261203T020000Z.partial", "notes"):
        (tmp_path / name).mkdir()
    for name in ("20261201T020000Z", "20261202T020000Z"):
        (tmp_path / name / "manifest.json").write_text("{}")
    (tmp_path / "20261204T020000Z").mkdir()  # no manifest: not complete
    now = dt.datetime(2026, 12, 2, 14, 30, tzinfo=dt.timezone.utc).timestamp()
    assert stack_health.newest_backup(str(tmp_path), now) == ("20261202T020000Z", 12.5)
    assert stack_health.newest_backup(str(tmp_path / "none"), now) == (None, None)


def test_disk_use_above_the_threshold_is_a_problem_and_each_file_system_counts_once(tmp_path):
    (tmp_path / "a").mkdir()
    disks, problems = stack_health.disk_findings([str(tmp_path), str(tmp_path / "a"), "/nonexistent"], 100)
    assert len(disks) == 1 and disks[0]["path"] == f"{tmp_path}, {tmp_path}/a" and problems == []
    st = os.statvfs(tmp_path)
    used = 100 * (st.f_blocks - st.f_bfree) / (st.f_blocks - st.f_bfree + st.f_bavail)
    assert abs(disks[0]["used_percent"] - used) < 1
    _unused, problems = stack_health.disk_findings([str(tmp_path)], 0)
    assert problems and problems[0].startswith(f"the disk holding {tmp_path} is ")


def history(now, *jobs):
    return [{"id": f"j{i}", "code": code, "epoch": now - age, "time_start": now - age - 5, "event_title": title,
             "description": desc} for i, (title, code, age, desc) in enumerate(jobs)]


def test_cronicle_master_and_the_jobs_that_failed_in_the_window(cronicle):
    now = 1_800_000_000
    rows = history(now, ("nightly", 0, 60, ""), ("sales", 1, 3600, "ValueError: bad"),
                   ("aborted", "abort", 7200, "Job aborted"), ("old failure", 1, 30 * 3600, "x"))
    keyed = []

    def with_key(answer):
        def checked(r):
            keyed.append(r.headers.get("x-api-key") == KEY)
            return answer(r) if keyed[-1] else {"code": "api", "description": "Invalid API Key"}
        return checked
    cronicle.routes["/api/app/status/v1"] = lambda r: {"code": 0, "version": "0.9.106", "tick_age": 0.4}
    cronicle.routes["/api/app/get_schedule/v1"] = with_key(lambda r: {"code": 0, "rows": []})
    cronicle.routes["/api/app/get_history/v1"] = with_key(
        lambda r: {"code": 0, "rows": rows[r.body["offset"]:r.body["offset"] + r.body["limit"]]})
    version, details, problems = stack_health.cronicle_findings(cronicle.url, KEY, 24, now=now)
    assert version == "0.9.106" and all(keyed)
    assert details == ["master: yes", "failed jobs (24 h): 2"]
    assert len(problems) == 1
    assert problems[0].startswith("2 scheduled job(s) failed in the last 24 h: sales (job j1: ValueError: bad), "
                                  "aborted (job j2: Job aborted)")
    assert "old failure" not in problems[0] and "nightly" not in problems[0]
    # a wider window reaches the older failure
    assert stack_health.cronicle_findings(cronicle.url, KEY, 48, now=now)[1][1] == "failed jobs (48 h): 3"


def test_a_cronicle_that_is_not_master_is_a_problem(cronicle):
    cronicle.routes["/api/app/status/v1"] = lambda r: {"code": 0, "version": "0.9.106"}
    cronicle.routes["/api/app/get_schedule/v1"] = lambda r: {
        "code": "master", "description": "This API call can only be invoked on the master server."}
    version, details, problems = stack_health.cronicle_findings(cronicle.url, KEY, 24)
    assert details == ["master: no"] and problems[0].startswith("Cronicle is not master (This API call can only")


def test_no_answer_from_cronicle_is_a_problem_naming_where_it_was_asked():
    _unused, details, problems = stack_health.cronicle_findings("http://127.0.0.1:9", KEY, 24)
    assert details == ["master: no answer"] and problems[0].startswith("Cronicle does not answer at http://127.0.0.1:9")


def fake_docker(monkeypatch, inspect=None, top="", version_out=("", "")):
    calls = []
    real_run = stack_health.run

    def run(argv):
        calls.append(argv)
        if argv[0] == "openssl":
            return real_run(argv)
        if argv[:2] == ["docker", "inspect"]:
            return (0, json.dumps([inspect]), "") if inspect else (1, "", "Error: No such container")
        if argv[:2] == ["docker", "top"]:
            return 0, top, ""
        if argv[:2] == ["docker", "exec"]:
            return 0, version_out[0], version_out[1]
        if argv[0] == "du":
            return 0, f"4096\t{argv[-1]}\n", ""
        raise AssertionError(argv)
    monkeypatch.setattr(stack_health, "run", run)
    return calls


def inspect(status="running", health="healthy", restarts=0, exit_code=0):
    return {"State": {"Status": status, "Health": {"Status": health}, "ExitCode": exit_code, "Restarting": False},
            "RestartCount": restarts, "Config": {"Image": "vixtract/nginx:0123"},
            "Mounts": [{"Type": "volume", "Name": "v1", "Source": "/var/lib/docker/volumes/v1/_data"},
                       {"Type": "bind", "Source": "/opt/vixtract/nginx/tls"}]}


@pytest.mark.parametrize("state, expected", [
    (None, "nginx: container vixtract-nginx does not exist: run playbooks/site.yml"),
    (inspect("exited", "unhealthy", exit_code=137), "nginx: container vixtract-nginx is exited (exit code 137)"),
    (inspect("restarting", restarts=7), "nginx: container vixtract-nginx keeps restarting (7 restarts)"),
    (inspect(health="unhealthy"), "nginx: container vixtract-nginx is unhealthy"),
], ids=["missing", "stopped", "restarting", "unhealthy"])
def test_a_container_that_is_not_running_well_is_a_problem_and_the_module_does_not_fail(monkeypatch, run_module,
                                                                                        state, expected):
    fake_docker(monkeypatch, state)
    result = run_module(stack_health.main, {"component": "nginx", "container": "vixtract-nginx"})
    assert not result.get("failed") and result["changed"] is False
    assert len(result["problems"]) == 1 and result["problems"][0].startswith(expected), result["problems"]


def test_a_container_starting_after_a_restart_is_asked_again_until_its_first_check_passes(monkeypatch):
    """Docker says `starting` until a restarted container's first check, one interval after the start: a report
    right after a deploy waits for it rather than calling it a problem."""
    answers = [inspect(health="starting"), inspect(health="starting"), inspect(health="healthy")]
    monkeypatch.setattr(stack_health, "run", lambda argv: (0, json.dumps([answers.pop(0)]), ""))
    slept = []
    fields, problems, _sources = stack_health.container_findings("vixtract-nginx", wait=60, sleep=slept.append)
    assert (fields["health"], problems, slept, answers) == ("healthy", [], [1, 1], [])


def test_a_container_still_starting_after_the_wait_is_a_problem(monkeypatch):
    asked = []
    monkeypatch.setattr(stack_health, "run", lambda argv: asked.append(argv) or (0, json.dumps([inspect(
        health="starting")]), ""))
    clock = iter(range(0, 1000, 10))
    monkeypatch.setattr(stack_health.time, "monotonic", lambda: next(clock))
    fields, problems, _sources = stack_health.container_findings("vixtract-nginx", wait=60, sleep=lambda _s: None)
    assert fields["health"] == "starting" and len(asked) == 6, asked  # at 10, 20 ... 60 s
    assert problems == ["container vixtract-nginx is starting: docker inspect vixtract-nginx shows its health check's "
                        "output"]


def test_a_healthy_container_reports_its_image_version_volumes_and_process(monkeypatch, run_module):
    calls = fake_docker(monkeypatch, inspect(), top="PID COMMAND\n12 python3 -m jupyterhub_idle_culler --timeout=60\n",
                        version_out=("", "nginx version: nginx/1.26.3\n"))
    result = run_module(stack_health.main, {"component": "nginx", "container": "vixtract-nginx",
                                            "version_command": ["nginx", "-v"],
                                            "process": {"name": "idle culler", "match": "jupyterhub_idle_culler"}})
    report = result["report"]
    assert result["problems"] == []
    assert (report["state"], report["health"], report["restarts"], report["image"], report["version"]) == \
        ("running", "healthy", 0, "vixtract/nginx:0123", "1.26.3")
    assert report["volumes_bytes"] == 4096 and ["du", "-sxb", "/var/lib/docker/volumes/v1/_data"] in calls
    assert report["details"] == ["idle culler: running"]
    assert ["docker", "exec", "vixtract-nginx", "nginx", "-v"] in calls


def test_a_process_that_does_not_run_is_a_problem(monkeypatch, run_module):
    fake_docker(monkeypatch, inspect(), top="PID COMMAND\n1 jupyterhub -f /etc/jupyterhub/jupyterhub_config.py\n")
    result = run_module(stack_health.main, {"component": "jupyterhub", "container": "vixtract-jupyterhub",
                                            "process": {"name": "idle culler", "match": "jupyterhub_idle_culler"}})
    assert result["report"]["details"] == ["idle culler: NOT RUNNING"]
    assert result["problems"] == ["jupyterhub: idle culler does not run in vixtract-jupyterhub: docker logs "
                                  "vixtract-jupyterhub"]


def test_an_expiring_certificate_an_old_backup_and_the_key_never_shown(monkeypatch, run_module, tmp_path, cronicle):
    fake_docker(monkeypatch, inspect())
    cronicle.routes["/api/app/status/v1"] = lambda r: {"code": 0, "version": "0.9.106"}
    cronicle.routes["/api/app/get_schedule/v1"] = lambda r: {"code": "api", "description": f"Invalid API Key: {KEY}"}
    cert = certificate(tmp_path / "server.crt", 5)
    (tmp_path / "backups" / "20200101T000000Z").mkdir(parents=True)
    (tmp_path / "backups" / "20200101T000000Z" / "manifest.json").write_text("{}")
    result = run_module(stack_health.main, {"component": "cronicle", "container": "vixtract-cronicle",
                                            "certificate": cert, "cert_days": 14,
                                            "cronicle": {"url": cronicle.url, "api_key": KEY},
                                            "backup_dir": str(tmp_path / "backups"), "backup_hours": 36})
    problems = result["problems"]
    assert any(p.startswith(f"cronicle: the certificate {cert} expires in 5 days (fewer than "
                            "vixtract_health_cert_days=14)") for p in problems), problems
    assert any(p.startswith(f"cronicle: the newest backup in {tmp_path}/backups is ") and
               "(vixtract_health_backup_hours=36)" in p for p in problems), problems
    assert any(p.startswith("cronicle: Cronicle is not master (Invalid API Key: ") for p in problems), problems
    assert KEY not in json.dumps(result)
    # only reporting the age: no problem for it
    result = run_module(stack_health.main, {"component": "server", "backup_dir": str(tmp_path / "backups")})
    assert result["problems"] == [] and result["report"]["backup"] == "20200101T000000Z"
