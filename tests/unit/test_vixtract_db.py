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


INT, FLOAT, TEXT = ("bigint", False), ("double precision", False), ("text", True)


@pytest.mark.parametrize("sample, columns, expected", [
    ([[1, "a", 0.5], [2, None, 1.5]], [INT, TEXT, FLOAT], ["int8", "text", "float8"]),
    ([["1", "2024-05-01"]], [INT, ("date", False)], ["text", "text"]),
    ([[1, 2]], [("integer", False), ("smallint", False)], ["int8", "int8"]),
    # ints into a text or numeric column: psycopg writes True there as t, the fixed int8 dumper would write 1
    ([[1]], [TEXT], None),
    ([[1]], [("numeric", False)], None),
    # a float into a numeric column: a later Decimal would be rounded through float by the fixed dumper
    ([[0.5]], [("numeric", False)], None),
    ([[True]], [("boolean", False)], None),
    ([[1], ["2"]], [INT], None),
    ([[None], [None]], [TEXT], None),
    ([[2 ** 63]], [INT], None),
    ([[decimal.Decimal("1.5")]], [("numeric", False)], None),
    ([[dt.date(2024, 5, 1)]], [("date", False)], None),
    ([[1, "a"], [2]], [INT, TEXT], ["int8", "text"]),
], ids=lambda v: repr(v)[:40])
def test_fixed_dumpers_only_where_they_write_what_psycopg_would(sample, columns, expected):
    assert db._fixed_dumpers(sample, columns) == expected


def test_a_container_is_read_again_from_its_first_row_an_iterator_is_not():
    rows = [["id"], [1], [2]]
    assert list(db._Rows(rows[1:2], iter(rows[1:]), rows).again()) == [[1], [2]]
    assert db._Rows([], iter(rows[1:]), iter(rows)).again is None
    assert db._Rows([], iter(rows[1:]), (r for r in rows)).again is None


def test_values_psycopg_has_no_adapter_for_are_written_as_their_str():
    class Thing:
        def __str__(self):
            return "a thing"
    assert db._StrDumper(object).dump(Thing()) == b"a thing"


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
