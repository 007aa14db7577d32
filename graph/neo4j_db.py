"""The Neo4j connection: sessions on one database, managed transactions, schema upgrades.

Every call names its database (``database=`` on every session, as Neo4j's docs advise:
it saves a round trip and never lands on the wrong default). Statements are looked up
by name in ``graph.neo4j_cypher``; values travel only as parameters. Write work runs in
``execute_write`` (retried by the driver on transient errors such as deadlocks or a
leader switch), so each unit must be idempotent, which MERGE/SET statements are.
Schema statements and ``CALL … IN TRANSACTIONS`` cannot run inside a managed
transaction: they go through ``auto`` (an auto-commit ``session.run``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol, TypeVar

from graph import neo4j_cypher as cy
from graph.errors import StoreUnavailable

T = TypeVar("T")
Rows = list[dict[str, Any]]


class Tx(Protocol):
    """What a unit of work may do inside one transaction."""

    def run(self, name: str, **params: Any) -> Rows: ...


class _ManagedTx:
    def __init__(self, tx: Any) -> None:
        self._tx = tx

    def run(self, name: str, **params: Any) -> Rows:
        result: Rows = self._tx.run(cy.q(name), params).data()
        return result


def _unavailable(uri: str, database: str, exc: Exception) -> StoreUnavailable:
    """One line a member of staff (or their IT) can act on, for each way a connection fails."""
    from neo4j import exceptions as ne

    if isinstance(exc, ne.AuthError):
        return StoreUnavailable(
            f"Neo4j {uri} 拒绝登录: 用户名或密码错误 (FUGAI_NEO4J_USER / FUGAI_NEO4J_PASSWORD)")
    if isinstance(exc, ne.ServiceUnavailable | ne.SessionExpired | OSError):
        return StoreUnavailable(f"无法连接 Neo4j {uri}: 服务器不可达或未启动")
    if isinstance(exc, ne.ConfigurationError):
        return StoreUnavailable(f"Neo4j 地址无效 {uri}: {exc}")
    if isinstance(exc, ne.ClientError) and "Database" in str(getattr(exc, "code", "")):
        return StoreUnavailable(f"Neo4j {uri} 上没有数据库 {database} (FUGAI_NEO4J_DATABASE)")
    return StoreUnavailable(f"Neo4j {uri} 出错: {type(exc).__name__}: {exc}")


class Database:
    """One Neo4j database through one driver (the driver pools its connections)."""

    def __init__(self, driver: Any, uri: str, database: str) -> None:
        self.driver = driver
        self.uri = uri
        self.database = database

    @classmethod
    def connect(cls, uri: str, user: str, password: str, database: str) -> Database:
        from neo4j import GraphDatabase
        from neo4j import exceptions as ne

        # the driver logs connection failures itself; the one line below says it all
        logging.getLogger("neo4j").setLevel(logging.CRITICAL)
        try:
            driver = GraphDatabase.driver(uri, auth=(user, password))
            db = cls(driver, uri, database)
            with driver.session(database=database) as session:
                session.run(cy.q("ping")).consume()
        except (ne.Neo4jError, ne.DriverError, OSError, ValueError) as exc:
            raise _unavailable(uri, database, exc) from None
        return db

    def _guard(self, fn: Callable[[], T]) -> T:
        from neo4j import exceptions as ne

        try:
            return fn()
        except (ne.ServiceUnavailable, ne.SessionExpired, ne.AuthError) as exc:
            raise _unavailable(self.uri, self.database, exc) from None

    def read(self, name: str, **params: Any) -> Rows:
        def work() -> Rows:
            with self.driver.session(database=self.database) as session:
                rows: Rows = session.execute_read(lambda tx: _ManagedTx(tx).run(name, **params))
                return rows
        return self._guard(work)

    def write(self, unit: Callable[..., T], *args: Any) -> T:
        """Run ``unit(tx, *args)`` in one managed write transaction (retried as a whole,
        so ``unit`` must not change anything outside the transaction)."""
        def work() -> T:
            with self.driver.session(database=self.database) as session:
                result: T = session.execute_write(lambda tx: unit(_ManagedTx(tx), *args))
                return result
        return self._guard(work)

    def write_one(self, name: str, **params: Any) -> Rows:
        return self.write(lambda tx: tx.run(name, **params))

    def auto(self, name: str, **params: Any) -> Rows:
        """An auto-commit statement: schema changes and ``CALL … IN TRANSACTIONS``."""
        def work() -> Rows:
            with self.driver.session(database=self.database) as session:
                rows: Rows = session.run(cy.q(name), params).data()
                return rows
        return self._guard(work)

    def close(self) -> None:
        self.driver.close()


def migrate(db: Database) -> int:
    """Bring the database schema to ``SCHEMA_VERSION``: each version's statements run
    once, in order, and the version is recorded after them (the statements say
    ``IF NOT EXISTS``, so a migration cut short is simply run again)."""
    (row,) = db.read("schema_read_version")
    current = int(row["version"])
    if current > cy.SCHEMA_VERSION:
        raise StoreUnavailable(
            f"Neo4j 数据库结构版本 {current} 比本程序 ({cy.SCHEMA_VERSION}) 新: 请升级 fugai")
    for version in sorted(v for v in cy.MIGRATIONS if v > current):
        for i in range(len(cy.MIGRATIONS[version])):
            db.auto(f"schema_v{version}_{i}")
        db.write_one("schema_record_version", version=version,
                     applied_at=datetime.now().isoformat(timespec="seconds"))
    if current < cy.SCHEMA_VERSION:
        db.auto("schema_await_indexes")
    return cy.SCHEMA_VERSION
