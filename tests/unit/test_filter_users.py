"""user_problems and secret_problem: what is wrong with vixtract_users and with a secret, in messages that name the
entry and the fix and never contain a password. Every expected message is written out by hand."""
import re

import pytest

from ansible_collections.vixtract.stack.plugins.filter.users import FilterModule, secret_problem, user_problems

RESERVED = ["root", "postgres", "jupyterhub", "vixtract"]
RULE = ("Use 2-32 characters: lowercase letters, digits, '.', '_' or '-', starting with a letter and not ending "
        "with '.'")
KEYS = "admin, cronicle, library, name, password, postgres, state"
CONTROL = ("contains a control character (a newline, tab or similar), which would break the files it is written to. "
           "Fix: a password of printable characters only.")
SHORT = "is shorter than 8 characters. Fix: a longer password, or remove it to have one generated."

# id: (name, message)
INVALID_NAMES = {
    "capital letters and a space": (
        "Bad Name", "vixtract_users: the user 'Bad Name' is not a valid login name. " + RULE + " (e.g. 'bad.name')."),
    "trailing newline, shown escaped": (
        "alice\n", "vixtract_users: the user 'alice\\n' is not a valid login name. " + RULE + " (e.g. 'alice')."),
    "newline inside": (
        "al\nice", "vixtract_users: the user 'al\\nice' is not a valid login name. " + RULE + " (e.g. 'al.ice')."),
    "tab": ("an\tna", "vixtract_users: the user 'an\\tna' is not a valid login name. " + RULE + " (e.g. 'an.na')."),
    "ends with a dot": (
        "anna.", "vixtract_users: the user 'anna.' is not a valid login name. " + RULE + " (e.g. 'anna')."),
    "33 characters": (
        "a" * 33, "vixtract_users: the user '" + "a" * 33 + "' is not a valid login name. " + RULE
        + " (e.g. '" + "a" * 32 + "')."),
    "starts with a dot": (
        ".anna", "vixtract_users: the user '.anna' is not a valid login name. " + RULE + " (e.g. 'anna')."),
    "e-mail address": (
        "anna@example.com", "vixtract_users: the user 'anna@example.com' is not a valid login name. " + RULE
        + " (e.g. 'anna.example.com')."),
    "non-ASCII letter": (
        "jürgen", "vixtract_users: the user 'jürgen' is not a valid login name. " + RULE + " (e.g. 'j.rgen')."),
    "only signs": ("!!!", "vixtract_users: the user '!!!' is not a valid login name. " + RULE + " (e.g. 'anna.k')."),
    "empty": ("", "vixtract_users: the user '' is not a valid login name. " + RULE + " (e.g. 'anna.k')."),
}

# id: (name, first sentence of the message)
INVALID_NAMES_FIRST_SENTENCE = {
    "one character": ("a", "vixtract_users: the user 'a' is not a valid login name."),
    "starts with a digit": ("2anna", "vixtract_users: the user '2anna' is not a valid login name."),
    "a number": (42, "vixtract_users: the user <int> is not a valid login name."),
    "a list": (["anna"], "vixtract_users: the user <list> is not a valid login name."),
    "none": (None, "vixtract_users: the user <NoneType> is not a valid login name."),
}

VALID_NAMES = ["anna.k", "ab", "a" * 32, "j-doe_2", "x.y-z_0", "bob"]

# Distinctive passwords: none of them may appear in any message
PASSWORDS = {
    "short": "Qz7#kP",
    "one character": "Q",
    "newline": "Hunter2-line\nWq8Zr",
    "tab": "Tab\tSecret-9931",
    "carriage return": "Cr-Secret-7714\r",
    "NUL": "Nul\x00Secret-5820",
    "DEL": "Del\x7fSecret-3309",
}


def test_valid_list_has_no_problem():
    users = [{"name": "anna.k", "password": "correct horse battery", "admin": True, "postgres": False,
              "cronicle": True, "library": False, "state": "present"},
             {"name": "bob"},
             {"name": "carl", "state": "absent"}]
    assert user_problems(users, RESERVED) == []


