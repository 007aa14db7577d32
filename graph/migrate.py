"""Moving everything from one store into another (``fugai migrate --to neo4j://…``).

The target must be empty: a migration copies a store, it does not merge two. Afterwards
both stores are counted and must agree, label by label and type by type, or the
migration reports what differs (the source is never changed).
"""

from __future__ import annotations

from typing import Any

from graph.errors import FugaiError, UsageError
from graph.store import Store


class MigrationMismatch(FugaiError):
    """The target's counts differ from the source's after a migration."""

    http_status = 500
    exit_code = 9
    title = "迁移后数量不一致"


def is_empty(store: Store) -> bool:
    view = store.view()
    counts = view.counts()
    return not view.runs(limit=1) and not any(k != "edges" for k in counts) \
        and not counts.get("edges")


def migrate(source: Store, target: Store) -> dict[str, Any]:
    """Copy ``source`` into the empty ``target``; returns what was moved."""
    if source.uri == target.uri:
        raise UsageError("源数据库与目标数据库相同")
    if not is_empty(target):
        raise UsageError(f"目标数据库 {target.uri} 不为空: 迁移只写入空数据库")
    before = source.view().counts()
    dump = source.dump()
    target.restore(dump)
    after = target.view().counts()
    if after != before:
        diff = {k: (before.get(k), after.get(k)) for k in before.keys() | after.keys()
                if before.get(k) != after.get(k)}
        raise MigrationMismatch(f"迁移后数量不一致: {diff}")
    return {"from": source.uri, "to": target.uri, "counts": after,
            "runs": len(dump.runs)}
