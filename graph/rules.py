"""The coverage rules of ``docs/coverage-rules.md`` as pure functions.

Nothing here reads a store: every function takes plain values and returns plain
values, so the embedded engine, the Neo4j engine and the tests share one reading of
the spec. Policy choices are fields of :class:`CoverageSettings`, printed on every
report (``settings.describe()``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Final

from graph import model as m

# --- statuses -------------------------------------------------------------------

STANDALONE: Final = "standalone"
JOINT: Final = "joint"
AREA: Final = "area"
WORK_ONLY: Final = "work_only"
UNCOVERED: Final = "uncovered"
#: first match wins, in this order
STATUSES: Final = (STANDALONE, JOINT, AREA, WORK_ONLY, UNCOVERED)
STATUS_ZH: Final = {
    STANDALONE: "单独组建", JOINT: "联合组建", AREA: "区域/楼宇/园区/行业统建",
    WORK_ONLY: "仅工作覆盖", UNCOVERED: "未覆盖",
}
ORG_COVERED: Final = (STANDALONE, JOINT, AREA)

# --- findings, in the spec's priority order -------------------------------------

FINDINGS: Final = (
    "should_establish", "members_without_org", "uncovered", "orphan_party_org",
    "unaffiliated_member", "new_since_last_run", "report_mismatch", "joint_too_wide",
    "level_mismatch",
)
FINDING_ZH: Final = {
    "should_establish": "应建未建", "members_without_org": "有党员无组织",
    "uncovered": "未覆盖", "orphan_party_org": "失联党组织",
    "unaffiliated_member": "党员找组织", "new_since_last_run": "新登记待覆盖",
    "report_mismatch": "年报比对不一致", "joint_too_wide": "联合支部过宽",
    "level_mismatch": "组织设置不当",
}
#: what a finding is about: an organisation, a Party organisation or a member
FINDING_SUBJECT: Final = {
    "should_establish": m.ORGANIZATION, "members_without_org": m.ORGANIZATION,
    "uncovered": m.ORGANIZATION, "orphan_party_org": m.PARTY_ORG,
    "unaffiliated_member": m.MEMBER, "new_since_last_run": m.ORGANIZATION,
    "report_mismatch": m.ORGANIZATION, "joint_too_wide": m.PARTY_ORG,
    "level_mismatch": m.PARTY_ORG,
}

# --- exclusions from the denominator ---------------------------------------------

INACTIVE: Final = "inactive"
STATE_OWNED: Final = "state_owned"
INDIVIDUAL: Final = "individual"
NOT_OPERATING: Final = "not_operating"
EXCLUSION_ZH: Final = {
    INACTIVE: "已注销/吊销/迁出", STATE_OWNED: "国有或集体企业", INDIVIDUAL: "个体工商户",
    NOT_OPERATING: "核查为空壳/僵尸/失联",
}
_STATE_WORDS: Final = ("国有", "全民所有制", "集体")
_INDIVIDUAL_WORDS: Final = ("个体",)
#: verification results that take a unit out of the denominator (实体运营 only)
NOT_OPERATING_RESULTS: Final = frozenset({"空壳", "僵尸", "失联"})
FULL_MEMBER: Final = "正式党员"

#: levels of a Party organisation
BRANCH: Final = "党支部"
GENERAL_BRANCH: Final = "党总支"
PARTY_COMMITTEE: Final = "党委"


@dataclass(frozen=True)
class CoverageSettings:
    """The policy choices the spec leaves to a setting, with the spec's defaults."""

    include_individual: bool = False
    full_member_threshold: int = 3
    joint_max_units: int = 5
    branch_max_members: int = 50
    general_branch_max_members: int = 100
    committee_flag_full_members: int = 7
    check_committee_flag: bool = True
    candidate_hops: int = 2
    suggestion_min_size: int = 5

    def describe(self) -> dict[str, object]:
        """The settings in force, as printed on every report."""
        return asdict(self)

    def describe_zh(self) -> str:
        return (f"个体工商户{'计入' if self.include_individual else '不计入'}统计范围；"
                f"应建标准: 正式党员≥{self.full_member_threshold}名；"
                f"联合支部过宽: 覆盖>{self.joint_max_units}个单位；"
                f"党支部>{self.branch_max_members}人、党总支>{self.general_branch_max_members}人为设置不当"
                + (f"；正式党员≥{self.committee_flag_full_members}名的党支部应设支委会"
                   if self.check_committee_flag else ""))


def _text(entity_type: str | None) -> str:
    """企业类型 in one form: NFKC (full-width brackets and letters folded)."""
    return unicodedata.normalize("NFKC", entity_type) if isinstance(entity_type, str) else ""


def is_state_owned(entity_type: str | None) -> bool:
    """国有 / 全民所有制 / 集体 in the 企业类型 (but 非国有控股 is not state-owned)."""
    t = _text(entity_type).replace("非国有", "")
    return any(w in t for w in _STATE_WORDS)


