"""Each role's public contract: defaults/main.yml and meta/argument_specs.yml describe the same variables
with the same defaults, every default carries a comment, and every name carries the role's prefix."""
import re
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


def tasks_in(node):
    """Every task (mapping with a module or include) in a parsed task file or playbook, blocks included."""
    if isinstance(node, list):
        for item in node:
            yield from tasks_in(item)
    elif isinstance(node, dict):
        yield node
        for key in ("block", "rescue", "always", "tasks", "pre_tasks", "post_tasks", "handlers"):
            yield from tasks_in(node.get(key))


def yaml_files():
    return sorted([*(ROOT / "roles").glob("*/tasks/*.yml"), *(ROOT / "roles").glob("*/handlers/*.yml"),
                   *(ROOT / "playbooks").glob("*.yml")])


def test_only_validation_runs_whatever_the_tags():
    """A run limited by --tags runs the tagged component and validation, nothing else: no task or play elsewhere
    is tagged always (the machinery finds what a component needs in the engine instead)."""
    tagged = set()
    for path in yaml_files():
        for task in tasks_in(load(path)):
            tags = task.get("tags") or []
            if "always" in ([tags] if isinstance(tags, str) else tags):
                tagged.add(str(path.relative_to(ROOT)))
            apply = (task.get("ansible.builtin.include_role") or {}).get("apply") or {}
            if "always" in apply.get("tags", []):
                tagged.add(str(path.relative_to(ROOT)))
    assert tagged == {"playbooks/validate.yml"}


def test_the_machinery_keeps_its_own_prefix():
    """The internal machinery role registers and sets only machinery_* variables, and the component roles reach
    it, not the vixtract role, for image building and removal."""
    for path in (ROOT / "roles/machinery/tasks").glob("*.yml"):
        for task in tasks_in(load(path)):
            names = [task["register"]] if "register" in task else []
            names += [k for k in (task.get("ansible.builtin.set_fact") or {}) if k != "cacheable"]
            for name in names:
                assert name.startswith("machinery_"), f"{path.name}: {name}"
    for path in yaml_files():
        for task in tasks_in(load(path)):
            include = task.get("ansible.builtin.include_role") or {}
            if include.get("tasks_from") in {"build_image", "base_image", "remove_component"}:
                assert include["name"] == "vixtract.stack.machinery", f"{path}: {task.get('name')}"


def test_nginx_takes_the_components_paths_from_their_settings():
    """nginx serves JupyterHub at jupyterhub_base_url and Cronicle at cronicle_public_path: no template of the nginx
    role types /jupyter or /cronicle again (comments aside)."""
    for path in (ROOT / "roles/nginx/templates").glob("*.j2"):
        text = re.sub(r"\{#.*?#\}", "", path.read_text(), flags=re.S)
        code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
        assert not re.search(r"/(jupyter|cronicle)\b", code), f"{path.name} names a component's path itself"
    site = (ROOT / "roles/nginx/templates/nginx.conf.j2").read_text()
    assert "location ^~ {{ jupyterhub_base_url }}/ {" in site
    assert "location ^~ {{ cronicle_public_path }}/ {" in site
