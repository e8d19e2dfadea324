"""vixtract.db: load rows into the stack's PostgreSQL through COPY, from a notebook or a scheduled job.

    import petl as etl
    from vixtract import db

    sales = etl.fromcsv("sales.csv")
    db.load(sales, "sales", create=True)                  # a new table, column types guessed from the data
    db.load(sales, "sales")                               # append (the default mode)
    db.load(sales, "sales", mode="replace")               # new contents, swapped in by one transaction
    db.load(sales, "sales", mode="upsert", key="id")      # insert new ids, update the others

`rows` is a petl table, or any iterable whose first item is the header (column names) and the rest rows of
values in that order. The connection is made like every other client of the stack: psycopg with libpq's PG*
settings and ~/.pgpass (a notebook never holds a password), unless you pass `connection=`.

Modes:
  append    COPY the rows into the table.
  replace   COPY into a new table, then, in the same transaction, drop the old table and rename the new one into
            its place (with the old table's privileges copied): readers see the old rows or the new, never none.
  upsert    COPY into a temporary table, then INSERT ... ON CONFLICT (key) DO UPDATE (key: a column or a list;
            the table needs a unique index or primary key on it, which create=True makes).

create=True creates the table when it does not exist, with the header's columns (quoted as written: odd names
work) and types guessed from the values (see `infer_types`), or `types={"column": "numeric(12,2)", ...}`.

None is NULL; an empty string is NULL in columns whose type is not a string type (as in a CSV file) and an
empty string in text columns. Values are written by psycopg's adapters: numbers, strings, dates and times,
Decimal, booleans, bytes (bytea), lists (arrays); a dict is written as JSON, anything else as its str().

Speed: the rows are written in COPY's text format by psycopg's C adapters. When the first rows show one type
per column (str; int into an integer column; float into a float column), each column gets a fixed adapter. A petl
table or a list whose later values differ from those is loaded again from its first row, inside the same
transaction, with an adapter chosen per value (an iterator or generator gets that from the start); pass a slow
or changing source as a list, db.load(list(table), ...), so that it is not read twice.

Errors name the row (1 = the first row after the header) and the column that failed, and the value, e.g.
    LoadError: row 1042, column 'amount': invalid input syntax for type bigint: "12,5"
The load is one transaction: after an error nothing of it is in the database.
"""
from __future__ import annotations

import datetime as dt
import decimal
import itertools
import re
import uuid

import psycopg
from psycopg import sql
from psycopg.adapt import Dumper, PyFormat, Transformer
from psycopg.types.json import JsonDumper

__all__ = ["LoadError", "connect", "infer_types", "load"]

MODES = ("append", "replace", "upsert")
SAMPLE = 1000          # rows looked at to guess column types


class LoadError(Exception):
    """A load that did not happen (nothing of it was written), with the row and column that made it fail."""

    def __init__(self, message, row=None, column=None):
        super().__init__(message)
        self.row, self.column = row, column


def connect(**kwargs):
    """A connection like every other client of the stack's database: libpq's PG* settings and ~/.pgpass."""
    return psycopg.connect(**kwargs)


# --- what COPY reads -------------------------------------------------------------------------------------------
# psycopg writes each row in COPY's text format with its C adapters (None as NULL, bytes as bytea, dates, Decimal,
# booleans, lists as arrays); a dict is written as JSON, anything else it has no adapter for as str(value).


class _StrDumper(Dumper):
    """The fallback for values psycopg has no adapter for: their str()."""

    def dump(self, obj):
        return str(obj).encode()


# --- types ------------------------------------------------------------------------------------------------------

_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?")
_TIMESTAMPTZ = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)")
_BOOL = {"true", "false", "t", "f", "yes", "no"}
# From the narrowest to the widest: a column gets the first type all its values fit
_ORDER = ["boolean", "bigint", "double precision", "date", "timestamp", "timestamptz", "text"]


