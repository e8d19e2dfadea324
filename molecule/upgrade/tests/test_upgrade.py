"""After the upgrade: what people made on the previous release (prepare.yml, recorded in upgrade/before.json) is
still there and working on the new one, and the settings the ops team changed for the upgrade are applied.
Cronicle comes from the two release archives the dependency step found (without them the scenario fails)."""
import json
import os
from pathlib import Path

import pytest
import yaml

from vixtest.cronicle import api, api_key, run_and_wait
from vixtest.hub import can_log_in, hub, session
from vixtest.pg import psql
from vixtest.stack import credential, stack_vars

VARS = stack_vars()
PREVIOUS = VARS["upgrade_previous"]
BEFORE_FILE = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent")) / "upgrade/before.json"
ANALYST = "anna.k"
EVENT = VARS["cronicle_events"][0]
ROLE_DEFAULTS = Path(__file__).resolve().parents[3] / "roles/jupyterhub/defaults/main.yml"


def new_release():
    """The JupyterHub role's defaults: the versions the upgraded inventory gets (it pins none)."""
    return yaml.safe_load(ROLE_DEFAULTS.read_text())


@pytest.fixture(scope="module")
def before():
    assert BEFORE_FILE.is_file(), f"{BEFORE_FILE} is missing: prepare.yml did not run to its end"
    return json.loads(BEFORE_FILE.read_text())


def sql(host, query):
    return host.check_output(f"docker exec -u postgres vixtract-postgres psql -d etl -tAc {json.dumps(query)}")


def test_the_previous_release_ran_and_the_new_one_runs_now(host, before):
    defaults = new_release()
    assert before["jupyterhub"] == PREVIOUS["jupyterhub_version"]
    assert before["jupyterlab"] == PREVIOUS["jupyterhub_jupyterlab_version"]
    assert hub(host, "jupyterhub --version").stdout.strip() == defaults["jupyterhub_version"]
    assert hub(host, "jupyter lab --version").stdout.strip() == defaults["jupyterhub_jupyterlab_version"]
    assert defaults["jupyterhub_version"] != PREVIOUS["jupyterhub_version"]


def test_accounts_and_the_hub_database_survived(host, before):
    now = json.loads(hub(host, "python -c \"import json, sqlite3; print(json.dumps(dict(sqlite3.connect("
                               "'/srv/jupyterhub/jupyterhub.sqlite').execute('SELECT name, created FROM users'))))\""
                         ).stdout)
    for name, created in before["hub_users"].items():
        assert now.get(name) == created, f"{name}'s Hub record was replaced: {created} -> {now.get(name)}"
    for name in ("anna.k", "bi", "dana"):
        assert can_log_in(host, name, credential(f"users/{name}")), f"{name} cannot log in after the upgrade"


def test_her_notebooks_settings_and_the_shared_library_survived_and_her_server_starts(host):
    files = hub(host, "ls upgrade", user=ANALYST).stdout.split()
    assert {"load.ipynb", "load.by-hand.ipynb"} <= set(files), files
    theme = hub(host, "cat .jupyter/lab/user-settings/@jupyterlab/apputils-extension/themes.jupyterlab-settings",
                user=ANALYST).stdout
    assert json.loads(theme) == {"theme": "JupyterLab Dark"}
    # her server starts on the new JupyterLab and a kernel finds the admin's module
    ran = session(host, "run", ANALYST, credential(f"users/{ANALYST}"),
                  "import upgrade_helper, jupyterlab; print(upgrade_helper.GREETING, jupyterlab.__version__)")
    assert ran["ok"] and ran["is_lab"] and ran["error"] is None, ran
    lab = new_release()["jupyterhub_jupyterlab_version"]
    assert ran["stdout"].split() == ["with", "the", "shared", "library", lab], ran


def test_data_survived_and_the_new_settings_apply(host):
    rows = dict(line.split("|") for line in sql(host, "SELECT tag, count(*) FROM upgrade_sales GROUP BY tag")
                .splitlines())
    assert rows.get("by-hand") == "3", rows
    assert sql(host, "SHOW work_mem") == "16MB"
    # the user added with the upgrade writes, the reader still reads what was there before
    dana = psql(host, "dana", credential("postgres/users/dana"),
                "CREATE TABLE dana_was_here (id int); DROP TABLE dana_was_here")
    assert dana.rc == 0, dana.stderr
    reader = psql(host, "bi_reader", credential("postgres/bi_reader"), "SELECT count(*) FROM upgrade_sales")
    assert reader.rc == 0 and int(reader.stdout) >= 3, reader.stderr


def test_schedules_history_and_her_own_event_survived_and_run_on_the_new_cronicle(host, before, request):
    version = host.check_output("docker exec vixtract-cronicle node -p \"require('/opt/cronicle/package.json').version\"")
    assert (before["cronicle"], version) == (PREVIOUS["cronicle_version"], VARS["cronicle_version"])
    # the declared event was updated in place: same id, the new schedule and parameters
    event = api(host, "/api/app/get_event/v1", {"title": EVENT["title"]}, key=api_key())
    assert event["code"] == 0, event
    assert event["event"]["id"] == before["event"]["id"]
    # "15 2 30 2 *" (was "0 2 30 2 *"), worked out by hand
    assert EVENT["schedule"] == "15 2 30 2 *"
    assert event["event"]["timing"] == {"months": [2], "days": [30], "hours": [2], "minutes": [15]} \
        != before["event"]["timing"]
    # the event she made by hand is left alone
    own = api(host, "/api/app/get_event/v1", {"id": before["own_event_id"]}, key=api_key())
    assert own["code"] == 0 and own["event"]["title"] == "anna: monthly export", own
    # the job run before the upgrade is still in the history
    history = api(host, "/api/app/get_history/v1", {"offset": 0, "limit": 100}, key=api_key())
    assert before["job"]["id"] in [job["id"] for job in history.get("rows", [])], history
    # and the event runs on the new release, with the new parameters, as its owner
    count = "SELECT count(*) FROM upgrade_sales WHERE tag = 'scheduled'"
    scheduled_before = int(sql(host, count))
    assert scheduled_before == PREVIOUS["cronicle_parameters"]["rows"]
    job = run_and_wait(host, EVENT["title"])
    assert job["code"] == 0, job
    assert int(sql(host, count)) == scheduled_before + EVENT["parameters"]["rows"]
    # the admin password set by the previous release still works
    assert api(host, "/api/user/login", {"username": "admin", "password": credential("cronicle/admin")})["code"] == 0
