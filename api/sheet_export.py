"""The annual statistics sheets (党内统计) as an Excel workbook.

Staff copy these figures into the official return, so the workbook mirrors its
layout: a merged title, the official column headers (frozen, with the row labels, so
they stay visible while scrolling), row labels indented by level, "—" centred so an
unsupported cell is not mistaken for a figure, and the notes that explain every "—"
below the table. Every text is written as a string, never as a formula or link: a
region or committee name that starts with "=" stays text.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import xlsxwriter

from graph.stats_sheet import DASH, ENTERPRISE_TITLE, SOCIAL_TITLE, StatsSheet

#: worksheet names of the two official sheets (Excel allows 31 characters)
SHEET_NAMES = ((ENTERPRISE_TITLE, "非公企业"), (SOCIAL_TITLE, "社会组织"))
_BAD_NAME = re.compile(r"[\[\]:*?/\\]")
_LABEL_HEADER = "项目"
_FIRST_ROW = 2  # title row, header row, then the table


def sheet_name(sheet: StatsSheet, used: set[str]) -> str:
    """A short, unique, valid worksheet name for a sheet."""
    name = next((short for title, short in SHEET_NAMES if sheet.title.startswith(title)), "")
    if not name:
        name = _BAD_NAME.sub("", sheet.title).strip("'")[:31] or "统计表"
    base, n = name, 2
    while name in used:
        suffix = f"({n})"
        name, n = base[:31 - len(suffix)] + suffix, n + 1
    used.add(name)
    return name


def _width(text: str) -> float:
    """Display width in Excel character units (CJK characters are two wide)."""
    return sum(2.0 if ord(ch) > 0x2E7F else 1.0 for ch in text)


def write_stats_workbook(sheets: list[StatsSheet], path: Path) -> None:
    """Write one worksheet per sheet to ``path`` (overwritten)."""
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False,
                                         "strings_to_urls": False,
                                         "strings_to_numbers": False})
    try:
        wb.set_properties({"title": "党内统计", "subject": "两新组织建立党的基层组织情况"})
        base: dict[str, Any] = {"font_name": "宋体", "font_size": 10, "border": 1,
                                "valign": "vcenter"}
        fmt = {
            "title": wb.add_format({"font_name": "黑体", "font_size": 14, "bold": True,
                                    "align": "center", "valign": "vcenter"}),
            "header": wb.add_format({**base, "bold": True, "align": "center",
                                     "text_wrap": True, "bg_color": "#F2F2F2"}),
            "number": wb.add_format({**base, "align": "right", "num_format": "0"}),
            "dash": wb.add_format({**base, "align": "center"}),
            "blank": wb.add_format(base),
            "notes_head": wb.add_format({"font_name": "宋体", "font_size": 10, "bold": True}),
            "note": wb.add_format({"font_name": "宋体", "font_size": 10, "text_wrap": True,
                                   "valign": "top"}),
        }
        labels = {level: wb.add_format({**base, "align": "left", "indent": level,
                                        "bold": level == 0})
                  for level in (0, 1, 2)}
        used: set[str] = set()
        for sheet in sheets:
            _write_sheet(wb, sheet, sheet_name(sheet, used), fmt, labels)
    finally:
        wb.close()


def _write_sheet(wb: xlsxwriter.Workbook, sheet: StatsSheet, name: str,
                 fmt: dict[str, Any], labels: dict[int, Any]) -> None:
    ws = wb.add_worksheet(name)
    last_col = len(sheet.columns)
    label_width = max([_width(_LABEL_HEADER), *(_width(lbl) + 2 * lvl
                                                  for lbl, lvl, _ in sheet.rows)]) + 2
    ws.set_column(0, 0, label_width)
    ws.set_column(1, max(last_col, 1), 11)

    # title row: merged across the table, written as a string
    if last_col:
        ws.merge_range(0, 0, 0, last_col, "", fmt["title"])
    ws.write_string(0, 0, sheet.title, fmt["title"])
    ws.set_row(0, 30)

    # header row: the official column headers, frozen with the label column
    ws.write_string(1, 0, _LABEL_HEADER, fmt["header"])
    for j, col in enumerate(sheet.columns, start=1):
        ws.write_string(1, j, col, fmt["header"])
    longest = max((_width(c) for c in sheet.columns), default=4.0)
    ws.set_row(1, 15 * max(1, -(-int(longest) // 10)))  # ~10 width units per wrapped line
    ws.freeze_panes(_FIRST_ROW, 1)

    for i, (label, level, cells) in enumerate(sheet.rows, start=_FIRST_ROW):
        ws.write_string(i, 0, label, labels.get(level, labels[2]))
        for j, cell in enumerate(cells, start=1):
            if isinstance(cell, int):
                ws.write_number(i, j, cell, fmt["number"])
            elif cell == "":
                ws.write_blank(i, j, None, fmt["blank"])
            else:
                ws.write_string(i, j, cell, fmt["dash"] if cell == DASH else fmt["blank"])

    # notes below the table, one merged, wrapped row each
    row = _FIRST_ROW + len(sheet.rows) + 1
    if sheet.notes:
        ws.write_string(row, 0, "说明：", fmt["notes_head"])
        row += 1
    span = label_width + 11 * last_col
    for k, note in enumerate(sheet.notes, start=1):
        text = f"{k}. {note}"
        if last_col:
            ws.merge_range(row, 0, row, last_col, "", fmt["note"])
        ws.write_string(row, 0, text, fmt["note"])
        ws.set_row(row, 14 * max(1, -(-int(_width(text)) // max(int(span), 1))))
        row += 1
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(1)
