"""Downloads for staff: lists (findings, breakdowns) as CSV and XLSX.

Staff open every download in Excel, so the formats are chosen for Excel, not for
programs:

- CSV is UTF-8 *with* a BOM and ``\\r\\n`` line ends. Without the BOM Excel guesses
  the ANSI code page (GBK on a Chinese Windows) and every Chinese name turns into
  mojibake.
- Text that Excel would read as a formula (a first character ``= + - @``, also after
  leading blanks, or a leading tab/CR) is neutralised with a ``'`` prefix in CSV
  (OWASP "CSV injection"). Unit names and remarks come from registers that anyone
  can write into, and ``=HYPERLINK(...)`` in a name must not become a live link or a
  DDE call on a work-committee PC. Numbers passed as ``int``/``float`` are not text
  and stay numbers, so ``-5`` stays ``-5``.
- XLSX cells are typed: text goes through ``write_string`` (with the workbook's
  formula and URL guessing switched off), so no prefix is needed there and values
  stay exactly as in the data.
- Nothing materialises the full list: findings of a province run into the hundreds
  of thousands, so rows are written as they come (xlsxwriter ``constant_memory``,
  CSV in chunks for streaming HTTP responses).

Every XLSX findings export starts with a "说明" sheet carrying the scope, the
settings in force and the data run, as the spec asks of every report.
"""

from __future__ import annotations

import csv
import io
import math
import numbers
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Final

import numpy as np
import pandas as pd
import xlsxwriter

from graph import model as m
from graph import rules as r
from graph.errors import UsageError
from graph.facts import Facts
from graph.findings import Finding, ProofEdge, check_kinds, finding_frames, iter_findings
from graph.rules import CoverageSettings
from graph.scope import Scope

#: (key in the row dict, Chinese header)
Column = tuple[str, str]
#: (worksheet name, columns, rows) for :func:`write_xlsx`
Sheet = tuple[str, Sequence[Column], Iterable[Mapping[str, Any]]]

#: rows per chunk of :func:`csv_chunks` (a few tens of KB: small enough to start a
#: download at once, large enough that per-chunk overhead does not matter)
CHUNK_ROWS: Final = 500
#: rows looked at to size XLSX columns; later rows do not widen them (constant memory)
WIDTH_SAMPLE_ROWS: Final = 200
_MIN_WIDTH: Final = 6
_MAX_WIDTH: Final = 60
#: data rows of one worksheet (Excel's 1,048,576 rows, less the header)
XLSX_MAX_DATA_ROWS = 1_048_575
#: Excel keeps 15 significant digits; a longer integer (an ID typed as a number) would
#: silently lose its last digits, so it is written as text instead
_EXACT_INT_LIMIT: Final = 10**15
#: Excel's limit on the characters of one cell
_CELL_MAX_CHARS: Final = 32767
_SHEET_NAME_MAX: Final = 31
_SHEET_BAD_CHARS: Final = re.compile(r"[\[\]:*?/\\]")
#: first characters that make Excel (or LibreOffice) evaluate a cell
_FORMULA_START: Final = ("=", "+", "-", "@")
_CONTROL_START: Final = ("\t", "\r")

FINDING_COLUMNS: Final[tuple[Column, ...]] = (
    ("finding_zh", "问题类型"),
    ("subject", "对象类型"),
    ("key", "编码/信用代码"),
    ("name", "名称"),
    ("region_code", "区划代码"),
    ("committee", "责任党委"),
    ("status", "覆盖状态"),
    ("members", "党员数"),
    ("employees", "从业人数"),
    ("reason", "原因"),
    ("proof", "证明路径"),
)

_NOTE_COLUMNS: Final[tuple[Column, ...]] = (("item", "项目"), ("value", "内容"))
NOTE_SHEET: Final = "说明"


# --- cell values -----------------------------------------------------------------


def neutralise(text: str) -> str:
    """``text`` with a ``'`` prefix when a spreadsheet would run it as a formula.

    Checked after leading whitespace too (Excel ignores it: `` =1+1`` is a formula),
    and a leading tab or CR is prefixed as OWASP recommends.
    """
    if text.startswith(_CONTROL_START) or text.lstrip().startswith(_FORMULA_START):
        return "'" + text
    return text


def _plain(value: Any) -> str | int | float | None:
    """A value reduced to what a cell can hold: None, a number or text.

    Rows often come straight from pandas frames (breakdowns), so numpy scalars count
    as numbers and pandas' missing values (NaN, NA, NaT) as empty cells, never "nan".
    Booleans become 是/否, what staff write in the source sheets, not True/False.
    """
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return "是" if value else "否"
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        f = float(value)
        return None if math.isnan(f) or math.isinf(f) else f
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)


def csv_cell(value: Any) -> str:
    """The text of one CSV cell: numbers as they are, text neutralised, None empty."""
    v = _plain(value)
    if v is None:
        return ""
    if isinstance(v, str):
        return neutralise(v)
    return str(v)


