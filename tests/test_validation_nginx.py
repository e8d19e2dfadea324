"""Bad TLS and nginx input stops site.yml in its validation play, with the variable named."""
import pytest
from conftest import assert_stopped_in_validation

BAD_INPUTS = {
    "unknown TLS mode": (
        {"vixtract_tls_mode": "letsencrypt"},
        "value of vixtract_tls_mode must be one of: none, provided, selfsigned, acme, got: letsencrypt"),
    "provided without a key file": (
        {"vixtract_tls_mode": "provided", "vixtract_tls_certificate": "@CERT@"},
        "vixtract_tls_key '' must be the absolute path of a PEM private key on the controller"),
    "provided with a key file that does not exist": (
        {"vixtract_tls_mode": "provided", "vixtract_tls_certificate": "@CERT@", "vixtract_tls_key": "/nonexistent.key"},
        "vixtract_tls_key '/nonexistent.key' must be the absolute path of a PEM private key"),
    "acme without an email": (
        {"vixtract_tls_mode": "acme"},
        "vixtract_tls_mode 'acme' needs vixtract_acme_email"),
    "upstream without a port": (
        {"nginx_jupyterhub_upstream": "vixtract-jupyterhub"},
        "nginx_jupyterhub_upstream 'vixtract-jupyterhub' must be CONTAINER:PORT"),
    "same port for http and https": (
        {"nginx_http_port": 8443, "nginx_https_port": 8443},
        "nginx_http_port (8443) and nginx_https_port (8443) must be two different ports"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_nginx_input_stops_in_the_validation_play(run_site, tmp_path, case):
    extra_vars, message = BAD_INPUTS[case]
    cert = tmp_path / "server.crt"
    cert.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    extra_vars = {k: (str(cert) if v == "@CERT@" else v) for k, v in extra_vars.items()}
    rc, out = run_site(extra_vars)
    assert_stopped_in_validation(rc, out, message)
