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
import gc
import hashlib
import hmac
import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Literal

import orjson

from graph import model as m
from graph.errors import UsageError
from graph.prepared import PreparedRows
from graph.rules import CoverageSettings
from graph.store import EdgeRow, FileReport, RowState, RunRecord, Store, StoreWriter
from graph.trend import record_snapshot
from ingest import shard
from ingest.contract import KINDS, Kind
from ingest.headers import EMPTY_MAPPING, HeaderMatch, UserMapping, detect_kind, match_headers
from ingest.nodes import (
    PartJob,
    Written,
    classify,
    copy_prepared,
    deactivate_absent,
    needs_store_to_build,
    prepare_part,
    write_records,
)
from ingest.readers import ReadError, Table, TableHead, read_header, read_table
from ingest.records import build_record
from ingest.rows import CLEANING_VERSION, CleanResult, RejectedRow, clean_table, row_keys

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
    head: TableHead
    match: HeaderMatch

    @property
    def kind(self) -> Kind:
        return self.match.kind

    @property
    def source(self) -> str:
        return self.request.source or self.kind.name


def prepare(request: IngestRequest) -> _Prepared:
    """Check a file and map its headers; every user mistake surfaces here, before writing.

    CSV rows are parsed later, when the file's turn comes (see :func:`_load`).
    """
    if not request.path.exists():
        raise UsageError(f"文件不存在: {request.path}")
    try:
        head = read_header(request.path, sheet=request.sheet, encoding=request.encoding)
    except ReadError as exc:
        raise UsageError(f"{request.path.name}: {exc}") from exc
    return _Prepared(request, head, _match(request, head.headers))


def _match(request: IngestRequest, headers: list[str]) -> HeaderMatch:
    if request.kind:
        if request.kind not in KINDS:
            raise UsageError(f"未知的数据类型 {request.kind!r}; 可用: {', '.join(KINDS)}")
        match = match_headers(headers, KINDS[request.kind], request.mapping)
        if match.missing_required:
            names = ", ".join(match.kind.field(n).header for n in match.missing_required)
            raise UsageError(f"{request.path.name}: 缺少必填列 {names}")
    else:
        try:
            match = detect_kind(headers, request.mapping)
        except UsageError as exc:
            raise UsageError(f"{request.path.name}: {exc.message}") from exc
    return match


def _load(prep: _Prepared) -> Table:
    """The file's rows (parsed now for CSV); headers re-matched if the parse saw others."""
    head, request = prep.head, prep.request
    table = head.table
    prep.head = TableHead(head.path, head.headers, head.encoding, head.sheet, head.file_hash)
    if table is None:
        try:
            table = read_table(request.path, sheet=request.sheet, encoding=request.encoding)
        except ReadError as exc:
            raise UsageError(f"{request.path.name}: {exc}") from exc
    if table.headers != head.headers:
        match = _match(request, table.headers)
        if match.kind.name != prep.kind.name:
            raise UsageError(f"{request.path.name}: 文件在导入过程中被修改")
        prep.match = match
    return table


def run_ingest(store: Store, requests: list[IngestRequest], *, person_key: bytes,
               quarantine_dir: Path, today: date | None = None,
               progress: Progress | None = None,
               coverage: CoverageSettings | None = None, workers: int = 1) -> RunRecord:
    """Run one ingest over ``requests``; returns the committed run record.

    Before commit the run stores its coverage snapshot (the trend's data point) under
    ``coverage`` settings, so figures and data commit together. With ``workers=2`` a
    big file is cleaned in two processes (:mod:`ingest.shard`; only where fork exists,
    and never from a process that runs other threads, such as the API server).
    """
    today = today or date.today()
    prepared = sorted((prepare(r) for r in requests), key=lambda p: p.kind.order)
    started = datetime.now().isoformat(timespec="seconds")
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=_ensure(quarantine_dir)))
    shard.remove_dead_scratch(quarantine_dir)
    scratch = shard.new_scratch(quarantine_dir)
    try:
        with store.writer(started, today.isoformat()) as writer:
            reports: list[FileReport] = []
            earlier = _complete_since_incomplete(writer.view().runs(limit=_HISTORY_RUNS))
            # nothing writes between runs: what the last run left pending is pending now
            pending_before = earlier[0].pending_references if earlier else \
                len(writer.pending_references(_reported_types()))
            states: dict[str, dict[str, RowState]] = {}
            clock = _Clock()
            for step, prep in enumerate(prepared):
                if progress:
                    progress(f"{prep.kind.name}: {prep.request.path.name}", step, len(prepared))
                reports.append(_ingest_file(writer, prep, person_key, today, staging,
                                            _File(earlier, reports, states, clock,
                                                  workers, scratch)))
            with clock.phase("link"):
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
            with clock.phase("snapshot"):
                record_snapshot(writer, coverage or CoverageSettings(), changed=any(
                    f.created or f.updated or f.deactivated for f in reports))
            record.seconds = clock.rounded()
            writer.finish(record)
        if progress:
            progress("done", len(prepared), len(prepared))
        log.info("run %s complete: %s files", record.run_id, len(reports))
        return record
    finally:
        for temporary in (staging, scratch):
            if temporary.exists():
                shutil.rmtree(temporary, ignore_errors=True)


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


