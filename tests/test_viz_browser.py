"""Each picture in a real browser: Debian's headless Chromium through Playwright
(``scripts/install-test-deps.sh``; never ``playwright install``, which downloads).

For every picture of the hand-built district (and two aggregated ones): it becomes
interactive, the canvas is not blank (sampled pixels, with the status colours in
them), there is no console error or warning (so the Content-Security-Policy admits
our scripts and nothing else is asked for), no dialog opens (the hostile name stays
text, also in the hover tooltip), and double-clicking a drill-down node opens the
finer picture. Screenshots and timings go to tests/artifacts/.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graph import rules as r
from graph.embedded import EmbeddedStore
from graph.facts import Facts, build_facts
from graph.scope import Scope
from tests.conftest import ingest_district
from tests.test_viz import E05, E07, XSS
from viz.model import link_file
from viz.pictures import build_picture
from viz.render import write_html

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"
S = r.CoverageSettings()
#: time-to-interactive allowed here (the 3 s target is measured on city data by
#: bench/viz.py; tests share two cores with other work)
TTI_LIMIT = 10.0

SAMPLE = """() => {
  const c = document.querySelector('#net canvas');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let painted = 0, samples = 0; const colours = new Set();
  for (let i = 0; i < d.length; i += 8) {
    samples++;
    if (d[i + 3] > 0) { painted++; colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]); }
  }
  return {painted: painted, samples: samples, colours: Array.from(colours)};
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Chromium not found at /usr/bin/chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM),
                               args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture(scope="module")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("viz_browser")
    store = EmbeddedStore(d / "store.sqlite")
    ingest_district(store, d / "q")
    facts: Facts = build_facts(store.view())
    # the hostile name: rename E07 in the built facts (the ingest path is covered by
    # tests/test_viz.py; here the browser is under test)
    facts.orgs.loc[E07, "name"] = XSS
    out = d / "html"
    out.mkdir()
    linked = {("region", c) for c in ("445202001", "445202002", "445202003")}

    def linker(kind: str, code: str) -> str | None:
        return link_file(kind, code) if (kind, code) in linked else None

    plan = {"structure": ("structure", None, 1500), "alliance": ("alliance", "A01", 1500),
            "org": ("org", E05, 1500), "region": ("region", "445202", 1500),
            "region-by-street": ("region", "445202", 20),
            "structure-committees": ("structure", None, 15), "org-hostile": ("org", E07, 1500)}
    files = {}
    for name, (kind, code, budget) in plan.items():
        p = build_picture(kind, facts, code, scope=Scope(), settings=S, budget=budget)
        files[name] = write_html(p, out / f"{name}.html", linker)
    for kind, code in linked:
        write_html(build_picture(kind, facts, code, scope=Scope(), settings=S),
                   out / link_file(kind, code))
    return files


def _open(browser: Any, path: Path) -> tuple[Any, list[str], float]:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"{m.type}: {m.text}")
            if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.on("dialog", lambda dlg: (problems.append(f"dialog: {dlg.message}"), dlg.dismiss()))
    start = time.perf_counter()
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-ready='1']", timeout=int(TTI_LIMIT * 1000))
    return page, problems, time.perf_counter() - start


def _hover(page: Any, node_id: str) -> str:
    """Move the mouse onto a node and return the tooltip's text as shown."""
    pos = page.evaluate("""(id) => { const n = window.fugai.network;
        return n.canvasToDOM(n.getPositions([id])[id]); }""", node_id)
    box = page.locator("#net").bounding_box()
    page.mouse.move(box["x"] + pos["x"] + 1, box["y"] + pos["y"] + 1)
    page.mouse.move(box["x"] + pos["x"], box["y"] + pos["y"])
    page.wait_for_selector(".vis-tooltip", state="visible", timeout=5000)
    return str(page.inner_text(".vis-tooltip"))


def test_each_picture_renders_in_chromium(browser: Any, pictures: dict[str, Path]) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    timings: dict[str, Any] = {}
    for name, path in pictures.items():
        page, problems, seconds = _open(browser, path)
        sample = page.evaluate(SAMPLE)
        page.screenshot(path=str(ARTIFACTS / f"viz-{name}.png"))
        ready_ms = page.evaluate("window.fugaiReadyAt")
        timings[name] = {"interactive_s": round(seconds, 3), "ready_ms": round(ready_ms),
                         "painted_share": round(sample["painted"] / sample["samples"], 4),
                         "bytes": path.stat().st_size,
                         "screenshot": str((ARTIFACTS / f"viz-{name}.png").relative_to(
                             ARTIFACTS.parent.parent))}
        assert not problems, (name, problems)
        assert sample["painted"] > 0.002 * sample["samples"], (name, sample["painted"])
        assert len(sample["colours"]) > 5, name
        assert seconds < TTI_LIMIT, (name, seconds)
        if name in ("structure", "region"):  # the status colours are drawn
            colours = set(sample["colours"])
            assert 0xD32F2F in colours and 0x43A047 in colours, name
        page.close()
    (ARTIFACTS / "viz-browser.json").write_text(json.dumps(timings, indent=2, ensure_ascii=False),
                                               encoding="utf-8")


def test_the_hostile_name_is_text_in_the_tooltip(browser: Any, pictures: dict[str, Path]
                                                 ) -> None:
    page, problems, _ = _open(browser, pictures["org-hostile"])
    text = _hover(page, f"org:{E07}")
    assert text.startswith(XSS) and "统一社会信用代码: " + E07 in text
    assert page.evaluate("document.querySelectorAll('script').length") == 2
    assert page.inner_text("h1") == f"组织关系图: {XSS}"
    assert not problems
    page.close()


def test_double_click_opens_the_finer_picture(browser: Any, pictures: dict[str, Path]) -> None:
    page, problems, _ = _open(browser, pictures["region-by-street"])
    pos = page.evaluate("""() => { const n = window.fugai.network;
        return n.canvasToDOM(n.getPositions(['reg:445202003'])['reg:445202003']); }""")
    box = page.locator("#net").bounding_box()
    page.mouse.dblclick(box["x"] + pos["x"], box["y"] + pos["y"])
    page.wait_for_url("**/region-445202003.html", timeout=5000)
    page.wait_for_selector("body[data-ready='1']", timeout=int(TTI_LIMIT * 1000))
    assert "榕东街道(445202003)" in page.inner_text("h1")
    assert page.locator("a[href='region-445202001.html']").count() == 0  # street: no links
    assert not problems
    page.close()
