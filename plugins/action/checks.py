# Copyright: vixtract.stack maintainers
# Apache License 2.0
"""vixtract.stack.checks: a list of assertions checked in one task (documentation: plugins/modules/checks.py).

The validation play runs on every playbook run, tagged or not; as one assert task per check it was some 60 tasks
and a tenth of a no-op re-apply. Each check keeps what its assert task had (name, when, vars, loop, that,
fail_msg) and is evaluated the same way, in order, lazily: a check whose `when` is false is never templated."""
from __future__ import annotations

import typing as t
from collections import ChainMap

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.plugins.action import ActionBase

CHECK_KEYS = {"name", "when", "vars", "loop", "loop_var", "that", "fail_msg"}


def as_list(value: t.Any) -> list:
    return value if isinstance(value, list) else [value]


class ActionModule(ActionBase):
    """Evaluate each check's `that` (for each item of its `loop`) and fail with the first failing check's message
    (one line per failing item)."""

    _requires_connection = False
    _VALID_ARGS = frozenset(("checks",))

    @classmethod
    def finalize_task_arg(cls, name: str, value: t.Any, templar: t.Any, context: t.Any) -> t.Any:
        # The checks stay as written: each is templated when it is evaluated, with its own vars and item, and
        # not at all when its `when` is false (as a skipped task's arguments are not)
        if name == "checks":
            return value
        return super().finalize_task_arg(name, value, templar, context)

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        checks = self._task.args.get("checks")
        if not isinstance(checks, list) or not all(isinstance(c, dict) for c in checks):
            raise AnsibleActionFail("checks must be a list of mappings (name, when, vars, loop, that, fail_msg)")
        passed = skipped = 0
        for check in checks:
            unknown = set(check) - CHECK_KEYS
            if unknown or "that" not in check or "name" not in check:
                raise AnsibleActionFail(f"check {check.get('name')!r}: needs name and that; unknown keys "
                                        f"{sorted(unknown)} (allowed: {sorted(CHECK_KEYS)})", obj=check)
            if not isinstance(check.get("vars") or {}, dict):
                raise AnsibleActionFail(f"check {check['name']!r}: vars must be a mapping", obj=check["name"])
            try:
                failed = self._evaluate(check)
            except AnsibleActionFail:
                raise
            except AnsibleError as error:
                # an undefined variable or a broken template in a check: say which check, at its line
                raise AnsibleActionFail(f"check {check['name']!r}: {error.message}", obj=check["name"]) from error
            if failed is None:
                skipped += 1
            elif failed:
                # raised with the check's name, whose origin is the check's own line: the error shows that line.
                # A looped check reports every item that fails (a certificate and its key, say), one line each
                raise AnsibleActionFail("\n".join(dict.fromkeys(failed)), obj=check["name"],
                                        result=dict(changed=False, check=str(check["name"])))
            else:
                passed += 1
        result.update(changed=False, msg=f"{passed} checks passed, {skipped} did not apply")
        return result

    def _evaluate(self, check: dict) -> list[str] | None:
        """None when the check does not apply (its when is false), else the rendered fail_msg of each failing item:
        an empty list when the check holds."""
        base = self._templar.available_variables
        own = dict(check.get("vars") or {})
        templar = self._templar.copy_with_new_env(available_variables=ChainMap(own, base))
        if not all(templar.evaluate_conditional(w) for w in as_list(check.get("when", True))):
            return None
        loop_var = check.get("loop_var", "item")
        items = templar.template(check["loop"]) if "loop" in check else [None]
        if not isinstance(items, list):
            raise AnsibleActionFail(f"check {check['name']!r}: loop must give a list", obj=check["loop"])
        failed = []
        for item in items:
            scope = self._templar.copy_with_new_env(available_variables=ChainMap(
                {loop_var: item} if "loop" in check else {}, own, base))
            if not all(scope.evaluate_conditional(that) for that in as_list(check["that"])):
                failed.append(str(scope.template(check.get("fail_msg", f"check failed: {check['name']}"))))
        return failed
