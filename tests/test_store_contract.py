"""One contract for every store: the small demo city, ingested or migrated into each
store, gives identical answers to every report (tests/store_answers.py).

The ``store`` fixture runs each test on the embedded store and, when a test server is
configured (tests/conftest.py), on Neo4j; the reference is always a separate embedded
store, so on the embedded run the test still proves a migrated copy and a second
ingest answer exactly like the original.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import PERSON_KEY, TODAY
from store_answers import answers

from graph import model as m
from graph.embedded import EmbeddedStore
from graph.errors import UsageError
from graph.migrate import migrate
from graph.neo4j_rows import prop_columns
from graph.store import EdgeRow, NodeRow, RunRecord, Store, canonical_json
from ingest import shard
from ingest.demo import generate_city
from ingest.pipeline import IngestRequest, run_ingest


def _ingest_demo(store: Store, files: list[Path], qdir: Path) -> RunRecord:
    return run_ingest(store, [IngestRequest(p) for p in files], person_key=PERSON_KEY,
                      quarantine_dir=qdir, today=TODAY)


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    manifest = generate_city(tmp_path_factory.mktemp("demo"), size="small", seed=11)
    return sorted(manifest.files.values())


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, demo_files: list[Path]) -> EmbeddedStore:
    """The small demo city in an embedded store."""
    d = tmp_path_factory.mktemp("reference")
    store = EmbeddedStore(d / "store.sqlite")
    _ingest_demo(store, demo_files, d / "q")
    return store


@pytest.fixture(scope="module")
def reference_answers(reference: EmbeddedStore) -> dict[str, Any]:
    got = answers(reference)
    # the comparison means something only if the reports are full
    assert got["summary"]["in_scope"] > 500 and len(got["findings"]) > 100
    assert got["alliances"]["rows"]
    assert len(got["explain"]) == 40 and got["trend"]["points"]
    return got


def test_a_migrated_store_answers_identically(reference: EmbeddedStore, store: Store,
                                              reference_answers: dict[str, Any],
                                              demo_files: list[Path], tmp_path: Path) -> None:
    moved = migrate(reference, store)
    assert moved["counts"] == reference.view().counts() and moved["runs"] == 1
    assert answers(store) == reference_answers
    # the row hashes moved too: the next nightly run on the new store changes nothing
    again = _ingest_demo(store, demo_files, tmp_path / "q")
    assert sum(f.created + f.updated + f.deactivated for f in again.files) == 0
    assert [r.run_id for r in store.view().runs()] == [2, 1]


def test_separate_ingests_answer_identically(store: Store, demo_files: list[Path],
                                             reference: EmbeddedStore, tmp_path: Path) -> None:
    _ingest_demo(store, demo_files, tmp_path / "q")
    assert answers(store, run_text=False) == answers(reference, run_text=False)


def test_an_ingest_in_two_processes_answers_identically(
        store: Store, demo_files: list[Path], reference: EmbeddedStore, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Big files cleaned by a worker reach the store through ``write_prepared``: the
    embedded store's own and the interface's default (the Neo4j store) must both
    write what ``write_nodes`` and ``write_edges`` do."""
    monkeypatch.setattr(shard, "MIN_ROWS", 100)
    run_ingest(store, [IngestRequest(p) for p in demo_files], person_key=PERSON_KEY,
               quarantine_dir=tmp_path / "q", today=TODAY, workers=2)
    assert answers(store, run_text=False) == answers(reference, run_text=False)


def test_migrate_only_into_an_empty_store(reference: EmbeddedStore, store: Store,
                                          demo_files: list[Path], tmp_path: Path) -> None:
    _ingest_demo(store, demo_files[:1], tmp_path / "q")
    with pytest.raises(UsageError, match="不为空"):
        migrate(reference, store)


