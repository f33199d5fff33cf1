"""Build → options → report: `estimate_cost` compares owning a build with prebuilt and cloud.

The build file's optional ``cost:`` section (all keys optional, all validated):

=========================  ==================================================================
``price_usd``              replaces the sum of the parts' prices
``extras_usd``             anything else you pay once (cables, UPS...)
``assembly_usd``           paid assembly
``monitor_usd``            monitor, keyboard, ...
``shipping_usd``           shipping
``tax_usd`` / ``tax_rate``  sales tax as an amount, or as a fraction of the parts' price
``electricity_usd_per_kwh``  your tariff (default: US average, see docs/cost.md)
``load_fraction``          average draw while in use ÷ peak power (default 1.0)
``psu_efficiency``         0.5-1; default from the PSU's 80 PLUS rating
``resale_fraction``        share of the parts' price recovered at the horizon (default model)
``hours_per_day``          default usage (flags win)
``years``                  default horizon (flags win)
``cloud_storage_gb``       data kept in the cloud between runs, billed monthly
``prebuilt_quote_usd``     a vendor quote to compare with (``prebuilt_quote_name`` names it)
=========================  ==================================================================

Extras (assembly, monitor, shipping, tax) are paid up front and never resold; resale applies to
the parts only.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from dlrig.catalog.offers import price_summary
from dlrig.cost import economics
from dlrig.cost.economics import BreakEven, Electricity, Option, Usage
from dlrig.cost.snapshot import (
    Defaults,
    PrebuiltSystem,
    PriceSet,
    Sourced,
    builtin_prices,
    defaults,
    is_stale,
)
from dlrig.cost.throughput import throughput_tflops
from dlrig.errors import BuildFileError, DlrigError, InputError
from dlrig.rules import limits

if TYPE_CHECKING:
    from dlrig.build import Build
    from dlrig.catalog import Catalog
    from dlrig.parts import GpuChip

Versus = Literal["cloud", "prebuilt", "all"]

COST_KEYS: dict[str, str] = {
    "price_usd": "replaces the sum of the parts' prices",
    "extras_usd": "other one-off costs",
    "assembly_usd": "paid assembly",
    "monitor_usd": "monitor and peripherals",
    "shipping_usd": "shipping",
    "tax_usd": "sales tax (amount)",
    "tax_rate": "sales tax as a fraction of the parts' price",
    "electricity_usd_per_kwh": "electricity tariff",
    "load_fraction": "average load ÷ peak power",
    "psu_efficiency": "PSU efficiency (0.5-1)",
    "resale_fraction": "share of the parts' price recovered at the horizon",
    "hours_per_day": "default hours of use a day",
    "years": "default horizon in years",
    "cloud_storage_gb": "GB kept in the cloud between runs",
    "prebuilt_quote_usd": "a vendor quote to compare with",
    "prebuilt_quote_name": "name of that quote",
}
EXTRA_KEYS = ("extras_usd", "assembly_usd", "monitor_usd", "shipping_usd", "tax_usd")


@dataclass
class CostInputs:
    """Everything the comparison needs, as plain numbers (what a build file boils down to)."""

    name: str
    parts_usd: float
    extras_usd: float
    peak_power_w: float
    psu_efficiency: float
    load_fraction: float
    electricity_usd_per_kwh: float
    gpu_chips: list[GpuChip]
    resale_fraction: float | None = None
    cloud_storage_gb: float = 0.0
    prebuilt_quote_usd: float | None = None
    prebuilt_quote_name: str = "your prebuilt quote"
    psu_rating: str | None = None
    # Parts of the build without a price: parts_usd leaves them out (unless cost.price_usd).
    unpriced_parts: list[str] = field(default_factory=list)
    # how old the build's part prices are (catalog.offers.price_summary), when built from parts
    prices: dict[str, Any] | None = None

    @property
    def gpu_count(self) -> int:
        """How many GPUs the build has."""
        return len(self.gpu_chips)


@dataclass
class CostReport:
    """The comparison: every option's cost over time, and break-even against owning."""

    inputs: CostInputs
    usage: Usage
    own: Option
    options: list[Option]
    break_even: dict[str, BreakEven | None]
    unchecked: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    assumptions: dict[str, Any] = field(default_factory=dict)
    # chip the chip table lacks → the notes in ``unchecked`` of the offerings it left out
    unknown_chips: dict[str, list[str]] = field(default_factory=dict)
    run: dict[str, Any] | None = None
    own_throughput_tflops: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """``dlrig cost --json``."""
        months, series = economics.timeline([self.own, *self.options], self.usage)
        inp = self.inputs
        elec = _electricity(inp)
        return {
            "build": {
                "name": inp.name,
                "parts_usd": round(inp.parts_usd, 2),
                "unpriced_parts": inp.unpriced_parts,
                "prices": inp.prices,
                "extras_usd": round(inp.extras_usd, 2),
                "upfront_usd": round(self.own.upfront_usd, 2),
                "gpu_count": inp.gpu_count,
                "gpu_chips": [c.id for c in inp.gpu_chips],
                "peak_power_w": round(inp.peak_power_w, 1),
                "wall_power_w": round(elec.wall_power_w, 1),
                "psu_rating": inp.psu_rating,
                "psu_efficiency": inp.psu_efficiency,
                "load_fraction": inp.load_fraction,
                "electricity_usd_per_kwh": inp.electricity_usd_per_kwh,
                "electricity_usd_per_use_hour": round(elec.usd_per_use_hour, 4),
                "throughput_tflops": self.own_throughput_tflops,
            },
            "usage": {
                "hours_per_day": self.usage.hours_per_day,
                "years": self.usage.years,
                "months": round(self.usage.months, 3),
                "use_hours": round(self.usage.use_hours(self.usage.months), 1),
                "gpu_hours": round(self.usage.use_hours(self.usage.months) * inp.gpu_count, 1),
            },
            "own": _option_dict(self.own, self.usage, None),
            "options": [
                _option_dict(o, self.usage, self.break_even.get(o.label)) for o in self.options
            ],
            "timeline": {"months": [round(m, 3) for m in months], "cost_usd": series},
            "run": self.run,
            "stale": self.stale,
            "unchecked": self.unchecked,
            "assumptions": self.assumptions,
        }


