"""LDAP beside local accounts on the app server, against the scenario's OpenLDAP server (molecule/resources/slapd,
on the app server's engine): alice and carl are in cn=analysts (allowed), bob only in cn=sales. StartTLS, verified
with vixtract_ldap_ca_file."""
import json

from vixtest.stack import credential
from vixtest.hub import can_log_in, hub, papermill, put_file, session

# the Hub runs on the app server
testinfra_hosts = ["ansible://vixtract-multi-app"]


def test_jupyterhub_talks_starttls_to_the_directory(host):
    config = hub(host, "cat /etc/jupyterhub/jupyterhub_config.py").stdout
    assert 'tls_strategy = "before_bind"' in config
    assert '"validate": 2' in config and "ldap-ca.pem" in config


def test_the_directory_refuses_binds_without_tls(host):
    """The fixture requires TLS for every operation (olcSecurity: tls=1): the same bind in plain text is refused,
    with StartTLS it works. So the logins below, which succeed, went over TLS."""
    bind = ("python -c \"import ldap3, sys; s = ldap3.Server('vixtract-ldap', 389); "
            "c = ldap3.Connection(s, 'uid=alice,ou=people,dc=vixtract,dc=test', 'alice-Pa55'); c.open(); "
            "tls = sys.argv[1] == 'tls'; "
            "tls and c.start_tls(); print(c.bind(), c.result.get('description'))\"")
    plain = hub(host, bind + " plain").stdout.split()
    assert plain == ["False", "confidentialityRequired"], plain
    secured = hub(host, bind.replace("ldap3.Server('vixtract-ldap', 389)",
                                     "ldap3.Server('vixtract-ldap', 389, tls=ldap3.Tls(ca_certs_file="
                                     "'/etc/jupyterhub/ldap-ca.pem', validate=2))") + " tls").stdout.split()
    assert secured[0] == "True", secured


def test_allowed_group_member_logs_in_and_gets_account_and_home(host):
    assert hub(host, "getent passwd alice", check=False).rc != 0, "alice must not exist before her first login"
    result = session(host, "start", "alice", "alice-Pa55")
    assert result["ok"] and result["lab_status"] == 200 and result["is_lab"], result
    entry = hub(host, "getent passwd alice").stdout.strip().split(":")
    assert int(entry[2]) >= 2000 and entry[5] == "/home/alice", entry
    assert hub(host, "stat -c '%U %a' /home/alice").stdout.split() == ["alice", "700"]
    assert hub(host, "pgrep -u alice -f jupyterhub-singleuser").rc == 0
    # an LDAP user has no local password: the account only exists for files and processes
    assert hub(host, "getent shadow alice").stdout.split(":")[1] in ("!", "*", "!!", "!*")


def test_an_ldap_user_named_like_a_system_account_is_refused(host):
    """backup is in the allowed group with the right password, but the image has an account of that name (uid 34):
    a server started for the name would run as it."""
    assert not can_log_in(host, "backup", "backup-Pa55")
    assert hub(host, "pgrep -u backup", check=False).rc != 0
    assert hub(host, "getent -s extrausers passwd backup", check=False).rc != 0


def test_wrong_ldap_password_is_refused(host):
    assert not can_log_in(host, "alice", "not-alice's-password")


def test_user_outside_the_allowed_group_is_refused(host):
    assert not can_log_in(host, "bob", "bob-Pa55")
    assert hub(host, "getent passwd bob", check=False).rc != 0
    assert hub(host, "test -e /home/bob", check=False).rc != 0


def test_ldap_admin_users_get_the_hub_admin_role_not_jupyterhubs_admin(host):
    """vixtract_ldap_admin_users manage users in the Hub (role vixtract-hub-admin); nobody holds JupyterHub's
    admin role, which would open every user's server."""
    assert can_log_in(host, "carl", "carl-Pa55")
    token = credential("jupyterhub/service_token")
    for name, roles in (("carl", ["user", "vixtract-hub-admin"]), ("alice", ["user"])):
        out = hub(host, "python -c \"import json, os, urllib.request as u; "
                        f"r = u.Request('http://127.0.0.1:8000/jupyter/hub/api/users/{name}', "
                        "headers={'Authorization': 'token ' + os.environ['T']}); "
                        "m = json.load(u.urlopen(r)); print(json.dumps([m['admin'], sorted(m['roles'])]))\"",
                  env={"T": token}).stdout.strip()
        assert json.loads(out) == [False, roles], name


def test_local_admin_still_logs_in_beside_ldap(host):
    assert can_log_in(host, "anna.k", credential("users/anna.k"))
    # a local name is never handed to LDAP, and an LDAP password does not open a local account
    assert not can_log_in(host, "anna.k", "alice-Pa55")


def test_package_in_the_shared_library_folder_imports_in_a_kernel_and_in_papermill(host):
    """anna.k (a publisher: library true) installs a package with pip into /opt/vixtract/lib; alice (LDAP) imports it in a
    JupyterLab kernel and in a papermill run."""
    wheel = build_probe_wheel()
    put_file(host, "/tmp/vixtract_lib_probe-1.0-py3-none-any.whl", wheel)
    hub(host, "pip install --no-index --no-deps --upgrade --target /opt/vixtract/lib "
              "/tmp/vixtract_lib_probe-1.0-py3-none-any.whl", user="anna.k")
    result = session(host, "run", "alice", "alice-Pa55",
                     "import vixtract_lib_probe; print(vixtract_lib_probe.WHERE, vixtract_lib_probe.__file__)")
    assert result.get("error") is None, result
    assert result["stdout"].split() == ["shared", "/opt/vixtract/lib/vixtract_lib_probe/__init__.py"], result
    run = papermill(host, "alice", ["import vixtract_lib_probe\nassert vixtract_lib_probe.WHERE == 'shared'\n"])
    assert run.rc == 0, run.stdout + run.stderr


def build_probe_wheel():
    """A minimal pure-Python wheel, made here: the test needs no package index."""
    import base64
    import hashlib
    import io
    import zipfile

    files = {
        "vixtract_lib_probe/__init__.py": "WHERE = 'shared'\n",
        "vixtract_lib_probe-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: vixtract-lib-probe\nVersion: 1.0\n",
        "vixtract_lib_probe-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                                                  "Tag: py3-none-any\n",
    }
    record = []
    for name, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(text.encode())}")
    record.append("vixtract_lib_probe-1.0.dist-info/RECORD,,")
    files["vixtract_lib_probe-1.0.dist-info/RECORD"] = "\n".join(record) + "\n"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return buf.getvalue()
