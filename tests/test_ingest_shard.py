"""A big file cleaned in two processes (ingest.shard) writes exactly what one process
writes: the same nodes, edges, history, report and quarantine file, over a first run
and a second run that updates, deregisters, drops and duplicates rows on both sides of
the split. And a worker that fails or dies fails the run, leaving the store as it was.
"""

from __future__ import annotations

import csv
import itertools
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from conftest import PERSON_KEY, TODAY, csv_rows

from graph.embedded import EmbeddedStore
from graph.errors import UsageError
from graph.store import RunRecord, Store
from ingest import nodes, pipeline, shard
from ingest.demo import generate_city
from ingest.headers import detect_kind
from ingest.pipeline import IngestRequest, run_ingest
from ingest.readers import read_table
from ingest.rows import clean_table, row_keys


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return generate_city(tmp_path_factory.mktemp("city"), size="small", seed=5).files


def _second_night(city: dict[str, Path], target: Path) -> list[Path]:
    """The city's files the next night: enterprises changed all over the key range."""
    target.mkdir()
    rows = csv_rows(city["enterprises"])
    header = list(rows[0])
    keyed = sorted((r for r in rows if r["统一社会信用代码"]), key=lambda r: r["统一社会信用代码"])
    low, high = keyed[len(keyed) // 5], keyed[len(keyed) * 4 // 5]   # both sides of any split
    for r in (low, high):
        r["企业名称"] += "(更名)"
    keyed[3]["登记状态"] = keyed[-3]["登记状态"] = "注销"
    dropped = {keyed[5]["统一社会信用代码"], keyed[-5]["统一社会信用代码"]}
    kept = [r for r in rows if r["统一社会信用代码"] not in dropped]
    # copies first and last, so that a split by position would part them
    twins = [dict(low), dict(high)]                                          # exact duplicates
    rivals = [{**keyed[7], "从业人数": n} for n in ("997", "998")]          # conflicting
    rivals += [{**keyed[-7], "从业人数": n} for n in ("997", "998")]
    out = [*twins, rivals[0], rivals[2], *kept, *twins, rivals[1], rivals[3]]
    path = target / city["enterprises"].name
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, header)
        writer.writeheader()
        writer.writerows(out)
    return [path if k == "enterprises" else p for k, p in city.items()]


def _run(store: Store, files: list[Path], qdir: Path, workers: int) -> RunRecord:
    return run_ingest(store, [IngestRequest(p, mode="full") for p in sorted(files)],
                      person_key=PERSON_KEY, quarantine_dir=qdir, today=TODAY, workers=workers)


def _written(store: EmbeddedStore, record: RunRecord) -> dict[str, Any]:
    dump = store.dump()
    files = []
    for f in record.files:
        report = asdict(f)
        quarantine = report.pop("quarantine_file")
        report["quarantine"] = Path(quarantine).read_bytes() if quarantine else None
        files.append(report)
    return {"nodes": list(dump.nodes), "edges": list(dump.edges),
            "history": list(dump.history), "files": files}


def test_two_processes_write_what_one_does(city: dict[str, Path], tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shard, "MIN_ROWS", 100)
    monkeypatch.setattr(shard, "CHUNK_ROWS", 97)
    forks: list[int] = []
    chunks: list[str] = []
    real_worker, real_copy = shard.Worker, pipeline.copy_prepared

    def counted(*args: Any) -> Any:
        forks.append(1)
        return real_worker(*args)

    def copied(writer: Any, prepared: Any, states: Any) -> None:
        chunks.append(prepared.folder.name)
        real_copy(writer, prepared, states)
    monkeypatch.setattr(shard, "Worker", counted)
    monkeypatch.setattr(pipeline, "copy_prepared", copied)
    nights = [list(city.values()), _second_night(city, tmp_path / "night2")]
    got: dict[int, list[dict[str, Any]]] = {}
    for workers in (1, 2):
        store = EmbeddedStore(tmp_path / f"w{workers}" / "store.sqlite")
        got[workers] = [_written(store, _run(store, files, tmp_path / f"q{workers}", workers))
                        for files in nights]
    # the big files (enterprises, members, annual reports) took the two-part way, and the
    # second night has every case: updates, deregistrations, drops, both kinds of duplicate
    assert len(forks) >= 4
    # the worker's parts came in chunks, each file's copied in order (0, 1, 2, ...)
    groups = [list(g) for _, g in itertools.groupby(
        (c.rsplit(".", 1) for c in chunks), key=lambda c: c[0])]
    assert len(groups) >= 4 and max(len(g) for g in groups) >= 3
    assert all([int(n) for _, n in g] == list(range(len(g))) for g in groups)
    second = {f["kind"]: f for f in got[1][1]["files"]}["enterprises"]
    assert second["updated"] >= 2 and second["deactivated"] >= 4
    assert second["duplicates_merged"] >= 4 and second["reasons"]["conflicting_duplicate"] >= 6
    assert got[2] == got[1]


def test_the_split_keys_are_the_keys_cleaning_gives(city: dict[str, Path],
                                                     tmp_path: Path) -> None:
    # row by row, for rows cleaned and quarantined alike: one-field keys (credit codes,
    # codes) and two-field ones (annual reports: uscc:year), bad check characters,
    # legacy-only rows and duplicates included
    keyless = 0
    for path in _second_night(city, tmp_path / "night2"):
        table = read_table(path)
        match = detect_kind(table.headers)
        if match.kind.label is None:
            continue
        result = clean_table(table, match, today=TODAY, person_key=PERSON_KEY)
        by_line = {r.line: r.key for r in result.rows} | {r.line: r.key for r in result.rejected}
        keys = row_keys(table, match, today=TODAY, person_key=PERSON_KEY)
        compared = [(keys[i], by_line[line]) for i, line in enumerate(table.lines)
                    if line in by_line]   # an exact duplicate merged away has no entry
        assert len(compared) > 0.9 * len(keys), path.name
        assert all(split == cleaned for split, cleaned in compared), path.name
        keyless += sum(split is None for split, _ in compared)
    assert keyless > 0   # rows whose key failed cleaning were among them


