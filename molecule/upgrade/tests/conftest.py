"""Helpers come from molecule/resources/testlib (vixtest, on the verifier's PYTHONPATH)."""
# the fixture tests use to re-apply site.yml (pytest finds it by its name here)
from vixtest.stack import converge  # noqa: F401  pylint: disable=unused-import

# The modules build on each other's end state, in this order: the refresh leaves the stack as it found it; the
# reinstall brings it back from its data; the upgrade's checks then hold on it; the restore replaces the server with
# a fresh one from its backup; the purge ends it. A module missing here fails the collection.
ORDER = ["test_refresh.py", "test_reinstall.py", "test_upgrade.py", "test_restore.py", "test_wipe.py"]


def pytest_collection_modifyitems(items):
    unknown = {item.fspath.basename for item in items} - set(ORDER)
    assert not unknown, f"add {sorted(unknown)} to ORDER in molecule/upgrade/tests/conftest.py"
    items.sort(key=lambda item: ORDER.index(item.fspath.basename))
