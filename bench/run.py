"""fugai benchmarks (``make bench``): prints a table, writes bench/out/results.json.

Ingest: for each size, the demo city is generated once (cached under bench/out), then
ingested into a fresh embedded store by the real CLI in a child process (first
ingest), then ingested again unchanged (re-ingest). Wall time and peak memory are
recorded. The CLI cleans a big file in two processes (ingest/shard.py), so "peak MB"
is the largest sum of PSS over the CLI and its worker, sampled from /proc four times
a second (PSS splits a copy-on-write page the two share between them, so the sum is
what they hold together), and never less than the largest single process's peak RSS
(``os.wait4``). "RSS sum" counts shared pages twice: an upper bound. "parse" is the
plain pandas read of the same files (pyarrow engine for CSV, calamine for XLSX), the
floor any ingest stands on.

Usage: python bench/run.py [--sizes city,province]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
TARGETS = {"province": {"first_s": 120.0, "reingest_s": 60.0, "rss_mb": 6144.0, "ratio": 5.0}}


def _demo(size: str) -> dict[str, Path]:
    directory = OUT / f"demo-{size}"
    manifest = directory / "manifest.json"
    if not manifest.exists():
        from ingest.demo import generate_city
        generate_city(directory, size=size, seed=42)
    data = json.loads(manifest.read_text(encoding="utf-8"))
    return {k: directory / v for k, v in data["files"].items()}


def _tree_memory_kib(pid: int) -> tuple[int, int]:
    """(RSS, PSS) KiB of ``pid`` and all its descendants, now (0 once they are gone).

    RSS counts a page shared by the CLI and its forked worker in both; PSS splits it
    between them, so the PSS sum is what the processes hold together."""
    rss = pss = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            rollup = Path(f"/proc/{p}/smaps_rollup").read_text()
            todo += map(int, Path(f"/proc/{p}/task/{p}/children").read_text().split())
        except (OSError, ValueError):
            continue
        for line in rollup.splitlines():
            if line.startswith(("Rss:", "Pss:")):
                kib = int(line.split()[1])
                if line.startswith("Rss:"):
                    rss += kib
                else:
                    pss += kib
    return rss, pss


def _run_cli(args: list[str], env: dict[str, str]) -> tuple[float, dict[str, float],
                                                          dict[str, object]]:
    """Run ``fugai`` in a child: wall seconds, peak memory in MB (``pss``: the PSS sum
    over the CLI and its worker; ``rss_sum``: their RSS sum; ``rss``: the largest
    single process), and the parsed JSON output."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", *args], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    peak = [0, 0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.25):
            peak[:] = map(max, peak, _tree_memory_kib(proc.pid))
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out = proc.stdout.read()
    done.set()
    sampler.join()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"fugai {' '.join(args[:1])} failed with exit {proc.returncode}")
    memory = {"rss": usage.ru_maxrss / 1024, "rss_sum": max(peak[0], usage.ru_maxrss) / 1024,
              "pss": max(peak[1], usage.ru_maxrss) / 1024}
    return wall, memory, json.loads(out)


def _parse_seconds(files: dict[str, Path]) -> float:
    start = time.perf_counter()
    for path in files.values():
        if path.suffix == ".xlsx":
            pd.read_excel(path, dtype=str, engine="calamine")
        else:
            enc = "gb18030" if "social" in path.name else "utf-8-sig"
            if enc == "utf-8-sig":
                pd.read_csv(path, dtype=str, engine="pyarrow", keep_default_na=False)
            else:
                pd.read_csv(path, dtype=str, encoding=enc, keep_default_na=False)
    return time.perf_counter() - start


def neo4j_env() -> dict[str, str] | None:
    """The Neo4j server to benchmark on (a throw-away one: it is emptied), if any."""
    uri = os.environ.get("FUGAI_BENCH_NEO4J_URI") or os.environ.get("FUGAI_TEST_NEO4J_URI")
    if not uri:
        return None
    def get(name: str, default: str) -> str:
        return (os.environ.get(f"FUGAI_BENCH_NEO4J_{name}")
                or os.environ.get(f"FUGAI_TEST_NEO4J_{name}", default))
    return {"FUGAI_STORE": uri, "FUGAI_NEO4J_USER": get("USER", "neo4j"),
            "FUGAI_NEO4J_PASSWORD": get("PASSWORD", ""),
            "FUGAI_NEO4J_DATABASE": get("DATABASE", "neo4j")}


def empty_neo4j(env: dict[str, str]) -> None:
    from graph.neo4j_store import Neo4jStore
    store = Neo4jStore.connect(env["FUGAI_STORE"], user=env["FUGAI_NEO4J_USER"],
                       password=env["FUGAI_NEO4J_PASSWORD"], database=env["FUGAI_NEO4J_DATABASE"])
    store.wipe()
    store.close()


