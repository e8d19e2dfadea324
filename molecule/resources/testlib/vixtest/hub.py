"""Helpers for the JupyterHub tests: commands in the Hub container, logins and kernels through hub_session.py."""
import base64
import json
import shlex
from pathlib import Path

HUB = "vixtract-jupyterhub"
SESSION_SCRIPT = Path(__file__).with_name("hub_session.py")  # run inside the Hub container


def hub(host, cmd, user=None, env=None, check=True):
    """Run a shell command in the Hub container (as USER if given); returns the testinfra result.

    `docker exec -u NAME` reads only the image's /etc/passwd; the stack's accounts are resolved through NSS
    (libnss-extrausers), so the user switch happens inside with setpriv, with the user's groups."""
    opts, become = "", ""
    if user:
        u = shlex.quote(user)
        opts = f"-w /home/{u} -e HOME=/home/{u} -e USER={u} -e LOGNAME={u} "
        become = f"setpriv --reuid={u} --regid={u} --init-groups "
    opts += " ".join(f"-e {shlex.quote(k + '=' + str(v))}" for k, v in (env or {}).items())
    result = host.run(f"docker exec {opts} {HUB} {become}sh -c {shlex.quote(cmd)}")
    if check:
        assert result.rc == 0, f"{cmd!r} in {HUB}: rc={result.rc}\n{result.stdout}\n{result.stderr}"
    return result


def put_file(host, path, content, user=None, mode="0644"):
    """Write CONTENT (str or bytes) to PATH in the Hub container, as USER if given."""
    data = content.encode() if isinstance(content, str) else content
    b64 = base64.b64encode(data).decode()
    hub(host, f"echo {b64} | base64 -d > {shlex.quote(path)} && chmod {mode} {shlex.quote(path)}", user=user)


def session(host, action, user, password, *args):
    """hub_session.py ACTION USER [ARGS] inside the container; returns its JSON answer."""
    put_file(host, "/tmp/hub_session.py", SESSION_SCRIPT.read_text())
    argv = " ".join(shlex.quote(a) for a in (action, user) + args)
    result = hub(host, f"/opt/vixtract/venv/bin/python /tmp/hub_session.py {argv}", env={"HUB_PASSWORD": password})
    return json.loads(result.stdout.strip().splitlines()[-1])


def can_log_in(host, user, password):
    return session(host, "login", user, password)["ok"]


def server_env(host, user):
    """Environment of USER's running single-user server (what notebooks and terminals get)."""
    pid = hub(host, f"pgrep -u {shlex.quote(user)} -f jupyterhub-singleuser | head -n1").stdout.strip()
    assert pid, f"no single-user server runs as {user}"
    # only the user may read it: the container has no CAP_SYS_PTRACE
    raw = hub(host, f"tr '\\0' '\\n' < /proc/{pid}/environ", user=user).stdout
    return dict(line.split("=", 1) for line in raw.splitlines() if "=" in line)


def notebook(*cells, parameters=None):
    """A minimal nbformat-4 notebook with the given code cells; PARAMETERS (source) first, in the cell tagged
    `parameters` that papermill and Cronicle's events fill."""
    tagged = [{"cell_type": "code", "id": "parameters", "metadata": {"tags": ["parameters"]},
               "execution_count": None, "outputs": [], "source": parameters}] if parameters is not None else []
    return json.dumps({
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                     "language_info": {"name": "python"}},
        "cells": tagged + [{"cell_type": "code", "id": f"c{i}", "metadata": {}, "execution_count": None,
                            "outputs": [], "source": src} for i, src in enumerate(cells)]})


def papermill(host, user, cells, env=None, name="probe"):
    """Run a notebook with papermill as USER in their home (the way Cronicle runs scheduled notebooks)."""
    put_file(host, f"/home/{user}/{name}.ipynb", notebook(*cells), user=user)
    return hub(host, f"papermill --log-output {name}.ipynb {name}.out.ipynb", user=user, env=env, check=False)
