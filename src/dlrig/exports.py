"""A build as text to take elsewhere: its build file (YAML or JSON), a PCPartPicker-style text
list, and a Markdown table for forums.

``export_build(build, fmt)`` is what the web app's export links and downloads return. The YAML
and JSON exports are build files that ``dlrig check`` reads back to the same parts; the text
list reads back through ``dlrig import-list`` (same category labels and price notation as a
PCPartPicker "Text" export); the Markdown table is the PCPartPicker "Reddit" markup's shape
(Type | Item | Price) with each price's date and the check's verdict.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from dlrig.build import Build, BuildItem
from dlrig.buildfile import build_to_dict, dump_build
from dlrig.errors import InputError
from dlrig.importlist import LIST_CATEGORIES
from dlrig.parts import Category, Gpu, Riser

if TYPE_CHECKING:
    from dlrig.rules.base import CheckResult

__all__ = ["EXPORT_FORMATS", "cap_note", "export_build", "export_filename", "line_notes"]

# format → (media type, file suffix)
EXPORT_FORMATS: dict[str, tuple[str, str]] = {
    "yaml": ("application/yaml", ".yaml"),
    "json": ("application/json", ".json"),
    "text": ("text/plain", ".txt"),
    "markdown": ("text/markdown", ".md"),
}
# PCPartPicker's line labels ("Video Card: ..."), the inverse of the import-list table.
LABELS: dict[Category, str] = {
    cat: label.title().replace("Cpu", "CPU")
    for label, cat in LIST_CATEGORIES.items()
    if cat is not None
}


def export_build(build: Build, fmt: str, result: CheckResult | None = None) -> str:
    """``build`` as text in ``fmt`` (see :data:`EXPORT_FORMATS`); the Markdown table adds the
    check's verdict when ``result`` is given."""
    if fmt == "yaml":
        return dump_build(build)
    if fmt == "json":
        return json.dumps(build_to_dict(build), indent=2, ensure_ascii=False) + "\n"
    if fmt == "text":
        return text_list(build)
    if fmt == "markdown":
        return markdown_table(build, result)
    raise InputError(
        f"unknown export format '{fmt}'", "choose one of: " + ", ".join(EXPORT_FORMATS)
    )


def _version() -> str:
    """dlrig's version from the installed metadata (importing the package root would pull in
    the layers above this one)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("dlrig")
    except PackageNotFoundError:  # run from a source tree without installing
        return "(source)"


def export_filename(build: Build, fmt: str) -> str:
    """A safe file name for the download: the build's name in [a-z0-9-] plus the suffix."""
    stem = "".join(c if c.isalnum() else "-" for c in build.name.lower()).strip("-")[:60]
    return (stem or "build") + EXPORT_FORMATS[fmt][1]


def _lines(build: Build) -> list[tuple[Category, BuildItem]]:
    return [(cat, it) for cat in Category for it in build.items[cat]]


# --- what a build file's line says beyond the part (the checker counts all of it) ---------------
def line_notes(it: BuildItem) -> list[str]:
    """What the build file's line says besides its part and count, as short phrases: the power
    limit (with its range and what it costs), the PSU, slots, riser and circuit, the condition,
    and the catalog part a ``with:`` override starts from. The CLI's parts table, the web pages
    and the Markdown export all read the same line, so a capped card on a riser is said so
    everywhere."""
    out: list[str] = []
    if it.base is not None:
        out.append(override_note(it))
    elif it.part.custom:
        out.append("custom part")
    if it.condition is not None:
        out.append(it.condition)
    if it.power_limit_w is not None and isinstance(it.part, Gpu):
        out.append(cap_note(it.part, it.power_limit_w))
    if it.psu is not None:
        out.append(f"fed by PSU {it.psu}")
    if it.slots:
        out.append(("slot " if len(it.slots) == 1 else "slots ") + ", ".join(it.slots))
    if it.riser is not None:
        out.append("on " + (it.riser.name or "a riser"))
    if it.circuit is not None:
        out.append(f"on circuit {it.circuit}")
    return out


def override_note(it: BuildItem) -> str:
    """'catalog part ASUS WS X299 SAGE with chipset C422, ecc yes' (a ``with:`` line)."""
    base = it.base.name if it.base is not None else it.part.name
    changed = [f"{k} {_fact(v)}" for k, v in it.overrides if k != "name"]
    return f"catalog part {base}" + (" with " + ", ".join(changed) if changed else "")


def _fact(value: object) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return f"({len(value)} entries)"
    return str(value)


