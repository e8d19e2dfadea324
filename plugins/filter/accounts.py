# Copyright: vixtract.stack maintainers
# Apache License 2.0
"""The stack's user and role model, resolved in one place.

  vixtract_users | vixtract.stack.accounts('users', vixtract_credentials_dir)
  vixtract_users | vixtract.stack.accounts('users')         # defaults only, no secrets (validation)
  postgres_roles | vixtract.stack.accounts('postgres_roles', vixtract_credentials_dir)
  postgres_readonly_roles | vixtract.stack.accounts('readonly_roles', vixtract_credentials_dir)
  postgres_databases | vixtract.stack.accounts('databases')

Each entry comes back with every key filled in (state 'present' unless given, flags false, lists empty), and a
present entry without a password of its own gets the one generated for it in the credentials directory: read when
the file is there, else created once (0600, in a 0700 directory) and read by every later run and every other
host. Consumers only select from the result (selectattr('state', 'equalto', 'present')...); none fills a default.

The files are the ones ansible.builtin.password wrote for earlier releases (the password, then optionally
' salt=...'): an existing stack keeps its passwords. Two hosts resolving at once (forks) cannot get different
passwords: a new file is linked into place atomically, and the one that loses the race reads the winner's.
"""
from __future__ import annotations

import os
import secrets
import string

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: accounts
short_description: The stack's users, PostgreSQL roles and databases with every key filled in and their passwords
version_added: 1.1.0
description:
  - Fills in the defaults of each entry (C(state) C(present), flags false, empty lists) for the kind of entries given.
  - >-
    A present entry without a password of its own gets the one generated for it in the credentials directory
    (C(users/NAME), C(postgres/users/NAME) for a user with C(postgres), C(postgres/roles/NAME)), read when the file is
    there, else created once (mode 0600 in a 0700 directory). Files ansible.builtin.password wrote are read as they
    are, so a stack keeps its passwords. An absent entry gets an empty password and no file.
  - Two hosts resolving at once get the same password (the file is linked into place atomically).
positional: _input, kind, credentials_dir
options:
  _input:
    description: The entries (vixtract_users, postgres_roles, postgres_readonly_roles or postgres_databases).
    type: list
    elements: dict
    required: true
  kind:
    description: What the entries are.
    type: str
    choices: [users, postgres_roles, readonly_roles, databases]
    required: true
  credentials_dir:
    description: >-
      Absolute path of the credentials directory on the controller. Without it, only the defaults are filled in
      (no password key, no file): what validation needs before the inventory is known to be valid.
    type: path
"""

EXAMPLES = r"""
- name: Users with a PostgreSQL login
  ansible.builtin.debug:
    msg: >-
      {{ vixtract_users | vixtract.stack.accounts('users', vixtract_credentials_dir)
         | selectattr('state', 'equalto', 'present') | selectattr('postgres') | map(attribute='name') }}
"""

RETURN = r"""
_value:
  description: The entries in the same order, each with every key of its kind (passwords included).
  type: list
  elements: dict
"""

CHARS = string.ascii_letters + string.digits

# kind -> (defaults, secrets: [(key, path under the credentials dir with {name}, length, flag that must be true)])
KINDS = {
    "users": (
        {"state": "present", "admin": False, "library": False, "postgres": False, "cronicle": False},
        [("password", "users/{name}", 24, None), ("postgres_password", "postgres/users/{name}", 32, "postgres")]),
    "postgres_roles": (
        {"state": "present", "attributes": "", "member_of": []},
        [("password", "postgres/roles/{name}", 32, None)]),
    "readonly_roles": (
        {"state": "present", "schemas": ["public"]},
        [("password", "postgres/roles/{name}", 32, None)]),
    "databases": ({"state": "present"}, []),
}


def read_secret(path):
    """The password in an existing credentials file (the first word: ansible.builtin.password may add ' salt=')."""
    with open(path, encoding="utf-8") as handle:
        words = handle.read().split()
    return words[0] if words else None


def secret(path, length):
    """The secret kept in PATH, created once with LENGTH letters and digits when the file is not there."""
    try:
        found = read_secret(path)
    except FileNotFoundError:
        found = None
    if found:
        return found
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    value = "".join(secrets.choice(CHARS) for _index in range(length))
    temporary = f"{path}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(value + "\n")
        try:
            os.link(temporary, path)  # fails when another process put its file there first
        except FileExistsError:
            return read_secret(path)
        except OSError:
            # a filesystem without hard links: create the file itself, still only if nobody did
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                return read_secret(path)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(value + "\n")
    finally:
        os.unlink(temporary)
    return value


def accounts(entries, kind, credentials_dir=None):
    """ENTRIES of KIND with every key filled in and the secrets of the present ones (see the module's doc)."""
    if kind not in KINDS:
        raise AnsibleFilterError(f"accounts: unknown kind {kind!r} (one of {', '.join(sorted(KINDS))})")
    defaults, wanted = KINDS[kind]
    if not credentials_dir:
        wanted = []  # the defaults only (validation: no secret is made before the inventory is known to be valid)
    resolved = []
    for entry in entries or []:
        account = {key: entry.get(key, value) for key, value in defaults.items()}
        account.update({key: value for key, value in entry.items() if key not in account})
        for key, path, length, flag in wanted:
            if key in entry and entry[key] is not None:
                continue
            name = entry.get("name")
            if not isinstance(name, str) or not name or name.startswith(".") or "/" in name or "\0" in name:
                # validation refuses such names first; a secret never lands outside the credentials directory
                raise AnsibleFilterError(f"accounts: {name!r} cannot name a file in the credentials directory")
            needed = account["state"] == "present" and (flag is None or account.get(flag))
            account[key] = secret(os.path.join(credentials_dir, path.format(name=entry["name"])), length) \
                if needed else ""
        resolved.append(account)
    return resolved


class FilterModule:
    def filters(self):
        return {"accounts": accounts}
