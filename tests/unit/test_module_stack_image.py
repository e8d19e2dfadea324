"""stack_image writes an image's build context, names the image NAME:DIGEST and builds it only when it is missing.

The context is a temporary directory. `docker` is a fake on PATH (a shell script): it records each call's arguments,
answers `image inspect` of the test image with 0 or 1 according to a marker file the test controls, answers
`image inspect` of the parent images the test declared with their IDs, and `build` with 0 (or with 1 and some
output when the test asks for a failing build).

The expected digests are computed here from the definition of the module's documentation: sha256 over, for each file
of the context in sorted relative-path order, the path's bytes, a NUL byte and the sha256 of the content; then a NUL
byte and the extra input; the first 16 hex digits."""
import hashlib
import os
import re
import stat
from pathlib import Path

import pytest

from ansible_collections.vixtract.stack.plugins.modules.stack_image import main, created_key, superseded, used_tags

IMAGE = "vixtract/test-image"
SEP = "\x1f"  # between the recorded arguments of one call

FAKE_DOCKER = r"""#!/bin/sh
state='@STATE@'
printf '%s\037' "$@" >> "$state/calls"
printf '\n' >> "$state/calls"
if [ "$1" = image ] && [ "$2" = inspect ]; then
    ref="$5"
    id=$(awk -v ref="$ref" '$1 == ref { print $2 }' "$state/parents" 2>/dev/null)
    if [ -n "$id" ]; then
        echo "$id"
        exit 0
    fi
    case "$ref" in
        @IMAGE@:*)
            if [ -e "$state/present" ]; then
                echo "sha256:1111111111111111111111111111111111111111111111111111111111111111"
                exit 0
            fi ;;
    esac
    echo "Error response from daemon: No such image: $ref" >&2
    exit 1
fi
if [ "$1" = build ]; then
    if [ -e "$state/build-fails" ]; then
        cat "$state/build-fails"
        echo "ERROR: failed to solve: process did not complete successfully: exit code: 100" >&2
        exit 1
    fi
    echo "Successfully built"
    exit 0
fi
echo "fake docker: unexpected call: $*" >&2
exit 2
"""


class FakeDocker:
    def __init__(self, state: Path):
        self.state = state

    def image_present(self, present=True):
        marker = self.state / "present"
        if present:
            marker.touch()
        elif marker.exists():
            marker.unlink()

    def add_parent(self, ref, image_id):
        with open(self.state / "parents", "a") as f:
            f.write(f"{ref} {image_id}\n")

    def fail_builds(self, output):
        (self.state / "build-fails").write_text(output)

    def calls(self):
        path = self.state / "calls"
        if not path.exists():
            return []
        return [line.split(SEP)[:-1] for line in path.read_text().splitlines()]

    def builds(self):
        return [call for call in self.calls() if call[0] == "build"]

    def forget_calls(self):
        (self.state / "calls").unlink(missing_ok=True)


@pytest.fixture
def docker(tmp_path, monkeypatch):
    state = tmp_path / "docker-state"
    bin_dir = tmp_path / "bin"
    state.mkdir()
    bin_dir.mkdir()
    script = bin_dir / "docker"
    script.write_text(FAKE_DOCKER.replace("@STATE@", str(state)).replace("@IMAGE@", IMAGE))
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return FakeDocker(state)


@pytest.fixture
def context(tmp_path):
    return tmp_path / "context"


@pytest.fixture
def stack_image(run_module, context, docker):
    """Run the module on the test image and the temporary context; other arguments as given."""

    def run(files, **args):
        return run_module(main, {"name": IMAGE, "context": str(context), "files": files, **args})

    return run


def reference_digest(files, extra_input=""):
    """The documented digest of a context holding FILES (relative path -> content bytes) and EXTRA_INPUT."""
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.encode() + b"\0" + hashlib.sha256(files[path]).digest())
    digest.update(b"\0" + extra_input.encode())
    return digest.hexdigest()[:16]


