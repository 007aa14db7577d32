"""The store interface: a writer that commits or rolls back, and a read view.

Shaped after nomenklatura's ``Store.writer()`` / ``Store.view()``. Values crossing
this interface are plain dataclasses of strings, numbers and JSON-able dicts, so the
embedded store (SQLite + networkx) and the Neo4j store implement the same contract
and one contract test suite runs against both.

Identity: a node is ``(label, key)``; an edge is ``(type, src, dst)``. Every write
carries the row hash of its source row, so a re-run of an unchanged file can be
recognised without writing anything ("unchanged" is decided by the caller comparing
hashes, because database write counters cannot tell it).
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, fields
from itertools import islice
from typing import TYPE_CHECKING, Any, TypeVar

import orjson
import pandas as pd

if TYPE_CHECKING:
    from graph.prepared import PreparedRows

JSON = dict[str, Any]
T = TypeVar("T")
#: prepared rows per write call of :meth:`StoreWriter.write_prepared`'s default
PREPARED_BATCH = 50_000


def batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of ``size``, read lazily (a sequence or a stream). Both stores
    use it: SQLite for its bound-variable limit, Neo4j for one transaction per list."""
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def canonical_json(value: Any) -> str:
    """The one JSON text of a value both stores keep (sorted keys, so equal values
    give equal text and the stores' answers compare equal)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


@dataclass(slots=True)
class NodeRow:
    label: str
    key: str
    props: JSON
    row_hash: str
    source: str
    active: bool = True


@dataclass(slots=True)
class EdgeRow:
    type: str
    src_label: str
    src_key: str
    dst_label: str
    dst_key: str
    props: JSON = field(default_factory=dict)
    #: the node whose row declared this edge; its edges are replaced when it changes.
    owner_label: str | None = None
    owner_key: str | None = None
    #: for rows that are edges themselves (supply links): their hash and source.
    row_hash: str | None = None
    source: str | None = None
    active: bool = True


def node_order(r: NodeRow) -> tuple[str, str]:
    """The primary-key order writes go in (B-tree appends instead of page splits)."""
    return r.label, r.key


def edge_order(e: EdgeRow) -> str:
    """An edge's primary-key order. NUL-joined: it orders like the key tuple (and like
    SQLite's BINARY collation), and one string comparison is cheaper than a tuple's."""
    return f"{e.type}\0{e.src_label}\0{e.src_key}\0{e.dst_label}\0{e.dst_key}"


def props_json(props: JSON) -> str:
    """:func:`canonical_json` of an edge's properties, which are mostly empty."""
    return canonical_json(props) if props else "{}"


@dataclass(slots=True)
class RowState:
    """What the store holds for one key: enough to classify an incoming row."""

    row_hash: str | None
    active: bool
    absent: bool
    source: str | None


@dataclass(frozen=True)
class Node:
    label: str
    key: str
    props: JSON
    active: bool
    absent_since: str | None
    first_run: int
    changed_run: int


@dataclass(frozen=True)
class Edge:
    type: str
    src_label: str
    src_key: str
    dst_label: str
    dst_key: str
    props: JSON
    active: bool


@dataclass(frozen=True)
class PendingReference:
    type: str
    src_label: str
    src_key: str
    dst_label: str
    dst_key: str
    #: the run that last wrote the reference
    run: int


@dataclass
class FileReport:
    """One file's part of a run: the run record the contract asks for."""

    path: str
    source: str
    kind: str
    mode: str
    file_hash: str
    encoding: str | None
    sheet: str | None = None
    rows_read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    quarantined: int = 0
    duplicates_merged: int = 0
    unknown_references: int = 0
    quarantine_file: str | None = None
    reasons: dict[str, int] = field(default_factory=dict)
    extra_columns: list[str] = field(default_factory=list)
    #: what besides the bytes decided the cleaning (ingest compares it to skip a re-run)
    fingerprint: str | None = None
    #: the file was byte-identical to its last ingest: not read, every row unchanged
    skipped_unchanged_file: bool = False


