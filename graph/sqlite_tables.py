"""Tables read out of the embedded store as columns, for the coverage facts.

The facts read a handful of properties of every organisation, member and Party
organisation. Fetched as Python rows, each value of a million rows becomes a Python
object and then a frame cell again: about half of a 10 s read of the province's
organisations. Here SQLite builds one JSON object per row (``json_object``, which
escapes any text a registration export holds) and joins a block of rows into one
text (``group_concat``), and pyarrow's JSON reader turns each block into columns
without a Python object per value (measured: docs/performance.md). A block is one
step of SQLite outside the interpreter lock, so the read runs as well in a thread
beside busy pandas work (``graph.read_ahead``) as alone.

Properties (:func:`read_property_table`) go one step further: SQLite hands over each
row's stored JSON as it is, and pyarrow reads the wanted properties out of it. SQLite
no longer parses a million JSON texts, and pyarrow parses them on every core. The
types are pyarrow's, learnt from the rows; where they could differ from what
``json_extract`` gives (below), the read falls back to the ``json_extract`` way.

The frame is the one ``pd.DataFrame(cursor.fetchall())`` gives: the same column
types (text, integers, floats where a value is missing, objects where a column holds
only nulls), the same values, the same row order. Three reads go the row way instead:
a column that mixes numbers and text (it has no single Arrow type); any real number
(``json_object`` writes 15 significant digits, which would not read back as the same
float; ingest stores integers only); and an array or object taken out of the JSON,
which the row way returns as its JSON text (only a committee's lists, a dozen rows).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Generator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from typing import Any

import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson

#: rows per block handed to pyarrow: bounds the text held at once (about 80 MB of units)
BLOCK_ROWS = 250_000
#: bytes of a block's rows that the stored-JSON way learns types from first
_SAMPLE_BYTES = 1 << 16


@dataclass(frozen=True)
class Source:
    """The rows of ``table`` that ``where`` selects (``params`` fill its placeholders),
    in the order of ``order``: columns unique among those rows, the rest of the primary
    key once ``where`` has fixed its first columns. The rows are read in blocks, each
    starting after the last row of the one before, so none is scanned twice."""

    table: str
    where: str
    params: tuple[object, ...]
    order: tuple[str, ...]


def read_columns(conn: sqlite3.Connection, values: Sequence[str], source: Source,
                 columns: Sequence[str], value_params: Sequence[object] = ()) -> pd.DataFrame:
    """``values`` (SQL expressions, ``value_params`` filling their placeholders) of the
    rows of ``source`` as a frame with ``columns``."""
    names = _field_names(values)
    text_columns: dict[str, pa.DataType] = {}
    try:
        with closing(_blocks(conn, source, values, value_params)) as texts:
            blocks = [_parse_block(text, text_columns).select(names)   # drops the order fields
                      for (text,) in texts]
        return _frame(blocks, columns)
    except (pa.ArrowInvalid, pa.ArrowTypeError, _RowWay):
        rows = conn.execute(f"SELECT {', '.join(values)} FROM {source.table}"
                            f" WHERE {source.where} ORDER BY {', '.join(source.order)}",
                            (*value_params, *source.params)).fetchall()
        return pd.DataFrame(rows, columns=list(columns))


def _blocks(conn: sqlite3.Connection, source: Source, values: Sequence[str],
            value_params: Sequence[object], more: Sequence[str] = ()
            ) -> Generator[list[bytes], None, None]:
    """The rows of ``source``, :data:`BLOCK_ROWS` at a time: the JSON objects of
    ``values`` (named as :func:`_field_names` names them), then each of ``more`` (SQL
    giving a JSON text per row), each its rows joined by newlines. SQLite joins them
    (``group_concat``): one step per block, outside the interpreter lock. A fetch takes
    the lock back for every row, and waits for it while a thread working beside the
    read holds it (beside a busy thread, a read of the province's units took minutes;
    this way 2.7 s)."""
    names = _field_names(values)
    keys = [f"_o{i}" for i in range(len(source.order))]   # where the next block starts
    fields = ", ".join(f"'{n}', {v}" for n, v in
                       zip([*names, *keys], [*values, *source.order], strict=True))
    inner = ", ".join(f"{f} AS f{i}" for i, f in
                      enumerate([f"json_object({fields})", *more]))
    # (group_concat skips a NULL: texts of unequal rows then fail to line up in pyarrow,
    # and the read falls back; the stores write no NULL JSON)
    joined = ", ".join(f"CAST(group_concat(f{i}, x'0a') AS BLOB)" for i in range(1 + len(more)))
    order = ", ".join(source.order)

    def block(after: tuple[object, ...]) -> tuple[int, list[bytes]]:
        bound = f" AND ({order}) > ({', '.join('?' * len(after))})" if after else ""
        count, *texts = conn.execute(
            f"SELECT count(*), {joined} FROM (SELECT {inner} FROM {source.table}"
            f" WHERE ({source.where}){bound} ORDER BY {order} LIMIT ?)",
            (*value_params, *source.params, *after, BLOCK_ROWS)).fetchone()
        return count, texts

    # SQLite joins the next block while the caller parses this one (so ``conn`` must
    # allow another thread: check_same_thread=False); closing the generator waits for
    # that block, so the caller may use the connection again
    with ThreadPoolExecutor(1, thread_name_prefix="fugai-block") as ahead:
        next_block = ahead.submit(block, ())
        while True:
            count, texts = next_block.result()
            if count == BLOCK_ROWS:   # more may follow
                last = orjson.loads(texts[0][texts[0].rfind(b"\n") + 1:])
                next_block = ahead.submit(block, tuple(last[k] for k in keys))
            if count:
                yield texts
            if count < BLOCK_ROWS:
                return


def _field_names(values: Sequence[str]) -> list[str]:
    """The field names of ``values`` in the JSON object :func:`_blocks` builds per row."""
    return [f"c{i}" for i in range(len(values))]


def _frame(blocks: list[pa.Table], columns: Sequence[str]) -> pd.DataFrame:
    """The blocks as one frame with ``columns``. Where one block had only nulls in a
    column (type null), another's type wins."""
    if not blocks:
        return pd.DataFrame([], columns=list(columns))
    frame = pa.concat_tables(blocks, promote_options="default").to_pandas()
    frame.columns = list(columns)
    return frame