def mode_of(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def tree(directory):
    """Every file under DIRECTORY by relative path, with its content."""
    return {str(p.relative_to(directory)): p.read_bytes() for p in Path(directory).rglob("*") if p.is_file()}


DOCKERFILE = "FROM debian:bookworm-slim\nCOPY entrypoint.sh /usr/local/bin/\n"
ENTRYPOINT = "#!/bin/sh\nexec \"$@\"\n"
FILES = {
    "Dockerfile": {"content": DOCKERFILE, "mode": "0644"},
    "bin/entrypoint.sh": {"content": ENTRYPOINT, "mode": "0755"},
    "conf/app.conf": {"content": "listen 8080\n", "mode": "0600"},
}


# --- writing the context ---

def test_first_run_writes_every_file_with_its_content_and_mode(stack_image, context, docker):
    result = stack_image(FILES)

    assert not result.get("failed"), result
    assert sorted(result["written"]) == ["Dockerfile", "bin/entrypoint.sh", "conf/app.conf"]
    assert tree(context) == {"Dockerfile": DOCKERFILE.encode(), "bin/entrypoint.sh": ENTRYPOINT.encode(),
                             "conf/app.conf": b"listen 8080\n"}
    assert mode_of(context / "Dockerfile") == 0o644
    assert mode_of(context / "bin/entrypoint.sh") == 0o755
    assert mode_of(context / "conf/app.conf") == 0o600
    assert result["changed"] is True


def test_a_file_without_mode_gets_0644(stack_image, context, docker):
    stack_image({"notes.txt": {"content": "hello\n"}})

    assert (context / "notes.txt").read_text() == "hello\n"
    assert mode_of(context / "notes.txt") == 0o644


def test_second_run_with_the_image_present_writes_nothing_and_changes_nothing(stack_image, context, docker):
    stack_image(FILES)
    before = {path: os.stat(context / path).st_ino for path in FILES}
    docker.image_present()

    result = stack_image(FILES)

    assert not result.get("failed"), result
    assert result["written"] == []
    assert result["changed"] is False
    assert result["present"] is True
    assert result["built"] is False
    assert {path: os.stat(context / path).st_ino for path in FILES} == before


def test_a_changed_content_rewrites_that_file_only(stack_image, context, docker):
    stack_image(FILES)
    untouched = os.stat(context / "Dockerfile").st_ino
    docker.image_present()

    result = stack_image(dict(FILES, **{"conf/app.conf": {"content": "listen 9090\n", "mode": "0600"}}))

    assert result["written"] == ["conf/app.conf"]
    assert (context / "conf/app.conf").read_text() == "listen 9090\n"
    assert mode_of(context / "conf/app.conf") == 0o600
    assert os.stat(context / "Dockerfile").st_ino == untouched
    assert result["changed"] is True


def test_a_changed_mode_rewrites_that_file_only(stack_image, context, docker):
    stack_image(FILES)
    docker.image_present()

    result = stack_image(dict(FILES, **{"bin/entrypoint.sh": {"content": ENTRYPOINT, "mode": "0700"}}))

    assert result["written"] == ["bin/entrypoint.sh"]
    assert mode_of(context / "bin/entrypoint.sh") == 0o700
    assert (context / "bin/entrypoint.sh").read_text() == ENTRYPOINT


def test_a_file_edited_on_the_server_is_put_back(stack_image, context, docker):
    stack_image(FILES)
    (context / "Dockerfile").write_text("FROM scratch\n")
    os.chmod(context / "conf/app.conf", 0o666)

    result = stack_image(FILES)

    assert sorted(result["written"]) == ["Dockerfile", "conf/app.conf"]
    assert (context / "Dockerfile").read_text() == DOCKERFILE
    assert mode_of(context / "conf/app.conf") == 0o600


# --- what else is in the context ---

def put(context, path, content=b"left over"):
    target = context / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)


def test_files_neither_declared_nor_kept_are_removed(stack_image, context, docker):
    put(context, "old.sh")
    put(context, "conf/old.conf")
    put(context, "downloads/tool.tar.gz", b"archive")

    result = stack_image(FILES, keep=["downloads/tool.tar.gz"])

    assert sorted(result["written"]) == ["Dockerfile", "bin/entrypoint.sh", "conf/app.conf",
                                         "conf/old.conf (removed)", "old.sh (removed)"]
    assert sorted(tree(context)) == ["Dockerfile", "bin/entrypoint.sh", "conf/app.conf", "downloads/tool.tar.gz"]
    assert (context / "downloads/tool.tar.gz").read_bytes() == b"archive"


