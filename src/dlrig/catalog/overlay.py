"""A catalog with a few parts replaced, as lazy as the catalog under it.

Pricing a catalog at today's offers (:func:`dlrig.catalog.offers.apply_offers`) changes the
price of a few hundred parts; copying every part into a new in-memory catalog would build all
~24,000 parts of an imported store on every plan (0.7 s), although the planner's cached
preprocessing (keyed by the ``version``) needs none of them. :class:`Overlay` answers every
question through the catalog below and swaps in the replaced parts, so a part is still only
built when something asks for it.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from typing import Any

from dlrig.catalog.core import Catalog, PartMatch
from dlrig.parts import Category, GpuChip, Part

__all__ = ["Overlay"]


class Overlay(Catalog):
    """``base`` with the parts of ``replaced`` (same ids) in place of its own; ``version``
    must change with the replacements (caches key on it)."""

    def __init__(self, base: Catalog, replaced: Mapping[str, Part], version: str) -> None:
        super().__init__([], [], name=base.name, version=version)
        self._base = base
        self._replaced = dict(replaced)
        self._by_category: dict[Category, list[Part]] = {}

    def _swap(self, part: Part) -> Part:
        return self._replaced.get(part.id, part)

    # the hooks of Catalog, answered by the base catalog
    def _category_parts(self, category: Category) -> list[Part]:
        if category not in self._by_category:
            self._by_category[category] = [
                self._swap(p) for p in self._base._category_parts(category)
            ]
        return self._by_category[category]

    def _lookup(self, part_id: str) -> Part | None:
        return self._replaced.get(part_id) or self._base._lookup(part_id)

    def _name_entries(self, category: Category | None) -> Iterable[Any]:
        return self._base._name_entries(category)

    def _entry_part(self, entry: Any) -> Part:
        return self._swap(self._base._entry_part(entry))

    def __len__(self) -> int:
        return len(self._base)

    # what the base answers itself (a store searches in SQL and loads its chips lazily)
    def search(
        self, text: str, category: Category | None = None, limit: int | None = 20
    ) -> builtins.list[Part]:
        """The base's search, each hit with its offer applied."""
        return [self._swap(p) for p in self._base.search(text, category, limit)]

    def match(self, text: str, category: Category | None = None) -> PartMatch:
        """The base's name match, the part with its offer applied."""
        found = self._base.match(text, category)
        return PartMatch(self._swap(found.part), found.note)

    @property
    def chips(self) -> builtins.list[GpuChip]:
        """The base's GPU chips (offers price cards, not chips)."""
        return self._base.chips

    def chip(self, chip_id: str) -> GpuChip:
        """The base's chip ``chip_id``."""
        return self._base.chip(chip_id)

    def chip_of(self, gpu: Part) -> GpuChip | None:
        """The chip of card ``gpu``, as the base knows it."""
        return self._base.chip_of(gpu)

    def card_ids_by_chip(self) -> dict[str, builtins.list[str]]:
        """The base's card ids per chip id (an offer changes prices, not ids)."""
        return self._base.card_ids_by_chip()
