"""Helpers shared by every Molecule scenario's tests (molecule/*/tests).

The shared Molecule configuration puts molecule/resources/testlib on the verifier's PYTHONPATH, so a test
imports `from vixtest.stack import stack_vars` whatever its scenario; no test module imports another.
  stack     the scenario's inventory, generated credentials, re-applying site.yml, the outer engine
  hub       commands, logins and notebooks in the JupyterHub container
  cronicle  Cronicle's API from the server
  pg        SQL against the PostgreSQL container
"""
