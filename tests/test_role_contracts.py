"""Each role's public contract: defaults/main.yml and meta/argument_specs.yml describe the same variables
with the same defaults, every default carries a comment, and every name carries the role's prefix."""
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "defaults/main.yml").exists())


def load(path):
    return yaml.safe_load(path.read_text()) or {}


def test_every_role_is_checked():
    assert {"vixtract", "docker_host"} <= set(ROLES)


@pytest.mark.parametrize("role", ROLES)
def test_defaults_and_argument_specs_agree(role):
    defaults = load(ROOT / "roles" / role / "defaults/main.yml")
    specs = load(ROOT / "roles" / role / "meta/argument_specs.yml")["argument_specs"]
    options = specs["main"]["options"]
    assert set(defaults) == set(options), f"{role}: only in defaults {set(defaults) - set(options)}, " \
                                          f"only in argument_specs {set(options) - set(defaults)}"
    for name, value in defaults.items():
        assert options[name].get("default") == value, f"{role}: {name} default differs from argument_specs"
        assert options[name].get("description"), f"{role}: {name} has no description in argument_specs"
    assert specs["validate"]["options"] == options, f"{role}: the validate entry point checks other variables"


@pytest.mark.parametrize("role", ROLES)
def test_variables_carry_the_role_prefix(role):
    prefix = "vixtract_" if role == "vixtract" else f"{role}_"
    for name in load(ROOT / "roles" / role / "defaults/main.yml"):
        assert name.startswith(prefix), f"{role}: {name} should start with {prefix}"


@pytest.mark.parametrize("role", ROLES)
def test_each_default_is_commented_once(role):
    lines = (ROOT / "roles" / role / "defaults/main.yml").read_text().splitlines()
    for i, line in enumerate(lines):
        if line and not line[0].isspace() and not line.startswith(("#", "---")):
            assert lines[i - 1].startswith("# "), f"{role}: '{line}' has no comment line above it"


@pytest.mark.parametrize("role", ROLES)
def test_role_has_validate_hook(role):
    assert (ROOT / "roles" / role / "tasks/validate.yml").exists()
