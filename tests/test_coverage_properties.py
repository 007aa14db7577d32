"""Property-based tests of the coverage engine over small random districts.

The hand-built district pins known answers; these tests pin what must hold for *any*
data, because real registers hold combinations nobody writes a fixture for: a Party
organisation covering a deregistered unit and a live one, a member whose branch was
revoked, a report of a unit the registers do not know, a parent cycle. Each example
is written as CSV files in the ingest contract's format (the fixture headers, so the
test goes through the same header matching, cleaning and reference resolution as a
staff upload), ingested into a fresh embedded store, and the engine's answers are
checked for consistency with each other and with the stored graph:

- statuses partition the denominator (every in-scope unit has exactly one status),
  and status, denominator and the unit findings are what a second, independent
  reading of docs/coverage-rules.md computes from the generated rows;
- every rate is a true fraction, and "—" (None) exactly for an empty scope;
- rollups add up: the 1+7+N tree (and each node equals its committee scope), the
  breakdowns, the region split, the trend point the ingest stored;
- every proof path is made of stored, active edges, about a subject that exists;
- the answers do not depend on the order files arrive in (one run vs two runs, with
  references pending in between).

Three engine crashes these found are kept as regressions at the end (B1-B3).

Regions and committees are the fixture's (two streets, a 1+7+N tree of five), so the
committee rules have something to match; everything else is random.
"""

from __future__ import annotations

import contextlib
import csv
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph import model as m
from graph import rules as r
from graph.coverage import breakdown, committee_tree, status_counts, summary
from graph.embedded import EmbeddedStore
from graph.facts import Facts, build_facts
from graph.findings import finding_frames, iter_findings
from graph.rules import CoverageSettings
from graph.scope import Scope, scoped_orgs
from graph.store import Store
from ingest.validate import uscc_check_char
from tests.conftest import DISTRICT, ingest

COUNTY = "445202"
STREETS = ("445202001", "445202002")
PARK = "揭阳产业转移工业园"
BUILDING = "榕城万达广场写字楼"
COMMITTEE_CODES = ("C00", "C01", "C02", "C03", "C04")
SETTINGS = (CoverageSettings(), CoverageSettings(include_individual=True))
ORG_FINDINGS = tuple(k for k in r.FINDINGS if r.FINDING_SUBJECT[k] == m.ORGANIZATION)

#: the files a district is made of, in the fixture's header order
KINDS = ("regions", "committees", "enterprises", "social_orgs", "party_orgs", "members",
         "instructors", "supply_links", "annual_reports", "verifications")
HEADERS = {kind: (DISTRICT / f"{kind}.csv").read_text(encoding="utf-8").splitlines()[0]
           for kind in KINDS}
#: regions and committees are the fixture's, unchanged
FIXED = ("regions", "committees")

