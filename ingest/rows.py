"""Row validation: a read table plus its header match -> clean rows and quarantined rows.

Cleaning runs column by column (one cleaner per field type, memoised per column for
low-cardinality values), because a province export has a million rows and a
per-row, per-field dispatch would dominate the ingest time. A row is quarantined for
the first bad cell in column order; nothing is dropped silently.

Person data (ID numbers, phones) is hashed/masked here, before anything leaves this
module: clean rows carry only ``id_hash``/``id_masked``/``phone_masked``, and the
quarantine copy of a rejected row carries masked forms too.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any

import orjson

from ingest import validate as v
from ingest.contract import Kind
from ingest.headers import HeaderMatch
from ingest.readers import Table


@dataclass(slots=True)
class CleanRow:
    line: int
    values: dict[str, Any]
    extras: dict[str, str]
    #: the row's content hash: what "unchanged" is decided on
    row_hash: str = ""


@dataclass
class RejectedRow:
    line: int
    original: dict[str, str]
    code: str
    zh: str
    en: str
    #: the key, when it could be cleaned: a full snapshot still "sees" this record
    key: str | None = None


@dataclass
class CleanResult:
    rows: list[CleanRow]
    rejected: list[RejectedRow]
    duplicates_merged: int = 0
    extra_columns: list[str] = field(default_factory=list)


def mask_raw_id(raw: str) -> str:
    """A mask for an ID number that failed validation (still never shown in clear)."""
    s = raw.strip()
    return s[:4] + "*" * max(len(s) - 8, 4) + s[-4:] if len(s) >= 12 else "*" * len(s)


def _keyed(value: str, key: bytes) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def row_hash(kind: str, values: dict[str, Any], extras: dict[str, str]) -> str:
    payload = orjson.dumps({"k": kind, "v": values, "x": extras},
                           option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.blake2b(payload, digest_size=16).hexdigest()


Cleaner = Callable[[str], Any]


def _cleaners(today: date, person_key: bytes) -> dict[str, Cleaner]:
    def uscc_list(raw: str) -> list[str]:
        return [v.clean_uscc(item) for item in v.split_list(raw)]

    def id_number(raw: str) -> tuple[str, str]:
        clean = v.clean_id_number(raw, today=today)
        return v.hash_id_number(clean, person_key), v.mask_id_number(clean)

    def phone(raw: str) -> tuple[str | None, str]:
        digits = "".join(ch for ch in raw if ch.isdigit())
        return v.mask_phone(raw), _keyed(digits, person_key)

    return {
        "text": str,
        "uscc": v.clean_uscc,
        "date": lambda raw: v.clean_date(raw, today=today).isoformat(),
        "int": v.clean_int,
        "bool": v.clean_bool,
        "region": v.clean_region_code,
        "industry": v.clean_industry_code,
        "org_status": v.normalize_org_status,
        "party_status": v.normalize_party_org_status,
        "list": v.split_list,
        "list_uscc": uscc_list,
        "id_number": id_number,
        "phone": phone,
        "has_party_org": v.clean_has_party_org,
    }


#: types whose cleaned value depends only on the raw text and repeats a lot
_MEMO_TYPES = frozenset({"date", "bool", "region", "industry", "org_status", "party_status",
                         "int", "enum"})


def clean_table(table: Table, match: HeaderMatch, *, today: date, person_key: bytes,
                last_row_wins: bool = False) -> CleanResult:
    """Validate every row of ``table`` against ``match.kind``."""
    kind = match.kind
    frame = table.frame
    n = len(frame)
    cleaners = _cleaners(today, person_key)
    values: list[dict[str, Any]] = [{} for _ in range(n)]
    errors: list[tuple[str, str, str] | None] = [None] * n
    for pos, name in match.columns.items():
        f = kind.field(name)
        base = f.type.split(":", 1)[0]
        if base == "enum":
            enum_name = f.type.split(":", 1)[1]
            cleaner: Cleaner = partial(v.clean_enum, enum=enum_name)
        else:
            cleaner = cleaners[base]
        memo: dict[str, Any] | None = {} if base in _MEMO_TYPES else None
        column = frame.iloc[:, pos].tolist()
        for i, raw in enumerate(column):
            text = raw.strip() if isinstance(raw, str) else ""
            if not text:
                if f.required and errors[i] is None:
                    errors[i] = ("missing_required", f"缺少必填项: {f.header}",
                                 f"required column {f.alias} is empty")
                continue
            if memo is not None and text in memo:
                out = memo[text]
            else:
                try:
                    out = cleaner(text)
                except v.FieldError as exc:
                    out = exc
                if memo is not None:
                    memo[text] = out
            if isinstance(out, v.FieldError):
                if errors[i] is None:
                    errors[i] = (out.code, f"{f.header}: {out.zh}", f"{f.alias}: {out.en}")
                continue
            values[i][name] = out
    _legacy_only(kind, values, errors, frame, match)
    extras_pos = list(match.extras.items())
    headers = table.headers
    rows: list[CleanRow] = []
    rejected: list[RejectedRow] = []
    records = frame.itertuples(index=False, name=None)
    for i, cells in enumerate(records):
        line = table.lines[i]
        if errors[i] is not None:
            code, zh, en = errors[i]  # type: ignore[misc]
            original = _original(headers, match, cells)
            key = row_key(kind, values[i])
            rejected.append(RejectedRow(line, original, code, zh, en, key))
            continue
        extras = {name: cells[p] for p, name in extras_pos if cells[p] != ""}
        row = CleanRow(line, values[i], extras)
        row.row_hash = row_hash(kind.name, row.values, extras)
        rows.append(row)
    result = CleanResult(rows, rejected, extra_columns=[n for _, n in extras_pos])
    _resolve_duplicates(kind, result, table, match, last_row_wins)
    return result


def _original(headers: list[str], match: HeaderMatch, cells: Sequence[str]) -> dict[str, str]:
    """The row as it came, for the quarantine file, with person data masked."""
    out: dict[str, str] = {}
    for pos, cell in enumerate(cells):
        name = match.columns.get(pos)
        ftype = match.kind.field(name).type if name else ""
        if cell and ftype == "id_number":
            cell = mask_raw_id(cell)
        elif cell and ftype == "phone":
            cell = v.mask_phone(cell) or ""
        out[headers[pos]] = cell
    return out


def row_key(kind: Kind, values: dict[str, Any]) -> str | None:
    """The store key of a row: its key fields joined (annual reports: uscc:year)."""
    parts = [values.get(k) for k in kind.key]
    if any(p is None or p == "" for p in parts):
        return None
    return ":".join(str(p) for p in parts)


def _legacy_only(kind: Kind, values: list[dict[str, Any]],
                 errors: list[tuple[str, str, str] | None], frame: Any,
                 match: HeaderMatch) -> None:
    """A row with only an old 注册号 and no credit code is kept for review, not 'missing'."""
    reg_pos = next((p for p, name in match.columns.items() if name == "reg_no"), None)
    if reg_pos is None or "uscc" not in kind.key:
        return
    column = frame.iloc[:, reg_pos].tolist()
    for i, err in enumerate(errors):
        if err is not None and err[0] == "missing_required" and "uscc" not in values[i] \
                and str(column[i]).strip():
            errors[i] = ("legacy_id_only", "只有旧注册号/组织机构代码, 没有统一社会信用代码",
                         "only a legacy registration number, no USCC")


def _resolve_duplicates(kind: Kind, result: CleanResult, table: Table, match: HeaderMatch,
                        last_row_wins: bool) -> None:
    """Exact duplicates merge; differing rows with one key are all quarantined."""
    by_key: dict[str, list[CleanRow]] = {}
    for row in result.rows:
        by_key.setdefault(row_key(kind, row.values) or "", []).append(row)
    if all(len(group) == 1 for group in by_key.values()):
        return
    keep: list[CleanRow] = []
    line_to_cells = None
    for key, group in by_key.items():
        if len(group) == 1:
            keep.append(group[0])
            continue
        hashes = {r.row_hash for r in group}
        if len(hashes) == 1:
            keep.append(group[0])
            result.duplicates_merged += len(group) - 1
        elif last_row_wins:
            keep.append(group[-1])
            result.duplicates_merged += len(group) - 1
        else:
            if line_to_cells is None:
                line_to_cells = dict(zip(table.lines, range(len(table.lines)), strict=True))
            for r in group:
                idx = line_to_cells[r.line]
                cells = table.frame.iloc[idx].tolist()
                original = _original(table.headers, match, cells)
                result.rejected.append(RejectedRow(
                    r.line, original, "conflicting_duplicate",
                    f"同一文件中 {key} 出现多次且内容不同",
                    f"key {key} appears several times with different content", key))
    keep.sort(key=lambda r: r.line)
    result.rows = keep
    result.rejected.sort(key=lambda r: r.line)
