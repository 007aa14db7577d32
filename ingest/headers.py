"""Header matching: which column of a file is which field of a kind.

Real exports come from different offices, so a header matches a field by its
canonical Chinese header, its English alias, a known synonym (the national
enterprise-credit system's field codes such as ``UNISCID``), or a user mapping file.
Matching ignores surrounding spaces, full-/half-width differences, case and a
trailing ``*`` (some templates mark required columns that way).
"""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

from graph.errors import UsageError
from ingest.contract import KINDS, Kind


def normalize_header(text: str) -> str:
    """The comparable form of a header: NFKC, no spaces around, case-folded, no '*'."""
    norm = unicodedata.normalize("NFKC", text).strip().casefold()
    return norm.rstrip("*").strip()


@dataclass(frozen=True)
class UserMapping:
    """A user-supplied mapping: header -> field name, optionally per kind.

    TOML or YAML, either flat (``"单位名称" = "name"``) or per kind
    (``[enterprises] "单位名称" = "name"``); a per-kind entry wins over a flat one.
    """

    common: dict[str, str]
    per_kind: dict[str, dict[str, str]]

    def for_kind(self, kind: str) -> dict[str, str]:
        merged = {normalize_header(k): v for k, v in self.common.items()}
        merged.update({normalize_header(k): v for k, v in self.per_kind.get(kind, {}).items()})
        return merged


EMPTY_MAPPING = UserMapping({}, {})


def load_mapping(path: Path) -> UserMapping:
    """Read a TOML or YAML mapping file, with one clear error for a bad file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"无法读取映射文件 {path}: {exc.strerror}") from exc
    try:
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise UsageError(f"映射文件格式错误 {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise UsageError(f"映射文件应为 表头 = 字段 的键值对: {path}")
    common: dict[str, str] = {}
    per_kind: dict[str, dict[str, str]] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            if key not in KINDS:
                raise UsageError(f"映射文件中的类型 {key!r} 不存在; 可用: {', '.join(KINDS)}")
            per_kind[key] = {str(h): str(f) for h, f in value.items()}
        else:
            common[str(key)] = str(value)
    return UserMapping(common, per_kind)


@dataclass(frozen=True)
class HeaderMatch:
    """How one file's columns map onto one kind."""

    kind: Kind
    #: column position -> field name
    columns: dict[int, str]
    #: column positions not mapped to a field: kept as raw properties
    extras: dict[int, str]
    missing_required: tuple[str, ...]

    @property
    def score(self) -> int:
        return len(self.columns)


def match_headers(headers: list[str], kind: Kind, mapping: UserMapping = EMPTY_MAPPING) -> HeaderMatch:
    """Map a file's headers onto ``kind``; the first column to claim a field keeps it."""
    lookup: dict[str, str] = {}
    for f in kind.fields:
        for text in (f.header, f.alias, f.name, *f.synonyms):
            lookup.setdefault(normalize_header(text), f.name)
    field_names = {f.name for f in kind.fields}
    user = {h: fld for h, fld in mapping.for_kind(kind.name).items() if fld in field_names}
    columns: dict[int, str] = {}
    extras: dict[int, str] = {}
    taken: set[str] = set()
    for pos, header in enumerate(headers):
        norm = normalize_header(header)
        name = user.get(norm) or lookup.get(norm)
        if name and name not in taken:
            columns[pos] = name
            taken.add(name)
        else:
            extras[pos] = header.strip()
    missing = tuple(name for name in kind.required if name not in taken)
    return HeaderMatch(kind, columns, extras, missing)


def detect_kind(headers: list[str], mapping: UserMapping = EMPTY_MAPPING) -> HeaderMatch:
    """The kind whose required columns are all present and which matches most columns.

    Ties are an error rather than a guess: the operator then names the kind.
    """
    candidates = [match_headers(headers, kind, mapping) for kind in KINDS.values()]
    complete = [c for c in candidates if not c.missing_required]
    if not complete:
        best = max(candidates, key=lambda c: c.score)
        raise UsageError(
            "无法识别文件类型: 缺少必填列 "
            f"{', '.join(best.kind.field(n).header for n in best.missing_required)}"
            f" (最接近 {best.kind.name}); 请用 --kind 指定或提供映射文件"
        )
    complete.sort(key=lambda c: -c.score)
    if len(complete) > 1 and complete[0].score == complete[1].score:
        raise UsageError(
            f"文件类型不明确 ({complete[0].kind.name} / {complete[1].kind.name}); 请用 --kind 指定"
        )
    return complete[0]
