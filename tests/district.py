"""The hand-built 榕城区 district's units by name (tests/fixtures/district and
district_extra; tests/test_coverage.py works out their answers by hand), and its
first-run facts for tests that only read them."""

from __future__ import annotations

from pathlib import Path

from conftest import district_files, ingest

from graph.embedded import EmbeddedStore
from graph.facts import Facts, build_facts

E01, E02, E03 = "9144520270000001XE", "91445202700000028E", "914452027000000369"
E04, E05, E06 = "914452027000000444", "91445202700000052Y", "91445202700000060R"
E07, E08, E09 = "91445202700000079N", "91445202700000087H", "91445202700000095C"
E10, E11, E12 = "914452027000001082", "91445202700000116W", "91445202700000124P"
S01, S02 = "51445202700000159E", "514452027000001679"
E13, E14, E15, E16 = ("91445202700000130C", "91445202700000140D", "91445202700000150E",
                      "91445202700000160F")
E17, E18, E19, E20 = ("91445202700000170G", "91445202700000180H", "91445202700000190J",
                      "91445202700000200Y")
E21, E22, E23, E24 = ("914452027000002100", "914452027000002201", "914452027000002302",
                      "914452027000002403")
E25, E26, E27 = "914452027000002504", "914452027000002605", "914452027000002706"


def first_run_facts(directory: Path) -> Facts:
    """The district after its first (full) run, as a facts snapshot."""
    store = EmbeddedStore(directory / "store.sqlite")
    try:
        ingest(store, district_files(), qdir=directory / "q")
        return build_facts(store.view())
    finally:
        store.close()
