"""The default scenario's tests: helpers come from molecule/resources/testlib (vixtest, on PYTHONPATH)."""
# the fixture tests use to re-apply site.yml (pytest finds it by its name here)
from vixtest.stack import converge  # noqa: F401  pylint: disable=unused-import

# Modules that disturb every container run after all others, whatever their names
LAST = ("test_resilience.py",)


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: item.fspath.basename in LAST)
