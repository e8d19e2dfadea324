"""The README's quick start worked on a bare machine: the stack it deployed there is whole and healthy, its engine
runs without systemd within the host's limits, and the users' first steps work. (That the second run changed
nothing is Molecule's idempotence step, which this scenario's converge reports.)"""
import shlex

import pytest

from vixtest.stack import COMPONENTS

CHECKOUT = "/root/vixtract"
CREDENTIALS = f"{CHECKOUT}/inventories/local/credentials"


def run(host, cmd):
    result = host.run(cmd)
    assert result.rc == 0, f"{cmd}: {result.stdout}{result.stderr}"
    return result.stdout


def test_the_machine_has_no_systemd_and_its_open_files_limit_is_below_the_init_scripts(host):
    assert run(host, "cat /proc/1/comm").strip() != "systemd"
    assert int(run(host, "sh -c 'ulimit -Hn'")) < 1048576


def test_the_engine_runs_through_debians_init_script(host):
    assert run(host, "service docker status").strip()
    pid = run(host, "cat /var/run/docker.pid").strip()
    assert run(host, f"cat /proc/{pid}/comm").strip() == "dockerd"
    # started at boot through the init script's links
    assert run(host, "ls /etc/rc2.d").count("docker") == 1


@pytest.mark.parametrize("name", COMPONENTS)
def test_every_component_is_healthy(host, name):
    assert run(host, f"docker inspect -f '{{{{.State.Health.Status}}}}' {name}").strip() == "healthy"


def test_the_landing_page_answers_over_https_verified_with_the_generated_ca(host):
    page = run(host, f"curl -sS --cacert {CREDENTIALS}/tls/ca.crt https://localhost/")
    assert 'href="/jupyter/"' in page and 'href="/cronicle/"' in page


def test_the_analyst_logs_in_to_jupyterhub_with_the_generated_password(host):
    password = run(host, f"cat {CREDENTIALS}/users/analyst").split()[0]
    jar = "/tmp/quickstart-cookies"
    curl = f"curl -sS --cacert {CREDENTIALS}/tls/ca.crt -c {jar} -b {jar}"
    run(host, f"rm -f {jar}; {curl} -o /dev/null https://localhost/jupyter/hub/login")
    xsrf = run(host, f"awk '$6 == \"_xsrf\" {{print $7}}' {jar}").strip()
    assert xsrf, "the login page set an _xsrf cookie"
    answer = run(host, f"{curl} -o /dev/null -w '%{{http_code}} %{{redirect_url}}' "
                       f"--data-urlencode username=analyst --data-urlencode password={shlex.quote(password)} "
                       f"--data-urlencode _xsrf={xsrf} https://localhost/jupyter/hub/login")
    assert answer.startswith("302 "), answer
    assert "/jupyter/hub/login" not in answer, "a refused login sends back to the login page"


def test_cronicle_takes_the_admin_password_the_deploy_generated(host):
    password = run(host, f"cat {CREDENTIALS}/cronicle/admin").split()[0]
    body = shlex.quote('{"username": "admin", "password": "%s"}' % password)
    answer = run(host, f"curl -sS -H 'Content-Type: application/json' -d {body} http://127.0.0.1:3012/api/user/login")
    assert '"code":0' in answer.replace(" ", ""), answer
