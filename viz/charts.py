"""Charts as SVG written by hand: no charting library, no JavaScript, nothing to fetch.

Three charts the staff pages and ``fugai chart`` use: the three rates per district or
per committee (bars, each labelled with its numerator and denominator, "—" for an
empty scope), the rates over ingest runs (lines), and findings per kind (bars).
Input is the JSON the coverage queries return (``breakdown``, ``trend``,
``finding_counts``), so a chart always shows the report's figures. Every text is
escaped here; the SVG is inline-ready (no namespace, which HTML does not need) and
:meth:`Chart.document` makes a standalone ``.svg`` file of it.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from graph import rules as r
from viz.model import FONT

RATE_COLOR: Final = {"org_coverage": "#2e7d32", "standalone": "#1565c0",
                     "work_coverage": "#f9a825"}
SUBJECT_COLOR: Final = {"Organization": "#d32f2f", "PartyOrganization": "#c2185b",
                        "Member": "#6a1b9a"}
SUBJECT_ZH: Final = {"Organization": "两新组织", "PartyOrganization": "党组织", "Member": "党员"}
#: the namespace name a standalone .svg file must declare (an identifier, never
#: fetched); inline SVG in our HTML pages goes without it
SVG_NS: Final = "http://www.w3.org/2000/svg"


def esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def text_width(text: str, size: float) -> float:
    """Rough rendered width: CJK and full-width characters one em, others half."""
    return sum(size if ord(c) > 0x2E7F else size * 0.56 for c in text)


def clip(text: str, size: float, width: float) -> str:
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


@dataclass(frozen=True)
class Chart:
    title: str
    svg: str
    width: int
    height: int

    def document(self) -> str:
        """A standalone SVG file (declares the namespace, as files must)."""
        head = '<?xml version="1.0" encoding="UTF-8"?>\n'
        return head + self.svg.replace("<svg ", f'<svg xmlns="{SVG_NS}" ', 1)


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
            f'font-family="{esc(FONT)}" font-size="13" role="img" aria-label="{esc(title)}">'
            f"<title>{esc(title)}</title>"
            f'<rect width="{width}" height="{height}" fill="#ffffff"/>'
            f'<text x="16" y="26" font-size="17" font-weight="bold" fill="#263238">'
            f"{esc(title)}</text>" + "".join(body) + "</svg>")


def _legend(x: float, y: float, items: Sequence[tuple[str, str]], dash: bool = False) -> list[str]:
    out = []
    for label, colour in items:
        mark = (f'<line x1="{x:.0f}" y1="{y - 4:.0f}" x2="{x + 18:.0f}" y2="{y - 4:.0f}" '
                f'stroke="{colour}" stroke-width="3"/>' if dash else
                f'<rect x="{x:.0f}" y="{y - 11:.0f}" width="14" height="12" fill="{colour}"/>')
        out.append(mark + f'<text x="{x + 22:.0f}" y="{y:.0f}" fill="#37474f">{esc(label)}</text>')
        x += 30 + text_width(label, 13)
    return out


def _rate_text(rate: Mapping[str, Any]) -> str:
    return r.Rate(int(rate["numerator"]), int(rate["denominator"])).text()


def rates_chart(rows: Sequence[Mapping[str, Any]], title: str) -> Chart:
    """Three bars per row (党组织覆盖率, 单独组建率, 工作覆盖率), each with its fraction."""
    left, bar_w, right = 210, 430, 220
    width, top, row_h = left + bar_w + right, 78, 60
    height = top + max(len(rows), 1) * row_h + 20
    body = _legend(16, 52, [(v, RATE_COLOR[k]) for k, v in r.RATE_ZH.items()])
    for pct in (0, 25, 50, 75, 100):
        x = left + bar_w * pct / 100
        body.append(f'<line x1="{x:.0f}" y1="{top - 8}" x2="{x:.0f}" y2="{height - 16}" '
                    f'stroke="#eceff1"/><text x="{x:.0f}" y="{top - 12}" fill="#90a4ae" '
                    f'text-anchor="middle" font-size="11">{pct}%</text>')
    if not rows:
        body.append(f'<text x="{left}" y="{top + 24}" fill="#78909c">范围内没有在统单位</text>')
    for i, row in enumerate(rows):
        y = top + i * row_h
        name = f"{row.get('name') or row.get('code')}"
        body.append(f'<text x="{left - 10}" y="{y + 26}" text-anchor="end" fill="#263238">'
                    f"<title>{esc(name)} ({esc(row.get('code', ''))})</title>"
                    f"{esc(clip(name, 13, left - 24))}</text>")
        for j, key in enumerate(r.RATE_ZH):
            rate = row["rates"][key]
            value = rate.get("value")
            yy = y + 6 + j * 15
            label = _rate_text(rate)
            if value is not None:
                body.append(f'<rect x="{left}" y="{yy}" width="{bar_w * float(value):.1f}" '
                            f'height="12" fill="{RATE_COLOR[key]}">'
                            f"<title>{esc(name)} {esc(r.RATE_ZH[key])}: {esc(label)}</title></rect>")
            body.append(f'<text x="{left + bar_w + 8}" y="{yy + 11}" font-size="12" '
                        f'fill="#37474f">{esc(label)}</text>')
    return Chart(title, _svg(width, height, title, body), width, height)


def trend_chart(points: Sequence[Mapping[str, Any]], title: str) -> Chart:
    """The three rates over ingest runs, oldest left; a run with an empty scope
    breaks the line rather than dropping to 0."""
    width, height = 900, 440
    left, right, top, bottom = 64, 40, 70, 84
    plot_w, plot_h = width - left - right, height - top - bottom
    body = _legend(16, 52, [(v, RATE_COLOR[k]) for k, v in r.RATE_ZH.items()], dash=True)
    for pct in (0, 25, 50, 75, 100):
        y = top + plot_h * (1 - pct / 100)
        body.append(f'<line x1="{left}" y1="{y:.0f}" x2="{left + plot_w}" y2="{y:.0f}" '
                    f'stroke="#eceff1"/><text x="{left - 8}" y="{y + 4:.0f}" fill="#90a4ae" '
                    f'text-anchor="end" font-size="11">{pct}%</text>')
    n = len(points)
    if not n:
        body.append(f'<text x="{left + 20}" y="{top + 40}" fill="#78909c">暂无趋势数据'
                    "(每批导入后记录一次)</text>")
        return Chart(title, _svg(width, height, title, body), width, height)

    def x_of(i: int) -> float:
        return left + (plot_w / 2 if n == 1 else plot_w * i / (n - 1))

    every = max(1, math.ceil(n / 12))
    for i, p in enumerate(points):
        if i % every == 0 or i == n - 1:
            day = str(p.get("finished_at") or "")[:10]
            body.append(f'<text x="{x_of(i):.0f}" y="{top + plot_h + 20}" text-anchor="middle" '
                        f'font-size="11" fill="#546e7a">第{esc(p["run_id"])}批</text>'
                        f'<text x="{x_of(i):.0f}" y="{top + plot_h + 36}" text-anchor="middle" '
                        f'font-size="11" fill="#90a4ae">{esc(day)}</text>')
    for key, colour in RATE_COLOR.items():
        segment: list[str] = []
        segments = [segment]
        for i, p in enumerate(points):
            rate = p["rates"][key]
            if rate.get("value") is None:
                segment = []
                segments.append(segment)
                continue
            y = top + plot_h * (1 - float(rate["value"]))
            segment.append(f"{x_of(i):.1f},{y:.1f}")
            body.append(f'<circle cx="{x_of(i):.1f}" cy="{y:.1f}" r="4" fill="{colour}">'
                        f"<title>第{esc(p['run_id'])}批 {esc(r.RATE_ZH[key])}: "
                        f"{esc(_rate_text(rate))}</title></circle>")
        body += [f'<polyline points="{" ".join(seg)}" fill="none" stroke="{colour}" '
                 f'stroke-width="2.5"/>' for seg in segments if len(seg) > 1]
    last = points[-1]
    body.append(f'<text x="{left}" y="{height - 18}" font-size="12" fill="#37474f">最近一批: '
                + esc("；".join(f"{v} {_rate_text(last['rates'][k])}"
                               for k, v in r.RATE_ZH.items())) + "</text>")
    return Chart(title, _svg(width, height, title, body), width, height)


def findings_chart(counts: Mapping[str, int], title: str) -> Chart:
    """One bar per finding kind, in the spec's priority order, coloured by subject."""
    left, bar_w, right, top, row_h = 150, 520, 90, 78, 30
    kinds = [k for k in r.FINDINGS if k in counts]
    width, height = left + bar_w + right, top + max(len(kinds), 1) * row_h + 16
    subjects = [s for s in SUBJECT_COLOR if any(r.FINDING_SUBJECT[k] == s for k in kinds)]
    body = _legend(16, 52, [(f"对象: {SUBJECT_ZH[s]}", SUBJECT_COLOR[s]) for s in subjects])
    most = max((int(counts[k]) for k in kinds), default=0) or 1
    for i, k in enumerate(kinds):
        y, n = top + i * row_h, int(counts[k])
        colour = SUBJECT_COLOR[r.FINDING_SUBJECT[k]]
        body.append(f'<text x="{left - 10}" y="{y + 15}" text-anchor="end" fill="#263238">'
                    f"{esc(r.FINDING_ZH[k])}</text>"
                    f'<rect x="{left}" y="{y + 3}" width="{max(bar_w * n / most, 1 if n else 0):.1f}" '
                    f'height="16" fill="{colour}"><title>{esc(r.FINDING_ZH[k])}: {n:,}</title></rect>'
                    f'<text x="{left + bar_w * n / most + 8:.1f}" y="{y + 16}" fill="#37474f">'
                    f"{n:,}</text>")
    return Chart(title, _svg(width, height, title, body), width, height)
