#!/usr/bin/python
# Copyright: vixtract.stack maintainers
# Apache License 2.0
from __future__ import annotations

DOCUMENTATION = r"""
module: cronicle_users
short_description: Make the Cronicle accounts of a declared list match it, and remove the ones no longer listed
version_added: 1.1.0
description:
  - Each account of O(users) is created or updated as M(vixtract.stack.cronicle_user) does it (privileges given are
    set, the account is activated, the password changed when it no longer logs in).
  - The list is authoritative for the accounts it made; an account whose full name ends with O(marker) and that is
    not in O(users) is deleted. Accounts made otherwise (in the UI, Cronicle's own C(admin)) are never touched.
options:
  users:
    description: >-
      The accounts; their full name becomes O(users[].username) followed by O(marker), unless
      O(users[].full_name) is given (an account so named is never deleted by the list).
    type: list
    elements: dict
    required: true
    suboptions:
      username:
        description: The account.
        type: str
        required: true
      password:
        description: Its password.
        type: str
        required: true
      privileges:
        description: Privileges to set (other privileges are left alone).
        type: dict
        default: {}
      full_name:
        description: Display name instead of O(users[].username) followed by O(marker).
        type: str
  marker:
    description: End of the full name of the accounts this list manages.
    type: str
    required: true
  ledger:
    description:
      - A file on the host (JSON, mode 0600) where the module notes, for each account, a salted PBKDF2 digest of
        the password that last logged in and the account's C(modified) time then. While both match, the module does
        not log in to compare the password (a bcrypt round in Cronicle per account and run); any change to the
        account in Cronicle moves C(modified) and the next run logs in again. Unset, every password is tried.
    type: path
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
    description: The RV(changes), one line each, never a password.
author: ViXtract stack maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Cronicle accounts of the stack's users
  vixtract.stack.cronicle_users:
    url: http://127.0.0.1:3012
    auth_username: vixtract
    auth_password: "{{ automation_password }}"
    marker: " (vixtract_users)"
    ledger: /opt/vixtract/cronicle/logins.json
    users:
      - {username: anna.k, password: "{{ anna_password }}", privileges: {admin: 1}}
  no_log: true
"""

RETURN = r"""
changes:
  description: What was done, one entry per account (name and the changes, never a password).
  type: list
  elements: str
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vixtract.stack.plugins.module_utils.diff import changes_diff

from ansible_collections.vixtract.stack.plugins.module_utils.cronicle import (CONNECTION_ARGUMENT_SPEC, CronicleError,
                                                                              PasswordLedger, all_users, ensure_user,
                                                                              logged_in_client)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            CONNECTION_ARGUMENT_SPEC,
            users=dict(type="list", elements="dict", required=True, options=dict(
                username=dict(type="str", required=True),
                password=dict(type="str", required=True, no_log=True),
                privileges=dict(type="dict", default={}),
                full_name=dict(type="str"),
            )),
            marker=dict(type="str", required=True),
            ledger=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    client = logged_in_client(module)
    ledger = PasswordLedger(p["ledger"]) if p["ledger"] else None
    changes = []
    try:
        listed = set()
        for user in p["users"]:
            listed.add(user["username"])
            actions = ensure_user(client, module.check_mode, user["username"], user["password"],
                                  user.get("privileges") or {}, user.get("full_name") or user["username"] + p["marker"],
                                  ledger=ledger)
            if actions:
                changes.append(f"{user['username']}: {', '.join(actions)}")
        for user in all_users(client):
            if str(user.get("full_name", "")).endswith(p["marker"]) and user["username"] not in listed:
                changes.append(f"{user['username']}: deleted (no longer listed)")
                if not module.check_mode:
                    client.call("/api/user/admin_delete", {"username": user["username"]})
                    if ledger is not None:
                        ledger.forget(user["username"])
        if ledger is not None and not module.check_mode:
            ledger.save()
    except CronicleError as e:
        module.fail_json(msg=str(e), changes=changes)
    finally:
        client.logout(client.session_id)
    module.exit_json(changed=bool(changes), changes=changes, **changes_diff(module, changes))


if __name__ == "__main__":
    main()
