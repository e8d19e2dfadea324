# Copyright: vixtract.stack maintainers
# Apache License 2.0
"""Checks of the stack's people (vixtract_users) and of other secrets given in the inventory.

  vixtract_users | vixtract.stack.user_problems(reserved_names)  -> ["vixtract_users: ...", ...] ([] when valid)
  value | vixtract.stack.secret_problem('postgres_superuser_password') -> "..." ('' when valid)

Every message names the variable, the entry (by its name, quoted so that a newline shows as \\n) and the fix,
and never repeats a password: validation output may be logged, shown with -v or kept in CI logs.
"""
from __future__ import annotations

import re

NAME = re.compile(r"[a-z][a-z0-9._-]{1,31}")
FLAGS = ("admin", "postgres", "cronicle", "library")
KEYS = {"name", "password", "state"} | set(FLAGS)
# Printable text only: a control character (newline above all) would let a value break out of the line-based
# files it reaches (chpasswd's NAME:PASSWORD lines, ~/.pgpass, config files)
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MIN_PASSWORD = 8


def shown(name):
    """A name as it may appear in a message: quoted, with control characters visible."""
    return repr(name) if isinstance(name, str) else f"<{type(name).__name__}>"


def secret_problem(value, variable, minimum=MIN_PASSWORD):
    """Why VALUE cannot be the secret VARIABLE ('' when it can). Never repeats the value."""
    if not isinstance(value, str):
        return f"{variable} must be a string (quote it in YAML)."
    if CONTROL.search(value):
        return (f"{variable} contains a control character (a newline, tab or similar), which would break the files it "
                "is written to. Fix: a password of printable characters only.")
    if len(value) < minimum:
        return (f"{variable} is shorter than {minimum} characters. Fix: a longer password, or remove it to have one "
                "generated.")
    return ""


def user_problems(users, reserved):
    if not isinstance(users, list):
        return ["vixtract_users must be a list of {name: ...} entries."]
    problems = []
    names = []
    for index, user in enumerate(users):
        if not isinstance(user, dict) or "name" not in user:
            problems.append(f"vixtract_users: entry {index + 1} has no name. Fix: every entry needs name: LOGIN.")
            continue
        name = user["name"]
        label = f"vixtract_users: the user {shown(name)}"
        names.append(name)
        if not isinstance(name, str) or not NAME.fullmatch(name) or name.endswith("."):
            suggestion = re.sub(r"[^a-z0-9._-]+", ".", str(name).strip().lower()).strip(".")[:32].rstrip(".")
            if not NAME.fullmatch(suggestion):
                suggestion = "anna.k"
            problems.append(f"{label} is not a valid login name. Use 2-32 characters: lowercase letters, digits, "
                            f"'.', '_' or '-', starting with a letter and not ending with '.' (e.g. {shown(suggestion)}).")
        elif name in reserved:
            problems.append(f"{label} takes a name that belongs to the system or to the stack's own services and "
                            f"roles ({', '.join(sorted(reserved))}). Fix: choose another name.")
        unknown = sorted(set(user) - KEYS, key=str)
        if unknown:
            # a key is shown only when it looks like a key: "password Hunter2" (a missing colon) is not repeated
            named = [shown(k) for k in unknown if isinstance(k, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,40}", k)]
            what = ", ".join(named + ([f"{len(unknown) - len(named)} that cannot be shown"] if len(named) < len(unknown)
                                      else []))
            problems.append(f"{label} has unknown keys ({what}). Fix: use only {', '.join(sorted(KEYS))} (and a colon "
                            "after each key).")
        for flag in FLAGS:
            if flag in user and not isinstance(user[flag], bool):
                problems.append(f"{label}: {flag} must be true or false.")
        if "password" in user:
            problem = secret_problem(user["password"], "its password")
            if problem:
                problems.append(f"{label}: {problem}")
    seen, repeated, cronicle = set(), [], {}
    for name in names:
        if isinstance(name, str) and name in seen and name not in repeated:
            repeated.append(name)
            problems.append(f"vixtract_users lists {shown(name)} more than once. Fix: keep one entry per person.")
        seen.add(name if isinstance(name, str) else id(name))
    # Cronicle keeps an account under its name without '.' and '-' (anna.k and annak are one account)
    for name in sorted(n for n in seen if isinstance(n, str)):
        key = re.sub(r"[^a-z0-9_]", "", name.lower())
        if key in cronicle:
            problems.append(f"vixtract_users: {shown(cronicle[key])} and {shown(name)} would be the same Cronicle "
                            "account (Cronicle ignores '.' and '-' in names). Fix: rename one of them.")
        cronicle.setdefault(key, name)
    return problems


class FilterModule:
    def filters(self):
        return {"user_problems": user_problems, "secret_problem": secret_problem}
