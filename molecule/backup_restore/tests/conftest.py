"""Helpers come from molecule/resources/testlib (vixtest, on the verifier's PYTHONPATH)."""
