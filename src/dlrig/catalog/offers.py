"""Prices as dated offers: new retail, used marketplace, refurbished.

A part's catalog row carries one price (often a launch MSRP, dated at launch). Real buyers see
several offers that go stale at different speeds, and the market deep-learning builders use most
(used RTX 3090s, used workstation and server platforms) has no catalog price at all. An
:class:`Offer` is one observed price for one catalog part — or for every card of one GPU chip,
since used cards are traded by model, not by board partner — with its condition, date and
source.

Where offers come from:

- the shipped snapshot ``catalog/data/offers.yaml`` (sourced, dated);
- the user's price book (:class:`PriceBook`, SQLite, history kept) filled by
  ``dlrig prices import FILE``.

:func:`apply_offers` turns a catalog plus offers into a catalog whose parts carry the offer a
buyer would take today: for each allowed condition the newest offer counts (older ones of the
same condition are history), and of those the cheapest wins. The catalog's own price counts as a
``new`` offer. :func:`price_summary` says how old the prices behind a build are and which of
them are launch prices, so every plan, check and cost can print it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dlrig import asof
from dlrig.errors import DlrigError, InputError
from dlrig.parts import Part
from dlrig.textfile import load_data_yaml

if TYPE_CHECKING:
    from dlrig.catalog.core import Catalog

OFFERS_FILE = "offers.yaml"
_M = TypeVar("_M", bound=BaseModel)
# A price older than this is flagged stale in every plan, check and cost (our judgement: GPU
# street prices moved by more than 50 % within six months in 2021 and again in 2026, see the
# snapshot's notes; a half-year-old quote is a guess, not a price).
STALE_AFTER_DAYS = 183
# Sanity bounds for one part's price: a used fan can cost $1; no single part we plan costs more
# than a $10 M (an 8-GPU server is ~$500 k).
MIN_PRICE_USD = 0.5
MAX_PRICE_USD = 10_000_000.0
SUPPORTED_CURRENCIES = ("USD",)
# Words in a catalog price_source that mark a launch price rather than a market observation.
LAUNCH_PRICE_MARKERS = ("launch msrp", "launch price", "intel rcp")


class Condition(StrEnum):
    """An offer's condition."""

    NEW = "new"
    USED = "used"
    REFURBISHED = "refurbished"


def parse_conditions(text: str | Sequence[str]) -> frozenset[Condition]:
    """``"new,used"`` (or a list of words) → the allowed conditions; a bad word → InputError."""
    words = text.split(",") if isinstance(text, str) else list(text)
    out: set[Condition] = set()
    for raw in words:
        word = raw.strip().lower()
        if not word:
            continue
        try:
            out.add(Condition(word))
        except ValueError:
            raise InputError(
                f"unknown condition '{raw.strip()[:40]}'",
                "use new, used or refurbished, comma-separated (e.g. new,used)",
            ) from None
    if not out:
        raise InputError("no condition given", "use new, used or refurbished (e.g. new,used)")
    return frozenset(out)


class Offer(BaseModel):
    """One observed price, for one catalog part (``part``) or every card of a chip (``chip``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    part: str | None = Field(default=None, min_length=1, max_length=200)
    chip: str | None = Field(default=None, min_length=1, max_length=80)
    # a chip offer for the cards of one cooling design only: a source's "typical used RTX 3090"
    # is the common open-air partner card; blower and liquid-cooled cards trade apart
    cooling: Literal["open-air", "blower", "liquid", "passive"] | None = None
    price_usd: float = Field(ge=MIN_PRICE_USD, le=MAX_PRICE_USD, allow_inf_nan=False)
    date: dt.date
    condition: Condition = Condition.NEW
    source: str = Field(min_length=1, max_length=500)
    url: str | None = Field(default=None, max_length=500)
    note: str | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _one_target(self) -> Offer:
        if (self.part is None) == (self.chip is None):
            raise ValueError("an offer names exactly one of part or chip")
        if self.cooling is not None and self.chip is None:
            raise ValueError("cooling narrows a chip offer; a part offer names its card")
        return self

    def describe(self) -> str:
        """``BestLLMfor (2026-05-16) https://…`` — who observed the price, when, where."""
        url = f" {self.url}" if self.url and self.url not in self.source else ""
        return f"{self.source} ({self.date.isoformat()}){url}"