def is_individual(entity_type: str | None) -> bool:
    """个体工商户 (also written 个体户 or plain 个体)."""
    return any(w in _text(entity_type) for w in _INDIVIDUAL_WORDS)


def exclusion(*, active: bool, org_kind: str, entity_type: str | None,
              verification: str | None) -> str | None:
    """Why an organisation is outside every denominator regardless of settings, or None.

    Individual businesses are not decided here: whether they count is a setting
    (:func:`in_scope`), so the fact is kept separately.
    """
    if not active:
        return INACTIVE
    if org_kind == m.ENTERPRISE and is_state_owned(entity_type):
        return STATE_OWNED
    if verification in NOT_OPERATING_RESULTS:
        return NOT_OPERATING
    return None


def in_scope(excluded: str | None, individual: bool, settings: CoverageSettings) -> bool:
    return excluded is None and (settings.include_individual or not individual)


def formation_status(formation: str | None) -> str | None:
    """The status a covering Party organisation of this formation gives."""
    if formation == m.STANDALONE_FORMATION:
        return STANDALONE
    if formation == m.JOINT_FORMATION:
        return JOINT
    if formation in m.AREA_FORMATIONS:
        return AREA
    return None


def coverage_status(covering_formations: Iterable[str | None], has_instructor: bool) -> str:
    """First match wins: standalone, joint, area, then work_only, else uncovered."""
    found = {formation_status(f) for f in covering_formations}
    for status in ORG_COVERED:
        if status in found:
            return status
    return WORK_ONLY if has_instructor else UNCOVERED


def status_rank(status: str) -> int:
    return STATUSES.index(status)


# --- rates -------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    """A rate with its numerator and denominator; ``value`` is None for an empty scope."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    def text(self) -> str:
        """"—" for an empty scope, never 0% or an error."""
        v = self.value
        return "—" if v is None else f"{v:.1%} ({self.numerator}/{self.denominator})"

    def as_json(self) -> dict[str, object]:
        return {"numerator": self.numerator, "denominator": self.denominator,
                "value": None if self.value is None else round(self.value, 6)}


def coverage_rates(counts: dict[str, int]) -> dict[str, Rate]:
    """The three rates of the spec from status counts over one scope."""
    total = sum(counts.get(s, 0) for s in STATUSES)
    org = sum(counts.get(s, 0) for s in ORG_COVERED)
    return {
        "org_coverage": Rate(org, total),
        "standalone": Rate(counts.get(STANDALONE, 0), total),
        "work_coverage": Rate(org + counts.get(WORK_ONLY, 0), total),
    }


RATE_ZH: Final = {"org_coverage": "党组织覆盖率", "standalone": "单独组建率",
                  "work_coverage": "工作覆盖率"}

# --- sizes ----------------------------------------------------------------------

#: employee size bands (from the statistics sheets' 50/100 thresholds)
SIZE_BANDS: Final = ("lt10", "10-49", "50-99", "100+", "unknown")
SIZE_BAND_ZH: Final = {"lt10": "10人以下", "10-49": "10-49人", "50-99": "50-99人",
                       "100+": "100人以上", "unknown": "人数不详"}


def size_band(employees: int | None) -> str:
    if employees is None or employees < 0:
        return "unknown"
    if employees < 10:
        return "lt10"
    if employees < 50:
        return "10-49"
    if employees < 100:
        return "50-99"
    return "100+"


# --- responsible committee -----------------------------------------------------------


def org_categories(*, org_kind: str, entity_type: str | None, org_type: str | None,
                   is_association: bool, category: str | None) -> frozenset[str]:
    """The words a committee's 主管组织类型 (org_kinds) may name for this organisation."""
    cats = {org_kind, "企业" if org_kind == m.ENTERPRISE else "社会组织"}
    if is_individual(entity_type):
        cats.add("个体工商户")
    if org_type:
        cats.add(org_type)
    if is_association:
        cats.add("行业协会商会")
    if category:
        cats.add(category)
    return frozenset(cats)


@dataclass(frozen=True)
class CommitteeRule:
    """What the responsible-committee rule needs to know about one committee."""

    code: str
    kind: str
    industries: tuple[str, ...]
    org_kinds: tuple[str, ...]
    region_code: str | None
    park: str | None


def industry_committee(rules: Iterable[CommitteeRule], industry_code: str | None,
                       categories: frozenset[str]) -> str | None:
    """The industry committee by longest matching industry prefix, else by org kind."""
    best: tuple[int, str] | None = None
    by_kind: list[str] = []
    for c in rules:
        if c.kind != m.INDUSTRY_COMMITTEE:
            continue
        if industry_code:
            for p in c.industries:
                if p and industry_code.startswith(p):
                    cand = (len(p), c.code)
                    if best is None or cand[0] > best[0] or (cand[0] == best[0] and cand[1] < best[1]):
                        best = cand
        if categories.intersection(c.org_kinds):
            by_kind.append(c.code)
    if best is not None:
        return best[1]
    return min(by_kind) if by_kind else None