def test_empty_list_has_no_problem():
    assert user_problems([], RESERVED) == []


@pytest.mark.parametrize("name", VALID_NAMES)
def test_valid_names(name):
    assert user_problems([{"name": name}], RESERVED) == []


@pytest.mark.parametrize("name, message", list(INVALID_NAMES.values()), ids=list(INVALID_NAMES))
def test_invalid_name_is_named_with_the_rule_and_an_example(name, message):
    assert user_problems([{"name": name}], RESERVED) == [message]


@pytest.mark.parametrize("name, sentence", list(INVALID_NAMES_FIRST_SENTENCE.values()),
                         ids=list(INVALID_NAMES_FIRST_SENTENCE))
def test_invalid_name_that_is_too_short_or_not_text(name, sentence):
    problems = user_problems([{"name": name}], RESERVED)
    assert len(problems) == 1
    assert problems[0].startswith(sentence + " " + RULE + " (e.g. "), problems[0]


@pytest.mark.parametrize("name", ["root", "postgres", "vixtract"])
def test_reserved_name_is_refused_listing_the_reserved_names(name):
    assert user_problems([{"name": name}], RESERVED) == [
        f"vixtract_users: the user '{name}' takes a name that belongs to the system or to the stack's own services and "
        "roles (jupyterhub, postgres, root, vixtract). Fix: choose another name."]


def test_reserved_names_are_matched_exactly():
    assert user_problems([{"name": "rooted"}, {"name": "postgres2"}], RESERVED) == []


@pytest.mark.parametrize("users, message", [
    ("anna.k", "vixtract_users must be a list of {name: ...} entries."),
    ({"name": "anna.k"}, "vixtract_users must be a list of {name: ...} entries."),
    (None, "vixtract_users must be a list of {name: ...} entries."),
], ids=["a string", "one entry without the list", "none"])
def test_not_a_list(users, message):
    assert user_problems(users, RESERVED) == [message]


@pytest.mark.parametrize("entry", [{"password": "Pw-NoName-8812"}, "anna.k", {}, None],
                         ids=["no name key", "a bare string", "empty entry", "none"])
def test_entry_without_a_name_is_named_by_its_position(entry):
    assert user_problems([{"name": "bob"}, entry], RESERVED) == [
        "vixtract_users: entry 2 has no name. Fix: every entry needs name: LOGIN."]


def test_unknown_keys_are_listed_sorted_with_the_known_ones():
    assert user_problems([{"name": "anna.k", "passwd": "x", "email": "anna@example.com"}], RESERVED) == [
        "vixtract_users: the user 'anna.k' has unknown keys ('email', 'passwd'). Fix: use only " + KEYS
        + " (and a colon after each key)."]


def test_an_unknown_key_that_holds_a_value_is_not_repeated():
    """'password Hunter22-secret' (a missing colon) is a key with the password in it: counted, never shown."""
    problems = user_problems([{"name": "anna.k", "password Hunter22-secret": None}], RESERVED)
    assert problems == ["vixtract_users: the user 'anna.k' has unknown keys (1 that cannot be shown). Fix: use only "
                        + KEYS + " (and a colon after each key)."]


@pytest.mark.parametrize("flag, value", [
    ("admin", "yes"), ("postgres", 1), ("cronicle", "true"), ("library", None), ("admin", 0),
], ids=["admin 'yes'", "postgres 1", "cronicle 'true'", "library null", "admin 0"])
def test_flag_that_is_not_a_boolean(flag, value):
    assert user_problems([{"name": "anna.k", flag: value}], RESERVED) == [
        f"vixtract_users: the user 'anna.k': {flag} must be true or false."]


@pytest.mark.parametrize("value", [True, False])
def test_boolean_flags_are_fine(value):
    assert user_problems([{"name": "anna.k", "admin": value, "postgres": value, "cronicle": value,
                           "library": value}], RESERVED) == []


