"""The coverage engine of a store: the facts snapshot, rebuilt when a run commits.

A long-running reader (the API server) asks for ``facts()`` on every request; the
snapshot is rebuilt only when the store's version changed, and while a rebuild runs
other threads keep using the previous snapshot (published next to the live one, then
one pointer flipped — yente's alias pattern), so a nightly run never stalls the pages.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from graph.facts import Facts, build_facts
from graph.store import Store

T = TypeVar("T")
#: answers kept per snapshot; the data changes only when a run commits
MEMO_SIZE = 512


def _frozen(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    return value


class CoverageEngine:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._facts: Facts | None = None
        self._lock = threading.Lock()
        self._memo: OrderedDict[Any, Any] = OrderedDict()
        self._memo_lock = threading.Lock()

    def query(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(facts, *args, **kwargs)`` on the current snapshot, remembered until the
        next run commits (the same page asked twice is computed once). Callers must not
        change the answer they get; it is shared."""
        facts = self.facts()
        key = (facts.version, fn.__module__, fn.__qualname__, _frozen(args), _frozen(kwargs))
        with self._memo_lock:
            if key in self._memo:
                self._memo.move_to_end(key)
                return self._memo[key]  # type: ignore[no-any-return]
        value = fn(facts, *args, **kwargs)
        with self._memo_lock:
            self._memo[key] = value
            while len(self._memo) > MEMO_SIZE:
                self._memo.popitem(last=False)
        return value

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
