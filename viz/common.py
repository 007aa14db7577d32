"""What every picture builder shares: nodes for organisations, Party organisations and
committees with their tooltips, the priority order for "top N", the region check and
the node-budget rule.

Tooltips answer the questions staff hover for: name, USCC, status and the reason for
it (the same sentence ``fugai org`` prints), members as a count only. A member's name,
number or ID never reaches a picture.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from graph import rules as r
from graph.explain import status_reason
from graph.facts import Facts
from graph.facts_build import opt
from graph.scope import Scope, region_visible
from viz.model import Edge, Node, Picture

#: the picture kinds, with their Chinese names (titles, links)
PICTURE_ZH = {"structure": "1+7+N 组织体系图", "alliance": "产业链党建联盟图",
              "org": "组织关系图", "region": "区域覆盖图"}
DEFAULT_BUDGET = 1500


def is_empty(scope: Scope) -> bool:
    """A request outside the user's region (``Scope.within``) sees nothing."""
    return bool(getattr(scope, "empty", False))


def visible(scope: Scope, region_code: Any) -> bool:
    return not is_empty(scope) and region_visible(opt(region_code), scope.region)


def n_(count: int) -> str:
    return f"{count:,}"


def rates_lines(counts: dict[str, int]) -> list[str]:
    """The three rates with numerator and denominator ("—" for an empty scope)."""
    return [f"{r.RATE_ZH[k]}: {v.text()}" for k, v in r.coverage_rates(counts).items()]


def status_mix(counts: dict[str, int]) -> str:
    return "，".join(f"{r.STATUS_ZH[s]} {n_(counts.get(s, 0))}" for s in r.STATUSES
                    if counts.get(s, 0))


def group_size(count: int) -> float:
    """Aggregate nodes grow with the log of their count, so 60,000 stays on screen."""
    return round(12 + 10 * math.log10(1 + max(count, 0)), 1)


_ORG_COLS = ["name", "status", "members", "full_members", "employees", "region_code",
             "is_association", "excluded", "individual", "chain_leader"]


def org_nodes(facts: Facts, usccs: Sequence[str], *, level: int = 0,
              kinds: dict[str, str] | None = None, settings: r.CoverageSettings | None = None,
              extra: dict[str, list[str]] | None = None) -> list[Node]:
    """Organisation nodes: coloured by status; tooltip with name, USCC, status, reason."""
    if not usccs:
        return []
    rows = facts.orgs.loc[list(usccs), _ORG_COLS].to_dict("index")
    out = []
    for uscc in usccs:
        row = rows[uscc]
        status = str(row["status"])
        lines = [str(row["name"]), f"统一社会信用代码: {uscc}",
                 f"覆盖状态: {r.STATUS_ZH[status]}",
                 f"原因: {status_reason(facts, uscc, status)}",
                 f"在此工作的党员: {int(row['members'])} 名(正式党员 {int(row['full_members'])} 名)"]
        if int(row["employees"]) >= 0:
            lines.append(f"从业人员: {int(row['employees'])} 人")
        region = opt(row["region_code"])
        if region:
            lines.append(f"区划: {facts.regions.get(region, region)}({region})")
        excluded = opt(row["excluded"]) or (
            r.INDIVIDUAL if settings and row["individual"] and not settings.include_individual
            else None)
        if excluded:
            lines.append(f"不在统计范围: {r.EXCLUSION_ZH[excluded]}")
        lines.extend((extra or {}).get(uscc, []))
        kind = (kinds or {}).get(uscc) or ("association" if row["is_association"] else "org")
        out.append(Node(f"org:{uscc}", kind, str(row["name"]), "\n".join(lines), status=status,
                        level=level, drill=("org", uscc)))
    return out