PROPERTY_SETTINGS = settings(
    max_examples=25, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def uscc(prefix: str, n: int) -> str:
    """A valid 18-character code: 8-character prefix, 9 digits, GB 32100 check char."""
    body = f"{prefix}{n:09d}"
    return body + uscc_check_char(body)


#: a well-formed code no register delivers: references to it stay pending
UNKNOWN_USCC = uscc("91445202", 999_999_999)


@dataclass
class District:
    """The rows of each random file, as header -> cell text."""

    rows: dict[str, list[dict[str, str]]]

    def write(self, directory: Path) -> dict[str, Path]:
        paths = {}
        for kind in KINDS:
            path = directory / f"{kind}.csv"
            if kind in FIXED:
                path.write_bytes((DISTRICT / f"{kind}.csv").read_bytes())
            else:
                header = HEADERS[kind].split(",")
                with path.open("w", encoding="utf-8", newline="") as fh:
                    writer = csv.DictWriter(fh, header)
                    writer.writeheader()
                    writer.writerows(self.rows[kind])
            paths[kind] = path
        return paths


def _subset(draw: st.DrawFn, items: list[str], max_size: int = 4) -> list[str]:
    if not items:
        return []
    return draw(st.lists(st.sampled_from(items), max_size=max_size, unique=True))


def _yes_no(draw: st.DrawFn, blank: bool = False) -> str:
    return draw(st.sampled_from(("是", "否", "") if blank else ("是", "否")))


@st.composite
def districts(draw: st.DrawFn) -> District:
    """A random district, from empty registers up to a few dozen rows.

    Half the examples are *complete*: every register holds at least one row that
    links up (an active enterprise covered by an active Party organisation, employing
    a member, with an annual report), as in any real district, so the paths through
    coverage, employment and reports are always exercised; the other half may lack
    any register, as a district's first uploads do (where B1-B3 below crashed).
    """
    complete = draw(st.booleans())
    ent_ids = draw(st.lists(st.integers(0, 999_999_998), min_size=int(complete), max_size=8,
                            unique=True))
    soc_ids = draw(st.lists(st.integers(0, 999_999_998), max_size=3, unique=True))
    ents = [uscc("91445202", n) for n in ent_ids]
    socs = [uscc("51445202", n) for n in soc_ids]
    orgs = ents + socs
    enterprises = [{
        "统一社会信用代码": u, "企业名称": f"揭阳市榕城区测试{i}有限公司",
        "企业类型": draw(st.sampled_from((
            "有限责任公司(自然人投资或控股)", "股份有限公司", "个体工商户", "国有独资公司",
            "集体所有制", "有限责任公司(台港澳法人独资)"))),
        "登记状态": draw(st.sampled_from(("存续", "存续", "注销"))),
        "成立日期": "2015-03-01",
        "行业代码": draw(st.sampled_from(("I6510", "G6020", "I6432", "C3311", "F5191", ""))),
        "区划代码": draw(st.sampled_from(STREETS)),
        "从业人数": draw(st.sampled_from(("", "0", "3", "12", "60", "150"))),
        "是否规上": _yes_no(draw),
        "所在园区": draw(st.sampled_from((PARK, ""))),
        "所在楼宇": draw(st.sampled_from((BUILDING, "", ""))),
        "住所": "中山路1号", "法定代表人": "张某",
    } for i, u in enumerate(ents)]
    social_orgs = [{
        "统一社会信用代码": u, "社会组织名称": f"揭阳市榕城区测试{i}协会",
        "社会组织类型": draw(st.sampled_from(("社会团体", "民办非企业单位", "基金会"))),
        "登记状态": draw(st.sampled_from(("正常", "注销"))), "成立日期": "2011-03-03",
        "区划代码": draw(st.sampled_from(STREETS)),
        "从业人数": draw(st.sampled_from(("", "6", "20"))),
        "是否行业协会商会": _yes_no(draw), "业务主管单位": "榕城区民政局",
        "是否党建入章": _yes_no(draw), "会员单位": ";".join(_subset(draw, ents)),
    } for i, u in enumerate(socs)]

    po_codes = [f"P{i:02d}" for i in range(1, draw(st.integers(int(complete), 6)) + 1)]
    party_orgs = [{
        "党组织编码": code,
        "党组织名称": draw(st.sampled_from((f"测试党组织{code}", f"测试流动党员党支部{code}"))),
        "党组织类别": draw(st.sampled_from((r.BRANCH, r.BRANCH, r.GENERAL_BRANCH,
                                            r.PARTY_COMMITTEE))),
        "组建方式": draw(st.sampled_from((m.STANDALONE_FORMATION, m.JOINT_FORMATION,
                                          *m.AREA_FORMATIONS))),
        # a committee, another Party organisation (cycles allowed), unknown or none
        "上级党组织编码": draw(st.sampled_from((*COMMITTEE_CODES, *po_codes, "P99", ""))),
        "覆盖单位": ";".join(_subset(draw, [*orgs, UNKNOWN_USCC])),
        "统建范围": draw(st.sampled_from((PARK, BUILDING, STREETS[0], "", ""))),
        "成立日期": "2016-07-01",
        "状态": draw(st.sampled_from(("正常", "正常", "撤销"))),
        "是否设立支委会": _yes_no(draw, blank=True),
    } for code in po_codes]

    members = [{
        "党员编号": f"M{i:02d}", "姓名": f"党员{i}", "身份证号": "",
        "党员类型": draw(st.sampled_from((r.FULL_MEMBER, r.FULL_MEMBER, "预备党员"))),
        "所在党组织编码": draw(st.sampled_from((*po_codes, "P99", ""))),
        "工作单位信用代码": draw(st.sampled_from((*orgs, *orgs, UNKNOWN_USCC, ""))),
        "职业": "职员", "是否流动党员": _yes_no(draw), "是否管理层": _yes_no(draw),
        "联系电话": "",
    } for i in range(1, draw(st.integers(0, 12)) + 1)]

    instructors = [{
        "指导员编号": f"I{i:02d}", "姓名": f"指导员{i}",
        "联系单位": ";".join(_subset(draw, orgs, 3)), "派出单位": "榕城区委组织部",
        "选派日期": "2024-03-01",
    } for i in range(1, draw(st.integers(0, 3)) + 1)]

    pairs = draw(st.lists(st.tuples(st.sampled_from(orgs), st.sampled_from(orgs))
                          .filter(lambda p: p[0] != p[1]),
                          max_size=6, unique=True)) if len(orgs) > 1 else []
    supply_links = [{
        "上游信用代码": a, "下游信用代码": b,
        "关系类型": draw(st.sampled_from(("供应", "配套", "采购"))),
        "产业链": draw(st.sampled_from(("不锈钢制品", ""))),
    } for a, b in pairs]

    reported = [(u, year) for u in _subset(draw, [*orgs, UNKNOWN_USCC], 5)
                for year in draw(st.lists(st.sampled_from(("2024", "2025")), min_size=1,
                                          max_size=2, unique=True))]
    annual_reports = [{
        "统一社会信用代码": u, "年度": year,
        "党员人数": draw(st.sampled_from(("", "0", "1", "3"))),
        "是否建立党组织": draw(st.sampled_from(("是", "否", ""))),
        "组建方式": "", "建立时间": "",
    } for u, year in reported]

    verifications = [{
        "统一社会信用代码": u,
        "核查结果": draw(st.sampled_from(("正常经营", "空壳", "僵尸", "失联", "已迁出"))),
        "核查日期": "2026-10-10", "说明": "",
    } for u in _subset(draw, orgs, 3)]

    if complete:
        anchor = ents[0]
        enterprises[0].update({"企业类型": "有限责任公司(自然人投资或控股)", "登记状态": "存续"})
        party_orgs[0].update({"状态": "正常", "覆盖单位": ";".join(
            dict.fromkeys([anchor, *filter(None, party_orgs[0]["覆盖单位"].split(";"))]))})
        if not members:
            members.append({"党员编号": "M01", "姓名": "党员1", "身份证号": "",
                            "党员类型": r.FULL_MEMBER, "所在党组织编码": "P01", "职业": "职员",
                            "是否流动党员": "否", "是否管理层": "否", "联系电话": ""})
        members[0]["工作单位信用代码"] = anchor
        if not any(a["统一社会信用代码"] == anchor for a in annual_reports):
            annual_reports.append({"统一社会信用代码": anchor, "年度": "2025", "党员人数": "",
                                   "是否建立党组织": "", "组建方式": "", "建立时间": ""})

    return District({
        "enterprises": enterprises, "social_orgs": social_orgs, "party_orgs": party_orgs,
        "members": members, "instructors": instructors, "supply_links": supply_links,
        "annual_reports": annual_reports, "verifications": verifications,
    })


@contextlib.contextmanager
def ingested(district: District, runs: tuple[tuple[str, ...], ...] = (KINDS,),
             snapshots: tuple[bool, ...] | None = None) -> Iterator[tuple[Store, Facts]]:
    """A fresh store holding ``district``, ingested as ``runs`` (kinds per run).

    ``snapshots``: per run, whether it computes its trend snapshot (default: every
    run, as in production). Switched off where it would only repeat another run's
    work, since it costs as much as building the facts.
    """
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        directory = Path(tmp)
        paths = district.write(directory)
        store = EmbeddedStore(directory / "store.sqlite")
        stack.callback(store.close)
        for i, kinds in enumerate(runs):
            with contextlib.ExitStack() as run:
                if snapshots is not None and not snapshots[i]:
                    run.enter_context(mock.patch("ingest.pipeline.record_snapshot",
                                                 lambda writer, settings, **kw: None))
                record = ingest(store, [paths[k] for k in kinds], qdir=directory / "q")
            # the generator writes only valid rows: a quarantined row is a test bug
            assert all(f.quarantined == 0 for f in record.files), \
                [(f.kind, f.reasons) for f in record.files if f.quarantined]
        yield store, build_facts(store.view())


def _rate_ok(rate: dict[str, Any]) -> bool:
    num, den, value = rate["numerator"], rate["denominator"], rate["value"]
    if den == 0:
        return num == 0 and value is None
    return 0 <= num <= den and value is not None and 0.0 <= value <= 1.0


def _add(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    return {s: a.get(s, 0) + b.get(s, 0) for s in set(a) | set(b)}


# --- the spec, read directly off the generated rows -------------------------------------
#
# A second reading of docs/coverage-rules.md that shares no code with graph/*, so the
# engine's status and in-scope answers are checked against the rules, not only for
# consistency with themselves.

_FORMATION_STATUS = {"单独组建": r.STANDALONE, "联合组建": r.JOINT, "区域统建": r.AREA,
                     "楼宇统建": r.AREA, "园区统建": r.AREA, "行业统建": r.AREA}


def expected_statuses(d: District) -> dict[str, str]:
    """Status per unit: covering active Party organisations (directly, or an area
    formation declared for the unit's park or building), else an instructor."""
    units = [*d.rows["enterprises"], *d.rows["social_orgs"]]
    found: dict[str, set[str]] = {u["统一社会信用代码"]: set() for u in units}
    for po in d.rows["party_orgs"]:
        if po["状态"] != "正常":
            continue
        status = _FORMATION_STATUS[po["组建方式"]]
        for u in filter(None, po["覆盖单位"].split(";")):
            if u in found:
                found[u].add(status)
        area = po["统建范围"]
        if status == r.AREA and area in (PARK, BUILDING):
            # the ingest contract: 楼宇统建 names a building, other formations a park
            column = "所在楼宇" if po["组建方式"] == "楼宇统建" else "所在园区"
            for unit in d.rows["enterprises"]:
                if unit[column] == area:
                    found[unit["统一社会信用代码"]].add(r.AREA)
    instructed = {u for i in d.rows["instructors"] for u in i["联系单位"].split(";") if u}
    out: dict[str, str] = {}
    for u, statuses in found.items():
        first = [x for x in (r.STANDALONE, r.JOINT, r.AREA) if x in statuses]
        out[u] = first[0] if first else r.WORK_ONLY if u in instructed else r.UNCOVERED
    return out


def expected_in_scope(d: District, s: CoverageSettings) -> set[str]:
    """Active, non-public, really operating units (individual businesses by setting)."""
    not_operating = {v["统一社会信用代码"] for v in d.rows["verifications"]
                     if v["核查结果"] in ("空壳", "僵尸", "失联")}
    out = {u["统一社会信用代码"] for u in d.rows["social_orgs"] if u["登记状态"] == "正常"}
    for u in d.rows["enterprises"]:
        kind = u["企业类型"]
        if u["登记状态"] != "存续" or any(w in kind for w in ("国有", "全民所有制", "集体")):
            continue
        if "个体工商户" in kind and not s.include_individual:
            continue
        out.add(u["统一社会信用代码"])
    return out - not_operating


def expected_unit_findings(d: District, s: CoverageSettings) -> dict[str, set[str]]:
    statuses = expected_statuses(d)
    scope = expected_in_scope(d, s)
    employed: dict[str, list[str]] = {}
    for mem in d.rows["members"]:
        employed.setdefault(mem["工作单位信用代码"], []).append(mem["党员类型"])
    full = {u: sum(t == r.FULL_MEMBER for t in types) for u, types in employed.items()}
    return {
        "should_establish": {u for u in scope if full.get(u, 0) >= s.full_member_threshold
                             and statuses[u] != r.STANDALONE},
        "members_without_org": {u for u in scope if employed.get(u)
                                and statuses[u] in (r.UNCOVERED, r.WORK_ONLY)},
        "uncovered": {u for u in scope if statuses[u] == r.UNCOVERED},
    }


# --- the checks (each a function, so a failure names its property) -----------------------


def check_partition_and_rates(district: District, facts: Facts) -> None:
    """Statuses partition the denominator, each is the spec's, every rate a fraction."""
    assert set(facts.orgs["status"]) <= set(r.STATUSES)
    # ... and each is the status the spec gives (first match wins)
    assert dict(zip(facts.orgs["uscc"], facts.orgs["status"], strict=True)) \
        == expected_statuses(district)
    for s in SETTINGS:
        whole = summary(facts, scope=Scope(), settings=s)
        scoped = scoped_orgs(facts, Scope(), s)
        assert sum(whole["statuses"].values()) == whole["in_scope"] == len(scoped)
        # exactly one status per in-scope unit, counted once
        assert scoped["uscc"].is_unique and scoped["status"].notna().all()
        assert {x: int((scoped["status"] == x).sum()) for x in r.STATUSES} \
            == whole["statuses"]
        assert set(scoped["uscc"]) == expected_in_scope(district, s)
        # in scope + excluded = every unit the scope's filters match
        assert whole["in_scope"] + sum(whole["excluded"].values()) == len(facts.orgs)
        rates = [*whole["rates"].values(), whole["cross_appointment"], whole["charter"]]
        rates += [rate for k in whole["by_kind"].values() for rate in k["rates"].values()]
        assert all(_rate_ok(rate) for rate in rates), rates
        assert sum(k["in_scope"] for k in whole["by_kind"].values()) == whole["in_scope"]
        frames = finding_frames(facts, scope=Scope(), settings=s,
                                kinds=("should_establish", "members_without_org", "uncovered"))
        assert {k: set(v["uscc"]) for k, v in frames.items()} \
            == expected_unit_findings(district, s)
    # a scope with no unit: every rate is "—", never 0% or an error
    empty = summary(facts, scope=Scope(region="445202009"), settings=SETTINGS[0])
    assert empty["in_scope"] == 0 and sum(empty["statuses"].values()) == 0
    assert all(v["value"] is None for v in empty["rates"].values())


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node["children"]:
        yield from _nodes(child)


def check_rollups(store: Store, facts: Facts, s: CoverageSettings) -> None:
    """The 1+7+N tree, the breakdowns, the region split and the stored trend point
    all add up to the same whole."""
    whole = summary(facts, scope=Scope(), settings=s)
    tree = committee_tree(facts, scope=Scope(), settings=s)
    roots: dict[str, int] = {}
    for root in tree["roots"]:
        roots = _add(roots, root["total"]["statuses"])
        for node in _nodes(root):
            expected = node["own"]["statuses"]
            for child in node["children"]:
                expected = _add(expected, child["total"]["statuses"])
            assert node["total"]["statuses"] == expected, node["code"]
            assert node["total"]["in_scope"] == sum(expected.values())
            # a node's rollup is what a scope limited to that committee counts
            scope = Scope(committee=node["code"])
            assert status_counts(scoped_orgs(facts, scope, s)) \
                == node["total"]["statuses"], node["code"]
            should = finding_frames(facts, scope=scope, settings=s,
                                    kinds=("should_establish",))["should_establish"]
            assert len(should) == node["total"]["should_establish"], node["code"]
    assert sum(roots.values()) + tree["unassigned"] == whole["in_scope"]
    assert all(roots.get(status, 0) <= n for status, n in whole["statuses"].items())
    if tree["unassigned"] == 0:
        assert {x: roots.get(x, 0) for x in r.STATUSES} == whole["statuses"]

    county = summary(facts, scope=Scope(region=COUNTY), settings=s)
    for by in ("street", "county", "committee", "org_kind", "size_band"):
        rows = breakdown(facts, scope=Scope(region=COUNTY), settings=s, by=by)["rows"]
        total: dict[str, int] = {}
        for row in rows:
            total = _add(total, row["statuses"])
            assert row["in_scope"] == sum(row["statuses"].values())
            assert all(_rate_ok(rate) for rate in row["rates"].values())
        assert {x: total.get(x, 0) for x in r.STATUSES} == county["statuses"], by

    # the two streets make up the county: statuses and unit findings
    parts = [summary(facts, scope=Scope(region=code), settings=s) for code in STREETS]
    assert parts[0]["in_scope"] + parts[1]["in_scope"] == whole["in_scope"]
    assert _add(parts[0]["statuses"], parts[1]["statuses"]) == whole["statuses"]
    for kind in ORG_FINDINGS:
        assert parts[0]["findings"][kind] + parts[1]["findings"][kind] \
            == whole["findings"][kind], kind

    # the trend point the ingest stored (default settings) says the same
    if s == CoverageSettings():
        view = store.view()

        def point(kind: str, code: str) -> dict[str, Any]:
            return view.snapshots(kind, code)[-1].figures

        assert point("all", "")["statuses"] == whole["statuses"]
        for code, part in zip(STREETS, parts, strict=True):
            if part["in_scope"]:
                assert point("street", code)["statuses"] == part["statuses"], code
        for root in tree["roots"]:
            for node in _nodes(root):
                assert point("committee", node["code"])["statuses"] \
                    == node["total"]["statuses"], node["code"]


def check_proofs(store: Store, facts: Facts) -> None:
    """Every finding's subject exists, and its proof is made of stored, active edges
    that touch the subject."""
    view = store.view()
    edges: dict[str, set[tuple[str, str, str, str]]] = {}
    for s in SETTINGS:
        for f in iter_findings(facts, scope=Scope(), settings=s):
            assert view.node(f.subject, f.key) is not None, (f.finding, f.key)
            assert f.subject == r.FINDING_SUBJECT[f.finding]
            assert f.reason, (f.finding, f.key)
            for e in f.proof:
                if e.type not in edges:
                    edges[e.type] = {(x.src_label, x.src_key, x.dst_label, x.dst_key)
                                     for x in view.edges(e.type) if x.active}
                # REPORT_OF starts at the report node, keyed "uscc:year"
                assert (e.src_label, e.src_key, e.dst_label, e.dst_key) in edges[e.type], \
                    (f.finding, f.key, e)
                # a park/building coverage is two edges; the first ends at the place
                assert f.key in (e.src_key, e.dst_key) or e.type == m.SERVES_AREA, \
                    (f.finding, f.key, e)


# --- properties ---------------------------------------------------------------------------

#: the first run of a two-run ingest, e.g. Party organisations and members before the
#: registers; the later kinds' references stay pending until the second run
SPLITS = st.one_of(
    st.just(("party_orgs", "members")),
    st.lists(st.sampled_from(KINDS), min_size=1, max_size=len(KINDS) - 1, unique=True)
    .map(tuple),
)


def _figures(facts: Facts, s: CoverageSettings) -> dict[str, Any]:
    """Everything the engine answers, minus what legitimately differs between runs
    (the run id, and which units are new since the previous run)."""
    out: dict[str, Any] = {}
    for scope in (Scope(), Scope(region=STREETS[0]), Scope(committee="C00")):
        summ = summary(facts, scope=scope, settings=s)
        summ.pop("data")
        summ["findings"].pop("new_since_last_run")
        tree = committee_tree(facts, scope=scope, settings=s)
        tree.pop("data")
        findings: dict[str, list[Any]] = {}
        for f in iter_findings(facts, scope=scope, settings=s):
            if f.finding != "new_since_last_run":
                findings.setdefault(f.finding, []).append(f.as_json())
        out[str(scope)] = {"summary": summ, "tree": tree, "findings": findings}
    return out


def check_order_independent(district: District, one_run: Facts, first: tuple[str, ...],
                            s: CoverageSettings) -> None:
    """One run of every file vs ``first`` then the rest: the same figures, trees and
    findings (keys in order, reasons and proofs)."""
    rest = tuple(k for k in KINDS if k not in first)
    expected = _figures(one_run, s)
    # the first run's snapshot is built from a partial store (a case of its own); the
    # second one's would repeat the single-run store's
    with ingested(district, runs=(first, rest), snapshots=(True, False)) as (_, two_runs):
        actual = _figures(two_runs, s)
    for key in expected:
        assert actual[key]["summary"] == expected[key]["summary"], key
        assert actual[key]["tree"] == expected[key]["tree"], key
        assert {k: [f["key"] for f in v] for k, v in actual[key]["findings"].items()} \
            == {k: [f["key"] for f in v] for k, v in expected[key]["findings"].items()}, key
        assert actual[key]["findings"] == expected[key]["findings"], key


@PROPERTY_SETTINGS
@given(districts(), st.sampled_from(SETTINGS), SPLITS)
def test_engine_invariants(district: District, s: CoverageSettings,
                           first: tuple[str, ...]) -> None:
    """Every property on one random district: partition and rates (both settings),
    rollups (the drawn setting), proofs, then the same district ingested in two runs
    (``first``, then the rest) must give the same answers.

    One test rather than five because building the facts costs ~0.3 s even for ten
    units, and the single-run store serves every check.
    """
    with ingested(district) as (store, facts):
        check_partition_and_rates(district, facts)
        check_rollups(store, facts, s)
        check_proofs(store, facts)
        check_order_independent(district, facts, first, s)


# --- regressions: engine crashes these properties found, shrunk to the fixture files -----
#
# Found against f83e7f1, fixed by cca4ff2. Each ingest builds the facts for its trend
# snapshot (graph.trend.record_snapshot), so these crashed the ingest run itself: a
# district's first upload of one register failed. pandas 3 refuses to put a value into
# a column whose dtype was inferred from no data (all-missing -> float64, empty ->
# bool), even through an all-False mask.


def _ingest_only(tmp_path: Path, *names: str) -> dict[str, Any]:
    store = EmbeddedStore(tmp_path / "store.sqlite")
    try:
        ingest(store, [DISTRICT / n for n in names], qdir=tmp_path / "q")
        return summary(build_facts(store.view()), scope=Scope(), settings=CoverageSettings())
    finally:
        store.close()


def test_b1_units_but_no_covering_party_org(tmp_path: Path) -> None:
    """B1: no unit covered -> status column all-NaN float64 -> ``o.loc[...,
    'status'] = r.WORK_ONLY`` raised TypeError. Expected: 9 in-scope units (12 less
    注销, 国有, 个体), all uncovered."""
    whole = _ingest_only(tmp_path, "enterprises.csv")
    assert whole["in_scope"] == whole["statuses"][r.UNCOVERED] == 9


def test_b2_units_and_party_orgs_but_no_annual_report(tmp_path: Path) -> None:
    """B2: no annual report -> ``o.loc[has_rep, 'report_mismatch'] = []`` into a bool
    column raised TypeError. Expected: figures, and no report_mismatch finding."""
    whole = _ingest_only(tmp_path, "enterprises.csv", "party_orgs.csv")
    assert whole["in_scope"] == 9 and whole["findings"]["report_mismatch"] == 0


def test_b3_party_orgs_and_members_before_any_register(tmp_path: Path) -> None:
    """B3: no Party organisation or member with a region yet -> region_code all-NaN
    float64 -> ``.str[:6]`` raised AttributeError. Expected: an empty denominator
    (every rate "—"); the references stay pending."""
    whole = _ingest_only(tmp_path, "party_orgs.csv", "members.csv")
    assert whole["in_scope"] == 0
    assert all(rate["value"] is None for rate in whole["rates"].values())
