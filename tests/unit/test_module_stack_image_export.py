"""stack_image_export leaves out of an image's cache archive the layer files its parent (the Dockerfile's FROM) has:
what a server that loads the parent first never reads. The archives here are small tars built by the test in the
shape `docker save` writes (a directory per layer with layer.tar, manifest.json listing them in order)."""
import io
import json
import tarfile

from ansible_collections.vixtract.stack.plugins.module_utils.images import parent_of
from ansible_collections.vixtract.stack.plugins.modules.stack_image_export import (linked_to,
                                                                                   shared_layer_files, strip)


def test_the_parent_is_the_last_stage_s_from(tmp_path):
    (tmp_path / "Dockerfile").write_text("# a comment\nFROM debian:trixie-slim AS build\nRUN true\n"
                                         "from --platform=linux/amd64 vixtract/base:0123abcd\nRUN true\n")
    assert parent_of(str(tmp_path)) == "vixtract/base:0123abcd"


def test_no_dockerfile_or_scratch_means_no_parent(tmp_path):
    assert parent_of(str(tmp_path)) is None
    assert parent_of(None) is None
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY x /\n")
    assert parent_of(str(tmp_path)) is None


MANIFEST = [{"Config": "c.json", "RepoTags": ["vixtract/child:1"],
             "Layers": ["a/layer.tar", "b/layer.tar", "c/layer.tar", "d/layer.tar"]}]


def test_the_parent_s_layers_are_left_out_when_the_image_starts_with_them():
    assert shared_layer_files(MANIFEST, ["sha256:1", "sha256:2", "sha256:3", "sha256:4"],
                              ["sha256:1", "sha256:2"]) == {"a/layer.tar", "b/layer.tar"}


def test_nothing_is_left_out_when_the_layers_do_not_start_with_the_parent_s():
    image = ["sha256:1", "sha256:2", "sha256:3", "sha256:4"]
    assert shared_layer_files(MANIFEST, image, ["sha256:1", "sha256:9"]) == set()
    assert shared_layer_files(MANIFEST, image, []) == set()
    # a manifest that does not match the image's layers: keep everything
    assert shared_layer_files(MANIFEST, image[:3], ["sha256:1"]) == set()


def test_a_file_a_kept_layer_names_too_stays():
    manifest = [{"Layers": ["blobs/sha256/e", "blobs/sha256/x", "blobs/sha256/e"]}]
    assert shared_layer_files(manifest, ["sha256:e", "sha256:x", "sha256:e"], ["sha256:e", "sha256:x"]) == \
        {"blobs/sha256/x"}


def _archive(path, files, links=()):
    with tarfile.open(path, "w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in links:
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)


def test_strip_copies_everything_but_the_dropped_files_byte_for_byte(tmp_path):
    files = {"a/layer.tar": b"A" * 5000, "b/layer.tar": b"B" * 300, "c/layer.tar": b"C" * 70,
             "manifest.json": json.dumps(MANIFEST).encode(), "c.json": b"{}"}
    _archive(tmp_path / "in.tar", files, links=[("d/layer.tar", "../c/layer.tar")])
    strip(str(tmp_path / "in.tar"), str(tmp_path / "out.tar"), {"a/layer.tar", "b/layer.tar"})
    with tarfile.open(tmp_path / "out.tar") as out:
        names = out.getnames()
        assert sorted(names) == ["c.json", "c/layer.tar", "d/layer.tar", "manifest.json"]
        assert out.extractfile("c/layer.tar").read() == b"C" * 70
        assert out.getmember("d/layer.tar").linkname == "../c/layer.tar"


def test_a_file_a_symbolic_link_points_to_is_found(tmp_path):
    _archive(tmp_path / "in.tar", {"a/layer.tar": b"x"}, links=[("d/layer.tar", "../a/layer.tar")])
    with tarfile.open(tmp_path / "in.tar") as tar:
        assert linked_to(tar.getmembers()) == {"a/layer.tar"}


def test_check_mode_writes_no_archive(tmp_path, run_module, monkeypatch):
    from ansible_collections.vixtract.stack.plugins.modules import stack_image_export

    calls = []

    def run_command(self, cmd, **kwargs):
        calls.append(cmd)
        return (0, '["sha256:a"]', "") if cmd[1:3] == ["image", "inspect"] else (1, "", "not expected")

    monkeypatch.setattr(stack_image_export.AnsibleModule, "run_command", run_command)
    monkeypatch.setattr(stack_image_export.AnsibleModule, "get_bin_path", lambda self, name, required=False: "docker")
    result = run_module(stack_image_export.main, {"ref": "vixtract/nginx:0123456789abcdef",
                                                  "path": str(tmp_path / "nginx.tar"), "_ansible_check_mode": True})
    assert result["changed"] and not result.get("failed"), result
    assert list(tmp_path.iterdir()) == []
    assert [cmd[1:3] for cmd in calls] == [["image", "inspect"]]
