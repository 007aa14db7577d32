"""``fugai viz`` and ``fugai chart``: network pictures and charts as files that open
offline (docs/viz.md). Thin wrappers: the pictures are built by ``viz.pictures``
from the same facts and scope as every report, rendered by ``viz.render``."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from api.cli_common import StoreOpt, app, console, store_uri, with_store
from api.cli_coverage import (
    CommitteeOpt,
    IndividualOpt,
    RegionOpt,
    ThresholdOpt,
    _query,
    _settings,
)
from graph import model as m
from graph.errors import FugaiError, UsageError
from graph.facts import Facts
from graph.scope import Scope
from graph.store import Store, StoreView

JSON = dict[str, Any]


class PictureKind(str, Enum):
    structure = "structure"
    alliance = "alliance"
    org = "org"
    region = "region"


class ChartKind(str, Enum):
    rates = "rates"
    trend = "trend"
    findings = "findings"


class By(str, Enum):
    county = "county"
    street = "street"
    committee = "committee"


BY_ZH = {"county": "县(市、区)", "street": "街道(乡镇)", "committee": "党委"}
OutputOpt = Annotated[Path, typer.Option("-o", "--output", help="输出文件")]


def _suffix(path: Path, allowed: tuple[str, ...]) -> str:
    suffix = path.suffix.lower()
    if suffix not in allowed:
        raise UsageError(f"输出文件应以 {' / '.join(allowed)} 结尾: {path.name}")
    return suffix


@app.command("viz")
def viz_cmd(kind: Annotated[PictureKind, typer.Argument(help="structure / alliance / org / region")],
            code: Annotated[str | None, typer.Argument(
                help="党委编码 / 联盟编码 / 统一社会信用代码 / 区划代码 (structure 可省略)")] = None,
            output: OutputOpt = Path("fugai-viz.html"), region: RegionOpt = "",
            budget: Annotated[int, typer.Option("--budget", help="节点上限, 超过则汇总")] = 1500,
            seed: Annotated[int, typer.Option("--seed", help="布局随机种子 (同一数据同一张图)")] = 0,
            drill: Annotated[bool, typer.Option(
                "--drill", help="同时写出细化图 (同一目录), 并在图中链接")] = False,
            include_individual: IndividualOpt = None, threshold: ThresholdOpt = None,
            store: StoreOpt = None) -> None:
    """网络图 (离线 HTML): 1+7+N 组织体系、产业链联盟、组织关系、区域覆盖."""
    from viz.model import link_file
    from viz.pictures import build_picture
    from viz.render import write_html

    _suffix(output, (".html", ".htm"))
    settings = _settings(include_individual, threshold)
    scope = Scope(region)

    def go(facts: Facts, view: StoreView) -> JSON:
        pic = build_picture(kind.value, facts, code, scope=scope, settings=settings,
                            budget=budget, seed=seed)
        finer = []
        if drill:
            for link in pic.links:
                try:
                    finer.append(build_picture(link.kind, facts, link.code, scope=scope,
                                               settings=settings, budget=budget, seed=seed))
                except FugaiError:
                    continue
        written = {(p.kind, p.subject or "") for p in finer}

        def linker(k: str, c: str) -> str | None:
            return link_file(k, c) if (k, c) in written else None

        for p in finer:
            write_html(p, output.parent / link_file(p.kind, p.subject or ""), linker)
        write_html(pic, output, linker)
        return {"nodes": len(pic.nodes), "edges": len(pic.edges), "level": pic.level,
                "drill": len(finer)}
    data = _query(store, go)
    how = "" if data["level"] == "detail" else " (已汇总)"
    extra = f", 细化图 {data['drill']} 个" if drill else ""
    console.print(f"已写入 {output}: 节点 {data['nodes']} 个, 连线 {data['edges']} 条{how}{extra}")


@app.command("chart")
def chart_cmd(kind: Annotated[ChartKind, typer.Argument(help="rates / trend / findings")],
              output: OutputOpt = Path("fugai-chart.html"),
              by: Annotated[By, typer.Option("--by", help="三率分组: county / street / committee")]
              = By.county,
              region: RegionOpt = "", committee: CommitteeOpt = None,
              limit: Annotated[int, typer.Option(help="趋势: 最近几批")] = 30,
              include_individual: IndividualOpt = None, threshold: ThresholdOpt = None,
              store: StoreOpt = None) -> None:
    """统计图 (SVG / 离线 HTML / PNG): 三率对比、覆盖率趋势、问题分类."""
    from viz.charts import findings_chart, rates_chart, trend_chart
    from viz.render import chart_html, svg_to_png

    suffix = _suffix(output, (".html", ".htm", ".svg", ".png"))
    settings = _settings(include_individual, threshold)
    scope = Scope(region, committee)
    if kind is ChartKind.trend:
        data = with_store(store_uri(store), lambda s: _trend(s, scope, limit))
        chart = trend_chart(data["points"], f"覆盖率趋势: {data['scope_zh']}")
        meta = [f"范围: {data['scope_zh']}", f"数据: {data['run']}",
                "各点为当批导入时按当时口径记录的数字"]
    else:
        def go(facts: Facts, view: StoreView) -> JSON:
            from graph.coverage import breakdown
            from graph.findings import finding_counts
            from graph.scope import report_header

            out = report_header(facts, scope, settings)
            if kind is ChartKind.rates:
                out["rows"] = breakdown(facts, scope=scope, settings=settings,
                                        by=by.value)["rows"]
            else:
                out["counts"] = finding_counts(facts, scope=scope, settings=settings)
            return out
        data = _query(store, go)
        run = data["data"]
        if kind is ChartKind.rates:
            chart = rates_chart(data["rows"], f"三率对比(按{BY_ZH[by.value]}): {data['scope_zh']}")
        else:
            chart = findings_chart(data["counts"], f"问题分类: {data['scope_zh']}")
        meta = [f"范围: {data['scope_zh']}",
                f"数据: 第 {run['run_id']} 批导入({run['finished_at']})",
                f"口径: {data['settings_zh']}"]
    if suffix == ".svg":
        output.write_text(chart.document(), encoding="utf-8")
    elif suffix == ".png":
        svg_to_png(chart.svg, output, chart.width, chart.height)
    else:
        output.write_text(chart_html(chart.svg, chart.title, meta), encoding="utf-8")
    console.print(f"已写入 {output}")


def _trend(store: Store, scope: Scope, limit: int) -> JSON:
    """The trend needs no facts snapshot: it reads the per-run rows (and names)."""
    from graph.trend import trend

    view = store.view()
    data = trend(view, scope=scope, limit=limit)
    code = data["code"]
    label = m.REGION if data["scope_kind"] in ("county", "street") else m.COMMITTEE
    node = view.node(label, code) if code else None
    name = str(node.props.get("name") or code) if node else (code or "全域")
    runs = view.runs(1)
    data["scope_zh"] = name if code else "全域"
    data["run"] = (f"第 {runs[0].run_id} 批导入({runs[0].finished_at})" if runs
                   else "尚无导入")
    return data