@cache
def _shipped_data() -> dict[str, Any]:
    text = (resources.files("dlrig.catalog") / "data" / OFFERS_FILE).read_text(encoding="utf-8")
    data = load_data_yaml(text) or {}  # libyaml: 7 ms instead of ~50 ms on every check/plan/cost
    return data if isinstance(data, dict) else {}


def _validated(model: type[_M], rows: Any, what: str) -> tuple[_M, ...]:
    out: list[_M] = []
    for i, row in enumerate(rows or [], 1):
        try:
            out.append(model.model_validate(row))
        except ValidationError as exc:  # a shipped-data bug: say which row
            raise DlrigError(
                f"{OFFERS_FILE}: {what} {i} is invalid: {exc.errors()[0]['msg']}",
                "fix the shipped offers file",
            ) from None
    return tuple(out)


@cache
def shipped_offers() -> tuple[Offer, ...]:
    """The dated, sourced offers shipped in ``catalog/data/offers.yaml``."""
    return _validated(Offer, _shipped_data().get("offers"), "offer")


class Availability(StrEnum):
    """Why a part has no price at all (see the header of ``offers.yaml``)."""

    NO_RETAIL_OFFER = "no-retail-offer"  # a price list shows the part without any offer
    QUOTE_ONLY = "quote-only"  # sold through integrators/distributors on quote
    NOT_FOUND = "not-found"  # on sale, but no dated public price was found


