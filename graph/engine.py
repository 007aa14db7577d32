"""The coverage engine of a store: the facts snapshot, rebuilt when a run commits.

A long-running reader (the API server) asks for ``facts()`` on every request; the
snapshot is rebuilt only when the store's version changed, and while a rebuild runs
other threads keep using the previous snapshot (published next to the live one, then
one pointer flipped — yente's alias pattern), so a nightly run never stalls the pages.
"""

from __future__ import annotations

import threading

from graph.facts import Facts, build_facts
from graph.store import Store


class CoverageEngine:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._facts: Facts | None = None
        self._lock = threading.Lock()

    def facts(self) -> Facts:
        current = self._facts
        version = self.store.view().version()
        if current is not None and current.version == version:
            return current
        if current is not None and not self._lock.acquire(blocking=False):
            return current  # someone is rebuilding; serve the previous snapshot meanwhile
        if current is None:
            self._lock.acquire()
        try:
            if self._facts is None or self._facts.version != version:
                self._facts = build_facts(self.store.view())
            return self._facts
        finally:
            self._lock.release()
