"""Coverage figures over a scope: status counts, the three rates, breakdowns, the
1+7+N tree with rollups, and the cross-appointment and charter rates.

Pure functions over :class:`~graph.facts.Facts`; results are plain dicts ready for
JSON, tables and Excel, each carrying the settings in force.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from graph import model as m
from graph import rules as r
from graph.errors import UsageError
from graph.facts import Facts
from graph.findings import finding_counts
from graph.scope import Scope, committee_name, org_mask, report_header, scope_mask

JSON = dict[str, Any]


def status_counts(orgs: pd.DataFrame) -> dict[str, int]:
    counts = orgs["status"].value_counts()
    return {s: int(counts.get(s, 0)) for s in r.STATUSES}


def rates_json(counts: dict[str, int]) -> JSON:
    return {k: v.as_json() for k, v in r.coverage_rates(counts).items()}


def mask_counts(facts: Facts, mask: np.ndarray) -> dict[str, int]:
    """Status counts of the units selected by ``mask`` (one bincount, no copies)."""
    counts = np.bincount(facts.cols["status"][mask], minlength=len(r.STATUSES))
    return {s: int(counts[i]) for i, s in enumerate(r.STATUSES)}


def cross_appointment(facts: Facts, mask: np.ndarray) -> r.Rate:
    """双向进入、交叉任职: covered enterprises with ≥ 1 member in management."""
    c = facts.cols
    covered = mask & c["enterprise"] & (c["status"] < len(r.ORG_COVERED))
    return r.Rate(int((covered & (c["managers"] > 0)).sum()), int(covered.sum()))


def charter(facts: Facts, mask: np.ndarray) -> r.Rate:
    """党建入章: social organisations whose charter carries Party building."""
    social = mask & ~facts.cols["enterprise"]
    return r.Rate(int((social & facts.cols["charter"]).sum()), int(social.sum()))


def excluded_counts(facts: Facts, scope: Scope, settings: r.CoverageSettings) -> dict[str, int]:
    """Units within the scope's filters but outside the denominator, by reason."""
    within = org_mask(facts, scope)
    code = facts.cols["excluded"]
    counts = np.bincount(code[within & (code >= 0)], minlength=len(r.EXCLUSION_ZH))
    out = {k: int(counts[i]) for i, k in enumerate(r.EXCLUSION_ZH)}
    if not settings.include_individual:
        out[r.INDIVIDUAL] = int((within & (code < 0) & facts.cols["individual"]).sum())
    return out


def summary(facts: Facts, *, scope: Scope, settings: r.CoverageSettings) -> JSON:
    """The whole picture of one scope: statuses, rates, exclusions, findings, extra rates."""
    mask = scope_mask(facts, scope, settings)
    counts = mask_counts(facts, mask)
    enterprise = facts.cols["enterprise"]
    by_kind = {m.ENTERPRISE: mask_counts(facts, mask & enterprise),
               m.SOCIAL_ORG: mask_counts(facts, mask & ~enterprise)}
    return {
        **report_header(facts, scope, settings),
        "in_scope": int(mask.sum()),
        "statuses": counts,
        "rates": rates_json(counts),
        "by_kind": {k: {"in_scope": sum(c.values()), "statuses": c, "rates": rates_json(c)}
                    for k, c in by_kind.items()},
        "excluded": excluded_counts(facts, scope, settings),
        "findings": finding_counts(facts, scope=scope, settings=settings),
        "cross_appointment": cross_appointment(facts, mask).as_json(),
        "charter": charter(facts, mask).as_json(),
    }


def breakdown(facts: Facts, *, scope: Scope, settings: r.CoverageSettings,
              by: str = "county") -> JSON:
    """Status counts and rates per county, street or committee within a scope."""
    if by not in ("county", "street", "committee", "org_kind", "size_band"):
        raise UsageError(f"不支持的分组: {by}")
    mask = scope_mask(facts, scope, settings)
    groups = facts.orgs[by].astype("category").cat
    codes = groups.codes.to_numpy()
    sel = mask & (codes >= 0)
    k = len(r.STATUSES)
    table = np.bincount(codes[sel] * k + facts.cols["status"][sel],
                        minlength=len(groups.categories) * k).reshape(-1, k)
    rows = []
    for i in np.argsort(np.asarray(groups.categories, dtype=str), kind="stable"):
        key = str(groups.categories[i])
        counts = {s: int(table[i, j]) for j, s in enumerate(r.STATUSES)}
        if not sum(counts.values()):
            continue
        name = (facts.regions.get(key, key) if by in ("county", "street") else
                committee_name(facts, key) if by == "committee" else key)
        rows.append({"code": key, "name": name, "in_scope": sum(counts.values()),
                     "statuses": counts, "rates": rates_json(counts)})
    return {**report_header(facts, scope, settings), "by": by, "rows": rows}


def committee_tree(facts: Facts, *, scope: Scope, settings: r.CoverageSettings) -> JSON:
    """The 1+7+N tree: each committee's own units and the rollup of its subtree."""
    mask = scope_mask(facts, scope, settings)
    committee = facts.orgs["committee"].cat
    codes = committee.codes.to_numpy()
    n, k = len(committee.categories), len(r.STATUSES)
    sel = mask & (codes >= 0)
    table = np.bincount(codes[sel] * k + facts.cols["status"][sel], minlength=n * k)
    table = table.reshape(n, k)
    own = {str(c): {s: int(table[i, j]) for j, s in enumerate(r.STATUSES)}
           for i, c in enumerate(committee.categories)}
    should_mask = sel & (facts.cols["full_members"] >= settings.full_member_threshold) & (
        facts.cols["status"] != r.STATUSES.index(r.STANDALONE))
    should = np.bincount(codes[should_mask], minlength=n)
    should_own = {str(c): int(should[i]) for i, c in enumerate(committee.categories)}
    in_scope = int(mask.sum())
    po_counts = {str(k): int(v) for k, v in
                 facts.party_orgs[facts.party_orgs["active"]]["committee"].value_counts().items()}

    def node(code: str, seen: frozenset[str]) -> JSON:
        row = facts.committees.loc[code]
        children = [node(c, seen | {code}) for c in facts.committee_children.get(code, ())
                    if c not in seen]
        mine = own.get(code, {s: 0 for s in r.STATUSES})
        total = {s: mine[s] + sum(ch["total"]["statuses"][s] for ch in children)
                 for s in r.STATUSES}
        se = should_own.get(code, 0) + sum(ch["total"]["should_establish"] for ch in children)
        pos = po_counts.get(code, 0) + sum(ch["total"]["party_orgs"] for ch in children)
        return {
            "code": code, "name": row["name"], "kind": row["kind"],
            "own": {"in_scope": sum(mine.values()), "statuses": mine},
            "total": {"in_scope": sum(total.values()), "statuses": total,
                      "rates": rates_json(total), "should_establish": se, "party_orgs": pos},
            "children": children,
        }

    roots = [node(c, frozenset()) for c in facts.root_committees]
    unassigned = in_scope - sum(sum(c.values()) for code, c in own.items()
                                if code in facts.committees.index)
    return {**report_header(facts, scope, settings), "roots": roots,
            "in_scope": in_scope, "unassigned": unassigned}


def flatten_tree(tree: JSON) -> list[JSON]:
    """The tree as rows (depth-first) for tables and Excel."""
    out: list[JSON] = []

    def walk(n: JSON, depth: int) -> None:
        out.append({"depth": depth, **{k: v for k, v in n.items() if k != "children"}})
        for c in n["children"]:
            walk(c, depth + 1)

    for root in tree["roots"]:
        walk(root, 0)
    return out
