"""Picture (a): the 1+7+N structure — work committee → industry/park/area committees →
Party organisations → organisations, each organisation coloured by its status.

Every in-scope organisation hangs from the Party organisation that gives its status,
or, if none covers it, from its responsible committee by a dashed edge: the picture
shows at a glance which committee owes which uncovered units. Above the node budget
it aggregates, finest level first: units summed per Party organisation, then per
committee (one node per status, sized by count), then committees alone.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from graph import rules as r
from graph.coverage import committee_tree, flatten_tree
from graph.errors import NotFound
from graph.facts import Facts
from graph.scope import Scope, check_refs, committee_name, party_org_mask, scope_mask
from viz.common import (
    DEFAULT_BUDGET,
    PICTURE_ZH,
    aggregation_note,
    choose_level,
    committee_node,
    group_size,
    is_empty,
    n_,
    org_nodes,
    po_node,
    status_mix,
    truncate,
)
from viz.layout import tree_layout
from viz.model import Edge, Link, Node, Picture

LEVEL_ZH = {"party_org": "已按党组织汇总所覆盖的单位(未覆盖单位按状态汇总到责任党委)",
            "committee": "已按党委汇总(每个党委一组状态节点，大小表示单位数)",
            "committee_only": "仅显示党委(单位数见各党委提示框)"}


def _region_root(code: str) -> str:
    """A city or province code as the prefix its units share (445200 -> 4452)."""
    while len(code) == 6 and code.endswith("00"):
        code = code[:-2]
    return code


def committee_visible(facts: Facts, code: str, scope: Scope) -> bool:
    """A committee shows when its region lies in the user's, or above it (the city's
    work committee above a district user)."""
    if is_empty(scope):
        return False
    rc = facts.committees.at[code, "region_code"]
    rc = _region_root(rc) if isinstance(rc, str) else ""
    return not scope.region or rc.startswith(scope.region) or scope.region.startswith(rc)


def _walk(facts: Facts, roots: list[str]) -> tuple[list[str], dict[str, str]]:
    order: list[str] = []
    parent: dict[str, str] = {}
    stack = list(reversed(roots))
    while stack:
        c = stack.pop()
        if c in order:
            continue
        order.append(c)
        kids = [k for k in facts.committee_children.get(c, []) if k not in order]
        for k in kids:
            parent.setdefault(k, c)
        stack.extend(reversed(kids))
    return order, parent


def _region_links(facts: Facts, codes: list[str], scope: Scope) -> list[Link]:
    out = []
    for c in codes:
        rc = facts.committees.at[c, "region_code"]
        if isinstance(rc, str) and len(rc) in (6, 9) and not rc.endswith("00") \
                and not is_empty(scope) and rc.startswith(scope.region):
            out.append(Link("region", rc, f"{facts.regions.get(rc, rc)} {PICTURE_ZH['region']}"))
    return out


def structure_picture(facts: Facts, code: str | None = None, *, scope: Scope,
                      settings: r.CoverageSettings, budget: int = DEFAULT_BUDGET,
                      seed: int = 0) -> Picture:
    """The 1+7+N picture below committee ``code`` (default: the whole tree)."""
    check_refs(facts, scope)
    if code is not None and (code not in facts.committees.index or (
            scope.committee and code not in facts.committee_subtree(scope.committee))):
        raise NotFound(f"没有编码为 {code} 的党委(工委)")
    root = code or scope.committee
    order, parent = _walk(facts, [root] if root else list(facts.root_committees))
    shown = [c for c in order if committee_visible(facts, c, scope)]
    if root and root not in shown:
        raise NotFound(f"没有编码为 {root} 的党委(工委)")
    shown_set = set(shown)
    first = shown[0] if shown else None

    def anchor(c: Any) -> str | None:
        while isinstance(c, str) and c not in shown_set:
            c = parent.get(c)
        return c if isinstance(c, str) else first

    anchors = {c: anchor(c) for c in facts.committees.index}
    sub = replace(scope, committee=root) if root else scope
    orgs = facts.orgs[scope_mask(facts, sub, settings)] if shown else facts.orgs.iloc[0:0]
    org_anchor = orgs["committee"].astype(object).map(anchors).fillna(first)
    pos = facts.party_orgs[party_org_mask(facts, sub) & facts.party_orgs["active"].to_numpy()]
    covering = pd.Index(orgs["covering_po"].dropna().unique())
    covering = covering[facts.party_orgs.loc[covering, "active"].to_numpy(dtype=bool)]
    po_codes = list(dict.fromkeys([*pos.index, *covering])) if shown else []
    po_committee = facts.party_orgs["committee"].astype(object)
    po_anchor = {p: anchors.get(po_committee.at[p]) or first for p in po_codes}
    attached = orgs["covering_po"].isin(po_codes).to_numpy()
    loose = pd.DataFrame({"c": org_anchor[~attached], "s": orgs["status"][~attached]})
    allg = pd.DataFrame({"c": org_anchor, "s": orgs["status"]})
    sizes = [("detail", len(shown) + len(po_codes) + len(orgs)),
             ("party_org", len(shown) + len(po_codes) + len(loose.drop_duplicates())),
             ("committee", len(shown) + len(allg.drop_duplicates())
              + len(set(po_anchor.values()))),
             ("committee_only", len(shown))]
    level = choose_level(sizes, budget)
    totals = {n["code"]: n["total"] for n in flatten_tree(committee_tree(
        facts, scope=scope, settings=settings))}
    coarse = level in ("committee", "committee_only")
    nodes = [committee_node(facts, c, totals.get(c), level=0, drill=coarse and c != first)
             for c in shown]
    edges = [Edge(f"com:{anchor(parent[c])}", f"com:{c}", "reports_to", "隶属")
             for c in shown[1:] if c in parent and anchor(parent[c])]
    if level in ("detail", "party_org"):
        covered = _covered_counts(orgs, attached) if level == "party_org" else {}
        for p in po_codes:
            node = po_node(facts, p, covered=covered.get(p))
            if level == "party_org" and p in covered:
                node.label = f"{node.label}\n覆盖 {n_(sum(covered[p].values()))}"
            nodes.append(node)
            edges.append(Edge(f"com:{po_anchor[p]}", node.id, "reports_to", "隶属"))
    if level == "detail":
        nodes += org_nodes(facts, list(orgs.index), settings=settings)
        for u, po, c in zip(orgs.index, orgs["covering_po"], org_anchor, strict=True):
            if isinstance(po, str) and po in po_anchor:
                via = facts.covers[u][0].via_place
                edges.append(Edge(f"po:{po}", f"org:{u}", "covers_area" if via else "covers",
                                  f"统建范围: {via.split(':', 1)[-1]}" if via else "覆盖"))
            else:
                edges.append(Edge(f"com:{c}", f"org:{u}", "responsible", "责任党委"))
    elif level in ("party_org", "committee"):
        groups = loose if level == "party_org" else allg
        what = "尚无党组织覆盖的单位" if level == "party_org" else "负责的在统单位"
        counts = groups.value_counts().to_dict()
        for c, s, n in ((c, s, counts[(c, s)]) for c in shown for s in r.STATUSES
                        if (c, s) in counts):
            drill = ("structure", c) if c != first else None
            nodes.append(Node(f"grp:{c}:{s}", "status_group", f"{r.STATUS_ZH[s]}\n{n_(n)} 个",
                              f"{committee_name(facts, c)} {what}中\n{r.STATUS_ZH[s]}: {n_(n)} 个",
                              status=s, size=group_size(n), drill=drill))
            edges.append(Edge(f"com:{c}", f"grp:{c}:{s}", "grouped", "汇总"))
        if level == "committee":
            per = Counter(po_anchor.values())
            for c, n in ((c, per[c]) for c in shown if per.get(c)):
                nodes.append(Node(f"pog:{c}", "po_group", f"党组织 {n_(n)} 个",
                                  f"{committee_name(facts, c)} 及其下级的在册党组织: {n_(n)} 个",
                                  size=group_size(n), drill=("structure", c) if c != first
                                  else None))
                edges.append(Edge(f"com:{c}", f"pog:{c}", "grouped", "汇总"))
    title = f"{PICTURE_ZH['structure']}: {committee_name(facts, root) if root else '全部党委'}"
    pic = Picture("structure", title, root, scope.describe_zh(facts), facts.run_info(),
                  settings.describe_zh(), nodes, edges, level=level, budget=budget,
                  full_size=sizes[0][1], seed=seed)
    if level != "detail":
        pic.notes.append(aggregation_note(sizes[0][1], budget, LEVEL_ZH[level]))
        links = [Link("structure", c, f"{committee_name(facts, c)} {PICTURE_ZH['structure']}")
                 for c in shown if c != first] + _region_links(facts, shown, scope)
        pic.links = list(dict.fromkeys(links))
    pic.notes.append(f"在统单位 {n_(len(orgs))} 个: {status_mix(_counts(orgs))}。" if len(orgs)
                     else "范围内没有在统单位。")
    truncate(pic)
    tree_layout(pic.nodes, pic.edges)
    return pic


def _counts(orgs: pd.DataFrame) -> dict[str, int]:
    vc = orgs["status"].value_counts()
    return {s: int(vc.get(s, 0)) for s in r.STATUSES}


def _covered_counts(orgs: pd.DataFrame, attached: np.ndarray) -> dict[str, dict[str, int]]:
    sub = orgs[attached]
    table = pd.crosstab(sub["covering_po"], sub["status"]) if len(sub) else pd.DataFrame()
    return {str(p): {str(s): int(v) for s, v in row.items() if v} for p, row in table.iterrows()}
