"""Gap findings: which units, Party organisations and members need attention, why
(one sentence in Chinese) and the graph path that proves it.

Lists are in the spec's priority order: by finding (``rules.FINDINGS``), then within
a finding by members employed, employees, above-scale, chain leader (the order the
facts frame is already sorted in, so a page is a slice, not a sort). Reasons and
proof paths are built only for the rows shown or exported.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

from graph import model as m
from graph import rules as r
from graph.errors import UsageError
from graph.facts import Facts
from graph.facts_build import opt, opt_int
from graph.scope import (
    Scope,
    in_scope_mask,
    member_mask,
    party_org_mask,
    report_header,
    scope_mask,
)

JSON = dict[str, Any]
PROOF_LIMIT = 10


@dataclass(frozen=True)
class ProofEdge:
    """One stored edge of a proof path, with display names for both ends."""

    type: str
    src_label: str
    src_key: str
    src_name: str
    dst_label: str
    dst_key: str
    dst_name: str


@dataclass(frozen=True)
class Finding:
    finding: str
    subject: str
    key: str
    name: str
    region_code: str | None
    committee: str | None
    status: str | None
    members: int
    employees: int | None
    reason: str
    proof: tuple[ProofEdge, ...]

    def as_json(self) -> JSON:
        data = {f: getattr(self, f) for f in _FINDING_FIELDS}
        data["finding_zh"] = r.FINDING_ZH[self.finding]
        data["proof"] = [{f: getattr(p, f) for f in _PROOF_FIELDS} for p in self.proof]
        return data


_FINDING_FIELDS = tuple(f.name for f in fields(Finding) if f.name != "proof")
_PROOF_FIELDS = tuple(f.name for f in fields(ProofEdge))


def check_kinds(kinds: Iterable[str] | None) -> tuple[str, ...]:
    if kinds is None:
        return r.FINDINGS
    wanted = set(kinds)
    unknown = wanted - set(r.FINDINGS)
    if unknown:
        raise UsageError(f"未知的问题类型: {', '.join(sorted(unknown))}"
                         f" (可选: {', '.join(r.FINDINGS)})")
    return tuple(k for k in r.FINDINGS if k in wanted)


def subject_frame(facts: Facts, kind: str) -> pd.DataFrame:
    """The frame a finding's positions index into."""
    subject = r.FINDING_SUBJECT[kind]
    return (facts.orgs if subject == m.ORGANIZATION else
            facts.party_orgs if subject == m.PARTY_ORG else facts.members)


def org_finding_masks(facts: Facts, cols: dict[str, np.ndarray], base: np.ndarray,
                      settings: r.CoverageSettings, kinds: Iterable[str]
                      ) -> dict[str, np.ndarray]:
    """The organisation findings among units ``base`` selects, over the columns ``cols``
    (the whole area, or one unit's slice for an explanation: one code decides both)."""
    st = cols["status"]
    code = r.STATUSES.index
    out: dict[str, np.ndarray] = {}
    for k in kinds:
        if k == "should_establish":
            out[k] = base & (cols["full_members"] >= settings.full_member_threshold) \
                & (st != code(r.STANDALONE))
        elif k == "members_without_org":
            out[k] = base & (cols["members"] >= 1) & (st >= code(r.WORK_ONLY))
        elif k == "uncovered":
            out[k] = base & (st == code(r.UNCOVERED))
        elif k == "new_since_last_run":
            run = facts.last_run
            out[k] = base & (cols["first_run"] == run.run_id) & (st == code(r.UNCOVERED)) \
                if run and facts.has_previous_run else np.zeros_like(base)
        elif k == "report_mismatch":
            out[k] = base & cols["report_mismatch"]
    return out


def org_finding_kinds(facts: Facts, uscc: str, settings: r.CoverageSettings) -> list[str]:
    """The findings one unit has (none when it is outside the denominator), decided by
    the same masks as the lists."""
    pos = int(facts.orgs.index.get_loc(uscc))
    if not in_scope_mask(facts, settings)[pos]:
        return []
    one = {k: v[pos:pos + 1] for k, v in facts.cols.items()}
    kinds = [k for k in r.FINDINGS if r.FINDING_SUBJECT[k] == m.ORGANIZATION]
    masks = org_finding_masks(facts, one, np.ones(1, dtype=bool), settings, kinds)
    return [k for k, hit in masks.items() if hit[0]]


