"""Columns read through JSON (graph.sqlite_tables) give the frame the row way gives."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pandas as pd
import pytest

from graph import sqlite_tables
from graph.sqlite_tables import Source, read_columns, read_property_table

COLUMNS = ["key", "n", "empty", "text"]
#: the rows of t in the order they were written
T = Source("t", "1", (), ("rowid",))

#: registration text is untrusted: newlines, quotes, control characters, Chinese,
#: something that looks like JSON and something that looks like a date
ROWS = [
    ("91445202MA4UQ1X1X", 12, None, "2020-01-01"),
    ("91445202MA4UQ2X2X", None, None, None),
    ('行\n"引号"\x1f\\', 3, None, '{"a": [1, 2]}'),
    ("揭阳市榕城区", 4, None, "not a date"),
    ("x5", 0, None, "2021-02-03 04:05:06"),
]


def _database(table: str, insert: str, rows: list[tuple[object, ...]]
              ) -> Iterator[sqlite3.Connection]:
    c = sqlite3.connect(":memory:", check_same_thread=False)   # as the store opens it
    c.execute(f"CREATE TABLE {table}")
    c.executemany(insert, rows)
    yield c
    c.close()


@pytest.fixture
def conn() -> Iterator[sqlite3.Connection]:
    yield from _database("t (key TEXT, n, empty, text)", "INSERT INTO t VALUES (?, ?, ?, ?)",
                         ROWS)


def _statements(conn: sqlite3.Connection) -> list[str]:
    """The statements ``conn`` runs from now on."""
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    return seen


def _went_the_row_way(statements: list[str]) -> bool:
    return any("json_object" not in s for s in statements)


def _row_way(conn: sqlite3.Connection, where: str = "") -> pd.DataFrame:
    return pd.DataFrame(conn.execute(f"SELECT key, n, empty, text FROM t {where} ORDER BY rowid")
                        .fetchall(), columns=COLUMNS)


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert a.dtypes.to_dict() == b.dtypes.to_dict()
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize("block_rows", [1, 2, 1000])
def test_values_types_and_order_match_the_row_way_across_blocks(
        conn: sqlite3.Connection, block_rows: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # one row per block: a date-like text first read as a timestamp is read again as
    # text, and a column null in the early blocks takes the type of a later one
    monkeypatch.setattr(sqlite_tables, "BLOCK_ROWS", block_rows)
    statements = _statements(conn)
    frame = read_columns(conn, ["key", "n", "empty", "text"], T, COLUMNS)
    assert not _went_the_row_way(statements)
    _same(frame, _row_way(conn))
    assert frame.loc[2, "key"] == '行\n"引号"\x1f\\'
    assert frame.loc[0, "text"] == "2020-01-01"


@pytest.mark.parametrize("block_rows", [1, 2, 4, 1000])
def test_each_block_is_one_statement_and_starts_after_the_last_key_of_the_one_before(
        conn: sqlite3.Connection, block_rows: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # the key holds a newline, quotes and a control character: the block's last row
    # (which the next block starts after) is found in the JSON SQLite wrote
    monkeypatch.setattr(sqlite_tables, "BLOCK_ROWS", block_rows)
    by_key = Source("t", "n IS NOT NULL OR key LIKE ?", ("x%",), ("key",))
    statements = _statements(conn)
    frame = read_columns(conn, ["key", "n"], by_key, ["key", "n"])
    asked = len(statements)
    rows = conn.execute("SELECT key, n FROM t WHERE n IS NOT NULL ORDER BY key").fetchall()
    _same(frame, pd.DataFrame(rows, columns=["key", "n"]))
    assert asked == len(rows) // block_rows + 1   # after a full last block it asks once more
    assert frame["key"].tolist()[-1] == '行\n"引号"\x1f\\'


def test_blocks_follow_an_order_of_several_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_tables, "BLOCK_ROWS", 2)
    rows = [("Member", "m1", "PartyOrganization", "p2"), ("Member", "m1", "Committee", "c1"),
            ("Member", "m2", "PartyOrganization", "p1"), ("Instructor", "m1", "Committee", "c1"),
            ("Member", "m1", "PartyOrganization", "p1")]
    for conn in _database("e (sl TEXT, sk TEXT, dl TEXT, dk TEXT, PRIMARY KEY (sl, sk, dl, dk))",
                          "INSERT INTO e VALUES (?, ?, ?, ?)", rows):
        frame = read_columns(conn, ["sl", "sk", "dl", "dk"],
                             Source("e", "1", (), ("sl", "sk", "dl", "dk")), list("abcd"))
    assert [tuple(r) for r in frame.itertuples(index=False)] == sorted(rows)


def test_json_paths_as_parameters(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE j (k TEXT, props TEXT)")
    conn.executemany("INSERT INTO j VALUES (?, ?)", [
        ("a", '{"x": [1, 2], "raw": {"机构类别": "律师事务所"}, "b": true}'),
        ("b", '{"x": null, "b": false}')])
    frame = read_columns(conn, ["k", *["json_extract(props, ?)"] * 3],
                         Source("j", "k != ?", ("z",), ("k",)), ["k", "x", "category", "b"],
                         ("$.x", '$."raw"."机构类别"', "$.b"))
    rows = conn.execute("SELECT k, json_extract(props, ?), json_extract(props, ?),"
                        " json_extract(props, ?) FROM j", ("$.x", '$."raw"."机构类别"', "$.b"))
    _same(frame, pd.DataFrame(rows.fetchall(), columns=["k", "x", "category", "b"]))
    # an array stays its JSON text, a boolean is an integer: what json_extract returns
    assert frame.loc[0].tolist() == ["a", "[1,2]", "律师事务所", 1]
    assert frame.loc[1, "b"] == 0 and frame.loc[1, ["x", "category"]].isna().all()


def test_a_real_number_goes_the_row_way_and_keeps_every_digit(conn: sqlite3.Connection) -> None:
    conn.execute("INSERT INTO t VALUES ('r', 0.30000000000000004, NULL, 'x')")
    statements = _statements(conn)
    frame = read_columns(conn, ["key", "n", "empty", "text"], T, COLUMNS)
    assert _went_the_row_way(statements)
    _same(frame, _row_way(conn))
    assert frame["n"].iloc[-1] == 0.30000000000000004


def test_a_column_of_numbers_and_text_goes_the_row_way(
        conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    conn.execute("INSERT INTO t VALUES ('s', 'seven', NULL, 'x')")
    for block_rows in (1, 1000):   # the clash inside one block, and between blocks
        monkeypatch.setattr(sqlite_tables, "BLOCK_ROWS", block_rows)
        frame = read_columns(conn, ["key", "n", "empty", "text"], T, COLUMNS)
        _same(frame, _row_way(conn))
        assert frame["n"].tolist()[-2:] == [0, "seven"]


def test_no_rows_give_the_named_empty_frame(conn: sqlite3.Connection) -> None:
    frame = read_columns(conn, ["key", "n", "empty", "text"], Source("t", "0", (), ("rowid",)),
                         COLUMNS)
    _same(frame, _row_way(conn, "WHERE 0"))
    assert list(frame.columns) == COLUMNS


# --- properties read from the stored JSON (read_property_table) ---------------------

PROPS = ["name", "employees", "is_association", "founded_on", "raw.机构类别", "park"]

#: stored property JSON as the stores write it: text a registration export may hold,
#: booleans, a nested property, a date, properties missing or null in some rows
STORED = [
    ("51445202A", ('{"employees":12,"founded_on":"2001-06-27","is_association":true,'
                  '"name":"揭阳市\\n\\"物流\\"商会\\u001f\\\\","park":null,'
                  '"raw":{"机构类别":"社会团体","x":1}}')),
    ("91445202B", ('{"employees":null,"is_association":false,"name":"{\\"a\\": [1]}",'
                  '"raw":{}}')),
    ("91445202C", '{"name":"2020-01-01"}'),
    ("91445202D", ('{"employees":0,"is_association":false,"name":"甲","park":"揭阳产业园",'
                  '"raw":{"机构类别":"律师事务所"}}')),
]


@pytest.fixture
def stored() -> Iterator[sqlite3.Connection]:
    yield from _database("nodes (key TEXT PRIMARY KEY, active INTEGER, props TEXT)",
                         "INSERT INTO nodes VALUES (?, 1, ?)", STORED)


def _extract_way(conn: sqlite3.Connection, props: list[str]) -> pd.DataFrame:
    rows = conn.execute(
        f"SELECT key, active, {', '.join(['json_extract(props, ?)'] * len(props))}"
        " FROM nodes WHERE key != ? ORDER BY key",
        (*(sqlite_tables.json_path(p) for p in props), "none")).fetchall()
    return pd.DataFrame(rows, columns=["key", "active", *props])


def _read(conn: sqlite3.Connection, props: list[str]) -> pd.DataFrame:
    return read_property_table(conn, ["key", "active"], props,
                               Source("nodes", "key != ?", ("none",), ("key",)),
                               ["key", "active", *props])


def _stayed_with_stored_json(statements: list[str]) -> bool:
    return any("CAST(props AS BLOB)" in s for s in statements) and \
        not any("json_extract" in s for s in statements)


@pytest.mark.parametrize("block_rows", [1, 2, 1000])
def test_stored_json_gives_what_json_extract_gives(
        stored: sqlite3.Connection, block_rows: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # one row per block: "park" is null until the last block, "raw.机构类别" missing in
    # the second and third, so types are learnt late and promoted across blocks
    monkeypatch.setattr(sqlite_tables, "BLOCK_ROWS", block_rows)
    statements = _statements(stored)
    frame = _read(stored, PROPS)
    assert _stayed_with_stored_json(statements)
    _same(frame, _extract_way(stored, PROPS))
    assert frame.loc[0, "name"] == '揭阳市\n"物流"商会\x1f\\'
    # booleans are json_extract's 1 and 0 (floats here, as one row has none)
    assert frame["is_association"].isna().tolist() == [False, False, True, False]
    assert frame["is_association"].dropna().tolist() == [1, 0, 0]
    assert frame.loc[2, "name"] == "2020-01-01" and frame.loc[0, "founded_on"] == "2001-06-27"


def test_stored_json_learns_a_type_first_seen_after_the_sample(
        stored: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    # the sample is the first row, whose "park" is null: the block is read twice
    monkeypatch.setattr(sqlite_tables, "_sample", lambda text: text[:text.index(b"\n") + 1])
    learnt: list[bytes] = []
    real = sqlite_tables._learn
    monkeypatch.setattr(sqlite_tables, "_learn", lambda text, *a: learnt.append(text) or
                        real(text, *a))
    statements = _statements(stored)
    frame = _read(stored, PROPS)
    assert _stayed_with_stored_json(statements)
    _same(frame, _extract_way(stored, PROPS))
    assert [t.count(b"\n") for t in learnt] == [1, len(STORED) - 1]


@pytest.mark.parametrize(("key", "props", "value"), [
    ("Z1", '{"employees":"十二"}', "十二"),            # numbers and text in one property
    ("Z2", '{"employees":0.30000000000000004}', 0.30000000000000004),   # a real
    ("Z3", '{"employees":[1,2]}', "[1,2]"),           # an array: json_extract's JSON text
    ("Z4", '{"employees":{"a":1}}', '{"a":1}'),       # an object
    ("Z5", '{"raw":"社会团体"}', None),                 # a nested property under a text
    ("Z6", '{"employees":18446744073709551616}', 1.8446744073709552e19),   # past int64
    ("Z7", '{"employees":true}', 1),                  # a boolean among numbers
])
def test_what_stored_json_could_read_differently_goes_the_json_extract_way(
        stored: sqlite3.Connection, key: str, props: str, value: object,
        monkeypatch: pytest.MonkeyPatch) -> None:
    stored.execute("INSERT INTO nodes VALUES (?, 1, ?)", (key, props))
    for block_rows in (1, 1000):   # the clash inside one block, and between blocks
        monkeypatch.setattr(sqlite_tables, "BLOCK_ROWS", block_rows)
        statements = _statements(stored)
        frame = _read(stored, PROPS)
        assert not _stayed_with_stored_json(statements)
        _same(frame, _extract_way(stored, PROPS))
        column = "raw.机构类别" if key == "Z5" else "employees"
        got = frame.loc[frame["key"] == key, column].iloc[0]
        assert pd.isna(got) if value is None else got == value


@pytest.mark.parametrize("value", ["[1,2]", '{"a":1}', "1.5"])
def test_a_property_that_is_never_text_or_integer_goes_the_json_extract_way(
        stored: sqlite3.Connection, value: str) -> None:
    # every row holds it (a committee's lists): no clash between rows to give it away
    stored.execute("UPDATE nodes SET props = json_set(props, '$.tags', json(?))", (value,))
    statements = _statements(stored)
    frame = _read(stored, ["name", "tags"])
    assert not _stayed_with_stored_json(statements)
    _same(frame, _extract_way(stored, ["name", "tags"]))
    assert frame.loc[0, "tags"] == (1.5 if value == "1.5" else value)


def test_the_sample_is_whole_rows_from_all_through_the_block() -> None:
    rows = [b'{"n":%d}' % i for i in range(20_000)]
    sample = sqlite_tables._sample(b"\n".join(rows))
    got = sample.split(b"\n")
    assert set(got) <= set(rows) and len(sample) <= sqlite_tables._SAMPLE_BYTES
    numbers = sorted(int(r[5:-1]) for r in got)
    assert numbers[0] == 0 and numbers[-1] > 17_000   # the block's first rows and its last
    assert sqlite_tables._sample(b'{"n":1}') == b'{"n":1}'   # one row: the row


def test_stored_json_of_no_rows_and_of_no_properties(stored: sqlite3.Connection) -> None:
    empty = read_property_table(stored, ["key", "active"], PROPS,
                                Source("nodes", "0", (), ("key",)), ["key", "active", *PROPS])
    assert empty.empty and list(empty.columns) == ["key", "active", *PROPS]
    keys = _read(stored, [])
    assert keys["key"].tolist() == sorted(k for k, _ in STORED)


def test_a_failing_block_raises_in_the_reader_and_leaves_the_connection_usable(
        conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    # blocks are joined by SQLite in a thread of the read: its error reaches the caller
    monkeypatch.setattr(sqlite_tables, "BLOCK_ROWS", 2)
    with pytest.raises(sqlite3.OperationalError, match="no such column"):
        read_columns(conn, ["key", "nope"], T, ["key", "nope"])
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (len(ROWS),)
