"""Bad Cronicle input stops site.yml in its first play, names the variable and the fix; no server is touched."""
import pytest
from conftest import assert_stopped_in_validation

USERS = [{"name": "anna.k", "admin": True, "cronicle": True}, {"name": "bi"}]
ARCHIVE = {"cronicle_archive_src": "/etc/hostname", "cronicle_version": "0.9.106", "cronicle_nodejs_source": "debian"}


def events(**changes):
    event = {"title": "nightly load", "notebook": "etl/load.ipynb", "user": "anna.k", "schedule": "0 2 * * *"}
    event.update(changes)
    return [{k: v for k, v in event.items() if v is not None}]


BAD_INPUTS = {
    "event without a notebook": (
        {"cronicle_events": events(notebook=None)},
        "cronicle_events: the event 'nightly load' is not valid: it has no notebook"),
    "invalid cron string": (
        {"cronicle_events": events(schedule="0 25 * * *")},
        "cronicle_events: the event 'nightly load' is not valid: schedule: hour '25' is out of range 0-23"),
    "cron string with four fields": (
        {"cronicle_events": events(schedule="0 2 * *")},
        "must have 5 fields (minute hour day-of-month month day-of-week)"),
    "event owned by a user not in vixtract_users": (
        {"cronicle_events": events(user="mallory")},
        "its user 'mallory' is not a present user of vixtract_users"),
    "notebook outside the owner's home": (
        {"cronicle_events": events(notebook="../other/x.ipynb")},
        "must be a .ipynb path relative to the owner's home"),
    "two events with the same title": (
        {"cronicle_events": events() + events(schedule="0 3 * * *")},
        "its title is used by another event"),
    "Cronicle release that needs a newer Node.js than Debian's": (
        {"cronicle_version": "0.9.129", "cronicle_nodejs_source": "debian"},
        "cronicle_version 0.9.129 needs Node.js >= 22.12, but cronicle_nodejs_source 'debian' gives Node.js 20.19"),
    "download without a checksum": (
        {"cronicle_archive_src": "", "cronicle_version": "0.9.100"},
        "cronicle_archive_checksum '' must be 'sha256:HEX'"),
    "public path with a trailing slash": (
        {"cronicle_public_path": "/cronicle/"},
        "cronicle_public_path '/cronicle/' must be a URL path starting with '/' and without a trailing '/'"),
    "public path over Cronicle's own API": (
        {"cronicle_public_path": "/api/cronicle"},
        "cronicle_public_path '/api/cronicle' must be a URL path"),
    "public path that would break nginx's configuration": (
        {"cronicle_public_path": "/cron; return 200"},
        "cronicle_public_path '/cron; return 200' must be a URL path"),
    "Cronicle on while the Hub it is built on is off": (
        {"jupyterhub_enabled": False},
        "cronicle_enabled is true but jupyterhub_enabled is false: Cronicle's image is built on the Hub's"),
    "archive that is not on the controller": (
        {"cronicle_archive_src": "/nonexistent/cronicle.tar.gz"},
        "cronicle_archive_src '/nonexistent/cronicle.tar.gz' is not an existing file on the controller"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_cronicle_input_stops_in_the_validation_play(run_site, case):
    extra_vars, message = BAD_INPUTS[case]
    rc, out = run_site({"vixtract_users": USERS, **ARCHIVE, **extra_vars})
    # the message may be folded over lines in the output
    assert_stopped_in_validation(rc, " ".join(out.split()), message)


def test_valid_events_pass_validation(run_site):
    ok = events() + events(title="weekly", schedule={"weekdays": [1], "hours": [6], "minutes": [0]})
    rc, out = run_site({"vixtract_users": USERS, **ARCHIVE, "cronicle_events": ok})
    assert "PLAY [Docker Engine on every server]" in out, out


def test_the_hub_and_cronicle_switched_off_together_pass_validation(run_site):
    rc, out = run_site({"vixtract_users": USERS, **ARCHIVE, "jupyterhub_enabled": False, "cronicle_enabled": False})
    assert "cronicle_enabled is true but" not in out, out
    assert "PLAY [Docker Engine on every server]" in out, out