def test_a_stale_file_alone_is_a_change(stack_image, context, docker):
    stack_image(FILES)
    docker.image_present()
    put(context, "stale.txt")

    result = stack_image(FILES)

    assert result["written"] == ["stale.txt (removed)"]
    assert result["changed"] is True
    assert not (context / "stale.txt").exists()


def test_with_clean_false_nothing_is_removed(stack_image, context, docker):
    put(context, "old.sh")
    put(context, "conf/old.conf")

    result = stack_image({"Dockerfile": FILES["Dockerfile"]}, clean=False)

    assert result["written"] == ["Dockerfile"]
    assert sorted(tree(context)) == ["Dockerfile", "conf/old.conf", "old.sh"]


@pytest.mark.parametrize("path", ["../escaped.txt", "sub/../../escaped.txt", "ABSOLUTE"])
def test_paths_outside_the_context_are_refused(stack_image, tmp_path, context, docker, path):
    if path == "ABSOLUTE":
        path = str(tmp_path / "escaped.txt")

    result = stack_image({path: {"content": "x", "mode": "0644"}})

    assert result.get("failed") is True
    assert "outside the context" in result["msg"]
    assert not (tmp_path / "escaped.txt").exists()
    assert docker.builds() == []


def test_etc_path_is_refused(stack_image, docker):
    result = stack_image({"/etc/x": {"content": "x", "mode": "0644"}})

    assert result.get("failed") is True
    assert result["msg"] == "files: '/etc/x' is outside the context"


# --- the digest ---

def test_ref_is_the_name_and_the_documented_digest(stack_image, context, docker):
    put(context, "downloads/tool.tar.gz", b"\x00\x01binary archive")

    result = stack_image(FILES, keep=["downloads/tool.tar.gz"], extra_input="debian bookworm 2024-06")

    expected = reference_digest({"Dockerfile": DOCKERFILE.encode(), "bin/entrypoint.sh": ENTRYPOINT.encode(),
                                 "conf/app.conf": b"listen 8080\n",
                                 "downloads/tool.tar.gz": b"\x00\x01binary archive"}, "debian bookworm 2024-06")
    assert result["ref"] == f"{IMAGE}:{expected}"
    assert re.fullmatch(r"vixtract/test-image:[0-9a-f]{16}", result["ref"])


def test_digest_of_a_single_file_written_out():
    """The reference computation itself, against a value worked out step by step with hashlib's sha256."""
    content_hash = hashlib.sha256(b"FROM scratch\n").digest()
    outer = hashlib.sha256(b"Dockerfile\0" + content_hash + b"\0" + b"x").hexdigest()
    assert reference_digest({"Dockerfile": b"FROM scratch\n"}, "x") == outer[:16]


def test_same_inputs_give_the_same_ref_in_another_directory(run_module, tmp_path, docker):
    first = run_module(main, {"name": IMAGE, "context": str(tmp_path / "one"), "files": FILES, "extra_input": "e"})
    second = run_module(main, {"name": IMAGE, "context": str(tmp_path / "two"), "files": FILES, "extra_input": "e"})
    again = run_module(main, {"name": IMAGE, "context": str(tmp_path / "one"), "files": FILES, "extra_input": "e"})

    assert first["ref"] == second["ref"] == again["ref"]


def digest_of(result):
    name, digest = result["ref"].rsplit(":", 1)
    assert name == IMAGE
    return digest


def test_changed_content_changes_the_digest(stack_image, docker):
    before = digest_of(stack_image(FILES))
    after = digest_of(stack_image(dict(FILES, Dockerfile={"content": DOCKERFILE + "USER nobody\n", "mode": "0644"})))

    assert after != before
    assert after == reference_digest({"Dockerfile": (DOCKERFILE + "USER nobody\n").encode(),
                                      "bin/entrypoint.sh": ENTRYPOINT.encode(), "conf/app.conf": b"listen 8080\n"})


