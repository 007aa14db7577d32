"""Industry-chain Party alliances (产业链党建联盟): coverage, candidates, suggestions.

The graph algorithms run on the networkx supply graph of the facts snapshot
(``Facts.supply``: active units, one edge per supply link, its chain on the edge,
each unit's region on the node). Every traversal is limited to the caller's region
scope, so a district user never sees, or learns of, another district's units.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import networkx as nx

from graph import model as m
from graph import rules as r
from graph.coverage import rates_json, status_counts
from graph.errors import NotFound, UsageError
from graph.facts import Facts
from graph.facts_build import opt
from graph.findings import node_name
from graph.scope import Scope, in_scope_mask, report_header, scoped_orgs

JSON = dict[str, Any]


def _alliance(facts: Facts, code: str) -> dict[str, Any]:
    if code not in facts.alliances.index:
        raise NotFound(f"没有编码为 {code} 的产业链党建联盟")
    return {k: opt(v) for k, v in facts.alliances.loc[code].to_dict().items()}


def _member_frame(facts: Facts, code: str, scope: Scope, settings: r.CoverageSettings) -> Any:
    orgs = scoped_orgs(facts, scope, settings)
    return orgs[orgs.index.isin(facts.alliance_members.get(code, []))]


def alliance_list(facts: Facts, *, scope: Scope, settings: r.CoverageSettings) -> JSON:
    """Every alliance with members in the scope, with coverage over those members."""
    rows = []
    for code in facts.alliances.index:
        members = _member_frame(facts, code, scope, settings)
        if not len(members):
            continue
        a = _alliance(facts, code)
        counts = status_counts(members)
        rows.append({
            "code": code, "name": a["name"], "chain": a["chain"], "active": a["active"],
            "leader": a["leader"],
            "leader_name": node_name(facts, m.ORGANIZATION, a["leader"]) if a["leader"] else None,
            "members": len(members), "statuses": counts, "rates": rates_json(counts),
            "lacking": counts[r.WORK_ONLY] + counts[r.UNCOVERED],
        })
    return {**report_header(facts, scope, settings), "rows": rows}


def alliance_detail(facts: Facts, code: str, *, scope: Scope,
                    settings: r.CoverageSettings) -> JSON:
    """One alliance: its coverage (leader included) and the members lacking a Party
    organisation, in priority order."""
    a = _alliance(facts, code)
    members = _member_frame(facts, code, scope, settings)
    if not len(members) and scope.region:
        raise NotFound(f"没有编码为 {code} 的产业链党建联盟")
    counts = status_counts(members)
    lacking = members[members["status"].isin((r.WORK_ONLY, r.UNCOVERED))]
    return {
        **report_header(facts, scope, settings),
        "alliance": {**a, "leader_name": node_name(facts, m.ORGANIZATION, a["leader"])
                     if a["leader"] else None,
                     "lead_party_org_name": node_name(facts, m.PARTY_ORG, a["lead_party_org"])
                     if a["lead_party_org"] else None},
        "members": [_unit(facts, u) | {"leader": u == a["leader"]} for u in members.index],
        "statuses": counts, "rates": rates_json(counts),
        "lacking": [_unit(facts, u) for u in lacking.index],
    }


def _unit(facts: Facts, uscc: str) -> JSON:
    o = facts.orgs
    return {"uscc": uscc, "name": o.at[uscc, "name"], "status": o.at[uscc, "status"],
            "status_zh": r.STATUS_ZH[o.at[uscc, "status"]],
            "region_code": opt(o.at[uscc, "region_code"]), "members": int(o.at[uscc, "members"]),
            "employees": int(o.at[uscc, "employees"]) if o.at[uscc, "employees"] >= 0 else None}


def _region_filter(facts: Facts, scope: Scope) -> Callable[[str], bool]:
    prefix = scope.region
    nodes = facts.supply.nodes
    if scope.empty:
        return lambda n: False
    return lambda n: nodes[n]["region"].startswith(prefix)


def alliance_candidates(facts: Facts, code: str, *, scope: Scope,
                        settings: r.CoverageSettings, hops: int | None = None) -> JSON:
    """Active in-scope units within ``hops`` supply links of the alliance's members,
    along links of the alliance's chain (or links naming no chain), not yet members;
    ranked by their links into the alliance, then nearness, then employees."""
    hops = settings.candidate_hops if hops is None else hops
    if not 1 <= hops <= 6:
        raise UsageError("跳数应在 1 到 6 之间")
    a = _alliance(facts, code)
    chain = a["chain"]
    g = facts.supply
    members = {u for u in facts.alliance_members.get(code, []) if u in g}
    in_region = _region_filter(facts, scope)
    view = nx.subgraph_view(
        g, filter_node=in_region,
        filter_edge=lambda u, v: chain is None or g.edges[u, v]["chain"] in (None, chain))
    sources = {u for u in members if in_region(u)}
    if scope.region and not sources and not _member_frame(facts, code, scope, settings).shape[0]:
        raise NotFound(f"没有编码为 {code} 的产业链党建联盟")
    dist = nx.multi_source_dijkstra_path_length(view.to_undirected(as_view=True), sources,
                                                cutoff=hops) if sources else {}
    eligible = in_scope_mask(facts, settings)
    index = facts.orgs.index
    rows = []
    for u, d in dist.items():
        if u in members or d == 0 or not eligible[index.get_loc(u)]:
            continue
        links = sum(1 for v in view.successors(u) if v in members) + \
            sum(1 for v in view.predecessors(u) if v in members)
        rows.append(_unit(facts, u) | {"hops": int(d), "links_into_alliance": links})
    rows.sort(key=lambda x: (-x["links_into_alliance"], x["hops"], -(x["employees"] or -1),
                             x["uscc"]))
    return {**report_header(facts, scope, settings), "alliance": code,
            "chain": chain, "hops": hops, "candidates": rows}


def suggested_alliances(facts: Facts, *, scope: Scope, settings: r.CoverageSettings,
                        min_size: int | None = None) -> JSON:
    """Connected groups of supply links in the scope with ≥ ``min_size`` units and no
    alliance member, each with a proposed 链主: the unit with the most links, ties
    broken by employees (then by code, so the answer is stable)."""
    min_size = settings.suggestion_min_size if min_size is None else min_size
    if min_size < 2:
        raise UsageError("建议联盟的最小规模应不小于 2")
    in_alliance = {u for code, orgs in facts.alliance_members.items()
                   if facts.alliances.at[code, "active"] for u in orgs}
    view = nx.subgraph_view(facts.supply, filter_node=_region_filter(facts, scope))
    groups = []
    for comp in nx.weakly_connected_components(view):
        if len(comp) < min_size or comp & in_alliance:
            continue
        sub = view.subgraph(comp)
        leader = min(comp, key=lambda u: (-sub.degree(u), -int(facts.orgs.at[u, "employees"]),
                                          u))
        chains = sorted({c for _, _, c in sub.edges(data="chain") if c})
        counts = status_counts(facts.orgs.loc[sorted(comp)])
        groups.append({
            "size": len(comp), "links": sub.number_of_edges(), "chains": chains,
            "proposed_leader": _unit(facts, leader) | {"links": sub.degree(leader)},
            "members": sorted(comp), "statuses": counts, "rates": rates_json(counts),
        })
    groups.sort(key=lambda g: (-g["size"], g["proposed_leader"]["uscc"]))
    return {**report_header(facts, scope, settings), "min_size": min_size,
            "suggestions": groups}
