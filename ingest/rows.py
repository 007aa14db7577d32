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

import numpy as np
import orjson

from ingest import validate as v
from ingest.contract import Kind
from ingest.headers import HeaderMatch
from ingest.readers import Table

#: bump when cleaning or hashing changes what a row becomes: re-runs then clean again
CLEANING_VERSION = 1


@dataclass(slots=True)
class CleanRow:
    line: int
    values: dict[str, Any]
    extras: dict[str, str]
    #: the row's content hash: what "unchanged" is decided on
    row_hash: str = ""
    #: the store key (:func:`row_key`); clean rows always have one
    key: str = ""


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
    #: a row was rejected for a date relative to the run date (a later run may accept it)
    time_sensitive: bool = False


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
        "id_number": id_number,
        "phone": phone,
        "has_party_org": v.clean_has_party_org,
    }


#: types whose cleaned value depends only on the raw text and repeats a lot
_MEMO_TYPES = frozenset({"date", "bool", "region", "industry", "org_status", "party_status",
                         "int", "enum"})


_MISSING: Any = object()
#: the message of an ID number whose birth date is after the run date
_ID_FUTURE_EN = "birth date in ID number is in the future"

_USCC_LUT = np.full(256, -1, dtype=np.int64)
for _i, _c in enumerate(v._USCC_CHARS):
    _USCC_LUT[ord(_c)] = _i
_USCC_W = np.array(v._USCC_WEIGHTS, dtype=np.int64)


def _uscc_column(texts: list[str]) -> list[Any]:
    """``clean_uscc`` over a column: the common case (18 ASCII characters with a right
    check character) checked in one numpy pass; everything else through the scalar
    cleaner, which produces the exact error."""
    out: list[Any] = [None] * len(texts)
    fast = [i for i, t in enumerate(texts) if len(t) == 18 and t.isascii()]
    if fast:
        blob = "".join([texts[i] for i in fast]).upper().encode("ascii")
        codes = _USCC_LUT[np.frombuffer(blob, dtype=np.uint8).reshape(-1, 18)]
        check = (31 - (codes[:, :17] * _USCC_W).sum(axis=1) % 31) % 31
        ok = (codes >= 0).all(axis=1) & (codes[:, 17] == check)
        for j in np.flatnonzero(ok).tolist():
            out[fast[j]] = blob[18 * j:18 * j + 18].decode("ascii")
    for i, t in enumerate(texts):
        if out[i] is None and t:
            try:
                out[i] = v.clean_uscc(t)
            except v.FieldError as exc:
                out[i] = exc
    return out


def _uscc_list_column(texts: list[str]) -> list[Any]:
    """A column of credit-code lists (a Party organisation's covered units): every item
    of every cell through :func:`_uscc_column` at once; a cell takes its first item's
    error, as the scalar cleaner raises it."""
    items = [v.split_list(t) for t in texts]
    flat = _uscc_column([i for cell in items for i in cell])
    out: list[Any] = [None] * len(texts)
    at = 0
    for n, (text, cell) in enumerate(zip(texts, items, strict=True)):
        values = flat[at:at + len(cell)]
        at += len(cell)
        if text:
            out[n] = next((x for x in values if isinstance(x, v.FieldError)), values)
    return out


def _texts(frame: Any, pos: int) -> list[str]:
    """Column ``pos`` of a read frame as stripped text ("" for an empty cell)."""
    return [raw.strip() if isinstance(raw, str) else "" for raw in frame.iloc[:, pos].tolist()]


def _clean_column(ftype: str, texts: list[str], cleaners: dict[str, Cleaner]) -> list[Any]:
    """One column's cleaned values: the value, a :class:`FieldError`, or None (empty)."""
    base = ftype.split(":", 1)[0]
    if base == "text":
        return texts
    if base == "uscc":
        return _uscc_column(texts)
    if base == "list_uscc":
        return _uscc_list_column(texts)
    cleaner: Cleaner = partial(v.clean_enum, enum=ftype.split(":", 1)[1]) if base == "enum" \
        else cleaners[base]
    if base in _MEMO_TYPES:
        memo: dict[str, Any] = {}
        for text in set(texts):
            if text:
                try:
                    memo[text] = cleaner(text)
                except v.FieldError as exc:
                    memo[text] = exc
        return [memo[t] if t else None for t in texts]
    out: list[Any] = [None] * len(texts)
    for i, text in enumerate(texts):
        if text:
            try:
                out[i] = cleaner(text)
            except v.FieldError as exc:
                out[i] = exc
    return out