#: how far back a run looks for the last ingest of an unchanged file
_HISTORY_RUNS = 200


#: the phases a run's wall time is split into (``RunRecord.seconds``), in run order
PHASES = ("read", "clean", "write", "link", "snapshot")


class _Clock:
    """Wall seconds per phase, summed over the run's files."""

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(PHASES, 0.0)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - start

    def rounded(self) -> dict[str, float]:
        return {k: round(v, 1) for k, v in self.seconds.items()}


@dataclass
class _File:
    """What one file's ingest reads besides the file: earlier runs, this run so far."""

    earlier: list[RunRecord]
    done: list[FileReport]
    #: row states per label, loaded once per run and kept up to date by its writes
    states: dict[str, dict[str, RowState]]
    clock: _Clock
    #: processes a big file is cleaned with (:mod:`ingest.shard`), and their scratch
    workers: int
    scratch: Path


def _ingest_file(writer: StoreWriter, prep: _Prepared, person_key: bytes, today: date,
                 staging: Path, ctx: _File) -> FileReport:
    head, kind = prep.head, prep.kind
    report = FileReport(
        path=str(prep.request.path), source=prep.source, kind=kind.name,
        mode=prep.request.mode, file_hash=head.file_hash, encoding=head.encoding,
        sheet=head.sheet)
    base = _fingerprint(prep, person_key)
    if _skip_unchanged(report, base, today, ctx, staging):
        return report
    with _file_step(ctx, "read"):
        table = _load(prep)
    report.file_hash, report.encoding, report.sheet = table.file_hash, table.encoding, table.sheet
    if kind.label is not None and ctx.workers > 1 and len(table.frame) >= shard.MIN_ROWS \
            and not needs_store_to_build(kind):
        _ingest_in_two(writer, prep, table, person_key, today, staging, ctx, report, base)
        return report
    with _file_step(ctx, "clean"):
        result = clean_table(table, prep.match, today=today, person_key=person_key,
                             last_row_wins=prep.request.last_row_wins)
        _report_clean(report, prep, table, [result], staging, base, today)
        seen = {r.key for r in result.rejected if r.key}
        del table
    with _file_step(ctx, "write"):
        if kind.label is None:
            _write_links(writer, prep, result, report, seen)
            return report
        states = _states(writer, ctx, kind.label)
        tally = Written()
        created, changed = classify(kind, prep.source, result.rows, states, seen, tally)
        write_records(writer, kind.label, prep.source, created, changed, states)
        if prep.request.mode == "full":
            deactivate_absent(writer, kind.label, prep.source, seen, states, tally)
        tally.add_to(report)
    return report


