"""The ``fugai`` command line. Thin: it parses arguments, calls the same functions the
API calls, and renders results as a table or as JSON (``--format json``) for scripts
and schedulers. Domain errors become one line on stderr and their exit code."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.cli_common import (
    Format,
    FormatOpt,
    StoreOpt,
    app,
    console,
    err_console,
    print_json,
    store_uri,
    with_store,
)
from graph import redact
from graph.errors import FugaiError, UsageError
from graph.settings import get_settings, person_key
from graph.store import Store
from graph.stores import open_store
from ingest import shard
from ingest.headers import EMPTY_MAPPING, load_mapping
from ingest.pipeline import IngestRequest, run_ingest
from ingest.report import render_run, run_as_json


class Mode(str, Enum):
    full = "full"
    delta = "delta"


@contextmanager
def _progress(fmt: Format) -> Iterator[Callable[[str, int, int], None] | None]:
    """A progress bar over the run's files on a terminal; nothing for JSON or cron."""
    if fmt is Format.json or not sys.stderr.isatty():
        yield None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err_console, transient=True) as bar:
        task = bar.add_task("导入", total=None)

        def show(label: str, step: int, total: int) -> None:
            bar.update(task, description=label, completed=step, total=total)
        yield show


def ingest_files(uri: str, requests: list[IngestRequest], fmt: Format,
                 today: date | None = None) -> dict[str, Any]:
    """Run one ingest and print its report; shared by ``ingest`` and ``demo``."""
    settings = get_settings()
    workers = shard.workers(settings.ingest_workers)

    def go(store: Store) -> dict[str, Any]:
        with _progress(fmt) as progress:
            record = run_ingest(store, requests, person_key=person_key(settings, uri),
                                quarantine_dir=settings.quarantine_path(), today=today,
                                progress=progress, coverage=settings.coverage(),
                                workers=workers)
        if fmt is Format.table:
            render_run(record, console)
        return run_as_json(record)
    return with_store(uri, go)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="CSV / XLSX 文件")],
    kind: Annotated[str | None, typer.Option(help="数据类型; 不指定时按表头识别")] = None,
    mode: Annotated[Mode, typer.Option(help="full = 全量快照, delta = 增量 (默认)")] = Mode.delta,
    mapping: Annotated[Path | None, typer.Option(help="表头映射文件 (TOML/YAML)")] = None,
    source: Annotated[str | None, typer.Option(help="数据来源名 (默认为类型名)")] = None,
    sheet: Annotated[str | None, typer.Option(help="XLSX 工作表名")] = None,
    encoding: Annotated[str | None, typer.Option(help="强制 CSV 编码")] = None,
    last_row_wins: Annotated[bool, typer.Option(help="同键冲突行取最后一行")] = False,
    store: StoreOpt = None,
    format: FormatOpt = Format.table,
) -> None:
    """导入登记数据 (one run, one transaction)."""
    user_mapping = load_mapping(mapping) if mapping else EMPTY_MAPPING
    requests = [IngestRequest(p, kind, mode.value, source, sheet, encoding, user_mapping,
                              last_row_wins) for p in paths]
    result = ingest_files(store_uri(store), requests, format)
    if format is Format.json:
        print_json(result)


@app.command()
def runs(store: StoreOpt = None, format: FormatOpt = Format.table,
         limit: Annotated[int, typer.Option(help="最多显示几批")] = 20) -> None:
    """导入批次历史."""
    records = with_store(store_uri(store), lambda s: s.view().runs(limit))
    if format is Format.json:
        print_json([run_as_json(r) for r in records])
        return
    table = Table(title="导入批次")
    for col in ("批次", "开始", "结束", "状态", "文件", "读取", "新增", "更新", "未变", "注销/失效", "隔离"):
        table.add_column(col)
    for r in records:
        sums = [sum(getattr(f, a) for f in r.files) for a in
                ("rows_read", "created", "updated", "unchanged", "deactivated", "quarantined")]
        table.add_row(str(r.run_id), r.started_at, r.finished_at or "", r.status,
                      str(len(r.files)), *map(str, sums))
    console.print(table)


