# Copyright: vixtract.stack maintainers
# Apache License 2.0
"""Filters for the cronicle role: cron strings to Cronicle timing objects.

  '0 2 * * *' | vixtract.stack.cronicle_timing        -> {'hours': [2], 'minutes': [0]}
  '61 * * * *' | vixtract.stack.cronicle_schedule_error -> "minute '61' is out of range 0-59" ('' when valid)

Cronicle's timing lists the allowed values of each unit (a missing unit = every value). A cron string with
both day-of-month and day-of-week restricted (neither starting with '*', as man 5 crontab puts it) is refused:
cron ORs them, Cronicle ANDs them. 'N/S' is read as 'N-<end of the field>/S' (as cronie and Cronicle's crontab
import read it; Debian's cron refuses it).
"""
from __future__ import annotations

import json
import posixpath

from ansible.errors import AnsibleFilterError

FIELDS = [("minute", "minutes", 0, 59), ("hour", "hours", 0, 23), ("day of month", "days", 1, 31),
          ("month", "months", 1, 12), ("day of week", "weekdays", 0, 7)]
NAMES = {"months": ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
         "weekdays": ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]}
MACROS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
          "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}
TIMING_UNITS = {"years": (1970, 3000), "months": (1, 12), "days": (1, 31), "weekdays": (0, 6),
                "hours": (0, 23), "minutes": (0, 59)}


def _digits(text):
    """Only 0-9: str.isdigit() also takes other scripts' digits ('٣', '²'), which cron refuses."""
    return text.isascii() and text.isdigit()


def _number(text, key, label):
    text = text.strip().lower()
    if key in NAMES and text in NAMES[key]:
        return NAMES[key].index(text) + (1 if key == "months" else 0)
    if not _digits(text):
        raise ValueError(f"{label} '{text}' is not a number")
    return int(text)


def _field(text, label, key, low, high):
    values = set()
    for part in text.split(","):
        step = None
        if "/" in part:
            part, step_text = part.split("/", 1)
            if not _digits(step_text) or int(step_text) == 0:
                raise ValueError(f"{label} step '{step_text}' must be a positive number")
            step = int(step_text)
        if part == "*":
            start, end = low, high
        elif "-" in part:
            a, b = part.split("-", 1)
            start, end = _number(a, key, label), _number(b, key, label)
        else:
            start = _number(part, key, label)
            end = start if step is None else high  # 'N/S': from N to the end of the field, any step (also 1)
        for value in (start, end):
            if not low <= value <= high:
                raise ValueError(f"{label} '{value}' is out of range {low}-{high}")
        if start > end:
            raise ValueError(f"{label} range '{part}' runs backwards")
        values.update(range(start, end + 1, step or 1))
    if key == "weekdays" and 7 in values:
        values.discard(7)
        values.add(0)
    full = set(range(low, high + 1)) - ({7} if key == "weekdays" else set())
    return None if values >= full else sorted(values)


def cron_to_timing(schedule):
    """A 5-field cron string (or @daily etc.) as a Cronicle timing dict; ValueError when invalid."""
    if not isinstance(schedule, str):
        raise ValueError(f"'{schedule}' is not a cron string")
    text = MACROS.get(schedule.strip().lower(), schedule)
    parts = text.split()
    if len(parts) != 5:
        raise ValueError(f"'{schedule}' must have 5 fields (minute hour day-of-month month day-of-week)")
    timing = {}
    for part, (label, key, low, high) in zip(parts, FIELDS):
        values = _field(part, label, key, low, high)
        if values is not None:
            timing[key] = values
    # man 5 crontab: a day field that starts with '*' (also '*/2') does not restrict the day; then a day must
    # match both fields, as in Cronicle. When both are restricted, a day matching either field runs.
    if not parts[2].startswith("*") and not parts[4].startswith("*"):
        if "days" in timing and "weekdays" in timing:
            raise ValueError(f"'{schedule}' restricts both day of month and day of week; cron would run on either, "
                             "Cronicle only on both: restrict one of them")
        # one of them names every day (1-31, 0-6, 1-7, sun-sat): every day runs
        timing.pop("days", None)
        timing.pop("weekdays", None)
    return timing