def _ingest_in_two(writer: StoreWriter, prep: _Prepared, table: Table, person_key: bytes,
                   today: date, staging: Path, ctx: _File, report: FileReport,
                   base: str) -> None:
    """A big file's rows in two parts by key (:mod:`ingest.shard`): a forked worker
    cleans and prepares the upper keys chunk by chunk while this process cleans and
    writes the lower ones, then copies each chunk in as it is ready. Same rows, same
    writes, same report as in one."""
    kind = prep.kind
    assert kind.label is not None
    with _file_step(ctx, "clean"):
        states = _states(writer, ctx, kind.label)   # before the fork: the worker classifies on them
        keys = row_keys(table, prep.match, today=today, person_key=person_key)
        mine, theirs = shard.split(keys, shard.WORKER_SHARE, shard.CHUNK_ROWS)
        # every row with a key, clean or quarantined, is a key the file holds
        seen = {k for k in keys if k is not None}
        del keys
        job = PartJob(prep.match, prep.source, theirs, today, person_key,
                      prep.request.last_row_wins, writer.run_date, ctx.scratch)
        worker = shard.Worker(partial(prepare_part, job, table, states), ctx.scratch)
    try:
        with _file_step(ctx, "clean"):
            result = clean_table(table.subset(mine), prep.match, today=today,
                                 person_key=person_key, last_row_wins=prep.request.last_row_wins)
        with _file_step(ctx, "write"):
            tally = Written()
            created, changed = classify(kind, prep.source, result.rows, states, seen, tally)
            result.rows = []
            write_records(writer, kind.label, prep.source, created, changed, states)
            del created, changed
            for folder in worker.announced():   # in key order, after this process's rows
                copy_prepared(writer, PreparedRows(Path(folder)), states)
            part = worker.result()
    except BaseException:
        worker.stop()
        raise
    with _file_step(ctx, "clean"):
        _report_clean(report, prep, table, [result, *part.cleans], staging, base, today)
        del table
    with _file_step(ctx, "write"):
        write_records(writer, kind.label, prep.source, [], part.changed, states)
        if prep.request.mode == "full":
            deactivate_absent(writer, kind.label, prep.source, seen, states, tally)
        tally.add_to(report)
        part.tally.add_to(report)


def _states(writer: StoreWriter, ctx: _File, label: str) -> dict[str, RowState]:
    """The row states of ``label``: read once per run, then kept current by its writes."""
    if label not in ctx.states:
        ctx.states[label] = writer.row_states(label)
    return ctx.states[label]


def _report_clean(report: FileReport, prep: _Prepared, table: Table,
                  results: list[CleanResult], staging: Path, base: str, today: date) -> None:
    """A file's cleaning in its report: rows read, duplicates, quarantine (one file, in
    line order, whether the rows were cleaned in one part or two)."""
    sensitive = any(r.time_sensitive for r in results)
    report.fingerprint = f"{base}@{today.isoformat()}{'!' if sensitive else ''}"
    report.rows_read = len(table.frame) + len(table.bad_rows)
    report.duplicates_merged = sum(r.duplicates_merged for r in results)
    report.extra_columns = results[0].extra_columns
    rejected = [r for result in results for r in result.rejected]
    if len(results) > 1:
        rejected.sort(key=lambda r: r.line)
    rejected += [RejectedRow(b.line, {"原始行": b.raw}, b.code, b.zh, b.en) for b in table.bad_rows]
    report.quarantined = len(rejected)
    for r in rejected:
        report.reasons[r.code] = report.reasons.get(r.code, 0) + 1
    if rejected:
        report.quarantine_file = str(_write_quarantine(staging, prep, table, rejected))


@contextmanager
def _file_step(ctx: _File, phase: str) -> Iterator[None]:
    """One step of a file's ingest: timed under ``phase`` (its collection included)
    and run without automatic cycle collection."""
    with ctx.clock.phase(phase), _no_cyclic_collection():
        yield


