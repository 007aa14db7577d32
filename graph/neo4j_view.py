"""The Neo4j store's read view: the interface's reads, each one statement per label or
relationship combination, answered exactly as the embedded store answers them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence

import orjson
import pandas as pd

from graph import model as m
from graph import neo4j_cypher as cy
from graph.neo4j_db import Database
from graph.neo4j_rows import COMBOS_BY_TYPE, pending_edge, prop_columns, table_frame, tag
from graph.store import (
    JSON,
    Edge,
    Node,
    RunRecord,
    SnapshotRow,
    StoreView,
    run_record_from_json,
)


class Neo4jView(StoreView):
    def __init__(self, db: Database) -> None:
        self.db = db

    def version(self) -> str:
        (row,) = self.db.read("meta_version")
        return f"{row['last_run'] or 0}:{row['version'] or 0}"

    def _node(self, label: str, key: str, r: JSON) -> Node:
        return Node(label, key, orjson.loads(r["props"]), bool(r["active"]), r["absent_since"],
                    int(r["first_run"]), int(r["changed_run"]))

    def nodes(self, label: str) -> Iterator[Node]:
        for r in sorted(self.db.read(f"node_all:{label}"), key=lambda r: r["key"]):
            yield self._node(label, r["key"], r)

    def node(self, label: str, key: str) -> Node | None:
        rows = self.db.read(f"node_one:{label}", key=key)
        return self._node(label, key, rows[0]) if rows else None

    def _edges(self, type: str) -> list[Edge]:
        out = [Edge(type, src, r["src"], dst, r["dst"], orjson.loads(r["props"]),
                    bool(r["active"]))
               for _, src, dst in COMBOS_BY_TYPE[type]
               for r in self.db.read(f"edge_all:{type}:{src}:{dst}")]
        out += [Edge(type, e.src_label, e.src_key, e.dst_label, e.dst_key, e.props, e.active)
                for e in map(pending_edge, (r["p"] for r in self.db.read(
                    "pending_by_type", type=type)))]
        return out

    def edges(self, type: str | None = None) -> Iterator[Edge]:
        types = [type] if type else sorted(COMBOS_BY_TYPE)
        edges = [e for t in types for e in self._edges(t)]
        yield from sorted(edges, key=lambda e: (e.type, e.src_key, e.dst_key, e.src_label,
                                                e.dst_label))

    def node_table(self, label: str, props: Sequence[str]) -> pd.DataFrame:
        rows = sorted(self.db.read(f"node_table:{label}"), key=lambda r: r["key"])
        return table_frame({"key": [r["key"] for r in rows],
                            "active": [int(bool(r["active"])) for r in rows],
                            "first_run": [r["first_run"] for r in rows],
                            **prop_columns((r["props"] for r in rows), props)})

    def edge_table(self, type: str, props: Sequence[str] = ()) -> pd.DataFrame:
        # (ends, props JSON), in the embedded store's primary-key order
        rows = [((src, r["src"], dst, r["dst"]), r["props"])
                for _, src, dst in COMBOS_BY_TYPE[type]
                for r in self.db.read(f"edge_table:{type}:{src}:{dst}")]
        rows += [((p["src_label"], p["src_key"], p["dst_label"], p["dst_key"]),
                  p.get("f_props") or "{}")
                 for p in (r["p"] for r in self.db.read("pending_by_type", type=type))
                 if p.get("f_active", True)]
        rows.sort(key=lambda row: row[0])
        return table_frame({"src_label": [e[0] for e, _ in rows], "src": [e[1] for e, _ in rows],
                            "dst_label": [e[2] for e, _ in rows], "dst": [e[3] for e, _ in rows],
                            **prop_columns((text for _, text in rows), props)})

    def history(self, label: str, key: str) -> list[JSON]:
        return [{"run_id": r["run_id"], "change": r["change"],
                 "before": orjson.loads(r["before"])}
                for r in self.db.read("history_node", label=label, key=key)]

    def runs(self, limit: int = 50) -> list[RunRecord]:
        out = []
        for r in self.db.read("run_list", limit=limit):
            record = orjson.loads(r["record"] or "{}")
            out.append(run_record_from_json(record) if record else RunRecord(
                run_id=r["run_id"], started_at=r["started_at"],
                finished_at=r["finished_at"], status=r["status"]))
        return out

    def snapshots(self, scope_kind: str, code: str) -> list[SnapshotRow]:
        return [SnapshotRow(r["run_id"], scope_kind, code, orjson.loads(r["figures"]))
                for r in self.db.read("snapshot_scope", scope_kind=scope_kind, code=code)]

    def counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for label in sorted(m.LABELS):
            if label == m.INGEST_RUN:   # run records, not data (the embedded store keeps
                continue                # them in a table of their own)
            (row,) = self.db.read(f"node_count:{label}")
            if row["total"]:
                out[label] = {"total": int(row["total"]), "active": int(row["active"] or 0)}
        edges: dict[str, int] = defaultdict(int)
        for combo in cy.EDGE_COMBOS:
            for row in self.db.read(f"edge_count:{tag(combo)}"):
                edges[combo[0]] += int(row["n"])
        for row in self.db.read("pending_count"):
            edges[row["type"]] += int(row["n"])
        out["edges"] = {t: n for t, n in sorted(edges.items()) if n}
        return out
