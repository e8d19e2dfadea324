"""vixtract_tls_mode acme on the app server against a real ACME server (pebble, on the app server's engine):
HTTP-01 through nginx, no re-request on a re-run, renewal on the host."""
import shlex

from vixtest.stack import changed_count, run_playbook, stack_vars

# nginx runs on the app server
testinfra_hosts = ["ansible://vixtract-multi-app"]

# the nginx role alone, as an ops team runs it (validation first, nothing else)
NGINX_ONLY = ["nginx"]
CERT = "/opt/vixtract/nginx/tls/server.crt"


def pebble_root(host):
    """pebble makes a new root at each start; its management port hands it out."""
    host.check_output("curl -sSk https://localhost:15000/roots/0 -o /tmp/pebble-root.pem")
    return "/tmp/pebble-root.pem"


def site(host, root):
    name = stack_vars()["vixtract_server_name"]
    return host.run(" ".join(shlex.quote(c) for c in [
        "curl", "-sS", "--max-time", "20", "--cacert", root, "--resolve", f"{name}:443:127.0.0.1",
        "-o", "/dev/null", "-w", "%{http_code}", f"https://{name}/"]))


def served_serial(host):
    name = stack_vars()["vixtract_server_name"]
    return host.check_output(f"openssl s_client -connect 127.0.0.1:443 -servername {name} </dev/null 2>/dev/null "
                             "| openssl x509 -noout -serial")


def test_certificate_is_issued_by_the_acme_server_and_verifies(host):
    r = site(host, pebble_root(host))
    assert r.rc == 0, r.stderr
    assert r.stdout == "200"
    assert "Pebble" in host.check_output(f"openssl x509 -in {CERT} -noout -issuer")


def test_rerun_does_not_request_a_new_certificate(host):
    before = served_serial(host)
    rc, out = run_playbook(tags=NGINX_ONLY)
    assert rc == 0, out
    assert changed_count(out) == 0, out
    assert served_serial(host) == before


def test_renewal_on_the_host_serves_a_new_certificate(host):
    assert host.service("vixtract-acme-renew.timer").is_enabled
    # not due: nothing happens
    before = served_serial(host)
    host.check_output("/opt/vixtract/nginx/acme/renew.sh")
    assert served_serial(host) == before
    # forced: a new certificate through the same HTTP-01 path, served after nginx's reload
    out = host.run("/opt/vixtract/nginx/acme/renew.sh --force")
    assert out.rc == 0, out.stdout + out.stderr
    assert served_serial(host) != before
    assert site(host, pebble_root(host)).stdout == "200"
    # and Ansible agrees with the renewed certificate: nothing to change
    rc, out = run_playbook(tags=NGINX_ONLY)
    assert rc == 0, out
    assert changed_count(out) == 0, out
