"""Every plugin of the collection has documentation that ansible-doc shows: each module of plugins/modules and each
filter that the filter plugins of plugins/filter export (a file there may define several)."""
import importlib.util
import json
import os
import subprocess

import pytest
import yaml

from conftest import ROOT, tool

PLUGINS = ROOT / "plugins"
# plugin types this test knows how to list; doc_fragments and module_utils are not plugins ansible-doc shows
CHECKED = {"modules", "filter"}
# action plugins are documented by the module of the same name (plugins/modules), which ansible-doc shows
NOT_DOCUMENTED = {"doc_fragments", "module_utils", "action"}


def module_names():
    return sorted(p.stem for p in (PLUGINS / "modules").glob("*.py") if p.stem != "__init__")


def filter_names():
    names = []
    for path in sorted((PLUGINS / "filter").glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"vixtract_filter_{path.stem}", path)
        plugin = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(plugin)
        names += plugin.FilterModule().filters()
    return sorted(names)


def ansible_doc(plugin_type, names):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env["ANSIBLE_COLLECTIONS_PATH"] = str(ROOT / ".collections")
    proc = subprocess.run([tool("ansible-doc"), "-t", plugin_type, "--json"] + [f"vixtract.stack.{n}" for n in names],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False)
    # one plugin without documentation fails the whole call, naming it
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_every_plugin_type_is_checked():
    types = {p.name for p in PLUGINS.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert types - NOT_DOCUMENTED <= CHECKED, f"plugin types this test does not list yet: {types - NOT_DOCUMENTED - CHECKED}"


@pytest.mark.parametrize("plugin_type,names", [("module", module_names()), ("filter", filter_names())],
                         ids=["modules", "filters"])
def test_every_plugin_has_documentation(plugin_type, names):
    assert names, f"no {plugin_type} found"
    docs = ansible_doc(plugin_type, names)
    for name in names:
        entry = docs.get(f"vixtract.stack.{name}")
        assert entry and entry.get("doc"), f"{plugin_type} {name}: ansible-doc shows no documentation"
        doc = entry["doc"]
        assert doc.get("short_description"), f"{plugin_type} {name}: no short_description"
        assert doc.get("version_added"), f"{plugin_type} {name}: no version_added"
        assert entry.get("examples"), f"{plugin_type} {name}: no EXAMPLES"
        assert entry.get("return"), f"{plugin_type} {name}: no RETURN"
        if plugin_type == "module":
            assert {"check_mode", "diff_mode"} <= set(doc.get("attributes", {})), \
                f"module {name}: attributes check_mode and diff_mode are not documented"


def test_the_modules_of_an_action_group_document_their_membership():
    """meta/runtime.yml's action_groups (module_defaults: group/vixtract.stack.NAME) and the modules' action_group
    attribute name the same groups; ansible-test checks only the attribute's form."""
    runtime = yaml.safe_load((ROOT / "meta/runtime.yml").read_text())
    groups = {}
    for group, members in (runtime.get("action_groups") or {}).items():
        for member in members:
            groups.setdefault(member, []).append(f"vixtract.stack.{group}")
    names = module_names()
    docs = ansible_doc("module", names)
    for name in names:
        attribute = docs[f"vixtract.stack.{name}"]["doc"].get("attributes", {}).get("action_group", {})
        assert sorted(attribute.get("membership", [])) == sorted(groups.get(name, [])), name
