"""The network pictures and charts (viz/) on the hand-built district, a hostile name,
and the small demo city.

Expected pictures, worked out by hand from tests/fixtures (both runs; see the state
in tests/test_coverage.py's docstring):

* structure (whole tree): 6 committees, the 10 active Party organisations (P07 is
  撤销), the 22 in-scope units. Every unit hangs from the Party organisation giving
  its status (via the park for E04/E05 and the building for E21/E22: covers_area),
  the 7 units without one from their responsible committee (dashed). 38 nodes, 37
  edges: a tree.
* alliance A01: the alliance; members S01, E04 (链主), E05; their Party organisations
  P05 and P03 (P03 also leads it); candidates E07 (1 hop) and E12 (2 hops); supply
  E05→E04, E07→E05, E12→E07. 8 nodes, 12 edges.
* org E05: P03 → park ← E05 (the proof path), C04 → P03, 1 member (a count), the
  association S01, alliance A01, supplier E07, customer E04. 9 nodes, 8 edges.
* region 445202003 (榕东街道): 12 units around 5 status hubs, P08 (6 units), P09,
  P10 (2, via the building). 21 nodes, 14 edges.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import api.cli_viz  # noqa: F401  (registers viz and chart on the app)
from api.cli import app
from graph import rules as r
from graph.embedded import EmbeddedStore
from graph.errors import NotFound, UsageError
from graph.facts import Facts, build_facts
from graph.scope import Scope, scope_mask
from tests.conftest import (
    DISTRICT,
    PERSON_KEY,
    TODAY,
    csv_rows,
    district_files,
    ingest,
    ingest_district,
)
from tests.district import (
    E01,
    E02,
    E03,
    E04,
    E05,
    E06,
    E07,
    E12,
    E13,
    E14,
    E15,
    E16,
    E17,
    E18,
    E19,
    E20,
    E21,
    E22,
    E23,
    E24,
    S01,
    S02,
)
from viz.charts import findings_chart, rates_chart, trend_chart
from viz.model import Picture, link_file
from viz.pictures import build_picture
from viz.render import neutralise_urls, render_html, vis_assets, vis_data

EXTRA = DISTRICT.parent / "district_extra"
S = r.CoverageSettings()
XSS = "<script>alert(1)</script>"
PARK = "park:揭阳产业转移工业园"
EXTERNAL = re.compile(r"\s*(https?:|//|javascript:)", re.IGNORECASE)


@pytest.fixture(scope="module")
def facts(tmp_path_factory: pytest.TempPathFactory) -> Facts:
    d = tmp_path_factory.mktemp("viz")
    store = EmbeddedStore(d / "store.sqlite")
    ingest_district(store, d / "q")
    return build_facts(store.view())


@pytest.fixture(scope="module")
def xss_facts(tmp_path_factory: pytest.TempPathFactory) -> Facts:
    """The district (first run) with E07 renamed ``<script>alert(1)</script>`` and the
    park Party organisation P03 given a name that tries to break out of an attribute."""
    d = tmp_path_factory.mktemp("viz_xss")
    src = d / "district"
    shutil.copytree(DISTRICT, src)
    for name, key, column, value in (
            ("enterprises.csv", E07, "企业名称", XSS),
            ("party_orgs.csv", "P03", "党组织名称", '"><img src=x onerror=alert(2)>&amp;')):
        path = src / name
        rows = csv_rows(path)
        for row in rows:
            if key in row.values():
                row[column] = value
        header = list(rows[0])
        lines = [",".join(header)] + [",".join(_csv_cell(row[h]) for h in header) for row in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    store = EmbeddedStore(d / "store.sqlite")
    ingest(store, district_files(src), qdir=d / "q")
    return build_facts(store.view())


def _csv_cell(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\n') else value


# --- HTML checks ------------------------------------------------------------------------


class _Page(HTMLParser):
    """Collects what the checks need: tags with their attributes, script bodies, text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.text: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._in = tag
            (self.scripts if tag == "script" else self.styles).append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            self.scripts[-1] += data
        elif self._in == "style":
            self.styles[-1] += data
        else:
            self.text.append(data)


