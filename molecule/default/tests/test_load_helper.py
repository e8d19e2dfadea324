"""vixtract.db, the load helper of the notebooks' environment, against the stack's real PostgreSQL: each mode,
type guessing, NULLs, odd column names, a failing row, re-runs; as anna.k in the Hub container, connecting the
way her notebooks do (PG* settings and ~/.pgpass), and bi_reader reading what she loaded."""
import json
import uuid

import pytest

from vixtest.hub import hub, put_file
from vixtest.pg import psql, superuser
from vixtest.stack import credential

ANALYST = "anna.k"
ENV = {"PGHOST": "vixtract-postgres", "PGPORT": 5432, "PGDATABASE": "etl", "PGUSER": ANALYST}


def in_notebook_env(host, code):
    """Runs CODE as the analyst with her environment; CODE prints one JSON document, which is returned."""
    name = f"/tmp/load-{uuid.uuid4().hex[:8]}.py"
    put_file(host, name, "import json\nfrom vixtract import db\n" + code, user=ANALYST)
    out = hub(host, f"python {name}; rm -f {name}", user=ANALYST, env=ENV)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture
def table():
    name = f"load_{uuid.uuid4().hex[:8]}"
    yield name


def rows_of(host, table, order="1"):
    return superuser(host, f'SELECT * FROM public."{table}" ORDER BY {order}').stdout.strip().splitlines()


def test_create_guesses_types_and_keeps_nulls_and_odd_column_names(host, table):
    got = in_notebook_env(host, f"""
import petl as etl
rows = [["id", "Amount (€)", "select", "with space", "day", "ok", "note"],
        ["1", "12.5", "a", "x\\ty", "2024-05-01", "true", None],
        ["2", "", "b", None, "2024-05-02", "false", "quote \\" and \\\\ backslash"]]
print(json.dumps(db.load(etl.wrap(rows), "{table}", create=True)))
""")
    assert got == 2
    types = superuser(host, "SELECT column_name, data_type FROM information_schema.columns "
                            f"WHERE table_name = '{table}' ORDER BY ordinal_position").stdout.strip().split("\n")
    assert types == ["id|bigint", "Amount (€)|double precision", "select|text", "with space|text", "day|date",
                     "ok|boolean", "note|text"]
    assert rows_of(host, table) == ["1|12.5|a|x\ty|2024-05-01|t|", '2||b||2024-05-02|f|quote " and \\ backslash']
    nulls = superuser(host, f'SELECT count(*) FILTER (WHERE "Amount (€)" IS NULL), count(*) FILTER (WHERE note IS NULL) '
                            f'FROM public."{table}"').stdout.strip()
    assert nulls == "1|1", "'' and None are NULL in typed columns, None in text ones"


def test_append_adds_and_a_rerun_adds_again(host, table):
    code = f"""print(json.dumps(db.load([["id", "v"], [1, "a"], [2, "b"]], "{table}", create=True)))"""
    assert in_notebook_env(host, code) == 2
    assert in_notebook_env(host, code.replace(", create=True", "")) == 2
    assert superuser(host, f"SELECT count(*) FROM public.{table}").stdout.strip() == "4"


def test_replace_swaps_the_contents_in_one_transaction_and_keeps_what_readers_may_read(host, table):
    """Readers see the old rows, then (after waiting for the swap's commit) all the new ones: never an empty
    table, never part of the load; bi_reader may read the new table."""
    in_notebook_env(host, f"""print(json.dumps(db.load([["id", "v"], [1, "old"], [2, "old"]], "{table}", create=True)))""")
    got = in_notebook_env(host, f"""
import psycopg
def read():
    with psycopg.connect() as reader:
        reader.execute("SET lock_timeout = '2s'")
        try:
            return reader.execute("SELECT v, count(*) FROM public.{table} GROUP BY v").fetchall()
        except psycopg.errors.LockNotAvailable:
            return "waits"
writer = db.connect()
writer.execute("SELECT 1")  # a transaction of the caller's: the load's swap is committed with it, not before
db.load([["id", "v"], [1, "new"], [2, "new"], [3, "new"]], "{table}", mode="replace", connection=writer)
during = read()
writer.commit()
print(json.dumps({{"during": during, "after": read()}}))
""")
    assert got == {"during": "waits", "after": [["new", 3]]}, "a reader waits for the swap, then sees all new rows"
    again = in_notebook_env(host, f"""print(json.dumps(db.load([["id", "v"], [1, "new"], [2, "new"], [3, "new"]],
                                                                 "{table}", mode="replace")))""")
    assert again == 3 and superuser(host, f"SELECT count(*) FROM public.{table}").stdout.strip() == "3"
    reader = psql(host, "bi_reader", credential("postgres/bi_reader"), f"SELECT count(*) FROM public.{table}")
    assert reader.stdout.strip() == "3", reader.stderr