def test_cli_migrate(reference: EmbeddedStore, tmp_path: Path) -> None:
    target = tmp_path / "copy.sqlite"
    done = subprocess.run([sys.executable, "-m", "api.cli", "migrate", "--store", reference.uri,
                           "--to", str(target), "--format", "json"],
                          capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    assert EmbeddedStore(target).view().counts() == reference.view().counts()
    again = subprocess.run([sys.executable, "-m", "api.cli", "migrate", "--store", reference.uri,
                            "--to", str(target)], capture_output=True, text=True, check=False,
                           timeout=300)
    assert again.returncode == UsageError.exit_code
    assert again.stderr.strip().count("\n") == 0 and "不为空" in again.stderr


@pytest.mark.parametrize("path", ["a", "b", "c", "d", "e", "f", "g", "g.a", "h", "missing",
                                  "raw.机构类别", "raw.n", "raw.n.x", "e.x"])
def test_prop_columns_answer_like_sqlite_json_extract(path: str) -> None:
    """Both stores build their tables with ``prop_columns``; it must read a property map
    exactly as SQLite's ``json_extract`` reads the same JSON (types included)."""
    props = {"a": True, "b": False, "c": 3, "d": 2.5, "e": "中文", "f": None,
             "g": {"z": 1, "a": [1, "x"]}, "h": [1, 2], "raw": {"机构类别": "社会团体", "n": {"x": 1}}}
    conn = sqlite3.connect(":memory:")
    text = canonical_json(props)
    json_path = "$" + "".join(f'."{part}"' for part in path.split("."))
    (expected,) = conn.execute("SELECT json_extract(?, ?)", (text, json_path)).fetchone()
    (got,) = prop_columns([text], [path])[path]
    assert got == expected and type(got) is type(expected)


def test_every_report_works_before_the_registers_arrive(store: Store, tmp_path: Path) -> None:
    """A new deployment fills its store in steps (the committees' own rosters first, the
    registration exports later), and a run that died half way leaves such a state on
    Neo4j: every report must answer, with zeros, not fail."""
    from conftest import DISTRICT, ingest

    assert answers(store)["summary"]["in_scope"] == 0
    for files in (["regions.csv", "committees.csv"], ["party_orgs.csv"], ["members.csv"]):
        ingest(store, [DISTRICT / f for f in files], mode="delta", qdir=tmp_path / "q")
        got = answers(store)
        assert got["summary"]["in_scope"] == 0
    assert got["finding_counts"]["orphan_party_org"] > 0


def test_a_reference_moves_to_the_label_that_holds_its_key(store: Store) -> None:
    """A Party organisation's 上级 names a code no register holds yet, so it waits as a
    reference to a Party organisation; once a committee with that code arrives, the
    run points it at the committee."""
    ref = EdgeRow(m.REPORTS_TO, m.PARTY_ORG, "P01", m.PARTY_ORG, "C09",
                  owner_label=m.PARTY_ORG, owner_key="P01")
    with store.writer("2026-12-01T02:30:00", "2026-12-01") as w:
        w.write_nodes([NodeRow(m.PARTY_ORG, "P01", {"code": "P01"}, "h1", "party_orgs")],
                      history=False)
        w.write_edges([ref])
        assert [(p.dst_label, p.dst_key) for p in w.pending_references([m.REPORTS_TO])] == [
            (m.PARTY_ORG, "C09")]
        w.finish(RunRecord(w.run_id, "2026-12-01T02:30:00", None, "complete"))
    with store.writer("2026-12-02T02:30:00", "2026-12-02") as w:
        w.write_nodes([NodeRow(m.COMMITTEE, "C09", {"code": "C09"}, "h2", "committees")],
                      history=False)
        w.relink_pending()
        assert w.pending_references([m.REPORTS_TO]) == []
        w.finish(RunRecord(w.run_id, "2026-12-02T02:30:00", None, "complete"))
    assert [(e.src_key, e.dst_label, e.dst_key) for e in store.view().edges(m.REPORTS_TO)] == [
        ("P01", m.COMMITTEE, "C09")]
