"""Bad JupyterHub / LDAP input stops site.yml in its first play, names the variable, and touches no server."""
import pytest
from conftest import assert_stopped_in_validation

LDAP = {"vixtract_ldap_enabled": True, "vixtract_ldap_host": "ldap.example.org",
        "vixtract_ldap_bind_dn_templates": ["uid={username},ou=people,dc=example,dc=org"]}

BAD_INPUTS = {
    "LDAP enabled without a host": (
        dict(LDAP, vixtract_ldap_host=""),
        "vixtract_ldap_host '' must name the LDAP server"),
    "LDAP host given as a URL": (
        dict(LDAP, vixtract_ldap_host="ldaps://ldap.example.org:636"),
        "vixtract_ldap_host 'ldaps://ldap.example.org:636' must name the LDAP server"),
    "unknown LDAP TLS mode": (
        dict(LDAP, vixtract_ldap_tls="ssl"),
        "value of vixtract_ldap_tls must be one of: starttls, ldaps, none, got: ssl"),
    "bind DN template without {username}": (
        dict(LDAP, vixtract_ldap_bind_dn_templates=["uid=alice,ou=people,dc=example,dc=org"]),
        "vixtract_ldap_bind_dn_templates: 'uid=alice,ou=people,dc=example,dc=org' lacks the placeholder {username}"),
    "neither bind DN template nor search base": (
        dict(LDAP, vixtract_ldap_bind_dn_templates=[]),
        "vixtract_ldap_bind_dn_templates and vixtract_ldap_search_base are both empty"),
    "search account without a password": (
        dict(LDAP, vixtract_ldap_bind_dn_templates=[], vixtract_ldap_search_base="ou=people,dc=example,dc=org",
             vixtract_ldap_bind_user="cn=reader,dc=example,dc=org"),
        "vixtract_ldap_bind_user is set but vixtract_ldap_bind_password is empty"),
    "LDAP CA file that does not exist": (
        dict(LDAP, vixtract_ldap_ca_file="/nonexistent/ldap-ca.pem"),
        "vixtract_ldap_ca_file '/nonexistent/ldap-ca.pem' is not a PEM certificate file"),
    "LDAP port out of range": (
        dict(LDAP, vixtract_ldap_port=70000),
        "vixtract_ldap_port '70000' must be a TCP port"),
    "base URL with a trailing slash": (
        {"jupyterhub_base_url": "/jupyter/"},
        "jupyterhub_base_url '/jupyter/' must be a URL path"),
    "JupyterHub release that is not 6.x": (
        {"jupyterhub_version": "5.2.1"},
        "jupyterhub_version '5.2.1' is not supported"),
    "negative idle timeout": (
        {"jupyterhub_idle_timeout": -5},
        "jupyterhub_idle_timeout must be a number of seconds"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_jupyterhub_input_stops_in_the_validation_play(run_site, case):
    extra_vars, message = BAD_INPUTS[case]
    rc, out = run_site(extra_vars)
    assert_stopped_in_validation(rc, out, message)


def test_valid_ldap_settings_pass_validation(run_site):
    rc, out = run_site(dict(LDAP, vixtract_ldap_tls="ldaps", vixtract_ldap_allowed_groups=["cn=etl,dc=example,dc=org"],
                            vixtract_ldap_admin_users=["anna.k"]))
    assert "PLAY [Docker Engine on every server]" in out, out
    assert rc != 0  # the (closed) server is unreachable: validation passed