def place_committee(rules: Iterable[CommitteeRule], park: str | None, building: str | None,
                    region_code: str | None) -> str | None:
    """The park committee of the organisation's park (or building), else the area
    committee whose region is the longest prefix of the organisation's region."""
    places = {" ".join(p.split()) for p in (park, building) if p}
    best: tuple[int, str] | None = None
    for c in rules:
        if c.kind in (m.PARK_COMMITTEE, m.AREA_COMMITTEE) and c.park and \
                " ".join(c.park.split()) in places:
            return c.code
        if c.kind == m.AREA_COMMITTEE and c.region_code and region_code and \
                region_code.startswith(c.region_code):
            cand = (len(c.region_code), c.code)
            if best is None or cand[0] > best[0] or (cand[0] == best[0] and cand[1] < best[1]):
                best = cand
    return best[1] if best else None


def work_committee(rules: Iterable[CommitteeRule], region_code: str | None,
                   root: str | None) -> str | None:
    """The two-new work committee whose region is the longest prefix of the
    organisation's region (a district's 工委 under a city's), else the tree's root."""
    best: tuple[int, str] | None = None
    for c in rules:
        if c.kind == m.WORK_COMMITTEE and c.region_code and region_code and \
                region_code.startswith(c.region_code):
            cand = (len(c.region_code), c.code)
            if best is None or cand[0] > best[0]:
                best = cand
    return best[1] if best else root


# --- Party organisation checks ---------------------------------------------------------


def level_problem(level: str | None, members: int, full_members: int,
                  has_committee: bool | None, settings: CoverageSettings) -> str | None:
    """The 组织设置不当 reason for a Party organisation, or None."""
    if level == BRANCH and members > settings.branch_max_members:
        return f"党支部有党员{members}名，超过{settings.branch_max_members}名，应设党总支"
    if level == GENERAL_BRANCH and members > settings.general_branch_max_members:
        return f"党总支有党员{members}名，超过{settings.general_branch_max_members}名，应设党委"
    if (settings.check_committee_flag and level == BRANCH and has_committee is False
            and full_members >= settings.committee_flag_full_members):
        return (f"党支部有正式党员{full_members}名(≥{settings.committee_flag_full_members})，"
                "花名册显示未设立支委会")
    return None


def report_mismatch(report_has_org: bool | None, report_members: int | None,
                    roster_has_org: bool, roster_members: int) -> str | None:
    """The 年报比对 disagreement between the latest annual report and the rosters."""
    parts = []
    if report_has_org is not None and report_has_org != roster_has_org:
        parts.append(f"年报称{'已' if report_has_org else '未'}建立党组织，"
                     f"花名册{'有' if roster_has_org else '无'}覆盖该单位的党组织")
    if report_members is not None and report_members != roster_members:
        parts.append(f"年报党员{report_members}名，花名册在该单位工作的党员{roster_members}名")
    return "；".join(parts) or None


# --- ownership classes for the statistics sheet -------------------------------------------

#: 企业类型 words -> ownership columns of the 非公企业 sheet (documented in
#: docs/stats-sheet.md; edit here). Checked in order; a type may fall in several columns.
OWNERSHIP_RULES: Final = (
    ("私营独资", ("个人独资", "自然人独资", "一人有限责任公司(自然人")),
    ("港澳台商独资", ("台港澳法人独资", "港澳台法人独资", "台港澳自然人独资", "港澳台独资")),
    ("港澳台商投资", ("台港澳", "港澳台", "港、澳、台", "港资", "澳资", "台资")),
    ("外商独资", ("外国法人独资", "外国自然人独资", "外商独资", "外资企业")),
    ("外商投资", ("外商", "外国", "外资", "中外合资", "中外合作")),
)


def ownership_columns(entity_type: str | None) -> tuple[str, ...]:
    """The ownership columns an enterprise falls in, from its 企业类型 text.

    私有经济控制 is every non-public enterprise that is not foreign or HK/Macao/Taiwan
    invested; 港澳台商经济控制 / 外商经济控制 equal the 投资 columns (the registry has no
    controlling-share data, see docs/coverage.md).
    """
    t = _text(entity_type)
    cols: list[str] = []
    for col, words in OWNERSHIP_RULES:
        if any(w in t for w in words):
            cols.append(col)
    hk = "港澳台商投资" in cols
    foreign = "外商投资" in cols
    if (hk or foreign) and "私营独资" in cols:  # 台港澳/外国自然人独资 is not 私营独资
        cols.remove("私营独资")
    if hk:
        cols.append("港澳台商经济控制")
    if foreign:
        cols.append("外商经济控制")
    if not hk and not foreign:
        cols.append("私有经济控制")
    return tuple(cols)
