"""sources_reachable asks each source from this machine and fails with one line per source that does not answer.

The sources are local HTTP(S) servers on 127.0.0.1 at random ports (answering 200, 401 or 404), a closed port and a
port that accepts connections and never answers. HTTPS uses a certificate of a throwaway CA made here."""
import datetime
import ipaddress
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.vixtract.stack.plugins.modules import sources_reachable
from ansible_collections.vixtract.stack.plugins.modules.sources_reachable import main

HEAD = "Sources this run needs do not answer (nothing was changed; vixtract_check_sources: false skips this check):\n"
UNTRUSTED = ("TLS certificate not trusted (unable to get local issuer certificate): the images trust Debian's CA list "
             "and vixtract_extra_ca_certificates only; add the CA of your TLS-inspecting proxy there")
PROXY_VARIABLES = ("http_proxy", "https_proxy", "no_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY",
                   "ALL_PROXY")


@pytest.fixture(autouse=True)
def no_proxy_settings(monkeypatch):
    """The proxy of whoever runs the tests must not take the requests to 127.0.0.1; the proxy tests set their own."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


class Servers:
    """HTTP(S) servers on 127.0.0.1 for one test. Each answers every GET with its status; /redirect/<path> answers
    302 to <path> on the same server. `seen` holds the request lines."""

    def __init__(self):
        self.running = []
        self.seen = []

    def start(self, status, tls=None):
        seen = self.seen

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                seen.append(self.requestline)
                if self.path.startswith("/redirect/"):
                    self.send_response(302)
                    self.send_header("Location", self.path[len("/redirect"):])
                else:
                    self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls:
            server.socket = tls.wrap_socket(server.socket, server_side=True)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        thread.start()
        self.running.append((server, thread))
        return f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}"

    def stop(self):
        for server, thread in self.running:
            server.shutdown()
            server.server_close()
            thread.join(5)


@pytest.fixture
def servers():
    running = Servers()
    yield running
    running.stop()


@pytest.fixture
def closed_port():
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def silent_port():
    """A port on 127.0.0.1 that accepts connections (the kernel's backlog) and never answers."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    yield s.getsockname()[1]
    s.close()


def source(url, variable="cronicle_archive_url", fix="cronicle_archive_src: a tarball on the controller", **more):
    return dict(url=url, variable=variable, fix=fix, **more)


def checked(url, ok, answer, variable="cronicle_archive_url"):
    return {"url": url, "variable": variable, "ok": ok, "answer": answer}


# HTTP answers

def test_source_answering_200_passes(servers, run_module):
    url = servers.start(200) + "/cronicle.tar.gz"
    result = run_module(main, {"sources": [source(url)]})
    assert result.get("failed") is None
    assert (result["changed"], result["checked"]) == (False, [checked(url, True, "HTTP 200")])


def test_any_2xx_passes(servers, run_module):
    url = servers.start(204) + "/"
    result = run_module(main, {"sources": [source(url)]})
    assert result["checked"] == [checked(url, True, "HTTP 204")]


def test_401_fails_by_default(servers, run_module):
    url = servers.start(401) + "/v2/"
    result = run_module(main, {"sources": [source(url, "vixtract_base_image", "pull from another registry")]})
    assert result["failed"] is True
    assert result["msg"] == HEAD + (f"vixtract_base_image: {url} cannot be had from this server (HTTP 401). "
                                    "Fix: pull from another registry")
    assert result["checked"] == [checked(url, False, "HTTP 401", "vixtract_base_image")]


def test_401_passes_when_its_status_is_given(servers, run_module):
    url = servers.start(401) + "/v2/"
    result = run_module(main, {"sources": [source(url, "vixtract_base_image", "x", status=[401])]})
    assert result.get("failed") is None
    assert result["checked"] == [checked(url, True, "HTTP 401", "vixtract_base_image")]


def test_status_given_does_not_let_another_status_pass(servers, run_module):
    url = servers.start(404) + "/v2/"
    result = run_module(main, {"sources": [source(url, status=[401, 403])]})
    assert result["failed"] is True
    assert result["checked"] == [checked(url, False, "HTTP 404")]


def test_404_fails_naming_variable_url_and_fix(servers, run_module):
    url = servers.start(404) + "/cronicle-0.9.106.tar.gz"
    result = run_module(main, {"sources": [source(url)]})
    assert result["failed"] is True
    assert result["msg"] == HEAD + (f"cronicle_archive_url: {url} cannot be had from this server (HTTP 404). "
                                    "Fix: cronicle_archive_src: a tarball on the controller")


def test_closed_port_fails(closed_port, run_module):
    url = f"http://127.0.0.1:{closed_port}/cronicle.tar.gz"
    result = run_module(main, {"sources": [source(url)]})
    assert result["failed"] is True
    assert result["msg"] == HEAD + (f"cronicle_archive_url: {url} cannot be had from this server "
                                    "([Errno 111] Connection refused). Fix: cronicle_archive_src: a tarball on the "
                                    "controller")


def test_redirect_is_followed_to_its_answer(servers, run_module):
    base = servers.start(200)
    result = run_module(main, {"sources": [source(base + "/redirect/simple/pip/")]})
    assert result["checked"] == [checked(base + "/redirect/simple/pip/", True, "HTTP 200")]
    assert servers.seen == ["GET /redirect/simple/pip/ HTTP/1.1", "GET /simple/pip/ HTTP/1.1"]


def test_redirect_to_a_missing_page_fails(servers, run_module):
    base = servers.start(404)
    result = run_module(main, {"sources": [source(base + "/redirect/gone")]})
    assert result["checked"] == [checked(base + "/redirect/gone", False, "HTTP 404")]


def test_silent_server_fails_after_the_timeout(silent_port, run_module):
    url = f"http://127.0.0.1:{silent_port}/"
    start = time.monotonic()
    result = run_module(main, {"sources": [source(url)], "timeout": 1})
    took = time.monotonic() - start
    assert result["checked"] == [checked(url, False, "timed out")]
    assert 0.9 < took < 10


def test_sources_are_asked_at_the_same_time(silent_port, run_module):
    urls = [f"http://127.0.0.1:{silent_port}/{n}" for n in range(4)]
    start = time.monotonic()
    result = run_module(main, {"sources": [source(url) for url in urls], "timeout": 2})
    took = time.monotonic() - start
    assert [c["answer"] for c in result["checked"]] == ["timed out"] * 4
    assert took < 6, f"4 sources of 2 s each took {took:.1f} s"


def test_every_failing_source_gets_its_line_in_the_order_given(servers, closed_port, run_module):
    ok, unauthorized, missing = servers.start(200) + "/a", servers.start(401) + "/v2/", servers.start(404) + "/b"
    refused = f"http://127.0.0.1:{closed_port}/c"
    result = run_module(main, {"sources": [
        source(missing, "cronicle_archive_url", "set cronicle_archive_src"),
        source(ok, "jupyterhub_python_packages", "set vixtract_https_proxy"),
        source(unauthorized, "vixtract_base_image", "use debootstrap", status=[401]),
        source(refused, "cronicle_nodejs_source", "use debian"),
        source(unauthorized, "vixtract_registry", "log in first"),
    ]})
    assert result["failed"] is True
    assert result["msg"] == HEAD + "\n".join([
        f"cronicle_archive_url: {missing} cannot be had from this server (HTTP 404). Fix: set cronicle_archive_src",
        f"cronicle_nodejs_source: {refused} cannot be had from this server ([Errno 111] Connection refused). "
        "Fix: use debian",
        f"vixtract_registry: {unauthorized} cannot be had from this server (HTTP 401). Fix: log in first",
    ])
    assert result["checked"] == [
        checked(missing, False, "HTTP 404", "cronicle_archive_url"),
        checked(ok, True, "HTTP 200", "jupyterhub_python_packages"),
        checked(unauthorized, True, "HTTP 401", "vixtract_base_image"),
        checked(refused, False, "[Errno 111] Connection refused", "cronicle_nodejs_source"),
        checked(unauthorized, False, "HTTP 401", "vixtract_registry"),
    ]


def test_request_is_a_get_with_the_modules_user_agent(servers, run_module):
    seen_headers = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            seen_headers.append((self.command, self.headers.get("User-Agent")))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        run_module(main, {"sources": [source(f"http://127.0.0.1:{server.server_address[1]}/")]})
    finally:
        server.shutdown()
        server.server_close()
    assert seen_headers == [("GET", "vixtract.stack sources check")]


def test_empty_list_passes(run_module):
    assert run_module(main, {"sources": []}) == {"changed": False, "checked": [],
                                                 "invocation": {"module_args": {
                                                     "sources": [], "extra_ca_certificates": "", "timeout": 10}}}


def test_check_mode_asks_all_the_same(servers, run_module):
    url = servers.start(404) + "/x"
    result = run_module(main, {"sources": [source(url)], "_ansible_check_mode": True})
    assert result["failed"] is True
    assert servers.seen == ["GET /x HTTP/1.1"]


# Proxies from the environment

def test_proxy_of_the_environment_is_used(servers, run_module, monkeypatch):
    proxy = servers.start(200)
    monkeypatch.setenv("http_proxy", proxy)
    result = run_module(main, {"sources": [source("http://sources.vixtract.invalid/simple/")]})
    assert result["checked"] == [checked("http://sources.vixtract.invalid/simple/", True, "HTTP 200")]
    assert servers.seen == ["GET http://sources.vixtract.invalid/simple/ HTTP/1.1"]


def test_no_proxy_keeps_a_local_source_away_from_a_dead_proxy(servers, closed_port, run_module, monkeypatch):
    url = servers.start(200) + "/a"
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{closed_port}")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    result = run_module(main, {"sources": [source(url)]})
    assert result["checked"] == [checked(url, True, "HTTP 200")]


def test_dead_proxy_fails_the_source(closed_port, run_module, monkeypatch):
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{closed_port}")
    result = run_module(main, {"sources": [source("http://sources.vixtract.invalid/")]})
    assert result["checked"] == [checked("http://sources.vixtract.invalid/", False, "[Errno 111] Connection refused")]


# HTTPS: trusted are Debian's CA list and extra_ca_certificates, not this machine's own store

class CA:
    """A throwaway CA and the certificate it issues for a server."""

    def __init__(self, name="vixtract test CA"):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.datetime.now(datetime.timezone.utc)
        self.cert = (x509.CertificateBuilder().subject_name(self.name).issuer_name(self.name)
                     .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(now - datetime.timedelta(days=1))
                     .not_valid_after(now + datetime.timedelta(days=30))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                     .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                                  content_commitment=False, key_encipherment=False,
                                                  data_encipherment=False, key_agreement=False, encipher_only=False,
                                                  decipher_only=False), critical=True)
                     .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False)
                     .sign(self.key, hashes.SHA256()))
        self.pem = self.cert.public_bytes(serialization.Encoding.PEM).decode()

    def server_context(self, tmp_path, names):
        """A server-side TLS context with a certificate for these SAN entries (IP addresses or DNS names)."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        sans = [x509.IPAddress(ipaddress.ip_address(n)) if n[0].isdigit() else x509.DNSName(n) for n in names]
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
                .issuer_name(self.name).public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
                .add_extension(x509.SubjectAlternativeName(sans), critical=False)
                .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                               critical=False)
                .sign(self.key, hashes.SHA256()))
        cert_file, key_file = tmp_path / "server.crt", tmp_path / "server.key"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        return context


@pytest.fixture(scope="module")
def ca():
    return CA()


@pytest.fixture
def https_url(ca, servers, tmp_path):
    return servers.start(200, tls=ca.server_context(tmp_path, ["127.0.0.1"])) + "/simple/pip/"


def test_https_with_a_ca_nobody_trusts_fails_naming_the_fix(https_url, run_module):
    result = run_module(main, {"sources": [source(https_url, "jupyterhub_python_packages", "trust the proxy's CA")]})
    assert result["failed"] is True
    assert result["checked"] == [checked(https_url, False, UNTRUSTED, "jupyterhub_python_packages")]
    assert result["msg"] == HEAD + (f"jupyterhub_python_packages: {https_url} cannot be had from this server "
                                    f"({UNTRUSTED}). Fix: trust the proxy's CA")


def test_https_passes_with_the_ca_in_extra_ca_certificates(ca, https_url, run_module):
    result = run_module(main, {"sources": [source(https_url)], "extra_ca_certificates": ca.pem})
    assert result.get("failed") is None
    assert result["checked"] == [checked(https_url, True, "HTTP 200")]


def test_https_passes_with_the_ca_among_other_certificates(ca, https_url, run_module):
    bundle = CA("another CA").pem + "# ours\n" + ca.pem + CA("a third CA").pem
    result = run_module(main, {"sources": [source(https_url)], "extra_ca_certificates": bundle})
    assert result["checked"] == [checked(https_url, True, "HTTP 200")]


def test_https_with_another_ca_given_still_fails(https_url, run_module):
    result = run_module(main, {"sources": [source(https_url)], "extra_ca_certificates": CA("another CA").pem})
    assert result["checked"] == [checked(https_url, False, UNTRUSTED)]


def test_https_certificate_for_another_name_fails(ca, servers, tmp_path, run_module):
    url = servers.start(200, tls=ca.server_context(tmp_path, ["localhost"])) + "/"
    result = run_module(main, {"sources": [source(url)], "extra_ca_certificates": ca.pem})
    assert result["checked"] == [checked(url, False, (
        "TLS certificate not trusted (IP address mismatch, certificate is not valid for '127.0.0.1'.): the images "
        "trust Debian's CA list and vixtract_extra_ca_certificates only; add the CA of your TLS-inspecting proxy "
        "there"))]


def test_ca_in_debians_list_is_trusted(ca, https_url, tmp_path, run_module, monkeypatch):
    (tmp_path / "mozilla").mkdir()
    (tmp_path / "mozilla" / "Test_CA.crt").write_text(ca.pem)
    monkeypatch.setattr(sources_reachable, "DEBIAN_CAS", str(tmp_path / "mozilla" / "*.crt"))
    result = run_module(main, {"sources": [source(https_url)]})
    assert result["checked"] == [checked(https_url, True, "HTTP 200")]


def test_machines_own_trust_store_is_not_used_when_debians_list_is_there(ca, https_url, tmp_path, run_module,
                                                                         monkeypatch):
    (tmp_path / "mozilla").mkdir()
    (tmp_path / "mozilla" / "Other.crt").write_text(CA("another CA").pem)
    monkeypatch.setattr(sources_reachable, "DEBIAN_CAS", str(tmp_path / "mozilla" / "*.crt"))
    (tmp_path / "local.pem").write_text(ca.pem)
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "local.pem"))
    result = run_module(main, {"sources": [source(https_url)]})
    assert result["checked"] == [checked(https_url, False, UNTRUSTED)]


def test_extra_ca_certificates_that_are_not_pem_fail_before_asking(servers, run_module):
    url = servers.start(200) + "/"
    result = run_module(main, {"sources": [source(url)], "extra_ca_certificates": "not a certificate\n"})
    assert result["failed"] is True
    assert result["msg"].startswith("vixtract_extra_ca_certificates: the certificates cannot be loaded: "), \
        result["msg"]
    assert servers.seen == []


def test_blank_extra_ca_certificates_are_none(https_url, run_module):
    result = run_module(main, {"sources": [source(https_url)], "extra_ca_certificates": "  \n"})
    assert result["checked"] == [checked(https_url, False, UNTRUSTED)]
