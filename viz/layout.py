"""Node positions, computed in Python so the browser does no physics.

vis-network's physics needs minutes for a thousand nodes and never settles on tens
of thousands (docs/viz.md, engineering notes §4.2); with positions given and physics
off a picture draws at once and looks the same every time it is opened. Trees (the
1+7+N structure) get a layered layout, regions a cluster per status, the small
irregular pictures (an alliance, one organisation) networkx's spring layout with a
fixed seed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import networkx as nx

from viz.model import Edge, Node

GOLDEN_ANGLE = math.pi * (3 - math.sqrt(5))
#: above this many nodes the spring layout (O(n²) per step) gives way to shells
SPRING_MAX = 400


def tree_layout(nodes: Sequence[Node], edges: Sequence[Edge]) -> None:
    """Layered tree, parents centred over their children. A node's leaf children
    stand in a column under it (a committee's status nodes, a branch's units; a long
    column wraps into a block), so the tree grows in width with its inner nodes. Top-down while it has up to
    40 columns, radial beyond, so a wide tree stays roughly round."""
    index = {n.id: n for n in nodes}
    children: dict[str, list[str]] = {}
    has_parent: set[str] = set()
    for e in edges:
        if e.source in index and e.target in index and e.target not in has_parent \
                and e.target != e.source:
            children.setdefault(e.source, []).append(e.target)
            has_parent.add(e.target)
    slot: dict[str, float] = {}
    depth: dict[str, int] = {}
    stack_pos: dict[str, int] = {}
    slots = 0

    def place(node: str, d: int) -> float:
        nonlocal slots
        depth[node] = d
        kids = [c for c in children.get(node, []) if c not in depth]
        leaves = [c for c in kids if not children.get(c)]
        spots = []
        if not kids:
            spots.append(float(slots))
            slots += 1
        blocks: dict[str, list[str]] = {}
        for leaf in leaves:  # one block per kind: summaries apart from the many
            blocks.setdefault(index[leaf].kind, []).append(leaf)
        for block in sorted(blocks.values(), key=len):  # a long column wraps
            rows = max(12, math.ceil(math.sqrt(2 * len(block))))
            cols = math.ceil(len(block) / rows)
            spots += [float(slots), float(slots + cols - 1)]
            for i, leaf in enumerate(block):
                slot[leaf], depth[leaf] = float(slots + i // rows), d + 1
                stack_pos[leaf] = i % rows
            slots += cols
        spots += [place(c, d + 1) for c in kids if c not in depth]
        slot[node] = (min(spots) + max(spots)) / 2
        return slot[node]

    for n in nodes:
        if n.id not in has_parent and n.id not in depth:
            place(n.id, 0)
    width = max(slots, 1)
    radial = slots > 40
    deepest = max(depth.values(), default=0) or 1
    ring = max(260.0, width * 200 / (2 * math.pi) / deepest)
    step: dict[float, float] = {}
    for n in nodes:
        if n.id in stack_pos:
            o = slot[n.id]
            step[o] = max(step.get(o, 58.0), 2 * (n.size or n.style.size) + 30)
    for n in nodes:
        d, o = depth.get(n.id, 0), slot.get(n.id, 0.0)
        below = stack_pos.get(n.id, 0) * step.get(o, 58.0)
        n.level = d
        if radial:
            angle = 2 * math.pi * o / width
            dist = d * ring + below
            n.x, n.y = round(dist * math.cos(angle), 1), round(dist * math.sin(angle), 1)
        else:
            n.x, n.y = round((o - (width - 1) / 2) * 200, 1), round(d * 170 + below, 1)


def sunflower(count: int, spacing: float) -> list[tuple[float, float]]:
    """``count`` evenly packed points in a disc (Vogel's spiral), centre first."""
    return [(spacing * math.sqrt(k + 0.5) * math.cos(k * GOLDEN_ANGLE),
             spacing * math.sqrt(k + 0.5) * math.sin(k * GOLDEN_ANGLE)) for k in range(count)]


def _rings(radii: Sequence[float], inner: float, gap: float) -> tuple[list[tuple[float, float]],
                                                                        float]:
    """Centres for discs of these radii (largest first is best) on rings around a core
    of radius ``inner``: each ring is filled along its circumference, then the next
    ring starts outside it. O(n), no overlap. Returns the centres and the outer radius."""
    out: list[tuple[float, float]] = []
    i, ring_in = 0, inner
    while i < len(radii):
        width = radii[i]
        centre_r = ring_in + gap + width
        circumference = 2 * math.pi * centre_r
        batch: list[float] = []
        used = 0.0
        while i < len(radii) and (not batch or used + 2 * radii[i] + gap <= circumference):
            batch.append(radii[i])
            used += 2 * radii[i] + gap
            i += 1
        step, angle = circumference / max(used, 1e-9), 0.0
        for rad in batch:
            angle += (rad + gap / 2) * step / centre_r
            out.append((centre_r * math.cos(angle), centre_r * math.sin(angle)))
            angle += (rad + gap / 2) * step / centre_r
        ring_in = centre_r + width
    return out, ring_in


def cluster_layout(centre: Node, hubs: Sequence[Node],
                   groups: dict[str, list[tuple[Node | None, list[Node]]]],
                   spacing: float = 90.0) -> None:
    """A region: the centre node; one hub per status on a ring around it; around each
    hub its units, in small discs, one per covering Party organisation (the Party
    organisation in the middle of the units it covers), units with none alone."""
    centre.x = centre.y = 0.0
    placed: list[tuple[Node, list[tuple[Node, float, float]], float]] = []
    for hub in hubs:
        items = sorted(groups.get(hub.id, []), key=lambda g: -len(g[1]))
        radii = [spacing * (0.5 if head is None and len(units) == 1 else
                            0.55 * math.sqrt(len(units) + 1)) for head, units in items]
        centres, outer = _rings(radii, spacing * 0.8, spacing * 0.25)
        offsets: list[tuple[Node, float, float]] = []
        for (head, units), (cx, cy) in zip(items, centres, strict=True):
            spots = sunflower(len(units) + 1, spacing * 0.5)
            if head is None and len(units) == 1:
                spots = [(0.0, 0.0), (0.0, 0.0)]
            if head is not None:
                offsets.append((head, cx, cy))
            offsets += [(u, cx + dx, cy + dy) for u, (dx, dy) in zip(units, spots[1:],
                                                                      strict=False)]
        placed.append((hub, offsets, outer))
    # each hub gets a wedge in proportion to its cluster and sits just far enough out
    # for the cluster to fit in its wedge
    weights = [o + spacing for _, _, o in placed]
    whole, at = sum(weights) or 1.0, -math.pi / 2
    for (hub, offsets, outer), w in zip(placed, weights, strict=True):
        wedge = 2 * math.pi * w / whole
        angle = at + wedge / 2
        at += wedge
        dist = outer + 2 * spacing if wedge >= math.pi else max(
            outer + 2 * spacing, outer / math.sin(wedge / 2) + spacing / 2)
        hub.x, hub.y, hub.level = round(dist * math.cos(angle), 1), \
            round(dist * math.sin(angle), 1), 1
        for node, dx, dy in offsets:
            node.x, node.y = round(hub.x + dx, 1), round(hub.y + dy, 1)
            node.level = 3 if node.kind.startswith("party_org") else 2


def sector_layout(centre: Node, sectors: Sequence[Sequence[Node]], spacing: float = 210.0
                  ) -> None:
    """One organisation: its neighbours in fixed places so every explanation reads the
    same way — sector 0 above (coverage: Party organisation, park, committee, one row
    per step), 1 left (suppliers), 2 right (customers), 3 below (members, instructor,
    association, alliances)."""
    centre.x = centre.y = 0.0
    up, left, right, down = (list(s) for s in (*sectors, [], [], [], [])[:4])
    for row, node in enumerate(up):
        node.x, node.y = 0.0, -spacing * 0.75 * (row + 1)
    for side, nodes in ((-1, left), (1, right)):
        for k, node in enumerate(nodes):
            col, row = divmod(k, 12)
            node.x = side * spacing * (1.3 + col)
            node.y = (row - (min(len(nodes), 12) - 1) / 2) * 56.0
    for k, node in enumerate(down):
        node.x, node.y = (k - (len(down) - 1) / 2) * spacing * 0.9, spacing * 0.8


def spring_layout(nodes: Sequence[Node], edges: Sequence[Edge], seed: int,
                  centre: str | None = None) -> None:
    """networkx's spring layout with a fixed seed (same data, same picture); the
    ``centre`` node is pinned in the middle. Big pictures use shells by level."""
    g: nx.Graph = nx.Graph()
    g.add_nodes_from(n.id for n in nodes)
    g.add_edges_from((e.source, e.target) for e in edges if e.source != e.target)
    scale = 150.0 * math.sqrt(max(len(nodes), 1))
    if len(nodes) > SPRING_MAX:
        shells: dict[int, list[str]] = {}
        for n in nodes:
            shells.setdefault(n.level, []).append(n.id)
        pos = nx.shell_layout(g, [shells[k] for k in sorted(shells)], scale=scale)
    else:
        fixed = [centre] if centre in g else None
        init = {centre: (0.0, 0.0)} if fixed else None
        pos = nx.spring_layout(g, seed=seed, pos=init, fixed=fixed, iterations=120,
                               k=1.6 / math.sqrt(max(len(nodes), 1)), scale=None if fixed
                               else scale)
        if fixed:  # pinned layouts are not rescaled by networkx: do it here
            span = max((max(abs(x), abs(y)) for x, y in pos.values()), default=1.0) or 1.0
            pos = {k: (x * scale / span, y * scale / span) for k, (x, y) in pos.items()}
    for n in nodes:
        x, y = pos[n.id]
        n.x, n.y = round(float(x), 1), round(float(y), 1)
