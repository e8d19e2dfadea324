"""Helpers come from molecule/resources/testlib (vixtest, on the verifier's PYTHONPATH)."""
# the fixture tests use to re-apply site.yml (pytest finds it by its name here)
from vixtest.stack import converge  # noqa: F401  pylint: disable=unused-import
