"""What playbooks/health.yml printed for a server, read from ansible-playbook's output (the default callback's
JSON): its table and its verdict."""
import json
import re


def _result(out, task, server):
    """The JSON result ansible-playbook printed for SERVER under TASK (with failed: True when the task failed;
    {} for a quiet ok), or None."""
    start = out.find(f"TASK [{task}]")
    if start < 0:
        return None
    match = re.compile(rf"^(ok|fatal): \[{re.escape(server)}\](?:: FAILED!)?(?: => (\{{.*?^\}}|\{{[^\n]*\}}))?$",
                       re.M | re.S).search(out, start)
    return dict(json.loads(match.group(2) or "{}"), failed=match.group(1) == "fatal") if match else None


def table(out, server):
    """({component: the words of its row}, the problem count as printed: 'none' or a number)."""
    result = _result(out, "vixtract.stack.vixtract : Health table", server)
    assert result, out[-4000:]
    lines = result["msg"].splitlines()
    rows = {line.split()[0]: line.split() for line in lines[1:]
            if line.strip() and not line.startswith(("disk ", "newest backup", "images refreshed", "problems"))}
    return rows, lines[-1].split(": ", 1)[1]


def server_line(out, server, prefix):
    """The table's line for the whole server that starts with PREFIX (e.g. 'images refreshed: '), without it."""
    result = _result(out, "vixtract.stack.vixtract : Health table", server)
    assert result, out[-4000:]
    found = [line[len(prefix):] for line in result["msg"].splitlines() if line.startswith(prefix)]
    assert len(found) == 1, result["msg"]
    return found[0]


def verdict(out, server):
    """The failure message of the last task (the problems, ' | ' between them), or None when it passed."""
    result = _result(out, "vixtract.stack.vixtract : Every component of this server is well", server)
    assert result is not None, out[-4000:]
    return result.get("msg") if result.get("failed") else None


def recap(out, server):
    """(changed, unreachable, failed) of SERVER's PLAY RECAP line."""
    match = re.search(rf"^{re.escape(server)}\s+: ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", out, re.M)
    assert match, out[-2000:]
    return tuple(int(x) for x in match.groups())