class Unavailable(BaseModel):
    """A part without any price, with the reason: the planner leaves it out and says why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    part: str = Field(min_length=1, max_length=200)
    status: Availability
    checked: dt.date
    reason: str = Field(min_length=1, max_length=300)
    source: str | None = Field(default=None, max_length=300)
    url: str | None = Field(default=None, max_length=500)

    def describe(self) -> str:
        """``no-retail-offer: PCPartPicker row … has no price (2025-07-23)``."""
        return f"{self.status.value}: {self.reason} ({self.checked.isoformat()})"


@cache
def shipped_unavailable() -> dict[str, Unavailable]:
    """Part id → why the shipped data has no price for it."""
    rows = _validated(Unavailable, _shipped_data().get("unavailable"), "unavailable entry")
    return {u.part: u for u in rows}


# --- choosing the offer a buyer would take ----------------------------------------------------
@dataclass(frozen=True)
class Chosen:
    """The offer a part is priced at, and why."""

    price_usd: float
    date: dt.date
    condition: Condition
    source: str


def _catalog_offer(part: Part) -> Chosen | None:
    if part.price_usd is None or part.price_date is None:
        return None
    return Chosen(part.price_usd, part.price_date, Condition.NEW, part.price_source or part.source)


def _offer_choice(offer: Offer) -> Chosen:
    return Chosen(offer.price_usd, offer.date, offer.condition, offer.describe())


def choose(candidates: Iterable[Chosen], allowed: frozenset[Condition]) -> Chosen | None:
    """Newest offer per allowed condition, then the cheapest of those (ties: the newer)."""
    newest: dict[Condition, Chosen] = {}
    for c in candidates:
        if c.condition not in allowed:
            continue
        best = newest.get(c.condition)
        if best is None or (c.date, -c.price_usd) > (best.date, -best.price_usd):
            newest[c.condition] = c
    if not newest:
        return None
    return min(newest.values(), key=lambda c: (c.price_usd, -c.date.toordinal()))


def offers_by_part(catalog: Catalog, offers: Iterable[Offer]) -> dict[str, list[Offer]]:
    """Part id → its offers; a chip offer counts for every catalog card of that chip (of its
    ``cooling`` when the offer names one).

    A card's own offer is more specific than its chip's: a chip offer of the same condition
    counts for a card only when it is newer than the card's own newest offer of that condition
    (the source that prices "a used RTX 3090" at $750 prices the Founders Edition at $850).
    Offers naming a part or chip the catalog does not know are skipped (a shipped snapshot may
    name parts a smaller imported catalog lacks); :func:`import_rows` reports them at import.
    """
    chip_cards = catalog.card_ids_by_chip()
    own: dict[str, list[Offer]] = {}
    by_chip: dict[str, list[Offer]] = {}
    for offer in offers:
        if offer.chip is not None:
            for pid in chip_cards.get(offer.chip, []):
                if offer.cooling is None or getattr(catalog.get(pid), "cooling", None) == (
                    offer.cooling
                ):
                    by_chip.setdefault(pid, []).append(offer)
        else:
            assert offer.part is not None
            if offer.part in catalog:
                own.setdefault(offer.part, []).append(offer)
    out: dict[str, list[Offer]] = {pid: list(v) for pid, v in own.items()}
    for pid, chip_offers in by_chip.items():
        newest: dict[Condition, dt.date] = {}
        for o in own.get(pid, []):
            newest[o.condition] = max(o.date, newest.get(o.condition, o.date))
        kept = [o for o in chip_offers if o.condition not in newest or o.date > newest[o.condition]]
        if kept:
            out.setdefault(pid, []).extend(kept)
    return out


def apply_offers(
    catalog: Catalog,
    offers: Iterable[Offer],
    allowed: frozenset[Condition] = frozenset({Condition.NEW}),
) -> Catalog:
    """A catalog whose parts carry the offer a buyer would take (see :func:`choose`).

    A part whose only prices are of conditions not allowed keeps no price (unbuyable for the
    planner) — except that its catalog price stays when ``new`` is allowed. The copy's
    ``version`` covers the offers, so planner caches keyed on it stay correct.
    """
    import hashlib

    from dlrig.catalog.core import Catalog as _Catalog

    grouped = offers_by_part(catalog, offers)
    digest = hashlib.sha256(catalog.version.encode())
    digest.update(",".join(sorted(c.value for c in allowed)).encode())
    if Condition.NEW in allowed:
        # only the parts with offers change: an overlay, so the others are never built
        from dlrig.catalog.overlay import Overlay

        replaced: dict[str, Part] = {}
        for pid in sorted(grouped):
            part = catalog.get(pid)
            replaced[pid] = _offered(part, grouped[pid], allowed, digest)
        return Overlay(catalog, replaced, version=digest.hexdigest()[:16])
    parts = [_offered(part, grouped.get(part.id, []), allowed, digest) for part in catalog.parts()]
    return _Catalog(parts, catalog.chips, name=catalog.name, version=digest.hexdigest()[:16])


def _offered(part: Part, offers: list[Offer], allowed: frozenset[Condition], digest: Any) -> Part:
    """``part`` priced at the offer :func:`choose` takes among its own price and ``offers``
    (the choice is added to ``digest``, the priced catalog's version)."""
    own = _catalog_offer(part)
    chosen = choose([*(c for c in [own] if c), *(_offer_choice(o) for o in offers)], allowed)
    digest.update(f"{part.id}:{chosen}".encode())
    if chosen is None:
        update: dict[str, Any] = {"price_usd": None, "price_date": None, "price_source": None}
    else:
        update = {
            "price_usd": chosen.price_usd,
            "price_date": chosen.date,
            "price_source": chosen.source
            if chosen.condition is Condition.NEW
            else f"{chosen.condition.value}: {chosen.source}",
        }
    return part.model_copy(update=update)


# --- how old are the prices behind a build ----------------------------------------------------
def is_launch_price(part: Part) -> bool:
    """True when the part's price is a launch MSRP/RCP rather than a market observation."""
    src = (part.price_source or "").lower()
    return any(m in src for m in LAUNCH_PRICE_MARKERS)


def is_used_price(part: Part) -> bool:
    """Whether the part's price came from a used or refurbished offer."""
    return price_condition(part) is not Condition.NEW


def price_condition(part: Part) -> Condition:
    """The condition of the offer ``part`` is priced at (new unless a used/refurbished offer)."""
    src = (part.price_source or "").lower()
    return next((c for c in Condition if src.startswith(f"{c.value}:")), Condition.NEW)


def priced_as(catalog: Catalog, part: Part, condition: Condition) -> Part | None:
    """``part`` priced at its newest offer of ``condition`` (the shipped snapshot and the price
    book), or None when no such offer is known. A build file's ``condition: used`` line reads
    this, so a plan's used card re-checks at the used price it was planned at."""
    import hashlib

    offers = offers_by_part(catalog, all_offers()).get(part.id, [])
    priced = _offered(part, offers, frozenset({condition}), hashlib.sha256())
    return priced if priced.price_usd is not None else None


@dataclass(frozen=True)
class PriceSummary:
    """Dates of the prices behind a set of parts: what every plan, check and cost prints."""

    oldest: dt.date | None
    newest: dt.date | None
    stale: tuple[str, ...]  # part ids priced longer ago than STALE_AFTER_DAYS
    launch_prices: tuple[str, ...]  # part ids priced at a launch MSRP, not a market offer
    used: tuple[str, ...]  # part ids priced at a used/refurbished offer
    today: dt.date = field(default_factory=asof.today)

    def line(self) -> str | None:
        """One line for the CLI: ``prices dated 2017-08-01 … 2026-05-16; 3 older than 6 months``."""
        return summary_line(self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        """The ``prices`` block of a JSON result."""
        return {
            "oldest": self.oldest.isoformat() if self.oldest else None,
            "newest": self.newest.isoformat() if self.newest else None,
            "stale_after_days": STALE_AFTER_DAYS,
            "stale": list(self.stale),
            "launch_prices": list(self.launch_prices),
            "used": list(self.used),
        }


def summary_line(summary: Mapping[str, Any] | None) -> str | None:
    """The CLI line for a price summary in its JSON form (``totals.prices``)."""
    if not summary or summary.get("oldest") is None:
        return None
    oldest, newest = summary["oldest"], summary["newest"]
    bits = [f"prices dated {oldest}" + ("" if oldest == newest else f" … {newest}")]
    if summary["stale"]:
        months = summary["stale_after_days"] // 30
        bits.append(f"{len(summary['stale'])} older than {months} months")
    if summary["launch_prices"]:
        bits.append(f"{len(summary['launch_prices'])} at launch MSRP (no current offer known)")
    if summary["used"]:
        bits.append(f"{len(summary['used'])} used")
    return "; ".join(bits)


def price_summary(parts: Iterable[Part], today: dt.date | None = None) -> PriceSummary:
    """Oldest/newest price date, stale and launch-priced parts among ``parts`` (each id once)."""
    today = today or asof.today()
    seen: dict[str, Part] = {}
    for p in parts:
        seen.setdefault(p.id, p)
    dated = [p for p in seen.values() if p.price_date is not None]
    dates = [p.price_date for p in dated if p.price_date is not None]
    stale = tuple(
        p.id
        for p in dated
        if p.price_date is not None and (today - p.price_date).days > STALE_AFTER_DAYS
    )
    return PriceSummary(
        oldest=min(dates) if dates else None,
        newest=max(dates) if dates else None,
        stale=stale,
        launch_prices=tuple(p.id for p in dated if is_launch_price(p)),
        used=tuple(p.id for p in dated if is_used_price(p)),
        today=today,
    )


# --- reading a user's price file --------------------------------------------------------------
@dataclass(frozen=True)
class PriceRow:
    """One row of a user's price file, before name resolution."""

    line: int
    name: str
    price_usd: float
    date: dt.date
    condition: Condition
    source: str
    url: str | None


@dataclass
class PriceRowProblem:
    """A price-file row that was not used: its line, its text and why."""

    line: int
    text: str
    reason: str


MAX_PRICE_ROWS = 20_000
_COLUMNS = {"part", "name", "price", "price_usd", "currency", "date", "condition", "url", "source"}


def parse_price(text: Any) -> float:
    """``1299``, ``"$1,299.00"``, ``"1299 USD"`` → 1299.0; anything else → ValueError."""
    if isinstance(text, bool):
        raise ValueError("not a price")
    if isinstance(text, int | float):
        value = float(text)
    else:
        cleaned = str(text).strip().upper().removesuffix("USD").strip().lstrip("$").strip()
        cleaned = cleaned.replace(",", "").replace("_", "")
        if not cleaned or len(cleaned) > 20:
            raise ValueError("not a price")
        try:
            value = float(cleaned)
        except ValueError:  # float()'s own message ("could not convert string...") says nothing
            raise ValueError(
                f"price '{str(text).strip()[:30]}' is not an amount of US dollars (e.g. 799)"
            ) from None
    if not math.isfinite(value) or not MIN_PRICE_USD <= value <= MAX_PRICE_USD:
        raise ValueError(f"price {value:g} is outside {MIN_PRICE_USD}–{MAX_PRICE_USD:,.0f} USD")
    return value


def _records(text: str, path: str) -> list[tuple[int, dict[str, Any]]]:
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        try:
            data = json.loads(text, parse_constant=_refuse_constant)
        except ValueError as exc:
            raise InputError(f"{path}: not valid JSON ({exc})", "fix the JSON or use CSV") from None
        if isinstance(data, dict):
            data = data.get("offers", data.get("prices"))
        if not isinstance(data, list):
            raise InputError(
                f"{path}: a JSON price file is a list of objects",
                'write [{"part": "...", "price": 799, "date": "2026-11-01", ...}]',
            )
        return [(i, r if isinstance(r, dict) else {"_bad": r}) for i, r in enumerate(data, 1)]
    reader = csv.DictReader(io.StringIO(text))
    header = {h.strip().lower() for h in (reader.fieldnames or []) if h}
    if not header & {"part", "name"} or not header & {"price", "price_usd"}:
        raise InputError(
            f"{path}: the CSV header needs a part (or name) and a price column",
            "first line e.g.: part,price,currency,date,condition,source,url",
        )
    unknown = header - _COLUMNS
    if unknown:
        raise InputError(
            f"{path}: unknown column(s) {', '.join(sorted(unknown))[:100]}",
            f"use only: {', '.join(sorted(_COLUMNS))}",
        )
    out = []
    for row in reader:
        clean = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if k}
        out.append((reader.line_num, clean))
    return out


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number")


def read_price_rows(
    text: str, path: str, today: dt.date | None = None
) -> tuple[list[PriceRow], list[PriceRowProblem]]:
    """Rows of a CSV or JSON price file; rows with a fault are returned as problems, not dropped.

    Columns: ``part`` (or ``name``; a catalog id or name), ``price`` (USD), ``currency`` (USD
    only — convert first), ``date`` (YYYY-MM-DD, default today), ``condition`` (new, used,
    refurbished; default new), ``source`` and ``url``.
    """
    today = today or asof.today()
    records = _records(text, path)
    if len(records) > MAX_PRICE_ROWS:
        raise InputError(
            f"{path}: {len(records):,} rows is more than {MAX_PRICE_ROWS:,}",
            "split the file and import the parts in several runs",
        )
    rows: list[PriceRow] = []
    problems: list[PriceRowProblem] = []
    for line, rec in records:
        try:
            rows.append(_row(line, rec, path, today))
        except ValueError as exc:
            name = str(rec.get("part") or rec.get("name") or "")[:80]
            problems.append(PriceRowProblem(line, name, str(exc)))
    return rows, problems


def _row(line: int, rec: Mapping[str, Any], path: str, today: dt.date) -> PriceRow:
    if "_bad" in rec:
        raise ValueError("not an object with part and price")
    name = str(rec.get("part") or rec.get("name") or "").strip()
    if not name:
        raise ValueError("no part name")
    if len(name) > 200:
        raise ValueError("part name longer than 200 characters")
    price = parse_price(rec.get("price", rec.get("price_usd", "")))
    currency = str(rec.get("currency") or "USD").strip().upper()
    if currency not in SUPPORTED_CURRENCIES:
        raise ValueError(f"currency {currency[:10]} is not supported: convert the price to USD")
    raw_date = str(rec.get("date") or "").strip()
    try:
        when = dt.date.fromisoformat(raw_date) if raw_date else today
    except ValueError:
        raise ValueError(f"date '{raw_date[:20]}' is not YYYY-MM-DD") from None
    if when > today:
        raise ValueError(f"date {when.isoformat()} is in the future")
    try:
        condition = parse_conditions(str(rec.get("condition") or "new"))
    except InputError as exc:  # a bad row is reported with its line; the others still import
        raise ValueError(f"{exc.message}: use new, used or refurbished") from None
    if len(condition) != 1:
        raise ValueError("one condition per row")
    url = str(rec.get("url") or "").strip() or None
    source = str(rec.get("source") or "").strip() or url or f"price file {Path(path).name}"
    return PriceRow(line, name, price, when, next(iter(condition)), source[:500], url)


# --- matching rows to the catalog -------------------------------------------------------------
@dataclass
class PriceImportReport:
    """What ``dlrig prices import`` did: offers matched (with notes) and rows it could not use."""

    offers: list[Offer] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # fuzzy acceptances the user should confirm
    problems: list[PriceRowProblem] = field(default_factory=list)
    added: int = 0  # rows new to the price book (the rest were already there)

    def to_dict(self) -> dict[str, Any]:
        """``dlrig prices import --json``."""
        return {
            "matched": len(self.offers),
            "added": self.added,
            "notes": self.notes,
            "unmatched": [
                {"line": p.line, "part": p.text, "reason": p.reason} for p in self.problems
            ],
        }


def match_rows(catalog: Catalog, rows: Iterable[PriceRow]) -> PriceImportReport:
    """Resolve each row's name with the catalog's resolver (the same as build files use).

    A name that is a GPU chip rather than a card (``RTX 3090``) becomes a chip offer, since
    used cards are sold by model. Unknown or ambiguous names become problems with the
    resolver's message, never a silent guess.
    """
    report = PriceImportReport()
    for row in rows:
        target: dict[str, str]
        try:
            part = catalog.resolve(row.name)
            target = {"part": part.id}
            if _normalise(part.name) != _normalise(row.name) and part.id != row.name:
                report.notes.append(f"line {row.line}: '{row.name}' → '{part.name}'")
        except DlrigError as exc:
            chip = _chip_or_none(catalog, row.name)
            if chip is None:
                report.problems.append(PriceRowProblem(row.line, row.name, exc.message))
                continue
            target = {"chip": chip}
        report.offers.append(
            Offer(
                **target,
                price_usd=row.price_usd,
                date=row.date,
                condition=row.condition,
                source=row.source,
                url=row.url,
            )
        )
    return report


def _normalise(text: str) -> str:
    return " ".join(text.lower().split())


def _chip_or_none(catalog: Catalog, name: str) -> str | None:
    try:
        return catalog.gpu_chip(name).id
    except DlrigError:
        return None


# --- the user's price book --------------------------------------------------------------------
def default_book_path() -> Path:
    """``$DLRIG_PRICES`` or ``prices.sqlite`` in the user data folder."""
    import os

    import platformdirs

    env = os.environ.get("DLRIG_PRICES")
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir("dlrig")) / "prices.sqlite"


