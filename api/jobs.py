"""Ingest from the web: uploaded files become one run of the same pipeline the CLI
uses (same atomicity, same report), in a worker thread, with progress to poll.

Uploads are saved under ``<data dir>/uploads/<job>/`` with their original names (made
safe) so the run record and the quarantine files name what the user sent.
"""

from __future__ import annotations

import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import File, Form, UploadFile

from api.accounts import User
from graph.errors import FugaiError, NotFound, UsageError
from graph.settings import person_key
from ingest.pipeline import IngestRequest, run_ingest
from ingest.report import run_as_json

UploadFiles = Annotated[list[UploadFile], File(alias="files", description="CSV / XLSX 文件")]
ModeForm = Annotated[Literal["full", "delta"], Form(description="full 全量 / delta 增量")]
_SAFE = re.compile(r"[^\w.\-\u4e00-\u9fff]+")
MAX_BYTES = 512 * 1024 * 1024


@dataclass
class Job:
    job_id: str
    user: str
    files: list[str]
    status: str = "queued"
    step: str = ""
    done: int = 0
    total: int = 0
    report: dict[str, Any] | None = None
    error: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def as_json(self) -> dict[str, Any]:
        with self.lock:
            return {"job_id": self.job_id, "user": self.user, "files": self.files,
                    "status": self.status, "step": self.step, "done": self.done,
                    "total": self.total, "report": self.report, "error": self.error}


_JOBS: dict[str, Job] = {}


def get(job_id: str) -> Job:
    job = _JOBS.get(job_id)
    if job is None:
        raise NotFound("没有该导入任务")
    return job


async def start(svc: Any, user: User, uploads: list[UploadFile], mode: str) -> Job:
    if not uploads:
        raise UsageError("请选择要导入的文件")
    job_id = secrets.token_hex(8)
    folder = svc.settings.data_dir / "uploads" / job_id
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for up in uploads:
        name = _SAFE.sub("_", Path(up.filename or "upload.csv").name)[:120] or "upload.csv"
        if not name.lower().endswith((".csv", ".xlsx", ".txt")):
            raise UsageError(f"只接受 CSV 或 XLSX 文件: {name}")
        data = await up.read()
        if len(data) > MAX_BYTES:
            raise UsageError(f"文件过大: {name}")
        path = folder / name
        path.write_bytes(data)
        paths.append(path)
    job = Job(job_id, user.username, [p.name for p in paths], total=len(paths))
    _JOBS[job_id] = job
    svc.accounts.audit(user.username, "upload", f"{mode} {', '.join(job.files)}")
    threading.Thread(target=_run, args=(svc, job, paths, mode), daemon=True).start()
    return job


def _run(svc: Any, job: Job, paths: list[Path], mode: str) -> None:
    def progress(label: str, step: int, total: int) -> None:
        with job.lock:
            job.status, job.step, job.done, job.total = "running", label, step, total

    try:
        record = run_ingest(
            svc.store, [IngestRequest(p, mode=mode) for p in paths],  # type: ignore[arg-type]
            person_key=person_key(svc.settings, svc.settings.store_uri()),
            quarantine_dir=svc.settings.quarantine_path(), today=date.today(),
            progress=progress, coverage=svc.settings.coverage())
        with job.lock:
            job.status, job.report = "complete", run_as_json(record)
    except FugaiError as exc:
        with job.lock:
            job.status, job.error = "failed", exc.message
    except Exception as exc:  # noqa: BLE001 - a failed run must be reported, not lost
        with job.lock:
            job.status, job.error = "failed", f"导入失败: {type(exc).__name__}"