def _kind(value):
    """The narrowest type VALUE fits, or None for a NULL."""
    if value is None or (isinstance(value, str) and not value):
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "bigint" if -2 ** 63 <= value < 2 ** 63 else "numeric"
    if isinstance(value, float):
        return "double precision"
    if isinstance(value, decimal.Decimal):
        return "numeric"
    if isinstance(value, dt.datetime):
        return "timestamptz" if value.tzinfo else "timestamp"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "bytea"
    text = str(value).strip()
    if text.lower() in _BOOL:
        return "boolean"
    if _INT.fullmatch(text):
        return "bigint" if -2 ** 63 <= int(text) < 2 ** 63 else "numeric"
    if _FLOAT.fullmatch(text):
        return "double precision"
    if _DATE.fullmatch(text):
        return "date"
    if _TIMESTAMPTZ.fullmatch(text):
        return "timestamptz"
    if _TIMESTAMP.fullmatch(text):
        return "timestamp"
    return "text"


def _wider(a, b):
    if a is None or a == b:
        return b
    if b is None:
        return a
    numbers = {"bigint", "double precision", "numeric"}
    if a in numbers and b in numbers:
        return "numeric" if "numeric" in (a, b) else "double precision"
    times = {"timestamp", "timestamptz"}
    if a in times and b in times:
        return "timestamptz"
    if {a, b} == {"date", "timestamp"}:
        return "timestamp"
    return "text"


def infer_types(header, rows):
    """PostgreSQL types for the columns, guessed from ROWS: the narrowest type every value of a column fits
    (boolean, bigint, double precision or numeric, date, timestamp, timestamptz), else text; text when a column
    is all NULL. Strings count by what they look like ('42' is a bigint, '2024-05-01' a date)."""
    kinds = [None] * len(header)
    for row in rows:
        for i, value in enumerate(row):
            if i < len(kinds):
                kinds[i] = _wider(kinds[i], _kind(value))
    return {name: kind or "text" for name, kind in zip(header, kinds)}


# --- loading ----------------------------------------------------------------------------------------------------

def _split_name(table, schema):
    if schema is None and "." in table:
        schema, table = table.split(".", 1)
    return schema, table


def _ident(schema, table):
    return sql.Identifier(schema, table) if schema else sql.Identifier(table)


def _exists(cur, schema, table):
    cur.execute("SELECT to_regclass(%s)", (str(_ident(schema, table).as_string(cur)),))
    return cur.fetchone()[0] is not None


def _column_types(cur, target, header):
    """For each column of HEADER: (its type, whether it is a string type), from the table's definition."""
    cur.execute("SELECT a.attname, format_type(a.atttypid, a.atttypmod), t.typcategory = 'S' FROM pg_attribute a "
                "JOIN pg_type t ON t.oid = a.atttypid "
                "WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped",
                (str(target.as_string(cur)),))
    found = {name: (kind, string) for name, kind, string in cur.fetchall()}
    return [found.get(name, ("text", True)) for name in header]


_FLOATS = {"double precision", "real"}
_INTEGERS = {"bigint", "integer", "smallint"}


def _fixed_dumpers(sample, columns):
    """psycopg's type for each column when the sample's values of every column are of one type that a fixed C
    dumper writes as psycopg would anyway (str; int into an integer column, float into a float one), else None.
    A fixed dumper saves psycopg's choice per value (a third of a load's time); a later value of another type makes
    it fail, and the load runs again with the choice per value (_copy)."""
    types = []
    for i, (kind, _unused) in enumerate(columns):
        values = [row[i] for row in sample if len(row) > i and row[i] is not None]
        seen = set(map(type, values))
        if seen == {int} and kind in _INTEGERS and all(-2 ** 63 <= v < 2 ** 63 for v in values):
            types.append("int8")
        elif seen == {str}:
            types.append("text")
        elif seen == {float} and kind in _FLOATS:
            types.append("float8")
        else:
            return None
    return types


class _Mismatch(Exception):
    """A value of another type than the sample's in a column written with a fixed dumper."""