def _parse_block(text: bytes, text_columns: dict[str, pa.DataType]) -> pa.Table:
    """One block of JSON rows as columns. pyarrow reads a text that looks like a date
    as a timestamp: such a column is read again as text, and so in later blocks."""
    while True:
        options = pajson.ParseOptions(
            explicit_schema=pa.schema(text_columns) if text_columns else None,
            unexpected_field_behavior="infer")
        block = pajson.read_json(pa.BufferReader(text), parse_options=options)
        if not all(map(_as_json_extract_reads, block.schema.types)):
            raise _RowWay
        dated = [f.name for f in block.schema
                 if pa.types.is_temporal(f.type) and f.name not in text_columns]
        if not dated:
            return block
        text_columns.update(dict.fromkeys(dated, pa.string()))


def _as_json_extract_reads(type: pa.DataType) -> bool:
    """Whether a column pyarrow inferred holds what ``json_extract`` gives. Not a real
    (``json_object`` writes 15 significant digits; the row way keeps all 17), nor an
    array or object (``json_extract`` gives its JSON text)."""
    return not (pa.types.is_floating(type) or pa.types.is_nested(type))


class _RowWay(Exception):
    """A block the JSON way would not read back exactly."""


def read_property_table(conn: sqlite3.Connection, fixed: Sequence[str], props: Sequence[str],
                        source: Source, columns: Sequence[str]) -> pd.DataFrame:
    """``fixed`` (SQL expressions) and ``props`` (property names, dotted for a nested
    one) of the rows of ``source``, whose ``props`` column holds their JSON: the frame
    :func:`read_columns` gives with ``json_extract(props, path)`` for each property.

    pyarrow reads the stored JSON under a schema learnt from the rows (a property not
    seen yet is typed null until a row holds it). Read this way, a boolean is
    ``true`` where ``json_extract`` gives 1: booleans are turned into 0/1. Anything
    else this way could read differently (a property holding two types, a real, an
    array or object, a nested property under a non-object) raises in pyarrow or here,
    and the read goes the ``json_extract`` way instead.
    """
    if props:
        try:
            return _stored_json_way(conn, fixed, props, source, columns)
        except (pa.ArrowInvalid, pa.ArrowTypeError, _RowWay):
            pass
    extracts = ["json_extract(props, ?)"] * len(props)
    return read_columns(conn, [*fixed, *extracts], source, columns,
                        [json_path(p) for p in props])


def json_path(prop: str) -> str:
    """SQLite JSON path of a (possibly dotted, possibly non-ASCII) property name."""
    return "$" + "".join(f'."{part}"' for part in prop.split("."))


