"""The default scenario's tests: helpers come from molecule/resources/testlib (vixtest, on PYTHONPATH)."""
from vixtest.stack import converge  # noqa: F401  (the fixture tests use to re-apply site.yml)

# Modules that disturb every container run after all others, whatever their names
LAST = ("test_resilience.py",)


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: item.fspath.basename in LAST)
