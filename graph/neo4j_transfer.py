"""Moving a whole store into or out of Neo4j (``fugai migrate``), in batches.

A restore writes the stored state as it was, bookkeeping included (row hashes, first
and last run, history, trend points, run records), so the next nightly run on the new
store is incremental exactly as it would have been on the old one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, TypeVar

import orjson

from graph import model as m
from graph import neo4j_cypher as cy
from graph.neo4j_db import Database
from graph.neo4j_rows import BATCH, drop_none, node_map, pending_edge
from graph.neo4j_view import Neo4jView
from graph.store import (
    EdgeRow,
    HistoryEntry,
    RunRecord,
    SnapshotRow,
    StoredEdge,
    StoredNode,
    StoreDump,
    batches,
    canonical_json,
)

if TYPE_CHECKING:
    from graph.neo4j_writer import Neo4jWriter

T = TypeVar("T")


def dump(db: Database) -> StoreDump:
    view = Neo4jView(db)

    def nodes() -> Iterator[StoredNode]:
        for label in m.LABELS:
            if label == m.INGEST_RUN:
                continue
            for r in sorted(db.read(f"node_all:{label}"), key=lambda r: r["key"]):
                yield StoredNode(label, r["key"], orjson.loads(r["props"]), r["hash"],
                                 r["source"], bool(r["active"]), r["absent_since"],
                                 int(r["first_run"]), int(r["changed_run"]))

    def edges() -> Iterator[StoredEdge]:
        for type, src, dst in cy.EDGE_COMBOS:
            for r in db.read(f"edge_all:{type}:{src}:{dst}"):
                yield StoredEdge(EdgeRow(type, src, r["src"], dst, r["dst"],
                                         orjson.loads(r["props"]), r["owner_label"],
                                         r["owner_key"], r["hash"], r["source"],
                                         bool(r["active"])), int(r["run"]))
        for r in db.read("pending_all"):
            yield StoredEdge(pending_edge(r["p"]), int(r["p"]["run"]))

    def history() -> Iterator[HistoryEntry]:
        for r in db.read("history_all"):
            yield HistoryEntry(r["label"], r["key"], int(r["run_id"]), r["change"],
                               orjson.loads(r["before"]))

    def snapshots() -> Iterator[SnapshotRow]:
        for r in db.read("snapshot_all"):
            yield SnapshotRow(int(r["run_id"]), r["scope_kind"], r["code"],
                              orjson.loads(r["figures"]))

    (meta,) = db.read("meta_version")
    runs = view.runs(limit=1_000_000)
    last = max([int(meta["last_run_id"] or 0), *(r.run_id for r in runs)])
    return StoreDump(nodes(), edges(), history(), snapshots(), runs, last)


def restore(db: Database, writer: Neo4jWriter, dump: StoreDump) -> None:
    """Nodes first (relationships need both ends), then edges, history, trend, runs."""
    for nodes in batches(dump.nodes, BATCH):
        by_label: dict[str, list[StoredNode]] = {}
        for n in nodes:
            by_label.setdefault(n.label, []).append(n)
        for label, group in by_label.items():
            rows = [{"key": n.key, "all": node_map(
                label, n.key, n.props, f_hash=n.row_hash, f_source=n.source, f_active=n.active,
                f_absent_since=n.absent_since, f_first_run=n.first_run,
                f_changed_run=n.changed_run)} for n in group]
            db.write_one(f"node_restore:{label}", rows=rows)
    for edges in batches(dump.edges, BATCH):
        writer.write_edges_of_runs([se.edge for se in edges], [se.run for se in edges])
    for seq, entries in enumerate(batches(dump.history, BATCH)):
        db.write_one("history_restore", rows=[
            {"label": h.label, "key": h.key, "run_id": h.run_id, "seq": seq * BATCH + i,
             "change": h.change, "before": canonical_json(h.before)}
            for i, h in enumerate(entries)])
    for points in batches(dump.snapshots, BATCH):
        writer.write_snapshot(points)
    for part in batches(map(_run_row, dump.runs), BATCH):
        db.write_one("run_restore", rows=part)
    db.write_one("meta_restore", last_run_id=dump.last_run_id,
                 last_complete_run=dump.last_complete_run)


def _run_row(r: RunRecord) -> dict[str, Any]:
    return drop_none({"run_id": r.run_id, "started_at": r.started_at,
                      "finished_at": r.finished_at, "status": r.status,
                      "f_record": canonical_json(asdict(r))})
