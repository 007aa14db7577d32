"""How fugai's values become Neo4j rows and back: pure functions, no I/O.

A node is stored as its scalar model properties (for queries and indexes) plus the
whole property map as ``f_props`` JSON (so answers match the embedded store exactly).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

import orjson

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


def batches(rows: Sequence[Any], size: int = BATCH) -> Iterator[Sequence[Any]]:
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


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
    rel.update(f_props=canonical_json(e.props) if e.props else "{}",
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
        "owner_key": e.owner_key, "f_props": canonical_json(e.props) if e.props else "{}",
        "f_hash": e.row_hash, "f_source": e.source, "f_active": e.active, "run": run})


def pending_edge(p: JSON) -> EdgeRow:
    return EdgeRow(p["type"], p["src_label"], p["src_key"], p["dst_label"], p["dst_key"],
                   orjson.loads(p.get("f_props") or "{}"), p.get("owner_label"),
                   p.get("owner_key"), p.get("f_hash"), p.get("f_source"),
                   bool(p.get("f_active", True)))
