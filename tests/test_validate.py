"""Tests for ingest.validate: field cleaners for the nightly ingest."""

from __future__ import annotations

import pickle
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest import validate as v
from ingest.rows import _clean_column
from ingest.validate import FieldError

TODAY = date(2024, 6, 30)

# Independent re-implementations of the check algorithms, so the tests do not merely
# repeat the module's own calls into stdnum.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def uscc_check(body17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(body17, USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def make_uscc(body17: str) -> str:
    return body17 + uscc_check(body17)


def id_check(body17: str) -> str:
    r = (12 - sum(int(c) * w for c, w in zip(body17, ID_WEIGHTS)) % 11) % 11
    return "X" if r == 10 else str(r)


def make_id(prefix6: str, birth: str, seq: str) -> str:
    body = prefix6 + birth + seq
    assert len(body) == 17
    return body + id_check(body)


def wrong_char(right: str, alphabet: str) -> str:
    return next(c for c in alphabet if c != right)


def code_of(exc: pytest.ExceptionInfo[FieldError]) -> str:
    return exc.value.code


# ---------------------------------------------------------------------------
# FieldError and reason codes
# ---------------------------------------------------------------------------


def test_reason_codes_match_contract() -> None:
    assert set(v.REASON_CODES) == {
        "missing_required", "bad_uscc_checksum", "bad_uscc_format", "bad_id_number",
        "bad_date", "future_date", "bad_region_code", "bad_industry_code", "bad_number",
        "negative_number", "conflicting_duplicate", "bad_enum_value", "encoding_error",
        "row_too_long", "legacy_id_only",
    }  # fmt: skip
    assert set(v.REASON_TEXT) == set(v.REASON_CODES)
    for zh, en in v.REASON_TEXT.values():
        assert zh and en


def test_field_error_attributes_and_pickle() -> None:
    e = FieldError("bad_date", "日期无法识别", "date cannot be parsed")
    assert isinstance(e, ValueError)
    assert (e.code, e.zh, e.en) == ("bad_date", "日期无法识别", "date cannot be parsed")
    assert "bad_date" in str(e)
    e2 = pickle.loads(pickle.dumps(e))
    assert (e2.code, e2.zh, e2.en) == (e.code, e.zh, e.en)


def test_field_error_rejects_unknown_code() -> None:
    with pytest.raises(ValueError):
        FieldError("no_such_code", "x", "y")


# ---------------------------------------------------------------------------
# USCC
# ---------------------------------------------------------------------------


def test_uscc_known_valid() -> None:
    assert uscc_check("91110000600037341") == "L"
    assert v.clean_uscc("91110000600037341L") == "91110000600037341L"


def test_uscc_generated_valid_and_normalised() -> None:
    code = make_uscc("91445202MA4W12345")
    assert v.clean_uscc(code) == code
    assert v.clean_uscc(f"  {code.lower()} ") == code
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in code)
    assert v.clean_uscc(full_width) == code


def test_uscc_letter_authority_code_accepted() -> None:
    # N = agriculture authority; stdnum.validate would reject a non-digit first char.
    code = make_uscc("N2445202MA4W1234A")
    assert v.clean_uscc(code) == code


def test_uscc_wrong_check_char() -> None:
    code = make_uscc("91445202MA4W12345")
    bad = code[:17] + wrong_char(code[17], USCC_ALPHABET)
    with pytest.raises(FieldError) as exc:
        v.clean_uscc(bad)
    assert code_of(exc) == "bad_uscc_checksum"
    assert exc.value.zh == "统一社会信用代码校验位错误"


@pytest.mark.parametrize("raw", ["440000000012345", "12345678-9", "12345678X", "MA4W1234-X"])
def test_uscc_legacy_ids(raw: str) -> None:
    with pytest.raises(FieldError) as exc:
        v.clean_uscc(raw)
    assert code_of(exc) == "legacy_id_only"


@pytest.mark.parametrize(
    "raw",
    [
        "91445202MA4W12345",  # 17 chars
        "91445202MA4W123456X",  # 19 chars
        "91445202MA4W1234O5",  # O is not in the alphabet
        "91445202MA4W1234-5",
        "1234567890123456",  # 16 digits, not a 注册号
    ],
)
def test_uscc_bad_format(raw: str) -> None:
    with pytest.raises(FieldError) as exc:
        v.clean_uscc(raw)
    assert code_of(exc) == "bad_uscc_format"


def test_uscc_blank_is_missing() -> None:
    with pytest.raises(FieldError) as exc:
        v.clean_uscc("   ")
    assert code_of(exc) == "missing_required"


