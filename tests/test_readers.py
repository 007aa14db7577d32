"""Tests for ingest.readers: encodings, physical row problems, Excel cell conversion."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from pathlib import Path

import openpyxl
import pyarrow as pa
import pytest

from ingest import readers
from ingest.readers import BadRow, ReadError, Table, file_sha256, read_table

HEADER = "统一社会信用代码,企业名称,区划代码"


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def cells(table: Table) -> list[list[str]]:
    return table.frame.values.tolist()


# --------------------------------------------------------------------------- encodings


def test_utf8_without_bom(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", f"{HEADER}\n91440101MA5ABCDE12,广州甲公司,440106\n".encode())
    table = read_table(path)
    assert table.encoding == "utf-8"
    assert table.headers == ["统一社会信用代码", "企业名称", "区划代码"]
    assert cells(table) == [["91440101MA5ABCDE12", "广州甲公司", "440106"]]
    assert table.lines == [2]
    assert table.bad_rows == []
    assert table.sheet is None
    assert table.file_hash == hashlib.sha256(path.read_bytes()).hexdigest()
    assert table.file_hash == file_sha256(path)


def test_utf8_with_bom_strips_bom_from_header(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", b"\xef\xbb\xbf" + f"{HEADER}\nX,乙,1\n".encode())
    table = read_table(path)
    assert table.encoding == "utf-8-sig"
    assert table.headers[0] == "统一社会信用代码"
    assert next(iter(table.frame.columns)) == "统一社会信用代码"


def test_gb18030_file_with_chinese(tmp_path: Path) -> None:
    text = f"{HEADER},法定代表人\n" + "".join(
        f"9144010{i}MA5ABCDE1,佛山市顺德区{name}电器有限公司,440606,{name}\n"
        for i, name in enumerate(["张三", "李四", "王五", "赵六", "钱七"]))
    text += "9144019MA5ABCDE9,𠀀字号商行,440606,陈䶮\n"  # only in GB18030, not GBK
    path = write(tmp_path, "gb.csv", text.encode("gb18030"))
    table = read_table(path)
    assert table.encoding == "gb18030"
    assert table.headers == ["统一社会信用代码", "企业名称", "区划代码", "法定代表人"]
    assert table.frame.iloc[1, 3] == "李四"
    assert table.frame.iloc[5, 1] == "𠀀字号商行"
    assert table.bad_rows == []


def test_gbk_file_reported_as_gb18030(tmp_path: Path) -> None:
    path = write(tmp_path, "gbk.csv", "名称,住所\n张三商店,广东省深圳市\n".encode("gbk"))
    table = read_table(path)
    assert table.encoding == "gb18030"
    assert cells(table) == [["张三商店", "广东省深圳市"]]


def test_explicit_encoding_is_used(tmp_path: Path) -> None:
    path = write(tmp_path, "gbk.csv", "名称\n张三\n".encode("gbk"))
    table = read_table(path, encoding="GBK")
    assert table.encoding == "gbk"
    assert cells(table) == [["张三"]]


def test_unknown_explicit_encoding(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", b"a\n1\n")
    with pytest.raises(ReadError) as info:
        read_table(path, encoding="no-such-codec")
    assert info.value.code == "encoding_error"


def test_one_gbk_line_in_utf8_file_is_bad_row(tmp_path: Path) -> None:
    data = (f"{HEADER}\n".encode()
            + "A1,广州甲公司,440106\n".encode()
            + "A2,深圳乙公司,440305\n".encode("gbk")
            + "A3,珠海丙公司,440402\n".encode()
            + "A4,汕头丁公司,440507\n".encode())
    table = read_table(write(tmp_path, "mixed.csv", data))
    assert table.encoding == "utf-8"
    assert [row[0] for row in cells(table)] == ["A1", "A3", "A4"]
    assert table.lines == [2, 4, 5]
    assert len(table.bad_rows) == 1
    bad = table.bad_rows[0]
    assert (bad.line, bad.code) == (3, "encoding_error")
    assert bad.raw.startswith("A2,") and "\ufffd" in bad.raw
    assert bad.zh and bad.en


def test_undecodable_header_is_read_error(tmp_path: Path) -> None:
    data = "名称,住所\n".encode("gbk") + "甲,乙\n".encode() * 3
    with pytest.raises(ReadError) as info:
        read_table(write(tmp_path, "a.csv", data))
    assert info.value.code == "encoding_error"


def test_binary_content_is_encoding_error(tmp_path: Path) -> None:
    with pytest.raises(ReadError) as info:
        read_table(write(tmp_path, "a.csv", b"a,b\n\x00\x01\x02\x00\n"))
    assert info.value.code == "encoding_error"
    assert " / " in str(info.value)


# --------------------------------------------------------------------------- rows


def test_row_too_long_and_short_row_padded(tmp_path: Path) -> None:
    data = b"a,b,c\n1,2,3\n4,5,6,7\n8,9\n10,11,12\n"
    table = read_table(write(tmp_path, "a.csv", data))
    assert cells(table) == [["1", "2", "3"], ["8", "9", ""], ["10", "11", "12"]]
    assert table.lines == [2, 4, 5]
    assert table.bad_rows == [BadRow(3, "4,5,6,7", "row_too_long", table.bad_rows[0].zh,
                                     table.bad_rows[0].en)]


def test_quoted_comma_keeps_fast_path_line_numbers(tmp_path: Path) -> None:
    data = b'a,b\n1,"x, y"\n\n2,"say ""hi"""\n'
    table = read_table(write(tmp_path, "a.csv", data))
    assert cells(table) == [["1", "x, y"], ["2", 'say "hi"']]
    assert table.lines == [2, 4]


