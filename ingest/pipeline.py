"""The nightly ingest run: begin, write, finalize, report.

One call of :func:`run_ingest` is one run over one or more files, and one store
transaction: every file is read and its headers matched before the store is touched
(a wrong argument fails before anything is written), files are written in the
order their kinds depend on each other (committees before Party organisations
before members), and the run record is written last, inside the same transaction.

Classification per row: a key not in the store is *created*; a known key with the
same row hash, still active and not absent, is *unchanged* and not written at all
(so a re-run of unchanged files is reads only); a row that turns an active record
inactive is *deactivated*; anything else is *updated* (its previous state goes to
history). In full-snapshot mode, records of the same source that the file no longer
holds are deactivated too, with the run date; nothing is ever deleted.
"""

from __future__ import annotations

import csv
import logging
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Literal

from graph import model as m
from graph.errors import UsageError
from graph.rules import CoverageSettings
from graph.store import EdgeRow, FileReport, RunRecord, Store, StoreWriter
from graph.trend import record_snapshot
from ingest.contract import KINDS, Kind
from ingest.headers import EMPTY_MAPPING, HeaderMatch, UserMapping, detect_kind, match_headers
from ingest.readers import ReadError, Table, read_table
from ingest.records import Record, build_record
from ingest.rows import CleanResult, RejectedRow, clean_table, row_key

log = logging.getLogger("fugai.ingest")

Mode = Literal["full", "delta"]
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class IngestRequest:
    path: Path
    kind: str | None = None
    mode: Mode = "delta"
    source: str | None = None
    sheet: str | None = None
    encoding: str | None = None
    mapping: UserMapping = EMPTY_MAPPING
    last_row_wins: bool = False


@dataclass
class _Prepared:
    request: IngestRequest
    table: Table
    match: HeaderMatch

    @property
    def kind(self) -> Kind:
        return self.match.kind

    @property
    def source(self) -> str:
        return self.request.source or self.kind.name


def prepare(request: IngestRequest) -> _Prepared:
    """Read a file and map its headers; every user mistake surfaces here, before writing."""
    if not request.path.exists():
        raise UsageError(f"文件不存在: {request.path}")
    try:
        table = read_table(request.path, sheet=request.sheet, encoding=request.encoding)
    except ReadError as exc:
        raise UsageError(f"{request.path.name}: {exc}") from exc
    if request.kind:
        if request.kind not in KINDS:
            raise UsageError(f"未知的数据类型 {request.kind!r}; 可用: {', '.join(KINDS)}")
        match = match_headers(table.headers, KINDS[request.kind], request.mapping)
        if match.missing_required:
            names = ", ".join(match.kind.field(n).header for n in match.missing_required)
            raise UsageError(f"{request.path.name}: 缺少必填列 {names}")
    else:
        try:
            match = detect_kind(table.headers, request.mapping)
        except UsageError as exc:
            raise UsageError(f"{request.path.name}: {exc.message}") from exc
    return _Prepared(request, table, match)


