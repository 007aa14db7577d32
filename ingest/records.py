"""Clean rows -> graph records: the node a row becomes, and the edges it declares.

Per-kind rules live here (which organisation kind, what "active" means, how a
Party organisation's 统建范围 names a park, a building or a region), so the pipeline
stays a generic run over kinds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from graph import model as m
from graph.store import EdgeRow, NodeRow
from ingest.contract import Kind
from ingest.rows import CleanRow

_REGION_CODE = re.compile(r"^\d{6}(\d{3}){0,2}$")


@dataclass
class Record:
    node: NodeRow | None
    edges: list[EdgeRow] = field(default_factory=list)
    places: list[NodeRow] = field(default_factory=list)
    #: for rows that are edges (supply links)
    link: EdgeRow | None = None


def _node_props(kind: Kind, row: CleanRow) -> tuple[dict[str, Any], bool]:
    """The stored properties of a row, and whether the thing is active."""
    props: dict[str, Any] = {}
    active = True
    for name, value in row.values.items():
        if name == "status":
            props["status"], active = value
        elif name == "id_number":
            props["id_hash"], props["id_masked"] = value
        elif name == "phone":
            props["phone_masked"] = value[0]
        else:
            props[name] = value
    if kind.label == m.ORGANIZATION:
        props["org_kind"] = m.ENTERPRISE if kind.name == "enterprises" else m.SOCIAL_ORG
    if kind.name == "regions":
        props.setdefault("parent_code", m.region_parent(props["code"]))
        props["level"] = m.region_level(props["code"])
    if kind.name == "annual_reports":
        props["key"] = f"{props['uscc']}:{props['year']}"
    if row.extras:
        props["raw"] = row.extras
    props["active"] = active
    return props, active


def _area_target(props: dict[str, Any]) -> tuple[str, str] | None:
    area = props.get("area")
    if not area:
        return None
    if _REGION_CODE.match(area):
        return m.REGION, area
    kind = m.BUILDING if props.get("formation") == "楼宇统建" else m.PARK
    return m.PLACE, m.place_key(kind, area)


@lru_cache(maxsize=65536)
def _place_node(dst: str) -> NodeRow:
    """The implied Place node of a park/building key (shared: nobody mutates it)."""
    place_kind, _, name = dst.partition(":")
    return NodeRow(m.PLACE, dst, {"key": dst, "name": name, "place_kind": place_kind},
                   "", "derived")


def build_record(kind: Kind, row: CleanRow, source: str) -> Record:
    if kind.label is None:
        v = row.values
        link = EdgeRow(m.SUPPLIES, m.ORGANIZATION, v["from_uscc"], m.ORGANIZATION, v["to_uscc"],
                       {k: v[k] for k in ("relation", "chain") if k in v},
                       row_hash=row.row_hash, source=source)
        return Record(None, link=link)
    props, active = _node_props(kind, row)
    label = kind.label
    key = str(props[m.LABELS[label].key])
    node = NodeRow(label, key, props, row.row_hash, source, active)
    rec = Record(node)
    edges = rec.edges
    for ref in kind.references:
        value = props.get(ref.field)
        if value is None or value == "":
            continue
        rel = ref.rel
        if rel == m.SERVES_AREA:
            target = _area_target(props)
            if target is None:
                continue
            targets = [target]
        elif rel == m.IN_PLACE:
            place_kind = m.PARK if ref.field == "park" else m.BUILDING
            targets = [(m.PLACE, m.place_key(place_kind, value))]
        elif isinstance(value, list):
            dst_label = ref.targets[0]
            targets = [(dst_label, str(k)) for k in value]
        else:
            edges.append(EdgeRow(rel, label, key, ref.targets[0], str(value),
                                 owner_label=label, owner_key=key))
            continue
        for dst_label, dst in targets:
            if dst_label == m.PLACE:
                rec.places.append(_place_node(dst))
            edges.append(EdgeRow(rel, label, key, dst_label, dst,
                                 owner_label=label, owner_key=key))
    return rec
