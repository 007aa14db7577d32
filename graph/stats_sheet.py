"""The two annual statistics sheets (党内统计) of ``docs/coverage-rules.md``.

Staff file these tables every year; here they are computed from the coverage facts
instead of being counted by hand, so the sheet, the rates and the gap lists agree by
construction: the units are the in-scope units of :func:`graph.scope.scoped_orgs` and
the statuses are the ones the rules gave them. The layout and every row and column
definition are in ``docs/stats-sheet.md``.

A cell the data cannot support is "—", never a made-up 0, and every "—" is explained
in the sheet's notes (as are the mapping, the settings and the data run used). Pure
computation, no I/O: ``api.sheet_export`` writes the workbook.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from graph import model as m
from graph import rules as r
from graph.facts import Facts
from graph.scope import Scope, scoped_orgs

DASH: Final = "—"
#: the cell of a heading row that carries no figure (补充情况)
BLANK: Final = ""

Cell = int | str
Row = tuple[str, int, tuple[Cell, ...]]

ENTERPRISE_TITLE: Final = "非公有经济控制的企业法人单位建立党的基层组织情况"
SOCIAL_TITLE: Final = "社会组织法人单位建立党的基层组织情况"

OWNERSHIP_COLUMNS: Final = (
    "私有经济控制", "私营独资", "港澳台商投资", "外商投资", "港澳台商经济控制",
    "港澳台商独资", "外商经济控制", "外商独资",
)
#: columns the registry and rosters cannot fill, and why (printed in the notes)
UNSUPPORTED_COLUMNS: Final = {
    "法定代表人是党员的": "登记数据中的法定代表人未与党员花名册关联",
    "兼任企业党组织书记的": "党组织数据中没有书记信息",
}
ENTERPRISE_COLUMNS: Final = ("总数", "从业人员50人以上", "从业人员100人以上",
                             *UNSUPPORTED_COLUMNS, *OWNERSHIP_COLUMNS)
SOCIAL_TYPE_COLUMNS: Final = ("社会团体", "基金会", "民办非企业单位")
PROFESSIONAL_COLUMNS: Final = ("律师事务所", "会计师事务所", "税务师事务所")
SOCIAL_COLUMNS: Final = ("总数", *SOCIAL_TYPE_COLUMNS, *PROFESSIONAL_COLUMNS)

#: covering_level -> sub-row of 已单独建立党组织的
LEVEL_ROWS: Final = ((r.PARTY_COMMITTEE, "建立党委的"), (r.GENERAL_BRANCH, "建立总支部的"),
                     (r.BRANCH, "建立支部的"))


@dataclass(frozen=True)
class StatsSheet:
    """One statistics sheet, ready to render.

    ``rows`` are (label, indent level 0/1/2, one cell per column). A cell is an int,
    "—" where the data cannot support the figure, or "" on the 补充情况 heading row,
    which carries no figures of its own.
    """

    title: str
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class _Units:
    """The in-scope units of one sheet as plain arrays (NaN and None made uniform)."""

    status: np.ndarray
    level: np.ndarray
    party_org: np.ndarray
    has_instructor: np.ndarray
    members: np.ndarray
    full_members: np.ndarray
    employees: np.ndarray
    #: (unit position, instructor id) for every assignment, not only the first
    assignments: tuple[tuple[int, str], ...]

    @classmethod
    def of(cls, orgs: pd.DataFrame, facts: Facts) -> _Units:
        def text(col: str) -> np.ndarray:
            return np.array([v if isinstance(v, str) and v else None for v in orgs[col]],
                            dtype=object)

        pos = {u: i for i, u in enumerate(orgs["uscc"])}
        pairs = tuple((pos[u], ins) for u in pos for ins in facts.instructors_of_org.get(u, ()))
        return cls(
            status=text("status"), level=text("covering_level"), party_org=text("covering_po"),
            has_instructor=np.array([i is not None for i in text("instructor")], dtype=bool),
            members=orgs["members"].to_numpy(dtype=np.int64),
            full_members=orgs["full_members"].to_numpy(dtype=np.int64),
            employees=orgs["employees"].to_numpy(dtype=np.int64),
            assignments=pairs,
        )

    def is_status(self, *statuses: str) -> np.ndarray:
        return np.isin(self.status, list(statuses))


#: what a row adds up over the units it selects within a column
COUNT: Final = "count"
PARTY_ORGS: Final = "party_orgs"
INSTRUCTORS: Final = "instructors"
EMPLOYEES: Final = "employees"
MEMBERS: Final = "members"
HEADING: Final = "heading"

RowSpec = tuple[str, int, Callable[[_Units], np.ndarray], str]


def _row_specs(threshold: int) -> list[RowSpec]:
    """The rows of both sheets, in the official order: which units each selects and
    what it adds up over them."""
    def every(u: _Units) -> np.ndarray:
        return np.ones(len(u.status), dtype=bool)

    def standalone(u: _Units) -> np.ndarray:
        return u.is_status(r.STANDALONE)

    def joint(u: _Units) -> np.ndarray:  # 统建 (area) counts here too
        return u.is_status(r.JOINT, r.AREA)

    def none(u: _Units) -> np.ndarray:
        return u.is_status(r.WORK_ONLY, r.UNCOVERED)

    def covered(u: _Units) -> np.ndarray:
        return u.is_status(*r.ORG_COVERED)

    def work_only(u: _Units) -> np.ndarray:
        return u.is_status(r.WORK_ONLY)

    def level(name: str) -> Callable[[_Units], np.ndarray]:
        return lambda u: standalone(u) & (u.level == name)

    return [
        ("单位数", 0, every, COUNT),
        ("党建工作指导员联系的", 0, lambda u: u.has_instructor, COUNT),
        ("已单独建立党组织的", 0, standalone, COUNT),
        *((label, 1, level(name), COUNT) for name, label in LEVEL_ROWS),
        ("已建立联合党支部的", 0, joint, COUNT),
        (f"具有{threshold}名以上党员的", 1,
         lambda u: joint(u) & (u.full_members >= threshold), COUNT),
        ("联合党支部数", 1, joint, PARTY_ORGS),
        ("未建立党组织的", 0, none, COUNT),
        ("应建尚未建立党组织的", 1, lambda u: none(u) & (u.full_members >= threshold), COUNT),
        ("仅有个别党员的", 1,
         lambda u: none(u) & (u.members >= 1) & (u.full_members < threshold), COUNT),
        ("没有党员的", 1, lambda u: none(u) & (u.members == 0), COUNT),
        ("补充情况", 0, every, HEADING),
        ("党建工作指导员数", 1, every, INSTRUCTORS),
        ("在岗职工", 1, every, EMPLOYEES),
        ("党员", 1, every, MEMBERS),
        ("其中：建立党组织单位的在岗职工", 2, covered, EMPLOYEES),
        ("建立党组织单位的党员", 2, covered, MEMBERS),
        ("仅有指导员单位的在岗职工", 2, work_only, EMPLOYEES),
        ("仅有指导员单位的党员", 2, work_only, MEMBERS),
    ]


def _cell(u: _Units, sel: np.ndarray, measure: str) -> Cell:
    """One figure over the units ``sel`` (a row's units within a column)."""
    if measure == COUNT:
        return int(sel.sum())
    if measure == PARTY_ORGS:
        return len({po for po in u.party_org[sel] if po})
    if measure == INSTRUCTORS:
        return len({ins for i, ins in u.assignments if sel[i]})
    if measure == MEMBERS:
        return int(u.members[sel].sum())
    if measure == EMPLOYEES:  # known figures only; "—" when the cell has none
        known = sel & (u.employees >= 0)
        return int(u.employees[known].sum()) if known.any() else DASH
    return BLANK


def _table(units: _Units, columns: list[tuple[str, np.ndarray | None]],
           threshold: int) -> tuple[Row, ...]:
    rows: list[Row] = []
    for label, indent, select, measure in _row_specs(threshold):
        chosen = select(units)  # once per row, then intersected with each column
        cells = tuple(BLANK if measure == HEADING else DASH if col is None
                      else _cell(units, chosen & col, measure) for _, col in columns)
        rows.append((label, indent, cells))
    return tuple(rows)


def _enterprise_columns(orgs: pd.DataFrame) -> list[tuple[str, np.ndarray | None]]:
    employees = orgs["employees"].to_numpy(dtype=np.int64)
    types = [t if isinstance(t, str) else None for t in orgs["entity_type"]]
    classes = {t: r.ownership_columns(t) for t in set(types)}
    cols: list[tuple[str, np.ndarray | None]] = [
        ("总数", np.ones(len(orgs), dtype=bool)),
        ("从业人员50人以上", employees >= 50),
        ("从业人员100人以上", employees >= 100),
        *((c, None) for c in UNSUPPORTED_COLUMNS),
    ]
    for c in OWNERSHIP_COLUMNS:
        cols.append((c, np.array([c in classes[t] for t in types], dtype=bool)))
    return cols


def _social_columns(orgs: pd.DataFrame) -> list[tuple[str, np.ndarray | None]]:
    org_type = orgs["org_type"].to_numpy(dtype=object)
    category = orgs["category"].to_numpy(dtype=object)
    cols: list[tuple[str, np.ndarray | None]] = [("总数", np.ones(len(orgs), dtype=bool))]
    cols += [(c, np.array(org_type == c, dtype=bool)) for c in SOCIAL_TYPE_COLUMNS]
    cols += [(c, np.array(category == c, dtype=bool)) for c in PROFESSIONAL_COLUMNS]
    return cols


def _common_notes(facts: Facts, year: int, scope: Scope, settings: r.CoverageSettings,
                  orgs: pd.DataFrame, units: _Units) -> list[str]:
    run = facts.run_info()
    data = (f"数据截至第{run['run_id']}次导入（完成于{run['finished_at']}）" if run["run_id"]
            else "尚无完整的导入批次")
    t = settings.full_member_threshold
    notes = [
        f"统计年度：{year}年度。{data}；图中数据不按年度区分，表中为最近一次导入时的情况。",
        f"统计范围：{scope.describe_zh(facts)}，仅计入实体运营的在统单位（与覆盖率分母一致）。",
        f"口径设置：{settings.describe_zh()}。",
        ("已建立联合党支部的：含联合组建，以及区域/楼宇/园区/行业统建的党组织覆盖的单位；"
         "联合党支部数为覆盖这些单位的不同党组织个数（园区综合党委等统建党组织各计1个）。"),
        (f"具有{t}名以上党员的、应建尚未建立党组织的：在该单位工作的正式党员≥{t}名；"
         f"仅有个别党员的：有党员但正式党员不足{t}名；没有党员的：无在该单位工作的党员。"
         "党员数指在该单位工作的在册党员（含预备党员，不含未登记工作单位的流动党员）。"),
        ("未建立党组织的：仅有党建工作指导员（工作覆盖）和未覆盖的单位；"
         "仅有指导员单位即前者。党建工作指导员数为联系本列单位的不同指导员人数。"),
        ("在岗职工：以登记的从业人数计，从业人数不详的单位不计入；"
         "一格内所有单位从业人数均不详时显示“—”。"),
    ]
    unknown = int((units.employees < 0).sum())
    if unknown:
        notes.append(f"本表有{unknown}个单位从业人数不详，未计入从业人员50人以上、100人以上各列"
                     "及在岗职工合计。")
    odd = int((units.is_status(r.STANDALONE)
               & ~np.isin(units.level, [lv for lv, _ in LEVEL_ROWS])).sum())
    if odd:
        notes.append(f"有{odd}个单独建立党组织的单位其党组织类别不详，"
                     "未计入建立党委的、建立总支部的、建立支部的。")
    individuals = int(orgs["individual"].astype(bool).sum()) if "individual" in orgs else 0
    if individuals:
        notes.append(f"按当前设置，本表含个体工商户{individuals}户（非企业法人单位）。")
    return notes


def _ownership_note() -> str:
    rules = "；".join(f"{col}：企业类型含" + "或".join(f"“{w}”" for w in words)
                     for col, words in r.OWNERSHIP_RULES)
    return ("所有制分类按企业类型文字对照（graph/rules.py OWNERSHIP_RULES）：" + rules +
            "；港澳台商经济控制、外商经济控制分别与港澳台商投资、外商投资相同（无控股比例数据）；"
            "其余企业计入私有经济控制。")


def stats_sheets(facts: Facts, *, year: int, scope: Scope,
                 settings: r.CoverageSettings) -> list[StatsSheet]:
    """[非公有经济控制的企业 sheet, 社会组织 sheet] over the in-scope units of ``scope``.

    ``year`` is printed in the titles and notes only: the graph holds the latest state,
    so the figures are as of the latest ingest run (``facts.run_info()``).
    """
    orgs = scoped_orgs(facts, scope, settings)
    threshold = settings.full_member_threshold
    out: list[StatsSheet] = []
    for kind, title in ((m.ENTERPRISE, ENTERPRISE_TITLE), (m.SOCIAL_ORG, SOCIAL_TITLE)):
        part = orgs[(orgs["org_kind"] == kind).to_numpy(dtype=bool)]
        units = _Units.of(part, facts)
        notes = _common_notes(facts, year, scope, settings, part, units)
        if kind == m.ENTERPRISE:
            columns = _enterprise_columns(part)
            notes.insert(1, "“—”表示现有数据无法支持该项统计：" + "；".join(
                f"{c}（{why}）" for c, why in UNSUPPORTED_COLUMNS.items()) + "。")
            notes.append("从业人员50人以上、100人以上：从业人数≥50、≥100。")
            notes.append(_ownership_note())
        else:
            columns = _social_columns(part)
            typed = np.zeros(len(part), dtype=bool)
            for _, col in columns[1:]:
                if col is not None:
                    typed |= col
            untyped = int((~typed).sum())
            notes.append("社会团体、基金会、民办非企业单位（含社会服务机构）按社会组织类型；"
                         "律师、会计师、税务师事务所按机构类别。")
            if untyped:
                notes.append(f"有{untyped}个单位社会组织类型和机构类别均不详，仅计入总数。")
        rows = _table(units, columns, threshold)
        out.append(StatsSheet(title=f"{title}（{year}年度）",
                              columns=tuple(c for c, _ in columns), rows=rows,
                              notes=tuple(notes)))
    return out