@contextmanager
def _no_cyclic_collection() -> Iterator[None]:
    """Run a step of a file without automatic cycle collection, then collect only what
    the step made.

    A province run holds millions of rows, states and records at once, and every
    automatic full collection walked all of them: 37 of them took 17 s of a 184 s run.
    Reference counting still frees what a step drops (rows, records and states hold no
    cycles). With the collector off, everything the step made is still in the youngest
    generation, so collecting that one generation finds every cycle the step left
    (pandas makes a few) without walking what earlier steps keep alive.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.collect(0)
        if was_enabled:
            gc.enable()


def _fingerprint(prep: _Prepared, person_key: bytes) -> str:
    """Everything besides the bytes that decides how a file's rows are cleaned.

    The person key enters as a keyed tag (it changes every ID hash, so rows would change).
    """
    tag = hmac.new(person_key, b"fugai:file-fingerprint", hashlib.sha256).hexdigest()
    payload = orjson.dumps([
        CLEANING_VERSION, prep.kind.name, prep.head.headers,
        sorted(prep.match.columns.items()), sorted(prep.match.extras.items()),
        prep.request.last_row_wins, tag])
    return hashlib.blake2b(payload, digest_size=16).hexdigest()


def _fingerprint_matches(recorded: str, base: str, today: date) -> bool:
    """``base@date`` holds from its date on; ``base@date!`` (rows were rejected for a
    date relative to the run date: a future date, a birth date after today) only then."""
    head, _, when = recorded.partition("@")
    if head != base or not when:
        return False
    if when.endswith("!"):
        return when[:-1] == today.isoformat()
    return when <= today.isoformat()


def _same_target(kind: Kind, other: FileReport) -> bool:
    """Whether ``other``'s writes can touch the rows a ``kind`` file is classified against."""
    theirs = KINDS.get(other.kind)
    if theirs is None:
        return True
    return theirs.label == kind.label if kind.label else theirs.name == kind.name


def _complete_since_incomplete(runs: list[RunRecord]) -> list[RunRecord]:
    """The latest complete runs, newest first, back to the last run that did not complete
    (a chunked store's run that died half way wrote rows no record describes, so no
    file may be skipped as "unchanged since" a run before it)."""
    out: list[RunRecord] = []
    for run in runs:
        if run.status != "complete":
            break
        out.append(run)
    return out


def _reports_back(ctx: _File) -> Iterator[FileReport]:
    """Every file report, latest first: this run's so far, then earlier complete runs."""
    yield from reversed(ctx.done)
    for run in ctx.earlier:
        yield from reversed(run.files)


def _skip_unchanged(report: FileReport, base: str, today: date, ctx: _File,
                    staging: Path) -> bool:
    """Report a byte-identical file as unchanged without reading its rows.

    Allowed when the latest ingest of the same path, source, kind and mode had the same
    file hash and fingerprint, and nothing wrote rows of the same label (or, for supply
    links, the same kind) after it: then the store holds exactly what that ingest left,
    every clean row would be classified unchanged and, in full mode, nothing is absent
    that is not already deactivated. Pending references are resolved by the run as usual.
    """
    kind = KINDS[report.kind]
    match: FileReport | None = None
    for other in _reports_back(ctx):
        if not _same_target(kind, other):
            continue
        if (other.path, other.source, other.kind, other.mode, other.file_hash, other.encoding,
                other.sheet) == (report.path, report.source, report.kind, report.mode,
                                 report.file_hash, report.encoding, report.sheet) \
                and _fingerprint_matches(other.fingerprint or "", base, today):
            match = other
            break
        if other.created or other.updated or other.deactivated:
            if other.source != report.source and not other.updated and not other.deactivated:
                continue   # only new keys of another source: none of this file's rows
            return False
    if match is None:
        return False
    if match.quarantine_file:
        previous = Path(match.quarantine_file)
        if not previous.is_file():
            return False   # the earlier quarantine file is gone: clean again to rewrite it
        target = staging / previous.name
        shutil.copyfile(previous, target)
        report.quarantine_file = str(target)
    report.rows_read = match.rows_read
    report.unchanged = match.rows_read - match.quarantined - match.duplicates_merged
    report.quarantined = match.quarantined
    report.duplicates_merged = match.duplicates_merged
    report.reasons = dict(match.reasons)
    report.extra_columns = list(match.extra_columns)
    report.fingerprint = match.fingerprint
    report.skipped_unchanged_file = True
    log.info("%s: unchanged since run, skipped (%s rows)", report.path, report.rows_read)
    return True


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


def _write_quarantine(staging: Path, prep: _Prepared, table: Table,
                      rejected: list[RejectedRow]) -> Path:
    """The original rows (person data masked) with a reason code, in Chinese and English."""
    path = staging / f"{prep.request.path.stem}.{prep.kind.name}.quarantine.csv"
    headers = list(table.headers)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh)
        out.writerow([*QUARANTINE_COLUMNS, *headers, "原始行"])
        for r in rejected:
            out.writerow([r.line, r.code, r.zh, r.en,
                          *(r.original.get(h, "") for h in headers), r.original.get("原始行", "")])
    return path
