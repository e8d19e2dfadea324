#!/usr/bin/python
# Copyright: vixtract.stack maintainers
# Apache License 2.0
from __future__ import annotations

DOCUMENTATION = r"""
module: stack_image_export
short_description: Export an image for the image cache without the layers of the image it is built FROM
version_added: 1.1.0
description:
  - Saves O(ref) with C(docker image save) into O(path), leaving out the layer files it shares with its parent, the
    image its Dockerfile (in O(context)) names in its last C(FROM). A server loads the archive after the parent (the
    stack's images are loaded in build order), and C(docker load) reads only the layers the engine does not have,
    so what it leaves out is never read; an archive is the image's own layers only.
  - Without a Dockerfile, or with a parent the engine does not know, the archive is the whole image.
  - Writes a temporary file next to O(path) and renames it into place, so O(path) is whole or absent.
options:
  ref:
    description: The image to export, for example C(vixtract/cronicle:0123456789abcdef).
    type: str
    required: true
  path: {description: The archive to write on the server, type: path, required: true}
  context: {description: The image's build context (its C(Dockerfile) names the parent), type: path}
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  platform:
    platforms: posix
  check_mode: {support: full, description: Reports the archive it would write (C(left_out) and C(size) 0).}
  diff_mode: {support: none, description: An archive has no text to show.}
author: ViXtract stack maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Export the image for the cache
  vixtract.stack.stack_image_export:
    ref: vixtract/cronicle:0123456789abcdef
    path: /opt/vixtract/vixtract_cronicle-0123456789abcdef.tar
    context: /opt/vixtract/cronicle/build
"""

RETURN = r"""
parent: {description: The parent whose layers were left out (empty when none), type: str, returned: always}
left_out: {description: How many layer files were left out, type: int, returned: always}
size: {description: The archive's size in bytes, type: int, returned: always}
"""

import json
import os
import tarfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vixtract.stack.plugins.module_utils.images import parent_of


def shared_layer_files(manifest, image_layers, parent_layers):
    """Files of the archive's layers that the parent has: the first len(parent_layers) layers when the image's
    layers start with the parent's, except a file a later (kept) layer also names (empty layers share one)."""
    entry = manifest[0]
    n = len(parent_layers)
    if not parent_layers or image_layers[:n] != parent_layers or len(entry["Layers"]) != len(image_layers):
        return set()
    return set(entry["Layers"][:n]) - set(entry["Layers"][n:])


def linked_to(members):
    """Paths that a symbolic link of the archive points to (docker save links a layer identical to an earlier
    one to its file): those stay."""
    return {os.path.normpath(os.path.join(os.path.dirname(m.name), m.linkname)) for m in members if m.issym()}


def strip(source, dest, drop):
    """Copy the tar SOURCE to DEST without the members named in DROP."""
    with tarfile.open(source) as src, tarfile.open(dest, "w", format=tarfile.PAX_FORMAT) as out:
        for member in src:
            if member.name in drop:
                continue
            out.addfile(member, src.extractfile(member) if member.isfile() else None)


def main():
    module = AnsibleModule(
        argument_spec=dict(ref=dict(type="str", required=True), path=dict(type="path", required=True),
                           context=dict(type="path")),
        supports_check_mode=True,
    )
    p = module.params
    docker = module.get_bin_path("docker", required=True)

    def layers(ref):
        rc, out, err = module.run_command([docker, "image", "inspect", "--format", "{{json .RootFS.Layers}}", ref])
        return json.loads(out) if rc == 0 else None

    image_layers = layers(p["ref"])
    if image_layers is None:
        module.fail_json(msg=f"the image {p['ref']} is not in the engine")
    parent = parent_of(p["context"])
    parent_layers = (layers(parent) if parent else None) or []
    if module.check_mode:
        module.exit_json(changed=True, parent=parent or "", left_out=0, size=0)

    saved, tmp = p["path"] + ".saved", p["path"] + ".tmp"
    try:
        rc, out, err = module.run_command([docker, "image", "save", "-o", saved, p["ref"]])
        if rc != 0:
            module.fail_json(msg=f"docker image save {p['ref']} failed: {err.strip()}")
        with tarfile.open(saved) as archive:
            manifest = json.load(archive.extractfile("manifest.json"))
            drop = shared_layer_files(manifest, image_layers, parent_layers) - linked_to(archive.getmembers())
        if drop:
            strip(saved, tmp, drop)
            os.replace(tmp, p["path"])
        else:
            os.replace(saved, p["path"])
    finally:
        for leftover in (saved, tmp):
            if os.path.exists(leftover):
                os.remove(leftover)
    module.exit_json(changed=True, parent=parent if drop else "", left_out=len(drop),
                     size=os.path.getsize(p["path"]))


if __name__ == "__main__":
    main()