def test_quoted_newline_line_numbers(tmp_path: Path) -> None:
    data = (b'a,b\r\n1,"line one\r\nline two"\r\n2,plain\r\n3,"x\ny\nz"\r\n'
            b'4,5,6\r\n7\r\n')
    table = read_table(write(tmp_path, "a.csv", data))
    assert cells(table) == [["1", "line one\r\nline two"], ["2", "plain"],
                            ["3", "x\ny\nz"], ["7", ""]]
    assert table.lines == [2, 4, 5, 9]
    assert [(b.line, b.code, b.raw) for b in table.bad_rows] == [(8, "row_too_long", "4,5,6")]


def test_blank_lines_skipped_with_physical_numbers(tmp_path: Path) -> None:
    data = b"\n\na,b\n1,2\n\n   \n,\n3,4\n"
    table = read_table(write(tmp_path, "a.csv", data))
    assert table.headers == ["a", "b"]
    assert cells(table) == [["1", "2"], ["3", "4"]]
    assert table.lines == [4, 8]


def test_text_is_kept_verbatim(tmp_path: Path) -> None:
    data = "code,uscc,note,n\n0012,91440101MA5ABCDE12,NA,null\n007,123456789012345678,,N/A\n"
    table = read_table(write(tmp_path, "a.csv", data.encode()))
    assert cells(table) == [["0012", "91440101MA5ABCDE12", "NA", "null"],
                            ["007", "123456789012345678", "", "N/A"]]
    assert all(isinstance(v, str) for row in cells(table) for v in row)
    assert all(dtype == object for dtype in table.frame.dtypes)


def test_duplicate_headers_made_unique(tmp_path: Path) -> None:
    data = "备注,名称,备注,备注 (2),备注\n1,2,3,4,5\n".encode()
    table = read_table(write(tmp_path, "a.csv", data))
    assert table.headers == ["备注", "名称", "备注", "备注 (2)", "备注"]
    labels = list(table.frame.columns)
    assert labels[:3] == ["备注", "名称", "备注 (2)"]
    assert len(set(labels)) == 5
    assert cells(table) == [["1", "2", "3", "4", "5"]]


@pytest.mark.parametrize(("sep", "name"), [("\t", "a.tsv"), ("\t", "a.txt"), (";", "a.csv")])
def test_delimiter_sniffed(tmp_path: Path, sep: str, name: str) -> None:
    data = sep.join(["名称", "住所"]) + "\n" + sep.join(["甲", "a,b"]) + "\n"
    table = read_table(write(tmp_path, name, data.encode()))
    assert cells(table) == [["甲", "a,b"]]


def test_header_only_gives_empty_frame(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "a.csv", b"a,b,a\n"))
    assert table.headers == ["a", "b", "a"]
    assert table.frame.shape == (0, 3)
    assert table.lines == []


@pytest.mark.parametrize("data", [b"", b"\n \r\n"])
def test_empty_file(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(ReadError) as info:
        read_table(write(tmp_path, "a.csv", data))
    assert info.value.code == "empty_file"


def test_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(ReadError) as info:
        read_table(write(tmp_path, "a.json", b"{}"))
    assert info.value.code == "unreadable_file"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ReadError) as info:
        read_table(tmp_path / "missing.csv")
    assert info.value.code == "unreadable_file"


def test_large_csv_uses_fast_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [HEADER + ",从业人数"] + [
        f"9144{i:014d},公司{i},{440100 + i % 50:06d},{i % 300}" for i in range(20_000)]
    lines.insert(5000, "1,2,3,4,5")  # one too-long row forces the numbered re-read
    path = write(tmp_path, "big.csv", ("\n".join(lines) + "\n").encode())

    def no_slow_path(*args: object, **kwargs: object) -> None:
        raise AssertionError("csv module fallback used")

    monkeypatch.setattr(readers, "_parse_with_csv_module", no_slow_path)
    table = read_table(path)
    assert len(table.frame) == 20_000
    assert table.lines[0] == 2 and table.lines[-1] == 20_002
    assert table.lines[4998:5000] == [5000, 5002]
    assert [b.line for b in table.bad_rows] == [5001]
    assert table.frame.iloc[-1, 0] == f"9144{19_999:014d}"
    assert table.frame.index.tolist() == list(range(20_000))


# --------------------------------------------------------------------------- Excel