def run_ingest(store: Store, requests: list[IngestRequest], *, person_key: bytes,
               quarantine_dir: Path, today: date | None = None,
               progress: Progress | None = None,
               coverage: CoverageSettings | None = None) -> RunRecord:
    """Run one ingest over ``requests``; returns the committed run record.

    Before commit the run stores its coverage snapshot (the trend's data point) under
    ``coverage`` settings, so figures and data commit together.
    """
    today = today or date.today()
    prepared = sorted((prepare(r) for r in requests), key=lambda p: p.kind.order)
    started = datetime.now().isoformat(timespec="seconds")
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=_ensure(quarantine_dir)))
    try:
        with store.writer(started, today.isoformat()) as writer:
            reports = []
            pending_before = len(writer.pending_references(_reported_types()))
            for step, prep in enumerate(prepared):
                if progress:
                    progress(f"{prep.kind.name}: {prep.request.path.name}", step, len(prepared))
                reports.append(_ingest_file(writer, prep, person_key, today, staging))
            writer.relink_pending()
            pending_now = writer.pending_references(_reported_types())
            pending_new = sum(1 for p in pending_now if p.run == writer.run_id)
            for report in reports:
                report.unknown_references = sum(
                    1 for p in pending_now if _REF_KIND.get((p.type, p.src_label)) == report.kind)
            record = RunRecord(
                run_id=writer.run_id, started_at=started,
                finished_at=datetime.now().isoformat(timespec="seconds"), status="complete",
                files=reports, pending_references=len(pending_now),
                # approximate: a pending reference re-declared by an updated row counts as
                # this run's, so it is neither "resolved" nor "still pending from before"
                resolved_references=max(0, pending_before - (len(pending_now) - pending_new)))
            # run ids restart with a new store file, so the stamp keeps folders apart
            stamp = started.replace(":", "").replace("-", "")
            run_dir = quarantine_dir / f"run-{writer.run_id}-{stamp}"
            for report in reports:
                if report.quarantine_file:
                    report.quarantine_file = str(run_dir / Path(report.quarantine_file).name)
            if any(staging.iterdir()):
                # moved before commit: a run whose record names a file always has it
                staging.rename(run_dir)
            record_snapshot(writer, coverage or CoverageSettings())
            writer.finish(record)
        if progress:
            progress("done", len(prepared), len(prepared))
        log.info("run %s complete: %s files", record.run_id, len(reports))
        return record
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _reported_types() -> list[str]:
    return sorted({ref.rel for kind in KINDS.values() for ref in kind.references
                   if ref.report_unknown})


#: (relationship, source label) -> the kind whose rows declare it, for reported refs
_REF_KIND: dict[tuple[str, str], str] = {
    (ref.rel, kind.label): kind.name
    for kind in KINDS.values() if kind.label
    for ref in kind.references if ref.report_unknown
}


def _ingest_file(writer: StoreWriter, prep: _Prepared, person_key: bytes, today: date,
                 staging: Path) -> FileReport:
    table, kind = prep.table, prep.kind
    report = FileReport(
        path=str(prep.request.path), source=prep.source, kind=kind.name,
        mode=prep.request.mode, file_hash=table.file_hash, encoding=table.encoding,
        sheet=table.sheet)
    result = clean_table(table, prep.match, today=today, person_key=person_key,
                         last_row_wins=prep.request.last_row_wins)
    report.rows_read = len(table.frame) + len(table.bad_rows)
    report.duplicates_merged = result.duplicates_merged
    report.extra_columns = result.extra_columns
    rejected = result.rejected + [
        RejectedRow(b.line, {"原始行": b.raw}, b.code, b.zh, b.en) for b in table.bad_rows]
    report.quarantined = len(rejected)
    for r in rejected:
        report.reasons[r.code] = report.reasons.get(r.code, 0) + 1
    if rejected:
        report.quarantine_file = str(_write_quarantine(staging, prep, rejected))
    seen = {r.key for r in rejected if r.key}
    if kind.label is None:
        _write_links(writer, prep, result, report, seen)
    else:
        _write_nodes(writer, prep, result, report, seen)
    return report


def _write_nodes(writer: StoreWriter, prep: _Prepared, result: CleanResult,
                 report: FileReport, seen: set[str]) -> None:
    kind = prep.kind
    assert kind.label is not None
    states = writer.row_states(kind.label)
    created: list[Record] = []
    changed: list[Record] = []
    source = prep.source
    for row in result.rows:
        key = row_key(kind, row.values) or ""   # clean rows always have their key
        seen.add(key)
        state = states.get(key)
        if state is not None and state.row_hash == row.row_hash and not state.absent \
                and state.source == source:
            report.unchanged += 1   # decided before building anything: re-runs stay cheap
            continue
        rec = build_record(kind, row, source)
        assert rec.node is not None
        node = rec.node
        if state is None:
            created.append(rec)
        else:
            changed.append(rec)
            if state.active and not node.active:
                report.deactivated += 1
            else:
                report.updated += 1
    report.created = len(created)
    _stamp_inactive(writer, kind.label, created, changed)
    for batch, history in ((created, False), (changed, True)):
        if not batch:
            continue
        writer.write_nodes([r.node for r in batch if r.node], history=history)
        places = {p.key: p for r in batch for p in r.places}
        if places:
            writer.ensure_nodes(list(places.values()))
        edges = _resolve_polymorphic(writer, [e for r in batch for e in r.edges])
        if history:
            writer.replace_owned_edges(kind.label, [r.node.key for r in batch if r.node], edges)
        else:   # new nodes own no edges yet: nothing to drop
            writer.write_edges(edges)
    if prep.request.mode == "full":
        gone = [k for k, s in states.items()
                if s.source == prep.source and not s.absent and k not in seen]
        if gone:
            writer.deactivate_nodes(kind.label, gone, "absent_from_snapshot")
            report.deactivated += len(gone)


