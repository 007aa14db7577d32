"""The column helpers of the facts build give what their plain pandas forms give."""

from __future__ import annotations

import numpy as np
import pandas as pd

from graph.facts import per_unique
from graph.facts_build import along, isin


def test_along_is_map_from_the_small_side() -> None:
    units = pd.DataFrame({"uscc": ["A", "B", "C", "D"]}, index=[10, 11, 12, 13])
    keys = pd.Index(units["uscc"])
    years = pd.Series([2024, 2023, 2025], index=["C", "A", "Z"])   # Z: no such unit
    got = along(keys, years, units.index)
    want = units["uscc"].map(years)
    pd.testing.assert_series_equal(got, want, check_names=False)
    assert got.index.tolist() == [10, 11, 12, 13]
    assert got.tolist()[:1] == [2023] and np.isnan(got[11]) and got[12] == 2024
    names = along(keys, {"B": "李四", "D": "王五"}, units.index)
    assert names.tolist()[1::2] == ["李四", "王五"] and names.isna().tolist() == [
        True, False, True, False]
    assert along(keys, pd.Series([], dtype=object), units.index).isna().all()


def test_isin_is_pandas_membership_for_text_and_for_anything_else() -> None:
    values = pd.Series(["91A", "91B", None, "中文", "91A"], index=[7, 8, 9, 10, 11])
    for keys in ({"91A", "中文"}, pd.Index(["91B", "91B", None]), ["x"], []):
        got = isin(values, keys)
        want = values.isin(list(keys))
        pd.testing.assert_series_equal(got, want)
    # text is never equal to a number of the same digits, as in pandas
    numbers = pd.Series([1, 2, 3])
    pd.testing.assert_series_equal(isin(numbers, {"1", 2}), numbers.isin(["1", 2]))
    assert isin(pd.Series([], dtype=object), {"a"}).empty


def test_per_unique_applies_the_rule_once_per_combination() -> None:
    frame = pd.DataFrame({
        "kind": ["enterprise", "social_org", "enterprise", None, "enterprise", None],
        "code": ["I64", "S01", "I64", "I64", None, "I64"],
        "size": [3, 3, 3, 3, 7, 3],
    }, index=list("uvwxyz"))
    calls: list[tuple[object, ...]] = []

    def rule(kind: str | None, code: str | None, size: int) -> str:
        calls.append((kind, code, size))
        return f"{kind or '-'}/{code or '-'}/{size}"

    got = per_unique(frame, ["kind", "code", "size"], rule)
    assert got.tolist() == ["enterprise/I64/3", "social_org/S01/3", "enterprise/I64/3",
                            "-/I64/3", "enterprise/-/7", "-/I64/3"]
    assert got.index.tolist() == list("uvwxyz")
    assert len(calls) == 4 and (None, "I64", 3) in calls   # missing values reach it as None
    assert per_unique(frame.iloc[:0], ["kind"], rule).empty


def test_per_unique_survives_many_distinct_values() -> None:
    n = 70_000   # 70k × 70k × 2 possible combinations: the fold renumbers on the way
    frame = pd.DataFrame({"a": np.arange(n), "b": np.arange(n)[::-1], "c": np.arange(n) % 2})
    got = per_unique(frame, ["a", "b", "c"], lambda a, b, c: a + b + c)
    assert got.tolist() == (frame["a"] + frame["b"] + frame["c"]).tolist()
