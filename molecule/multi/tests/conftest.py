"""The multi scenario reuses the default scenario's test helpers (molecule/default/tests)."""
import importlib.util
import sys
from pathlib import Path

DEFAULT_TESTS = Path(__file__).resolve().parents[2] / "default" / "tests"
sys.path.insert(0, str(DEFAULT_TESTS))

_spec = importlib.util.spec_from_file_location("default_conftest", DEFAULT_TESTS / "conftest.py")
default_conftest = importlib.util.module_from_spec(_spec)
sys.modules["default_conftest"] = default_conftest
_spec.loader.exec_module(default_conftest)

converge = default_conftest.converge
