"""The picture model: nodes, edges, drill-down links and the styles that give them
meaning.

A :class:`Picture` is plain data, built by pure functions (``viz.pictures``) and turned
into HTML by ``viz.render``. Styles live here, in one table per thing a reader must
tell apart (status colours, node shapes per kind, edge styles per relationship), so
the picture, its legend and ``docs/viz.md`` say the same thing. Every text field is
plain, unescaped text: escaping is the renderer's job, done once, so a name never
shows ``&amp;`` (vis-network draws labels on a canvas and shows tooltips as text).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from graph import rules as r

#: CJK fonts first: Windows (YaHei), macOS (PingFang), Debian (Noto CJK, WenQuanYi);
#: canvas labels fall back to boxes when none is installed
FONT: Final = ("Microsoft YaHei, PingFang SC, Noto Sans CJK SC, Source Han Sans SC, "
               "WenQuanYi Zen Hei, SimHei, sans-serif")
#: coverage status -> colour; greens for the three kinds of organisation coverage,
#: amber for work coverage only, red for none (first match wins, docs/coverage-rules.md)
STATUS_COLOR: Final = {
    r.STANDALONE: "#1b5e20", r.JOINT: "#43a047", r.AREA: "#00897b",
    r.WORK_ONLY: "#f9a825", r.UNCOVERED: "#d32f2f",
}


@dataclass(frozen=True)
class NodeStyle:
    """How one kind of node looks; ``color`` None means "the colour of its status"."""

    zh: str
    shape: str
    color: str | None
    glyph: str
    font_color: str = "#263238"
    size: int = 14
    dashed: bool = False


KIND_STYLE: Final = {
    "committee": NodeStyle("党委(工委)", "box", "#283593", "▬", "#ffffff"),
    "party_org": NodeStyle("党组织", "diamond", "#c2185b", "◆"),
    "party_org_orphan": NodeStyle("失联党组织(无在册覆盖单位或党员)", "diamond", "#9e9e9e", "◆"),
    "org": NodeStyle("两新组织(颜色为覆盖状态)", "dot", None, "●", size=10),
    "association": NodeStyle("行业协会商会(颜色为覆盖状态)", "square", None, "■", size=11),
    "leader": NodeStyle("链主企业(颜色为覆盖状态)", "star", None, "★", size=18),
    "candidate": NodeStyle("候选单位(虚线边框)", "dot", None, "◌", size=10, dashed=True),
    "alliance": NodeStyle("产业链党建联盟", "hexagon", "#6a1b9a", "⬢", size=20),
    "instructor": NodeStyle("党建工作指导员", "triangle", "#ef6c00", "▲"),
    "place": NodeStyle("园区/楼宇", "triangleDown", "#78909c", "▼"),
    "region": NodeStyle("行政区划", "ellipse", "#37474f", "⬭", "#ffffff"),
    "members": NodeStyle("党员人数(不显示个人信息)", "circle", "#f8bbd0", "○"),
    "status_group": NodeStyle("汇总: 某一状态的单位数(越大越多)", "dot", None, "⬤"),
    "po_group": NodeStyle("汇总: 党组织数(越大越多)", "diamond", "#c2185b", "◆"),
}


@dataclass(frozen=True)
class EdgeStyle:
    zh: str
    color: str
    dashes: bool
    arrows: bool
    width: float = 1.5


EDGE_STYLE: Final = {
    "reports_to": EdgeStyle("隶属(上级—下级)", "#90a4ae", False, False, 2.0),
    "covers": EdgeStyle("覆盖(党组织→单位)", "#2e7d32", False, True, 2.0),
    "covers_area": EdgeStyle("统建覆盖(经园区/楼宇)", "#00897b", False, True, 2.0),
    "serves_area": EdgeStyle("统建范围(党组织→园区/楼宇)", "#00897b", False, True, 2.0),
    "in_place": EdgeStyle("所在园区/楼宇(单位→园区/楼宇)", "#00897b", True, True),
    "responsible": EdgeStyle("责任党委(尚无党组织覆盖的单位)", "#b0bec5", True, True),
    "assigned": EdgeStyle("党建工作指导员联系", "#ef6c00", True, True),
    "employed": EdgeStyle("党员在该单位工作", "#ad1457", False, True),
    "supplies": EdgeStyle("供应链(上游→下游)", "#1565c0", False, True, 2.0),
    "alliance_member": EdgeStyle("联盟成员", "#6a1b9a", False, False),
    "leads": EdgeStyle("链主", "#6a1b9a", False, False, 4.0),
    "guided_by": EdgeStyle("牵头党组织", "#6a1b9a", True, True),
    "candidate": EdgeStyle("候选成员(可吸纳入盟)", "#fb8c00", True, False),
    "association_member": EdgeStyle("协会会员(单位→协会)", "#6d4c41", False, True),
    "grouped": EdgeStyle("归类/汇总", "#cfd8dc", False, False, 1.0),
}


@dataclass
class Node:
    """One node. ``id`` is unique in its picture (``kind-prefix:key``); ``drill`` names
    the finer picture it opens, as (picture kind, code)."""

    id: str
    kind: str
    label: str
    title: str
    status: str | None = None
    level: int = 0
    size: float | None = None
    drill: tuple[str, str] | None = None
    x: float = 0.0
    y: float = 0.0

    @property
    def style(self) -> NodeStyle:
        return KIND_STYLE[self.kind]

    @property
    def group(self) -> str:
        """What the legend files the node under: its status if it has one, else its kind."""
        return self.status or self.kind

    @property
    def color(self) -> str:
        return self.style.color or STATUS_COLOR.get(self.status or "", "#90a4ae")


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    relation: str
    title: str = ""
    label: str = ""

    @property
    def style(self) -> EdgeStyle:
        return EDGE_STYLE[self.relation]


@dataclass(frozen=True)
class Link:
    """A drill-down: the finer picture (kind, code) and what to call it."""

    kind: str
    code: str
    label: str

    @property
    def command(self) -> str:
        """The command that writes this picture (shown when no file is linked)."""
        return f"fugai viz {self.kind} {self.code} -o {link_file(self.kind, self.code)}"


def link_file(kind: str, code: str) -> str:
    """A file name for a picture that is safe on every file system and in a URL."""
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "_" for c in code)
    return f"{kind}-{safe or 'all'}.html"


@dataclass
class Picture:
    kind: str
    title: str
    subject: str | None
    scope_zh: str
    run: dict[str, Any]
    settings_zh: str
    nodes: list[Node]
    edges: list[Edge]
    #: "detail" or the aggregation level used to stay within the budget
    level: str = "detail"
    notes: list[str] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    budget: int = 1500
    #: nodes the detailed picture would have had
    full_size: int = 0
    seed: int = 0

    @property
    def aggregated(self) -> bool:
        return self.level != "detail"

    def legend(self) -> tuple[list[str], list[str], list[str]]:
        """The statuses, node kinds and edge relations present, in table order."""
        statuses = {n.status for n in self.nodes if n.status}
        kinds = {n.kind for n in self.nodes}
        relations = {e.relation for e in self.edges}
        return ([s for s in r.STATUSES if s in statuses], [k for k in KIND_STYLE if k in kinds],
                [k for k in EDGE_STYLE if k in relations])
