"""Tests for the deterministic demo-city generator (ingest.demo)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from stdnum.cn import uscc as stdnum_uscc

from ingest.contract import KINDS
from ingest.demo import (
    HEADERS,
    HOSTILE_NAMES,
    UNKNOWN_PARTY_ORG,
    DemoManifest,
    generate_city,
    id_check_char,
    uscc_check,
)

ENCODING = {"social_orgs": "gb18030"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoManifest:
    return generate_city(tmp_path_factory.mktemp("demo_a"), size="small", seed=42)


def read_rows(m: DemoManifest, kind: str) -> list[list[str]]:
    path = m.files[kind]
    if path.suffix == ".xlsx":
        ws = openpyxl.load_workbook(path, read_only=True).worksheets[0]
        return [
            ["" if v is None else str(v) for v in row] for row in ws.iter_rows(values_only=True)
        ]
    text = path.read_text(encoding=ENCODING.get(kind, "utf-8-sig"))
    return list(csv.reader(io.StringIO(text)))


def table(m: DemoManifest, kind: str) -> list[dict[str, str]]:
    rows = read_rows(m, kind)
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def digests(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def test_all_kinds_present_and_counts_match(demo: DemoManifest) -> None:
    assert set(demo.files) == set(KINDS)
    for kind, path in demo.files.items():
        assert path.exists(), kind
        assert len(read_rows(demo, kind)) - 1 == demo.counts[kind], kind
        assert demo.bad_rows[kind] == sum(demo.bad_reasons.get(kind, {}).values())
    data = json.loads((demo.directory / "manifest.json").read_text(encoding="utf-8"))
    assert data["counts"] == demo.counts and data["bad_rows"] == demo.bad_rows
    assert data["files"] == {k: p.name for k, p in demo.files.items()}
    assert data["seed"] == 42 and data["size"] == "small"
    assert demo.files["annual_reports"].suffix == ".xlsx"


def test_headers_are_canonical(demo: DemoManifest) -> None:
    for kind in KINDS:
        header = read_rows(demo, kind)[0]
        assert tuple(header) == HEADERS[kind]
        canonical = [f.header for f in KINDS[kind].fields]
        extras = [h for h in header if h not in canonical]
        # the only non-contract column is the statistics category of professional firms
        assert extras == (["机构类别"] if kind == "social_orgs" else []), kind
        for f in KINDS[kind].fields:
            if f.required:
                assert f.header in header, (kind, f.header)


def test_deterministic(demo: DemoManifest, tmp_path: Path) -> None:
    again = generate_city(tmp_path / "b", size="small", seed=42)
    assert digests(again.directory) == digests(demo.directory)
    other = generate_city(tmp_path / "c", size="small", seed=7)
    differ = digests(other.directory)
    same = digests(demo.directory)
    assert all(
        differ[name] != same[name] for name in ("enterprises.csv", "members.csv", "party_orgs.csv")
    )
    shifted = generate_city(tmp_path / "d", size="small", seed=42, today=date(2027, 6, 1))
    assert (
        json.loads((shifted.directory / "manifest.json").read_text("utf-8"))["today"]
        == "2027-06-01"
    )


def test_usccs_valid_and_unique(demo: DemoManifest) -> None:
    rows = table(demo, "enterprises")
    reasons = demo.bad_reasons["enterprises"]
    bad_check = [
        r for r in rows if r["统一社会信用代码"] and not stdnum_uscc.is_valid(r["统一社会信用代码"])
    ]
    assert len(bad_check) == reasons["bad_uscc_checksum"]
    legacy = [r for r in rows if not r["统一社会信用代码"]]
    assert len(legacy) == reasons["legacy_id_only"]
    assert all(len(r["注册号"]) == 15 for r in legacy)
    for r in rows[:200]:
        code = r["统一社会信用代码"]
        if code and code not in {b["统一社会信用代码"] for b in bad_check}:
            assert stdnum_uscc.calc_check_digit(code[:17]) == uscc_check(code[:17]) == code[17]
            assert code.startswith("91") and code[2:8] in {
                "445202",
                "445203",
                "445222",
                "445224",
                "445281",
            }
    keys = [r["统一社会信用代码"] for r in rows if r["统一社会信用代码"]]
    dup = len(keys) - len(set(keys))
    assert dup == reasons["exact_duplicate"] + reasons["conflicting_duplicate"] // 2
    social = table(demo, "social_orgs")
    bad_social = [r for r in social if not stdnum_uscc.is_valid(r["统一社会信用代码"])]
    assert len(bad_social) == demo.bad_reasons["social_orgs"]["bad_uscc_checksum"]
    names = {r["企业名称"] for r in rows}
    assert set(HOSTILE_NAMES) <= names
    law = [r for r in social if r["机构类别"] == "律师事务所"]
    assert law and all(r["统一社会信用代码"].startswith("31") for r in law)


def test_id_numbers(demo: DemoManifest) -> None:
    rows = table(demo, "members")
    invalid = [r for r in rows if id_check_char(r["身份证号"][:17]) != r["身份证号"][17]]
    assert len(invalid) == demo.bad_reasons["members"]["bad_id_number"] > 0
    for r in rows:
        n = r["身份证号"]
        assert len(n) == 18 and n[:6] in {"445202", "445203", "445222", "445224", "445281"}
        assert 1960 <= int(n[6:10]) <= 2004
        assert len(r["联系电话"]) == 11 and r["联系电话"][1] in "3456789"
    probationary = sum(r["党员类型"] == "预备党员" for r in rows) / len(rows)
    assert 0.02 < probationary < 0.15
    assert any(r["所在党组织编码"] == "" for r in rows)
    assert any(r["所在党组织编码"] == UNKNOWN_PARTY_ORG for r in rows)


def test_references_resolve(demo: DemoManifest) -> None:
    known = {r["统一社会信用代码"] for r in table(demo, "enterprises")}
    known |= {r["统一社会信用代码"] for r in table(demo, "social_orgs")}
    pos = table(demo, "party_orgs")
    covered = [u for r in pos for u in r["覆盖单位"].split(";") if u]
    resolved = sum(u in known for u in covered)
    assert resolved >= 0.95 * len(covered) and resolved < len(covered)  # one deliberate unknown
    codes = {r["党组织编码"] for r in pos}
    committees = {r["编码"] for r in table(demo, "committees")}
    assert all(r["上级党组织编码"] in codes | committees for r in pos)
    formations = {r["组建方式"] for r in pos}
    assert formations == {"单独组建", "联合组建", "区域统建", "楼宇统建", "园区统建", "行业统建"}
    assert any(r["组建方式"] == "联合组建" and len(r["覆盖单位"].split(";")) > 5 for r in pos)
    assert any(r["状态"] == "撤销" for r in pos)
    members = table(demo, "members")
    member_orgs = [r["所在党组织编码"] for r in members if r["所在党组织编码"]]
    assert sum(c in codes for c in member_orgs) == len(member_orgs) - 1
    for r in table(demo, "alliances"):
        assert r["链主信用代码"] in known and r["牵头党组织编码"] in codes
        assert 3 <= len(r["成员单位"].split(";")) <= 40
    links = table(demo, "supply_links")
    assert links and all(r["上游信用代码"] in known and r["下游信用代码"] in known for r in links)
    regions = {r["区划代码"] for r in table(demo, "regions")}
    assert {r["区划代码"] for r in table(demo, "committees")} <= regions
    for r in table(demo, "instructors"):
        assert 1 <= len(r["联系单位"].split(";")) <= 6


def test_social_orgs_are_gb18030(demo: DemoManifest) -> None:
    raw = demo.files["social_orgs"].read_bytes()
    raw.decode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert demo.files["enterprises"].read_bytes().startswith("\ufeff".encode("utf-8"))


def test_annual_reports_mix(demo: DemoManifest) -> None:
    rows = read_rows(demo, "annual_reports")[1:]
    assert {r[3] for r in rows} <= {"是", "否", "1", "9"} and len({r[3] for r in rows}) == 4
    assert all(r[1] == "2025" for r in rows)
    ws = openpyxl.load_workbook(demo.files["annual_reports"]).worksheets[0]
    kinds = {type(c.value).__name__ for c in ws["F"][1:] if c.value is not None}
    assert {"datetime", "int", "str"} <= kinds


def test_unknown_size() -> None:
    with pytest.raises(ValueError):
        generate_city(Path("/nonexistent"), size="huge")
