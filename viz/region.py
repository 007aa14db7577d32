"""Picture (d): one region (county, street or community) — its organisations grouped by
status around one hub per status, and the Party organisations that cover them.

Above the node budget a county shows one node per street with its status mix (each
opens the street's picture); a street, or a county whose streets do not fit, shows
the units that matter most first — 应建未建, members without a Party organisation,
uncovered, work coverage only — up to the budget, each hub saying how many it holds
and how many are drawn.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from graph import rules as r
from graph.errors import NotFound
from graph.facts import Facts
from graph.scope import Scope, scope_mask
from viz.common import (
    DEFAULT_BUDGET,
    PICTURE_ZH,
    aggregation_note,
    choose_level,
    counts_of,
    group_size,
    is_empty,
    n_,
    org_nodes,
    po_node,
    priority_order,
    rates_lines,
    status_mix,
)
from viz.layout import cluster_layout, tree_layout
from viz.model import Edge, Link, Node, Picture

NO_STREET = "未登记街道(乡镇)"


def region_name(facts: Facts, code: str) -> str:
    return facts.regions.get(code, code)


def _region_node(facts: Facts, code: str, counts: dict[str, int], *, drill: bool = False,
                 label: str | None = None) -> Node:
    lines = [f"{label or region_name(facts, code)}({code})",
             f"在统单位: {n_(sum(counts.values()))} 个", *rates_lines(counts)]
    if sum(counts.values()):
        lines.append(status_mix(counts))
    return Node(f"reg:{code}", "region", label or region_name(facts, code), "\n".join(lines),
                drill=("region", code) if drill else None)


def region_picture(facts: Facts, code: str, *, scope: Scope, settings: r.CoverageSettings,
                   budget: int = DEFAULT_BUDGET, seed: int = 0) -> Picture:
    """The organisations of region ``code`` by status, with their covering Party
    organisations; NotFound outside the user's region (the same answer as unknown)."""
    code = code.strip()
    if is_empty(scope) or not code.isdigit() or len(code) not in (6, 9, 12) \
            or not code.startswith(scope.region):
        raise NotFound(f"没有区划代码为 {code} 的区域")
    sub = replace(scope, region=code)
    positions = np.flatnonzero(scope_mask(facts, sub, settings))
    if code not in facts.regions and not len(positions):
        raise NotFound(f"没有区划代码为 {code} 的区域")
    orgs = facts.orgs.iloc[positions]
    counts = counts_of(orgs)
    statuses = [s for s in r.STATUSES if counts[s]]
    covering = orgs["covering_po"].dropna()
    streets = orgs["region_code"].str[:len(code) + 3] if len(code) == 6 else None
    street_groups = (pd.DataFrame({"c": streets, "s": orgs["status"]}).drop_duplicates()
                     if streets is not None else pd.DataFrame())
    sizes = [("detail", 1 + len(statuses) + covering.nunique() + len(orgs))]
    if streets is not None:
        sizes.append(("street", 1 + streets.nunique() + len(street_groups)))
    sizes.append(("top", budget))
    level = choose_level(sizes, budget)
    title = f"{PICTURE_ZH['region']}: {region_name(facts, code)}({code})"
    centre = _region_node(facts, code, counts)
    pic = Picture("region", title, code, sub.describe_zh(facts), facts.run_info(),
                  settings.describe_zh(), [centre], [], level=level, budget=budget,
                  full_size=sizes[0][1], seed=seed)
    if level == "street" and streets is not None:
        _by_street(facts, pic, orgs, streets, code)
    else:
        chosen = positions if level == "detail" else _top(facts, positions, statuses, budget,
                                                           settings)
        _by_status(facts, pic, orgs, facts.orgs.iloc[chosen], counts, statuses, settings)
    if level != "detail":
        how = ("已按街道(乡镇)汇总，每个街道一组状态节点" if level == "street" else
               "只显示优先级最高的单位(应建未建、有党员无组织、未覆盖、仅工作覆盖优先)，"
               "各状态节点注明总数与图中显示数")
        pic.notes.append(aggregation_note(sizes[0][1], budget, how))
        subs = orgs["region_code"].str[:len(code) + 3]
        subs = sorted(c for c in subs.unique() if isinstance(c, str) and len(c) == len(code) + 3)
        pic.links = [Link("region", c, f"{region_name(facts, c)} {PICTURE_ZH['region']}")
                     for c in subs]
    pic.notes.append(f"在统单位 {n_(len(orgs))} 个: {status_mix(counts)}。" if len(orgs)
                     else "该区域没有在统单位。")
    return pic