def _provenance(row: Sourced, today: dt.date, max_age_days: int) -> dict[str, Any]:
    """An option's source fields from its price row, stale when older than ``max_age_days``."""
    return {
        "source": row.source,
        "as_of": None if row.as_of is None else row.as_of.isoformat(),
        "stale": is_stale(row.as_of, today, max_age_days),
        "note": row.note,
    }


def _option_dict(o: Option, usage: Usage, be: BreakEven | None) -> dict[str, Any]:
    total = o.cost_usd(usage.months, usage)
    return {
        "kind": o.kind,
        "label": o.label,
        "chip": o.chip,
        "gpus": o.gpus,
        "list_usd_per_hour": o.list_usd_per_hour,
        "speed_ratio": None if o.speed_ratio is None else round(o.speed_ratio, 4),
        "usd_per_use_hour": round(o.usd_per_use_hour, 4),
        "usd_per_month_fixed": round(o.usd_per_month, 2),
        "upfront_usd": round(o.upfront_usd, 2),
        "total_usd": round(total, 2),
        "resale_usd": round(o.resale_usd, 2),
        "net_total_usd": round(total - o.resale_usd, 2),
        "break_even": None
        if be is None
        else {
            "months": round(be.months, 2),
            "days": round(be.days, 1),
            "use_hours": round(be.use_hours, 1),
            "gpu_hours": round(be.gpu_hours, 1),
        },
        "source": o.source,
        "as_of": o.as_of,
        "stale": o.stale,
        "note": o.note,
    }


# --- inputs from a build ---------------------------------------------------------------------


