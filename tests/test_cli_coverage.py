"""The coverage reports through the ``fugai`` CLI, on the hand-built district (both
runs), in every format they offer."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from api.cli import app
from tests.conftest import DISTRICT, district_files

EXTRA = DISTRICT.parent / "district_extra"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("cli")
    e = {"FUGAI_STORE": str(d / "s.sqlite"), "FUGAI_DATA_DIR": str(d),
         "FUGAI_PERSON_KEY": "ab" * 16}
    runner = CliRunner()
    for paths, mode in ((district_files(), "full"), (sorted(EXTRA.glob("*.csv")), "delta")):
        res = runner.invoke(app, ["ingest", *map(str, paths), "--mode", mode, "--format",
                                  "json"], env=e)
        assert res.exit_code == 0, res.output
    return e


def _json(env: dict[str, str], *args: str) -> dict:  # type: ignore[type-arg]
    res = CliRunner().invoke(app, [*args, "--format", "json"], env=env)
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)  # type: ignore[no-any-return]


def test_summary_and_breakdown(env: dict[str, str]) -> None:
    data = _json(env, "summary", "--by", "street")
    assert data["in_scope"] == 22 and data["rates"]["org_coverage"]["numerator"] == 15
    assert [b["code"] for b in data["breakdown"]] == ["445202001", "445202002", "445202003"]
    assert _json(env, "summary", "--region", "445202003", "--kind", "enterprise")["in_scope"] == 12
    assert _json(env, "summary", "--include-individual")["in_scope"] == 24
    assert _json(env, "summary", "--threshold", "2")["findings"]["should_establish"] == 4
    res = CliRunner().invoke(app, ["summary"], env=env)
    assert res.exit_code == 0 and "党组织覆盖率" in res.stdout and "68.2%" in res.stdout


def test_gaps_in_every_format(env: dict[str, str], tmp_path: Path) -> None:
    page = _json(env, "gaps", "--finding", "uncovered", "--size", "2", "--page", "2")
    assert page["counts"] == {"uncovered": 5} and len(page["items"]) == 2
    res = CliRunner().invoke(app, ["gaps", "--region", "445202003", "--format", "csv"], env=env)
    assert res.exit_code == 0, res.output
    rows = list(csv.reader(io.StringIO(res.stdout.lstrip("\ufeff"))))
    assert rows[0][0] == "问题类型" and len(rows) == 1 + 10
    out = tmp_path / "gaps.xlsx"
    res = CliRunner().invoke(app, ["gaps", "--format", "xlsx", "-o", str(out)], env=env)
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(out, read_only=True)
    assert "应建未建" in wb.sheetnames and "说明" in wb.sheetnames


def test_org_tree_alliances_trend(env: dict[str, str], tmp_path: Path) -> None:
    org = _json(env, "org", "91445202700000052Y")
    assert org["status"] == "area" and org["responsible_committee"]["code"] == "C04"
    tree = _json(env, "tree")
    assert tree["roots"][0]["total"]["in_scope"] == 22
    out = tmp_path / "tree.csv"
    assert CliRunner().invoke(app, ["tree", "--format", "csv", "-o", str(out)],
                              env=env).exit_code == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbf") and "榕城区委两新工委" in out.read_text(
        encoding="utf-8-sig")
    assert [a["code"] for a in _json(env, "alliances")["rows"]] == ["A01"]
    assert _json(env, "alliances", "--suggest")["suggestions"][0]["size"] == 6
    cands = _json(env, "alliance", "A01", "--candidates", "--hops", "3")["candidates"]
    assert len(cands) == 3
    assert _json(env, "alliance", "A01")["rates"]["org_coverage"]["numerator"] == 3
    assert [p["run_id"] for p in _json(env, "trend")["points"]] == [1, 2]


def test_stats_sheet_command(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "sheet.xlsx"
    res = CliRunner().invoke(app, ["stats-sheet", "--year", "2026", "-o", str(out)], env=env)
    assert res.exit_code == 0, res.output
    assert len(openpyxl.load_workbook(out).sheetnames) == 2


@pytest.mark.parametrize(("args", "code", "text"), [
    (["org", "91445202MA0000000X"], 3, "没有统一社会信用代码"),
    (["gaps", "--finding", "nonsense"], 2, "未知的问题类型"),
    (["summary", "--committee", "C99"], 3, "C99"),
    (["gaps", "--format", "xlsx"], 2, "-o"),
])
def test_user_mistakes_are_one_line(env: dict[str, str], args: list[str], code: int,
                                    text: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "api.cli", *args], cwd=ROOT, check=False,
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=120)
    assert proc.returncode == code, proc.stderr
    assert text in proc.stderr and proc.stderr.strip().count("\n") == 0


def test_every_command_is_registered() -> None:
    res = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    for command in ("ingest", "summary", "gaps", "org", "tree", "alliances", "alliance",
                    "trend", "stats-sheet", "serve", "user", "viz", "chart", "demo", "inbox"):
        assert f" {command} " in res.stdout, command
