"""The run report: a table for people, JSON for schedulers. Both read the run record."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from rich.console import Console
from rich.table import Table

from graph.store import RunRecord

COLUMNS = (
    ("kind", "类型"), ("rows_read", "读取"), ("created", "新增"), ("updated", "更新"),
    ("unchanged", "未变"), ("deactivated", "注销/失效"), ("quarantined", "隔离"),
    ("duplicates_merged", "重复合并"), ("unknown_references", "待关联引用"),
)

#: the run's phases (``ingest.pipeline.PHASES``) as the report names them
PHASES_ZH = {"read": "读取", "clean": "校验", "write": "写入", "link": "关联",
             "snapshot": "趋势快照"}


def run_as_json(record: RunRecord) -> dict[str, Any]:
    return asdict(record)


def render_run(record: RunRecord, console: Console) -> None:
    table = Table(title=f"导入批次 #{record.run_id}  {record.started_at} → {record.finished_at}"
                        f"  [{record.status}]")
    for name, zh in COLUMNS:
        if name == "kind":   # the row label: never truncated, even on an 80-column terminal
            table.add_column(zh, no_wrap=True, min_width=14)
        else:
            table.add_column(zh, justify="right")
    table.add_column("编码")
    totals = {name: 0 for name, _ in COLUMNS[1:]}
    for f in record.files:
        table.add_row(*(str(getattr(f, name)) for name, _ in COLUMNS), f.encoding or "xlsx")
        for name in totals:
            totals[name] += getattr(f, name)
    table.add_row("合计", *(str(totals[n]) for n, _ in COLUMNS[1:]), "", style="bold")
    console.print(table)
    for f in record.files:
        if f.reasons:
            reasons = ", ".join(f"{code} {n}" for code, n in sorted(f.reasons.items()))
            console.print(f"  {f.kind} 隔离原因: {reasons}")
        if f.quarantine_file:
            console.print(f"  {f.kind} 隔离文件: {f.quarantine_file}")
    console.print(f"待关联引用 (unknown_reference): {record.pending_references};"
                  f" 本批新关联: {record.resolved_references}")
    if record.seconds:
        spent = " · ".join(f"{PHASES_ZH.get(k, k)} {v:.1f}" for k, v in record.seconds.items())
        console.print(f"用时(秒): {spent}")
