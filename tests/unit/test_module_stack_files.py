"""stack_files writes a component's files under one directory in one call: each only when its content, mode or owner
differ, through a temporary file checked by `validate` first; `state: absent` removes, `exclusive` removes what is
not listed. The directory is a temporary one; the expected contents are the ones the test gives."""
import os
import stat

import pytest

from ansible_collections.vixtract.stack.plugins.modules.stack_files import main


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_files_are_written_with_their_mode_and_a_second_call_changes_nothing(tmp_path, run_module):
    files = {"a.conf": {"content": "one\n"}, "secret.json": {"content": "{}\n", "mode": "0600"},
             "sub/b.txt": {"content": "two", "mode": 0o640}}
    result = run_module(main, {"path": str(tmp_path / "conf"), "files": files})
    assert result["changed"] and sorted(result["written"]) == ["a.conf", "secret.json", "sub/b.txt"]
    assert (tmp_path / "conf/a.conf").read_text() == "one\n"
    assert (tmp_path / "conf/sub/b.txt").read_text() == "two"
    assert (mode_of(tmp_path / "conf/a.conf"), mode_of(tmp_path / "conf/secret.json"),
            mode_of(tmp_path / "conf/sub/b.txt")) == (0o644, 0o600, 0o640)
    again = run_module(main, {"path": str(tmp_path / "conf"), "files": files})
    assert (again["changed"], again["written"]) == (False, [])


def test_only_the_file_that_differs_in_content_or_mode_is_written(tmp_path, run_module):
    (tmp_path / "a.conf").write_text("one\n")
    (tmp_path / "b.conf").write_text("two\n")
    os.chmod(tmp_path / "a.conf", 0o644)
    os.chmod(tmp_path / "b.conf", 0o666)
    result = run_module(main, {"path": str(tmp_path), "files": {"a.conf": {"content": "one\n"},
                                                                "b.conf": {"content": "two\n"}}})
    assert result["written"] == ["b.conf"]
    assert mode_of(tmp_path / "b.conf") == 0o644


def test_a_file_its_check_rejects_is_not_written_and_the_old_one_stays(tmp_path, run_module):
    (tmp_path / "site.conf").write_text("good\n")
    checker = tmp_path / "check.sh"
    checker.write_text("#!/bin/sh\ngrep -q good \"$1\" || { echo \"bad line in $1\" >&2; exit 3; }\n")
    checker.chmod(0o755)
    result = run_module(main, {"path": str(tmp_path), "files": {
        "site.conf": {"content": "bad\n", "validate": f"{checker} %s"}}})
    assert result["failed"] and result["rc"] == 3 and "bad line in" in result["stderr"]
    assert (tmp_path / "site.conf").read_text() == "good\n"
    assert sorted(os.listdir(tmp_path)) == ["check.sh", "site.conf"]
    ok = run_module(main, {"path": str(tmp_path), "files": {
        "site.conf": {"content": "good, better\n", "validate": f"{checker} %s"}}})
    assert ok["written"] == ["site.conf"] and (tmp_path / "site.conf").read_text() == "good, better\n"


def test_absent_removes_and_exclusive_removes_what_is_not_listed(tmp_path, run_module):
    for name in ("keep.crt", "old.crt", "gone.crt"):
        (tmp_path / name).write_text(name)
    os.chmod(tmp_path / "keep.crt", 0o644)
    result = run_module(main, {"path": str(tmp_path), "exclusive": True, "files": {
        "keep.crt": {"content": "keep.crt"}, "gone.crt": {"state": "absent"}}})
    assert sorted(result["written"]) == ["gone.crt", "old.crt (removed)"]
    assert os.listdir(tmp_path) == ["keep.crt"]


def test_check_mode_reports_and_writes_nothing(tmp_path, run_module):
    (tmp_path / "a.conf").write_text("old\n")
    result = run_module(main, {"path": str(tmp_path), "exclusive": True, "_ansible_check_mode": True, "files": {
        "a.conf": {"content": "new\n"}, "b.conf": {"content": "b\n"}}})
    assert result["changed"] and sorted(result["written"]) == ["a.conf", "b.conf"]
    assert os.listdir(tmp_path) == ["a.conf"] and (tmp_path / "a.conf").read_text() == "old\n"


