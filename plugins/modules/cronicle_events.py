#!/usr/bin/python
# Copyright: vixtract.stack maintainers
# Apache License 2.0
from __future__ import annotations

DOCUMENTATION = r"""
module: cronicle_events
short_description: Make Cronicle's plugins, categories and managed events match a declaration, through its API
description:
  - O(plugins) are created or updated (only when a declared field differs). The plugins in O(remove_plugins) are
    deleted once the declared events no longer use them; one that an event made in the UI still uses (Cronicle
    refuses to delete it) is disabled instead. Either way no job can run it any more.
  - O(categories) are created with the declared id, or updated when their title or description differs. Categories
    are never deleted.
  - Every event whose notes start with O(marker) belongs to this module. Declared events are created or
    updated (only when a compared field differs); managed events that are no longer declared are deleted.
    Events created in the UI (without the marker) are never touched.
version_added: 1.0.0
options:
  auth_username:
    description:
      - Administrator account the module logs in as. A session, not an API key, creates the events, because Cronicle
        stores the creating API key inside each event, where every user who can see the schedule could read it.
    type: str
    required: true
  events:
    description: >-
      The declared events, each a dict of Cronicle event fields (title, enabled, category, plugin, target,
      timing, timezone, timeout, retries, retry_delay, notify_success, notify_fail, params, notes, ...).
      C(category) is the id of a category (one of O(categories), or one that exists).
    type: list
    elements: dict
    required: true
  marker:
    description: Prefix of the notes of managed events.
    type: str
    required: true
  plugins:
    description: Plugins that must exist, each a dict of Cronicle plugin fields with its C(id).
    type: list
    elements: dict
    default: []
    version_added: 1.1.0
  remove_plugins:
    description: Ids of plugins that must not exist.
    type: list
    elements: str
    default: []
    version_added: 1.1.0
  categories:
    description: Categories that must exist, each a dict with C(id), C(title) and optionally C(description).
    type: list
    elements: dict
    default: []
    version_added: 1.1.0
extends_documentation_fragment:
  - vixtract.stack.cronicle
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
attributes:
  check_mode:
    support: full
    description: Reports what it would create, update and delete without doing it.
  diff_mode:
    support: full
    description: >-
      The events created, updated or deleted, by title, with the fields the declaration sets (before as Cronicle
      has them, after as declared); plugins and categories are named in the returned lists.
author: ViXtract stack maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Scheduled notebooks
  vixtract.stack.cronicle_events:
    url: http://127.0.0.1:3012
    auth_username: vixtract
    auth_password: "{{ automation_password }}"
    marker: "Managed by vixtract.stack"
    plugins:
      - {id: vixtract_notebook, title: Notebook, enabled: 1, command: /usr/bin/sudo -n /usr/local/sbin/run, params: []}
    remove_plugins: [shellplug]
    categories:
      - {id: vxu_anna_dk, title: anna.k}
    events:
      - {title: nightly, enabled: 1, category: vxu_anna_dk, plugin: vixtract_notebook, target: maingrp,
         timing: {hours: [2], minutes: [0]}, params: {notebook: etl/load.ipynb}, notes: "Managed by vixtract.stack"}
"""

