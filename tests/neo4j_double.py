"""A statement-level stand-in for a Neo4j server, so the Neo4j store's Python half runs
end to end where no server is (here and in CI).

What it is: each statement of graph/neo4j_cypher.py, recognised by its exact text,
answered by a few lines of Python that do what that Cypher does, over dictionaries.
What it checks on every call: the statement is one of the module's, it gets exactly
the parameters it names, every ``row.<field>`` it reads is in every row, every stored
map holds only values Neo4j can store, and every session names its database.

What it is not: Neo4j. It cannot tell whether the Cypher text does what its entry here
says — that is what Neo4j's own parser (tests/test_cypher_lint.py) and, with a server,
the contract suite on the real database are for. It lets the contract suite prove the
rest: that the store's chunking, pending references, run bookkeeping, dump/restore and
tables give the embedded store's answers, given statements that do what they say.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Self

from graph import model as m
from graph import neo4j_cypher as cy

Row = dict[str, Any]
_BY_TEXT = {text: name for name, text in cy.statements().items()}
_PARAM = re.compile(r"\$([A-Za-z_]\w*)")
_ROW_FIELD = re.compile(r"\brow\.([A-Za-z_]\w*)")


def storable(value: Any) -> bool:
    if isinstance(value, bool | int | float | str):
        return True
    return isinstance(value, list) and len({type(v) for v in value}) <= 1 and all(
        isinstance(v, bool | int | float | str) for v in value)


def check_call(query: str, params: dict[str, Any]) -> str:
    """The statement's name, after the checks every call must pass."""
    assert query in _BY_TEXT, f"statement not in graph/neo4j_cypher.py: {query}"
    name = _BY_TEXT[query]
    assert set(_PARAM.findall(query)) == set(params), (name, sorted(params))
    for field in set(_ROW_FIELD.findall(query)):
        assert all(field in row for row in params["rows"]), (name, field)
    for row in params.get("rows", []):
        for stored in (row.get("all"), row.get("rel")):
            if stored is not None:
                bad = {k: v for k, v in stored.items() if not storable(v) or v is None}
                assert not bad, (name, bad)
    return name