def test_changed_path_name_changes_the_digest(stack_image, docker):
    before = digest_of(stack_image({"a.txt": {"content": "same", "mode": "0644"}}))
    after = digest_of(stack_image({"b.txt": {"content": "same", "mode": "0644"}}))

    assert before == reference_digest({"a.txt": b"same"})
    assert after == reference_digest({"b.txt": b"same"})
    assert after != before


def test_changed_extra_input_changes_the_digest(stack_image, docker):
    one = digest_of(stack_image(FILES, extra_input="version 1"))
    two = digest_of(stack_image(FILES, extra_input="version 2"))

    assert one != two
    assert two == reference_digest({"Dockerfile": DOCKERFILE.encode(), "bin/entrypoint.sh": ENTRYPOINT.encode(),
                                    "conf/app.conf": b"listen 8080\n"}, "version 2")


def test_changed_kept_file_changes_the_digest(stack_image, context, docker):
    put(context, "tool.tar.gz", b"version 1")
    one = digest_of(stack_image(FILES, keep=["tool.tar.gz"]))
    put(context, "tool.tar.gz", b"version 2")
    two = digest_of(stack_image(FILES, keep=["tool.tar.gz"]))

    assert one != two


def test_mode_is_not_part_of_the_digest(stack_image, docker):
    """The definition digests paths and contents only."""
    one = digest_of(stack_image({"run.sh": {"content": "x", "mode": "0644"}}))
    two = digest_of(stack_image({"run.sh": {"content": "x", "mode": "0755"}}))

    assert one == two == reference_digest({"run.sh": b"x"})


# --- parents ---

PARENT = "vixtract/jupyterhub:0123456789abcdef"


def test_parent_id_is_asked_from_the_engine(stack_image, docker):
    docker.add_parent(PARENT, "sha256:" + "a" * 64)

    result = stack_image(FILES, parents=[PARENT])

    assert not result.get("failed"), result
    assert ["image", "inspect", "--format", "{{.Id}}", PARENT] in docker.calls()


def test_changed_parent_id_changes_the_digest(run_module, tmp_path, docker):
    def ref_with_parent_id(image_id, directory):
        (docker.state / "parents").write_text(f"{PARENT} {image_id}\n")
        return run_module(main, {"name": IMAGE, "context": str(tmp_path / directory), "files": FILES,
                                 "parents": [PARENT]})["ref"]

    without_parent = run_module(main, {"name": IMAGE, "context": str(tmp_path / "plain"), "files": FILES})["ref"]
    first = ref_with_parent_id("sha256:" + "a" * 64, "one")
    same = ref_with_parent_id("sha256:" + "a" * 64, "two")
    rebuilt_parent = ref_with_parent_id("sha256:" + "b" * 64, "three")

    assert first == same
    assert rebuilt_parent != first
    assert first != without_parent


def test_missing_parent_fails_naming_it(stack_image, docker):
    docker.add_parent(PARENT, "sha256:" + "a" * 64)

    result = stack_image(FILES, parents=[PARENT, "vixtract/base:missing"])

    assert result.get("failed") is True
    assert "vixtract/base:missing" in result["msg"]
    assert "No such image: vixtract/base:missing" in result["msg"]
    assert docker.builds() == []


# --- building ---

def test_the_result_names_the_image_the_dockerfile_builds_from(stack_image):
    """The image cache loads this parent first when the image's archive needs its layers (image_cache_load.yml)."""
    result = stack_image({"Dockerfile": {"content": "FROM debian:trixie-slim AS tools\nRUN true\n"
                                                    "FROM --platform=linux/amd64 vixtract/base:0123456789abcdef\n"
                                                    "COPY --from=tools /bin/true /x\n", "mode": "0644"}})
    assert not result.get("failed"), result
    assert result["parent"] == "vixtract/base:0123456789abcdef"
    assert stack_image({"run.sh": {"content": "true", "mode": "0755"}})["parent"] == ""


