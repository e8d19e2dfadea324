"""nginx: one front door. The landing page, HTTPS as vixtract_tls_mode says, /jupyter and /cronicle through the proxy.

The scenario runs every component on its server: a test that finds JupyterHub or Cronicle missing fails.
"""
import json
import re
import shlex
import subprocess
import textwrap

import pytest

from vixtest.stack import changed_count, credential, require_running, run_playbook, stack_credentials, stack_vars

CONTAINER = "vixtract-nginx"
# the nginx role alone, as an ops team runs it (validation first, nothing else)
NGINX_ONLY = ["nginx"]
CA_ON_SERVER = "/tmp/vixtract-test-ca.crt"


def tls_mode():
    return stack_vars().get("vixtract_tls_mode", "selfsigned")


def server_name(host):
    return stack_vars().get("vixtract_server_name") or host.check_output("hostname")


def curl(host, path, *options, name=None, scheme=None):
    """curl on the server against the published ports, as a client on the network would, by the site's name."""
    name = name or server_name(host)
    scheme = scheme or ("http" if tls_mode() == "none" else "https")
    port = 80 if scheme == "http" else 443
    cmd = ["curl", "-sS", "--max-time", "20", "--resolve", f"{name}:{port}:127.0.0.1", *options,
           f"{scheme}://{name}{path}"]
    return host.run(" ".join(shlex.quote(c) for c in cmd))


def https_options(host):
    if tls_mode() == "none":
        return []
    if tls_mode() == "selfsigned":
        ca = (stack_credentials() / "tls/ca.crt").read_text()
        host.run(f"cat > {CA_ON_SERVER} <<'EOF'\n{ca}\nEOF")
        return ["--cacert", CA_ON_SERVER]
    return []


def status(result):
    return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""


def test_only_http_and_https_are_published(host):
    ports = host.check_output(f"docker port {CONTAINER}").splitlines()
    expected = {"80/tcp"} | ({"443/tcp"} if tls_mode() != "none" else set())
    assert {p.split(" -> ")[0] for p in ports} == expected