class Graph:
    """The state a server would hold, and one handler per statement kind."""

    def __init__(self) -> None:
        self.wipe()

    def wipe(self) -> None:
        self.nodes: dict[str, dict[str, Row]] = {label: {} for label in m.LABELS}
        self.rels: dict[tuple[str, str, str, str, str], Row] = {}
        self.pending: dict[str, Row] = {}
        self.history: list[Row] = []
        self.runs: dict[int, Row] = {}
        self.snapshots: dict[str, Row] = {}
        self.meta: Row = {}
        self.lock: Row = {}
        self.migrations: dict[int, str] = {}

    def run(self, name: str, p: dict[str, Any]) -> list[Row]:
        base, _, tag = name.partition(":")
        if base.startswith("schema_v") or base == "schema_await_indexes":
            return []   # constraints and indexes change no answer
        handler: Callable[..., list[Row]] = getattr(self, "_" + base)
        return handler(p, *tag.split(":")) if tag else handler(p)

    # --- nodes ----------------------------------------------------------------

    def _node_upsert(self, p: dict[str, Any], label: str) -> list[Row]:
        for row in p["rows"]:
            old = self.nodes[label].get(row["key"])
            first = old.get("f_first_run", p["run"]) if old else p["run"]
            self.nodes[label][row["key"]] = {**row["all"], "f_first_run": first}
        return []

    def _keep_before(self, p: dict[str, Any], row: Row, n: Row) -> None:
        self.history.append({"label": p["label"], "key": row["key"], "run_id": p["run"],
                             "seq": row["seq"], "change": p["change"], "before": n["f_props"]})

    def _node_history(self, p: dict[str, Any], label: str) -> list[Row]:
        for row in p["rows"]:
            n = self.nodes[label].get(row["key"])
            if n is not None and n.get("f_hash") != row["hash"]:
                self._keep_before(p, row, n)
        return []

    def _node_ensure(self, p: dict[str, Any], label: str) -> list[Row]:
        for row in p["rows"]:
            if row["key"] not in self.nodes[label]:
                self.nodes[label][row["key"]] = {**row["all"], "f_first_run": p["run"],
                                                 "f_changed_run": p["run"]}
        return []

    def _node_deactivate(self, p: dict[str, Any], label: str) -> list[Row]:
        for row in p["rows"]:
            n = self.nodes[label].get(row["key"])
            if n is not None:
                self._keep_before(p, row, n)
                n.update(f_active=False, f_absent_since=p["date"], f_changed_run=p["run"])
        return []

    def _node_states(self, p: dict[str, Any], label: str) -> list[Row]:
        return [{"key": k, "hash": n.get("f_hash"), "active": n.get("f_active"),
                 "absent": n.get("f_absent_since") is not None, "source": n.get("f_source"),
                 "run": n.get("f_changed_run")} for k, n in self.nodes[label].items()]

    def _node_existing(self, p: dict[str, Any], label: str) -> list[Row]:
        return [{"key": k} for k in p["keys"] if k in self.nodes[label]]

    def _node_props(self, p: dict[str, Any], label: str) -> list[Row]:
        return [{"key": k, "props": self.nodes[label][k]["f_props"]}
                for k in p["keys"] if k in self.nodes[label]]

    def _columns(self, key: str, n: Row) -> Row:
        return {"key": key, "props": n["f_props"], "active": n.get("f_active"),
                "absent_since": n.get("f_absent_since"), "first_run": n.get("f_first_run"),
                "changed_run": n.get("f_changed_run"), "hash": n.get("f_hash"),
                "source": n.get("f_source")}

    def _node_all(self, p: dict[str, Any], label: str) -> list[Row]:
        return [self._columns(k, n) for k, n in self.nodes[label].items()]

    def _node_one(self, p: dict[str, Any], label: str) -> list[Row]:
        n = self.nodes[label].get(p["key"])
        return [] if n is None else [self._columns(p["key"], n)]

    def _node_table(self, p: dict[str, Any], label: str) -> list[Row]:
        return [{"key": k, "active": n.get("f_active"), "first_run": n.get("f_first_run"),
                 "props": n["f_props"]} for k, n in self.nodes[label].items()]

    def _node_count(self, p: dict[str, Any], label: str) -> list[Row]:
        nodes = self.nodes[label].values()
        return [{"total": len(nodes), "active": sum(1 for n in nodes if n.get("f_active"))}]

    def _node_restore(self, p: dict[str, Any], label: str) -> list[Row]:
        for row in p["rows"]:
            self.nodes[label][row["key"]] = dict(row["all"])
        return []

    # --- relationships ---------------------------------------------------------

    def _of(self, type: str, src: str, dst: str) -> list[tuple[tuple[str, ...], Row]]:
        return [(k, r) for k, r in self.rels.items() if k[0] == type and k[1] == src
                and k[3] == dst]

    def _edge_merge(self, p: dict[str, Any], type: str, src: str, dst: str) -> list[Row]:
        out = []
        for row in p["rows"]:
            if row["src"] in self.nodes[src] and row["dst"] in self.nodes[dst]:
                self.rels[(type, src, row["src"], dst, row["dst"])] = dict(row["rel"])
                out.append({"i": row["i"]})
        return out

    def _edge_row_states(self, p: dict[str, Any], *combo: str) -> list[Row]:
        return [{"src": k[2], "dst": k[4], "hash": r.get("f_hash"), "active": r.get("f_active"),
                 "source": r.get("f_source"), "run": r.get("f_run")}
                for k, r in self._of(*combo) if r.get("f_owner_label") is None]

    def _edge_deactivate(self, p: dict[str, Any], type: str, src: str, dst: str) -> list[Row]:
        for s, d in p["pairs"]:
            r = self.rels.get((type, src, s, dst, d))
            if r is not None and r.get("f_owner_label") is None:
                r.update(f_active=False, f_run=p["run"])
        return []

    def _edge_all(self, p: dict[str, Any], *combo: str) -> list[Row]:
        return [{"src": k[2], "dst": k[4], "props": r["f_props"], "active": r.get("f_active"),
                 "owner_label": r.get("f_owner_label"), "owner_key": r.get("f_owner_key"),
                 "hash": r.get("f_hash"), "source": r.get("f_source"), "run": r.get("f_run")}
                for k, r in self._of(*combo)]

    def _edge_table(self, p: dict[str, Any], *combo: str) -> list[Row]:
        return [{"src": k[2], "dst": k[4], "props": r["f_props"]}
                for k, r in self._of(*combo) if r.get("f_active")]

    def _edge_count(self, p: dict[str, Any], *combo: str) -> list[Row]:
        return [{"n": sum(1 for _, r in self._of(*combo) if r.get("f_active"))}]

    def _edge_delete_owned(self, p: dict[str, Any], label: str) -> list[Row]:
        keys = set(p["keys"])
        for k in [k for k, r in self.rels.items() if k[1] == label and k[2] in keys
                  and r.get("f_owner_label") == p["label"] and r.get("f_owner_key") == k[2]]:
            del self.rels[k]
        return []

    # --- pending references ----------------------------------------------------

    def _pending_merge(self, p: dict[str, Any]) -> list[Row]:
        for row in p["rows"]:
            self.pending[row["id"]] = dict(row["all"])
        return []

    def _pending_delete_owned(self, p: dict[str, Any]) -> list[Row]:
        keys = set(p["keys"])
        for pid in [i for i, r in self.pending.items()
                    if r.get("owner_label") == p["label"] and r.get("owner_key") in keys]:
            del self.pending[pid]
        return []

    def _pending_delete(self, p: dict[str, Any]) -> list[Row]:
        for pid in p["ids"]:
            self.pending.pop(pid, None)
        return []

    def _sorted_pending(self, type: str | None = None) -> list[Row]:
        rows = [r for r in self.pending.values() if type is None or r["type"] == type]
        return [{"p": dict(r)} for r in sorted(rows, key=lambda r: (r["type"], r["src_key"],
                                                                    r["dst_key"]))]

    def _pending_all(self, p: dict[str, Any]) -> list[Row]:
        return self._sorted_pending()

    def _pending_by_type(self, p: dict[str, Any]) -> list[Row]:
        return self._sorted_pending(p["type"])

    def _pending_deactivate(self, p: dict[str, Any]) -> list[Row]:
        pairs = {tuple(pair) for pair in p["pairs"]}
        for r in self.pending.values():
            if (r["type"] == p["type"] and (r["src_key"], r["dst_key"]) in pairs
                    and r.get("owner_label") is None):
                r.update(f_active=False, run=p["run"])
        return []

    def _pending_count(self, p: dict[str, Any]) -> list[Row]:
        counts: dict[str, int] = {}
        for r in self.pending.values():
            if r.get("f_active"):
                counts[r["type"]] = counts.get(r["type"], 0) + 1
        return [{"type": t, "n": n} for t, n in counts.items()]

    # --- lock, runs, meta, schema ------------------------------------------------

    def _lock_acquire(self, p: dict[str, Any]) -> list[Row]:
        self.lock["touched"] = p["now"]
        holder, beat = self.lock.get("run_id"), self.lock.get("heartbeat")
        if holder is not None and not (beat is not None and beat < p["stale_before"]):
            return []
        self.meta["last_run_id"] = self.meta.get("last_run_id", 0) + 1
        self.lock.update(run_id=self.meta["last_run_id"], heartbeat=p["now"])
        return [{"run_id": self.meta["last_run_id"], "holder": holder}]

    def _lock_heartbeat(self, p: dict[str, Any]) -> list[Row]:
        if self.lock.get("run_id") == p["run"]:
            self.lock["heartbeat"] = p["now"]
        return []

    def _lock_release(self, p: dict[str, Any]) -> list[Row]:
        if self.lock.get("run_id") == p["run"]:
            self.lock.pop("run_id")
            self.lock.pop("heartbeat", None)
        return []

    def _run_begin(self, p: dict[str, Any]) -> list[Row]:
        self.runs[p["run"]] = {"run_id": p["run"], "started_at": p["started_at"],
                               "status": "running", "f_record": "{}"}
        return []

    def _run_mark_stale(self, p: dict[str, Any]) -> list[Row]:
        for r in self.runs.values():
            if r["status"] == "running" and r["run_id"] != p["run"]:
                r["status"] = "incomplete"
        return []

    def _run_end(self, p: dict[str, Any]) -> list[Row]:
        r = self.runs.get(p["run"])
        if r is None:
            return []
        r.update(finished_at=p["finished_at"], status=p["status"], f_record=p["record"])
        self.meta["version"] = self.meta.get("version", 0) + 1
        if p["status"] == "complete":
            self.meta["last_complete_run"] = p["run"]
        return []

    def _run_incomplete(self, p: dict[str, Any]) -> list[Row]:
        return [{"run_id": r["run_id"]} for r in self.runs.values()
                if r["status"] == "incomplete"]

    def _run_list(self, p: dict[str, Any]) -> list[Row]:
        rows = sorted((r for r in self.runs.values() if r["status"] != "running"),
                      key=lambda r: -r["run_id"])[:p["limit"]]
        return [{"run_id": r["run_id"], "started_at": r.get("started_at"),
                 "finished_at": r.get("finished_at"), "status": r["status"],
                 "record": r.get("f_record")} for r in rows]

    def _run_restore(self, p: dict[str, Any]) -> list[Row]:
        for row in p["rows"]:
            self.runs[row["run_id"]] = dict(row)
        return []

    def _meta_version(self, p: dict[str, Any]) -> list[Row]:
        return [{"last_run": self.meta.get("last_complete_run"),
                 "version": self.meta.get("version"),
                 "last_run_id": self.meta.get("last_run_id")}]

    def _meta_restore(self, p: dict[str, Any]) -> list[Row]:
        self.meta.update(last_run_id=p["last_run_id"], last_complete_run=p["last_complete_run"],
                         version=self.meta.get("version", 0) + 1)
        return []

    def _schema_read_version(self, p: dict[str, Any]) -> list[Row]:
        return [{"version": max(self.migrations, default=0)}]

    def _schema_record_version(self, p: dict[str, Any]) -> list[Row]:
        self.migrations[p["version"]] = p["applied_at"]
        return []

    def _wipe(self, p: dict[str, Any]) -> list[Row]:
        self.wipe()
        return []

    def _ping(self, p: dict[str, Any]) -> list[Row]:
        return [{"ok": 1}]

    # --- snapshots and history ----------------------------------------------------

    def _snapshot_merge(self, p: dict[str, Any]) -> list[Row]:
        for row in p["rows"]:
            self.snapshots[row["id"]] = dict(row)
        return []

    def _snapshot_last_all(self, p: dict[str, Any]) -> list[Row]:
        rows = sorted((s for s in self.snapshots.values() if s["scope_kind"] == "all"),
                      key=lambda s: -s["run_id"])
        return [{"run_id": s["run_id"], "figures": s["figures"]} for s in rows[:1]]

    def _snapshot_copy(self, p: dict[str, Any]) -> list[Row]:
        for s in [s for s in self.snapshots.values() if s["run_id"] == p["source"]]:
            sid = f"{p['run']}|{s['scope_kind']}|{s['code']}"
            self.snapshots[sid] = {**s, "id": sid, "run_id": p["run"]}
        return []

    def _snapshot_scope(self, p: dict[str, Any]) -> list[Row]:
        rows = sorted((s for s in self.snapshots.values() if s["scope_kind"] == p["scope_kind"]
                       and s["code"] == p["code"]), key=lambda s: s["run_id"])
        return [{"run_id": s["run_id"], "figures": s["figures"]} for s in rows]

    def _snapshot_all(self, p: dict[str, Any]) -> list[Row]:
        return [{k: s[k] for k in ("run_id", "scope_kind", "code", "figures")}
                for s in sorted(self.snapshots.values(),
                                key=lambda s: (s["scope_kind"], s["code"], s["run_id"]))]

    def _history_node(self, p: dict[str, Any]) -> list[Row]:
        rows = sorted((h for h in self.history if h["label"] == p["label"]
                       and h["key"] == p["key"]), key=lambda h: (h["run_id"], h["seq"]))
        return [{"run_id": h["run_id"], "change": h["change"], "before": h["before"]}
                for h in rows]

    def _history_all(self, p: dict[str, Any]) -> list[Row]:
        return [{k: h[k] for k in ("label", "key", "run_id", "change", "before")}
                for h in sorted(self.history, key=lambda h: (h["run_id"], h["seq"]))]

    def _history_restore(self, p: dict[str, Any]) -> list[Row]:
        self.history.extend(dict(row) for row in p["rows"])
        return []


