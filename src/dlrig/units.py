"""Unit conversions. Every conversion in dlrig lives here.

GPU memory is binary (GiB); disks, parameter counts and spec sheets are decimal (GB, TB).
"""

from __future__ import annotations

import re

BYTES_PER_GB = 1_000_000_000
BYTES_PER_GIB = 1024**3
BYTES_PER_MIB = 1024**2
HOURS_PER_DAY = 24
MONTHS_PER_YEAR = 12
DAYS_PER_MONTH = 365.25 / MONTHS_PER_YEAR  # mean Gregorian month
WATTS_PER_KW = 1000.0
TERA = 1e12


def bytes_to_gib(n_bytes: float) -> float:
    """Bytes to GiB (binary)."""
    return n_bytes / BYTES_PER_GIB


def bytes_to_gb(n_bytes: float) -> float:
    """Bytes to GB (decimal)."""
    return n_bytes / BYTES_PER_GB


def tflops_to_flops(tflops: float) -> float:
    """TFLOPS to FLOPS."""
    return tflops * TERA


def seconds_to_hours(seconds: float) -> float:
    """Seconds to hours."""
    return seconds / 3600.0


def watts_hours_to_kwh(watts: float, hours: float) -> float:
    """Energy of a constant load: W × h → kWh."""
    return watts * hours / WATTS_PER_KW


def months_to_hours(months: float, hours_per_day: float = HOURS_PER_DAY) -> float:
    """Hours of use in ``months`` months at ``hours_per_day`` a day."""
    return months * DAYS_PER_MONTH * hours_per_day


def circuit_continuous_limit_w(
    volts: float, amps: float, continuous_fraction: float = 0.8
) -> float:
    """Continuous load a branch circuit may carry.

    The US National Electrical Code (NEC 210.19(A)/210.20(A)) limits continuous loads
    (3 hours or more) to 80% of the breaker rating.
    """
    return volts * amps * continuous_fraction


def years_to_months(years: float) -> float:
    """Years to months."""
    return years * MONTHS_PER_YEAR


def months_to_days(months: float) -> float:
    """Months to days."""
    return months * DAYS_PER_MONTH


def days_to_months(days: float) -> float:
    """Days to months."""
    return days / DAYS_PER_MONTH


def wall_power_w(dc_power_w: float, psu_efficiency: float) -> float:
    """Power drawn from the wall for a DC load behind a PSU of the given efficiency (0-1]."""
    return dc_power_w / psu_efficiency


def energy_cost_usd(watts: float, hours: float, usd_per_kwh: float) -> float:
    """Cost of running a constant ``watts`` load for ``hours`` at ``usd_per_kwh``."""
    return watts_hours_to_kwh(watts, hours) * usd_per_kwh


# --- human-readable numbers (CLI tables and web pages) ----------------------------------------
def human_count(n: float | None) -> str:
    """A parameter or token count as 124M / 8.03B / 1.2T; None as an em dash."""
    if n is None:
        return "—"
    for div, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if n >= div:
            return f"{n / div:.3g}{suffix}"
    return f"{n:g}"


def human_hours(hours: float | None) -> str:
    """A duration in hours as minutes, hours or days, whichever reads best; None as an em dash."""
    if hours is None:
        return "—"
    if hours < 1:
        return f"{hours * 60:.1f} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} days"


_THOUSANDS = re.compile(r"-?\d{1,3}(,\d{3})+(\.\d*)?")


def parse_usd(text: str) -> float:
    """Dollars from the ways people write them: '7000', '7,000', '$7,000', '7k', '7.5K', and
    '7000 USD' or '7000$' as price files write them."""
    from dlrig.errors import InputError

    cleaned = text.strip().replace("_", "")
    if cleaned[-3:].upper() == "USD":
        cleaned = cleaned[:-3]
    cleaned = cleaned.strip().rstrip("$").lstrip("$").strip()
    if "," in cleaned and not _THOUSANDS.fullmatch(cleaned.rstrip("kK")):
        # "6,0000" or "60,00" (a decimal comma) would silently become 60,000 or 6,000
        raise InputError(
            f"'{text}': commas must group thousands (7,000)",
            "write e.g. 7000, 7,000, $7,000 or 7k (a decimal point, not a comma)",
        )
    cleaned = cleaned.replace(",", "")
    scale = 1.0
    if cleaned[-1:] in ("k", "K"):
        cleaned, scale = cleaned[:-1], 1000.0
    try:
        value = float(cleaned) * scale
    except ValueError:
        raise InputError(
            f"'{text}' is not an amount of US dollars", "write e.g. 7000, 7,000, $7,000 or 7k"
        ) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise InputError(f"'{text}' is not a finite amount", "write e.g. 7000")
    return value
