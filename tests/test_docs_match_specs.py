"""The hand-written docs cannot drift from the roles' argument specs (meta/argument_specs.yml, which validation
enforces): every public setting is documented, and every setting a docs table lists is one a role takes."""
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
# The roles with public settings (defaults/main.yml; the internal machinery role has entry-point inputs only)
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "defaults/main.yml").exists())
DOCS = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
PREFIXES = "|".join(["vixtract", *ROLES])
# a settings table's first column: | `name` | ...
TABLE_ROW = re.compile(rf"^\| `((?:{PREFIXES})_[a-z0-9_]+)`", re.M)


def options(role):
    specs = yaml.safe_load((ROOT / "roles" / role / "meta/argument_specs.yml").read_text())["argument_specs"]
    return set(specs["main"]["options"])


def documented_names():
    words = set()
    for path in DOCS:
        words |= set(re.findall(r"[a-z0-9_]+", path.read_text()))
    return words


@pytest.mark.parametrize("role", ROLES)
def test_every_setting_of_a_role_is_in_the_docs(role):
    words = documented_names()
    missing = sorted(name for name in options(role) if name not in words)
    assert not missing, f"roles/{role}: settings no page of docs/ (or README.md) names: {missing}"


def test_every_setting_a_docs_table_lists_is_one_a_role_takes():
    known = set().union(*(options(role) for role in ROLES))
    unknown = [f"{path.relative_to(ROOT)}: {name}" for path in DOCS
               for name in TABLE_ROW.findall(path.read_text()) if name not in known]
    assert not unknown, f"documented settings no role takes (renamed or removed?): {unknown}"


def test_the_check_finds_settings_tables():
    """The table pattern matches how the docs write settings (a check that finds nothing proves nothing)."""
    rows = [name for path in DOCS for name in TABLE_ROW.findall(path.read_text())]
    assert len(rows) >= 30, rows
