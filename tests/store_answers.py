"""Every report the staff can ask for, computed from one store: two stores holding the
same data must give equal ``answers`` (the contract's "identical answers").

Run-dependent text (timestamps, quarantine folders) is left out when two stores were
filled by separate ingests, since those differ by design; counts, keys, statuses,
rates, findings, proofs, trees, alliances and trends never may.
"""

from __future__ import annotations

from typing import Any

from graph import model as m
from graph.alliances import alliance_candidates, alliance_detail, alliance_list, suggested_alliances
from graph.coverage import breakdown, committee_tree, summary
from graph.explain import explain_org
from graph.facts import build_facts
from graph.findings import finding_counts, iter_findings
from graph.rules import CoverageSettings
from graph.scope import Scope
from graph.store import Store
from graph.trend import trend

S = CoverageSettings()
_RUN_TEXT = {"started_at", "finished_at", "quarantine_file", "generated_at", "as_of_time"}


def _without_run_text(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_run_text(v) for k, v in value.items() if k not in _RUN_TEXT}
    if isinstance(value, list | tuple):
        return [_without_run_text(v) for v in value]
    return value


def answers(store: Store, *, run_text: bool = True, explain: int = 40) -> dict[str, Any]:
    view = store.view()
    facts = build_facts(view)
    whole = Scope()
    out: dict[str, Any] = {"counts": view.counts()}
    out["summary"] = summary(facts, scope=whole, settings=S)
    counties = sorted({str(c)[:6] for c in facts.orgs["region_code"].dropna()})
    for county in counties:
        out[f"summary:{county}"] = summary(facts, scope=Scope(region=county), settings=S)
    for by in ("county", "street", "committee", "org_kind", "size_band"):
        out[f"breakdown:{by}"] = breakdown(facts, scope=whole, settings=S, by=by)
    out["tree"] = committee_tree(facts, scope=whole, settings=S)
    out["finding_counts"] = finding_counts(facts, scope=whole, settings=S)
    out["findings"] = [f.as_json() for f in iter_findings(facts, scope=whole, settings=S)]
    alliances = alliance_list(facts, scope=whole, settings=S)
    out["alliances"] = alliances
    for row in alliances["rows"]:
        code = row["code"]
        out[f"alliance:{code}"] = alliance_detail(facts, code, scope=whole, settings=S)
        out[f"candidates:{code}"] = alliance_candidates(facts, code, scope=whole, settings=S)
    out["suggested"] = suggested_alliances(facts, scope=whole, settings=S)
    out["trend"] = trend(view, scope=whole)
    for county in counties:
        out[f"trend:{county}"] = trend(view, scope=Scope(region=county))
    keys = sorted(facts.orgs.index)[:explain]
    out["explain"] = {k: explain_org(facts, view, k, scope=whole, settings=S) for k in keys}
    out["history"] = {k: view.history(m.ORGANIZATION, k) for k in keys}
    out["runs"] = [r.status for r in view.runs(limit=100)]
    return out if run_text else _without_run_text(out)
