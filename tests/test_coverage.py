"""The coverage engine on the hand-built district: every figure worked out by hand.

Run 1 ingests tests/fixtures/district (榕城区: 中山街道 001, 西马街道 002); run 2 adds
tests/fixtures/district_extra in delta mode (榕东街道 003 with its area committee C05, a
too-wide joint branch P08 over E13–E18, a branch P09 with 7 full members and no
committee, the building branch P10 over 榕东商务大厦, an empty branch P11, new units).

Hand-worked state after run 2, default settings (individual businesses out, ≥ 3 full
members): 22 units in scope —
standalone 3: E01 1XE (P01), S01 159E (P05), E19 190J (P09);
joint 8: E02 028E, E03 0369 (P02), E13–E18 (P08);
area 4: E04 0444, E05 052Y (park via P03), E21 2100, E22 2201 (building via P10);
work_only 2: E06 060R (I01), E23 2302 (I02);
uncovered 5: E07 079N, E12 124P, S02 1679, E20 200Y, E24 2403.
Excluded: E10 deregistered; E09 国有独资, E26 集体所有制; E08, E25 个体工商户; E11 空壳,
E27 僵尸.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import (
    DISTRICT,
    STORE_KINDS,
    FilledStore,
    district_files,
    ingest,
    ingest_district,
)
from district import (
    E01,
    E02,
    E03,
    E04,
    E05,
    E06,
    E07,
    E10,
    E12,
    E13,
    E14,
    E15,
    E16,
    E17,
    E19,
    E20,
    E21,
    E23,
    E24,
    E25,
    E26,
    S01,
    S02,
)

from graph import model as m
from graph import rules as r
from graph.alliances import (
    alliance_candidates,
    alliance_detail,
    alliance_list,
    suggested_alliances,
)
from graph.coverage import breakdown, committee_tree, flatten_tree, summary
from graph.errors import NotFound, UsageError
from graph.explain import explain_org
from graph.facts import Facts, build_core, build_facts
from graph.findings import finding_counts, findings_page, iter_findings
from graph.scope import Scope
from graph.store import Store
from graph.trend import snapshot_rows, trend

EXTRA = DISTRICT.parent / "district_extra"
S = r.CoverageSettings()



@pytest.fixture(scope="module", params=STORE_KINDS)
def district(request: pytest.FixtureRequest,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[FilledStore]:
    d = tmp_path_factory.mktemp("coverage")
    filled = FilledStore(request.param, d, lambda s: ingest_district(s, d / "q"))
    yield filled
    filled.close()


@pytest.fixture
def district_store(district: FilledStore) -> Store:
    return district.get()


@pytest.fixture(scope="module")
def facts(district: FilledStore) -> Facts:
    return build_facts(district.get().view())


@pytest.fixture
def run1_facts(store: Store, tmp_path: Path) -> Facts:
    ingest(store, district_files(), qdir=tmp_path / "q")
    return build_facts(store.view())


def test_statuses_after_the_first_run(run1_facts: Facts) -> None:
    status = run1_facts.orgs["status"].to_dict()
    assert {k: status[k] for k in (E01, E02, E03, E04, E05, E06, E07, E12, S01, S02)} == {
        E01: r.STANDALONE, E02: r.JOINT, E03: r.JOINT, E04: r.AREA, E05: r.AREA,
        E06: r.WORK_ONLY, E07: r.UNCOVERED, E12: r.UNCOVERED, S01: r.STANDALONE,
        S02: r.UNCOVERED}
    data = summary(run1_facts, scope=Scope(), settings=S)
    assert data["in_scope"] == 10
    assert {k: v["numerator"] for k, v in data["rates"].items()} == {
        "org_coverage": 6, "standalone": 2, "work_coverage": 7}
    # nothing is "new" on the very first ingest
    assert data["findings"]["new_since_last_run"] == 0


def test_summary_of_the_whole_district(facts: Facts) -> None:
    data = summary(facts, scope=Scope(), settings=S)
    assert data["in_scope"] == 22
    assert data["statuses"] == {"standalone": 3, "joint": 8, "area": 4, "work_only": 2,
                                "uncovered": 5}
    assert data["rates"]["org_coverage"] == {"numerator": 15, "denominator": 22,
                                             "value": round(15 / 22, 6)}
    assert data["rates"]["standalone"]["numerator"] == 3
    assert data["rates"]["work_coverage"]["numerator"] == 17
    assert data["excluded"] == {"inactive": 1, "state_owned": 2, "individual": 2,
                                "not_operating": 2}
    assert data["findings"] == {
        "should_establish": 2, "members_without_org": 3, "uncovered": 5,
        "orphan_party_org": 2, "unaffiliated_member": 2, "new_since_last_run": 2,
        "report_mismatch": 3, "joint_too_wide": 1, "level_mismatch": 2}
    # 14 covered enterprises; managers among members in E01 (M01), E02 (M06), E19 (M16)
    assert data["cross_appointment"]["numerator"] == 3
    assert data["cross_appointment"]["denominator"] == 14
    assert (data["charter"]["numerator"], data["charter"]["denominator"]) == (1, 2)
    assert data["by_kind"]["social_org"]["in_scope"] == 2
    assert data["settings"]["full_member_threshold"] == 3 and "个体工商户不计入" in data["settings_zh"]
    assert data["data"]["run_id"] == 2


def test_settings_change_the_scope_and_the_threshold(facts: Facts) -> None:
    with_individual = r.CoverageSettings(include_individual=True)
    data = summary(facts, scope=Scope(), settings=with_individual)
    assert data["in_scope"] == 24 and data["statuses"]["uncovered"] == 7
    assert data["excluded"]["individual"] == 0
    assert data["findings"]["new_since_last_run"] == 3  # E25 is new and uncovered
    two = r.CoverageSettings(full_member_threshold=2)
    keys = [f.key for f in iter_findings(facts, scope=Scope(), settings=two,
                                         kinds=["should_establish"])]
    assert keys == [E02, E20, E13, E12]


@pytest.mark.parametrize(("scope", "in_scope", "statuses"), [
    (Scope(region="445202003"), 12, (1, 6, 2, 1, 2)),
    (Scope(region="445202001"), 5, (1, 2, 0, 1, 1)),
    (Scope(region="445202"), 22, (3, 8, 4, 2, 5)),
    (Scope(committee="C05"), 11, (1, 6, 2, 0, 2)),
    (Scope(committee="C00"), 22, (3, 8, 4, 2, 5)),
    (Scope(org_kind=m.SOCIAL_ORG), 2, (1, 0, 0, 0, 1)),
    (Scope(industry="C17"), 6, (0, 6, 0, 0, 0)),
    (Scope(size_band="50-99"), 3, (1, 2, 0, 0, 0)),
    (Scope(above_scale=True), 2, (1, 0, 1, 0, 0)),
    (Scope(alliance="A01"), 3, (1, 0, 2, 0, 0)),
    (Scope(region="445202002", org_kind=m.ENTERPRISE), 4, (0, 0, 2, 0, 2)),
    (Scope(region="445202003", industry="F5"), 2, (0, 0, 0, 0, 2)),
])
def test_rates_over_scopes(facts: Facts, scope: Scope, in_scope: int,
                           statuses: tuple[int, ...]) -> None:
    data = summary(facts, scope=scope, settings=S)
    assert data["in_scope"] == in_scope
    assert tuple(data["statuses"][s] for s in r.STATUSES) == statuses


def test_an_empty_scope_shows_a_dash(facts: Facts) -> None:
    data = summary(facts, scope=Scope(region="445299"), settings=S)
    assert data["in_scope"] == 0
    assert all(v["value"] is None for v in data["rates"].values())
    assert r.Rate(0, 0).text() == "—"
    with pytest.raises(UsageError):
        Scope(region="榕城")
    with pytest.raises(NotFound):
        summary(facts, scope=Scope(committee="C99"), settings=S)


def test_breakdown_by_street(facts: Facts) -> None:
    rows = breakdown(facts, scope=Scope(), settings=S, by="street")["rows"]
    assert [(x["code"], x["name"], x["in_scope"]) for x in rows] == [
        ("445202001", "中山街道", 5), ("445202002", "西马街道", 5), ("445202003", "榕东街道", 12)]


def test_findings_in_priority_order(facts: Facts) -> None:
    page = findings_page(facts, scope=Scope(), settings=S, size=100)
    assert [(f["finding"], f["key"]) for f in page["items"]] == [
        ("should_establish", E02), ("should_establish", E20),
        ("members_without_org", E20), ("members_without_org", E12),
        ("members_without_org", E06),
        ("uncovered", E20), ("uncovered", E12), ("uncovered", S02), ("uncovered", E07),
        ("uncovered", E24),
        ("orphan_party_org", "P04"), ("orphan_party_org", "P11"),
        ("unaffiliated_member", "M10"), ("unaffiliated_member", "M11"),
        ("new_since_last_run", E20), ("new_since_last_run", E24),
        ("report_mismatch", E19), ("report_mismatch", E12), ("report_mismatch", E07),
        ("joint_too_wide", "P08"),
        ("level_mismatch", "P01"), ("level_mismatch", "P09"),
    ]
    assert page["total"] == 22
    second = findings_page(facts, scope=Scope(), settings=S, page=2, size=5)
    assert [f["key"] for f in second["items"]] == [E20, E12, S02, E07, E24]
    only = findings_page(facts, scope=Scope(region="445202003"), settings=S,
                         kinds=["uncovered", "orphan_party_org"])
    assert [f["key"] for f in only["items"]] == [E20, E24, "P11"]
    with pytest.raises(UsageError):
        findings_page(facts, scope=Scope(), settings=S, kinds=["nonsense"])


def test_findings_carry_reasons_and_proofs(facts: Facts) -> None:
    by_key = {(f.finding, f.key): f for f in iter_findings(facts, scope=Scope(), settings=S)}
    se = by_key[("should_establish", E02)]
    assert "正式党员3名" in se.reason and "联合" in se.reason
    assert {(p.type, p.src_key, p.dst_key) for p in se.proof} == {
        (m.EMPLOYED_BY, "M06", E02), (m.EMPLOYED_BY, "M07", E02), (m.EMPLOYED_BY, "M08", E02),
        (m.COVERS, "P02", E02)}
    work = by_key[("members_without_org", E06)]
    assert {(p.type, p.src_key) for p in work.proof} == {(m.EMPLOYED_BY, "M09"),
                                                         (m.ASSIGNED_TO, "I01")}
    orphan = by_key[("orphan_party_org", "P04")]
    assert [(p.type, p.dst_key) for p in orphan.proof] == [(m.COVERS, E10)]
    lost = by_key[("unaffiliated_member", "M11")]
    assert lost.proof[0].type == m.MEMBER_OF and lost.proof[0].dst_key == "P07"
    assert "P07" not in lost.name and "4452" in lost.name and "1111" in lost.name
    mismatch = by_key[("report_mismatch", E19)]
    assert mismatch.reason.startswith("年报称未建立党组织")
    assert mismatch.proof[0].type == m.REPORT_OF and mismatch.proof[0].src_key == f"{E19}:2025"
    assert "6个单位" in by_key[("joint_too_wide", "P08")].reason
    assert "正式党员7名" in by_key[("level_mismatch", "P01")].reason


def test_responsible_committees(facts: Facts) -> None:
    committee = facts.orgs["committee"].astype(str).to_dict()
    assert {k: committee[k] for k in (E01, E02, S02, E06, E23, E07, E12, S01, E04, E05,
                                      E13, E19, E20, E21, E24)} == {
        E01: "C00", E02: "C00", S02: "C00", E06: "C01", E23: "C01", E07: "C02", E12: "C02",
        S01: "C03", E04: "C04", E05: "C04", E13: "C05", E19: "C05", E20: "C05", E21: "C05",
        E24: "C05"}
    assert facts.orgs.at[E05, "committee_rule"] == "party_org"
    assert facts.orgs.at[E23, "committee_rule"] == "industry"
    assert facts.orgs.at[E20, "committee_rule"] == "place"
    assert facts.orgs.at[S02, "committee_rule"] == "work_committee"


def test_tree_rolls_up_to_the_whole(facts: Facts) -> None:
    tree = committee_tree(facts, scope=Scope(), settings=S)
    rows = {n["code"]: n for n in flatten_tree(tree)}
    assert [n["code"] for n in flatten_tree(tree)] == ["C00", "C01", "C02", "C03", "C04", "C05"]
    assert {c: rows[c]["own"]["in_scope"] for c in rows} == {
        "C00": 4, "C01": 2, "C02": 2, "C03": 1, "C04": 2, "C05": 11}
    assert rows["C00"]["total"]["statuses"] == summary(facts, scope=Scope(),
                                                       settings=S)["statuses"]
    assert rows["C05"]["total"]["statuses"] == {"standalone": 1, "joint": 6, "area": 2,
                                                "work_only": 0, "uncovered": 2}
    assert rows["C00"]["total"]["should_establish"] == 2
    assert rows["C05"]["total"]["should_establish"] == 1
    # active Party organisations: P01 P02 P04 (C00), P06 (C01), P05 (C03), P03 (C04),
    # P08–P11 (C05)
    assert rows["C00"]["total"]["party_orgs"] == 10 and rows["C05"]["total"]["party_orgs"] == 4
    assert tree["unassigned"] == 0


def test_explain_one_organisation(facts: Facts, district_store: Store) -> None:
    view = district_store.view()
    e05 = explain_org(facts, view, E05, scope=Scope(), settings=S)
    assert e05["status"] == r.AREA and "揭阳产业转移工业园" in e05["reason"]
    assert [(p["type"], p["src_key"], p["dst_key"]) for p in e05["proof"]] == [
        (m.SERVES_AREA, "P03", "park:揭阳产业转移工业园"),
        (m.IN_PLACE, E05, "park:揭阳产业转移工业园")]
    assert e05["responsible_committee"]["code"] == "C04"
    assert [a["code"] for a in e05["alliances"]] == ["A01"]
    assert [a["uscc"] for a in e05["associations"]] == [S01]
    assert [s["uscc"] for s in e05["suppliers"]] == [E07]
    assert [c["uscc"] for c in e05["customers"]] == [E04]
    e20 = explain_org(facts, view, E20, scope=Scope(), settings=S)
    assert [f["finding"] for f in e20["findings"]] == [
        "should_establish", "members_without_org", "uncovered", "new_since_last_run"]
    assert e20["members"]["full"] == 3 and e20["responsible_committee"]["rule"] == "place"
    e26 = explain_org(facts, view, E26, scope=Scope(), settings=S)
    assert not e26["in_scope"] and e26["exclusion"] == r.STATE_OWNED and e26["findings"] == []
    e25 = explain_org(facts, view, E25, scope=Scope(), settings=S)
    assert e25["exclusion"] == r.INDIVIDUAL
    with pytest.raises(NotFound):
        explain_org(facts, view, E20, scope=Scope(region="445202001"), settings=S)
    with pytest.raises(NotFound):
        explain_org(facts, view, "91445202MA0000000X", scope=Scope(), settings=S)


def test_alliances(facts: Facts) -> None:
    rows = alliance_list(facts, scope=Scope(), settings=S)["rows"]
    assert [(a["code"], a["members"], a["lacking"]) for a in rows] == [("A01", 3, 0)]
    assert rows[0]["rates"]["org_coverage"]["numerator"] == 3
    detail = alliance_detail(facts, "A01", scope=Scope(), settings=S)
    assert [u["uscc"] for u in detail["members"] if u["leader"]] == [E04]
    assert detail["lacking"] == []
    two = alliance_candidates(facts, "A01", scope=Scope(), settings=S)
    # E18 supplies the leader, but on the 纺织服装 chain: not a 不锈钢制品 candidate
    assert [(c["uscc"], c["hops"], c["links_into_alliance"]) for c in two["candidates"]] == [
        (E07, 1, 1), (E12, 2, 0)]
    three = alliance_candidates(facts, "A01", scope=Scope(), settings=S, hops=3)
    assert [c["uscc"] for c in three["candidates"]] == [E07, E12, E03]
    with pytest.raises(NotFound):
        alliance_candidates(facts, "A01", scope=Scope(region="445202001"), settings=S)
    suggestions = suggested_alliances(facts, scope=Scope(), settings=S)["suggestions"]
    assert [(g["size"], g["proposed_leader"]["uscc"]) for g in suggestions] == [(6, E15)]
    assert set(suggestions[0]["members"]) == {E13, E14, E15, E16, E17, E24}
    assert suggested_alliances(facts, scope=Scope(), settings=S, min_size=7)["suggestions"] == []


def test_trend_over_runs(district_store: Store) -> None:
    view = district_store.view()
    whole = trend(view, scope=Scope())["points"]
    assert [(p["run_id"], p["in_scope"], p["rates"]["org_coverage"]["numerator"])
            for p in whole] == [(1, 10, 6), (2, 22, 15)]
    street = trend(view, scope=Scope(region="445202003"))["points"]
    assert [(p["run_id"], p["in_scope"]) for p in street] == [(2, 12)]
    c05 = trend(view, scope=Scope(committee="C05"))["points"]
    assert [(p["run_id"], p["in_scope"], p["should_establish"]) for p in c05] == [(2, 11, 1)]
    with pytest.raises(UsageError):
        trend(view, scope=Scope(industry="C17"))


def test_the_runs_snapshot_reads_less_and_counts_the_same_as_the_full_facts(
        district_store: Store) -> None:
    """The snapshot at the end of a run reads only what statuses depend on; its figures
    are those of the full facts the pages show."""
    view = district_store.view()
    full = build_facts(view)
    rows = snapshot_rows(full.orgs, build_core(view).committees, 2, S)
    assert {row.scope_kind for row in rows} == {"all", "committee", "county", "street"}
    for row in rows:
        stored = view.snapshots(row.scope_kind, row.code)[-1]
        assert (stored.run_id, stored.figures) == (2, row.figures)


def test_member_findings_follow_the_region(facts: Facts) -> None:
    counts = finding_counts(facts, scope=Scope(region="445202001"), settings=S)
    assert counts["unaffiliated_member"] == 0 and counts["orphan_party_org"] == 0
    counts = finding_counts(facts, scope=Scope(region="445202002"), settings=S)
    assert counts["unaffiliated_member"] == 2 and counts["orphan_party_org"] == 1


def test_an_unchanged_run_repeats_the_last_figures(store: Store, tmp_path: Path) -> None:
    ingest(store, district_files(), qdir=tmp_path / "q")
    ingest(store, district_files(), qdir=tmp_path / "q")
    points = trend(store.view(), scope=Scope())["points"]
    assert [p["run_id"] for p in points] == [1, 2]
    assert points[0]["statuses"] == points[1]["statuses"] and points[1]["in_scope"] == 10
    c04 = trend(store.view(), scope=Scope(committee="C04"))["points"]
    assert [p["in_scope"] for p in c04] == [2, 2]
