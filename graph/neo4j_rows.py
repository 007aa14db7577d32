"""How fugai's values become Neo4j rows and back: pure functions, no I/O.

A node is stored as its scalar model properties (for queries and indexes) plus the
whole property map as ``f_props`` JSON (so answers match the embedded store exactly);
``prop_columns`` reads those maps back as the embedded store's ``json_extract`` does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
import pandas as pd

from graph import model as m
from graph import neo4j_cypher as cy
from graph.store import JSON, EdgeRow, canonical_json

#: rows per transaction: big enough to amortise the round trip, small enough for the heap
BATCH = 5000

Combo = tuple[str, str, str]
#: every (type, source label, target label) a relationship can have, by type
COMBOS_BY_TYPE: dict[str, list[Combo]] = defaultdict(list)
for _combo in cy.EDGE_COMBOS:
    COMBOS_BY_TYPE[_combo[0]].append(_combo)


def tag(combo: Combo) -> str:
    """A combo as it appears in statement names (``edge_merge:COVERS:PartyOrganization:…``)."""
    return ":".join(combo)


def storable(value: Any) -> bool:
    """Neo4j properties are primitives or lists of one primitive type; nothing else is
    copied to a top-level property (the full map is always in ``f_props``)."""
    if isinstance(value, bool | str | float) or (isinstance(value, int)
                                                  and -2**63 <= value < 2**63):
        return True
    return (isinstance(value, list) and bool(value)
            and all(isinstance(v, str) for v in value))


def drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def node_map(label: str, key: str, props: JSON, **bookkeeping: Any) -> dict[str, Any]:
    """What ``SET n = row.all`` gives a node: its scalar model properties, its key,
    the full map as ``f_props`` and the bookkeeping given (``None`` values left out)."""
    lab = m.LABELS[label]
    out = {p: props[p] for p in lab.properties if p in props and storable(props[p])}
    out[lab.key] = key
    out["f_props"] = canonical_json(props)
    out.update(bookkeeping)
    return drop_none(out)


def edge_map(e: EdgeRow, run: int) -> dict[str, Any]:
    rel = {p: v for p, v in e.props.items() if storable(v)}
    rel.update(f_props=canonical_json(e.props),
               f_owner_label=e.owner_label, f_owner_key=e.owner_key, f_hash=e.row_hash,
               f_source=e.source, f_active=e.active, f_run=run)
    return drop_none(rel)


def pending_id(type: str, src_label: str, src_key: str, dst_label: str, dst_key: str) -> str:
    return canonical_json([type, src_label, src_key, dst_label, dst_key])


def pending_map(e: EdgeRow, run: int) -> dict[str, Any]:
    return drop_none({
        "id": pending_id(e.type, e.src_label, e.src_key, e.dst_label, e.dst_key),
        "type": e.type, "src_label": e.src_label, "src_key": e.src_key,
        "dst_label": e.dst_label, "dst_key": e.dst_key, "owner_label": e.owner_label,
        "owner_key": e.owner_key, "f_props": canonical_json(e.props),
        "f_hash": e.row_hash, "f_source": e.source, "f_active": e.active, "run": run})


def pending_edge(p: JSON) -> EdgeRow:
    return EdgeRow(p["type"], p["src_label"], p["src_key"], p["dst_label"], p["dst_key"],
                   orjson.loads(p.get("f_props") or "{}"), p.get("owner_label"),
                   p.get("owner_key"), p.get("f_hash"), p.get("f_source"),
                   bool(p.get("f_active", True)))


def prop_columns(texts: Iterable[str], props: Sequence[str]) -> dict[str, list[Any]]:
    """Columns of ``props`` over JSON property maps, each value as SQLite's
    ``json_extract`` gives it (a dotted name reads a nested value; booleans as 1/0,
    objects and arrays as JSON text, missing as None), so a store that keeps JSON
    outside SQLite answers value for value like the embedded store. Each map is parsed
    and dropped in turn: a million parsed maps held at once cost gigabytes."""
    paths = [(prop, prop.split(".")) for prop in props]
    out: dict[str, list[Any]] = {prop: [] for prop in props}
    appends = [(out[prop].append, parts) for prop, parts in paths]
    loads, dumps = orjson.loads, orjson.dumps
    for text in texts:
        d = loads(text)
        for append, parts in appends:
            value: Any = d
            for part in parts:
                value = value.get(part) if value.__class__ is dict else None
            cls = value.__class__
            if cls is bool:
                value = int(value)
            elif cls is dict or cls is list:
                value = dumps(value).decode()
            append(value)
    return out


def table_frame(columns: dict[str, list[Any]]) -> pd.DataFrame:
    """A table from its columns; with no rows every column stays ``object`` (pandas
    would make an empty list ``float64``, and a merge on it then fails)."""
    if columns and not next(iter(columns.values())):
        return pd.DataFrame([], columns=list(columns))
    return pd.DataFrame(columns)
