"""Coverage facts: the rules applied once over a store view, kept in memory.

The embedded engine answers every coverage question from this snapshot. It holds
only what the rules read (full records stay in the store): pandas frames of units,
Party organisations and members, a few adjacency lists an explanation needs, and a
networkx graph of the supply links for the alliance algorithms. It is built with
column operations over the store's tables (``StoreView.node_table``/``edge_table``),
so a province of a million units builds in tens of seconds, not minutes; rules that
are easier read as scalar functions (``graph.rules``) are applied once per distinct
input (a few hundred industry codes, not a million rows).

Nothing here depends on a :class:`~graph.rules.CoverageSettings` value, so one snapshot
serves every setting; settings are applied when a query runs (``graph.scope``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from graph import model as m
from graph import rules as r
from graph.facts_build import (
    COMMITTEE_READS,
    COVERAGE_READS,
    MEMBER_READS,
    MEMBERSHIP_READS,
    PARTY_ORG_READS,
    Committees,
    Coverage,
    along,
    committee_columns,
    coverage,
    grouped,
    isin,
    member_columns,
    memberships,
    opt,
    opt_int,
    party_org_columns,
    subtree,
)
from graph.read_ahead import ReadAhead, TableRead, Tables, edge_read, node_read
from graph.store import RunRecord, StoreView


@dataclass(frozen=True)
class Cover:
    """A Party organisation covering a unit, and how (directly or via a park/building)."""

    party_org: str
    status: str
    via_place: str | None


@dataclass
class Facts:
    version: str
    last_run: RunRecord | None
    #: a complete run before the latest exists (so "new since last run" means something)
    has_previous_run: bool
    #: one row per unit, index uscc, in the gap lists' priority order
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
    supply: nx.DiGraph
    association_members: dict[str, list[str]] = field(default_factory=dict)
    associations_of_org: dict[str, list[str]] = field(default_factory=dict)
    instructors: dict[str, dict[str, Any]] = field(default_factory=dict)
    root_committees: list[str] = field(default_factory=list)
    #: numpy views of the hot columns, for mask arithmetic in queries
    cols: dict[str, np.ndarray] = field(default_factory=dict)
    po_cols: dict[str, np.ndarray] = field(default_factory=dict)
    #: active full members (正式党员), for proofs that count them
    full_member_ids: frozenset[str] = frozenset()
    #: the newest run, when it did not complete (see ``run_info``)
    incomplete_run: int | None = None

    def run_info(self) -> dict[str, Any]:
        """Which complete run the figures come from (printed on every report), and a
        later run that died half way, if any (the Neo4j store commits in chunks, so its
        rows are partly in the figures until it is run again)."""
        run = self.last_run
        return {"run_id": run.run_id if run else None,
                "finished_at": run.finished_at if run else None,
                "incomplete_run": self.incomplete_run}

    def committee_subtree(self, code: str) -> set[str]:
        return subtree(self.committee_children, code)


ORG_PROPS = ("name", "org_kind", "entity_type", "region_code", "industry_code", "employees",
             "above_scale", "park", "building", "is_association", "org_type", "raw.机构类别",
             "party_in_charter")
#: what the statuses, exclusions and responsible committees read (the trend snapshot
#: reads only these: a million names and sizes fewer to take out of the JSON)
STATUS_ORG_PROPS = tuple(p for p in ORG_PROPS
                         if p not in ("name", "employees", "above_scale", "party_in_charter"))

INSTRUCTOR_PROPS = ("name", "sent_by")
ANNUAL_REPORT_PROPS = ("uscc", "year", "has_party_org", "party_members")
ALLIANCE_PROPS = ("name", "chain", "lead_party_org")
SUPPLY_PROPS = ("chain", "relation")


def per_unique(frame: pd.DataFrame, columns: list[str],
               fn: Callable[..., Hashable]) -> pd.Series:
    """Apply a scalar rule once per distinct combination of ``columns``.

    Each column is factorized on its own and the codes folded into one integer per row
    (building a MultiIndex over a million rows took seconds; this takes a fraction)."""
    codes_of: list[np.ndarray] = []
    uniques: list[Any] = []
    combined = np.zeros(len(frame), dtype=np.int64)
    span = 1
    for col in columns:
        codes, values = pd.factorize(frame[col], use_na_sentinel=False)
        codes_of.append(codes)
        uniques.append(values)
        combined = combined * max(len(values), 1) + codes
        span *= max(len(values), 1)
        if span > 2**31:   # keep the fold far from overflow: renumber what exists
            combined, seen = pd.factorize(combined)
            combined, span = combined.astype(np.int64), len(seen)
    _, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
    out = [fn(*(opt(u[c[i]]) for u, c in zip(uniques, codes_of, strict=True))) for i in first]
    return pd.Series(np.asarray(out, dtype=object)[inverse], index=frame.index)


def _orgs(view: Tables, props: tuple[str, ...]) -> pd.DataFrame:
    o = view.node_table(m.ORGANIZATION, props).rename(
        columns={"key": "uscc", "raw.机构类别": "category"})
    o["active"] = o["active"].astype(bool)
    o["is_association"] = o["is_association"].fillna(0).astype(bool)
    if "employees" in o:
        o["employees"] = pd.to_numeric(o["employees"], errors="coerce").fillna(-1).astype(int)
    if "above_scale" in o:
        o["above_scale"] = o["above_scale"].fillna(0).astype(bool)
    if "party_in_charter" in o:   # True / False / None (unknown): 党建入章 counts True only
        o["party_in_charter"] = o["party_in_charter"].map({1: True, 0: False}).astype(object)
    if "name" in o:
        o["name"] = o["name"].fillna("")
    return o


@dataclass
class Core:
    """Each unit's status, members, exclusion and responsible committee, with the
    tables they came from: all a run's trend snapshot needs, and the first half of
    the facts."""

    orgs: pd.DataFrame
    committees: Committees
    party_orgs: pd.DataFrame
    members: pd.DataFrame
    employed: pd.DataFrame
    coverage: Coverage
    instructors: pd.DataFrame
    instructors_of_org: dict[str, list[str]]


def core_reads(org_props: tuple[str, ...]) -> tuple[TableRead, ...]:
    """The tables :func:`core_from` reads, in its order. The committees and Party
    organisations come first: they are small, and the caller works on them while the
    units' table, the largest, is read."""
    return (*COMMITTEE_READS, *PARTY_ORG_READS, node_read(m.ORGANIZATION, org_props),
            node_read(m.VERIFICATION, ("result",)), *MEMBER_READS, *COVERAGE_READS,
            node_read(m.INSTRUCTOR, INSTRUCTOR_PROPS), edge_read(m.ASSIGNED_TO))


