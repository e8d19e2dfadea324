"""`site.yml --check --diff` on the deployed stack (issue 14, in part): a preview finishes, reports nothing on a
stack that matches the inventory, reports a changed setting without applying it, and prints no secret."""
import json

from vixtest.pg import CONTAINER, superuser
from vixtest.stack import changed_count, run_playbook, stack_credentials


def secrets():
    """Every value the credentials directory holds (generated passwords, keys)."""
    values = set()
    for path in stack_credentials().rglob("*"):
        if path.is_file():
            for line in path.read_text(errors="replace").splitlines():
                if len(line.strip()) >= 12 and not line.startswith("-----"):
                    values.add(line.strip().split()[0])
    assert values, "the scenario's credentials directory holds nothing to look for"
    return values


def test_a_preview_of_the_stack_as_it_is_reports_nothing_and_shows_no_secret():
    rc, out = run_playbook(check=True, diff=True)
    assert rc == 0, out[-3000:]
    assert changed_count(out) == 0, out[-3000:]
    leaked = [s[:4] + "..." for s in secrets() if s in out]
    assert not leaked, f"secrets in the --check --diff output: {leaked}"
    assert "PRIVATE KEY" not in out


def test_a_previewed_setting_is_reported_and_not_applied(host):
    started = json.loads(host.check_output(f"docker inspect -f '{{{{json .State.StartedAt}}}}' {CONTAINER}"))
    before = superuser(host, "SHOW work_mem").stdout.strip()
    wanted = "9MB" if before != "9MB" else "10MB"
    rc, out = run_playbook({"postgres_settings": {"work_mem": wanted}}, tags=["postgres"], check=True, diff=True)
    assert rc == 0, out[-3000:]
    assert changed_count(out) >= 1, out[-3000:]
    assert superuser(host, "SHOW work_mem").stdout.strip() == before
    assert json.loads(host.check_output(f"docker inspect -f '{{{{json .State.StartedAt}}}}' {CONTAINER}")) == started
