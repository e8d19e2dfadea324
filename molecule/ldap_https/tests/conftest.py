"""The shared test helpers of molecule/default/tests."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "default/tests"))
from conftest import *  # noqa: E402,F401,F403