def display_width(text: str) -> int:
    """Columns ``text`` takes in Excel: wide (CJK, full-width) characters count double."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


# --- CSV -------------------------------------------------------------------------


def _csv_row(row: Mapping[str, Any], columns: Sequence[Column]) -> list[str]:
    return [csv_cell(row.get(key)) for key, _ in columns]


def write_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[Column], out: IO[str]) -> int:
    """Write a BOM, the Chinese header and ``rows`` to ``out``; return the rows written.

    ``out`` should be opened with ``encoding="utf-8", newline=""``: the BOM is written
    here as U+FEFF (so ``utf-8-sig`` would double it) and the csv module writes the
    ``\\r\\n`` line ends itself.
    """
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([header for _, header in columns])
    n = 0
    for row in rows:
        writer.writerow(_csv_row(row, columns))
        n += 1
    return n


def csv_chunks(rows: Iterable[Mapping[str, Any]], columns: Sequence[Column]) -> Iterator[bytes]:
    """The bytes of :func:`write_csv`, lazily, for a streaming HTTP response.

    The first chunk is the BOM and the header (so a download starts at once), then
    one chunk per :data:`CHUNK_ROWS` rows; only one chunk is ever held in memory.
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    buf.write("\ufeff")
    writer.writerow([header for _, header in columns])
    yield _drain(buf)
    pending = 0
    for row in rows:
        writer.writerow(_csv_row(row, columns))
        pending += 1
        if pending >= CHUNK_ROWS:
            yield _drain(buf)
            pending = 0
    if pending:
        yield _drain(buf)


def _drain(buf: io.StringIO) -> bytes:
    data = buf.getvalue().encode("utf-8")
    buf.seek(0)
    buf.truncate()
    return data


# --- XLSX ------------------------------------------------------------------------


def sheet_name(name: str, used: set[str]) -> str:
    """A worksheet name Excel accepts and that is not yet in ``used`` (lower-cased).

    Excel refuses names over 31 characters, with any of ``[]:*?/\\``, beginning or
    ending with an apostrophe, or equal (ignoring case) to another sheet's name; a
    clash gets a "(2)", "(3)" ... suffix.
    """
    base = _SHEET_BAD_CHARS.sub("_", name).strip().strip("'") or "Sheet"
    if base.lower() == "history":  # reserved by Excel
        base = "History_"
    candidate, n = base[:_SHEET_NAME_MAX], 1
    while candidate.lower() in used:
        n += 1
        suffix = f"({n})"
        candidate = base[:_SHEET_NAME_MAX - len(suffix)] + suffix
    used.add(candidate.lower())
    return candidate


def write_xlsx(sheets: Sequence[Sheet], path: Path) -> None:
    """Write one worksheet per ``(name, columns, rows)``, in order, to ``path``.

    Each sheet has a bold, frozen header with an autofilter; column widths come from
    the header and the first :data:`WIDTH_SAMPLE_ROWS` rows. Rows are written as the
    iterable yields them (``constant_memory``: each row goes to disk once the next
    starts), so a sheet may be fed by a generator of any length. Past Excel's row
    limit the list goes on in a sheet "<name>(2)" with the same header: xlsxwriter
    would otherwise drop the extra rows without a word, and a province-wide list of
    uncovered units can be longer than a million.
    """
    workbook = xlsxwriter.Workbook(str(path), {
        "constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
        "strings_to_numbers": False,
    })
    try:
        header_format = workbook.add_format({"bold": True})
        used: set[str] = set()
        for name, columns, rows in sheets:
            part = _SheetWriter(workbook, sheet_name(name, used), columns, header_format)
            for row in rows:
                if part.rows == XLSX_MAX_DATA_ROWS:
                    part.finish()
                    part = _SheetWriter(workbook, sheet_name(name, used), columns,
                                        header_format)
                part.write(row)
            part.finish()
    except BaseException:
        # a half-written workbook must not be mistaken for a complete download
        workbook.close()
        path.unlink(missing_ok=True)
        raise
    workbook.close()


class _SheetWriter:
    """One worksheet being written: header first, rows in order, widths at the end."""

    def __init__(self, workbook: Any, name: str, columns: Sequence[Column],
                 header_format: Any) -> None:
        self.ws = workbook.add_worksheet(name)
        self.columns = columns
        self.keys = [key for key, _ in columns]
        self.widths = [display_width(header) for _, header in columns]
        self.rows = 0
        for col, (_, header) in enumerate(columns):
            self.ws.write_string(0, col, header, header_format)

    def write(self, row: Mapping[str, Any]) -> None:
        self.rows += 1
        sample = self.rows <= WIDTH_SAMPLE_ROWS
        for col, key in enumerate(self.keys):
            text = _write_cell(self.ws, self.rows, col, row.get(key))
            if sample and text is not None:
                self.widths[col] = max(self.widths[col], display_width(text))

    def finish(self) -> None:
        self.ws.freeze_panes(1, 0)
        if self.columns:
            self.ws.autofilter(0, 0, self.rows, len(self.columns) - 1)
        for col, width in enumerate(self.widths):
            self.ws.set_column(col, col, min(max(width + 2, _MIN_WIDTH), _MAX_WIDTH))


