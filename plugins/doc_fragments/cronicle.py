# Copyright: vixtract.stack maintainers
# Apache License 2.0
from __future__ import annotations


class ModuleDocFragment:
    """How the Cronicle modules reach Cronicle's API (module_utils/cronicle.py's CONNECTION_ARGUMENT_SPEC), and the
    attributes they share: POSIX, in the action group vixtract.stack.cronicle."""

    DOCUMENTATION = r"""
options:
  url:
    description: Base URL of Cronicle's API.
    type: str
    required: true
  auth_username:
    description: Administrator account the module logs in as.
    type: str
    required: true
  auth_password:
    description: Its password.
    type: str
    required: true
attributes:
  platform:
    platforms: posix
  action_group:
    support: full
    membership: [vixtract.stack.cronicle]
notes:
  - The module group C(group/vixtract.stack.cronicle) sets O(url), O(auth_username) and O(auth_password) once for
    every Cronicle module through C(module_defaults).
"""
