"""Pictures (b) and (c): one alliance, and one organisation's neighbourhood.

(b) An industry-chain alliance: the alliance, its 链主 (a star) and members coloured by
status, the Party organisations covering them, its lead Party organisation, the
candidates the engine proposes (dashed) and the supply links between all of them with
their direction — the figures of ``fugai alliance`` drawn.

(c) One organisation: the picture of its explanation (``fugai org``) — the Party
organisation(s) covering it (through the park or building when that is how), its
responsible committee, how many members work there (a count: no names), its
instructor, association, alliances, suppliers and customers. Neighbours outside the
user's region are left out, as in the explanation.
"""

from __future__ import annotations

from graph import model as m
from graph import rules as r
from graph.alliances import alliance_candidates, alliance_detail
from graph.errors import NotFound
from graph.explain import RULE_ZH, status_reason
from graph.facts import Facts
from graph.findings import node_name, org_finding_kinds
from graph.scope import Scope
from viz.common import (
    DEFAULT_BUDGET,
    PICTURE_ZH,
    n_,
    org_nodes,
    po_node,
    rates_lines,
    visible,
)
from viz.layout import sector_layout, spring_layout
from viz.model import Edge, Node, Picture


def _supply_title(facts: Facts, u: str, v: str) -> str:
    data = facts.supply.edges[u, v]
    return f"{data.get('relation') or '供应'}，产业链: {data.get('chain') or '未注明'}"


def _add_covers(facts: Facts, uscc: str, nodes: dict[str, Node], edges: list[Edge],
                first_only: bool, labels: bool) -> None:
    for c in facts.covers.get(uscc, [])[:1 if first_only else None]:
        po = nodes.setdefault(f"po:{c.party_org}", po_node(facts, c.party_org, level=1))
        if c.via_place and not first_only:
            name = c.via_place.split(":", 1)[-1]
            place = nodes.setdefault(f"place:{c.via_place}", Node(
                f"place:{c.via_place}", "place", name,
                f"{'园区' if c.via_place.startswith(m.PARK) else '楼宇'}: {name}", level=1))
            edges.append(Edge(po.id, place.id, "serves_area", "统建范围",
                              "统建范围" if labels else ""))
            edges.append(Edge(f"org:{uscc}", place.id, "in_place", "所在园区/楼宇",
                              "所在" if labels else ""))
        else:
            via = f"统建范围: {c.via_place.split(':', 1)[-1]}" if c.via_place else "覆盖"
            edges.append(Edge(po.id, f"org:{uscc}", "covers_area" if c.via_place else "covers",
                              via, "覆盖" if labels else ""))


def org_findings(facts: Facts, uscc: str, settings: r.CoverageSettings) -> list[str]:
    """The organisation's findings in Chinese (as ``explain_org`` lists them)."""
    return [r.FINDING_ZH[k] for k in org_finding_kinds(facts, uscc, settings)]