@pytest.mark.parametrize("chunk_rows", [100_000, 500, 1])
def test_split_keeps_each_key_on_one_side(chunk_rows: int) -> None:
    keys = [f"K{i % 300:04d}" for i in range(3000)] + [None] * 10
    mine, chunks = shard.split(keys, 0.6, chunk_rows)
    theirs = [i for chunk in chunks for i in chunk]
    assert sorted(mine + theirs) == list(range(len(keys)))
    assert all(keys[i] is not None for i in theirs)   # unkeyed rows stay home
    assert 0.5 < len(theirs) / len(keys) < 0.7
    parts = [mine, *chunks]
    for lower, upper in itertools.pairwise(parts):   # key ranges, lowest first, none shared
        assert max(k for i in lower if (k := keys[i])) < min(k for i in upper if (k := keys[i]))
    assert all(chunk == sorted(chunk) for chunk in parts)   # the file's order within each
    # about chunk_rows rows each (300 keys of 10 rows: never fewer than one key's rows)
    assert len(chunks) == {100_000: 1, 500: 4, 1: 180}[chunk_rows]
    assert shard.split([None, None], 0.6, chunk_rows) == ([0, 1], [])


def _fail_in_worker(monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    parent = os.getpid()
    real = nodes.write_prepared

    def failing(*args: Any, **kw: Any) -> Any:
        if os.getpid() != parent:
            if how == "raise":
                raise UsageError("第二部分清洗失败")
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kw)
    monkeypatch.setattr(nodes, "write_prepared", failing)
    monkeypatch.setattr(shard, "MIN_ROWS", 100)


@pytest.mark.parametrize(("how", "error", "message"), [
    ("raise", UsageError, "第二部分清洗失败"), ("kill", shard.WorkerFailed, "信号 9")])
def test_a_failing_worker_fails_the_run_and_writes_nothing(
        city: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        how: str, error: type[Exception], message: str) -> None:
    store = EmbeddedStore(tmp_path / "store.sqlite")
    _run(store, [city["regions"], city["committees"]], tmp_path / "q", 1)
    before = _written(store, store.view().runs()[0])
    _fail_in_worker(monkeypatch, how)
    with pytest.raises(error, match=message):
        _run(store, list(city.values()), tmp_path / "q", 2)
    assert _written(store, store.view().runs()[0]) == before
    assert len(store.view().runs()) == 1
    assert not list((tmp_path / "q").glob(".scratch-*"))   # the worker's files are gone


def test_a_wrong_worker_setting_is_one_line(city: dict[str, Path], tmp_path: Path) -> None:
    env = {**os.environ, "FUGAI_INGEST_WORKERS": "5", "FUGAI_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "api.cli", "ingest", str(city["regions"])],
                          env=env,
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == UsageError.exit_code
    assert done.stderr.strip().count("\n") == 0 and "FUGAI_INGEST_WORKERS" in done.stderr


def test_a_run_failing_in_its_own_part_stops_the_worker(
        city: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kw: Any) -> None:
        raise UsageError("本进程写入失败")
    monkeypatch.setattr(shard, "MIN_ROWS", 100)
    monkeypatch.setattr(pipeline, "write_records", broken)
    store = EmbeddedStore(tmp_path / "store.sqlite")
    with pytest.raises(UsageError, match="本进程写入失败"):
        _run(store, [city["enterprises"]], tmp_path / "q", 2)
    with pytest.raises(ChildProcessError):   # the worker was killed and reaped
        os.waitpid(-1, os.WNOHANG)
    assert store.view().runs() == []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def test_a_worker_dies_with_its_run(tmp_path: Path) -> None:
    """A run killed with SIGKILL cannot stop its worker: the kernel does."""
    root = Path(__file__).resolve().parent.parent
    script = (f"import sys, time; sys.path.insert(0, {str(root)!r})\n"
              "from pathlib import Path\nfrom ingest.shard import Worker\n"
              f"w = Worker(lambda _: time.sleep(120), Path({str(tmp_path)!r}))\n"
              "print(w.pid, flush=True)\ntime.sleep(120)\n")
    run = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert run.stdout is not None
    worker = int(run.stdout.readline())
    assert _alive(worker)
    run.kill()
    run.wait()
    for _ in range(50):
        if not _alive(worker):
            break
        time.sleep(0.1)
    assert not _alive(worker)


def test_a_dead_runs_scratch_is_removed_a_live_ones_kept(city: dict[str, Path],
                                                          tmp_path: Path) -> None:
    qdir = tmp_path / "q"
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead = qdir / f".scratch-{int(gone.stdout)}-abc" / "enterprises.prepared"
    dead.mkdir(parents=True)
    (dead / "nodes.json").write_text("[]")
    live = qdir / f".scratch-{os.getpid()}-xyz"   # this process: another run, alive
    live.mkdir()
    _run(EmbeddedStore(tmp_path / "store.sqlite"), [city["regions"]], qdir, 1)
    assert not dead.parent.exists() and live.exists()
    assert sorted(p.name for p in qdir.glob(".scratch-*")) == [live.name]