def test_container_is_healthy_with_restart_policy(host):
    info = json.loads(host.check_output(f"docker inspect {CONTAINER}"))[0]
    assert info["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    assert stack_vars().get("vixtract_network", "vixtract") in info["NetworkSettings"]["Networks"]
    for _attempt in range(40):
        state = host.check_output(f"docker inspect -f '{{{{.State.Health.Status}}}}' {CONTAINER}")
        if state == "healthy":
            break
        host.run("sleep 1")
    assert state == "healthy"


def test_landing_page_answers_with_its_links(host):
    page = curl(host, "/", "-w", "\n%{http_code}", *https_options(host))
    assert page.rc == 0, page.stderr
    assert status(page) == "200"
    html = page.stdout
    assert 'href="/jupyter/"' in html
    assert 'href="/cronicle/"' in html
    # how to connect a BI tool: database and read-only user, never a password
    assert f"<code>{stack_vars().get('vixtract_postgres_database', 'etl')}</code>" in html
    assert f"<code>{stack_vars().get('vixtract_postgres_reader', 'bi_reader')}</code>" in html
    reader_password = stack_credentials() / "postgres/bi_reader"
    if reader_password.exists():
        assert credential("postgres/bi_reader") not in html
    assert "Deployed versions" in html and "nginx</th><td>1." in html
    # no external assets
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html
    if tls_mode() == "selfsigned":
        assert 'href="/vixtract-ca.crt"' in html


def test_landing_page_says_postgresql_is_not_published_and_names_the_setting(host):
    """Nothing listens on 5432 here (test_postgres checks that): the BI box must not offer an address."""
    assert not stack_vars().get("postgres_publish"), "this scenario keeps PostgreSQL unpublished"
    html = curl(host, "/", *https_options(host)).stdout
    assert 'id="bi-not-published"' in html
    assert "<code>postgres_publish</code>" in html and "<code>postgres_allowed_cidrs</code>" in html
    assert "jdbc:postgresql://" not in html
    assert '<th scope="row">Host</th>' not in html and '<th scope="row">Port</th>' not in html


def test_landing_page_sends_security_headers(host):
    headers = curl(host, "/", "-o", "/dev/null", "-D", "-", *https_options(host)).stdout.lower()
    assert "x-content-type-options: nosniff" in headers
    assert "x-frame-options: sameorigin" in headers
    assert "content-security-policy: default-src 'none'" in headers
    if tls_mode() != "none":
        assert "strict-transport-security: max-age=63072000" in headers


def test_selfsigned_site_verifies_with_the_generated_ca(host):
    assert tls_mode() == "selfsigned", "this scenario runs the self-signed mode"
    offered = curl(host, "/vixtract-ca.crt", "-k").stdout
    assert offered.strip() == (stack_credentials() / "tls/ca.crt").read_text().strip()
    verified = curl(host, "/", "-o", "/dev/null", "-w", "%{http_code}", *https_options(host))
    assert verified.rc == 0, verified.stderr
    assert verified.stdout == "200"
    # without the CA, the same request is refused: verification really happens
    assert curl(host, "/", "-o", "/dev/null").rc == 60


def test_http_redirects_to_https_with_301(host):
    assert tls_mode() != "none", "this scenario runs with HTTPS"
    r = curl(host, "/jupyter/hub/login?next=x", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
             scheme="http")
    assert r.stdout == f"301 https://{server_name(host)}/jupyter/hub/login?next=x"


def test_acme_challenge_path_stays_on_http(host):
    r = curl(host, "/.well-known/acme-challenge/missing", "-o", "/dev/null", "-w", "%{http_code}", scheme="http")
    assert r.stdout == "404"


@pytest.mark.parametrize("version, accepted", [("-tls1_1", False), ("-tls1_2", True), ("-tls1_3", True)])
def test_tls_versions(host, version, accepted):
    assert tls_mode() != "none", "this scenario runs with HTTPS"
    # SECLEVEL=0 lets the client offer TLS 1.1 at all, so a refusal is the server's
    out = host.run(f"echo | openssl s_client -connect 127.0.0.1:443 -servername {server_name(host)} {version} "
                   f"-cipher 'DEFAULT:@SECLEVEL=0' 2>&1").stdout
    if accepted:
        assert "Cipher is" in out and "(NONE)" not in out, out
    else:
        assert "alert protocol version" in out, out


def test_http2_is_offered(host):
    assert tls_mode() != "none", "this scenario runs with HTTPS"
    r = curl(host, "/", "-o", "/dev/null", "-w", "%{http_version}", "--http2", *https_options(host))
    assert r.stdout == "2"


def test_upstreams_that_are_missing_do_not_take_the_site_down(host):
    """nginx resolves the upstreams at request time: a JupyterHub that is gone is a 502 for /jupyter/, not a dead
    site; once it is back, /jupyter/ answers again without touching nginx."""
    require_running(host, "vixtract-jupyterhub")
    host.check_output("docker stop vixtract-jupyterhub")
    try:
        r = curl(host, "/jupyter/hub/login", "-o", "/dev/null", "-w", "%{http_code}", *https_options(host))
        assert r.stdout == "502"
        assert status(curl(host, "/", "-o", "/dev/null", "-w", "%{http_code}", *https_options(host))) == "200"
    finally:
        host.check_output("docker start vixtract-jupyterhub")
    for _attempt in range(60):
        if host.run("docker inspect -f '{{.State.Health.Status}}' vixtract-jupyterhub").stdout.strip() == "healthy":
            break
        host.run("sleep 2")
    r = curl(host, "/jupyter/hub/login", "-o", "/dev/null", "-w", "%{http_code}", *https_options(host))
    assert r.stdout == "200"


def test_a_snippet_nginx_rejects_stops_the_run_and_the_site_keeps_answering(host):
    rc, out = run_playbook({"nginx_extra_config": "vixtract_no_such_directive on;"}, tags=NGINX_ONLY)
    assert rc != 0
    assert "nginx rejected the configuration" in out, out
    assert 'unknown directive "vixtract_no_such_directive"' in out.replace('\\"', '"'), out
    assert "vixtract_no_such_directive" not in host.file("/opt/vixtract/nginx/conf/nginx.conf").content_string
    r = curl(host, "/", "-o", "/dev/null", "-w", "%{http_code}", *https_options(host))
    assert r.stdout == "200"
    # the original settings again: nothing to change
    rc, out = run_playbook(tags=NGINX_ONLY)
    assert rc == 0, out
    assert changed_count(out) == 0, out


def make_test_pki(tmp, name):
    """A root CA, an intermediate and a server certificate for NAME, its key encrypted with a passphrase."""
    script = textwrap.dedent(f"""\
        set -e
        cd {tmp}
        openssl req -x509 -newkey rsa:2048 -nodes -keyout root.key -out root.crt -days 2 -subj /CN=test-root \\
          -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
        openssl req -newkey rsa:2048 -nodes -keyout int.key -out int.csr -subj /CN=test-intermediate
        printf 'basicConstraints=critical,CA:TRUE,pathlen:0\\nkeyUsage=critical,keyCertSign,cRLSign\\n' > int.ext
        openssl x509 -req -in int.csr -CA root.crt -CAkey root.key -CAcreateserial -out chain.crt -days 2 \\
          -extfile int.ext
        openssl req -newkey rsa:2048 -keyout server.key -passout pass:s3cret-test -out server.csr -subj /CN={name}
        printf 'subjectAltName=DNS:{name}\\nextendedKeyUsage=serverAuth\\n' > server.ext
        openssl x509 -req -in server.csr -CA chain.crt -CAkey int.key -CAcreateserial -out server.crt -days 2 \\
          -extfile server.ext
        """)
    subprocess.run(["bash", "-c", script], check=True, capture_output=True)


def test_provided_certificate_with_chain_and_passphrase(host, tmp_path):
    assert tls_mode() != "none", "this scenario runs with HTTPS"
    name = server_name(host)
    make_test_pki(tmp_path, name)
    provided = {"vixtract_tls_mode": "provided", "vixtract_tls_certificate": str(tmp_path / "server.crt"),
                "vixtract_tls_chain": str(tmp_path / "chain.crt"), "vixtract_tls_key": str(tmp_path / "server.key"),
                "vixtract_tls_key_passphrase": "s3cret-test"}
    try:
        rc, out = run_playbook(provided, tags=NGINX_ONLY)
        assert rc == 0, out
        assert "s3cret-test" not in out
        root = (tmp_path / "root.crt").read_text()
        host.run(f"cat > /tmp/vixtract-test-root.crt <<'EOF'\n{root}\nEOF")
        r = curl(host, "/", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", "/tmp/vixtract-test-root.crt")
        assert r.rc == 0, r.stderr
        assert r.stdout == "200"
        assert not host.file("/opt/vixtract/nginx/html/vixtract-ca.crt").exists
    finally:
        rc, out = run_playbook(tags=NGINX_ONLY)
    assert rc == 0, out
    assert not host.file("/opt/vixtract/nginx/tls/server.key.pass").exists
    if tls_mode() == "selfsigned":
        # back on the stack's own CA: the same one as before (not regenerated)
        r = curl(host, "/", "-o", "/dev/null", "-w", "%{http_code}", *https_options(host))
        assert r.stdout == "200", r.stderr


# --- through the proxy to JupyterHub and Cronicle (run when those containers are deployed) ---

def test_jupyterhub_login_page_through_nginx(host):
    require_running(host, "vixtract-jupyterhub")
    r = curl(host, "/jupyter/hub/login", "-o", "/dev/null", "-w", "%{http_code}", *https_options(host))
    assert r.stdout == "200", r.stderr


KERNEL_CHECK = r'''
import asyncio, json, ssl, sys, uuid
from http.cookies import SimpleCookie
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

BASE, USER, PASSWORD = sys.argv[1], sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
client = AsyncHTTPClient()
jar = {}  # (name, path) -> value: the Hub and the user's server each set an _xsrf cookie on their own path


def cookies_for(path):
    """name -> value of the cookies a browser sends to path (the longest matching cookie path wins)."""
    found = {}
    for (name, cpath), value in sorted(jar.items(), key=lambda kv: len(kv[0][1])):
        if path.startswith(cpath):
            found[name] = value
    return found


async def fetch(path, method="GET", body=None, headers=None):
    sent = cookies_for(path)
    h = {"Cookie": "; ".join(f"{k}={v}" for k, v in sent.items())}
    if "_xsrf" in sent:
        h["X-XSRFToken"] = sent["_xsrf"]
    h.update(headers or {})
    r = await client.fetch(HTTPRequest(BASE + path, method=method, body=body, headers=h, ssl_options=ctx,
                                       follow_redirects=False, request_timeout=120), raise_error=False)
    for c in r.headers.get_list("Set-Cookie"):
        for k, m in SimpleCookie(c).items():
            jar[(k, m["path"] or "/")] = m.value
    return r

async def main():
    await fetch("/jupyter/hub/login")
    r = await fetch("/jupyter/hub/login", "POST",
                    f"username={USER}&password={PASSWORD}&_xsrf={cookies_for('/jupyter/hub/login').get('_xsrf', '')}",
                    {"Content-Type": "application/x-www-form-urlencoded"})
    assert r.code == 302, ("login", r.code)
    # the Hub's spawn page starts the user's server (a GET, as a browser does after login)
    r = await fetch("/jupyter/hub/spawn")
    assert r.code in (200, 302, 303), ("spawn", r.code, r.body)
    for _ in range(120):
        r = await fetch(f"/jupyter/user/{USER}/api/status")
        # the server answers: 200, or 403 before the OAuth handshake below gave this client its cookies
        if r.code in (200, 403):
            break
        if r.code in (301, 302, 303):
            await fetch(r.headers["Location"].replace(BASE, ""))
        await asyncio.sleep(1)
    # opening JupyterLab walks the OAuth handshake and leaves the server's own cookies (_xsrf among them)
    path = f"/jupyter/user/{USER}/lab"
    for _ in range(10):
        r = await fetch(path)
        if r.code not in (301, 302, 303):
            break
        path = r.headers["Location"].replace(BASE, "")
    assert r.code == 200, ("lab", r.code, path)
    r = await fetch(f"/jupyter/user/{USER}/api/kernels", "POST", "{}")
    assert r.code == 201, ("kernel", r.code, r.body)
    kernel = json.loads(r.body)["id"]
    url = BASE.replace("https://", "wss://").replace("http://", "ws://") + f"/jupyter/user/{USER}/api/kernels/{kernel}/channels"
    sent = cookies_for(f"/jupyter/user/{USER}/api/kernels")
    ws = await websocket_connect(HTTPRequest(url, headers={"Cookie": "; ".join(f"{k}={v}" for k, v in sent.items())},
                                             ssl_options=ctx))
    msg_id = uuid.uuid4().hex
    ws.write_message(json.dumps({"header": {"msg_id": msg_id, "msg_type": "execute_request", "username": USER,
                                            "session": uuid.uuid4().hex, "version": "5.3"},
                                 "parent_header": {}, "metadata": {}, "channel": "shell",
                                 "content": {"code": "print(6 * 7)", "silent": False}}))
    while True:
        m = json.loads(await asyncio.wait_for(ws.read_message(), 60))
        if m.get("parent_header", {}).get("msg_id") == msg_id and m["msg_type"] == "stream":
            print(m["content"]["text"].strip())
            break
    await fetch(f"/jupyter/user/{USER}/api/kernels/{kernel}", "DELETE")

asyncio.run(main())
'''


def test_kernel_websocket_through_nginx_executes_code(host):
    require_running(host, "vixtract-jupyterhub")
    users = [u for u in stack_vars().get("vixtract_users", []) if u.get("state", "present") == "present"]
    assert users, "the scenario has vixtract_users"
    user = users[0]["name"]
    password = users[0].get("password") or credential(f"users/{user}")
    scheme = "http" if tls_mode() == "none" else "https"
    # run from inside the JupyterHub container (it has tornado), through nginx on the stack network
    host.run(f"cat > /tmp/vixtract-kernel-check.py <<'EOF'\n{KERNEL_CHECK}\nEOF")
    host.check_output("docker cp /tmp/vixtract-kernel-check.py vixtract-jupyterhub:/tmp/kernel-check.py")
    r = host.run(f"docker exec vixtract-jupyterhub /opt/vixtract/venv/bin/python /tmp/kernel-check.py "
                 f"{scheme}://{CONTAINER} {shlex.quote(user)} {shlex.quote(password)}")
    assert r.rc == 0, r.stdout + r.stderr
    assert r.stdout.strip().splitlines()[-1] == "42"


def test_cronicle_ui_and_assets_through_nginx(host):
    require_running(host, "vixtract-cronicle")
    opts = https_options(host)
    page = curl(host, "/cronicle/", "-w", "\n%{http_code}", *opts)
    assert status(page) == "200", page.stderr
    assets = set(re.findall(r'(?:src|href)="(/[^"]+)"', page.stdout))
    assert assets and all(a.startswith(("/cronicle/", "/api/", "/socket.io/")) for a in assets), assets
    assets |= {"/cronicle/" + a for a in re.findall(r'(?:src|href)="((?:js|css)/[^"]+)"', page.stdout)}
    for asset in sorted(assets):
        r = curl(host, asset, "-o", "/dev/null", "-w", "%{http_code}", *opts)
        assert r.stdout == "200", asset
    ping = curl(host, "/api/app/ping/v1", *opts)
    assert json.loads(ping.stdout)["code"] == 0
    sio = curl(host, "/socket.io/?EIO=4&transport=polling", "-o", "/dev/null", "-w", "%{http_code}", *opts)
    assert sio.stdout == "200"


def from_the_stack_network(host, path, token=None):
    """The HTTP status of https://vixtract-nginx/PATH asked from inside the Cronicle container (on the stack
    network, so not from the allowed address)."""
    script = ("import ssl, sys, urllib.request, urllib.error\n"
              f"r = urllib.request.Request('https://{CONTAINER}{path}')\n"
              + (f"r.add_header('Authorization', 'token {token}')\n" if token else "")
              + "try:\n    print(urllib.request.urlopen(r, context=ssl._create_unverified_context(), timeout=20).status)\n"
              "except urllib.error.HTTPError as e:\n    print(e.code)\n")
    return host.check_output(f"docker exec vixtract-cronicle python3 -c {shlex.quote(script)}")


def test_metrics_are_off_by_default_and_then_served_to_the_allowed_network_only(host):
    if tls_mode() == "none":
        pytest.fail("this scenario is meant to serve HTTPS")
    options = https_options(host)
    assert status(curl(host, "/nginx_status", "-w", "\n%{http_code}", *options)) == "404"
    assert status(curl(host, "/jupyter/hub/metrics", "-w", "\n%{http_code}", *options)) == "404"
    # the server asks through its published port: nginx sees the stack network's gateway
    gateway = host.check_output("docker network inspect vixtract -f '{{(index .IPAM.Config 0).Gateway}}'")
    try:
        rc, out = run_playbook({"vixtract_metrics_allow": [f"{gateway}/32"]}, tags=["jupyterhub", "nginx"])
        assert rc == 0, out[-3000:]
        token = credential("jupyterhub/metrics_token")
        assert token not in out
        nginx_status = curl(host, "/nginx_status", *options).stdout
        assert nginx_status.startswith("Active connections:"), nginx_status
        metrics = curl(host, "/jupyter/hub/metrics", "-H", f"Authorization: token {token}", "-w", "\n%{http_code}",
                       *options)
        assert status(metrics) == "200" and "jupyterhub_" in metrics.stdout, metrics.stdout[-500:]
        # without the token the Hub refuses; from another address nginx refuses, token or not
        assert status(curl(host, "/jupyter/hub/metrics", "-w", "\n%{http_code}", *options)) == "403"
        assert from_the_stack_network(host, "/nginx_status") == "403"
        assert from_the_stack_network(host, "/jupyter/hub/metrics", token) == "403"
        # the token is for metrics only
        users = curl(host, "/jupyter/hub/api/users", "-H", f"Authorization: token {token}", "-w", "\n%{http_code}",
                     *options)
        assert status(users) == "403", users.stdout[-300:]
    finally:
        rc, out = run_playbook(tags=["jupyterhub", "nginx"])
    assert rc == 0, out[-3000:]
    assert status(curl(host, "/nginx_status", "-w", "\n%{http_code}", *options)) == "404"