@given(st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17))
def test_uscc_property_round_trip(body: str) -> None:
    code = make_uscc(body)
    assert v.clean_uscc(code) == code
    assert v.clean_uscc(" " + code.lower() + "\t") == code
    bad = code[:17] + wrong_char(code[17], USCC_ALPHABET)
    with pytest.raises(FieldError) as exc:
        v.clean_uscc(bad)
    assert code_of(exc) == "bad_uscc_checksum"


# ---------------------------------------------------------------------------
# ID numbers
# ---------------------------------------------------------------------------


def test_id_known_sample() -> None:
    assert id_check("11010519491231002") == "X"
    assert v.clean_id_number("11010519491231002x", today=TODAY) == "11010519491231002X"


def test_id_with_current_county_prefix_passes() -> None:
    # 445202 (揭阳市榕城区) is missing from stdnum's birthplace table.
    number = make_id("445202", "19850317", "123")
    assert v.clean_id_number(number, today=TODAY) == number
    number2 = make_id("445224", "20000229", "042")
    assert v.clean_id_number(" " + number2.lower() + " ", today=TODAY) == number2


def _assert_bad_id(raw: str) -> None:
    with pytest.raises(FieldError) as exc:
        v.clean_id_number(raw, today=TODAY)
    assert code_of(exc) == "bad_id_number"
    # The value (or any long part of it) must never leak into a message.
    for text in (exc.value.zh, exc.value.en, str(exc.value)):
        assert raw.strip() not in text
        assert raw.strip()[6:14] not in text


def test_id_wrong_check_digit() -> None:
    number = make_id("445202", "19850317", "123")
    _assert_bad_id(number[:17] + wrong_char(number[17], "0123456789X"))


def test_id_feb_30_fails() -> None:
    _assert_bad_id(make_id("445202", "19900230", "123"))


def test_id_future_birth_fails() -> None:
    _assert_bad_id(make_id("445202", "20240701", "123"))
    # today itself is fine
    ok = make_id("445202", "20240630", "123")
    assert v.clean_id_number(ok, today=TODAY) == ok


def test_id_before_1900_fails() -> None:
    _assert_bad_id(make_id("445202", "18991231", "123"))


@pytest.mark.parametrize("raw", ["44520219850317123", "4452021985031712345", "44520219850317A23X"])
def test_id_bad_shape(raw: str) -> None:
    _assert_bad_id(raw)


def test_hash_is_keyed_and_stable() -> None:
    number = make_id("445202", "19850317", "123")
    h1 = v.hash_id_number(number, b"key-one")
    assert h1 == v.hash_id_number(number, b"key-one")
    assert len(h1) == 64 and int(h1, 16) >= 0
    assert h1 != v.hash_id_number(number, b"key-two")
    assert h1 != v.hash_id_number(make_id("445202", "19850317", "124"), b"key-one")
    assert number not in h1
    with pytest.raises(ValueError):
        v.hash_id_number(number, b"")


def test_mask_id_number() -> None:
    number = make_id("445202", "19850317", "123")
    masked = v.mask_id_number(number)
    assert masked == "4452" + "*" * 10 + number[14:]
    assert len(masked) == 18
    assert v.mask_id_number("44520219850317123X") == "4452**********123X"
    with pytest.raises(ValueError):
        v.mask_id_number("123")


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_mask_id_never_contains_middle(body: str) -> None:
    number = body + id_check(body)
    masked = v.mask_id_number(number)
    assert number[4:14] not in masked
    assert masked[4:14] == "*" * 10
    assert masked[:4] == number[:4] and masked[14:] == number[14:]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812345678", "138****5678"),
        ("138-1234-5678", "138****5678"),
        ("+86 138 1234 5678", "138****5678"),
        ("１３８１２３４５６７８", "138****5678"),
        ("0663-8123456", "066******56"),
        ("8123456", "812**56"),
        ("12345", "****"),
        ("无", "****"),
        ("", None),
        ("   ", None),
    ],
)
def test_mask_phone(raw: str, expected: str | None) -> None:
    assert v.mask_phone(raw) == expected


@given(st.text())
def test_mask_phone_never_raises(raw: str) -> None:
    result = v.mask_phone(raw)
    assert result is None or "*" in result


# ---------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "2023-01-05",
        "2023/01/05",
        "2023.01.05",
        "20230105",
        "2023年01月05日",
        "2023年1月5日",
        "2023-1-5",
        "2023/1/5",
        "2023-01-05 00:00:00",
        "2023-01-05T08:30:00",
        "2023-01-05T08:30:00+08:00",
        "2023/1/5 0:00",
        "２０２３－０１－０５",
        "２０２３年１月５日",
        " 2023-01-05 ",
        "44931",
        "44931.0",
        "44931.75",
    ],
)
def test_date_formats(raw: str) -> None:
    assert v.clean_date(raw, today=TODAY) == date(2023, 1, 5)


