"""Pure field cleaners for the nightly ingest of Chinese registration data.

Every function here takes one raw cell (a ``str`` as read from CSV/XLSX) and either
returns the canonical value or raises :class:`FieldError` carrying a quarantine
reason code plus a Chinese and an English message.  The ingest pipeline turns that
error into a quarantine row; nothing here does I/O or logging.

Design notes (why the code looks the way it does):

* The cleaners run per row on files of up to ~1M rows, so regular expressions are
  compiled once at import time, the happy path never raises, and the
  low-cardinality cleaners (status, enums, industry codes, booleans, region codes,
  dates) are memoised with :func:`functools.lru_cache`.  The caches sit on private
  functions behind thin typed wrappers so that callers keep precise signatures under
  ``mypy --strict`` (``lru_cache`` erases parameter types).
* Exports come from many offices and tools, so input is normalised with Unicode
  NFKC (full-width digits, letters, parentheses and commas become ASCII) before it
  is looked at.
* Person data is sensitive (see the ingest contract): messages about citizen ID
  numbers and phone numbers never contain the value.  To keep that rule simple and
  safe, *no* message in this module embeds the raw cell; the quarantine file keeps
  the original row anyway.
* Blank input is reported as ``missing_required``.  Callers are expected to treat
  an empty optional cell as "no value" before calling a cleaner; if they do not,
  the reason code at least says what actually happened.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from datetime import date, timedelta
from functools import lru_cache
from typing import Final

from stdnum.cn import ric as _ric

__all__ = [
    "ENUMS",
    "REASON_CODES",
    "REASON_TEXT",
    "FieldError",
    "clean_bool",
    "clean_date",
    "clean_enum",
    "clean_has_party_org",
    "clean_id_number",
    "clean_industry_code",
    "clean_int",
    "clean_region_code",
    "clean_uscc",
    "hash_id_number",
    "mask_id_number",
    "mask_phone",
    "normalize_org_status",
    "normalize_party_org_status",
    "split_list",
]

# ---------------------------------------------------------------------------
# Reason codes and the error type
# ---------------------------------------------------------------------------

REASON_TEXT: Final[dict[str, tuple[str, str]]] = {
    "missing_required": ("缺少必填字段", "a required field is missing"),
    "bad_uscc_checksum": ("统一社会信用代码校验位错误", "USCC check character is wrong"),
    "bad_uscc_format": ("统一社会信用代码格式错误", "USCC has the wrong length or characters"),
    "bad_id_number": ("身份证号无效", "citizen ID number is invalid"),
    "bad_date": ("日期无法识别", "date cannot be parsed"),
    "future_date": ("日期晚于今天", "date is in the future"),
    "bad_region_code": ("行政区划代码无效", "administrative region code is invalid"),
    "bad_industry_code": ("行业代码无效", "GB/T 4754 industry code is invalid"),
    "bad_number": ("数值无效", "value is not a valid integer"),
    "negative_number": ("数值不能为负", "value must not be negative"),
    "conflicting_duplicate": (
        "同一文件中主键重复且内容不一致",
        "same key appears more than once in the file with different content",
    ),
    "bad_enum_value": ("取值不在允许范围内", "value is not one of the allowed values"),
    "encoding_error": ("文件编码无法识别或存在乱码", "file encoding error"),
    "row_too_long": ("行的列数多于表头", "row has more cells than the header"),
    "legacy_id_only": (
        "仅有旧注册号或组织机构代码，缺少统一社会信用代码",
        "only a legacy registration number or organisation code, no USCC",
    ),
}

REASON_CODES: Final[tuple[str, ...]] = tuple(REASON_TEXT)


class FieldError(ValueError):
    """A bad cell. code is a quarantine reason code.

    ``zh``/``en`` are specific human-readable messages for the quarantine file and the
    run report.  They must never contain a sensitive value (ID or phone number).
    The exception passes its three fields to ``ValueError.__init__`` so that it
    pickles cleanly (ingest may clean chunks in worker processes).
    """

    code: str
    zh: str
    en: str

    def __init__(self, code: str, zh: str, en: str) -> None:
        if code not in REASON_TEXT:
            # A typo in a reason code would silently create a new quarantine bucket.
            raise ValueError(f"unknown quarantine reason code: {code!r}")
        super().__init__(code, zh, en)
        self.code = code
        self.zh = zh
        self.en = en

    def __str__(self) -> str:
        return f"{self.code}: {self.zh} / {self.en}"


def _nfkc(raw: str) -> str:
    """NFKC-normalise and strip; the first step of nearly every cleaner."""
    return unicodedata.normalize("NFKC", raw).strip()


def _key(raw: str) -> str:
    """Lookup key for vocabularies: NFKC, all whitespace removed.

    Offices write '吊销， 未注销', '存续 ', '党 支部'; whitespace never carries meaning
    in these Chinese terms, so it is dropped entirely.
    """
    return "".join(unicodedata.normalize("NFKC", raw).split())


def _missing(what_zh: str, what_en: str) -> FieldError:
    return FieldError("missing_required", f"{what_zh}为空", f"{what_en} is empty")


# ---------------------------------------------------------------------------
# USCC (GB 32100-2015)
# ---------------------------------------------------------------------------

# GB 32100 alphabet: digits and upper-case letters without I, O, S, V, Z.
_USCC_ALPHABET: Final[frozenset[str]] = frozenset("0123456789ABCDEFGHJKLMNPQRTUWXY")
_USCC_CHARS: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE: Final[dict[str, int]] = {c: i for i, c in enumerate(_USCC_CHARS)}
_USCC_WEIGHTS: Final = tuple(pow(3, i, 31) for i in range(17))
_REGNO_RE: Final = re.compile(r"[0-9]{15}")


def uscc_check_char(body: str) -> str:
    """GB 32100 check character of the first 17 characters.

    The same rule as ``stdnum.cn.uscc.calc_check_digit`` (which the tests use as the
    oracle), written out because stdnum's version costs ~10 µs a call through its
    generic cleaning, i.e. ~10 s per million registration rows.
    """
    total = sum(_USCC_VALUE[c] * w for c, w in zip(body, _USCC_WEIGHTS))
    return _USCC_CHARS[(31 - total % 31) % 31]
# 组织机构代码 (GB 11714): 8 digits/letters, optional hyphen, check char 0-9 or X.
_ORG_CODE_RE: Final = re.compile(r"[0-9A-Z]{8}-?[0-9X]")


def clean_uscc(raw: str) -> str:
    """Return the canonical 18-character unified social credit code.

    Only the GB 32100 alphabet and the final check character are enforced
    (:func:`uscc_check_char`, checked against ``stdnum.cn.uscc`` in the tests).  ``stdnum.cn.uscc.validate`` is not used
    because it also requires the first 8 characters to be digits, which rejects
    genuine codes of registration authorities with letter codes (e.g. ``N`` for
    agriculture, ``A`` for the central military commission, ``Y`` for others).
    An old 15-digit 注册号 or a 9-character 组织机构代码 is reported as
    ``legacy_id_only`` so the row is kept for review instead of being called garbage.
    """
    s = raw.strip() if raw.isascii() else _nfkc(raw)
    s = s.upper()
    if len(s) == 18 and _USCC_ALPHABET.issuperset(s):
        if uscc_check_char(s) == s[17]:
            return s
        raise FieldError(
            "bad_uscc_checksum", "统一社会信用代码校验位错误", "USCC check character is wrong"
        )
    if not s:
        raise _missing("统一社会信用代码", "USCC")
    if _REGNO_RE.fullmatch(s) or _ORG_CODE_RE.fullmatch(s):
        raise FieldError(
            "legacy_id_only",
            "仅有旧版注册号/组织机构代码，不是统一社会信用代码",
            "a legacy registration number or organisation code, not a USCC",
        )
    if len(s) != 18:
        raise FieldError(
            "bad_uscc_format",
            f"统一社会信用代码应为18位，实际为{len(s)}位",
            f"USCC must have 18 characters, got {len(s)}",
        )
    raise FieldError(
        "bad_uscc_format",
        "统一社会信用代码含有不允许的字符（I、O、S、V、Z 或符号）",
        "USCC contains characters outside the GB 32100 alphabet",
    )


# ---------------------------------------------------------------------------
# Citizen ID number (GB 11643-1999) and other person data
# ---------------------------------------------------------------------------


def _bad_id(zh: str, en: str) -> FieldError:
    return FieldError("bad_id_number", zh, en)


def clean_id_number(raw: str, *, today: date) -> str:
    """Return the canonical 18-character citizen ID number (check char upper-case).

    Validated: 17 ASCII digits + check char (0-9/X), the ISO 7064 MOD 11-2 check
    digit, and a real birth date between 1900-01-01 and ``today``.  The birthplace
    (first 6 digits) is deliberately *not* checked against a table:
    ``stdnum.cn.ric.validate`` uses a birthplace table that misses many current
    county codes (e.g. 4452xx), and a wrongly rejected member is worse than an
    unchecked prefix.  No message ever contains the number or a part of it.
    """
    s = _nfkc(raw).upper()
    if not s:
        raise _missing("身份证号", "ID number")
    if len(s) != 18:
        raise _bad_id("身份证号应为18位", "ID number must have 18 characters")
    body = s[:17]
    if not (body.isascii() and body.isdigit()) or s[17] not in "0123456789X":
        raise _bad_id("身份证号含有非法字符", "ID number contains invalid characters")
    if _ric.calc_check_digit(s) != s[17]:
        raise _bad_id("身份证号校验位错误", "ID number check digit is wrong")
    year, month, day = int(s[6:10]), int(s[10:12]), int(s[12:14])
    try:
        born = date(year, month, day)
    except ValueError:
        raise _bad_id(
            "身份证号中的出生日期不存在", "birth date in ID number does not exist"
        ) from None
    if born > today:
        raise _bad_id("身份证号中的出生日期晚于今天", "birth date in ID number is in the future")
    if year < 1900:
        raise _bad_id("身份证号中的出生日期早于1900年", "birth date in ID number is before 1900")
    return s


def hash_id_number(id_number: str, key: bytes) -> str:
    """HMAC-SHA256 (hex) of a cleaned ID number.

    Keyed rather than a plain hash because the ID space is small enough to
    enumerate: without the key nobody can recover or link numbers from the store.
    Pass the output of :func:`clean_id_number` so that 'x'/'X' variants hash alike.
    """
    if not key:
        raise ValueError("hash_id_number needs a non-empty key / 需要非空密钥")
    return hmac.new(key, id_number.encode("ascii"), hashlib.sha256).hexdigest()


def mask_id_number(id_number: str) -> str:
    """Masked form for display, e.g. ``4452**********123X``.

    Keeps the first 4 (province + city) and last 4 characters, like bank statements,
    so staff can tell people apart without seeing the birth date.
    """
    if len(id_number) != 18:
        # Do not echo the value: it may be a raw, unvalidated ID.
        raise ValueError("mask_id_number expects a cleaned 18-character ID number")
    return id_number[:4] + "*" * 10 + id_number[14:]


def mask_phone(raw: str) -> str | None:
    """Masked phone number; never raises, because a phone is never a reason to quarantine.

    Only digits are kept.  An 11-digit mobile number (starting with 1) becomes
    ``138****5678``; a 13-digit ``86`` + mobile has its country code dropped first.
    Other numbers with at least 7 digits (landlines with area code, extensions)
    keep the first 3 and last 2 digits.  Anything shorter is too
    short to mask meaningfully and becomes ``****``.  Blank input gives ``None``.
    """
    if not raw or not raw.strip():
        return None
    digits = "".join(c for c in unicodedata.normalize("NFKC", raw) if "0" <= c <= "9")
    if len(digits) == 13 and digits.startswith("861"):
        digits = digits[2:]
    n = len(digits)
    if n == 11 and digits[0] == "1":
        return digits[:3] + "****" + digits[7:]
    if n >= 7:
        return digits[:3] + "*" * (n - 5) + digits[-2:]
    return "****"


# ---------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------

# Optional time part after the date: ' 00:00:00', 'T08:30', '0:00:00.000', '+08:00', 'Z'.
_TIME: Final = r"(?:(?:\s+|T)\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
_DATE_SEP_RE: Final = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})" + _TIME, re.ASCII)
_DATE_CN_RE: Final = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日" + _TIME, re.ASCII)
_DATE_COMPACT_RE: Final = re.compile(r"(\d{4})(\d{2})(\d{2})" + _TIME, re.ASCII)
_SERIAL_RE: Final = re.compile(r"(\d{1,7})(?:\.(\d+))?", re.ASCII)

_EXCEL_MAX_SERIAL: Final = 2958465  # 9999-12-31
_EXCEL_EPOCH: Final = date(1899, 12, 30)  # valid for serials >= 61 (after the 1900 leap bug)
_MIN_DATE: Final = date(1900, 1, 1)


def _bad_date(zh: str = "日期无法识别", en: str = "date cannot be parsed") -> FieldError:
    return FieldError("bad_date", zh, en)


def _excel_serial(whole: int) -> date:
    """Excel 1900 date system: serial 1 = 1900-01-01; 60 is the fictitious 1900-02-29."""
    if whole < 1 or whole > _EXCEL_MAX_SERIAL:
        raise _bad_date("Excel 日期序号超出范围", "Excel date serial out of range")
    if whole == 60:
        raise _bad_date("Excel 日期序号60对应不存在的1900-02-29", "Excel serial 60 is 1900-02-29")
    if whole < 60:
        return date(1899, 12, 31) + timedelta(days=whole)
    return _EXCEL_EPOCH + timedelta(days=whole)


def _parse_date(s: str) -> date:
    m = _DATE_SEP_RE.fullmatch(s)
    if m:
        y, mo, d = int(m[1]), int(m[3]), int(m[4])
    else:
        m = _DATE_CN_RE.fullmatch(s) or _DATE_COMPACT_RE.fullmatch(s)
        if m:
            y, mo, d = int(m[1]), int(m[2]), int(m[3])
        else:
            m = _SERIAL_RE.fullmatch(s)
            if not m:
                raise _bad_date()
            whole = int(m[1])
            if m[2] is None and 1900 <= whole <= 2100:
                # A bare '2023' is far more likely a year-only entry than Excel's
                # 1905-07-15; the contract says never to guess, so reject it.
                raise _bad_date("只有年份，缺少月和日", "only a year, month and day are missing")
            return _excel_serial(whole)
    try:
        return date(y, mo, d)
    except ValueError:
        raise _bad_date("日期不存在（如2月30日）", "date does not exist (e.g. Feb 30)") from None


@lru_cache(maxsize=65536)
def _clean_date(raw: str, today: date) -> date:
    s = _nfkc(raw)
    if not s:
        raise _missing("日期", "date")
    result = _parse_date(s)
    if result < _MIN_DATE:
        raise _bad_date("日期早于1900-01-01", "date is before 1900-01-01")
    if result > today:
        raise FieldError("future_date", "日期晚于今天", "date is after today")
    return result


def clean_date(raw: str, *, today: date) -> date:
    """Parse the date formats seen in office exports.

    Accepted: ``YYYY-MM-DD``, ``YYYY/MM/DD``, ``YYYY.MM.DD`` (single-digit month/day
    allowed), ``YYYYMMDD``, ``YYYY年M月D日``, each optionally followed by a time
    part (``' 00:00:00'``, ``'T08:00:00'``) which is ignored, and Excel serial
    numbers in the 1900 date system (``'44927'``, ``'44927.0'``; a fraction is the
    time of day and is ignored).  A bare 4-digit value 1900-2100 is rejected as
    year-only rather than read as a serial.  Dates before 1900-01-01 are
    ``bad_date`` (a typo, not a real registration date); dates after ``today`` are
    ``future_date``.
    """
    return _clean_date(raw, today)


# ---------------------------------------------------------------------------
# Region codes
# ---------------------------------------------------------------------------

_PROVINCES: Final[frozenset[str]] = frozenset(
    [str(n) for n in range(11, 16)]
    + [str(n) for n in range(21, 24)]
    + [str(n) for n in range(31, 38)]
    + [str(n) for n in range(41, 47)]
    + [str(n) for n in range(50, 55)]
    + [str(n) for n in range(61, 66)]
    + ["71", "81", "82"]
)


@lru_cache(maxsize=65536)
def _clean_region_code(raw: str) -> str:
    s = _nfkc(raw)
    if not s:
        raise _missing("区划代码", "region code")
    if len(s) not in (6, 9, 12) or not (s.isascii() and s.isdigit()):
        raise FieldError(
            "bad_region_code",
            "区划代码应为6、9或12位数字",
            "region code must be 6, 9 or 12 digits",
        )
    if s[:2] not in _PROVINCES:
        raise FieldError(
            "bad_region_code",
            "区划代码的省级代码不存在",
            "region code has no valid province prefix",
        )
    # Hierarchy: a province-level code (city part '00') must be zero below.  A county
    # part '00' may have streets below it (cities without counties, e.g. 东莞 441900),
    # but a street part '000' cannot have a village part.
    if s[2:4] == "00" and s[4:].strip("0"):
        raise FieldError(
            "bad_region_code",
            "区划代码层级不一致：市级为00但下级不为0",
            "region code is inconsistent: city part is 00 but lower levels are not",
        )
    if len(s) == 12 and s[6:9] == "000" and s[9:] != "000":
        raise FieldError(
            "bad_region_code",
            "区划代码层级不一致：乡镇级为000但村级不为0",
            "region code is inconsistent: town part is 000 but village part is not",
        )
    return s


def clean_region_code(raw: str) -> str:
    """Return a 6 (county), 9 (street) or 12 (community) digit region code.

    The first two digits must be a real province code.  Codes ending in zeros denote
    higher levels (``440000`` province, ``445200`` city, 12-digit statistical codes
    padded with zeros) and are accepted; codes whose zeros contradict the hierarchy
    (``440001``) are not.  Existence of the exact code is not checked: the region
    register is optional and changes every year.
    """
    return _clean_region_code(raw)


# ---------------------------------------------------------------------------
# Industry codes (GB/T 4754-2017)
# ---------------------------------------------------------------------------


def _division_table() -> dict[str, str]:
    ranges = {
        "A": (1, 5), "B": (6, 12), "C": (13, 43), "D": (44, 46), "E": (47, 50),
        "F": (51, 52), "G": (53, 60), "H": (61, 62), "I": (63, 65), "J": (66, 69),
        "K": (70, 70), "L": (71, 72), "M": (73, 75), "N": (76, 79), "O": (80, 82),
        "P": (83, 83), "Q": (84, 85), "R": (86, 90), "S": (91, 96), "T": (97, 97),
    }  # fmt: skip
    return {f"{d:02d}": sec for sec, (lo, hi) in ranges.items() for d in range(lo, hi + 1)}


# Official GB/T 4754-2017 division (大类, 2 digits) -> section (门类, letter).
_DIVISION_SECTION: Final[dict[str, str]] = _division_table()
_SECTIONS: Final[frozenset[str]] = frozenset(_DIVISION_SECTION.values())
_INDUSTRY_RE: Final = re.compile(r"([A-Z]?)([0-9]{2,4})", re.ASCII)


@lru_cache(maxsize=8192)
def _clean_industry_code(raw: str) -> str:
    s = "".join(_nfkc(raw).upper().split())
    if not s:
        raise _missing("行业代码", "industry code")
    if len(s) == 1 and s in _SECTIONS:
        return s
    m = _INDUSTRY_RE.fullmatch(s)
    if not m:
        raise FieldError(
            "bad_industry_code",
            "行业代码格式错误，应为门类字母、门类字母加2至4位数字或2至4位数字",
            "industry code must be a section letter, letter + 2-4 digits, or 2-4 digits",
        )
    letter, digits = m[1], m[2]
    section = _DIVISION_SECTION.get(digits[:2])
    if section is None:
        raise FieldError(
            "bad_industry_code", "行业代码的大类不存在", "industry code has no such division"
        )
    if letter and letter != section:
        raise FieldError(
            "bad_industry_code",
            f"行业门类{letter}与大类{digits[:2]}不符（应为{section}）",
            f"section {letter} does not match division {digits[:2]} (expected {section})",
        )
    return section + digits


def clean_industry_code(raw: str) -> str:
    """Normalise a GB/T 4754-2017 code to section letter + digits (``'G5430'``).

    Accepts ``'G'``, ``'G54'``, ``'G5430'`` and bare digits ``'5430'``; the section
    letter is derived from the 2-digit division with the official table, so a letter
    that contradicts its division (``'H5430'``) is an error rather than a guess.
    Committees are matched to enterprises by code prefix, so the canonical form must
    always carry the letter.
    """
    return _clean_industry_code(raw)


# ---------------------------------------------------------------------------
# Numbers and booleans
# ---------------------------------------------------------------------------

_INT_RE: Final = re.compile(r"([+-]?)([0-9]+)(?:\.(0*))?", re.ASCII)


def clean_int(raw: str) -> int:
    """Parse a non-negative integer such as ``'12'``, ``'1,234'``, ``'12.0'``, ``'１２'``.

    ``'12.0'`` is accepted because spreadsheet tools often store counts as floats;
    ``'12.5'`` is not an integer and is rejected rather than rounded.
    """
    if raw.isascii() and raw.isdigit():  # fast path for the common case
        return int(raw)
    s = "".join(_nfkc(raw).replace(",", "").split())
    if not s:
        raise _missing("数值", "number")
    m = _INT_RE.fullmatch(s)
    if not m:
        raise FieldError("bad_number", "不是整数", "not an integer")
    value = int(m[2])
    if m[1] == "-" and value != 0:
        raise FieldError("negative_number", "数值不能为负数", "value must not be negative")
    return value


_BOOL: Final[dict[str, bool]] = {
    "是": True, "否": False,
    "Y": True, "N": False,
    "YES": True, "NO": False,
    "TRUE": True, "FALSE": False,
    "1": True, "0": False,
    "有": True, "无": False,
}  # fmt: skip


@lru_cache(maxsize=1024)
def _clean_bool(raw: str) -> bool:
    k = _key(raw).upper()
    value = _BOOL.get(k)
    if value is None:
        if not k:
            raise _missing("是/否字段", "yes/no field")
        raise FieldError(
            "bad_enum_value",
            "是/否字段只接受 是/否、Y/N、yes/no、true/false、1/0、有/无",
            "yes/no field accepts 是/否, Y/N, yes/no, true/false, 1/0, 有/无",
        )
    return value


def clean_bool(raw: str) -> bool:
    """Parse a yes/no cell (是/否, Y/N, yes/no, true/false, 1/0, 有/无; case-insensitive)."""
    return _clean_bool(raw)


# ---------------------------------------------------------------------------
# Registration status
# ---------------------------------------------------------------------------

_ACTIVE: Final = "存续"
_STATUS_CODES: Final[dict[str, str]] = {
    "1": "存续",
    "2": "吊销未注销",
    "3": "吊销已注销",
    "4": "注销",
    "5": "撤销",
    "6": "迁出",
    "9": "其他",
}
# Text variant (after _key normalisation) -> canonical status.
_STATUS_TEXT: Final[dict[str, str]] = {
    "存续": "存续", "在业": "存续", "开业": "存续", "正常": "存续", "在营": "存续",
    "在册": "存续", "存续(在营、开业、在册)": "存续", "在营(开业)": "存续",
    "吊销": "吊销未注销", "吊销,未注销": "吊销未注销", "吊销未注销": "吊销未注销",
    "已吊销": "吊销未注销", "吊销(未注销)": "吊销未注销",
    "吊销已注销": "吊销已注销", "吊销,已注销": "吊销已注销", "吊销(已注销)": "吊销已注销",
    "注销": "注销", "已注销": "注销",
    "撤销": "撤销", "已撤销": "撤销",
    "迁出": "迁出", "已迁出": "迁出",
    "停业": "停业",
    "歇业": "歇业",
    "其他": "其他", "其它": "其他",
}  # fmt: skip
_CODE_TEXT_RE: Final = re.compile(r"([0-9])[-.、:]?(.*)", re.ASCII)
_STATUS_PART_SEP_RE: Final = re.compile(r"[、,;/]")


def _bad_status() -> FieldError:
    return FieldError(
        "bad_enum_value",
        "登记状态无法识别",
        "registration status is not a known value",
    )


def _status_from_text(k: str) -> str | None:
    canonical = _STATUS_TEXT.get(k)
    if canonical is not None or "(" not in k or not k.endswith(")"):
        return canonical
    # 'X(Y、Z)' with every part meaning the same status, e.g. '存续(在营、开业)'.
    head, _, inner = k[:-1].partition("(")
    canonical = _STATUS_TEXT.get(head)
    parts = [p for p in _STATUS_PART_SEP_RE.split(inner) if p]
    if canonical and parts and all(_STATUS_TEXT.get(p) == canonical for p in parts):
        return canonical
    return None


@lru_cache(maxsize=1024)
def _normalize_org_status(raw: str) -> tuple[str, bool]:
    k = _key(raw)
    if not k:
        raise _missing("登记状态", "registration status")
    canonical = _status_from_text(k)
    if canonical is None:
        m = _CODE_TEXT_RE.fullmatch(k)
        if not m or m[1] not in _STATUS_CODES:
            raise _bad_status()
        canonical = _STATUS_CODES[m[1]]
        if m[2]:
            named = _status_from_text(m[2])
            # '2 吊销' / '3 吊销': the bare word does not say whether it was deregistered.
            compatible = named == canonical or (m[2] == "吊销" and m[1] in "23")
            if not compatible:
                raise FieldError(
                    "bad_enum_value",
                    "登记状态的代码与名称不一致",
                    "registration status code and name disagree",
                )
    return canonical, canonical == _ACTIVE


def normalize_org_status(raw: str) -> tuple[str, bool]:
    """Registration status of an enterprise or social org -> (canonical Chinese, active).

    Accepts the credit-system codes (1 存续, 2 吊销未注销, 3 吊销已注销, 4 注销,
    5 撤销, 6 迁出, 9 其他), ``'1 存续'``/``'1存续'`` (code and name must agree), and
    local text variants (在业, 开业, 正常, 在营, 在册, '存续（在营、开业、在册）',
    '吊销，未注销', 停业, 歇业 ...).  Only 存续 counts as active.  ``其他`` is
    deliberately inactive: an unknown operating state must not inflate the number of
    operating organisations that coverage rates are computed against.  Unknown values
    are ``bad_enum_value``, never a guess.
    """
    return _normalize_org_status(raw)


_PARTY_STATUS: Final[dict[str, tuple[str, bool]]] = {
    "正常": ("正常", True),
    "撤销": ("撤销", False),
    "已撤销": ("撤销", False),
}


@lru_cache(maxsize=256)
def _normalize_party_org_status(raw: str) -> tuple[str, bool]:
    k = _key(raw)
    result = _PARTY_STATUS.get(k)
    if result is None:
        if not k:
            raise _missing("党组织状态", "party organisation status")
        raise FieldError(
            "bad_enum_value",
            "党组织状态只能是 正常 或 撤销",
            "party org status must be 正常 or 撤销",
        )
    return result


def normalize_party_org_status(raw: str) -> tuple[str, bool]:
    """Party organisation status -> (canonical, active): 正常 active, 撤销 inactive."""
    return _normalize_party_org_status(raw)


# ---------------------------------------------------------------------------
# Enumerations
# ---------------------------------------------------------------------------

# enum name -> {accepted spelling: canonical}.  Canonical values map to themselves.
_ENUM_SYNONYMS: Final[dict[str, dict[str, str]]] = {
    "committee_kind": {
        "两新工委": "两新工委", "两新组织工委": "两新工委",
        "行业党委": "行业党委",
        "园区综合党委": "园区综合党委", "园区党委": "园区综合党委",
        "区域综合党委": "区域综合党委", "区域党委": "区域综合党委",
    },
    "party_level": {
        "党委": "党委",
        "党总支": "党总支", "党总支部": "党总支",
        "党支部": "党支部", "支部": "党支部", "联合党支部": "党支部",
    },
    "formation": {
        "单独组建": "单独组建", "单独": "单独组建",
        "联合组建": "联合组建", "联合": "联合组建",
        "区域统建": "区域统建", "楼宇统建": "楼宇统建",
        "园区统建": "园区统建", "行业统建": "行业统建",
    },
    "social_org_type": {
        "社会团体": "社会团体",
        "民办非企业单位": "民办非企业单位", "社会服务机构": "民办非企业单位",
        "基金会": "基金会",
    },
    "member_type": {
        "正式党员": "正式党员", "正式": "正式党员",
        "预备党员": "预备党员", "预备": "预备党员",
    },
    "verification_result": {
        "正常经营": "正常经营", "正常": "正常经营",
        "空壳": "空壳", "僵尸": "僵尸", "失联": "失联",
        "已迁出": "已迁出", "迁出": "已迁出",
    },
    "supply_relation": {"供应": "供应", "配套": "配套", "采购": "采购"},
    "annual_formation": {
        "单独": "单独", "1": "单独", "单独组建": "单独",
        "联合": "联合", "2": "联合", "联合组建": "联合",
    },
}  # fmt: skip

ENUMS: Final[dict[str, tuple[str, ...]]] = {
    name: tuple(dict.fromkeys(table.values())) for name, table in _ENUM_SYNONYMS.items()
}


@lru_cache(maxsize=4096)
def _clean_enum(raw: str, enum: str) -> str:
    table = _ENUM_SYNONYMS[enum]  # KeyError for an unknown enum name: a programming error
    k = _key(raw)
    value = table.get(k)
    if value is None:
        if not k:
            raise _missing("枚举字段", f"{enum} field")
        allowed = "、".join(ENUMS[enum])
        raise FieldError(
            "bad_enum_value",
            f"取值不在允许范围内（{allowed}）",
            f"not an allowed {enum} value ({', '.join(ENUMS[enum])})",
        )
    return value


def clean_enum(raw: str, enum: str) -> str:
    """Return the canonical value of enumeration ``enum`` (see :data:`ENUMS`).

    Listed synonyms (e.g. 社会服务机构 -> 民办非企业单位, the 2016 charity-law name)
    are mapped; anything else is ``bad_enum_value``.  An unknown ``enum`` name raises
    ``KeyError`` because it is a bug in the caller, not bad data.
    """
    return _clean_enum(raw, enum)


_HAS_PARTY_ORG: Final[dict[str, bool]] = {
    "1": True, "是": True, "有": True,
    "党委": True, "党总支": True, "党支部": True,
    "9": False, "0": False, "否": False, "无": False,
    "未建立": False, "未成立": False, "未建立党组织": False, "未成立党组织": False,
}  # fmt: skip


@lru_cache(maxsize=256)
def _clean_has_party_org(raw: str) -> bool:
    k = _key(raw)
    value = _HAS_PARTY_ORG.get(k)
    if value is None:
        if not k:
            raise _missing("是否建立党组织", "has party organisation")
        raise FieldError(
            "bad_enum_value",
            "是否建立党组织只接受 1/是/有 或 9/0/否/无",
            "has-party-org accepts 1/是/有 or 9/0/否/无",
        )
    return value


def clean_has_party_org(raw: str) -> bool:
    """Annual-report ParIns: 1/是/有 -> True; 9/0/否/无 -> False.

    Level names (党委/党总支/党支部) mean an organisation exists, and 未建立/未成立
    mean none.  Other codes (e.g. '2') are rejected: their meaning differs between
    report versions, and guessing would silently corrupt the comparison.
    """
    return _clean_has_party_org(raw)


# ---------------------------------------------------------------------------
# Lists and entity types
# ---------------------------------------------------------------------------

_LIST_SEP_RE: Final = re.compile(r"[;；、,，]")


def split_list(raw: str) -> list[str]:
    """Split a list cell on ; ； 、 , ，, strip items, drop empties, dedupe keeping order."""
    if not raw:
        return []
    return list(dict.fromkeys(p for p in (x.strip() for x in _LIST_SEP_RE.split(raw)) if p))
