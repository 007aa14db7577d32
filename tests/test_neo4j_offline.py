"""The Neo4j store's Python half, checked with no server: against the statement-level
double of tests/neo4j_double.py (which checks every call's statement, parameters and
stored values), the schema migration, the run lifecycle (lock, incomplete runs, stale
rows), pending references and the stored row shapes; and the one-line errors of a
server that is not there. The contract suite runs the rest on the double too.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from conftest import ingest_district
from neo4j_double import DoubleDriver

from graph import model as m
from graph import neo4j_cypher as cy
from graph.errors import StoreBusy, StoreUnavailable
from graph.neo4j_db import Database
from graph.neo4j_rows import edge_map, node_map
from graph.neo4j_store import Neo4jStore
from graph.neo4j_writer import Neo4jWriter
from graph.store import EdgeRow, NodeRow

DATABASE = "fugai_offline"


@pytest.fixture
def server() -> DoubleDriver:
    return DoubleDriver(DATABASE)


def _open(server: DoubleDriver) -> Neo4jStore:
    return Neo4jStore(Database(server, "neo4j://offline.invalid:7687", DATABASE))


def test_schema_is_migrated_once_in_order_outside_transactions(server: DoubleDriver) -> None:
    _open(server)
    schema = [(n, how) for n, how, _ in server.sent if n.startswith("schema_v")]
    assert schema == [(f"schema_v1_{i}", "auto") for i in range(len(cy.MIGRATIONS[1]))]
    assert "schema_record_version" in server.names()
    server.sent.clear()
    server.answers["schema_read_version"] = lambda _: [{"version": cy.SCHEMA_VERSION}]
    _open(server)
    assert [n for n in server.names() if n.startswith("schema")] == ["schema_read_version"]
    server.answers["schema_read_version"] = lambda _: [{"version": cy.SCHEMA_VERSION + 1}]
    with pytest.raises(StoreUnavailable, match="请升级"):
        _open(server)


def test_district_ingest_sends_only_checked_statements(server: DoubleDriver, tmp_path: Path) -> None:
    store = _open(server)
    ingest_district(store, tmp_path / "q")
    sent = set(server.names())
    for needed in ("lock_acquire", "run_begin", "run_mark_stale", "run_end", "lock_release",
                   f"node_upsert:{m.ORGANIZATION}", f"node_upsert:{m.MEMBER}",
                   f"node_ensure:{m.PLACE}", "pending_merge", "snapshot_merge"):
        assert needed in sent, needed
    assert any(n.startswith("edge_merge:") for n in sent)
    # writes only in managed write transactions, reads only in read transactions
    for name, how, _ in server.sent:
        if name.startswith(("node_upsert", "node_history", "edge_merge", "pending_merge",
                            "run_end", "snapshot_merge", "node_deactivate")):
            assert how == "write", name
        if name.startswith(("node_states", "node_table", "edge_table", "run_list")):
            assert how == "read", name
    ends = [p for n, _, p in server.sent if n == "run_end"]
    assert [p["status"] for p in ends] == ["complete", "complete"]
    assert orjson.loads(ends[0]["record"])["files"]


def test_a_failed_run_says_incomplete_and_frees_the_lock(server: DoubleDriver) -> None:
    store = _open(server)
    with pytest.raises(RuntimeError), store.writer("2026-12-01T00:00:00", "2026-12-01"):
        raise RuntimeError("the process dies half way")
    ends = [p for n, _, p in server.sent if n == "run_end"]
    assert [p["status"] for p in ends] == ["incomplete"]
    assert server.names()[-1] == "lock_release"


def test_a_held_lock_is_one_clear_error(server: DoubleDriver) -> None:
    store = _open(server)
    server.answers["lock_acquire"] = lambda _: []
    with pytest.raises(StoreBusy), store.writer("2026-12-01T00:00:00", "2026-12-01"):
        pass


def test_rows_a_dead_run_wrote_count_as_not_written(server: DoubleDriver) -> None:
    store = _open(server)
    server.answers["node_states"] = lambda _: [
        {"key": "A", "hash": "h1", "active": True, "absent": False, "source": "s", "run": 2},
        {"key": "B", "hash": "h2", "active": True, "absent": False, "source": "s", "run": 3}]
    writer = Neo4jWriter(store.db, run_id=4, run_date="2026-12-01", stale_runs={3})
    states = writer.row_states(m.ORGANIZATION)
    assert states["A"].row_hash == "h1" and states["B"].row_hash is None


def test_references_wait_until_both_ends_exist(server: DoubleDriver) -> None:
    """A reference whose end is missing becomes a PendingReference; once a later run
    stores the end, it becomes a relationship and the pending node goes."""
    store = _open(server)
    org = "914452027000000001"
    edge = EdgeRow(m.COVERS, m.PARTY_ORG, "P01", m.ORGANIZATION, org, {}, m.PARTY_ORG, "P01")
    writer = Neo4jWriter(store.db, run_id=1, run_date="2026-12-01", stale_runs=set())
    writer.write_nodes([NodeRow(m.PARTY_ORG, "P01", {"code": "P01"}, "h", "s")], history=False)
    writer.write_edges([edge])
    assert [p.dst_key for p in writer.pending_references([m.COVERS])] == [org]
    assert list(server.graph.pending) and not server.graph.rels
    later = Neo4jWriter(store.db, run_id=2, run_date="2026-12-02", stale_runs=set())
    later.write_nodes([NodeRow(m.ORGANIZATION, org, {"uscc": org}, "h", "s")], history=False)
    assert later.pending_references([m.COVERS]) == []
    assert not server.graph.pending
    assert list(server.graph.rels) == [(m.COVERS, m.PARTY_ORG, "P01", m.ORGANIZATION, org)]
    # the relationship keeps the run that declared the reference
    assert server.graph.rels[(m.COVERS, m.PARTY_ORG, "P01", m.ORGANIZATION, org)]["f_run"] == 1


def test_stored_maps_keep_everything_in_f_props() -> None:
    props = {"uscc": "X", "name": "<b>甲</b>", "employees": 12, "raw": {"a": 1},
             "industries": ["C33"], "park": None}
    stored = node_map(m.ORGANIZATION, "X", props, f_hash="h", f_absent_since=None)
    assert stored["uscc"] == "X" and stored["employees"] == 12
    assert "raw" not in stored and "park" not in stored and "f_absent_since" not in stored
    assert orjson.loads(stored["f_props"]) == props
    rel = edge_map(EdgeRow(m.MEMBER_OF, m.MEMBER, "M1", m.PARTY_ORG, "P1", {"role": "书记"}), 7)
    assert rel["role"] == "书记" and rel["f_run"] == 7 and "f_owner_label" not in rel


def test_unreachable_server_is_one_line_and_exit_code(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable, match="无法连接 Neo4j"):
        Neo4jStore.connect("bolt://127.0.0.1:9", user="neo4j", password="x", database="neo4j")
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "status"], capture_output=True, text=True,
        env={"FUGAI_STORE": "neo4j://127.0.0.1:9", "FUGAI_NEO4J_PASSWORD": "x",
             "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}, check=False, timeout=120)
    assert done.returncode == 4
    assert done.stderr.strip().splitlines() == ["错误: 无法连接 Neo4j neo4j://127.0.0.1:9: 服务器不可达或未启动"]