def finding_positions(facts: Facts, *, scope: Scope, settings: r.CoverageSettings,
                      kinds: Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """Per finding, the positions of its subjects in their frame, in priority order
    (the frames are kept in that order, so no sort happens here)."""
    wanted = check_kinds(kinds)
    out: dict[str, np.ndarray] = {}
    org_kinds = [k for k in wanted if r.FINDING_SUBJECT[k] == m.ORGANIZATION]
    if org_kinds:
        masks = org_finding_masks(facts, facts.cols, scope_mask(facts, scope, settings),
                                  settings, org_kinds)
        out.update({k: np.flatnonzero(v) for k, v in masks.items()})
    po_kinds = [k for k in wanted if r.FINDING_SUBJECT[k] == m.PARTY_ORG]
    if po_kinds:
        p = facts.party_orgs
        base = party_org_mask(facts, scope) & p["active"].to_numpy(dtype=bool)
        level, members = p["level"], p["members"]
        level_bad = ((level == r.BRANCH) & (members > settings.branch_max_members)) | (
            (level == r.GENERAL_BRANCH) & (members > settings.general_branch_max_members))
        if settings.check_committee_flag:
            level_bad |= (level == r.BRANCH) & (p["has_committee"] == False) & (
                p["full_members"] >= settings.committee_flag_full_members)
        po_masks = {
            "orphan_party_org": p["orphan"],
            "joint_too_wide": (p["formation"] == m.JOINT_FORMATION)
            & (p["covers_active"] > settings.joint_max_units),
            "level_mismatch": level_bad,
        }
        for k in po_kinds:
            out[k] = np.flatnonzero(base & np.array(po_masks[k], dtype=bool))
    if "unaffiliated_member" in wanted:
        mem = facts.members
        out["unaffiliated_member"] = np.flatnonzero(
            member_mask(facts, scope) & ~mem["party_org_active"].to_numpy(dtype=bool))
    return {k: out[k] for k in wanted}


def finding_frames(facts: Facts, *, scope: Scope, settings: r.CoverageSettings,
                   kinds: Iterable[str] | None = None) -> dict[str, pd.DataFrame]:
    """Per finding, the subjects having it as rows, in priority order."""
    return {k: subject_frame(facts, k).iloc[pos] for k, pos in
            finding_positions(facts, scope=scope, settings=settings, kinds=kinds).items()}


def finding_counts(facts: Facts, *, scope: Scope, settings: r.CoverageSettings) -> dict[str, int]:
    return {k: len(v) for k, v in
            finding_positions(facts, scope=scope, settings=settings).items()}


def findings_page(facts: Facts, *, scope: Scope, settings: r.CoverageSettings,
                  kinds: Iterable[str] | None = None, page: int = 1, size: int = 50) -> JSON:
    """One page of the finding list (all wanted kinds, in priority order)."""
    if page < 1 or not 1 <= size <= 1000:
        raise UsageError("页码从 1 开始，每页 1–1000 条")
    positions = finding_positions(facts, scope=scope, settings=settings, kinds=kinds)
    counts = {k: len(v) for k, v in positions.items()}
    offset, need = (page - 1) * size, size
    items: list[Finding] = []
    for kind, pos in positions.items():
        if need == 0:
            break
        if offset >= len(pos):
            offset -= len(pos)
            continue
        part = subject_frame(facts, kind).iloc[pos[offset:offset + need]]
        items.extend(make_finding(facts, kind, clean(row), settings)
                     for row in part.to_dict("records"))
        need -= len(part)
        offset = 0
    return {**report_header(facts, scope, settings), "total": sum(counts.values()), "counts": counts, "page": page, "size": size,
            "items": [f.as_json() for f in items]}


def iter_findings(facts: Facts, *, scope: Scope, settings: r.CoverageSettings,
                  kinds: Iterable[str] | None = None) -> Iterator[Finding]:
    """Every finding of the scope, built lazily (exports stream from this).

    The scope and kinds are checked now, not on the first ``next()``: a streamed
    response must fail before it starts, with a proper error, not half way."""
    frames = finding_frames(facts, scope=scope, settings=settings, kinds=kinds)

    def rows() -> Iterator[Finding]:
        for kind, frame in frames.items():
            for start in range(0, len(frame), 2000):
                for row in frame.iloc[start:start + 2000].to_dict("records"):
                    yield make_finding(facts, kind, clean(row), settings)
    return rows()


# --- reasons and proofs --------------------------------------------------------------


def node_name(facts: Facts, label: str, key: str) -> str:
    """A display name; members are shown by number only (person data stays masked)."""
    if label == m.ORGANIZATION and key in facts.orgs.index:
        return str(facts.orgs.at[key, "name"])
    if label == m.PARTY_ORG and key in facts.party_orgs.index:
        return str(facts.party_orgs.at[key, "name"])
    if label == m.COMMITTEE and key in facts.committees.index:
        return str(facts.committees.at[key, "name"])
    if label == m.INSTRUCTOR:
        return str(facts.instructors.get(key, {}).get("name") or key)
    if label == m.PLACE:
        return key.split(":", 1)[-1]
    if label == m.ALLIANCE and key in facts.alliances.index:
        return str(facts.alliances.at[key, "name"])
    return key


def edge(facts: Facts, type: str, src_label: str, src: str, dst_label: str, dst: str) -> ProofEdge:
    return ProofEdge(type, src_label, src, node_name(facts, src_label, src), dst_label, dst,
                     node_name(facts, dst_label, dst))


def cover_proof(facts: Facts, uscc: str) -> list[ProofEdge]:
    """The path from the Party organisation that gives the status to the unit."""
    covers = facts.covers.get(uscc)
    if not covers:
        return []
    c = covers[0]
    if c.via_place is None:
        return [edge(facts, m.COVERS, m.PARTY_ORG, c.party_org, m.ORGANIZATION, uscc)]
    return [edge(facts, m.SERVES_AREA, m.PARTY_ORG, c.party_org, m.PLACE, c.via_place),
            edge(facts, m.IN_PLACE, m.ORGANIZATION, uscc, m.PLACE, c.via_place)]


def employment_proof(facts: Facts, uscc: str, full_only: bool = False) -> list[ProofEdge]:
    mids = facts.members_of_org.get(uscc, [])
    if full_only:
        mids = [mid for mid in mids if mid in facts.full_member_ids]
    name = node_name(facts, m.ORGANIZATION, uscc)
    return [ProofEdge(m.EMPLOYED_BY, m.MEMBER, mid, mid, m.ORGANIZATION, uscc, name)
            for mid in mids[:PROOF_LIMIT]]


def instructor_proof(facts: Facts, uscc: str) -> list[ProofEdge]:
    return [edge(facts, m.ASSIGNED_TO, m.INSTRUCTOR, i, m.ORGANIZATION, uscc)
            for i in facts.instructors_of_org.get(uscc, ())[:PROOF_LIMIT]]


def status_phrase(facts: Facts, row: dict[str, Any]) -> str:
    status, po = row["status"], str(row.get("covering_po"))
    if status == r.JOINT:
        return f"目前由联合党组织“{node_name(facts, m.PARTY_ORG, po)}”覆盖，未单独组建"
    if status == r.AREA:
        return f"目前由统建党组织“{node_name(facts, m.PARTY_ORG, po)}”覆盖，未单独组建"
    if status == r.WORK_ONLY:
        return "仅有党建工作指导员联系，尚未建立党组织"
    return "尚未建立党组织"


def make_finding(facts: Facts, kind: str, row: dict[str, Any],
                 settings: r.CoverageSettings) -> Finding:
    subject = r.FINDING_SUBJECT[kind]
    proof: list[ProofEdge] = []
    if subject == m.ORGANIZATION:
        key, name = row["uscc"], row["name"]
        if kind == "should_establish":
            reason = (f"在该单位工作的正式党员{row['full_members']}名"
                      f"(≥{settings.full_member_threshold}名)，{status_phrase(facts, row)}")
            proof = employment_proof(facts, key, full_only=True) + cover_proof(facts, key) \
                + (instructor_proof(facts, key) if row["status"] == r.WORK_ONLY else [])
        elif kind == "members_without_org":
            reason = f"有党员{row['members']}名在该单位工作，但没有党组织覆盖该单位" + (
                "，仅有党建工作指导员联系" if row["status"] == r.WORK_ONLY else "")
            proof = employment_proof(facts, key) + (
                instructor_proof(facts, key) if row["status"] == r.WORK_ONLY else [])
        elif kind == "uncovered":
            reason = "没有单独、联合或统建党组织覆盖该单位，也没有党建工作指导员联系"
        elif kind == "new_since_last_run":
            run = facts.last_run
            reason = f"第{run.run_id if run else '?'}批导入中首次出现，尚无党组织覆盖"
        else:  # report_mismatch
            reason = r.report_mismatch(row["report_has_org"], opt_int(row["report_members"]),
                                       row["status"] in r.ORG_COVERED, row["members"]) or ""
            report = f"{key}:{row['report_year']}"
            proof = [ProofEdge(m.REPORT_OF, m.ANNUAL_REPORT, report,
                               f"{row['report_year']}年度年报", m.ORGANIZATION, key, name)]
            proof += cover_proof(facts, key) + employment_proof(facts, key)
        return Finding(kind, subject, key, name, row["region_code"], _s(row["committee"]),
                       row["status"], int(row["members"]), int(row["employees"])
                       if row["employees"] >= 0 else None, reason, tuple(proof))
    if subject == m.PARTY_ORG:
        key, name = row["code"], row["name"]
        covered = facts.covered_by_po.get(key, [])
        if kind == "orphan_party_org":
            if row["covers"] and not row["covers_active"]:
                reason = f"所覆盖的{row['covers']}个单位均已注销、吊销或迁出"
                proof = [edge(facts, m.COVERS, m.PARTY_ORG, key, m.ORGANIZATION, u)
                         for u in covered[:PROOF_LIMIT]]
            else:
                reason = "既没有覆盖单位(含统建范围内的单位)，也没有党员"
        elif kind == "joint_too_wide":
            reason = f"联合党组织覆盖{row['covers_active']}个单位，超过{settings.joint_max_units}个"
            proof = [edge(facts, m.COVERS, m.PARTY_ORG, key, m.ORGANIZATION, u)
                     for u in covered[:PROOF_LIMIT]]
        else:  # level_mismatch
            reason = r.level_problem(row["level"], int(row["members"]), int(row["full_members"]),
                                     row["has_committee"], settings) or ""
            proof = [edge(facts, m.MEMBER_OF, m.MEMBER, mid, m.PARTY_ORG, key)
                     for mid in facts.members_of_po.get(key, [])[:PROOF_LIMIT]]
        return Finding(kind, subject, key, name, row["region_code"], _s(row["committee"]),
                       None, int(row["members"]), None, reason, tuple(proof))
    key = row["member_id"]
    po = row["party_org"]
    if po is None:
        reason = "花名册未登记所在党组织"
    elif po in facts.party_orgs.index:
        reason = f"所在党组织“{node_name(facts, m.PARTY_ORG, po)}”已撤销或不在正常状态"
        proof = [edge(facts, m.MEMBER_OF, m.MEMBER, key, m.PARTY_ORG, po)]
    else:
        reason = f"所在党组织编码 {po} 不在党组织名册中"
    if row["employer"]:
        proof.append(edge(facts, m.EMPLOYED_BY, m.MEMBER, key, m.ORGANIZATION, row["employer"]))
    label = f"{key} ({row['id_masked']})" if row.get("id_masked") else key
    return Finding(kind, m.MEMBER, key, label, row["region_code"], _s(row["committee"]), None,
                   0, None, reason, tuple(proof))


def clean(row: dict[str, Any]) -> dict[str, Any]:
    return {k: opt(v) for k, v in row.items()}


def _s(v: Any) -> str | None:
    v = opt(v)
    return None if v is None else str(v)