def _stored_json_way(conn: sqlite3.Connection, fixed: Sequence[str], props: Sequence[str],
                     source: Source, columns: Sequence[str]) -> pd.DataFrame:
    names = _field_names(fixed)
    text_columns: dict[str, pa.DataType] = {}
    types: dict[str, pa.DataType] = {}
    blocks = []
    with closing(_blocks(conn, source, fixed, (), ["CAST(props AS BLOB)"])) as texts:
        for head, stored in texts:
            fixed_columns = _parse_block(head, text_columns).select(names)
            values = _parse_props(stored, props, types)
            blocks.append(pa.Table.from_arrays([*fixed_columns.columns, *values],
                                               names=[*names, *props]))
    return _frame(blocks, columns)


def _parse_props(text: bytes, props: Sequence[str],
                 types: dict[str, pa.DataType]) -> list[pa.ChunkedArray]:
    """The ``props`` of one block of stored JSON rows, booleans as 0/1. ``types`` holds
    what earlier blocks showed; a block that shows more is read a second time."""
    block = None
    # rows sampled through the block first (inferring every field is slower than
    # reading the wanted ones), then the whole block if those were not enough
    for sample in (_sample(text), text, None):
        try:
            block = _read_props(text, props, types)
            break
        except pa.ArrowInvalid:
            if sample is None:
                raise
            _learn(sample, props, types)
    assert block is not None
    out = []
    for prop in props:
        column = _leaf(block, prop)
        if pa.types.is_boolean(column.type):
            column = column.cast(pa.int64())
        out.append(column)
    return out


def _sample(text: bytes, pieces: int = 8) -> bytes:
    """Whole rows from ``pieces`` places spread through a block, about
    :data:`_SAMPLE_BYTES` in all (the first rows alone are often one kind: social
    organisations sort before enterprises)."""
    size = _SAMPLE_BYTES // pieces
    out = []
    for k in range(pieces):
        start = 0 if k == 0 else text.find(b"\n", len(text) * k // pieces) + 1
        if start <= 0 and k:
            break
        end = text.rfind(b"\n", start, start + size)
        if end > start:
            out.append(text[start:end])
    return b"\n".join(out) or text


def _read_props(text: bytes, props: Sequence[str], types: dict[str, pa.DataType]) -> pa.Table:
    options = pajson.ParseOptions(explicit_schema=_schema(props, types),
                                  unexpected_field_behavior="ignore")
    return pajson.read_json(pa.BufferReader(text), parse_options=options)


def _learn(text: bytes, props: Sequence[str], types: dict[str, pa.DataType]) -> None:
    """Add to ``types`` what a block's rows show, every field inferred. A property of
    a type ``json_extract`` reads differently ends the stored-JSON way; one whose type
    differs from an earlier block's keeps the earlier type, which then fails to read."""
    block = pajson.read_json(pa.BufferReader(text))
    for prop in props:
        try:
            seen = _leaf(block, prop).type
        except KeyError:
            continue   # no row of the block holds it
        if pa.types.is_null(seen):
            continue
        if pa.types.is_temporal(seen):   # a date-like text, inferred as a timestamp
            seen = pa.string()
        if not _as_json_extract_reads(seen):
            raise _RowWay
        types.setdefault(prop, seen)


def _schema(props: Sequence[str], types: dict[str, pa.DataType]) -> pa.Schema:
    """The explicit schema of the wanted properties, nested ones as structs."""
    tree: dict[str, Any] = {}
    for prop in props:
        *parents, last = prop.split(".")
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise _RowWay   # one property is both a value and an object
        if isinstance(node.get(last), dict):
            raise _RowWay
        node[last] = types.get(prop, pa.null())

    def fields(node: dict[str, Any]) -> list[pa.Field]:
        return [pa.field(k, pa.struct(fields(v)) if isinstance(v, dict) else v)
                for k, v in node.items()]
    return pa.schema(fields(tree))


def _leaf(block: pa.Table, prop: str) -> pa.ChunkedArray:
    """A (possibly dotted) property's column; KeyError where the block has none. A
    nested property under a text has none either: no type is learnt for it, and the
    explicit read, which declares its parent an object, then fails."""
    first, *rest = prop.split(".")
    if first not in block.column_names:
        raise KeyError(prop)
    column = block.column(first)
    for part in rest:
        if not pa.types.is_struct(column.type) or column.type.get_field_index(part) < 0:
            raise KeyError(prop)
        column = pc.struct_field(column, [part])   # null where the parent is null
    return column
