"""The column work behind :func:`graph.facts.build_facts`: committees, Party
organisations, members and coverage as frames joined on keys.

Split from ``graph.facts`` so that module reads as the list of facts and this one as
how each is computed. Every function takes the store view's tables and returns
frames or plain dicts; none keeps state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from graph import model as m
from graph import rules as r
from graph.read_ahead import Tables, edge_read, node_read

if TYPE_CHECKING:
    from graph.facts import Cover


def isin(values: pd.Series, keys: Any) -> pd.Series:
    """Membership of string values in a large key set. pandas' own ``isin`` on its
    Arrow string columns converts every key to a scalar first (seconds per million);
    text against text is hashed in Arrow instead, without a Python string per value."""
    index = keys if isinstance(keys, pd.Index) else pd.Index(list(keys))
    if not len(values) or not len(index):
        return pd.Series(False, index=values.index)
    if _is_text(values) and _is_text(index):
        found = pc.is_in(_arrow(values), value_set=_arrow(index))
        return pd.Series(found.to_numpy(zero_copy_only=False), index=values.index)
    lookup = pd.Series(True, index=index[~index.duplicated()])
    return values.map(lookup).notna()


def _is_text(values: pd.Series | pd.Index) -> bool:
    return isinstance(values.dtype, pd.StringDtype)


def _arrow(values: pd.Series | pd.Index) -> pa.Array:
    """Text values as one Arrow array. pandas keeps its text in Arrow, so joining its
    chunks or widening the offsets copies buffers but makes no Python string."""
    array = pa.array(values.array)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array.cast(pa.large_string())


def along(keys: pd.Index, values: pd.Series | dict[str, Any], index: pd.Index) -> pd.Series:
    """``values`` (by unique key) laid out along the unique ``keys``, as a Series on
    ``index`` (the frame ``keys`` came from): what ``keys.map(values)`` gives, worked
    from the small side. The Index builds its hash table of a million keys once and
    keeps it, instead of every key being hashed against each small table in turn."""
    if isinstance(values, dict):
        values = pd.Series(values, dtype=object)
    pos = keys.get_indexer(values.index)
    found = pos >= 0
    take = np.full(len(keys), -1, dtype=np.intp)
    take[pos[found]] = np.flatnonzero(found)
    return pd.Series(values.array.take(take, allow_fill=True), index=index)


def subtree(children: dict[str, list[str]], code: str) -> set[str]:
    """A committee and every committee below it."""
    out, todo = set(), [code]
    while todo:
        c = todo.pop()
        if c not in out:
            out.add(c)
            todo.extend(children.get(c, ()))
    return out


def grouped(edges: pd.DataFrame, key: str, value: str) -> dict[str, list[str]]:
    """``key`` -> sorted list of ``value`` over an edge table."""
    if not len(edges):
        return {}
    e = edges[[key, value]].drop_duplicates().sort_values([key, value])
    keys = e[key].to_numpy()
    values = e[value].to_numpy()
    cuts = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    starts = np.concatenate(([0], cuts))
    ends = np.concatenate((cuts, [len(keys)]))
    return {str(keys[s]): values[s:t].tolist() for s, t in zip(starts, ends, strict=True)}


def opt(v: Any) -> Any:
    """None for pandas' missing values (NaN, NA), the value otherwise."""
    return None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else v


def opt_int(v: Any) -> int | None:
    v = opt(v)
    return None if v is None else int(v)


def _list(v: Any) -> tuple[str, ...]:
    v = opt(v)
    return tuple(orjson.loads(v)) if isinstance(v, str) else ()


COMMITTEE_PROPS = ("name", "committee_kind", "industries", "org_kinds", "region_code", "park")
PARTY_ORG_PROPS = ("name", "level", "formation", "has_committee")
MEMBER_PROPS = ("member_type", "mobile", "in_management", "id_masked")
#: what each function below reads, in its order (the facts' read plans are built of these)
COMMITTEE_READS = (node_read(m.COMMITTEE, COMMITTEE_PROPS), edge_read(m.REPORTS_TO))
PARTY_ORG_READS = (node_read(m.PARTY_ORG, PARTY_ORG_PROPS), edge_read(m.REPORTS_TO))
MEMBER_READS = (node_read(m.MEMBER, MEMBER_PROPS), edge_read(m.EMPLOYED_BY))
MEMBERSHIP_READS = (edge_read(m.MEMBER_OF),)
COVERAGE_READS = (edge_read(m.COVERS), edge_read(m.IN_PLACE), edge_read(m.SERVES_AREA))


@dataclass
class Committees:
    rules: list[r.CommitteeRule]
    frame: pd.DataFrame
    parent: dict[str, str]
    children: dict[str, list[str]]
    roots: list[str]
    root: str | None


