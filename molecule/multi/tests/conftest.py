"""The multi scenario reuses the default scenario's test helpers, loaded the way ldap_https loads them."""
import runpy
from pathlib import Path

_shared = runpy.run_path(str(Path(__file__).resolve().parents[2] / "ldap_https" / "tests" / "conftest.py"))
globals().update({name: value for name, value in _shared.items() if not name.startswith("__")})
