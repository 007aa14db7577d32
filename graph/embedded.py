"""The embedded store: SQLite (WAL) on disk, a networkx graph in memory for queries.

SQLite is the durable truth. One ingest run is one ``BEGIN IMMEDIATE`` transaction:
a run killed at any moment (even ``kill -9``) leaves the file as it was before the
run, and a reader in another process (the API server) keeps reading the last
committed state while a run writes, then sees the new one on its next call
(``version()`` follows SQLite's ``PRAGMA data_version`` plus the last run id).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import orjson
import pandas as pd

from graph import model as m
from graph.errors import StoreBusy, StoreUnavailable
from graph.prepared import PreparedRows
from graph.sqlite_tables import Source, read_property_table
from graph.store import (
    JSON,
    Edge,
    EdgeRow,
    HistoryEntry,
    Node,
    NodeRow,
    PendingReference,
    RowState,
    RunRecord,
    SnapshotRow,
    Store,
    StoredEdge,
    StoredNode,
    StoreDump,
    StoreView,
    StoreWriter,
    batches,
    canonical_json,
    edge_order,
    node_order,
    props_json,
    run_record_from_json,
)

#: 2: no secondary edge indexes (no query used edges_dst; deletes by owner go through
#: the primary key, the owner being the edge's source)
SCHEMA_VERSION = 2

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (
    label TEXT NOT NULL, key TEXT NOT NULL, props TEXT NOT NULL,
    row_hash TEXT, source TEXT, active INTEGER NOT NULL,
    absent_since TEXT, first_run INTEGER NOT NULL, changed_run INTEGER NOT NULL,
    PRIMARY KEY (label, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS edges (
    type TEXT NOT NULL, src_label TEXT NOT NULL, src_key TEXT NOT NULL,
    dst_label TEXT NOT NULL, dst_key TEXT NOT NULL, props TEXT NOT NULL,
    owner_label TEXT, owner_key TEXT, row_hash TEXT, source TEXT,
    active INTEGER NOT NULL, run INTEGER NOT NULL,
    PRIMARY KEY (type, src_label, src_key, dst_label, dst_key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS history (
    label TEXT NOT NULL, key TEXT NOT NULL, run_id INTEGER NOT NULL,
    change TEXT NOT NULL, before TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS history_node ON history (label, key);
CREATE TABLE IF NOT EXISTS snapshots (
    run_id INTEGER NOT NULL, scope_kind TEXT NOT NULL, code TEXT NOT NULL,
    figures TEXT NOT NULL, PRIMARY KEY (scope_kind, code, run_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT,
    status TEXT NOT NULL, record TEXT NOT NULL);
"""

#: bytes per page of a new store file (an existing file keeps its own). 16 KiB pages
#: took a third off the province's node inserts and a tenth off its commit compared
#: with SQLite's 4 KiB default: the rows are a few hundred bytes of JSON each
PAGE_SIZE = 16384


def _connect(path: Path, *, timeout: float) -> sqlite3.Connection:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), timeout=timeout, isolation_level=None,
                               check_same_thread=False)
        conn.execute(f"PRAGMA page_size={PAGE_SIZE}")   # before WAL: only a new file takes it
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.execute("PRAGMA cache_size=-200000")
        conn.execute("PRAGMA temp_store=MEMORY")
    except (sqlite3.Error, OSError) as exc:
        raise StoreUnavailable(f"无法打开数据库 {path}: {exc}") from exc
    return conn


#: keys per ``IN (…)`` list: under the 999 bound variables older SQLite builds allow
IN_LIST = 900
#: the relationship types a node of each label can declare (its owned edges start there)
_OWNED_TYPES: dict[str, tuple[str, ...]] = {
    label: tuple(sorted({r.type for r in m.ALL_RELATIONSHIPS if r.source == label}))
    for label in {r.source for r in m.ALL_RELATIONSHIPS}
}
#: the writer's page cache (KiB): a province run touches about a gigabyte of pages
WRITER_CACHE_KIB = 1_000_000


_UPSERT_NODE = (
    "INSERT INTO nodes (label, key, props, row_hash, source, active, absent_since,"
    " first_run, changed_run) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?)"
    " ON CONFLICT (label, key) DO UPDATE SET props = excluded.props,"
    " row_hash = excluded.row_hash, source = excluded.source,"
    " active = excluded.active, absent_since = NULL, changed_run = excluded.changed_run")