def committee_columns(view: Tables) -> Committees:
    t = view.node_table(m.COMMITTEE, COMMITTEE_PROPS).sort_values("key")
    rules = [r.CommitteeRule(k, opt(kind) or "", _list(ind), _list(kinds), opt(reg), opt(p))
             for k, kind, ind, kinds, reg, p in zip(
                 t["key"], t["committee_kind"], t["industries"], t["org_kinds"],
                 t["region_code"], t["park"], strict=True)]
    codes = set(t["key"])
    up = view.edge_table(m.REPORTS_TO)
    up = up[(up["src_label"] == m.COMMITTEE) & isin(up["dst"], codes)]
    parent = dict(zip(up["src"], up["dst"], strict=True))
    children: dict[str, list[str]] = {}
    for child, par in sorted(parent.items()):
        children.setdefault(par, []).append(child)
    roots = sorted(c for c in codes if c not in parent)
    root = next((c.code for c in rules if c.code in roots and c.kind == m.WORK_COMMITTEE),
                roots[0] if roots else None)
    frame = pd.DataFrame({
        "code": [c.code for c in rules], "name": t["name"].fillna(t["key"]).tolist(),
        "kind": [c.kind for c in rules], "parent": [parent.get(c.code) for c in rules],
        "industries": [";".join(c.industries) for c in rules],
        "org_kinds": [";".join(c.org_kinds) for c in rules],
        "region_code": [c.region_code for c in rules], "park": [c.park for c in rules],
    }).set_index("code", drop=False)
    return Committees(rules, frame, parent, children, roots, root)


def party_org_columns(view: Tables, com: Committees) -> tuple[pd.DataFrame, pd.Series]:
    """Party organisations indexed by code, with the committee above each (隶属 chain)."""
    po = view.node_table(m.PARTY_ORG, PARTY_ORG_PROPS)
    po = po.rename(columns={"key": "code"}).set_index("code", drop=False)
    po["active"] = po["active"].astype(bool)
    po["name"] = po["name"].fillna("")
    po["has_committee"] = po["has_committee"].map({1: True, 0: False}).astype(object)
    po["status"] = po["formation"].map(
        {f: r.formation_status(f) for f in po["formation"].dropna().unique()})
    up = view.edge_table(m.REPORTS_TO)
    up = up[up["src_label"] == m.PARTY_ORG]
    # as lists: iterating an Arrow-backed column yields one scalar at a time (0.6 s here)
    parent = {s: (lab, d) for s, lab, d in zip(up["src"].tolist(), up["dst_label"].tolist(),
                                               up["dst"].tolist(), strict=True)}
    committees = set(com.frame.index)
    above: dict[str, str | None] = {}

    def committee_above(code: str) -> str | None:
        path: list[str] = []
        found: str | None = None
        while code not in above and code not in path:
            path.append(code)
            label, nxt = parent.get(code, ("", ""))
            if label == m.COMMITTEE:
                found = nxt if nxt in committees else None
                break
            if label != m.PARTY_ORG:
                break
            code = nxt
        else:
            found = above.get(code)
        for c in path:
            above[c] = found
        return found

    po["committee"] = [committee_above(c) for c in po.index]
    return po, po["committee"]


