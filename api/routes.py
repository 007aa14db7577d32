"""The JSON API (``/api/v1``): thin handlers over the same query functions the CLI
uses. Each handler takes the user's scope from ``api.deps.scope`` and passes it on;
none filters results itself."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Query
from fastapi.responses import FileResponse, StreamingResponse

from api import jobs
from api.deps import (
    AdminDep,
    AnalystDep,
    FactsDep,
    ScopeDep,
    ServicesDep,
    SettingsDep,
    UserDep,
)
from api.exports import FINDING_COLUMNS, csv_chunks, export_findings, finding_rows
from graph.alliances import (
    alliance_candidates,
    alliance_detail,
    alliance_list,
    suggested_alliances,
)
from graph.coverage import breakdown, committee_tree, summary
from graph.errors import NotFound
from graph.explain import explain_org
from graph.findings import findings_page, iter_findings
from graph.trend import trend
from ingest.report import run_as_json

JSON = dict[str, Any]
VERSION = "0.1.0"
router = APIRouter(prefix="/api/v1")
FindingsQuery = Annotated[list[str] | None, Query(description="问题类型, 可多个")]


@router.get("/health", tags=["system"])
def health(svc: ServicesDep) -> JSON:
    """Liveness and the data's last complete run (no login needed)."""
    runs = svc.store.view().runs(1)
    return {"status": "ok", "version": VERSION,
            "last_run": runs[0].run_id if runs else None}


@router.get("/summary", tags=["coverage"])
def get_summary(facts: FactsDep, scope: ScopeDep, settings: SettingsDep, user: UserDep, svc: ServicesDep,
                by: Annotated[str | None, Query(
                    description="county / street / committee / org_kind / size_band")] = None,
                ) -> JSON:
    """The three rates with numerator and denominator, statuses, exclusions, findings."""
    data = dict(svc.engine.query(summary, scope=scope, settings=settings))  # shared: copy
    if by:
        data["breakdown"] = svc.engine.query(breakdown, scope=scope, settings=settings, by=by)["rows"]
    return data


@router.get("/findings", tags=["coverage"])
def get_findings(facts: FactsDep, scope: ScopeDep, settings: SettingsDep, user: UserDep, svc: ServicesDep,
                 finding: FindingsQuery = None,
                 page: Annotated[int, Query(ge=1)] = 1,
                 size: Annotated[int, Query(ge=1, le=1000)] = 50) -> JSON:
    """One page of the gap list, in the spec's priority order."""
    return svc.engine.query(findings_page, scope=scope, settings=settings, kinds=finding, page=page,
                         size=size)


@router.get("/findings/export.csv", tags=["exports"])
def export_csv(facts: FactsDep, scope: ScopeDep, settings: SettingsDep, user: AnalystDep,
               svc: ServicesDep, finding: FindingsQuery = None) -> StreamingResponse:
    """All findings of the scope as CSV (UTF-8 with BOM), streamed row by row."""
    svc.accounts.audit(user.username, "export", f"findings.csv {scope.describe_zh(facts)}")
    rows = finding_rows(iter_findings(facts, scope=scope, settings=settings, kinds=finding))
    return StreamingResponse(csv_chunks(rows, FINDING_COLUMNS), media_type="text/csv",
                             headers={"Content-Disposition":
                                      "attachment; filename*=UTF-8''%E9%97%AE%E9%A2%98.csv"})


@router.get("/findings/export.xlsx", tags=["exports"])
async def export_xlsx(facts: FactsDep, scope: ScopeDep, settings: SettingsDep,
                      user: AnalystDep, svc: ServicesDep, background: BackgroundTasks,
                      finding: FindingsQuery = None) -> FileResponse:
    """All findings, one sheet per finding, written in a worker thread to a temporary
    file and then sent (an XLSX cannot be streamed as it is written)."""
    svc.accounts.audit(user.username, "export", f"findings.xlsx {scope.describe_zh(facts)}")
    tmp = Path(tempfile.mkstemp(suffix=".xlsx")[1])
    await asyncio.to_thread(export_findings, facts, scope=scope, settings=settings,
                            kinds=finding, fmt="xlsx", path=tmp)
    background.add_task(tmp.unlink, missing_ok=True)
    return FileResponse(tmp, filename="问题清单.xlsx", background=background, media_type=(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))


