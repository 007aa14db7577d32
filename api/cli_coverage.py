"""The coverage reports of the ``fugai`` CLI: summary, gaps, org, tree, alliances,
alliance, trend, stats-sheet. Each is a thin wrapper over a pure query in ``graph/``;
every one takes ``--format json``, the list-shaped ones csv and xlsx too."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from api.cli_common import StoreOpt, app, console, print_json, store_uri, with_store
from graph import model as m
from graph import rules as r
from graph.alliances import alliance_candidates, alliance_detail, alliance_list, suggested_alliances
from graph.coverage import breakdown, committee_tree, flatten_tree, summary
from graph.errors import UsageError
from graph.explain import explain_org
from graph.facts import Facts, build_facts
from graph.findings import findings_page, iter_findings
from graph.scope import Scope
from graph.settings import get_settings
from graph.store import Store, StoreView
from graph.trend import trend

JSON = dict[str, Any]


class Out(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    xlsx = "xlsx"


RegionOpt = Annotated[str, typer.Option("--region", help="区划代码前缀 (县区 6 位、街道 9 位)")]
CommitteeOpt = Annotated[str | None, typer.Option("--committee", help="党委(工委)编码: 含下级")]
KindOpt = Annotated[str | None, typer.Option("--kind", help="enterprise 或 social_org")]
IndustryOpt = Annotated[str | None, typer.Option("--industry", help="行业代码前缀, 如 G54")]
BandOpt = Annotated[str | None, typer.Option("--size-band", help="lt10 / 10-49 / 50-99 / 100+")]
ScaleOpt = Annotated[bool | None, typer.Option("--above-scale/--below-scale", help="规上/非规上")]
AllianceOpt = Annotated[str | None, typer.Option("--alliance", help="联盟编码")]
IndividualOpt = Annotated[bool | None, typer.Option(
    "--include-individual/--exclude-individual", help="个体工商户是否计入 (默认按设置)")]
ThresholdOpt = Annotated[int | None, typer.Option("--threshold", help="应建标准: 正式党员人数")]
OutOpt = Annotated[Out, typer.Option("--format", help="table / json / csv / xlsx")]
FileOpt = Annotated[Path | None, typer.Option("-o", "--output", help="输出文件")]


def _settings(include_individual: bool | None, threshold: int | None) -> r.CoverageSettings:
    base = get_settings().coverage()
    if threshold is not None and threshold < 1:
        raise UsageError("应建标准应为正整数")
    return r.CoverageSettings(
        include_individual=base.include_individual if include_individual is None
        else include_individual,
        full_member_threshold=threshold or base.full_member_threshold)


def _query(store: str | None, fn: Callable[[Facts, StoreView], JSON]) -> JSON:
    def go(s: Store) -> JSON:
        view = s.view()
        return fn(build_facts(view), view)
    return with_store(store_uri(store), go)


def _header(data: JSON) -> None:
    run = data.get("data", {})
    console.print(f"[bold]{data.get('scope_zh', '')}[/bold]  数据: 第{run.get('run_id')}批导入"
                  f" ({run.get('finished_at')})")
    if "settings_zh" in data:
        console.print(f"口径: {data['settings_zh']}", style="dim")


def _rate(rate: JSON) -> str:
    return r.Rate(rate["numerator"], rate["denominator"]).text()


def _emit_rows(fmt: Out, output: Path | None, columns: Sequence[tuple[str, str]],
               rows: Iterable[Mapping[str, Any]], sheet: str) -> None:
    from api.exports import write_csv, write_xlsx

    if fmt is Out.csv:
        if output:
            with output.open("w", encoding="utf-8", newline="") as fh:
                write_csv(rows, columns, fh)
        else:
            write_csv(rows, columns, sys.stdout)
    else:
        if output is None:
            raise UsageError("xlsx 格式需要用 -o 指定输出文件")
        write_xlsx([(sheet, columns, rows)], output)
        console.print(f"已写入 {output}")


def _status_row(row: JSON) -> JSON:
    """Status counts and rates of a report row as flat cells (rates as "60.0% (6/10)")."""
    rates = row["rates"] if "rates" in row else row["total"]["rates"]
    statuses = row["statuses"] if "statuses" in row else row["total"]["statuses"]
    out: JSON = dict(statuses)
    out.update({f"rate_{k}": _rate(v) for k, v in rates.items()})
    out["in_scope"] = sum(statuses.values())
    return out


STATUS_SHORT = {r.STANDALONE: "单独", r.JOINT: "联合", r.AREA: "统建", r.WORK_ONLY: "仅工作",
                r.UNCOVERED: "未覆盖"}
#: file columns carry the full Chinese names; terminal tables the short ones
STATUS_COLUMNS = [("in_scope", "在统单位数"), *((s, r.STATUS_ZH[s]) for s in r.STATUSES),
                  *((f"rate_{k}", v) for k, v in r.RATE_ZH.items())]
SHORT_HEADERS = {"in_scope": "在统", **STATUS_SHORT,
                 **{f"rate_{k}": v.replace("率", "") for k, v in r.RATE_ZH.items()}}


@app.command("summary")
def summary_cmd(region: RegionOpt = "", committee: CommitteeOpt = None, kind: KindOpt = None,
                industry: IndustryOpt = None, size_band: BandOpt = None,
                above_scale: ScaleOpt = None, alliance: AllianceOpt = None,
                include_individual: IndividualOpt = None, threshold: ThresholdOpt = None,
                by: Annotated[str | None, typer.Option(
                    "--by", help="分组: county / street / committee / org_kind / size_band")] = None,
                store: StoreOpt = None, format: OutOpt = Out.table, output: FileOpt = None) -> None:
    """覆盖概况: 三率 (含分子分母)、各状态单位数、问题数."""
    scope = Scope(region, committee, kind, industry, size_band, above_scale, alliance)
    settings = _settings(include_individual, threshold)

    def q(facts: Facts, view: StoreView) -> JSON:
        data = summary(facts, scope=scope, settings=settings)
        if by:
            data["breakdown"] = breakdown(facts, scope=scope, settings=settings, by=by)["rows"]
        return data
    data = _query(store, q)
    if format is Out.json:
        print_json(data)
        return
    if format in (Out.csv, Out.xlsx):
        if not by:
            raise UsageError("csv/xlsx 输出需要 --by 分组")
        cols = [("code", "编码"), ("name", "名称"), *STATUS_COLUMNS]
        rows = [{"code": b["code"], "name": b["name"], **_status_row(b)}
                for b in data["breakdown"]]
        _emit_rows(format, output, cols, rows, "覆盖概况")
        return
    _header(data)
    t = Table(title=f"在统单位 {data['in_scope']} 个")
    for col in ("指标", "比率", "分子", "分母"):
        t.add_column(col)
    for k, zh in r.RATE_ZH.items():
        v = data["rates"][k]
        t.add_row(zh, _rate(v).split(" ")[0], str(v["numerator"]), str(v["denominator"]))
    for key, zh in (("cross_appointment", "双向进入、交叉任职率"), ("charter", "党建入章率")):
        v = data[key]
        t.add_row(zh, _rate(v).split(" ")[0], str(v["numerator"]), str(v["denominator"]))
    console.print(t)
    console.print("  ".join(f"{r.STATUS_ZH[s]} {n}" for s, n in data["statuses"].items()))
    console.print("不在统计范围: " + "  ".join(f"{r.EXCLUSION_ZH[k]} {n}"
                                         for k, n in data["excluded"].items()))
    console.print("问题: " + "  ".join(f"{r.FINDING_ZH[k]} {n}"
                                     for k, n in data["findings"].items()))
    if by:
        _table(f"分组: {by}", [("code", "编码"), ("name", "名称"), *STATUS_COLUMNS],
               [{"code": b["code"], "name": b["name"], **_status_row(b)}
                for b in data["breakdown"]])


@app.command("gaps")
def gaps_cmd(finding: Annotated[list[str] | None, typer.Option(
                 "--finding", help=f"问题类型, 可多次: {', '.join(r.FINDINGS)}")] = None,
             region: RegionOpt = "", committee: CommitteeOpt = None, kind: KindOpt = None,
             industry: IndustryOpt = None, size_band: BandOpt = None,
             above_scale: ScaleOpt = None, alliance: AllianceOpt = None,
             include_individual: IndividualOpt = None, threshold: ThresholdOpt = None,
             page: Annotated[int, typer.Option(help="页码")] = 1,
             size: Annotated[int, typer.Option(help="每页条数")] = 50,
             store: StoreOpt = None, format: OutOpt = Out.table, output: FileOpt = None) -> None:
    """问题清单 (按优先级排序): 应建未建、有党员无组织、未覆盖……"""
    scope = Scope(region, committee, kind, industry, size_band, above_scale, alliance)
    settings = _settings(include_individual, threshold)
    if format in (Out.csv, Out.xlsx):
        from api.exports import FINDING_COLUMNS, export_findings, finding_rows, write_csv

        def export(facts: Facts, view: StoreView) -> JSON:
            if format is Out.xlsx or output:
                if output is None:
                    raise UsageError("xlsx 格式需要用 -o 指定输出文件")
                n = export_findings(facts, scope=scope, settings=settings, kinds=finding,
                                    fmt=format.value, path=output)
            else:
                n = write_csv(finding_rows(iter_findings(facts, scope=scope, settings=settings,
                                                         kinds=finding)),
                              FINDING_COLUMNS, sys.stdout)
            return {"rows": n}
        result = _query(store, export)
        if output:
            console.print(f"已写入 {output} ({result['rows']} 条)")
        return
    data = _query(store, lambda f, v: findings_page(f, scope=scope, settings=settings,
                                                    kinds=finding, page=page, size=size))
    if format is Out.json:
        print_json(data)
        return
    _header(data)
    t = Table(title=f"问题 共{data['total']}条 第{page}页")
    for col in ("问题", "编码", "名称", "区划", "原因"):
        t.add_column(col, overflow="fold")
    for it in data["items"]:
        t.add_row(it["finding_zh"], it["key"], it["name"], it["region_code"] or "", it["reason"])
    console.print(t)
    console.print("  ".join(f"{r.FINDING_ZH[k]} {n}" for k, n in data["counts"].items()))


@app.command("org")
def org_cmd(uscc: Annotated[str, typer.Argument(help="统一社会信用代码")],
            region: RegionOpt = "", include_individual: IndividualOpt = None,
            threshold: ThresholdOpt = None, store: StoreOpt = None,
            format: OutOpt = Out.table) -> None:
    """一个组织的全部情况, 以及它为什么是这个覆盖状态."""
    settings = _settings(include_individual, threshold)
    data = _query(store, lambda f, v: explain_org(f, v, uscc, scope=Scope(region),
                                                  settings=settings))
    if format is not Out.table and format is not Out.json:
        raise UsageError("org 只支持 table 或 json")
    if format is Out.json:
        print_json(data)
        return
    o = data["organization"]
    console.print(f"[bold]{o.get('name', '')}[/bold] {o['uscc']}")
    console.print(f"状态: {data['status_zh']} — {data['reason']}")
    if not data["in_scope"]:
        console.print(f"不在统计范围: {data['exclusion_zh']}")
    rc = data["responsible_committee"]
    console.print(f"责任党委: {rc['name']} ({rc['code']}) — 依据: {rc['rule_zh']}")
    mem = data["members"]
    console.print(f"党员: {mem['total']} 名 (正式 {mem['full']}, 预备 {mem['probationary']},"
                  f" 管理层 {mem['in_management']})")
    for p in data["proof"]:
        console.print(f"  证明: {p['src_name']} —{m.RELATIONSHIPS[p['type']].zh}→ {p['dst_name']}")
    for key, zh in (("instructors", "指导员"), ("associations", "所属协会"),
                    ("alliances", "所在联盟"), ("suppliers", "上游"), ("customers", "下游")):
        if data[key]:
            console.print(f"{zh}: " + "、".join(x.get("name") or x.get("instructor_id", "")
                                               for x in data[key]))
    for f in data["findings"]:
        console.print(f"[red]问题[/red] {f['finding_zh']}: {f['reason']}")
    _header(data)


@app.command("tree")
def tree_cmd(region: RegionOpt = "", include_individual: IndividualOpt = None,
             threshold: ThresholdOpt = None, store: StoreOpt = None,
             format: OutOpt = Out.table, output: FileOpt = None) -> None:
    """1+7+N 组织体系: 每个党委的覆盖情况 (含下级汇总)."""
    settings = _settings(include_individual, threshold)
    data = _query(store, lambda f, v: committee_tree(f, scope=Scope(region), settings=settings))
    if format is Out.json:
        print_json(data)
        return
    rows = [{"code": n["code"], "name": ("　" * n["depth"]) + n["name"], "kind": n["kind"],
             "own": n["own"]["in_scope"], "should_establish": n["total"]["should_establish"],
             "party_orgs": n["total"]["party_orgs"], **_status_row(n)}
            for n in flatten_tree(data)]
    cols = [("code", "编码"), ("name", "名称"), ("kind", "类型"), ("own", "直管单位"),
            *STATUS_COLUMNS, ("should_establish", "应建未建"), ("party_orgs", "党组织数")]
    if format in (Out.csv, Out.xlsx):
        _emit_rows(format, output, cols, rows, "1+7+N")
        return
    _header(data)
    _table("1+7+N", [c for c in cols if c[0] not in r.STATUSES], rows)
    if data["unassigned"]:
        console.print(f"未归属任何党委的单位: {data['unassigned']}")


@app.command("alliances")
def alliances_cmd(region: RegionOpt = "",
                  suggest: Annotated[bool, typer.Option(
                      "--suggest", help="列出建议组建的联盟 (无联盟的供应链群)")] = False,
                  min_size: Annotated[int | None, typer.Option(help="建议联盟最小规模")] = None,
                  store: StoreOpt = None, format: OutOpt = Out.table,
                  output: FileOpt = None) -> None:
    """产业链党建联盟一览 (或 --suggest 建议组建的联盟)."""
    settings = _settings(None, None)
    scope = Scope(region)
    if suggest:
        data = _query(store, lambda f, v: suggested_alliances(f, scope=scope, settings=settings,
                                                              min_size=min_size))
        rows = [{"leader": g["proposed_leader"]["uscc"], "leader_name":
                 g["proposed_leader"]["name"], "size": g["size"], "links": g["links"],
                 "chains": "、".join(g["chains"]), **_status_row(g)}
                for g in data["suggestions"]]
        cols = [("leader", "建议链主"), ("leader_name", "链主名称"), ("size", "单位数"),
                ("links", "供应关系数"), ("chains", "产业链"), *STATUS_COLUMNS]
        title = "建议组建的产业链党建联盟"
    else:
        data = _query(store, lambda f, v: alliance_list(f, scope=scope, settings=settings))
        rows = [{"code": a["code"], "name": a["name"], "chain": a["chain"] or "",
                 "leader_name": a["leader_name"] or "", "lacking": a["lacking"],
                 **_status_row(a)} for a in data["rows"]]
        cols = [("code", "编码"), ("name", "名称"), ("chain", "产业链"), ("leader_name", "链主"),
                *STATUS_COLUMNS, ("lacking", "无党组织成员")]
        title = "产业链党建联盟"
    _list_out(format, output, cols, rows, title, data)


def _list_out(format: Out, output: Path | None, cols: Sequence[tuple[str, str]],
              rows: list[JSON], title: str, data: JSON) -> None:
    if format is Out.json:
        print_json(data)
        return
    if format in (Out.csv, Out.xlsx):
        _emit_rows(format, output, cols, rows, title[:31])
        return
    if "settings_zh" in data:
        _header(data)
    _table(title, cols, rows)


def _table(title: str, cols: Sequence[tuple[str, str]], rows: Iterable[Mapping[str, Any]]) -> None:
    """A terminal table: short headers, rates without their fraction (files keep both)."""
    t = Table(title=title)
    for key, zh in cols:
        t.add_column(SHORT_HEADERS.get(key, zh), overflow="fold")
    for row in rows:
        t.add_row(*(str(row[k]).split(" (")[0] if k.startswith("rate_") else
                    "" if row[k] is None else str(row[k]) for k, _ in cols))
    console.print(t)


@app.command("alliance")
def alliance_cmd(code: Annotated[str, typer.Argument(help="联盟编码")],
                 candidates: Annotated[bool, typer.Option(
                     "--candidates", help="列出 k 跳内可吸纳的候选单位")] = False,
                 hops: Annotated[int | None, typer.Option("--hops", help="跳数 (默认 2)")] = None,
                 region: RegionOpt = "", store: StoreOpt = None, format: OutOpt = Out.table,
                 output: FileOpt = None) -> None:
    """一个联盟: 覆盖情况、无党组织的成员, 或 --candidates 候选单位."""
    settings = _settings(None, None)
    scope = Scope(region)
    unit_cols = [("uscc", "统一社会信用代码"), ("name", "名称"), ("status_zh", "覆盖状态"),
                 ("members", "党员数"), ("employees", "从业人数")]
    if candidates:
        data = _query(store, lambda f, v: alliance_candidates(f, code, scope=scope,
                                                              settings=settings, hops=hops))
        cols = [*unit_cols, ("hops", "跳数"), ("links_into_alliance", "与联盟成员关系数")]
        _list_out(format, output, cols, data["candidates"], f"{code} 候选单位 ({data['hops']}跳)",
                  data)
        return
    data = _query(store, lambda f, v: alliance_detail(f, code, scope=scope, settings=settings))
    if format is Out.table:
        a = data["alliance"]
        console.print(f"[bold]{a['name']}[/bold] ({code}) 链主: {a['leader_name']}"
                      f" 牵头党组织: {a['lead_party_org_name']}")
        console.print("  ".join(f"{r.RATE_ZH[k]} {_rate(v)}" for k, v in data["rates"].items()))
    _list_out(format, output, unit_cols, data["members"], f"{code} 成员单位", data)


@app.command("trend")
def trend_cmd(region: RegionOpt = "", committee: CommitteeOpt = None,
              limit: Annotated[int, typer.Option(help="最近几批")] = 30,
              store: StoreOpt = None, format: OutOpt = Out.table, output: FileOpt = None) -> None:
    """各批导入后的三率变化 (全域、县区、街道或党委)."""
    scope = Scope(region, committee)
    data = with_store(store_uri(store), lambda s: trend(s.view(), scope=scope, limit=limit))
    rows = [{"run_id": p["run_id"], "finished_at": p["finished_at"],
             "should_establish": p["should_establish"], **_status_row(p)}
            for p in data["points"]]
    cols = [("run_id", "批次"), ("finished_at", "导入时间"), *STATUS_COLUMNS,
            ("should_establish", "应建未建")]
    _list_out(format, output, cols, rows, "覆盖趋势", data)


@app.command("stats-sheet")
def stats_sheet_cmd(year: Annotated[int, typer.Option("--year", help="统计年度")],
                    output: Annotated[Path, typer.Option("-o", "--output", help="输出 .xlsx")],
                    region: RegionOpt = "", include_individual: IndividualOpt = None,
                    store: StoreOpt = None) -> None:
    """党内统计年报表 (非公企业、社会组织), 按官方行列输出 Excel."""
    from api.sheet_export import write_stats_workbook
    from graph.stats_sheet import stats_sheets

    settings = _settings(include_individual, None)

    def go(facts: Facts, view: StoreView) -> JSON:
        sheets = stats_sheets(facts, year=year, scope=Scope(region), settings=settings)
        write_stats_workbook(sheets, output)
        return {"sheets": len(sheets)}
    _query(store, go)
    console.print(f"已写入 {output}")