def make_xlsx(path: Path) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "企业"
    sheet.append(["企业名称", "成立日期", "区划代码", "从业人数", "日期序号", "是否规上",
                  "比例", "核准时间", "备注"])
    sheet.append(["广州甲公司", dt.datetime(2023, 1, 1), 445202, 12.0, 44927, True, 0.25,
                  dt.datetime(2023, 5, 6, 7, 8, 9), None])
    sheet.append([None] * 9)
    sheet.append(["深圳乙公司", dt.date(2020, 2, 29), "0012", 3, None, False, 1.5, None, "有"])
    sheet.append([None] * 9)
    other = workbook.create_sheet("园区")
    other.append(["园区名称"])
    other.append(["南沙园区"])
    workbook.save(path)
    return path


def test_xlsx_cells_converted(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "a.xlsx")
    table = read_table(path)
    assert table.sheet == "企业"
    assert table.encoding is None
    assert table.headers[0] == "企业名称"
    assert cells(table) == [
        ["广州甲公司", "2023-01-01", "445202", "12", "44927", "是", "0.25",
         "2023-05-06 07:08:09", ""],
        ["深圳乙公司", "2020-02-29", "0012", "3", "", "否", "1.5", "", "有"],
    ]
    assert table.lines == [2, 4]
    assert table.file_hash == file_sha256(path)
    assert all(dtype == object for dtype in table.frame.dtypes)


def test_xlsx_sheet_selection(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "a.xlsx")
    table = read_table(path, sheet="园区")
    assert table.sheet == "园区"
    assert table.headers == ["园区名称"]
    assert cells(table) == [["南沙园区"]]


def test_xlsx_unknown_sheet_names_available(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "a.xlsx")
    with pytest.raises(ReadError) as info:
        read_table(path, sheet="不存在")
    assert info.value.code == "unreadable_file"
    assert "企业" in str(info.value) and "园区" in str(info.value)


def test_xlsx_offset_header_and_too_long_row(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet["B3"], sheet["C3"] = "名称", "代码"
    sheet["B4"], sheet["C4"] = "甲", "1"
    sheet["B5"], sheet["C5"], sheet["E5"] = "乙", "2", "多余"
    path = tmp_path / "b.xlsx"
    workbook.save(path)
    table = read_table(path)
    assert table.headers == ["名称", "代码"]
    assert cells(table) == [["甲", "1"]]
    assert table.lines == [4]
    assert [(b.line, b.code) for b in table.bad_rows] == [(5, "row_too_long")]


def test_corrupt_xlsx(tmp_path: Path) -> None:
    with pytest.raises(ReadError) as info:
        read_table(write(tmp_path, "a.xlsx", b"not a zip file at all"))
    assert info.value.code == "unreadable_file"


def test_empty_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "e.xlsx"
    openpyxl.Workbook().save(path)
    with pytest.raises(ReadError) as info:
        read_table(path)
    assert info.value.code == "empty_file"


def test_cell_text_rules() -> None:
    assert readers._cell_text(None) == ""
    assert readers._cell_text(445202.0) == "445202"
    assert readers._cell_text(0.1) == "0.1"
    assert readers._cell_text(True) == "是"
    assert readers._cell_text(7) == "7"
    assert readers._cell_text(dt.datetime(2024, 3, 1)) == "2024-03-01"
    assert readers._cell_text(" 原样 ") == " 原样 "


@pytest.mark.parametrize("data", [
    b"", b"a,b\n", b'"a",b\n', b'a,"b\nc"\n', b'x\n"a\r"b",c\r\n', b'a\r"b\rc"\r', b'"',
    b'k,n\n1,"say ""hi"""\n2,"open\n', b'k\n1,"x"\r\n"2\r\n3"\n', b'\n\n"a""b\n\r"',
])
def test_a_quote_spanning_lines_is_found_as_counting_every_line_finds_it(data: bytes) -> None:
    def every_line(d: bytes) -> bool:
        return any(line.count(b'"') % 2 for line in d.splitlines())
    rng = random.Random(data)
    for padding in (b"", b"\n" * 200):   # many quotes a line, and few (the scan from quote to quote)
        assert readers._quote_spans_lines(data + padding) is every_line(data)
        for _ in range(200):   # and on shuffles of the same bytes
            shuffled = bytes(rng.sample(data, len(data))) + padding
            assert readers._quote_spans_lines(shuffled) is every_line(shuffled), shuffled


@pytest.mark.parametrize("chunks", [1, 3])
def test_a_column_of_repeated_values_shares_one_string_per_value(chunks: int) -> None:
    repeated = ["存续", "注销", "存续", "吊销，未注销", ""] * 40
    distinct = [f"91445202MA{i:08d}" for i in range(200)]
    for values in (repeated, distinct):
        size = -(-len(values) // chunks)
        column = pa.chunked_array([values[i:i + size] for i in range(0, len(values), size)],
                                  type=pa.string())
        objects = readers._as_objects(column)
        assert objects.dtype == object and objects.tolist() == values
        assert (objects[0] is objects[2]) is (values is repeated)
