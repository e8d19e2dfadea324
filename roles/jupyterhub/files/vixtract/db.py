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
empty string in text columns.

Errors name the row (1 = the first row after the header) and the column that failed, and the value, e.g.
    LoadError: row 1042, column 'amount': invalid input syntax for type bigint: "12,5"
The load is one transaction: after an error nothing of it is in the database.
"""
from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import itertools
import re
import uuid

import psycopg
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter

__all__ = ["LoadError", "connect", "copy_text", "infer_types", "load"]

MODES = ("append", "replace", "upsert")
SAMPLE = 1000          # rows looked at to guess column types
BATCH = 5000           # rows encoded and queued for COPY at once


class LoadError(Exception):
    """A load that did not happen (nothing of it was written), with the row and column that made it fail."""

    def __init__(self, message, row=None, column=None):
        super().__init__(message)
        self.row, self.column = row, column


def connect(**kwargs):
    """A connection like every other client of the stack's database: libpq's PG* settings and ~/.pgpass."""
    return psycopg.connect(**kwargs)


# --- what COPY reads -------------------------------------------------------------------------------------------
# CSV written by Python's csv module (in C): strings quoted, None written bare and empty, so None is NULL and ''
# an empty string; numbers, dates and the like bare (less for the server to parse). Where the csv module cannot do
# that (Python < 3.12), COPY's text format, escaped value by value.

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_CSV = hasattr(csv, "QUOTE_STRINGS")


def _text(value):
    """One value in COPY's text format (None is NULL)."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(_ESCAPES)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\\\x" + bytes(value).hex()
    return str(value).translate(_ESCAPES)


def copy_text(rows):
    """The rows (without header) as one string in COPY's text format: a line per row, tab between values."""
    return "".join("\t".join(map(_text, row)) + "\n" for row in rows)


def _bytes_free(rows):
    """Rows with bytes values written as bytea's hex input ('\\x...'); the csv module would write b'...'."""
    for row in rows:
        if any(isinstance(v, (bytes, bytearray, memoryview)) for v in row):
            row = ["\\x" + bytes(v).hex() if isinstance(v, (bytes, bytearray, memoryview)) else v for v in row]
        yield row


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
    if value is None or value == "":
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


def _not_text(cur, target, header):
    """The columns of HEADER whose type is not a string type: there an empty value is NULL, as in a CSV file."""
    cur.execute("SELECT a.attname FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
                "WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped AND t.typcategory <> 'S'",
                (str(target.as_string(cur)),))
    typed = {name for (name,) in cur.fetchall()}
    return [name for name in header if name in typed]


def _copy(cur, target, header, rows, has_bytes=False):
    """COPY ROWS into TARGET in big batches; a rejected value becomes a LoadError naming its row and column."""
    columns = sql.SQL(", ").join(map(sql.Identifier, header))
    count = 0
    iterator = _bytes_free(rows) if has_bytes else iter(rows)
    try:
        if _CSV:
            typed = _not_text(cur, target, header)
            options = sql.SQL(", FORCE_NULL ({})").format(sql.SQL(", ").join(map(sql.Identifier, typed))) \
                if typed else sql.SQL("")
            statement = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv{})").format(target, columns, options)
            buffer = io.StringIO()
            writer = csv.writer(buffer, quoting=csv.QUOTE_STRINGS, lineterminator="\n")
        else:
            statement = sql.SQL("COPY {} ({}) FROM STDIN").format(target, columns)
        # The queued writer sends from a thread of its own: the next batch is encoded while the server parses this one
        with cur.copy(statement, writer=QueuedLibpqWriter(cur)) as copy:
            while True:
                batch = list(itertools.islice(iterator, BATCH))
                if not batch:
                    break
                if _CSV:
                    writer.writerows(batch)
                    copy.write(buffer.getvalue())
                    buffer.seek(0)
                    buffer.truncate()
                else:
                    copy.write(copy_text(batch))
                count += len(batch)
    except psycopg.errors.DataError as e:
        raise _located(e) from None
    except psycopg.Error as e:
        raise LoadError(f"the load failed: {e}") from None
    return count


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
    data = itertools.chain(sample, iterator)
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
            has_bytes = any(isinstance(v, (bytes, bytearray, memoryview)) for row in sample for v in row)
            if mode == "append":
                return _copy(cur, target, header, data, has_bytes)
            if mode == "replace":
                return _replace(cur, schema, table, header, data, has_bytes)
            return _upsert(cur, target, header, keys, data, has_bytes)
    finally:
        if own:
            conn.close()


def _create(cur, target, header, column_types, keys):
    columns = [sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(column_types[name])) for name in header]
    if keys:
        columns.append(sql.SQL("PRIMARY KEY ({})").format(sql.SQL(", ").join(map(sql.Identifier, keys))))
    cur.execute(sql.SQL("CREATE TABLE {} ({})").format(target, sql.SQL(", ").join(columns)))


def _replace(cur, schema, table, header, data, has_bytes):
    """The new rows in a new table (same columns, defaults, constraints and privileges), swapped in at commit."""
    staging = f"{table[:40]}_vx{uuid.uuid4().hex[:12]}"
    old, new = _ident(schema, table), _ident(schema, staging)
    cur.execute(sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(new, old))
    count = _copy(cur, new, header, data, has_bytes)
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
    grantee, _, rest = entry.partition("=")
    flags = rest.split("/", 1)[0]
    return grantee.strip('"'), [_PRIVILEGES[f] for f in flags if f in _PRIVILEGES]


def _upsert(cur, target, header, keys, data, has_bytes):
    staging = sql.Identifier(f"vx_upsert_{uuid.uuid4().hex[:12]}")
    cur.execute(sql.SQL("CREATE TEMPORARY TABLE {} (LIKE {} INCLUDING DEFAULTS) ON COMMIT DROP").format(staging, target))
    count = _copy(cur, staging, header, data, has_bytes)
    columns = sql.SQL(", ").join(map(sql.Identifier, header))
    updates = [name for name in header if name not in keys]
    action = sql.SQL("DO UPDATE SET {}").format(sql.SQL(", ").join(
        sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(n), sql.Identifier(n)) for n in updates)) \
        if updates else sql.SQL("DO NOTHING")
    cur.execute(sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} ON CONFLICT ({}) {}").format(
        target, columns, columns, staging, sql.SQL(", ").join(map(sql.Identifier, keys)), action))
    return count
