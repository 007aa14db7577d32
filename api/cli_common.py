"""What every ``fugai`` command shares: the typer app, consoles, output formats and
opening the store. Commands live in ``api.cli`` (ingest, runs, status, demo) and
``api.cli_coverage`` (the coverage reports)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from enum import Enum
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from graph.settings import get_settings
from graph.store import Store
from graph.stores import open_store

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="fugai — 两新组织党组织覆盖 (coverage tracker)")
console = Console()
err_console = Console(stderr=True)


class Format(str, Enum):
    table = "table"
    json = "json"


StoreOpt = Annotated[str | None, typer.Option("--store", help="数据库文件路径或 neo4j:// 地址 (FUGAI_STORE)")]
FormatOpt = Annotated[Format, typer.Option("--format", help="table 或 json")]

T = TypeVar("T")


def store_uri(store: str | None) -> str:
    return store or get_settings().store_uri()


def with_store(uri: str, fn: Callable[[Store], T]) -> T:
    store = open_store(uri)
    try:
        return fn(store)
    finally:
        store.close()


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