def member_columns(view: Tables, org_ids: pd.Index) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Members with their flags, and the EMPLOYED_BY edges of active members (what the
    "should establish" count of a unit needs)."""
    mem = view.node_table(m.MEMBER, MEMBER_PROPS)
    mem = mem.rename(columns={"key": "member_id"})
    mem["active"] = mem["active"].astype(bool)
    mem["full"] = (mem["member_type"] == r.FULL_MEMBER).astype(int)
    mem["in_management"] = mem["in_management"].fillna(0).astype(int)
    mem["mobile"] = mem["mobile"].fillna(0).astype(bool)
    employed = view.edge_table(m.EMPLOYED_BY)
    employed = employed[isin(employed["src"], _live(mem)) & isin(employed["dst"], org_ids)]
    return mem, employed


def memberships(view: Tables, mem: pd.DataFrame) -> pd.DataFrame:
    """The MEMBER_OF edges of active members (the facts' branch figures; no unit's
    status depends on them, so the trend snapshot does not read them)."""
    member_of = view.edge_table(m.MEMBER_OF)
    return member_of[isin(member_of["src"], _live(mem))]


def _live(mem: pd.DataFrame) -> pd.Index:
    return pd.Index(mem.loc[mem["active"], "member_id"])


@dataclass
class Coverage:
    #: every (org, po, status, via) covering pair, best first per unit
    all: pd.DataFrame
    direct: pd.DataFrame
    place_pairs: pd.DataFrame
    region_areas: pd.DataFrame
    covered_by_po: dict[str, list[str]]
    active_org: pd.Series

    def covers_by_org(self) -> dict[str, list[Cover]]:
        from graph.facts import Cover

        out: dict[str, list[Cover]] = {}
        for org, p, status, via in zip(self.all["org"], self.all["po"], self.all["status"],
                                       self.all["via"], strict=True):
            out.setdefault(org, []).append(Cover(p, status, opt(via)))
        return out

    def party_org_figures(self, po: pd.DataFrame, member_of: pd.DataFrame, mem: pd.DataFrame,
                          orgs: pd.DataFrame, committee_region: pd.Series) -> pd.DataFrame:
        """Covered units (direct, and through the areas served), members, the orphan
        test of the spec, and a region for scoping each Party organisation."""
        po = po.copy()
        d = self.direct
        po["covers"] = po.index.map(d.groupby("po").size()).fillna(0).astype(int)
        pairs = pd.concat([d[["po", "org"]], self.place_pairs[["po", "org"]]])
        pairs = pairs[pairs["org"].map(self.active_org).fillna(False).astype(bool)]
        pairs = pairs.drop_duplicates()
        covered = pairs.groupby("po").size()
        # region-wide areas: every active unit in the region (counted, not listed)
        # (as text even when there are no units yet: an empty column has no string dtype)
        region = orgs.loc[orgs["active"], "region_code"].dropna().astype(str)
        by_prefix = pd.concat([region.str[:n] for n in (6, 9, 12)]).value_counts()
        ra = self.region_areas
        inside = pairs.merge(ra, on="po")
        inside = inside[np.array([str(reg).startswith(str(a)) for reg, a in zip(
            inside["org"].map(orgs["region_code"]), inside["area"], strict=True)], dtype=bool)]
        region_count = ra.assign(n=ra["area"].map(by_prefix).fillna(0)).groupby("po")["n"].sum()
        po["covers_active"] = (po.index.map(covered).fillna(0)
                               + po.index.map(region_count).fillna(0)
                               - po.index.map(inside.groupby("po").size()).fillna(0)).astype(int)
        mo = member_of.merge(mem[["member_id", "full", "mobile"]], left_on="src",
                             right_on="member_id")
        per = mo.groupby("dst").agg(members=("src", "size"), full_members=("full", "sum"),
                                    mobile_members=("mobile", "sum"))
        for col in ("members", "full_members", "mobile_members"):
            po[col] = po.index.map(per[col]).fillna(0).astype(int)
        po["mobile"] = (po["name"].fillna("").astype(str).str.contains("流动党员", regex=False)
                        | (po["mobile_members"] > 0))
        po["orphan"] = po["active"] & (po["covers_active"] == 0) & (
            (po["covers"] > 0) | (po["members"] == 0)) & ~(po["mobile"] & (po["members"] > 0))
        first_direct = d.sort_values("org").drop_duplicates("po").set_index("po")["org"]
        first_place = pairs.sort_values("org").drop_duplicates("po").set_index("po")["org"]
        region_of = orgs["region_code"]
        codes = po.index.to_series()
        candidates = [codes.map(ra.drop_duplicates("po").set_index("po")["area"]),
                      codes.map(first_direct).map(region_of),
                      codes.map(first_place).map(region_of), po["committee"].map(committee_region)]
        region_code = pd.Series(None, index=po.index, dtype=object)
        for c in candidates:
            region_code = region_code.where(region_code.notna(), c.astype(object))
        po["region_code"] = region_code
        po.index.name = None
        return po.sort_values(["members", "code"], ascending=[False, True])


def coverage(view: Tables, org_ids: pd.Index, active_org: pd.Series,
             po: pd.DataFrame) -> Coverage:
    """Who covers whom: direct COVERS from an active Party organisation, and area
    formations declared for a park or building the unit sits in. First match wins by
    the status order, ties by the Party organisation's code."""
    covers = view.edge_table(m.COVERS)
    covers = covers[isin(covers["src"], po.index) & isin(covers["dst"], org_ids)]
    direct = covers.rename(columns={"src": "po", "dst": "org"})[["po", "org"]]
    covered_by_po = grouped(direct, "po", "org")
    live = po[po["active"] & po["status"].notna()]
    d = direct[isin(direct["po"], live.index)].assign(via=None)
    d["status"] = d["po"].map(live["status"])
    in_place = view.edge_table(m.IN_PLACE)
    in_place = in_place[isin(in_place["src"], org_ids)].rename(
        columns={"src": "org", "dst": "place"})[["org", "place"]]
    serves = view.edge_table(m.SERVES_AREA)
    serves = serves[isin(serves["src"], po.index)]
    places = serves[serves["dst_label"] == m.PLACE].rename(columns={"src": "po", "dst": "place"})
    place_pairs = places[["po", "place"]].merge(in_place, on="place")
    area_live = live.index[live["status"] == r.AREA]
    a = place_pairs[isin(place_pairs["po"], area_live)].rename(columns={"place": "via"})
    a = a.assign(status=r.AREA)
    allc = pd.concat([d[["org", "po", "status", "via"]], a[["org", "po", "status", "via"]]],
                     ignore_index=True)
    allc["rank"] = allc["status"].map({s: i for i, s in enumerate(r.STATUSES)})
    allc = allc.sort_values(["org", "rank", "po"], kind="stable").reset_index(drop=True)
    region_areas = serves[serves["dst_label"] == m.REGION].rename(
        columns={"src": "po", "dst": "area"})[["po", "area"]]
    return Coverage(allc, direct, place_pairs, region_areas, covered_by_po, active_org)
