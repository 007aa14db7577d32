"""Shared fixtures: the hand-built 榕城区 district (tests/fixtures/district) in the
formats real exports come in, and a fresh embedded store per test."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from graph.embedded import EmbeddedStore
from graph.store import RunRecord, Store
from ingest.pipeline import IngestRequest, run_ingest

DISTRICT = Path(__file__).parent / "fixtures" / "district"
TODAY = date(2026, 12, 1)
PERSON_KEY = b"test-person-key-not-secret"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = EmbeddedStore(tmp_path / "store.sqlite")
    yield s
    s.close()


@pytest.fixture
def district_dir(tmp_path: Path) -> Path:
    """A copy of the district files that a test may edit."""
    target = tmp_path / "district"
    shutil.copytree(DISTRICT, target)
    return target


def ingest(store: Store, paths: list[Path], *, mode: str = "full", qdir: Path,
           **kw: object) -> RunRecord:
    requests = [IngestRequest(p, mode=mode, **kw) for p in paths]  # type: ignore[arg-type]
    return run_ingest(store, requests, person_key=PERSON_KEY, quarantine_dir=qdir, today=TODAY)


def district_files(directory: Path = DISTRICT) -> list[Path]:
    return sorted(directory.glob("*.csv"))


def rewrite_csv(src: Path, dst: Path, encoding: str) -> Path:
    dst.write_bytes(src.read_text(encoding="utf-8").encode(encoding))
    return dst


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


EXTRA = DISTRICT.parent / "district_extra"


def ingest_district(store: Store, qdir: Path, district: Path = DISTRICT) -> None:
    """The hand-built district as two runs: the district in full, then district_extra
    as a delta (the state tests/test_coverage.py works out by hand)."""
    for paths, mode in ((sorted(district.glob("*.csv")), "full"),
                        (sorted(EXTRA.glob("*.csv")), "delta")):
        run_ingest(store, [IngestRequest(p, mode=mode) for p in paths],  # type: ignore[arg-type]
                   person_key=PERSON_KEY, quarantine_dir=qdir, today=TODAY)