def test_excel_serial_known_values() -> None:
    assert v.clean_date("44927", today=TODAY) == date(2023, 1, 1)
    assert v.clean_date("44927.0", today=TODAY) == date(2023, 1, 1)
    assert v.clean_date("1", today=TODAY) == date(1900, 1, 1)
    assert v.clean_date("59", today=TODAY) == date(1900, 2, 28)
    assert v.clean_date("61", today=TODAY) == date(1900, 3, 1)


def test_date_1900_edge() -> None:
    assert v.clean_date("1900-01-01", today=TODAY) == date(1900, 1, 1)
    with pytest.raises(FieldError) as exc:
        v.clean_date("1899-12-31", today=TODAY)
    assert code_of(exc) == "bad_date"


@pytest.mark.parametrize(
    "raw",
    [
        "2023-02-30",
        "2023-13-01",
        "2023-01",
        "abc",
        "2023-01/05",
        "0",
        "60",
        "2023",
        "2958466",
        "1.5.2023",
        "2023年1月",
        "-44927",
    ],
)
def test_bad_dates(raw: str) -> None:
    with pytest.raises(FieldError) as exc:
        v.clean_date(raw, today=TODAY)
    assert code_of(exc) == "bad_date"


def test_future_date() -> None:
    assert v.clean_date("2024-06-30", today=TODAY) == TODAY
    for raw in ("2024-07-01", "20990101", "2958465"):
        with pytest.raises(FieldError) as exc:
            v.clean_date(raw, today=TODAY)
        assert code_of(exc) == "future_date"


def test_date_cache_respects_today() -> None:
    assert v.clean_date("2024-07-01", today=date(2024, 7, 1)) == date(2024, 7, 1)
    with pytest.raises(FieldError):
        v.clean_date("2024-07-01", today=TODAY)


# ---------------------------------------------------------------------------
# Region codes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "445202",
        "445202001",
        "445202001001",
        "445200",
        "440000",
        "441900003",
        "110101",
        "810000",
        "445202000000",
        " ４４５２０２ ",
    ],
)
def test_region_codes_ok(raw: str) -> None:
    assert v.clean_region_code(raw) == v._nfkc(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "44520",
        "995202",
        "4452020",
        "44520200100",
        "44520A",
        "440001",
        "440000001",
        "445202000001",
        "165202",
        "835202",
    ],
)
def test_region_codes_bad(raw: str) -> None:
    with pytest.raises(FieldError) as exc:
        v.clean_region_code(raw)
    assert code_of(exc) == "bad_region_code"


# ---------------------------------------------------------------------------
# Industry codes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("G5430", "G5430"),
        ("5430", "G5430"),
        ("g5430", "G5430"),
        ("Ｇ５４３０", "G5430"),
        ("G", "G"),
        ("G54", "G54"),
        ("54", "G54"),
        ("543", "G543"),
        ("0111", "A0111"),
        ("1310", "C1310"),
        ("4411", "D4411"),
        ("7010", "K7010"),
        ("8310", "P8310"),
        ("9700", "T9700"),
        ("T", "T"),
    ],
)
def test_industry_ok(raw: str, expected: str) -> None:
    assert v.clean_industry_code(raw) == expected


@pytest.mark.parametrize(
    "raw", ["H5430", "A13", "U", "Z", "GG54", "G5", "G54301", "9800", "0010", "5"]
)
def test_industry_bad(raw: str) -> None:
    with pytest.raises(FieldError) as exc:
        v.clean_industry_code(raw)
    assert code_of(exc) == "bad_industry_code"


def test_industry_division_table_boundaries() -> None:
    boundaries = {
        "05": "A", "06": "B", "12": "B", "13": "C", "43": "C", "44": "D", "46": "D",
        "47": "E", "50": "E", "51": "F", "52": "F", "53": "G", "60": "G", "61": "H",
        "62": "H", "63": "I", "65": "I", "66": "J", "69": "J", "70": "K", "71": "L",
        "72": "L", "73": "M", "75": "M", "76": "N", "79": "N", "80": "O", "82": "O",
        "83": "P", "84": "Q", "85": "Q", "86": "R", "90": "R", "91": "S", "96": "S",
        "97": "T",
    }  # fmt: skip
    for division, section in boundaries.items():
        assert v.clean_industry_code(division) == section + division


