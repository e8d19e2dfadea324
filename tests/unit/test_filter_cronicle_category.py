"""cronicle_category: the id of a stack user's own Cronicle category, 'vxu_' and the name with '_' written '__',
'.' written '_d' and '-' written '_h', so that two names never share a category (whose events run as the owner
it names). Every expected id is written out by hand."""
import itertools

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.vixtract.stack.plugins.filter.cronicle import FilterModule, cronicle_category

# id: (name, category id)
IDS = {
    "dot": ("anna.k", "vxu_anna_dk"),
    "underscore": ("a_b", "vxu_a__b"),
    "hyphen and dot": ("x-y.z", "vxu_x_hy_dz"),
    "letters only": ("bob", "vxu_bob"),
    "digits kept": ("user42", "vxu_user42"),
    "one letter": ("a", "vxu_a"),
    "only digits": ("2024", "vxu_2024"),
    "underscore then d": ("a_d", "vxu_a__d"),
    "trailing dot": ("a.", "vxu_a_d"),
    "two underscores": ("a__b", "vxu_a____b"),
    "underscore and dot": ("a_.b", "vxu_a___db"),
    "dot and underscore": ("a._b", "vxu_a_d__b"),
    "hyphen": ("a-b", "vxu_a_hb"),
    "underscore then h": ("a_hb", "vxu_a__hb"),
    "leading dot": (".a", "vxu__da"),
    "leading underscore": ("_a", "vxu___a"),
    "leading hyphen": ("-a", "vxu__ha"),
    "only signs": ("._-", "vxu__d___h"),
    "looks like an id already": ("vxu_anna_dk", "vxu_vxu__anna__dk"),
}

# Names whose ids a naive encoding would mix up; each must keep its own id
TRICKY = [
    ("a_d", "a."),
    ("a__b", "a_b"),
    ("a_h", "a-"),
    ("a_hb", "a-b"),
    ("a_db", "a.b"),
    ("a._b", "a_.b"),
    ("a.d", "a_dd"),
    ("a.-", "a-."),
    ("a__", "a_"),
    ("ab", "a.b"),
    ("ab", "a-b"),
    ("ab", "a_b"),
    ("a_b", "a-b"),
    ("a_b", "a.b"),
    ("a.b", "a-b"),
    ("_d", "."),
    ("x-y.z", "x.y-z"),
    ("anna.k", "anna_k"),
    ("anna.k", "annak"),
]

# id: (value, how it is shown in the message)
REFUSED = {
    "empty": ("", "''"),
    "space": ("anna k", "'anna k'"),
    "slash": ("anna/k", "'anna/k'"),
    "at sign": ("anna@example", "'anna@example'"),
    "newline": ("anna\n", "'anna\\n'"),
    "tab": ("an\tna", "'an\\tna'"),
    "non-ASCII letter": ("jürgen", "'jürgen'"),
    "non-ASCII digit": ("anna\u0663", "'anna\u0663'"),
    "colon": ("anna:k", "'anna:k'"),
    "none": (None, "None"),
    "number": (42, "42"),
    "list": (["anna"], "['anna']"),
}


@pytest.mark.parametrize("name, category", list(IDS.values()), ids=list(IDS))
def test_name_becomes_this_category_id(name, category):
    assert cronicle_category(name) == category


@pytest.mark.parametrize("first, second", TRICKY, ids=[f"{a} vs {b}" for a, b in TRICKY])
def test_tricky_pairs_of_names_get_different_ids(first, second):
    assert cronicle_category(first) != cronicle_category(second)


def test_no_two_short_names_share_an_id():
    """Every name of 1 to 3 characters from a small alphabet that holds each escape's letters."""
    names = ["".join(chars) for n in (1, 2, 3) for chars in itertools.product("ad_.-h", repeat=n)]
    ids = {}
    for name in names:
        ids.setdefault(cronicle_category(name), []).append(name)
    assert [names for names in ids.values() if len(names) > 1] == []
    assert len(ids) == 6 + 36 + 216


@pytest.mark.parametrize("name", [name for name, _unused in IDS.values()], ids=list(IDS))
def test_id_holds_only_what_cronicle_keeps_in_a_category_id(name):
    """Cronicle lower-cases a category id and drops every character that is not [A-Za-z0-9_]."""
    category = cronicle_category(name)
    assert category.startswith("vxu_")
    assert all(c in "abcdefghijklmnopqrstuvwxyz0123456789_" for c in category), category


@pytest.mark.parametrize("value, shown", list(REFUSED.values()), ids=list(REFUSED))
def test_what_cannot_be_a_stack_user_name_is_refused(value, shown):
    with pytest.raises(AnsibleFilterError) as error:
        cronicle_category(value)
    assert error.value.message == f"cronicle_category: {shown} is not a stack user name"


def test_collection_exposes_the_filter():
    assert FilterModule().filters()["cronicle_category"] is cronicle_category
