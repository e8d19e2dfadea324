# Copyright: vixtract.stack maintainers
# Apache License 2.0
from __future__ import annotations


class ModuleDocFragment:
    """The attributes of a module that only reads: the same in check mode, nothing to diff; POSIX."""

    DOCUMENTATION = r"""
attributes:
  platform: {platforms: posix}
  check_mode: {support: full, description: Runs the same in check mode; it only reads.}
  diff_mode: {support: none, description: Nothing to show.}
"""
