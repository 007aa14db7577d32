"""Every Cypher statement the Neo4j store sends, as constants built from the model.

Labels and relationship types cannot be parameters of an index-backed MATCH/MERGE, so
one statement per label (and per relationship type and end labels) is generated here
at import time from ``graph.model`` — from the model's declarations, never from data.
Every value travels as a parameter. ``statements()`` lists all of them, so the offline
check (tests/test_cypher_lint.py, Neo4j's own parser and semantic analysis) sees
exactly what the store can send; the store looks statements up here and nowhere else.

Storage layout (docs/neo4j.md): a node ``(:Label {<key>: …})`` carries the model's
top-level scalar properties (for queries and indexes) plus bookkeeping ``f_props``
(the full property map as JSON, so answers are identical to the embedded store),
``f_hash``, ``f_source``, ``f_active``, ``f_absent_since``, ``f_first_run``,
``f_changed_run``. A relationship carries ``f_props``, ``f_owner_label``,
``f_owner_key``, ``f_hash``, ``f_source``, ``f_active``, ``f_run``. A reference whose
end is not stored yet is a ``(:PendingReference)`` node until a later run brings it.
"""

from __future__ import annotations

from typing import Final

from graph import model as m

SCHEMA_VERSION: Final = 1

# --- bookkeeping labels (not part of the domain model) -------------------------

PENDING: Final = "PendingReference"
SNAPSHOT: Final = "Snapshot"
HISTORY: Final = "HistoryEntry"
META: Final = "FugaiMeta"
LOCK: Final = "FugaiLock"
MIGRATION: Final = "SchemaMigration"

NODE_BOOKKEEPING: Final = ("f_props", "f_hash", "f_source", "f_active", "f_absent_since",
                           "f_first_run", "f_changed_run")
EDGE_BOOKKEEPING: Final = ("f_props", "f_owner_label", "f_owner_key", "f_hash", "f_source",
                           "f_active", "f_run")


def _combos() -> list[tuple[str, str, str]]:
    """Every (type, source label, target label) the model allows."""
    seen: dict[tuple[str, str, str], None] = {}
    for rel in m.ALL_RELATIONSHIPS:
        for target in rel.targets:
            seen[(rel.type, rel.source, target)] = None
    return list(seen)


EDGE_COMBOS: Final = _combos()


def _key(label: str) -> str:
    return m.LABELS[label].key


# --- schema (one list per version; each applied once, in order) ----------------


def _schema_v1() -> list[str]:
    out = [
        f"CREATE CONSTRAINT {lab.name.lower()}_key IF NOT EXISTS "
        f"FOR (n:{lab.name}) REQUIRE n.{lab.key} IS UNIQUE"
        for lab in m.LABELS.values()
    ]
    out += [
        f"CREATE CONSTRAINT pending_id IF NOT EXISTS FOR (p:{PENDING}) REQUIRE p.id IS UNIQUE",
        f"CREATE CONSTRAINT snapshot_id IF NOT EXISTS FOR (s:{SNAPSHOT}) REQUIRE s.id IS UNIQUE",
        f"CREATE CONSTRAINT meta_name IF NOT EXISTS FOR (c:{META}) REQUIRE c.name IS UNIQUE",
        f"CREATE CONSTRAINT lock_name IF NOT EXISTS FOR (l:{LOCK}) REQUIRE l.name IS UNIQUE",
        (f"CREATE CONSTRAINT migration_version IF NOT EXISTS "
        f"FOR (v:{MIGRATION}) REQUIRE v.version IS UNIQUE"),
        f"CREATE INDEX pending_type IF NOT EXISTS FOR (p:{PENDING}) ON (p.type)",
        (f"CREATE INDEX pending_owner IF NOT EXISTS FOR (p:{PENDING}) "
        "ON (p.owner_label, p.owner_key)"),
        f"CREATE INDEX snapshot_scope IF NOT EXISTS FOR (s:{SNAPSHOT}) ON (s.scope_kind, s.code)",
        f"CREATE INDEX snapshot_run IF NOT EXISTS FOR (s:{SNAPSHOT}) ON (s.run_id)",
        f"CREATE INDEX history_node IF NOT EXISTS FOR (h:{HISTORY}) ON (h.label, h.key)",
        (f"CREATE INDEX organization_region IF NOT EXISTS FOR (o:{m.ORGANIZATION}) "
        "ON (o.region_code)"),
        (f"CREATE INDEX organization_industry IF NOT EXISTS FOR (o:{m.ORGANIZATION}) "
        "ON (o.industry_code)"),
    ]
    return out


