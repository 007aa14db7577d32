"""The Neo4j store's writer: one run's writes, in chunks of one managed transaction each
(see graph/neo4j_store.py for why, and what a run that dies half way leaves)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict

import orjson

from graph import model as m
from graph.neo4j_db import Database, Rows, Tx
from graph.neo4j_rows import (
    BATCH,
    COMBOS_BY_TYPE,
    edge_map,
    node_map,
    pending_edge,
    pending_map,
    tag,
)
from graph.neo4j_view import Neo4jView
from graph.store import (
    JSON,
    EdgeRow,
    NodeRow,
    PendingReference,
    RowState,
    RunRecord,
    SnapshotRow,
    StoreView,
    StoreWriter,
    batches,
    canonical_json,
)

# --- units of work: each runs in one transaction, retried whole by the driver -------


def _upsert_nodes(tx: Tx, label: str, upserts: Rows, befores: Rows, run: int) -> None:
    """Keep the state before (for updates), then write the new one."""
    if befores:
        tx.run(f"node_history:{label}", rows=befores, label=label, run=run, change="updated")
    tx.run(f"node_upsert:{label}", rows=upserts, run=run)


def _delete_owned(tx: Tx, label: str, keys: list[str]) -> None:
    tx.run(f"edge_delete_owned:{label}", keys=keys, label=label)
    tx.run("pending_delete_owned", keys=keys, label=label)


def _merge_edges(tx: Tx, tag: str, rows: Rows, maps: Rows,
                 pending: set[str]) -> tuple[Rows, list[str]]:
    """Relationships for rows whose ends both exist; the others wait as pending
    references. Returns (pending written, pending ids now linked)."""
    linked = {r["i"] for r in tx.run(f"edge_merge:{tag}", rows=rows)}
    waiting = [p for i, p in enumerate(maps) if i not in linked]
    done = [p["id"] for i, p in enumerate(maps) if i in linked and p["id"] in pending]
    if waiting:
        tx.run("pending_merge", rows=[{"id": p["id"], "all": p} for p in waiting])
    if done:
        tx.run("pending_delete", ids=done)
    return waiting, done


def _deactivate_edges(tx: Tx, type: str, pairs: list[list[str]], run: int) -> None:
    for combo in COMBOS_BY_TYPE[type]:
        tx.run(f"edge_deactivate:{tag(combo)}", pairs=pairs, run=run)
    tx.run("pending_deactivate", pairs=pairs, type=type, run=run)


def _link_pending(tx: Tx, tag: str, rows: Rows, ids: list[str]) -> None:
    tx.run(f"edge_merge:{tag}", rows=rows)
    tx.run("pending_delete", ids=ids)


def _by_label(rows: Sequence[NodeRow]) -> dict[str, list[NodeRow]]:
    by_label: dict[str, list[NodeRow]] = defaultdict(list)
    for r in rows:
        by_label[r.label].append(r)
    return by_label


class Neo4jWriter(StoreWriter):
    """Writes of one run, in chunks (see the module docstring)."""

    def __init__(self, db: Database, run_id: int, run_date: str, stale_runs: set[int]) -> None:
        self.db = db
        self.run_id = run_id
        self.run_date = run_date
        self.finished = False
        self._stale = stale_runs
        self._seq = 0
        self._pending: dict[str, JSON] | None = None

    # --- what is stored -------------------------------------------------------

    def _hash(self, row_hash: str | None, run: int | None) -> str | None:
        """A row written by a run that did not complete counts as not written."""
        return None if run in self._stale else row_hash

    def row_states(self, label: str) -> dict[str, RowState]:
        return {r["key"]: RowState(self._hash(r["hash"], r["run"]), bool(r["active"]),
                                   bool(r["absent"]), r["source"])
                for r in self.db.read(f"node_states:{label}")}

    def edge_row_states(self, type: str) -> dict[tuple[str, str], RowState]:
        out: dict[tuple[str, str], RowState] = {}
        for combo in COMBOS_BY_TYPE[type]:
            for r in self.db.read(f"edge_row_states:{tag(combo)}"):
                active = bool(r["active"])
                out[(r["src"], r["dst"])] = RowState(self._hash(r["hash"], r["run"]), active,
                                                     not active, r["source"])
        for p in self.pending().values():
            if p["type"] == type and p.get("owner_label") is None:
                active = bool(p.get("f_active", True))
                out[(p["src_key"], p["dst_key"])] = RowState(
                    self._hash(p.get("f_hash"), p.get("run")), active, not active,
                    p.get("f_source"))
        return out

    def existing_keys(self, label: str, keys: Iterable[str]) -> set[str]:
        found: set[str] = set()
        for chunk in batches(sorted(set(keys)), BATCH):
            found.update(r["key"] for r in self.db.read(f"node_existing:{label}",
                                                        keys=chunk))
        return found

    def node_props(self, label: str, keys: Iterable[str]) -> dict[str, JSON]:
        out: dict[str, JSON] = {}
        for chunk in batches(sorted(set(keys)), BATCH):
            out.update((r["key"], orjson.loads(r["props"]))
                       for r in self.db.read(f"node_props:{label}", keys=chunk))
        return out

    def pending(self) -> dict[str, JSON]:
        """Pending references by id (read once per run, then kept up to date here)."""
        if self._pending is None:
            self._pending = {r["p"]["id"]: r["p"] for r in self.db.read("pending_all")}
        return self._pending

    # --- nodes -----------------------------------------------------------------

    def _seqs(self, n: int) -> range:
        start = self._seq
        self._seq += n
        return range(start, start + n)

    def write_nodes(self, rows: Sequence[NodeRow], *, history: bool) -> None:
        for label, group in _by_label(rows).items():
            for chunk in batches(group, BATCH):
                upserts = [{"key": r.key, "all": node_map(
                    label, r.key, r.props, f_hash=r.row_hash, f_source=r.source,
                    f_active=r.active, f_changed_run=self.run_id)} for r in chunk]
                befores = [{"key": r.key, "seq": s, "hash": r.row_hash}
                           for r, s in zip(chunk, self._seqs(len(chunk)), strict=True)
                           ] if history else []
                self.db.write(_upsert_nodes, label, upserts, befores, self.run_id)

    def ensure_nodes(self, rows: Sequence[NodeRow]) -> None:
        for label, group in _by_label(rows).items():
            for chunk in batches(group, BATCH):
                payload = [{"key": r.key, "all": node_map(label, r.key, r.props,
                                                          f_source=r.source, f_active=True)}
                           for r in chunk]
                self.db.write_one(f"node_ensure:{label}", rows=payload, run=self.run_id)

    def deactivate_nodes(self, label: str, keys: Sequence[str], reason: str) -> None:
        for chunk in batches(keys, BATCH):
            rows = [{"key": k, "seq": s} for k, s in zip(chunk, self._seqs(len(chunk)),
                                                         strict=True)]
            self.db.write_one(f"node_deactivate:{label}", rows=rows, label=label,
                              run=self.run_id, change=reason, date=self.run_date)

    # --- edges -----------------------------------------------------------------

    def replace_owned_edges(self, owner_label: str, owner_keys: Sequence[str],
                            edges: Sequence[EdgeRow]) -> None:
        owners = set(owner_keys)
        for chunk in batches(sorted(owners), BATCH):
            self.db.write(_delete_owned, owner_label, chunk)
        pending = self.pending()
        for pid in [pid for pid, p in pending.items()
                    if p.get("owner_label") == owner_label and p.get("owner_key") in owners]:
            del pending[pid]
        self._write_edges(edges)

    def write_edges(self, edges: Sequence[EdgeRow]) -> None:
        self._write_edges(edges)

    def write_edges_of_runs(self, edges: Sequence[EdgeRow], runs: Sequence[int]) -> None:
        """Edges each written by its own earlier run (restoring a dump)."""
        self._write_edges(edges, runs)

    def _write_edges(self, edges: Sequence[EdgeRow], runs: Sequence[int] | None = None) -> None:
        """Relationships where both ends exist, pending references where one is missing;
        each written by this run, or by ``runs[i]`` (restoring a dump)."""
        by_combo: dict[tuple[str, str, str], list[tuple[EdgeRow, int]]] = defaultdict(list)
        for i, e in enumerate(edges):
            by_combo[(e.type, e.src_label, e.dst_label)].append(
                (e, runs[i] if runs is not None else self.run_id))
        pending = self.pending()
        for combo, group in by_combo.items():
            for chunk in batches(group, BATCH):
                rows = [{"i": i, "src": e.src_key, "dst": e.dst_key, "rel": edge_map(e, run)}
                        for i, (e, run) in enumerate(chunk)]
                maps = [pending_map(e, run) for e, run in chunk]
                waiting, done = self.db.write(_merge_edges, tag(combo), rows, maps,
                                              set(pending))
                for pid in done:
                    pending.pop(pid, None)
                pending.update((p["id"], p) for p in waiting)

    def deactivate_edges(self, type: str, pairs: Sequence[tuple[str, str]]) -> None:
        pending = self.pending()
        for chunk in batches(pairs, BATCH):
            self.db.write(_deactivate_edges, type, [list(p) for p in chunk], self.run_id)
        wanted = set(pairs)
        for p in pending.values():
            if (p["type"] == type and p.get("owner_label") is None
                    and (p["src_key"], p["dst_key"]) in wanted):
                p["f_active"], p["run"] = False, self.run_id

    # --- pending references ------------------------------------------------------

    def _ends(self, pending: Iterable[JSON], *, alternatives: bool) -> dict[str, set[str]]:
        wanted: dict[str, set[str]] = defaultdict(set)
        for p in pending:
            wanted[p["src_label"]].add(p["src_key"])
            labels = m.targets(p["type"], p["src_label"]) if alternatives else [p["dst_label"]]
            for label in labels:
                wanted[label].add(p["dst_key"])
        return {label: self.existing_keys(label, keys) for label, keys in wanted.items()}

    def relink_pending(self) -> None:
        pending = self.pending()
        multi = [p for p in pending.values() if len(m.targets(p["type"], p["src_label"])) > 1]
        if multi:
            found = self._ends(multi, alternatives=True)
            moved: list[EdgeRow] = []
            old: list[str] = []   # their pending ids, under the label they named
            for p in multi:
                if p["dst_key"] in found[p["dst_label"]]:
                    continue
                alt = next((t for t in m.targets(p["type"], p["src_label"])
                            if t != p["dst_label"] and p["dst_key"] in found[t]), None)
                if alt is None:
                    continue
                e = pending_edge(p)
                e.dst_label = alt
                moved.append(e)
                old.append(p["id"])
                del pending[p["id"]]
            if moved:
                self._write_edges(moved)
                for ids in batches(old, BATCH):
                    self.db.write_one("pending_delete", ids=ids)
        self._link_completed()

    def _link_completed(self) -> dict[str, set[str]]:
        """Pending references whose both ends now exist become relationships (keeping
        the run that declared them). Returns which ends exist, by label."""
        pending = self.pending()
        if not pending:
            return {}
        found = self._ends(pending.values(), alternatives=False)
        ready: dict[tuple[str, str, str], list[JSON]] = defaultdict(list)
        for p in pending.values():
            if p["src_key"] in found[p["src_label"]] and p["dst_key"] in found[p["dst_label"]]:
                ready[(p["type"], p["src_label"], p["dst_label"])].append(p)
        for combo, group in ready.items():
            for chunk in batches(group, BATCH):
                rows = [{"i": i, "src": p["src_key"], "dst": p["dst_key"],
                         "rel": edge_map(pending_edge(p), int(p.get("run", self.run_id)))}
                        for i, p in enumerate(chunk)]
                ids = [p["id"] for p in chunk]
                self.db.write(_link_pending, tag(combo), rows, ids)
                for pid in ids:
                    del pending[pid]
        return found

    def pending_references(self, types: Iterable[str]) -> list[PendingReference]:
        found = self._link_completed()
        pending = list(self.pending().values())
        out: list[PendingReference] = []
        for t in types:
            rows = sorted((p for p in pending if p["type"] == t
                           and p["dst_key"] not in found[p["dst_label"]]),
                          key=lambda p: (p["src_label"], p["src_key"], p["dst_label"],
                                         p["dst_key"]))
            out.extend(PendingReference(p["type"], p["src_label"], p["src_key"],
                                        p["dst_label"], p["dst_key"], int(p["run"]))
                       for p in rows)
        return out

    # --- run bookkeeping -------------------------------------------------------------

    def view(self) -> StoreView:
        return Neo4jView(self.db)

    def write_snapshot(self, rows: Sequence[SnapshotRow]) -> None:
        payload = [{"id": f"{r.run_id}|{r.scope_kind}|{r.code}", "run_id": r.run_id,
                    "scope_kind": r.scope_kind, "code": r.code,
                    "figures": canonical_json(r.figures)} for r in rows]
        for chunk in batches(payload, BATCH):
            self.db.write_one("snapshot_merge", rows=chunk)

    def copy_last_snapshot(self, settings: JSON) -> bool:
        rows = self.db.read("snapshot_last_all")
        if not rows or orjson.loads(rows[0]["figures"]).get("settings") != settings:
            return False
        self.db.write_one("snapshot_copy", source=rows[0]["run_id"], run=self.run_id)
        return True

    def finish(self, record: RunRecord) -> None:
        self.db.write_one("run_end", run=self.run_id, finished_at=record.finished_at,
                          status=record.status, record=canonical_json(asdict(record)))
        self.finished = True
