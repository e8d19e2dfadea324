"""playbooks/health.yml on the default stack, with every threshold crossed at once: it fails, naming each problem
with its component, and shows no secret. (molecule/multi checks the healthy run and a stopped container.) And the
containers' own health checks, which health.yml reads: each passes only on its service's answer."""
import datetime as dt
import json
import re
import shlex

import pytest

from vixtest.cronicle import admin_password, api, api_key, run_and_wait
from vixtest.health import verdict
from vixtest.stack import run_playbook

EMPTY_BACKUP_DIR = "/var/backups/vixtract-health-probe"
# What each HTTP health check asks (port and path, written out from the roles' docs), and what must make it fail
PROBED = {"vixtract-nginx": ("80", "/healthz"), "vixtract-jupyterhub": ("8000", "/jupyter/hub/health"),
          "vixtract-cronicle": ("3012", "/api/app/ping/v1")}
CLOSED_PORT = "9"
NO_SUCH_PATH = "/vixtract-no-such-path"


def cert_days(host, path):
    """Days left on a certificate on the server, as openssl reads it."""
    end = host.check_output(f"openssl x509 -noout -enddate -in {path}").split("=", 1)[1]
    not_after = dt.datetime.strptime(" ".join(end.split()), "%b %d %H:%M:%S %Y %Z")
    return (not_after - dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)).days


def failed_jobs_today(host):
    """Jobs that ended with a code other than 0 in the last 24 h, from Cronicle's history."""
    since = dt.datetime.now(dt.timezone.utc).timestamp() - 24 * 3600
    rows = api(host, "/api/app/get_history/v1", {"offset": 0, "limit": 500}, key=api_key())["rows"]
    return [r for r in rows if r["time_start"] + r["elapsed"] >= since and r["code"] != 0]


@pytest.mark.parametrize("name", sorted(PROBED))
def test_each_health_check_passes_only_on_its_own_answer(host, name):
    """The engine's own check of each container, run as the engine runs it (the image's user, the exec form), passes
    on the stack as deployed, and fails when nothing answers on its port or when its path answers anything but 200:
    a check that passes whatever happens would hide a dead service."""
    test = json.loads(host.check_output(f"docker inspect -f '{{{{json .Config.Healthcheck.Test}}}}' {name}"))
    assert test[0] == "CMD", test
    port, path = PROBED[name]
    script = test[-1]
    assert f"/dev/tcp/127.0.0.1/{port} " in script and f" {path} " in script, script

    def check(argv):
        return host.run("docker exec " + name + " " + " ".join(shlex.quote(arg) for arg in argv)).rc

    assert check(test[1:]) == 0
    closed = script.replace(f"/dev/tcp/127.0.0.1/{port} ", f"/dev/tcp/127.0.0.1/{CLOSED_PORT} ")
    assert check(test[1:-1] + [closed]) != 0
    assert check(test[1:-1] + [script.replace(f" {path} ", f" {NO_SUCH_PATH} ")]) != 0


def test_health_fails_naming_each_problem_and_shows_no_secret(host):
    # a scheduled job that fails (without its notebook in place, or with test_cronicle's failing one)
    assert run_and_wait(host, "vixtract test: failing")["code"] != 0
    failed = failed_jobs_today(host)
    days = cert_days(host, "/opt/vixtract/nginx/tls/server.crt")
    assert days > 300, "the self-signed certificate is new"
    rc, out = run_playbook({"vixtract_health_cert_days": days + 10, "vixtract_health_disk_percent": 1,
                            "vixtract_backup_schedule": "17 3 * * *", "vixtract_backup_dir": EMPTY_BACKUP_DIR},
                           playbook="playbooks/health.yml")
    assert rc != 0, out[-3000:]
    message = verdict(out, "vixtract-default")
    assert message, out[-3000:]
    assert re.search(rf"nginx: the certificate \S+server.crt expires in ({days}|{days - 1}) days \(fewer than "
                     rf"vixtract_health_cert_days={days + 10}\)", message), message
    assert f"cronicle: {len(failed)} scheduled job(s) failed in the last 24 h: vixtract test: failing" in message, \
        message
    assert re.search(r"server: the disk holding /var/lib/docker is [\d.]+ % full \(more than 1 %\)", message), message
    assert f"server: there is no backup in {EMPTY_BACKUP_DIR} (vixtract_health_backup_hours=36)" in message, message
    # the healthy parts are not named, and the report did not change the server
    assert not re.search(r"(postgres|jupyterhub): ", message), message
    assert not host.file(EMPTY_BACKUP_DIR).exists
    assert not host.file("/etc/cron.d/vixtract-backup").exists
    for secret in (api_key(), admin_password()):
        assert secret not in out
