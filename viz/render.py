"""Pictures to self-contained HTML that opens from disk on a machine with no internet.

Why not pyvis's own writer (engineering notes §4.1): its "local" mode still loads
vis-network from a CDN and "in_line" still links Bootstrap from one; its heading and
select menu are not escaped; ``write_html`` writes in the platform encoding (GBK on
a Chinese Windows desktop). So: our own Jinja2 template with autoescape; the
vis-network 9.1.2 JS and CSS that ship inside the installed pyvis package, read from
disk and inlined (nothing vendored); node data as HTML-safe JSON (``<``, ``>``, ``&``
and ``'`` as ``\\u`` escapes, so a name ``<script>`` stays text); titles left as plain
text, because vis-network ≥ 9 shows tooltips with ``innerText`` (escaping them as well
would show ``&lt;``); a Content-Security-Policy that admits only our two inline
scripts (by hash) and forbids every network fetch; the file written as UTF-8.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

from graph import rules as r
from graph.errors import UsageError
from viz.model import EDGE_STYLE, FONT, KIND_STYLE, STATUS_COLOR, Edge, Node, Picture

#: (picture kind, code) -> href of the finer picture, or None when there is none
Linker = Callable[[str, str], str | None]
VIS_VERSION: Final = "9.1.2"
#: shapes whose label is drawn inside the node (the rest put it underneath)
LABEL_INSIDE: Final = frozenset({"box", "ellipse", "circle", "database", "text"})
TEMPLATES: Final = Path(__file__).parent / "templates"
#: the URLs inside vis-network's text: licence banner, docs and error-message links
#: and the SVG namespace string; none is ever fetched (checked in tests/test_viz.py)
_URL: Final = re.compile(r"\b(https?):/{2}")


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True,
                       undefined=StrictUndefined, keep_trailing_newline=True)


def _pyvis_dir() -> Path:
    """The installed pyvis package, located without importing it (its ``__init__``
    imports IPython, which costs half a second)."""
    spec = importlib.util.find_spec("pyvis")
    if spec is None or not spec.submodule_search_locations:
        raise UsageError("找不到 pyvis 包 (vis-network 随 pyvis 0.3.2 安装)")
    return Path(next(iter(spec.submodule_search_locations)))


def neutralise_urls(js: str) -> str:
    """``http://x`` -> ``http:\\/\\/x``: the same string value in JavaScript (``\\/`` is
    ``/`` in string and regex literals, and comments do not care), but no URL text
    left for an intranet scanner to flag. ``</script`` is split the same way so the
    library cannot end our ``<script>`` element early."""
    js = _URL.sub(lambda mo: mo.group(1) + r":\/\/", js)
    return re.sub(r"</(script)", r"<\\/\1", js, flags=re.IGNORECASE)


@lru_cache(maxsize=1)
def vis_assets() -> tuple[str, str]:
    """(vis-network.min.js, vis-network.css) from the installed pyvis package; the app
    can serve the same two strings for its staff pages."""
    base = _pyvis_dir() / "templates" / "lib" / f"vis-{VIS_VERSION}"
    js = (base / "vis-network.min.js").read_text(encoding="utf-8")
    css = (base / "vis-network.css").read_text(encoding="utf-8")
    return neutralise_urls(js), css


def _sha(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() \
        + "'"


def csp(scripts: list[str], styles: list[str]) -> str:
    """Only these exact inline scripts and styles run; no fetch of any kind."""
    return ("default-src 'none'; script-src " + (" ".join(_sha(s) for s in scripts) or "'none'")
            + "; style-src " + (" ".join(_sha(s) for s in styles) or "'none'")
            + "; img-src data:; font-src data:; base-uri 'none'; form-action 'none'")


@lru_cache(maxsize=1)
def page_css() -> str:
    """The page's own CSS, with one class per status, node kind and edge style, so the
    legend needs no inline style attributes (which the CSP would refuse)."""
    rules = [
        "html,body{margin:0;height:100%}",
        f"body{{display:flex;flex-direction:column;font-family:{FONT};color:#263238}}",
        "header{padding:6px 16px;border-bottom:1px solid #e0e0e0}",
        "h1{font-size:20px;margin:4px 0}h2{font-size:15px;margin:10px 0 4px}",
        "h3{font-size:13px;margin:8px 0 2px;color:#546e7a}",
        ".meta{margin:2px 0;font-size:13px;color:#546e7a}.note{margin:4px 0;font-size:13px}",
        ".note.agg{background:#fff8e1;border-left:4px solid #f9a825;padding:4px 8px}",
        "main{flex:1;display:flex;min-height:0}",
        "#net{flex:1;min-width:0;height:100%;background:#fcfcfc}",
        ("aside{width:310px;overflow:auto;padding:8px 12px;border-left:1px solid #e0e0e0;"
        "font-size:13px}"),
        "aside ul{list-style:none;padding:0;margin:2px 0 8px}",
        "aside li{margin:3px 0;display:flex;align-items:center;gap:6px;flex-wrap:wrap}",
        "#find{width:170px}#find-msg{margin-left:6px;color:#546e7a}.hint{color:#78909c}",
        "code{font-size:11px;word-break:break-all;background:#f5f5f5}",
        ".sw{display:inline-block;width:14px;height:14px;border-radius:50%}",
        ".glyph{display:inline-block;width:18px;text-align:center;font-size:15px}",
        ".ln{display:inline-block;width:34px;height:0}",
        (f".vis-tooltip{{white-space:normal!important;max-width:440px;font-family:{FONT};"
        "font-size:13px;line-height:1.5}"),
    ]
    rules += [f".st-{s}{{background:{c}}}" for s, c in STATUS_COLOR.items()]
    rules += [f".k-{k}{{color:{v.color or '#607d8b'}}}" for k, v in KIND_STYLE.items()]
    rules += [f".e-{k}{{border-top:{max(v.width, 2):g}px {'dashed' if v.dashes else 'solid'} "
              f"{v.color}}}" for k, v in EDGE_STYLE.items()]
    return "\n".join(rules)


def _node(n: Node, linker: Linker | None) -> dict[str, Any]:
    st = n.style
    colour = n.color
    inside = st.shape in LABEL_INSIDE
    out: dict[str, Any] = {
        "id": n.id, "label": n.label, "title": n.title, "shape": st.shape,
        "x": n.x, "y": n.y, "level": n.level, "size": n.size or st.size,
        "color": {"background": colour, "border": "#37474f" if st.dashed else colour,
                  "highlight": {"background": colour, "border": "#000000"},
                  "hover": {"background": colour, "border": "#000000"}},
        "font": {"color": st.font_color if inside else "#263238",
                 "size": 16 if n.kind in ("committee", "alliance", "region") else 13},
        "borderWidth": 3 if st.dashed else 1,
    }
    if st.dashed:
        out["shapeProperties"] = {"borderDashes": [5, 4]}
    href = linker(*n.drill) if linker and n.drill else None
    if href:
        out["url"] = href
        out["title"] = n.title + "\n(双击打开细化图)"
    return out


def _edge(e: Edge) -> dict[str, Any]:
    st = e.style
    out: dict[str, Any] = {"from": e.source, "to": e.target, "title": e.title or st.zh,
                           "color": {"color": st.color, "highlight": "#263238",
                                     "hover": "#263238"},
                           "dashes": st.dashes, "width": st.width,
                           "arrows": "to" if st.arrows else ""}
    if e.label:
        out["label"] = e.label
    return out


def vis_data(picture: Picture, linker: Linker | None = None) -> dict[str, Any]:
    """The nodes, edges and options vis-network is given (positions fixed, physics
    off, hover tooltips, navigation buttons)."""
    many = len(picture.edges) > 800
    options = {
        "physics": {"enabled": False},
        "layout": {"improvedLayout": False, "randomSeed": picture.seed},
        "interaction": {"hover": True, "tooltipDelay": 120, "navigationButtons": True,
                        "keyboard": False, "hideEdgesOnDrag": many, "hideEdgesOnZoom": many},
        "nodes": {"font": {"face": FONT}, "scaling": {"label": {"drawThreshold": 6}}},
        "edges": {"smooth": False, "font": {"face": FONT, "size": 11, "align": "middle",
                                            "color": "#546e7a"}},
    }
    return {"nodes": [_node(n, linker) for n in picture.nodes],
            "edges": [_edge(e) for e in picture.edges], "options": options}


INIT_JS: Final = """(function () {
  "use strict";
  var data = %s;
  var nodes = new vis.DataSet(data.nodes), edges = new vis.DataSet(data.edges);
  var network = new vis.Network(document.getElementById("net"),
                                {nodes: nodes, edges: edges}, data.options);
  network.once("afterDrawing", function () {
    window.fugaiReadyAt = performance.now();
    document.body.setAttribute("data-ready", "1");
  });
  network.on("doubleClick", function (params) {
    var node = params.nodes.length ? nodes.get(params.nodes[0]) : null;
    if (node && node.url) { window.location.assign(node.url); }
  });
  var box = document.getElementById("find"), msg = document.getElementById("find-msg");
  document.getElementById("find-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var q = box.value.trim();
    if (!q) { return; }
    var hit = nodes.get({filter: function (n) {
      return n.label.indexOf(q) >= 0 || n.id.indexOf(q) >= 0; }});
    msg.textContent = hit.length ? "找到 " + hit.length + " 个" : "未找到";
    if (hit.length) {
      network.selectNodes(hit.map(function (n) { return n.id; }));
      network.focus(hit[0].id, {scale: 1.2, animation: false});
    }
  });
  window.fugai = {network: network, nodes: nodes, edges: edges};
})();"""


def render_html(picture: Picture, linker: Linker | None = None) -> str:
    """The picture as one self-contained HTML document (a str; write it as UTF-8)."""
    js, css = vis_assets()
    data = htmlsafe_json_dumps(vis_data(picture, linker), dumps=json.dumps,
                               ensure_ascii=False, separators=(",", ":"))
    init = INIT_JS % data
    statuses, kinds, relations = picture.legend()
    links = [{"label": lk.label, "command": lk.command, "href": linker(lk.kind, lk.code)
              if linker else None} for lk in picture.links]
    return _env().get_template("network.html.j2").render(
        p=picture, csp=csp([js, init], [css, page_css()]), vis_css=Markup(css),
        page_css=Markup(page_css()), vis_js=Markup(js), init_js=Markup(init),
        statuses=statuses, kinds=kinds, relations=relations, links=links,
        status_zh=r.STATUS_ZH, kind_style=KIND_STYLE, edge_style=EDGE_STYLE)


def write_html(picture: Picture, path: Path, linker: Linker | None = None) -> Path:
    """Write the picture as UTF-8 (never the platform's encoding)."""
    path.write_text(render_html(picture, linker), encoding="utf-8")
    return path


def chart_css() -> str:
    return (f"body{{margin:0;padding:8px 16px;font-family:{FONT};color:#263238}}"
            "h1{font-size:20px;margin:4px 0}.meta{margin:2px 0;font-size:13px;color:#546e7a}"
            "figure{margin:8px 0}svg{max-width:100%;height:auto}")


def chart_html(svg: str, title: str, meta: list[str]) -> str:
    """A chart page: the inline SVG (built escaped by ``viz.charts``) under a title."""
    style = chart_css()
    return _env().get_template("chart.html.j2").render(
        csp=csp([], [style]), title=title,
        meta=meta, page_css=Markup(style), svg=Markup(svg))


def find_chromium() -> str | None:
    """Debian's Chromium (``scripts/install-test-deps.sh``), or ``FUGAI_CHROMIUM``."""
    for cand in (os.environ.get("FUGAI_CHROMIUM"), "/usr/bin/chromium",
                 shutil.which("chromium"), shutil.which("chromium-browser")):
        if cand and Path(cand).is_file() and os.access(cand, os.X_OK):
            return cand
    return None


def svg_to_png(svg: str, path: Path, width: int, height: int) -> Path:
    """Render an SVG chart to PNG with headless Chromium (no internet needed)."""
    chromium = find_chromium()
    if chromium is None:
        raise UsageError("PNG 需要 Chromium (/usr/bin/chromium, 见 scripts/install-test-deps.sh)；"
                         "也可输出 .svg 或 .html")
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "chart.html"
        page.write_text("<!DOCTYPE html><meta charset='utf-8'><style>html,body{margin:0}"
                        f"svg{{display:block;font-family:{FONT}}}</style>{svg}",
                        encoding="utf-8")
        cmd = [chromium, "--headless", "--disable-gpu", "--hide-scrollbars",
               "--no-first-run", "--no-default-browser-check", f"--user-data-dir={tmp}/profile",
               f"--window-size={width},{height}", f"--screenshot={path.resolve()}",
               page.as_uri()]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.insert(1, "--no-sandbox")  # Chromium refuses to run as root with a sandbox
        try:
            subprocess.run(cmd, check=True, capture_output=True, timeout=120)
        except (subprocess.SubprocessError, OSError) as exc:
            raise UsageError(f"Chromium 生成 PNG 失败: {exc}") from exc
    if not path.exists():
        raise UsageError("Chromium 未生成 PNG 文件")
    return path


def to_pyvis(picture: Picture) -> Any:
    """The picture as a ``pyvis.network.Network``, for notebooks and anyone who wants
    pyvis's API. Filled in bulk: ``add_node`` checks membership in a list (10k nodes
    took 17 s). Do not use pyvis's ``show``/``write_html`` for staff: they are not
    offline-safe; ``write_html`` here is."""
    from pyvis.network import Network

    net = Network(directed=True, cdn_resources="in_line")
    data = vis_data(picture)
    net.nodes = data["nodes"]
    net.node_ids = [n["id"] for n in data["nodes"]]
    net.node_map = {n["id"]: n for n in data["nodes"]}
    net.edges = data["edges"]
    net.toggle_physics(False)
    return net