def _copy(cur, target, header, rows):
    """COPY ROWS (_Rows) into TARGET; a rejected value becomes a LoadError naming its row and column.

    When the sample allows fixed dumpers and the rows can be read again (a petl table, a list), the COPY runs
    with them under a savepoint; should a later value not fit, it runs again from the first row with psycopg
    choosing a dumper per value (one-shot iterators get that from the start)."""
    columns = _column_types(cur, target, header)
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(target, sql.SQL(", ").join(map(sql.Identifier, header)))
    typed = {i for i, (_unused, string) in enumerate(columns) if not string}
    cur.adapters.register_dumper(object, _StrDumper)
    cur.adapters.register_dumper(dict, JsonDumper)
    fixed = _fixed_dumpers(rows.sample, columns) if rows.again else None
    if fixed:
        try:
            with cur.connection.transaction():
                return _write(cur, statement, header, rows.data, typed, fixed)
        except _Mismatch:
            return _write(cur, statement, header, rows.again(), typed, None)
    return _write(cur, statement, header, rows.data, typed, None)


def _write(cur, statement, header, rows, typed, fixed):
    count, row = 0, ()
    try:
        with cur.copy(statement) as copy:
            if fixed:
                copy.set_types(fixed)
            write = copy.write_row
            for count, row in enumerate(rows, 1):
                if typed:  # '' is NULL in a column whose type is not a string type, as in a CSV file
                    try:
                        empty = "" in row
                    except Exception:  # noqa: BLE001 - a value whose == cannot answer (pandas.NA): look at each
                        empty = True
                    if empty:
                        row = [None if i in typed and isinstance(v, str) and not v else v for i, v in enumerate(row)]
                try:
                    write(row)
                except (TypeError, ValueError, OverflowError, psycopg.DataError, psycopg.ProgrammingError):
                    if fixed:
                        raise _Mismatch() from None
                    raise
    except psycopg.Error as e:
        if e.sqlstate is None:  # refused before it reached the server: a value psycopg cannot write
            column = _unwritable(cur, header, row)
            where = f"row {count}, column {column!r}" if column else f"row {count}"
            raise LoadError(f"{where}: {e}", row=count, column=column) from None
        if isinstance(e, psycopg.errors.DataError):
            raise _located(e) from None
        raise LoadError(f"the load failed: {e}") from None
    return count


def _unwritable(cur, header, row):
    """The column of ROW whose value psycopg cannot write, if one is."""
    transformer = Transformer(cur)
    for name, value in zip(header, row):
        try:
            if value is not None:
                transformer.get_dumper(value, PyFormat.TEXT).dump(value)
        except Exception:  # noqa: BLE001 - whatever stops the value is what the message names
            return name
    return None


def _located(error):
    """PostgreSQL's 'COPY t, line N, column c: ...' as a LoadError naming the row and the column."""
    where = (error.diag.context or "")
    match = re.search(r"line (\d+)(?:, column ([^:]+))?", where)
    message = error.diag.message_primary or str(error)
    if not match:
        return LoadError(f"the load failed: {message}")
    row, column = int(match.group(1)), match.group(2)
    if column:
        return LoadError(f"row {row}, column {column!r}: {message}", row=row, column=column)
    return LoadError(f"row {row}: {message}", row=row)


class _Rows:
    """What load() COPYs: the first rows (to guess types from), all rows once, and, when SOURCE can be read again
    (a container such as a petl table or a list, not an iterator), a way to read them again."""

    def __init__(self, sample, data, source):
        self.sample, self.data = sample, data
        self.again = None if iter(source) is source else (lambda: itertools.islice(iter(source), 1, None))


