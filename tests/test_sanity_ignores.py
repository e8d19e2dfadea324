"""Every exception to ansible-test sanity (tests/sanity/ignore-*.txt) says why it is one."""
import pytest

from conftest import ROOT

IGNORES = sorted((ROOT / "tests/sanity").glob("ignore-*.txt"))


def test_there_is_an_ignore_file_for_the_tested_ansible_core():
    assert (ROOT / "tests/sanity/ignore-2.19.txt") in IGNORES


@pytest.mark.parametrize("path", IGNORES, ids=[p.name for p in IGNORES])
def test_each_ignore_entry_has_a_reason(path):
    for number, line in enumerate(path.read_text().splitlines(), 1):
        entry, _sep, reason = line.partition(" # ")
        assert len(entry.split()) == 2 and reason.strip(), f"{path.name}:{number}: 'PATH TEST # REASON' expected: {line!r}"