def _write_cell(ws: Any, row: int, col: int, value: Any) -> str | None:
    """Write one typed cell; return its text (for the column width), None if empty."""
    v = _plain(value)
    if v is None:
        return None
    if isinstance(v, int) and abs(v) >= _EXACT_INT_LIMIT:
        v = str(v)
    if isinstance(v, str):
        v = v[:_CELL_MAX_CHARS]
        ws.write_string(row, col, v)
        return v
    ws.write_number(row, col, v)
    return str(v)


# --- findings --------------------------------------------------------------------


def proof_text(proof: Iterable[ProofEdge]) -> str:
    """A proof path as one line of text, e.g. ``党员 M06 —工作单位→ 揭阳市…公司``.

    Each edge reads "<kind of the source> <source> —<relationship>→ <target>", edges
    separated by "；", so a cell shows why the finding holds without the graph view.
    """
    parts = []
    for e in proof:
        label = m.LABELS.get(e.src_label)
        rel = m.RELATIONSHIPS.get(e.type)
        src = f"{label.zh} {e.src_name}" if label else e.src_name
        parts.append(f"{src} —{rel.zh if rel else e.type}→ {e.dst_name}")
    return "；".join(parts)


def finding_rows(findings: Iterable[Finding]) -> Iterator[dict[str, Any]]:
    """Findings as flat rows keyed like :data:`FINDING_COLUMNS`, values in Chinese.

    The keys are those of ``Finding.as_json()`` so the API's JSON and the download
    name their fields alike; codes are translated for staff (subject kind, status)
    and the proof path becomes text.
    """
    for f in findings:
        label = m.LABELS.get(f.subject)
        yield {
            "finding_zh": r.FINDING_ZH.get(f.finding, f.finding),
            "subject": label.zh if label else f.subject,
            "key": f.key,
            "name": f.name,
            "region_code": f.region_code,
            "committee": f.committee,
            "status": r.STATUS_ZH.get(f.status, f.status) if f.status else None,
            "members": f.members,
            "employees": f.employees,
            "reason": f.reason,
            "proof": proof_text(f.proof),
        }


def _check_format(fmt: str) -> str:
    if fmt not in ("csv", "xlsx"):
        raise UsageError(f"不支持的导出格式: {fmt} (可选: csv, xlsx)")
    return fmt


def export_findings(facts: Facts, *, scope: Scope, settings: CoverageSettings,
                    kinds: Iterable[str] | None, fmt: str, path: Path) -> int:
    """Export the findings of ``scope`` to ``path``; return the finding rows written.

    ``csv``: one file, every wanted kind in priority order. ``xlsx``: a "说明" sheet
    (scope, settings in force, data run, count per kind), then one sheet per wanted
    kind named in Chinese — a kind with no findings still gets its sheet and header,
    so an empty sheet reads "checked, nothing found" rather than "not checked".
    """
    _check_format(fmt)
    wanted = check_kinds(kinds)
    if fmt == "csv":
        rows = finding_rows(iter_findings(facts, scope=scope, settings=settings, kinds=wanted))
        with path.open("w", encoding="utf-8", newline="") as fh:
            return write_csv(rows, FINDING_COLUMNS, fh)

    counts = {k: len(v) for k, v in
              finding_frames(facts, scope=scope, settings=settings, kinds=wanted).items()}
    written = dict.fromkeys(wanted, 0)

    def rows_of(kind: str) -> Iterator[dict[str, Any]]:
        for row in finding_rows(iter_findings(facts, scope=scope, settings=settings,
                                              kinds=(kind,))):
            written[kind] += 1
            yield row

    sheets: list[Sheet] = [
        (NOTE_SHEET, _NOTE_COLUMNS, _note_rows(facts, scope, settings, counts))]
    sheets += [(r.FINDING_ZH[k], FINDING_COLUMNS, rows_of(k)) for k in wanted]
    write_xlsx(sheets, path)
    return sum(written.values())


def _note_rows(facts: Facts, scope: Scope, settings: CoverageSettings,
               counts: Mapping[str, int]) -> list[dict[str, Any]]:
    """The "说明" sheet: what the figures cover and under which rules."""
    run = facts.run_info()
    rows: list[dict[str, Any]] = [
        {"item": "统计范围", "value": scope.describe_zh(facts)},
        {"item": "口径设置", "value": settings.describe_zh()},
        {"item": "数据批次", "value": run.get("run_id")},
        {"item": "批次完成时间", "value": run.get("finished_at")},
    ]
    rows += [{"item": r.FINDING_ZH[k], "value": n} for k, n in counts.items()]
    rows.append({"item": "合计", "value": sum(counts.values())})
    return rows