# ---------------------------------------------------------------------------
# Numbers and booleans
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12", 12),
        ("0", 0),
        ("1,234", 1234),
        ("12.0", 12),
        ("１２", 12),
        (" 7 ", 7),
        ("1，234", 1234),
        ("-0", 0),
        ("+5", 5),
        ("12.00", 12),
    ],
)
def test_clean_int_ok(raw: str, expected: int) -> None:
    assert v.clean_int(raw) == expected


@pytest.mark.parametrize("raw", ["12.5", "abc", "1e3", "十二", "1.2.3", "--1", "٣"])
def test_clean_int_bad(raw: str) -> None:
    with pytest.raises(FieldError) as exc:
        v.clean_int(raw)
    assert code_of(exc) == "bad_number"


@pytest.mark.parametrize("raw", ["-1", "-1,000", "-3.0"])
def test_clean_int_negative(raw: str) -> None:
    with pytest.raises(FieldError) as exc:
        v.clean_int(raw)
    assert code_of(exc) == "negative_number"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("是", True),
        ("否", False),
        ("Y", True),
        ("n", False),
        ("yes", True),
        ("NO", False),
        ("true", True),
        ("False", False),
        ("1", True),
        ("0", False),
        ("有", True),
        ("无", False),
        (" 是 ", True),
        ("Ｙ", True),
    ],
)
def test_clean_bool_ok(raw: str, expected: bool) -> None:
    assert v.clean_bool(raw) is expected


@pytest.mark.parametrize("raw", ["对", "2", "maybe", "是否"])
def test_clean_bool_bad(raw: str) -> None:
    with pytest.raises(FieldError) as exc:
        v.clean_bool(raw)
    assert code_of(exc) == "bad_enum_value"


# ---------------------------------------------------------------------------
# Status
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", ("存续", True)),
        ("1 存续", ("存续", True)),
        ("1存续", ("存续", True)),
        ("1 在营", ("存续", True)),
        ("存续", ("存续", True)),
        ("在业", ("存续", True)),
        ("开业", ("存续", True)),
        ("正常", ("存续", True)),
        ("在营", ("存续", True)),
        ("在册", ("存续", True)),
        ("存续（在营、开业、在册）", ("存续", True)),
        ("存续(在营、开业、在册)", ("存续", True)),
        ("存续（在营、开业）", ("存续", True)),
        ("2", ("吊销未注销", False)),
        ("吊销", ("吊销未注销", False)),
        ("吊销，未注销", ("吊销未注销", False)),
        ("吊销,未注销", ("吊销未注销", False)),
        ("吊销， 未注销", ("吊销未注销", False)),
        ("吊销未注销", ("吊销未注销", False)),
        ("2 吊销，未注销", ("吊销未注销", False)),
        ("3", ("吊销已注销", False)),
        ("吊销已注销", ("吊销已注销", False)),
        ("吊销（已注销）", ("吊销已注销", False)),
        ("4", ("注销", False)),
        ("4 注销", ("注销", False)),
        ("注销", ("注销", False)),
        ("5 撤销", ("撤销", False)),
        ("6", ("迁出", False)),
        ("迁出", ("迁出", False)),
        ("停业", ("停业", False)),
        ("9", ("其他", False)),
        ("9 其他", ("其他", False)),
        ("其他", ("其他", False)),
    ],
)
def test_org_status(raw: str, expected: tuple[str, bool]) -> None:
    assert v.normalize_org_status(raw) == expected


@pytest.mark.parametrize(
    "raw", ["营业中", "7", "1 注销", "4 存续", "存续（注销）", "8 其他", "吊销（在营）"]
)
def test_org_status_unknown(raw: str) -> None:
    with pytest.raises(FieldError) as exc:
        v.normalize_org_status(raw)
    assert code_of(exc) == "bad_enum_value"


def test_party_org_status() -> None:
    assert v.normalize_party_org_status("正常") == ("正常", True)
    assert v.normalize_party_org_status(" 撤销 ") == ("撤销", False)
    with pytest.raises(FieldError) as exc:
        v.normalize_party_org_status("存续")
    assert code_of(exc) == "bad_enum_value"