RETURN = r"""
created:
  description: Titles of created events.
  type: list
  elements: str
  returned: always
updated:
  description: Titles of updated events.
  type: list
  elements: str
  returned: always
deleted:
  description: Titles of deleted events.
  type: list
  elements: str
  returned: always
categories:
  description: Ids of created or updated categories.
  type: list
  elements: str
  returned: always
  version_added: 1.1.0
plugins:
  description: What was done to plugins, one entry each, its id and C(created), C(updated), C(deleted) or C(disabled).
  type: list
  elements: str
  returned: always
  version_added: 1.1.0
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vixtract.stack.plugins.module_utils.cronicle import (CONNECTION_ARGUMENT_SPEC, CronicleError,
                                                                              logged_in_client)


def normalize(value):
    """Compare Cronicle's stored JSON with the declaration: ints for bools."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dict):
        return {k: normalize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    return value


def differs(current, wanted):
    return {k for k, v in wanted.items() if normalize(current.get(k)) != normalize(v)}


def rows(client, path):
    return client.call(path, {"offset": 0, "limit": 0}).get("rows") or []


def main():
    module = AnsibleModule(
        argument_spec=dict(
            CONNECTION_ARGUMENT_SPEC,
            events=dict(type="list", elements="dict", required=True),
            marker=dict(type="str", required=True),
            plugins=dict(type="list", elements="dict", default=[]),
            remove_plugins=dict(type="list", elements="str", default=[]),
            categories=dict(type="list", elements="dict", default=[]),
        ),
        supports_check_mode=True,
    )
    p = module.params
    client = logged_in_client(module)
    result = dict(created=[], updated=[], deleted=[], categories=[], plugins=[])
    # --diff: the declared fields of each changed event, before and after
    before, after = {}, {}

    def call(path, params):
        if not module.check_mode:
            client.call(path, params)

    try:
        plugins = {plugin["id"]: plugin for plugin in rows(client, "/api/app/get_plugins/v1")}
        for wanted in p["plugins"]:
            current = plugins.get(wanted["id"])
            if current is None:
                result["plugins"].append(f"{wanted['id']}: created")
                call("/api/app/create_plugin/v1", wanted)
            elif differs(current, wanted):
                result["plugins"].append(f"{wanted['id']}: updated")
                call("/api/app/update_plugin/v1", wanted)

        categories = {cat["id"]: cat for cat in rows(client, "/api/app/get_categories/v1")}
        for wanted in p["categories"]:
            wanted = dict({"description": p["marker"]}, **wanted)
            current = categories.get(wanted["id"])
            if current is None:
                result["categories"].append(wanted["id"])
                call("/api/app/create_category/v1", dict(wanted, max_children=0, enabled=1))
            elif differs(current, wanted):
                result["categories"].append(wanted["id"])
                call("/api/app/update_category/v1", wanted)

        schedule = rows(client, "/api/app/get_schedule/v1")
        managed = {e["title"]: e for e in schedule if str(e.get("notes", "")).startswith(p["marker"])}
        for wanted in p["events"]:
            current = managed.pop(wanted["title"], None)
            if current is None:
                result["created"].append(wanted["title"])
                after[wanted["title"]] = wanted
                call("/api/app/create_event/v1", wanted)
            elif differs(current, wanted):
                result["updated"].append(wanted["title"])
                before[wanted["title"]] = {k: normalize(current.get(k)) for k in sorted(differs(current, wanted))}
                after[wanted["title"]] = {k: normalize(wanted[k]) for k in sorted(differs(current, wanted))}
                call("/api/app/update_event/v1", dict(wanted, id=current["id"]))
        for title, current in managed.items():
            result["deleted"].append(title)
            before[title] = {k: current.get(k) for k in ("title", "category", "timing", "params", "enabled")}
            call("/api/app/delete_event/v1", {"id": current["id"]})

        # after the events: Cronicle refuses to delete a plugin an event still uses
        users = {}
        declared = {e["title"]: e.get("plugin") for e in p["events"]}
        for event in schedule:
            plugin = declared.get(event["title"], event.get("plugin")) if event["title"] not in managed else None
            users.setdefault(plugin, []).append(event["title"])
        for plugin_id in p["remove_plugins"]:
            if plugin_id not in plugins:
                continue
            if not users.get(plugin_id):
                result["plugins"].append(f"{plugin_id}: deleted")
                call("/api/app/delete_plugin/v1", {"id": plugin_id})
            elif plugins[plugin_id].get("enabled"):
                result["plugins"].append(f"{plugin_id}: disabled (still used by {', '.join(users[plugin_id])})")
                call("/api/app/update_plugin/v1", {"id": plugin_id, "enabled": 0})
    except CronicleError as e:
        module.fail_json(msg=str(e), **result)
    finally:
        client.logout(client.session_id)
    if module._diff and (before or after):
        result["diff"] = {"before": before, "after": after, "before_header": "Cronicle's events",
                          "after_header": "cronicle_events"}
    module.exit_json(changed=any(result.values()), **result)


if __name__ == "__main__":
    main()