def _stamp_inactive(writer: StoreWriter, label: str, created: list[Record],
                    changed: list[Record]) -> None:
    """Give inactive records the date they became inactive, keeping an earlier one."""
    inactive_changed = [r.node for r in changed if r.node and not r.node.active]
    previous = writer.node_props(label, [n.key for n in inactive_changed]) \
        if inactive_changed else {}
    for rec in created + changed:
        node = rec.node
        if node is None or node.active:
            continue
        old = previous.get(node.key, {})
        node.props["inactive_on"] = (
            old.get("inactive_on") if not old.get("active", True) and old.get("inactive_on")
            else node.props.get("approved_on") or writer.run_date)


def _resolve_polymorphic(writer: StoreWriter, edges: list[EdgeRow]) -> list[EdgeRow]:
    """A reference allowed to point at several labels points at the one holding the key."""
    out: list[EdgeRow] = []
    multi = [e for e in edges if len(m.RELATIONSHIPS[e.type].targets) > 1
             and e.type != m.SERVES_AREA]
    if not multi:
        return edges
    found: dict[str, set[str]] = {}
    for label in {t for e in multi for t in m.RELATIONSHIPS[e.type].targets}:
        found[label] = writer.existing_keys(label, [e.dst_key for e in multi])
    for e in edges:
        targets = m.RELATIONSHIPS[e.type].targets
        if len(targets) > 1 and e.type != m.SERVES_AREA:
            label = next((t for t in targets if e.dst_key in found[t]), targets[0])
            e = EdgeRow(e.type, e.src_label, e.src_key, label, e.dst_key, e.props,
                        e.owner_label, e.owner_key)
        out.append(e)
    return out


def _write_links(writer: StoreWriter, prep: _Prepared, result: CleanResult,
                 report: FileReport, seen: set[str]) -> None:
    states = writer.edge_row_states(m.SUPPLIES)
    writes: list[EdgeRow] = []
    seen_pairs: set[tuple[str, str]] = {tuple(k.split(":", 1)) for k in seen}  # type: ignore[misc]
    for row in result.rows:
        link = build_record(prep.kind, row, prep.source).link
        assert link is not None
        pair = (link.src_key, link.dst_key)
        seen_pairs.add(pair)
        state = states.get(pair)
        if state is None:
            report.created += 1
        elif state.row_hash == link.row_hash and state.active:
            report.unchanged += 1
            continue
        else:
            report.updated += 1
        writes.append(link)
    writer.write_edges(writes)
    if prep.request.mode == "full":
        gone = [p for p, s in states.items()
                if s.source == prep.source and s.active and p not in seen_pairs]
        writer.deactivate_edges(m.SUPPLIES, gone)
        report.deactivated += len(gone)


QUARANTINE_COLUMNS = ("行号", "原因代码", "原因", "reason")


def _write_quarantine(staging: Path, prep: _Prepared, rejected: list[RejectedRow]) -> Path:
    """The original rows (person data masked) with a reason code, in Chinese and English."""
    path = staging / f"{prep.request.path.stem}.{prep.kind.name}.quarantine.csv"
    headers = list(prep.table.headers)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh)
        out.writerow([*QUARANTINE_COLUMNS, *headers, "原始行"])
        for r in rejected:
            out.writerow([r.line, r.code, r.zh, r.en,
                          *(r.original.get(h, "") for h in headers), r.original.get("原始行", "")])
    return path
