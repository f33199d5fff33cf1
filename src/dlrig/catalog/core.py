"""The Catalog API: parts by category, GPU chip specs, lookup, filtering and name resolution.

:class:`Catalog` keeps everything in memory. Subclasses (the SQLite store's catalog) may load
parts lazily by overriding the small set of hooks below (``_category_parts``, ``_lookup``,
``_name_entries``, ``_entry_part``); every public method is written against those hooks.
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dlrig.catalog.filters import Filter, parse_filter
from dlrig.catalog.resolve import FUZZY_SUGGEST_SCORE, Named, NameIndex, Resolution
from dlrig.errors import CatalogError, PartNotFoundError
from dlrig.parts import PART_MODELS, Category, GpuChip, Part


@dataclass(frozen=True)
class PartMatch:
    """A resolved part name; ``note`` (None for an exact name or id) says what the user should
    confirm: it was matched word by word, with boilerplate ignored or misspellings read."""

    part: Part
    note: str | None = None


class Catalog:
    """A set of parts and GPU chip specs.

    ``name`` says where it came from (``builtin`` or a store path); ``version`` changes whenever
    its content changes, so caches (e.g. the planner's preprocessing) can key on it.
    """

    def __init__(
        self,
        parts: Iterable[Part],
        chips: Iterable[GpuChip],
        name: str = "builtin",
        version: str = "",
    ) -> None:
        self.name = name
        self.version = version
        self._parts: dict[Category, list[Part]] = {c: [] for c in Category}
        self._by_id: dict[str, Part] = {}
        for part in parts:
            if part.id in self._by_id:
                raise CatalogError(
                    f"duplicate part id '{part.id}' in catalog {name}",
                    "every part id must be unique; rename one of them",
                )
            self._by_id[part.id] = part
            self._parts[part.category].append(part)
        self._chips: dict[str, GpuChip] = {}
        for chip in chips:
            if chip.id in self._chips:
                raise CatalogError(f"duplicate GPU chip id '{chip.id}'", "rename one of them")
            self._chips[chip.id] = chip
        self._indexes: dict[str, NameIndex[Any]] = {}
        self._chip_idx: NameIndex[GpuChip] | None = None

    # --- hooks for lazy subclasses ------------------------------------------------------------
    def _category_parts(self, category: Category) -> list[Part]:
        """Every part of ``category`` in catalog order (the list may be shared: don't mutate)."""
        return self._parts[category]

    def _lookup(self, part_id: str) -> Part | None:
        """The part with exactly this id, or None."""
        return self._by_id.get(part_id)

    def _name_entries(self, category: Category | None) -> Iterable[Named]:
        """Records (id, name, aliases) the name index is built from; parts themselves here."""
        return self.parts(category)

    def _entry_part(self, entry: Any) -> Part:
        """The part a name-index entry stands for."""
        part: Part = entry
        return part

    # --- access -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, part_id: object) -> bool:
        return isinstance(part_id, str) and self._lookup(part_id) is not None

    def parts(self, category: Category | None = None) -> list[Part]:
        """Every part, or every part of ``category``, in catalog order."""
        if category is None:
            return [p for c in Category for p in self._category_parts(c)]
        return list(self._category_parts(category))

    def list(
        self, category: Category | None = None, filters: Sequence[Filter | str] = ()
    ) -> list[Part]:
        """Parts of ``category`` matching every filter ('vram_gib>=24' or a Filter)."""
        parsed = [f if isinstance(f, Filter) else self.parse_filter(f, category) for f in filters]
        return [p for p in self.parts(category) if all(f.matches(p) for f in parsed)]

    def parse_filter(self, text: str, category: Category | None) -> Filter:
        """A ``FIELD OP VALUE`` filter checked against the category's fields and value sets."""
        models = [PART_MODELS[category]] if category else list(PART_MODELS.values())
        fields = {f for m in models for f in m.model_fields}
        fields |= {"capacity_gb", "slots_occupied"}  # computed properties worth filtering on
        flt = parse_filter(text, fields)
        _check_choice(flt, models)
        return flt

    def get(self, part_id: str) -> Part:
        """The part with exactly this id; PartNotFoundError (with suggestions) otherwise."""
        found = self._lookup(part_id)
        if found is not None:
            return found
        close = [
            e.id
            for e, score in self._index(None).ranked(part_id, limit=3)
            if score >= FUZZY_SUGGEST_SCORE
        ]
        hint = (
            "did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
            if close
            else "list ids with `dlrig catalog list`"
        )
        raise PartNotFoundError(f"no part with id '{part_id}'", hint, close)

    @property
    def chips(self) -> builtins.list[GpuChip]:
        """Every GPU chip spec."""
        return builtins.list(self._chips.values())

    def chip(self, chip_id: str) -> GpuChip:
        """The chip spec with this id or name (resolved like part names)."""
        if chip_id in self._chips:
            return self._chips[chip_id]
        if self._chip_idx is None:
            self._chip_idx = NameIndex(self._chips.values())
        return self._chip_idx.resolve(chip_id, what="GPU chip")

    def with_prices(
        self,
        quotes: Mapping[str, float],
        price_date: dt.date | None = None,
        price_source: str = "user quote",
    ) -> Catalog:
        """A copy in which the named parts (id or name → USD) carry the user's prices.

        For parts the catalog has no dated price for (workstation boards, data-center cards) or
        a local quote; the planner can then use them. The copy's ``version`` covers the quotes,
        so caches keyed on it stay correct.
        """
        import hashlib
        import math

        from dlrig.asof import today
        from dlrig.errors import InputError

        when = price_date or today()
        by_id: dict[str, float] = {}
        for name, usd in quotes.items():
            if not math.isfinite(usd) or usd <= 0:
                raise InputError(
                    f"price {usd} for '{name}' is not a positive amount", "write e.g. NAME=1299"
                )
            by_id[self.resolve(name).id] = float(usd)
        parts = [
            p.model_copy(
                update={"price_usd": by_id[p.id], "price_date": when, "price_source": price_source}
            )
            if p.id in by_id
            else p
            for p in self.parts()
        ]
        digest = hashlib.sha256(
            (self.version + repr(sorted(by_id.items())) + when.isoformat()).encode()
        ).hexdigest()[:16]
        return Catalog(parts, self.chips, name=f"{self.name} + quotes", version=digest)

    def card_ids_by_chip(self) -> dict[str, builtins.list[str]]:
        """GPU chip id → the ids of the cards built on it (a chip offer prices every one)."""
        out: dict[str, builtins.list[str]] = {}
        for gpu in self.parts(Category.GPU):
            chip = getattr(gpu, "chip", None)
            if chip:
                out.setdefault(chip, []).append(gpu.id)
        return out

    def chip_of(self, gpu: Part) -> GpuChip | None:
        """The chip spec of a GPU card, or None when the catalog lacks it."""
        return self._chips.get(getattr(gpu, "chip", ""))

    def gpu_chip(self, name: str) -> GpuChip:
        """The chip spec ``name`` means: a chip id or name, else a GPU card's name or id
        ("ASUS TUF RTX 4090") resolved through the card to its chip.

        PartNotFoundError when neither matches, or when the card's chip is not in the catalog.
        """
        try:
            return self.chip(name)
        except PartNotFoundError as chip_error:
            try:
                part = self.resolve(name)
            except PartNotFoundError:
                # The chip lookup's error names the chips it nearly matched ("did you mean",
                # or the candidates of an ambiguous name); keep it, with the list as a fallback.
                if not chip_error.candidates:
                    chip_error.hint = "list chips with `dlrig catalog chips`"
                raise chip_error from None
            chip = self.chip_of(part)
            if chip is None:
                raise  # the chip lookup's own error (with its suggestions)
            return chip

    # --- names --------------------------------------------------------------------------------
    def resolve(self, text: str, category: Category | None = None) -> Part:
        """The part ``text`` names: exact id, exact name/alias, then a word match whose model
        tokens agree (see :mod:`dlrig.catalog.resolve`). Use :meth:`match` to get the note."""
        return self.match(text, category).part

    def match(self, text: str, category: Category | None = None) -> PartMatch:
        """Like :meth:`resolve`, with the note to show when the match was not exact."""
        what = f"{category.value} part" if category else "part"
        res = self._index(category).match(text, what=what, prefer=self._preferred)
        return self._checked(text, res)

    def _preferred(self, entry: Any) -> bool:
        """Tie-break between equally good matches (the store prefers curated parts)."""
        return False

    def _checked(self, text: str, res: Resolution[Any]) -> PartMatch:
        """The match, unless a capacity or wattage the text states contradicts the part's
        facts (a name need not carry them: 'RTX 4060 Ti 16 GB' must not become the 8 GB card)."""
        part = self._entry_part(res.record)
        if res.note is None:
            return PartMatch(part)
        conflict = spec_conflict(part, res.specs)
        if conflict:
            raise PartNotFoundError(
                f"unknown {part.category.value} part '{text.strip()}'",
                f"the nearest, '{part.name}', {conflict}; write its exact name if you mean it",
                [part.name],
            )
        return PartMatch(part, res.note)

    def search(
        self, text: str, category: Category | None = None, limit: int | None = 20
    ) -> builtins.list[Part]:
        """Parts whose names hold every word of ``text`` (then the resolver's word match, then
        fuzzy); ``limit=None`` for all of them."""
        return [self._entry_part(e) for e in self._index(category).search(text, limit=limit)]

    def _index(self, category: Category | None) -> NameIndex[Any]:
        key = category.value if category else "*"
        if key not in self._indexes:
            self._indexes[key] = NameIndex(self._name_entries(category))
        return self._indexes[key]


def spec_conflict(part: Part, specs: Mapping[str, frozenset[str]]) -> str | None:
    """How a capacity/wattage stated in a name contradicts the part's facts, or None."""
    stated = specs.get("gb", frozenset())
    facts: list[tuple[str, frozenset[str], float | None, str]] = [
        ("gb", stated, getattr(part, "vram_gib", None), "GB of memory"),
        ("w", specs.get("w", frozenset()), getattr(part, "wattage_w", None), "W"),
    ]
    if part.category in (Category.STORAGE, Category.MEMORY):
        facts.append(("gb", stated, getattr(part, "capacity_gb", None), "GB"))
    for _kind, said, value, unit in facts:
        if said and value is not None:
            have = f"{value:g}"
            if have not in said:
                return f"has {have} {unit}, not {' / '.join(sorted(said))}"
    return None


def _literal_choices(annotation: Any) -> set[str]:
    """The allowed values of a Literal[...] (or Optional[Literal[...]]) field; empty otherwise."""
    import typing

    if typing.get_origin(annotation) is typing.Literal:
        return {str(a) for a in typing.get_args(annotation)}
    return {
        str(a)
        for arg in typing.get_args(annotation)
        if typing.get_origin(arg) is typing.Literal
        for a in typing.get_args(arg)
    }


def _check_choice(flt: Filter, models: list[type[Part]]) -> None:
    """'cooling=blowr' names no possible value: say so instead of listing nothing."""
    if flt.op not in ("=", "==", "!="):
        return
    choices: set[str] = set()
    for model in models:
        info = model.model_fields.get(flt.field)
        if info is not None:
            choices |= _literal_choices(info.annotation)
    if choices and flt.value.lower() not in {c.lower() for c in choices}:
        from rapidfuzz import process

        from dlrig.errors import InputError

        close = process.extractOne(flt.value, sorted(choices))
        hint = f"did you mean '{close[0]}'? " if close and close[1] >= 60 else ""
        raise InputError(
            f"'{flt.value}' is not a possible {flt.field}",
            f"{hint}choose one of: {', '.join(sorted(choices))}",
        )