class _Result:
    def __init__(self, rows: list[Row]) -> None:
        self._rows = rows

    def data(self) -> list[Row]:
        return self._rows

    def consume(self) -> None:
        return None


class _Tx:
    def __init__(self, driver: DoubleDriver, how: str) -> None:
        self.driver, self.how = driver, how

    def run(self, query: str, parameters: dict[str, Any] | None = None) -> _Result:
        params = parameters or {}
        name = check_call(query, params)
        self.driver.sent.append((name, self.how, params))
        return _Result(self.driver.answer(name, params))


class _Session:
    def __init__(self, driver: DoubleDriver, database: str | None) -> None:
        assert database == driver.database, "every session must name its database"
        self.driver = driver

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def run(self, query: str, parameters: dict[str, Any] | None = None) -> _Result:
        return _Tx(self.driver, "auto").run(query, parameters)

    def execute_read(self, fn: Callable[[_Tx], Any]) -> Any:
        return fn(_Tx(self.driver, "read"))

    def execute_write(self, fn: Callable[[_Tx], Any]) -> Any:
        return fn(_Tx(self.driver, "write"))


class DoubleDriver:
    """Stands in for ``neo4j.Driver``: records every call and answers from ``graph``
    (or from ``answers``, a test's canned replies by statement kind)."""

    def __init__(self, database: str = "neo4j", graph: Graph | None = None) -> None:
        self.database = database
        self.graph = graph or Graph()
        self.sent: list[tuple[str, str, dict[str, Any]]] = []
        self.answers: dict[str, Callable[[dict[str, Any]], list[Row]]] = {}

    def answer(self, name: str, params: dict[str, Any]) -> list[Row]:
        base = name.split(":")[0]
        if base in self.answers:
            return self.answers[base](params)
        return self.graph.run(name, params)

    def names(self) -> list[str]:
        return [name for name, _, _ in self.sent]

    def session(self, database: str | None = None) -> _Session:
        return _Session(self, database)

    def close(self) -> None:
        return None
