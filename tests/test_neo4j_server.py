"""Checks that need a real Neo4j server (``FUGAI_TEST_NEO4J_URI``, tests/conftest.py):
the query plans of the hot statements, the schema on the server, and a run that dies
half way being completed by running it again. Without a server these are not run (the
session summary says so); the contract suite's other tests run on Neo4j through the
``store`` fixture."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import NEO4J_NOT_RUN, NEO4J_URI, district_files, ingest, open_test_store

from graph import model as m
from graph import neo4j_cypher as cy
from graph.neo4j_store import Neo4jStore

pytestmark = pytest.mark.skipif(not NEO4J_URI, reason=NEO4J_NOT_RUN)

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


@pytest.fixture
def server(tmp_path: Path) -> Neo4jStore:
    store = open_test_store("neo4j", tmp_path)
    assert isinstance(store, Neo4jStore)
    return store


def test_hot_statements_seek_by_index_without_eager(server: Neo4jStore) -> None:
    plans = {}
    with server.db.driver.session(database=server.db.database) as session:
        for name, params in HOT.items():
            plan = session.run("EXPLAIN " + cy.q(name), params).consume().plan
            plans[name] = [op.split("@")[0] for op in _operators(plan)]
    eager = {n: ops for n, ops in plans.items() if any(op.startswith("Eager") for op in ops)}
    no_seek = {n: ops for n, ops in plans.items() if not any("IndexSeek" in op for op in ops)}
    assert eager == {} and no_seek == {}


def test_a_run_that_dies_half_way_is_completed_by_running_it_again(
        server: Neo4jStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from graph import neo4j_store

    calls = {"n": 0}
    real = neo4j_store.Neo4jWriter.write_nodes

    def dying(self: neo4j_store.Neo4jWriter, rows: Any, *, history: bool) -> None:
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt("killed half way")
        real(self, rows, history=history)

    monkeypatch.setattr(neo4j_store.Neo4jWriter, "write_nodes", dying)
    with pytest.raises(KeyboardInterrupt):
        ingest(server, district_files(), qdir=tmp_path / "q")
    (dead,) = server.view().runs()
    assert dead.status == "incomplete"
    monkeypatch.setattr(neo4j_store.Neo4jWriter, "write_nodes", real)
    again = ingest(server, district_files(), qdir=tmp_path / "q")
    assert again.status == "complete"
    assert [r.status for r in server.view().runs()] == ["complete", "incomplete"]
    reference = open_test_store("embedded", tmp_path / "ref")
    ingest(reference, district_files(), qdir=tmp_path / "q2")
    assert server.view().counts() == reference.view().counts()
