"""The Neo4j store: the store interface over a Neo4j 5 database (5.26 LTS the reference).

Layout and statements: ``graph.neo4j_cypher``. Differences from the embedded store that
the interface allows, and why:

* **A run commits in chunks** (one managed transaction per batch of rows), because a
  province-sized run is too big for one transaction. A run that dies half way keeps
  its status ``incomplete``; rows it touched report no row hash (``row_states``), so
  running the same files again rewrites them and completes it — chunks are idempotent
  MERGE/SET. Readers' ``version()`` moves only when a run ends, so a serving API keeps
  its previous snapshot while a run writes.
* **The ingest lock** is a ``(:FugaiLock)`` node with a heartbeat; a lock whose holder
  stopped beating for ``STALE_AFTER`` seconds (a killed process) is taken over and
  that run is marked incomplete.
* **References to nodes not stored yet** cannot be relationships (a relationship needs
  both ends), so they wait as ``(:PendingReference)`` nodes and become relationships
  as soon as both ends exist. Readers see them exactly as the embedded store shows its
  dangling edges, so both stores answer alike.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime

from graph import neo4j_transfer
from graph.errors import FugaiError, StoreBusy
from graph.neo4j_db import Database, migrate
from graph.neo4j_view import Neo4jView
from graph.neo4j_writer import Neo4jWriter
from graph.store import RunRecord, Store, StoreDump, StoreWriter

#: seconds between lock heartbeats, and of silence after which a lock counts as dead
HEARTBEAT_EVERY = 30
STALE_AFTER = 300


class _Heartbeat:
    """Keeps the ingest lock alive from a thread while the run works."""

    def __init__(self, db: Database, run_id: int) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, args=(db, run_id), daemon=True,
                                        name=f"fugai-lock-{run_id}")
        self._thread.start()

    def _beat(self, db: Database, run_id: int) -> None:
        while not self._stop.wait(HEARTBEAT_EVERY):
            # a missed beat (server briefly away) is simply tried again next time
            with suppress(FugaiError):
                db.write_one("lock_heartbeat", run=run_id, now=time.time())

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


class Neo4jStore(Store):
    """A Neo4j database; the schema is brought up to date when the store opens."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.uri = db.uri
        migrate(db)

    @classmethod
    def connect(cls, uri: str, *, user: str, password: str, database: str) -> Neo4jStore:
        return cls(Database.connect(uri, user, password, database))

    @contextmanager
    def writer(self, started_at: str, run_date: str) -> Iterator[StoreWriter]:
        now = time.time()
        taken = self.db.write_one("lock_acquire", now=now, stale_before=now - STALE_AFTER)
        if not taken:
            raise StoreBusy(f"Neo4j 数据库正被另一批导入占用: {self.uri}")
        run_id = int(taken[0]["run_id"])
        beat = _Heartbeat(self.db, run_id)
        writer: Neo4jWriter | None = None
        try:
            self.db.write_one("run_mark_stale", run=run_id)
            self.db.write_one("run_begin", run=run_id, started_at=started_at)
            stale = {int(r["run_id"]) for r in self.db.read("run_incomplete")}
            writer = Neo4jWriter(self.db, run_id, run_date, stale)
            yield writer
            if not writer.finished:
                self._end_incomplete(writer, started_at)
        except BaseException:
            # the chunks written so far stay; the record says so until a re-run completes
            with suppress(FugaiError):
                if writer is not None and not writer.finished:
                    self._end_incomplete(writer, started_at)
            raise
        finally:
            beat.stop()
            with suppress(FugaiError):
                self.db.write_one("lock_release", run=run_id)

    @staticmethod
    def _end_incomplete(writer: Neo4jWriter, started_at: str) -> None:
        writer.finish(RunRecord(run_id=writer.run_id, started_at=started_at,
                                finished_at=datetime.now().isoformat(timespec="seconds"),
                                status="incomplete"))

    def view(self) -> Neo4jView:
        return Neo4jView(self.db)

    def dump(self) -> StoreDump:
        return neo4j_transfer.dump(self.db)

    def restore(self, dump: StoreDump) -> None:
        neo4j_transfer.restore(self.db, Neo4jWriter(self.db, 0, "", set()), dump)

    def wipe(self) -> None:
        """Delete everything (a throw-away test or benchmark database); the constraints
        stay, the schema version is recorded again."""
        self.db.auto("wipe")
        migrate(self.db)

    def close(self) -> None:
        self.db.close()