def inputs_from_build(
    build: Build, catalog: Catalog, kwh_usd: float | None = None, source: str | None = None
) -> CostInputs:
    """Turn a build (and its ``cost:`` section) into plain-number inputs."""
    d = defaults()
    raw = _validate_cost_section(build.cost or {}, source)
    parts_usd = raw.get("price_usd", build.price_usd)
    if not parts_usd or parts_usd <= 0:
        raise InputError(
            f"build '{build.name}' has no price",
            "give its parts prices, or set cost: {price_usd: N} in the build file",
        )
    extras = sum(raw.get(k, 0.0) for k in EXTRA_KEYS) + raw.get("tax_rate", 0.0) * parts_usd
    chips: list[GpuChip] = []
    for gpu in build.gpus:
        chip = build.chip(gpu)
        if chip is None:
            chip = catalog.chip(gpu.chip)
        chips.append(chip)
    rating, eff = _psu_rating(build), raw.get("psu_efficiency")
    if eff is None:  # the same 80 PLUS table as `dlrig check`, each PSU for the load it feeds
        eff = limits.psu_loads_efficiency(build.psu_loads)[0]
    quote = raw.get("prebuilt_quote_usd")
    unpriced = [] if "price_usd" in raw else list(dict.fromkeys(p.name for p in build.unpriced))
    return CostInputs(
        name=build.name,
        parts_usd=float(parts_usd),
        extras_usd=float(extras),
        peak_power_w=float(build.peak_power_w),
        psu_efficiency=float(eff),
        load_fraction=float(raw.get("load_fraction", d.load_fraction)),
        electricity_usd_per_kwh=float(
            kwh_usd
            if kwh_usd is not None
            else raw.get("electricity_usd_per_kwh", d.electricity_usd_per_kwh)
        ),
        gpu_chips=chips,
        resale_fraction=raw.get("resale_fraction"),
        cloud_storage_gb=float(raw.get("cloud_storage_gb", 0.0)),
        unpriced_parts=unpriced,
        prices=price_summary(build.parts).to_dict(),
        prebuilt_quote_usd=quote,
        prebuilt_quote_name=str(raw.get("prebuilt_quote_name", "your prebuilt quote")),
        psu_rating=rating,
    )


def _psu_rating(build: Build) -> str | None:
    """The PSU's 80 PLUS rating; with several PSUs each with its number ("PSU 1 80+ Gold, ...")."""
    psus = build.psus
    if len(psus) <= 1:
        return psus[0].efficiency if psus else None
    return ", ".join(f"PSU {i + 1} {p.efficiency or 'unrated'}" for i, p in enumerate(psus))


def usage_defaults_from_build(build: Build) -> tuple[float | None, float | None]:
    """The build file's ``cost: {hours_per_day, years}`` (None where not given)."""
    raw = build.cost or {}
    hpd, yrs = raw.get("hours_per_day"), raw.get("years")
    return (
        float(hpd) if isinstance(hpd, int | float) else None,
        float(yrs) if isinstance(yrs, int | float) else None,
    )