#: version -> schema statements; a later model change appends a version, never edits one
MIGRATIONS: Final[dict[int, list[str]]] = {1: _schema_v1()}
assert max(MIGRATIONS) == SCHEMA_VERSION

SCHEMA_READ_VERSION: Final = (
    f"OPTIONAL MATCH (v:{MIGRATION}) RETURN coalesce(max(v.version), 0) AS version")
SCHEMA_RECORD_VERSION: Final = (
    f"MERGE (v:{MIGRATION} {{version: $version}}) SET v.applied_at = $applied_at")
SCHEMA_AWAIT_INDEXES: Final = "CALL db.awaitIndexes(300)"

# --- nodes, per label ------------------------------------------------------------


def _node_statements(label: str) -> dict[str, str]:
    k = _key(label)
    return {
        f"node_upsert:{label}": (
            "UNWIND $rows AS row "
            f"MERGE (n:{label} {{{k}: row.key}}) "
            "WITH n, row, coalesce(n.f_first_run, $run) AS first "
            "SET n = row.all "
            "SET n.f_first_run = first"),
        # the state before an update; none when the stored row already is the new one
        # (a run that died half way wrote it, and this run completes that one)
        f"node_history:{label}": (
            "UNWIND $rows AS row "
            f"MATCH (n:{label} {{{k}: row.key}}) "
            "WHERE n.f_hash IS NULL OR n.f_hash <> row.hash "
            f"CREATE (:{HISTORY} {{label: $label, key: row.key, run_id: $run, seq: row.seq, "
            "change: $change, before: n.f_props})"),
        f"node_ensure:{label}": (
            "UNWIND $rows AS row "
            f"MERGE (n:{label} {{{k}: row.key}}) "
            "ON CREATE SET n += row.all, n.f_first_run = $run, n.f_changed_run = $run"),
        f"node_deactivate:{label}": (
            "UNWIND $rows AS row "
            f"MATCH (n:{label} {{{k}: row.key}}) "
            f"CREATE (:{HISTORY} {{label: $label, key: row.key, run_id: $run, seq: row.seq, "
            "change: $change, before: n.f_props}) "
            "SET n.f_active = false, n.f_absent_since = $date, n.f_changed_run = $run"),
        f"node_states:{label}": (
            f"MATCH (n:{label}) "
            f"RETURN n.{k} AS key, n.f_hash AS hash, n.f_active AS active, "
            "n.f_absent_since IS NOT NULL AS absent, n.f_source AS source, "
            "n.f_changed_run AS run"),
        f"node_existing:{label}": (
            "UNWIND $keys AS key "
            f"MATCH (n:{label} {{{k}: key}}) RETURN key"),
        f"node_props:{label}": (
            "UNWIND $keys AS key "
            f"MATCH (n:{label} {{{k}: key}}) RETURN key, n.f_props AS props"),
        f"node_all:{label}": (
            f"MATCH (n:{label}) "
            f"RETURN n.{k} AS key, n.f_props AS props, n.f_active AS active, "
            "n.f_absent_since AS absent_since, n.f_first_run AS first_run, "
            "n.f_changed_run AS changed_run, n.f_hash AS hash, n.f_source AS source"),
        f"node_one:{label}": (
            f"MATCH (n:{label} {{{k}: $key}}) "
            "RETURN n.f_props AS props, n.f_active AS active, "
            "n.f_absent_since AS absent_since, n.f_first_run AS first_run, "
            "n.f_changed_run AS changed_run"),
        f"node_table:{label}": (
            f"MATCH (n:{label}) "
            f"RETURN n.{k} AS key, n.f_active AS active, n.f_first_run AS first_run, "
            "n.f_props AS props"),
        f"node_count:{label}": (
            f"MATCH (n:{label}) "
            "RETURN count(n) AS total, sum(CASE WHEN n.f_active THEN 1 ELSE 0 END) AS active"),
        f"node_restore:{label}": (
            "UNWIND $rows AS row "
            f"MERGE (n:{label} {{{k}: row.key}}) "
            "SET n = row.all"),
    }


