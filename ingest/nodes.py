"""A file's clean rows written as nodes: classify, build records, write, deactivate.

Classification per row (decided on row hashes before anything is built, so re-runs stay
cheap): a key not in the store is *created*; a known key with the same row hash, still
active, not absent and from the same source is *unchanged* and not written; a row that
turns an active record inactive is *deactivated*; anything else is *updated*.

A big file's upper keys are classified and built in a worker process
(:func:`prepare_part`): the worker writes its new records to a scratch folder chunk by
chunk, which the run's process copies in as they come (:func:`copy_prepared`), and hands
back the few it cannot finish without the store (updated ones, which need their stored
state), which the run's process writes last. The split is invisible in the store: the
same rows are written in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from graph import model as m
from graph.prepared import PreparedRows, write_prepared
from graph.store import EdgeRow, FileReport, RowState, StoreWriter
from ingest.contract import Kind
from ingest.headers import HeaderMatch
from ingest.readers import Table
from ingest.records import Record, build_record
from ingest.rows import CleanResult, CleanRow, clean_table
from ingest.shard import Announce


@dataclass
class Written:
    """What a file's node rows did, for its report."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0

    def add_to(self, report: FileReport) -> None:
        report.created += self.created
        report.updated += self.updated
        report.unchanged += self.unchanged
        report.deactivated += self.deactivated


@cache   # asked for every edge a file declares: 0.9 s of the Party organisations' file
def polymorphic(type: str, src_label: str) -> bool:
    """A reference that may point at one of several labels (resolved against the store)."""
    return len(m.targets(type, src_label)) > 1 and type != m.SERVES_AREA


def needs_store_to_build(kind: Kind) -> bool:
    """Whether building a new record of ``kind`` reads the store (so no worker can)."""
    return kind.label is None or any(polymorphic(ref.rel, kind.label) for ref in kind.references)


def classify(kind: Kind, source: str, rows: list[CleanRow], states: dict[str, RowState],
             seen: set[str], tally: Written) -> tuple[list[Record], list[Record]]:
    """The records of new rows and of changed rows; unchanged rows are only counted."""
    created: list[Record] = []
    changed: list[Record] = []
    for row in rows:
        key = row.key
        seen.add(key)
        state = states.get(key)
        if state is not None and state.row_hash == row.row_hash and not state.absent \
                and state.source == source:
            tally.unchanged += 1   # decided before building anything: re-runs stay cheap
            continue
        rec = build_record(kind, row, source)
        assert rec.node is not None
        if state is None:
            created.append(rec)
        else:
            changed.append(rec)
            if state.active and not rec.node.active:
                tally.deactivated += 1
            else:
                tally.updated += 1
    tally.created += len(created)
    return created, changed


def write_records(writer: StoreWriter, label: str, source: str, created: list[Record],
                  changed: list[Record], states: dict[str, RowState]) -> None:
    """Write new and changed records (changed ones keep their previous state in history)
    and keep ``states`` current."""
    stamp_created(created, writer.run_date)
    _stamp_changed(writer, label, changed)
    for batch, history in ((created, False), (changed, True)):
        if not batch:
            continue
        writer.write_nodes([r.node for r in batch if r.node], history=history)
        places = {p.key: p for r in batch for p in r.places}
        if places:
            writer.ensure_nodes(list(places.values()))
        edges = _resolve_polymorphic(writer, [e for r in batch for e in r.edges])
        if history:
            writer.replace_owned_edges(label, [r.node.key for r in batch if r.node], edges)
        else:   # new nodes own no edges yet: nothing to drop
            writer.write_edges(edges)
    for rec in created + changed:
        if rec.node is not None:
            states[rec.node.key] = RowState(rec.node.row_hash, rec.node.active, False, source)


def deactivate_absent(writer: StoreWriter, label: str, source: str, seen: set[str],
                      states: dict[str, RowState], tally: Written) -> None:
    """Full snapshot: deactivate the source's records the file no longer holds."""
    gone = [k for k, s in states.items() if s.source == source and not s.absent and k not in seen]
    if not gone:
        return
    writer.deactivate_nodes(label, gone, "absent_from_snapshot")
    tally.deactivated += len(gone)
    for k in gone:
        old = states[k]
        states[k] = RowState(old.row_hash, False, True, old.source)