def test_missing_image_is_built_with_sorted_build_args(stack_image, context, docker):
    result = stack_image(FILES, build_args={"http_proxy": "http://proxy:3128", "NO_PROXY": "localhost",
                                            "HTTPS_PROXY": "http://proxy:3128"})

    assert not result.get("failed"), result
    assert docker.builds() == [["build", "--rm", "-t", result["ref"],
                                "--build-arg", "HTTPS_PROXY=http://proxy:3128",
                                "--build-arg", "NO_PROXY=localhost",
                                "--build-arg", "http_proxy=http://proxy:3128",
                                str(context)]]
    assert result["built"] is True
    assert result["present"] is False
    assert result["changed"] is True


def test_build_checks_the_ref_it_builds(stack_image, docker):
    result = stack_image(FILES)

    calls = docker.calls()
    assert calls[0] == ["image", "inspect", "--format", "{{.Id}}", result["ref"]]
    assert calls[1][:4] == ["build", "--rm", "-t", result["ref"]]
    assert len(calls) == 2


def test_build_without_build_args(stack_image, context, docker):
    result = stack_image(FILES)

    assert docker.builds() == [["build", "--rm", "-t", result["ref"], str(context)]]


def test_present_image_is_not_built(stack_image, docker):
    docker.image_present()

    result = stack_image(FILES)

    assert docker.builds() == []
    assert result["present"] is True
    assert result["built"] is False
    assert result["changed"] is True  # the files were written


def test_re_run_after_a_build_when_the_engine_has_it_builds_nothing(stack_image, docker):
    stack_image(FILES)
    docker.image_present()
    docker.forget_calls()

    result = stack_image(FILES)

    assert docker.builds() == []
    assert result["changed"] is False


def test_build_false_never_builds(stack_image, docker):
    first = stack_image(FILES, build=False)
    second = stack_image(FILES, build=False)

    assert docker.builds() == []
    assert first["built"] is False and second["built"] is False
    assert first["present"] is False and second["present"] is False
    assert first["changed"] is True  # the files were written
    assert second["changed"] is False


def test_failing_build_fails_with_the_tail_of_dockers_output(stack_image, docker):
    docker.fail_builds("".join(f"step {n}\n" for n in range(1, 61)) + "E: Unable to locate package nosuchpackage\n")

    result = stack_image(FILES)

    assert result.get("failed") is True
    assert "docker build exited 1" in result["msg"]
    assert result["ref"] in result["msg"]
    assert "E: Unable to locate package nosuchpackage" in result["msg"]
    assert "exit code: 100" in result["msg"]  # docker's stderr
    assert "step 60" in result["msg"]
    assert "step 1'" not in result["msg"] and "step 2'" not in result["msg"]  # only the tail
    assert result["ref"].startswith(IMAGE + ":")
    assert sorted(result["written"]) == sorted(FILES)


# --- check mode ---

def test_check_mode_on_a_new_context_writes_nothing(stack_image, context, docker):
    result = stack_image(FILES, _ansible_check_mode=True)

    assert not context.exists()
    assert sorted(result["written"]) == sorted(FILES)
    assert result["changed"] is True
    assert result["built"] is False
    assert docker.builds() == []


def test_check_mode_on_an_outdated_context_writes_and_removes_nothing(stack_image, context, docker):
    stack_image(FILES)
    docker.forget_calls()
    put(context, "stale.txt")
    before = tree(context)

    result = stack_image(dict(FILES, Dockerfile={"content": "FROM scratch\n", "mode": "0600"}),
                         _ansible_check_mode=True)

    assert tree(context) == before
    assert mode_of(context / "Dockerfile") == 0o644
    assert sorted(result["written"]) == ["Dockerfile", "stale.txt (removed)"]
    assert result["changed"] is True
    assert docker.builds() == []


def test_check_mode_with_an_up_to_date_context_reports_the_build_without_building(stack_image, context, docker):
    stack_image(FILES, build=False)

    result = stack_image(FILES, _ansible_check_mode=True)

    assert result["written"] == []
    assert result["changed"] is True
    assert result["built"] is False
    assert result["ref"] == f"{IMAGE}:" + reference_digest({path: spec["content"].encode()
                                                            for path, spec in FILES.items()})
    assert docker.builds() == []