_ENSURE_NODE = (
    "INSERT OR IGNORE INTO nodes (label, key, props, row_hash, source, active,"
    " absent_since, first_run, changed_run) VALUES (?, ?, ?, NULL, ?, 1, NULL, ?, ?)")
_INSERT_EDGE = (
    "INSERT OR REPLACE INTO edges (type, src_label, src_key, dst_label, dst_key, props,"
    " owner_label, owner_key, row_hash, source, active, run)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


class EmbeddedWriter(StoreWriter):
    """Writes of one run. Rows are written in primary-key order (B-tree appends instead
    of random page splits); the tables have no secondary indexes to keep up."""

    def __init__(self, conn: sqlite3.Connection, run_id: int, run_date: str) -> None:
        self.conn = conn
        self.run_id = run_id
        self.run_date = run_date
        conn.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")

    def row_states(self, label: str) -> dict[str, RowState]:
        cur = self.conn.execute(
            "SELECT key, row_hash, active, absent_since, source FROM nodes WHERE label = ?",
            (label,))
        return {k: RowState(h, bool(a), s is not None, src) for k, h, a, s, src in cur}

    def edge_row_states(self, type: str) -> dict[tuple[str, str], RowState]:
        cur = self.conn.execute(
            "SELECT src_key, dst_key, row_hash, active, source FROM edges"
            " WHERE type = ? AND owner_label IS NULL", (type,))
        return {(s, d): RowState(h, bool(a), not a, src) for s, d, h, a, src in cur}

    def existing_keys(self, label: str, keys: Iterable[str]) -> set[str]:
        found: set[str] = set()
        for chunk in batches(set(keys), IN_LIST):
            marks = ",".join("?" * len(chunk))
            cur = self.conn.execute(
                f"SELECT key FROM nodes WHERE label = ? AND key IN ({marks})", (label, *chunk))
            found.update(k for (k,) in cur)
        return found

    def node_props(self, label: str, keys: Iterable[str]) -> dict[str, JSON]:
        out: dict[str, JSON] = {}
        for chunk in batches(set(keys), IN_LIST):
            marks = ",".join("?" * len(chunk))
            cur = self.conn.execute(
                f"SELECT key, props FROM nodes WHERE label = ? AND key IN ({marks})",
                (label, *chunk))
            out.update((k, orjson.loads(p)) for k, p in cur)
        return out

    def write_nodes(self, rows: Sequence[NodeRow], *, history: bool) -> None:
        rows = sorted(rows, key=node_order)
        if history:
            self.conn.executemany(
                "INSERT INTO history (label, key, run_id, change, before)"
                " SELECT label, key, ?, 'updated', props FROM nodes WHERE label = ? AND key = ?",
                ((self.run_id, r.label, r.key) for r in rows))
        self.conn.executemany(_UPSERT_NODE, (
            (r.label, r.key, canonical_json(r.props), r.row_hash, r.source, int(r.active),
             self.run_id, self.run_id) for r in rows))

    def ensure_nodes(self, rows: Sequence[NodeRow]) -> None:
        rows = sorted(rows, key=node_order)
        self.conn.executemany(_ENSURE_NODE, (
            (r.label, r.key, canonical_json(r.props), r.source, self.run_id, self.run_id)
            for r in rows))

    def write_prepared(self, rows: PreparedRows) -> None:
        # straight from the scratch file: the JSON and the order are the stores' own already
        run = self.run_id
        self.conn.executemany(_UPSERT_NODE, ((*row, run, run) for row in rows.nodes()))
        self.conn.executemany(_ENSURE_NODE, (
            (label, key, props, source, run, run) for label, key, props, source in rows.places()))
        self.conn.executemany(_INSERT_EDGE, ((*row, run) for row in rows.edges()))

    def replace_owned_edges(self, owner_label: str, owner_keys: Sequence[str],
                            edges: Sequence[EdgeRow]) -> None:
        # an owned edge starts at its owner: the primary key finds it, type by type
        types = _OWNED_TYPES.get(owner_label, ())
        marks = ",".join("?" * len(types))
        self.conn.executemany(
            f"DELETE FROM edges WHERE type IN ({marks}) AND src_label = ? AND src_key = ?"
            " AND owner_label = ? AND owner_key = ?",
            ((*types, owner_label, k, owner_label, k) for k in owner_keys))
        self._insert_edges(edges)

    def write_edges(self, edges: Sequence[EdgeRow]) -> None:
        self._insert_edges(edges)

    def _insert_edges(self, edges: Sequence[EdgeRow]) -> None:
        if not edges:
            return
        edges = sorted(edges, key=edge_order)
        self.conn.executemany(_INSERT_EDGE, (
            (e.type, e.src_label, e.src_key, e.dst_label, e.dst_key, props_json(e.props),
             e.owner_label, e.owner_key, e.row_hash, e.source, int(e.active), self.run_id)
            for e in edges))

    def deactivate_nodes(self, label: str, keys: Sequence[str], reason: str) -> None:
        self.conn.executemany(
            "INSERT INTO history (label, key, run_id, change, before)"
            " SELECT label, key, ?, ?, props FROM nodes WHERE label = ? AND key = ?",
            ((self.run_id, reason, label, k) for k in keys))
        self.conn.executemany(
            "UPDATE nodes SET active = 0, absent_since = ?, changed_run = ?"
            " WHERE label = ? AND key = ?",
            ((self.run_date, self.run_id, label, k) for k in keys))

    def deactivate_edges(self, type: str, pairs: Sequence[tuple[str, str]]) -> None:
        self.conn.executemany(
            "UPDATE edges SET active = 0, run = ? WHERE type = ? AND src_key = ? AND dst_key = ?"
            " AND owner_label IS NULL",
            ((self.run_id, type, s, d) for s, d in pairs))

    def relink_pending(self) -> None:
        for rel in m.RELATIONSHIPS.values():
            if len(rel.targets) < 2:
                continue
            for alt in rel.targets:
                self.conn.execute(
                    "UPDATE OR IGNORE edges SET dst_label = ? WHERE type = ? AND src_label = ?"
                    " AND dst_label != ?"
                    " AND NOT EXISTS (SELECT 1 FROM nodes n WHERE n.label = edges.dst_label"
                    "                 AND n.key = edges.dst_key)"
                    " AND EXISTS (SELECT 1 FROM nodes n WHERE n.label = ?"
                    "             AND n.key = edges.dst_key)",
                    (alt, rel.type, rel.source, alt, alt))

    def pending_references(self, types: Iterable[str]) -> list[PendingReference]:
        out: list[PendingReference] = []
        for t in types:
            out.extend(PendingReference(*row) for row in self.conn.execute(
                "SELECT type, src_label, src_key, dst_label, dst_key, run FROM edges e"
                " WHERE type = ? AND NOT EXISTS (SELECT 1 FROM nodes n"
                " WHERE n.label = e.dst_label AND n.key = e.dst_key)", (t,)))
        return out

    def view(self) -> StoreView:
        return EmbeddedView(self.conn)

    def write_snapshot(self, rows: Sequence[SnapshotRow]) -> None:
        self.conn.executemany(
            "INSERT OR REPLACE INTO snapshots (run_id, scope_kind, code, figures)"
            " VALUES (?, ?, ?, ?)",
            ((row.run_id, row.scope_kind, row.code, canonical_json(row.figures)) for row in rows))

    def copy_last_snapshot(self, settings: JSON) -> bool:
        row = self.conn.execute(
            "SELECT run_id, figures FROM snapshots WHERE scope_kind = 'all'"
            " ORDER BY run_id DESC LIMIT 1").fetchone()
        if row is None or orjson.loads(row[1]).get("settings") != settings:
            return False
        self.conn.execute(
            "INSERT OR REPLACE INTO snapshots (run_id, scope_kind, code, figures)"
            " SELECT ?, scope_kind, code, figures FROM snapshots WHERE run_id = ?",
            (self.run_id, row[0]))
        return True

    def finish(self, record: RunRecord) -> None:
        self.conn.execute(
            "UPDATE runs SET finished_at = ?, status = ?, record = ? WHERE run_id = ?",
            (record.finished_at, record.status, canonical_json(asdict(record)), self.run_id))
        self.conn.execute("INSERT OR REPLACE INTO meta (k, v) VALUES ('last_run', ?)",
                          (str(self.run_id),))


#: an edge's primary key after its type
_EDGE_ORDER = ("src_label", "src_key", "dst_label", "dst_key")


class EmbeddedView(StoreView):
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def version(self) -> str:
        (dv,) = self.conn.execute("PRAGMA data_version").fetchone()
        row = self.conn.execute("SELECT v FROM meta WHERE k = 'last_run'").fetchone()
        return f"{row[0] if row else 0}:{dv}"

    def nodes(self, label: str) -> Iterator[Node]:
        cur = self.conn.execute(
            "SELECT key, props, active, absent_since, first_run, changed_run FROM nodes"
            " WHERE label = ? ORDER BY key", (label,))
        for key, props, active, absent, first, changed in cur:
            yield Node(label, key, orjson.loads(props), bool(active), absent, first, changed)

    def node(self, label: str, key: str) -> Node | None:
        row = self.conn.execute(
            "SELECT props, active, absent_since, first_run, changed_run FROM nodes"
            " WHERE label = ? AND key = ?", (label, key)).fetchone()
        if row is None:
            return None
        props, active, absent, first, changed = row
        return Node(label, key, orjson.loads(props), bool(active), absent, first, changed)

    def edges(self, type: str | None = None) -> Iterator[Edge]:
        sql = "SELECT type, src_label, src_key, dst_label, dst_key, props, active FROM edges"
        cur = (self.conn.execute(sql + " WHERE type = ? ORDER BY src_key, dst_key", (type,))
               if type else self.conn.execute(sql + " ORDER BY type, src_key, dst_key"))
        for t, sl, sk, dl, dk, props, active in cur:
            yield Edge(t, sl, sk, dl, dk, orjson.loads(props), bool(active))

    def node_table(self, label: str, props: Sequence[str]) -> pd.DataFrame:
        # the stored JSON read as columns by pyarrow (graph.sqlite_tables)
        return read_property_table(self.conn, ["key", "active", "first_run"], props,
                                   Source("nodes", "label = ?", (label,), ("key",)),
                                   ["key", "active", "first_run", *props])

    def edge_table(self, type: str, props: Sequence[str] = ()) -> pd.DataFrame:
        return read_property_table(self.conn, ["src_label", "src_key", "dst_label", "dst_key"],
                                   props, Source("edges", "type = ? AND active = 1", (type,),
                                                 _EDGE_ORDER),
                                   ["src_label", "src", "dst_label", "dst", *props])

    def history(self, label: str, key: str) -> list[JSON]:
        cur = self.conn.execute(
            "SELECT run_id, change, before FROM history WHERE label = ? AND key = ?"
            " ORDER BY rowid", (label, key))
        return [{"run_id": r, "change": c, "before": orjson.loads(b)} for r, c, b in cur]

    def runs(self, limit: int = 50) -> list[RunRecord]:
        cur = self.conn.execute(
            "SELECT record FROM runs WHERE status != 'running' ORDER BY run_id DESC LIMIT ?",
            (limit,))
        return [run_record_from_json(orjson.loads(rec)) for (rec,) in cur]

    def snapshots(self, scope_kind: str, code: str) -> list[SnapshotRow]:
        cur = self.conn.execute(
            "SELECT run_id, figures FROM snapshots WHERE scope_kind = ? AND code = ?"
            " ORDER BY run_id", (scope_kind, code))
        return [SnapshotRow(run, scope_kind, code, orjson.loads(f)) for run, f in cur]

    def counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for label, total, active in self.conn.execute(
                "SELECT label, COUNT(*), SUM(active) FROM nodes GROUP BY label ORDER BY label"):
            out[label] = {"total": total, "active": active or 0}
        out["edges"] = {t: n for t, n in self.conn.execute(
            "SELECT type, COUNT(*) FROM edges WHERE active = 1 GROUP BY type ORDER BY type")}
        return out


#: what brings a store file from the version before each key to that version
_MIGRATIONS: dict[int, str] = {
    2: "DROP INDEX IF EXISTS edges_owner; DROP INDEX IF EXISTS edges_dst;",
}


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Bring an older store file to ``SCHEMA_VERSION``; refuse a newer one."""
    (stored,) = conn.execute("SELECT v FROM meta WHERE k = 'schema'").fetchone()
    version = int(stored)
    if version > SCHEMA_VERSION:
        raise StoreUnavailable(
            f"数据库 {path} 的结构版本 {version} 比本程序 ({SCHEMA_VERSION}) 新: 请升级 fugai")
    for target in range(version + 1, SCHEMA_VERSION + 1):
        conn.executescript(f"BEGIN IMMEDIATE; {_MIGRATIONS[target]}"
                           f" UPDATE meta SET v = '{target}' WHERE k = 'schema'; COMMIT;")


class EmbeddedStore(Store):
    """SQLite file at ``path``; safe for one writer and any number of readers."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.uri = str(path)
        self._conn = _connect(path, timeout=30)
        try:
            self._conn.executescript(SCHEMA)
            self._conn.execute("INSERT OR IGNORE INTO meta (k, v) VALUES ('schema', ?)",
                               (str(SCHEMA_VERSION),))
            _migrate(self._conn, path)
        except sqlite3.DatabaseError as exc:
            raise StoreUnavailable(f"不是有效的 fugai 数据库 {path}: {exc}") from exc

    @contextmanager
    def writer(self, started_at: str, run_date: str) -> Iterator[StoreWriter]:
        conn = _connect(self.path, timeout=1)
        try:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise StoreBusy(f"数据库正被另一批导入占用: {self.path}") from exc
            cur = conn.execute(
                "INSERT INTO runs (started_at, status, record) VALUES (?, 'running', '{}')",
                (started_at,))
            run_id = int(cur.lastrowid or 0)
            try:
                yield EmbeddedWriter(conn, run_id, run_date)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()

    def view(self) -> EmbeddedView:
        return EmbeddedView(self._conn)

    def dump(self) -> StoreDump:
        conn = self._conn

        def nodes() -> Iterator[StoredNode]:
            for row in conn.execute(
                    "SELECT label, key, props, row_hash, source, active, absent_since,"
                    " first_run, changed_run FROM nodes ORDER BY label, key"):
                label, key, props, h, src, active, absent, first, changed = row
                yield StoredNode(label, key, orjson.loads(props), h, src, bool(active), absent,
                                 first, changed)

        def edges() -> Iterator[StoredEdge]:
            for row in conn.execute(
                    "SELECT type, src_label, src_key, dst_label, dst_key, props, owner_label,"
                    " owner_key, row_hash, source, active, run FROM edges"):
                t, sl, sk, dl, dk, props, ol, ok, h, src, active, run = row
                yield StoredEdge(EdgeRow(t, sl, sk, dl, dk, orjson.loads(props), ol, ok, h, src,
                                         bool(active)), run)

        def history() -> Iterator[HistoryEntry]:
            for label, key, run, change, before in conn.execute(
                    "SELECT label, key, run_id, change, before FROM history ORDER BY rowid"):
                yield HistoryEntry(label, key, run, change, orjson.loads(before))

        def snapshots() -> Iterator[SnapshotRow]:
            for run, kind, code, figures in conn.execute(
                    "SELECT run_id, scope_kind, code, figures FROM snapshots"):
                yield SnapshotRow(run, kind, code, orjson.loads(figures))

        (last,) = conn.execute("SELECT coalesce(max(run_id), 0) FROM runs").fetchone()
        return StoreDump(nodes(), edges(), history(), snapshots(),
                         self.view().runs(limit=1_000_000), int(last))

    def restore(self, dump: StoreDump) -> None:
        conn = _connect(self.path, timeout=1)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "INSERT INTO nodes (label, key, props, row_hash, source, active, absent_since,"
                " first_run, changed_run) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                ((n.label, n.key, canonical_json(n.props), n.row_hash, n.source,
                  int(n.active), n.absent_since, n.first_run, n.changed_run)
                 for n in dump.nodes))
            conn.executemany(
                "INSERT INTO edges (type, src_label, src_key, dst_label, dst_key, props,"
                " owner_label, owner_key, row_hash, source, active, run)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                ((e.type, e.src_label, e.src_key, e.dst_label, e.dst_key,
                  props_json(e.props), e.owner_label, e.owner_key, e.row_hash, e.source,
                  int(e.active), se.run) for se in dump.edges for e in (se.edge,)))
            conn.executemany(
                "INSERT INTO history (label, key, run_id, change, before) VALUES (?, ?, ?, ?, ?)",
                ((h.label, h.key, h.run_id, h.change, canonical_json(h.before))
                 for h in dump.history))
            conn.executemany(
                "INSERT INTO snapshots (run_id, scope_kind, code, figures) VALUES (?, ?, ?, ?)",
                ((r.run_id, r.scope_kind, r.code, canonical_json(r.figures))
                 for r in dump.snapshots))
            conn.executemany(
                "INSERT INTO runs (run_id, started_at, finished_at, status, record)"
                " VALUES (?, ?, ?, ?, ?)",
                ((r.run_id, r.started_at, r.finished_at, r.status, canonical_json(asdict(r)))
                 for r in sorted(dump.runs, key=lambda r: r.run_id)))
            conn.execute("INSERT OR REPLACE INTO meta (k, v) VALUES ('last_run', ?)",
                         (str(dump.last_complete_run),))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        finally:
            conn.close()

    def close(self) -> None:
        self._conn.close()