def build_core(view: StoreView, org_props: tuple[str, ...] = ORG_PROPS) -> Core:
    """The first half of the facts; ``org_props`` at least ``STATUS_ORG_PROPS``."""
    with ReadAhead(view, core_reads(org_props)) as tables:
        return core_from(tables, org_props)


def core_from(view: Tables, org_props: tuple[str, ...]) -> Core:
    """:func:`build_core` over tables taken in the order of :func:`core_reads`."""
    # --- committees, Party organisations ------------------------------------------------
    com = committee_columns(view)
    po, po_committee = party_org_columns(view, com)

    o = _orgs(view, org_props)
    org_ids = pd.Index(o["uscc"])
    active_org = pd.Series(o["active"].to_numpy(), index=org_ids)

    # --- verification (an exclusion rule reads it) ------------------------------------------
    ver = view.node_table(m.VERIFICATION, ("result",)).set_index("key")["result"]
    o["verification"] = along(org_ids, ver, o.index)

    # --- members ------------------------------------------------------------------------------
    mem, employed = member_columns(view, org_ids)

    # --- coverage: direct COVERS and through parks/buildings ------------------------------
    cov = coverage(view, org_ids, active_org, po)
    best = cov.all.drop_duplicates("org").set_index("org")
    instr = view.node_table(m.INSTRUCTOR, INSTRUCTOR_PROPS)
    instr_active = set(instr.loc[instr["active"].astype(bool), "key"])
    assigned = view.edge_table(m.ASSIGNED_TO)
    assigned = assigned[isin(assigned["src"], instr_active) & isin(assigned["dst"], org_ids)]
    instructors_of_org = grouped(assigned, "dst", "src")

    o["covering_po"] = along(org_ids, best["po"], o.index)
    o["covering_level"] = o["covering_po"].map(po["level"])
    o["instructor"] = along(org_ids, {k: v[0] for k, v in instructors_of_org.items()}, o.index)
    status = along(org_ids, best["status"], o.index).astype(object)
    fallback = np.where(o["instructor"].notna(), r.WORK_ONLY, r.UNCOVERED)
    o["status"] = status.where(status.notna(), pd.Series(fallback, index=o.index)).astype(str)

    emp = employed.merge(mem[["member_id", "full", "in_management"]], left_on="src",
                         right_on="member_id")
    per_org = emp.groupby("dst").agg(members=("src", "size"), full_members=("full", "sum"),
                                     managers=("in_management", "sum"))
    for col in ("members", "full_members", "managers"):
        o[col] = along(org_ids, per_org[col], o.index).fillna(0).astype(int)

    # --- exclusions (rules applied per distinct entity type) ------------------------------
    o["individual"] = per_unique(o, ["entity_type"], r.is_individual).astype(bool)
    o["excluded"] = per_unique(
        o, ["active", "org_kind", "entity_type", "verification"],
        lambda a, k, t, v: r.exclusion(active=bool(a), org_kind=k or "", entity_type=t,
                                       verification=v))

    # --- responsible committee --------------------------------------------------------------
    rules_ = com.rules
    by_po = o["covering_po"].map(po_committee)
    cats = ["org_kind", "entity_type", "org_type", "is_association", "category"]
    industry = per_unique(o, ["industry_code", *cats], lambda ind, k, t, ot, assoc, cat:
                          r.industry_committee(rules_, ind, r.org_categories(
                              org_kind=k or "", entity_type=t, org_type=ot,
                              is_association=bool(assoc), category=cat)))
    place = per_unique(o, ["park", "building", "region_code"],
                       lambda p, b, reg: r.place_committee(rules_, p, b, reg))
    work = per_unique(o, ["region_code"], lambda reg: r.work_committee(rules_, reg, com.root))
    o["committee"] = by_po.where(by_po.notna(), industry).where(
        lambda s: s.notna(), place).where(lambda s: s.notna(), work)
    o["committee_rule"] = np.select(
        [by_po.notna(), industry.notna(), place.notna(), work.notna()],
        ["party_org", "industry", "place", "work_committee"], "")
    o["county"] = o["region_code"].astype("str").str[:6].astype("category")
    o["street"] = o["region_code"].astype("str").str[:9].astype("category")
    return Core(o, com, po, mem, employed, cov, instr, instructors_of_org)


