"""Table reads taken ahead, in order, by a background thread.

The coverage facts (and every run's trend snapshot) read about a dozen node and edge
tables and work on each with pandas. Read one after the other, the reads and the
column work take turns on one core. Much of a read runs outside the interpreter lock
(SQLite stepping through rows, pyarrow parsing JSON, a Neo4j driver waiting on the
network), so a thread that reads the next tables while the caller works on the last
ones takes seconds off a province build.

The reads are declared up front, as data (:class:`TableRead`), in the order the caller
takes them. The caller must take exactly those: a read it asks for that is not in the
plan, or one in the plan it never takes, is an error in the plan, raised as such, so
every test that builds the facts holds the plan to the code. While the context is
open the thread alone uses the view (a SQLite connection or a driver session is not
to be used by two threads at once); leaving it stops the thread after the read in
progress and waits for it.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self

import pandas as pd


class Tables(Protocol):
    """The two tabular reads of a store view, which the facts are built from."""

    def node_table(self, label: str, props: Sequence[str]) -> pd.DataFrame: ...

    def edge_table(self, type: str, props: Sequence[str] = ()) -> pd.DataFrame: ...


@dataclass(frozen=True)
class TableRead:
    """One read: the table of a node label, or (``edges``) of a relationship type."""

    name: str
    props: tuple[str, ...] = ()
    edges: bool = False


def node_read(label: str, props: Sequence[str]) -> TableRead:
    return TableRead(label, tuple(props))


def edge_read(type: str, props: Sequence[str] = ()) -> TableRead:
    return TableRead(type, tuple(props), edges=True)


class PlanMismatch(RuntimeError):
    """The reads taken differ from the reads planned: a programming error."""


class ReadAhead:
    """Serves planned reads of ``view`` as the caller asks for them. Each distinct read
    runs once: one planned twice is served twice (a copy, then the frame itself)."""

    def __init__(self, view: Tables, plan: Sequence[TableRead]) -> None:
        self._view = view
        self._left = Counter(plan)
        self._results: dict[TableRead, Future[pd.DataFrame]] = {
            read: Future() for read in dict.fromkeys(plan)}
        # the thread's own queue (takes shrink the dict; popping lets a taken frame go)
        self._queue = deque(self._results.items())
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read_all, name="fugai-read-ahead",
                                        daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()
        untaken = sorted(read.name for read in +self._left)
        if kind is None and untaken:
            raise PlanMismatch(f"planned reads never taken: {', '.join(untaken)}")

    def _read_all(self) -> None:
        failure: BaseException | None = None
        while self._queue:
            read, result = self._queue.popleft()
            if failure is None and self._stop.is_set():
                failure = PlanMismatch("the reads were left before this one was taken")
            if failure is not None:
                result.set_exception(failure)
                continue
            try:
                result.set_result(self._view.edge_table(read.name, read.props) if read.edges
                                  else self._view.node_table(read.name, read.props))
            except Exception as exc:  # noqa: BLE001 - re-raised in the caller, who takes it next
                failure = exc
                result.set_exception(exc)

    def _take(self, read: TableRead) -> pd.DataFrame:
        if self._left[read] <= 0:
            raise PlanMismatch(f"read not planned: {read}")
        self._left[read] -= 1
        frame = self._results[read].result()
        if self._left[read]:
            return frame.copy()   # each taker may change its own frame
        del self._results[read]   # the caller holds the frame now; let it go with it
        return frame

    def node_table(self, label: str, props: Sequence[str]) -> pd.DataFrame:
        return self._take(node_read(label, props))

    def edge_table(self, type: str, props: Sequence[str] = ()) -> pd.DataFrame:
        return self._take(edge_read(type, props))
