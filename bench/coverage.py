"""Coverage-engine benchmark (``make bench``): warm query times on demo data.

Uses the store ``bench/run.py`` left in bench/out/store-<size> (or ingests the demo
city there first), builds the facts snapshot once (the "cold" figure: what a server
pays after each nightly run), then times each query of the targets five times and
reports the median and the worst. Prints a table; writes bench/out/coverage.json.

Usage: python bench/coverage.py [--sizes province] [--store FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
#: targets of the coverage issue, in seconds, on the province data, warm, 2 cores
TARGETS = {"summary": 2.0, "gaps_page": 0.2, "org": 0.05, "candidates": 0.5}


def _store(size: str, given: str | None = None) -> Path:
    if given:
        return Path(given)
    path = OUT / f"store-{size}" / "fugai.sqlite"
    if not path.exists():
        from bench.run import bench_ingest
        bench_ingest(size)
    return path


def _time(fn: Callable[[], Any], repeat: int = 5) -> tuple[float, float]:
    fn()  # warm the caches (pandas category lookups, SQLite pages)
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), max(runs)


def bench_coverage(size: str, store_path: str | None = None,
                   neo4j: dict[str, str] | None = None) -> dict[str, Any]:
    from graph import rules as r
    from graph.alliances import alliance_candidates
    from graph.coverage import summary
    from graph.embedded import EmbeddedStore
    from graph.explain import explain_org
    from graph.facts import build_facts
    from graph.findings import findings_page
    from graph.neo4j_store import Neo4jStore
    from graph.scope import Scope
    from graph.store import Store

    if neo4j is None:
        store: Store = EmbeddedStore(_store(size, store_path))
    else:   # the database bench/run.py filled with the same demo city
        store = Neo4jStore.connect(neo4j["FUGAI_STORE"], user=neo4j["FUGAI_NEO4J_USER"],
                           password=neo4j["FUGAI_NEO4J_PASSWORD"],
                           database=neo4j["FUGAI_NEO4J_DATABASE"])
    settings = r.CoverageSettings()
    start = time.perf_counter()
    facts = build_facts(store.view())
    cold = time.perf_counter() - start
    county = str(facts.orgs["county"].value_counts().index[0])
    busiest = str(facts.orgs.index[0])  # priority order: the unit with most members
    alliance = str(facts.alliances.index[0])
    view = store.view()
    queries: dict[str, Callable[[], Any]] = {
        "summary": lambda: summary(facts, scope=Scope(), settings=settings),
        "gaps_page": lambda: findings_page(facts, scope=Scope(region=county), settings=settings,
                                           page=1, size=50),
        "org": lambda: explain_org(facts, view, busiest, scope=Scope(), settings=settings),
        "candidates": lambda: alliance_candidates(facts, alliance, scope=Scope(),
                                                  settings=settings, hops=2),
    }
    timings = {name: _time(fn) for name, fn in queries.items()}
    result: dict[str, Any] = {
        "orgs": len(facts.orgs), "party_orgs": len(facts.party_orgs),
        "members": len(facts.members), "supply_links": facts.supply.number_of_edges(),
        "facts_build_s": cold,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "county": county, "org": busiest, "alliance": alliance,
        "candidates": len(queries["candidates"]()["candidates"]),
        **{f"{k}_s": v[0] for k, v in timings.items()},
        **{f"{k}_max_s": v[1] for k, v in timings.items()},
    }
    store.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default=os.environ.get("BENCH_COVERAGE_SIZES", "province"))
    parser.add_argument("--store", help="an existing store to measure (one size only)")
    args = parser.parse_args()
    sizes = args.sizes.split(",")
    OUT.mkdir(parents=True, exist_ok=True)
    results = {size: bench_coverage(size, args.store) for size in sizes}
    print("\nCoverage queries (embedded store, warm facts, median of 5 / worst)")
    print("| size     | orgs      | facts build s | peak MB | summary s   | district gaps p1 s "
          "| org explain s | candidates k=2 s |")
    print("|----------|-----------|---------------|---------|-------------|--------------------"
          "|---------------|------------------|")
    def cell(size: str, r: dict[str, Any], name: str) -> str:
        v, worst = r[f"{name}_s"], r[f"{name}_max_s"]
        ok = "" if size != "province" else (" ✓" if v <= TARGETS[name] else
                                            f" ✗(≤{TARGETS[name]:g})")
        return f"{v:.3f}/{worst:.3f}{ok}"

    for size, r in results.items():
        print(f"| {size:8} | {r['orgs']:>9,} | {r['facts_build_s']:13.1f} | {r['peak_rss_mb']:7.0f}"
              f" | {cell(size, r, 'summary')} | {cell(size, r, 'gaps_page')}"
              f" | {cell(size, r, 'org')} | {cell(size, r, 'candidates')} |")
    from bench.run import neo4j_env
    neo4j = neo4j_env()
    if neo4j is None:
        print("\nCoverage queries on Neo4j: not run (no server configured, see bench/run.py)")
    else:
        on_neo4j = {size: bench_coverage(size, None, neo4j) for size in sizes}
        print("\nCoverage queries on Neo4j ÷ embedded (target: every query ≤ 2×; "
              "whole-area summary ≤ 2 s on province)")
        print("| size     | facts build | summary | district gaps p1 | org explain | candidates |")
        print("|----------|-------------|---------|------------------|-------------|------------|")
        for size, n in on_neo4j.items():
            e = results[size]
            ratio = {k: n[f"{k}_s"] / max(e[f"{k}_s"], 1e-9)
                     for k in ("summary", "gaps_page", "org", "candidates")}
            print(f"| {size:8} | {n['facts_build_s'] / e['facts_build_s']:11.2f} "
                  f"| {ratio['summary']:7.2f} | {ratio['gaps_page']:16.2f} "
                  f"| {ratio['org']:11.2f} | {ratio['candidates']:10.2f} |")
        results = {**results, **{f"neo4j-{k}": v for k, v in on_neo4j.items()}}
    (OUT / "coverage.json").write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