# --- relationships, per (type, source label, target label) ----------------------


def _edge_statements(type: str, src: str, dst: str) -> dict[str, str]:
    ks, kd = _key(src), _key(dst)
    tag = f"{type}:{src}:{dst}"
    path = f"(a:{src})-[r:{type}]->(b:{dst})"
    return {
        f"edge_merge:{tag}": (
            "UNWIND $rows AS row "
            f"MATCH (a:{src} {{{ks}: row.src}}) "
            f"MATCH (b:{dst} {{{kd}: row.dst}}) "
            f"MERGE (a)-[r:{type}]->(b) "
            "SET r = row.rel "
            "RETURN row.i AS i"),
        f"edge_row_states:{tag}": (
            f"MATCH {path} WHERE r.f_owner_label IS NULL "
            f"RETURN a.{ks} AS src, b.{kd} AS dst, r.f_hash AS hash, r.f_active AS active, "
            "r.f_source AS source, r.f_run AS run"),
        f"edge_deactivate:{tag}": (
            "UNWIND $pairs AS pair "
            f"MATCH (a:{src} {{{ks}: pair[0]}})-[r:{type}]->(b:{dst} {{{kd}: pair[1]}}) "
            "WHERE r.f_owner_label IS NULL "
            "SET r.f_active = false, r.f_run = $run"),
        f"edge_all:{tag}": (
            f"MATCH {path} "
            f"RETURN a.{ks} AS src, b.{kd} AS dst, r.f_props AS props, r.f_active AS active, "
            "r.f_owner_label AS owner_label, r.f_owner_key AS owner_key, r.f_hash AS hash, "
            "r.f_source AS source, r.f_run AS run"),
        f"edge_table:{tag}": (
            f"MATCH {path} WHERE r.f_active "
            f"RETURN a.{ks} AS src, b.{kd} AS dst, r.f_props AS props"),
        f"edge_count:{tag}": (
            f"MATCH {path} WHERE r.f_active RETURN count(r) AS n"),
    }


def _owned_delete(label: str) -> dict[str, str]:
    """Owned edges always start at their owner (the row that declared them)."""
    k = _key(label)
    return {
        f"edge_delete_owned:{label}": (
            "UNWIND $keys AS key "
            f"MATCH (a:{label} {{{k}: key}})-[r]->() "
            "WHERE r.f_owner_label = $label AND r.f_owner_key = key "
            "DELETE r"),
    }


# --- pending references, runs, snapshots, history -----------------------------------

PENDING_MERGE: Final = (
    "UNWIND $rows AS row "
    f"MERGE (p:{PENDING} {{id: row.id}}) "
    "SET p = row.all")
PENDING_DELETE_OWNED: Final = (
    "UNWIND $keys AS key "
    f"MATCH (p:{PENDING} {{owner_label: $label, owner_key: key}}) "
    "DELETE p")
PENDING_DELETE: Final = (
    "UNWIND $ids AS id "
    f"MATCH (p:{PENDING} {{id: id}}) "
    "DELETE p")
PENDING_ALL: Final = (
    f"MATCH (p:{PENDING}) "
    "RETURN properties(p) AS p ORDER BY p.type, p.src_key, p.dst_key")
PENDING_BY_TYPE: Final = (
    f"MATCH (p:{PENDING} {{type: $type}}) "
    "RETURN properties(p) AS p ORDER BY p.src_key, p.dst_key")
PENDING_DEACTIVATE: Final = (
    "UNWIND $pairs AS pair "
    f"MATCH (p:{PENDING} {{type: $type, src_key: pair[0], dst_key: pair[1]}}) "
    "WHERE p.owner_label IS NULL "
    "SET p.f_active = false, p.run = $run")
