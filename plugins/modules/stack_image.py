#!/usr/bin/python
# Copyright: vixtract.stack maintainers
# Apache License 2.0
from __future__ import annotations

DOCUMENTATION = r"""
module: stack_image
short_description: Write an image's build context, name the image by a digest of it, and build it only when missing
version_added: 1.1.0
description:
  - Writes O(files) into O(context) (only the ones whose content or mode differ), removes files there that are
    neither in O(files) nor in O(keep), and names the image C(NAME:DIGEST), DIGEST being the first 16 hex digits of
    a sha256 over every file of the context (path and content) and O(extra_input).
  - When the engine has no image of that name and O(build) is true, builds it (C(docker build), with
    O(build_args)). An image is therefore built only when one of its inputs changed, and a server that already
    holds it (a re-run, or images loaded from elsewhere) builds nothing.
  - One call does what a directory, a copy per file, a template, a digest and a build check did; a re-run of a
    stack with five images makes five calls.
options:
  name: {description: The image's repository, e.g. C(vixtract/postgres), type: str, required: true}
  context: {description: Directory of the build context on the server, type: path, required: true}
  files:
    description: The context's files by path relative to O(context); each C(content) (text) and C(mode).
    type: dict
    default: {}
  keep:
    description: Paths in O(context) put there otherwise (e.g. a downloaded archive), kept and digested too.
    type: list
    elements: str
    default: []
  clean:
    description: Remove files of O(context) that are neither in O(files) nor in O(keep).
    type: bool
    default: true
  extra_input: {description: Anything else the image depends on, type: str, default: ""}
  parents:
    description: Images (by reference) whose IDs are part of the digest, e.g. a base image pulled by name.
    type: list
    elements: str
    default: []
  build_args: {description: Build arguments (Docker's proxy arguments), type: dict, default: {}}
  build: {description: Build the image when the engine does not have it, type: bool, default: true}
attributes:
  check_mode: {support: full, description: Reports what it would write and whether it would build.}
  diff_mode: {support: none, description: C(written) names the files that change.}
author: vixtract.stack maintainers
"""

EXAMPLES = r"""
- name: The PostgreSQL image
  vixtract.stack.stack_image:
    name: vixtract/postgres
    context: /opt/vixtract/postgres/build
    files:
      Dockerfile: {content: "{{ lookup('ansible.builtin.template', 'Dockerfile.j2') }}", mode: "0644"}
      entrypoint.sh: {content: "{{ lookup('ansible.builtin.file', 'entrypoint.sh') }}", mode: "0755"}
  register: postgres_image_result
"""

RETURN = r"""
ref: {description: The image's name with the digest of its inputs as tag, type: str, returned: always}
present: {description: Whether the engine had the image before this call, type: bool, returned: always}
built: {description: Whether it was built now, type: bool, returned: always}
written: {description: Context files written or removed, type: list, elements: str, returned: always}
"""

import hashlib
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vixtract.stack.plugins.module_utils.files import file_differs, parse_mode, write_file


def context_digest(context, extra_input):
    """sha256 over the sorted relative paths and contents of every file under CONTEXT, then EXTRA_INPUT."""
    digest = hashlib.sha256()
    paths = []
    for root, dirs, files in os.walk(context):
        dirs.sort()
        paths += [os.path.relpath(os.path.join(root, name), context) for name in files]
    for path in sorted(paths):
        digest.update(path.encode() + b"\0")
        with open(os.path.join(context, path), "rb") as f:
            digest.update(hashlib.sha256(f.read()).digest())
    digest.update(b"\0" + extra_input.encode())
    return digest.hexdigest()[:16]


def write_context(module, context, files, keep, clean):
    written = []
    wanted = {os.path.normpath(path): spec for path, spec in files.items()}
    for path, spec in wanted.items():
        if path.split(os.sep)[0] == ".." or os.path.isabs(path):
            module.fail_json(msg=f"files: {path!r} is outside the context")
        target = os.path.join(context, path)
        content = str(spec.get("content", "")).encode()
        mode = parse_mode(spec.get("mode"))
        if not file_differs(target, content, mode):
            continue
        written.append(path)
        if not module.check_mode:
            write_file(module, target, content, mode)
    kept = {os.path.normpath(k) for k in keep}
    for root, _, names in os.walk(context) if clean else ():
        for name in names:
            path = os.path.relpath(os.path.join(root, name), context)
            if path not in wanted and path not in kept:
                written.append(f"{path} (removed)")
                if not module.check_mode:
                    os.remove(os.path.join(root, name))
    return written


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            context=dict(type="path", required=True),
            files=dict(type="dict", default={}),
            keep=dict(type="list", elements="str", default=[]),
            clean=dict(type="bool", default=True),
            extra_input=dict(type="str", default=""),
            parents=dict(type="list", elements="str", default=[]),
            build_args=dict(type="dict", default={}),
            build=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    p = module.params
    docker = module.get_bin_path("docker", required=True)
    if not module.check_mode:
        os.makedirs(p["context"], mode=0o755, exist_ok=True)
    written = write_context(module, p["context"], p["files"], p["keep"], p["clean"]) \
        if os.path.isdir(p["context"]) else sorted(p["files"])
    if module.check_mode and written:
        # the digest of what would be written: compute it from the declared files over the kept ones
        module.exit_json(changed=True, ref=None, present=False, built=False, written=written)
    extra = p["extra_input"]
    for parent in p["parents"]:
        rc, out, err = module.run_command([docker, "image", "inspect", "--format", "{{.Id}}", parent])
        if rc != 0:
            module.fail_json(msg=f"the parent image {parent} is not in the engine: {err.strip()}")
        extra += "\0" + out.strip()
    ref = f"{p['name']}:{context_digest(p['context'], extra)}"
    present = module.run_command([docker, "image", "inspect", "--format", "{{.Id}}", ref])[0] == 0
    built = False
    if not present and p["build"] and not module.check_mode:
        cmd = [docker, "build", "--rm", "-t", ref]
        for key, value in sorted(p["build_args"].items()):
            cmd += ["--build-arg", f"{key}={value}"]
        rc, out, err = module.run_command(cmd + [p["context"]])
        if rc != 0:
            tail = "\n".join((out + err).strip().splitlines()[-40:])
            module.fail_json(msg=f"building {ref} failed (docker build exited {rc}):\n{tail}", ref=ref, written=written)
        built = True
    module.exit_json(changed=bool(written) or built or (not present and p["build"]), ref=ref, present=present,
                     built=built, written=written)


if __name__ == "__main__":
    main()