def test_diff_mode_shows_the_changed_context_files_before_and_after(stack_image, context, docker):
    stack_image(FILES)
    docker.forget_calls()
    put(context, "stale.txt")

    result = stack_image(dict(FILES, Dockerfile={"content": "FROM scratch\n", "mode": "0644"}),
                         _ansible_check_mode=True, _ansible_diff=True)

    diffs = {d["after_header"]: (d["before"], d["after"]) for d in result["diff"]}
    assert diffs == {str(context / "Dockerfile"): (DOCKERFILE, "FROM scratch\n"),
                     str(context / "stale.txt"): ((context / "stale.txt").read_text(), "")}
    assert (context / "Dockerfile").read_text() == DOCKERFILE


def test_diff_mode_on_a_new_context_shows_every_file_as_new(stack_image, context, docker):
    result = stack_image(FILES, _ansible_check_mode=True, _ansible_diff=True)

    assert {d["after_header"]: (d["before"], d["after"]) for d in result["diff"]} == {
        str(context / path): ("", spec["content"]) for path, spec in FILES.items()}
    assert not context.exists()


# --- known bugs (strict: these fail once the module is fixed; then drop the marker) ---

def test_integer_mode_is_the_mode(stack_image, context, docker):
    stack_image({"Dockerfile": {"content": DOCKERFILE, "mode": 0o644}})

    assert mode_of(context / "Dockerfile") == 0o644


def test_a_file_name_starting_with_two_dots_is_inside_the_context(stack_image, context, docker):
    result = stack_image({"..config": {"content": "x", "mode": "0644"}})

    assert not result.get("failed"), result
    assert (context / "..config").read_text() == "x"


# --- superseded images (keep_previous) ---

def test_created_times_sort_by_time_whatever_their_fraction_digits():
    times = ["2026-12-02T23:04:17.12Z", "2026-12-02T23:04:17.123456789Z", "2026-12-02T23:04:17Z",
             "2026-12-01T23:59:59.999999999Z"]
    assert sorted(times, key=created_key) == [times[3], times[2], times[0], times[1]]


def test_superseded_keeps_the_newest_digest_tags_and_never_the_current_or_a_hand_made_tag():
    tags = {"0000000000000001": "2026-11-01T00:00:00Z", "0000000000000002": "2026-11-02T00:00:00.5Z",
            "0000000000000003": "2026-11-03T00:00:00Z", "cccccccccccccccc": "2026-10-01T00:00:00Z",
            "latest": "2020-01-01T00:00:00Z", "my-test": "2020-01-01T00:00:00Z"}
    assert superseded(tags, "cccccccccccccccc", 1) == ["0000000000000002", "0000000000000001"]
    assert superseded(tags, "cccccccccccccccc", 0) == ["0000000000000003", "0000000000000002", "0000000000000001"]
    assert superseded(tags, "cccccccccccccccc", 3) == []
    assert superseded(tags, "0000000000000003", 1) == ["0000000000000001", "cccccccccccccccc"]


def test_superseded_keeps_the_image_in_use_before_a_newer_one():
    """An image loaded from a cache can be older than one that ran before it: a rollback goes back to what ran."""
    tags = {"0000000000000001": "2026-11-01T00:00:00Z", "0000000000000002": "2026-11-02T00:00:00Z",
            "0000000000000003": "2026-11-03T00:00:00Z"}
    assert superseded(tags, "0000000000000003", 1, {"0000000000000001"}) == ["0000000000000002"]
    assert superseded(tags, "0000000000000003", 0, {"0000000000000001"}) == ["0000000000000001", "0000000000000002"]
    assert superseded(tags, "0000000000000003", 1, set()) == ["0000000000000001"]


def test_a_tag_is_in_use_when_a_containers_image_is_it_or_is_built_on_it():
    base, other_base = ["sha256:a", "sha256:b"], ["sha256:a", "sha256:x"]
    layers = {"base1": base, "base2": other_base, "child": base + ["sha256:c"], "unrelated": ["sha256:z"],
              "empty": []}
    running = [base + ["sha256:c"], ["sha256:q"]]
    assert used_tags(layers, running) == {"base1", "child"}
    assert used_tags(layers, []) == set()
    # a longer image is not in use because a container runs a shorter prefix of it
    assert used_tags({"longer": base + ["sha256:c", "sha256:d"]}, running) == set()