def row_keys(table: Table, match: HeaderMatch, *, today: date,
             person_key: bytes) -> list[str | None]:
    """Each row's store key as :func:`clean_table` would give it (None when a key field
    is empty or invalid), from the key columns alone: what a file is split on when its
    rows are cleaned in two processes (all rows of one key must land in one part)."""
    kind = match.kind
    cleaners = _cleaners(today, person_key)
    by_name = {name: pos for pos, name in match.columns.items()}
    parts: list[list[Any]] = []
    for name in kind.key:
        if name not in by_name:
            return [None] * len(table.frame)
        parts.append(_clean_column(kind.field(name).type, _texts(table.frame, by_name[name]),
                                   cleaners))
    # a cell that failed cleaning has no value, as in clean_table
    if len(parts) == 1:
        return [None if isinstance(c, v.FieldError) else _part_key(c) for c in parts[0]]
    return [_joined_key([None if isinstance(c, v.FieldError) else c for c in cells])
            for cells in zip(*parts, strict=True)]


def clean_table(table: Table, match: HeaderMatch, *, today: date, person_key: bytes,
                last_row_wins: bool = False) -> CleanResult:
    """Validate every row of ``table`` against ``match.kind``.

    Column by column: each column is stripped in one pass, low-cardinality columns are
    cleaned once per distinct value, credit codes in one numpy pass; rows are assembled
    only at the end.
    """
    kind = match.kind
    frame = table.frame
    n = len(frame)
    cleaners = _cleaners(today, person_key)
    errors: list[tuple[str, str, str] | None] = [None] * n
    names: list[str] = []
    columns: list[list[Any]] = []
    for pos, name in match.columns.items():
        f = kind.field(name)
        texts = _texts(frame, pos)
        out = _clean_column(f.type, texts, cleaners)
        # one pass for what goes wrong: empty cells and cleaner errors, first cell wins
        missing = (f"缺少必填项: {f.header}", f"required column {f.alias} is empty")
        col: list[Any] = []
        append = col.append
        for i, (text, value) in enumerate(zip(texts, out, strict=True)):
            if not text:
                if f.required and errors[i] is None:
                    errors[i] = ("missing_required", *missing)
                append(_MISSING)
            elif isinstance(value, v.FieldError):
                if errors[i] is None:
                    errors[i] = (value.code, f"{f.header}: {value.zh}", f"{f.alias}: {value.en}")
                append(_MISSING)
            else:
                append(value)
        names.append(name)
        columns.append(col)
        del texts, out
    values: list[dict[str, Any]] = [
        {k: x for k, x in zip(names, cells, strict=True) if x is not _MISSING}
        for cells in zip(*columns, strict=True)] if columns else [{} for _ in range(n)]
    del columns
    _legacy_only(kind, values, errors, frame, match)
    time_sensitive = any(e is not None and (e[0] == "future_date" or e[2].endswith(_ID_FUTURE_EN))
                         for e in errors)
    extras_pos = list(match.extras.items())
    headers = table.headers
    rows: list[CleanRow] = []
    rejected: list[RejectedRow] = []
    lines = table.lines
    extra_columns = [frame.iloc[:, p].tolist() for p, _ in extras_pos]
    extra_names = [name for _, name in extras_pos]
    kind_name = kind.name
    key_of = _key_function(kind)
    for i, vals in enumerate(values):
        if errors[i] is not None:
            code, zh, en = errors[i]  # type: ignore[misc]
            cells = frame.iloc[i].tolist()
            original = _original(headers, match, cells)
            rejected.append(RejectedRow(lines[i], original, code, zh, en, key_of(vals)))
            continue
        extras = {name: c[i] for name, c in zip(extra_names, extra_columns) if c[i] != ""} \
            if extra_names else {}
        rows.append(CleanRow(lines[i], vals, extras, row_hash(kind_name, vals, extras),
                             key_of(vals) or ""))
    result = CleanResult(rows, rejected, extra_columns=extra_names,
                         time_sensitive=time_sensitive)
    _resolve_duplicates(kind, result, table, match, last_row_wins)
    return result


def _key_function(kind: Kind) -> Callable[[dict[str, Any]], str | None]:
    """:func:`row_key` for one kind, with the one-field case without a join."""
    if len(kind.key) == 1:
        (field_name,) = kind.key

        def one(values: dict[str, Any]) -> str | None:
            return _part_key(values.get(field_name))
        return one
    return partial(row_key, kind)


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
    return _joined_key([values.get(k) for k in kind.key])


def _missing(value: Any) -> bool:
    """A key field without a value: a row that has it has no key."""
    return value is None or value == ""


def _part_key(value: Any) -> str | None:
    """The key of a one-field kind."""
    return None if _missing(value) else str(value)


def _joined_key(values: Sequence[Any]) -> str | None:
    """The key of a kind with several key fields: their values joined by ":"."""
    return None if any(map(_missing, values)) else ":".join(map(str, values))


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
        by_key.setdefault(row.key, []).append(row)
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
