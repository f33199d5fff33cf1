"""The total-cost-of-ownership model, on plain numbers (no catalog, no build file).

Every option — the machine you build, a prebuilt workstation, a cloud offering — costs

    cost(m months) = upfront_usd + usd_per_use_hour × use_hours(m) + usd_per_month × m

where ``use_hours(m) = m × days per month × hours per day``. For an owned machine the hourly
term is electricity: peak DC power × average load fraction ÷ PSU efficiency × price per kWh.
For a cloud offering it is the rent for *the same work*: list price × (your machine's
throughput ÷ the offering's throughput), so an hour of an H100 is not an hour of a 2080 Ti;
storage kept in the cloud is the monthly term. Break-even is where the cash paid for owning
drops below renting; resale value lowers the net total at the horizon but does not move the
break-even (you only get it back when you sell).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from dlrig import units
from dlrig.errors import InputError

OptionKind = Literal["own", "prebuilt", "cloud", "cloud-spot"]


@dataclass(frozen=True)
class Usage:
    """How much the machine is used: ``hours_per_day`` (0-24] for ``years`` years."""

    hours_per_day: float
    years: float

    def __post_init__(self) -> None:
        validate_usage(self.hours_per_day, self.years)

    @property
    def months(self) -> float:
        """The comparison's length in months."""
        return units.years_to_months(self.years)

    def use_hours(self, months: float) -> float:
        """Hours of use in ``months``."""
        return units.months_to_hours(months, self.hours_per_day)


def validate_usage(hours_per_day: float, years: float) -> None:
    """InputError unless hours per day is in (0, 24] and years in (0, 20]."""
    if not hours_per_day > 0:
        raise InputError(
            f"hours per day must be above 0, got {hours_per_day:g}",
            "give the average hours a day the GPUs are busy, e.g. 8",
        )
    if hours_per_day > units.HOURS_PER_DAY:
        raise InputError(
            f"a day has 24 hours, got {hours_per_day:g} hours per day",
            "give a value from 0 to 24 (use 24 for a machine busy around the clock)",
        )
    if not years > 0:
        raise InputError(f"years must be above 0, got {years:g}", "give e.g. 3 years")
    if years > 20:
        raise InputError(f"{years:g} years is beyond any hardware's life", "use 1-10 years")


@dataclass(frozen=True)
class Electricity:
    """Energy inputs of an owned machine."""

    peak_power_w: float
    load_fraction: float
    psu_efficiency: float
    usd_per_kwh: float

    def __post_init__(self) -> None:
        if self.peak_power_w < 0:
            raise InputError(f"peak power {self.peak_power_w:g} W is negative", "fix the power")
        if not 0 < self.load_fraction <= 1:
            raise InputError(
                f"load fraction must be in (0, 1], got {self.load_fraction:g}",
                "give the average draw as a fraction of peak, e.g. 0.8",
            )
        if not 0.5 <= self.psu_efficiency <= 1:
            raise InputError(
                f"PSU efficiency must be between 0.5 and 1, got {self.psu_efficiency:g}",
                "give it as a fraction, e.g. 0.9 for 80+ Gold",
            )
        if self.usd_per_kwh < 0:
            raise InputError(
                f"electricity price {self.usd_per_kwh:g} $/kWh is negative",
                "give the price in dollars per kWh, e.g. 0.16",
            )
        if not self.usd_per_kwh <= 5:  # also NaN
            raise InputError(
                f"electricity price {self.usd_per_kwh:g} $/kWh is implausible",
                "give dollars per kWh (0.16), not cents (16)",
            )

    @property
    def wall_power_w(self) -> float:
        """Average power drawn from the wall while in use."""
        return units.wall_power_w(self.peak_power_w * self.load_fraction, self.psu_efficiency)

    @property
    def usd_per_use_hour(self) -> float:
        """Electricity cost of one hour of use (USD)."""
        return units.energy_cost_usd(self.wall_power_w, 1.0, self.usd_per_kwh)


def resale_fraction(years: float, first_year_loss: float, later_yearly_loss: float) -> float:
    """Share of the purchase price a used machine still fetches after ``years`` years.

    Linear over the first year down to ``1 - first_year_loss``, then declining by
    ``later_yearly_loss`` a year (compounding).
    """
    for name, v in (("first-year loss", first_year_loss), ("yearly loss", later_yearly_loss)):
        if not 0 <= v < 1:
            raise InputError(f"resale {name} must be in [0, 1), got {v:g}", "e.g. 0.25")
    if years <= 0:
        return 1.0
    if years <= 1:
        return 1.0 - first_year_loss * years
    return (1.0 - first_year_loss) * (1.0 - later_yearly_loss) ** (years - 1.0)


@dataclass
class Option:
    """One way to get the compute: its cost curve and where it came from."""

    kind: OptionKind
    label: str
    upfront_usd: float = 0.0
    usd_per_use_hour: float = 0.0
    usd_per_month: float = 0.0
    resale_usd: float = 0.0  # value recovered at the horizon
    list_usd_per_hour: float | None = None  # cloud list price per instance-hour
    speed_ratio: float | None = None  # own throughput ÷ this option's throughput
    chip: str | None = None
    gpus: int | None = None
    source: str | None = None
    as_of: str | None = None
    stale: bool = False
    note: str | None = None
    extra: dict[str, object] = field(default_factory=dict)

    def cost_usd(self, months: float, usage: Usage) -> float:
        """Cash paid after ``months`` months (resale not deducted)."""
        return (
            self.upfront_usd
            + self.usd_per_use_hour * usage.use_hours(months)
            + self.usd_per_month * months
        )

    def slope_usd_per_month(self, usage: Usage) -> float:
        """What the option costs per month of use after the up-front price."""
        return self.usd_per_use_hour * usage.use_hours(1.0) + self.usd_per_month


@dataclass(frozen=True)
class BreakEven:
    """When owning becomes cheaper than an alternative."""

    months: float
    use_hours: float
    gpu_hours: float

    @property
    def days(self) -> float:
        """Days to break even."""
        return units.months_to_days(self.months)


def break_even(own: Option, other: Option, usage: Usage, gpu_count: int) -> BreakEven | None:
    """The point after which owning has cost less cash than ``other``; None if it never does.

    0 months when owning is cheaper from the start and stays cheaper.
    """
    d_upfront = own.upfront_usd - other.upfront_usd
    d_slope = other.slope_usd_per_month(usage) - own.slope_usd_per_month(usage)
    if d_upfront <= 0 and d_slope >= 0:
        months = 0.0
    elif d_upfront > 0 and d_slope > 0:
        months = d_upfront / d_slope
    else:
        return None
    hours = usage.use_hours(months)
    return BreakEven(months=months, use_hours=hours, gpu_hours=hours * max(gpu_count, 1))


def timeline(
    options: list[Option], usage: Usage, points: int = 0
) -> tuple[list[float], dict[str, list[float]]]:
    """Cumulative cash per option at monthly steps from 0 to the horizon (for plots, JSON)."""
    horizon = usage.months
    n = points or max(round(horizon), 1)
    months = [horizon * i / n for i in range(n + 1)]
    return months, {o.label: [round(o.cost_usd(m, usage), 2) for m in months] for o in options}
