"""Bad postgres settings stop site.yml in its validation play, naming the variable, before any server is touched."""
import pytest
from conftest import assert_stopped_in_validation

BAD_INPUTS = {
    "read-only role on an undeclared database": (
        {"postgres_readonly_roles": [{"name": "powerbi", "databases": ["sales"]}]},
        "postgres_readonly_roles: 'powerbi' reads database 'sales', which is not declared"),
    "allowed network that is not a CIDR": (
        {"postgres_allowed_cidrs": ["10.20.0.0/16", "10.20.300.0/24"]},
        "postgres_allowed_cidrs: '10.20.300.0/24' is not a CIDR"),
    "allowed network without prefix length": (
        {"postgres_allowed_cidrs": ["office"]},
        "postgres_allowed_cidrs: 'office' is not a CIDR"),
    "published address without a port": (
        {"postgres_publish": "10.0.0.5"},
        "postgres_publish '10.0.0.5' must be ADDRESS:PORT"),
    "setting name that is not one": (
        {"postgres_settings": {"work mem": "8MB"}},
        "postgres_settings: 'work mem' is not a setting name"),
    "role that takes the stack's own name": (
        {"postgres_roles": [{"name": "postgres"}]},
        'postgres_roles: the name "postgres" is not allowed'),
    "data directory that is relative": (
        {"postgres_data_dir": "pgdata"},
        "postgres_data_dir 'pgdata' must be an absolute path"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_postgres_input_stops_in_the_validation_play(run_site, case):
    extra_vars, message = BAD_INPUTS[case]
    rc, out = run_site(extra_vars)
    assert_stopped_in_validation(rc, out, message)


def test_declared_databases_and_cidrs_pass_validation(run_site):
    rc, out = run_site({"postgres_databases": [{"name": "sales"}],
                        "postgres_readonly_roles": [{"name": "powerbi", "databases": ["sales", "etl"]}],
                        "postgres_allowed_cidrs": ["10.20.0.0/16", "2001:db8::/32"],
                        "postgres_publish": "10.0.0.5:5432"})
    assert "PLAY [Docker Engine on every server]" in out, out
    assert rc != 0  # the (closed) server is unreachable, as intended