#: the tables :func:`build_facts` reads after the core's, in its order
FACTS_READS = (*MEMBERSHIP_READS, node_read(m.ANNUAL_REPORT, ANNUAL_REPORT_PROPS),
               node_read(m.ALLIANCE, ALLIANCE_PROPS), edge_read(m.LED_BY),
               edge_read(m.ALLIANCE_MEMBER), edge_read(m.SUPPLIES, SUPPLY_PROPS),
               edge_read(m.ASSOCIATION_MEMBER), node_read(m.REGION, ("name",)))


def build_facts(view: StoreView) -> Facts:
    version = view.version()
    recent = view.runs(limit=20)
    runs = [run for run in recent if run.status == "complete"][:2]
    incomplete = recent[0].run_id if recent and recent[0].status != "complete" else None
    with ReadAhead(view, (*core_reads(ORG_PROPS), *FACTS_READS)) as tables:
        return _facts(tables, version, runs, incomplete)


def _facts(view: Tables, version: str, runs: list[RunRecord], incomplete: int | None) -> Facts:
    core = core_from(view, ORG_PROPS)
    o, com, po, mem = core.orgs, core.committees, core.party_orgs, core.members
    employed, cov, instr = core.employed, core.coverage, core.instructors
    member_of = memberships(view, mem)
    instructors_of_org = core.instructors_of_org
    org_ids = pd.Index(o["uscc"])

    # --- annual reports: each unit's latest (not in the core: no status depends on it) --------
    rep = view.node_table(m.ANNUAL_REPORT, ANNUAL_REPORT_PROPS)
    rep = rep.dropna(subset=["uscc"]).sort_values(["uscc", "year"]).drop_duplicates(
        "uscc", keep="last").set_index("uscc")
    o["report_year"] = along(org_ids, rep["year"], o.index).fillna(-1).astype(int)
    o["report_has_org"] = along(org_ids, rep["has_party_org"].map({1: True, 0: False}), o.index)
    o["report_members"] = along(org_ids, rep["party_members"], o.index)

    # --- alliances -------------------------------------------------------------------------
    al = view.node_table(m.ALLIANCE, ALLIANCE_PROPS)
    al["active"] = al["active"].astype(bool)
    al_ids = set(al["key"])
    led = view.edge_table(m.LED_BY)
    led = led[isin(led["src"], al_ids) & isin(led["dst"], org_ids)]
    leaders = dict(zip(led["src"], led["dst"], strict=True))
    am = view.edge_table(m.ALLIANCE_MEMBER)
    am = am[isin(am["src"], al_ids) & isin(am["dst"], org_ids)]
    alliance_members: dict[str, list[str]] = {k: list(v) for k, v in
                                               am.groupby("src", sort=True)["dst"]}
    for code, leader in leaders.items():
        lst = alliance_members.setdefault(code, [])
        if leader not in lst:
            lst.insert(0, leader)
    active_alliances = set(al.loc[al["active"], "key"])
    alliances_of_org: dict[str, list[str]] = {}
    for code in sorted(alliance_members):
        if code in active_alliances:
            for u in alliance_members[code]:
                alliances_of_org.setdefault(u, []).append(code)
    chain_leaders = {u for code, u in leaders.items() if code in active_alliances}
    o["chain_leader"] = isin(o["uscc"], chain_leaders)
    o["alliances"] = along(org_ids, {k: len(v) for k, v in alliances_of_org.items()},
                           o.index).fillna(0).astype(int)

    # --- report comparison (settings-independent, one scalar rule per reporting unit) --------
    has_rep = o["report_year"] >= 0
    sub = o[has_rep]
    mismatch = np.zeros(len(o), dtype=bool)
    mismatch[np.flatnonzero(has_rep.to_numpy())] = [
        r.report_mismatch(opt(h), opt_int(n), s in r.ORG_COVERED, int(k)) is not None
        for h, n, s, k in zip(sub["report_has_org"], sub["report_members"], sub["status"],
                              sub["members"], strict=True)]
    o["report_mismatch"] = mismatch

    # --- derived columns, priority order ------------------------------------------------------
    o["size_band"] = per_unique(o, ["employees"], r.size_band).astype("category")
    o["committee"] = o["committee"].astype("category")
    o = o.sort_values(["members", "employees", "above_scale", "chain_leader", "uscc"],
                      ascending=[False, False, False, False, True], kind="stable")
    o = o.set_index("uscc", drop=False)

    # --- Party organisation findings' columns --------------------------------------------------
    po = cov.party_org_figures(po, member_of, mem, o, com.frame["region_code"])

    # --- members' region and committee ------------------------------------------------------------
    mem = mem[mem["active"]].copy()
    mem["party_org"] = mem["member_id"].map(member_of.drop_duplicates("src")
                                            .set_index("src")["dst"])
    mem["party_org_active"] = mem["party_org"].map(po["active"]).astype(object).eq(True)
    mem["employer"] = mem["member_id"].map(employed.drop_duplicates("src")
                                           .set_index("src")["dst"])
    for col, own in (("region_code", o["region_code"]), ("committee", o["committee"])):
        by_employer = mem["employer"].map(own.astype(object)).astype(object)
        by_branch = mem["party_org"].map(po[col].astype(object)).astype(object)
        mem[col] = by_employer.where(by_employer.notna(), by_branch)
    mem = mem.sort_values("member_id").set_index("member_id", drop=False)
    for frame in (po, mem):  # fast region masks (see graph.scope)
        frame["county"] = frame["region_code"].astype("str").str[:6].astype("category")
        frame["street"] = frame["region_code"].astype("str").str[:9].astype("category")

    # --- supply graph over active units; nodes carry their region ------------------------------
    sup = view.edge_table(m.SUPPLIES, SUPPLY_PROPS)
    live = set(o.index[o["active"].to_numpy()])
    sup = sup[isin(sup["src"], live) & isin(sup["dst"], live)]
    supply: nx.DiGraph = nx.DiGraph()
    supply.add_edges_from(
        (u, v, {"chain": opt(c), "relation": opt(rel)})
        for u, v, c, rel in zip(sup["src"], sup["dst"], sup["chain"], sup["relation"],
                                strict=True))
    region_of = o["region_code"]
    for u in supply.nodes:
        supply.nodes[u]["region"] = opt(region_of.at[u]) or ""

    assoc = view.edge_table(m.ASSOCIATION_MEMBER)
    assoc = assoc[isin(assoc["src"], org_ids) & isin(assoc["dst"], org_ids)]

    alliances = pd.DataFrame({
        "code": al["key"], "name": al["name"].fillna(al["key"]),
        "chain": al["chain"].map(opt), "leader": al["key"].map(leaders),
        "lead_party_org": al["lead_party_org"].map(opt), "active": al["active"],
        "members": al["key"].map(lambda k: len(alliance_members.get(k, ()))),
    }).sort_values("code").set_index("code", drop=False)

    facts = Facts(
        version=version, last_run=runs[0] if runs else None, has_previous_run=len(runs) > 1,
        incomplete_run=incomplete,
        orgs=o, party_orgs=po, members=mem, committees=com.frame, alliances=alliances,
        regions=dict(view.node_table(m.REGION, ("name",)).pipe(
            lambda t: zip(t["key"], t["name"].fillna(t["key"]), strict=True))),
        covers=cov.covers_by_org(), members_of_org=grouped(employed, "dst", "src"),
        members_of_po=grouped(member_of[isin(member_of["dst"], po.index)], "dst", "src"),
        instructors_of_org=instructors_of_org, covered_by_po=cov.covered_by_po,
        alliance_members=alliance_members, alliances_of_org=alliances_of_org,
        committee_children=com.children, supply=supply,
        association_members=grouped(assoc, "src", "dst"),
        associations_of_org=grouped(assoc, "dst", "src"),
        instructors={k: {"name": opt(n), "sent_by": opt(s), "active": bool(a)}
                     for k, n, s, a in zip(instr["key"], instr["name"], instr["sent_by"],
                                           instr["active"], strict=True)},
        root_committees=com.roots,
        full_member_ids=frozenset(mem.index[mem["full"].to_numpy() == 1]),
    )
    facts.cols = _hot_columns(o)
    facts.po_cols = {
        "active": po["active"].to_numpy(dtype=bool), "orphan": po["orphan"].to_numpy(dtype=bool),
        "members": po["members"].to_numpy(), "full_members": po["full_members"].to_numpy(),
        "covers_active": po["covers_active"].to_numpy(),
        "branch": (po["level"] == r.BRANCH).to_numpy(dtype=bool),
        "general_branch": (po["level"] == r.GENERAL_BRANCH).to_numpy(dtype=bool),
        "joint": (po["formation"] == m.JOINT_FORMATION).to_numpy(dtype=bool),
        "no_committee": (po["has_committee"] == False).to_numpy(dtype=bool),
    }
    return facts


def _hot_columns(o: pd.DataFrame) -> dict[str, np.ndarray]:
    status_code = pd.Categorical(o["status"], categories=list(r.STATUSES)).codes
    excluded_code = pd.Categorical(o["excluded"], categories=list(r.EXCLUSION_ZH)).codes
    return {
        "status": np.asarray(status_code, dtype=np.int8),
        "excluded": np.asarray(excluded_code, dtype=np.int8),  # -1: not excluded
        "individual": o["individual"].to_numpy(dtype=bool),
        "enterprise": (o["org_kind"] == m.ENTERPRISE).to_numpy(dtype=bool),
        "members": o["members"].to_numpy(), "full_members": o["full_members"].to_numpy(),
        "managers": o["managers"].to_numpy(), "employees": o["employees"].to_numpy(),
        "first_run": o["first_run"].to_numpy(),
        "report_mismatch": o["report_mismatch"].to_numpy(dtype=bool),
        "charter": (o["party_in_charter"] == True).to_numpy(dtype=bool),
    }
