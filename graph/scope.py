"""Scopes: which organisations a question is about.

A :class:`Scope` is a region prefix (county, street or community) intersected with
optional filters: committee subtree, organisation kind, industry code prefix, size
band, above-scale flag, alliance. Every query function takes one as a required
keyword, so a caller cannot forget the region a user is limited to; the API builds it
from the logged-in user (``Scope.within``), the CLI from its options.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from graph import model as m
from graph import rules as r
from graph.errors import NotFound, UsageError
from graph.facts import Facts

_REGION = re.compile(r"^\d{0,12}$")


@dataclass(frozen=True)
class Scope:
    region: str = ""
    committee: str | None = None
    org_kind: str | None = None
    industry: str | None = None
    size_band: str | None = None
    above_scale: bool | None = None
    alliance: str | None = None
    #: a request outside the user's region: matches nothing
    empty: bool = False

    def __post_init__(self) -> None:
        if not _REGION.match(self.region):
            raise UsageError(f"区划代码应为数字前缀 (如 445202): {self.region!r}")
        if self.org_kind not in (None, m.ENTERPRISE, m.SOCIAL_ORG):
            raise UsageError(f"组织类型应为 enterprise 或 social_org: {self.org_kind!r}")
        if self.size_band not in (None, *r.SIZE_BANDS):
            raise UsageError(f"规模档应为 {', '.join(r.SIZE_BANDS)} 之一: {self.size_band!r}")

    @property
    def org_only(self) -> bool:
        """Filters that only organisations have (Party organisations and members are
        left out of finding lists under them)."""
        return any(v is not None for v in (self.org_kind, self.industry, self.size_band,
                                            self.above_scale, self.alliance))

    def within(self, prefix: str) -> Scope:
        """This scope limited to a user's region prefix; a request outside it is empty
        rather than an error, so nothing tells the user what lies outside."""
        if not prefix or self.region.startswith(prefix):
            return self
        if prefix.startswith(self.region):
            return replace(self, region=prefix)
        return replace(self, region=prefix, empty=True)

    def describe_zh(self, facts: Facts) -> str:
        parts = ["(所请求的区划不在权限范围内)"] if self.empty else []
        if self.region:
            parts.append(f"区划 {facts.regions.get(self.region, self.region)}({self.region})")
        if self.committee:
            parts.append(f"党委 {committee_name(facts, self.committee)}")
        if self.org_kind:
            parts.append("企业" if self.org_kind == m.ENTERPRISE else "社会组织")
        if self.industry:
            parts.append(f"行业 {self.industry}*")
        if self.size_band:
            parts.append(r.SIZE_BAND_ZH[self.size_band])
        if self.above_scale is not None:
            parts.append("规上" if self.above_scale else "非规上")
        if self.alliance:
            parts.append(f"联盟 {self.alliance}")
        return "、".join(parts) or "全域"


def report_header(facts: Facts, scope: Scope, settings: r.CoverageSettings) -> dict[str, Any]:
    """What every report carries: the settings in force, the scope, the data's run."""
    return {"settings": settings.describe(), "settings_zh": settings.describe_zh(),
            "scope": {k: v for k, v in scope.__dict__.items() if v not in (None, "", False)},
            "scope_zh": scope.describe_zh(facts), "data": facts.run_info()}


def committee_name(facts: Facts, code: str) -> str:
    if code in facts.committees.index:
        return str(facts.committees.at[code, "name"])
    return code


def _region_mask(frame: pd.DataFrame, prefix: str) -> np.ndarray:
    if not prefix:
        return np.ones(len(frame), dtype=bool)
    if "county" in frame and len(prefix) == 6:
        return np.array(frame["county"] == prefix, dtype=bool)
    if "street" in frame and len(prefix) == 9:
        return np.array(frame["street"] == prefix, dtype=bool)
    return np.array(frame["region_code"].str.startswith(prefix, na=False), dtype=bool)


def check_refs(facts: Facts, scope: Scope) -> None:
    """A committee or alliance named in a scope must exist (else 404)."""
    if scope.committee and scope.committee not in facts.committees.index:
        raise NotFound(f"没有编码为 {scope.committee} 的党委(工委)")
    if scope.alliance and scope.alliance not in facts.alliances.index:
        raise NotFound(f"没有编码为 {scope.alliance} 的产业链党建联盟")


def org_mask(facts: Facts, scope: Scope) -> np.ndarray:
    """Organisations matching the scope's filters (before the in-scope rule)."""
    check_refs(facts, scope)
    o = facts.orgs
    if scope.empty:
        return np.zeros(len(o), dtype=bool)
    mask = _region_mask(o, scope.region)
    if scope.committee:
        mask &= o["committee"].isin(list(facts.committee_subtree(scope.committee))).to_numpy()
    if scope.org_kind:
        mask &= (o["org_kind"] == scope.org_kind).to_numpy()
    if scope.industry:
        mask &= o["industry_code"].str.startswith(scope.industry, na=False).to_numpy(dtype=bool)
    if scope.size_band:
        mask &= (o["size_band"] == scope.size_band).to_numpy()
    if scope.above_scale is not None:
        mask &= (o["above_scale"] == scope.above_scale).to_numpy()
    if scope.alliance:
        mask &= o["uscc"].isin(facts.alliance_members.get(scope.alliance, [])).to_numpy()
    return mask


def in_scope_mask(facts: Facts, settings: r.CoverageSettings) -> np.ndarray:
    """Units in every denominator under these settings (active, not state-owned, not a
    verified shell, individual businesses only when the setting says so)."""
    mask = facts.cols["excluded"] < 0
    if not settings.include_individual:
        mask &= ~facts.cols["individual"]
    return mask


def scope_mask(facts: Facts, scope: Scope, settings: r.CoverageSettings) -> np.ndarray:
    """The denominator of a scope's rates, as a mask over ``facts.orgs``."""
    mask: np.ndarray = org_mask(facts, scope) & in_scope_mask(facts, settings)
    return mask


def scoped_orgs(facts: Facts, scope: Scope, settings: r.CoverageSettings) -> pd.DataFrame:
    """The in-scope organisations of a scope, as rows (for listings and sheets)."""
    return facts.orgs[scope_mask(facts, scope, settings)]


def _subject_mask(facts: Facts, frame: pd.DataFrame, scope: Scope) -> np.ndarray:
    """Party organisations or members in a scope: by their region and committee; none
    under organisation-only filters (kind, industry, size, alliance)."""
    check_refs(facts, scope)
    if scope.org_only or scope.empty:
        return np.zeros(len(frame), dtype=bool)
    mask = _region_mask(frame, scope.region)
    if scope.committee:
        mask &= np.array(frame["committee"].isin(list(facts.committee_subtree(scope.committee))),
                         dtype=bool)
    return mask


def party_org_mask(facts: Facts, scope: Scope) -> np.ndarray:
    return _subject_mask(facts, facts.party_orgs, scope)


def member_mask(facts: Facts, scope: Scope) -> np.ndarray:
    return _subject_mask(facts, facts.members, scope)


def region_visible(code: str | None, prefix: str) -> bool:
    return not prefix or (code or "").startswith(prefix)
