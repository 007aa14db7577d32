"""The one factory the CLI, the API and the tests open stores through."""

from __future__ import annotations

from pathlib import Path

from graph.embedded import EmbeddedStore
from graph.errors import UsageError
from graph.store import Store

NEO4J_SCHEMES = ("neo4j://", "neo4j+s://", "neo4j+ssc://", "bolt://", "bolt+s://", "bolt+ssc://")


def open_store(uri: str) -> Store:
    """A path opens the embedded store; neo4j:// and bolt:// URIs the Neo4j store, with
    the account from ``FUGAI_NEO4J_USER`` / ``FUGAI_NEO4J_PASSWORD`` /
    ``FUGAI_NEO4J_DATABASE`` (docs/neo4j.md)."""
    if uri.startswith(NEO4J_SCHEMES):
        from graph.neo4j_store import Neo4jStore
        from graph.settings import get_settings

        settings = get_settings()
        if not settings.neo4j_password:
            raise UsageError("使用 Neo4j 时必须设置 FUGAI_NEO4J_PASSWORD")
        return Neo4jStore.connect(uri, user=settings.neo4j_user, password=settings.neo4j_password,
                          database=settings.neo4j_database)
    if "://" in uri:
        raise UsageError(f"不支持的存储地址: {uri}")
    return EmbeddedStore(Path(uri).expanduser())