def org_picture(facts: Facts, uscc: str, *, scope: Scope, settings: r.CoverageSettings,
                budget: int = DEFAULT_BUDGET, seed: int = 0) -> Picture:
    """One organisation and everything its status and explanation rest on."""
    uscc = uscc.strip().upper()
    o = facts.orgs
    if uscc not in o.index or not visible(scope, o.at[uscc, "region_code"]):
        raise NotFound(f"没有统一社会信用代码为 {uscc} 的组织")
    findings = org_findings(facts, uscc, settings)
    assoc_members = len(facts.association_members.get(uscc, []))
    extra = ([f"问题: {'、'.join(findings)}"] if findings else []) + (
        [f"会员单位: {assoc_members} 个"] if assoc_members else [])
    centre = org_nodes(facts, [uscc], settings=settings, extra={uscc: extra})[0]
    centre.size, centre.drill = 26.0, None
    nodes: dict[str, Node] = {centre.id: centre}
    edges: list[Edge] = []
    _add_covers(facts, uscc, nodes, edges, first_only=False, labels=True)
    committee, rule = o.at[uscc, "committee"], o.at[uscc, "committee_rule"]
    if isinstance(committee, str) and committee in facts.committees.index:
        com = Node(f"com:{committee}", "committee", node_name(facts, m.COMMITTEE, committee),
                   f"责任党委: {node_name(facts, m.COMMITTEE, committee)}({committee})\n"
                   f"依据: {RULE_ZH.get(str(rule), '—')}", level=2, drill=("structure", committee))
        nodes[com.id] = com
        covers = facts.covers.get(uscc, [])
        if rule == "party_org" and covers:
            edges.append(Edge(com.id, f"po:{covers[0].party_org}", "reports_to", "隶属", "隶属"))
        else:
            edges.append(Edge(com.id, centre.id, "responsible", "责任党委", "责任党委"))
    members, full = int(o.at[uscc, "members"]), int(o.at[uscc, "full_members"])
    if members:
        mem = Node(f"mem:{uscc}", "members", f"党员 {members} 名",
                   f"在此工作的党员 {members} 名: 正式党员 {full} 名，预备党员 {members - full} 名，"
                   f"管理层 {int(o.at[uscc, 'managers'])} 名\n(图中不显示党员个人信息)", level=1)
        nodes[mem.id] = mem
        edges.append(Edge(mem.id, centre.id, "employed", "工作单位", "工作单位"))
    for i in facts.instructors_of_org.get(uscc, []):
        info = facts.instructors.get(i, {})
        node = Node(f"ins:{i}", "instructor", f"指导员 {info.get('name') or i}",
                    f"党建工作指导员 {info.get('name') or ''}({i})\n"
                    f"派出单位: {info.get('sent_by') or '—'}", level=1)
        nodes[node.id] = node
        edges.append(Edge(node.id, centre.id, "assigned", "联系单位", "联系"))
    for a in facts.alliances_of_org.get(uscc, []):
        leader = facts.alliances.at[a, "leader"] == uscc
        node = Node(f"al:{a}", "alliance", node_name(facts, m.ALLIANCE, a),
                    f"{node_name(facts, m.ALLIANCE, a)}({a})\n该单位为"
                    f"{'链主' if leader else '成员单位'}", level=1, drill=("alliance", a))
        nodes[node.id] = node
        edges.append(Edge(node.id, centre.id, "leads" if leader else "alliance_member",
                          "链主" if leader else "联盟成员", "链主" if leader else "成员"))
    near = [a for a in facts.associations_of_org.get(uscc, [])
            if visible(scope, o.at[a, "region_code"])]
    g = facts.supply
    ups = sorted(p for p in g.predecessors(uscc) if visible(scope, o.at[p, "region_code"])) \
        if uscc in g else []
    downs = sorted(s for s in g.successors(uscc) if visible(scope, o.at[s, "region_code"])) \
        if uscc in g else []
    room = budget - len(nodes) - len(near)
    full_size = len(nodes) + len(near) + len(set(ups) | set(downs))
    notes = []
    if len(ups) + len(downs) > room:
        half = max(room // 2, 0)
        cut_up = ups[:max(half, room - len(downs))]
        cut_down = downs[:max(room - len(cut_up), 0)]
        notes.append(f"上下游单位较多: 显示上游 {n_(len(cut_up))}/{n_(len(ups))} 个、"
                     f"下游 {n_(len(cut_down))}/{n_(len(downs))} 个。")
        ups, downs = cut_up, cut_down
    for node in org_nodes(facts, list(dict.fromkeys([*near, *ups, *downs])), level=2,
                          settings=settings):
        nodes.setdefault(node.id, node)
    edges += [Edge(centre.id, f"org:{a}", "association_member", "协会会员", "会员")
              for a in near]
    edges += [Edge(f"org:{p}", centre.id, "supplies", _supply_title(facts, p, uscc), "上游")
              for p in ups]
    edges += [Edge(centre.id, f"org:{s}", "supplies", _supply_title(facts, uscc, s), "下游")
              for s in downs]
    title = f"{PICTURE_ZH['org']}: {o.at[uscc, 'name']}"
    pic = Picture("org", title, uscc, scope.describe_zh(facts), facts.run_info(),
                  settings.describe_zh(), list(nodes.values()), edges,
                  level="detail" if not notes else "top", notes=notes, budget=budget,
                  full_size=full_size, seed=seed)
    status = str(o.at[uscc, "status"])
    pic.notes.append(f"覆盖状态: {r.STATUS_ZH[status]}。原因: {status_reason(facts, uscc, status)}。")
    ups_set, downs_set = {f"org:{u}" for u in ups}, {f"org:{d}" for d in downs}
    above = sorted((n for n in pic.nodes if n.kind in ("place", "party_org", "party_org_orphan",
                                                       "committee")),
                   key=lambda n: ("place", "party_org", "party_org_orphan",
                                  "committee").index(n.kind))
    below = [n for n in pic.nodes if n is not centre and n not in above
             and n.id not in ups_set | downs_set]
    sector_layout(centre, [above, [n for n in pic.nodes if n.id in ups_set],
                           [n for n in pic.nodes if n.id in downs_set and n.id not in ups_set],
                           below])
    return pic


def alliance_picture(facts: Facts, code: str, *, scope: Scope, settings: r.CoverageSettings,
                     budget: int = DEFAULT_BUDGET, seed: int = 0,
                     hops: int | None = None) -> Picture:
    """One alliance: 链主, members and their Party organisations, candidates (dashed),
    supply links with their direction."""
    detail = alliance_detail(facts, code, scope=scope, settings=settings)
    cand = alliance_candidates(facts, code, scope=scope, settings=settings, hops=hops)
    a = detail["alliance"]
    members = [u["uscc"] for u in detail["members"]]
    candidates = cand["candidates"]
    lines = [f"{a['name']}({code})", f"产业链: {a['chain'] or '未注明'}",
             f"链主: {a['leader_name'] or '—'}", f"牵头党组织: {a['lead_party_org_name'] or '—'}",
             f"成员单位(在统): {len(members)} 个，其中无党组织 {len(detail['lacking'])} 个",
             *rates_lines(detail["statuses"]), f"候选单位({cand['hops']}跳内): {len(candidates)} 个"]
    centre = Node(f"al:{code}", "alliance", str(a["name"]), "\n".join(lines), size=26.0)
    lead = a["lead_party_org"]
    pos = {facts.covers[u][0].party_org for u in members if facts.covers.get(u)}
    fixed = 1 + len(members) + len(pos) + (1 if isinstance(lead, str) and lead not in pos else 0)
    full_size = fixed + len(candidates)
    notes = []
    if full_size > budget:
        keep = max(budget - fixed, 0)
        notes.append(f"候选单位较多: 按与联盟的关系数排序，显示前 {n_(keep)}/{n_(len(candidates))} 个。")
        candidates = candidates[:keep]
    nodes: dict[str, Node] = {centre.id: centre}
    edges: list[Edge] = []
    for node in org_nodes(facts, members, level=1, settings=settings,
                          kinds={a["leader"]: "leader"} if a["leader"] else None):
        nodes[node.id] = node
        leader = node.kind == "leader"
        edges.append(Edge(centre.id, node.id, "leads" if leader else "alliance_member",
                          "链主" if leader else "联盟成员"))
    for u in members:
        _add_covers(facts, u, nodes, edges, first_only=True, labels=False)
    if isinstance(lead, str) and lead in facts.party_orgs.index:
        node = nodes.setdefault(f"po:{lead}", po_node(facts, lead, level=1))
        edges.append(Edge(centre.id, node.id, "guided_by", "牵头党组织"))
    extra = {c["uscc"]: [f"候选成员: 距联盟 {c['hops']} 跳，与成员有 {c['links_into_alliance']} 条供应关系"]
             for c in candidates}
    for node in org_nodes(facts, [c["uscc"] for c in candidates], level=2, settings=settings,
                          kinds=dict.fromkeys(extra, "candidate"), extra=extra):
        nodes.setdefault(node.id, node)
        edges.append(Edge(centre.id, node.id, "candidate", extra[node.id[4:]][0]))
    orgs = [k[4:] for k in nodes if k.startswith("org:")]
    shown = set(orgs)
    g = facts.supply
    edges += [Edge(f"org:{u}", f"org:{v}", "supplies", _supply_title(facts, u, v))
              for u in orgs if u in g for v in sorted(g.successors(u)) if v in shown]
    title = f"{PICTURE_ZH['alliance']}: {a['name']}"
    pic = Picture("alliance", title, code, scope.describe_zh(facts), facts.run_info(),
                  settings.describe_zh(), list(nodes.values()), edges,
                  level="top" if notes else "detail", notes=notes, budget=budget,
                  full_size=full_size, seed=seed)
    pic.notes.append(" ".join(rates_lines(detail["statuses"])) + "。")
    spring_layout(pic.nodes, pic.edges, seed, centre=centre.id)
    return pic
