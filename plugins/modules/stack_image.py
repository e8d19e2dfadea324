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
  name:
    description: The image's repository, for example C(vixtract/postgres).
    type: str
    required: true
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
  keep_previous:
    description: >-
      Remove the superseded images of O(name) (tags that are digests like this module's, other than this one's),
      keeping this many for a rollback: first the one a container runs (or is built on) until this image replaces
      it, then the newest; an image a container still uses stays. C(-1) removes none.
      Other tags (a name given by hand) are never touched.
    type: int
    default: -1
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  platform:
    platforms: posix
  check_mode: {support: full, description: Reports what it would write and whether it would build.}
  diff_mode:
    support: full
    description: >-
      The build context's changed files before and after, as text (up to 64 KiB; only sizes for binary or larger
      files); C(written) names them.
author: ViXtract stack maintainers (!UNKNOWN)
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
pruned:
  description: Superseded images removed (in check mode, the ones that would be), by reference.
  type: list
  elements: str
  returned: always
parent:
  description: >-
    The image its Dockerfile's last stage is built FROM (empty when none, or in check mode before the context
    exists): the image cache loads it first when the image's archive needs its layers.
  type: str
  returned: always
"""

import hashlib
import json
import os
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vixtract.stack.plugins.module_utils.files import (file_differs, parse_mode, text_diff,
                                                                           write_file)
from ansible_collections.vixtract.stack.plugins.module_utils.images import parent_of


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


DIGEST_TAG = re.compile(r"[0-9a-f]{16}\Z")


def created_key(created):
    """Docker's creation time (RFC 3339 with 0-9 fraction digits) as a string that sorts by time."""
    stamp, _sep, fraction = created.rstrip("Z").partition(".")
    return stamp + "." + fraction.ljust(9, "0")


def superseded(tags, current, keep, in_use=frozenset()):
    """Of TAGS ({tag: creation time}), the digest tags other than CURRENT beyond the KEEP to keep: first those
    IN_USE (what runs until the new image replaces it is what a rollback goes back to), then the newest."""
    others = sorted((t for t in tags if DIGEST_TAG.match(t) and t != current),
                    key=lambda t: (t in in_use, created_key(tags[t])), reverse=True)
    return others[keep:]


def used_tags(layers, used):
    """The tags whose image ({tag: its layer list}) a container runs or is built on: the layers of an image a
    container runs (USED, a list of layer lists) begin with its layers. Layers, not a recorded parent: an image
    loaded from an archive has none."""
    return {tag for tag, own in layers.items()
            if own and any(len(run) >= len(own) and run[:len(own)] == own for run in used)}


def container_layers(module, docker):
    """The layer lists of the images the engine's containers (running or not) were made from."""
    rc, out, _err = module.run_command([docker, "ps", "-a", "-q", "--no-trunc"])
    containers = out.split() if rc == 0 else []
    if not containers:
        return []
    rc, out, _err = module.run_command([docker, "inspect", "--format", "{{.Image}}"] + containers)
    images = sorted(set(out.split())) if rc == 0 else []
    if not images:
        return []
    rc, out, _err = module.run_command([docker, "image", "inspect", "--format", "{{json .RootFS.Layers}}"] + images)
    return [json.loads(line) for line in out.splitlines() if line.startswith("[")] if rc == 0 else []


def prune(module, docker, name, current, keep):
    """Remove the superseded images of NAME (see superseded); one in use by a container stays."""
    rc, out, err = module.run_command([docker, "image", "ls", "--format", "{{.Tag}}", name])
    if rc != 0:
        module.fail_json(msg=f"listing the images of {name} failed: {err.strip()}")
    tags = [t for t in out.split() if DIGEST_TAG.match(t) and t != current]
    if not tags:
        return []
    rc, out, err = module.run_command([docker, "image", "inspect", "--format", "{{.Created}} {{json .RootFS.Layers}}"]
                                      + [f"{name}:{t}" for t in tags])
    if rc != 0:
        module.fail_json(msg=f"inspecting the images of {name} failed: {err.strip()}")
    created, layers = {}, {}
    for tag, line in zip(tags, out.splitlines()):
        time_, _sep, layer_list = line.partition(" ")
        created[tag], layers[tag] = time_, json.loads(layer_list or "null") or []
    in_use = used_tags(layers, container_layers(module, docker)) if len(tags) > keep else set()
    pruned = []
    for tag in superseded(created, current, keep, in_use):
        if module.check_mode or module.run_command([docker, "image", "rm", f"{name}:{tag}"])[0] == 0:
            pruned.append(f"{name}:{tag}")
    return pruned


def write_context(module, context, files, keep, clean, diffs):
    """Write FILES into CONTEXT (remove strays when CLEAN); returns the paths written, adds to DIFFS in diff mode."""
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
        if module._diff:
            diffs.append(text_diff(target, content, target))
        if not module.check_mode:
            write_file(module, target, content, mode)
    kept = {os.path.normpath(k) for k in keep}
    for root, _dirs, names in os.walk(context) if clean else ():
        for name in names:
            path = os.path.relpath(os.path.join(root, name), context)
            if path not in wanted and path not in kept:
                written.append(f"{path} (removed)")
                if module._diff:
                    diffs.append(text_diff(os.path.join(root, name), b"", os.path.join(root, name)))
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
            keep_previous=dict(type="int", default=-1),
        ),
        supports_check_mode=True,
    )
    p = module.params
    docker = module.get_bin_path("docker", required=True)
    if not module.check_mode:
        os.makedirs(p["context"], mode=0o755, exist_ok=True)
    # in check mode on a server without the context yet, every file is new (and nothing is there to remove)
    diffs = []
    written = write_context(module, p["context"], p["files"], p["keep"], p["clean"], diffs)
    shown = {"diff": diffs} if module._diff else {}
    if module.check_mode and written:
        # the digest of what would be written: compute it from the declared files over the kept ones
        module.exit_json(changed=True, ref=None, present=False, built=False, written=written, pruned=[], parent="",
                         **shown)
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
    pruned = prune(module, docker, p["name"], ref.rsplit(":", 1)[1], p["keep_previous"]) \
        if p["keep_previous"] >= 0 else []
    module.exit_json(changed=bool(written) or built or (not present and p["build"]) or bool(pruned), ref=ref,
                     present=present, built=built, written=written, pruned=pruned,
                     parent=parent_of(p["context"]) or "", **shown)


if __name__ == "__main__":
    main()
