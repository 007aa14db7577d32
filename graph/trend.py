"""Trend over ingest runs: every run stores a snapshot of the status counts per
committee (rolled up its subtree), per county and per street, under the settings in
force at the time, so a trend needs no recomputation of history.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from graph import rules as r
from graph.errors import UsageError
from graph.facts import STATUS_ORG_PROPS, build_core
from graph.facts_build import Committees, subtree
from graph.scope import Scope
from graph.store import SnapshotRow, StoreView, StoreWriter

JSON = dict[str, Any]
ALL = "all"
COMMITTEE = "committee"
COUNTY = "county"
STREET = "street"


def _counts_by(orgs: pd.DataFrame, column: str) -> dict[str, dict[str, int]]:
    if not len(orgs):
        return {}
    table = pd.crosstab(orgs[column].astype(str), orgs["status"])
    return {str(k): {s: int(table.at[k, s]) if s in table.columns else 0 for s in r.STATUSES}
            for k in table.index}


def snapshot_rows(orgs: pd.DataFrame, committees: Committees, run_id: int,
                  settings: r.CoverageSettings) -> list[SnapshotRow]:
    """The per-run figures: whole area, each committee's subtree, each county and street.

    ``orgs`` needs the columns status, committee, county, street, excluded, individual
    and full_members (``Facts.orgs`` or ``Core.orgs``)."""
    scoped = orgs["excluded"].isna()
    if not settings.include_individual:
        scoped &= ~orgs["individual"].astype(bool)
    orgs = orgs[scoped]
    should = orgs[(orgs["full_members"] >= settings.full_member_threshold)
                  & (orgs["status"] != r.STANDALONE)]
    rows: list[SnapshotRow] = []

    def add(kind: str, code: str, counts: dict[str, int], should_establish: int) -> None:
        rows.append(SnapshotRow(run_id, kind, code, {
            "statuses": counts, "in_scope": sum(counts.values()),
            "should_establish": should_establish, "settings": settings.describe()}))

    add(ALL, "", {s: int((orgs["status"] == s).sum()) for s in r.STATUSES}, len(should))
    own = _counts_by(orgs, "committee")
    own_should = {str(k): int(v) for k, v in should["committee"].astype(str).value_counts().items()}
    for code in committees.frame.index:
        below = subtree(committees.children, code)
        counts = {s: sum(own.get(c, {}).get(s, 0) for c in below) for s in r.STATUSES}
        add(COMMITTEE, code, counts, sum(own_should.get(c, 0) for c in below))
    for kind in (COUNTY, STREET):
        kind_should = {str(k): int(v) for k, v in should[kind].astype(str).value_counts().items()}
        for code, counts in _counts_by(orgs, kind).items():
            if code and code != "nan":
                add(kind, code, counts, kind_should.get(code, 0))
    return rows


def record_snapshot(writer: StoreWriter, settings: r.CoverageSettings, *,
                    changed: bool = True) -> None:
    """Called by the ingest pipeline inside the run's transaction, before commit. A run
    that changed nothing repeats the last figures (when taken under the same settings);
    otherwise only the first half of the facts (statuses and committees) is built."""
    if not changed and writer.copy_last_snapshot(settings.describe()):
        return
    core = build_core(writer.view(), STATUS_ORG_PROPS)
    writer.write_snapshot(snapshot_rows(core.orgs, core.committees, writer.run_id, settings))


def trend_key(scope: Scope) -> tuple[str, str]:
    """Which stored series answers a scope; only the scopes snapshots are kept for."""
    if scope.org_only or (scope.region and scope.committee):
        raise UsageError("趋势只按全域、县(市、区)、街道(乡镇)或党委统计")
    if scope.committee:
        return COMMITTEE, scope.committee
    if not scope.region:
        return ALL, ""
    if len(scope.region) == 6:
        return COUNTY, scope.region
    if len(scope.region) == 9:
        return STREET, scope.region
    raise UsageError("趋势只按全域、县(市、区)、街道(乡镇)或党委统计")


def trend(view: StoreView, *, scope: Scope, limit: int = 50) -> JSON:
    """The rates of one scope over the last ``limit`` runs, oldest first."""
    kind, code = trend_key(scope)
    finished = {run.run_id: run.finished_at for run in view.runs(limit=1000)}
    points = []
    for row in ([] if scope.empty else view.snapshots(kind, code)[-limit:]):
        counts = row.figures["statuses"]
        points.append({
            "run_id": row.run_id, "finished_at": finished.get(row.run_id),
            "in_scope": row.figures["in_scope"], "statuses": counts,
            "should_establish": row.figures["should_establish"],
            "rates": {k: v.as_json() for k, v in r.coverage_rates(counts).items()},
            "settings": row.figures["settings"],
        })
    return {"scope_kind": kind, "code": code, "points": points}
