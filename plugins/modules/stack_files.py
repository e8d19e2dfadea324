#!/usr/bin/python
# Copyright: vixtract.stack maintainers
# Apache License 2.0
from __future__ import annotations

DOCUMENTATION = r"""
module: stack_files
short_description: Write a component's files under one directory in one call, each only when it differs
version_added: 1.1.0
description:
  - Makes each file of O(files) under O(path) have exactly the given content, mode and owner, writing it through a
    temporary file beside it (optionally checked by a command first) and renaming it into place; a file whose
    C(state) is C(absent) is removed. Files that already match are not touched.
  - One call does what a template or copy task per file did (each of those is two round trips to the host), so a
    re-run of a role that writes five files makes one call.
  - Contents are given by the caller (C(lookup('ansible.builtin.template', ...)) renders a template on the
    controller). Mark the task C(no_log) when a content is secret.
options:
  path: {description: The directory the files are in (created when missing), type: path, required: true}
  files:
    description:
      - The files by path relative to O(path). Each has C(content) (text), C(mode) (default C(0644)), C(owner) and
        C(group) (name or id; default the caller's), C(validate) (a command run on the new content before it
        replaces the file, C(%s) the temporary file's path; a failing command fails the task and leaves the file
        as it was), or C(state) C(absent).
      - C(diff) C(false) keeps a file's content out of the diff (only its size is shown), for a file that may hold
        a secret in a task that is not C(no_log).
    type: dict
    default: {}
  exclusive:
    description: Also remove the other files directly in O(path) (the directory holds exactly O(files)).
    type: bool
    default: false
  dirs:
    description:
      - Directories by path relative to O(path) (C(.) is O(path) itself), created first, each with C(mode)
        (default C(0755)), C(owner) and C(group) as given, set again when they differ.
    type: dict
    default: {}
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  platform:
    platforms: posix
  check_mode: {support: full, description: Reports which files would change; runs no validate command.}
  diff_mode:
    support: full
    description: >-
      Each changed file's content before and after, as text (up to 64 KiB; only sizes for binary or larger files and
      files with C(diff) C(false)). C(no_log) on the task hides it with the rest of the result.
author: ViXtract stack maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Write PostgreSQL's configuration (postgresql.conf checked by PostgreSQL first)
  vixtract.stack.stack_files:
    path: /opt/vixtract/postgres/conf
    files:
      pg_hba.conf: {content: "{{ lookup('ansible.builtin.template', 'pg_hba.conf.j2') }}", mode: "0640", owner: 999}
      postgresql.conf:
        content: "{{ lookup('ansible.builtin.template', 'postgresql.conf.j2') }}"
        validate: /usr/local/bin/check-config %s
"""

RETURN = r"""
written:
  description: The files (relative paths) written, or removed, or that would be in check mode.
  type: list
  elements: str
  returned: always
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vixtract.stack.plugins.module_utils.files import (dir_differs, file_differs, gid_of, parse_mode,
                                                                           text_diff, uid_of, write_file)


def main():
    module = AnsibleModule(
        argument_spec=dict(path=dict(type="path", required=True), files=dict(type="dict", default={}),
                           exclusive=dict(type="bool", default=False), dirs=dict(type="dict", default={})),
        supports_check_mode=True,
    )
    base = module.params["path"]
    written = []
    diffs = []

    def inside(option, rel):
        path = os.path.normpath(rel)
        if path.split(os.sep)[0] == ".." or os.path.isabs(path):
            module.fail_json(msg=f"{option}: {rel!r} is outside {base}")
        return path

    def owner(option, rel, spec):
        try:
            return uid_of(spec.get("owner")), gid_of(spec.get("group"))
        except KeyError as e:
            module.fail_json(msg=f"{option}: {rel!r}: no such user or group on the host: {e}")

    for rel, spec in sorted(module.params["dirs"].items(), key=lambda item: os.path.normpath(item[0])):
        spec = spec or {}
        path = inside("dirs", rel)
        target = os.path.join(base, path)
        mode = parse_mode(spec.get("mode"), "0755")
        uid, gid = owner("dirs", rel, spec)
        if not os.path.isdir(target):
            written.append(path + "/")
            if not module.check_mode:
                os.makedirs(target, exist_ok=True)
                os.chown(target, uid, gid)
                os.chmod(target, mode)
        elif dir_differs(target, mode, uid, gid):
            written.append(path + "/")
            if not module.check_mode:
                os.chown(target, uid, gid)
                os.chmod(target, mode)

    for rel, spec in sorted(module.params["files"].items()):
        spec = spec or {}
        path = inside("files", rel)
        target = os.path.join(base, path)
        if spec.get("state", "present") == "absent":
            if os.path.lexists(target):
                written.append(path)
                if module._diff:
                    diffs.append(text_diff(target, b"", os.path.join(base, path), spec.get("diff", True)))
                if not module.check_mode:
                    os.remove(target)
            continue
        content = str(spec.get("content", "")).encode()
        mode = parse_mode(spec.get("mode"))
        uid, gid = owner("files", rel, spec)
        if not file_differs(target, content, mode, uid, gid):
            continue
        written.append(path)
        if module._diff:
            diffs.append(text_diff(target, content, os.path.join(base, path), spec.get("diff", True)))
        if not module.check_mode:
            write_file(module, target, content, mode, uid, gid, spec.get("validate"))
    if module.params["exclusive"] and os.path.isdir(base):
        listed = {os.path.normpath(rel) for rel in module.params["files"]}
        for name in sorted(os.listdir(base)):
            if name not in listed and os.path.isfile(os.path.join(base, name)):
                written.append(f"{name} (removed)")
                if module._diff:
                    diffs.append(text_diff(os.path.join(base, name), b"", os.path.join(base, name)))
                if not module.check_mode:
                    os.remove(os.path.join(base, name))
    result = dict(changed=bool(written), written=written)
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