@pytest.mark.parametrize("password, problem", [
    (PASSWORDS["short"], SHORT),
    (PASSWORDS["one character"], SHORT),
    ("", SHORT),
    (PASSWORDS["newline"], CONTROL),
    (PASSWORDS["tab"], CONTROL),
    (PASSWORDS["carriage return"], CONTROL),
    (PASSWORDS["NUL"], CONTROL),
    (PASSWORDS["DEL"], CONTROL),
    (12345678, "must be a string (quote it in YAML)."),
    (None, "must be a string (quote it in YAML)."),
], ids=["6 characters", "1 character", "empty", "newline", "tab", "carriage return", "NUL", "DEL", "a number",
        "null"])
def test_password_problem_is_named_without_the_password(password, problem):
    assert user_problems([{"name": "anna.k", "password": password}], RESERVED) == [
        f"vixtract_users: the user 'anna.k': its password {problem}"]


@pytest.mark.parametrize("password", ["12345678", "correct horse battery staple", "päßwörd-€-8", "a" * 200],
                         ids=["exactly 8", "with spaces", "non-ASCII", "long"])
def test_good_passwords(password):
    assert user_problems([{"name": "anna.k", "password": password}], RESERVED) == []


def test_duplicate_name_is_named_once():
    assert user_problems([{"name": "anna.k"}, {"name": "bob"}, {"name": "anna.k"}], RESERVED) == [
        "vixtract_users lists 'anna.k' more than once. Fix: keep one entry per person."]


def test_names_that_differ_are_no_duplicates():
    assert user_problems([{"name": "anna.k"}, {"name": "anna_k"}], RESERVED) == []


def test_names_cronicle_would_take_for_one_account_are_refused():
    """Cronicle drops '.' and '-' from account names: anna.k, anna-k and annak would be one account."""
    assert user_problems([{"name": "anna.k"}, {"name": "anna-k"}, {"name": "annak"}], RESERVED) == [
        "vixtract_users: 'anna-k' and 'anna.k' would be the same Cronicle account (Cronicle ignores '.' and '-' in "
        "names). Fix: rename one of them.",
        "vixtract_users: 'anna-k' and 'annak' would be the same Cronicle account (Cronicle ignores '.' and '-' in "
        "names). Fix: rename one of them."]


def test_duplicate_entries_that_are_not_text_are_not_counted_as_duplicates():
    problems = user_problems([{"name": 42}, {"name": 42}], RESERVED)
    assert len(problems) == 2
    assert all(p.startswith("vixtract_users: the user <int> is not a valid login name.") for p in problems)


def test_every_problem_of_an_entry_in_order_then_duplicates():
    users = [{"name": "root", "password": "Zx9!", "admin": "yes", "cronicle": 1, "shell": "/bin/bash"},
             {"name": "root"}]
    reserved = ("roles (jupyterhub, postgres, root, vixtract). Fix: choose another name.")
    assert user_problems(users, RESERVED) == [
        "vixtract_users: the user 'root' takes a name that belongs to the system or to the stack's own services and "
        + reserved,
        "vixtract_users: the user 'root' has unknown keys ('shell'). Fix: use only " + KEYS
        + " (and a colon after each key).",
        "vixtract_users: the user 'root': admin must be true or false.",
        "vixtract_users: the user 'root': cronicle must be true or false.",
        "vixtract_users: the user 'root': its password " + SHORT,
        "vixtract_users: the user 'root' takes a name that belongs to the system or to the stack's own services and "
        + reserved,
        "vixtract_users lists 'root' more than once. Fix: keep one entry per person.",
    ]