def _validate_cost_section(raw: Mapping[str, Any], source: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in COST_KEYS:
            from rapidfuzz import process

            close = process.extractOne(str(key), list(COST_KEYS))
            hint = f"did you mean '{close[0]}'?" if close and close[1] > 70 else ""
            raise BuildFileError(
                f"unknown key 'cost.{key}'",
                hint or "known keys: " + ", ".join(COST_KEYS),
                path=source,
            )
        if key == "prebuilt_quote_name":
            out[key] = str(value)
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise BuildFileError(
                f"cost.{key} must be a number, got {value!r}", "write a plain number", path=source
            )
        if value < 0:
            raise BuildFileError(
                f"cost.{key} must not be negative, got {value}", "fix the value", path=source
            )
        fractions = ("tax_rate", "load_fraction", "psu_efficiency", "resale_fraction")
        if key in fractions and value > 1:
            raise BuildFileError(
                f"cost.{key} is a fraction from 0 to 1, got {value}",
                f"write e.g. {key}: 0.{'08' if key == 'tax_rate' else '9'}",
                path=source,
            )
        out[key] = float(value)
    return out


def _electricity(inp: CostInputs) -> Electricity:
    return Electricity(
        peak_power_w=inp.peak_power_w,
        load_fraction=inp.load_fraction,
        psu_efficiency=inp.psu_efficiency,
        usd_per_kwh=inp.electricity_usd_per_kwh,
    )


# --- the comparison ---------------------------------------------------------------------------


def compare(
    inp: CostInputs,
    usage: Usage,
    catalog: Catalog,
    prices: PriceSet | None = None,
    versus: Versus = "all",
    precision: str = "bf16",
    today: dt.date | None = None,
    run_hours: float | None = None,
) -> CostReport:
    """Own vs prebuilt vs cloud for ``inp`` over ``usage`` (the library entry point)."""
    d = defaults()
    from dlrig.asof import today as asof_today

    today = today or asof_today()
    prices = prices or builtin_prices()
    elec = _electricity(inp)
    resale = (
        inp.resale_fraction
        if inp.resale_fraction is not None
        else economics.resale_fraction(
            usage.years, d.resale_first_year_loss, d.resale_later_yearly_loss
        )
    )
    own = Option(
        kind="own",
        label=f"build: {inp.name}",
        upfront_usd=inp.parts_usd + inp.extras_usd,
        usd_per_use_hour=elec.usd_per_use_hour,
        resale_usd=inp.parts_usd * resale,
        gpus=inp.gpu_count,
        chip=", ".join(sorted({c.id for c in inp.gpu_chips})) or None,
    )
    own_tput = _own_throughput(inp, precision)
    options: list[Option] = []
    unchecked: list[str] = []
    unknown_chips: dict[str, list[str]] = {}
    if inp.unpriced_parts:
        unchecked.append(
            f"build: no price for {', '.join(inp.unpriced_parts)}; the build's up-front cost "
            "leaves them out, so owning looks cheaper than it is (give each a price_usd: in "
            "the build file, or set cost: {price_usd: N})"
        )
    if versus in ("prebuilt", "all"):
        matched, left_out = nearest_prebuilt(prices.prebuilt, inp.gpu_chips, catalog)
        if left_out:
            unchecked.append(
                f"prebuilt: {left_out} system(s) left out of the comparison: their GPU count or "
                "class is far from this build's (compare with your own quote: "
                "cost.prebuilt_quote_usd in the build file, or --prices)"
            )
        for sysm in matched:
            options.append(
                Option(
                    kind="prebuilt",
                    label=f"prebuilt: {sysm.label}",
                    upfront_usd=sysm.price_usd,
                    usd_per_use_hour=elec.usd_per_use_hour,  # comparable machine, same power
                    resale_usd=sysm.price_usd * resale,
                    chip=sysm.chip,
                    gpus=sysm.gpus,
                    **_provenance(sysm, today, d.max_age_days),
                )
            )
        if inp.prebuilt_quote_usd:
            options.append(
                Option(
                    kind="prebuilt",
                    label=f"prebuilt: {inp.prebuilt_quote_name}",
                    upfront_usd=inp.prebuilt_quote_usd,
                    usd_per_use_hour=elec.usd_per_use_hour,
                    resale_usd=inp.prebuilt_quote_usd * resale,
                    source="build file cost.prebuilt_quote_usd",
                )
            )
    if versus in ("cloud", "all"):
        for off in prices.cloud:
            chip = _resolve_chip(catalog, off.chip)
            label = f"cloud: {off.label}"
            if chip is None:
                note = f"{label}: GPU chip '{off.chip}' is not in the chip table"
                unchecked.append(note)
                unknown_chips.setdefault(off.chip, []).append(note)
                continue
            tput = throughput_tflops(chip, off.gpus, precision)
            if own_tput is None or tput is None:
                from dlrig.perf.chips import why_no_rate

                why = why_no_rate(chip, precision) if tput is None else "none for the build"
                unchecked.append(f"{label}: no {precision} throughput ({why})")
                continue
            ratio = own_tput / tput
            store = prices.storage_price(off.provider)
            per_month = inp.cloud_storage_gb * store.usd_per_gb_month if store else 0.0
            for kind, price in (
                ("cloud", off.on_demand_usd_per_hour),
                ("cloud-spot", off.spot_usd_per_hour),
            ):
                if price is None:
                    continue
                opt = Option(
                    kind=kind,  # type: ignore[arg-type]
                    label=label + (" (spot)" if kind == "cloud-spot" else ""),
                    usd_per_use_hour=price * ratio,
                    usd_per_month=per_month,
                    list_usd_per_hour=price,
                    speed_ratio=ratio,
                    chip=chip.id,
                    gpus=off.gpus,
                    **_provenance(off, today, d.max_age_days),
                )
                options.append(opt)
            if inp.cloud_storage_gb and store is None:
                unchecked.append(f"{label}: no storage price for {off.provider}; storage left out")
    report = CostReport(
        inputs=inp,
        usage=usage,
        own=own,
        options=options,
        break_even={o.label: economics.break_even(own, o, usage, inp.gpu_count) for o in options},
        unchecked=unchecked,
        stale=[o.label for o in options if o.stale],
        assumptions=_assumptions(inp, d, resale),
        unknown_chips=unknown_chips,
        own_throughput_tflops=None if own_tput is None else round(own_tput, 2),
    )
    if run_hours is not None:
        report.run = cost_per_run(report, run_hours)
    return report


def workload_run_hours(build: Build, workload: Any, catalog: Catalog) -> float:
    """Hours one run of ``workload`` (a workload file path, a mapping or a Workload) takes on
    the build's GPUs, from the sizing model (``dlrig cost --workload``)."""
    from dlrig import sizing
    from dlrig.workload import load_workload

    if not build.gpus:
        raise InputError("the build has no GPU", "add a GPU to the build file")
    chip = build.chip(build.gpus[0]) or catalog.chip(build.gpus[0].chip)
    spec = load_workload(workload)
    result = sizing.size(spec, chip, build.gpu_count)
    hours = result.time_hours
    if not hours:  # the message named the workload as a Python dict: {'model': 'llama-3.1-8b'}
        raise InputError(
            f"no training time for {spec.describe()}: the workload gives no data size",
            "give the workload's data (tokens or samples, e.g. a workload file with "
            "data: {tokens: 1B}), or use --run-hours",
        )
    return float(hours)


# Longest run we price: 10 years of one machine busy around the clock.
MAX_RUN_HOURS = 87_600.0


def cost_per_run(report: CostReport, run_hours: float) -> dict[str, Any]:
    """Cost of one training run that takes ``run_hours`` on the owned machine."""
    if not 0 < run_hours <= MAX_RUN_HOURS:  # also NaN
        raise InputError(
            f"a run must take more than 0 and at most {MAX_RUN_HOURS:,.0f} hours, "
            f"got {run_hours:g}",
            "give the hours one run takes on this build, e.g. 72",
        )
    usage = report.usage
    own = report.own
    total_hours = usage.use_hours(usage.months)
    net_total = own.cost_usd(usage.months, usage) - own.resale_usd
    per_option = {
        o.label: {
            "hours": round(run_hours * (o.speed_ratio or 1.0), 2),
            "usd": round(o.usd_per_use_hour * run_hours, 2),
        }
        for o in report.options
        if o.kind in ("cloud", "cloud-spot")
    }
    return {
        "own_hours": round(run_hours, 2),
        "own_electricity_usd": round(own.usd_per_use_hour * run_hours, 2),
        "own_amortised_usd": round(net_total / total_hours * run_hours, 2),
        "cloud": per_option,
    }


def _own_throughput(inp: CostInputs, precision: str) -> float | None:
    total = 0.0
    by_chip: dict[str, tuple[GpuChip, int]] = {}
    for c in inp.gpu_chips:
        chip, n = by_chip.get(c.id, (c, 0))
        by_chip[c.id] = (chip, n + 1)
    for chip, n in by_chip.values():
        t = throughput_tflops(chip, n, precision, interconnect="pcie")
        if t is None:
            return None
        total += t
    return total or None


def check_chips(prices: PriceSet, catalog: Catalog) -> None:
    """Every GPU chip a (user) price list names must be in the chip table (PriceListError)."""
    from dlrig.errors import PriceListError

    named = [(f"offering '{o.label}'", o.origin, o.chip) for o in prices.cloud]
    named += [(f"system '{s.label}'", s.origin, s.chip) for s in prices.prebuilt if s.chip]
    for what, origin, chip in named:
        try:
            catalog.chip(chip)
        except DlrigError as exc:
            raise PriceListError(
                f"{origin}: {what}: unknown GPU chip '{chip}'",
                exc.hint or "list the chip ids with `dlrig catalog chips`",
            ) from None


# How many prebuilt systems the comparison keeps: the nearest in GPU count, then in GPU class.
PREBUILT_KEEP = 2


def nearest_prebuilt(
    systems: list[PrebuiltSystem], chips: list[GpuChip], catalog: Catalog
) -> tuple[list[PrebuiltSystem], int]:
    """The prebuilt systems comparable with a build of ``chips``, and how many were left out.

    A 4-GPU vendor machine says nothing about a 1-GPU build, so systems are ranked by the
    difference in GPU count, then by how far their GPU is from the build's (same chip first,
    else the log-ratio of peak 16-bit tensor TFLOPS plus that of VRAM). User quotes
    (``origin`` not builtin) are always kept: the user asked for them.
    """
    mine = [s for s in systems if s.origin != "builtin"]
    shipped = [s for s in systems if s.origin == "builtin"]
    if not chips or not shipped:
        return systems, 0
    n = len(chips)
    main = max(chips, key=lambda c: c.bf16_tflops or c.fp16_tflops or 0.0)

    def distance(s: PrebuiltSystem) -> tuple[int, float]:
        count = abs((s.gpus or 1) - n)
        other = _resolve_chip(catalog, s.chip) if s.chip else None
        if other is None:
            return count, math.inf
        if other.id == main.id:
            return count, 0.0
        return count, _log_gap(_tensor16(main), _tensor16(other)) + _log_gap(
            main.vram_gib, other.vram_gib
        )

    ranked = sorted(shipped, key=distance)
    best_count = distance(ranked[0])[0]
    keep = [s for s in ranked if distance(s)[0] == best_count][:PREBUILT_KEEP]
    return [*keep, *mine], len(shipped) - len(keep)


def _tensor16(chip: GpuChip) -> float | None:
    return chip.bf16_tflops or chip.fp16_tflops


def _log_gap(a: float | None, b: float | None) -> float:
    """|ln(a/b)|, or 1.0 (a large gap) when either side is unknown."""
    if not a or not b:
        return 1.0
    return abs(math.log(a / b))


def _resolve_chip(catalog: Catalog, name: str) -> GpuChip | None:
    try:
        return catalog.chip(name)
    except DlrigError:
        return None


def _assumptions(inp: CostInputs, d: Defaults, resale: float) -> dict[str, Any]:
    src = d.sources
    return {
        "electricity_usd_per_kwh": {
            "value": inp.electricity_usd_per_kwh,
            "default": d.electricity_usd_per_kwh,
            "source": src.get("electricity_usd_per_kwh", {}).get("source"),
            "as_of": str(src.get("electricity_usd_per_kwh", {}).get("as_of")),
        },
        "load_fraction": {
            "value": inp.load_fraction,
            "source": src.get("load_fraction", {}).get("source"),
        },
        "psu_efficiency": {
            "value": inp.psu_efficiency,
            "rating": inp.psu_rating,
            "source": src.get("psu_efficiency_by_rating", {}).get("source"),
        },
        "resale_fraction": {
            "value": round(resale, 4),
            "source": src.get("resale", {}).get("source"),
        },
    }