_SCHEMA = """
CREATE TABLE IF NOT EXISTS offers (
    id INTEGER PRIMARY KEY,
    part TEXT NOT NULL, chip TEXT NOT NULL, price_usd REAL NOT NULL, date TEXT NOT NULL,
    condition TEXT NOT NULL, source TEXT NOT NULL, url TEXT, imported_at TEXT NOT NULL,
    UNIQUE (part, chip, price_usd, date, condition, source)
);
"""


class PriceBook:
    """The user's price history: every imported offer, never overwritten (SQLite)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_book_path()

    def _connect(self, create: bool) -> sqlite3.Connection | None:
        if not self.path.exists():
            if not create:
                return None
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise InputError(
                    f"cannot create the price book folder {self.path.parent}: {exc.strerror}",
                    "set DLRIG_PRICES or --db to a writable path",
                ) from None
        try:
            conn = sqlite3.connect(self.path, timeout=10)
            conn.executescript(_SCHEMA)
        except sqlite3.OperationalError as exc:  # a folder, or a place no file can be made
            if self.path.is_dir():
                raise InputError(
                    f"{self.path}: is a folder, not a price book",
                    "give a file name, e.g. --db prices.sqlite",
                ) from None
            raise InputError(
                f"cannot open the price book {self.path} ({exc})",
                "set --db (or DLRIG_PRICES) to a file in a folder you can write to",
            ) from None
        except sqlite3.DatabaseError as exc:
            raise InputError(
                f"{self.path}: not a dlrig price book ({exc})",
                "point --db at another file, or move this one away and import again",
            ) from None
        return conn

    def add(self, offers: Iterable[Offer]) -> int:
        """Store offers (duplicates ignored) in one transaction; the number of new rows."""
        conn = self._connect(create=True)
        assert conn is not None
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        try:
            with conn:
                before = conn.total_changes
                conn.executemany(
                    "INSERT OR IGNORE INTO offers "
                    "(part, chip, price_usd, date, condition, source, url, imported_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            o.part or "",  # '' not NULL: NULLs never collide in UNIQUE
                            o.chip or "",
                            o.price_usd,
                            o.date.isoformat(),
                            o.condition.value,
                            o.source,
                            o.url,
                            now,
                        )
                        for o in offers
                    ],
                )
                return conn.total_changes - before
        finally:
            conn.close()

    def offers(self) -> list[Offer]:
        """Every stored offer, oldest first (an absent book is empty)."""
        conn = self._connect(create=False)
        if conn is None:
            return []
        try:
            rows = conn.execute(
                "SELECT part, chip, price_usd, date, condition, source, url FROM offers "
                "ORDER BY date, id"
            ).fetchall()
        finally:
            conn.close()
        out = []
        for part, chip, price, date, cond, source, url in rows:
            try:
                out.append(
                    Offer(
                        part=part or None,
                        chip=chip or None,
                        price_usd=price,
                        date=dt.date.fromisoformat(date),
                        condition=Condition(cond),
                        source=source,
                        url=url,
                    )
                )
            except (ValueError, ValidationError):
                continue  # a row edited by hand into nonsense is not a price
        return out


def all_offers(book: PriceBook | None = None) -> list[Offer]:
    """The shipped snapshot plus the user's price book (when it exists)."""
    return [*shipped_offers(), *(book or PriceBook()).offers()]


def priced_catalog(catalog: Catalog, condition: str = "new") -> Catalog:
    """``catalog`` priced at the offers a buyer of ``condition`` would take today: the shipped
    snapshot plus the user's price book. ``plan``, ``check`` and ``cost`` all price through
    this, so a plan's build costs the same when checked or costed."""
    return apply_offers(catalog, all_offers(), parse_conditions(condition))
