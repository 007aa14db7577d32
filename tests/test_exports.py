"""CSV and XLSX downloads: Excel-friendly encoding, no formula injection, typed cells,
one sheet per finding kind with the district's known counts, and streaming (no list
of all rows is ever built)."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest

from api import exports
from api.exports import (
    CHUNK_ROWS,
    FINDING_COLUMNS,
    NOTE_SHEET,
    csv_chunks,
    export_findings,
    finding_rows,
    neutralise,
    proof_text,
    sheet_name,
    write_csv,
    write_xlsx,
)
from graph import rules as r
from graph.errors import UsageError
from graph.facts import Facts
from graph.findings import finding_counts, iter_findings
from graph.rules import CoverageSettings
from graph.scope import Scope
from tests.district import first_run_facts

COLUMNS = (("name", "名称"), ("n", "数量"), ("note", "备注"))
NASTY = ['=HYPERLINK("http://x")', "@SUM(A1)", "+1", "-2+3", "  =1+1", "\t=1", "\rx"]
#: the district's answers for the default settings (checked against finding_counts)
DISTRICT_COUNTS = {
    "should_establish": 1, "members_without_org": 2, "uncovered": 3, "orphan_party_org": 1,
    "unaffiliated_member": 2, "new_since_last_run": 0, "report_mismatch": 2,
    "joint_too_wide": 0, "level_mismatch": 0,
}


@pytest.fixture(scope="module")
def facts(tmp_path_factory: pytest.TempPathFactory) -> Facts:
    """The district's facts, built once: tests only read them (one edits a copy)."""
    return first_run_facts(tmp_path_factory.mktemp("district"))


def _csv_text(rows: list[dict[str, Any]], columns: Any = COLUMNS) -> str:
    buf = io.StringIO(newline="")
    write_csv(rows, columns, buf)
    return buf.getvalue()


def _parse(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:], newline="")))


# --- CSV ---------------------------------------------------------------------------


def test_csv_has_bom_chinese_header_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        n = write_csv([{"name": "甲科技", "n": 3, "note": None}], COLUMNS, fh)
    raw = path.read_bytes()
    assert n == 1
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw[3:].decode("utf-8") == "名称,数量,备注\r\n甲科技,3,\r\n"


def test_csv_neutralises_formula_text_but_not_numbers() -> None:
    rows = [{"name": s, "n": -5, "note": -1.5} for s in NASTY]
    parsed = _parse(_csv_text(rows))
    assert [row[0] for row in parsed[1:]] == ["'" + s for s in NASTY]
    assert all(row[1] == "-5" and row[2] == "-1.5" for row in parsed[1:])
    # text that merely contains the characters is left alone
    assert neutralise("a=b") == "a=b" and neutralise("甲-乙") == "甲-乙"
    # the same digits as text are text: a spreadsheet would read "-5" as a formula start
    assert neutralise("-5") == "'-5"


def test_csv_html_and_none_and_bool_round_trip() -> None:
    script = "<script>alert(1)</script>"
    parsed = _parse(_csv_text([{"name": script, "n": None, "note": True},
                               {"name": 'a,"b"\nc', "n": 0, "note": False}]))
    assert parsed[1] == [script, "", "是"]
    assert parsed[2] == ['a,"b"\nc', "0", "否"]


def test_csv_chunks_equal_write_csv() -> None:
    rows = [{"name": f"单位{i}", "n": i, "note": NASTY[i % len(NASTY)]}
            for i in range(CHUNK_ROWS * 2 + 7)]
    chunks = list(csv_chunks(rows, COLUMNS))
    assert chunks[0] == "\ufeff名称,数量,备注\r\n".encode()
    assert len(chunks) == 1 + 3
    assert b"".join(chunks) == _csv_text(rows).encode("utf-8")
    assert b"".join(csv_chunks([], COLUMNS)) == _csv_text([]).encode("utf-8")


