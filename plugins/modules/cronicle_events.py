#!/usr/bin/python
# Copyright: vixtract.stack maintainers
# Apache License 2.0
from __future__ import annotations

DOCUMENTATION = r"""
module: cronicle_events
short_description: Make Cronicle's managed events match a declared list, through its API
description:
  - Every event whose notes start with O(marker) belongs to this module. Declared events are created or
    updated (only when a compared field differs); managed events that are no longer declared are deleted.
    Events created in the UI (without the marker) are never touched.
  - Missing categories are created (title = the declared category).
options:
  url: {description: Base URL of Cronicle's API, type: str, required: true}
  auth_username:
    description:
      - Administrator account the module logs in as. A session, not an API key, creates the events, because Cronicle
        stores the creating API key inside each event, where every user who can see the schedule could read it.
    type: str
    required: true
  auth_password: {description: Its password, type: str, required: true, no_log: true}
  events:
    description: >-
      The declared events, each a dict of Cronicle event fields (title, enabled, category, plugin, target,
      timing, timezone, timeout, retries, retry_delay, notify_success, notify_fail, params, notes, ...).
      C(category) may be a category id or title.
    type: list
    elements: dict
    required: true
  marker: {description: Prefix of the notes of managed events, type: str, required: true}
author: vixtract.stack maintainers
"""

EXAMPLES = r"""
- name: Scheduled notebooks
  vixtract.stack.cronicle_events:
    url: http://127.0.0.1:3012
    auth_username: vixtract
    auth_password: "{{ automation_password }}"
    marker: "Managed by vixtract.stack"
    events:
      - {title: nightly, enabled: 1, category: general, plugin: shellplug, target: maingrp,
         timing: {hours: [2], minutes: [0]}, params: {script: "#!/bin/sh\necho hi\n"},
         notes: "Managed by vixtract.stack"}
"""

RETURN = r"""
created: {description: Titles of created events, type: list, returned: always}
updated: {description: Titles of updated events, type: list, returned: always}
deleted: {description: Titles of deleted events, type: list, returned: always}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vixtract.stack.plugins.module_utils.cronicle import (CONNECTION_ARGUMENT_SPEC, CronicleError,
                                                                    logged_in_client)


def normalize(value):
    """Compare Cronicle's stored JSON with the declaration: ints for bools, sorted int lists in timing."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dict):
        return {k: normalize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    return value


def main():
    module = AnsibleModule(
        argument_spec=dict(
            CONNECTION_ARGUMENT_SPEC,
            events=dict(type="list", elements="dict", required=True),
            marker=dict(type="str", required=True),
        ),
        supports_check_mode=True,
    )
    p = module.params
    client = logged_in_client(module)
    result = dict(created=[], updated=[], deleted=[], categories=[])
    try:
        categories = client.call("/api/app/get_categories/v1", {"offset": 0, "limit": 0}).get("rows") or []
        schedule = client.call("/api/app/get_schedule/v1", {"offset": 0, "limit": 0}).get("rows") or []
        managed = {e["title"]: e for e in schedule if str(e.get("notes", "")).startswith(p["marker"])}

        def category_id(name):
            for cat in categories:
                if name in (cat.get("id"), cat.get("title")):
                    return cat["id"]
            result["categories"].append(name)
            if module.check_mode:
                return name
            new = client.call("/api/app/create_category/v1",
                              {"title": name, "max_children": 0, "enabled": 1, "description": p["marker"]})
            categories.append({"id": new["id"], "title": name})
            return new["id"]

        for wanted in p["events"]:
            wanted = normalize(dict(wanted, category=category_id(wanted.get("category") or "general")))
            current = managed.pop(wanted["title"], None)
            if current is None:
                result["created"].append(wanted["title"])
                if not module.check_mode:
                    client.call("/api/app/create_event/v1", wanted)
                continue
            differs = {k for k, v in wanted.items() if normalize(current.get(k)) != v}
            if differs:
                result["updated"].append(wanted["title"])
                if not module.check_mode:
                    client.call("/api/app/update_event/v1", dict(wanted, id=current["id"]))
        for title, current in managed.items():
            result["deleted"].append(title)
            if not module.check_mode:
                client.call("/api/app/delete_event/v1", {"id": current["id"]})
    except CronicleError as e:
        module.fail_json(msg=str(e), **result)
    finally:
        client.logout(client.session_id)
    changed = any(result[k] for k in ("created", "updated", "deleted", "categories"))
    module.exit_json(changed=changed, **result)


if __name__ == "__main__":
    main()
