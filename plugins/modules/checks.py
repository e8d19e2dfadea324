#!/usr/bin/python
# Copyright: vixtract.stack maintainers
# Apache License 2.0
# The work is done by the action plugin of the same name (plugins/action/checks.py), on the controller.
from __future__ import annotations

DOCUMENTATION = r"""
module: checks
short_description: Check a list of assertions in one task, each with its own message
description:
  - Evaluates each check in order, the way M(ansible.builtin.assert) evaluates one, its O(checks[].when) first,
    then its O(checks[].that) for each item of its O(checks[].loop). The first check that does not hold fails the
    task with that check's O(checks[].fail_msg), one line for each item that fails (each message once); the checks
    after it are not evaluated.
  - Unlike a looped assert task, O(checks[].when) is evaluated once, before the loop, without the loop variable; and
    a check's O(checks[].vars) take precedence over extra vars, as they are the check's own.
  - A check is templated only when it is evaluated, with its own O(checks[].vars) and loop variable, so a check
    whose O(checks[].when) is false may refer to variables that are not defined.
  - Runs on the controller and never connects to a host. The loop items are not shown in the result (a list of
    people may carry passwords).
  - One task instead of one assert task per check, because validation runs on every playbook run.
version_added: 1.2.0
options:
  checks:
    description: The checks, in the order they are evaluated. They are not templated as a whole.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: What the check makes sure of; returned as RV(check) when it fails.
        type: str
        required: true
      when:
        description: Conditionals (a string or a list, all must hold) for the check to apply.
        type: raw
        default: true
      vars:
        description: Variables for this check only, templated lazily like a task's vars.
        type: dict
      loop:
        description: A list (or a template giving one); O(checks[].that) is evaluated for each item.
        type: raw
      loop_var:
        description: The name of the loop variable.
        type: str
        default: item
      that:
        description: Conditionals (a string or a list) that must all hold, as M(ansible.builtin.assert)'s C(that).
        type: raw
        required: true
      fail_msg:
        description: The message of the failed task when the check does not hold, templated with the failing item.
        type: str
attributes:
  check_mode:
    support: full
    description: The checks are evaluated the same way; they change nothing.
  diff_mode:
    support: none
    description: Nothing is changed, so there is no diff.
  platform:
    support: full
    platforms: all
    description: Runs on the controller only and never connects to a host.
author: ViXtract stack maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Check the settings before any host is touched
  vixtract.stack.checks:
    checks:
      - name: A purge has its second key
        when: vixtract_purge | bool
        that: vixtract_purge_confirm == 'delete all data'
        fail_msg: "vixtract_purge is true: also set vixtract_purge_confirm='delete all data'"
      - name: The networks that may scrape metrics are CIDRs
        loop: "{{ vixtract_metrics_allow }}"
        that: item is match('^[0-9./]+\\Z')
        fail_msg: "vixtract_metrics_allow: {{ item | to_json }} is not a CIDR"
"""

RETURN = r"""
check:
  description: The name of the check that did not hold.
  returned: failure
  type: str
  sample: The networks that may scrape metrics are CIDRs
msg:
  description: The failing check's message (a line for each failing item), or how many checks passed and how many
    did not apply.
  returned: always
  type: str
  sample: 29 checks passed, 2 did not apply
"""