# --- streaming ---------------------------------------------------------------------


class Probe:
    """A row source that knows how far it has been consumed and how far written.

    Each row records when its first cell is read (that is, written out); the source
    tracks the largest number of rows handed out but not yet read. A writer that
    built a list first would have read none when the last row is handed out.
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self.produced = 0
        self.read = 0
        self.max_ahead = 0

    def rows(self) -> Iterator[Mapping[str, Any]]:
        for i in range(self.n):
            self.max_ahead = max(self.max_ahead, self.produced - self.read)
            self.produced += 1
            yield _ProbeRow(self, i)


class _ProbeRow(Mapping[str, Any]):
    def __init__(self, probe: Probe, i: int) -> None:
        self.probe, self.i, self.seen = probe, i, False

    def __getitem__(self, key: str) -> Any:
        if key == "name" and not self.seen:
            self.seen = True
            self.probe.read += 1
        return {"name": f"=单位{self.i}", "n": -self.i, "note": None}[key]

    def __iter__(self) -> Iterator[str]:
        return iter(("name", "n", "note"))

    def __len__(self) -> int:
        return 3


def test_csv_chunks_stream_100k_rows() -> None:
    probe = Probe(100_000)
    chunks = csv_chunks(probe.rows(), COLUMNS)
    head = next(chunks)
    assert head.startswith(b"\xef\xbb\xbf") and probe.produced == 0
    next(chunks)
    assert probe.produced == CHUNK_ROWS  # one chunk's rows, not the whole source
    rest = sum(1 for _ in chunks)
    assert probe.produced == probe.read == 100_000
    assert probe.max_ahead <= 1
    assert rest == 100_000 // CHUNK_ROWS - 1


def test_write_xlsx_streams_100k_rows(tmp_path: Path) -> None:
    probe = Probe(100_000)
    path = tmp_path / "big.xlsx"
    write_xlsx([("大表", COLUMNS, probe.rows())], path)
    assert probe.produced == probe.read == 100_000
    assert probe.max_ahead <= 1  # each row was written before the next was asked for
    wb = openpyxl.load_workbook(path, read_only=True)
    assert wb["大表"].max_row == 100_001  # from the sheet's dimension, without reading it all
    wb.close()


# --- XLSX --------------------------------------------------------------------------


def test_xlsx_typed_cells_frozen_header_filter_widths(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    rows = [{"name": s, "n": -5, "note": "<script>alert(1)</script>"} for s in NASTY]
    rows.append({"name": "揭阳市榕城区甲科技有限公司", "n": 12345678901234567, "note": None})
    write_xlsx([("名单", COLUMNS, rows), ("空表", COLUMNS, [])], path)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["名单", "空表"]
    ws = wb["名单"]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:C{len(rows) + 1}"
    assert [c.value for c in ws[1]] == ["名称", "数量", "备注"]
    assert all(c.font.b for c in ws[1])
    for i, s in enumerate(NASTY, start=2):
        name = ws.cell(i, 1)
        assert name.data_type == "s"
        # XML cannot hold a bare CR; xlsxwriter escapes it and Excel reads it back
        assert name.value == (s if s != "\rx" else "_x000D_x")
        assert ws.cell(i, 2).value == -5 and ws.cell(i, 2).data_type == "n"
        assert ws.cell(i, 3).value == "<script>alert(1)</script>"
    last = len(rows) + 1
    assert ws.cell(last, 2).value == "12345678901234567"  # too long for a number in Excel
    assert ws.cell(last, 3).value is None
    # 13 CJK characters count double: wider than the header, capped
    assert ws.column_dimensions["A"].width >= 26
    assert wb["空表"].max_row == 1 and wb["空表"].freeze_panes == "A2"


def test_xlsx_long_list_goes_on_in_a_second_sheet(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Past Excel's row limit xlsxwriter drops rows silently; ours go on a sheet (2)."""
    monkeypatch.setattr(exports, "XLSX_MAX_DATA_ROWS", 3)
    path = tmp_path / "long.xlsx"
    write_xlsx([("未覆盖", COLUMNS, ({"name": f"单位{i}", "n": i} for i in range(7)))], path)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["未覆盖", "未覆盖(2)", "未覆盖(3)"]
    values = [row for ws in wb for row in ws.iter_rows(min_row=2, values_only=True)]
    assert [v[1] for v in values] == list(range(7))
    assert all([c.value for c in ws[1]] == ["名称", "数量", "备注"] for ws in wb)


