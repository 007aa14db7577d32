"""The deployment files: docker-compose.yml checked offline by docker-compose itself,
and the nightly inbox that its ingest service runs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from api.inbox import next_time, process_inbox
from graph.embedded import EmbeddedStore
from graph.rules import CoverageSettings
from tests.conftest import DISTRICT, PERSON_KEY, TODAY

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(shutil.which("docker-compose") is None,
                    reason="docker-compose not installed (scripts/install-test-deps.sh): not run")
def test_compose_file_is_valid(tmp_path: Path) -> None:
    shutil.copy(ROOT / "docker-compose.yml", tmp_path / "docker-compose.yml")
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    res = subprocess.run(["docker-compose", "config"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60, check=False)
    assert res.returncode == 0, res.stderr
    config = yaml.safe_load(res.stdout)
    services = config["services"]
    assert set(services) == {"neo4j", "api", "ingest"}
    assert services["neo4j"]["image"] == "neo4j:5.26-community"
    assert "healthcheck" in services["neo4j"] and "healthcheck" in services["api"]
    assert {v.split(":")[0] if isinstance(v, str) else v["source"]
            for v in services["ingest"]["volumes"]} >= {"fugai-data", "fugai-inbox"}
    # the staff server and the nightly ingest use the Neo4j service, with its password
    neo4j_password = services["neo4j"]["environment"]["NEO4J_AUTH"].split("/", 1)[1]
    for name in ("api", "ingest"):
        env = services[name]["environment"]
        assert env["FUGAI_STORE"] == "neo4j://neo4j:7687"
        assert env["FUGAI_NEO4J_PASSWORD"] == neo4j_password
    # ports are published on the loopback only
    for svc in services.values():
        for port in svc.get("ports", []):
            host_ip = port.get("host_ip") if isinstance(port, dict) else str(port).split(":")[0]
            assert host_ip == "127.0.0.1"


def test_inbox_moves_files_after_the_run(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for f in DISTRICT.glob("*.csv"):
        shutil.copy(f, inbox / f.name)
    (inbox / "~$enterprises.xlsx").write_bytes(b"lock")  # an Excel lock file: left alone
    store = EmbeddedStore(tmp_path / "s.sqlite")
    result = process_inbox(store, inbox, mode="full", person_key=PERSON_KEY,
                           quarantine_dir=tmp_path / "q", coverage=CoverageSettings(),
                           today=TODAY)
    assert result.status == "complete" and len(result.files) == 11
    moved = Path(result.moved_to or "")
    assert moved.parent == inbox / "processed" and (moved / "enterprises.csv").exists()
    assert (moved / "report.json").exists()
    assert sorted(p.name for p in inbox.iterdir()) == ["processed", "~$enterprises.xlsx"]
    assert store.view().counts()["Organization"]["total"] == 14
    again = process_inbox(store, inbox, mode="full", person_key=PERSON_KEY,
                          quarantine_dir=tmp_path / "q", coverage=CoverageSettings())
    assert again.status == "empty"


def test_a_failed_run_keeps_the_files_and_the_store(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "broken.csv").write_text("这不是,任何类型\n1,2\n", encoding="utf-8")
    store = EmbeddedStore(tmp_path / "s.sqlite")
    result = process_inbox(store, inbox, mode="full", person_key=PERSON_KEY,
                           quarantine_dir=tmp_path / "q", coverage=CoverageSettings())
    assert result.status == "failed" and result.error
    failed = Path(result.moved_to or "")
    assert (failed / "broken.csv").exists() and (failed / "error.txt").read_text(
        encoding="utf-8").strip() == result.error
    assert store.view().runs() == []


def test_next_time() -> None:
    from datetime import datetime

    now = datetime(2026, 12, 2, 3, 0)
    assert next_time("02:30", now) == datetime(2026, 12, 3, 2, 30)
    assert next_time("23:15", now) == datetime(2026, 12, 2, 23, 15)
