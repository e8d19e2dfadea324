"""Helpers come from molecule/resources/testlib (vixtest, on the verifier's PYTHONPATH)."""
from vixtest.stack import converge  # noqa: F401  (the fixture tests use to re-apply site.yml)
