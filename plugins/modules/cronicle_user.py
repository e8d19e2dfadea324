#!/usr/bin/python
# Copyright: vixtract.stack maintainers
# Apache License 2.0
from __future__ import annotations

DOCUMENTATION = r"""
module: cronicle_user
short_description: Manage a Cronicle user account through its API, without restarting Cronicle
description:
  - Creates, updates (privileges, password) or deletes one Cronicle account. Cronicle's user API takes a
    session, so the module logs in as an administrator account (O(auth_username)) first.
  - The password is checked by logging in as the user; it is changed only when that login fails.
version_added: 1.0.0
options:
  username:
    description: The account to manage.
    type: str
    required: true
  password:
    description: Its password (required when O(state=present)).
    type: str
  privileges:
    description: Privileges to set (other privileges are left alone).
    type: dict
    default: {}
  full_name:
    description: Display name (default the username).
    type: str
  state:
    description: Whether the account exists.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - vixtract.stack.cronicle
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
attributes:
  check_mode:
    support: full
    description: Reports what it would change without changing it.
  diff_mode:
    support: full
    description: The RV(actions), one line each, never the password.
author: ViXtract stack maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Cronicle account for anna.k
  vixtract.stack.cronicle_user:
    url: http://127.0.0.1:3012
    auth_username: vixtract
    auth_password: "{{ automation_password }}"
    username: anna.k
    password: "{{ anna_password }}"
    privileges: {admin: 1}
"""

RETURN = r"""
actions:
  description: What was done, one entry each (C(created), C(deleted), the privileges or the password changed).
  type: list
  elements: str
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vixtract.stack.plugins.module_utils.diff import changes_diff

from ansible_collections.vixtract.stack.plugins.module_utils.cronicle import (CONNECTION_ARGUMENT_SPEC, CronicleError,
                                                                              ensure_user, logged_in_client)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            CONNECTION_ARGUMENT_SPEC,
            username=dict(type="str", required=True),
            password=dict(type="str", no_log=True),
            privileges=dict(type="dict", default={}),
            full_name=dict(type="str"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
        ),
        required_if=[("state", "present", ["password"])],
        supports_check_mode=True,
    )
    p = module.params
    client = logged_in_client(module)
    actions = []
    try:
        actions = ensure_user(client, module.check_mode, p["username"], p["password"], p["privileges"],
                              p["full_name"], p["state"])
    except CronicleError as e:
        module.fail_json(msg=str(e), actions=actions)
    finally:
        client.logout(client.session_id)
    module.exit_json(changed=bool(actions), actions=actions, **changes_diff(module, actions))


if __name__ == "__main__":
    main()