PENDING_COUNT: Final = (
    f"MATCH (p:{PENDING}) WHERE p.f_active "
    "RETURN p.type AS type, count(p) AS n")

#: take the ingest lock (the SET locks the node before its holder is read)
LOCK_ACQUIRE: Final = (
    f"MERGE (l:{LOCK} {{name: 'ingest'}}) "
    "SET l.touched = $now "
    "WITH l, l.run_id AS holder, l.heartbeat AS heartbeat "
    "WHERE holder IS NULL OR heartbeat < $stale_before "
    f"MERGE (c:{META} {{name: 'store'}}) "
    "SET c.last_run_id = coalesce(c.last_run_id, 0) + 1 "
    "SET l.run_id = c.last_run_id, l.heartbeat = $now "
    "RETURN c.last_run_id AS run_id, holder")
LOCK_HEARTBEAT: Final = (
    f"MATCH (l:{LOCK} {{name: 'ingest'}}) WHERE l.run_id = $run "
    "SET l.heartbeat = $now")
LOCK_RELEASE: Final = (
    f"MATCH (l:{LOCK} {{name: 'ingest'}}) WHERE l.run_id = $run "
    "REMOVE l.run_id, l.heartbeat")

RUN_BEGIN: Final = (
    f"CREATE (r:{m.INGEST_RUN} {{run_id: $run, started_at: $started_at, status: 'running', "
    "f_record: '{}'})")
#: a run whose process died (its lock went stale) is incomplete until run again
RUN_MARK_STALE: Final = (
    f"MATCH (r:{m.INGEST_RUN}) WHERE r.status = 'running' AND r.run_id <> $run "
    "SET r.status = 'incomplete'")
RUN_END: Final = (
    f"MATCH (r:{m.INGEST_RUN} {{run_id: $run}}) "
    "SET r.finished_at = $finished_at, r.status = $status, r.f_record = $record "
    "WITH r "
    f"MERGE (c:{META} {{name: 'store'}}) "
    "SET c.version = coalesce(c.version, 0) + 1 "
    "FOREACH (_ IN CASE WHEN $status = 'complete' THEN [1] ELSE [] END | "
    "  SET c.last_complete_run = $run)")
RUN_INCOMPLETE: Final = (
    f"MATCH (r:{m.INGEST_RUN}) WHERE r.status = 'incomplete' RETURN r.run_id AS run_id")
RUN_LIST: Final = (
    f"MATCH (r:{m.INGEST_RUN}) WHERE r.status <> 'running' "
    "RETURN r.run_id AS run_id, r.started_at AS started_at, r.finished_at AS finished_at, "
    "r.status AS status, r.f_record AS record "
    "ORDER BY r.run_id DESC LIMIT $limit")
RUN_RESTORE: Final = (
    "UNWIND $rows AS row "
    f"MERGE (r:{m.INGEST_RUN} {{run_id: row.run_id}}) "
    "SET r = row")
META_VERSION: Final = (
    f"OPTIONAL MATCH (c:{META} {{name: 'store'}}) "
    "RETURN c.last_complete_run AS last_run, c.version AS version, "
    "c.last_run_id AS last_run_id")
META_RESTORE: Final = (
    f"MERGE (c:{META} {{name: 'store'}}) "
    "SET c.last_run_id = $last_run_id, c.last_complete_run = $last_complete_run, "
    "c.version = coalesce(c.version, 0) + 1")

SNAPSHOT_MERGE: Final = (
    "UNWIND $rows AS row "
    f"MERGE (s:{SNAPSHOT} {{id: row.id}}) "
    "SET s.run_id = row.run_id, s.scope_kind = row.scope_kind, s.code = row.code, "
    "s.figures = row.figures")
SNAPSHOT_LAST_ALL: Final = (
    f"MATCH (s:{SNAPSHOT} {{scope_kind: 'all'}}) "
    "RETURN s.run_id AS run_id, s.figures AS figures "
    "ORDER BY s.run_id DESC LIMIT 1")