def test_no_message_contains_a_password():
    """A list with every kind of problem, each entry with its own distinctive password."""
    users = [{"name": "Bad Name", "password": PASSWORDS["short"], "admin": "yes"},
             {"name": "alice\n", "password": PASSWORDS["newline"], "passwd": "x"},
             {"name": "root", "password": PASSWORDS["tab"]},
             {"name": "anna.", "password": PASSWORDS["one character"]},
             {"name": "bob", "password": PASSWORDS["NUL"]},
             {"name": "bob", "password": PASSWORDS["DEL"]},
             {"name": "carl", "password": PASSWORDS["carriage return"], "library": "no"},
             {"password": "NoName-Secret-4471"},
             {"name": "dave", "password": "Fine-Secret-6650", "shell": "zsh"}]
    problems = user_problems(users, RESERVED)
    assert len(problems) == 17
    secrets = list(PASSWORDS.values()) + ["NoName-Secret-4471", "Fine-Secret-6650"]
    # each password, and each part of it between control characters (as a message might show it)
    pieces = {piece for secret in secrets for piece in re.split(r"[\x00-\x1f\x7f]", secret) if len(piece) > 1}
    assert pieces >= {"Hunter2-line", "Wq8Zr", "Secret-9931", "Cr-Secret-7714", "Qz7#kP"}
    for message in problems:
        for secret in secrets:
            assert secret not in message
        for piece in pieces:
            assert piece not in message, (message, piece)


# secret_problem

@pytest.mark.parametrize("value", ["12345678", "correct horse battery staple", "päßwörd-€-8", "x" * 500],
                         ids=["exactly the minimum", "with spaces", "non-ASCII", "long"])
def test_good_secret_has_no_problem(value):
    assert secret_problem(value, "postgres_superuser_password") == ""


@pytest.mark.parametrize("value, message", [
    ("Qz7#kP", "postgres_superuser_password is shorter than 8 characters. Fix: a longer password, or remove it to "
               "have one generated."),
    ("", "postgres_superuser_password is shorter than 8 characters. Fix: a longer password, or remove it to have one "
         "generated."),
    ("Hunter2-line\nWq8Zr", "postgres_superuser_password contains a control character (a newline, tab or similar), "
                            "which would break the files it is written to. Fix: a password of printable characters "
                            "only."),
    ("Tab\tSecret-9931", "postgres_superuser_password contains a control character (a newline, tab or similar), "
                         "which would break the files it is written to. Fix: a password of printable characters "
                         "only."),
    ("\n", "postgres_superuser_password contains a control character (a newline, tab or similar), which would break "
           "the files it is written to. Fix: a password of printable characters only."),
    (12345678, "postgres_superuser_password must be a string (quote it in YAML)."),
    (True, "postgres_superuser_password must be a string (quote it in YAML)."),
    (None, "postgres_superuser_password must be a string (quote it in YAML)."),
    (["Qz7#kPw9x"], "postgres_superuser_password must be a string (quote it in YAML)."),
], ids=["short", "empty", "newline", "tab", "only a newline (control wins over short)", "a number", "a boolean",
        "null", "a list"])
def test_secret_problem_names_the_variable_and_the_fix(value, message):
    assert secret_problem(value, "postgres_superuser_password") == message


@pytest.mark.parametrize("value, minimum, message", [
    ("abcdefghijk", 12, "jupyterhub_cookie_secret is shorter than 12 characters. Fix: a longer password, or remove "
                        "it to have one generated."),
    ("abcdefghijkl", 12, ""),
    ("abc", 3, ""),
    ("ab", 3, "jupyterhub_cookie_secret is shorter than 3 characters. Fix: a longer password, or remove it to have one "
              "generated."),
], ids=["one short of 12", "exactly 12", "exactly 3", "one short of 3"])
def test_secret_minimum_can_be_given(value, minimum, message):
    assert secret_problem(value, "jupyterhub_cookie_secret", minimum) == message


@pytest.mark.parametrize("value", list(PASSWORDS.values()), ids=list(PASSWORDS))
def test_secret_problem_never_contains_the_secret(value):
    message = secret_problem(value, "postgres_superuser_password")
    assert message != ""
    assert value not in message


def test_collection_exposes_the_two_filters():
    filters = FilterModule().filters()
    assert filters == {"user_problems": user_problems, "secret_problem": secret_problem}
