"""The four network pictures, by name: one entry point for the CLI and the staff pages.

Each builder is a pure function ``f(facts, code, *, scope, settings, budget, seed)``
returning a :class:`~viz.model.Picture`; the scope is required, as for every query, so
a district user's picture never holds another district's units.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from graph import rules as r
from graph.errors import UsageError
from graph.facts import Facts
from graph.scope import Scope
from viz.common import DEFAULT_BUDGET, PICTURE_ZH
from viz.model import Picture
from viz.neighbours import alliance_picture, org_picture
from viz.region import region_picture
from viz.structure import structure_picture

Builder = Callable[..., Picture]
PICTURES: Final[dict[str, Builder]] = {
    "structure": structure_picture, "alliance": alliance_picture,
    "org": org_picture, "region": region_picture,
}
#: pictures whose code argument may be left out
CODE_OPTIONAL: Final = frozenset({"structure"})
MIN_BUDGET: Final = 10
MAX_BUDGET: Final = 20_000


def build_picture(kind: str, facts: Facts, code: str | None = None, *, scope: Scope,
                  settings: r.CoverageSettings, budget: int = DEFAULT_BUDGET,
                  seed: int = 0) -> Picture:
    """Build picture ``kind`` (structure / alliance / org / region) of ``code``."""
    if kind not in PICTURES:
        raise UsageError(f"未知的图: {kind} (可选: {', '.join(PICTURES)})")
    if not MIN_BUDGET <= budget <= MAX_BUDGET:
        raise UsageError(f"节点上限应在 {MIN_BUDGET} 到 {MAX_BUDGET:,} 之间")
    if code is None and kind not in CODE_OPTIONAL:
        raise UsageError(f"{PICTURE_ZH[kind]}需要编码参数")
    if code is None:
        return structure_picture(facts, None, scope=scope, settings=settings, budget=budget,
                                 seed=seed)
    return PICTURES[kind](facts, code, scope=scope, settings=settings, budget=budget, seed=seed)


__all__ = ["PICTURES", "PICTURE_ZH", "Picture", "alliance_picture", "build_picture",
           "org_picture", "region_picture", "structure_picture"]
