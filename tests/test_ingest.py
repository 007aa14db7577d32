"""End-to-end ingest over the hand-built district: the contract, file by file."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest

from graph import model as m
from graph.errors import UsageError
from graph.store import Store
from ingest.headers import load_mapping
from tests.conftest import (
    DISTRICT,
    csv_rows,
    district_files,
    ingest,
    rewrite_csv,
    stored_text,
)


def _by_kind(record) -> dict:  # type: ignore[no-untyped-def]
    return {f.kind: f for f in record.files}


def test_district_ingest_counts_and_idempotent_rerun(store: Store, tmp_path: Path) -> None:
    first = ingest(store, district_files(), qdir=tmp_path / "q")
    files = _by_kind(first)
    assert files["enterprises"].created == 12
    assert files["social_orgs"].created == 2
    assert files["party_orgs"].created == 7
    assert files["members"].created == 13
    assert all(f.quarantined == 0 for f in first.files), [f.reasons for f in first.files]
    counts = store.view().counts()
    assert counts[m.ORGANIZATION] == {"total": 14, "active": 13}   # 癸制造 is 注销
    assert counts[m.PARTY_ORG] == {"total": 7, "active": 6}        # P07 撤销
    assert counts["edges"][m.COVERS] == 5   # P01 1, P02 2, P04 1, P05 1
    assert counts["edges"][m.SUPPLIES] == 4
    # two places are implied: the park and the office building
    assert counts[m.PLACE]["total"] == 2

    second = ingest(store, district_files(), qdir=tmp_path / "q")
    for f in second.files:
        assert (f.created, f.updated, f.deactivated) == (0, 0, 0), f.kind
        assert f.unchanged == f.rows_read
    assert store.view().counts() == counts
    assert [r.run_id for r in store.view().runs()] == [second.run_id, first.run_id]


def test_run_order_follows_kind_dependencies(store: Store, tmp_path: Path) -> None:
    record = ingest(store, list(reversed(district_files())), qdir=tmp_path / "q")
    kinds = [f.kind for f in record.files]
    assert kinds.index("committees") < kinds.index("party_orgs") < kinds.index("members")
    # P01's parent C00 is a committee: the polymorphic reference found the right label
    parents = {(e.src_key, e.dst_label) for e in store.view().edges(m.REPORTS_TO)}
    assert ("P01", m.COMMITTEE) in parents


def test_gb18030_file_detected_and_reported(store: Store, tmp_path: Path) -> None:
    gb = rewrite_csv(DISTRICT / "enterprises.csv", tmp_path / "enterprises_gb.csv", "gb18030")
    record = ingest(store, [gb], qdir=tmp_path / "q")
    (f,) = record.files
    assert f.kind == "enterprises" and f.encoding == "gb18030"
    assert f.created == 12 and f.quarantined == 0
    node = store.view().node(m.ORGANIZATION, "9144520270000001XE")
    assert node is not None and node.props["name"] == "揭阳市榕城区甲科技有限公司"


def test_xlsx_with_date_serials(store: Store, tmp_path: Path) -> None:
    rows = csv_rows(DISTRICT / "enterprises.csv")
    wb = openpyxl.Workbook()
    ws = wb.active
    headers = list(rows[0])
    ws.append(headers)
    for row in rows:
        values: list[object] = list(row.values())
        values[headers.index("成立日期")] = 42064          # serial of 2015-03-01
        values[headers.index("从业人数")] = int(row["从业人数"])
        values[headers.index("区划代码")] = int(row["区划代码"])
        ws.append(values)
    path = tmp_path / "enterprises.xlsx"
    wb.save(path)
    record = ingest(store, [path], qdir=tmp_path / "q")
    assert record.files[0].created == 12 and record.files[0].quarantined == 0
    node = store.view().node(m.ORGANIZATION, "91445202700000028E")
    assert node is not None
    assert node.props["founded_on"] == "2015-03-01"
    assert node.props["region_code"] == "445202001"
    assert node.props["employees"] == 60


def test_english_aliases_and_credit_system_codes(store: Store, tmp_path: Path) -> None:
    alias = tmp_path / "ent_alias.csv"
    alias.write_text(" USCC ,Name,status,Region_Code,ENTITY_TYPE\n9144520270000001XE,甲,存续,445202001,股份有限公司\n",
                     encoding="utf-8")
    codes = tmp_path / "ent_codes.csv"
    codes.write_text("UNISCID,ENTNAME,REGSTATE_CN,ESTDATE,DOM\n"
                     "91445202700000028E,乙,吊销，未注销,2016-05-20,中山路2号\n", encoding="utf-8")
    record = ingest(store, [alias, codes], mode="delta", qdir=tmp_path / "q")
    assert [f.kind for f in record.files] == ["enterprises", "enterprises"]
    b = store.view().node(m.ORGANIZATION, "91445202700000028E")
    assert b is not None and b.props["status"] == "吊销未注销" and not b.active
    assert b.props["inactive_on"] == "2026-12-01"


def test_mapping_file_and_raw_extra_columns(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text("信用代码号,单位全称,备注\n9144520270000001XE,甲科技,重点企业\n", encoding="utf-8")
    with pytest.raises(UsageError):
        ingest(store, [path], qdir=tmp_path / "q")
    mapping = tmp_path / "map.toml"
    mapping.write_text('[enterprises]\n"信用代码号" = "uscc"\n"单位全称" = "name"\n',
                       encoding="utf-8")
    record = ingest(store, [path], qdir=tmp_path / "q", mapping=load_mapping(mapping),
                    kind="enterprises")
    assert record.files[0].created == 1
    node = store.view().node(m.ORGANIZATION, "9144520270000001XE")
    assert node is not None and node.props["raw"] == {"备注": "重点企业"}
    assert record.files[0].extra_columns == ["备注"]


def test_delta_deregistration_keeps_history(store: Store, tmp_path: Path) -> None:
    ingest(store, district_files(), qdir=tmp_path / "q")
    delta = tmp_path / "delta.csv"
    delta.write_text("统一社会信用代码,企业名称,登记状态,核准日期\n"
                     "9144520270000001XE,揭阳市榕城区甲科技有限公司,注销,2026-11-30\n",
                     encoding="utf-8")
    record = ingest(store, [delta], mode="delta", qdir=tmp_path / "q")
    assert record.files[0].deactivated == 1
    view = store.view()
    node = view.node(m.ORGANIZATION, "9144520270000001XE")
    assert node is not None and not node.active and node.props["inactive_on"] == "2026-11-30"
    (before,) = view.history(m.ORGANIZATION, "9144520270000001XE")
    assert before["before"]["status"] == "存续" and before["run_id"] == record.run_id
    # a delta leaves everything else alone
    assert view.counts()[m.ORGANIZATION]["active"] == 12


def test_full_snapshot_deactivates_absent_records(store: Store, tmp_path: Path,
                                                  district_dir: Path) -> None:
    ingest(store, district_files(), qdir=tmp_path / "q")
    ent = district_dir / "enterprises.csv"
    lines = ent.read_text(encoding="utf-8").splitlines()
    ent.write_text("\n".join(line for line in lines if "70000001XE" not in line) + "\n",
                   encoding="utf-8")
    record = ingest(store, [ent], mode="full", qdir=tmp_path / "q")
    f = record.files[0]
    assert (f.created, f.updated, f.unchanged, f.deactivated) == (0, 0, 11, 1)
    node = store.view().node(m.ORGANIZATION, "9144520270000001XE")
    assert node is not None and not node.active and node.absent_since == "2026-12-01"
    # social organisations are another register: a full enterprises file leaves them be
    assert store.view().node(m.ORGANIZATION, "51445202700000159E").active  # type: ignore[union-attr]
    # the organisation reappears: updated (reactivated), not unchanged
    again = ingest(store, [DISTRICT / "enterprises.csv"], mode="full", qdir=tmp_path / "q")
    assert (again.files[0].updated, again.files[0].unchanged) == (1, 11)


def test_pending_reference_linked_by_later_run(store: Store, tmp_path: Path) -> None:
    first = ingest(store, [DISTRICT / "party_orgs.csv", DISTRICT / "members.csv"],
                   qdir=tmp_path / "q")
    files = _by_kind(first)
    # P01..P05 cover 6 organisations no register has delivered yet; members' employers too
    assert files["party_orgs"].unknown_references >= 6
    assert first.pending_references > 0
    second = ingest(store, district_files(), qdir=tmp_path / "q")
    assert second.pending_references == 0
    assert second.resolved_references > 0
    covered = {e.dst_key for e in store.view().edges(m.COVERS)}
    assert "9144520270000001XE" in covered


def test_person_data_never_stored_in_clear(store: Store, tmp_path: Path) -> None:
    ingest(store, district_files(), qdir=tmp_path / "q")
    member = store.view().node(m.MEMBER, "M01")
    assert member is not None
    assert member.props["id_masked"] == "4452**********1016"
    assert member.props["phone_masked"] == "138****8001"
    assert "id_number" not in member.props and "phone" not in member.props
    raw_ids = [r["身份证号"] for r in csv_rows(DISTRICT / "members.csv")]
    raw_phones = [r["联系电话"] for r in csv_rows(DISTRICT / "members.csv")]
    dump = stored_text(store, tmp_path)
    for value in raw_ids + raw_phones:
        assert value not in dump


def test_unknown_kind_and_missing_file_are_usage_errors(store: Store, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="文件不存在"):
        ingest(store, [tmp_path / "nope.csv"], qdir=tmp_path / "q")
    with pytest.raises(UsageError, match="未知的数据类型"):
        ingest(store, [DISTRICT / "regions.csv"], kind="planets", qdir=tmp_path / "q")
    assert store.view().runs() == []


def test_quarantine_file_has_reason_and_masks_person_data(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "members.csv"
    path.write_text("党员编号,姓名,身份证号,联系电话\nM90,某,445202197101011234,13912345678\n",
                    encoding="utf-8")
    record = ingest(store, [path], qdir=tmp_path / "q")
    f = record.files[0]
    assert f.reasons == {"bad_id_number": 1}
    assert f.quarantine_file and Path(f.quarantine_file).exists()
    assert Path(f.quarantine_file).parent.name.startswith(f"run-{record.run_id}-")
    text = Path(f.quarantine_file).read_text(encoding="utf-8-sig")
    assert "445202197101011234" not in text and "13912345678" not in text
    rows = list(csv.DictReader(text.splitlines()))
    assert rows[0]["原因代码"] == "bad_id_number" and rows[0]["行号"] == "2"


def test_conflicting_duplicates_are_quarantined_masked(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "members.csv"
    path.write_text("党员编号,姓名,身份证号,联系电话\n"
                    "M91,甲,445202197102021016,13912345678\n"
                    "M91,乙,445202197102021016,13912345678\n", encoding="utf-8")
    record = ingest(store, [path], qdir=tmp_path / "q")
    f = record.files[0]
    assert f.reasons == {"conflicting_duplicate": 2} and f.created == 0
    text = Path(f.quarantine_file or "").read_text(encoding="utf-8-sig")
    assert "445202197102021016" not in text and "13912345678" not in text
    assert "4452**********1016" in text and "139****5678" in text


def test_a_file_step_leaves_no_cycles_behind_and_the_collector_as_it_was() -> None:
    """Steps run without automatic cycle collection (the province's millions of live
    rows made every full pass slow); what a step leaves in cycles is still freed."""
    import gc
    import weakref

    from ingest.pipeline import _no_cyclic_collection

    class Cell:
        other: object = None

    with _no_cyclic_collection():
        assert not gc.isenabled()
        a, b = Cell(), Cell()
        a.other, b.other = b, a   # a cycle, dropped inside the step
        gone = weakref.ref(a)
        del a, b
        assert gone() is not None   # reference counting alone cannot free a cycle
    assert gone() is None and gc.isenabled()
    gc.disable()
    try:
        with _no_cyclic_collection():
            pass
        assert not gc.isenabled()   # a caller that had it off keeps it off
    finally:
        gc.enable()