SNAPSHOT_COPY: Final = (
    f"MATCH (s:{SNAPSHOT} {{run_id: $source}}) "
    "WITH s, toString($run) + '|' + s.scope_kind + '|' + s.code AS id "
    f"MERGE (t:{SNAPSHOT} {{id: id}}) "
    "SET t.run_id = $run, t.scope_kind = s.scope_kind, t.code = s.code, t.figures = s.figures")
SNAPSHOT_SCOPE: Final = (
    f"MATCH (s:{SNAPSHOT} {{scope_kind: $scope_kind, code: $code}}) "
    "RETURN s.run_id AS run_id, s.figures AS figures ORDER BY s.run_id")
SNAPSHOT_ALL: Final = (
    f"MATCH (s:{SNAPSHOT}) "
    "RETURN s.run_id AS run_id, s.scope_kind AS scope_kind, s.code AS code, "
    "s.figures AS figures ORDER BY s.scope_kind, s.code, s.run_id")

HISTORY_NODE: Final = (
    f"MATCH (h:{HISTORY} {{label: $label, key: $key}}) "
    "RETURN h.run_id AS run_id, h.change AS change, h.before AS before "
    "ORDER BY h.run_id, h.seq")
HISTORY_ALL: Final = (
    f"MATCH (h:{HISTORY}) "
    "RETURN h.label AS label, h.key AS key, h.run_id AS run_id, h.change AS change, "
    "h.before AS before ORDER BY h.run_id, h.seq")
HISTORY_RESTORE: Final = (
    "UNWIND $rows AS row "
    f"CREATE (h:{HISTORY}) SET h = row")

#: empties the database (tests against a throw-away server, ``fugai migrate --replace``);
#: ``CALL … IN TRANSACTIONS`` only runs in an auto-commit transaction (session.run)
WIPE: Final = "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
PING: Final = "RETURN 1 AS ok"


def _build() -> dict[str, str]:
    out: dict[str, str] = {}
    for label in m.LABELS:
        out.update(_node_statements(label))
        out.update(_owned_delete(label))
    for combo in EDGE_COMBOS:
        out.update(_edge_statements(*combo))
    for name, value in sorted(globals().items()):
        if name.isupper() and isinstance(value, str) and name not in _NOT_STATEMENTS:
            out[name.lower()] = value
    for version, stmts in MIGRATIONS.items():
        for i, stmt in enumerate(stmts):
            out[f"schema_v{version}_{i}"] = stmt
    return out


_NOT_STATEMENTS: Final = {"PENDING", "SNAPSHOT", "HISTORY", "META", "LOCK", "MIGRATION"}
_STATEMENTS: Final = _build()


def statements() -> dict[str, str]:
    """Every statement the store can send, by name (a copy)."""
    return dict(_STATEMENTS)


def q(name: str) -> str:
    """The statement called ``name`` (KeyError for a name this module does not define)."""
    return _STATEMENTS[name]


def db_schema() -> dict[str, list[str]]:
    """Labels, relationship types and property keys, for the linter's schema warnings."""
    labels = [*m.LABELS, PENDING, SNAPSHOT, HISTORY, META, LOCK, MIGRATION]
    rel_types = sorted({t for t, _, _ in EDGE_COMBOS})
    props: set[str] = set(NODE_BOOKKEEPING) | set(EDGE_BOOKKEEPING)
    for lab in m.LABELS.values():
        props.update(lab.properties)
        props.add(lab.key)
    for rel in m.RELATIONSHIPS.values():
        props.update(rel.properties)
    props.update({
        "id", "type", "src_label", "src_key", "dst_label", "dst_key", "owner_label",
        "owner_key", "run", "run_id", "scope_kind", "code", "figures", "label", "key", "seq",
        "change", "before", "name", "last_run_id", "last_complete_run", "version",
        "heartbeat", "touched", "applied_at", "started_at", "finished_at", "status",
        "f_record",
        # fields of the ``row`` maps that UNWIND hands to the statements
        "all", "rel", "src", "dst", "i", "hash",
    })
    return {"labels": labels, "relationshipTypes": rel_types, "propertyKeys": sorted(props)}