def _top(facts: Facts, positions: np.ndarray, statuses: list[str], budget: int,
         settings: r.CoverageSettings) -> np.ndarray:
    """The units to draw when all do not fit: each status gets a share of the room in
    proportion to its size (at least 20 nodes), filled in priority order, and room a
    small status leaves goes to the rest in priority order. A unit covered by a Party
    organisation not yet drawn costs two nodes."""
    room = budget - 1 - len(statuses)
    po = facts.orgs["covering_po"].to_numpy(dtype=object)
    status = facts.orgs["status"].to_numpy(dtype=object)
    ranked = priority_order(facts, positions, settings)
    total = max(len(ranked), 1)
    sizes = {s: int((status[ranked] == s).sum()) for s in statuses}
    quota = {s: max(min(sizes[s], 20), int(room * sizes[s] / total)) for s in statuses}
    over = sum(quota.values()) - room
    if over > 0:  # the minimum shares overshot: trim the biggest share
        big = max(quota, key=lambda k: quota[k])
        quota[big] -= over
    seen: set[str] = set()
    keep: list[int] = []
    taken: set[int] = set()

    def take(p: int, limit: dict[str, int] | None) -> None:
        nonlocal room
        cost = 1 + (1 if isinstance(po[p], str) and po[p] not in seen else 0)
        s = status[p]
        if cost > room or (limit is not None and cost > limit[s]):
            return
        room -= cost
        if limit is not None:
            limit[s] -= cost
        keep.append(p)
        taken.add(p)
        if isinstance(po[p], str):
            seen.add(po[p])

    for p in ranked:
        take(int(p), quota)
    for p in ranked:
        if room <= 0:
            break
        if int(p) not in taken:
            take(int(p), None)
    order = {int(p): i for i, p in enumerate(ranked)}
    return np.array(sorted(keep, key=order.__getitem__), dtype=np.int64)


def _by_status(facts: Facts, pic: Picture, orgs: pd.DataFrame, chosen: pd.DataFrame,
               counts: dict[str, int], statuses: list[str],
               settings: r.CoverageSettings) -> None:
    centre = pic.nodes[0]
    shown = counts_of(chosen)
    org_list = org_nodes(facts, list(chosen.index), level=2, settings=settings)
    index = {n.id: n for n in org_list}
    hubs: list[Node] = []
    groups: dict[str, list[tuple[Node | None, list[Node]]]] = {}
    per_po: dict[str, tuple[Node, list[Node]]] = {}
    total = sum(counts.values())
    for s in statuses:
        label = f"{r.STATUS_ZH[s]}\n{n_(counts[s])} 个"
        if shown[s] != counts[s]:
            label += f"(图中 {n_(shown[s])})"
        hub = Node(f"grp:{s}", "status_group", label,
                   f"{r.STATUS_ZH[s]}: {n_(counts[s])} 个，占在统单位 {counts[s] / total:.1%}"
                   + (f"\n图中显示优先级最高的 {n_(shown[s])} 个" if shown[s] != counts[s] else ""),
                   status=s, level=1, size=group_size(counts[s]))
        hubs.append(hub)
        groups[hub.id] = []
        pic.edges.append(Edge(centre.id, hub.id, "grouped", "按状态归类"))
    pic.nodes += hubs
    pic.nodes += org_list
    for u, status, po in zip(chosen.index, chosen["status"], chosen["covering_po"], strict=True):
        node = index[f"org:{u}"]
        if not isinstance(po, str):
            groups[f"grp:{status}"].append((None, [node]))
            continue
        if po not in per_po:
            per_po[po] = (po_node(facts, po, level=3), [])
            groups[f"grp:{status}"].append(per_po[po])
            pic.nodes.append(per_po[po][0])
        per_po[po][1].append(node)
        via = facts.covers[u][0].via_place
        pic.edges.append(Edge(f"po:{po}", node.id, "covers_area" if via else "covers",
                              f"统建范围: {via.split(':', 1)[-1]}" if via else "覆盖"))
    cluster_layout(centre, hubs, groups)


def _by_street(facts: Facts, pic: Picture, orgs: pd.DataFrame, streets: pd.Series,
               code: str) -> None:
    centre = pic.nodes[0]
    table = pd.crosstab(streets, orgs["status"])
    for street in sorted(table.index):
        counts = {s: int(table.at[street, s]) if s in table.columns else 0 for s in r.STATUSES}
        real = len(street) == len(code) + 3
        node = _region_node(facts, street, counts, drill=real,
                            label=None if real else NO_STREET)
        node.id = f"reg:{street}" if real else f"reg:{code}:none"
        pic.nodes.append(node)
        pic.edges.append(Edge(centre.id, node.id, "grouped", "下辖"))
        for s in r.STATUSES:
            if counts[s]:
                g = Node(f"grp:{street}:{s}", "status_group", f"{r.STATUS_ZH[s]}\n{n_(counts[s])}",
                         f"{node.label} {r.STATUS_ZH[s]}: {n_(counts[s])} 个", status=s,
                         size=group_size(counts[s]), drill=node.drill)
                pic.nodes.append(g)
                pic.edges.append(Edge(node.id, g.id, "grouped", "汇总"))
    tree_layout(pic.nodes, pic.edges)
