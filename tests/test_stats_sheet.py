"""The annual statistics sheets over the hand-built district, every cell worked out by
hand from the fixture (see the unit table in ``test_district_units_as_documented``)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest

from api.sheet_export import write_stats_workbook
from graph.facts import Facts
from graph.rules import CoverageSettings
from graph.scope import Scope, scoped_orgs
from graph.stats_sheet import (
    DASH,
    ENTERPRISE_COLUMNS,
    ENTERPRISE_TITLE,
    SOCIAL_COLUMNS,
    SOCIAL_TITLE,
    StatsSheet,
    stats_sheets,
)
from tests.district import first_run_facts

D = DASH
DEFAULT = CoverageSettings()


@pytest.fixture(scope="module")
def facts(tmp_path_factory: pytest.TempPathFactory) -> Facts:
    """One ingest of the district for the whole module (the sheets only read it)."""
    return first_run_facts(tmp_path_factory.mktemp("stats"))


def _sheets(facts: Facts, region: str = "", settings: CoverageSettings = DEFAULT,
            year: int = 2026) -> list[StatsSheet]:
    return stats_sheets(facts, year=year, scope=Scope(region=region), settings=settings)


def _table(sheet: StatsSheet) -> dict[str, tuple[int | str, ...]]:
    return {label: cells for label, _, cells in sheet.rows}


def _text(v: object) -> str | None:
    """pandas keeps a missing text as NaN or None; compare both as None."""
    return v if isinstance(v, str) else None


def test_district_units_as_documented(facts: Facts) -> None:
    """The per-unit facts the hand-worked tables below are computed from."""
    o = scoped_orgs(facts, Scope(), DEFAULT)
    got = {u: (row.org_kind, row.status, _text(row.covering_po), _text(row.covering_level),
               _text(row.instructor), int(row.members), int(row.full_members),
               int(row.employees))
           for u, row in o.iterrows()}
    E, S = "enterprise", "social_org"
    assert got == {
        "9144520270000001XE": (E, "standalone", "P01", "党支部", None, 5, 4, 120),
        "91445202700000028E": (E, "joint", "P02", "党支部", None, 3, 3, 60),
        "914452027000000369": (E, "joint", "P02", "党支部", None, 0, 0, 12),
        "914452027000000444": (E, "area", "P03", "党委", None, 0, 0, 300),
        "91445202700000052Y": (E, "area", "P03", "党委", None, 1, 1, 45),
        "91445202700000060R": (E, "work_only", None, None, "I01", 1, 1, 30),
        "91445202700000079N": (E, "uncovered", None, None, None, 0, 0, 8),
        "91445202700000124P": (E, "uncovered", None, None, None, 2, 2, 15),
        "51445202700000159E": (S, "standalone", "P05", "党支部", None, 0, 0, 6),
        "514452027000001679": (S, "uncovered", None, None, None, 0, 0, 10),
    }
    # every enterprise is 有限责任公司(自然人投资或控股) or 股份有限公司: 私有经济控制 only
    assert set(o["entity_type"].dropna()) == {"有限责任公司(自然人投资或控股)", "股份有限公司"}
    assert {u: _text(t) for u, t in zip(o["uscc"], o["org_type"], strict=True)} == {
        **{u: None for u in got if u.startswith("9")},
        "51445202700000159E": "社会团体", "514452027000001679": "民办非企业单位"}


#: columns: 总数, 50人以上, 100人以上, 法定代表人是党员的, 兼任书记的, 私有经济控制,
#: 私营独资, 港澳台商投资, 外商投资, 港澳台商经济控制, 港澳台商独资, 外商经济控制, 外商独资.
#: 50+ = 甲(120) 乙(60) 丁(300); 100+ = 甲 丁. All eight are 私有经济控制.
_0 = (0,) * 7   # the seven empty ownership columns after 私有经济控制
_E = (D,) * 7   # ... where an employee sum has no known figure
ENTERPRISE_EXPECTED: dict[str, tuple[int | str, ...]] = {
    "单位数":             (8, 3, 2, D, D, 8, *_0),
    "党建工作指导员联系的": (1, 0, 0, D, D, 1, *_0),   # 己 (I01)
    "已单独建立党组织的":   (1, 1, 1, D, D, 1, *_0),   # 甲 (P01)
    "建立党委的":          (0, 0, 0, D, D, 0, *_0),
    "建立总支部的":        (0, 0, 0, D, D, 0, *_0),
    "建立支部的":          (1, 1, 1, D, D, 1, *_0),   # P01 is a 党支部
    "已建立联合党支部的":   (4, 2, 1, D, D, 4, *_0),   # 乙 丙 (P02 joint), 丁 戊 (P03 园区统建)
    "具有3名以上党员的":    (1, 1, 0, D, D, 1, *_0),   # 乙 (3 full members)
    "联合党支部数":        (2, 2, 1, D, D, 2, *_0),   # {P02, P03}; 50+: 乙→P02 丁→P03; 100+: 丁
    "未建立党组织的":       (3, 0, 0, D, D, 3, *_0),   # 己 (work_only), 庚 丑 (uncovered)
    "应建尚未建立党组织的": (0, 0, 0, D, D, 0, *_0),
    "仅有个别党员的":       (2, 0, 0, D, D, 2, *_0),   # 己 (1), 丑 (2)
    "没有党员的":          (1, 0, 0, D, D, 1, *_0),   # 庚
    "补充情况":            ("",) * 13,
    "党建工作指导员数":     (1, 0, 0, D, D, 1, *_0),
    "在岗职工":            (590, 480, 420, D, D, 590, *_E),  # 120+60+12+300+45+30+8+15
    "党员":               (12, 8, 5, D, D, 12, *_0),         # 5+3+0+0+1+1+0+2
    "其中：建立党组织单位的在岗职工": (537, 480, 420, D, D, 537, *_E),  # 甲乙丙丁戊
    "建立党组织单位的党员":  (9, 8, 5, D, D, 9, *_0),
    "仅有指导员单位的在岗职工": (30, D, D, D, D, 30, *_E),   # 己 has 30: not in 50+/100+
    "仅有指导员单位的党员":  (1, 0, 0, D, D, 1, *_0),
}

#: columns: 总数, 社会团体, 基金会, 民办非企业单位, 律师事务所, 会计师事务所, 税务师事务所.
#: 行业协会 (社会团体, standalone via P05 党支部, 6 employees, no member employed there);
#: 阳光社工 (民办非企业单位, uncovered, 10 employees).
SOCIAL_EXPECTED: dict[str, tuple[int | str, ...]] = {
    "单位数":             (2, 1, 0, 1, 0, 0, 0),
    "党建工作指导员联系的": (0, 0, 0, 0, 0, 0, 0),
    "已单独建立党组织的":   (1, 1, 0, 0, 0, 0, 0),
    "建立党委的":          (0, 0, 0, 0, 0, 0, 0),
    "建立总支部的":        (0, 0, 0, 0, 0, 0, 0),
    "建立支部的":          (1, 1, 0, 0, 0, 0, 0),
    "已建立联合党支部的":   (0, 0, 0, 0, 0, 0, 0),
    "具有3名以上党员的":    (0, 0, 0, 0, 0, 0, 0),
    "联合党支部数":        (0, 0, 0, 0, 0, 0, 0),
    "未建立党组织的":       (1, 0, 0, 1, 0, 0, 0),
    "应建尚未建立党组织的": (0, 0, 0, 0, 0, 0, 0),
    "仅有个别党员的":       (0, 0, 0, 0, 0, 0, 0),
    "没有党员的":          (1, 0, 0, 1, 0, 0, 0),
    "补充情况":            ("",) * 7,
    "党建工作指导员数":     (0, 0, 0, 0, 0, 0, 0),
    "在岗职工":            (16, 6, D, 10, D, D, D),
    "党员":               (0, 0, 0, 0, 0, 0, 0),
    "其中：建立党组织单位的在岗职工": (6, 6, D, D, D, D, D),
    "建立党组织单位的党员":  (0, 0, 0, 0, 0, 0, 0),
    "仅有指导员单位的在岗职工": (D, D, D, D, D, D, D),
    "仅有指导员单位的党员":  (0, 0, 0, 0, 0, 0, 0),
}

LEVELS = (0, 0, 0, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 2, 2, 2, 2)


def test_enterprise_sheet_by_hand(facts: Facts) -> None:
    sheet = _sheets(facts)[0]
    assert sheet.title == f"{ENTERPRISE_TITLE}（2026年度）"
    assert sheet.columns == ENTERPRISE_COLUMNS
    assert sheet.columns[:5] == ("总数", "从业人员50人以上", "从业人员100人以上",
                                 "法定代表人是党员的", "兼任企业党组织书记的")
    assert [label for label, _, _ in sheet.rows] == list(ENTERPRISE_EXPECTED)
    assert _table(sheet) == ENTERPRISE_EXPECTED
    assert tuple(level for _, level, _ in sheet.rows) == LEVELS


def test_social_sheet_by_hand(facts: Facts) -> None:
    sheet = _sheets(facts)[1]
    assert sheet.title == f"{SOCIAL_TITLE}（2026年度）"
    assert sheet.columns == SOCIAL_COLUMNS == ("总数", "社会团体", "基金会", "民办非企业单位",
                                               "律师事务所", "会计师事务所", "税务师事务所")
    assert _table(sheet) == SOCIAL_EXPECTED
    assert tuple(level for _, level, _ in sheet.rows) == LEVELS


def test_units_total_matches_the_coverage_denominator(facts: Facts) -> None:
    ent, soc = _sheets(facts)
    assert _table(ent)["单位数"][0] + _table(soc)["单位数"][0] == \
        len(scoped_orgs(facts, Scope(), DEFAULT)) == 10


@pytest.mark.parametrize("region", ["", "445202001", "445202002", "445299"])
def test_unsupported_columns_stay_dash(facts: Facts, region: str) -> None:
    sheet = _sheets(facts, region)[0]
    for col in ("法定代表人是党员的", "兼任企业党组织书记的"):
        j = sheet.columns.index(col)
        cells = {cells[j] for label, _, cells in sheet.rows if label != "补充情况"}
        assert cells == {D}, col
    assert any("法定代表人是党员的" in n and "—" in n for n in sheet.notes)


def test_empty_scope_is_zero_counts_and_dash_sums(facts: Facts) -> None:
    for sheet in _sheets(facts, "445299"):
        for label, _, cells in sheet.rows:
            if label == "补充情况":
                assert set(cells) == {""}
            elif "在岗职工" in label:
                assert set(cells) == {D}, label
            else:
                assert set(cells) <= {0, D}, label
                assert 0 in cells, label


def test_street_scope_splits_the_district(facts: Facts) -> None:
    """Street 001 holds 甲 乙 丙 己 (and 阳光社工); 002 holds 丁 戊 庚 丑 (and 行业协会)."""
    a, b = (_table(_sheets(facts, s)[0]) for s in ("445202001", "445202002"))
    assert a["单位数"][0] == 4 and b["单位数"][0] == 4
    assert a["在岗职工"][0] == 120 + 60 + 12 + 30 and b["在岗职工"][0] == 300 + 45 + 8 + 15
    assert a["联合党支部数"][0] == 1 and b["联合党支部数"][0] == 1   # P02 / P03


def test_threshold_setting_moves_units_and_labels(facts: Facts) -> None:
    sheet = _sheets(facts, settings=CoverageSettings(full_member_threshold=2))[0]
    t = _table(sheet)
    assert "具有2名以上党员的" in t and "具有3名以上党员的" not in t
    assert t["具有2名以上党员的"][0] == 1      # 乙 (3); 戊 has 1
    assert t["应建尚未建立党组织的"][0] == 1    # 丑 (2 full members)
    assert t["仅有个别党员的"][0] == 1         # 己
    assert t["没有党员的"][0] == 1
    assert any("正式党员≥2名" in n for n in sheet.notes)


def test_ownership_columns_follow_entity_type(facts: Facts) -> None:
    orgs = facts.orgs.copy()
    orgs.loc["9144520270000001XE", "entity_type"] = "有限责任公司（外国法人独资）"
    orgs.loc["91445202700000028E", "entity_type"] = "有限责任公司(台港澳与境内合资)"
    orgs.loc["914452027000000369", "entity_type"] = "个人独资企业"
    sheet = _sheets(replace(facts, orgs=orgs))[0]
    cols = sheet.columns
    units = dict(zip(cols, _table(sheet)["单位数"], strict=True))
    assert units["外商投资"] == units["外商经济控制"] == units["外商独资"] == 1
    assert units["港澳台商投资"] == units["港澳台商经济控制"] == 1
    assert units["港澳台商独资"] == 0
    assert units["私营独资"] == 1
    assert units["私有经济控制"] == 6     # 8 minus the foreign and the HK/Macao/Taiwan one
    staff = dict(zip(cols, _table(sheet)["在岗职工"], strict=True))
    assert staff["外商投资"] == 120 and staff["港澳台商投资"] == 60 and staff["私营独资"] == 12


def test_individual_businesses_counted_only_by_setting(facts: Facts) -> None:
    sheet = _sheets(facts, settings=CoverageSettings(include_individual=True))[0]
    t = _table(sheet)
    assert t["单位数"][0] == 9 and t["没有党员的"][0] == 2   # + 辛记餐饮店 (3 staff)
    assert any("个体工商户1户" in n for n in sheet.notes)
    assert not any("个体工商户1户" in n for n in _sheets(facts)[0].notes)


def test_unknown_employees_do_not_count(facts: Facts) -> None:
    orgs = facts.orgs.copy()
    orgs.loc["914452027000000444", "employees"] = -1   # 丁: 300 -> unknown
    t = _table(_sheets(replace(facts, orgs=orgs))[0])
    assert t["单位数"][:3] == (8, 2, 1)
    assert t["在岗职工"][:3] == (290, 180, 120)
    notes = _sheets(replace(facts, orgs=orgs))[0].notes
    assert any("1个单位从业人数不详" in n for n in notes)


def test_notes_carry_year_run_and_settings(facts: Facts) -> None:
    for sheet in _sheets(facts, year=2025):
        text = "\n".join(sheet.notes)
        assert "2025年度" in sheet.title and "2025年度" in text
        assert f"第{facts.run_info()['run_id']}次导入" in text
        assert DEFAULT.describe_zh() in text
        assert "统建" in text


def test_workbook_opens_with_sheets_headers_and_frozen_pane(facts: Facts,
                                                           tmp_path: Path) -> None:
    sheets = _sheets(facts)
    path = tmp_path / "党内统计.xlsx"
    write_stats_workbook(sheets, path)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["非公企业", "社会组织"]
    for ws, sheet in zip(wb.worksheets, sheets, strict=True):
        assert ws.freeze_panes == "B3"
        assert ws["A1"].value == sheet.title
        assert any(str(rng).startswith("A1:") for rng in ws.merged_cells.ranges)
        header = [c.value for c in ws[2]][: len(sheet.columns) + 1]
        assert header == ["项目", *sheet.columns]
        labels = [ws.cell(row=3 + i, column=1).value for i in range(len(sheet.rows))]
        assert labels == [label for label, _, _ in sheet.rows]
        assert ws.cell(row=4, column=1).alignment.indent == 0
        assert ws.cell(row=6, column=1).alignment.indent == 1   # 建立党委的
        for i, (_, _, cells) in enumerate(sheet.rows):
            for j, cell in enumerate(cells):
                got = ws.cell(row=3 + i, column=2 + j)
                assert got.value == (None if cell == "" else cell)
                if cell == D:
                    assert got.alignment.horizontal == "center"
        below = [ws.cell(row=r, column=1).value for r in range(3 + len(sheet.rows), ws.max_row + 1)]
        assert "说明：" in below
        assert sum(1 for v in below if isinstance(v, str) and v[:1].isdigit()) == len(sheet.notes)
        assert ws.column_dimensions["A"].width >= 20


def test_workbook_text_is_never_a_formula(tmp_path: Path) -> None:
    """A name pulled from the data into a title or note stays text in the workbook."""
    sheet = StatsSheet(title="=HYPERLINK(\"http://x\",\"y\")", columns=("总数",),
                       rows=(("<script>alert(1)</script>", 0, (3,)),),
                       notes=("=1+1", "@SUM(A1)"))
    path = tmp_path / "x.xlsx"
    write_stats_workbook([sheet, sheet], path)
    wb = openpyxl.load_workbook(path)
    assert len(wb.sheetnames) == 2 and len(set(wb.sheetnames)) == 2
    ws = wb.worksheets[0]
    assert ws["A1"].value == sheet.title and ws["A1"].data_type == "s"
    assert ws["A3"].value == "<script>alert(1)</script>" and ws["B3"].value == 3
    notes = [c.value for c in ws["A"] if isinstance(c.value, str) and c.value[:1].isdigit()]
    assert notes == ["1. =1+1", "2. @SUM(A1)"]
