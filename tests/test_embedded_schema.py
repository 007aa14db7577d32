"""The embedded store's file layout: versioned, migrated on open, indexed by its keys."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from graph import embedded
from graph.embedded import SCHEMA_VERSION, EmbeddedStore
from graph.errors import StoreUnavailable
from graph.store import EdgeRow, NodeRow
from tests.district import E01 as ORG_A


def _indexes(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {n for (n,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")}
    finally:
        conn.close()


def _schema(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("SELECT v FROM meta WHERE k = 'schema'").fetchone()[0])
    finally:
        conn.close()


def _one_org(store: EmbeddedStore) -> None:
    with store.writer("2026-12-01T02:00:00", "2026-12-01") as w:
        w.write_nodes([NodeRow("Organization", ORG_A, {"uscc": ORG_A}, "h1", "enterprises")],
                      history=False)
        w.write_edges([EdgeRow("IN_REGION", "Organization", ORG_A, "Region", "445202001",
                               owner_label="Organization", owner_key=ORG_A)])


def test_a_version_1_file_loses_its_unused_edge_indexes_and_keeps_its_rows(
        tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite"
    store = EmbeddedStore(path)
    _one_org(store)
    store.close()
    conn = sqlite3.connect(path)   # what a version 1 file looked like
    conn.execute("CREATE INDEX edges_owner ON edges (owner_label, owner_key)")
    conn.execute("CREATE INDEX edges_dst ON edges (dst_label, dst_key)")
    conn.execute("UPDATE meta SET v = '1' WHERE k = 'schema'")
    conn.commit()
    conn.close()
    assert {"edges_owner", "edges_dst"} <= _indexes(path)
    reopened = EmbeddedStore(path)
    assert reopened.view().counts()["edges"] == {"IN_REGION": 1}
    reopened.close()
    assert not _indexes(path) & {"edges_owner", "edges_dst"}
    assert _schema(path) == str(SCHEMA_VERSION) == "2"


def test_a_file_from_a_newer_fugai_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    EmbeddedStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET v = ? WHERE k = 'schema'", (str(SCHEMA_VERSION + 1),))
    conn.commit()
    conn.close()
    with pytest.raises(StoreUnavailable, match="比本程序.*新: 请升级 fugai") as err:
        EmbeddedStore(path)
    assert "\n" not in err.value.message


def test_replacing_a_nodes_edges_goes_through_the_primary_key(tmp_path: Path) -> None:
    """Without an owner index, the delete of a changed node's edges must still be a
    key lookup per relationship type, not a scan of every edge."""
    store = EmbeddedStore(tmp_path / "plan.sqlite")
    types = embedded._OWNED_TYPES["Organization"]
    marks = ",".join("?" * len(types))
    plan = [row[-1] for row in store.view().conn.execute(
        f"EXPLAIN QUERY PLAN DELETE FROM edges WHERE type IN ({marks}) AND src_label = ?"
        " AND src_key = ? AND owner_label = ? AND owner_key = ?",
        (*types, "Organization", ORG_A, "Organization", ORG_A))]
    assert plan == ["SEARCH edges USING PRIMARY KEY (type=? AND src_label=? AND src_key=?)"]
    assert set(types) == {"IN_REGION", "IN_PLACE", "SUPPLIES", "ASSOCIATION_MEMBER"}
    store.close()


def test_an_updated_node_loses_the_edges_its_row_no_longer_declares(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "owned.sqlite")
    _one_org(store)
    with store.writer("2026-12-02T02:00:00", "2026-12-02") as w:
        w.write_edges([EdgeRow("SUPPLIES", "Organization", ORG_A, "Organization", "X",
                               row_hash="s", source="supply_links")])
        w.write_nodes([NodeRow("Organization", ORG_A, {"uscc": ORG_A}, "h2", "enterprises")],
                      history=True)
        w.replace_owned_edges("Organization", [ORG_A], [EdgeRow(
            "IN_PLACE", "Organization", ORG_A, "Place", "park:空港",
            owner_label="Organization", owner_key=ORG_A)])
    edges = {(e.type, e.dst_key) for e in store.view().edges()}
    # the old region link is gone, the new place link is there, the supply link (a row
    # of its own, owned by no node) stays
    assert edges == {("IN_PLACE", "park:空港"), ("SUPPLIES", "X")}
    store.close()


def test_a_run_record_from_a_later_fugai_still_reads() -> None:
    from graph.store import run_record_from_json

    record = run_record_from_json({
        "run_id": 7, "started_at": "2026-12-01T02:00:00", "finished_at": None,
        "status": "complete", "pending_references": 0, "resolved_references": 0,
        "seconds": {"read": 1.0}, "a_later_field": [1, 2],
        "files": [{"path": "a.csv", "source": "enterprises", "kind": "enterprises",
                   "mode": "full", "file_hash": "h", "encoding": "utf-8", "created": 3,
                   "a_later_file_field": True}]})
    assert record.run_id == 7 and record.seconds == {"read": 1.0}
    assert record.files[0].created == 3
