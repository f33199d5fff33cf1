"""Dated, sourced price snapshots: cloud GPU offerings, prebuilt workstations, model defaults.

The shipped snapshots live in ``cost/data/*.yaml``; every row carries a ``source`` and an
``as_of`` date, and rows older than :data:`snapshot_max_age_days` are reported as stale. Users
add their own rows with a price list (CSV or YAML) through :func:`load_price_list`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from dlrig.errors import CatalogError, PriceListError
from dlrig.textfile import load_data_yaml, short

# Bounds on a user's price list (our judgement): rows beyond any real comparison, a price
# beyond any machine, GPUs beyond any one cloud instance or prebuilt system.
MAX_PRICE_ROWS = 10_000
MAX_PRICE_USD = 1e9
MAX_SYSTEM_GPUS = 1024

CLOUD_FILE = "cloud_prices.yaml"
PREBUILT_FILE = "prebuilt.yaml"
DEFAULTS_FILE = "defaults.yaml"


@dataclass(frozen=True, kw_only=True)
class Sourced:
    """Where a price row comes from: its source, as-of date and note, and whose row it is
    (``builtin`` for a shipped snapshot, else the user's price list)."""

    source: str = ""
    as_of: dt.date | None = None
    note: str | None = None
    origin: str = "builtin"


@dataclass(frozen=True)
class CloudOffering(Sourced):
    """One rentable GPU offering: ``gpus`` GPUs of ``chip`` for a price per instance-hour."""

    provider: str
    offering: str
    chip: str
    gpus: int
    on_demand_usd_per_hour: float
    spot_usd_per_hour: float | None = None

    @property
    def label(self) -> str:
        """``provider offering``."""
        return f"{self.provider} {self.offering}"


@dataclass(frozen=True)
class PrebuiltSystem(Sourced):
    """A vendor's complete workstation, or a quote the user entered."""

    vendor: str
    name: str
    price_usd: float
    chip: str | None = None
    gpus: int | None = None

    @property
    def label(self) -> str:
        # "(typical vendor)" rows and names that already start with the vendor stand alone
        """The system's name with its vendor in front where it lacks it."""
        if self.vendor.startswith("(") or self.name.startswith(self.vendor):
            return self.name
        return f"{self.vendor} {self.name}"


@dataclass(frozen=True)
class StoragePrice:
    """A cloud provider's price of persistent storage per GB-month."""

    provider: str
    usd_per_gb_month: float
    source: str
    as_of: dt.date | None


@dataclass(frozen=True)
class Defaults:
    """The cost model's default assumptions, each with its source (see defaults.yaml)."""

    electricity_usd_per_kwh: float
    load_fraction: float
    resale_first_year_loss: float
    resale_later_yearly_loss: float
    max_age_days: int
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class PriceSet:
    """Cloud offerings, prebuilt systems and storage prices from snapshots and user lists."""

    cloud: list[CloudOffering] = field(default_factory=list)
    prebuilt: list[PrebuiltSystem] = field(default_factory=list)
    storage: list[StoragePrice] = field(default_factory=list)

    def extend(self, other: PriceSet) -> None:
        """Add another set's rows after these (user rows after the shipped ones)."""
        self.cloud.extend(other.cloud)
        self.prebuilt.extend(other.prebuilt)
        self.storage.extend(other.storage)

    def storage_price(self, provider: str) -> StoragePrice | None:
        """The storage price of ``provider`` (a user row wins), or None."""
        for s in reversed(self.storage):  # user rows (added last) win
            if s.provider.lower() == provider.lower():
                return s
        return None


def is_stale(as_of: dt.date | None, today: dt.date, max_age_days: int) -> bool:
    """True when a price is undated or older than ``max_age_days``."""
    return as_of is None or (today - as_of).days > max_age_days


# --- shipped snapshots ---------------------------------------------------------------------


def _data_text(name: str) -> str:
    return (resources.files("dlrig.cost") / "data" / name).read_text(encoding="utf-8")


@cache
def builtin_prices() -> PriceSet:
    """The shipped cloud and prebuilt snapshots (parsed once per process)."""
    cloud_doc = load_data_yaml(_data_text(CLOUD_FILE)) or {}
    prebuilt_doc = load_data_yaml(_data_text(PREBUILT_FILE)) or {}
    try:
        return PriceSet(
            cloud=[
                _cloud_row(r, CLOUD_FILE, f"{CLOUD_FILE}: offering {i}")
                for i, r in enumerate(cloud_doc["offerings"], 1)
            ],
            prebuilt=[
                _prebuilt_row(r, PREBUILT_FILE, f"{PREBUILT_FILE}: system {i}")
                for i, r in enumerate(prebuilt_doc["systems"], 1)
            ],
            storage=[_storage_row(r, CLOUD_FILE, i) for i, r in enumerate(cloud_doc["storage"], 1)],
        )
    except PriceListError as exc:  # shipped data is ours: a bad row is a catalog bug
        raise CatalogError(exc.message, "fix the shipped snapshot in dlrig/cost/data") from exc


@cache
def defaults() -> Defaults:
    """The documented default assumptions of the cost model."""
    doc = load_data_yaml(_data_text(DEFAULTS_FILE))
    return Defaults(
        electricity_usd_per_kwh=float(doc["electricity_usd_per_kwh"]["value"]),
        load_fraction=float(doc["load_fraction"]["value"]),
        resale_first_year_loss=float(doc["resale"]["first_year_loss"]),
        resale_later_yearly_loss=float(doc["resale"]["later_yearly_loss"]),
        max_age_days=int(doc["snapshot_max_age_days"]),
        sources={k: v for k, v in doc.items() if isinstance(v, dict)},
    )


# --- user price lists ----------------------------------------------------------------------

CLOUD_COLUMNS = ("provider", "offering", "chip", "gpus", "on_demand_usd_per_hour")
PREBUILT_COLUMNS = ("vendor", "name", "price_usd")
_CLOUD_OPTIONAL = ("spot_usd_per_hour", "source", "as_of", "note", "kind")
_PREBUILT_OPTIONAL = ("chip", "gpus", "source", "as_of", "note", "kind")


def load_price_list(path: str | Path) -> PriceSet:
    """Read a user price list: CSV (one row per offering) or YAML (lists of rows).

    CSV: a header row; a row is a cloud offering unless its ``kind`` column says ``prebuilt``.
    Cloud columns: provider, offering, chip, gpus, on_demand_usd_per_hour (required);
    spot_usd_per_hour, source, as_of (YYYY-MM-DD), note. Prebuilt columns: vendor, name,
    price_usd (required); chip, gpus, source, as_of, note.
    YAML: a mapping with ``offerings:`` and/or ``systems:`` lists (the shipped snapshot format)
    and an optional ``storage:`` list.
    """
    from dlrig.textfile import read_text

    p = Path(path)
    text = read_text(
        p,
        "price list (CSV or YAML; spreadsheets: export as CSV UTF-8)",
        lambda message, hint: PriceListError(f"price list '{p}': {message}", hint),
        "check the path given to --prices",
    )
    suffix = p.suffix.lower()
    if suffix == ".csv":
        return _from_csv(text, str(p))
    if suffix in (".yaml", ".yml", ".json"):
        return _from_yaml(text, str(p))
    raise PriceListError(
        f"price list '{p}' has an unknown format '{suffix or '(none)'}'",
        "use a .csv or .yaml file (see docs/cost.md for the columns)",
    )


def _from_csv(text: str, where: str) -> PriceSet:
    if not text.strip():
        raise PriceListError(f"{where}: the price list is empty", "add a header row and rows")
    if text.count("\n") > MAX_PRICE_ROWS + 1:
        raise PriceListError(
            f"{where}: more than {MAX_PRICE_ROWS:,} rows",
            "keep the offerings you would consider buying (a real list has a few hundred)",
        )
    try:
        dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    rows = list(reader)
    header = [h.strip().lower() for h in rows[0]]
    known = set(CLOUD_COLUMNS + PREBUILT_COLUMNS + _CLOUD_OPTIONAL + _PREBUILT_OPTIONAL)
    unknown = [h for h in header if h not in known]
    if unknown:
        raise PriceListError(
            f"{where}:1: unknown column(s) {', '.join(repr(u) for u in unknown)}",
            "known columns: " + ", ".join(sorted(known)),
        )
    out = PriceSet()
    for line_no, cells in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            raise PriceListError(
                f"{where}:{line_no}: {len(cells)} fields, the header has {len(header)}",
                "check for a missing or extra comma (quote values that contain commas)",
            )
        row = {h: c.strip() for h, c in zip(header, cells, strict=True) if c.strip() != ""}
        if row.get("kind", "cloud").lower() == "prebuilt":
            out.prebuilt.append(_prebuilt_row(row, where, f"{where}:{line_no}", user=True))
        else:
            out.cloud.append(_cloud_row(row, where, f"{where}:{line_no}", user=True))
    if not out.cloud and not out.prebuilt:
        raise PriceListError(f"{where}: the price list has no rows", "add rows under the header")
    return out


def _from_yaml(text: str, where: str) -> PriceSet:
    from dlrig.textfile import TextError, parse_yaml

    try:
        doc = parse_yaml(text).data
    except TextError as exc:
        loc = f":{exc.line}" if exc.line is not None else ""
        message = exc.message
        if message.startswith("invalid YAML"):
            message = "not valid YAML" + message.removeprefix("invalid YAML")
        raise PriceListError(f"{where}{loc}: {message}", exc.hint) from None
    if not isinstance(doc, dict) or not ({"offerings", "systems"} & set(doc)):
        raise PriceListError(
            f"{where}: expected a mapping with 'offerings:' and/or 'systems:' lists",
            "see src/dlrig/cost/data/cloud_prices.yaml for the format",
        )
    out = PriceSet()
    for key in ("offerings", "systems", "storage"):
        if key in doc and not isinstance(doc[key], list):
            raise PriceListError(f"{where}: '{key}' must be a list of rows", "fix the file")
    rows = sum(len(doc.get(k) or []) for k in ("offerings", "systems", "storage"))
    if rows > MAX_PRICE_ROWS:
        raise PriceListError(
            f"{where}: {rows:,} rows, more than {MAX_PRICE_ROWS:,}",
            "keep the offerings you would consider buying (a real list has a few hundred)",
        )
    for i, r in enumerate(doc.get("offerings") or [], 1):
        out.cloud.append(_cloud_row(r, where, f"{where}: offering {i}", user=True))
    for i, r in enumerate(doc.get("systems") or [], 1):
        out.prebuilt.append(_prebuilt_row(r, where, f"{where}: system {i}", user=True))
    for i, r in enumerate(doc.get("storage") or [], 1):
        out.storage.append(_storage_row(r, where, i))
    return out


# --- row validation ------------------------------------------------------------------------


def _sourced(r: dict[str, Any], where: str, loc: str, user: bool) -> dict[str, Any]:
    """A row's :class:`Sourced` fields; a shipped row must name its source and date."""
    if not user:
        _require(r, ("source", "as_of"), loc)
    return {
        "source": str(r.get("source") or where),
        "as_of": _date(r.get("as_of"), loc),
        "note": r.get("note"),
        "origin": "builtin" if not user else where,
    }


def _cloud_row(row: Any, where: str, loc: str, user: bool = False) -> CloudOffering:
    r = _mapping(row, loc)
    _require(r, CLOUD_COLUMNS, loc)
    on_demand = _positive(r["on_demand_usd_per_hour"], "on_demand_usd_per_hour", loc)
    spot = r.get("spot_usd_per_hour")
    return CloudOffering(
        **_sourced(r, where, loc, user),
        provider=str(r["provider"]),
        offering=str(r["offering"]),
        chip=str(r["chip"]),
        gpus=_count(r["gpus"], loc),
        on_demand_usd_per_hour=on_demand,
        spot_usd_per_hour=None if spot is None else _positive(spot, "spot_usd_per_hour", loc),
    )


def _prebuilt_row(row: Any, where: str, loc: str, user: bool = False) -> PrebuiltSystem:
    r = _mapping(row, loc)
    _require(r, PREBUILT_COLUMNS, loc)
    gpus = r.get("gpus")
    return PrebuiltSystem(
        **_sourced(r, where, loc, user),
        vendor=str(r["vendor"]),
        name=str(r["name"]),
        price_usd=_positive(r["price_usd"], "price_usd", loc),
        chip=None if r.get("chip") is None else str(r["chip"]),
        gpus=None if gpus is None else _count(gpus, loc),
    )


def _storage_row(row: Any, where: str, n: int) -> StoragePrice:
    loc = f"{where}: storage row {n}"
    r = _mapping(row, loc)
    _require(r, ("provider", "usd_per_gb_month"), loc)
    return StoragePrice(
        provider=str(r["provider"]),
        usd_per_gb_month=_positive(r["usd_per_gb_month"], "usd_per_gb_month", loc),
        source=str(r.get("source") or where),
        as_of=_date(r.get("as_of"), loc),
    )


def _mapping(row: Any, loc: str) -> dict[str, Any]:
    if not isinstance(row, dict):
        raise PriceListError(f"{loc}: expected a mapping of column: value", "fix the row")
    return row


def _require(r: dict[str, Any], cols: tuple[str, ...], loc: str) -> None:
    missing = [c for c in cols if r.get(c) in (None, "")]
    if missing:
        raise PriceListError(
            f"{loc}: missing {', '.join(missing)}",
            "every row needs: " + ", ".join(cols),
        )


def _positive(value: Any, name: str, loc: str) -> float:
    try:
        number = float(str(value).replace("$", "").replace(",", "").strip())
    except ValueError:
        raise PriceListError(
            f"{loc}: {name} '{value}' is not a number", f"write {name} as a number, e.g. 2.49"
        ) from None
    if not number > 0:
        raise PriceListError(f"{loc}: {name} must be above zero, got {value}", "fix the price")
    if not number <= MAX_PRICE_USD:
        raise PriceListError(
            f"{loc}: {name} {short(str(value), 30)} is out of range (at most {MAX_PRICE_USD:,.0f})",
            "write the price in US dollars, e.g. 2.49",
        )
    return number


def _count(value: Any, loc: str) -> int:
    try:
        number = float(str(value).strip())
    except ValueError:
        number = -1.0
    if isinstance(value, bool) or not 1 <= number <= MAX_SYSTEM_GPUS or number != int(number):
        raise PriceListError(
            f"{loc}: gpus '{short(str(value), 30)}' is not a whole number from 1 to "
            f"{MAX_SYSTEM_GPUS}",
            "fix the count",
        )
    return int(number)


def _date(value: Any, loc: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise PriceListError(
            f"{loc}: as_of '{short(str(value), 30)}' is not a date", "write dates as YYYY-MM-DD"
        ) from None
