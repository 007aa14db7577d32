"""Shared fixtures: the hand-built 榕城区 district (tests/fixtures/district) in the
formats real exports come in, and a fresh store per test — of every kind.

The contract: every test that takes ``store`` (or ``store_kind``) runs once per store.
The embedded store and the Neo4j store's code over a statement-level double of the
server (tests/neo4j_double.py) always; the Neo4j store on a real server when
``FUGAI_TEST_NEO4J_URI`` (with
``FUGAI_TEST_NEO4J_USER`` / ``FUGAI_TEST_NEO4J_PASSWORD`` / ``FUGAI_TEST_NEO4J_DATABASE``)
names a throw-away server, which each test empties first. Without a server the Neo4j
half is reported as not run at the end of the session, never silently passed.
"""

from __future__ import annotations

import csv
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from graph import model as m
from graph.embedded import EmbeddedStore
from graph.store import RunRecord, Store
from ingest.pipeline import IngestRequest, run_ingest

DISTRICT = Path(__file__).parent / "fixtures" / "district"
TODAY = date(2026, 12, 1)
PERSON_KEY = b"test-person-key-not-secret"


NEO4J_URI = os.environ.get("FUGAI_TEST_NEO4J_URI", "")
#: "neo4j-double": the Neo4j store's code over tests/neo4j_double.py (no server needed)
STORE_KINDS = ["embedded", "neo4j-double", *(["neo4j"] if NEO4J_URI else [])]
NEO4J_NOT_RUN = ("Neo4j contract suite NOT RUN: set FUGAI_TEST_NEO4J_URI (and _USER, "
                 "_PASSWORD, _DATABASE) to a throw-away Neo4j 5 server to run it")


class _Neo4jTestDb:
    """The one test server database: whoever opens it empties it, and a store kept for
    a whole module learns from ``generation`` that someone emptied it since."""

    generation = 0


def open_test_store(kind: str, directory: Path) -> Store:
    """A fresh, empty store of ``kind`` (the Neo4j one on the test server)."""
    if kind == "embedded":
        directory.mkdir(parents=True, exist_ok=True)
        return EmbeddedStore(directory / "store.sqlite")
    from graph.neo4j_store import Neo4jStore

    if kind == "neo4j-double":
        from neo4j_double import DoubleDriver

        from graph.neo4j_db import Database

        return Neo4jStore(Database(DoubleDriver(), f"neo4j://double/{directory.name}", "neo4j"))

    s = Neo4jStore.connect(NEO4J_URI, user=os.environ.get("FUGAI_TEST_NEO4J_USER", "neo4j"),
                   password=os.environ.get("FUGAI_TEST_NEO4J_PASSWORD", ""),
                   database=os.environ.get("FUGAI_TEST_NEO4J_DATABASE", "neo4j"))
    s.wipe()
    _Neo4jTestDb.generation += 1
    return s


class FilledStore:
    """A store filled once per module by ``fill``; on Neo4j filled again if another
    test emptied the shared server database in between."""

    def __init__(self, kind: str, directory: Path, fill: Callable[[Store], None]) -> None:
        self.kind, self.directory, self.fill = kind, directory, fill
        self._store: Store | None = None
        self._generation = -1

    def get(self) -> Store:
        stale = self.kind == "neo4j" and self._generation != _Neo4jTestDb.generation
        if self._store is None or stale:
            if self._store is not None:
                self._store.close()
            self._store = open_test_store(self.kind, self.directory)
            self.fill(self._store)
            self._generation = _Neo4jTestDb.generation
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


@pytest.fixture(params=STORE_KINDS)
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(store_kind: str, tmp_path: Path) -> Iterator[Store]:
    s = open_test_store(store_kind, tmp_path)
    yield s
    s.close()


def stored_text(store: Store, directory: Path) -> str:
    """Everything the store holds, as text (to prove what never reaches it): the whole
    SQLite file of an embedded store; every node, history entry, edge, run and trend
    point of any other."""
    if isinstance(store, EmbeddedStore):
        conn = sqlite3.connect(directory / "store.sqlite")
        try:
            return "\n".join(conn.iterdump())
        finally:
            conn.close()
    view = store.view()
    parts: list[str] = []
    for label in m.LABELS:
        for node in view.nodes(label):
            parts.append(repr(node))
            parts.extend(repr(h) for h in view.history(label, node.key))
    parts.extend(repr(e) for e in view.edges())
    parts.extend(repr(r) for r in view.runs(limit=1000))
    return "\n".join(parts)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not NEO4J_URI:
        terminalreporter.write_line(NEO4J_NOT_RUN, yellow=True)


@pytest.fixture
def district_dir(tmp_path: Path) -> Path:
    """A copy of the district files that a test may edit."""
    target = tmp_path / "district"
    shutil.copytree(DISTRICT, target)
    return target


def ingest(store: Store, paths: list[Path], *, mode: str = "full", qdir: Path,
           **kw: object) -> RunRecord:
    requests = [IngestRequest(p, mode=mode, **kw) for p in paths]  # type: ignore[arg-type]
    return run_ingest(store, requests, person_key=PERSON_KEY, quarantine_dir=qdir, today=TODAY)


def district_files(directory: Path = DISTRICT) -> list[Path]:
    return sorted(directory.glob("*.csv"))


def rewrite_csv(src: Path, dst: Path, encoding: str) -> Path:
    dst.write_bytes(src.read_text(encoding="utf-8").encode(encoding))
    return dst


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


EXTRA = DISTRICT.parent / "district_extra"


def ingest_district(store: Store, qdir: Path, district: Path = DISTRICT) -> None:
    """The hand-built district as two runs: the district in full, then district_extra
    as a delta (the state tests/test_coverage.py works out by hand)."""
    for paths, mode in ((sorted(district.glob("*.csv")), "full"),
                        (sorted(EXTRA.glob("*.csv")), "delta")):
        run_ingest(store, [IngestRequest(p, mode=mode) for p in paths],  # type: ignore[arg-type]
                   person_key=PERSON_KEY, quarantine_dir=qdir, today=TODAY)