@app.command()
def status(store: StoreOpt = None, format: FormatOpt = Format.table) -> None:
    """数据库概况: 各类节点与关系数量, 最近一批导入."""
    uri = store_uri(store)

    def go(s: Store) -> dict[str, Any]:
        view = s.view()
        last = view.runs(1)
        return {"store": s.uri, "counts": view.counts(),
                "last_run": run_as_json(last[0]) if last else None}
    data = with_store(uri, go)
    if format is Format.json:
        print_json(data)
        return
    console.print(f"数据库: {data['store']}")
    table = Table(title="节点")
    table.add_column("类型")
    table.add_column("总数", justify="right")
    table.add_column("有效", justify="right")
    for label, c in data["counts"].items():
        if label != "edges":
            table.add_row(label, str(c["total"]), str(c["active"]))
    console.print(table)
    rel = Table(title="关系")
    rel.add_column("类型")
    rel.add_column("数量", justify="right")
    for t, n in data["counts"].get("edges", {}).items():
        rel.add_row(t, str(n))
    console.print(rel)
    if data["last_run"]:
        last = data["last_run"]
        console.print(f"最近导入: #{last['run_id']} {last['finished_at']} ({last['status']})")
    else:
        console.print("尚无导入记录")


@app.command()
def migrate(
    to: Annotated[str, typer.Option("--to", help="目标: neo4j:// 地址或数据库文件路径 (须为空)")],
    store: StoreOpt = None, format: FormatOpt = Format.table,
) -> None:
    """把整个数据库 (含历史、趋势与导入记录) 迁移到另一个存储, 如 Neo4j."""
    from graph.migrate import migrate as copy_store

    source = open_store(store_uri(store))
    try:
        target = open_store(to)
        try:
            data = copy_store(source, target)
        finally:
            target.close()
    finally:
        source.close()
    if format is Format.json:
        print_json(data)
        return
    nodes = sum(c["total"] for k, c in data["counts"].items() if k != "edges")
    edges = sum(data["counts"].get("edges", {}).values())
    console.print(f"已迁移 {data['from']} → {data['to']}: {nodes} 个节点, {edges} 条关系, "
                  f"{data['runs']} 批导入记录")


@app.command()
def demo(
    size: Annotated[str, typer.Option(help="small / city / province")] = "small",
    seed: Annotated[int, typer.Option(help="随机种子")] = 42,
    directory: Annotated[Path | None, typer.Option("--dir", help="演示数据目录")] = None,
    store: StoreOpt = None,
    format: FormatOpt = Format.table,
    serve: Annotated[bool, typer.Option("--serve/--no-serve",
                                        help="导入后启动页面服务 (127.0.0.1)")] = False,
) -> None:
    """生成演示城市数据, 导入, 显示概况; --serve 再启动工作人员页面."""
    from ingest.demo import SIZES, generate_city

    if size not in SIZES:
        raise UsageError(f"未知规模 {size!r}; 可用: {', '.join(SIZES)}")
    settings = get_settings()
    target = directory or settings.data_dir / f"demo-{size}"
    manifest = generate_city(target, size=size, seed=seed)
    if format is Format.table:
        console.print(f"演示数据已生成: {manifest.directory}")
    requests = [IngestRequest(path, kind, "full") for kind, path in manifest.files.items()]
    result = ingest_files(store_uri(store), requests, format)
    if format is Format.json:
        print_json({"demo": str(manifest.directory), "run": result})
    else:
        from api.cli_coverage import summary_cmd

        status(store=store, format=format)
        summary_cmd(by="county", store=store)
        console.print("更多: fugai gaps / org / tree / alliances / trend / stats-sheet (--help)")
    if serve:
        from api.cli_serve import demo_admin
        from api.cli_serve import serve as run_server
        from api.config import ApiSettings

        api_settings = ApiSettings(demo=True, store=store_uri(store))
        password = demo_admin(api_settings)
        console.print(f"演示管理员: admin / {password}" if password else
                      "演示管理员 admin 已存在 (密码见首次运行的输出, 或 fugai user set admin"
                      " --reset-password)")
        run_server(api_settings)


import api.cli_coverage  # registers the coverage commands on ``app``
import api.cli_serve  # serve, user
import api.cli_viz  # noqa: F401  (viz, chart)


def main() -> None:
    """Entry point. Usage errors are typer's (one message, exit 2); domain errors print
    one line and exit with their class's code; neither shows a traceback."""
    redact.install()
    try:
        app()
    except FugaiError as exc:
        sys.stderr.write(f"错误: {exc.message}\n")
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
