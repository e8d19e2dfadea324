"""vixtract.db (the load helper in the notebooks' environment): what can be checked without a database - type
guessing, COPY's text format, the errors that name a row and a column. Its loads against the real PostgreSQL are
molecule/default/tests/test_load_helper.py."""
import datetime as dt
import decimal
import sys
from pathlib import Path

import pytest

# imported from the role's files: no __pycache__ there, it would land in the image's build context
sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "roles/jupyterhub/files"))
from vixtract import db  # noqa: E402


@pytest.mark.parametrize("values, expected", [
    (["1", "22", "-3"], "bigint"),
    ([1, 2, None], "bigint"),
    (["1.5", "2", "1e3"], "double precision"),
    ([1, 2.5], "double precision"),
    ([decimal.Decimal("1.10"), 3], "numeric"),
    ([10 ** 30], "numeric"),
    (["true", "False", "t"], "boolean"),
    ([True, None], "boolean"),
    (["2024-05-01", "1999-12-31"], "date"),
    (["2024-05-01", "2024-05-01 10:00"], "timestamp"),
    (["2024-05-01T10:00:00+03:00"], "timestamptz"),
    ([dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)], "timestamptz"),
    ([dt.date(2024, 5, 1)], "date"),
    (["1", "x"], "text"),
    (["2024-05-01", "5"], "text"),
    ([None, "", None], "text"),
    ([b"\x00\x01"], "bytea"),
], ids=lambda v: repr(v)[:40])
def test_a_column_gets_the_narrowest_type_every_value_fits(values, expected):
    assert db.infer_types(["c"], [[v] for v in values]) == {"c": expected}


def test_types_are_guessed_per_column():
    rows = [["1", "north", "2024-05-01"], ["2", "south", None]]
    assert db.infer_types(["id", "region", "day"], rows) == {"id": "bigint", "region": "text", "day": "date"}


def test_copy_text_escapes_what_copy_would_read_otherwise_and_writes_null_as_backslash_n():
    rows = [["a\tb", "line\nbreak", "back\\slash", None, "", True, 3, 1.5],
            [dt.date(2024, 5, 1), dt.datetime(2024, 5, 1, 10, 30), decimal.Decimal("2.50"), b"\x01\xff", "cr\r", False,
             -7, "x"]]
    assert db.copy_text(rows) == (
        "a\\tb\tline\\nbreak\tback\\\\slash\t\\N\t\tt\t3\t1.5\n"
        "2024-05-01\t2024-05-01 10:30:00\t2.50\t\\\\x01ff\tcr\\r\tf\t-7\tx\n")


class FakeDiag:
    def __init__(self, context, message):
        self.context, self.message_primary = context, message


class FakeError(Exception):
    def __init__(self, context, message):
        super().__init__(message)
        self.diag = FakeDiag(context, message)


def test_postgresqls_copy_error_becomes_one_naming_the_row_and_the_column():
    error = db._located(FakeError('COPY sales, line 1042, column amount: "12,5"',
                                  'invalid input syntax for type bigint: "12,5"'))
    assert str(error) == 'row 1042, column \'amount\': invalid input syntax for type bigint: "12,5"'
    assert (error.row, error.column) == (1042, "amount")


def test_a_row_with_too_many_values_is_named_by_its_row():
    error = db._located(FakeError("COPY sales, line 7: \"1,2,3\"", "extra data after last expected column"))
    assert str(error) == "row 7: extra data after last expected column"
    assert (error.row, error.column) == (7, None)


@pytest.mark.parametrize("kwargs, message", [
    ({"mode": "merge"}, "mode 'merge' is not one of append, replace, upsert"),
    ({"mode": "upsert"}, "mode 'upsert' needs key=: the column(s) that identify a row"),
    ({"mode": "upsert", "key": "nope"}, "key ['nope'] is not in the header ['id', 'v']"),
], ids=["unknown mode", "upsert without key", "key not in header"])
def test_a_load_that_cannot_work_is_refused_before_connecting(kwargs, message):
    with pytest.raises(db.LoadError) as caught:
        db.load([["id", "v"], [1, 2]], "t", connection=object(), **kwargs)
    assert str(caught.value) == message


def test_rows_without_a_header_or_with_a_column_twice_are_refused():
    with pytest.raises(db.LoadError, match="no header"):
        db.load([], "t", connection=object())
    with pytest.raises(db.LoadError, match=r"the header names a column twice: \['a', 'a'\]"):
        db.load([["a", "a"]], "t", connection=object())