def bench_ingest(size: str, neo4j: dict[str, str] | None = None) -> dict[str, float]:
    """First ingest and unchanged re-ingest of the demo city, into a fresh embedded
    store or (``neo4j``) into the emptied Neo4j database."""
    files = _demo(size)
    work = OUT / (f"store-{size}" if neo4j is None else f"neo4j-{size}")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    env = {**os.environ, "FUGAI_STORE": str(work / "fugai.sqlite"),
           "FUGAI_DATA_DIR": str(work), "FUGAI_PERSON_KEY": "00" * 32, **(neo4j or {})}
    if neo4j is not None:
        empty_neo4j(neo4j)
    args = ["ingest", *map(str, files.values()), "--mode", "full", "--format", "json"]
    first_s, first_rss, report = _run_cli(args, env)
    again_s, again_rss, again = _run_cli(args, env)
    rows = sum(int(f["rows_read"]) for f in report["files"])  # type: ignore[index]
    changed = sum(int(f["created"]) + int(f["updated"])  # type: ignore[index]
                  for f in again["files"])  # type: ignore[index]
    parse_s = _parse_seconds(files)
    phases = {f"phase_{k}": float(v) for k, v in report.get("seconds", {}).items()}  # type: ignore[union-attr]
    return {"rows": rows, "first_s": first_s, "rows_per_s": rows / first_s,
            "rss_mb": max(first_rss["pss"], again_rss["pss"]),
            "rss_sum_mb": max(first_rss["rss_sum"], again_rss["rss_sum"]),
            "rss_largest_mb": max(first_rss["rss"], again_rss["rss"]), "reingest_s": again_s,
            "reingest_changed": changed, "parse_s": parse_s, "ratio": first_s / parse_s,
            **phases}


def _print_phases(results: dict[str, dict[str, float]]) -> None:
    """Where each first ingest's wall time went (the run record's ``seconds``); the rest
    of the wall time is start-up, header checks and the commit."""
    from ingest.pipeline import PHASES
    print("\nFirst ingest by phase, seconds (the rest: start-up, header checks, commit)")
    print("| size     | " + " | ".join(f"{p:>8}" for p in PHASES) + " |     rest |")
    print("|----------|" + "|".join("-" * 10 for _ in PHASES) + "|----------|")
    for size, r in results.items():
        spent = [r.get(f"phase_{p}", 0.0) for p in PHASES]
        print(f"| {size:8} | " + " | ".join(f"{v:8.1f}" for v in spent)
              + f" | {r['first_s'] - sum(spent):8.1f} |")


def _fmt_row(size: str, r: dict[str, float]) -> str:
    t = TARGETS.get(size, {})

    def mark(name: str, value: float) -> str:
        if name not in t:
            return ""
        return " ✓" if value <= t[name] else f" ✗(≤{t[name]:g})"
    return (f"| {size:8} | {int(r['rows']):>9,} | {r['first_s']:7.1f}{mark('first_s', r['first_s'])}"
            f" | {r['rows_per_s']:>9,.0f} | {r['rss_mb']:7.0f}{mark('rss_mb', r['rss_mb'])}"
            f" | {r['rss_sum_mb']:7.0f}"
            f" | {r['reingest_s']:7.1f}{mark('reingest_s', r['reingest_s'])}"
            f" ({int(r['reingest_changed'])} changed) | {r['parse_s']:6.1f}"
            f" | {r['ratio']:5.1f}{mark('ratio', r['ratio'])} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default=os.environ.get("BENCH_SIZES", "city,province"))
    sizes = parser.parse_args().sizes.split(",")
    OUT.mkdir(parents=True, exist_ok=True)
    results = {size: bench_ingest(size) for size in sizes}
    from ingest.shard import workers
    print(f"\nIngest (embedded store, {os.cpu_count()} cores, big files in "
          f"{workers(int(os.environ.get('FUGAI_INGEST_WORKERS', '0')))} processes)")
    print("| size     |      rows | first s | rows/s    | peak MB | RSS sum | re-ingest s | parse s "
          "| ingest÷parse |")
    print("|----------|-----------|---------|-----------|---------|---------|-------------|---------"
          "|--------------|")
    for size, r in results.items():
        print(_fmt_row(size, r))
    _print_phases(results)
    neo4j = neo4j_env()
    if neo4j is None:
        print("\nIngest on Neo4j: not run (set FUGAI_BENCH_NEO4J_URI or FUGAI_TEST_NEO4J_URI, "
              "with _USER/_PASSWORD/_DATABASE, to a throw-away Neo4j 5 server)")
    else:
        on_neo4j = {size: bench_ingest(size, neo4j) for size in sizes}
        print("\nIngest on Neo4j, side by side (target: ≥ 20,000 rows/s on city)")
        print("| size     | Neo4j rows/s | embedded rows/s | Neo4j÷embedded time "
              "| Neo4j re-ingest s | Neo4j peak MB (client) |")
        print("|----------|--------------|-----------------|---------------------"
              "|-------------------|------------------------|")
        for size, n in on_neo4j.items():
            e = results[size]
            ok = "" if size != "city" else (" ✓" if n["rows_per_s"] >= 20_000 else " ✗(≥20k)")
            print(f"| {size:8} | {n['rows_per_s']:>12,.0f}{ok} | {e['rows_per_s']:>15,.0f} "
                  f"| {n['first_s'] / e['first_s']:19.2f} | {n['reingest_s']:17.1f} "
                  f"| {n['rss_mb']:22.0f} |")
        results = {**results, **{f"neo4j-{k}": v for k, v in on_neo4j.items()}}
    (OUT / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
