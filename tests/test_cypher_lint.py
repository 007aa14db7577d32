"""Every Cypher statement the Neo4j store can send, checked offline with Neo4j's own
parser and semantic analysis (npm ``@neo4j-cypher/language-support``, ``lintCypherQuery``,
installed by scripts/install-cypher-lint.sh from ``make test``).

No server runs here, so this is what catches a typo, an undefined variable or a
misspelled label or property before a deployment does: errors and warnings both fail.
The linter gets a schema built from ``graph.model`` (labels, relationship types,
property keys), so a name the model does not declare is reported.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from graph import neo4j_cypher as cy

LINT_DIR = Path(__file__).resolve().parent.parent / "tools" / "cypher-lint"
PACKAGE = LINT_DIR / "node_modules" / "@neo4j-cypher" / "language-support"


def _lint(statements: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    node = shutil.which("node")
    if node is None or not PACKAGE.exists():
        pytest.skip("Cypher check not run: node or @neo4j-cypher/language-support missing "
                    "(scripts/install-cypher-lint.sh installs them)")
    payload = {"schema": {**cy.db_schema(), "defaultLanguage": "CYPHER 5"},
               "statements": statements}
    done = subprocess.run([node, str(LINT_DIR / "lint.mjs")], input=json.dumps(payload),
                          capture_output=True, text=True, cwd=LINT_DIR, timeout=600,
                          check=False)
    assert done.returncode == 0, done.stderr
    result: dict[str, list[dict[str, Any]]] = json.loads(done.stdout)
    return result


@pytest.fixture(scope="module")
def diagnostics() -> dict[str, list[dict[str, Any]]]:
    probes = {
        "probe_undefined_variable": "MATCH (n:Organization) RETURN m",
        "probe_misspelled_label": "MATCH (n:Organizaton) RETURN n.uscc AS uscc",
        "probe_misspelled_row_field": (
            "UNWIND $rows AS row MERGE (n:Organization {uscc: row.key}) SET n.name = rwo.name"),
        "probe_syntax": "UNWIND $rows AS row MERGE (n:Organization {uscc: row.key} SET n = row.all",
    }
    return _lint({**cy.statements(), **probes})


def test_every_statement_passes_neo4j_parser_and_semantic_check(
        diagnostics: dict[str, list[dict[str, Any]]]) -> None:
    found = {name: diags for name, diags in diagnostics.items()
             if diags and not name.startswith("probe_")}
    assert found == {}, json.dumps(found, ensure_ascii=False, indent=1)
    assert set(cy.statements()) <= set(diagnostics)


def test_the_checker_catches_real_mistakes(diagnostics: dict[str, list[dict[str, Any]]]) -> None:
    """The check is only worth something if it fails on the mistakes it is there for."""
    def messages(name: str) -> str:
        return " | ".join(d["message"] for d in diagnostics[name])

    assert "Variable `m` not defined" in messages("probe_undefined_variable")
    assert "Organizaton" in messages("probe_misspelled_label")
    assert "Variable `rwo` not defined" in messages("probe_misspelled_row_field")
    assert any(d["severity"] == 1 for d in diagnostics["probe_syntax"])


def test_statements_cover_every_label_and_relationship_of_the_model() -> None:
    """Generated from the model: a new label or relationship gets its statements."""
    names = set(cy.statements())
    from graph import model as m

    for label in m.LABELS:
        assert f"node_upsert:{label}" in names and f"node_table:{label}" in names
    for rel in m.RELATIONSHIPS.values():
        for target in rel.targets:
            assert f"edge_merge:{rel.type}:{rel.source}:{target}" in names
    schema = [s for n, s in cy.statements().items() if n.startswith("schema_v1_")]
    for lab in m.LABELS.values():
        assert any(f"(n:{lab.name}) REQUIRE n.{lab.key} IS UNIQUE" in s for s in schema)


def test_node_merges_match_on_the_constrained_key_only() -> None:
    """MERGE on the key alone, then SET the rest: a wider MERGE pattern duplicates nodes
    as soon as another property changes."""
    import re

    from graph import model as m

    merge = re.compile(r"MERGE \((\w+):(\w+) \{([^}]*)\}\)")
    checked = 0
    for name, stmt in cy.statements().items():
        for _var, label, body in merge.findall(stmt):
            props = [part.split(":")[0].strip() for part in body.split(",")]
            assert len(props) == 1, (name, body)
            if label in m.LABELS:
                assert props == [m.LABELS[label].key], (name, body)
            checked += 1
    assert checked > len(m.LABELS)
