"""The Neo4j store: the store interface over a Neo4j 5 database (5.26 LTS the reference).

Layout and statements: ``graph.neo4j_cypher``. Differences from the embedded store that
the interface allows, and why:

* **A run commits in chunks** (one managed transaction per batch of rows), because a
  province-sized run is too big for one transaction. A run that dies half way keeps
  its status ``incomplete``; rows it touched report no row hash (``row_states``), so
  running the same files again rewrites them and completes it — chunks are idempotent
  MERGE/SET. Readers' ``version()`` moves only when a run ends, so a serving API keeps
  its previous snapshot while a run writes.
* **The ingest lock** is a ``(:FugaiLock)`` node with a heartbeat; a lock whose holder
  stopped beating for ``STALE_AFTER`` seconds (a killed process) is taken over and
  that run is marked incomplete.
* **References to nodes not stored yet** cannot be relationships (a relationship needs
  both ends), so they wait as ``(:PendingReference)`` nodes and become relationships
  as soon as both ends exist. Readers see them exactly as the embedded store shows its
  dangling edges, so both stores answer alike.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict
from datetime import datetime

import orjson
import pandas as pd

from graph import model as m
from graph import neo4j_cypher as cy
from graph import neo4j_transfer
from graph.errors import FugaiError, StoreBusy
from graph.neo4j_db import Database, Rows, Tx, migrate
from graph.neo4j_rows import (
    batches,
    edge_map,
    node_map,
    pending_edge,
    pending_map,
)
from graph.store import (
    JSON,
    Edge,
    EdgeRow,
    Node,
    NodeRow,
    PendingReference,
    RowState,
    RunRecord,
    SnapshotRow,
    Store,
    StoreDump,
    StoreView,
    StoreWriter,
    canonical_json,
    prop_columns,
    run_record_from_json,
    table_frame,
)

#: seconds between lock heartbeats, and of silence after which a lock counts as dead
HEARTBEAT_EVERY = 30
STALE_AFTER = 300

#: every (type, source label, target label) a relationship can have
EDGE_TYPES = cy.EDGE_COMBOS
_COMBOS_BY_TYPE: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
for _combo in cy.EDGE_COMBOS:
    _COMBOS_BY_TYPE[_combo[0]].append(_combo)


def _tag(combo: tuple[str, str, str]) -> str:
    return ":".join(combo)


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
    for combo in _COMBOS_BY_TYPE[type]:
        tx.run(f"edge_deactivate:{_tag(combo)}", pairs=pairs, run=run)
    tx.run("pending_deactivate", pairs=pairs, type=type, run=run)


def _link_pending(tx: Tx, tag: str, rows: Rows, ids: list[str]) -> None:
    tx.run(f"edge_merge:{tag}", rows=rows)
    tx.run("pending_delete", ids=ids)


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
        for combo in _COMBOS_BY_TYPE[type]:
            for r in self.db.read(f"edge_row_states:{_tag(combo)}"):
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
        for chunk in batches(sorted(set(keys))):
            found.update(r["key"] for r in self.db.read(f"node_existing:{label}",
                                                        keys=list(chunk)))
        return found

    def node_props(self, label: str, keys: Iterable[str]) -> dict[str, JSON]:
        out: dict[str, JSON] = {}
        for chunk in batches(sorted(set(keys))):
            out.update((r["key"], orjson.loads(r["props"]))
                       for r in self.db.read(f"node_props:{label}", keys=list(chunk)))
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
        by_label: dict[str, list[NodeRow]] = defaultdict(list)
        for r in rows:
            by_label[r.label].append(r)
        for label, group in by_label.items():
            for chunk in batches(group):
                upserts = [{"key": r.key, "all": node_map(
                    label, r.key, r.props, f_hash=r.row_hash, f_source=r.source,
                    f_active=r.active, f_changed_run=self.run_id)} for r in chunk]
                befores = [{"key": r.key, "seq": s, "hash": r.row_hash}
                           for r, s in zip(chunk, self._seqs(len(chunk)), strict=True)]

                self.db.write(_upsert_nodes, label, upserts, befores if history else [],
                              self.run_id)

    def ensure_nodes(self, rows: Sequence[NodeRow]) -> None:
        by_label: dict[str, list[NodeRow]] = defaultdict(list)
        for r in rows:
            by_label[r.label].append(r)
        for label, group in by_label.items():
            for chunk in batches(group):
                payload = [{"key": r.key, "all": node_map(label, r.key, r.props,
                                                          f_source=r.source, f_active=True)}
                           for r in chunk]
                self.db.write_one(f"node_ensure:{label}", rows=payload, run=self.run_id)

    def deactivate_nodes(self, label: str, keys: Sequence[str], reason: str) -> None:
        for chunk in batches(list(keys)):
            rows = [{"key": k, "seq": s} for k, s in zip(chunk, self._seqs(len(chunk)),
                                                         strict=True)]
            self.db.write_one(f"node_deactivate:{label}", rows=rows, label=label,
                              run=self.run_id, change=reason, date=self.run_date)

    # --- edges -----------------------------------------------------------------

    def replace_owned_edges(self, owner_label: str, owner_keys: Sequence[str],
                            edges: Sequence[EdgeRow]) -> None:
        owners = set(owner_keys)
        for chunk in batches(sorted(owners)):
            self.db.write(_delete_owned, owner_label, list(chunk))
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
            for chunk in batches(group):
                rows = [{"i": i, "src": e.src_key, "dst": e.dst_key, "rel": edge_map(e, run)}
                        for i, (e, run) in enumerate(chunk)]
                maps = [pending_map(e, run) for e, run in chunk]
                waiting, done = self.db.write(_merge_edges, _tag(combo), rows, maps,
                                              set(pending))
                for pid in done:
                    pending.pop(pid, None)
                pending.update((p["id"], p) for p in waiting)

    def deactivate_edges(self, type: str, pairs: Sequence[tuple[str, str]]) -> None:
        pending = self.pending()
        for chunk in batches(list(pairs)):
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
                self.db.write_one("pending_delete", ids=[p["id"]])
                del pending[p["id"]]
            self._write_edges(moved)
        self._link_completed()

    def _link_completed(self) -> None:
        """Pending references whose both ends now exist become relationships (keeping
        the run that declared them)."""
        pending = self.pending()
        if not pending:
            return
        found = self._ends(pending.values(), alternatives=False)
        ready: dict[tuple[str, str, str], list[JSON]] = defaultdict(list)
        for p in pending.values():
            if p["src_key"] in found[p["src_label"]] and p["dst_key"] in found[p["dst_label"]]:
                ready[(p["type"], p["src_label"], p["dst_label"])].append(p)
        for combo, group in ready.items():
            for chunk in batches(group):
                rows = [{"i": i, "src": p["src_key"], "dst": p["dst_key"],
                         "rel": edge_map(pending_edge(p), int(p.get("run", self.run_id)))}
                        for i, p in enumerate(chunk)]
                ids = [p["id"] for p in chunk]
                self.db.write(_link_pending, _tag(combo), rows, ids)
                for pid in ids:
                    del pending[pid]

    def pending_references(self, types: Iterable[str]) -> list[PendingReference]:
        self._link_completed()
        pending = list(self.pending().values())
        found = self._ends(pending, alternatives=False)
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
        for chunk in batches(payload):
            self.db.write_one("snapshot_merge", rows=list(chunk))

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
               for _, src, dst in _COMBOS_BY_TYPE[type]
               for r in self.db.read(f"edge_all:{type}:{src}:{dst}")]
        out += [Edge(type, e.src_label, e.src_key, e.dst_label, e.dst_key, e.props, e.active)
                for e in map(pending_edge, (r["p"] for r in self.db.read(
                    "pending_by_type", type=type)))]
        return out

    def edges(self, type: str | None = None) -> Iterator[Edge]:
        types = [type] if type else sorted(_COMBOS_BY_TYPE)
        edges = [e for t in types for e in self._edges(t)]
        yield from sorted(edges, key=lambda e: (e.type, e.src_key, e.dst_key, e.src_label,
                                                e.dst_label))

    def node_table(self, label: str, props: Sequence[str]) -> pd.DataFrame:
        rows = sorted(self.db.read(f"node_table:{label}"), key=lambda r: r["key"])
        maps = [orjson.loads(r["props"]) for r in rows] if props else []
        return table_frame({"key": [r["key"] for r in rows],
                            "active": [int(bool(r["active"])) for r in rows],
                            "first_run": [r["first_run"] for r in rows],
                            **prop_columns(maps, props)})

    def edge_table(self, type: str, props: Sequence[str] = ()) -> pd.DataFrame:
        ends: list[tuple[str, str, str, str]] = []
        maps: list[JSON] = []
        for _, src, dst in _COMBOS_BY_TYPE[type]:
            for r in self.db.read(f"edge_table:{type}:{src}:{dst}"):
                ends.append((src, r["src"], dst, r["dst"]))
                maps.append(orjson.loads(r["props"]))
        for r in self.db.read("pending_by_type", type=type):
            p = r["p"]
            if p.get("f_active", True):
                ends.append((p["src_label"], p["src_key"], p["dst_label"], p["dst_key"]))
                maps.append(orjson.loads(p.get("f_props") or "{}"))
        order = sorted(range(len(ends)), key=ends.__getitem__)
        ends = [ends[i] for i in order]
        maps = [maps[i] for i in order]
        return table_frame({"src_label": [e[0] for e in ends], "src": [e[1] for e in ends],
                            "dst_label": [e[2] for e in ends], "dst": [e[3] for e in ends],
                            **prop_columns(maps, props)})

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
            for row in self.db.read(f"edge_count:{_tag(combo)}"):
                edges[combo[0]] += int(row["n"])
        for row in self.db.read("pending_count"):
            edges[row["type"]] += int(row["n"])
        out["edges"] = {t: n for t, n in sorted(edges.items()) if n}
        return out


class _Heartbeat:
    """Keeps the ingest lock alive from a thread while the run works."""

    def __init__(self, db: Database, run_id: int) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, args=(db, run_id), daemon=True,
                                        name=f"fugai-lock-{run_id}")
        self._thread.start()

    def _beat(self, db: Database, run_id: int) -> None:
        while not self._stop.wait(HEARTBEAT_EVERY):
            # a missed beat (server briefly away) is simply tried again next time
            with suppress(FugaiError):
                db.write_one("lock_heartbeat", run=run_id, now=time.time())

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


class Neo4jStore(Store):
    """A Neo4j database; the schema is brought up to date when the store opens."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.uri = db.uri
        migrate(db)

    @classmethod
    def connect(cls, uri: str, *, user: str, password: str, database: str) -> Neo4jStore:
        return cls(Database.connect(uri, user, password, database))

    @contextmanager
    def writer(self, started_at: str, run_date: str) -> Iterator[StoreWriter]:
        now = time.time()
        taken = self.db.write_one("lock_acquire", now=now, stale_before=now - STALE_AFTER)
        if not taken:
            raise StoreBusy(f"Neo4j 数据库正被另一批导入占用: {self.uri}")
        run_id = int(taken[0]["run_id"])
        beat = _Heartbeat(self.db, run_id)
        writer: Neo4jWriter | None = None
        try:
            self.db.write_one("run_mark_stale", run=run_id)
            self.db.write_one("run_begin", run=run_id, started_at=started_at)
            stale = {int(r["run_id"]) for r in self.db.read("run_incomplete")}
            writer = Neo4jWriter(self.db, run_id, run_date, stale)
            yield writer
            if not writer.finished:
                self._end_incomplete(writer, started_at)
        except BaseException:
            # the chunks written so far stay; the record says so until a re-run completes
            with suppress(FugaiError):
                if writer is not None and not writer.finished:
                    self._end_incomplete(writer, started_at)
            raise
        finally:
            beat.stop()
            with suppress(FugaiError):
                self.db.write_one("lock_release", run=run_id)

    @staticmethod
    def _end_incomplete(writer: Neo4jWriter, started_at: str) -> None:
        writer.finish(RunRecord(run_id=writer.run_id, started_at=started_at,
                                finished_at=datetime.now().isoformat(timespec="seconds"),
                                status="incomplete"))

    def view(self) -> Neo4jView:
        return Neo4jView(self.db)

    def dump(self) -> StoreDump:
        return neo4j_transfer.dump(self.db)

    def restore(self, dump: StoreDump) -> None:
        neo4j_transfer.restore(self.db, Neo4jWriter(self.db, 0, "", set()), dump)

    def wipe(self) -> None:
        """Delete everything (a throw-away test database, ``fugai migrate --replace``);
        the constraints stay, the schema version is recorded again."""
        self.db.auto("wipe")
        migrate(self.db)

    def close(self) -> None:
        self.db.close()