# ---------------------------------------------------------------------------
# Enums
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("enum", "raw", "expected"),
    [
        ("committee_kind", "两新工委", "两新工委"),
        ("committee_kind", "两新组织工委", "两新工委"),
        ("committee_kind", "园区党委", "园区综合党委"),
        ("committee_kind", "区域党委", "区域综合党委"),
        ("committee_kind", " 行业 党委 ", "行业党委"),
        ("party_level", "党总支部", "党总支"),
        ("party_level", "支部", "党支部"),
        ("party_level", "联合党支部", "党支部"),
        ("party_level", "党委", "党委"),
        ("formation", "单独", "单独组建"),
        ("formation", "联合", "联合组建"),
        ("formation", "楼宇统建", "楼宇统建"),
        ("social_org_type", "社会服务机构", "民办非企业单位"),
        ("social_org_type", "基金会", "基金会"),
        ("member_type", "正式", "正式党员"),
        ("member_type", "预备党员", "预备党员"),
        ("verification_result", "迁出", "已迁出"),
        ("verification_result", "正常", "正常经营"),
        ("verification_result", "僵尸", "僵尸"),
        ("supply_relation", "配套", "配套"),
        ("annual_formation", "1", "单独"),
        ("annual_formation", "2", "联合"),
        ("annual_formation", "联合组建", "联合"),
    ],
)
def test_clean_enum(enum: str, raw: str, expected: str) -> None:
    assert v.clean_enum(raw, enum) == expected
    assert expected in v.ENUMS[enum]


def test_enums_canonical_values() -> None:
    assert v.ENUMS["committee_kind"] == ("两新工委", "行业党委", "园区综合党委", "区域综合党委")
    assert v.ENUMS["party_level"] == ("党委", "党总支", "党支部")
    assert v.ENUMS["social_org_type"] == ("社会团体", "民办非企业单位", "基金会")
    assert v.ENUMS["annual_formation"] == ("单独", "联合")
    for name, values in v.ENUMS.items():
        for value in values:
            assert v.clean_enum(value, name) == value


def test_clean_enum_bad_value_and_name() -> None:
    with pytest.raises(FieldError) as exc:
        v.clean_enum("党小组", "party_level")
    assert code_of(exc) == "bad_enum_value"
    with pytest.raises(FieldError):
        v.clean_enum("3", "annual_formation")
    with pytest.raises(KeyError):
        v.clean_enum("党委", "no_such_enum")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("是", True),
        ("有", True),
        ("9", False),
        ("0", False),
        ("否", False),
        ("无", False),
        ("党支部", True),
        ("未建立", False),
    ],
)
def test_has_party_org(raw: str, expected: bool) -> None:
    assert v.clean_has_party_org(raw) is expected


@pytest.mark.parametrize("raw", ["2", "Y", "unknown"])
def test_has_party_org_bad(raw: str) -> None:
    with pytest.raises(FieldError) as exc:
        v.clean_has_party_org(raw)
    assert code_of(exc) == "bad_enum_value"


# ---------------------------------------------------------------------------
# Lists and entity types
# ---------------------------------------------------------------------------


def test_split_list() -> None:
    assert v.split_list("a;b；c、d,e，f") == ["a", "b", "c", "d", "e", "f"]
    assert v.split_list(" G54 ; G58;;G54 ，") == ["G54", "G58"]
    assert v.split_list("") == []
    assert v.split_list(" ; ，") == []
    assert v.split_list("single") == ["single"]


@given(st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=17, max_size=17))
def test_fast_uscc_check_char_equals_stdnum(body: str) -> None:
    from stdnum.cn import uscc as std_uscc

    from ingest.validate import uscc_check_char
    assert uscc_check_char(body) == std_uscc.calc_check_digit(body)


#: credit-code list items as exports hold them: valid, lower case, full width, a bad
#: check character, an old 注册号, an organisation code, garbage
_CODE = make_uscc("91445202MA4W12345")
_LIST_ITEMS = [_CODE, _CODE.lower(), "".join(chr(ord(c) + 0xFEE0) for c in _CODE),
               _CODE[:17] + ("0" if _CODE[17] != "0" else "1"), "445202000012345",
               "MA4UQ1X1-X", "揭阳", "9144520"]
_CELLS = st.tuples(st.sampled_from([";", "；", "、", ",", " ; "]),
                   st.lists(st.sampled_from(_LIST_ITEMS), max_size=4)).map(
    lambda sep_items: sep_items[0].join(sep_items[1])) | st.sampled_from(["", ";;", "  "])


@given(st.lists(_CELLS, max_size=12))
def test_a_column_of_credit_code_lists_cleans_as_each_cell_alone(cells: list[str]) -> None:
    def alone(raw: str) -> object:
        if not raw:
            return None
        try:
            return [v.clean_uscc(item) for item in v.split_list(raw)]
        except FieldError as exc:
            return ("error", exc.code, str(exc))

    got = _clean_column("list_uscc", cells, {})
    assert [("error", g.code, str(g)) if isinstance(g, FieldError) else g for g in got] == \
        [alone(c) for c in cells]
