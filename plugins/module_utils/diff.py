# Copyright: vixtract.stack maintainers
# Apache License 2.0
"""Ansible's diff for the modules whose result is a list of named changes (roles, grants, accounts): the list as
prepared text, so --diff shows what a run changes or would change. Callers pass texts that never hold a secret."""
from __future__ import annotations


def changes_diff(module, changes):
    """{'diff': {'prepared': one line per change}} in diff mode when there are CHANGES, else {}."""
    if getattr(module, "_diff", False) and changes:
        return {"diff": {"prepared": "\n".join(str(change) for change in changes)}}
    return {}
