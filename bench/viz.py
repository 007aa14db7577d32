"""Picture benchmark (``make bench``): each network picture on the demo city.

Reads the store ``bench/run.py`` leaves in bench/out/store-city (skips with a message
when it is not there: ingesting the city takes minutes), builds the facts once (the
snapshot a server keeps; its time is printed but is not a picture's), then for each
picture: the median build time of three (facts → picture model → HTML), the size of
the HTML file, and — when Debian's Chromium and Playwright are installed — the time
until the picture is interactive in headless Chromium (page load to vis-network's
first drawing). Targets (the pictures issue): ≤ 3 s to build, ≤ 5 MB, ≤ 3 s to
interactive. Prints a table; writes bench/out/viz.json and the HTML files.

Usage: python bench/viz.py [--store FILE] [--budget N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
TARGETS = {"build_s": 3.0, "mb": 5.0, "interactive_s": 3.0}
CHROMIUM = Path("/usr/bin/chromium")


def _subjects(facts: Any) -> list[tuple[str, str, str | None]]:
    """The heaviest subject of each picture: the biggest committee, alliance, county
    and street, and the unit with the most supply links."""
    o = facts.orgs
    committee = str(o["committee"].value_counts().index[0])
    alliance = str(facts.alliances["members"].idxmax())
    county = str(o["county"].value_counts().index[0])
    street = str(o.loc[o["street"].astype(str).str.len() == 9, "street"].value_counts().index[0])
    busy = str(max(facts.supply.nodes, key=facts.supply.degree))
    return [("structure (all)", "structure", None),
            ("structure (largest)", "structure", committee),
            ("alliance (largest)", "alliance", alliance), ("org (most links)", "org", busy),
            ("region (county)", "region", county), ("region (street)", "region", street)]


def _interactive(paths: list[Path]) -> dict[Path, float] | None:
    if not CHROMIUM.exists():
        return None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    out = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM),
                                     args=["--no-sandbox", "--disable-gpu"])
        for path in paths:
            runs = []
            for _ in range(3):
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                start = time.perf_counter()
                page.goto(path.as_uri())
                page.wait_for_selector("body[data-ready='1']", timeout=60_000)
                runs.append(time.perf_counter() - start)
                page.close()
            out[path] = statistics.median(runs)
        browser.close()
    return out


def bench_viz(store_path: Path, budget: int) -> dict[str, Any]:
    from graph import rules as r
    from graph.embedded import EmbeddedStore
    from graph.facts import build_facts
    from graph.scope import Scope
    from viz.pictures import build_picture
    from viz.render import render_html

    store = EmbeddedStore(store_path)
    start = time.perf_counter()
    facts = build_facts(store.view())
    facts_s = time.perf_counter() - start
    settings, scope = r.CoverageSettings(), Scope()
    work = OUT / "viz-city"
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    for label, kind, code in _subjects(facts):
        times = []
        for _ in range(3):
            start = time.perf_counter()
            pic = build_picture(kind, facts, code, scope=scope, settings=settings, budget=budget)
            html = render_html(pic)
            times.append(time.perf_counter() - start)
        path = work / f"{kind}-{code or 'all'}.html"
        path.write_text(html, encoding="utf-8")
        rows.append({"picture": label, "code": code, "level": pic.level,
                     "nodes": len(pic.nodes), "edges": len(pic.edges),
                     "full_nodes": pic.full_size, "build_s": round(statistics.median(times), 3),
                     "mb": round(path.stat().st_size / 1e6, 2), "file": str(path)})
    tti = _interactive([Path(row["file"]) for row in rows])
    for row in rows:
        row["interactive_s"] = round(tti[Path(row["file"])], 3) if tti else None
    store.close()
    return {"store": str(store_path), "facts_s": round(facts_s, 1), "budget": budget,
            "targets": TARGETS, "pictures": rows}


def _table(result: dict[str, Any]) -> None:
    print(f"\nPictures on {result['store']} (facts built once in {result['facts_s']} s; "
          f"budget {result['budget']} nodes)")
    head = f"{'picture':<22}{'code':<20}{'level':<15}{'nodes':>7}{'of':>8}" \
           f"{'build s':>9}{'MB':>7}{'interactive s':>15}  ok"
    print(head)
    print("-" * len(head))
    for row in result["pictures"]:
        tti = row["interactive_s"]
        ok = row["build_s"] <= TARGETS["build_s"] and row["mb"] <= TARGETS["mb"] and (
            tti is None or tti <= TARGETS["interactive_s"])
        print(f"{row['picture']:<22}{row['code'] or '—'!s:<20}{row['level']:<15}"
              f"{row['nodes']:>7}{row['full_nodes']:>8}{row['build_s']:>9.2f}{row['mb']:>7.2f}"
              f"{'—' if tti is None else f'{tti:.2f}':>15}  {'✓' if ok else '✗'}")
    print(f"targets: build ≤ {TARGETS['build_s']} s, ≤ {TARGETS['mb']} MB, interactive ≤ "
          f"{TARGETS['interactive_s']} s (— : Chromium/Playwright not installed)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=OUT / "store-city" / "fugai.sqlite")
    parser.add_argument("--budget", type=int, default=1500)
    args = parser.parse_args(argv)
    if not args.store.exists():
        print(f"bench/viz.py: skipped — no city store at {args.store} "
              "(run `python bench/run.py --sizes city` first)")
        return 0
    sys.path.insert(0, str(ROOT))
    result = bench_viz(args.store, args.budget)
    _table(result)
    (OUT / "viz.json").write_text(json.dumps(result, indent=2, ensure_ascii=False),
                                  encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
