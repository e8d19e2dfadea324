"""The upgrade scenario reuses the default scenario's test helpers, loaded the way ldap_https loads them. Its
tests also import helpers from default's test modules, which import them from `conftest`: this module offers
every public name of default's conftest."""
import runpy
from pathlib import Path

_shared = runpy.run_path(str(Path(__file__).resolve().parents[2] / "ldap_https" / "tests" / "conftest.py"))
globals().update({name: value for name, value in _shared.items() if not name.startswith("__")})
globals().update({name: value for name, value in vars(_shared["default_conftest"]).items()
                  if not name.startswith("_")})