@dataclass
class RunRecord:
    run_id: int
    started_at: str
    finished_at: str | None
    status: str
    files: list[FileReport] = field(default_factory=list)
    pending_references: int = 0
    resolved_references: int = 0
    #: wall seconds per phase of the run (read, clean, write, link, snapshot), so a slow
    #: night can be told apart from a big one; empty on records older than this field
    seconds: dict[str, float] = field(default_factory=dict)


def run_record_from_json(data: JSON) -> RunRecord:
    """A run record as ``finish`` stored it (``canonical_json(asdict(record))``).

    Fields this version does not know (a record written by a later fugai) are left
    out rather than refused: the history of runs stays readable after a downgrade."""
    data = dict(data)
    files = [FileReport(**_known(FileReport, f)) for f in data.pop("files", [])]
    return RunRecord(files=files, **_known(RunRecord, data))


def _known(cls: type, data: JSON) -> JSON:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


@dataclass(frozen=True)
class SnapshotRow:
    """One run's coverage figures for one scope (the trend's data points)."""

    run_id: int
    scope_kind: str
    code: str
    figures: JSON


@dataclass(slots=True)
class StoredNode:
    """A node with everything a store keeps about it (moving data between stores)."""

    label: str
    key: str
    props: JSON
    row_hash: str | None
    source: str | None
    active: bool
    absent_since: str | None
    first_run: int
    changed_run: int


@dataclass(slots=True)
class StoredEdge:
    edge: EdgeRow
    #: the run that last wrote the edge
    run: int


@dataclass(frozen=True)
class HistoryEntry:
    label: str
    key: str
    run_id: int
    change: str
    before: JSON


@dataclass
class StoreDump:
    """Everything in a store, as streams (nodes before the edges between them), so a
    province-sized store moves without being held in memory twice."""

    nodes: Iterator[StoredNode]
    edges: Iterator[StoredEdge]
    history: Iterator[HistoryEntry]
    snapshots: Iterator[SnapshotRow]
    runs: list[RunRecord]
    #: the highest run id handed out (run ids continue from it in the new store)
    last_run_id: int

    @property
    def last_complete_run(self) -> int:
        """The run the restored store's figures are from."""
        return max((r.run_id for r in self.runs if r.status == "complete"), default=0)


class StoreWriter(abc.ABC):
    """All writes of one ingest run. Nothing is visible to readers until commit."""

    run_id: int
    run_date: str

    @abc.abstractmethod
    def row_states(self, label: str) -> dict[str, RowState]:
        """Every stored key of ``label`` with its row hash and activity."""

    @abc.abstractmethod
    def edge_row_states(self, type: str) -> dict[tuple[str, str], RowState]:
        """Every stored edge of ``type`` that came from a row of its own (supply links)."""

    @abc.abstractmethod
    def existing_keys(self, label: str, keys: Iterable[str]) -> set[str]:
        """Which of ``keys`` exist as ``label`` nodes (for polymorphic references)."""

    @abc.abstractmethod
    def node_props(self, label: str, keys: Iterable[str]) -> dict[str, JSON]:
        """Stored properties of a few nodes (to carry dates across an update)."""

    @abc.abstractmethod
    def write_nodes(self, rows: Sequence[NodeRow], *, history: bool) -> None:
        """Insert or replace nodes; with ``history`` the previous state is kept."""

    @abc.abstractmethod
    def ensure_nodes(self, rows: Sequence[NodeRow]) -> None:
        """Insert nodes that do not exist yet (implicit places); never overwrite."""

    @abc.abstractmethod
    def replace_owned_edges(self, owner_label: str, owner_keys: Sequence[str],
                            edges: Sequence[EdgeRow]) -> None:
        """Drop the edges declared by these owners and write ``edges`` in their place."""

    @abc.abstractmethod
    def write_edges(self, edges: Sequence[EdgeRow]) -> None:
        """Insert or replace edges that are rows themselves."""

    def write_prepared(self, rows: PreparedRows) -> None:
        """Write new nodes, their places and their edges prepared in another process
        (:mod:`graph.prepared`), as ``write_nodes``, ``ensure_nodes`` and ``write_edges``
        would. A store that can take the stored form as it is overrides this."""
        for nodes in batches(rows.node_rows(), PREPARED_BATCH):
            self.write_nodes(nodes, history=False)
        for places in batches(rows.place_rows(), PREPARED_BATCH):
            self.ensure_nodes(places)
        for edges in batches(rows.edge_rows(), PREPARED_BATCH):
            self.write_edges(edges)

    @abc.abstractmethod
    def deactivate_nodes(self, label: str, keys: Sequence[str], reason: str) -> None:
        """Mark nodes absent from a full snapshot; history is kept, nothing deleted."""

    @abc.abstractmethod
    def deactivate_edges(self, type: str, pairs: Sequence[tuple[str, str]]) -> None:
        """Mark row-edges absent from a full snapshot as inactive."""

    @abc.abstractmethod
    def relink_pending(self) -> None:
        """Point references that name another allowed target label at it, once it exists."""

    @abc.abstractmethod
    def pending_references(self, types: Iterable[str]) -> list[PendingReference]:
        """References whose target no register holds (yet)."""

    @abc.abstractmethod
    def view(self) -> StoreView:
        """A read view of this run's own, not yet committed, state."""

    @abc.abstractmethod
    def write_snapshot(self, rows: Sequence[SnapshotRow]) -> None:
        """Store this run's coverage figures for the trend."""

    @abc.abstractmethod
    def copy_last_snapshot(self, settings: JSON) -> bool:
        """Give this run the figures of the latest run that has any, if they were taken
        under ``settings``; False (nothing copied) otherwise."""

    @abc.abstractmethod
    def finish(self, record: RunRecord) -> None:
        """Store the run record; the run commits when the context exits cleanly."""


