# A package, so that this directory's conftest.py does not take the module name `conftest` that
# tests/test_validation_*.py import their helpers from.
