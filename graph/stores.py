"""The one factory the CLI, the API and the tests open stores through."""

from __future__ import annotations

from pathlib import Path

from graph.embedded import EmbeddedStore
from graph.errors import UsageError
from graph.store import Store


def open_store(uri: str) -> Store:
    """A path opens the embedded store; neo4j:// and bolt:// URIs the Neo4j store."""
    if uri.startswith(("neo4j://", "neo4j+s://", "bolt://", "bolt+s://")):
        raise UsageError("Neo4j 存储尚未提供 (见 issue 4); 请使用本地数据库文件路径")
    if "://" in uri:
        raise UsageError(f"不支持的存储地址: {uri}")
    return EmbeddedStore(Path(uri).expanduser())
