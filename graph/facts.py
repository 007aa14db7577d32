"""Coverage facts: one pass over a store view, the rules applied, kept in memory.

The embedded engine answers every coverage question from this snapshot. It holds
only what the rules read (full records stay in the store), as pandas frames for the
per-unit columns and plain dicts for the few adjacency lists an explanation needs,
plus a networkx graph of the supply links for the alliance algorithms. Nothing here
depends on a :class:`~graph.rules.CoverageSettings` value, so one snapshot serves every
setting; settings are applied when a query runs.

Built once per store version (``graph.engine`` caches it) — cold on the province this
takes tens of seconds, then every query is a filter over columns.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import pandas as pd

from graph import model as m
from graph import rules as r
from graph.store import RunRecord, StoreView

#: one edge of a proof path, with the names of both ends for display
ProofEdge = tuple[str, str, str, str, str]  # (type, src_label, src_key, dst_label, dst_key)


@dataclass(frozen=True)
class Cover:
    """A Party organisation covering an organisation, and how (direct or via a place)."""

    party_org: str
    status: str
    via_place: str | None


@dataclass
class Facts:
    version: str
    last_run: RunRecord | None
    #: the run before the latest complete one exists (so "new since last run" means something)
    has_previous_run: bool
    orgs: pd.DataFrame
    party_orgs: pd.DataFrame
    members: pd.DataFrame
    committees: pd.DataFrame
    alliances: pd.DataFrame
    regions: dict[str, str]
    covers: dict[str, list[Cover]]
    members_of_org: dict[str, list[str]]
    members_of_po: dict[str, list[str]]
    instructors_of_org: dict[str, list[str]]
    covered_by_po: dict[str, list[str]]
    alliance_members: dict[str, list[str]]
    alliances_of_org: dict[str, list[str]]
    committee_children: dict[str, list[str]]
    committee_rule: dict[str, str]
    supply: nx.DiGraph
    #: association -> member units and unit -> its associations (行业协会商会 会员)
    association_members: dict[str, list[str]] = field(default_factory=dict)
    associations_of_org: dict[str, list[str]] = field(default_factory=dict)
    instructors: dict[str, dict[str, Any]] = field(default_factory=dict)
    root_committees: list[str] = field(default_factory=list)

    def run_info(self) -> dict[str, Any]:
        """Which complete run the figures come from (printed on every report)."""
        run = self.last_run
        return {"run_id": run.run_id if run else None,
                "finished_at": run.finished_at if run else None}

    def committee_subtree(self, code: str) -> set[str]:
        out, todo = set(), [code]
        while todo:
            c = todo.pop()
            if c in out:
                continue
            out.add(c)
            todo.extend(self.committee_children.get(c, ()))
        return out


def _str(v: Any) -> str | None:
    return None if v is None or v == "" else str(v)


def _int(v: Any) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return -1


def _edges(view: StoreView, type: str, src_label: str | None = None) -> list[tuple[str, str, str]]:
    """Active edges of ``type`` as (src, dst, dst_label), optionally from one label."""
    return [(e.src_key, e.dst_key, e.dst_label) for e in view.edges(type)
            if e.active and (src_label is None or e.src_label == src_label)]


def build_facts(view: StoreView) -> Facts:
    version = view.version()
    runs = [run for run in view.runs(limit=2) if run.status == "complete"]

    # --- nodes -----------------------------------------------------------------
    org_rows: dict[str, dict[str, Any]] = {}
    for n in view.nodes(m.ORGANIZATION):
        p = n.props
        org_rows[n.key] = {
            "uscc": n.key, "name": p.get("name") or "", "org_kind": p.get("org_kind"),
            "entity_type": _str(p.get("entity_type")), "active": n.active,
            "region_code": _str(p.get("region_code")), "industry_code": _str(p.get("industry_code")),
            "employees": _int(p.get("employees")), "above_scale": bool(p.get("above_scale")),
            "park": _str(p.get("park")), "building": _str(p.get("building")),
            "is_association": bool(p.get("is_association")), "org_type": _str(p.get("org_type")),
            "category": _str((p.get("raw") or {}).get("机构类别")),
            "party_in_charter": p.get("party_in_charter"), "first_run": n.first_run,
        }
    po_nodes = {n.key: n for n in view.nodes(m.PARTY_ORG)}
    member_nodes = {n.key: n for n in view.nodes(m.MEMBER)}
    instructor_nodes = {n.key: n for n in view.nodes(m.INSTRUCTOR)}
    committee_nodes = {n.key: n for n in view.nodes(m.COMMITTEE)}
    alliance_nodes = {n.key: n for n in view.nodes(m.ALLIANCE)}
    regions = {n.key: n.props.get("name") or n.key for n in view.nodes(m.REGION)}
    verification = {n.key: n.props.get("result") for n in view.nodes(m.VERIFICATION)}
    reports: dict[str, dict[str, Any]] = {}
    for n in view.nodes(m.ANNUAL_REPORT):
        u, year = n.props.get("uscc"), _int(n.props.get("year"))
        if u and year >= reports.get(u, {}).get("year", -2):
            reports[u] = {"year": year, "has_org": n.props.get("has_party_org"),
                          "members": n.props.get("party_members")}

    # --- Party organisations: committee above, members ------------------------------
    po_parent: dict[str, tuple[str, str]] = {}
    committee_parent: dict[str, str] = {}
    for e in view.edges(m.REPORTS_TO):
        if e.src_label == m.PARTY_ORG:
            po_parent[e.src_key] = (e.dst_label, e.dst_key)
        elif e.src_label == m.COMMITTEE and e.dst_key in committee_nodes:
            committee_parent[e.src_key] = e.dst_key

    def committee_above(code: str) -> str | None:
        seen: set[str] = set()
        while code not in seen:
            seen.add(code)
            label, parent = po_parent.get(code, ("", ""))
            if label == m.COMMITTEE:
                return parent if parent in committee_nodes else None
            if label != m.PARTY_ORG:
                return None
            code = parent
        return None

    members_of_po: dict[str, list[str]] = defaultdict(list)
    member_po: dict[str, str] = {}
    for src, dst, _ in _edges(view, m.MEMBER_OF):
        if src in member_nodes and member_nodes[src].active:
            member_po[src] = dst
            if dst in po_nodes:
                members_of_po[dst].append(src)
    members_of_org: dict[str, list[str]] = defaultdict(list)
    member_employer: dict[str, str] = {}
    for src, dst, _ in _edges(view, m.EMPLOYED_BY):
        if src in member_nodes and member_nodes[src].active and dst in org_rows:
            member_employer[src] = dst
            members_of_org[dst].append(src)

    # --- coverage: direct COVERS and through parks/buildings -----------------------------
    po_status = {k: r.formation_status(n.props.get("formation")) for k, n in po_nodes.items()}
    covers: dict[str, list[Cover]] = defaultdict(list)
    covered_by_po: dict[str, list[str]] = defaultdict(list)
    for src, dst, _ in _edges(view, m.COVERS):
        if dst not in org_rows or src not in po_nodes:
            continue
        covered_by_po[src].append(dst)
        status = po_status[src]
        if po_nodes[src].active and status:
            covers[dst].append(Cover(src, status, None))
    orgs_in_place: dict[str, list[str]] = defaultdict(list)
    for src, dst, _ in _edges(view, m.IN_PLACE):
        if src in org_rows:
            orgs_in_place[dst].append(src)
    po_area_orgs: dict[str, set[str]] = defaultdict(set)
    region_areas: list[tuple[str, str]] = []
    for src, dst, dst_label in _edges(view, m.SERVES_AREA):
        if src not in po_nodes:
            continue
        if dst_label == m.REGION:
            region_areas.append((src, dst))
            continue
        for org in orgs_in_place.get(dst, ()):
            po_area_orgs[src].add(org)
            if po_nodes[src].active and po_status[src] == r.AREA:
                covers[org].append(Cover(src, r.AREA, dst))
    if region_areas:  # region-wide areas count for the orphan check only (see docs)
        by_prefix: dict[str, list[str]] = defaultdict(list)
        for u, row in org_rows.items():
            rc = row["region_code"] or ""
            for width in (6, 9, 12):
                if len(rc) >= width:
                    by_prefix[rc[:width]].append(u)
        for area_po, code in region_areas:
            po_area_orgs[area_po].update(by_prefix.get(code, ()))

    instructors_of_org: dict[str, list[str]] = defaultdict(list)
    for src, dst, _ in _edges(view, m.ASSIGNED_TO):
        if src in instructor_nodes and instructor_nodes[src].active and dst in org_rows:
            instructors_of_org[dst].append(src)

    # --- alliances ------------------------------------------------------------------
    alliance_members: dict[str, list[str]] = defaultdict(list)
    leaders: dict[str, str] = {}
    for src, dst, _ in _edges(view, m.LED_BY):
        if src in alliance_nodes and dst in org_rows:
            leaders[src] = dst
    for src, dst, _ in _edges(view, m.ALLIANCE_MEMBER):
        if src in alliance_nodes and dst in org_rows:
            alliance_members[src].append(dst)
    for code, leader in leaders.items():
        if leader not in alliance_members[code]:
            alliance_members[code].insert(0, leader)
    alliances_of_org: dict[str, list[str]] = defaultdict(list)
    for code, orgs in alliance_members.items():
        if alliance_nodes[code].active:
            for u in orgs:
                alliances_of_org[u].append(code)
    chain_leaders = {u for code, u in leaders.items() if alliance_nodes[code].active}

    # --- committees and the responsible-committee rule ---------------------------------
    crules = [r.CommitteeRule(
        code, n.props.get("committee_kind") or "", tuple(n.props.get("industries") or ()),
        tuple(n.props.get("org_kinds") or ()), _str(n.props.get("region_code")),
        _str(n.props.get("park"))) for code, n in sorted(committee_nodes.items())]
    committee_children: dict[str, list[str]] = defaultdict(list)
    for child, parent in sorted(committee_parent.items()):
        committee_children[parent].append(child)
    roots = sorted(c for c in committee_nodes if c not in committee_parent)
    root = next((c.code for c in crules if c.code in roots and c.kind == m.WORK_COMMITTEE),
                roots[0] if roots else None)

    # --- per-organisation columns --------------------------------------------------------
    def member_count(ids: list[str], full_only: bool = False, managers: bool = False) -> int:
        n = 0
        for mid in ids:
            p = member_nodes[mid].props
            if full_only and p.get("member_type") != r.FULL_MEMBER:
                continue
            if managers and not p.get("in_management"):
                continue
            n += 1
        return n

    committee_rule: dict[str, str] = {}
    for u, row in org_rows.items():
        cov = sorted(covers.get(u, ()), key=lambda c: (r.status_rank(c.status), c.party_org))
        covers[u] = cov
        if not cov:
            covers.pop(u, None)
        ins = sorted(instructors_of_org.get(u, ()))
        row["status"] = r.coverage_status((po_nodes[c.party_org].props.get("formation")
                                           for c in cov), bool(ins))
        row["covering_po"] = cov[0].party_org if cov else None
        row["covering_level"] = po_nodes[cov[0].party_org].props.get("level") if cov else None
        row["instructor"] = ins[0] if ins else None
        mids = members_of_org.get(u, [])
        row["members"] = len(mids)
        row["full_members"] = member_count(mids, full_only=True)
        row["managers"] = member_count(mids, managers=True)
        row["individual"] = r.is_individual(row["entity_type"])
        row["verification"] = verification.get(u)
        row["excluded"] = r.exclusion(active=row["active"], org_kind=row["org_kind"] or "",
                                      entity_type=row["entity_type"],
                                      verification=verification.get(u))
        row["chain_leader"] = u in chain_leaders
        row["alliances"] = len(alliances_of_org.get(u, ()))
        rep = reports.get(u)
        row["report_year"] = rep["year"] if rep else -1
        row["report_has_org"] = rep["has_org"] if rep else None
        row["report_members"] = rep["members"] if rep else None
        committee, rule = None, ""
        if cov:
            committee, rule = committee_above(cov[0].party_org), "party_org"
        if committee is None:
            cats = r.org_categories(org_kind=row["org_kind"] or "", entity_type=row["entity_type"],
                                    org_type=row["org_type"], is_association=row["is_association"],
                                    category=row["category"])
            committee, rule = r.industry_committee(crules, row["industry_code"], cats), "industry"
        if committee is None:
            committee, rule = r.place_committee(crules, row["park"], row["building"],
                                                row["region_code"]), "place"
        if committee is None:
            committee, rule = r.work_committee(crules, row["region_code"], root), "work_committee"
        row["committee"] = committee
        committee_rule[u] = rule if committee else ""
    orgs = pd.DataFrame.from_records(list(org_rows.values()), columns=_ORG_COLUMNS)
    orgs["county"] = orgs["region_code"].str[:6].astype("category")
    orgs["street"] = orgs["region_code"].str[:9].astype("category")
    orgs["size_band"] = [r.size_band(e) for e in orgs["employees"]]
    orgs["committee"] = orgs["committee"].astype("category")
    # priority order of the gap lists: members employed, employees, above-scale, chain leader
    orgs = orgs.sort_values(["members", "employees", "above_scale", "chain_leader", "uscc"],
                            ascending=[False, False, False, False, True], kind="stable")
    orgs = orgs.set_index("uscc", drop=False)

    # --- Party organisation columns ---------------------------------------------------
    po_rows = []
    po_region: dict[str, str | None] = {}
    po_region_area = dict(region_areas)
    for code, n in po_nodes.items():
        p = n.props
        mids = members_of_po.get(code, [])
        direct = covered_by_po.get(code, [])
        active_direct = [u for u in direct if org_rows[u]["active"]]
        area_active = [u for u in po_area_orgs.get(code, ()) if org_rows[u]["active"]]
        covered_active = len(set(active_direct) | set(area_active))
        mobile = "流动党员" in (p.get("name") or "") or any(
            member_nodes[mid].props.get("mobile") for mid in mids)
        orphan = n.active and covered_active == 0 and (bool(direct) or not mids) \
            and not (mobile and mids)
        region = po_region_area.get(code)
        if region is None and direct:
            region = org_rows[min(direct)]["region_code"]
        if region is None and area_active:
            region = org_rows[min(area_active)]["region_code"]
        committee = committee_above(code)
        if region is None and committee:
            region = _str(committee_nodes[committee].props.get("region_code"))
        po_rows.append({
            "code": code, "name": p.get("name") or "", "level": p.get("level"),
            "formation": p.get("formation"), "active": n.active, "committee": committee,
            "covers": len(direct), "covers_active": covered_active, "members": len(mids),
            "full_members": member_count(mids, full_only=True), "mobile": mobile,
            "has_committee": p.get("has_committee"), "orphan": bool(orphan),
            "region_code": region,
        })
        po_region[code] = region
    party_orgs = pd.DataFrame.from_records(po_rows, columns=_PO_COLUMNS)
    party_orgs = party_orgs.sort_values(["members", "code"], ascending=[False, True])
    party_orgs = party_orgs.set_index("code", drop=False)

    # --- members -------------------------------------------------------------------------
    mem_rows = []
    for mid, n in member_nodes.items():
        if not n.active:
            continue
        po = member_po.get(mid)
        employer = member_employer.get(mid)
        po_ok = po in po_nodes and po_nodes[po].active
        region = org_rows[employer]["region_code"] if employer else None
        committee = org_rows[employer]["committee"] if employer else None
        if po in po_nodes:
            region = region or po_region.get(po)
            committee = committee or committee_above(po)
        mem_rows.append({
            "member_id": mid, "member_type": n.props.get("member_type"),
            "party_org": po, "party_org_active": bool(po_ok), "employer": employer,
            "mobile": bool(n.props.get("mobile")), "id_masked": n.props.get("id_masked"),
            "region_code": region, "committee": committee,
        })
    members = pd.DataFrame.from_records(mem_rows, columns=_MEMBER_COLUMNS)
    members = members.sort_values("member_id").set_index("member_id", drop=False)

    committees = pd.DataFrame.from_records([{
        "code": c.code, "name": committee_nodes[c.code].props.get("name") or c.code,
        "kind": c.kind, "parent": committee_parent.get(c.code), "industries": ";".join(c.industries),
        "org_kinds": ";".join(c.org_kinds), "region_code": c.region_code, "park": c.park,
    } for c in crules], columns=_COMMITTEE_COLUMNS).set_index("code", drop=False)

    alliances = pd.DataFrame.from_records([{
        "code": code, "name": n.props.get("name") or code, "chain": _str(n.props.get("chain")),
        "leader": leaders.get(code), "lead_party_org": _str(n.props.get("lead_party_org")),
        "active": n.active, "members": len(alliance_members.get(code, ())),
    } for code, n in sorted(alliance_nodes.items())], columns=_ALLIANCE_COLUMNS)
    alliances = alliances.set_index("code", drop=False)

    # the supply graph over active units; nodes carry their region so scoped
    # traversals never step outside a user's region
    supply: nx.DiGraph = nx.DiGraph()
    for e in view.edges(m.SUPPLIES):
        if e.active and e.src_key in org_rows and e.dst_key in org_rows \
                and org_rows[e.src_key]["active"] and org_rows[e.dst_key]["active"]:
            supply.add_edge(e.src_key, e.dst_key, chain=_str(e.props.get("chain")),
                            relation=_str(e.props.get("relation")))
    for u in supply.nodes:
        supply.nodes[u]["region"] = org_rows[u]["region_code"] or ""
    association_members: dict[str, list[str]] = defaultdict(list)
    associations_of_org: dict[str, list[str]] = defaultdict(list)
    for src, dst, _ in _edges(view, m.ASSOCIATION_MEMBER):
        if src in org_rows and dst in org_rows:
            association_members[src].append(dst)
            associations_of_org[dst].append(src)

    return Facts(
        version=version, last_run=runs[0] if runs else None, has_previous_run=len(runs) > 1,
        orgs=orgs, party_orgs=party_orgs, members=members, committees=committees,
        alliances=alliances, regions=regions, covers=dict(covers),
        members_of_org={k: sorted(v) for k, v in members_of_org.items()},
        members_of_po={k: sorted(v) for k, v in members_of_po.items()},
        instructors_of_org={k: sorted(v) for k, v in instructors_of_org.items()},
        covered_by_po={k: sorted(v) for k, v in covered_by_po.items()},
        alliance_members={k: v for k, v in alliance_members.items()},
        alliances_of_org={k: sorted(v) for k, v in alliances_of_org.items()},
        committee_children=dict(committee_children), committee_rule=committee_rule,
        supply=supply,
        association_members={k: sorted(v) for k, v in association_members.items()},
        associations_of_org={k: sorted(v) for k, v in associations_of_org.items()},
        instructors={k: {"name": n.props.get("name"), "sent_by": n.props.get("sent_by"),
                         "active": n.active} for k, n in instructor_nodes.items()},
        root_committees=roots,
    )


_ORG_COLUMNS = [
    "uscc", "name", "org_kind", "entity_type", "active", "region_code", "industry_code",
    "employees", "above_scale", "park", "building", "is_association", "org_type", "category",
    "party_in_charter", "first_run", "status", "covering_po", "covering_level", "instructor",
    "members", "full_members", "managers", "individual", "verification", "excluded",
    "chain_leader", "alliances", "report_year", "report_has_org", "report_members", "committee",
]
_PO_COLUMNS = [
    "code", "name", "level", "formation", "active", "committee", "covers", "covers_active",
    "members", "full_members", "mobile", "has_committee", "orphan", "region_code",
]
_MEMBER_COLUMNS = [
    "member_id", "member_type", "party_org", "party_org_active", "employer", "mobile",
    "id_masked", "region_code", "committee",
]
_COMMITTEE_COLUMNS = ["code", "name", "kind", "parent", "industries", "org_kinds", "region_code",
                      "park"]
_ALLIANCE_COLUMNS = ["code", "name", "chain", "leader", "lead_party_org", "active", "members"]
