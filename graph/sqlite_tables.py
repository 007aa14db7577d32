"""Tables read out of the embedded store as columns, for the coverage facts.

The facts read a handful of properties of every organisation, member and Party
organisation. Fetched as Python rows, each value of a million rows becomes a Python
object and then a frame cell again: about half of a 10 s read of the province's
organisations. Here SQLite builds one JSON object per row (``json_object``, which
escapes any text a registration export holds), the rows are joined into blocks and
pyarrow's JSON reader turns each block into columns without a Python object per
value (measured: docs/performance.md).

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
from collections.abc import Sequence

import pandas as pd
import pyarrow as pa
import pyarrow.json as pajson

#: rows per block handed to pyarrow: bounds the text held at once (about 40 MB)
BLOCK_ROWS = 250_000


def read_columns(conn: sqlite3.Connection, values: Sequence[str], source: str,
                 params: Sequence[object], columns: Sequence[str]) -> pd.DataFrame:
    """``SELECT values FROM source`` as a frame with ``columns``: ``values`` are SQL
    expressions, ``source`` is what follows FROM (a table, its WHERE clause, any ORDER
    BY), ``params`` fill the placeholders of both in that order."""
    names = [f"c{i}" for i in range(len(values))]
    fields = ", ".join(f"'{n}', {v}" for n, v in zip(names, values, strict=True))
    # as bytes: a million rows not decoded into text objects and encoded back
    cur = conn.execute(f"SELECT CAST(json_object({fields}) AS BLOB) FROM {source}",
                       tuple(params))
    text_columns: dict[str, pa.DataType] = {}
    try:
        blocks = []
        while rows := cur.fetchmany(BLOCK_ROWS):
            block = _parse_block(b"\n".join(r[0] for r in rows), text_columns)
            blocks.append(block.select(names))   # columns read as text come first
        # where one block had only nulls in a column (type null), another's type wins
        table = pa.concat_tables(blocks, promote_options="default") if blocks else None
    except (pa.ArrowInvalid, pa.ArrowTypeError, _RowWay):
        cur.close()
        rows = conn.execute(f"SELECT {', '.join(values)} FROM {source}", tuple(params)).fetchall()
        return pd.DataFrame(rows, columns=list(columns))
    if table is None:
        return pd.DataFrame([], columns=list(columns))
    frame = table.to_pandas()
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
        # json_object writes every real with a decimal point (those read as float64)
        # and embeds what json_extract took out of an array or object as JSON
        if any(pa.types.is_floating(t) or pa.types.is_nested(t) for t in block.schema.types):
            raise _RowWay
        dated = [f.name for f in block.schema
                 if pa.types.is_temporal(f.type) and f.name not in text_columns]
        if not dated:
            return block
        text_columns.update(dict.fromkeys(dated, pa.string()))


class _RowWay(Exception):
    """A block the JSON way would not read back exactly."""