def load(rows, table, mode="append", key=None, create=False, schema=None, types=None, connection=None):
    """Load ROWS (a petl table, or an iterable with the header first) into TABLE; returns the number of rows.

    See the module's documentation for the modes, create=True and the errors."""
    if mode not in MODES:
        raise LoadError(f"mode {mode!r} is not one of {', '.join(MODES)}")
    keys = [key] if isinstance(key, str) else list(key or [])
    if mode == "upsert" and not keys:
        raise LoadError("mode 'upsert' needs key=: the column(s) that identify a row")
    iterator = iter(rows)
    try:
        header = [str(name) for name in next(iterator)]
    except StopIteration:
        raise LoadError("no header: the rows must start with the column names") from None
    if len(set(header)) != len(header):
        raise LoadError(f"the header names a column twice: {header}")
    missing = [k for k in keys if k not in header]
    if missing:
        raise LoadError(f"key {missing} is not in the header {header}")
    schema, table = _split_name(table, schema)

    sample = list(itertools.islice(iterator, SAMPLE))
    data = _Rows(sample, itertools.chain(sample, iterator), rows)
    own = connection is None
    conn = connection or connect()
    try:
        with conn.transaction(), conn.cursor() as cur:
            target = _ident(schema, table)
            if not _exists(cur, schema, table):
                if not create:
                    raise LoadError(f"table {table!r} does not exist: load it with create=True, or create it first")
                column_types = dict(infer_types(header, sample), **(types or {}))
                _create(cur, target, header, column_types, keys)
                mode = "append"
            if mode == "append":
                return _copy(cur, target, header, data)
            if mode == "replace":
                return _replace(cur, schema, table, header, data)
            return _upsert(cur, target, header, keys, data)
    finally:
        if own:
            conn.close()


def _create(cur, target, header, column_types, keys):
    columns = [sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(column_types[name])) for name in header]
    if keys:
        columns.append(sql.SQL("PRIMARY KEY ({})").format(sql.SQL(", ").join(map(sql.Identifier, keys))))
    cur.execute(sql.SQL("CREATE TABLE {} ({})").format(target, sql.SQL(", ").join(columns)))


def _replace(cur, schema, table, header, data):
    """The new rows in a new table (same columns, defaults, constraints and privileges), swapped in at commit."""
    staging = f"{table[:40]}_vx{uuid.uuid4().hex[:12]}"
    old, new = _ident(schema, table), _ident(schema, staging)
    cur.execute(sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(new, old))
    count = _copy(cur, new, header, data)
    cur.execute("SELECT COALESCE(relacl::text[], '{}') FROM pg_class WHERE oid = to_regclass(%s)",
                (str(old.as_string(cur)),))
    acl = cur.fetchone()[0]
    for entry in acl:
        grantee, privileges = _acl_entry(entry)
        if grantee is not None and privileges:
            cur.execute(sql.SQL("GRANT {} ON {} TO {}").format(
                sql.SQL(", ").join(map(sql.SQL, privileges)), new,
                sql.SQL("PUBLIC") if grantee == "" else sql.Identifier(grantee)))
    cur.execute(sql.SQL("DROP TABLE {}").format(old))
    cur.execute(sql.SQL("ALTER TABLE {} RENAME TO {}").format(new, sql.Identifier(table)))
    return count


_PRIVILEGES = {"a": "INSERT", "r": "SELECT", "w": "UPDATE", "d": "DELETE", "D": "TRUNCATE", "x": "REFERENCES",
               "t": "TRIGGER"}


def _acl_entry(entry):
    """'bi_reader=r/etl_writer' -> ('bi_reader', ['SELECT'])."""
    grantee, _sep, rest = entry.partition("=")
    flags = rest.split("/", 1)[0]
    return grantee.strip('"'), [_PRIVILEGES[f] for f in flags if f in _PRIVILEGES]


def _upsert(cur, target, header, keys, data):
    staging = sql.Identifier(f"vx_upsert_{uuid.uuid4().hex[:12]}")
    cur.execute(sql.SQL("CREATE TEMPORARY TABLE {} (LIKE {} INCLUDING DEFAULTS) ON COMMIT DROP").format(staging, target))
    count = _copy(cur, staging, header, data)
    columns = sql.SQL(", ").join(map(sql.Identifier, header))
    updates = [name for name in header if name not in keys]
    action = sql.SQL("DO UPDATE SET {}").format(sql.SQL(", ").join(
        sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(n), sql.Identifier(n)) for n in updates)) \
        if updates else sql.SQL("DO NOTHING")
    cur.execute(sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} ON CONFLICT ({}) {}").format(
        target, columns, columns, staging, sql.SQL(", ").join(map(sql.Identifier, keys)), action))
    return count
