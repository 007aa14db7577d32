"""Everything about one organisation, and why it has its status (``fugai org USCC``).

The answer puts the facts (status, covering Party organisations, members, instructor,
association, alliance, supply links, annual report, verification, history) next to
the sentence and the proof path that justify the status and the responsible
committee, so a member of staff can check the reasoning against the rosters.
"""

from __future__ import annotations

from typing import Any

from graph import model as m
from graph import rules as r
from graph.errors import NotFound
from graph.facts import Facts
from graph.facts_build import opt, opt_int
from graph.findings import (
    clean,
    cover_proof,
    instructor_proof,
    make_finding,
    node_name,
    org_finding_kinds,
)
from graph.scope import Scope, in_scope_mask, region_visible, report_header
from graph.store import StoreView

JSON = dict[str, Any]

RULE_ZH = {
    "party_org": "覆盖该单位的党组织所隶属的党委",
    "industry": "行业代码前缀或组织类型对应的行业党委(管行业也要管党建)",
    "place": "所在园区(楼宇)或区域的综合党委",
    "work_committee": "无行业、园区对应时，由两新工委兜底",
}


def status_reason(facts: Facts, uscc: str, status: str) -> str:
    covers = facts.covers.get(uscc, [])
    if covers:
        c = covers[0]
        po = node_name(facts, m.PARTY_ORG, c.party_org)
        formation = facts.party_orgs.at[c.party_org, "formation"]
        where = f"，该单位位于其统建范围“{c.via_place.split(':', 1)[-1]}”" if c.via_place else ""
        n = len(facts.covered_by_po.get(c.party_org, []))
        joint = f"(共覆盖{n}个单位)" if status == r.JOINT else ""
        return f"由{formation}的党组织“{po}”覆盖{joint}{where}"
    if status == r.WORK_ONLY:
        names = "、".join(node_name(facts, m.INSTRUCTOR, i)
                         for i in facts.instructors_of_org.get(uscc, []))
        return f"没有党组织覆盖，由党建工作指导员{names}联系(工作覆盖)"
    return "没有单独、联合或统建党组织覆盖，也没有党建工作指导员联系"


def explain_org(facts: Facts, view: StoreView, uscc: str, *, scope: Scope,
                settings: r.CoverageSettings) -> JSON:
    """One organisation, if it lies in the caller's region scope (else NotFound)."""
    uscc = uscc.strip().upper()
    if scope.empty or uscc not in facts.orgs.index or not region_visible(
            opt(facts.orgs.at[uscc, "region_code"]), scope.region):
        raise NotFound(f"没有统一社会信用代码为 {uscc} 的组织")
    row = clean(facts.orgs.loc[uscc].to_dict())
    node = view.node(m.ORGANIZATION, uscc)
    pos = int(facts.orgs.index.get_loc(uscc))
    scoped = bool(in_scope_mask(facts, settings)[pos])
    exclusion = row["excluded"] or (r.INDIVIDUAL if row["individual"] and scoped is False
                                    else None)
    status = row["status"]
    findings = [make_finding(facts, kind, row, settings).as_json()
                for kind in org_finding_kinds(facts, uscc, settings)]
    committee = row["committee"]
    mids = facts.members_of_org.get(uscc, [])
    mem = facts.members.loc[mids] if mids else facts.members.iloc[0:0]
    supply = facts.supply
    return {
        **report_header(facts, scope, settings),
        "organization": {"uscc": uscc, **(node.props if node else {}),
                         "active": bool(row["active"])},
        "in_scope": scoped,
        "exclusion": exclusion, "exclusion_zh": r.EXCLUSION_ZH.get(exclusion or "", None),
        "status": status, "status_zh": r.STATUS_ZH[status],
        "reason": status_reason(facts, uscc, status),
        "proof": [p.__dict__ for p in cover_proof(facts, uscc)
                  + (instructor_proof(facts, uscc) if status == r.WORK_ONLY else [])],
        "covering_party_orgs": [
            {"code": c.party_org, "name": node_name(facts, m.PARTY_ORG, c.party_org),
             "status": c.status, "formation": facts.party_orgs.at[c.party_org, "formation"],
             "level": facts.party_orgs.at[c.party_org, "level"],
             "via_place": c.via_place.split(":", 1)[-1] if c.via_place else None}
            for c in facts.covers.get(uscc, [])],
        "responsible_committee": {
            "code": committee, "name": node_name(facts, m.COMMITTEE, committee) if committee
            else None, "rule": row["committee_rule"],
            "rule_zh": RULE_ZH.get(row["committee_rule"] or "")},
        "members": {"total": int(row["members"]), "full": int(row["full_members"]),
                    "probationary": int(row["members"] - row["full_members"]),
                    "in_management": int(row["managers"]),
                    "ids": [{"member_id": k, "id_masked": opt(v)}
                            for k, v in zip(mem.index, mem["id_masked"], strict=True)]},
        "instructors": [{"instructor_id": i, **facts.instructors.get(i, {})}
                        for i in facts.instructors_of_org.get(uscc, [])],
        "associations": [{"uscc": a, "name": node_name(facts, m.ORGANIZATION, a)}
                         for a in facts.associations_of_org.get(uscc, [])
                         if region_visible(opt(facts.orgs.at[a, "region_code"]), scope.region)],
        "association_members": len(facts.association_members.get(uscc, [])),
        "alliances": [{"code": a, "name": node_name(facts, m.ALLIANCE, a),
                       "leader": facts.alliances.at[a, "leader"] == uscc}
                      for a in facts.alliances_of_org.get(uscc, [])],
        "suppliers": _neighbours(facts, list(supply.predecessors(uscc))
                                 if uscc in supply else [], scope),
        "customers": _neighbours(facts, list(supply.successors(uscc))
                                 if uscc in supply else [], scope),
        "annual_report": None if row["report_year"] < 0 else {
            "year": row["report_year"], "has_party_org": row["report_has_org"],
            "party_members": opt_int(row["report_members"])},
        "verification": row["verification"],
        "findings": findings,
        "history": view.history(m.ORGANIZATION, uscc),
    }


def _neighbours(facts: Facts, keys: list[str], scope: Scope) -> list[JSON]:
    return [{"uscc": k, "name": node_name(facts, m.ORGANIZATION, k),
             "status": facts.orgs.at[k, "status"]}
            for k in sorted(keys)
            if region_visible(opt(facts.orgs.at[k, "region_code"]), scope.region)]
