"""The Neo4j store's side of the conversation, checked with no server.

Where no Neo4j server runs (here, and in CI) the contract suite's Neo4j half cannot
run (tests/conftest.py reports it as not run). What can be checked offline is checked
here, with the real store code talking to a recording stand-in for the driver that
answers "nothing stored yet": every statement sent is one of graph/neo4j_cypher.py's
(which test_cypher_lint.py checks with Neo4j's own parser), it gets exactly the
parameters it names, every ``row.<field>`` it reads is in every row, every property
map it stores holds only values Neo4j can store, every session names the database,
and schema statements run outside managed transactions.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

import neo4j
import orjson
import pytest
from conftest import ingest_district

from graph import model as m
from graph import neo4j_cypher as cy
from graph.errors import StoreBusy, StoreUnavailable
from graph.neo4j_rows import edge_map, node_map
from graph.neo4j_store import Neo4jStore, Neo4jWriter
from graph.store import EdgeRow

DATABASE = "fugai_offline"
_BY_TEXT = {text: name for name, text in cy.statements().items()}
_PARAM = re.compile(r"\$([A-Za-z_]\w*)")
_ROW_FIELD = re.compile(r"\brow\.([A-Za-z_]\w*)")


def _storable(value: Any) -> bool:
    if isinstance(value, bool | int | float | str):
        return True
    return isinstance(value, list) and len({type(v) for v in value}) <= 1 and all(
        isinstance(v, bool | int | float | str) for v in value)


class Recorder:
    """Stands in for a server: records what is sent, checks it, answers "empty"."""

    def __init__(self, answers: dict[str, Callable[[dict[str, Any]], list[dict[str, Any]]]]
                 | None = None) -> None:
        self.sent: list[tuple[str, str, dict[str, Any]]] = []   # (name, how, params)
        self.answers = answers or {}

    def answer(self, query: str, params: dict[str, Any], how: str) -> list[dict[str, Any]]:
        assert query in _BY_TEXT, f"statement not in graph/neo4j_cypher.py: {query}"
        name = _BY_TEXT[query]
        assert set(_PARAM.findall(query)) == set(params), (name, sorted(params))
        for field in set(_ROW_FIELD.findall(query)):
            assert all(field in row for row in params["rows"]), (name, field)
        for row in params.get("rows", []):
            for stored in (row.get("all"), row.get("rel")):
                if stored is not None:
                    bad = {k: v for k, v in stored.items() if not _storable(v)}
                    assert not bad, (name, bad)
        self.sent.append((name, how, params))
        base = name.split(":")[0]
        if base in self.answers:
            return self.answers[base](params)
        return _EMPTY.get(base, [])

    def names(self) -> list[str]:
        return [name for name, _, _ in self.sent]


_EMPTY: dict[str, list[dict[str, Any]]] = {
    "schema_read_version": [{"version": 0}],
    "lock_acquire": [{"run_id": 1, "holder": None}],
    "meta_version": [{"last_run": None, "version": None}],
    "node_count": [{"total": 0, "active": None}],
}


class _Result:
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self._rows = rows

    def data(self) -> list[dict[str, Any]]:
        return self._rows

    def consume(self) -> None:
        return None


class _Tx:
    def __init__(self, server: Recorder, how: str) -> None:
        self.server, self.how = server, how

    def run(self, query: str, parameters: dict[str, Any] | None = None) -> _Result:
        return _Result(self.server.answer(query, parameters or {}, self.how))


class _Session:
    def __init__(self, server: Recorder, database: str | None) -> None:
        assert database == DATABASE, "every session must name its database"
        self.server = server

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def run(self, query: str, parameters: dict[str, Any] | None = None) -> _Result:
        return _Tx(self.server, "auto").run(query, parameters)

    def execute_read(self, fn: Callable[[_Tx], Any]) -> Any:
        return fn(_Tx(self.server, "read"))

    def execute_write(self, fn: Callable[[_Tx], Any]) -> Any:
        return fn(_Tx(self.server, "write"))


class _Driver:
    def __init__(self, server: Recorder) -> None:
        self.server = server

    def session(self, database: str | None = None) -> _Session:
        return _Session(self.server, database)

    def close(self) -> None:
        return None


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = Recorder()
    monkeypatch.setattr(neo4j.GraphDatabase, "driver",
                        staticmethod(lambda uri, auth=None: _Driver(recorder)))
    return recorder


def _open() -> Neo4jStore:
    return Neo4jStore("neo4j://offline.invalid:7687", user="neo4j", password="x",
                      database=DATABASE)


def test_schema_is_migrated_once_in_order_outside_transactions(server: Recorder) -> None:
    _open()
    schema = [(n, how) for n, how, _ in server.sent if n.startswith("schema_v")]
    assert schema == [(f"schema_v1_{i}", "auto") for i in range(len(cy.MIGRATIONS[1]))]
    assert "schema_record_version" in server.names()
    server.sent.clear()
    server.answers["schema_read_version"] = lambda _: [{"version": cy.SCHEMA_VERSION}]
    _open()
    assert [n for n in server.names() if n.startswith("schema")] == ["schema_read_version"]
    server.answers["schema_read_version"] = lambda _: [{"version": cy.SCHEMA_VERSION + 1}]
    with pytest.raises(StoreUnavailable, match="请升级"):
        _open()


def test_district_ingest_sends_only_checked_statements(server: Recorder, tmp_path: Path) -> None:
    store = _open()
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


def test_a_failed_run_says_incomplete_and_frees_the_lock(server: Recorder) -> None:
    store = _open()
    with pytest.raises(RuntimeError), store.writer("2026-12-01T00:00:00", "2026-12-01"):
        raise RuntimeError("the process dies half way")
    ends = [p for n, _, p in server.sent if n == "run_end"]
    assert [p["status"] for p in ends] == ["incomplete"]
    assert server.names()[-1] == "lock_release"


def test_a_held_lock_is_one_clear_error(server: Recorder) -> None:
    store = _open()
    server.answers["lock_acquire"] = lambda _: []
    with pytest.raises(StoreBusy), store.writer("2026-12-01T00:00:00", "2026-12-01"):
        pass


def test_rows_a_dead_run_wrote_count_as_not_written(server: Recorder) -> None:
    store = _open()
    server.answers["node_states"] = lambda _: [
        {"key": "A", "hash": "h1", "active": True, "absent": False, "source": "s", "run": 2},
        {"key": "B", "hash": "h2", "active": True, "absent": False, "source": "s", "run": 3}]
    writer = Neo4jWriter(store.db, run_id=4, run_date="2026-12-01", stale_runs={3})
    states = writer.row_states(m.ORGANIZATION)
    assert states["A"].row_hash == "h1" and states["B"].row_hash is None


def test_references_wait_until_both_ends_exist(server: Recorder) -> None:
    """A reference whose end is missing becomes a PendingReference; once a later run
    stores the end, it becomes a relationship and the pending node goes."""
    store = _open()
    edge = EdgeRow(m.COVERS, m.PARTY_ORG, "P01", m.ORGANIZATION, "914452027000000001",
                   {}, m.PARTY_ORG, "P01")
    writer = Neo4jWriter(store.db, run_id=1, run_date="2026-12-01", stale_runs=set())
    writer.write_edges([edge])
    (merge,) = [p for n, _, p in server.sent if n == "pending_merge"]
    assert merge["rows"][0]["all"]["dst_key"] == "914452027000000001"
    pending_row = merge["rows"][0]["all"]
    server.answers["pending_all"] = lambda _: [{"p": pending_row}]
    server.answers["node_existing"] = lambda params: [{"key": k} for k in params["keys"]]
    server.answers["edge_merge"] = lambda params: [{"i": r["i"]} for r in params["rows"]]
    later = Neo4jWriter(store.db, run_id=2, run_date="2026-12-02", stale_runs=set())
    assert later.pending_references([m.COVERS]) == []
    assert [p["ids"] for n, _, p in server.sent if n == "pending_delete"] == [[pending_row["id"]]]


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
        Neo4jStore("bolt://127.0.0.1:9", user="neo4j", password="x", database="neo4j")
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "status"], capture_output=True, text=True,
        env={"FUGAI_STORE": "neo4j://127.0.0.1:9", "FUGAI_NEO4J_PASSWORD": "x",
             "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}, check=False, timeout=120)
    assert done.returncode == 4
    assert done.stderr.strip().splitlines() == ["错误: 无法连接 Neo4j neo4j://127.0.0.1:9: 服务器不可达或未启动"]