def check_timing(timing):
    for key, values in timing.items():
        if key not in TIMING_UNITS:
            raise ValueError(f"timing key '{key}' is not one of {', '.join(TIMING_UNITS)}")
        low, high = TIMING_UNITS[key]
        if not isinstance(values, list) or not values or not all(
                isinstance(v, int) and not isinstance(v, bool) and low <= v <= high for v in values):
            raise ValueError(f"timing '{key}' must be a non-empty list of numbers {low}-{high}")
    return {k: sorted(set(v)) for k, v in timing.items()}


def cronicle_timing(schedule):
    try:
        if isinstance(schedule, dict):
            return check_timing(schedule)
        return cron_to_timing(schedule)
    except ValueError as e:
        raise AnsibleFilterError(f"invalid schedule: {e}") from e


def cronicle_schedule_error(schedule):
    try:
        if isinstance(schedule, dict):
            check_timing(schedule)
        else:
            cron_to_timing(schedule)
    except ValueError as e:
        return str(e)
    return ""


def _emails(value):
    if not value:
        return ""
    return ", ".join(value) if isinstance(value, list) else str(value)


# A Cronicle category ID per stack user ([a-z0-9_] only, as Cronicle keeps them): 'vxu_' and the name with '_' as
# '__', '.' as '_d' and '-' as '_h', so every name has its own ID and the ID gives the name back. A non-admin
# Cronicle user may run the events of their own category only; vixtract-run-notebook runs an event's notebook as
# the owner its category names.
CATEGORY_ESCAPES = {"_": "__", ".": "_d", "-": "_h"}


def cronicle_category(name):
    if not isinstance(name, str) or not name or not all(
            c.isascii() and (c.isdigit() or c.islower() or c in CATEGORY_ESCAPES) for c in name):
        raise AnsibleFilterError(f"cronicle_category: {name!r} is not a stack user name")
    return "vxu_" + "".join(CATEGORY_ESCAPES.get(c, c) for c in name)


def cronicle_event(event, marker, timezone="UTC", plugin="vixtract_notebook"):
    """One item of cronicle_events as the fields of a Cronicle event: the stack's notebook plugin, filed in its
    owner's category (which makes it run as them), with the notebook, the output and the parameters as the
    plugin's parameters."""
    notebook = event["notebook"]
    stem = posixpath.splitext(posixpath.basename(notebook))[0]
    output = event.get("output") or posixpath.join(posixpath.dirname(notebook), "runs", stem + "-%Y%m%d-%H%M%S.ipynb")
    notify = event.get("notify") or {}
    if not isinstance(notify, dict):
        notify = {"fail": notify}
    return {
        "title": event["title"],
        "enabled": 1 if event.get("enabled", True) else 0,
        "category": cronicle_category(event["user"]),
        "plugin": plugin,
        "target": "maingrp",
        "timing": cronicle_timing(event["schedule"]),
        "timezone": event.get("timezone") or timezone,
        "timeout": int(event.get("timeout", 3600)),
        "retries": int(event.get("retries", 0)),
        "retry_delay": int(event.get("retry_delay", 60)),
        "notify_success": _emails(notify.get("success")),
        "notify_fail": _emails(notify.get("fail")),
        "max_children": 1,
        "catch_up": 0,
        "params": {"notebook": notebook, "output": output,
                   "parameters": json.dumps(event.get("parameters") or {}, sort_keys=True)},
        "notes": marker,
    }


class FilterModule:
    def filters(self):
        return {"cronicle_timing": cronicle_timing, "cronicle_schedule_error": cronicle_schedule_error,
                "cronicle_event": cronicle_event, "cronicle_category": cronicle_category}
