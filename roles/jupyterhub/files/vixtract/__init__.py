"""The stack's own Python helpers for notebooks and scheduled jobs (vixtract.stack).

  vixtract.db   load rows into the stack's PostgreSQL through COPY (docs/jupyterhub.md#loading-data)
"""
