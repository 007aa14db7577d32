"""The nightly inbox: files dropped into a folder become one ingest run.

``fugai inbox DIR`` takes every CSV/XLSX file in ``DIR`` (not in its subfolders), runs
them as one run of the same pipeline as ``fugai ingest`` and moves them to
``DIR/processed/<time>/`` when the run committed, or to ``DIR/failed/<time>/`` with an
``error.txt`` when it did not (the store is then as before the run: nothing is lost,
the files wait there to be fixed and dropped again). Quarantine files stay where the
run record names them. ``--at HH:MM`` repeats this every day at that time (the compose
file's ingest service); ``--once`` runs now and exits.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from graph.errors import FugaiError, UsageError
from graph.rules import CoverageSettings
from graph.store import Store
from ingest.pipeline import IngestRequest, run_ingest
from ingest.report import run_as_json

SUFFIXES = (".csv", ".xlsx", ".txt")


@dataclass(frozen=True)
class InboxResult:
    status: str          # "empty", "complete" or "failed"
    files: list[str]
    moved_to: str | None
    report: dict[str, object] | None = None
    error: str | None = None


def pending_files(inbox: Path) -> list[Path]:
    """Files ready for ingest; names starting with '.' or '~$' (copies in progress,
    Excel lock files) are left alone."""
    return sorted(p for p in inbox.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES
                  and not p.name.startswith((".", "~$")))


def process_inbox(store: Store, inbox: Path, *, mode: str, person_key: bytes,
                  quarantine_dir: Path, coverage: CoverageSettings,
                  today: date | None = None, workers: int = 1) -> InboxResult:
    if not inbox.is_dir():
        raise UsageError(f"收件目录不存在: {inbox}")
    files = pending_files(inbox)
    if not files:
        return InboxResult("empty", [], None)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    try:
        record = run_ingest(store, [IngestRequest(p, mode=mode) for p in files],  # type: ignore[arg-type]
                            person_key=person_key, quarantine_dir=quarantine_dir,
                            today=today, coverage=coverage, workers=workers)
    except FugaiError as exc:
        target = _move(files, inbox / "failed" / stamp)
        (target / "error.txt").write_text(exc.message + "\n", encoding="utf-8")
        return InboxResult("failed", [p.name for p in files], str(target), error=exc.message)
    target = _move(files, inbox / "processed" / stamp)
    report = run_as_json(record)
    (target / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2),
                                        encoding="utf-8")
    return InboxResult("complete", [p.name for p in files], str(target), report)


def _move(files: list[Path], target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for p in files:
        shutil.move(str(p), target / p.name)
    return target


def next_time(at: str, now: datetime) -> datetime:
    """The next HH:MM after ``now``."""
    try:
        hour, minute = (int(x) for x in at.split(":"))
        when = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    except ValueError as exc:
        raise UsageError(f"时间格式应为 HH:MM (如 02:30): {at!r}") from exc
    return when if when > now else when + timedelta(days=1)


def wait_until(when: datetime) -> None:
    while (left := (when - datetime.now()).total_seconds()) > 0:
        time.sleep(min(left, 60))