def test_pandas_and_numpy_values_are_typed(tmp_path: Path) -> None:
    row = {"name": np.str_("甲"), "n": np.int64(-7), "note": float("nan")}
    other = {"name": pd.NA, "n": np.float64(2.5), "note": np.bool_(True)}
    assert _parse(_csv_text([row, other]))[1:] == [["甲", "-7", ""], ["", "2.5", "是"]]
    path = tmp_path / "np.xlsx"
    write_xlsx([("表", COLUMNS, [row])], path)
    ws = openpyxl.load_workbook(path)["表"]
    assert ws["B2"].value == -7 and ws["B2"].data_type == "n" and ws["C2"].value is None


def test_failed_export_leaves_no_half_file(tmp_path: Path) -> None:
    def rows() -> Iterator[dict[str, Any]]:
        yield {"name": "甲"}
        raise RuntimeError("store went away")

    path = tmp_path / "half.xlsx"
    with pytest.raises(RuntimeError):
        write_xlsx([("表", COLUMNS, rows())], path)
    assert not path.exists()


def test_sheet_names_are_legal_and_unique() -> None:
    used: set[str] = set()
    assert sheet_name("a/b[1]:*?\\", used) == "a_b_1_____"
    long = "很长" * 20
    first = sheet_name(long, used)
    second = sheet_name(long, used)
    assert len(first) == 31 and len(second) == 31 and first != second
    assert second.endswith("(2)")
    assert sheet_name("'引号'", used) == "引号"
    assert sheet_name("History", used) != "History"


# --- findings ----------------------------------------------------------------------


def test_district_counts_are_the_known_answers(facts: Facts) -> None:
    assert finding_counts(facts, scope=Scope(), settings=CoverageSettings()) == DISTRICT_COUNTS


def test_finding_rows_flatten_in_chinese(facts: Facts) -> None:
    findings = list(iter_findings(facts, scope=Scope(), settings=CoverageSettings(),
                                  kinds=["should_establish"]))
    (row,) = finding_rows(findings)
    assert set(row) == {key for key, _ in FINDING_COLUMNS}
    assert row["finding_zh"] == "应建未建" and row["subject"] == "两新组织"
    assert row["key"] == "91445202700000028E" and row["status"] == r.STATUS_ZH[r.JOINT]
    assert row["members"] == 3 and row["employees"] == 60 and row["committee"] == "C00"
    assert row["proof"].startswith("党员 M06 —工作单位→ 揭阳市榕城区乙物流有限公司；")
    assert "党组织 中共榕城区乙丙联合支部委员会 —覆盖→ 揭阳市榕城区乙物流有限公司" in row["proof"]
    assert proof_text(findings[0].proof) == row["proof"]
    # members are shown by number only; findings without a status leave the cell empty
    member_rows = list(finding_rows(iter_findings(
        facts, scope=Scope(), settings=CoverageSettings(), kinds=["unaffiliated_member"])))
    assert [x["status"] for x in member_rows] == [None, None]
    assert all(x["subject"] == "党员" for x in member_rows)