def _sha(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def check_page(html: str, *, urls_allowed_in_data: bool = False) -> _Page:
    """Parses; self-contained (no src/href/url() to the outside, no <link>); the CSP
    admits exactly the inline scripts and styles present; no URL text at all (demo
    data may carry URL-looking names: then only inside the escaped data)."""
    page = _Page()
    page.feed(html)
    page.close()
    assert html.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in html
    names = [t for t, _ in page.tags]
    assert names.count("html") == names.count("head") == names.count("body") == 1
    assert "link" not in names and "iframe" not in names and "img" not in names
    for _, attrs in page.tags:
        for key in ("src", "href", "action"):
            value = attrs.get(key) or ""
            assert not EXTERNAL.match(value), (key, value)
    assert not re.search(r"url\(\s*['\"]?(https?:|//)", html, re.IGNORECASE)
    csp = next(a["content"] for t, a in page.tags if t == "meta"
               and a.get("http-equiv") == "Content-Security-Policy")
    assert csp and "default-src 'none'" in csp
    for body in page.scripts + page.styles:
        assert _sha(body) in csp
    assert csp.count("sha256-") == len(page.scripts) + len(page.styles)
    outside = html
    if urls_allowed_in_data:  # the data JSON is the second script
        outside = html.replace(page.scripts[-1], "") if page.scripts else html
    assert "http://" not in outside and "https://" not in outside and "//cdn" not in outside
    return page


def data_of(html: str) -> dict[str, Any]:
    """The vis-network data inside the init script, as the browser will read it."""
    page = _Page()
    page.feed(html)
    body = page.scripts[-1]
    start = body.index("var data = ") + len("var data = ")
    return json.loads(body[start:body.index(";\n", start)])  # type: ignore[no-any-return]


def nodes_and_edges(p: Picture) -> tuple[set[str], set[tuple[str, str, str]]]:
    return {n.id for n in p.nodes}, {(e.source, e.target, e.relation) for e in p.edges}


def o(*usccs: str) -> list[str]:
    return [f"org:{u}" for u in usccs]


# --- the pictures of the hand-built district -----------------------------------------------


def test_structure_of_the_district(facts: Facts) -> None:
    p = build_picture("structure", facts, scope=Scope(), settings=S)
    nodes, edges = nodes_and_edges(p)
    committees = [f"com:C0{i}" for i in range(6)]
    pos = [f"po:P{i:02d}" for i in (1, 2, 3, 4, 5, 6, 8, 9, 10, 11)]
    units = o(E01, E02, E03, E04, E05, E06, E07, E12, S01, S02, E13, E14, E15, E16, E17, E18,
              E19, E20, E21, E22, E23, E24)
    assert nodes == {*committees, *pos, *units}
    assert len(p.nodes) == 38 and p.level == "detail" and not p.links
    assert edges == {
        *(("com:C00", f"com:C0{i}", "reports_to") for i in range(1, 6)),
        ("com:C00", "po:P01", "reports_to"), ("com:C00", "po:P02", "reports_to"),
        ("com:C00", "po:P04", "reports_to"), ("com:C01", "po:P06", "reports_to"),
        ("com:C03", "po:P05", "reports_to"), ("com:C04", "po:P03", "reports_to"),
        *((("com:C05", f"po:P{i:02d}", "reports_to")) for i in (8, 9, 10, 11)),
        ("po:P01", f"org:{E01}", "covers"), ("po:P02", f"org:{E02}", "covers"),
        ("po:P02", f"org:{E03}", "covers"), ("po:P05", f"org:{S01}", "covers"),
        ("po:P03", f"org:{E04}", "covers_area"), ("po:P03", f"org:{E05}", "covers_area"),
        *(("po:P08", f"org:{u}", "covers") for u in (E13, E14, E15, E16, E17, E18)),
        ("po:P09", f"org:{E19}", "covers"),
        ("po:P10", f"org:{E21}", "covers_area"), ("po:P10", f"org:{E22}", "covers_area"),
        ("com:C00", f"org:{S02}", "responsible"), ("com:C01", f"org:{E06}", "responsible"),
        ("com:C01", f"org:{E23}", "responsible"), ("com:C02", f"org:{E07}", "responsible"),
        ("com:C02", f"org:{E12}", "responsible"), ("com:C05", f"org:{E20}", "responsible"),
        ("com:C05", f"org:{E24}", "responsible"),
    }
    by_id = {n.id: n for n in p.nodes}
    assert by_id[f"org:{E07}"].status == r.UNCOVERED and by_id[f"org:{E07}"].color == "#d32f2f"
    assert by_id["po:P04"].kind == by_id["po:P11"].kind == "party_org_orphan"
    assert by_id[f"org:{S01}"].kind == "association"
    tip = by_id[f"org:{E02}"].title
    assert E02 in tip and "联合组建" in tip and "原因: 由联合组建的党组织" in tip
    assert "在此工作的党员: 3 名" in tip
    # the scope decides: one street's committees and units only
    street = build_picture("structure", facts, "C05", scope=Scope(region="445202003"), settings=S)
    assert {n.id for n in street.nodes} == {
        "com:C05", "po:P08", "po:P09", "po:P10", "po:P11",
        *o(E13, E14, E15, E16, E17, E18, E19, E20, E21, E22, E24)}
    with pytest.raises(NotFound):
        build_picture("structure", facts, "C99", scope=Scope(), settings=S)


def test_structure_aggregates_above_the_budget(facts: Facts) -> None:
    by_po = build_picture("structure", facts, scope=Scope(), settings=S, budget=30)
    assert by_po.level == "party_org" and len(by_po.nodes) == 20 and by_po.full_size == 38
    groups = {n.id: n.label for n in by_po.nodes if n.kind == "status_group"}
    assert groups == {"grp:C00:uncovered": "未覆盖\n1 个", "grp:C01:work_only": "仅工作覆盖\n2 个",
                      "grp:C02:uncovered": "未覆盖\n2 个", "grp:C05:uncovered": "未覆盖\n2 个"}
    assert "超过上限 30 个" in by_po.notes[0]
    assert [lk.code for lk in by_po.links if lk.kind == "structure"] == [
        "C01", "C02", "C03", "C04", "C05"]
    assert [lk.code for lk in by_po.links if lk.kind == "region"] == ["445202", "445202003"]
    tiny = build_picture("structure", facts, scope=Scope(), settings=S, budget=15)
    assert tiny.level == "committee_only" and len(tiny.nodes) == 6
    mid = build_picture("structure", facts, scope=Scope(), settings=S, budget=22)
    assert mid.level == "party_org"
    c05 = build_picture("structure", facts, "C05", scope=Scope(), settings=S, budget=12)
    assert c05.level == "party_org"
    assert {n.label for n in c05.nodes} == {
        "榕东街道区域综合党委", "中共榕东纺织企业联合支部委员会\n覆盖 6",
        "中共揭阳市榕东庚软件有限公司支部委员会\n覆盖 1", "中共榕东商务大厦楼宇党支部\n覆盖 2",
        "中共榕东待撤销支部委员会", "未覆盖\n2 个"}
    for budget in (10, 12, 20, 30, 40):
        assert len(build_picture("structure", facts, scope=Scope(), settings=S,
                                 budget=budget).nodes) <= budget
    with pytest.raises(UsageError):
        build_picture("structure", facts, scope=Scope(), settings=S, budget=5)


def test_alliance_picture(facts: Facts) -> None:
    p = build_picture("alliance", facts, "A01", scope=Scope(), settings=S)
    nodes, edges = nodes_and_edges(p)
    assert nodes == {"al:A01", *o(S01, E04, E05, E07, E12), "po:P03", "po:P05"}
    assert edges == {
        ("al:A01", f"org:{E04}", "leads"), ("al:A01", f"org:{E05}", "alliance_member"),
        ("al:A01", f"org:{S01}", "alliance_member"), ("al:A01", "po:P03", "guided_by"),
        ("po:P03", f"org:{E04}", "covers_area"), ("po:P03", f"org:{E05}", "covers_area"),
        ("po:P05", f"org:{S01}", "covers"),
        ("al:A01", f"org:{E07}", "candidate"), ("al:A01", f"org:{E12}", "candidate"),
        (f"org:{E05}", f"org:{E04}", "supplies"), (f"org:{E07}", f"org:{E05}", "supplies"),
        (f"org:{E12}", f"org:{E07}", "supplies"),
    }
    kinds = {n.id: n.kind for n in p.nodes}
    assert kinds[f"org:{E04}"] == "leader" and kinds[f"org:{E07}"] == "candidate"
    data = vis_data(p)
    cand = next(n for n in data["nodes"] if n["id"] == f"org:{E12}")
    assert cand["shapeProperties"]["borderDashes"] and cand["shape"] == "dot"
    edge = next(e for e in data["edges"] if e["to"] == f"org:{E12}")
    assert edge["dashes"] is True and "2 跳" in edge["title"]
    supply = next(e for e in data["edges"] if e["from"] == f"org:{E05}" and e["to"] == f"org:{E04}")
    assert supply["arrows"] == "to" and "配套" in supply["title"] and "不锈钢制品" in supply["title"]
    with pytest.raises(NotFound):
        build_picture("alliance", facts, "A01", scope=Scope(region="445202001"), settings=S)


def test_org_picture_is_its_explanation(facts: Facts) -> None:
    p = build_picture("org", facts, E05, scope=Scope(), settings=S)
    nodes, edges = nodes_and_edges(p)
    assert nodes == {f"org:{E05}", "po:P03", f"place:{PARK}", "com:C04", f"mem:{E05}",
                     f"org:{S01}", "al:A01", f"org:{E07}", f"org:{E04}"}
    assert edges == {
        ("po:P03", f"place:{PARK}", "serves_area"), (f"org:{E05}", f"place:{PARK}", "in_place"),
        ("com:C04", "po:P03", "reports_to"), (f"mem:{E05}", f"org:{E05}", "employed"),
        (f"org:{E05}", f"org:{S01}", "association_member"),
        ("al:A01", f"org:{E05}", "alliance_member"),
        (f"org:{E07}", f"org:{E05}", "supplies"), (f"org:{E05}", f"org:{E04}", "supplies"),
    }
    mem = next(n for n in p.nodes if n.kind == "members")
    assert mem.label == "党员 1 名" and "M12" not in mem.title
    work = build_picture("org", facts, E06, scope=Scope(), settings=S)
    assert nodes_and_edges(work) == (
        {f"org:{E06}", "com:C01", f"mem:{E06}", "ins:I01"},
        {("com:C01", f"org:{E06}", "responsible"), (f"mem:{E06}", f"org:{E06}", "employed"),
         ("ins:I01", f"org:{E06}", "assigned")})
    e20 = build_picture("org", facts, E20, scope=Scope(), settings=S)
    assert "问题: 应建未建、有党员无组织、未覆盖、新登记待覆盖" in e20.nodes[0].title
    with pytest.raises(NotFound):
        build_picture("org", facts, E20, scope=Scope(region="445202001"), settings=S)


def test_region_picture(facts: Facts) -> None:
    p = build_picture("region", facts, "445202003", scope=Scope(), settings=S)
    nodes, edges = nodes_and_edges(p)
    hubs = [f"grp:{s}" for s in r.STATUSES]
    assert nodes == {"reg:445202003", *hubs, "po:P08", "po:P09", "po:P10",
                     *o(E13, E14, E15, E16, E17, E18, E19, E20, E21, E22, E23, E24)}
    assert edges == {
        *(("reg:445202003", h, "grouped") for h in hubs),
        *(("po:P08", f"org:{u}", "covers") for u in (E13, E14, E15, E16, E17, E18)),
        ("po:P09", f"org:{E19}", "covers"),
        ("po:P10", f"org:{E21}", "covers_area"), ("po:P10", f"org:{E22}", "covers_area"),
    }
    assert next(n for n in p.nodes if n.id == "grp:joint").label == "联合组建\n6 个"
    county = build_picture("region", facts, "445202", scope=Scope(), settings=S, budget=20)
    assert county.level == "street" and len(county.nodes) == 16
    assert {n.id for n in county.nodes if n.kind == "region"} == {
        "reg:445202", "reg:445202001", "reg:445202002", "reg:445202003"}
    assert [lk.code for lk in county.links] == ["445202001", "445202002", "445202003"]
    top = build_picture("region", facts, "445202003", scope=Scope(), settings=S, budget=12)
    assert top.level == "top" and len(top.nodes) <= 12
    shown = {n.id for n in top.nodes}
    assert {f"org:{E20}", f"org:{E24}", f"org:{E23}"} <= shown  # the units that need work
    with pytest.raises(NotFound):
        build_picture("region", facts, "445202003", scope=Scope(region="445202001"), settings=S)
    with pytest.raises(NotFound):
        build_picture("region", facts, "445299", scope=Scope(), settings=S)


# --- offline, escaped, deterministic ----------------------------------------------------------


def test_every_picture_is_self_contained(facts: Facts) -> None:
    for kind, code in (("structure", None), ("alliance", "A01"), ("org", E05),
                       ("region", "445202")):
        html = render_html(build_picture(kind, facts, code, scope=Scope(), settings=S))
        page = check_page(html)
        assert len(page.scripts) == 2 and "vis.Network" in page.scripts[1]
        assert "图例" in html and "口径: 个体工商户不计入统计范围" in html
        assert "数据: 第 2 批导入" in html
        assert ("范围: 区划 榕城区(445202)" if kind == "region" else "范围: 全域") in html
    js, css = vis_assets()
    assert "</script" not in js.lower() and "http" not in css.replace("data:", "")


def test_the_library_urls_are_neutralised_not_changed() -> None:
    """The ten URL strings in vis-network (licence banner, docs links in messages,
    the SVG namespace, twice) are written ``http:\\/\\/``: the same JavaScript value."""
    from viz.render import _pyvis_dir

    raw = (_pyvis_dir() / "templates/lib/vis-9.1.2/vis-network.min.js").read_text("utf-8")
    found = re.findall(r"https?://[^\s\"')]+", raw)
    assert len(found) == 10 and any("www.w3.org/2000/svg" in u for u in found)
    done = neutralise_urls(raw)
    assert done.replace(r":\/\/", "://") == raw and len(done) == len(raw) + 2 * len(found)


def test_hostile_names_show_as_text(xss_facts: Facts) -> None:
    pictures = [build_picture(k, xss_facts, c, scope=Scope(), settings=S)
                for k, c in (("structure", None), ("alliance", "A01"), ("org", E07),
                             ("region", "445202002"), ("org", E05))]
    for p in pictures:
        html = render_html(p)
        check_page(html)
        assert XSS not in html and "<img" not in html and "onerror=alert(2)>" not in html
        labels = {n["id"]: n for n in data_of(html)["nodes"]}
        if f"org:{E07}" in labels:  # the label is the raw text, not escaped twice
            assert labels[f"org:{E07}"]["label"] == XSS
            assert labels[f"org:{E07}"]["title"].startswith(XSS + "\n")
            assert "\\u003cscript\\u003e" in html
        if "po:P03" in labels:
            assert labels["po:P03"]["label"] == '"><img src=x onerror=alert(2)>&amp;'
    org = render_html(pictures[2])
    assert "<h1>组织关系图: &lt;script&gt;alert(1)&lt;/script&gt;</h1>" in org
    assert "<title>组织关系图: &lt;script&gt;alert(1)&lt;/script&gt;</title>" in org
    # a region code in a link is quoted into a safe file name, never a scheme
    assert link_file("region", "javascript:alert(1)") == "region-javascript_alert_1_.html"


def test_same_seed_same_file(facts: Facts) -> None:
    for kind, code in (("structure", None), ("alliance", "A01"), ("org", E05),
                       ("region", "445202")):
        one = render_html(build_picture(kind, facts, code, scope=Scope(), settings=S, seed=7))
        two = render_html(build_picture(kind, facts, code, scope=Scope(), settings=S, seed=7))
        assert one == two
    a = build_picture("alliance", facts, "A01", scope=Scope(), settings=S, seed=1)
    b = build_picture("alliance", facts, "A01", scope=Scope(), settings=S, seed=2)
    assert {n.id for n in a.nodes} == {n.id for n in b.nodes}
    assert [(n.x, n.y) for n in a.nodes] != [(n.x, n.y) for n in b.nodes]


def test_links_only_where_a_file_is(facts: Facts) -> None:
    p = build_picture("region", facts, "445202", scope=Scope(), settings=S, budget=20)
    plain = render_html(p)
    assert "fugai viz region 445202001 -o region-445202001.html" in plain
    assert 'href="region-445202001.html"' not in plain

    def linker(kind: str, code: str) -> str | None:
        return link_file(kind, code) if kind == "region" else None
    linked = render_html(p, linker)
    assert 'href="region-445202001.html"' in linked
    street = next(n for n in data_of(linked)["nodes"] if n["id"] == "reg:445202001")
    assert street["url"] == "region-445202001.html" and "双击" in street["title"]


def test_to_pyvis_carries_the_same_graph(facts: Facts) -> None:
    from viz.render import to_pyvis

    p = build_picture("alliance", facts, "A01", scope=Scope(), settings=S)
    net = to_pyvis(p)
    assert sorted(net.node_ids) == sorted(n.id for n in p.nodes)
    assert len(net.edges) == len(p.edges)


# --- a generated city: the budget holds ---------------------------------------------------------


@pytest.fixture(scope="module")
def demo_facts(tmp_path_factory: pytest.TempPathFactory) -> Facts:
    from ingest.demo import generate_city

    d = tmp_path_factory.mktemp("viz_demo")
    manifest = generate_city(d / "demo", size="small", seed=42)
    from ingest.pipeline import IngestRequest, run_ingest

    store = EmbeddedStore(d / "store.sqlite")
    run_ingest(store, [IngestRequest(p, k, "full") for k, p in manifest.files.items()],
               person_key=PERSON_KEY, quarantine_dir=d / "q", today=TODAY)
    return build_facts(store.view())


def test_pictures_stay_under_the_budget_on_the_demo(demo_facts: Facts) -> None:
    f = demo_facts
    county = str(f.orgs["county"].value_counts().index[0])
    street = str(f.orgs.loc[f.orgs["street"].astype(str).str.len() == 9, "street"]
                 .value_counts().index[0])
    alliance = str(f.alliances.index[0])
    hostile = str(f.orgs.index[f.orgs["name"].str.contains("<script>")][0])
    busy = max(f.supply.nodes, key=f.supply.degree)
    for kind, code in (("structure", None), ("region", county), ("region", street),
                       ("alliance", alliance), ("org", hostile), ("org", busy)):
        p = build_picture(kind, f, code, scope=Scope(), settings=S, budget=50)
        assert len(p.nodes) <= 50, (kind, code, len(p.nodes))
        if p.full_size > 50:
            assert p.aggregated and "超过上限 50 个" in " ".join(p.notes)
        html = render_html(p)
        check_page(html, urls_allowed_in_data=True)
        assert "<script>alert(1)</script>有限公司" not in html
    assert build_picture("structure", f, scope=Scope(), settings=S, budget=50).aggregated
    # between "per Party organisation" (130 nodes) and "committees only": one group of
    # status nodes and one Party-organisation count per committee
    by_committee = build_picture("structure", f, scope=Scope(), settings=S, budget=120)
    assert by_committee.level == "committee" and len(by_committee.nodes) <= 120
    kinds = {n.kind for n in by_committee.nodes}
    assert kinds == {"committee", "status_group", "po_group"}
    total = sum(int(n.label.split("\n")[1].split(" ")[0].replace(",", ""))
                for n in by_committee.nodes if n.kind == "status_group")
    assert total == int(scope_mask(f, Scope(), S).sum())  # every in-scope unit, once


# --- charts ------------------------------------------------------------------------------------


def test_charts_escape_and_show_fractions(facts: Facts) -> None:
    from graph.coverage import breakdown
    from graph.findings import finding_counts
    from viz.render import chart_html

    rows = breakdown(facts, scope=Scope(), settings=S, by="street")["rows"]
    rows.append({"code": "999", "name": XSS, "rates": {k: {"numerator": 0, "denominator": 0,
                                                            "value": None} for k in r.RATE_ZH}})
    chart = rates_chart(rows, f"三率 {XSS}")
    assert "中山街道" in chart.svg and "60.0% (3/5)" in chart.svg and "—" in chart.svg
    assert XSS not in chart.svg and "&lt;script&gt;" in chart.svg
    html = chart_html(chart.svg, chart.title, [f"范围: {XSS}"])
    check_page(html)
    assert XSS not in html and "<svg " in html and "xmlns" not in html
    doc = chart.document()
    assert doc.startswith("<?xml") and 'xmlns="http://www.w3.org/2000/svg"' in doc
    counts = finding_counts(facts, scope=Scope(), settings=S)
    f = findings_chart(counts, "问题")
    assert "应建未建" in f.svg and ">5</text>" in f.svg
    half = {k: v.as_json() for k, v in r.coverage_rates({"standalone": 2,
                                                          "uncovered": 2}).items()}
    points = [{"run_id": 1, "finished_at": "2026-12-01T00:00:00", "rates": half},
              {"run_id": 2, "finished_at": None,
               "rates": {k: {"numerator": 0, "denominator": 0, "value": None}
                         for k in r.RATE_ZH}}]
    t = trend_chart(points, "趋势")
    assert "第1批" in t.svg and "50.0% (2/4)" in t.svg and "—" in t.svg
    assert "暂无趋势数据" in trend_chart([], "空").svg


# --- the CLI ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("viz_cli")
    e = {"FUGAI_STORE": str(d / "s.sqlite"), "FUGAI_DATA_DIR": str(d),
         "FUGAI_PERSON_KEY": "ab" * 16}
    for paths, mode in ((district_files(), "full"), (sorted(EXTRA.glob("*.csv")), "delta")):
        res = CliRunner().invoke(app, ["ingest", *map(str, paths), "--mode", mode,
                                       "--format", "json"], env=e)
        assert res.exit_code == 0, res.output
    return e


def test_cli_viz(env: dict[str, str], tmp_path: Path) -> None:
    run = CliRunner()
    out = tmp_path / "structure.html"
    res = run.invoke(app, ["viz", "structure", "-o", str(out)], env=env)
    assert res.exit_code == 0, res.output
    assert "节点 38 个" in res.stdout
    check_page(out.read_text(encoding="utf-8"))
    county = tmp_path / "county.html"
    res = run.invoke(app, ["viz", "region", "445202", "-o", str(county), "--budget", "20",
                           "--drill"], env=env)
    assert res.exit_code == 0, res.output
    assert 'href="region-445202001.html"' in county.read_text(encoding="utf-8")
    for street in ("445202001", "445202002", "445202003"):
        check_page((tmp_path / f"region-{street}.html").read_text(encoding="utf-8"))
    for args in (["alliance", "A01"], ["org", E05], ["region", "445202003", "--seed", "3"],
                 ["structure", "C05", "--region", "445202003"]):
        res = run.invoke(app, ["viz", *args, "-o", str(tmp_path / "x.html")], env=env)
        assert res.exit_code == 0, (args, res.output)
    res = run.invoke(app, ["viz", "org", E20, "--region", "445202001", "-o",
                           str(tmp_path / "y.html")], env=env)
    assert isinstance(res.exception, NotFound)
    res = run.invoke(app, ["viz", "alliance", "-o", str(tmp_path / "z.html")], env=env)
    assert isinstance(res.exception, UsageError)
    res = run.invoke(app, ["viz", "structure", "-o", str(tmp_path / "z.txt")], env=env)
    assert isinstance(res.exception, UsageError)


def test_cli_chart(env: dict[str, str], tmp_path: Path) -> None:
    from viz.render import find_chromium

    run = CliRunner()
    for kind, name, extra in (("rates", "r.svg", ["--by", "committee"]), ("rates", "r.html", []),
                              ("trend", "t.html", []), ("findings", "f.svg", []),
                              ("trend", "t2.svg", ["--region", "445202003"])):
        res = run.invoke(app, ["chart", kind, "-o", str(tmp_path / name), *extra], env=env)
        assert res.exit_code == 0, (kind, res.output)
    assert "榕东街道区域综合党委" in (tmp_path / "r.svg").read_text(encoding="utf-8")
    check_page((tmp_path / "r.html").read_text(encoding="utf-8"))
    trend_page = (tmp_path / "t.html").read_text(encoding="utf-8")
    check_page(trend_page)
    assert "第1批" in trend_page and "第2批" in trend_page
    res = run.invoke(app, ["chart", "findings", "-o", str(tmp_path / "f.png")], env=env)
    if find_chromium():
        assert res.exit_code == 0, res.output
        assert (tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        assert isinstance(res.exception, UsageError) and "Chromium" in str(res.exception)
    res = run.invoke(app, ["chart", "rates", "-o", str(tmp_path / "r.pdf")], env=env)
    assert isinstance(res.exception, UsageError)
