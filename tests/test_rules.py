"""The scalar rules of graph/rules.py on the registry's own wordings."""

from __future__ import annotations

import pytest

from graph import rules as r


@pytest.mark.parametrize(("entity_type", "state"), [
    ("国有独资公司", True), ("有限责任公司(国有控股)", True), ("全民所有制", True),
    ("集体所有制", True), ("有限责任公司（国有独资）", True),
    ("有限责任公司(自然人投资或控股)", False), ("有限责任公司(非国有控股)", False),
    ("", False), (None, False),
])
def test_state_owned(entity_type: str | None, state: bool) -> None:
    assert r.is_state_owned(entity_type) is state


@pytest.mark.parametrize(("entity_type", "individual"), [
    ("个体工商户", True), ("个体户", True), ("个体", True), ("个人独资企业", False), (None, False),
])
def test_individual(entity_type: str | None, individual: bool) -> None:
    assert r.is_individual(entity_type) is individual


@pytest.mark.parametrize(("entity_type", "first"), [
    ("个人独资企业", "私营独资"),
    ("有限责任公司（台港澳法人独资）", "港澳台商独资"),
    ("有限责任公司(港澳台法人独资)", "港澳台商独资"),
    ("有限责任公司（台港澳与境内合资）", "港澳台商投资"),
    ("有限责任公司（外国法人独资）", "外商独资"),
    ("有限责任公司（中外合资）", "外商投资"),
    ("股份有限公司（中外合资、未上市）", "外商投资"),
    ("有限责任公司（自然人投资或控股）", "私有经济控制"),
    ("普通合伙企业", "私有经济控制"),
    ("农民专业合作社", "私有经济控制"),
    ("有限责任公司(台港澳自然人独资)", "港澳台商独资"),
])
def test_ownership_columns(entity_type: str, first: str) -> None:
    cols = r.ownership_columns(entity_type)
    assert cols[0] == first
    # foreign or HK/Macao/Taiwan money is never also counted as 私有经济控制
    assert ("私有经济控制" in cols) == (not any("港澳台" in c or "外商" in c for c in cols))