class StoreView(abc.ABC):
    """A read-only view of the last committed state."""

    @abc.abstractmethod
    def version(self) -> str:
        """Changes whenever a run commits (readers use it to refresh caches)."""

    @abc.abstractmethod
    def nodes(self, label: str) -> Iterator[Node]: ...

    @abc.abstractmethod
    def node(self, label: str, key: str) -> Node | None: ...

    @abc.abstractmethod
    def edges(self, type: str | None = None) -> Iterator[Edge]: ...

    @abc.abstractmethod
    def node_table(self, label: str, props: Sequence[str]) -> pd.DataFrame:
        """All nodes of ``label`` as columns: key, active, first_run, then ``props``
        (a dotted name reads a nested value, e.g. ``raw.机构类别``). The tabular read the
        coverage facts are built from; missing values are None/NaN."""

    @abc.abstractmethod
    def edge_table(self, type: str, props: Sequence[str] = ()) -> pd.DataFrame:
        """Active edges of ``type`` as columns: src_label, src, dst_label, dst, ``props``."""

    @abc.abstractmethod
    def history(self, label: str, key: str) -> list[JSON]:
        """Earlier states of a node, oldest first, with the run that changed it."""

    @abc.abstractmethod
    def runs(self, limit: int = 50) -> list[RunRecord]: ...

    @abc.abstractmethod
    def snapshots(self, scope_kind: str, code: str) -> list[SnapshotRow]:
        """The stored figures of one scope, oldest run first."""

    @abc.abstractmethod
    def counts(self) -> dict[str, dict[str, int]]:
        """label -> {"total": n, "active": n}; edge types under "edges"."""


class Store(abc.ABC):
    """Opens writers and views. Implementations: ``EmbeddedStore``, ``Neo4jStore``."""

    uri: str

    @abc.abstractmethod
    def writer(self, started_at: str, run_date: str) -> AbstractContextManager[StoreWriter]:
        """One ingest run as one unit: commit on clean exit, roll back on error."""

    @abc.abstractmethod
    def view(self) -> StoreView: ...

    @abc.abstractmethod
    def dump(self) -> StoreDump:
        """Everything stored, for ``fugai migrate`` (read while no run writes)."""

    @abc.abstractmethod
    def restore(self, dump: StoreDump) -> None:
        """Fill an empty store with ``dump`` (``fugai migrate`` checks it is empty)."""

    @abc.abstractmethod
    def close(self) -> None: ...