def stamp_created(created: list[Record], run_date: str) -> None:
    """A record new and already inactive became inactive when approved, or today."""
    for rec in created:
        node = rec.node
        if node is not None and not node.active:
            node.props["inactive_on"] = node.props.get("approved_on") or run_date


def _stamp_changed(writer: StoreWriter, label: str, changed: list[Record]) -> None:
    """A changed record going or staying inactive keeps an earlier inactive date."""
    inactive = [r.node for r in changed if r.node and not r.node.active]
    if not inactive:
        return
    previous = writer.node_props(label, [n.key for n in inactive])
    for node in inactive:
        old = previous.get(node.key, {})
        node.props["inactive_on"] = (
            old.get("inactive_on") if not old.get("active", True) and old.get("inactive_on")
            else node.props.get("approved_on") or writer.run_date)


def _resolve_polymorphic(writer: StoreWriter, edges: list[EdgeRow]) -> list[EdgeRow]:
    """A reference allowed to point at several labels points at the one holding the key."""
    multi = [e for e in edges if polymorphic(e.type, e.src_label)]
    if not multi:
        return edges
    found: dict[str, set[str]] = {}
    for label in {t for e in multi for t in m.targets(e.type, e.src_label)}:
        found[label] = writer.existing_keys(label, [e.dst_key for e in multi])
    out: list[EdgeRow] = []
    for e in edges:
        if polymorphic(e.type, e.src_label):
            targets = m.targets(e.type, e.src_label)
            label = next((t for t in targets if e.dst_key in found[t]), targets[0])
            e = EdgeRow(e.type, e.src_label, e.src_key, label, e.dst_key, e.props,
                        e.owner_label, e.owner_key)
        out.append(e)
    return out


@dataclass
class Part:
    """A worker's part of a file: its chunks' clean results without rows (those are
    prepared or in ``changed``), what its rows did, and the changed records, which need
    the stored state and so are written by the run's process."""

    cleans: list[CleanResult]
    tally: Written
    changed: list[Record]


@dataclass(frozen=True)
class PartJob:
    """Everything the worker needs besides the table (which it shares by fork)."""

    match: HeaderMatch
    source: str
    #: row positions of each chunk, lowest keys first
    chunks: list[list[int]]
    today: date
    person_key: bytes
    last_row_wins: bool
    run_date: str
    scratch: Path


def prepare_part(job: PartJob, table: Table, states: dict[str, RowState],
                 announce: Announce) -> Part:
    """In the worker: chunk by chunk, clean the rows, classify them against the row
    states as they were when the worker started, prepare the new records in a folder
    and announce it."""
    part = Part([], Written(), [])
    kind = job.match.kind
    for number, positions in enumerate(job.chunks):
        result = clean_table(table.subset(positions), job.match, today=job.today,
                             person_key=job.person_key, last_row_wins=job.last_row_wins)
        # the run's process knows the keys the file holds (it split on them)
        created, changed = classify(kind, job.source, result.rows, states, set(), part.tally)
        result.rows = []
        part.cleans.append(result)
        part.changed += changed
        stamp_created(created, job.run_date)
        places = {p.key: p for r in created for p in r.places}
        folder = job.scratch / f"{kind.name}.prepared.{number}"
        write_prepared(folder, [r.node for r in created if r.node], list(places.values()),
                       [e for r in created for e in r.edges])
        del created
        announce(str(folder))
    return part


def copy_prepared(writer: StoreWriter, prepared: PreparedRows,
                  states: dict[str, RowState]) -> None:
    """In the run's process: write a worker's prepared chunk, keep ``states`` current
    and delete the chunk's folder."""
    writer.write_prepared(prepared)
    for _, key, state in prepared.states():
        states[key] = state
    prepared.remove()