@router.get("/orgs/{uscc}", tags=["coverage"])
def get_org(uscc: str, facts: FactsDep, scope: ScopeDep, settings: SettingsDep,
            user: UserDep, svc: ServicesDep) -> JSON:
    """Everything about one organisation and why it has its status (404 outside the
    user's region)."""
    data = explain_org(facts, svc.store.view(), uscc, scope=scope, settings=settings)
    if data["members"]["ids"]:
        svc.accounts.audit(user.username, "view_members", uscc)
    return data


@router.get("/tree", tags=["coverage"])
def get_tree(facts: FactsDep, scope: ScopeDep, settings: SettingsDep, user: UserDep, svc: ServicesDep) -> JSON:
    """The 1+7+N tree with every figure rolled up."""
    return svc.engine.query(committee_tree, scope=scope, settings=settings)


@router.get("/alliances", tags=["alliances"])
def get_alliances(facts: FactsDep, scope: ScopeDep, settings: SettingsDep,
                  user: UserDep, svc: ServicesDep) -> JSON:
    return svc.engine.query(alliance_list, scope=scope, settings=settings)


@router.get("/alliances/suggestions", tags=["alliances"])
def get_suggestions(facts: FactsDep, scope: ScopeDep, settings: SettingsDep, user: UserDep, svc: ServicesDep,
                    min_size: Annotated[int | None, Query(ge=2, le=1000)] = None) -> JSON:
    return svc.engine.query(suggested_alliances, scope=scope, settings=settings, min_size=min_size)


@router.get("/alliances/{code}", tags=["alliances"])
def get_alliance(code: str, facts: FactsDep, scope: ScopeDep, settings: SettingsDep,
                 user: UserDep, svc: ServicesDep) -> JSON:
    return svc.engine.query(alliance_detail, code, scope=scope, settings=settings)


@router.get("/alliances/{code}/candidates", tags=["alliances"])
def get_candidates(code: str, facts: FactsDep, scope: ScopeDep, settings: SettingsDep,
                   user: UserDep, svc: ServicesDep, hops: Annotated[int, Query(ge=1, le=6)] = 2) -> JSON:
    return svc.engine.query(alliance_candidates, code, scope=scope, settings=settings, hops=hops)


@router.get("/trend", tags=["coverage"])
def get_trend(scope: ScopeDep, user: UserDep, svc: ServicesDep,
              limit: Annotated[int, Query(ge=1, le=500)] = 50) -> JSON:
    return trend(svc.store.view(), scope=scope, limit=limit)


@router.get("/runs", tags=["ingest"])
def get_runs(user: UserDep, svc: ServicesDep,
             limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[JSON]:
    """Ingest runs with their per-file reports."""
    return [run_as_json(r) for r in svc.store.view().runs(limit)]


@router.get("/runs/{run_id}/quarantine/{name}", tags=["ingest"])
def get_quarantine(run_id: int, name: str, user: AdminDep, svc: ServicesDep) -> FileResponse:
    """A quarantine file of a run (whole-area administrators only: it holds raw rows)."""
    if user.region:
        raise NotFound("没有该文件")
    for run in svc.store.view().runs(500):
        if run.run_id != run_id:
            continue
        for f in run.files:
            if f.quarantine_file and Path(f.quarantine_file).name == name:
                path = Path(f.quarantine_file)
                if path.exists():
                    svc.accounts.audit(user.username, "download_quarantine", str(path))
                    return FileResponse(path, filename=name, media_type="text/csv")
    raise NotFound("没有该文件")


@router.post("/ingest", tags=["ingest"], status_code=202)
async def post_ingest(user: AdminDep, svc: ServicesDep, request_files: jobs.UploadFiles,
                      mode: jobs.ModeForm = "delta") -> JSON:
    """Upload files for one ingest run (the same pipeline and atomicity as the CLI);
    poll ``/ingest/{job}`` for progress and the report."""
    job = await jobs.start(svc, user, request_files, mode)
    return job.as_json()


@router.get("/ingest/{job_id}", tags=["ingest"])
def get_ingest(job_id: str, user: AdminDep) -> JSON:
    return jobs.get(job_id).as_json()
