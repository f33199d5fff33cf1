"""Results → plain dicts: one JSON shape shared by the CLI (``--json``) and the web app.

``check_result_dict`` gives the shape documented in docs/check.md::

    {"ok": bool, "build": name,
     "findings": [{"rule": code, "slug": ..., "severity": "error"|"warning"|"info",
                   "message": ..., "hint": ..., "parts": [ids]}],
     "unchecked": [slugs],
     "unchecked_reasons": {slug: reason},
     "totals": {"price_usd": ..., "peak_power_w": ..., "wall_power_w": ..., "vram_gib": ...,
                "gpu_count": ..., ...}}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dlrig import units
from dlrig.build import Build
from dlrig.parts import Part
from dlrig.rules import limits
from dlrig.rules.base import CheckResult, Finding, Rule

if TYPE_CHECKING:
    from dlrig.catalog import Catalog

__all__ = [
    "build_totals",
    "check_result_dict",
    "finding_dict",
    "part_detail",
    "part_dict",
    "rule_dict",
]


def part_dict(part: Part) -> dict[str, Any]:
    """A part as plain JSON (``dlrig catalog list|show|search --json``): its category, then
    every field (unknown ones as null)."""
    data = part.model_dump(mode="json", exclude_none=False)
    return {"category": part.category.value, **data}


def part_detail(part: Part, catalog: Catalog) -> dict[str, Any]:
    """``dlrig catalog show --json``: :func:`part_dict` plus, for a GPU card, its chip spec
    (``chip_spec``) when the catalog has it."""
    data = part_dict(part)
    chip = catalog.chip_of(part)
    if chip is not None:
        data["chip_spec"] = chip.model_dump(mode="json")
    return data


def finding_dict(f: Finding) -> dict[str, Any]:
    return {
        "rule": f.rule,
        "slug": f.slug,
        "severity": f.severity.value,
        "message": f.message,
        "hint": f.hint,
        "parts": list(f.parts),
    }


def build_totals(build: Build) -> dict[str, Any]:
    """Price, estimated peak DC and wall power, VRAM, GPU count and memory of a build."""
    psu = build.psu
    eff, assumed = limits.psu_efficiency(psu.efficiency if psu else None)
    peak = build.peak_power_w
    return {
        "price_usd": build.price_usd,
        "price_complete": not build.unpriced,
        "unpriced_parts": [p.id for p in build.unpriced],
        "peak_power_w": round(peak, 1),
        "wall_power_w": round(units.wall_power_w(peak, eff), 1),
        "psu_efficiency": eff,
        "psu_efficiency_assumed": assumed,
        "vram_gib": build.total_vram_gib,
        "gpu_count": build.gpu_count,
        "memory_gb": build.memory_gb,
        "storage_gb": build.storage_gb,
        "circuit_limit_w": round(build.site.continuous_limit_w, 1),
    }


def check_result_dict(result: CheckResult) -> dict[str, Any]:
    """The JSON object ``dlrig check --json`` prints."""
    return {
        "ok": result.ok,
        "missing_core": result.missing_core,
        "build": result.build.name,
        "findings": [finding_dict(f) for f in result.findings],
        "unchecked": [u.slug for u in result.unchecked],
        "unchecked_reasons": {u.slug: u.reason for u in result.unchecked},
        "totals": build_totals(result.build),
        "resolved_fuzzy": list(result.build.resolved_fuzzy),
    }


def rule_dict(r: Rule) -> dict[str, Any]:
    """One rule for ``dlrig rules --json`` and the docs."""
    s = r.sections
    return {
        "rule": r.code,
        "slug": r.slug,
        "severity": r.severity.value,
        "topic": r.topic,
        "title": r.title,
        "why": s["why"],
        "bad": s["bad"],
        "good": s["good"],
    }