@pytest.mark.parametrize("name", ["../escape.conf", "/etc/passwd", "sub/../../escape"])
def test_a_path_outside_the_directory_is_refused(tmp_path, run_module, name):
    result = run_module(main, {"path": str(tmp_path / "conf"), "files": {name: {"content": "x"}}})
    assert result["failed"] and "is outside" in result["msg"]
    assert not (tmp_path / "escape.conf").exists() and not (tmp_path / "escape").exists()


def test_an_owner_that_does_not_exist_is_named(tmp_path, run_module):
    result = run_module(main, {"path": str(tmp_path), "files": {"a": {"content": "x", "owner": "no-such-user-here"}}})
    assert result["failed"] and "no such user or group" in result["msg"]


def test_directories_are_made_with_their_mode_and_set_back_when_changed(tmp_path, run_module):
    dirs = {".": {"mode": "0755"}, "tls": {"mode": "0700"}, "html": {}}
    result = run_module(main, {"path": str(tmp_path / "nginx"), "dirs": dirs,
                               "files": {"html/index.html": {"content": "hi"}}})
    assert result["written"] == ["./", "html/", "tls/", "html/index.html"]
    assert (mode_of(tmp_path / "nginx"), mode_of(tmp_path / "nginx/tls"), mode_of(tmp_path / "nginx/html")) == \
        (0o755, 0o700, 0o755)
    os.chmod(tmp_path / "nginx/tls", 0o755)
    again = run_module(main, {"path": str(tmp_path / "nginx"), "dirs": dirs})
    assert again["written"] == ["tls/"] and mode_of(tmp_path / "nginx/tls") == 0o700
    assert run_module(main, {"path": str(tmp_path / "nginx"), "dirs": dirs})["changed"] is False


def test_a_link_planted_in_the_directory_is_replaced_not_followed(tmp_path, run_module):
    """A symbolic link where a file is to be written (or under any name beside it) never redirects the write."""
    victim = tmp_path / "victim"
    victim.write_text("precious")
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "a.conf").symlink_to(victim)
    (conf / ".a.conf.vixtract-tmp").symlink_to(victim)
    result = run_module(main, {"path": str(conf), "files": {"a.conf": {"content": "new"}}})
    assert result["written"] == ["a.conf"]
    assert victim.read_text() == "precious"
    assert not (conf / "a.conf").is_symlink() and (conf / "a.conf").read_text() == "new"


def test_diff_mode_shows_each_changed_file_and_keeps_marked_and_large_ones_out(tmp_path, run_module):
    (tmp_path / "a.conf").write_text("client_max_body_size 10m;\n")
    (tmp_path / "same.conf").write_text("unchanged\n")
    (tmp_path / "proxy.conf").write_text("HTTP_PROXY=http://u:old-secret@proxy\n")
    result = run_module(main, {"path": str(tmp_path), "_ansible_check_mode": True, "_ansible_diff": True, "files": {
        "a.conf": {"content": "client_max_body_size 20m;\n"}, "same.conf": {"content": "unchanged\n"},
        "proxy.conf": {"content": "HTTP_PROXY=http://u:new-secret@proxy\n", "diff": False},
        "big.txt": {"content": "x" * (64 * 1024 + 1)}, "gone.conf": {"state": "absent"}}})
    diffs = {d["after_header"]: (d["before"], d["after"]) for d in result["diff"]}
    assert diffs[str(tmp_path / "a.conf")] == ("client_max_body_size 10m;\n", "client_max_body_size 20m;\n")
    assert diffs[str(tmp_path / "big.txt")] == ("", "(65537 bytes, not shown)\n")
    assert str(tmp_path / "same.conf") not in diffs and str(tmp_path / "gone.conf") not in diffs
    assert diffs[str(tmp_path / "proxy.conf")] == ("(37 bytes, not shown)\n", "(37 bytes, not shown)\n")
    assert "secret" not in str(result["diff"])
    assert (tmp_path / "a.conf").read_text() == "client_max_body_size 10m;\n"


def test_without_diff_mode_no_content_is_returned(tmp_path, run_module):
    result = run_module(main, {"path": str(tmp_path), "files": {"a.conf": {"content": "x = 1\n"}}})
    assert "diff" not in result and "x = 1" not in str({k: v for k, v in result.items() if k != "invocation"})
