"""Import the real public datasets from ``<repo>/../shared/datasets`` (skipped when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlrig.catalog.importers.run import import_dataset
from dlrig.catalog.store import connect, datasets, open_store
from dlrig.parts import Category

DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"

pytestmark = [
    pytest.mark.datasets,
    pytest.mark.skipif(not (DATASETS / "opendb").is_dir(), reason=f"{DATASETS} not present"),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("real") / "catalog.sqlite"
    report = import_dataset(path, "opendb", DATASETS / "opendb")
    counts = report.counts()
    # every row is accounted for: imported, skipped or quarantined (with a reason)
    assert sum(c["imported"] + c["skipped"] + c["quarantined"] for c in counts.values()) == 26184
    assert counts["gpu"]["imported"] > 3500 and counts["case"]["imported"] > 3600
    assert all(r.reason for r in report.rows if r.status in ("skipped", "quarantined"))
    prices = import_dataset(path, "pcpartpicker-dataset", DATASETS / "pcpartpicker_docyx")
    assert prices.extra["match"]["gpu"]["matched_priced"] > 500
    return path


def test_known_parts(store: Path) -> None:
    cat = open_store(store)
    air540 = [p for p in cat.search("carbide air 540", Category.CASE) if p.origin == "opendb"]
    assert air540, "Corsair Carbide Air 540 not imported"
    case = air540[0]
    assert "ATX" in case.motherboard_form_factors  # type: ignore[attr-defined]
    assert case.expansion_slots == 8  # type: ignore[attr-defined]
    cards = [
        p
        for p in cat.parts(Category.GPU)
        if p.origin == "opendb" and p.chip == "rtx-4090" and p.pcie_12vhpwr == 1 and p.length_mm
    ]
    assert len(cards) > 20
    assert all(200 <= c.length_mm <= 360 and c.vram_gib == 24 for c in cards)  # type: ignore[attr-defined,operator]
    liquid = cat.get("msi-geforce-rtx-4090-suprim-liquid-x-24g-gddr6x")
    assert (liquid.length_mm, liquid.pcie_12vhpwr, liquid.cooling) == (280, 1, "liquid")  # type: ignore[attr-defined]
    # an OpenDB card with all-zero connectors (and 450 W) has them unknown, not zero
    suprim = cat.get("msi-suprim-x-geforce-rtx-4090-24-gb")
    assert suprim.length_mm == 336 and suprim.pcie_12vhpwr is None  # type: ignore[attr-defined]
    # the outliers the dataset README names are quarantined, not imported
    gpus = cat.parts(Category.GPU)
    assert max(g.slot_width or 0 for g in gpus) <= 4  # type: ignore[attr-defined]
    assert max(g.tdp_w for g in gpus) <= 1000  # type: ignore[attr-defined]
    boards = [p for p in cat.parts(Category.MOTHERBOARD) if p.origin == "opendb"]
    assert all(not b.slot_layout_known for b in boards)  # type: ignore[attr-defined]
    assert all(s.lanes is None for b in boards for s in b.pcie_slots)  # type: ignore[attr-defined]
    conn = connect(store)
    names = {d["name"] for d in datasets(conn)}
    assert names >= {"opendb", "pcpartpicker-dataset"}
    assert all(d["license_text"] for d in datasets(conn))


def test_half_truncated_real_dataset_refused(store: Path, tmp_path: Path) -> None:
    """A GPU file cut at 50 % would have removed ~1,900 GPUs with exit 0; it is refused."""
    import pytest

    from dlrig.errors import CatalogImportError

    text = (DATASETS / "opendb" / "GPU.jsonl").read_bytes()
    half = tmp_path / "opendb"
    half.mkdir()
    (half / "GPU.jsonl").write_bytes(text[: len(text) // 2])
    before = store.read_bytes()
    with pytest.raises(CatalogImportError, match="far fewer rows") as exc:
        import_dataset(store, "opendb", half)
    assert "gpu" in exc.value.message and "--allow-shrink" in exc.value.hint
    assert store.read_bytes() == before