def po_node(facts: Facts, code: str, *, level: int = 0, covered: dict[str, int] | None = None
            ) -> Node:
    """A Party organisation; grey when the orphan test says 失联."""
    po = facts.party_orgs.loc[code]
    orphan = bool(po["orphan"])
    lines = [str(po["name"]), f"党组织编码: {code}",
             f"类别: {opt(po['level']) or '—'}，组建方式: {opt(po['formation']) or '—'}",
             f"覆盖在册单位: {int(po['covers_active'])} 个",
             f"党员: {int(po['members'])} 名(正式党员 {int(po['full_members'])} 名)"]
    if covered:
        lines.append(f"图中所覆盖单位: {status_mix(covered)}")
    if orphan:
        lines.append("失联党组织: 没有在册的覆盖单位，或既无覆盖单位也无党员")
    return Node(f"po:{code}", "party_org_orphan" if orphan else "party_org", str(po["name"]),
                "\n".join(lines), level=level)


def committee_node(facts: Facts, code: str, total: dict[str, Any] | None, *,
                   level: int = 0, drill: bool = False) -> Node:
    """A committee, its tooltip carrying the rollup of its subtree (``committee_tree``)."""
    c = facts.committees.loc[code]
    lines = [str(c["name"]), f"编码: {code}，类型: {c['kind']}"]
    if total:
        lines.append(f"在统单位(含下级): {n_(total['in_scope'])} 个")
        lines += rates_lines(total["statuses"])
        lines.append(f"应建未建: {n_(total['should_establish'])} 个，"
                     f"党组织: {n_(total['party_orgs'])} 个")
    return Node(f"com:{code}", "committee", str(c["name"]), "\n".join(lines), level=level,
                drill=("structure", code) if drill else None)


def priority_order(facts: Facts, positions: np.ndarray,
                   settings: r.CoverageSettings) -> np.ndarray:
    """Positions into ``facts.orgs`` in gap-list priority: 应建未建 first, then units
    with members and no Party organisation, then uncovered, then work coverage only,
    then the covered; within each the facts' own order (members, employees, ...)."""
    c = facts.cols
    status = c["status"][positions]
    lacking = status >= r.STATUSES.index(r.WORK_ONLY)
    should = (c["full_members"][positions] >= settings.full_member_threshold) & (
        status != r.STATUSES.index(r.STANDALONE))
    rank = np.select([should, lacking & (c["members"][positions] > 0),
                      status == r.STATUSES.index(r.UNCOVERED), lacking], [0, 1, 2, 3], 4)
    return positions[np.argsort(rank, kind="stable")]


def choose_level(sizes: Sequence[tuple[str, int]], budget: int) -> str:
    """The finest level whose picture fits the budget, else the coarsest."""
    for level, size in sizes:
        if size <= budget:
            return level
    return sizes[-1][0]


def truncate(picture: Picture) -> Picture:
    """Last resort: keep the first ``budget`` nodes (builders list the most important
    first) and the edges between them, and say so."""
    if len(picture.nodes) <= picture.budget:
        return picture
    dropped = len(picture.nodes) - picture.budget
    picture.nodes = picture.nodes[:picture.budget]
    keep = {n.id for n in picture.nodes}
    picture.edges = [e for e in picture.edges if e.source in keep and e.target in keep]
    picture.notes.append(f"节点仍超过上限 {n_(picture.budget)} 个: 另有 {n_(dropped)} 个节点未显示。")
    return picture


def aggregation_note(full: int, budget: int, how: str) -> str:
    return (f"本图完整展开有 {n_(full)} 个节点，超过上限 {n_(budget)} 个，{how}。"
            "双击带链接的节点或点下方“细化”链接查看下一级。")


def edges_between(edges: Iterable[Edge], ids: set[str]) -> list[Edge]:
    return [e for e in edges if e.source in ids and e.target in ids]


def counts_of(frame: pd.DataFrame) -> dict[str, int]:
    vc = frame["status"].value_counts()
    return {s: int(vc.get(s, 0)) for s in r.STATUSES}