def cap_note(gpu: Gpu, limit_w: float) -> str:
    """'capped at 300 W of 350 W (accepted 100 W or more): about 97% of stock throughput (measured
    power-limit curve)': the limit, the range the driver accepts, and what the cap costs."""
    from dlrig.gpu_power import card_limits_w, relative_throughput

    lo, hi = card_limits_w(gpu)
    if lo is None and hi is None:
        accepted = "its accepted range is not in the catalog"
    elif hi is None:  # a floor without this card's own ceiling (gpu_power.yaml max_w_cards)
        accepted = f"the driver accepts {lo:g} W or more"
    else:
        low = "?" if lo is None else f"{lo:g}"
        accepted = f"the driver accepts {low}-{hi:g} W"
    text = f"capped at {limit_w:g} W of {gpu.tdp_w:g} W ({accepted})"
    if limit_w >= gpu.tdp_w:
        return text + ": no throughput lost"
    kept = relative_throughput(gpu.chip, gpu.tdp_w, limit_w)
    if kept is None:
        return text + ": throughput at this limit not measured"
    return text + f": about {kept:.0%} of stock throughput (measured power-limit curve)"


def _price_note(it: BuildItem) -> str:
    if it.price_usd is not None:
        return "your price"
    date = it.part.price_date.isoformat() if it.part.price_date else "undated"
    return f"dlrig catalog {date}"


def text_list(build: Build) -> str:
    """A PCPartPicker-style plain-text list: one line per unit, as PCPartPicker writes them."""
    out = [f"Part List: {build.name}", ""]  # a header line import-list skips, as PCPartPicker's
    for cat, it in _lines(build):
        price = it.unit_price_usd
        tail = "" if price is None else f"  (${price:,.2f} @ {_price_note(it)})"
        out.extend(f"{LABELS[cat]}: {it.part.name}{tail}" for _ in range(it.count))
        if it.riser is not None:  # PCPartPicker lists a cable as a custom part (import skips it)
            r = it.riser
            tail = "" if r.price_usd is None else f"  (${r.price_usd:,.2f} @ {_riser_note(r)})"
            out.extend(f"Custom: {r.name}{tail}" for _ in range(it.count))
    out.append(f"Total: ${build.price_usd:,.2f}" + _unpriced_note(build))
    out.append(f"Generated by dlrig {_version()}")
    return "\n".join(out) + "\n"


def _riser_note(r: Riser) -> str:
    if r.price_date is None:
        return "your price" if r.source == "user" else "dlrig catalog undated"
    return f"dlrig catalog {r.price_date.isoformat()}"


def _unpriced_note(build: Build) -> str:
    n = len(build.unpriced)
    return f" ({n} part{'s' if n != 1 else ''} without a price)" if n else ""


def _md(text: str) -> str:
    """Text safe inside a Markdown table cell (pipes and markup characters escaped)."""
    for ch in "\\|*_`[]<>":
        text = text.replace(ch, "\\" + ch)
    return text.replace("\n", " ")


def markdown_table(build: Build, result: CheckResult | None = None) -> str:
    """A forum-ready Markdown table: Type | Item | Price, with each price's date."""
    out = [f"**{_md(build.name)}**", "", "Type|Item|Price", ":----|:----|----:"]
    for cat, it in _lines(build):
        count = f"{it.count} × " if it.count > 1 else ""
        total = it.total_price_usd
        price = "—" if total is None else f"${total:,.2f} ({_price_note(it)})"
        notes = line_notes(it)
        item = _md(it.part.name) + (f" *({_md('; '.join(notes))})*" if notes else "")
        out.append(f"**{LABELS[cat]}** | {count}{item} | {price}")
        if it.riser is not None:  # one cable per card; a priced one is counted in the total
            cost = "—" if it.riser.price_usd is None else f"${it.riser_price_usd:,.2f}"
            out.append(f"**Riser** | {count}{_md(it.riser.name)} | {cost}")
    out.append(f"| *Total* | | **${build.price_usd:,.2f}**{_unpriced_note(build)} |")
    if result is not None:
        n_err, n_warn = len(result.errors), len(result.warnings)
        verdict = f"✗ {n_err} error(s)" if n_err else "✓ no errors"
        out.extend(["", f"Checked with dlrig {_version()}: {verdict}, {n_warn} warning(s)."])
        for f in result.findings:
            if f.severity.value != "info":
                out.append(f"- {f.severity.value} {f.slug}: {_md(f.message)}")
    return "\n".join(out) + "\n"