def test_export_findings_csv(facts: Facts, tmp_path: Path) -> None:
    path = tmp_path / "findings.csv"
    n = export_findings(facts, scope=Scope(), settings=CoverageSettings(), kinds=None,
                        fmt="csv", path=path)
    assert n == sum(DISTRICT_COUNTS.values())
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    parsed = _parse(raw.decode("utf-8"))
    assert parsed[0] == [header for _, header in FINDING_COLUMNS]
    assert len(parsed) == n + 1
    kinds = [row[0] for row in parsed[1:]]
    assert kinds[0] == "应建未建"  # priority order: should_establish first
    assert kinds.count("未覆盖") == 3


def test_export_findings_xlsx_one_sheet_per_kind(facts: Facts, tmp_path: Path) -> None:
    path = tmp_path / "findings.xlsx"
    n = export_findings(facts, scope=Scope(), settings=CoverageSettings(), kinds=None,
                        fmt="xlsx", path=path)
    assert n == sum(DISTRICT_COUNTS.values())
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [NOTE_SHEET, *(r.FINDING_ZH[k] for k in r.FINDINGS)]
    for kind, count in DISTRICT_COUNTS.items():
        ws = wb[r.FINDING_ZH[kind]]
        assert ws.max_row == count + 1, kind  # kinds with no findings keep their header
        assert ws.freeze_panes == "A2"
        assert [c.value for c in ws[1]] == [header for _, header in FINDING_COLUMNS]
    uncovered = wb["未覆盖"]
    assert uncovered.cell(2, 7).value == "未覆盖"
    assert uncovered.cell(2, 9).value == 15 and uncovered.cell(2, 9).data_type == "n"
    note = {row[0]: row[1] for row in wb[NOTE_SHEET].iter_rows(min_row=2, values_only=True)}
    assert note["统计范围"] == "全域"
    assert note["口径设置"] == CoverageSettings().describe_zh()
    assert note["数据批次"] == facts.run_info()["run_id"]
    assert note["批次完成时间"] == facts.run_info()["finished_at"]
    assert {k: note[r.FINDING_ZH[k]] for k in r.FINDINGS} == DISTRICT_COUNTS
    assert note["合计"] == n


def test_export_findings_kinds_scope_and_formula_names(facts: Facts, tmp_path: Path) -> None:
    # a register may carry a name like this; the download must not run it
    name = '=HYPERLINK("http://x")'
    facts = dataclasses.replace(facts, orgs=facts.orgs.copy())
    facts.orgs.loc["91445202700000079N", "name"] = name
    csv_path, xlsx_path = tmp_path / "f.csv", tmp_path / "f.xlsx"
    scope = Scope(region="445202002")
    n = export_findings(facts, scope=scope, settings=CoverageSettings(),
                        kinds=["uncovered", "joint_too_wide"], fmt="xlsx", path=xlsx_path)
    wb = openpyxl.load_workbook(xlsx_path)
    assert wb.sheetnames == [NOTE_SHEET, "未覆盖", "联合支部过宽"]
    names = [c for c in wb["未覆盖"]["D"][1:]]
    assert n == len(names) == 2
    assert name in [c.value for c in names] and all(c.data_type == "s" for c in names)
    assert wb[NOTE_SHEET]["B2"].value.startswith("区划 西马街道(445202002)")
    export_findings(facts, scope=scope, settings=CoverageSettings(), kinds=["uncovered"],
                    fmt="csv", path=csv_path)
    parsed = _parse(csv_path.read_text(encoding="utf-8"))
    assert "'" + name in [row[3] for row in parsed[1:]]


def test_export_findings_rejects_unknown_format_and_kind(facts: Facts, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="导出格式"):
        export_findings(facts, scope=Scope(), settings=CoverageSettings(), kinds=None,
                        fmt="pdf", path=tmp_path / "x.pdf")
    with pytest.raises(UsageError, match="未知的问题类型"):
        export_findings(facts, scope=Scope(), settings=CoverageSettings(), kinds=["nope"],
                        fmt="csv", path=tmp_path / "x.csv")
    assert not (tmp_path / "x.pdf").exists() and not (tmp_path / "x.csv").exists()
