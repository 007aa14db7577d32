"""What only the Neo4j store has: a run that dies half way is completed by running it
again (on the statement-level double always, on a real server when one is given), and
the query plans of the hot statements (a real server only: ``FUGAI_TEST_NEO4J_URI``,
tests/conftest.py; otherwise reported as not run)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    NEO4J_NOT_RUN,
    NEO4J_URI,
    STORE_KINDS,
    district_files,
    ingest,
    open_test_store,
)
from store_answers import answers

from graph import model as m
from graph import neo4j_cypher as cy
from graph import neo4j_store as ns
from graph import neo4j_writer
from graph.errors import StoreBusy
from graph.facts import build_facts
from graph.neo4j_store import Neo4jStore

NEO4J_KINDS = [k for k in STORE_KINDS if k.startswith("neo4j")]

#: statements that run once per row batch or per page: each must seek by index, and
#: none may need an Eager barrier (which would hold a whole batch in memory)
HOT = {
    f"node_upsert:{m.ORGANIZATION}": {"rows": [{"key": "X", "all": {"uscc": "X"}}], "run": 1},
    f"node_existing:{m.ORGANIZATION}": {"keys": ["X"]},
    f"node_props:{m.MEMBER}": {"keys": ["X"]},
    f"node_one:{m.ORGANIZATION}": {"key": "X"},
    f"edge_merge:{m.COVERS}:{m.PARTY_ORG}:{m.ORGANIZATION}": {
        "rows": [{"i": 0, "src": "P", "dst": "X", "rel": {}}]},
    f"edge_delete_owned:{m.PARTY_ORG}": {"keys": ["P"], "label": m.PARTY_ORG},
    "pending_delete": {"ids": ["x"]},
    "history_node": {"label": m.ORGANIZATION, "key": "X"},
}


def _operators(plan: dict[str, Any]) -> list[str]:
    return [plan["operatorType"], *(op for child in plan.get("children", [])
                                    for op in _operators(child))]


@pytest.fixture(params=NEO4J_KINDS)
def neo4j_store(request: pytest.FixtureRequest, tmp_path: Path) -> Neo4jStore:
    store = open_test_store(request.param, tmp_path)
    assert isinstance(store, Neo4jStore)
    return store


@pytest.mark.skipif(not NEO4J_URI, reason=NEO4J_NOT_RUN)
def test_hot_statements_seek_by_index_without_eager(tmp_path: Path) -> None:
    server = open_test_store("neo4j", tmp_path)
    assert isinstance(server, Neo4jStore)
    plans = {}
    with server.db.driver.session(database=server.db.database) as session:
        for name, params in HOT.items():
            plan = session.run("EXPLAIN " + cy.q(name), params).consume().plan
            plans[name] = [op.split("@")[0] for op in _operators(plan)]
    eager = {n: ops for n, ops in plans.items() if any(op.startswith("Eager") for op in ops)}
    no_seek = {n: ops for n, ops in plans.items() if not any("IndexSeek" in op for op in ops)}
    assert eager == {} and no_seek == {}


def test_a_run_that_dies_half_way_is_completed_by_running_it_again(
        neo4j_store: Neo4jStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"n": 0}
    real = neo4j_writer.Neo4jWriter.write_nodes

    def dying(self: neo4j_writer.Neo4jWriter, rows: Any, *, history: bool) -> None:
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt("killed half way")
        real(self, rows, history=history)

    monkeypatch.setattr(neo4j_writer.Neo4jWriter, "write_nodes", dying)
    with pytest.raises(KeyboardInterrupt):
        ingest(neo4j_store, district_files(), qdir=tmp_path / "q")
    (dead,) = neo4j_store.view().runs()
    assert dead.status == "incomplete"
    # the chunks it wrote stay; the figures still say which complete run they are from
    assert neo4j_store.view().counts()[m.ORGANIZATION]["total"] > 0
    assert build_facts(neo4j_store.view()).run_info() == {
        "run_id": None, "finished_at": None, "incomplete_run": dead.run_id}
    monkeypatch.setattr(neo4j_writer.Neo4jWriter, "write_nodes", real)
    again = ingest(neo4j_store, district_files(), qdir=tmp_path / "q")
    assert again.status == "complete"
    assert [r.status for r in neo4j_store.view().runs()] == ["complete", "incomplete"]
    reference = open_test_store("embedded", tmp_path / "ref")
    ingest(reference, district_files(), qdir=tmp_path / "q2")
    # the same answers as one clean run (but for the run numbers they name)
    ours, theirs = (_without_run_ids(answers(s, run_text=False))
                    for s in (neo4j_store, reference))
    for report in ("counts", "summary", "findings", "tree", "alliances", "explain"):
        assert ours[report] == theirs[report], report


def _without_run_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_run_ids(v) for k, v in value.items()
                if k not in ("data", "run_id", "first_run")}
    if isinstance(value, list):
        return [_without_run_ids(v) for v in value]
    return value


def test_a_killed_process_lock_is_taken_over(neo4j_store: Neo4jStore, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """kill -9 runs no clean-up: the run stays "running" and its lock held until the
    heartbeat is older than STALE_AFTER; then the next run takes over and the dead run
    is marked incomplete."""
    monkeypatch.setattr(ns, "HEARTBEAT_EVERY", 3600)   # the "dead" run must not beat
    cm = neo4j_store.writer("2026-12-01T02:30:00", "2026-12-01")
    cm.__enter__()   # the process "dies" here: the context is never left
    with pytest.raises(StoreBusy):
        ingest(neo4j_store, district_files(), qdir=tmp_path / "q")
    neo4j_store.db.write_one("lock_heartbeat", run=1, now=time.time() - ns.STALE_AFTER - 1)
    again = ingest(neo4j_store, district_files(), qdir=tmp_path / "q")
    assert again.status == "complete" and again.run_id == 2
    assert [(r.run_id, r.status) for r in neo4j_store.view().runs()] == [
        (2, "complete"), (1, "incomplete")]
