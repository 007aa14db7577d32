"""Columns read through JSON (graph.sqlite_tables) give the frame the row way gives."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pandas as pd
import pytest

from graph import sqlite_tables
from graph.sqlite_tables import read_columns

COLUMNS = ["key", "n", "empty", "text"]

#: registration text is untrusted: newlines, quotes, control characters, Chinese,
#: something that looks like JSON and something that looks like a date
ROWS = [
    ("91445202MA4UQ1X1X", 12, None, "2020-01-01"),
    ("91445202MA4UQ2X2X", None, None, None),
    ('行\n"引号"\x1f\\', 3, None, '{"a": [1, 2]}'),
    ("揭阳市榕城区", 4, None, "not a date"),
    ("x5", 0, None, "2021-02-03 04:05:06"),
]


@pytest.fixture
def conn() -> Iterator[sqlite3.Connection]:
    c = sqlite3.connect(":memory:")
    c.execute("CREATE TABLE t (key TEXT, n, empty, text)")
    c.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", ROWS)
    yield c
    c.close()


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
    frame = read_columns(conn, ["key", "n", "empty", "text"], "t ORDER BY rowid", (), COLUMNS)
    assert not _went_the_row_way(statements)
    _same(frame, _row_way(conn))
    assert frame.loc[2, "key"] == '行\n"引号"\x1f\\'
    assert frame.loc[0, "text"] == "2020-01-01"


def test_json_paths_as_parameters(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE j (k TEXT, props TEXT)")
    conn.executemany("INSERT INTO j VALUES (?, ?)", [
        ("a", '{"x": [1, 2], "raw": {"机构类别": "律师事务所"}, "b": true}'),
        ("b", '{"x": null, "b": false}')])
    frame = read_columns(conn, ["k", *["json_extract(props, ?)"] * 3],
                         "j WHERE k != ?", ("$.x", '$."raw"."机构类别"', "$.b", "z"),
                         ["k", "x", "category", "b"])
    rows = conn.execute("SELECT k, json_extract(props, ?), json_extract(props, ?),"
                        " json_extract(props, ?) FROM j", ("$.x", '$."raw"."机构类别"', "$.b"))
    _same(frame, pd.DataFrame(rows.fetchall(), columns=["k", "x", "category", "b"]))
    # an array stays its JSON text, a boolean is an integer: what json_extract returns
    assert frame.loc[0].tolist() == ["a", "[1,2]", "律师事务所", 1]
    assert frame.loc[1, "b"] == 0 and frame.loc[1, ["x", "category"]].isna().all()


def test_a_real_number_goes_the_row_way_and_keeps_every_digit(conn: sqlite3.Connection) -> None:
    conn.execute("INSERT INTO t VALUES ('r', 0.30000000000000004, NULL, 'x')")
    statements = _statements(conn)
    frame = read_columns(conn, ["key", "n", "empty", "text"], "t ORDER BY rowid", (), COLUMNS)
    assert _went_the_row_way(statements)
    _same(frame, _row_way(conn))
    assert frame["n"].iloc[-1] == 0.30000000000000004


def test_a_column_of_numbers_and_text_goes_the_row_way(
        conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    conn.execute("INSERT INTO t VALUES ('s', 'seven', NULL, 'x')")
    for block_rows in (1, 1000):   # the clash inside one block, and between blocks
        monkeypatch.setattr(sqlite_tables, "BLOCK_ROWS", block_rows)
        frame = read_columns(conn, ["key", "n", "empty", "text"], "t ORDER BY rowid", (),
                             COLUMNS)
        _same(frame, _row_way(conn))
        assert frame["n"].tolist()[-2:] == [0, "seven"]


def test_no_rows_give_the_named_empty_frame(conn: sqlite3.Connection) -> None:
    frame = read_columns(conn, ["key", "n", "empty", "text"], "t WHERE 0", (), COLUMNS)
    _same(frame, _row_way(conn, "WHERE 0"))
    assert list(frame.columns) == COLUMNS