def test_upsert_updates_by_key_and_inserts_the_rest_twice_the_same(host, table):
    in_notebook_env(host, f"""print(json.dumps(db.load([["id", "v"], [1, "a"], [2, "b"]], "{table}", create=True,
                                                       key="id")))""")
    code = f"""print(json.dumps(db.load([["id", "v"], [2, "B"], [3, "c"]], "{table}", mode="upsert", key="id")))"""
    assert in_notebook_env(host, code) == 2
    assert in_notebook_env(host, code) == 2
    assert rows_of(host, table) == ["1|a", "2|B", "3|c"]


def test_a_failing_row_names_its_row_and_column_and_nothing_of_the_load_stays(host, table):
    in_notebook_env(host, f"""print(json.dumps(db.load([["id", "amount"], [1, 10]], "{table}", create=True)))""")
    got = in_notebook_env(host, f"""
try:
    db.load([["id", "amount"], [2, 20], [3, "12,5"], [4, 40]], "{table}")
    print(json.dumps("loaded"))
except db.LoadError as e:
    print(json.dumps([str(e), e.row, e.column]))
""")
    assert got[1:] == [2, "amount"] and got[0].startswith("row 2, column 'amount': invalid input syntax for type bigint"), got
    assert rows_of(host, table) == ["1|10"], "the load was all or nothing"


def test_values_are_written_as_psycopg_writes_them_and_an_unwritable_one_names_its_row_and_column(host, table):
    got = in_notebook_env(host, f"""
import datetime as dt, decimal
class Thing:
    def __str__(self):
        return "a thing"
rows = [["id", "raw", "doc", "tags", "amount", "at", "other"],
        [1, b"\\x00\\xff", {{"k": [1, "x"]}}, [1, 2], decimal.Decimal("2.50"), dt.datetime(2024, 5, 1, 10, 30), Thing()]]
loaded = db.load(rows, "{table}", create=True, types={{"tags": "int[]", "doc": "jsonb"}})
try:
    db.load([["id", "raw", "doc", "tags", "amount", "at", "other"], [2, None, None, None, None, None, "nul\\x00"]],
            "{table}")
    refused = None
except db.LoadError as e:
    refused = [str(e), e.row, e.column]
print(json.dumps([loaded, refused]))
""")
    assert got[0] == 1
    assert got[1][1:] == [1, "other"] and got[1][0].startswith("row 1, column 'other': "), got
    assert rows_of(host, table) == ['1|\\x00ff|{"k": [1, "x"]}|{1,2}|2.50|2024-05-01 10:30:00|a thing']


def test_rows_whose_types_change_after_the_first_ones_load_as_the_same_rows_from_an_iterator(host, table):
    """A list (read again when a later value does not fit the first rows' types) and a generator of the same
    rows give the same table: ints, then a string, in an integer column; floats, then a Decimal and an int, in a
    double precision column; strings, then an int and a boolean, in a text column; '' as NULL in typed columns."""
    got = in_notebook_env(host, f"""
import decimal, psycopg
def rows():
    yield ["i", "f", "s"]
    for k in range(1500):
        yield [k, k / 4, f"s{{k}}"]
    yield ["7", decimal.Decimal("0.1000000000000000055511151231257827"), 5]
    yield [8, 3, True]
    yield ["", "", ""]
with psycopg.connect() as conn:
    for name in ("{table}_list", "{table}_iter"):
        conn.execute(f"CREATE TABLE {{name}} (i bigint, f double precision, s text)")
    conn.commit()
    counts = [db.load(list(rows()), "{table}_list", connection=conn), db.load(rows(), "{table}_iter", connection=conn)]
    conn.commit()
    differ = conn.execute("SELECT count(*) FROM ((TABLE {table}_list EXCEPT ALL TABLE {table}_iter) UNION ALL "
                          "(TABLE {table}_iter EXCEPT ALL TABLE {table}_list)) d").fetchone()[0]
print(json.dumps([counts, differ]))
""")
    assert got == [[1503, 1503], 0], got
    tail = superuser(host, f"SELECT i, f, s FROM public.{table}_list WHERE s NOT LIKE 's%' ORDER BY i")
    assert tail.stdout.strip().splitlines() == ["7|0.1|5", "8|3|t", "||"], tail.stdout
