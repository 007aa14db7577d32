"""Planned table reads taken ahead by a thread (graph.read_ahead)."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pandas as pd
import pytest

from graph.read_ahead import PlanMismatch, ReadAhead, edge_read, node_read

PLAN = [node_read("Committee", ("name",)), edge_read("REPORTS_TO"),
        node_read("PartyOrganization", ("level",)), edge_read("REPORTS_TO")]


class Tables:
    """A store's two tabular reads, recording which thread made each, in order."""

    def __init__(self, fail_on: str | None = None,
                 hold: threading.Event | None = None) -> None:
        self.reads: list[str] = []
        self.threads: set[int] = set()
        self.fail_on = fail_on
        self.hold = hold
        self.begun = threading.Event()

    def _read(self, name: str) -> pd.DataFrame:
        self.begun.set()
        self.reads.append(name)
        self.threads.add(threading.get_ident())
        if self.hold is not None:
            self.hold.wait(5)
        if name == self.fail_on:
            raise OSError(f"disk I/O error reading {name}")
        return pd.DataFrame({"key": [f"{name}-1", f"{name}-2"]})

    def node_table(self, label: str, props: Sequence[str]) -> pd.DataFrame:
        return self._read(label)

    def edge_table(self, type: str, props: Sequence[str] = ()) -> pd.DataFrame:
        return self._read(type)


def test_planned_reads_are_served_in_order_each_read_once_from_another_thread() -> None:
    view = Tables()
    with ReadAhead(view, PLAN) as tables:
        committees = tables.node_table("Committee", ["name"])
        up_first = tables.edge_table("REPORTS_TO")
        tables.node_table("PartyOrganization", ("level",))
        up_first.loc[0, "key"] = "changed by the first taker"
        up_second = tables.edge_table("REPORTS_TO")
    assert committees["key"].tolist() == ["Committee-1", "Committee-2"]
    assert view.reads == ["Committee", "REPORTS_TO", "PartyOrganization"]
    assert up_second["key"].tolist() == ["REPORTS_TO-1", "REPORTS_TO-2"]   # its own frame
    assert threading.get_ident() not in view.threads


def test_a_read_not_planned_or_a_planned_read_not_taken_is_a_plan_error() -> None:
    with pytest.raises(PlanMismatch, match="not planned"), ReadAhead(Tables(), PLAN) as tables:
        tables.node_table("Committee", ("name", "park"))   # other properties: another read
    with pytest.raises(PlanMismatch, match="never taken: PartyOrganization, REPORTS_TO"), \
            ReadAhead(Tables(), PLAN) as tables:
        tables.node_table("Committee", ("name",))
        tables.edge_table("REPORTS_TO")


def test_a_failed_read_reaches_the_taker_and_every_later_take_fails_too() -> None:
    view = Tables(fail_on="REPORTS_TO")
    with ReadAhead(view, PLAN) as tables:
        tables.node_table("Committee", ("name",))
        with pytest.raises(OSError, match="disk I/O error reading REPORTS_TO"):
            tables.edge_table("REPORTS_TO")
        with pytest.raises(OSError, match="disk I/O error"):   # not a wait for ever
            tables.node_table("PartyOrganization", ("level",))
        with pytest.raises(OSError, match="disk I/O error"):
            tables.edge_table("REPORTS_TO")
    assert view.reads == ["Committee", "REPORTS_TO"]


def test_leaving_early_stops_the_thread_after_the_read_in_progress() -> None:
    hold = threading.Event()
    view = Tables(hold=hold)
    ahead = ReadAhead(view, PLAN)
    with pytest.raises(ValueError, match="a rule failed"), ahead:
        # the first read is still in progress when the caller fails
        assert view.begun.wait(5)
        threading.Timer(0.05, hold.set).start()
        raise ValueError("a rule failed")
    assert not ahead._thread.is_alive()
    assert view.reads == ["Committee"]   # the caller's error, not a plan error, and no more
