"""Run-level promises: every reason code, the demo city round trip, SIGKILL atomicity, CLI."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from graph.store import Store
from ingest.demo import generate_city
from ingest.pipeline import PHASES
from ingest.report import PHASES_ZH
from ingest.validate import REASON_CODES
from tests.conftest import TODAY, ingest

GOOD = "9144520270000001XE"
OTHER = "91445202700000028E"
THIRD = "914452027000000369"
FOURTH = "914452027000000444"


def test_every_quarantine_reason_code(store: Store, tmp_path: Path) -> None:
    header = "统一社会信用代码,企业名称,成立日期,区划代码,行业代码,从业人数,登记状态,注册号"
    rows = [
        ",缺代码公司,,,,,,",                                   # missing_required
        "9144520270000001XA,校验位错,,,,,,",                    # bad_uscc_checksum
        "91445202700000001,位数不对,,,,,,",                      # bad_uscc_format
        f"{GOOD},日期错,2019-13-45,,,,,",                        # bad_date
        f"{OTHER},未来日期,2031-01-01,,,,,",                      # future_date
        f"{THIRD},区划错,,99520,,,,",                              # bad_region_code
        f"{FOURTH},行业错,,,H5430,,,",                             # bad_industry_code
        "91445202700000052Y,人数错,,,,约20人,,",                   # bad_number
        "91445202700000060R,人数负,,,,-3,,",                       # negative_number
        "91445202700000079N,状态错,,,,,正在办理,",                 # bad_enum_value
        ",旧注册号,,,,,,445202000012345",                          # legacy_id_only
        "91445202700000087H,冲突甲,,,,,,",                         # conflicting_duplicate
        "91445202700000087H,冲突乙,,,,,,",                         # conflicting_duplicate
        "91445202700000095C,太长,,,,,,,多出一列",                   # row_too_long
    ]
    ent = tmp_path / "enterprises.csv"
    body = ("\n".join([header, *rows]) + "\n").encode("utf-8")
    # encoding_error: one line of GBK bytes inside a UTF-8 file
    body += b"914452027000001082," + "编码坏行".encode("gbk") + b",,,,,,\n"
    ent.write_bytes(body)
    members = tmp_path / "members.csv"
    members.write_text("党员编号,身份证号\nM1,445202197101011234\n", encoding="utf-8")
    record = ingest(store, [ent, members], qdir=tmp_path / "q")
    reasons: dict[str, int] = {}
    for f in record.files:
        for code, n in f.reasons.items():
            reasons[code] = reasons.get(code, 0) + n
    assert set(reasons) == set(REASON_CODES), set(REASON_CODES) ^ set(reasons)
    assert reasons["conflicting_duplicate"] == 2
    ent_report = next(f for f in record.files if f.kind == "enterprises")
    assert ent_report.quarantined == ent_report.rows_read == 15
    assert ent_report.created == 0


def test_demo_city_round_trip(store: Store, tmp_path: Path) -> None:
    manifest = generate_city(tmp_path / "demo", size="small", seed=7, today=TODAY)
    paths = list(manifest.files.values())
    first = ingest(store, paths, qdir=tmp_path / "q")
    for f in first.files:
        expected = {code: n for code, n in manifest.bad_reasons.get(f.kind, {}).items()
                    if code != "exact_duplicate"}
        got = {code: n for code, n in f.reasons.items()}
        if f.kind != "supply_links":   # random links may repeat a pair with another relation
            assert got == expected, f.kind
        assert f.rows_read == manifest.counts[f.kind], f.kind
        assert f.created + f.quarantined + f.duplicates_merged + f.updated \
            + f.deactivated == f.rows_read, f.kind
    second = ingest(store, paths, qdir=tmp_path / "q")
    assert sum(f.created + f.updated + f.deactivated for f in second.files) == 0
    assert sum(f.unchanged for f in second.files) == sum(f.created for f in first.files)


def _fingerprint(path: Path) -> list[object]:
    conn = sqlite3.connect(path)
    try:
        return [conn.execute(f"SELECT COUNT(*), TOTAL(LENGTH({col})) FROM {table}").fetchone()
                for table, col in (("nodes", "props"), ("edges", "props"),
                                   ("history", "before"), ("runs", "record"))] + [
            conn.execute("SELECT group_concat(key || row_hash) FROM "
                         "(SELECT key, row_hash FROM nodes ORDER BY label, key)").fetchone()]
    finally:
        conn.close()


def test_sigkill_mid_run_leaves_store_as_before(tmp_path: Path) -> None:
    """Killed at any moment, also while a worker cleans half a file (the city's
    enterprises and members are big enough): the store is as before."""
    demo = generate_city(tmp_path / "demo", size="small", seed=3, today=TODAY)
    db = tmp_path / "kill.sqlite"
    env = {**os.environ, "FUGAI_STORE": str(db), "FUGAI_DATA_DIR": str(tmp_path / "data"),
           "FUGAI_INGEST_WORKERS": "2"}
    cli = [sys.executable, "-m", "api.cli"]
    first = [str(demo.files["committees"]), str(demo.files["regions"])]
    subprocess.run([*cli, "ingest", *first, "--mode", "full"], env=env, check=True,
                   capture_output=True)
    before = _fingerprint(db)
    big = generate_city(tmp_path / "big", size="city", seed=4, today=TODAY)
    killed_mid_run = 0
    for delay in (0.5, 1.5, 3.0):
        proc = subprocess.Popen([*cli, "ingest", str(big.files["enterprises"]),
                                 str(big.files["members"]), "--mode", "full"],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        if proc.poll() is None:
            killed_mid_run += 1
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert _fingerprint(db) == before, f"store changed after kill at {delay}s"
    assert killed_mid_run >= 2
    # and a run that is allowed to finish does change it
    subprocess.run([*cli, "ingest", str(demo.files["enterprises"])], env=env, check=True,
                   capture_output=True)
    assert _fingerprint(db) != before


def test_cli_json_report_and_one_line_errors(tmp_path: Path) -> None:
    env = {**os.environ, "FUGAI_STORE": str(tmp_path / "cli.sqlite"),
           "FUGAI_DATA_DIR": str(tmp_path / "data")}
    cli = [sys.executable, "-m", "api.cli"]
    district = Path(__file__).parent / "fixtures" / "district"
    out = subprocess.run([*cli, "ingest", str(district / "regions.csv"), "--format", "json"],
                         env=env, capture_output=True, text=True, check=True)
    report = json.loads(out.stdout)
    assert report["files"][0]["kind"] == "regions" and report["files"][0]["created"] == 3
    # the run's wall time per phase, for telling a slow night from a big one
    assert list(report["seconds"]) == list(PHASES) == list(PHASES_ZH)
    # phases do not overlap: together they fit in the run's own start and finish
    took = (datetime.fromisoformat(report["finished_at"])
            - datetime.fromisoformat(report["started_at"])).total_seconds()
    assert sum(report["seconds"].values()) <= took + 1
    other = {**env, "FUGAI_STORE": str(tmp_path / "other.sqlite")}
    shown = subprocess.run([*cli, "ingest", str(district / "regions.csv")], env=other,
                           capture_output=True, text=True, check=True).stdout
    assert "用时(秒): 读取" in shown and "趋势快照" in shown
    runs = json.loads(subprocess.run([*cli, "runs", "--format", "json"], env=env,
                                     capture_output=True, text=True, check=True).stdout)
    assert [r["run_id"] for r in runs] == [report["run_id"]]
    status = json.loads(subprocess.run([*cli, "status", "--format", "json"], env=env,
                                       capture_output=True, text=True, check=True).stdout)
    assert status["counts"]["Region"] == {"total": 3, "active": 3}
    bad = subprocess.run([*cli, "ingest", str(tmp_path / "missing.csv")], env=env, check=False,
                         capture_output=True, text=True)
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0 and "文件不存在" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_open_reader_sees_a_finished_run_without_restart(tmp_path: Path) -> None:
    """The API server keeps its store open; a run committed by another process shows."""
    from graph.embedded import EmbeddedStore

    db = tmp_path / "shared.sqlite"
    reader = EmbeddedStore(db)
    view = reader.view()
    assert view.counts().get("Region") is None
    version = view.version()
    env = {**os.environ, "FUGAI_STORE": str(db), "FUGAI_DATA_DIR": str(tmp_path / "data")}
    regions = Path(__file__).parent / "fixtures" / "district" / "regions.csv"
    subprocess.run([sys.executable, "-m", "api.cli", "ingest", str(regions)], env=env,
                   check=True, capture_output=True)
    assert view.version() != version
    assert view.counts()["Region"] == {"total": 3, "active": 3}
    reader.close()


def test_new_store_file_takes_16k_pages_and_an_old_one_keeps_its_own(tmp_path: Path) -> None:
    from graph.embedded import PAGE_SIZE, EmbeddedStore

    new = EmbeddedStore(tmp_path / "new.sqlite")
    assert new.view().conn.execute("PRAGMA page_size").fetchone() == (PAGE_SIZE,)
    new.close()
    old_path = tmp_path / "old.sqlite"
    old = sqlite3.connect(old_path)
    old.execute("PRAGMA page_size=4096")
    old.execute("CREATE TABLE t (x)")   # the file exists with 4 KiB pages
    old.close()
    reopened = EmbeddedStore(old_path)
    conn = reopened.view().conn
    assert conn.execute("PRAGMA page_size").fetchone() == (4096,)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    reopened.close()
